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
from report.structure import pdf_attachments
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
                      attached_results: bytes = RESULTS, left_out: tuple[str, ...] | None = None) -> Built:
    """Write html, results.json, scores.csv, the PDF and manifest.json the way report/build.py does.

    ``attached_results`` lets a test attach other bytes than the ``results.json`` recorded.
    ``left_out``: the data files left out of the PDF, recorded in both manifests with what is
    embedded as a build with a limit records them (``None``: no record, as before the limit).
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
    files = {"results.json": attached_results, "scores.csv": SCORES, "actions.csv": ACTIONS}
    record = {}
    if left_out is not None:
        sizes = [(name, len(files[name])) for name in ("scores.csv", "actions.csv")]
        record = pdf_attachments(sizes, limit_bytes=0).manifest_record()
        record["embedded"] = [n for n in ("results.json", "scores.csv", "actions.csv", "manifest.json")
                              if n not in left_out]
        record["left_out"] = {n: size for n, size in record["left_out"].items() if n in left_out}
        inner.update(record)
    pdf = folder / f"{STEM}.pdf"
    # WeasyPrint's Attachment(string=…) takes text; every attachment here is UTF-8.
    text = writer is weasyprint_writer
    writer(pdf, [(name, data.decode() if text else data, desc) for name, data, desc in (
        ("results.json", attached_results, "Results of the analysis (JSON)"),
        ("scores.csv", SCORES, "Per-customer probability, segment and offer"),
        ("actions.csv", ACTIONS, "Per-customer actions"),
        ("manifest.json", _json_bytes(inner), "Inputs, outputs and provenance")) if name not in (left_out or ())])
    outer = _manifest(results_meta=meta, outputs={**inner_outputs, pdf.name: sha256_bytes(pdf.read_bytes())},
                      wall_clock="2026-11-01T00:00:00+00:00", timings=[])
    outer["embedded_manifest_sha256"] = sha256_bytes(_json_bytes(inner))
    outer.update(record)
    (folder / "manifest.json").write_bytes(_json_bytes(outer))
    return Built(folder=folder, pdf=pdf, data_dir=data_dir)


@pytest.fixture
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


# --- issue 15, item 9: malformed manifests are failed checks, never crashes (verify, send, archive) ---------

def _rewrite_manifest(built: Built, change) -> None:  # noqa: ANN001 - change(dict) -> dict
    outer = json.loads((built.folder / "manifest.json").read_text(encoding="utf-8"))
    (built.folder / "manifest.json").write_bytes(_json_bytes(change(outer)))


def _rehash_pdf(built: Built) -> None:
    """An attacker who changed the PDF also rewrites its hash in the (unsigned) manifest."""
    _rewrite_manifest(built, lambda m: {**m, "outputs": {**m["outputs"], built.pdf.name: sha256_bytes(
        built.pdf.read_bytes())}})


MALFORMED = {
    "a_list": b"[1, 2, 3]",
    "attached_a_list": None,
    "attached_a_string": None,
    "outputs_not_hashes": None,
    "inputs_a_list": None,
    "nested_too_deep": b"[" * 100_000 + b"]" * 100_000,
}


def _malform(built: Built, case: str) -> None:
    path = built.folder / "manifest.json"
    if MALFORMED[case] is not None:
        path.write_bytes(MALFORMED[case])
        return
    changes = {"attached_a_list": lambda m: {**m, "attached": [1]},
               "attached_a_string": lambda m: {**m, "attached": "results.json"},
               "outputs_not_hashes": lambda m: {**m, "outputs": {**m["outputs"], "results.json": {"sha": 1}}},
               "inputs_a_list": lambda m: {**m, "inputs": ["money.csv"]}}
    _rewrite_manifest(built, changes[case])


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_manifest_fails_verify_and_send_without_a_crash(built: Built, case: str,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from report.cli import main as cli

    _malform(built, case)
    result = verify_report(built.pdf, data_dir=built.data_dir)
    assert not result.ok and "manifest" in failed(result)
    assert cli(["verify", str(built.pdf)]) == 1
    code = cli(["send", "--report", str(built.folder), "--to", "a@example.org", "--from", "b@example.org",
                "--smtp", "localhost:25", "--dry-run", str(built.folder / "message.eml")])
    err = capsys.readouterr().err
    assert code == 2 and "manifest.json" in err and "Traceback" not in err
    assert not (built.folder / "message.eml").exists()


# --- item 12: attachments hashed as streams, with a size limit -----------------------------------------------

def _deflated_zeros(size: int) -> bytes:
    import zlib

    encoder, chunk, parts = zlib.compressobj(9), bytes(1 << 20), []
    parts.extend(encoder.compress(chunk) for _ in range(size // len(chunk)))
    parts.append(encoder.flush())
    return b"".join(parts)


def _swap_attachment_stream(built: Built, name: str, raw: bytes) -> None:
    """Replace an attachment's stream by ``raw`` (already deflated), written as it is."""
    with pikepdf.Pdf.open(built.pdf, allow_overwriting_input=True) as pdf:
        pdf.attachments[name].obj.EF.F.write(raw, filter=pikepdf.Name.FlateDecode)
        pdf.save(built.pdf, stream_decode_level=pikepdf.StreamDecodeLevel.none, compress_streams=False)
    _rehash_pdf(built)


def test_a_flate_bomb_is_refused_in_bounded_memory(built: Built, tmp_path: Path) -> None:
    import resource
    import subprocess
    import sys

    _swap_attachment_stream(built, "scores.csv", _deflated_zeros(3 << 30))  # 3 GiB of zeros, ~3 MB deflated
    assert built.pdf.stat().st_size < 8 << 20
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    run = subprocess.run([sys.executable, "-m", "report.verify", str(built.pdf)], capture_output=True, text=True,
                         timeout=300, cwd=Path(__file__).resolve().parents[2])
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert run.returncode == 1
    assert "FAIL attachment:scores.csv: the attached file expands beyond 1073741824 bytes" in run.stdout
    assert before > 400 * 1024 or peak_mb < 400, f"verify peaked at {peak_mb:.0f} MB"


def test_a_limit_smaller_than_an_attachment_fails_it(built: Built) -> None:
    result = verify_report(built.pdf, max_attachment_bytes=10)
    assert "expands beyond 10 bytes" in failed(result)["attachment:scores.csv"]


def test_a_corrupt_deflate_stream_fails_its_attachment(built: Built) -> None:
    _swap_attachment_stream(built, "results.json", b"x\x9c not deflate at all")
    assert "cannot be decompressed" in failed(verify_report(built.pdf))["attachment:results.json"]


# --- item 13: what PDF/A forbids, unlisted attachments, a signed manifest ------------------------------------

def _inject(built: Built, how: str) -> None:
    with pikepdf.Pdf.open(built.pdf, allow_overwriting_input=True) as pdf:
        js = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('pwned')"))
        if how == "open_action_javascript":
            pdf.Root.OpenAction = pdf.make_indirect(js)
        elif how == "document_javascript":
            pdf.Root.Names.JavaScript = pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("x"), js]))
        elif how == "launch_link":
            action = pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("calc.exe"))
            link = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link,
                                      Rect=pikepdf.Array([0, 0, 100, 100]), A=action)
            pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(link)]))
        elif how == "page_open_action":
            pdf.pages[0].obj.AA = pikepdf.Dictionary(O=js)
        elif how == "named_action":
            pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.Named, N=pikepdf.Name.Print)
        elif how == "form":
            pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array())
        elif how == "file_attachment_annotation":
            spec = pikepdf.AttachedFileSpec(pdf, b"MZ evil", filename="evil.exe")
            annot = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.FileAttachment,
                                       Rect=pikepdf.Array([0, 0, 10, 10]), FS=spec.obj)
            pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(annot)]))
        pdf.save(built.pdf)
    _rehash_pdf(built)


@pytest.mark.parametrize("how", ["open_action_javascript", "document_javascript", "launch_link", "page_open_action",
                                 "named_action", "form", "file_attachment_annotation"])
def test_active_content_fails_even_with_the_pdf_hash_rewritten(built: Built, how: str) -> None:
    _inject(built, how)
    result = verify_report(built.pdf)
    assert not result.ok
    assert set(failed(result)) == {"pdf_active_content"}
    assert "the PDF carries" in failed(result)["pdf_active_content"]


def test_an_attachment_not_in_the_manifest_fails(built: Built) -> None:
    with pikepdf.Pdf.open(built.pdf, allow_overwriting_input=True) as pdf:
        pdf.attachments["payload.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ", filename="payload.exe")
        pdf.save(built.pdf)
    _rehash_pdf(built)
    result = verify_report(built.pdf)
    assert failed(result) == {"attachment:payload.exe": "attached but not recorded in the embedded manifest"}


def test_send_refuses_a_pdf_with_javascript(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    from report.cli import main as cli

    _inject(built, "open_action_javascript")
    code = cli(["send", "--report", str(built.folder), "--to", "a@example.org", "--from", "b@example.org",
                "--smtp", "localhost:25", "--dry-run", str(built.folder / "message.eml")])
    err = capsys.readouterr().err
    assert code == 2 and "refusing to send" in err and "pdf_active_content" in err and "JavaScript" in err
    assert not (built.folder / "message.eml").exists()


KEY = b"0123456789abcdef-a-test-key"


def _sign(built: Built, key: bytes = KEY) -> None:
    from report.signing import sign_manifest

    _rewrite_manifest(built, lambda m: sign_manifest(m, key))


def test_a_signed_manifest_verifies_with_its_key(built: Built) -> None:
    _sign(built)
    result = verify_report(built.pdf, key=KEY)
    assert result.ok, result.summary()
    assert "signature matches" in result.check("signature").detail
    assert "not checked" in verify_report(built.pdf).check("signature").detail  # no key: says so


def test_a_manifest_forged_after_signing_fails(built: Built) -> None:
    _sign(built)
    _inject(built, "open_action_javascript")  # …and the PDF hash rewritten in the signed manifest
    result = verify_report(built.pdf, key=KEY)
    assert "signature mismatch" in failed(result)["signature"]


@pytest.mark.parametrize(("signed_with", "detail"), [(None, "not signed"), (b"another-key-of-16-bytes", "another key")])
def test_an_unsigned_or_foreign_manifest_fails_when_a_key_is_set(built: Built, signed_with: bytes | None,
                                                                 detail: str) -> None:
    if signed_with is not None:
        _sign(built, signed_with)
    assert detail in failed(verify_report(built.pdf, key=KEY))["signature"]


def test_the_command_line_reads_the_key_from_the_environment(built: Built, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from report.cli import main as cli

    monkeypatch.setenv("ONECLICK_MANIFEST_KEY", KEY.decode())
    assert cli(["verify", str(built.pdf)]) == 1  # unsigned, but a key is configured
    assert "FAIL signature" in capsys.readouterr().out
    _sign(built)
    assert cli(["verify", str(built.pdf)]) == 0
    monkeypatch.setenv("ONECLICK_MANIFEST_KEY", "short")
    assert cli(["verify", str(built.pdf)]) == 2
    err = capsys.readouterr().err
    assert "at least 16" in err and "short" not in err.split("ONECLICK_MANIFEST_KEY")[1]


# --- data files left out of the PDF (report.attach_max_bytes) -------------------------------------------------

def _rewrite_outer(built: Built, **changes: object) -> None:
    outer = json.loads((built.folder / "manifest.json").read_text(encoding="utf-8"))
    outer.update(changes)
    (built.folder / "manifest.json").write_bytes(_json_bytes(outer))


def test_a_report_that_leaves_the_data_files_out_verifies(tmp_path: Path, data_copy: Path) -> None:
    report = build_like_report(tmp_path / "out", data_copy, left_out=("scores.csv", "actions.csv"))
    result = verify_report(report.pdf, data_dir=report.data_dir)
    assert result.ok, result.summary()
    assert f"left out of the PDF ({len(SCORES)} bytes" in result.check("attachment:scores.csv").detail
    assert result.check("output:scores.csv").ok and result.check("embedded_files_agree").ok
    with pikepdf.Pdf.open(report.pdf) as pdf:
        assert set(pdf.attachments) == {"results.json", "manifest.json"}


def test_a_changed_file_left_out_of_the_pdf_fails(tmp_path: Path, data_copy: Path) -> None:
    report = build_like_report(tmp_path / "out", data_copy, left_out=("scores.csv",))
    (report.folder / "scores.csv").write_bytes(SCORES.replace(b"0.91", b"0.19"))
    result = verify_report(report.pdf)
    assert set(failed(result)) == {"output:scores.csv"}
    assert "sha256 mismatch" in failed(result)["output:scores.csv"]


def test_a_file_left_out_of_the_pdf_must_be_beside_it(tmp_path: Path, data_copy: Path) -> None:
    report = build_like_report(tmp_path / "out", data_copy, left_out=("actions.csv",))
    (report.folder / "actions.csv").unlink()
    (report.folder / "results.json").unlink()  # embedded: its absence beside the PDF is no failure
    result = verify_report(report.pdf)
    assert failed(result) == {"output:actions.csv": "left out of the PDF and absent beside it: its content "
                                                    "cannot be checked"}


def test_a_file_recorded_as_embedded_but_missing_from_the_pdf_fails(tmp_path: Path, data_copy: Path) -> None:
    report = build_like_report(tmp_path / "out", data_copy, left_out=())
    assert verify_report(report.pdf).ok
    with pikepdf.Pdf.open(report.pdf, allow_overwriting_input=True) as pdf:
        del pdf.attachments["actions.csv"]
        pdf.save(report.pdf)
    _rewrite_outer(report, outputs={**json.loads((report.folder / "manifest.json").read_text())["outputs"],
                                    report.pdf.name: sha256_bytes(report.pdf.read_bytes())})
    assert failed(verify_report(report.pdf)) == {
        "attachment:actions.csv": "recorded as embedded in the embedded manifest but not attached to the PDF"}


def test_a_file_recorded_as_left_out_but_attached_fails(tmp_path: Path, data_copy: Path) -> None:
    """The outer manifest claims scores.csv was left out of a PDF that carries it: the two manifests
    disagree, and the embedded one (inside the PDF) decides what the PDF must carry."""
    report = build_like_report(tmp_path / "out", data_copy, left_out=())
    _rewrite_outer(report, embedded=["results.json", "actions.csv", "manifest.json"],
                   left_out={"scores.csv": len(SCORES)})
    result = verify_report(report.pdf)
    assert set(failed(result)) == {"embedded_files_agree"}
    assert f"left out {{}} / {{'scores.csv': {len(SCORES)}}}" in failed(result)["embedded_files_agree"]
    assert result.check("attachment:scores.csv").ok  # hashed inside the PDF, as the embedded manifest says


def test_a_pdf_carrying_a_file_its_manifests_leave_out_fails(tmp_path: Path, data_copy: Path) -> None:
    report = build_like_report(tmp_path / "out", data_copy, left_out=("scores.csv",))
    with pikepdf.Pdf.open(report.pdf, allow_overwriting_input=True) as pdf:
        pdf.attachments["scores.csv"] = pikepdf.AttachedFileSpec(pdf, SCORES, filename="scores.csv")
        pdf.save(report.pdf)
    _rewrite_outer(report, outputs={**json.loads((report.folder / "manifest.json").read_text())["outputs"],
                                    report.pdf.name: sha256_bytes(report.pdf.read_bytes())})
    detail = failed(verify_report(report.pdf))["attachment:scores.csv"]
    assert f"recorded as left out of the PDF ({len(SCORES)} bytes)" in detail


@pytest.mark.parametrize(("changes", "problem"), [
    ({"embedded": ["scores.csv", "actions.csv", "manifest.json"], "left_out": {"results.json": 10}},
     r"results\.json recorded both|lacks results\.json"),
    ({"embedded": ["results.json", "manifest.json"], "left_out": {"scores.csv": 84}},
     r"actions\.csv neither embedded nor recorded as left out"),
    ({"embedded": "results.json", "left_out": {}}, r"'embedded' is not a list"),
    ({"left_out": {"scores.csv": -1}}, r"'left_out' is not a table of file names and sizes"),
    ({"left_out": {"../etc/passwd": 1}}, r"not among the outputs"),
])
def test_a_malformed_embedding_record_is_refused(built: Built, changes: dict, problem: str) -> None:
    from report.verify import load_manifest_file

    record = {"embedded": ["results.json", "scores.csv", "actions.csv", "manifest.json"], "left_out": {}}
    _rewrite_outer(built, **{**record, **changes})
    with pytest.raises(ValueError, match=problem):
        load_manifest_file(built.folder / "manifest.json")
    assert not verify_report(built.pdf).check("manifest").ok
