"""Exploratory analysis of every feature by target class.

For each numeric feature: descriptive statistics per class, the histogram and box-plot data
(computed once; the renderer only draws them), a Mann–Whitney U test with the rank-biserial
correlation; for each categorical feature: counts per class, a χ² test with Cramér's V. Each
feature gets one sentence of interpretation, generated from those numbers in Russian and English.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.config import EdaConfig
from analysis.features import PreparedData
from analysis.results import (
    CategoricalEda, CategoryCount, ClassStats, EdaResult, LocalizedText, NumericEda, TestResult,
)
from analysis.schema import BINARY_FEATURES, CATEGORICAL_FEATURES, NUMERIC_FEATURES, feature_label
from analysis.textfmt import fmt_auto, fmt_number, fmt_p_value, fmt_percent

_MAGNITUDE_RU = {"negligible": "пренебрежимо мал", "small": "слабый", "medium": "умеренный", "large": "сильный"}
_MAGNITUDE_EN = {"negligible": "negligible", "small": "small", "medium": "medium", "large": "large"}
#: «связь …» is feminine.
_ASSOCIATION_RU = {"small": "слабая", "medium": "умеренная", "large": "сильная"}


def _p_clause(p: float, lang: str) -> str:
    """``p < 0,001`` or ``p = 0,042`` in the locale."""
    text = fmt_p_value(p, lang)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


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


def mann_whitney(declined: np.ndarray, stable: np.ndarray, config: EdaConfig) -> TestResult:
    """Mann–Whitney U with the rank-biserial correlation (> 0: higher among the declined)."""
    u, p = stats.mannwhitneyu(declined, stable, alternative="two-sided")
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


def interpret_numeric(feature: str, declined: ClassStats, stable: ClassStats, test: TestResult) -> LocalizedText:
    """One sentence on a numeric feature, from its statistics."""
    ru_label, en_label = feature_label(feature, "ru"), feature_label(feature, "en")
    d_ru, s_ru = fmt_auto(declined.mean, "ru"), fmt_auto(stable.mean, "ru")
    d_en, s_en = fmt_auto(declined.mean, "en"), fmt_auto(stable.mean, "en")
    r_ru, r_en = fmt_number(test.effect_size, "ru", digits=2), fmt_number(test.effect_size, "en", digits=2)
    p_ru, p_en = _p_clause(test.p_value, "ru"), _p_clause(test.p_value, "en")
    if not test.significant or test.magnitude == "negligible":
        ru = (f"«{ru_label}»: у клиентов со сниженной активностью в среднем {d_ru} против {s_ru} у остальных — "
              f"различие несущественно (r = {r_ru}, {p_ru}).")
        en = (f"{en_label}: customers whose activity declined average {d_en} against {s_en} for the others — "
              f"no material difference (r = {r_en}, {p_en}).")
        return LocalizedText(ru=ru, en=en)
    higher = test.effect_size > 0
    ru = (f"«{ru_label}»: у клиентов со сниженной активностью в среднем {d_ru} против {s_ru} у остальных — "
          f"{'выше' if higher else 'ниже'}; эффект {_MAGNITUDE_RU[test.magnitude]} "
          f"(ранговая бисериальная r = {r_ru}, {p_ru}).")
    en = (f"{en_label}: customers whose activity declined average {d_en} against {s_en} for the others — "
          f"{'higher' if higher else 'lower'}, a {_MAGNITUDE_EN[test.magnitude]} effect "
          f"(rank-biserial r = {r_en}, {p_en}).")
    return LocalizedText(ru=ru, en=en)


def interpret_categorical(feature: str, levels: tuple[CategoryCount, ...], test: TestResult) -> LocalizedText:
    """One sentence on a categorical feature, from its counts and test."""
    ru_label, en_label = feature_label(feature, "ru"), feature_label(feature, "en")
    ranked = sorted((lv for lv in levels if lv.declined + lv.stable > 0), key=lambda lv: lv.declined_share)
    hi, lo = ranked[-1], ranked[0]
    v_ru, v_en = fmt_number(test.effect_size, "ru", digits=2), fmt_number(test.effect_size, "en", digits=2)
    p_ru, p_en = _p_clause(test.p_value, "ru"), _p_clause(test.p_value, "en")
    strength_ru = "связь несущественна" if (not test.significant or test.magnitude == "negligible") \
        else f"связь {_ASSOCIATION_RU[test.magnitude]}"
    strength_en = "no material association" if (not test.significant or test.magnitude == "negligible") \
        else f"a {_MAGNITUDE_EN[test.magnitude]} association"
    ru = (f"«{ru_label}»: доля клиентов со сниженной активностью выше всего у «{hi.level}» "
          f"({fmt_percent(hi.declined_share, 'ru')}) и ниже всего у «{lo.level}» ({fmt_percent(lo.declined_share, 'ru')}); "
          f"{strength_ru} (V Крамера = {v_ru}, {p_ru}).")
    en = (f"{en_label}: the share of customers whose activity declined is highest for «{hi.level}» "
          f"({fmt_percent(hi.declined_share, 'en')}) and lowest for «{lo.level}» ({fmt_percent(lo.declined_share, 'en')}); "
          f"{strength_en} (Cramér's V = {v_en}, {p_en}).")
    return LocalizedText(ru=ru, en=en)


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
        test=test, interpretation=interpret_numeric(feature, d_stats, s_stats, test),
    )


def categorical_eda(feature: str, values: pd.Series, y: np.ndarray, config: EdaConfig) -> CategoricalEda:
    """EDA of one categorical or binary feature."""
    table = pd.crosstab(values.to_numpy(), y)
    table = table.reindex(columns=[1, 0], fill_value=0)
    levels = tuple(CategoryCount(level=str(level), declined=int(row[1]), stable=int(row[0]))
                   for level, row in table.iterrows())
    levels = tuple(sorted(levels, key=lambda lv: -(lv.declined + lv.stable)))
    test = chi2(table.to_numpy(), config)
    return CategoricalEda(feature=feature, levels=levels, test=test,
                          interpretation=interpret_categorical(feature, levels, test))


def run_eda(data: PreparedData, config: EdaConfig) -> EdaResult:
    """EDA of every feature by target class."""
    frame, y = data.frame, data.y
    numeric = tuple(numeric_eda(f, frame[f].to_numpy(dtype=float), y, config) for f in NUMERIC_FEATURES)
    categorical = tuple(categorical_eda(f, frame[f], y, config) for f in (*BINARY_FEATURES, *CATEGORICAL_FEATURES))
    profit = class_stats(frame["profit"].to_numpy(dtype=float), max_fliers=config.max_fliers)
    return EdaResult(numeric=numeric, categorical=categorical, profit=profit)
