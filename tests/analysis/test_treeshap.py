"""SHAP without the shap package: exact TreeSHAP through its kernel, the same values as TreeExplainer, and
the linear values, the same as LinearExplainer."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.ensemble import ExtraTreesClassifier, HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from analysis.treeshap import KernelTreeExplainer, load_kernel


def _data(*, missing: bool = False, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, 9))
    X[:, 3] = rng.integers(0, 2, 400)  # a one-hot-like column, as the preprocessor makes
    y = (X[:, 0] + X[:, 1] * X[:, 2] + rng.normal(scale=0.5, size=400) > 0).astype(int)
    if missing:
        X[rng.random(X.shape) < 0.05] = np.nan
    return X, y


@pytest.mark.parametrize("estimator", [
    ExtraTreesClassifier(n_estimators=25, max_depth=8, random_state=0),
    RandomForestClassifier(n_estimators=15, random_state=0),
    DecisionTreeClassifier(max_depth=6, random_state=0),
], ids=lambda e: type(e).__name__)
def test_values_equal_tree_explainer(estimator) -> None:  # noqa: ANN001
    import shap

    X, y = _data()
    estimator.fit(X, y)
    ours = KernelTreeExplainer.of(estimator)
    assert ours is not None
    reference = shap.TreeExplainer(estimator)
    np.testing.assert_allclose(ours.shap_values(X), reference.shap_values(X, check_additivity=False),
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.expected_value, reference.expected_value, rtol=0, atol=1e-12)


def test_values_add_up_to_the_probability() -> None:
    X, y = _data(seed=3)
    forest = ExtraTreesClassifier(n_estimators=20, max_depth=6, random_state=1).fit(X, y)
    explainer = KernelTreeExplainer.of(forest)
    phi = explainer.shap_values(X)
    np.testing.assert_allclose(phi.sum(axis=1) + explainer.expected_value, forest.predict_proba(X), atol=1e-6)


def test_missing_values_follow_the_trees_default_branch() -> None:
    import shap

    X, y = _data(missing=True, seed=5)
    tree = DecisionTreeClassifier(max_depth=5, random_state=0).fit(X, y)  # learns where NaN goes
    ours = KernelTreeExplainer.of(tree).shap_values(X)
    np.testing.assert_allclose(ours, shap.TreeExplainer(tree).shap_values(X, check_additivity=False), atol=1e-12)
    np.testing.assert_allclose(ours.sum(axis=1)[:, 1] + KernelTreeExplainer.of(tree).expected_value[1],
                               tree.predict_proba(X)[:, 1], atol=1e-6)


def test_other_models_are_left_to_shap() -> None:
    X, y = _data()
    assert KernelTreeExplainer.of(HistGradientBoostingClassifier(max_iter=5).fit(X, y)) is None
    assert KernelTreeExplainer.of(object()) is None


def test_bad_input_shape_is_refused() -> None:
    X, y = _data()
    explainer = KernelTreeExplainer.of(DecisionTreeClassifier(max_depth=3).fit(X, y))
    with pytest.raises(ValueError, match="expected a 2-D matrix"):
        explainer.shap_values(X[0])


def test_the_kernel_loads_without_the_shap_package() -> None:
    code = ("import sys\n"
            "import numpy as np\n"
            "from sklearn.ensemble import ExtraTreesClassifier\n"
            "from analysis.treeshap import KernelTreeExplainer\n"
            "X = np.random.default_rng(0).normal(size=(80, 4)); y = (X[:, 0] > 0).astype(int)\n"
            "e = KernelTreeExplainer.of(ExtraTreesClassifier(5, random_state=0).fit(X, y))\n"
            "print(e.shap_values(X).shape, 'shap' in sys.modules, 'numba' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["(80,", "4,", "2)", "False", "False"]
    assert load_kernel() is not None


def test_linear_values_follow_linear_explainers_formula() -> None:
    import shap
    from sklearn.linear_model import LogisticRegression

    from analysis.importance import linear_shap

    X, y = _data(seed=7)
    model = LogisticRegression(max_iter=500).fit(X, y)
    small = X[:80]  # at most 100 rows: the explainer's masker keeps them all, and the values are its own
    values, base = linear_shap(model, small, X)
    reference = shap.LinearExplainer(model, small)
    np.testing.assert_allclose(values, reference.shap_values(X), rtol=0, atol=1e-12)
    assert base == pytest.approx(float(np.atleast_1d(reference.expected_value)[0]), abs=1e-12)
    # a larger background (as the build's): the same formula against the mean of every row of it
    large = X[:300]
    values, base = linear_shap(model, large, X)
    np.testing.assert_allclose(values, (X - large.mean(axis=0)) * model.coef_[0], rtol=0, atol=1e-12)
    # the values and the base add up to the model's log-odds
    np.testing.assert_allclose(values.sum(axis=1) + base, model.decision_function(X), atol=1e-10)
