"""Test support: what every test file needs, in one home (no pytest fixtures here; those
live in tests/conftest.py and use these)."""
