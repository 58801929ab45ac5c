"""Model selection protocol, honest probabilities and the calibrated, evaluated winner."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from analysis.model import bootstrap_auc_ci
from analysis.schema import FEATURES


def test_candidates_cover_the_brief(results_sample) -> None:  # noqa: ANN001
    families = {c.family for c in results_sample.model.candidates if not c.skipped}
    assert {"knn", "decision_tree", "logistic_regression", "svc"} <= families
    assert len(families) >= 5
    scored = [c for c in results_sample.model.candidates if c.cv_roc_auc_mean is not None]
    best = max(scored, key=lambda c: c.cv_roc_auc_mean)
    assert results_sample.model.selected.name == best.name


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
