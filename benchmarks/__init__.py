"""Measurements (not tests): run them by hand and record the figures in docs/performance.md."""

from __future__ import annotations

from collections.abc import Iterable


def percentile(values: Iterable[float], fraction: float) -> float:
    """The nearest-rank percentile (`fraction` 0.95 for p95) of at least one value."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]
