"""Benchmarks of the Fish Audio Suite client against the official SDK and a raw floor.

Run ``scripts/bench`` (or ``.venv/bin/python -m benchmarks``); see ``benchmarks/README.md``.
Importing this package imports nothing else: its worker modules run in other interpreters.
"""
