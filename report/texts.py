"""Sentences written from the results with the message catalogue ("facts in analysis, words in
report"): the analysis gives the numbers and keys, these functions choose the wording.

>>> eda_sentence(results.eda.numeric[0], lang="ru")  # doctest: +SKIP
'У снизивших активность в среднем 5,57, у остальных 9,80: значения ниже, эффект большой.'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from analysis.results import (
    ActionsResult, CategoricalEda, CleaningNote, Conclusion, EditDistanceNote, InactiveNote, ModelResult,
    NotInstalledSkip,
    NumericEda, OutlierNote, Results, SkipNote, TestResult, TooManyRowsSkip,
)
from report.env import make_filters
from report.format import fmt_list
from report.i18n import catalogue, data_value, segment_title, translator

if TYPE_CHECKING:
    from report.structure import PdfAttachments

__all__ = [
    "agreement_text", "attachments_email_text", "attachments_text", "file_size",
    "calibration_text", "cleaning_note", "column_digits", "rows_note", "skip_note",
    "conclusion_text", "eda_finding", "eda_sentence",
    "actions_resting_on", "model_label", "selection_text",
]


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
    ranked = sorted((lv for lv in eda.levels if lv.declined + lv.stable > 0), key=lambda lv: -lv.declined_share)
    hi, lo = ranked[0], ranked[-1]
    key = "eda.s_two_levels" if len(ranked) == 2 else "eda.s_levels"
    return t(key, hi=data_value(hi.level, lang), hi_share=f["pct"](hi.declined_share),
             lo=data_value(lo.level, lang), lo_share=f["pct"](lo.declined_share),
             finding=eda_finding(eda.test, lang=lang))


def cleaning_note(note: CleaningNote | None, *, lang: str) -> str:
    """Why a cleaning decision was taken, from its typed note (``cleaning.note.<key>``)."""
    if note is None:
        return ""
    t = translator(lang)
    f = make_filters(lang)
    key = f"cleaning.note.{note.key}"
    if isinstance(note, EditDistanceNote):
        return t(key, distance=f["num"](note.distance))
    if isinstance(note, InactiveNote):
        return t(key, count=note.months, months=f["num"](note.months))
    if isinstance(note, OutlierNote):
        return t(key, customer=note.customer, threshold=f["auto"](note.threshold),
                 mad_k=f["scalar"](note.mad_k), min_ratio=f["scalar"](note.min_ratio))
    return t(key)


def rows_note(actions: ActionsResult, *, lang: str) -> str:
    """What ``actions.csv`` holds: its rows, treatment and control rows and customers, each count
    with the noun in the form its number asks for."""
    t = translator(lang)
    f = make_filters(lang)

    def count(key: str, n: int) -> str:
        return t(key, count=n, n=f["num"](n))

    return t("actions.rows_note", rows=count("actions.n_rows", actions.n_rows),
             customers=count("alt.customers.gen", actions.n_customers),
             treatment=count("actions.n_treatment", actions.n_treatment),
             control=count("actions.n_control", actions.n_control), offers=count("actions.n_offers", actions.offers))


#: Binary units of a file size (``unit.size.<unit>``), each 1024 times the one before.
_SIZE_UNITS = ("b", "kib", "mib", "gib")


def file_size(n_bytes: int, *, lang: str) -> str:
    """A file size in the largest binary unit it reaches (``52,7 МиБ``, ``16 MiB``, ``900 B``):
    whole bytes, else one decimal (none when the size is a whole number of that unit)."""
    t = translator(lang)
    f = make_filters(lang)
    power = 0
    while power < len(_SIZE_UNITS) - 1 and n_bytes >= 1024 ** (power + 1):
        power += 1
    value = n_bytes / 1024 ** power
    return t(f"unit.size.{_SIZE_UNITS[power]}", value=f["num"](value, 0 if value.is_integer() else 1))


def _left_out_files(attachments: PdfAttachments, lang: str) -> str:
    t = translator(lang)
    return fmt_list([t("method.left_out_file", name=f.name, size=file_size(f.size_bytes, lang=lang))
                     for f in attachments.left_out], lang)


def attachments_text(attachments: PdfAttachments, *, lang: str) -> str:
    """What the PDF/A-3 embeds, and each file it leaves out with its size, the limit and where it is
    (the methodology's reproducibility paragraph)."""
    t = translator(lang)
    text = t("method.embedded", files=fmt_list(list(attachments.embedded), lang))
    if not attachments.left_out:
        return text
    return text + " " + t("method.left_out", count=len(attachments.left_out),
                          files=_left_out_files(attachments, lang),
                          limit=file_size(attachments.limit_bytes, lang=lang))


def attachments_email_text(attachments: PdfAttachments | None, *, lang: str) -> str:
    """The e-mail's last line: the PDF is attached, with what it embeds and what it leaves out."""
    t = translator(lang)
    if attachments is None or not attachments.left_out:
        return t("email.attached")
    return t("email.attached_left_out", count=len(attachments.left_out),
             embedded=fmt_list(list(attachments.embedded), lang), files=_left_out_files(attachments, lang),
             limit=file_size(attachments.limit_bytes, lang=lang))


def skip_note(note: SkipNote | None, *, lang: str) -> str:
    """Why a candidate model was not compared, from its typed note (``model.skip.<key>``)."""
    if note is None:
        return ""
    t = translator(lang)
    f = make_filters(lang)
    if isinstance(note, NotInstalledSkip):
        return t("model.skip.not_installed", package=note.package)
    if isinstance(note, TooManyRowsSkip):
        return t("model.skip.too_many_rows", max_rows=f["num"](note.max_rows))
    return t("model.skip.too_few_rows", count=note.neighbours, neighbours=f["num"](note.neighbours),
             fold_rows=f["num"](note.fold_rows))


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


def agreement_text(results: Results, actions: Sequence[str], *, lang: str) -> str:
    """Whether SHAP and permutation importance agree; where they do not, on which features (with
    both numbers) and which actions (keys) rest on them."""
    t = translator(lang)
    f = make_filters(lang)
    imp = results.importance
    if not imp.disagreements:
        return t("shap.agreement")
    shap = {fv.feature: fv.value for fv in imp.global_importance}
    drop = {fv.feature: fv.value for fv in imp.permutation}
    items = fmt_list([t("shap.disagreement_item", feature=f["feature_label"](name), shap=f["num"](shap.get(name), 3),
                        drop=f["num"](drop.get(name), 3)) for name in imp.disagreements], lang)
    text = t("shap.disagreement", items=items)
    if actions:
        recs = fmt_list([t("quote", text=t(f"action.{key}.title")) for key in actions], lang)
        text += " " + t("shap.disagreement_recs", recs=recs)
    return text


def actions_resting_on(results: Results, features: Iterable[str]) -> tuple[str, ...]:
    """The actions (keys, in the order of the action plans) that fired for some segment on a rule
    with evidence on one of ``features``."""
    wanted = set(features)
    fired = {o.action for rules in results.actions.rules for o in rules.fired
             if any(e.feature in wanted for e in o.evidence)}
    ordered = [p.action for p in results.actions.plans if p.action in fired]
    return tuple(ordered + sorted(fired - set(ordered)))


def model_label(results: Results, *, lang: str, name: str | None = None) -> str:
    """A candidate model (the selected one by default) as a reader names it: its family in the
    report's language."""
    t = translator(lang)
    name = name or results.model.selected.name
    for c in results.model.candidates:
        if c.name == name:
            key = f"family.{c.family}"
            return t(key) if key in catalogue(lang) else c.name
    return name


def conclusion_text(results: Results, conclusion: Conclusion, *, lang: str) -> str:
    """One conclusion (``conclusion.<key>`` in the catalogue) written from the results."""
    t = translator(lang)
    f = make_filters(lang)
    key = conclusion.key
    if key == "data":
        d = results.data
        return t("conclusion.data", raw=f["num"](d.n_customers_raw), active=f["num"](d.n_customers_active),
                 analysed=f["num"](d.n_customers_analysed), outliers=f["num"](d.n_dropped_outlier),
                 share=f["pct"](d.declined_share), count=d.n_dropped_outlier)
    if key == "model":
        m = results.model
        text = t("conclusion.model", model=model_label(results, lang=lang), auc=f["num"](m.test.roc_auc, 3),
                 lo=f["num"](m.test.roc_auc_ci95[0], 3), hi=f["num"](m.test.roc_auc_ci95[1], 3))
        rule = m.selection
        if rule is not None:
            others = [n for n in rule.within if n != m.selected.name]
            others = [t("quote", text=model_label(results, lang=lang, name=n)) for n in others]
            text += " " + (t("conclusion.model_noise", count=len(others), others=fmt_list(others, lang),
                             se=f["num"](rule.standard_error, 3))
                           if others else t("conclusion.model_clear", se=f["num"](rule.standard_error, 3)))
        return text
    if key == "drivers":
        direction = {e.feature: e.test.effect_size for e in results.eda.numeric}
        parts = []
        for i, fv in enumerate(results.importance.global_importance[:3]):
            name = f["feature_label"](fv.feature)
            effect = direction.get(fv.feature)
            word = "" if effect is None or effect == 0 else t("conclusion.higher" if effect > 0 else "conclusion.lower")
            if not word:
                full = t("conclusion.driver_plain", feature=name)
            else:
                full = t("conclusion.driver_first" if i == 0 else "conclusion.driver", feature=name, direction=word)
            parts.append(full)
        items = fmt_list(parts, lang)
        return t("conclusion.drivers", items=items)
    if key == "importance_disagreement":
        imp = results.importance
        features = fmt_list([t("quote", text=f["feature_label"](name)) for name in imp.disagreements], lang)
        keys = actions_resting_on(results, imp.disagreements)
        text = t("conclusion.importance_disagreement", features=features)
        if keys:
            text += " " + t("conclusion.importance_recs",
                            recs=fmt_list([t("quote", text=t(f"action.{k}.title")) for k in keys], lang))
        return text
    if key == "priority":
        sg = results.segments
        seg = results.segment(sg.priority)
        return t("conclusion.priority", segment=segment_title(seg.key, lang), n=f["num"](seg.n_customers),
                 share=f["pct"](seg.share), p=f["pct"](seg.mean_probability),
                 risk_share=f["pct"](seg.profit_at_risk_share))
    if key == "deep_dive":
        dd = results.segments.deep_dive
        return t("conclusion.deep_dive", n=f["num"](dd.n_promo_unpaid), total=f["num"](dd.n_customers),
                 share=f["pct"](dd.share_promo_unpaid))
    if key == "multicollinearity":
        pair = results.correlation.flagged_pairs[0]
        return t("conclusion.multicollinearity", a=f["feature_label"](pair.a), b=f["feature_label"](pair.b),
                 phik=f["num"](pair.phik, 2))
    if key == "no_multicollinearity":
        return t("conclusion.no_multicollinearity", threshold=f["num"](results.correlation.threshold, 2))
    raise KeyError(f"no wording for the conclusion {key!r}")
