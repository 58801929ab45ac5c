"""Shared fixtures: the project's sample, the real data (when ../shared is beside the clone), and
one analysis run on the sample reused by every test that needs a real :class:`Results`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "data" / "sample"
REAL_DIR = ROOT.parent / "shared" / "data" / "one-click"


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The project's own synthetic sample (read-only: copy before changing)."""
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """The published data set; skips where ../shared is not beside the project."""
    if not (REAL_DIR / "market_file.csv").is_file():
        pytest.skip("the real data set (../shared/data/one-click) is not available")
    return REAL_DIR


@pytest.fixture()
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the sample, to make bad inputs from."""
    target = tmp_path / "data"
    shutil.copytree(SAMPLE_DIR, target)
    return target


@pytest.fixture(scope="session")
def analysis_sample():  # noqa: ANN201 - analysis.pipeline.AnalysisOutput
    """One full analysis run on the sample (results + scores), shared by the session."""
    from analysis.config import Config
    from analysis.pipeline import run_analysis

    return run_analysis(SAMPLE_DIR, config=Config(), period="2026-10")


@pytest.fixture(scope="session")
def results_sample(analysis_sample):  # noqa: ANN001, ANN201 - analysis.results.Results
    """The :class:`Results` of the sample run."""
    return analysis_sample.results
