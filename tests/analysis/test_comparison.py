"""Tests of the month-over-month comparison (:mod:`analysis.comparison`).

The previous month is the session's real sample run (``analysis_sample``), relabelled 2026-09.
The current month reuses that run's :class:`Results` relabelled 2026-10 (``compare`` reads from it
only the headline numbers, which are passed through) together with a current customer frame and
current scores derived from the real ones: 50 customers gone, 20 new, ``pages_per_visit`` shifted
down for half of the customers and 30 customers moved to another segment. Only the data layer is
re-run (``prepare_data``, ~2 s), never the full pipeline.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.comparison import bin_on_edges, compare, psi
from analysis.config import ComparisonConfig, Config, load_config
from analysis.results import Results

CONFIG = ComparisonConfig()
N_GONE, N_NEW, N_MOVED = 50, 20, 30


def relabel(results: Results, period: str) -> Results:
    """The same results under another reporting month."""
    return results.model_copy(update={"meta": results.meta.model_copy(update={"period": period})})


@pytest.fixture(scope="module")
def frame(sample_dir: Path) -> pd.DataFrame:
    """The analysed customer frame of the sample — the values the sample run's EDA was made of."""
    from analysis.features import prepare_data

    return prepare_data(sample_dir, Config()).frame


@pytest.fixture(scope="module")
def previous(results_sample: Results) -> Results:
    return relabel(results_sample, "2026-09")


@pytest.fixture(scope="module")
def current(results_sample: Results) -> Results:
    return relabel(results_sample, "2026-10")


@pytest.fixture(scope="module")
def month_two(analysis_sample, frame: pd.DataFrame):  # noqa: ANN001, ANN201
    """Current frame and scores: some customers gone, some new, one feature shifted, some moved."""
    scores = analysis_sample.scores
    assert list(scores["id"]) == list(frame.index)
    rng = np.random.default_rng(7)
    gone = rng.choice(frame.index.to_numpy(), size=N_GONE, replace=False)
    kept = frame.drop(index=gone)
    kept_scores = scores[~scores["id"].isin(gone)].copy()

    new_ids = np.arange(frame.index.max() + 1, frame.index.max() + 1 + N_NEW)
    new_rows = kept.iloc[:N_NEW].copy()
    new_rows.index = pd.Index(new_ids, name=frame.index.name)
    new_scores = kept_scores.iloc[:N_NEW].copy()
    new_scores["id"] = new_ids
    cur_frame = pd.concat([kept, new_rows])
    cur_scores = pd.concat([kept_scores, new_scores], ignore_index=True)

    half = rng.choice(cur_frame.index.to_numpy(), size=len(cur_frame) // 2, replace=False)
    cur_frame.loc[half, "pages_per_visit"] = (cur_frame.loc[half, "pages_per_visit"] - 5).clip(lower=1)

    src, dst = sorted(set(scores["segment"]))[:2]
    movable = cur_scores.index[(cur_scores["segment"] == src) & ~cur_scores["id"].isin(new_ids)][:N_MOVED]
    assert len(movable) == N_MOVED
    cur_scores.loc[movable, "segment"] = dst
    return cur_frame, cur_scores, (src, dst)


# ------------------------------------------------------------------------------------ helpers
def test_psi_matches_a_hand_computation() -> None:
    expected = 0.4 * math.log(0.9 / 0.5) + (-0.4) * math.log(0.1 / 0.5)
    assert psi([50, 50], [90, 10], epsilon=1e-4) == pytest.approx(expected)
    assert psi([3, 1, 6], [30, 10, 60], epsilon=1e-4) == pytest.approx(0.0, abs=1e-15)


def test_psi_floors_empty_bins_at_epsilon() -> None:
    value = psi([10, 0], [5, 5], epsilon=1e-4)
    assert math.isfinite(value)
    # previous shares (1, 0) → (1, 1e-4) after the floor; current shares (0.5, 0.5)
    assert value == pytest.approx((0.5 - 1.0) * math.log(0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4))


@pytest.mark.parametrize(("prev", "cur", "message"), [
    ([1, 2], [1, 2, 3], "same bins"),
    ([0, 0], [1, 2], "at least one observation"),
    ([1, -1], [1, 2], "non-negative"),
])
def test_psi_rejects_bad_histograms(prev: list[int], cur: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        psi(prev, cur, epsilon=1e-4)


def test_bin_on_edges_puts_values_outside_into_the_end_bins() -> None:
    counts = bin_on_edges([-100, 0, 0.5, 1, 1.5, 2, 2.0, 999, np.nan], [0, 1, 2])
    assert counts.tolist() == [3, 5]


def test_bin_on_edges_rejects_unsorted_edges() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        bin_on_edges([1.0], [0, 2, 1])


def test_binning_the_eda_values_gives_back_the_eda_histograms(results_sample: Results, frame: pd.DataFrame) -> None:
    for eda in results_sample.eda.numeric:
        expected = np.add(eda.counts_declined, eda.counts_stable)
        assert bin_on_edges(frame[eda.feature].to_numpy(dtype=float), eda.bin_edges).tolist() == expected.tolist()


# ------------------------------------------------------------------------------------ config
def test_config_defaults_and_override(tmp_path: Path) -> None:
    assert Config().comparison == ComparisonConfig(psi_threshold=0.2, psi_warn=0.1, psi_epsilon=1e-4)
    path = tmp_path / "c.toml"
    path.write_text("[comparison]\npsi_threshold = 0.25\n", encoding="utf-8")
    assert load_config(path).comparison.psi_threshold == 0.25


# -------------------------------------------------------------------------------- comparison
def test_identical_months_show_no_change(previous: Results, current: Results, analysis_sample,  # noqa: ANN001
                                         frame: pd.DataFrame) -> None:
    scores = analysis_sample.scores
    result = compare(previous=previous, previous_scores=scores, current=current, current_scores=scores,
                     current_frame=frame, config=CONFIG)
    n = len(scores)
    assert (result.customers_matched, result.customers_new, result.customers_gone) == (n, 0, 0)
    assert result.customers_compared
    assert set(result.psi) == {e.feature for e in (*previous.eda.numeric, *previous.eda.categorical)}
    assert max(result.psi.values()) == pytest.approx(0.0, abs=1e-12)
    assert result.psi_flagged == ()
    for a, row in result.segment_transitions.items():
        for b, count in row.items():
            assert count == (int((scores["segment"] == a).sum()) if a == b else 0)
    sizes = {s.key: s.n_customers for s in current.segments.segments}
    assert result.segment_sizes == {k: (v, v) for k, v in sizes.items()}
    assert result.declined_share == (previous.data.declined_share,) * 2
    assert result.roc_auc == (previous.model.test.roc_auc,) * 2
    assert result.profit_at_risk == (previous.segments.total_profit_at_risk,) * 2
    assert result.previous_period == "2026-09"


def test_changed_month_counts_customers_and_flags_the_shifted_feature(
        previous: Results, current: Results, analysis_sample, month_two) -> None:  # noqa: ANN001
    cur_frame, cur_scores, (src, dst) = month_two
    n_prev = len(analysis_sample.scores)
    result = compare(previous=previous, previous_scores=analysis_sample.scores, current=current,
                     current_scores=cur_scores, current_frame=cur_frame, config=CONFIG)
    assert result.customers_matched == n_prev - N_GONE
    assert result.customers_new == N_NEW
    assert result.customers_gone == N_GONE
    assert result.customers_matched + result.customers_new == len(cur_scores)
    assert result.customers_matched + result.customers_gone == n_prev

    total = sum(sum(row.values()) for row in result.segment_transitions.values())
    assert total == result.customers_matched
    assert result.segment_transitions[src][dst] == N_MOVED
    off_diagonal = sum(c for a, row in result.segment_transitions.items() for b, c in row.items() if a != b)
    assert off_diagonal == N_MOVED
    keys = {s.key for s in current.segments.segments}
    assert set(result.segment_transitions) == keys
    assert all(set(row) == keys for row in result.segment_transitions.values())

    assert result.psi["pages_per_visit"] >= CONFIG.psi_threshold
    assert result.psi_flagged == ("pages_per_visit",)
    others = {f: v for f, v in result.psi.items() if f != "pages_per_visit"}
    assert max(others.values()) < CONFIG.psi_warn
    assert (result.psi_threshold, result.psi_warn) == (CONFIG.psi_threshold, CONFIG.psi_warn)


def test_categorical_drift_and_new_levels_are_flagged(previous: Results, current: Results,
                                                      analysis_sample, frame: pd.DataFrame) -> None:  # noqa: ANN001
    shifted = frame.copy()
    category = shifted["popular_category"].astype(str)
    top = previous.eda.categorical[-1].levels[0].level
    category.iloc[: len(category) * 6 // 10] = top
    category.iloc[-40:] = "Новая категория"
    shifted["popular_category"] = category
    result = compare(previous=previous, previous_scores=analysis_sample.scores, current=current,
                     current_scores=analysis_sample.scores, current_frame=shifted, config=CONFIG)
    assert previous.eda.categorical[-1].feature == "popular_category"
    assert result.psi_flagged == ("popular_category",)
    assert math.isfinite(result.psi["popular_category"])


def test_flagged_features_are_ordered_by_psi(previous: Results, current: Results, analysis_sample,  # noqa: ANN001
                                             month_two) -> None:  # noqa: ANN001
    cur_frame, cur_scores, _ = month_two
    cur_frame = cur_frame.copy()
    cur_frame["service_errors"] = cur_frame["service_errors"] + 100
    result = compare(previous=previous, previous_scores=analysis_sample.scores, current=current,
                     current_scores=cur_scores, current_frame=cur_frame, config=CONFIG)
    assert result.psi_flagged == ("service_errors", "pages_per_visit")
    assert result.psi["service_errors"] > result.psi["pages_per_visit"]


def test_without_previous_scores_customers_are_unknown_not_zero(previous: Results, current: Results,
                                                                  month_two) -> None:  # noqa: ANN001
    cur_frame, cur_scores, _ = month_two
    result = compare(previous=previous, previous_scores=None, current=current, current_scores=cur_scores,
                     current_frame=cur_frame, config=CONFIG)
    assert result.customers_compared is False
    assert (result.customers_matched, result.customers_new, result.customers_gone) == (0, 0, 0)
    assert result.segment_transitions == {}
    assert result.psi_flagged == ("pages_per_visit",)
    with_comparison = current.model_copy(update={"comparison": result})
    assert Results.model_validate_json(with_comparison.model_dump_json(by_alias=True)) == with_comparison


def test_comparison_round_trips_inside_results(previous: Results, current: Results, analysis_sample,  # noqa: ANN001
                                               month_two, tmp_path: Path) -> None:  # noqa: ANN001
    cur_frame, cur_scores, _ = month_two
    result = compare(previous=previous, previous_scores=analysis_sample.scores, current=current,
                     current_scores=cur_scores, current_frame=cur_frame, config=CONFIG)
    path = tmp_path / "results.json"
    current.model_copy(update={"comparison": result}).save(path)
    assert Results.load(path).comparison == result


def test_scores_read_back_from_csv_match_the_same_customers(
        previous: Results, current: Results, analysis_sample, month_two, tmp_path: Path) -> None:  # noqa: ANN001
    cur_frame, cur_scores, _ = month_two
    path = tmp_path / "scores.csv"
    analysis_sample.scores.to_csv(path, index=False)
    result = compare(previous=previous, previous_scores=pd.read_csv(path), current=current,
                     current_scores=cur_scores, current_frame=cur_frame, config=CONFIG)
    assert (result.customers_matched, result.customers_new, result.customers_gone) == (
        len(analysis_sample.scores) - N_GONE, N_NEW, N_GONE)


def test_previous_must_be_an_earlier_month(current: Results, analysis_sample,  # noqa: ANN001
                                            frame: pd.DataFrame) -> None:
    scores = analysis_sample.scores
    for period in ("2026-10", "2026-11"):
        with pytest.raises(ValueError, match=f"previous results are for {period}"):
            compare(previous=relabel(current, period), previous_scores=scores, current=current,
                    current_scores=scores, current_frame=frame, config=CONFIG)


def test_bad_inputs_are_refused(previous: Results, current: Results, analysis_sample,  # noqa: ANN001
                                frame: pd.DataFrame) -> None:
    scores = analysis_sample.scores
    kwargs = {"previous": previous, "current": current, "current_frame": frame, "config": CONFIG}
    with pytest.raises(ValueError, match="more than once"):
        compare(previous_scores=scores, current_scores=pd.concat([scores, scores.iloc[:2]]), **kwargs)
    with pytest.raises(ValueError, match=r"previous scores lack the column\(s\) \['segment'\]"):
        compare(previous_scores=scores.drop(columns="segment"), current_scores=scores, **kwargs)
    with pytest.raises(ValueError, match=r"lacks the feature.*pages_per_visit"):
        compare(previous_scores=scores, current_scores=scores,
                **{**kwargs, "current_frame": frame.drop(columns="pages_per_visit")})
    with pytest.raises(ValueError, match="psi_warn"):
        compare(previous_scores=scores, current_scores=scores,
                **{**kwargs, "config": ComparisonConfig(psi_threshold=0.1, psi_warn=0.2)})
