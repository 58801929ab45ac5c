"""Model selection protocol, honest probabilities and the calibrated, evaluated winner."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from analysis.model import bootstrap_auc_ci, delong_auc_ci
from analysis.schema import FEATURES


def test_candidates_cover_the_brief(results_sample) -> None:  # noqa: ANN001
    families = {c.family for c in results_sample.model.candidates if not c.skipped}
    assert {"knn", "decision_tree", "logistic_regression", "svc"} <= families
    assert len(families) >= 5
    scored = [c for c in results_sample.model.candidates if c.cv_roc_auc_mean is not None]
    best = max(scored, key=lambda c: c.cv_roc_auc_mean)
    rule = results_sample.model.selection
    assert rule.best_mean == best.name and results_sample.model.selected.name == rule.within[0]


def _scored(name: str, family: str, aucs: list[float]):  # noqa: ANN202 - analysis.model._Scored
    from analysis.config import CandidateConfig
    from analysis.model import _Scored

    return _Scored(candidate=CandidateConfig(name=name, family=family), params={}, fold_aucs=np.array(aucs),
                   oof=np.zeros(3), fit_seconds=0.0, n_configurations=1)


def test_one_standard_error_rule_prefers_the_simpler_model_within_noise() -> None:
    from analysis.config import ModelConfig
    from analysis.model import select_candidate

    knn = _scored("KNN", "knn", [0.90, 0.93, 0.92, 0.91, 0.94])          # mean 0.920, SE ≈ 0.0071
    lr = _scored("LR", "logistic_regression", [0.91, 0.92, 0.91, 0.92, 0.915])  # mean 0.915: within
    tree = _scored("Tree", "decision_tree", [0.85, 0.86, 0.87, 0.86, 0.86])     # far behind
    chosen, rule = select_candidate([knn, lr, tree], ModelConfig())
    assert rule.best_mean == "KNN" and rule.within == ("LR", "KNN") and chosen is lr
    assert rule.threshold == pytest.approx(0.920 - np.std(knn.fold_aucs, ddof=1) / np.sqrt(5), abs=1e-4)
    chosen, rule = select_candidate([knn, lr, tree], ModelConfig(selection_rule="best_mean"))
    assert chosen is knn and rule.rule == "best_mean"
    chosen, rule = select_candidate([knn, tree], ModelConfig())
    assert chosen is knn and rule.within == ("KNN",)


def test_calibration_check_follows_the_bins() -> None:
    from analysis.model import calibration_check, wilson_interval

    lo, hi = wilson_interval(7, 32, level=0.95)
    assert lo < 7 / 32 < hi and lo > 0 and hi < 1
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 2000)
    y = (rng.uniform(0, 1, 2000) < p).astype(int)  # calibrated by construction
    check = calibration_check(y, p, bins=10, level=0.95, min_covered=0.8)
    assert check.calibrated and len(check.bins) == 10 and sum(b.n for b in check.bins) == 2000
    skewed = calibration_check(y, np.clip(p * 0.5 + 0.4, 0, 1), bins=10, level=0.95, min_covered=0.8)
    assert not skewed.calibrated and skewed.n_covered < skewed.required
    assert (abs(skewed.worst.predicted - skewed.worst.observed)
            == max(abs(b.predicted - b.observed) for b in skewed.bins))


def test_test_metrics_are_consistent(results_sample) -> None:  # noqa: ANN001
    t = results_sample.model.test
    lo, hi = t.roc_auc_ci95
    assert lo < t.roc_auc < hi and hi - lo < 0.2
    assert 0 < t.brier < 0.25 and 0 < t.pr_auc <= 1
    cm = results_sample.model.confusion
    assert cm.tn + cm.fp + cm.fn + cm.tp == t.n == results_sample.model.n_test


def test_profit_is_not_a_feature(results_sample) -> None:  # noqa: ANN001
    assert "profit" not in results_sample.model.features
    assert tuple(results_sample.model.features) == FEATURES


def test_scores_are_out_of_sample(analysis_sample) -> None:  # noqa: ANN001
    scores = analysis_sample.scores
    assert scores["id"].is_unique and len(scores) == analysis_sample.results.data.n_customers_analysed
    assert scores["probability"].between(0, 1).all()
    assert scores["in_test"].sum() == analysis_sample.results.model.n_test
    # An in-sample forest would score ≈ 1.0 against the target; out-of-fold scores cannot.
    from analysis.features import prepare_data
    from analysis.config import Config
    from tests.conftest import SAMPLE_DIR

    target = prepare_data(SAMPLE_DIR, Config()).frame["target"]
    auc = roc_auc_score(target.loc[scores["id"]].to_numpy(), scores["probability"].to_numpy())
    assert 0.8 < auc <= 0.95


def test_bootstrap_interval_brackets_the_auc() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    p = np.clip(y * 0.3 + rng.normal(0.35, 0.2, 400), 0, 1)
    lo, hi = bootstrap_auc_ci(y, p, n_resamples=500, random_state=1)
    auc = roc_auc_score(y, p)
    assert lo < auc < hi
    assert bootstrap_auc_ci(y, p, n_resamples=500, random_state=1) == (lo, hi)


@pytest.mark.parametrize("ties", [False, True])
def test_delong_interval_agrees_with_the_bootstrap(ties: bool) -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 20_000)
    p = np.clip(y * 0.25 + rng.normal(0.4, 0.2, y.size), 0, 1)
    if ties:
        p = np.round(p, 2)  # many tied scores: counted one half, as the bootstrap's Mann–Whitney does
    lo, hi = delong_auc_ci(y, p)
    b_lo, b_hi = bootstrap_auc_ci(y, p, n_resamples=1000, random_state=1)
    assert lo < roc_auc_score(y, p) < hi
    assert abs(lo - b_lo) < 0.003 and abs(hi - b_hi) < 0.003
    assert abs((hi - lo) - (b_hi - b_lo)) < 0.002


def test_the_interval_is_delongs_above_the_budget(sample_dir) -> None:  # noqa: ANN001
    from analysis.config import CandidateConfig, Config, ModelConfig
    from analysis.features import prepare_data
    from analysis.model import run_model

    data = prepare_data(sample_dir, Config())
    only = (CandidateConfig(name="LR", family="logistic_regression"),)
    small = run_model(data, ModelConfig(candidates=only, bootstrap_max_rows=100), random_state=0, n_jobs=1)
    large = run_model(data, ModelConfig(candidates=only), random_state=0, n_jobs=1)
    assert small.result.test.n > 100 and small.result.test.roc_auc_ci_method == "delong"
    assert large.result.test.roc_auc_ci_method == "bootstrap"
    assert small.result.test.roc_auc_ci95 != large.result.test.roc_auc_ci95
    assert small.result.test.roc_auc == large.result.test.roc_auc


@pytest.mark.parametrize("family", ["logistic_regression", "knn"])
def test_other_families_are_explained_too(family: str, sample_dir) -> None:  # noqa: ANN001
    from analysis.config import CandidateConfig, Config, ImportanceConfig, ModelConfig
    from analysis.features import prepare_data
    from analysis.importance import explain
    from analysis.model import run_model

    data = prepare_data(sample_dir, Config())
    only = {"logistic_regression": CandidateConfig(name="LR", family="logistic_regression"),
            "knn": CandidateConfig(name="KNN", family="knn", params={"n_neighbors": 31})}[family]
    out = run_model(data, ModelConfig(candidates=(only,), bootstrap=200), random_state=0, n_jobs=1)
    explanation = explain(out, data, ImportanceConfig(background_rows=20), random_state=0)
    explained = explanation.values.dropna()
    assert len(explained) > 0 and list(explained.columns) == list(FEATURES)
    assert explanation.explainer == ("LinearExplainer" if family == "logistic_regression" else "PermutationExplainer")


def test_a_candidate_is_skipped_by_the_training_rows_not_the_selection_sample(sample_dir) -> None:  # noqa: ANN001
    """KNN's ``max_rows`` bounds the rows it is refitted on and scores every customer with, so the
    training part decides, however small the selection sample is."""
    from analysis.config import CandidateConfig, Config, ModelConfig
    from analysis.features import prepare_data
    from analysis.model import run_model
    from analysis.results import TooManyRowsSkip

    data = prepare_data(sample_dir, Config())
    knn = CandidateConfig(name="KNN", family="knn", params={"n_neighbors": 15}, max_rows=600)
    lr = CandidateConfig(name="LR", family="logistic_regression")
    out = run_model(data, ModelConfig(candidates=(lr, knn), selection_max_rows=500, refit_max_rows=500,
                                      bootstrap=200), random_state=0, n_jobs=1)
    assert out.result.selection_rows == 500 < 600 < out.result.n_train
    skipped = {c.name: c.note for c in out.result.candidates if c.skipped}
    assert skipped == {"KNN": TooManyRowsSkip(max_rows=600)}


def test_batched_prediction_is_the_prediction_of_the_rows_asked_for() -> None:
    """Rows taken batch by batch at their positions give the probabilities of those very rows, in
    their order, as one call on them does (no copy of the whole part is made first)."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from analysis.config import CandidateConfig
    from analysis.model import Calibrator, FittedModel, predict_in_batches

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50)})
    y = (X["a"] + rng.normal(size=50) > 0).astype(int).to_numpy()
    pipeline = Pipeline([("model", LogisticRegression())]).fit(X, y)
    fitted = FittedModel(candidate=CandidateConfig(name="LogisticRegression", family="logistic_regression"),
                         params={}, pipeline=pipeline, calibrator=Calibrator(1.5, -0.2, True),
                         raw_is_probability=True)
    rows = np.array([41, 3, 17, 0, 29, 8, 44])
    whole = fitted.predict_proba(X.iloc[rows])
    assert np.array_equal(predict_in_batches(fitted, X, 3, rows=rows), whole)  # 3 + 3 + 1 rows
    assert np.array_equal(predict_in_batches(fitted, X, 100, rows=rows), whole)
    assert predict_in_batches(fitted, X, 3, rows=np.array([], dtype=int)).size == 0
