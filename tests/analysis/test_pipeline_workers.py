"""The analysis gives the same results with its forked workers (data worker, CV, SHAP, permutation)
as in one process, and records the same stages."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_workers_change_nothing_but_the_timings(analysis_sample) -> None:  # noqa: ANN001
    from analysis.config import Config
    from analysis.pipeline import run_analysis
    from tests.conftest import SAMPLE_DIR

    alone = run_analysis(SAMPLE_DIR, config=Config(n_jobs=1), period="2026-10")
    forked = analysis_sample  # Config() forks: n_jobs = 2
    a = alone.results.without_measurements().model_dump(mode="json")
    b = forked.results.without_measurements().model_dump(mode="json")
    assert a["meta"]["config"]["n_jobs"] == 1 and b["meta"]["config"]["n_jobs"] == 2
    for section in a:
        if section != "meta":
            assert a[section] == b[section], section
    assert alone.scores.equals(forked.scores)
    stages = [(t.stage, t.parent) for t in alone.results.meta.stage_timings]
    assert stages == [(t.stage, t.parent) for t in forked.results.meta.stage_timings]
    assert stages[:4] == [("load", "load_validate_clean"), ("validate", "load_validate_clean"),
                          ("clean", "load_validate_clean"), ("load_validate_clean", None)]
    concurrent = {t.stage: t.concurrent for t in forked.results.meta.stage_timings}
    assert concurrent["load"] and concurrent["load_validate_clean"] and concurrent["correlation"]
    assert not any(t.concurrent for t in alone.results.meta.stage_timings)
