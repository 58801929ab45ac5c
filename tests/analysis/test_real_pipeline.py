"""The analysis on the published data meets the brief, and re-exports of it give identical results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from analysis.config import Config
from analysis.features import prepare_data
from analysis.pipeline import run_analysis

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def real_run(real_dir: Path):  # noqa: ANN201
    return run_analysis(real_dir, config=Config(), period="2026-10")


def test_model_meets_the_brief(real_run) -> None:  # noqa: ANN001
    m = real_run.results.model
    assert len([c for c in m.candidates if not c.skipped]) >= 5
    selected = next(c for c in m.candidates if c.name == m.selected.name)
    assert selected.cv_roc_auc_mean >= 0.915
    assert m.test.roc_auc_ci95[0] < m.test.roc_auc < m.test.roc_auc_ci95[1]
    assert m.test.brier <= 0.09
    assert "profit" not in m.features


def test_scores_are_not_in_sample(real_run, real_dir: Path) -> None:  # noqa: ANN001
    target = prepare_data(real_dir, Config()).frame["target"]
    scores = real_run.scores
    assert roc_auc_score(target.loc[scores["id"]].to_numpy(), scores["probability"].to_numpy()) <= 0.95


def test_results_meta_and_data(real_run) -> None:  # noqa: ANN001
    r = real_run.results
    assert r.data.n_customers_raw == 1300 and r.data.n_customers_active == 1297
    assert set(r.meta.input_sha256) == {"market_file.csv", "market_money.csv", "market_time.csv", "money.csv"}
    logged = {e.from_ for e in r.data.cleaning_log}
    assert {"стандартт", "предыдцщий_месяц", "Косметика и аксесуары", 106862.2} <= logged


def _export(src: Path, dst: Path, *, encoding: str, sep: str, decimal: str, eol: str, bom: bool) -> None:
    dst.mkdir()
    for path in src.glob("*.csv"):
        frame = pd.read_csv(path, sep=None, engine="python", dtype=str)
        for col in frame.columns[1:]:
            if frame[col].str.fullmatch(r"-?\d+([.,]\d+)?").all():
                frame[col] = frame[col].str.replace("." if decimal == "," else ",", decimal, regex=False)
        text = frame.to_csv(index=False, sep=sep, lineterminator=eol)
        data = text.encode(encoding)
        dst.joinpath(path.name).write_bytes((b"\xef\xbb\xbf" + data) if bom else data)


@pytest.mark.parametrize("variant", [
    {"encoding": "utf-8", "sep": ",", "decimal": ".", "eol": "\r\n", "bom": True},
    {"encoding": "cp1251", "sep": ";", "decimal": ",", "eol": "\r\n", "bom": False},
    {"encoding": "utf-8", "sep": "\t", "decimal": ".", "eol": "\n", "bom": False},
], ids=["windows-bom-crlf", "excel-cp1251-semicolon", "tab"])
def test_reexports_give_identical_data(real_dir: Path, tmp_path: Path, variant: dict) -> None:
    reference = prepare_data(real_dir, Config())
    _export(real_dir, tmp_path / "export", **variant)
    exported = prepare_data(tmp_path / "export", Config())
    pd.testing.assert_frame_equal(exported.frame, reference.frame)
    strip = {"tables"}
    assert exported.result.model_dump(exclude=strip) == reference.result.model_dump(exclude=strip)
    assert {t.encoding for t in exported.result.tables} == {"utf-8-sig" if variant["bom"] else variant["encoding"]}


def test_a_later_month_follows_its_own_data(real_dir: Path, tmp_path: Path) -> None:
    """Other ids, rows and columns in another order, typos in other rows: the analysis follows the data."""
    rng = np.random.default_rng(7)
    out = tmp_path / "later"
    out.mkdir()
    shift = 1_000_000
    for path in real_dir.glob("*.csv"):
        sep = ";" if path.name == "money.csv" else ","
        frame = pd.read_csv(path, sep=sep, dtype=str)
        frame["id"] = (frame["id"].astype(int) + shift).astype(str)
        frame = frame.iloc[rng.permutation(len(frame))]
        frame = frame[[frame.columns[0], *rng.permutation(frame.columns[1:]).tolist()]]
        if path.name == "market_file.csv":
            frame["Тип сервиса"] = frame["Тип сервиса"].str.replace("стандартт", "стандарт")
            rows = rng.choice(len(frame), 7, replace=False)
            frame.iloc[rows, frame.columns.get_loc("Тип сервиса")] = "премиумм"
        frame.to_csv(out / path.name, sep=sep, index=False)
    later = run_analysis(out, config=Config(), period="2026-11")
    r = later.results
    assert r.meta.period == "2026-11" and r.meta.report_date == "2026-11-30"
    assert ("премиумм", "премиум", 7) in {(e.from_, e.to, e.rows) for e in r.data.cleaning_log}
    assert "стандартт" not in {e.from_ for e in r.data.cleaning_log}
    assert r.data.outliers[0].ids == (215380 + shift,)
    assert later.scores["id"].min() > shift
    from report.texts import conclusion_text

    assert all(str(1_215_380) not in conclusion_text(r, c, lang="ru") for c in r.conclusions)
