"""Tests of Fish Audio Suite."""
