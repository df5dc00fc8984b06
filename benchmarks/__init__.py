"""Measurements (not tests): run them by hand and record the figures in docs/performance.md."""
