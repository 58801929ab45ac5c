"""Tests of :func:`report.verify.verify_report`.

The PDF renderer is not needed: the fixture writes a small valid PDF with pikepdf carrying the
same attachments a build attaches (``results.json``, ``scores.csv``, the embedded
``manifest.json``) and the manifests exactly as :func:`report.build.build_report` does, with its own
helpers. One test does the same with a PDF written by WeasyPrint, as the real renderer does.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest

from report.build import _json_bytes, _manifest, report_stem, sha256_bytes
from report.verify import Check, VerifyResult, main, verify_report

PERIOD, LANG = "2026-10", "ru"
STEM = report_stem(PERIOD, LANG)
RESULTS = b'{"schema_version": 1, "meta": {"period": "2026-10"}}\n'
SCORES = b"id,probability,segment\n215348,0.91,retain_profitable\n215349,0.12,loyal_profitable\n"
ACTIONS = (b"id,segment,action,channel,group,expected_value,reason\n"
           b"215348,retain_profitable,promo_cart,site,treatment,0.12,reason\n")
HTML = "<!doctype html><html><body><h1>Отчёт</h1></body></html>".encode()


@dataclass(frozen=True)
class Built:
    """A report folder made like a build makes it."""

    folder: Path
    pdf: Path
    data_dir: Path


def pikepdf_writer(path: Path, attachments: list[tuple[str, bytes, str]]) -> None:
    """A one-page PDF with embedded files, written with pikepdf."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    for name, data, description in attachments:
        pdf.attachments[name] = pikepdf.AttachedFileSpec(pdf, data, description=description, filename=name)
    pdf.save(path)


def weasyprint_writer(path: Path, attachments: list[tuple[str, bytes, str]]) -> None:
    """A PDF/A-3b written by WeasyPrint with attachments, as the real renderer does."""
    import weasyprint

    weasyprint.HTML(string=HTML.decode()).write_pdf(
        path, pdf_variant="pdf/a-3b",
        attachments=[weasyprint.Attachment(string=data, name=name, description=description)
                     for name, data, description in attachments])


def build_like_report(folder: Path, data_dir: Path, *, writer=pikepdf_writer,  # noqa: ANN001 - a writer function
                      attached_results: bytes = RESULTS) -> Built:
    """Write html, results.json, scores.csv, the PDF and manifest.json the way report/build.py does.

    ``attached_results`` lets a test attach other bytes than the ``results.json`` recorded.
    """
    folder.mkdir(parents=True, exist_ok=True)
    inputs = {p.name: sha256_bytes(p.read_bytes()) for p in sorted(data_dir.glob("*.csv"))}
    meta = {"period": PERIOD, "input_sha256": inputs, "config": {"seed": 42}, "versions": {"python": "3.11"},
            "code_version": "0.1.0+test", "seed": 42}
    (folder / "results.json").write_bytes(RESULTS)
    (folder / "scores.csv").write_bytes(SCORES)
    (folder / "actions.csv").write_bytes(ACTIONS)
    (folder / f"{STEM}.html").write_bytes(HTML)
    inner_outputs = {"results.json": sha256_bytes(RESULTS), "scores.csv": sha256_bytes(SCORES),
                     "actions.csv": sha256_bytes(ACTIONS), f"{STEM}.html": sha256_bytes(HTML)}
    inner = _manifest(results_meta=meta, outputs=inner_outputs)
    pdf = folder / f"{STEM}.pdf"
    # WeasyPrint's Attachment(string=…) takes text; every attachment here is UTF-8.
    text = writer is weasyprint_writer
    writer(pdf, [(name, data.decode() if text else data, desc) for name, data, desc in (
        ("results.json", attached_results, "Results of the analysis (JSON)"),
        ("scores.csv", SCORES, "Per-customer probability, segment and offer"),
        ("actions.csv", ACTIONS, "Per-customer actions"),
        ("manifest.json", _json_bytes(inner), "Inputs, outputs and provenance"))])
    outer = _manifest(results_meta=meta, outputs={**inner_outputs, pdf.name: sha256_bytes(pdf.read_bytes())},
                      wall_clock="2026-11-01T00:00:00+00:00", timings=[])
    outer["embedded_manifest_sha256"] = sha256_bytes(_json_bytes(inner))
    (folder / "manifest.json").write_bytes(_json_bytes(outer))
    return Built(folder=folder, pdf=pdf, data_dir=data_dir)


@pytest.fixture()
def built(tmp_path: Path, data_copy: Path) -> Built:
    return build_like_report(tmp_path / "out", data_copy)


def failed(result: VerifyResult) -> dict[str, str]:
    return {c.name: c.detail for c in result.failures}


def test_a_good_report_verifies(built: Built) -> None:
    result = verify_report(built.pdf, data_dir=built.data_dir)
    assert result.ok, result.summary()
    names = [c.name for c in result.checks]
    for name in ("manifest", "pdf_sha256", "pdf_readable", "embedded_manifest", "embedded_manifest_sha256",
                 "embedded_outputs_agree", "attachment:results.json", "attachment:scores.csv",
                 "output:results.json", "output:scores.csv", f"output:{STEM}.html", "input:market_file.csv",
                 "input:market_money.csv", "input:market_time.csv", "input:money.csv"):
        assert name in names
    assert all(isinstance(c, Check) and c.ok for c in result.checks)


def test_a_report_written_by_weasyprint_verifies(tmp_path: Path, data_copy: Path) -> None:
    report = build_like_report(tmp_path / "out", data_copy, writer=weasyprint_writer)
    result = verify_report(report.pdf, data_dir=report.data_dir)
    assert result.ok, result.summary()


def test_one_changed_byte_in_the_pdf_fails(built: Built) -> None:
    data = bytearray(built.pdf.read_bytes())
    middle = len(data) // 2
    data[middle] = (data[middle] + 1) % 256
    built.pdf.write_bytes(bytes(data))
    result = verify_report(built.pdf)
    assert not result.ok
    assert "sha256 mismatch" in failed(result)["pdf_sha256"]


def test_an_unparsable_pdf_is_a_failed_check_not_a_crash(built: Built) -> None:
    built.pdf.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 10)
    result = verify_report(built.pdf)
    assert not result.ok
    assert set(failed(result)) >= {"pdf_sha256", "pdf_readable"}
    assert "cannot read the PDF" in failed(result)["pdf_readable"]
    # the outputs beside it are still checked
    assert result.check("output:results.json").ok


def test_a_swapped_attachment_fails_even_when_the_pdf_hash_is_rewritten(tmp_path: Path, data_copy: Path) -> None:
    report = build_like_report(tmp_path / "out", data_copy, attached_results=b'{"forged": true}\n')
    result = verify_report(report.pdf)
    assert not result.ok
    assert set(failed(result)) == {"attachment:results.json"}
    assert "sha256 mismatch" in failed(result)["attachment:results.json"]


def test_a_missing_attachment_fails(built: Built) -> None:
    with pikepdf.Pdf.open(built.pdf, allow_overwriting_input=True) as pdf:
        del pdf.attachments["scores.csv"]
        pdf.save(built.pdf)
    outer = json.loads((built.folder / "manifest.json").read_text(encoding="utf-8"))
    outer["outputs"][built.pdf.name] = sha256_bytes(built.pdf.read_bytes())
    (built.folder / "manifest.json").write_bytes(_json_bytes(outer))
    result = verify_report(built.pdf)
    assert failed(result) == {"attachment:scores.csv": "recorded but not attached to the PDF"}


def test_a_changed_embedded_manifest_fails(built: Built) -> None:
    outer = json.loads((built.folder / "manifest.json").read_text(encoding="utf-8"))
    outer["embedded_manifest_sha256"] = "0" * 64
    (built.folder / "manifest.json").write_bytes(_json_bytes(outer))
    assert set(failed(verify_report(built.pdf))) == {"embedded_manifest_sha256"}


def test_a_changed_output_beside_the_pdf_fails(built: Built) -> None:
    (built.folder / "scores.csv").write_bytes(SCORES.replace(b"0.91", b"0.19"))
    assert set(failed(verify_report(built.pdf))) == {"output:scores.csv"}


def test_an_absent_output_beside_the_pdf_is_not_a_failure(built: Built) -> None:
    (built.folder / f"{STEM}.html").unlink()
    result = verify_report(built.pdf)
    assert result.ok
    assert "not checked" in result.check(f"output:{STEM}.html").detail


def test_other_input_files_fail_naming_the_file(built: Built) -> None:
    money = built.data_dir / "money.csv"
    money.write_bytes(money.read_bytes().replace(b"5,89", b"5,90"))
    result = verify_report(built.pdf, data_dir=built.data_dir)
    assert not result.ok
    assert set(failed(result)) == {"input:money.csv"}
    assert "money.csv differs from the file the report was built from" in failed(result)["input:money.csv"]


def test_a_missing_input_file_fails_naming_it(built: Built) -> None:
    (built.data_dir / "market_time.csv").unlink()
    result = verify_report(built.pdf, data_dir=built.data_dir)
    assert failed(result) == {"input:market_time.csv": f"market_time.csv is missing from {built.data_dir}"}


def test_inputs_are_not_checked_without_data_dir(built: Built) -> None:
    shutil.rmtree(built.data_dir)
    result = verify_report(built.pdf)
    assert result.ok
    assert not any(c.name.startswith("input:") for c in result.checks)


def test_a_missing_manifest_fails(built: Built) -> None:
    (built.folder / "manifest.json").unlink()
    result = verify_report(built.pdf)
    assert not result.ok
    assert failed(result) == {"manifest": f"{built.folder / 'manifest.json'} not found"}


@pytest.mark.parametrize(("content", "message"), [(b"{not json", "not valid JSON"), (b"[1, 2]", "no 'outputs'")])
def test_a_broken_manifest_fails(built: Built, content: bytes, message: str) -> None:
    (built.folder / "manifest.json").write_bytes(content)
    result = verify_report(built.pdf)
    assert not result.ok
    assert message in failed(result)["manifest"]


def test_a_missing_pdf_fails(built: Built) -> None:
    built.pdf.unlink()
    result = verify_report(built.pdf)
    assert not result.ok
    assert "not found" in failed(result)["pdf_sha256"]


def test_command_line_exit_codes(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(built.pdf), "--data", str(built.data_dir)]) == 0
    assert "verified" in capsys.readouterr().out
    (built.folder / "results.json").write_bytes(b"{}")
    assert main([str(built.pdf)]) == 1
    out = capsys.readouterr().out
    assert "FAIL output:results.json" in out
    assert "NOT verified" in out
