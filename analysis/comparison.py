"""Month over month: this month's results against a previous month's.

:func:`compare` is pure and only computes (the renderers format): customers matched by id between
the two months' scores, customers new and gone, segment transitions of the matched customers,
the headline numbers side by side (declined share, test ROC-AUC, segment sizes, profit at risk)
and the population stability index (PSI) of every feature.

PSI of a feature is ``Σ (c − p) · ln(c / p)`` over its bins (numeric) or levels (categorical), with
``p`` and ``c`` the previous and current shares, each floored at ``config.psi_epsilon`` so that an
empty bin does not make it infinite. Numeric features are binned on the previous month's EDA
histogram edges (values outside them fall into the first or last bin) — the previous month's
counts are the histogram itself, so only the current month's raw values are needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from analysis.actions import measure_effects
from analysis.config import ComparisonConfig
from analysis.results import CategoricalEda, Comparison, NumericEda, Results

__all__ = ["bin_on_edges", "compare", "psi"]


def psi(previous_counts: Sequence[float] | np.ndarray, current_counts: Sequence[float] | np.ndarray, *,
        epsilon: float) -> float:
    """Population stability index of two histograms over the same bins.

    Parameters
    ----------
    previous_counts, current_counts : array-like of float
        Counts (or shares) per bin, aligned; each is normalised to shares.
    epsilon : float
        Floor of every share before the logarithm (``0 < epsilon < 1``).

    Returns
    -------
    float
        ``Σ (c − p) · ln(c / p)``; 0 for identical distributions, never negative.

    Raises
    ------
    ValueError
        When the lengths differ, a count is negative or either histogram is empty.
    """
    p = np.asarray(previous_counts, dtype=float)
    c = np.asarray(current_counts, dtype=float)
    if p.shape != c.shape or p.ndim != 1 or p.size == 0:
        raise ValueError(f"PSI needs two non-empty histograms over the same bins, got {p.shape} and {c.shape}")
    if (p < 0).any() or (c < 0).any():
        raise ValueError("PSI needs non-negative counts")
    if p.sum() <= 0 or c.sum() <= 0:
        raise ValueError("PSI needs at least one observation in each histogram")
    p = np.maximum(p / p.sum(), epsilon)
    c = np.maximum(c / c.sum(), epsilon)
    return float(np.sum((c - p) * np.log(c / p)))


def bin_on_edges(values: Sequence[float] | np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Count ``values`` in the bins given by ``edges``; values outside go to the first/last bin.

    Bins are ``[e0, e1), [e1, e2), …, [e_{n-1}, e_n]`` as in :func:`numpy.histogram`, so binning
    the values a histogram was made of gives back its counts. Missing values are not counted.

    Parameters
    ----------
    values : array-like of float
        The values to count.
    edges : sequence of float
        Strictly increasing bin edges (at least two).

    Returns
    -------
    numpy.ndarray
        ``len(edges) - 1`` integer counts.

    Raises
    ------
    ValueError
        When the edges are fewer than two or not strictly increasing.
    """
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or e.size < 2 or not (np.diff(e) > 0).all():
        raise ValueError(f"bin edges must be at least two strictly increasing numbers, got {tuple(edges)}")
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    index = np.clip(np.searchsorted(e, v, side="right") - 1, 0, e.size - 2)
    return np.bincount(index, minlength=e.size - 1)


def _numeric_psi(eda: NumericEda, current: pd.Series, *, epsilon: float) -> float:
    previous = np.add(eda.counts_declined, eda.counts_stable)
    if previous.size != len(eda.bin_edges) - 1:
        raise ValueError(f"feature {eda.feature!r}: {len(eda.bin_edges)} bin edges but {previous.size} counts "
                         "in the previous results")
    return psi(previous, bin_on_edges(pd.to_numeric(current).to_numpy(dtype=float), eda.bin_edges), epsilon=epsilon)


def _categorical_psi(eda: CategoricalEda, current: pd.Series, *, epsilon: float) -> float:
    previous = {lv.level: lv.declined + lv.stable for lv in eda.levels}
    counts = current.dropna().astype(str).value_counts()
    levels = [*previous, *sorted(set(counts.index) - set(previous))]
    return psi([previous.get(lv, 0) for lv in levels], [int(counts.get(lv, 0)) for lv in levels], epsilon=epsilon)


def _segments(scores: pd.DataFrame, name: str) -> pd.Series:
    """The ``segment`` column indexed by ``id``, after checking the scores are usable."""
    missing = [c for c in ("id", "segment") if c not in scores.columns]
    if missing:
        raise ValueError(f"{name} lack the column(s) {missing}")
    duplicated = scores["id"][scores["id"].duplicated()]
    if not duplicated.empty:
        raise ValueError(f"{name} list customer id(s) more than once: {sorted(duplicated.unique().tolist())[:5]}")
    if scores["segment"].isna().any():
        raise ValueError(f"{name} have customers without a segment")
    return pd.Series(scores["segment"].astype(str).to_numpy(), index=scores["id"].to_numpy(), name="segment")


def _ordered_keys(*groups: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for group in groups:
        for key in group:
            seen.setdefault(key, None)
    return list(seen)


def compare(*, previous: Results, previous_scores: pd.DataFrame | None, current: Results,
            current_scores: pd.DataFrame, current_frame: pd.DataFrame, config: ComparisonConfig,
            previous_actions: pd.DataFrame | None = None, alpha: float = 0.05) -> Comparison:
    """Compare this month's results with a previous month's.

    Parameters
    ----------
    previous : Results
        The previous month's results (e.g. its archived ``results.json``).
    previous_scores : pandas.DataFrame or None
        The previous month's ``scores.csv`` (columns ``id`` and ``segment`` are used). ``None``
        when it is not available: customers cannot then be matched, so ``customers_matched``,
        ``customers_new`` and ``customers_gone`` are 0, ``segment_transitions`` is empty and
        ``customers_compared`` is ``False`` — a renderer must say «unknown», not «none».
    current : Results
        This month's results.
    current_scores : pandas.DataFrame
        This month's per-customer scores (``id``, ``segment``).
    current_frame : pandas.DataFrame
        This month's analysed one-row-per-customer frame (``PreparedData.frame``): the raw
        feature values whose distribution is compared with the previous month's EDA.
    config : ComparisonConfig
        PSI thresholds and floor.
    previous_actions : pandas.DataFrame or None
        The previous month's ``actions.csv`` (``id``, ``action``, ``group``): each action is then
        measured on this month's decline of its treatment against its control group
        (:func:`analysis.actions.measure_effects`; ``current_frame["target"]``).
    alpha : float
        1 − confidence of the action effects' intervals.

    Returns
    -------
    Comparison
        Pairs are ``(previous, current)``. ``segment_transitions`` covers every segment key of
        either month (zeros included) and sums to ``customers_matched``. ``psi`` follows the
        previous EDA's feature order (numeric, then categorical); ``psi_flagged`` lists the
        features with PSI ≥ ``config.psi_threshold``, highest first.

    Raises
    ------
    ValueError
        When the previous period is not before the current one, ``psi_warn`` exceeds
        ``psi_threshold``, the scores are unusable (missing columns, duplicated ids) or
        ``current_frame`` lacks a feature of the previous EDA.
    """
    if not previous.meta.period < current.meta.period:
        raise ValueError(f"the previous results are for {previous.meta.period}, not a month before "
                         f"{current.meta.period}")
    if config.psi_warn > config.psi_threshold:
        raise ValueError(f"psi_warn ({config.psi_warn}) must not exceed psi_threshold ({config.psi_threshold})")

    segment_keys = _ordered_keys((s.key for s in previous.segments.segments),
                                 (s.key for s in current.segments.segments))
    cur = _segments(current_scores, "current scores")
    if previous_scores is None:
        matched = new = gone = 0
        transitions: dict[str, dict[str, int]] = {}
    else:
        prev = _segments(previous_scores, "previous scores")
        common = prev.index.intersection(cur.index)
        matched, new, gone = len(common), len(cur.index.difference(prev.index)), len(prev.index.difference(cur.index))
        pairs = pd.DataFrame({"from": prev.loc[common].to_numpy(), "to": cur.loc[common].to_numpy()})
        counts = pairs.value_counts()
        keys = _ordered_keys(segment_keys, sorted(set(pairs["from"]) | set(pairs["to"])))
        transitions = {a: {b: int(counts.get((a, b), 0)) for b in keys} for a in keys}

    prev_sizes = {s.key: s.n_customers for s in previous.segments.segments}
    cur_sizes = {s.key: s.n_customers for s in current.segments.segments}
    sizes = {k: (prev_sizes.get(k, 0), cur_sizes.get(k, 0)) for k in segment_keys}

    eps = config.psi_epsilon
    features = [*(e.feature for e in previous.eda.numeric), *(e.feature for e in previous.eda.categorical)]
    absent = [f for f in features if f not in current_frame.columns]
    if absent:
        raise ValueError(f"current_frame lacks the feature(s) {absent} of the previous month's EDA")
    drift: dict[str, float] = {}
    for eda in previous.eda.numeric:
        drift[eda.feature] = _numeric_psi(eda, current_frame[eda.feature], epsilon=eps)
    for cat in previous.eda.categorical:
        drift[cat.feature] = _categorical_psi(cat, current_frame[cat.feature], epsilon=eps)
    flagged = sorted((f for f, v in drift.items() if v >= config.psi_threshold), key=lambda f: (-drift[f], f))

    return Comparison(
        previous_period=previous.meta.period,
        customers_matched=matched, customers_new=new, customers_gone=gone,
        segment_transitions=transitions,
        declined_share=(previous.data.declined_share, current.data.declined_share),
        roc_auc=(previous.model.test.roc_auc, current.model.test.roc_auc),
        segment_sizes=sizes,
        profit_at_risk=(previous.segments.total_profit_at_risk, current.segments.total_profit_at_risk),
        psi=drift, psi_flagged=tuple(flagged),
        psi_threshold=config.psi_threshold, psi_warn=config.psi_warn,
        customers_compared=previous_scores is not None,
        previous_actions=previous_actions is not None,
        action_effects=(() if previous_actions is None
                        else measure_effects(previous_actions, current_frame["target"], alpha=alpha)),
    )
