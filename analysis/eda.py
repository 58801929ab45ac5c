"""Exploratory analysis of every feature by target class.

For each numeric feature: descriptive statistics per class, the histogram and box-plot data
(computed once; the renderer only draws them), a Mann–Whitney U test with the rank-biserial
correlation; for each categorical feature: counts per class, a χ² test with Cramér's V. The
report writes the sentence on each feature from these numbers (``report.texts``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
from scipy import special, stats

from analysis.config import EdaConfig
from analysis.features import PreparedData
from analysis.results import (
    CategoricalEda, CategoryCount, ClassStats, EdaResult, NumericEda, TestResult,
)
from analysis.schema import BINARY_FEATURES, CATEGORICAL_FEATURES, NUMERIC_FEATURES

#: scipy's ``mannwhitneyu`` (``method="auto"``) computes the exact distribution when a sample has at
#: most this many values; above it the normal approximation that :func:`mann_whitney_u` computes.
_EXACT_METHOD_MAX_N = 8
#: Rank sums are sums of half-integers, exact in float64 while below this (n1 · n bounds them): in
#: any order of summation, scipy's and :func:`mann_whitney_u`'s are then the same number.
_EXACT_RANK_SUM_BOUND = 2**52


def magnitude(effect: float, config: EdaConfig) -> str:
    """Name the size of an effect from its absolute value and the configured thresholds."""
    a = abs(effect)
    if a >= config.effect_large:
        return "large"
    if a >= config.effect_medium:
        return "medium"
    if a >= config.effect_small:
        return "small"
    return "negligible"


def class_stats(values: np.ndarray, *, max_fliers: int) -> ClassStats:
    """Descriptive and box-plot statistics (Tukey whiskers at 1.5 IQR)."""
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    iqr = q3 - q1
    inside = values[(values >= q1 - 1.5 * iqr) & (values <= q3 + 1.5 * iqr)]
    whislo, whishi = (float(inside.min()), float(inside.max())) if inside.size else (float(q1), float(q3))
    fliers = np.sort(values[(values < whislo) | (values > whishi)])
    if fliers.size > max_fliers:
        fliers = fliers[np.linspace(0, fliers.size - 1, max_fliers).round().astype(int)]
    return ClassStats(
        n=int(values.size), mean=float(values.mean()), std=float(values.std(ddof=1)) if values.size > 1 else 0.0,
        min=float(values.min()), q1=float(q1), median=float(median), q3=float(q3), max=float(values.max()),
        whislo=whislo, whishi=whishi, fliers=tuple(float(f) for f in fliers),
    )


def bin_edges(values: np.ndarray, *, bins: int) -> np.ndarray:
    """Shared histogram edges; integer-aligned when the feature takes few whole values."""
    lo, hi = float(values.min()), float(values.max())
    if np.allclose(values, np.round(values)) and hi - lo + 1 <= bins:
        return np.arange(lo - 0.5, hi + 1.5, 1.0)
    return np.histogram_bin_edges(values, bins=bins)


def mann_whitney_u(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Two-sided Mann–Whitney U of ``x`` against ``y``: ``(U of x, p-value)``, the very numbers of
    ``scipy.stats.mannwhitneyu(x, y, alternative="two-sided")``, from the counts of each distinct
    value instead of a sort of every value.

    scipy ranks the pooled values by sorting them (1.0–2.6 s per feature at ten million
    customers). Here the distinct values are counted per sample by polars' hash grouping and only
    the distinct values are sorted; each value's average rank, the rank sum of ``x`` (exact: a sum of
    half-integers below 2**52) and the tie counts, laid out as scipy lays them out, go through
    scipy's formulas in scipy's order. Measured on ten million values: whole numbers 1.94 → 0.15 s,
    one decimal 0.94 → 0.22 s, continuous 2.61 → 1.49 s, U and p equal to the last bit. Small
    samples (scipy's exact distribution), NaN and sizes beyond the exact bound go to scipy itself.
    """
    n1, n2 = int(x.size), int(y.size)
    n = n1 + n2
    values = np.concatenate([np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)])
    if min(n1, n2) <= _EXACT_METHOD_MAX_N or n1 * n >= _EXACT_RANK_SUM_BOUND or np.isnan(values).any():
        u, p = stats.mannwhitneyu(x, y, alternative="two-sided")
        return float(u), float(p)
    in_x = np.zeros(n, dtype=np.int64)
    in_x[:n1] = 1
    groups = (pl.DataFrame({"value": values + 0.0, "in_x": in_x})  # + 0.0: -0.0 is 0.0, as in a sort
              .group_by("value").agg(pl.len().alias("count"), pl.col("in_x").sum().alias("count_x"))
              .sort("value"))
    counts = groups["count"].to_numpy().astype(np.int64)
    starts = np.cumsum(counts) - counts  # where each distinct value's run begins in the sorted values
    average_rank = (starts + 1).astype(np.float64) + (counts.astype(np.float64) - 1) / 2
    r1 = np.sum(groups["count_x"].to_numpy().astype(np.float64) * average_rank)
    u1 = r1 - n1 * (n1 + 1) / 2
    u = np.maximum(u1, n1 * n2 - u1)
    ties = np.zeros(n, dtype=np.float64)  # scipy's layout: each run's length at its first position
    ties[starts] = counts
    tie_term = np.sum(ties**3 - ties, axis=-1)
    sd = np.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (u - n1 * n2 / 2 - 0.5) / sd  # with scipy's continuity correction
    p = np.clip(special.ndtr(-z) * 2, 0.0, 1.0)
    return float(u1), float(p)


def mann_whitney(declined: np.ndarray, stable: np.ndarray, config: EdaConfig) -> TestResult:
    """Mann–Whitney U with the rank-biserial correlation (> 0: higher among the declined)."""
    u, p = mann_whitney_u(declined, stable)
    r = float(2 * u / (declined.size * stable.size) - 1)
    return TestResult(test="mann_whitney_u", statistic=float(u), p_value=float(p), effect_name="rank_biserial",
                      effect_size=r, magnitude=magnitude(r, config), significant=bool(p < config.alpha))  # type: ignore[arg-type]


def chi2(table: np.ndarray, config: EdaConfig) -> TestResult:
    """χ² test of independence with Cramér's V."""
    table = table[table.sum(axis=1) > 0]
    if table.shape[0] < 2:
        return TestResult(test="chi2", statistic=0.0, p_value=1.0, effect_name="cramers_v", effect_size=0.0,
                          magnitude="negligible", significant=False)
    statistic, p, _, _ = stats.chi2_contingency(table, correction=table.shape[0] == 2)
    n = table.sum()
    v = float(np.sqrt(statistic / (n * (min(table.shape) - 1))))
    return TestResult(test="chi2", statistic=float(statistic), p_value=float(p), effect_name="cramers_v",
                      effect_size=v, magnitude=magnitude(v, config), significant=bool(p < config.alpha))  # type: ignore[arg-type]


def numeric_eda(feature: str, values: np.ndarray, y: np.ndarray, config: EdaConfig) -> NumericEda:
    """EDA of one numeric feature."""
    d, s = values[y == 1], values[y == 0]
    edges = bin_edges(values, bins=config.histogram_bins)
    d_stats = class_stats(d, max_fliers=config.max_fliers)
    s_stats = class_stats(s, max_fliers=config.max_fliers)
    test = mann_whitney(d, s, config)
    return NumericEda(
        feature=feature, declined=d_stats, stable=s_stats, bin_edges=tuple(float(e) for e in edges),
        counts_declined=tuple(int(c) for c in np.histogram(d, bins=edges)[0]),
        counts_stable=tuple(int(c) for c in np.histogram(s, bins=edges)[0]),
        test=test,
    )


def categorical_eda(feature: str, values: pd.Series, y: np.ndarray, config: EdaConfig) -> CategoricalEda:
    """EDA of one categorical or binary feature."""
    if isinstance(values.dtype, pd.CategoricalDtype) and not values.isna().any():
        # counted from the category codes in one pass (a crosstab of the values hashed a Python
        # string per row: 10 s at ten million customers); the same table, levels in sorted order
        names = [str(level) for level in values.cat.categories]
        counts = np.bincount(values.cat.codes.to_numpy().astype(np.intp) * 2 + (np.asarray(y) == 1),
                             minlength=2 * len(names)).reshape(-1, 2)
        observed = counts.sum(axis=1) > 0
        table = counts[observed][:, ::-1]  # columns: declined, stable
        names = [name for name, seen in zip(names, observed, strict=True) if seen]
    else:
        crossed = pd.crosstab(values.to_numpy(), y).reindex(columns=[1, 0], fill_value=0)
        names, table = [str(level) for level in crossed.index], crossed.to_numpy()
    levels = tuple(CategoryCount(level=name, declined=int(row[0]), stable=int(row[1]))
                   for name, row in zip(names, table, strict=True))
    levels = tuple(sorted(levels, key=lambda lv: -(lv.declined + lv.stable)))
    test = chi2(np.asarray(table), config)
    return CategoricalEda(feature=feature, levels=levels, test=test)


def run_eda(data: PreparedData, config: EdaConfig) -> EdaResult:
    """EDA of every feature by target class."""
    frame, y = data.frame, data.y
    numeric = tuple(numeric_eda(f, frame[f].to_numpy(dtype=float), y, config) for f in NUMERIC_FEATURES)
    categorical = tuple(categorical_eda(f, frame[f], y, config) for f in (*BINARY_FEATURES, *CATEGORICAL_FEATURES))
    profit = class_stats(frame["profit"].to_numpy(dtype=float), max_fliers=config.max_fliers)
    return EdaResult(numeric=numeric, categorical=categorical, profit=profit)
