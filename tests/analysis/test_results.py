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
    assert set(seg) >= {"key", "rule", "n_customers", "share", "mean_probability", "mean_profit",
                        "profit_at_risk", "expected_loss", "profile"}
    actions = doc["actions"]
    assert set(actions) >= {"plans", "rules", "top", "n_rows", "n_customers", "n_treatment", "n_control"}
    assert set(actions["plans"][0]) >= {"action", "audience", "treatment", "control", "mde", "cost", "expected_value",
                                        "break_even_save_rate", "testable"}
    assert set(actions["rules"][0]["outcomes"][0]["evidence"][0]) >= {"feature", "effect_size", "mean_shap"}
    assert {t["stage"] for t in doc["meta"]["stage_timings"]} >= {"load_validate_clean", "eda", "correlation",
                                                                  "model", "shap", "segments", "actions"}


def test_a_version_2_results_file_loads_through_the_migration(results_sample: Results, tmp_path: Path) -> None:
    """Last month's archive may hold a schema-2 ``results.json``, with its wording in both languages:
    it loads as schema 3 with every fact kept and the sentences dropped."""
    doc = json.loads(results_sample.model_dump_json(by_alias=True))
    doc["schema_version"] = 2
    for entry in doc["data"]["cleaning_log"]:
        entry["note"] = {"ru": "расстояние Левенштейна 1", "en": "edit distance 1"}
    for feature in doc["data"]["features"]:
        feature.update(label_ru="метка", label_en="label")
    for item in doc["eda"]["numeric"] + doc["eda"]["categorical"]:
        item["interpretation"] = {"ru": "текст", "en": "text"}
    for seg in doc["segments"]["segments"]:
        seg["title"] = {"ru": "Сегмент", "en": "Segment"}
        del seg["profit_at_risk_share"]
    for c in doc["conclusions"]:
        c["text"] = {"ru": "вывод", "en": "conclusion"}
    del doc["model"]["runner_up"]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")

    loaded = Results.load(path)
    assert loaded.schema_version == 3
    expected_log = tuple(e.model_copy(update={"note": None}) for e in results_sample.data.cleaning_log)
    assert loaded.data.cleaning_log == expected_log
    assert loaded.segments == results_sample.segments  # the shares recomputed exactly as the analysis does
    assert loaded.model.runner_up == results_sample.model.runner_up
    assert loaded.model_copy(update={"data": results_sample.data}) == results_sample


def test_the_settings_off_their_defaults_are_recorded_as_the_analysis_ran(results_sample) -> None:  # noqa: ANN001
    from analysis.config import CandidateConfig, Config, changed_settings, settings

    assert results_sample.meta.settings_changed == ()  # the sample is analysed with the defaults
    defaults = Config()
    flat = settings(defaults)
    assert "cache.max_entries" not in flat and "model.candidates[KNN].grid.n_neighbors" in flat
    edited = defaults.model_copy(update={"model": defaults.model.model_copy(update={
        "candidates": (*[c for c in defaults.model.candidates if c.name != "SVC"],
                       CandidateConfig(name="Tree2", family="decision_tree", params={"max_depth": 3}))})})
    changes = {path: (value, default) for path, value, default in changed_settings(edited)}
    # a candidate added: its settings have no default; one removed: its settings no value
    assert changes["model.candidates[Tree2].params.max_depth"] == (3, None)
    assert changes["model.candidates[SVC].family"] == (None, "svc")
    assert "seed" not in changes
