"""The benchmark report's arithmetic: percentiles, slope, figures against baselines, the table."""
from __future__ import annotations

import pytest

from db.bench.report import Figure, format_table, percentile, slope, summary


def test_percentiles_slope_and_the_table():
    assert percentile([3, 1, 2, 4], 50) == 2.5
    assert percentile([], 95) is None
    assert summary([1.0] * 99 + [100.0])["p99"] == pytest.approx(1.99)
    assert slope([0, 1, 2], [10, 12, 14]) == pytest.approx(2.0)
    fast = Figure("1 x", "event → screen p95", 50.0, "ms", baseline=5000.0,
                  baseline_label="polling", target=100.0)
    slow = Figure("1 x", "rate", 10.0, "ev/s", baseline=20.0, better="higher")
    assert fast.ratio == 0.01 and fast.meets_target and slow.ratio == 0.5
    table = format_table([fast, slow])
    assert "100.0× faster" in table and "✓" in table and "polling" in table
    assert Figure.from_dict(fast.to_dict()).to_dict() == fast.to_dict()
