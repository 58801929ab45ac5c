"""Actions per customer: rules the model supports, consent and channel, economics, control groups.

Like ydata-profiling's alerts, each rule is a typed object (:class:`ActionRule`) whose thresholds
come from :class:`analysis.config.ActionsConfig`; the renderers word it (one catalogue message per
action key). For every segment a rule either fires or says what stopped it:

* ``risk`` — the rule is for high-risk segments (the retention offers) or for low-risk ones (keep
  and grow, which spends no discount), so a discount and «don't spend discounts» never meet;
* ``separation`` — a feature of the rule does not separate the segment from the other customers by
  ``effect_size_min`` (Cohen's d, or Cohen's h for a category) in the direction that raises risk;
* ``model`` — the model disagrees: the feature's mean SHAP in the segment does not raise the risk;
* ``value`` — no customer of the segment has a positive expected value.

A customer of a segment where the rule fires gets the action when *that customer* meets the rule's
condition: beyond ``customer_quantile`` of all analysed customers on each feature (thresholds
relative to the customers, never absolute). The channel is the one with the higher expected value
``probability × profit × save rate − cost`` among those the customer can be reached on: ``contact``
(e-mail, SMS, a call) only with consent to messages, or ``site``. Each action then keeps a seeded,
segment-stratified control group sized by a power calculation. Nothing here reads the current
month's true target: actions and groups follow from the out-of-sample probability, the features,
profit, consent and the seed.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from analysis.config import ActionsConfig
from analysis.results import ActionEffect, ActionPlan, ActionsResult, RuleEvidence, RuleOutcome, SegmentRules
from analysis.segments import SEGMENTS, cohens_d, cohens_h, relative_threshold

__all__ = [
    "ACTION_RULES",
    "ACTION_COLUMNS",
    "ActionRule",
    "ActionsOutput",
    "Condition",
    "control_size",
    "measure_effects",
    "newcombe_interval",
    "run_actions",
]

CONSENT = "да"

#: Columns of the per-customer action table (``actions.csv`` adds the worded ``reason``).
ACTION_COLUMNS: tuple[str, ...] = (
    "id", "segment", "action", "channel", "group", "expected_value", "probability", "profit",
    "value_1", "reference_1", "value_2", "reference_2",
)


@dataclass(frozen=True, slots=True)
class Condition:
    """A feature of a rule and the direction in which it raises the risk (``level``: a category)."""

    feature: str
    direction: Literal["high", "low"]
    level: str | None = None


@dataclass(frozen=True, slots=True)
class ActionRule:
    """One action: its conditions, the segments it is for and whether it gives an incentive."""

    key: str
    conditions: tuple[Condition, ...]
    risk: Literal["high", "low"]
    discount: bool


#: The actions, in the order they are evaluated.
ACTION_RULES: tuple[ActionRule, ...] = (
    ActionRule("promo_cart", (Condition("promo_share", "high"), Condition("unpaid_items", "high")),
               risk="high", discount=True),
    ActionRule("personalised_home", (Condition("pages_per_visit", "low"),), risk="high", discount=False),
    ActionRule("premium_trial", (Condition("service_type", "high", level="премиум"),), risk="high", discount=True),
    ActionRule("more_communication", (Condition("marketing_6m", "low"),), risk="high", discount=False),
    ActionRule("fix_service", (Condition("service_errors", "high"),), risk="high", discount=True),
    ActionRule("keep_and_grow", (), risk="low", discount=False),
)


@dataclass(frozen=True, slots=True)
class ActionsOutput:
    """The summary for the results and the per-customer table (``ACTION_COLUMNS``)."""

    result: ActionsResult
    table: pd.DataFrame

    def offers(self) -> pd.Series:
        """Each customer's treatment action with the highest expected value (id → action)."""
        treated = self.table[self.table["group"] == "treatment"]
        best = treated.sort_values(["id", "expected_value", "action"], ascending=[True, False, True],
                                   kind="stable").drop_duplicates("id")
        return pd.Series(best["action"].to_numpy(), index=best["id"].to_numpy(), name="offer")


# ------------------------------------------------------------------------------ rule evidence
def _evidence(cond: Condition, frame: pd.DataFrame, in_segment: np.ndarray, shap: pd.DataFrame,
              config: ActionsConfig) -> RuleEvidence:
    sign = 1.0 if cond.direction == "high" else -1.0
    if cond.level is not None:
        has = (frame[cond.feature] == cond.level).to_numpy()
        seg_v = float(has[in_segment].mean()) if in_segment.any() else 0.0
        oth_v = float(has[~in_segment].mean()) if (~in_segment).any() else 0.0
        effect, measure, cut = sign * cohens_h(seg_v, oth_v), "cohens_h", None
        rows = in_segment & has
    else:
        values = frame[cond.feature].to_numpy(dtype=float)
        seg_v = float(values[in_segment].mean()) if in_segment.any() else 0.0
        oth_v = float(values[~in_segment].mean()) if (~in_segment).any() else 0.0
        effect, measure = sign * cohens_d(values[in_segment], values[~in_segment]), "cohens_d"
        cut = relative_threshold(frame[cond.feature], direction=cond.direction, quantile=config.customer_quantile)
        rows = in_segment
    column = shap[cond.feature].to_numpy(dtype=float)
    mean_shap = float(column[rows].mean()) if rows.any() else 0.0
    return RuleEvidence(
        feature=cond.feature, level=cond.level, direction=cond.direction,
        segment_value=round(seg_v, 4), others_value=round(oth_v, 4), effect_measure=measure,  # type: ignore[arg-type]
        effect_size=round(effect, 3), effect_size_min=config.effect_size_min, mean_shap=round(mean_shap, 5),
        customer_threshold=None if cut is None else round(cut, 4),
        separates=effect >= config.effect_size_min, model_agrees=mean_shap > 0,
    )


def _meets(cond: Condition, frame: pd.DataFrame, evidence: RuleEvidence) -> np.ndarray:
    """Customers who meet the condition themselves."""
    if cond.level is not None:
        return (frame[cond.feature] == cond.level).to_numpy()
    values = frame[cond.feature].to_numpy(dtype=float)
    cut = evidence.customer_threshold
    return values >= cut if cond.direction == "high" else values <= cut


# ------------------------------------------------------------------------------ control groups
def control_size(audience: int, mean_probability: float, config: ActionsConfig) -> tuple[int, int, bool, int | None]:
    """The control group of an audience: ``(control, needed, testable, audience_needed)``.

    ``needed`` is the smallest control group that detects a decline rate lower by
    ``config.min_effect`` (two-sided two-proportion z-test at ``alpha`` with ``power``; the
    treatment is the rest of the audience), from the audience's mean probability. The control is
    ``needed`` when that is at most ``control_share_max`` of the audience, else the capped share
    (the effect then cannot be measured: ``testable`` is ``False`` and ``audience_needed`` is the
    smallest audience whose capped control would suffice).
    """
    from scipy.stats import norm

    if audience < 2:
        return 0, 0, False, None
    z = norm.ppf(1 - config.alpha / 2) + norm.ppf(config.power)
    p0 = min(max(mean_probability, 1e-6), 1 - 1e-6)
    p1 = min(max(p0 - config.min_effect, 1e-6), 1 - 1e-6)
    v0, v1 = p0 * (1 - p0), p1 * (1 - p1)
    cap = max(1, int(np.floor(config.control_share_max * audience)))
    c = np.arange(1, audience, dtype=float)
    ok = config.min_effect / np.sqrt(v0 / c + v1 / (audience - c)) >= z
    # the smallest control the audience allows, if any (the condition is not monotone near the end)
    feasible = np.flatnonzero(ok)
    needed_here = int(c[feasible[0]]) if feasible.size else None
    share = config.control_share_max
    audience_needed = int(np.ceil(z**2 * (v0 / share + v1 / (1 - share)) / config.min_effect**2))
    if needed_here is not None and needed_here <= cap:
        return needed_here, needed_here, True, None
    needed = needed_here if needed_here is not None else int(np.ceil(z**2 * (v0 + v1) / config.min_effect**2))
    return cap, needed, False, max(audience_needed, audience + 1)


def minimal_detectable_effect(treatment: int, control: int, mean_probability: float,
                              config: ActionsConfig) -> float | None:
    """The smallest difference in decline rate the groups detect (at ``alpha`` with ``power``)."""
    from scipy.stats import norm

    if treatment < 1 or control < 1:
        return None
    z = norm.ppf(1 - config.alpha / 2) + norm.ppf(config.power)
    v = mean_probability * (1 - mean_probability)
    return float(z * np.sqrt(v / treatment + v / control))


def _draw_control(segments: np.ndarray, control: int, rng: np.random.Generator) -> np.ndarray:
    """A boolean mask of ``control`` rows, stratified by segment (largest remainders)."""
    mask = np.zeros(segments.size, dtype=bool)
    if control <= 0:
        return mask
    keys, inverse, counts = np.unique(segments, return_inverse=True, return_counts=True)
    exact = control * counts / segments.size
    quota = np.floor(exact).astype(int)
    order = np.argsort(-(exact - quota), kind="stable")
    quota[order[: control - quota.sum()]] += 1
    for k in range(keys.size):
        rows = np.flatnonzero(inverse == k)
        mask[rng.choice(rows, size=quota[k], replace=False)] = True
    return mask


# ------------------------------------------------------------------------------------- run
def _channel_values(rule: ActionRule, p: np.ndarray, profit: np.ndarray, consent: np.ndarray,
                    config: ActionsConfig) -> tuple[np.ndarray, np.ndarray]:
    """Per customer: the best channel (``""`` if none) and its expected value."""
    econ = config.economics(rule.key)
    stake = p * profit
    best = np.full(p.size, -np.inf)
    channel = np.full(p.size, "", dtype=object)
    if econ.site_cost is not None:
        value = stake * econ.site_save_rate - econ.site_cost
        best, channel = value, np.full(p.size, "site", dtype=object)
    if econ.contact_cost is not None:
        value = np.where(consent, stake * econ.contact_save_rate - econ.contact_cost, -np.inf)
        better = value > best
        best = np.where(better, value, best)
        channel = np.where(better, "contact", channel)
    return channel, best


def run_actions(frame: pd.DataFrame, probability: pd.Series, segment_of: pd.Series, shap: pd.DataFrame, *,
                config: ActionsConfig, risk_threshold: float, random_state: int) -> ActionsOutput:
    """Evaluate every rule for every segment, assign actions to customers and draw control groups.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per analysed customer (indexed by id): the features, ``profit`` and consent.
    probability : pandas.Series
        Out-of-sample probability of a decline, by id.
    segment_of : pandas.Series
        Segment key of every customer, aligned with ``frame``.
    shap : pandas.DataFrame
        SHAP values of every customer (by id) and feature.
    config : ActionsConfig
        Effect-size and quantile thresholds, economics, power calculation.
    risk_threshold : float
        The segments' probability threshold (evidence of the keep-and-grow rule).
    random_state : int
        Seed of the control groups (each action draws from its own stream).
    """
    ids = frame.index.to_numpy()
    p = probability.reindex(frame.index).to_numpy(dtype=float)
    profit = frame["profit"].to_numpy(dtype=float)
    consent = (frame["allow_messages"] == CONSENT).to_numpy()
    seg = segment_of.to_numpy().astype(str)
    shap = shap.reindex(frame.index)
    risk_of = {key: risk for key, risk, _, _, _ in SEGMENTS}

    outcomes: dict[str, list[RuleOutcome]] = {key: [] for key, *_ in SEGMENTS}
    tables: list[pd.DataFrame] = []
    plans: list[ActionPlan] = []
    pending: dict[str, list[tuple[str, RuleOutcome]]] = {}
    for rule in ACTION_RULES:
        channel, value = _channel_values(rule, p, profit, consent, config)
        assigned = np.zeros(ids.size, dtype=bool)
        rows_refs: list[tuple[np.ndarray, np.ndarray]] = []
        for key, *_ in SEGMENTS:
            in_segment = seg == key
            evidence = tuple(_evidence(c, frame, in_segment, shap, config) for c in rule.conditions)
            blocked: str | None = None
            chosen = np.zeros(ids.size, dtype=bool)
            if risk_of[key] != rule.risk or not in_segment.any():
                blocked = "risk"
            elif not all(e.separates for e in evidence):
                blocked = "separation"
            elif not all(e.model_agrees for e in evidence):
                blocked = "model"
            else:
                chosen = in_segment & (value > config.min_expected_value) & (channel != "")
                for cond, ev in zip(rule.conditions, evidence, strict=True):
                    chosen &= _meets(cond, frame, ev)
                if not chosen.any():
                    blocked = "value"
            assigned |= chosen
            pending.setdefault(rule.key, []).append((key, RuleOutcome(
                action=rule.key, fired=blocked is None, blocked_by=blocked, evidence=evidence,  # type: ignore[arg-type]
                audience=int(chosen.sum()), treatment=0, control=0, expected_value=0.0)))
        if not assigned.any():
            for key, outcome in pending[rule.key]:
                outcomes[key].append(outcome)
            continue
        rows = np.flatnonzero(assigned)
        n = rows.size
        mean_p = float(p[rows].mean())
        control, needed, testable, audience_needed = control_size(n, mean_p, config)
        rng = np.random.default_rng([random_state, zlib.crc32(rule.key.encode())])
        in_control = _draw_control(seg[rows], control, rng)
        group = np.where(in_control, "control", "treatment")
        treat = rows[~in_control]
        econ = config.economics(rule.key)
        cost_of = np.where(channel[rows] == "contact", econ.contact_cost or 0.0, econ.site_cost or 0.0)
        save_of = np.where(channel[rows] == "contact", econ.contact_save_rate, econ.site_save_rate)
        stake = p[rows] * profit[rows]
        t_mask = ~in_control
        cost, stake_t = float(cost_of[t_mask].sum()), float(stake[t_mask].sum())
        expected = float(value[treat].sum())
        for cond_i, cond in enumerate(rule.conditions[:2]):
            ref = float(frame[cond.feature].to_numpy(dtype=float).mean()) if cond.level is None else float("nan")
            vals = frame[cond.feature].to_numpy()[rows] if cond.level is None else np.full(n, np.nan)
            rows_refs.append((np.asarray(vals, dtype=float), np.full(n, ref)))
        while len(rows_refs) < 2:
            rows_refs.append((np.full(n, np.nan), np.full(n, np.nan)))
        tables.append(pd.DataFrame({
            "id": ids[rows], "segment": seg[rows], "action": rule.key, "channel": channel[rows].astype(str),
            "group": group, "expected_value": np.round(value[rows], 4), "probability": np.round(p[rows], 4),
            "profit": profit[rows],
            "value_1": rows_refs[0][0], "reference_1": np.round(rows_refs[0][1], 4),
            "value_2": rows_refs[1][0], "reference_2": np.round(rows_refs[1][1], 4),
        }))
        for key, outcome in pending[rule.key]:
            members = seg[rows] == key
            outcomes[key].append(outcome.model_copy(update={
                "treatment": int((members & t_mask).sum()), "control": int((members & in_control).sum()),
                "expected_value": round(float(value[rows][members & t_mask].sum()), 2)}))
        counts = pd.Series(seg[rows]).value_counts()
        plans.append(ActionPlan(
            action=rule.key, discount=rule.discount,
            channels=tuple(c for c in ("contact", "site") if (channel[rows] == c).any()),  # type: ignore[arg-type]
            segments={k: int(counts.get(k, 0)) for k, *_ in SEGMENTS if counts.get(k, 0)},
            audience=n, audience_contact=int((channel[rows] == "contact").sum()),
            audience_site=int((channel[rows] == "site").sum()),
            treatment=int(t_mask.sum()), control=int(in_control.sum()), mean_probability=round(mean_p, 4),
            cost=round(cost, 2), expected_value=round(expected, 2), value_at_stake=round(stake_t, 2),
            break_even_save_rate=round(cost / stake_t, 4) if stake_t > 0 else None,
            save_rate=round(float((save_of[t_mask] * stake[t_mask]).sum() / stake_t), 4) if stake_t > 0 else 0.0,
            control_needed=needed, testable=testable, audience_needed=audience_needed,
            mde=(None if (m := minimal_detectable_effect(int(t_mask.sum()), control, mean_p, config)) is None
                 else round(m, 4)),
        ))

    table = (pd.concat(tables, ignore_index=True) if tables
             else pd.DataFrame({c: pd.Series(dtype=float) for c in ACTION_COLUMNS}))
    table = table.sort_values(["id", "action"], kind="stable").reset_index(drop=True)
    _check_consistent(table, consent_ids=set(ids[consent].tolist()))
    plans.sort(key=lambda a: (-a.expected_value, a.action))
    treated = table[table["group"] == "treatment"]
    output = ActionsOutput(result=ActionsResult(
        plans=tuple(plans),
        rules=tuple(SegmentRules(segment=k, outcomes=tuple(v)) for k, v in outcomes.items()),
        top=tuple(a.action for a in plans if a.expected_value > 0 and a.treatment > 0)[: config.top_actions],
        n_rows=len(table), n_customers=int(table["id"].nunique()), n_treatment=len(treated),
        n_control=int((table["group"] == "control").sum()), offers=int(treated["id"].nunique()),
        cost=round(sum(a.cost for a in plans), 2), expected_value=round(sum(a.expected_value for a in plans), 2),
        contact_without_consent=int(((table["channel"] == "contact") & ~table["id"].isin(ids[consent])).sum()),
    ), table=table)
    return output


def _check_consistent(table: pd.DataFrame, *, consent_ids: set[int]) -> None:
    """Invariants of the assignment (a failure is a bug, not bad input)."""
    contact = table[table["channel"] == "contact"]
    if not contact["id"].isin(consent_ids).all():
        raise AssertionError("a contact action was assigned to a customer without consent")
    discount = {r.key for r in ACTION_RULES if r.discount}
    no_discount = {r.key for r in ACTION_RULES if r.risk == "low"}
    both = set(table.loc[table["action"].isin(discount), "id"]) & set(table.loc[table["action"].isin(no_discount), "id"])
    if both:
        raise AssertionError(f"customers {sorted(both)[:5]} got a discount and «no discounts»")


# ------------------------------------------------------------------------------------ effects
def _wilson(successes: int, n: int, z: float) -> tuple[float, float]:
    p = successes / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return float(centre - half), float(centre + half)


def newcombe_interval(x1: int, n1: int, x2: int, n2: int, *, alpha: float = 0.05) -> tuple[float, float]:
    """Newcombe's hybrid score interval (method 10) for ``x1/n1 − x2/n2``."""
    from scipy.stats import norm

    z = float(norm.ppf(1 - alpha / 2))
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = _wilson(x1, n1, z)
    l2, u2 = _wilson(x2, n2, z)
    d = p1 - p2
    return (float(d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)), float(d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)))


def two_proportion_p_value(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test (1 when the pooled rate is 0 or 1)."""
    from scipy.stats import norm

    pooled = (x1 + x2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    return float(2 * norm.sf(abs((x1 / n1 - x2 / n2) / se)))


def measure_effects(previous_actions: pd.DataFrame, declined: pd.Series, *, alpha: float) -> tuple[ActionEffect, ...]:
    """Last month's actions measured on this month's decline, treatment against control.

    Parameters
    ----------
    previous_actions : pandas.DataFrame
        Last month's ``actions.csv`` (columns ``id``, ``action``, ``group``).
    declined : pandas.Series
        This month's target of the analysed customers (1 = activity declined), indexed by id.
    alpha : float
        1 − confidence of the interval.
    """
    missing = [c for c in ("id", "action", "group") if c not in previous_actions.columns]
    if missing:
        raise ValueError(f"the previous actions lack the column(s) {missing}")
    effects = []
    for action, rows in previous_actions.groupby("action", sort=True):
        found = rows["id"].isin(declined.index)
        matched = rows[found]
        y = declined.reindex(matched["id"]).to_numpy(dtype=int)
        is_t = (matched["group"] == "treatment").to_numpy()
        is_c = (matched["group"] == "control").to_numpy()
        n_t, n_c = int(is_t.sum()), int(is_c.sum())
        x_t, x_c = int(y[is_t].sum()), int(y[is_c].sum())
        if n_t and n_c:
            rate_t, rate_c = x_t / n_t, x_c / n_c
            lo, hi = newcombe_interval(x_t, n_t, x_c, n_c, alpha=alpha)
            diff, ci, pv = rate_t - rate_c, (round(lo, 4), round(hi, 4)), round(two_proportion_p_value(x_t, n_t, x_c, n_c), 4)
        else:
            rate_t = x_t / n_t if n_t else None
            rate_c = x_c / n_c if n_c else None
            diff, ci, pv = None, None, None
        effects.append(ActionEffect(
            action=str(action), n_treatment=n_t, n_control=n_c,
            decline_rate_treatment=None if rate_t is None else round(rate_t, 4),
            decline_rate_control=None if rate_c is None else round(rate_c, 4),
            difference=None if diff is None else round(diff, 4), difference_ci95=ci, p_value=pv,
            n_gone=int((~found).sum()), significant=ci is not None and (ci[0] > 0 or ci[1] < 0)))
    return tuple(effects)
