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


def test_segment_codes_from_keys_or_categories() -> None:
    from analysis.segments import SEGMENTS, segment_codes

    p = pd.Series([0.9, 0.1, 0.9, 0.1], index=[4, 3, 2, 1])
    keys, _ = assign_segments(p, pd.Series([5.0, 1.0, 1.0, 5.0], index=p.index), SegmentConfig())
    assert list(keys.cat.categories) == [key for key, *_ in SEGMENTS]
    assert segment_codes(keys).tolist() == [0, 3, 1, 2]
    assert segment_codes(keys.astype(str)).tolist() == [0, 3, 1, 2]


def test_profile_is_the_segment_against_the_other_customers() -> None:
    import numpy as np

    from analysis.schema import NUMERIC_FEATURES
    from analysis.segments import cohens_d, profile

    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame({f: rng.normal(size=n) for f in NUMERIC_FEATURES})
    frame["service_type"] = np.where(rng.random(n) < 0.3, "премиум", "стандарт")
    frame["allow_messages"] = np.where(rng.random(n) < 0.6, "да", "нет")
    frame["popular_category"] = pd.Categorical(rng.choice(["a", "b", "c"], n), categories=["a", "b", "c", "d"])
    frame["target"] = rng.integers(0, 2, n)
    mask = rng.random(n) < 0.4
    members, others = frame[mask], frame[~mask]
    result = profile(frame, mask)
    f = NUMERIC_FEATURES[0]
    contrast = next(c for c in result.contrasts if c.feature == f)
    assert contrast.segment_mean == round(float(members[f].mean()), 4)
    assert contrast.others_mean == round(float(others[f].mean()), 4)
    assert contrast.effect_size == round(cohens_d(members[f].to_numpy(), others[f].to_numpy()), 3)
    assert result.premium_share == round(float((members["service_type"] == "премиум").mean()), 4)
    assert result.declined_share_observed == round(float(members["target"].mean()), 4)
    assert set(result.category_mix) == {"a", "b", "c"}  # the category no member has is left out
    assert result.category_mix["a"] == round(float((members["popular_category"] == "a").mean()), 4)
