"""Sources beside CSV: Parquet files and a real PostgreSQL server give the CSV build's results;
bad input from them is refused like a bad file (exit 2, the table, column and rows named)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis.config import Config
from analysis.features import prepare_data
from analysis.results import Results
from analysis.sources import PostgresSource, parse_source
from report.cli import main
from report.structure import data_source_kind
from tests.conftest import load_into_postgres, raw_tables_typed


def _write_parquet(tables: dict[str, pd.DataFrame], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def _same_data(got, want) -> None:  # noqa: ANN001 - PreparedData
    pd.testing.assert_frame_equal(got.frame, want.frame)
    assert got.result.model_dump(exclude={"tables"}) == want.result.model_dump(exclude={"tables"})
    assert [t.rows for t in got.result.tables] == [t.rows for t in want.result.tables]


def _comparable(results: Path) -> dict:
    """results.json without what differs by source or run: the measurements (timings), the inputs'
    names and hashes, the tables' formats."""
    data = json.loads(Results.load(results).without_measurements().model_dump_json(by_alias=True))
    data["meta"].pop("input_sha256")
    data["data"].pop("tables")
    return data


# --- Parquet ---------------------------------------------------------------------------------------------------

@pytest.mark.realdata
def test_parquet_gives_the_csv_data(real_dir: Path, tmp_path: Path) -> None:
    folder = _write_parquet(raw_tables_typed(real_dir), tmp_path / "parquet")
    got = prepare_data(folder, Config())
    _same_data(got, prepare_data(real_dir, Config()))
    assert {t.file for t in got.result.tables} == {"market_file.parquet", "market_money.parquet",
                                                   "market_time.parquet", "money.parquet"}
    assert {t.encoding for t in got.result.tables} == {"parquet"}
    assert data_source_kind(got.result.tables) == "parquet"


def test_parquet_and_csv_may_be_mixed_but_not_doubled(sample_dir: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    tables = raw_tables_typed(sample_dir)
    tables["market_money"].to_parquet(folder / "market_money.parquet", index=False)
    for name in ("market_file", "market_time", "money"):
        (folder / f"{name}.csv").write_bytes((sample_dir / f"{name}.csv").read_bytes())
    _same_data(prepare_data(folder, Config()), prepare_data(sample_dir, Config()))
    (folder / "market_money.csv").write_bytes((sample_dir / "market_money.csv").read_bytes())
    assert main(["validate", "--data", str(folder)]) == 2
    assert "both market_money.csv and market_money.parquet" in capsys.readouterr().err


@pytest.mark.parametrize(("change", "fragments"), [
    (lambda t: t["market_file"].assign(Длительность=pd.to_datetime("2026-01-01")),
     ["market_file.parquet", "«Длительность»", "a column of type Datetime", "numbers"]),
    (lambda t: t["market_file"].assign(Длительность=t["market_file"]["Длительность"].astype(str).where(
        t["market_file"].index != 3, "много")),
     ["market_file.parquet", "«Длительность»", "not numbers", "'много'"]),
    (lambda t: t["market_file"].assign(**{"Тип сервиса": 1}),
     ["market_file.parquet", "«Тип сервиса»", "a column of type Int64", "text"]),
    (lambda t: t["market_file"].drop(columns=["Ошибка_сервиса"]),
     ["market_file.parquet", "«Ошибка_сервиса»", "missing column"]),
    (lambda t: t["market_file"].assign(Акционные_покупки=t["market_file"]["Акционные_покупки"].where(
        t["market_file"].index != 5, None)),
     ["market_file.parquet", "«Акционные_покупки»", "empty values"]),
], ids=["date-for-number", "text-for-number", "number-for-text", "missing-column", "null"])
def test_bad_parquet_exits_2(sample_dir: Path, tmp_path: Path, change, fragments: list[str],  # noqa: ANN001
                             capsys: pytest.CaptureFixture[str]) -> None:
    tables = raw_tables_typed(sample_dir)
    tables["market_file"] = change(tables)
    folder = _write_parquet(tables, tmp_path / "bad")
    assert main(["validate", "--data", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"


def test_corrupt_parquet_exits_2(sample_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _write_parquet(raw_tables_typed(sample_dir), tmp_path / "corrupt")
    (folder / "money.parquet").write_bytes(b"PAR1 this is not parquet")
    assert main(["validate", "--data", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "money.parquet: cannot be read as Parquet" in err and "Traceback" not in err


# --- PostgreSQL ------------------------------------------------------------------------------------------------

def test_a_password_in_the_url_is_refused_and_not_echoed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["validate", "--data", "postgresql://shop:s3cr3t-pw@127.0.0.1:5432/shop"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "PGPASSWORD" in err and "s3cr3t-pw" not in err
    with pytest.raises(ValueError, match="PGPASSWORD"):
        parse_source("postgresql://127.0.0.1/shop?password=s3cr3t-pw")
    assert parse_source("postgresql://shop@127.0.0.1:5432/shop") == PostgresSource("postgresql://shop@127.0.0.1:5432/shop")


@pytest.mark.realdata
@pytest.mark.slow
def test_postgres_and_parquet_builds_give_the_csv_results(real_database: str, real_dir: Path, tmp_path: Path,
                                              postgres_server, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("PGPASSWORD", postgres_server.password)
    source = parse_source(real_database)
    _same_data(prepare_data(source, Config()), prepare_data(real_dir, Config()))
    args = ["--period", "2026-10", "--lang", "en"]
    parquet = _write_parquet(raw_tables_typed(real_dir), tmp_path / "parquet")
    assert main(["build", "--data", real_database, "--out", str(tmp_path / "pg"), *args]) == 0
    assert main(["build", "--data", str(parquet), "--out", str(tmp_path / "pq"), *args]) == 0
    assert main(["build", "--data", str(real_dir), "--out", str(tmp_path / "csv"), *args]) == 0
    csv_results = _comparable(tmp_path / "csv" / "results.json")
    assert _comparable(tmp_path / "pg" / "results.json") == csv_results
    assert _comparable(tmp_path / "pq" / "results.json") == csv_results
    manifest = json.loads((tmp_path / "pg" / "manifest.json").read_text(encoding="utf-8"))
    read = {s["table"]: s for s in manifest["sources"]}
    assert read["market_money"]["origin"] == 'SELECT * FROM "market_money"'
    assert (read["market_file"]["rows"], read["market_money"]["rows"], read["market_time"]["rows"],
            read["money"]["rows"]) == (1300, 3900, 2600, 1300)
    assert all(len(s["sha256"]) == 64 for s in read.values())
    assert postgres_server.password not in json.dumps(manifest)
    assert postgres_server.password not in (tmp_path / "pg" / "results.json").read_text(encoding="utf-8")


@pytest.mark.realdata
def test_postgres_queries_from_the_config(real_database: str, real_dir: Path, tmp_path: Path,
                                          postgres_server, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("PGPASSWORD", postgres_server.password)
    config = Config.model_validate({"source": {
        "market_time": "public.market_time",
        "queries": {"money": 'SELECT id, "Прибыль" FROM money ORDER BY id'}}})
    got = prepare_data(parse_source(real_database), config)
    want = prepare_data(real_dir, Config())
    pd.testing.assert_frame_equal(got.frame, want.frame)
    assert {s["table"]: s["origin"] for s in got.sources}["money"] == 'SELECT id, "Прибыль" FROM money ORDER BY id'
    assert {s["table"]: s["source"] for s in got.sources}["market_time"] == \
        "market_time (PostgreSQL table public.market_time)"


def _bad_database(postgres_server, real_dir: Path, name: str, change) -> str:  # noqa: ANN001
    tables = raw_tables_typed(real_dir, identifiers=("market_file",))
    change(tables)
    load_into_postgres(postgres_server, name, tables)
    return postgres_server.url(name)


@pytest.mark.realdata
@pytest.mark.parametrize(("change", "fragments"), [
    (lambda t: t.pop("market_time"),
     ["market_time (PostgreSQL table market_time)", "the table does not exist", "source.market_time"]),
    (lambda t: t.update(market_file=t["market_file"].assign(tenure_days=pd.to_datetime("2026-01-01"))),
     ["market_file (PostgreSQL table market_file)", "«Длительность»", "a column of type Datetime"]),
    (lambda t: t.update(money=t["money"].assign(Прибыль=t["money"]["Прибыль"].astype(str).where(
        t["money"].index != 4, "n/a"))),
     ["money (PostgreSQL table money)", "«Прибыль»", "not numbers", "'n/a'", "id 215352"]),
    (lambda t: t.update(market_money=t["market_money"].rename(columns={"Выручка": "выручка_руб"})),
     ["market_money (PostgreSQL table market_money)", "«Выручка»", "missing column"]),
], ids=["missing-table", "wrong-type", "text-for-number", "missing-column"])
def test_bad_database_exits_2(postgres_server, real_dir: Path, change, fragments: list[str],  # noqa: ANN001
                              monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    url = _bad_database(postgres_server, real_dir, "bad", change)
    monkeypatch.setenv("PGPASSWORD", postgres_server.password)
    assert main(["validate", "--data", url]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and postgres_server.password not in err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"


def test_failed_connection_exits_2(postgres_server, monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PGPASSWORD", "not-the-password")
    assert main(["validate", "--data", postgres_server.url()]) == 2
    err = capsys.readouterr().err
    assert "cannot connect to the database" in err and "PGPASSWORD" in err and "Traceback" not in err
    assert "not-the-password" not in err
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert main(["validate", "--data", f"postgresql://oneclick@127.0.0.1:{port}/shop"]) == 2
    assert "cannot connect to the database" in capsys.readouterr().err
