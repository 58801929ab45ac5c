"""The analysis gives the same results with its forked workers (data worker, CV, SHAP, permutation)
as in one process, and records the same stages."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


_FORKED_RUN = """
import pickle, sys
from pathlib import Path
from analysis.config import Config
from analysis.pipeline import run_analysis
out = run_analysis(Path(sys.argv[1]), config=Config(), period="2026-10")  # n_jobs = 2: forks
Path(sys.argv[2]).write_bytes(pickle.dumps((out.results, out.scores)))
"""


def test_workers_change_nothing_but_the_timings(tmp_path) -> None:  # noqa: ANN001
    import pickle
    import subprocess
    import sys
    from types import SimpleNamespace

    from analysis.config import Config
    from analysis.pipeline import run_analysis
    from tests.conftest import ROOT, SAMPLE_DIR

    alone = run_analysis(SAMPLE_DIR, config=Config(n_jobs=1), period="2026-10")
    # The forked run in a fresh interpreter, as a build runs: this test process has run polars already,
    # and a child forked from it would run its data layer in-process (analysis.features.fork_safe).
    subprocess.run([sys.executable, "-c", _FORKED_RUN, str(SAMPLE_DIR), str(tmp_path / "forked.pickle")],
                   check=True, cwd=ROOT, timeout=600)
    results, scores = pickle.loads((tmp_path / "forked.pickle").read_bytes())
    forked = SimpleNamespace(results=results, scores=scores)
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


def test_no_data_worker_is_forked_once_polars_runs_here() -> None:
    """A child forked from a process whose polars thread pool runs would wait forever: it runs here."""
    import polars as pl

    from analysis.features import fork_safe

    pl.DataFrame({"a": list(range(10_000))}).group_by("a").len()  # starts the pool
    assert not fork_safe()
