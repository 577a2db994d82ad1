"""The demo: a synthetic portfolio fed through a real worker, its outputs printed readably."""
