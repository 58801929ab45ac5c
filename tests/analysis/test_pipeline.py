"""The analysis' own process: what it keeps alive from its start is out of the garbage collector's
way while it runs, and back in it once it ends, however it ends; a caller's own freeze is left alone."""

from __future__ import annotations

import gc

import pytest


class _Stop(Exception):
    """Raised by a test's callback to end the analysis early."""


def test_long_lived_objects_are_frozen_only_while_the_analysis_runs() -> None:
    from analysis.config import Config
    from analysis.pipeline import Findings, run_analysis
    from tests.conftest import SAMPLE_DIR

    seen: list[int] = []

    def stop(findings: Findings) -> None:
        seen.append(gc.get_freeze_count())
        raise _Stop

    before = gc.get_freeze_count()
    with pytest.raises(_Stop):  # at the first findings (the EDA and the correlations), before the model
        run_analysis(SAMPLE_DIR, config=Config(n_jobs=1), period="2026-10", on_findings=stop)
    # the libraries imported and the data prepared, frozen while it ran …
    assert seen and seen[0] > before
    # … and nothing left frozen by an analysis that ended (here by an error)
    assert gc.get_freeze_count() == before


def test_a_callers_freeze_is_left_alone() -> None:
    from analysis.config import Config
    from analysis.pipeline import Findings, run_analysis
    from tests.conftest import SAMPLE_DIR

    def stop(findings: Findings) -> None:
        raise _Stop

    mine = [[]]  # frozen by the caller: out of the collector's generations (gc.get_objects)
    gc.freeze()
    try:
        with pytest.raises(_Stop):
            run_analysis(SAMPLE_DIR, config=Config(n_jobs=1), period="2026-10", on_findings=stop)
        assert gc.get_freeze_count() > 0
        assert not any(obj is mine for obj in gc.get_objects())  # still frozen: not released by the analysis
    finally:
        gc.unfreeze()
    assert any(obj is mine for obj in gc.get_objects())
