"""Sentences written from the results with the message catalogue ("facts in analysis, words in
report"): the analysis gives the numbers and keys, these functions choose the wording.

>>> eda_sentence(results.eda.numeric[0], lang="ru")  # doctest: +SKIP
'У снизивших активность в среднем 5,57, у остальных 9,80: значения ниже, эффект большой.'
"""

from __future__ import annotations

from collections.abc import Sequence

from analysis.results import CategoricalEda, ModelResult, NumericEda, Recommendation, Results, TestResult
from report.env import make_filters
from report.i18n import translator

__all__ = ["agreement_text", "calibration_text", "column_digits", "eda_finding", "eda_sentence", "selection_text"]


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


def selection_text(model: ModelResult, *, lang: str) -> str:
    """How the model was chosen, saying whether the best candidates differ by more than noise."""
    t = translator(lang)
    f = make_filters(lang)
    auc = {c.name: c.cv_roc_auc_mean for c in model.candidates if c.cv_roc_auc_mean is not None}
    sel = model.selected.name
    rule = model.selection
    if rule is None:  # results written before the selection rule
        return t("model.selected_text", model=sel, auc=f["num"](auc.get(sel), 3))
    others = [n for n in rule.within if n != rule.best_mean]
    if not others:
        text = t("model.selected_text", model=sel, auc=f["num"](auc.get(sel), 3)) + " " + \
            t("model.selection_alone", se=f["num"](rule.standard_error, 3))
        return text
    within = ", ".join(f"{n} {f['num'](auc.get(n), 3)}" for n in sorted(rule.within, key=lambda n: -(auc.get(n) or 0)))
    text = t("model.selection_noise", best=rule.best_mean, auc=f["num"](auc.get(rule.best_mean), 3),
             se=f["num"](rule.standard_error, 3), threshold=f["num"](rule.threshold, 3), within=within)
    if rule.rule == "best_mean":
        return text + " " + t("model.selection_best_mean", model=sel)
    if sel == rule.best_mean:
        return text + " " + t("model.selection_one_se_best", model=sel)
    return text + " " + t("model.selection_one_se", model=sel, model_auc=f["num"](auc.get(sel), 3))


def calibration_text(model: ModelResult, *, lang: str) -> str:
    """What the test part's calibration bins allow one to say about the probabilities."""
    t = translator(lang)
    f = make_filters(lang)
    c = model.calibration_check
    brier = f["num"](model.test.brier, 4)
    if c is None:
        return t("model.test_text_brier", brier=brier)
    common = {"covered": c.n_covered, "bins": len(c.bins), "level": f["pct"](c.level), "required": c.required,
              "brier": brier}
    if c.calibrated:
        return t("model.calibration_ok", **common)
    w = c.worst
    return t("model.calibration_off", **common, predicted=f["pct"](w.predicted), observed=f["pct"](w.observed),
             lo=f["pct"](w.lo), hi=f["pct"](w.hi))


def agreement_text(results: Results, recommendations: Sequence[Recommendation], *, lang: str) -> str:
    """Whether SHAP and permutation importance agree; where they do not, on which features (with
    both numbers) and which recommendations rest on them."""
    t = translator(lang)
    f = make_filters(lang)
    imp = results.importance
    if not imp.disagreements:
        return t("shap.agreement")
    shap = {fv.feature: fv.value for fv in imp.global_importance}
    drop = {fv.feature: fv.value for fv in imp.permutation}
    items = ", ".join(t("shap.disagreement_item", feature=f["feature_label"](name), shap=f["num"](shap.get(name), 3),
                        drop=f["num"](drop.get(name), 3)) for name in imp.disagreements)
    text = t("shap.disagreement", items=items)
    if recommendations:
        recs = ", ".join(f"«{rec.title.get(lang)}»" for rec in recommendations)
        text += " " + t("shap.disagreement_recs", recs=recs)
    return text
