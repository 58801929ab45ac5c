"""Recommendation rules: objects computed in the analysis layer, like ydata-profiling's alerts.

Each rule looks at one segment's profile against the other customers, with thresholds from
:class:`analysis.config.RecommendationConfig`, and either stays silent or returns a
:class:`Recommendation` carrying its evidence — the numbers that triggered it. Every segment gets
at least one recommendation (the monitoring rule is the fallback).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from analysis.config import RecommendationConfig
from analysis.results import Evidence, LocalizedText, Recommendation
from analysis.schema import feature_label
from analysis.textfmt import fmt_auto, fmt_number, fmt_percent


@dataclass(frozen=True, slots=True)
class SegmentView:
    """What a rule sees: the segment's customers, the others, and the segment's key facts."""

    key: str
    members: pd.DataFrame
    others: pd.DataFrame
    mean_probability: float
    high_risk: bool


def _mean(frame: pd.DataFrame, column: str) -> float:
    return float(frame[column].mean()) if len(frame) else float("nan")


def _ratio(view: SegmentView, column: str) -> tuple[float, float, float]:
    seg, oth = _mean(view.members, column), _mean(view.others, column)
    return seg, oth, (seg / oth if oth else float("inf"))


def _feature_evidence(column: str, value: float, reference: float | None, threshold: float, comparison: str,
                      unit: str) -> Evidence:
    return Evidence(metric=column, value=round(value, 4), reference=None if reference is None else round(reference, 4),
                    threshold=threshold, comparison=comparison, unit=unit,  # type: ignore[arg-type]
                    label=LocalizedText(ru=feature_label(column, "ru"), en=feature_label(column, "en")))


def _vs(value: float, reference: float, lang: str, *, percent: bool = False) -> str:
    f = (lambda v: fmt_percent(v, lang)) if percent else (lambda v: fmt_auto(v, lang))
    return f"{f(value)} против {f(reference)} у остальных" if lang == "ru" else f"{f(value)} vs {f(reference)} for the others"


def promo_cart(view: SegmentView, cfg: RecommendationConfig) -> Recommendation | None:
    """High promo share with unpaid items → notify about promotions on cart items and similar goods."""
    promo, promo_o, _ = _ratio(view, "promo_share")
    unpaid, unpaid_o, _ = _ratio(view, "unpaid_items")
    if not (promo >= cfg.promo_share_min and unpaid >= cfg.unpaid_items_min):
        return None
    audience = int(((view.members["promo_share"] >= cfg.promo_share_min)
                    & (view.members["unpaid_items"] >= cfg.unpaid_items_min)).sum())
    return Recommendation(
        key="promo_cart",
        title=LocalizedText(ru="Акции на товары из корзины", en="Promotions on cart items"),
        text=LocalizedText(
            ru=(f"Доля акционных покупок {_vs(promo, promo_o, 'ru', percent=True)}, неоплаченных товаров в корзине "
                f"в среднем {_vs(unpaid, unpaid_o, 'ru')}. Уведомлять об акциях и скидках на товары, оставленные в "
                f"корзине, и на похожие товары; клиентов сегмента, подходящих под оба условия: {fmt_number(audience, 'ru')}."),
            en=(f"Promo purchases make up {_vs(promo, promo_o, 'en', percent=True)}, and unpaid items in the cart "
                f"average {_vs(unpaid, unpaid_o, 'en')}. Notify them of promotions and discounts on the items left "
                f"in the cart and on similar goods; {fmt_number(audience, 'en')} customers of the segment meet both "
                f"conditions.")),
        audience=audience,
        evidence=(_feature_evidence("promo_share", promo, promo_o, cfg.promo_share_min, ">=", "share"),
                  _feature_evidence("unpaid_items", unpaid, unpaid_o, cfg.unpaid_items_min, ">=", "count")),
    )


def personalised_home(view: SegmentView, cfg: RecommendationConfig) -> Recommendation | None:
    """Few pages or categories per visit → a personalised main page and recommendations."""
    pages, pages_o, pages_r = _ratio(view, "pages_per_visit")
    cats, cats_o, cats_r = _ratio(view, "categories_per_visit")
    if not (pages_r <= cfg.pages_ratio_max or cats_r <= cfg.categories_ratio_max):
        return None
    return Recommendation(
        key="personalised_home",
        title=LocalizedText(ru="Персональная главная страница и подборки", en="Personalised home page and picks"),
        text=LocalizedText(
            ru=(f"Страниц за визит {_vs(pages, pages_o, 'ru')}, категорий за визит {_vs(cats, cats_o, 'ru')}: "
                f"клиенты мало смотрят. Показывать персональную главную страницу и рекомендации из их любимой "
                f"категории и соседних категорий."),
            en=(f"Pages per visit {_vs(pages, pages_o, 'en')}, categories per visit {_vs(cats, cats_o, 'en')}: "
                f"these customers browse little. Show a personalised home page and recommendations from their "
                f"favourite and related categories.")),
        audience=len(view.members),
        evidence=(_feature_evidence("pages_per_visit", pages_r, None, cfg.pages_ratio_max, "<=", "ratio"),
                  _feature_evidence("categories_per_visit", cats_r, None, cfg.categories_ratio_max, "<=", "ratio")),
    )


def premium_trial(view: SegmentView, cfg: RecommendationConfig) -> Recommendation | None:
    """Premium service among those at risk → trial perks."""
    premium = float((view.members["service_type"] == "премиум").mean()) if len(view.members) else 0.0
    premium_o = float((view.others["service_type"] == "премиум").mean()) if len(view.others) else 0.0
    if not (view.high_risk and premium >= cfg.premium_share_min):
        return None
    audience = int((view.members["service_type"] == "премиум").sum())
    return Recommendation(
        key="premium_trial",
        title=LocalizedText(ru="Пробные привилегии премиум-сервиса", en="Premium trial perks"),
        text=LocalizedText(
            ru=(f"Премиум-сервисом пользуются {_vs(premium, premium_o, 'ru', percent=True)}. Премиум-клиентам "
                f"под риском (их {fmt_number(audience, 'ru')}) — бонусный месяц привилегий "
                f"(бесплатная доставка, ранний доступ к акциям); остальным — пробный период премиума."),
            en=(f"Premium service is used by {_vs(premium, premium_o, 'en', percent=True)}. For the "
                f"{fmt_number(audience, 'en')} premium customers at risk, a bonus month of perks (free delivery, "
                f"early access to sales); for the rest, a premium trial.")),
        audience=audience,
        evidence=(Evidence(metric="premium_share", value=round(premium, 4), reference=round(premium_o, 4),
                           threshold=cfg.premium_share_min, comparison=">=", unit="share",
                           label=LocalizedText(ru="Доля премиум-сервиса", en="Premium share")),),
    )


def more_communication(view: SegmentView, cfg: RecommendationConfig) -> Recommendation | None:
    """Few marketing touches over 6 months → more communication, only for customers who consented."""
    mk, mk_o, mk_r = _ratio(view, "marketing_6m")
    consent_mask = view.members["allow_messages"] == "да"
    consent = float(consent_mask.mean()) if len(view.members) else 0.0
    if not (mk_r <= cfg.marketing_ratio_max and consent >= cfg.consent_share_min):
        return None
    audience = int(consent_mask.sum())
    return Recommendation(
        key="more_communication",
        title=LocalizedText(ru="Больше коммуникаций с согласившимися", en="More contact with those who consented"),
        text=LocalizedText(
            ru=(f"Маркетинговых касаний за 6 месяцев {_vs(mk, mk_o, 'ru')} в месяц. Увеличить частоту "
                f"персональных рассылок и звонков только для тех, кто дал согласие на сообщения "
                f"(их {fmt_number(audience, 'ru')}, {fmt_percent(consent, 'ru')} сегмента)."),
            en=(f"Marketing touches over 6 months average {_vs(mk, mk_o, 'en')} a month. Increase personal "
                f"mailings and calls only for the {fmt_number(audience, 'en')} customers ({fmt_percent(consent, 'en')}) "
                f"who consented to messages.")),
        audience=audience,
        evidence=(_feature_evidence("marketing_6m", mk_r, None, cfg.marketing_ratio_max, "<=", "ratio"),
                  Evidence(metric="consent_share", value=round(consent, 4), reference=None,
                           threshold=cfg.consent_share_min, comparison=">=", unit="share",
                           label=LocalizedText(ru="Доля согласившихся на рассылки",
                                               en="Share consenting to messages"))),
    )


def fix_service(view: SegmentView, cfg: RecommendationConfig) -> Recommendation | None:
    """Many service errors → fix and apologise."""
    err, err_o, err_r = _ratio(view, "service_errors")
    if not err_r >= cfg.service_errors_ratio_min:
        return None
    audience = int((view.members["service_errors"] > err_o).sum())
    return Recommendation(
        key="fix_service",
        title=LocalizedText(ru="Устранить сбои и извиниться", en="Fix errors and apologise"),
        text=LocalizedText(
            ru=(f"Сбоев сервиса {_vs(err, err_o, 'ru')}. Передать разработке сценарии со сбоями этих клиентов и "
                f"отправить клиентам с числом сбоев выше среднего (их {fmt_number(audience, 'ru')}) извинение с промокодом."),
            en=(f"Service errors average {_vs(err, err_o, 'en')}. Hand the failing journeys to engineering and send "
                f"the {fmt_number(audience, 'en')} customers with above-average errors an apology with a promo code.")),
        audience=audience,
        evidence=(_feature_evidence("service_errors", err_r, None, cfg.service_errors_ratio_min, ">=", "ratio"),),
    )


def keep_and_grow(view: SegmentView, cfg: RecommendationConfig) -> Recommendation | None:
    """Low risk → keep the relationship and grow the basket (loyalty, cross-selling)."""
    if not view.mean_probability <= cfg.low_risk_probability_max:
        return None
    top = view.members["popular_category"].value_counts(normalize=True)
    category, share = (str(top.index[0]), float(top.iloc[0])) if len(top) else ("—", 0.0)
    return Recommendation(
        key="keep_and_grow",
        title=LocalizedText(ru="Удерживать и развивать: лояльность и кросс-продажи",
                            en="Keep and grow: loyalty and cross-selling"),
        text=LocalizedText(
            ru=(f"Средняя вероятность снижения активности {fmt_percent(view.mean_probability, 'ru')}. Не тратить "
                f"скидки на удержание: баллы лояльности и подборки к любимой категории «{category}» "
                f"({fmt_percent(share, 'ru')} сегмента)."),
            en=(f"Mean probability of a decline is {fmt_percent(view.mean_probability, 'en')}. Do not spend retention "
                f"discounts here: loyalty points and picks that complement the favourite category «{category}» "
                f"({fmt_percent(share, 'en')} of the segment).")),
        audience=len(view.members),
        evidence=(Evidence(metric="mean_probability", value=round(view.mean_probability, 4), reference=None,
                           threshold=cfg.low_risk_probability_max, comparison="<=", unit="probability",
                           label=LocalizedText(ru="Средняя вероятность снижения", en="Mean probability of decline")),),
    )


def monitor(view: SegmentView, cfg: RecommendationConfig) -> Recommendation:
    """Fallback: no rule fired — watch the segment monthly."""
    return Recommendation(
        key="monitor",
        title=LocalizedText(ru="Наблюдать ежемесячно", en="Monitor monthly"),
        text=LocalizedText(
            ru=(f"Ни одно правило не сработало; средняя вероятность снижения {fmt_percent(view.mean_probability, 'ru')}. "
                f"Следить за переходами клиентов между сегментами в следующем месяце."),
            en=(f"No rule fired; the mean probability of a decline is {fmt_percent(view.mean_probability, 'en')}. "
                f"Watch customers moving between segments next month.")),
        audience=len(view.members),
        evidence=(Evidence(metric="mean_probability", value=round(view.mean_probability, 4), reference=None,
                           threshold=cfg.low_risk_probability_max, comparison=">=", unit="probability",
                           label=LocalizedText(ru="Средняя вероятность снижения", en="Mean probability of decline")),),
    )


RULES: tuple[Callable[[SegmentView, RecommendationConfig], Recommendation | None], ...] = (
    promo_cart, personalised_home, premium_trial, more_communication, fix_service, keep_and_grow,
)


def recommend(view: SegmentView, cfg: RecommendationConfig) -> tuple[Recommendation, ...]:
    """Every rule that fires for the segment, or the monitoring fallback."""
    fired = tuple(r for rule in RULES if (r := rule(view, cfg)) is not None)
    return fired or (monitor(view, cfg),)
