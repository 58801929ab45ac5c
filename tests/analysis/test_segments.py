"""Segments come from probability × profit, partition the customers, and each gets an offer."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.config import RecommendationConfig, SegmentConfig
from analysis.recommendations import SegmentView, monitor, promo_cart, recommend
from analysis.segments import PRIORITY, assign_segments


def test_assignment_uses_only_probability_and_profit() -> None:
    p = pd.Series([0.9, 0.9, 0.1, 0.1, 0.5], index=[1, 2, 3, 4, 5])
    profit = pd.Series([5.0, 1.0, 5.0, 1.0, 3.0], index=p.index)
    keys, threshold = assign_segments(p, profit, SegmentConfig())
    assert threshold == 3.0
    assert keys.tolist() == ["retain_profitable", "at_risk_low_profit", "loyal_profitable", "stable_low_profit",
                             "at_risk_low_profit"]


def test_segments_partition_and_recommend(results_sample) -> None:  # noqa: ANN001
    segs = results_sample.segments
    assert sum(s.n_customers for s in segs.segments) == results_sample.data.n_customers_analysed
    assert abs(sum(s.share for s in segs.segments) - 1) < 1e-3
    assert segs.priority == PRIORITY and sum(s.priority for s in segs.segments) == 1
    for s in segs.segments:
        if s.n_customers:
            assert s.recommendations, s.key
            assert all(r.evidence for r in s.recommendations)
        assert s.profit_at_risk <= s.n_customers * s.mean_profit + 1e-6
    assert abs(sum(s.profit_at_risk for s in segs.segments) - segs.total_profit_at_risk) < 0.1


def _view(promo: float, unpaid: float, *, n: int = 20) -> SegmentView:
    members = pd.DataFrame({"promo_share": np.full(n, promo), "unpaid_items": np.full(n, unpaid)})
    others = pd.DataFrame({"promo_share": np.full(n, 0.2), "unpaid_items": np.full(n, 2.0)})
    return SegmentView(key="x", members=members, others=others, mean_probability=0.8, high_risk=True)


def test_promo_cart_rule_carries_its_evidence() -> None:
    cfg = RecommendationConfig()
    rec = promo_cart(_view(0.6, 5.0), cfg)
    assert rec is not None and rec.audience == 20
    evidence = {e.metric: (e.value, e.reference, e.threshold) for e in rec.evidence}
    assert evidence["promo_share"] == (0.6, 0.2, cfg.promo_share_min)
    assert evidence["unpaid_items"] == (5.0, 2.0, cfg.unpaid_items_min)
    assert "60" in rec.text.ru and "60%" in rec.text.en
    assert promo_cart(_view(0.1, 5.0), cfg) is None


def test_fallback_when_no_rule_fires() -> None:
    frame = pd.DataFrame({c: [1.0, 1.0] for c in ["promo_share", "unpaid_items", "pages_per_visit",
                                                  "categories_per_visit", "marketing_6m", "service_errors"]})
    frame["service_type"] = "стандарт"
    frame["allow_messages"] = "нет"
    frame["popular_category"] = "Кухонная посуда"
    view = SegmentView(key="x", members=frame, others=frame, mean_probability=0.45, high_risk=False)
    recs = recommend(view, RecommendationConfig())
    assert [r.key for r in recs] == ["monitor"] == [monitor(view, RecommendationConfig()).key]
