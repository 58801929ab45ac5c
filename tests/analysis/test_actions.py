"""Actions per customer: rules the model supports, consent, economics, control groups, effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.actions import (
    ACTION_COLUMNS,
    ACTION_RULES,
    ActionsOutput,
    control_size,
    measure_effects,
    minimal_detectable_effect,
    newcombe_interval,
    run_actions,
    two_proportion_p_value,
)
from analysis.config import ActionsConfig
from analysis.schema import FEATURES

N = 400


def _customers(*, seed: int = 0) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """400 customers: the first half high-risk («retain_profitable») with few pages per visit."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1000, 1000 + N)
    high = np.arange(N) < N // 2
    frame = pd.DataFrame({
        "service_type": np.where(rng.random(N) < 0.3, "премиум", "стандарт"),
        "allow_messages": np.where(rng.random(N) < 0.7, "да", "нет"),
        "marketing_6m": rng.normal(4.0, 1.0, N), "marketing_current": rng.integers(3, 6, N),
        "tenure_days": rng.integers(100, 1000, N), "promo_share": rng.uniform(0.1, 0.9, N),
        "popular_category": "Кухонная посуда", "categories_per_visit": rng.integers(1, 6, N),
        "unpaid_items": rng.integers(0, 8, N), "service_errors": rng.integers(0, 9, N),
        "pages_per_visit": np.where(high, rng.integers(1, 7, N), rng.integers(6, 16, N)),
        "minutes_prev": rng.integers(5, 20, N), "minutes_current": rng.integers(5, 20, N),
        "revenue_prev2": 5000.0, "revenue_prev": 5000.0, "revenue_current": 5000.0,
        "profit": rng.uniform(3.0, 6.0, N), "target": rng.integers(0, 2, N),
    }, index=pd.Index(ids, name="id"))
    probability = pd.Series(np.where(high, 0.85, 0.15), index=frame.index)
    segments = pd.Series(np.where(high, "retain_profitable", "loyal_profitable"), index=frame.index)
    return frame, probability, segments


def _shap(frame: pd.DataFrame, *, pages_sign: float) -> pd.DataFrame:
    """SHAP values: ``pages_sign`` for pages per visit in the high-risk half; in the low-risk half
    the features lower the risk (their sum is negative)."""
    values = pd.DataFrame(0.0, index=frame.index, columns=list(FEATURES))
    values.loc[frame.index[: N // 2], "pages_per_visit"] = pages_sign * 0.05
    values.loc[frame.index[N // 2:], "minutes_prev"] = -0.2
    return values


def _run(frame: pd.DataFrame, probability: pd.Series, segments: pd.Series, shap: pd.DataFrame,
         config: ActionsConfig | None = None) -> ActionsOutput:
    return run_actions(frame, probability, segments, shap, config=config or ActionsConfig(), risk_threshold=0.5,
                       random_state=7)


def _outcome(output, segment: str, action: str):  # noqa: ANN001, ANN202
    return next(o for o in output.result.rules_of(segment).outcomes if o.action == action)


def test_a_rule_fires_only_where_the_feature_separates_and_the_model_agrees() -> None:
    frame, p, seg = _customers()
    agrees = _run(frame, p, seg, _shap(frame, pages_sign=1.0))
    fired = _outcome(agrees, "retain_profitable", "personalised_home")
    assert fired.fired and fired.blocked_by is None
    (ev,) = fired.evidence
    assert ev.feature == "pages_per_visit" and ev.effect_measure == "cohens_d"
    assert ev.effect_size >= ActionsConfig().effect_size_min and ev.separates
    assert ev.mean_shap > 0 and ev.model_agrees
    # the same separation, but the model says fewer pages lower the risk: the rule must not fire
    disagrees = _run(frame, p, seg, _shap(frame, pages_sign=-1.0))
    blocked = _outcome(disagrees, "retain_profitable", "personalised_home")
    assert not blocked.fired and blocked.blocked_by == "model" and blocked.audience == 0
    assert "personalised_home" not in set(disagrees.table["action"])
    # a feature that does not separate the segment (service errors are drawn alike) never fires
    assert _outcome(agrees, "retain_profitable", "fix_service").blocked_by == "separation"
    # a high-risk rule is not evaluated for a low-risk segment, and keep-and-grow is for those only
    assert _outcome(agrees, "loyal_profitable", "personalised_home").blocked_by == "risk"
    assert _outcome(agrees, "retain_profitable", "keep_and_grow").blocked_by == "risk"


def test_customers_get_an_action_by_their_own_values() -> None:
    frame, p, seg = _customers()
    out = _run(frame, p, seg, _shap(frame, pages_sign=1.0))
    rows = out.table[out.table["action"] == "personalised_home"]
    cut = _outcome(out, "retain_profitable", "personalised_home").evidence[0].customer_threshold
    assert cut == frame["pages_per_visit"].quantile(1 - ActionsConfig().customer_quantile)
    assert (frame.loc[rows["id"], "pages_per_visit"] <= cut).all()
    members = frame.index[(seg == "retain_profitable").to_numpy()]
    meets = frame.loc[members, "pages_per_visit"] <= cut
    assert set(rows["id"]) == set(members[meets.to_numpy()]), "every qualifying member and no one else"
    assert rows["value_1"].tolist() == frame.loc[rows["id"], "pages_per_visit"].astype(float).tolist()
    assert np.allclose(rows["reference_1"], frame["pages_per_visit"].mean(), atol=1e-4)


def test_contact_needs_consent_and_the_channel_follows_it() -> None:
    frame, p, seg = _customers()
    out = _run(frame, p, seg, _shap(frame, pages_sign=1.0))
    consent = frame["allow_messages"] == "да"
    contact = out.table[out.table["channel"] == "contact"]
    assert len(contact) and consent.loc[contact["id"]].all()
    assert out.result.contact_without_consent == 0
    # keep-and-grow has both variants: customers without consent get it on the site
    kg = out.table[out.table["action"] == "keep_and_grow"]
    assert set(kg.loc[~consent.loc[kg["id"]].to_numpy(), "channel"]) == {"site"}
    assert set(out.table["channel"]) <= {"contact", "site"}


def test_expected_value_is_probability_times_profit_times_save_rate_minus_cost() -> None:
    frame, p, seg = _customers()
    config = ActionsConfig()
    out = _run(frame, p, seg, _shap(frame, pages_sign=1.0), config)
    for row in out.table.itertuples():
        econ = config.economics(row.action)
        cost, save = ((econ.contact_cost, econ.contact_save_rate) if row.channel == "contact"
                      else (econ.site_cost, econ.site_save_rate))
        expected = p.loc[row.id] * frame.loc[row.id, "profit"] * save - cost
        assert row.expected_value == pytest.approx(expected, abs=1e-4)
        assert row.expected_value > config.min_expected_value
    for plan in out.result.plans:
        treated = out.table[(out.table["action"] == plan.action) & (out.table["group"] == "treatment")]
        assert plan.treatment == len(treated) and plan.audience == plan.treatment + plan.control
        assert plan.expected_value == pytest.approx(treated["expected_value"].sum(), abs=0.05)
        assert plan.break_even_save_rate == pytest.approx(plan.cost / plan.value_at_stake, abs=1e-3)
    values = [plan.expected_value for plan in out.result.plans]
    assert values == sorted(values, reverse=True)
    assert list(out.result.top) == [a.action for a in out.result.plans if a.expected_value > 0][: config.top_actions]


def test_offer_is_the_best_treatment_action() -> None:
    frame, p, seg = _customers()
    out = _run(frame, p, seg, _shap(frame, pages_sign=1.0))
    offers = out.offers()
    treated = out.table[out.table["group"] == "treatment"]
    best = treated.loc[treated.groupby("id")["expected_value"].idxmax()].set_index("id")["action"].astype(str)
    assert offers.sort_index().to_dict() == best.to_dict()
    control_only = set(out.table["id"]) - set(treated["id"])
    assert control_only and not control_only & set(offers.index)
    assert out.result.offers == len(offers)


def test_no_discount_and_keep_without_discounts_for_the_same_customer() -> None:
    frame, p, seg = _customers()
    out = _run(frame, p, seg, _shap(frame, pages_sign=1.0))
    discount = {r.key for r in ACTION_RULES if r.discount}
    by_customer = out.table.groupby("id")["action"].agg(set)
    assert not any(actions & discount and "keep_and_grow" in actions for actions in by_customer)


def test_actions_and_groups_do_not_read_the_target() -> None:
    frame, p, seg = _customers()
    shap = _shap(frame, pages_sign=1.0)
    first = _run(frame, p, seg, shap)
    flipped = frame.assign(target=1 - frame["target"])
    second = _run(flipped, p, seg, shap)
    assert first.table.equals(second.table) and first.result == second.result
    third = _run(frame.drop(columns="target"), p, seg, shap)
    assert first.table.equals(third.table)


def test_control_groups_are_seeded_and_stratified_by_segment() -> None:
    frame, p, seg = _customers()
    shap = _shap(frame, pages_sign=1.0)
    out = _run(frame, p, seg, shap)
    assert out.table.equals(_run(frame, p, seg, shap).table)
    other = run_actions(frame, p, seg, shap, config=ActionsConfig(), risk_threshold=0.5, random_state=8)
    assert not out.table["group"].equals(other.table["group"])
    for plan in out.result.plans:
        rows = out.table[out.table["action"] == plan.action]
        assert (rows["group"] == "control").sum() == plan.control > 0
        for segment, n in plan.segments.items():
            in_seg = rows[rows["segment"] == segment]
            assert len(in_seg) == n
            assert abs((in_seg["group"] == "control").sum() - plan.control * n / plan.audience) <= 1


def test_control_size_is_the_smallest_that_reaches_the_power() -> None:
    from scipy.stats import norm

    config = ActionsConfig(min_effect=0.1, alpha=0.05, power=0.8, control_share_max=0.3)
    z = norm.ppf(0.975) + norm.ppf(0.8)

    def detects(c: int, n: int, p0: float) -> bool:
        p1 = p0 - 0.1
        return 0.1 / np.sqrt(p0 * (1 - p0) / c + p1 * (1 - p1) / (n - c)) >= z

    control, needed, testable, audience_needed = control_size(5000, 0.5, config)
    assert testable and control == needed and audience_needed is None
    assert detects(control, 5000, 0.5) and not detects(control - 1, 5000, 0.5)
    assert control <= 0.3 * 5000
    # too small: the capped holdout is still drawn, and the audience it would need is stated
    control, needed, testable, audience_needed = control_size(120, 0.5, config)
    assert not testable and control == 36 and needed > control and audience_needed > 120
    assert detects(int(0.3 * audience_needed), audience_needed, 0.5)
    assert not detects(int(0.3 * (audience_needed - 2)), audience_needed - 2, 0.5)
    mde = minimal_detectable_effect(84, 36, 0.5, config)
    assert mde > 0.1


def test_newcombe_interval_matches_the_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17, example (a): 56/70 vs 48/80, method 10
    lo, hi = newcombe_interval(56, 70, 48, 80)
    assert lo == pytest.approx(0.0524, abs=1e-4) and hi == pytest.approx(0.3339, abs=1e-4)
    assert two_proportion_p_value(56, 70, 48, 80) == pytest.approx(0.0080, abs=5e-4)


def test_a_known_effect_is_recovered_and_no_effect_covers_zero() -> None:
    rng = np.random.default_rng(3)
    n = 6000
    ids = np.arange(n)
    actions = pd.DataFrame({"id": np.tile(ids, 2), "action": np.repeat(["promo_cart", "personalised_home"], n),
                            "group": np.where(rng.random(2 * n) < 0.3, "control", "treatment")})
    treated = actions[(actions["action"] == "promo_cart") & (actions["group"] == "treatment")]["id"]
    p = np.full(n, 0.6)
    p[treated.to_numpy()] -= 0.12
    declined = pd.Series((rng.random(n) < p).astype(int), index=ids)
    gone = declined.index[:40]
    effects = {e.action: e for e in measure_effects(actions, declined.drop(gone), alpha=0.05)}
    promo, home = effects["promo_cart"], effects["personalised_home"]
    assert promo.difference_ci95[0] <= -0.12 <= promo.difference_ci95[1] and promo.significant
    assert promo.difference < 0 and promo.p_value < 0.05
    assert home.difference_ci95[0] <= 0 <= home.difference_ci95[1] and not home.significant
    assert promo.n_gone == home.n_gone == 40
    assert promo.n_treatment + promo.n_control == n - 40
    x_t = declined.drop(gone)[actions[(actions.action == "promo_cart") & (actions.group == "treatment")]["id"]
                              .loc[lambda s: ~s.isin(gone)]].mean()
    assert promo.decline_rate_treatment == pytest.approx(x_t, abs=1e-4)


def test_unexplained_customers_do_not_block_or_decide_the_rule() -> None:
    frame, p, seg = _customers()
    shap = _shap(frame, pages_sign=1.0)
    sampled = shap.copy()
    sampled.iloc[::3] = np.nan  # a non-tree model explains a sample only
    fired = _outcome(_run(frame, p, seg, sampled), "retain_profitable", "personalised_home")
    assert fired.fired and fired.evidence[0].n_shap == len(range(N // 2)) - len(range(0, N // 2, 3))
    unexplained = shap.copy()
    unexplained.iloc[: N // 2] = np.nan
    blocked = _outcome(_run(frame, p, seg, unexplained), "retain_profitable", "personalised_home")
    assert blocked.blocked_by == "shap_unknown" and blocked.evidence[0].mean_shap is None


def test_keep_and_grow_carries_the_models_evidence() -> None:
    frame, p, seg = _customers()
    out = _run(frame, p, seg, _shap(frame, pages_sign=1.0))
    keep = _outcome(out, "loyal_profitable", "keep_and_grow")
    (ev,) = keep.evidence
    assert keep.fired and ev.feature == "probability" and ev.direction == "low"
    assert ev.segment_value == pytest.approx(0.15) and ev.others_value == pytest.approx(0.85)
    assert ev.effect_size >= ActionsConfig().effect_size_min and ev.mean_shap < 0 and ev.model_agrees
    # the same segment where the model's SHAP values raise the risk: no «keep without discounts»
    raised = _shap(frame, pages_sign=1.0)
    raised["minutes_prev"] = 0.2
    assert _outcome(_run(frame, p, seg, raised), "loyal_profitable", "keep_and_grow").blocked_by == "model"


def test_no_customer_meeting_the_condition_is_said_so() -> None:
    frame, p, seg = _customers()
    # the segment views fewer pages on average (5–6 against 1 or 15), but none of its customers is in
    # the lowest quarter of all customers (1 page)
    i = np.arange(N)
    pages = np.where(i < N // 2, 5 + i % 2, np.where(i < N // 2 + 120, 1, 15))
    frame = frame.assign(pages_per_visit=pages)
    outcome = _outcome(_run(frame, p, seg, _shap(frame, pages_sign=1.0)), "retain_profitable", "personalised_home")
    assert outcome.evidence[0].separates and outcome.evidence[0].customer_threshold == 1
    assert outcome.blocked_by == "customers" and outcome.audience == 0


def test_minimal_detectable_effect_agrees_with_the_power_verdict() -> None:
    config = ActionsConfig()
    for audience in (40, 150, 297, 400, 900, 5000):
        for p0 in (0.15, 0.5, 0.93):
            control, _, testable, _ = control_size(audience, p0, config)
            mde = minimal_detectable_effect(audience - control, control, p0, config)
            assert (mde is not None and mde <= config.min_effect + 1e-9) == testable, (audience, p0, mde)


def test_several_actions_of_one_customer_are_not_added_up() -> None:
    frame, p, seg = _customers()
    out = _run(frame, p, seg, _shap(frame, pages_sign=1.0))
    treated = out.table[out.table["group"] == "treatment"]
    expected = 0.0
    for _, rows in treated.groupby("id"):
        stake = rows["probability"].iloc[0] * rows["profit"].iloc[0]
        expected += stake * (1 - np.prod(1 - rows["save_rate"].to_numpy())) - rows["cost"].sum()
    assert out.result.expected_value == pytest.approx(expected, abs=0.05)
    separate = sum(a.expected_value for a in out.result.plans)
    assert out.result.expected_value_separate == pytest.approx(separate, abs=0.05)
    several = (treated.groupby("id").size() > 1).sum()
    assert out.result.customers_several == several
    if several:
        assert out.result.expected_value < out.result.expected_value_separate


def test_table_and_counts_match_their_definitions_on_the_rows() -> None:
    """The table is sorted by id then rule; every count of the result is what its rows say
    (computed here with pandas, row by row, as the definition)."""
    frame, p, seg = _customers()
    high = np.arange(N) < N // 2  # the high-risk half also has more service errors: two actions fire there
    frame["service_errors"] = np.where(high, np.random.default_rng(2).integers(4, 9, N), 1)
    shap = _shap(frame, pages_sign=1.0)
    shap.loc[frame.index[high], "service_errors"] = 0.03
    out = _run(frame, p, seg, shap)
    table, result = out.table, out.result
    assert list(table.columns) == list(ACTION_COLUMNS)
    order = table.sort_values(["id", "action"], kind="stable").index
    assert (order == table.index).all() and not table.duplicated(["id", "action"]).any()
    treated = table[table["group"] == "treatment"]
    kept = (1.0 - treated["save_rate"]).groupby(treated["id"], sort=False).prod()
    per = treated.groupby("id", sort=False).agg(p=("probability", "first"), profit=("profit", "first"),
                                                 cost=("cost", "sum"), rows=("action", "size"))
    combined = float((per["p"] * per["profit"] * (1.0 - kept.loc[per.index]) - per["cost"]).sum())
    assert result.expected_value == round(combined, 2)
    assert result.customers_several == int((per["rows"] > 1).sum()) > 0
    assert (result.n_rows, result.n_customers, result.n_treatment, result.offers) == (
        len(table), table["id"].nunique(), len(treated), treated["id"].nunique())
    assert result.n_control == int((table["group"] == "control").sum())
    assert result.treatment_contact == int((treated["channel"] == "contact").sum())


def test_actions_align_inputs_by_id() -> None:
    frame, p, seg = _customers()
    shap = _shap(frame, pages_sign=1.0)
    aligned = _run(frame, p, seg, shap)
    shuffled = np.random.default_rng(1).permutation(N)
    other = _run(frame, p.iloc[shuffled], seg.iloc[shuffled], shap.iloc[shuffled])
    assert other.result == aligned.result and other.table.equals(aligned.table)
    assert other.offers().equals(aligned.offers())


def test_a_discount_and_keep_and_grow_for_one_customer_is_a_bug() -> None:
    from analysis.actions import _check_consistent

    codes = {r.key: i for i, r in enumerate(ACTION_RULES)}
    ids = np.array([7, 8, 9])
    position = np.array([0, 1, 1, 2])
    action = np.array([codes["promo_cart"], codes["promo_cart"], codes["keep_and_grow"], codes["keep_and_grow"]])
    with pytest.raises(AssertionError, match=r"customers \[8\] got a discount and «no discounts»"):
        _check_consistent(position, action, ids=ids, contact_without_consent=0)
    _check_consistent(position[[0, 3]], action[[0, 3]], ids=ids, contact_without_consent=0)
