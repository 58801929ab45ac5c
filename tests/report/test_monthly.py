"""``oneclick-report monthly``: build the month, compare with the previous archived month, archive,
email — against a loopback SMTP server — and, on any failure, a clear message, a non-zero exit
and nothing sent. The source is a folder or a real PostgreSQL server on loopback (tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from analysis.sources import PostgresSource
from report.cli import main
from report.i18n import translator
from report.monthly import MonthlyConfigError, default_period, load_monthly_config
from tests.conftest import PostgresServer, load_into_postgres, raw_tables_typed
from tests.report.smtp_sink import Sink, running_sink

PREVIOUS, PERIOD = "2026-09", "2026-10"


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, Sink]]:
    monkeypatch.delenv("ONECLICK_SMTP_USER", raising=False)
    monkeypatch.delenv("ONECLICK_SMTP_PASSWORD", raising=False)
    monkeypatch.delenv("ONECLICK_MANIFEST_KEY", raising=False)
    with running_sink() as served:
        yield served


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> Path:
    """An archive holding the sample's build of the previous month; the cache in the same place."""
    root = tmp_path_factory.mktemp("monthly-cmd")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(root / "xdg"))
        patch.delenv("ONECLICK_MANIFEST_KEY", raising=False)
        assert main(["build", "--data", str(sample_dir), "--out", str(root / "prev"), "--period", PREVIOUS,
                     "--archive", str(root / "archive")]) == 0
    return root


def _write_config(folder: Path, *, data: Path | str, archive: Path, port: int, extra: str = "",
                  languages: str = '["ru"]', require_previous: str = "true", source_extra: str = "") -> Path:
    path = folder / "monthly.toml"
    path.write_text(f"""
[source]
data = "{data}"
{source_extra}

[output]
folder = "out"
archive = "{archive}"
languages = {languages}
require_previous = {require_previous}

[email]
from = "Отчёты «В один клик» <reports@oneclick.example>"
to = ["director@example.com", "cfo@example.com"]
{extra}
[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
timeout = 10
""", encoding="utf-8")
    return path


def _archive_copy(archived: Path, tmp_path: Path) -> Path:
    target = tmp_path / "archive"
    shutil.copytree(archived / "archive", target)
    return target


@pytest.mark.slow
def test_monthly_builds_compares_archives_and_sends(archived: Path, sample_dir: Path, tmp_path: Path,
                                                    smtp: tuple[int, Sink], monkeypatch: pytest.MonkeyPatch,
                                                    capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(archived / "xdg"))
    port, sink = smtp
    archive = _archive_copy(archived, tmp_path)
    config = _write_config(tmp_path, data=sample_dir, archive=archive, port=port, languages='["ru", "en"]',
                           extra='language = "en"')
    assert main(["monthly", "--config", str(config), "--period", PERIOD]) == 0
    out = capfd.readouterr().out
    built = tmp_path / "out" / PERIOD
    assert f"compared with {PREVIOUS}" in out and "sent «" in out
    results = json.loads((built / "en" / "results.json").read_text(encoding="utf-8"))
    assert results["comparison"] is not None and results["comparison"]["previous_period"] == PREVIOUS
    revisions = sorted(p.name for p in (archive / PERIOD).iterdir())
    assert revisions == ["r001", "r002"]
    (envelope,) = sink.envelopes
    assert sorted(envelope.rcpt_tos) == ["cfo@example.com", "director@example.com"]
    message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert message["Subject"].startswith("Purchasing activity report")
    (pdf,) = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert pdf.get_content() == (built / "en" / f"oneclick-report_{PERIOD}_en.pdf").read_bytes()
    assert main(["verify", str(archive / PERIOD / "r002" / f"oneclick-report_{PERIOD}_en.pdf")]) == 0


@pytest.mark.slow
def test_bad_input_exits_2_and_sends_nothing(archived: Path, data_copy: Path, tmp_path: Path,
                                             smtp: tuple[int, Sink], capfd: pytest.CaptureFixture[str]) -> None:
    port, sink = smtp
    archive = _archive_copy(archived, tmp_path)
    (data_copy / "money.csv").write_text("id;Прибыль\n", encoding="utf-8")
    config = _write_config(tmp_path, data=data_copy, archive=archive, port=port)
    assert main(["monthly", "--config", str(config), "--period", PERIOD]) == 2
    assert "money.csv" in capfd.readouterr().err
    assert sink.envelopes == [] and not (archive / PERIOD).exists()


def test_missing_previous_month_exits_1_before_building(sample_dir: Path, tmp_path: Path, smtp: tuple[int, Sink],
                                                        capfd: pytest.CaptureFixture[str]) -> None:
    port, sink = smtp
    config = _write_config(tmp_path, data=sample_dir, archive=tmp_path / "empty-archive", port=port)
    assert main(["monthly", "--config", str(config), "--period", PERIOD]) == 1
    err = capfd.readouterr().err
    assert f"no archived results of {PREVIOUS}" in err and "nothing was built or sent" in err
    assert sink.envelopes == [] and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_archive_failure_exits_1_and_sends_nothing(archived: Path, sample_dir: Path, tmp_path: Path,
                                                   smtp: tuple[int, Sink], monkeypatch: pytest.MonkeyPatch,
                                                   capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(archived / "xdg"))
    port, sink = smtp
    archive = _archive_copy(archived, tmp_path)
    (archive / PERIOD).write_text("not a folder", encoding="utf-8")  # the month's revisions cannot be made
    config = _write_config(tmp_path, data=sample_dir, archive=archive, port=port)
    assert main(["monthly", "--config", str(config), "--period", PERIOD]) == 1
    err = capfd.readouterr().err
    assert "archiving" in err and "nothing was sent" in err
    assert sink.envelopes == []


@pytest.mark.slow
def test_unreachable_smtp_exits_1(archived: Path, sample_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(archived / "xdg"))
    monkeypatch.delenv("ONECLICK_SMTP_USER", raising=False)
    monkeypatch.delenv("ONECLICK_SMTP_PASSWORD", raising=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = _write_config(tmp_path, data=sample_dir, archive=_archive_copy(archived, tmp_path), port=port)
    assert main(["monthly", "--config", str(config), "--period", PERIOD]) == 1
    err = capfd.readouterr().err
    assert "but the email failed" in err and f"127.0.0.1:{port}" in err


@pytest.mark.parametrize(("text", "match"), [
    ("", r"source: Field required"),
    (('[source]\ndata = "d"\n[output]\nfolder = "o"\narchive = "a"\n[email]\nfrom = "a@b.c"\nto = ["x@y.z"]\n'
      '[smtp]\nhost = "h"\nport = 70000\n'), r"smtp\.port: Input should be less than or equal to 65535"),
    (('[source]\ndata = "d"\n[output]\nfolder = "o"\narchive = "a"\n[email]\nfrom = "a@b.c"\nto = []\n'
      '[smtp]\nhost = "h"\nport = 25\n'), r"email\.to: .*at least 1"),
    (('[source]\ndata = "d"\n[output]\nfolder = "o"\narchive = "a"\n[email]\nfrom = "nobody"\nto = ["x@y.z"]\n'
      '[smtp]\nhost = "h"\nport = 25\n'), r"email\.from: .*'nobody' is not an email address"),
    (('[source]\ndata = "d"\n[output]\nfolder = "o"\narchive = "a"\nlanguages = ["de"]\n[email]\nfrom = "a@b.c"\n'
      'to = ["x@y.z"]\n[smtp]\nhost = "h"\nport = 25\n'), r"output\.languages\.0: Input should be 'ru' or 'en'"),
    (('[source]\ndata = "d"\n[output]\nfolder = "o"\narchive = "a"\n[email]\nfrom = "a@b.c"\nto = ["x@y.z"]\n'
      'language = "en"\n[smtp]\nhost = "h"\nport = 25\n'), r"email\.language 'en' is not among output\.languages"),
    (('[source]\ndata = "d"\n[output]\nfolder = "o"\narchive = "a"\n[email]\nfrom = "a@b.c"\nto = ["x@y.z"]\n'
      '[smtp]\nhost = "h"\nport = 25\npassword = "hunter2"\n'), r"smtp\.password: .*set ONECLICK_SMTP_PASSWORD"),
    (('[source]\ndata = "d"\n[output]\nfolder = "o"\narchive = "a"\n[email]\nfrom = "a@b.c"\nto = ["x@y.z"]\n'
      '[smtp]\nhost = "h"\nport = 25\nsecurity = "tls"\n'), r"smtp\.security: Input should be 'none', 'starttls' or"),
    (('[source]\ndata = "d"\n[output]\nfolder = "o"\narchive = "a"\n[email]\nfrom = "a@b.c"\nto = ["x@y.z"]\n'
      '[smtp]\nhost = "bad host"\nport = 25\n'), r"smtp: .*invalid host"),
    ('[source]\ndata = "d"\nextra = 1\n', r"source\.extra: Extra inputs are not permitted"),
    ("[source\n", r"not valid TOML"),
    (('[source]\ndata = "postgresql://shop:hunter2@127.0.0.1:5432/shop"\n[output]\nfolder = "o"\narchive = "a"\n'
      '[email]\nfrom = "a@b.c"\nto = ["x@y.z"]\n[smtp]\nhost = "h"\nport = 25\n'),
     r"source\.data: .*shop:\*\*\*@127\.0\.0\.1:5432/shop: the URL holds a password .*PGPASSWORD"),
    (('[source]\ndata = "postgresql://127.0.0.1/shop?password=hunter2"\n[output]\nfolder = "o"\narchive = "a"\n'
      '[email]\nfrom = "a@b.c"\nto = ["x@y.z"]\n[smtp]\nhost = "h"\nport = 25\n'),
     r"source\.data: .*the URL holds a password \(password\).*PGPASSWORD"),
    ('[source]\ndata = "postgresql://shop@h/db"\npassword = "hunter2"\n',
     r"source\.password: secrets are not read from the file; set PGPASSWORD \(or ~/\.pgpass\)"),
    ('[source]\ndata = "postgresql://shop@h/db"\n[source.queries]\nmoney = "SELECT 1"\n',
     r"source: .*queries: a database's tables and queries go into the analysis configuration's \[source\]"),
])
def test_invalid_configuration_exits_2(tmp_path: Path, text: str, match: str,
                                       capfd: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "monthly.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MonthlyConfigError, match=match):
        load_monthly_config(path)
    assert main(["monthly", "--config", str(path)]) == 2
    err = capfd.readouterr().err
    assert str(path) in err and "hunter2" not in err


def test_half_set_credentials_and_missing_source_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capfd: pytest.CaptureFixture[str]) -> None:
    config = _write_config(tmp_path, data=tmp_path / "nowhere", archive=tmp_path / "a", port=25,
                           require_previous="false")
    monkeypatch.delenv("ONECLICK_SMTP_USER", raising=False)
    monkeypatch.delenv("ONECLICK_SMTP_PASSWORD", raising=False)
    assert main(["monthly", "--config", str(config)]) == 2
    assert "source.data" in capfd.readouterr().err
    monkeypatch.setenv("ONECLICK_SMTP_PASSWORD", "hunter2")
    assert main(["monthly", "--config", str(config)]) == 2
    err = capfd.readouterr().err
    assert "ONECLICK_SMTP_USER is not" in err and "hunter2" not in err
    assert main(["monthly", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "no such file" in capfd.readouterr().err


def test_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    config = load_monthly_config(_write_config(tmp_path, data=Path("data"), archive=Path("arch"), port=25))
    assert config.source.data == tmp_path.resolve() / "data"
    assert config.output.folder == tmp_path.resolve() / "out"
    assert config.output.archive == tmp_path.resolve() / "arch"
    assert config.emailed_language == "ru"
    url = "postgresql://shop@db.oneclick.example:5432/shop?sslmode=require"
    assert load_monthly_config(_write_config(tmp_path, data=url, archive=Path("arch"), port=25)).source.data == \
        PostgresSource(url)


def test_default_period_is_the_month_that_just_ended() -> None:
    assert default_period(dt.date(2026, 12, 1)) == "2026-11"
    assert default_period(dt.date(2026, 12, 31)) == "2026-11"
    assert default_period(dt.date(2027, 1, 3)) == "2026-12"


# --- a PostgreSQL source ---------------------------------------------------------------------------------------

_QUERY = 'SELECT id, "Прибыль" FROM money ORDER BY id'


@pytest.mark.realdata
@pytest.mark.slow
def test_monthly_from_postgres_builds_archives_and_sends(real_database: str, postgres_server: PostgresServer,
                                                         tmp_path: Path, smtp: tuple[int, Sink],
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capfd: pytest.CaptureFixture[str]) -> None:
    """The real data in a real server: read with the tables and queries of the analysis
    configuration (source.config), built, archived and sent; the password only in PGPASSWORD."""
    monkeypatch.setenv("PGPASSWORD", postgres_server.password)
    port, sink = smtp
    (tmp_path / "analysis.toml").write_text(
        f'[source]\nmarket_time = "public.market_time"\n[source.queries]\nmoney = \'{_QUERY}\'\n', encoding="utf-8")
    archive = tmp_path / "archive"
    config = _write_config(tmp_path, data=real_database, archive=archive, port=port, require_previous="false",
                           source_extra='config = "analysis.toml"')
    assert main(["monthly", "--config", str(config), "--period", PERIOD]) == 0
    out, err = capfd.readouterr()
    assert f"building from {real_database}" in err and "no previous month archived" in out
    built = tmp_path / "out" / PERIOD
    manifest_text = (built / "manifest.json").read_text(encoding="utf-8")
    read = {s["table"]: s for s in json.loads(manifest_text)["sources"]}
    assert read["money"]["origin"] == _QUERY
    assert read["market_time"]["source"] == "market_time (PostgreSQL table public.market_time)"
    assert [read[t]["rows"] for t in ("market_file", "market_money", "market_time", "money")] == [1300, 3900, 2600,
                                                                                                   1300]
    results = json.loads((built / "results.json").read_text(encoding="utf-8"))
    assert {t["encoding"] for t in results["data"]["tables"]} == {"postgresql"}
    assert results["data"]["n_customers_analysed"] == 1296
    html = (built / f"oneclick-report_{PERIOD}_ru.html").read_text(encoding="utf-8")
    assert translator("ru")("method.data_source.postgresql") in html and "CSV-таблицы" not in html
    assert sorted(p.name for p in (archive / PERIOD).iterdir()) == ["r001"]
    (envelope,) = sink.envelopes
    message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    (pdf,) = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert pdf.get_content() == (built / f"oneclick-report_{PERIOD}_ru.pdf").read_bytes()
    assert postgres_server.password not in out + err + manifest_text


def _dead_port(server: PostgresServer, sample_dir: Path) -> str:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgresql://{server.user}@127.0.0.1:{port}/shop"


def _database_without(table: str) -> object:
    def make(server: PostgresServer, sample_dir: Path) -> str:
        tables = raw_tables_typed(sample_dir, identifiers=("market_file",))
        tables.pop(table)
        load_into_postgres(server, f"without_{table}", tables)
        return server.url(f"without_{table}")
    return make


def _profit_as_text(server: PostgresServer, sample_dir: Path) -> str:
    tables = raw_tables_typed(sample_dir, identifiers=("market_file",))
    money = tables["money"]
    tables["money"] = money.assign(Прибыль=money["Прибыль"].astype(str).where(money.index != 4, "n/a"))
    load_into_postgres(server, "profit_as_text", tables)
    return server.url("profit_as_text")


@pytest.mark.parametrize(("database", "fragments"), [
    (_dead_port, ["cannot connect to the database", "Connection refused", "PGPASSWORD"]),
    (_database_without("market_time"), ["market_time (PostgreSQL table market_time): the table does not exist",
                                        "source.market_time"]),
    (_profit_as_text, ["money (PostgreSQL table money), column «Прибыль»", "not numbers", "'n/a'"]),
], ids=["dead-port", "missing-table", "wrong-type"])
def test_bad_database_exits_2_and_nothing_is_archived_or_sent(
        database, postgres_server: PostgresServer, sample_dir: Path, tmp_path: Path,  # noqa: ANN001
        smtp: tuple[int, Sink], monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
        fragments: list[str]) -> None:
    monkeypatch.setenv("PGPASSWORD", postgres_server.password)
    port, sink = smtp
    url = database(postgres_server, sample_dir)
    archive = tmp_path / "archive"
    config = _write_config(tmp_path, data=url, archive=archive, port=port, require_previous="false")
    assert main(["monthly", "--config", str(config), "--period", PERIOD]) == 2
    err = capfd.readouterr().err
    assert f"monthly run {PERIOD}, step «build» (source.data = {url}): " in err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"
    assert "Nothing was built, archived or sent." in err
    assert "Traceback" not in err and postgres_server.password not in err
    assert sink.envelopes == [] and not archive.exists()
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
