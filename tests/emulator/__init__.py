"""Tests of the Fish Audio emulator."""
