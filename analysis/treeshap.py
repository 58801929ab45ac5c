"""Exact (path-dependent) TreeSHAP for scikit-learn trees and forests, without importing ``shap``.

``import shap`` costs about 1.7 s here: the package imports numba and, for its plots, matplotlib.
The exact algorithm itself is shap's compiled kernel (``shap._cext``), which needs neither. This
module loads that extension on its own and gives it the arrays ``shap.TreeExplainer`` builds for a
scikit-learn ``DecisionTreeClassifier``, ``RandomForestClassifier`` or ``ExtraTreesClassifier``
(node values as class fractions averaged over the trees, inputs rounded to float32 as the trees
compare them, the tree-path-dependent perturbation, identity output). The values equal
TreeExplainer's (the tests compare them). Anything else — another model, a shap without the kernel
or with another signature — gives ``None`` and the caller uses ``shap.TreeExplainer``.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

KERNEL_MODULE = "shap._cext"
#: The kernel's codes (``shap.explainers._tree``): identity output, tree-path-dependent perturbation.
_IDENTITY, _TREE_PATH_DEPENDENT = 0, 1
_SUPPORTED = {"DecisionTreeClassifier", "RandomForestClassifier", "ExtraTreesClassifier"}


def load_kernel() -> ModuleType | None:
    """shap's compiled TreeSHAP kernel, loaded without the ``shap`` package; ``None`` if unavailable."""
    if KERNEL_MODULE in sys.modules:
        return sys.modules[KERNEL_MODULE]
    spec = importlib.util.find_spec("shap")  # a top-level package: found, not imported
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = Path(folder) / f"_cext{suffix}"
            if not path.is_file():
                continue
            kernel_spec = importlib.util.spec_from_file_location(KERNEL_MODULE, path)
            if kernel_spec is None or kernel_spec.loader is None:
                return None
            module = importlib.util.module_from_spec(kernel_spec)
            try:
                kernel_spec.loader.exec_module(module)
            except ImportError:
                return None
            # registered under its own name: a later ``import shap`` reuses it instead of loading it twice
            sys.modules[KERNEL_MODULE] = module
            return module
    return None


@dataclass(frozen=True, slots=True)
class TreeArrays:
    """An ensemble as the kernel reads it: one row per tree, padded with -1 / 0 to the largest tree."""

    children_left: np.ndarray
    children_right: np.ndarray
    children_default: np.ndarray
    features: np.ndarray
    thresholds: np.ndarray
    threshold_types: np.ndarray
    values: np.ndarray  # (trees, nodes, outputs): expectations in inner nodes
    node_sample_weight: np.ndarray
    max_depth: int

    @property
    def n_outputs(self) -> int:
        """Number of model outputs (classes)."""
        return int(self.values.shape[2])


def tree_arrays(estimator: Any, kernel: ModuleType) -> TreeArrays | None:  # a fitted estimator (untyped)
    """The kernel's arrays for a fitted scikit-learn tree classifier or forest; ``None`` for other models."""
    if type(estimator).__name__ not in _SUPPORTED or not type(estimator).__module__.startswith("sklearn."):
        return None
    trees = [estimator] if hasattr(estimator, "tree_") else list(estimator.estimators_)
    scaling = 1.0 / len(trees) if len(trees) > 1 or not hasattr(estimator, "tree_") else 1.0
    per_tree = []
    for tree in trees:
        t = tree.tree_
        left, right = t.children_left.astype(np.int32), t.children_right.astype(np.int32)
        default = np.where(t.missing_go_to_left, left, right).astype(np.int32) if hasattr(t, "missing_go_to_left") \
            else left
        values = t.value.reshape(t.value.shape[0], -1)
        values = np.ascontiguousarray((values.T / values.sum(axis=1)).T * scaling, dtype=np.float64)
        weights = np.ascontiguousarray(t.weighted_n_node_samples, dtype=np.float64)
        depth = int(kernel.compute_expectations(left, right, weights, values))  # fills inner nodes' values
        per_tree.append((left, right, default, t.feature.astype(np.int32), t.threshold.astype(np.float64),
                         values, weights, depth))
    n_trees, n_nodes = len(per_tree), max(len(p[0]) for p in per_tree)
    n_outputs = per_tree[0][5].shape[1]
    arrays = {name: -np.ones((n_trees, n_nodes), dtype=np.int32)
              for name in ("children_left", "children_right", "children_default", "features")}
    thresholds = np.zeros((n_trees, n_nodes))
    values = np.zeros((n_trees, n_nodes, n_outputs))
    weights = np.zeros((n_trees, n_nodes))
    for i, (left, right, default, feature, threshold, value, weight, _) in enumerate(per_tree):
        k = len(left)
        arrays["children_left"][i, :k] = left
        arrays["children_right"][i, :k] = right
        arrays["children_default"][i, :k] = default
        arrays["features"][i, :k] = feature
        thresholds[i, :k] = threshold
        values[i, :k] = value
        weights[i, :k] = weight
    return TreeArrays(**arrays, thresholds=thresholds, threshold_types=np.zeros((n_trees, n_nodes), dtype=np.int32),
                      values=values, node_sample_weight=weights, max_depth=max(p[7] for p in per_tree))


@dataclass(frozen=True, slots=True)
class KernelTreeExplainer:
    """Exact TreeSHAP of a scikit-learn tree classifier or forest through shap's kernel.

    Build it with :meth:`of`; :meth:`shap_values` returns ``(rows, features, classes)`` like
    ``shap.TreeExplainer(estimator).shap_values(Z)`` and :attr:`expected_value` its expected values.
    """

    kernel: ModuleType
    arrays: TreeArrays
    expected_value: np.ndarray

    @classmethod
    def of(cls, estimator: Any) -> KernelTreeExplainer | None:  # a fitted estimator (untyped)
        """The explainer, or ``None`` when the model or the installed shap is not supported."""
        kernel = load_kernel()
        if kernel is None or not all(hasattr(kernel, f) for f in ("compute_expectations", "dense_tree_shap")):
            return None
        arrays = tree_arrays(estimator, kernel)
        if arrays is None:
            return None
        expected = arrays.values[:, 0, :].sum(axis=0)  # the root's expectation, summed over the trees
        explainer = cls(kernel=kernel, arrays=arrays, expected_value=expected)
        try:  # one row through the kernel: another shap's signature or array layout is refused here
            probe = np.zeros((1, estimator.n_features_in_))
            phi = explainer.shap_values(probe)
        except (TypeError, ValueError, AttributeError, SystemError):
            return None
        if not np.allclose(phi.sum(axis=1) + expected, estimator.predict_proba(probe.astype(np.float32)), atol=1e-6):
            return None
        return explainer

    def shap_values(self, Z: np.ndarray) -> np.ndarray:
        """SHAP values of the rows of ``Z`` (already preprocessed), one slice per class."""
        X = np.asarray(Z, dtype=np.float32)  # the trees compare float32 inputs with their thresholds
        if X.ndim != 2:
            raise ValueError(f"expected a 2-D matrix, got shape {X.shape}")
        a = self.arrays
        phi = np.zeros((X.shape[0], X.shape[1] + 1, a.n_outputs))
        self.kernel.dense_tree_shap(
            a.children_left, a.children_right, a.children_default, a.features, a.thresholds, a.threshold_types,
            a.values, a.node_sample_weight, a.max_depth, X, np.isnan(X), None, None, None, a.values.shape[0],
            np.zeros(a.n_outputs), phi, _TREE_PATH_DEPENDENT, _IDENTITY, False)
        return phi[:, :-1, :]
