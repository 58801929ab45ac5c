"""``oneclick-report monthly``: build the month, compare with the previous archived month, archive,
email — against a loopback SMTP server — and, on any failure, a clear message, a non-zero exit
and nothing sent."""

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

from report.cli import main
from tests.report.smtp_sink import EphemeralController, Sink
from report.monthly import MonthlyConfigError, default_period, load_monthly_config

PREVIOUS, PERIOD = "2026-09", "2026-10"


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, Sink]]:
    monkeypatch.delenv("ONECLICK_SMTP_USER", raising=False)
    monkeypatch.delenv("ONECLICK_SMTP_PASSWORD", raising=False)
    monkeypatch.delenv("ONECLICK_MANIFEST_KEY", raising=False)
    sink = Sink()
    controller = EphemeralController(sink, hostname="127.0.0.1", port=0, ready_timeout=5.0)
    controller.start()
    try:
        yield controller.port, sink
    finally:
        controller.stop()


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


def _write_config(folder: Path, *, data: Path, archive: Path, port: int, extra: str = "",
                  languages: str = '["ru"]', require_previous: str = "true") -> Path:
    path = folder / "monthly.toml"
    path.write_text(f"""
[source]
data = "{data}"

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


def test_default_period_is_the_month_that_just_ended() -> None:
    assert default_period(dt.date(2026, 12, 1)) == "2026-11"
    assert default_period(dt.date(2026, 12, 31)) == "2026-11"
    assert default_period(dt.date(2027, 1, 3)) == "2026-12"
