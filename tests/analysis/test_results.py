"""The results object: frozen, typed, and equal after a JSON round trip; the contract's keys."""

from __future__ import annotations

import json
from pathlib import Path

import pydantic
import pytest

from analysis.results import Results


def test_json_round_trip_is_equal(results_sample: Results, tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    results_sample.save(path)
    assert Results.load(path) == results_sample


def test_results_are_frozen(results_sample: Results) -> None:
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        results_sample.meta.period = "2030-01"  # type: ignore[misc]


def test_contract_keys(results_sample: Results) -> None:
    doc = json.loads(results_sample.model_dump_json(by_alias=True))
    assert set(doc["meta"]) >= {"period", "input_sha256", "versions", "config", "seed", "stage_timings"}
    assert set(doc["meta"]["input_sha256"]) == {"market_file.csv", "market_money.csv", "market_time.csv", "money.csv"}
    assert all(len(h) == 64 for h in doc["meta"]["input_sha256"].values())
    assert set(doc["data"]["cleaning_log"][0]) >= {"table", "column", "action", "from", "to", "rows"}
    model = doc["model"]
    assert set(model["candidates"][0]) >= {"name", "cv_roc_auc_mean", "cv_roc_auc_std", "fit_seconds"}
    assert set(model["selected"]) >= {"name", "params"}
    assert set(model["test"]) >= {"roc_auc", "roc_auc_ci95", "pr_auc", "brier"}
    assert len(model["test"]["roc_auc_ci95"]) == 2
    seg = doc["segments"]["segments"][0]
    assert set(seg) >= {"key", "title", "rule", "n_customers", "share", "mean_probability", "mean_profit",
                        "profit_at_risk", "expected_loss", "profile"}
    actions = doc["actions"]
    assert set(actions) >= {"plans", "rules", "top", "n_rows", "n_customers", "n_treatment", "n_control"}
    assert set(actions["plans"][0]) >= {"action", "audience", "treatment", "control", "mde", "cost", "expected_value",
                                        "break_even_save_rate", "testable"}
    assert set(actions["rules"][0]["outcomes"][0]["evidence"][0]) >= {"feature", "effect_size", "mean_shap"}
    assert {t["stage"] for t in doc["meta"]["stage_timings"]} >= {"load_validate_clean", "eda", "correlation",
                                                                  "model", "shap", "segments", "actions"}
