"""Sentences written from the results with the message catalogue ("facts in analysis, words in
report"): the analysis gives the numbers and keys, these functions choose the wording.

>>> eda_sentence(results.eda.numeric[0], lang="ru")  # doctest: +SKIP
'У снизивших активность в среднем 5,57, у остальных 9,80: значения ниже, эффект большой.'
"""

from __future__ import annotations

from analysis.results import CategoricalEda, NumericEda, TestResult
from report.env import make_filters
from report.i18n import translator

__all__ = ["eda_finding", "eda_sentence"]


def eda_finding(test: TestResult, *, lang: str, direction: float | None = None) -> str:
    """What a test says, in the one effect-size vocabulary (``magnitude.*``): not significant;
    significant but negligible; or the effect's size (with the direction of a numeric
    difference when ``direction`` is given: > 0 higher among the declined)."""
    t = translator(lang)
    if not test.significant:
        return t("eda.f_not_significant")
    if test.magnitude == "negligible":
        return t("eda.f_negligible")
    magnitude = t(f"magnitude.{test.magnitude}")
    if direction is None or direction == 0:
        return t("eda.f_effect", magnitude=magnitude)
    return t("eda.f_higher" if direction > 0 else "eda.f_lower", magnitude=magnitude)


def eda_sentence(eda: NumericEda | CategoricalEda, *, lang: str) -> str:
    """The one sentence of the EDA table on a feature: the class means (numeric) or the levels
    with the highest and lowest share of declined customers (categorical), then the finding. A
    two-valued feature is compared, not ranked."""
    t = translator(lang)
    f = make_filters(lang)
    if isinstance(eda, NumericEda):
        means = (eda.declined.mean, eda.stable.mean)
        digits = column_digits(means)
        return t("eda.s_numeric", declined=f["num"](means[0], digits), stable=f["num"](means[1], digits),
                 finding=eda_finding(eda.test, lang=lang, direction=eda.test.effect_size))
    from report.figures.charts import level_label  # the English names of the data's levels

    ranked = sorted((lv for lv in eda.levels if lv.declined + lv.stable > 0), key=lambda lv: -lv.declined_share)
    hi, lo = ranked[0], ranked[-1]
    key = "eda.s_two_levels" if len(ranked) == 2 else "eda.s_levels"
    return t(key, hi=level_label(hi.level, lang), hi_share=f["pct"](hi.declined_share),
             lo=level_label(lo.level, lang), lo_share=f["pct"](lo.declined_share),
             finding=eda_finding(eda.test, lang=lang))


def column_digits(values: tuple[float, ...] | list[float], *, max_digits: int = 2) -> int:
    """One precision for numbers printed together (a table column, a pair compared): none when
    every value is whole, else the decimals the smallest magnitude needs (≥ 100: 0, ≥ 10: 1,
    else 2), at most ``max_digits``."""
    finite = [float(v) for v in values if v is not None and v == v]
    if not finite or all(v.is_integer() for v in finite):
        return 0
    smallest = min(abs(v) for v in finite)
    return min(max_digits, 0 if smallest >= 100 else (1 if smallest >= 10 else 2))
