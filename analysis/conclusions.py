"""Conclusions written from the results of the run — never hard-coded."""

from __future__ import annotations

from analysis.results import (
    Conclusion, CorrelationResult, DataResult, EdaResult, ImportanceResult, LocalizedText, ModelResult,
    SegmentsResult,
)
from analysis.schema import feature_label
from analysis.textfmt import fmt_number, fmt_percent


def _direction(feature: str, eda: EdaResult) -> tuple[str, str]:
    for item in eda.numeric:
        if item.feature == feature:
            up = item.test.effect_size > 0
            return ("выше" if up else "ниже"), ("higher" if up else "lower")
    return "отличается", "different"


def write_conclusions(*, data: DataResult, eda: EdaResult, correlation: CorrelationResult, model: ModelResult,
                      importance: ImportanceResult, segments: SegmentsResult) -> tuple[Conclusion, ...]:
    """A handful of conclusions, each a sentence built from the numbers of this run."""
    out: list[Conclusion] = []
    out.append(Conclusion(key="data", text=LocalizedText(
        ru=(f"Проанализировано клиентов, активных все три месяца: {fmt_number(data.n_customers_analysed, 'ru')}; "
            f"у {fmt_percent(data.declined_share, 'ru')} из них покупательская активность снизилась."),
        en=(f"{fmt_number(data.n_customers_analysed, 'en')} customers active in all three months were analysed; "
            f"the purchasing activity of {fmt_percent(data.declined_share, 'en')} of them declined."))))

    sel = model.selected
    t = model.test
    ranked = [c for c in model.candidates if c.cv_roc_auc_mean is not None]
    ranked.sort(key=lambda c: -(c.cv_roc_auc_mean or 0))
    runner = ranked[1] if len(ranked) > 1 else ranked[0]
    out.append(Conclusion(key="model", text=LocalizedText(
        ru=(f"Лучшая модель — {sel.name}: ROC-AUC на отложенной выборке {fmt_number(t.roc_auc, 'ru', digits=3)} "
            f"(95 % ДИ {fmt_number(t.roc_auc_ci95[0], 'ru', digits=3)}–{fmt_number(t.roc_auc_ci95[1], 'ru', digits=3)}); "
            f"следующая по кросс-валидации — {runner.name} "
            f"({fmt_number(runner.cv_roc_auc_mean, 'ru', digits=3)}), так что выбор между ними в пределах шума."
            if runner.name != sel.name else
            f"Лучшая модель — {sel.name}: ROC-AUC на отложенной выборке {fmt_number(t.roc_auc, 'ru', digits=3)}."),
        en=(f"The best model is {sel.name}: held-out ROC-AUC {fmt_number(t.roc_auc, 'en', digits=3)} "
            f"(95% CI {fmt_number(t.roc_auc_ci95[0], 'en', digits=3)}–{fmt_number(t.roc_auc_ci95[1], 'en', digits=3)}); "
            f"the runner-up in cross-validation is {runner.name} ({fmt_number(runner.cv_roc_auc_mean, 'en', digits=3)}), "
            f"so the choice between them is within noise."
            if runner.name != sel.name else
            f"The best model is {sel.name}: held-out ROC-AUC {fmt_number(t.roc_auc, 'en', digits=3)}."))))

    top = [fv.feature for fv in importance.global_importance[:3]]
    parts_ru = [f"«{feature_label(f, 'ru')}» ({_direction(f, eda)[0]} у снизивших активность)" for f in top]
    parts_en = [f"{feature_label(f, 'en')} ({_direction(f, eda)[1]} among those who declined)" for f in top]
    out.append(Conclusion(key="drivers", text=LocalizedText(
        ru="Сильнее всего на прогноз влияют " + ", ".join(parts_ru) + " (по среднему |SHAP|).",
        en="The strongest drivers of the prediction are " + ", ".join(parts_en) + " (by mean |SHAP|).")))

    priority = next(s for s in segments.segments if s.priority)
    share_par = segments.priority_risk_share
    out.append(Conclusion(key="priority", text=LocalizedText(
        ru=(f"Приоритетный сегмент «{priority.title.ru}»: клиентов — {fmt_number(priority.n_customers, 'ru')} "
            f"({fmt_percent(priority.share, 'ru')} всех), средняя вероятность снижения — "
            f"{fmt_percent(priority.mean_probability, 'ru')}; на него приходится "
            f"{fmt_percent(share_par, 'ru')} ожидаемой прибыли под риском."),
        en=(f"The priority segment «{priority.title.en}» has {fmt_number(priority.n_customers, 'en')} customers "
            f"({fmt_percent(priority.share, 'en')}) with a mean probability of decline of "
            f"{fmt_percent(priority.mean_probability, 'en')}; it carries {fmt_percent(share_par, 'en')} of the "
            f"expected profit at risk."))))

    dd = segments.deep_dive
    if dd.n_promo_unpaid:
        out.append(Conclusion(key="deep_dive", text=LocalizedText(
            ru=(f"Покупателей по акциям с неоплаченными товарами в корзине в приоритетном сегменте: "
                f"{fmt_number(dd.n_promo_unpaid, 'ru')} из {fmt_number(dd.n_customers, 'ru')} "
                f"({fmt_percent(dd.share_promo_unpaid, 'ru')}) — им первым нужны уведомления об акциях на товары "
                f"из корзины."),
            en=(f"In the priority segment {fmt_number(dd.n_promo_unpaid, 'en')} customers "
                f"({fmt_percent(dd.share_promo_unpaid, 'en')}) buy mostly on promotion and keep unpaid items in "
                f"the cart — they should be the first to get notices of promotions on their cart items."))))

    if correlation.flagged_pairs:
        pair = correlation.flagged_pairs[0]
        out.append(Conclusion(key="multicollinearity", text=LocalizedText(
            ru=(f"Мультиколлинеарность: «{feature_label(pair.a, 'ru')}» и «{feature_label(pair.b, 'ru')}» связаны "
                f"(phik = {fmt_number(pair.phik, 'ru', digits=2)}); их вклады в SHAP стоит читать вместе."),
            en=(f"Multicollinearity: {feature_label(pair.a, 'en')} and {feature_label(pair.b, 'en')} are associated "
                f"(phik = {fmt_number(pair.phik, 'en', digits=2)}); read their SHAP contributions together."))))
    else:
        out.append(Conclusion(key="multicollinearity", text=LocalizedText(
            ru=(f"Пар признаков с phik ≥ {fmt_number(correlation.threshold, 'ru', digits=2)} нет: "
                f"мультиколлинеарность не искажает интерпретацию."),
            en=(f"No pair of features reaches phik ≥ {fmt_number(correlation.threshold, 'en', digits=2)}: "
                f"multicollinearity does not distort the interpretation."))))
    return tuple(out)
