"""scores.csv's rows: the top reasons (a stable descending order of the SHAP values) and the offer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import analysis.scores as scores_module
from analysis.actions import ACTION_RULES, ActionsOutput
from analysis.schema import FEATURES
from analysis.scores import reason_codes, score_table, top_reasons


def _reference(values: np.ndarray, k: int) -> np.ndarray:
    """The definition: a stable sort of −value (NaN last), the first ``k`` kept where positive."""
    filled = np.where(np.isnan(values), -np.inf, values)
    order = np.argsort(-filled, axis=1, kind="stable")[:, :k]
    ok = np.take_along_axis(filled, order, axis=1) > 0
    return np.where(ok, order + 1, 0)


def test_reason_codes_are_a_stable_descending_order(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(size=(500, len(FEATURES))).round(1)  # many ties among positive values
    values[::7] = np.nan  # customers without SHAP values
    values[1::11] = 0.0  # nothing pushes their probability up
    values[2::13, :2] = -1.0
    monkeypatch.setattr(scores_module, "_CHUNK", 64)  # several chunks, one partial
    for k in (1, 3, len(FEATURES), len(FEATURES) + 2):
        assert np.array_equal(reason_codes(values, k=k), _reference(values, min(k, len(FEATURES))))


def test_top_reasons_names_the_features() -> None:
    values = pd.DataFrame(0.0, index=[10, 11], columns=list(FEATURES))
    values.loc[10, ["promo_share", "service_errors"]] = [0.1, 0.3]
    reasons = top_reasons(values, k=3)
    assert reasons.loc[10].tolist() == ["service_errors", "promo_share", ""]
    assert reasons.loc[11].tolist() == ["", "", ""]
    with pytest.raises(ValueError, match="expected SHAP values of the features"):
        top_reasons(values[list(reversed(FEATURES))], k=3)


def _actions(ids: np.ndarray, offer_codes: list[int]) -> ActionsOutput:
    return ActionsOutput(result=None, table=pd.DataFrame(), ids=ids,  # type: ignore[arg-type]
                         offer_codes=np.asarray(offer_codes, dtype=np.int8))


def test_score_table_offers_the_customers_best_action() -> None:
    ids = np.array([5, 3, 9])
    shap = pd.DataFrame(0.0, index=ids, columns=list(FEATURES))
    shap.loc[9, "unpaid_items"] = 0.2
    table = score_table(ids=ids, probability=np.array([0.123456, 0.5, 0.99999]),
                        segment=pd.Series(["a", "b", "a"]), profit=np.array([1.0, 2.0, 3.0]),
                        in_test=np.array([True, False, True]), shap=shap,
                        actions=_actions(ids, [-1, 0, 4]), k=2)
    assert table.columns.tolist() == ["id", "probability", "segment", "profit", "in_test", "reason_1", "reason_2",
                                      "offer"]
    assert table["offer"].astype(str).tolist() == ["", ACTION_RULES[0].key, ACTION_RULES[4].key]
    assert table["probability"].tolist() == [0.1235, 0.5, 1.0]
    assert table["reason_1"].astype(str).tolist() == ["", "", "unpaid_items"]
    with pytest.raises(ValueError, match="the actions' customers are not the scores' customers"):
        score_table(ids=ids, probability=np.zeros(3), segment=pd.Series(["a"] * 3), profit=np.zeros(3),
                    in_test=np.zeros(3, dtype=bool), shap=shap, actions=_actions(ids[::-1], [-1, -1, -1]), k=2)
