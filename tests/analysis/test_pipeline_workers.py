"""The analysis gives the same results with the build's worker processes (CV fits, exact TreeSHAP
rows, permutation importance) as in one process, and records the same stages."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_workers_change_nothing_but_the_timings() -> None:
    from analysis.config import Config
    from analysis.pipeline import run_analysis
    from report.build import start_executor
    from tests.conftest import SAMPLE_DIR

    # no executor: everything in this process, single-threaded like the workers' fits (a forest's
    # predict_proba summed by two threads may differ in the last bit, which can move a tie)
    alone = run_analysis(SAMPLE_DIR, config=Config(n_jobs=1), period="2026-10")
    with start_executor(Config(n_jobs=1)) as executor:
        pooled = run_analysis(SAMPLE_DIR, config=Config(n_jobs=1), period="2026-10", executor=executor)
    a = alone.results.without_measurements().model_dump(mode="json")
    b = pooled.results.without_measurements().model_dump(mode="json")
    assert a == b
    assert alone.scores.equals(pooled.scores)
    stages = [(t.stage, t.parent) for t in alone.results.meta.stage_timings]
    assert stages == [(t.stage, t.parent) for t in pooled.results.meta.stage_timings]
    assert stages[:4] == [("load", "load_validate_clean"), ("validate", "load_validate_clean"),
                          ("clean", "load_validate_clean"), ("load_validate_clean", None)]
    concurrent = {t.stage: t.concurrent for t in pooled.results.meta.stage_timings}
    assert concurrent["permutation"] and not concurrent["model"]
