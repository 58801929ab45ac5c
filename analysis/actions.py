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
from statistics import NormalDist
from typing import Literal, TypedDict

import numpy as np
import pandas as pd

from analysis.config import ActionsConfig
from analysis.results import ActionEffect, ActionPlan, ActionsResult, RuleEvidence, RuleOutcome, SegmentRules
from analysis.segments import SEGMENTS, cohens_d, cohens_h, relative_threshold, segment_codes

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
#: The condition "feature" that is the model's predicted probability of a decline.
PROBABILITY = "probability"
_Z = NormalDist()

#: Columns of the per-customer action table (``actions.csv`` adds the worded ``reason``).
ACTION_COLUMNS: tuple[str, ...] = (
    "id", "segment", "action", "channel", "group", "expected_value", "probability", "profit", "cost", "save_rate",
    "value_1", "reference_1", "value_2", "reference_2",
)


@dataclass(frozen=True, slots=True)
class Condition:
    """A feature of a rule and the direction of the rule's customers on it.

    ``level``: the feature is a category and the condition is having that level. ``share``: the
    feature's values are shares (printed as percentages). ``feature="probability"``: the model's
    own prediction (its SHAP value is the sum over the features), the customer's cut being the
    segments' risk threshold.
    """

    feature: str
    direction: Literal["high", "low"]
    level: str | None = None
    share: bool = False


@dataclass(frozen=True, slots=True)
class ActionRule:
    """One action: its conditions, the segments it is for and whether it gives an incentive."""

    key: str
    conditions: tuple[Condition, ...]
    risk: Literal["high", "low"]
    discount: bool


#: The actions, in the order they are evaluated.
ACTION_RULES: tuple[ActionRule, ...] = (
    ActionRule("promo_cart", (Condition("promo_share", "high", share=True), Condition("unpaid_items", "high")),
               risk="high", discount=True),
    ActionRule("personalised_home", (Condition("pages_per_visit", "low"),), risk="high", discount=False),
    ActionRule("premium_trial", (Condition("service_type", "high", level="премиум", share=True),), risk="high",
               discount=True),
    ActionRule("more_communication", (Condition("marketing_6m", "low"),), risk="high", discount=False),
    ActionRule("fix_service", (Condition("service_errors", "high"),), risk="high", discount=True),
    ActionRule("keep_and_grow", (Condition(PROBABILITY, "low", share=True),), risk="low", discount=False),
)


@dataclass(frozen=True, slots=True)
class ActionsOutput:
    """The summary for the results, the per-customer table (``ACTION_COLUMNS``) and each analysed
    customer's offer: ``offer_codes[i]`` is the position in :data:`ACTION_RULES` of the treatment
    action with the highest expected value of customer ``ids[i]`` (ties: the earlier rule), −1 for
    none."""

    result: ActionsResult
    table: pd.DataFrame
    ids: np.ndarray
    offer_codes: np.ndarray

    def offers(self) -> pd.Series:
        """Each customer's treatment action with the highest expected value (id → action), by id."""
        has = self.offer_codes >= 0
        ids, codes = self.ids[has], self.offer_codes[has]
        order = np.argsort(ids, kind="stable")
        keys = np.asarray([r.key for r in ACTION_RULES], dtype=object)
        return pd.Series(keys[codes[order]], index=ids[order], name="offer")

    def offer_column(self) -> pd.Categorical:
        """The offer of every analysed customer, in the order of ``ids``: the action's key, or ``""``."""
        return pd.Categorical.from_codes(self.offer_codes.astype(np.int8) + 1,
                                         categories=["", *(r.key for r in ACTION_RULES)])


# ------------------------------------------------------------------------------ rule evidence
@dataclass(frozen=True, slots=True)
class _Feature:
    """A condition's columns, computed once for all segments: values (or the level's indicator),
    SHAP values and the per-customer cut."""

    values: np.ndarray
    shap: np.ndarray
    cut: float | None
    meets: np.ndarray

    @classmethod
    def of(cls, cond: Condition, frame: pd.DataFrame, shap: pd.DataFrame, probability: np.ndarray,
           config: ActionsConfig, risk_threshold: float) -> _Feature:
        if cond.feature == PROBABILITY:
            total = shap.to_numpy(dtype=float).sum(axis=1)  # NaN where a customer has no SHAP values
            meets = probability < risk_threshold if cond.direction == "low" else probability >= risk_threshold
            return cls(values=probability, shap=total, cut=risk_threshold, meets=meets)
        column = shap[cond.feature].to_numpy(dtype=float)
        if cond.level is not None:
            has = (frame[cond.feature] == cond.level).to_numpy()
            return cls(values=has.astype(float), shap=column, cut=None, meets=has)
        values = frame[cond.feature].to_numpy(dtype=float)
        cut = relative_threshold(frame[cond.feature], direction=cond.direction, quantile=config.customer_quantile)
        meets = values >= cut if cond.direction == "high" else values <= cut
        return cls(values=values, shap=column, cut=cut, meets=meets)


def _evidence(cond: Condition, feature: _Feature, in_segment: np.ndarray, *, risk: str,
              config: ActionsConfig) -> RuleEvidence:
    """The segment against the other customers on one condition, and the model's direction.

    The mean SHAP value is taken over the segment's customers who have SHAP values (every customer
    for tree models; an explained sample otherwise); for a high-risk rule the model agrees when it
    is positive (the feature raises the predicted risk there), for the low-risk rule when negative.
    """
    sign = 1.0 if cond.direction == "high" else -1.0
    inside, outside = feature.values[in_segment], feature.values[~in_segment]
    seg_v = float(inside.mean()) if inside.size else 0.0
    oth_v = float(outside.mean()) if outside.size else 0.0
    if cond.level is not None:
        effect, measure = sign * cohens_h(seg_v, oth_v), "cohens_h"
        rows = in_segment & feature.meets  # the SHAP of having the level, among those who have it
    else:
        effect, measure = sign * cohens_d(inside, outside), "cohens_d"
        rows = in_segment
    explained = feature.shap[rows]
    explained = explained[np.isfinite(explained)]
    mean_shap = float(explained.mean()) if explained.size else None
    agrees = mean_shap is not None and (mean_shap > 0 if risk == "high" else mean_shap < 0)
    return RuleEvidence(
        feature=cond.feature, level=cond.level, direction=cond.direction, share=cond.share,
        segment_value=round(seg_v, 4), others_value=round(oth_v, 4), effect_measure=measure,  # type: ignore[arg-type]
        effect_size=round(effect, 3), effect_size_min=config.effect_size_min,
        mean_shap=None if mean_shap is None else round(mean_shap, 5), n_shap=int(explained.size),
        customer_threshold=None if feature.cut is None else round(feature.cut, 4),
        separates=effect >= config.effect_size_min, model_agrees=agrees,
    )


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

    z = _Z.inv_cdf(1 - config.alpha / 2) + _Z.inv_cdf(config.power)
    p0 = min(max(mean_probability, 1e-6), 1 - 1e-6)
    p1 = min(max(p0 - config.min_effect, 1e-6), 1 - 1e-6)
    v0, v1 = p0 * (1 - p0), p1 * (1 - p1)
    share = config.control_share_max
    audience_needed = int(np.ceil(z**2 * (v0 / share + v1 / (1 - share)) / config.min_effect**2))
    if audience < 2:  # one customer cannot be split into two groups
        return 0, int(np.ceil(audience_needed * share)), False, max(audience_needed, 2)
    cap = max(1, int(np.floor(share * audience)))
    c = np.arange(1, audience, dtype=float)
    ok = config.min_effect / np.sqrt(v0 / c + v1 / (audience - c)) >= z
    # the smallest control the audience allows, if any (the condition is not monotone near the end)
    feasible = np.flatnonzero(ok)
    needed_here = int(c[feasible[0]]) if feasible.size else None
    if needed_here is not None and needed_here <= cap:
        return needed_here, needed_here, True, None
    needed = needed_here if needed_here is not None else int(np.ceil(z**2 * (v0 + v1) / config.min_effect**2))
    return cap, needed, False, max(audience_needed, audience + 1)


def minimal_detectable_effect(treatment: int, control: int, mean_probability: float,
                              config: ActionsConfig) -> float | None:
    """The smallest drop in the decline rate the groups detect (at ``alpha`` with ``power``).

    The same test as :func:`control_size`: the control's rate is the audience's mean probability
    ``p0``, the treatment's ``p0 − δ``; ``δ`` solves ``δ = z · √(p0(1−p0)/control + (p0−δ)(1−p0+δ)/treatment)``
    (by bisection; the right side changes slowly with ``δ``). ``None`` when even ``δ = p0`` is not
    detectable, or a group is empty. So ``mde ≤ min_effect`` exactly when the groups are testable.
    """
    if treatment < 1 or control < 1:
        return None
    z = _Z.inv_cdf(1 - config.alpha / 2) + _Z.inv_cdf(config.power)
    p0 = min(max(mean_probability, 1e-6), 1 - 1e-6)

    def gap(delta: float) -> float:
        p1 = min(max(p0 - delta, 1e-6), 1 - 1e-6)
        return delta - z * float(np.sqrt(p0 * (1 - p0) / control + p1 * (1 - p1) / treatment))

    if gap(p0) < 0:
        return None
    lo, hi = 0.0, p0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if gap(mid) < 0 else (lo, mid)
    return hi


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
#: Channel codes of the per-customer arrays (``CHANNELS[code]``; 0: the customer cannot be reached).
CHANNELS: tuple[str, ...] = ("", "contact", "site")
GROUPS: tuple[str, ...] = ("treatment", "control")


def _channel_values(rule: ActionRule, stake: np.ndarray, consent: np.ndarray,
                    config: ActionsConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per customer: the best channel's code and its expected value; per channel code: the cost and
    the save rate (``cost[code]``: no per-customer copies of two constants)."""
    econ = config.economics(rule.key)
    n = stake.size
    if econ.site_cost is not None:
        code = np.full(n, 2, dtype=np.int8)
        value = stake * econ.site_save_rate - econ.site_cost
    else:
        code, value = np.zeros(n, dtype=np.int8), np.full(n, -np.inf)
    if econ.contact_cost is not None:
        contact = np.where(consent, stake * econ.contact_save_rate - econ.contact_cost, -np.inf)
        better = contact > value
        code = np.where(better, np.int8(1), code).astype(np.int8, copy=False)
        value = np.where(better, contact, value)
    cost = np.array([0.0, econ.contact_cost or 0.0, econ.site_cost or 0.0])
    save = np.array([0.0, econ.contact_save_rate if econ.contact_cost is not None else 0.0,
                     econ.site_save_rate if econ.site_cost is not None else 0.0])
    return code, value, cost, save


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
    # aligned by id: a lookup only when the indexes differ (at ten million customers each costs seconds)
    p = (probability if probability.index.equals(frame.index) else probability.reindex(frame.index)).to_numpy(
        dtype=float)
    profit = frame["profit"].to_numpy(dtype=float)
    stake = p * profit
    consent = (frame["allow_messages"] == CONSENT).to_numpy()
    keys = tuple(key for key, *_ in SEGMENTS)
    seg = segment_codes(segment_of if segment_of.index.equals(frame.index) else segment_of.reindex(frame.index))
    if not shap.index.equals(frame.index):
        shap = shap.reindex(frame.index)
    risk_of = {key: risk for key, risk, _ in SEGMENTS}
    in_segments = [seg == k for k in range(len(keys))]

    outcomes: dict[str, list[RuleOutcome]] = {key: [] for key in keys}
    parts: list[dict[str, np.ndarray]] = []  # each rule's rows of the table, as arrays
    plans: list[ActionPlan] = []
    best_value = np.full(ids.size, -np.inf)  # each customer's best treatment offer so far
    offer_codes = np.full(ids.size, -1, dtype=np.int8)
    for action_code, rule in enumerate(ACTION_RULES):
        code, value, channel_cost, channel_save = _channel_values(rule, stake, consent, config)
        features = [_Feature.of(c, frame, shap, p, config, risk_threshold) for c in rule.conditions]
        meets = np.ones(ids.size, dtype=bool)
        for f in features:
            meets &= f.meets
        reachable = meets & (value > config.min_expected_value) & (code > 0)
        assigned = np.zeros(ids.size, dtype=bool)
        pending: list[RuleOutcome] = []
        for k, key in enumerate(keys):
            in_segment = in_segments[k]
            evidence = tuple(_evidence(c, f, in_segment, risk=rule.risk, config=config)
                             for c, f in zip(rule.conditions, features, strict=True))
            blocked: str | None = None
            chosen = np.zeros(0, dtype=bool)
            if not in_segment.any():
                blocked = "empty"
            elif risk_of[key] != rule.risk:
                blocked = "risk"
            elif not all(e.separates for e in evidence):
                blocked = "separation"
            elif any(e.mean_shap is None for e in evidence):
                blocked = "shap_unknown"
            elif not all(e.model_agrees for e in evidence):
                blocked = "model"
            elif not (in_segment & meets).any():
                blocked = "customers"
            else:
                chosen = in_segment & reachable
                assigned |= chosen
                if not chosen.any():
                    blocked = "value"
            pending.append(RuleOutcome(
                action=rule.key, fired=blocked is None, blocked_by=blocked, evidence=evidence,  # type: ignore[arg-type]
                audience=int(chosen.sum()), treatment=0, control=0, expected_value=0.0))
        rows = np.flatnonzero(assigned)
        if not rows.size:
            for key, outcome in zip(keys, pending, strict=True):
                outcomes[key].append(outcome)
            continue
        n = rows.size
        mean_p = float(p[rows].mean())
        control, needed, testable, audience_needed = control_size(n, mean_p, config)
        rng = np.random.default_rng([random_state, zlib.crc32(rule.key.encode())])
        in_control = _draw_control(seg[rows], control, rng)
        treated = ~in_control
        value_r, seg_r, code_r = value[rows], seg[rows], code[rows]
        cost_r, save_r = channel_cost[code_r], channel_save[code_r]
        for k, (key, outcome) in enumerate(zip(keys, pending, strict=True)):
            members = seg_r == k
            outcomes[key].append(outcome.model_copy(update={
                "treatment": int((members & treated).sum()), "control": int((members & in_control).sum()),
                "expected_value": round(float(value_r[members & treated].sum()), 2)}))
        numeric = [(c, f) for c, f in zip(rule.conditions, features, strict=True)
                   if c.level is None and c.feature != PROBABILITY][:2]
        refs = {}
        for i in (1, 2):
            if i <= len(numeric):
                _, f = numeric[i - 1]
                refs[f"value_{i}"] = f.values[rows]
                refs[f"reference_{i}"] = np.full(n, round(float(f.values.mean()), 4))
            else:
                refs[f"value_{i}"] = refs[f"reference_{i}"] = np.full(n, np.nan)
        rounded = np.round(value_r, 4)
        parts.append({
            "position": rows, "segment": seg_r, "action": np.full(n, action_code, dtype=np.int8), "channel": code_r,
            "group": in_control.astype(np.int8), "expected_value": rounded, "probability": np.round(p[rows], 4),
            "profit": profit[rows], "cost": cost_r, "save_rate": save_r, **refs,
        })
        # the offer: the treatment action of the highest expected value (as the table rounds it);
        # rules run in ACTION_RULES order, so a tie keeps the earlier rule
        better = treated & (rounded > best_value[rows])
        best_value[rows[better]] = rounded[better]
        offer_codes[rows[better]] = action_code
        stake_t, cost = float(stake[rows][treated].sum()), float(cost_r[treated].sum())
        by_segment = np.bincount(seg_r, minlength=len(keys))
        n_treated = int(treated.sum())
        plans.append(ActionPlan(
            action=rule.key, discount=rule.discount,
            channels=tuple(CHANNELS[c] for c in (1, 2) if (code_r == c).any()),  # type: ignore[misc]
            segments={key: int(by_segment[k]) for k, key in enumerate(keys) if by_segment[k]},
            audience=n, audience_contact=int((code_r == 1).sum()), audience_site=int((code_r == 2).sum()),
            treatment_contact=int(((code_r == 1) & treated).sum()), treatment_site=int(((code_r == 2) & treated).sum()),
            treatment=n_treated, control=int(in_control.sum()), mean_probability=round(mean_p, 4),
            cost=round(cost, 2), expected_value=round(float(value_r[treated].sum()), 2),
            value_at_stake=round(stake_t, 2),
            break_even_save_rate=round(cost / stake_t, 4) if stake_t > 0 else None,
            save_rate=round(float((save_r[treated] * stake[rows][treated]).sum() / stake_t), 4)
            if stake_t > 0 else 0.0,
            control_needed=needed, testable=testable, audience_needed=audience_needed,
            mde=(None if (m := minimal_detectable_effect(n_treated, control, mean_p, config)) is None
                 else round(m, 4)),
        ))

    table, summary = _table(parts, ids=ids, consent=consent, keys=keys)
    plans.sort(key=lambda a: (-a.expected_value, a.action))
    return ActionsOutput(result=ActionsResult(
        plans=tuple(plans),
        rules=tuple(SegmentRules(segment=k, outcomes=tuple(v)) for k, v in outcomes.items()),
        top=tuple(a.action for a in plans if a.expected_value > 0 and a.treatment > 0)[: config.top_actions],
        cost=round(sum(a.cost for a in plans), 2),
        expected_value_separate=round(sum(a.expected_value for a in plans), 2), **summary,
    ), table=table, ids=ids, offer_codes=offer_codes)


def _kahan_group_sum(values: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Per group of consecutive ``values`` (group ``g``: ``starts[g]`` … ``+ sizes[g]``), the
    compensated (Kahan) sum in row order: the same number as pandas' ``groupby(...).sum()``."""
    total = np.zeros(starts.size)
    compensation = np.zeros(starts.size)
    for r in range(int(sizes.max()) if sizes.size else 0):  # r-th row of every group at once
        groups = np.flatnonzero(sizes > r)
        y = values[starts[groups] + r] - compensation[groups]
        t = total[groups] + y
        c = (t - total[groups]) - y
        compensation[groups] = np.where(np.isnan(c), 0.0, c)
        total[groups] = t
    return total


class _Counts(TypedDict):
    """What the per-customer table says for :class:`ActionsResult`."""

    n_rows: int
    n_customers: int
    n_treatment: int
    n_control: int
    offers: int
    treatment_contact: int
    treatment_site: int
    customers_several: int
    expected_value: float
    contact_without_consent: int


def _table(parts: list[dict[str, np.ndarray]], *, ids: np.ndarray, consent: np.ndarray,
           keys: tuple[str, ...]) -> tuple[pd.DataFrame, _Counts]:
    """The per-customer table (one row per customer and action, by id then rule) from each rule's
    rows, and the counts of :class:`ActionsResult` it implies, all on arrays (no Python per row)."""
    if not parts:
        table = pd.DataFrame({c: pd.Series(dtype=float) for c in ACTION_COLUMNS})
        return table, {"n_rows": 0, "n_customers": 0, "n_treatment": 0, "n_control": 0, "offers": 0,
                       "treatment_contact": 0, "treatment_site": 0, "customers_several": 0, "expected_value": 0.0,
                       "contact_without_consent": 0}
    # rules in ACTION_RULES order, each in customer order: a stable sort by id orders by (id, action)
    position = np.concatenate([part["position"] for part in parts])
    order = np.argsort(ids[position], kind="stable")
    column = {name: np.concatenate([part[name] for part in parts])[order] for name in parts[0]}
    position = column.pop("position")
    action, channel, group = column["action"], column["channel"], column["group"]
    without_consent = int(((channel == 1) & ~consent[position]).sum())
    _check_consistent(position, action, ids=ids, contact_without_consent=without_consent)
    table = pd.DataFrame({
        "id": ids[position], "segment": pd.Categorical.from_codes(column.pop("segment"), categories=keys),
        "action": pd.Categorical.from_codes(column.pop("action"), categories=[r.key for r in ACTION_RULES]),
        "channel": pd.Categorical.from_codes(column.pop("channel"), categories=CHANNELS),
        "group": pd.Categorical.from_codes(column.pop("group"), categories=GROUPS), **column,
    })  # in ACTION_COLUMNS order

    treated = group == 0
    t_position = position[treated]
    # the treated rows of one customer are consecutive (the table is sorted by id)
    first = np.flatnonzero(np.r_[True, t_position[1:] != t_position[:-1]]) if t_position.size else np.zeros(0, int)
    sizes = np.diff(np.r_[first, t_position.size])
    # a customer with several treatment actions: their save rates combine as 1 − Π(1 − s), never add up
    kept = np.ones(ids.size)
    np.multiply.at(kept, t_position, 1.0 - column["save_rate"][treated])
    stake = column["probability"][treated][first]  # the table's (rounded) probability, as before
    profit = column["profit"][treated][first]
    cost = _kahan_group_sum(column["cost"][treated], first, sizes)
    combined = float((stake * profit * (1.0 - kept[t_position[first]]) - cost).sum())
    listed = np.zeros(ids.size, dtype=bool)
    listed[position] = True
    return table, {
        "n_rows": int(position.size), "n_customers": int(listed.sum()),
        "n_treatment": int(treated.sum()), "n_control": int((~treated).sum()), "offers": int(first.size),
        "treatment_contact": int((treated & (channel == 1)).sum()),
        "treatment_site": int((treated & (channel == 2)).sum()),
        "customers_several": int((sizes > 1).sum()), "expected_value": round(combined, 2),
        "contact_without_consent": without_consent,
    }


def _check_consistent(position: np.ndarray, action: np.ndarray, *, ids: np.ndarray,
                      contact_without_consent: int) -> None:
    """Invariants of the assignment (a failure is a bug, not bad input)."""
    if contact_without_consent:
        raise AssertionError("a contact action was assigned to a customer without consent")
    codes = np.asarray([[r.discount, r.risk == "low"] for r in ACTION_RULES], dtype=bool)
    discount = np.zeros(ids.size, dtype=bool)
    discount[position[codes[action, 0]]] = True
    no_discount = np.zeros(ids.size, dtype=bool)
    no_discount[position[codes[action, 1]]] = True
    both = np.sort(ids[discount & no_discount])
    if both.size:
        raise AssertionError(f"customers {both[:5].tolist()} got a discount and «no discounts»")


# ------------------------------------------------------------------------------------ effects
def _wilson(successes: int, n: int, z: float) -> tuple[float, float]:
    p = successes / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return float(centre - half), float(centre + half)


def newcombe_interval(x1: int, n1: int, x2: int, n2: int, *, alpha: float = 0.05) -> tuple[float, float]:
    """Newcombe's hybrid score interval (method 10) for ``x1/n1 − x2/n2``."""

    z = float(_Z.inv_cdf(1 - alpha / 2))
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = _wilson(x1, n1, z)
    l2, u2 = _wilson(x2, n2, z)
    d = p1 - p2
    return (float(d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)), float(d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)))


def two_proportion_p_value(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test (1 when the pooled rate is 0 or 1)."""

    pooled = (x1 + x2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    return float(2 * _Z.cdf(-abs((x1 / n1 - x2 / n2) / se)))


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
        rate_t = x_t / n_t if n_t else None
        rate_c = x_c / n_c if n_c else None
        if rate_t is not None and rate_c is not None:
            lo, hi = newcombe_interval(x_t, n_t, x_c, n_c, alpha=alpha)
            diff, ci = rate_t - rate_c, (round(lo, 4), round(hi, 4))
            pv = round(two_proportion_p_value(x_t, n_t, x_c, n_c), 4)
        else:
            diff, ci, pv = None, None, None
        effects.append(ActionEffect(
            action=str(action), n_treatment=n_t, n_control=n_c,
            decline_rate_treatment=None if rate_t is None else round(rate_t, 4),
            decline_rate_control=None if rate_c is None else round(rate_c, 4),
            difference=None if diff is None else round(diff, 4), difference_ci95=ci, p_value=pv,
            n_gone=int((~found).sum()), significant=ci is not None and (ci[0] > 0 or ci[1] < 0)))
    return tuple(effects)
