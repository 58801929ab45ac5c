"""Probability × profit segments, their profiles and the priority deep dive.

Risk comes from the model's out-of-sample probability, value from profit (``money.csv``); the
true target never defines a segment. Thresholds are in :class:`analysis.config.SegmentConfig`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.config import ActionsConfig, SegmentConfig
from analysis.features import PreparedData
from analysis.results import (
    DeepDive, FeatureContrast, RoundedTotal, ScatterPoints, Segment, SegmentProfile, SegmentRule,
    SegmentsResult,
)
from analysis.schema import NUMERIC_FEATURES

#: (key, risk, value); the first is the priority. The report titles them (catalogue key ``segment.<key>``).
SEGMENTS: tuple[tuple[str, str, str], ...] = (
    ("retain_profitable", "high", "high"),
    ("at_risk_low_profit", "high", "low"),
    ("loyal_profitable", "low", "high"),
    ("stable_low_profit", "low", "low"),
)
PRIORITY = SEGMENTS[0][0]


def assign_segments(probability: pd.Series, profit: pd.Series, config: SegmentConfig) -> tuple[pd.Series, float]:
    """Segment key of every customer (a categorical Series whose categories are the keys of
    :data:`SEGMENTS`, in that order), and the profit threshold used."""
    profit_threshold = float(profit.quantile(config.value_quantile))
    high_risk = probability.to_numpy() >= config.risk_threshold
    high_value = profit.to_numpy() > profit_threshold
    # codes in SEGMENTS order: (high, high), (high, low), (low, high), (low, low)
    codes = (2 * ~high_risk + ~high_value).astype(np.int8)
    keys = pd.Categorical.from_codes(codes, categories=[key for key, *_ in SEGMENTS])
    return pd.Series(keys, index=probability.index, name="segment"), profit_threshold


def segment_codes(segment_of: pd.Series) -> np.ndarray:
    """Each customer's segment as its position in :data:`SEGMENTS` (int8), without going through
    the keys' strings when ``segment_of`` is :func:`assign_segments`' categorical Series."""
    keys = [key for key, *_ in SEGMENTS]
    if isinstance(segment_of.dtype, pd.CategoricalDtype) and list(segment_of.cat.categories) == keys:
        return np.asarray(segment_of.cat.codes.to_numpy(), dtype=np.int8)
    return np.asarray(pd.Categorical(segment_of.to_numpy(), categories=keys).codes, dtype=np.int8)


def relative_threshold(values: pd.Series, *, direction: str, quantile: float) -> float:
    """The per-customer cut of a rule: the ``quantile`` of all customers for ``direction="high"``,
    the ``1 - quantile`` one for ``"low"`` (thresholds relative to the customers, never absolute)."""
    return float(values.quantile(quantile if direction == "high" else 1.0 - quantile))


def cohens_d(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's d of ``a`` against ``b`` (pooled standard deviation; 0 when undefined)."""
    return _cohens_d(a, b)


def cohens_h(p1: float, p2: float) -> float:
    """Cohen's h of two proportions: 2·asin √p1 − 2·asin √p2."""
    return float(2 * np.arcsin(np.sqrt(p1)) - 2 * np.arcsin(np.sqrt(p2)))


def _cohens_d(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2 or len(b) < 2:
        return 0.0
    pooled = np.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2))
    return float((a.mean() - b.mean()) / pooled) if pooled > 0 else 0.0


def profile_columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """What :func:`profile` reads, as arrays over all customers: the numeric features (float), the
    premium and consent indicators and the observed target. Read once for every segment."""
    columns = {f: frame[f].to_numpy(dtype=float) for f in NUMERIC_FEATURES}
    columns["premium"] = (frame["service_type"] == "премиум").to_numpy()
    columns["consent"] = (frame["allow_messages"] == "да").to_numpy()
    columns["target"] = frame["target"].to_numpy()
    return columns


def profile(frame: pd.DataFrame, mask: np.ndarray, *, columns: dict[str, np.ndarray] | None = None) -> SegmentProfile:
    """The customers ``mask`` selects against the other customers: feature means and Cohen's d,
    category mix, service type, consent. Column by column, with no copy of the frame
    (``columns``: :func:`profile_columns` of ``frame``, computed when omitted)."""
    columns = profile_columns(frame) if columns is None else columns
    n_members = int(mask.sum())
    others = ~mask
    contrasts = []
    for f in NUMERIC_FEATURES:
        a, b = columns[f][mask], columns[f][others]
        contrasts.append(FeatureContrast(feature=f, segment_mean=round(float(a.mean()) if a.size else 0.0, 4),
                                         others_mean=round(float(b.mean()) if b.size else 0.0, 4),
                                         effect_size=round(_cohens_d(a, b), 3)))
    contrasts.sort(key=lambda c: -abs(c.effect_size))

    def share(name: str) -> float:
        return round(float(columns[name][mask].mean()) if n_members else 0.0, 4)

    mix = frame["popular_category"][mask].value_counts(normalize=True)
    return SegmentProfile(
        contrasts=tuple(contrasts),
        category_mix={str(k): round(float(v), 4) for k, v in mix.items() if v > 0},
        premium_share=share("premium"), consent_share=share("consent"), declined_share_observed=share("target"),
    )


def deep_dive(frame: pd.DataFrame, probability: pd.Series, segments: pd.Series,
              config: ActionsConfig) -> DeepDive:
    """The priority segment's promo buyers with unpaid items in the cart (both in the upper part of
    all customers: the per-customer cuts of the ``promo_cart`` action)."""
    promo_cut = relative_threshold(frame["promo_share"], direction="high", quantile=config.customer_quantile)
    unpaid_cut = relative_threshold(frame["unpaid_items"], direction="high", quantile=config.customer_quantile)
    in_priority = segment_codes(segments) == 0
    chosen = in_priority & (frame["promo_share"].to_numpy() >= promo_cut) & (frame["unpaid_items"].to_numpy()
                                                                             >= unpaid_cut)
    n_members, n_group = int(in_priority.sum()), int(chosen.sum())
    p = _aligned(probability, frame.index)[chosen]
    profit = frame["profit"].to_numpy()[chosen]
    mix = frame["popular_category"][chosen].value_counts(normalize=True).head(3)
    return DeepDive(
        segment=PRIORITY, n_customers=n_members, n_promo_unpaid=n_group,
        share_promo_unpaid=round(n_group / max(n_members, 1), 4),
        promo_threshold=round(promo_cut, 4), unpaid_threshold=round(unpaid_cut, 4),
        mean_probability=round(float(p.mean()) if n_group else 0.0, 4),
        profit_at_risk=round(float((p * profit).sum()), 2),
        top_categories={str(k): round(float(v), 4) for k, v in mix.items() if v > 0},
        consent_share=round(float((frame["allow_messages"][chosen] == "да").mean()) if n_group else 0.0, 4),
    )


def _aligned(values: pd.Series, index: pd.Index) -> np.ndarray:
    """``values.loc[index]`` as an array (no lookup when the indexes are already equal)."""
    return np.asarray(values.to_numpy() if values.index.equals(index) else values.loc[index].to_numpy())


def rounded_total(parts: list[float]) -> RoundedTotal:
    """The rounded total of ``parts`` and the sum of the rounded parts (they can differ by the
    rounding)."""
    return RoundedTotal(total=round(sum(parts)), parts_sum=sum(round(p) for p in parts))


def run_segments(data: PreparedData, probability: pd.Series, segment_of: pd.Series, profit_threshold: float,
                 config: SegmentConfig, actions_config: ActionsConfig, *, random_state: int) -> SegmentsResult:
    """Profile every segment and prepare the scatter."""
    frame = data.frame
    n = len(frame)
    p = _aligned(probability, frame.index)
    profit = frame["profit"].to_numpy()
    at_risk = p * profit
    loss = config.decline_loss_share
    codes = segment_codes(segment_of)
    columns = profile_columns(frame)
    segments = []
    total = float(at_risk.sum())
    for k, (key, risk, value) in enumerate(SEGMENTS):
        mask = codes == k
        n_members = int(mask.sum())
        mean_p = float(p[mask].mean()) if n_members else 0.0
        seg_at_risk = float(at_risk[mask].sum())
        segments.append(Segment(
            key=key,
            rule=SegmentRule(risk=risk, value=value, probability_threshold=config.risk_threshold,  # type: ignore[arg-type]
                             profit_threshold=round(profit_threshold, 4)),
            priority=key == PRIORITY, n_customers=n_members, share=round(float(mask.mean()), 4),
            mean_probability=round(mean_p, 4),
            mean_profit=round(float(profit[mask].mean()) if n_members else 0.0, 4),
            profit_at_risk=round(seg_at_risk, 2), expected_loss=round(seg_at_risk * loss, 2),
            profit_at_risk_share=round(seg_at_risk / total, 4) if total > 0 else 0.0,
            profile=profile(frame, mask, columns=columns),
        ))
    del columns
    idx = np.arange(n)
    sampled = n > config.scatter_max_points
    if sampled:
        idx = np.sort(np.random.default_rng(random_state).choice(n, config.scatter_max_points, replace=False))
    keys = [key for key, *_ in SEGMENTS]
    scatter = ScatterPoints(probability=tuple(round(float(v), 4) for v in p[idx]),
                            profit=tuple(round(float(v), 3) for v in profit[idx]),
                            segment=tuple(keys[c] for c in codes[idx]), sampled=sampled)
    return SegmentsResult(
        probability_threshold=config.risk_threshold, profit_threshold=round(profit_threshold, 4),
        segments=tuple(segments), priority=PRIORITY,
        deep_dive=deep_dive(frame, probability, segment_of, actions_config), scatter=scatter,
        total_profit_at_risk=round(total, 2), total_expected_loss=round(total * loss, 2),
        share_high_risk=round(float((p >= config.risk_threshold).mean()), 4),
        profit_at_risk_rounding=rounded_total([s.profit_at_risk for s in segments]),
        share_rounding=rounded_total([s.share * 100 for s in segments]),
    )
