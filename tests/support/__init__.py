"""Helpers shared by the tests: datasets written in their real on-disk formats."""
