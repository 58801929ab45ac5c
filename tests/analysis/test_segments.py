"""Segments come from probability × profit, partition the customers and carry their loss bounds."""

from __future__ import annotations

import pandas as pd

from analysis.config import SegmentConfig
from analysis.segments import PRIORITY, assign_segments


def test_assignment_uses_only_probability_and_profit() -> None:
    p = pd.Series([0.9, 0.9, 0.1, 0.1, 0.5], index=[1, 2, 3, 4, 5])
    profit = pd.Series([5.0, 1.0, 5.0, 1.0, 3.0], index=p.index)
    keys, threshold = assign_segments(p, profit, SegmentConfig())
    assert threshold == 3.0
    assert keys.tolist() == ["retain_profitable", "at_risk_low_profit", "loyal_profitable", "stable_low_profit",
                             "at_risk_low_profit"]


def test_segments_partition_and_bound_the_loss(results_sample) -> None:  # noqa: ANN001
    segs = results_sample.segments
    share = results_sample.meta.config.segments.decline_loss_share
    assert sum(s.n_customers for s in segs.segments) == results_sample.data.n_customers_analysed
    assert abs(sum(s.share for s in segs.segments) - 1) < 1e-3
    assert segs.priority == PRIORITY and sum(s.priority for s in segs.segments) == 1
    for s in segs.segments:
        assert s.profit_at_risk <= s.n_customers * s.mean_profit + 1e-6
        assert abs(s.expected_loss - s.profit_at_risk * share) < 0.01
    assert abs(sum(s.profit_at_risk for s in segs.segments) - segs.total_profit_at_risk) < 0.1
    assert abs(segs.total_expected_loss - segs.total_profit_at_risk * share) < 0.01
    priority = next(s for s in segs.segments if s.priority)
    assert abs(segs.priority_risk_share - priority.profit_at_risk / segs.total_profit_at_risk) < 1e-3


def test_rounded_total_shows_a_rounding_gap() -> None:
    from analysis.segments import rounded_total

    gap = rounded_total([929.6, 610.7, 257.8, 182.9])  # printed 930 + 611 + 258 + 183 = 1 982
    assert gap.total == 1981 and gap.parts_sum == 1982 and not gap.consistent
    assert rounded_total([1.2, 2.1]).consistent
