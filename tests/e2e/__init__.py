"""End-to-end tests: a real Home Assistant process, the emulator, and HTTP only."""
