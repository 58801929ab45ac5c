"""Explain the selected model: SHAP (global, beeswarm, per segment, per customer) and permutation importance.

The explainer follows the selected model: ``shap.TreeExplainer`` (exact, path-dependent) for
tree families, its rows shared by the build's workers; the linear (interventional) values of
``shap.LinearExplainer`` for logistic regression (:func:`linear_shap`); a bounded
PermutationExplainer with a small background otherwise. SHAP values of one-hot columns are
summed back to their original feature. Exact SHAP covers every customer up to
``ImportanceConfig.shap_max_rows``; above it a stated
random sample is explained for the global views, and the remaining customers' reasons use
TreeSHAP's fast path approximation (or none for non-tree models).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.config import ImportanceConfig
from analysis.model import TREE_FAMILIES, ModelOutput, scores_of
from analysis.results import Beeswarm, Contribution, CustomerExplanation, FeatureValue, ImportanceResult
from analysis.schema import CATEGORICAL_FEATURES, FEATURES
if TYPE_CHECKING:
    from analysis.features import PreparedData
    from runtime.executor import Executor


@dataclass(frozen=True, slots=True)
class Explanation:
    """Per-customer SHAP values (original features) and what produced them."""

    values: pd.DataFrame  # index: customer id, columns: FEATURES
    exact: np.ndarray  # bool per row: exact SHAP (True) or the fast approximation
    explainer: str
    output: str
    base_value: float


def _group_columns(transformed_names: list[str]) -> np.ndarray:
    """For each transformed column, the index of its original feature."""
    groups = []
    for name in transformed_names:
        if name in FEATURES:
            groups.append(FEATURES.index(name))
            continue
        for cat in CATEGORICAL_FEATURES:
            if name.startswith(cat + "_"):
                groups.append(FEATURES.index(cat))
                break
        else:  # pragma: no cover - the preprocessor only produces these names
            raise KeyError(name)
    return np.asarray(groups)


def _aggregate(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    out = np.zeros((values.shape[0], len(FEATURES)))
    np.add.at(out.T, groups, values.T)
    return out


def _positive_class(values: np.ndarray | list[np.ndarray]) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim == 3:
        return arr[:, :, 1]
    if isinstance(values, list):
        return np.asarray(values[1])
    return arr


def _saabas_tables(estimator: Any, groups: np.ndarray) -> list[np.ndarray] | None:  # a fitted estimator
    """Per tree, the Saabas attribution of every node's path (original features), positive class.

    Saabas' attribution (TreeSHAP's ``approximate=True``) depends only on the path from the root,
    so for a scikit-learn tree or forest it is a table leaf → contribution, and explaining a row is
    a sum of one table row per tree. Equal to ``shap``'s to 1e-16 (measured), and 3× faster on a
    million rows. ``None`` for other models (``shap`` is used there).
    """
    trees = [estimator] if hasattr(estimator, "tree_") else list(getattr(estimator, "estimators_", []))
    if not trees or not all(hasattr(t, "tree_") for t in trees) or list(getattr(estimator, "classes_", [])) != [0, 1]:
        return None
    tables = []
    for tree in trees:
        t = tree.tree_
        fractions = t.value[:, 0, :] / t.value[:, 0, :].sum(axis=1, keepdims=True)
        value = fractions[:, 1] / len(trees)
        node_contrib = np.zeros((t.node_count, len(FEATURES)))
        stack = [0]
        while stack:
            node = stack.pop()
            for child in (t.children_left[node], t.children_right[node]):
                if child >= 0:
                    node_contrib[child] = node_contrib[node]
                    node_contrib[child, groups[t.feature[node]]] += value[child] - value[node]
                    stack.append(child)
        tables.append(node_contrib)
    return tables


def _approximate(estimator: Any, transform: Callable[[np.ndarray], np.ndarray], rows: np.ndarray,
                 groups: np.ndarray, batch_size: int) -> np.ndarray:
    """Fast-path (Saabas) SHAP values of ``rows``, original features, in batches of ``batch_size``."""
    tables = _saabas_tables(estimator, groups)
    explainer = None
    if tables is None:
        import shap  # deferred: a heavy import

        explainer = shap.TreeExplainer(estimator)
    out = np.zeros((len(rows), len(FEATURES)))
    for start in range(0, len(rows), batch_size):
        Z = transform(rows[start:start + batch_size])
        if tables is not None:
            leaves = np.asarray(estimator.apply(Z)).reshape(len(Z), -1)
            block = out[start:start + len(Z)]
            for k, table in enumerate(tables):
                block += table[leaves[:, k]]
        else:
            assert explainer is not None
            approx = _positive_class(explainer.shap_values(Z, approximate=True, check_additivity=False))
            out[start:start + len(Z)] = _aggregate(approx, groups)
    return out


def linear_shap(estimator: Any, background: np.ndarray, Z: np.ndarray) -> tuple[np.ndarray, float]:
    """Interventional SHAP values of a fitted binary linear model (log-odds) for the rows ``Z``, and
    the base value: ``coef · (x − mean(background))`` and ``coef · mean(background) + intercept``.

    This is ``shap.LinearExplainer``'s formula for a linear model with independent features (the
    same values for the same background; a test compares them), without importing the ``shap``
    package for one product: the import cost a million customers' build 0.6–1.1 s of its critical
    path, measured. The mean is over the whole ``background``; the explainer's default masker
    would first subsample a background of more than 100 rows (the build's has
    ``4 × ImportanceConfig.background_rows``), so the values are not the explainer's output for
    such a background, but the same formula against a fuller mean. Recorded as the
    ``LinearExplainer`` method.
    """
    coef = np.asarray(estimator.coef_, dtype=float).reshape(-1)
    mean = np.asarray(background, dtype=float).mean(axis=0)
    values = (np.asarray(Z, dtype=float) - mean) * coef
    return values, float(coef @ mean + float(np.asarray(estimator.intercept_).reshape(-1)[0]))


def _tree_shap(estimator: Any, Z: np.ndarray) -> tuple[np.ndarray, float]:  # a fitted tree model
    """Exact TreeSHAP values of the rows ``Z`` (positive class, transformed columns) and the base value.

    Run by a worker (one explainer per batch of rows: building it costs milliseconds against
    1.7–7 ms a row for the values). For scikit-learn trees and forests through shap's compiled
    kernel without importing the ``shap`` package (:mod:`analysis.treeshap`; the same values, a
    test compares them): the package's import cost the workers' forkserver 0.3–0.7 s of CPU at the
    build's start, while the data are loaded. Any other tree model goes to ``shap.TreeExplainer``.
    """
    from analysis.treeshap import KernelTreeExplainer

    kernel = KernelTreeExplainer.of(estimator)
    if kernel is not None:
        values, expected = _positive_class(kernel.shap_values(Z)), np.atleast_1d(kernel.expected_value)
    else:
        import shap  # deferred: a heavy import

        explainer = shap.TreeExplainer(estimator)
        values = _positive_class(explainer.shap_values(Z, check_additivity=False))
        expected = np.atleast_1d(explainer.expected_value)
    return values, float(expected[1] if expected.size > 1 else expected[0])


def _exact_tree_shap(estimator: Any, Z: np.ndarray, executor: Executor | None, *, min_rows: int = 200,
                     meanwhile: Callable[[], object] | None = None) -> tuple[np.ndarray, float]:
    """:func:`_tree_shap` of ``Z``, its rows split into batches for the workers (the same values);
    ``meanwhile`` is called here once they are submitted (or before, when they run here)."""
    if executor is None or executor.inline or len(Z) < min_rows:
        if meanwhile is not None:
            meanwhile()
        return _tree_shap(estimator, Z)
    # two batches a worker: the permutation importance computed beside them fits in between
    futures = [executor.submit(_tree_shap, estimator, batch) for batch in np.array_split(Z, 2 * executor.workers)]
    if meanwhile is not None:
        meanwhile()
    parts = [executor.result(future, name="tree_shap") for future in futures]
    return np.concatenate([values for values, _ in parts], axis=0), parts[0][1]


def explain(model: ModelOutput, data: PreparedData, config: ImportanceConfig, *, random_state: int,
            executor: Executor | None = None) -> Explanation:
    """SHAP values of the selected model for the analysed customers.

    Only the rows an explainer needs are transformed (in batches of ``config.batch_size`` for the
    fast path over every customer), never the whole data set at once. With an ``executor`` the exact
    TreeSHAP rows are shared by its workers (the same values).
    """
    pipeline = model.model.pipeline
    prep, estimator = pipeline.named_steps["prep"], pipeline.named_steps["model"]
    X = data.X

    def transform(rows: np.ndarray) -> np.ndarray:
        return np.asarray(prep.transform(X.iloc[rows]))

    names = list(prep.get_feature_names_out())
    groups = _group_columns(names)
    family = model.model.candidate.family
    n = len(X)
    rng = np.random.default_rng(random_state)
    if n > config.shap_max_rows:
        # a plain random sample: the rows explained exactly must not depend on this month's target,
        # since the action rules read their SHAP values (analysis.actions)
        exact_rows = np.sort(rng.choice(n, config.shap_max_rows, replace=False))
    else:
        exact_rows = np.arange(n)
    exact = np.zeros(n, dtype=bool)
    exact[exact_rows] = True
    values = np.zeros((n, len(FEATURES)))

    if family in TREE_FAMILIES:
        rest = np.flatnonzero(~exact)

        def approximate_rest() -> None:  # here while the workers compute the exact rows
            if rest.size:
                values[rest] = _approximate(estimator, transform, rest, groups, config.batch_size)

        raw, base = _exact_tree_shap(estimator, transform(exact_rows), executor, meanwhile=approximate_rest)
        values[exact_rows] = _aggregate(raw, groups)
        output = "probability" if family in {"decision_tree", "extra_trees", "random_forest"} else "log_odds"
        name = "TreeExplainer"
    elif family == "logistic_regression":
        background = transform(rng.choice(n, min(n, config.background_rows * 4), replace=False))
        raw, base = linear_shap(estimator, background, transform(exact_rows))
        values[exact_rows] = _aggregate(raw, groups)
        output = "log_odds"
        name = "LinearExplainer"
    else:
        import shap  # deferred: a heavy import

        if n > config.background_rows * 10:  # model-agnostic: bound the cost
            exact_rows = np.sort(rng.choice(n, min(len(exact_rows), config.background_rows * 10), replace=False))
            exact[:] = False
            exact[exact_rows] = True
        background = transform(rng.choice(n, config.background_rows, replace=False))
        explainer = shap.PermutationExplainer(partial(scores_of, estimator), background, seed=random_state)
        result = explainer(transform(exact_rows), max_evals=2 * len(names) + 1, silent=True)
        values[exact_rows] = _aggregate(result.values, groups)
        base = float(np.mean(result.base_values))
        output = "probability" if hasattr(estimator, "predict_proba") else "decision_function"
        name = "PermutationExplainer"
    if name != "TreeExplainer":
        values[~exact] = np.nan
    frame = pd.DataFrame(values, index=X.index, columns=list(FEATURES), copy=False)  # 1M rows: 0.3 s copied
    return Explanation(values=frame, exact=exact, explainer=name, output=output, base_value=base)


def _roc_auc(y: np.ndarray, scores: np.ndarray) -> float:
    """ROC-AUC as the Mann–Whitney statistic from mid-ranks: ``roc_auc_score``'s value (to rounding)
    without its input validation, which cost 1 s of the 81 calls on the published data."""
    from scipy.stats import rankdata

    positive = np.asarray(y) == 1
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    return float((rankdata(scores)[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def grouped_permutation_importance(estimator: Any, Z: np.ndarray, y: np.ndarray, groups: np.ndarray, *,
                                   n_repeats: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """Drop in ROC-AUC when one original feature (all its one-hot columns together) is shuffled.

    Works on the already-transformed matrix ``Z``, so the preprocessing runs once.

    Returns
    -------
    (mean, std) per original feature, in :data:`FEATURES` order.
    """
    rng = np.random.default_rng(random_state)
    score = partial(scores_of, estimator)
    baseline = _roc_auc(y, score(Z))
    drops = np.zeros((len(FEATURES), n_repeats))
    # All shuffled copies of one feature are scored in one call: one thread-pool dispatch instead of
    # ``n_repeats`` (on the published data 81 small predict calls cost 3 s of dispatch, measured).
    for j in range(len(FEATURES)):
        cols = np.flatnonzero(groups == j)
        stacked = np.tile(Z, (n_repeats, 1))
        for r in range(n_repeats):
            stacked[r * len(Z):(r + 1) * len(Z), cols] = Z[rng.permutation(len(Z))][:, cols]
        scores = score(stacked)
        for r in range(n_repeats):
            drops[j, r] = baseline - _roc_auc(y, scores[r * len(Z):(r + 1) * len(Z)])
    return drops.mean(axis=1), drops.std(axis=1)


def permutation_sample(model: ModelOutput, data: PreparedData, config: ImportanceConfig, *,
                       random_state: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The test customers the permutation importance is computed on: all of them, or a seeded
    random sample of ``config.permutation_max_rows`` above it (drawn from its own generator,
    ``default_rng([random_state, 1])``), with their targets."""
    positions = np.flatnonzero(model.is_test.to_numpy())
    if len(positions) > config.permutation_max_rows:
        pick = np.random.default_rng([random_state, 1]).choice(len(positions), config.permutation_max_rows,
                                                               replace=False)
        positions = positions[pick]
    return data.X.iloc[positions], data.y[positions]


def permuted(pipeline: Any, X_test: pd.DataFrame, y_test: np.ndarray, config: ImportanceConfig, *,
             random_state: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Grouped permutation importance of the fitted ``pipeline`` on ``X_test`` (one worker task:
    only the sample and the pipeline travel to it, not the customers' whole frame).

    Returns
    -------
    (mean, std, seconds)
    """
    start = time.perf_counter()
    prep, estimator = pipeline.named_steps["prep"], pipeline.named_steps["model"]
    Z = prep.transform(X_test)
    groups = _group_columns(list(prep.get_feature_names_out()))
    mean, std = grouped_permutation_importance(estimator, np.asarray(Z, dtype=float), y_test, groups,
                                               n_repeats=config.permutation_repeats, random_state=random_state)
    return mean, std, time.perf_counter() - start


def permutation_importance(model: ModelOutput, data: PreparedData, config: ImportanceConfig, *,
                           random_state: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Grouped permutation importance of the selected model on the test part
    (:func:`permutation_sample`, then :func:`permuted`).

    Independent of the SHAP values, so the pipeline computes it beside them.

    Returns
    -------
    (mean, std, seconds)
    """
    X_test, y_test = permutation_sample(model, data, config, random_state=random_state)
    return permuted(model.model.pipeline, X_test, y_test, config, random_state=random_state)


def run_importance(model: ModelOutput, data: PreparedData, explanation: Explanation, segments: pd.Series,
                   config: ImportanceConfig, *, random_state: int, seconds: float, n_jobs: int,
                   permutation: tuple[np.ndarray, np.ndarray, float] | None = None) -> ImportanceResult:
    """Global, beeswarm, per-segment and individual SHAP views plus permutation importance.

    ``permutation`` is :func:`permutation_importance`'s result when already computed (its seconds
    are then taken as part of ``seconds``: pass 0 as its third item to avoid counting them twice).
    """
    rng = np.random.default_rng(random_state)
    exact_values = explanation.values[explanation.exact]
    mean_abs = exact_values.abs().mean().sort_values(ascending=False)
    global_importance = tuple(FeatureValue(feature=f, value=round(float(v), 5)) for f, v in mean_abs.items())

    rows = np.flatnonzero(explanation.exact)
    if rows.size > config.beeswarm_rows:
        rows = np.sort(rng.choice(rows, config.beeswarm_rows, replace=False))
    ordered = list(mean_abs.index)
    X = data.X.iloc[rows]
    shap_rows = explanation.values.iloc[rows][ordered]
    scaled: list[tuple[float | None, ...]] = []
    for f in ordered:
        column = X[f]
        if f in CATEGORICAL_FEATURES or isinstance(column.dtype, pd.CategoricalDtype):
            scaled.append(tuple(None for _ in range(len(column))))
            continue
        v = column.to_numpy(dtype=float)
        lo, hi = np.percentile(v, [5, 95])
        s = np.clip((v - lo) / (hi - lo), 0, 1) if hi > lo else np.full_like(v, 0.5)
        scaled.append(tuple(round(float(x), 3) for x in s))
    beeswarm = Beeswarm(features=tuple(ordered),
                        shap=tuple(tuple(round(float(x), 5) for x in shap_rows[f]) for f in ordered),
                        scaled_values=tuple(scaled))

    per_segment = {}
    seg_exact = segments[explanation.exact]
    for key, idx in exact_values.groupby(seg_exact.to_numpy(), observed=True).groups.items():
        means = exact_values.loc[idx].mean()
        top = means.reindex(means.abs().sort_values(ascending=False).index)
        per_segment[str(key)] = tuple(FeatureValue(feature=f, value=round(float(v), 5)) for f, v in top.items())

    examples: list[CustomerExplanation] = []
    probability = model.probability
    for key in pd.unique(segments.to_numpy()):
        members = segments.index[(segments == key).to_numpy() & explanation.exact]
        if len(members) == 0 or len(examples) >= config.examples * 2:
            continue
        p = probability.loc[members]
        cid = p.index[int(np.argmin(np.abs(p.to_numpy() - p.median())))]
        contrib = explanation.values.loc[cid]
        order = contrib.abs().sort_values(ascending=False).index
        row = data.X.loc[[cid]]
        refit = float(model.model.predict_proba(row)[0])
        reported = float(probability.loc[cid])
        examples.append(CustomerExplanation(
            id=int(cid), segment=str(key), probability=round(reported, 4),
            base_value=round(explanation.base_value, 4),
            contributions=tuple(Contribution(feature=f, value=str(data.X.loc[cid, f]), shap=round(float(contrib[f]), 5))
                                for f in order),
            raw_output=round(float(explanation.base_value + contrib.sum()), 4), refit_probability=round(refit, 4),
            out_of_fold=bool(not model.is_test.loc[cid] and abs(refit - reported) > 1e-9)))

    if permutation is None:
        permutation = permutation_importance(model, data, config, random_state=random_state)
    mean, std, perm_seconds = permutation
    order = np.argsort(-mean)
    by_permutation = tuple(FeatureValue(feature=FEATURES[i], value=round(float(mean[i]), 5),
                                        std=round(float(std[i]), 5)) for i in order)
    drop = {FEATURES[i]: float(mean[i]) for i in range(len(FEATURES))}
    total = float(mean_abs.sum())
    disagreements = tuple(f for f, v in mean_abs.items()
                          if total > 0 and v / total >= config.disagreement_min_shap_share
                          and drop.get(f, 0.0) <= config.disagreement_max_permutation)
    return ImportanceResult(
        explainer=explanation.explainer, output=explanation.output, n_rows=int(explanation.exact.sum()),
        sampled=bool(not explanation.exact.all()), base_value=round(explanation.base_value, 5),
        global_importance=global_importance, beeswarm=beeswarm, per_segment=per_segment,
        examples=tuple(examples), permutation=by_permutation, seconds=round(seconds + perm_seconds, 3),
        disagreements=disagreements,
        # the rows permutation_importance draws (a sample above permutation_max_rows)
        permutation_rows=min(int(model.is_test.sum()), config.permutation_max_rows),
    )
