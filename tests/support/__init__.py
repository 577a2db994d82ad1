"""Helpers shared by the tests: builders, strategies, the worker harness (no tests here)."""
