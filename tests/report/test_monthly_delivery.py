"""The monthly routine end to end: build twice (byte-identical), verify, email to a loopback SMTP
server, a later month with --previous, and the archive's numbered revisions."""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from report.cli import main
from tests.report.smtp_sink import running_sink

pytestmark = pytest.mark.slow
PERIOD, LATER = "2026-09", "2026-10"
STEM = f"oneclick-report_{PERIOD}_ru"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> tuple[Path, Path, Path]:
    """Two builds of the sample for PERIOD, both archived; returns (out1, out2, archive)."""
    root = tmp_path_factory.mktemp("monthly")
    archive = root / "archive"
    outs = []
    for i in (1, 2):
        out = root / f"out{i}"
        # both cold (the second would otherwise be served by the analysis cache): a rebuild from scratch
        assert main(["build", "--data", str(sample_dir), "--out", str(out), "--period", PERIOD,
                     "--archive", str(archive), "--no-cache"]) == 0
        outs.append(out)
    return outs[0], outs[1], archive


def test_two_builds_are_byte_identical(builds) -> None:  # noqa: ANN001
    out1, out2, _ = builds
    for name in (f"{STEM}.pdf", f"{STEM}.html", "scores.csv", "actions.csv"):
        assert _sha(out1 / name) == _sha(out2 / name), name


def manifest_outputs(out: Path) -> set[str]:
    return set(json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"])


def test_outputs_are_exactly_the_six_files(builds) -> None:  # noqa: ANN001
    out1, _, _ = builds
    assert sorted(p.name for p in out1.iterdir()) == sorted(
        [f"{STEM}.html", f"{STEM}.pdf", "results.json", "scores.csv", "actions.csv", "manifest.json"])
    assert manifest_outputs(out1) == {f"{STEM}.html", f"{STEM}.pdf", "results.json", "scores.csv", "actions.csv"}
    manifest = json.loads((out1 / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["inputs"]) == {"market_file.csv", "market_money.csv", "market_time.csv", "money.csv"}
    assert manifest["outputs"][f"{STEM}.pdf"] == _sha(out1 / f"{STEM}.pdf")
    assert manifest["seed"] == 42 and manifest["code_version"] and manifest["built_at"]
    assert {t["stage"] for t in manifest["stage_timings"]} >= {"model", "shap", "figures", "html", "pdf"}


def test_archive_keeps_numbered_revisions(builds) -> None:  # noqa: ANN001
    out1, _, archive = builds
    revisions = sorted(p.name for p in (archive / PERIOD).iterdir())
    assert revisions == ["r001", "r002"]
    assert _sha(archive / PERIOD / "r001" / f"{STEM}.pdf") == _sha(out1 / f"{STEM}.pdf")


def test_verify_accepts_good_and_refuses_tampered(builds: tuple[Path, Path, Path], sample_dir: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out1, _, archive = builds
    archived = archive / PERIOD / "r001" / f"{STEM}.pdf"
    assert main(["verify", str(archived), "--data", str(sample_dir)]) == 0
    other = tmp_path / "other"
    shutil.copytree(sample_dir, other)
    (other / "money.csv").write_bytes((other / "money.csv").read_bytes().replace(b";1,", b";2,", 1))
    assert main(["verify", str(archived), "--data", str(other)]) != 0
    assert "money.csv" in capsys.readouterr().out
    tampered = tmp_path / "tampered"
    shutil.copytree(out1, tampered)
    pdf = tampered / f"{STEM}.pdf"
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0x01
    pdf.write_bytes(bytes(data))
    assert main(["verify", str(pdf)]) != 0


def test_email_reaches_a_loopback_server(builds, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    out1, _, _ = builds
    monkeypatch.delenv("ONECLICK_SMTP_USER", raising=False)
    monkeypatch.delenv("ONECLICK_SMTP_PASSWORD", raising=False)
    with running_sink() as (port, sink):
        code = main(["send", "--report", str(out1), "--to", "director@example.com,cfo@example.com",
                     "--from", "reports@oneclick.local", "--smtp", f"127.0.0.1:{port}"])
    assert code == 0
    (envelope,) = sink.envelopes
    assert sorted(envelope.rcpt_tos) == ["cfo@example.com", "director@example.com"]
    message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert message["Subject"] == "Отчёт о покупательской активности — сентябрь 2026"
    types = [p.get_content_type() for p in message.walk()]
    assert types.count("text/plain") == 1 and types.count("text/html") == 1
    html = message.get_body(("html",)).get_content()
    assert "<script" not in html.lower() and "cid:segments-scatter" in html
    (pdf,) = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert pdf.get_content() == (out1 / f"{STEM}.pdf").read_bytes()
    assert "1\u00a0296" in message.get_body(("plain",)).get_content()


def test_refused_connection_exits_1(builds, capfd: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    import socket

    out1, _, _ = builds
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = main(["send", "--report", str(out1), "--to", "a@example.com", "--from", "b@example.com",
                 "--smtp", f"127.0.0.1:{port}"])
    assert code == 1 and f"127.0.0.1:{port}" in capfd.readouterr().err


def test_later_month_with_previous(builds, sample_dir: Path, tmp_path: Path) -> None:  # noqa: ANN001
    """Mostly the same customers a month later: matched, transitions, and the PDF names the previous month."""
    _, _, archive = builds
    later = tmp_path / "later"
    shutil.copytree(sample_dir, later)
    rng = np.random.default_rng(3)
    market = pd.read_csv(later / "market_file.csv", dtype=str)
    rows = rng.choice(len(market), 300, replace=False)
    pages = market["Страниц_за_визит"].astype(int)
    market.loc[rows, "Страниц_за_визит"] = (pages.iloc[rows] // 2).clip(lower=1).astype(str).to_numpy()
    market.to_csv(later / "market_file.csv", index=False)
    out = tmp_path / "out"
    assert main(["build", "--data", str(later), "--out", str(out), "--period", LATER,
                 "--archive", str(archive)]) == 0
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    comparison = results["comparison"]
    assert comparison["previous_period"] == PERIOD and comparison["customers_matched"] >= 1000
    transitions = comparison["segment_transitions"].values()
    assert sum(sum(row.values()) for row in transitions) == comparison["customers_matched"]
    import subprocess

    text = subprocess.run(["pdftotext", str(out / f"oneclick-report_{LATER}_ru.pdf"), "-"], capture_output=True,
                          text=True, check=False).stdout if shutil.which("pdftotext") else ""
    if text:
        assert "сентябрь 2026" in text


def test_send_refuses_a_report_that_does_not_match_its_manifest(builds, tmp_path: Path,  # noqa: ANN001
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    out1, _, _ = builds
    copy = tmp_path / "copy"
    shutil.copytree(out1, copy)
    pdf = copy / f"{STEM}.pdf"
    data = bytearray(pdf.read_bytes())
    data[-100] ^= 0x01
    pdf.write_bytes(bytes(data))
    eml = tmp_path / "m.eml"
    code = main(["send", "--report", str(copy), "--to", "a@example.com", "--from", "b@example.com",
                 "--smtp", "127.0.0.1:25", "--dry-run", str(eml)])
    assert code == 2 and not eml.exists()
    assert "refusing to send" in capsys.readouterr().err
