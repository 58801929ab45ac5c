"""The per-customer scores (``scores.csv``): probability, segment, profit, test membership, the
features that push each customer's probability up the most, and the offer.

Built on arrays: the text columns are categoricals (one byte a customer instead of a string
object), and nothing here runs Python per customer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.actions import ActionsOutput
from analysis.schema import FEATURES

__all__ = ["reason_codes", "score_table", "top_reasons"]

#: Rows ranked at once by :func:`reason_codes` (bounds the working copy: 16 features × 8 bytes a row).
_CHUNK = 1_000_000


def reason_codes(values: np.ndarray, *, k: int) -> np.ndarray:
    """The ``k`` features with the largest positive SHAP value of each row, as ``(n, k)`` int8 codes:
    ``j + 1`` for ``FEATURES[j]``, 0 for none (fewer than ``k`` positive values, or no SHAP values).

    The largest first; equal values in feature order (a stable descending sort). One pass over
    the features keeps each row's ``k`` best so far (an insertion in the order of value, then
    feature), over chunks of rows: no sort, and no copy of the whole matrix (0.9 s → 0.2 s at a
    million rows against ``argsort``, measured).
    """
    values = np.asarray(values, dtype=float)
    n, m = values.shape
    k = min(k, m)
    codes = np.zeros((n, k), dtype=np.int8)
    for start in range(0, n, _CHUNK):
        block = values[start:start + _CHUNK]
        size = len(block)
        best = [np.full(size, -np.inf) for _ in range(k)]
        best_code = [np.zeros(size, dtype=np.int8) for _ in range(k)]
        for j in range(m):
            value = np.where(np.isnan(block[:, j]), -np.inf, block[:, j])
            code = np.full(size, j + 1, dtype=np.int8)
            for i in range(k):
                # (value, −feature) order: a value pushed down past an equal one came from an earlier feature
                better = (value > best[i]) | ((value == best[i]) & (code < best_code[i]))
                best[i], value = np.where(better, value, best[i]), np.where(better, best[i], value)
                best_code[i], code = np.where(better, code, best_code[i]), np.where(better, best_code[i], code)
        for i in range(k):
            codes[start:start + size, i] = np.where(best[i] > 0, best_code[i], 0)
    return codes


def top_reasons(values: pd.DataFrame, *, k: int) -> pd.DataFrame:
    """The ``k`` features pushing each customer's probability up the most (``reason_1`` …, ``""``
    where there is none), as categoricals indexed like ``values`` (columns in :data:`FEATURES` order)."""
    if list(values.columns) != list(FEATURES):
        raise ValueError(f"expected SHAP values of the features {list(FEATURES)}, got {list(values.columns)}")
    codes = reason_codes(values.to_numpy(), k=k)
    categories = ["", *FEATURES]
    return pd.DataFrame({f"reason_{i + 1}": pd.Categorical.from_codes(codes[:, i], categories=categories)
                         for i in range(codes.shape[1])}, index=values.index)


def score_table(*, ids: np.ndarray, probability: np.ndarray, segment: pd.Series, profit: np.ndarray,
                in_test: np.ndarray, shap: pd.DataFrame, actions: ActionsOutput, k: int) -> pd.DataFrame:
    """``scores.csv``'s rows, one per analysed customer in the order of ``ids``.

    Columns: ``id``, ``probability`` (rounded to 4 digits), ``segment``, ``profit``, ``in_test``,
    ``reason_1`` … ``reason_k`` (:func:`top_reasons` of ``shap``) and ``offer`` (the customer's
    treatment action of the highest expected value, ``""`` for none).
    """
    if not np.array_equal(actions.ids, ids):
        raise ValueError("the actions' customers are not the scores' customers, in the same order")
    if not np.array_equal(shap.index.to_numpy(), ids):
        shap = shap.reindex(ids)
    reasons = top_reasons(shap, k=k)
    frame = pd.DataFrame({"id": ids, "probability": np.round(probability, 4),
                          "segment": segment.array if isinstance(segment.dtype, pd.CategoricalDtype)
                          else segment.to_numpy(), "profit": profit, "in_test": in_test})
    for name in reasons.columns:
        frame[name] = reasons[name].to_numpy()
    frame["offer"] = actions.offer_column()
    return frame
