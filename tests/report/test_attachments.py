"""Data files too large for the PDF (``report.attach_max_bytes``): left out, accounted for, verified.

A build of the sample with a limit below the size of ``scores.csv`` and ``actions.csv`` embeds only
``results.json`` and the manifest; both manifests record what is embedded and what is left out (with
its size), the report says so in each language, ``verify`` accepts the PDF with the files beside it
and refuses it when one of them is changed or gone, and the e-mail names what is not attached. The
default limit embeds every data file of the sample.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest

from analysis.config import Config, ReportConfig
from report.cache import RENDERING_ONLY, CacheKey
from report.structure import LeftOutFile, PdfAttachments, pdf_attachments
from report.texts import attachments_email_text, attachments_text, file_size

PERIOD = "2026-10"
LIMIT = 100_000  # the sample's scores.csv and actions.csv are 120-190 KB
DATA_FILES = ("scores.csv", "actions.csv")
PDFTOTEXT = shutil.which("pdftotext")


def _build(out: Path, data: Path, *extra: str) -> None:
    """``oneclick-report build`` in a process of its own (its workers end with it)."""
    run = subprocess.run([sys.executable, "-m", "report.cli", "build", "--data", str(data), "--out", str(out),
                          "--period", PERIOD, "--no-cache", *extra], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr


@pytest.fixture(scope="module")
def left_out_build(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> Path:
    """The sample built in both languages with a limit of 100 000 bytes (a configuration file)."""
    root = tmp_path_factory.mktemp("attach")
    config = root / "limit.toml"
    config.write_text(f"[report]\nattach_max_bytes = {LIMIT}\n", encoding="utf-8")
    _build(root / "out", sample_dir, "--lang", "ru,en", "--config", str(config))
    return root / "out"


@pytest.fixture
def folder_copy(left_out_build: Path, tmp_path: Path) -> Path:
    """A writable copy of the Russian build folder."""
    return Path(shutil.copytree(left_out_build / "ru", tmp_path / "ru"))


def _pdf(folder: Path) -> Path:
    (pdf,) = folder.glob("*.pdf")
    return pdf


def _pdf_text(pdf: Path) -> str:
    out = subprocess.run([str(PDFTOTEXT), "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True).stdout
    text = out.decode("utf-8").replace("\u00a0", " ").replace("\u2010\n", "").replace("-\n", "-")
    return " ".join(text.split())


# --- the plan and its words -------------------------------------------------------------------------------------

def test_a_data_file_is_embedded_up_to_the_limit_and_left_out_above_it() -> None:
    plan = pdf_attachments([("scores.csv", 1000), ("actions.csv", 1001)], limit_bytes=1000)
    assert plan.embedded == ("results.json", "scores.csv", "manifest.json")
    assert plan.left_out == (LeftOutFile("actions.csv", 1001),)
    none = pdf_attachments([("scores.csv", 1), ("actions.csv", 0)], limit_bytes=0)
    assert none.embedded == ("results.json", "actions.csv", "manifest.json")
    # the manifests' record reads back as what was planned
    assert PdfAttachments.from_manifest(plan.manifest_record(), limit_bytes=1000) == plan
    assert PdfAttachments.from_manifest({"outputs": {}}, limit_bytes=1000) is None  # a build before the limit


def test_the_limit_is_a_rendering_option_of_the_configuration() -> None:
    assert Config().report.attach_max_bytes == 16 << 20
    assert "report" in RENDERING_ONLY
    small = Config(report=ReportConfig(attach_max_bytes=1))
    key = {"inputs": {"a.csv": "0" * 64}, "period": PERIOD, "previous": None}
    assert CacheKey.for_build(config=small, **key).digest == CacheKey.for_build(config=Config(), **key).digest
    with pytest.raises(ValueError, match="attach_max_bytes"):
        ReportConfig(attach_max_bytes=-1)


@pytest.mark.parametrize(("n_bytes", "lang", "text"), [
    (900, "ru", "900\u00a0Б"), (1024, "en", "1\u00a0KiB"), (16 << 20, "ru", "16\u00a0МиБ"),
    (55_261_014, "ru", "52,7\u00a0МиБ"), (55_261_014, "en", "52.7\u00a0MiB"), (5 << 30, "en", "5\u00a0GiB"),
])
def test_file_sizes_are_worded_in_binary_units(n_bytes: int, lang: str, text: str) -> None:
    assert file_size(n_bytes, lang=lang) == text


def test_the_text_names_each_file_left_out_with_its_size_and_the_limit() -> None:
    one = pdf_attachments([("scores.csv", 55_261_014), ("actions.csv", 1000)], limit_bytes=16 << 20)
    two = pdf_attachments([("scores.csv", 55_261_014), ("actions.csv", 130_513_710)], limit_bytes=16 << 20)
    assert attachments_text(one, lang="ru") == (
        "В PDF/A-3 вложены results.json, actions.csv и manifest.json. Файл scores.csv (52,7\u00a0МиБ) больше "
        "предела вложений в 16\u00a0МиБ (report.attach_max_bytes), поэтому в PDF не вложен: он лежит рядом с "
        "отчётом и архивируется вместе с ним; его SHA-256 записан в manifest.json (и в том, что вложен в PDF), "
        "по нему его проверяет oneclick-report verify.")
    ru = attachments_text(two, lang="ru")
    assert "Файлы actions.csv (124,5\u00a0МиБ) и scores.csv (52,7\u00a0МиБ) больше предела" in ru
    assert "в PDF не вложены: они лежат рядом с отчётом" in ru and "их SHA-256 записаны" in ru
    en = attachments_text(two, lang="en")
    assert en.startswith("The PDF/A-3 file embeds results.json and manifest.json. The files actions.csv "
                         "(124.5\u00a0MiB) and scores.csv (52.7\u00a0MiB) are each larger than the attachment "
                         "limit of 16\u00a0MiB")
    assert "is larger" in attachments_text(one, lang="en") and "it is kept beside the report" in \
        attachments_text(one, lang="en")
    everything = pdf_attachments([("scores.csv", 10), ("actions.csv", 10)], limit_bytes=16 << 20)
    assert attachments_text(everything, lang="ru") == \
        "В PDF/A-3 вложены results.json, scores.csv, actions.csv и manifest.json."
    assert attachments_email_text(everything, lang="en") == attachments_email_text(None, lang="en")
    assert "к PDF не приложен:" in attachments_email_text(one, lang="ru")


# --- a build that leaves the data files out -----------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_build_leaves_large_data_files_out_and_both_manifests_say_so(left_out_build: Path, lang: str) -> None:
    folder = left_out_build / lang
    sizes = {name: (folder / name).stat().st_size for name in DATA_FILES}
    assert all(size > LIMIT for size in sizes.values()), sizes
    outer = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    with pikepdf.Pdf.open(_pdf(folder)) as pdf:
        assert set(pdf.attachments) == {"results.json", "manifest.json"}
        inner = json.loads(pdf.attachments["manifest.json"].get_file().read_bytes())
    for manifest in (outer, inner):
        assert manifest["embedded"] == ["results.json", "manifest.json"]
        assert manifest["left_out"] == sizes
        assert set(DATA_FILES) <= set(manifest["outputs"])  # every output's hash is still recorded
        assert manifest["config"]["report"]["attach_max_bytes"] == LIMIT


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) is not installed")
@pytest.mark.parametrize(("lang", "phrases"), [
    ("ru", ("В PDF/A-3 вложены results.json и manifest.json.", "Файлы actions.csv (", "КиБ) и scores.csv (",
            "больше предела вложений в 97,7 КиБ (report.attach_max_bytes), поэтому в PDF не вложены")),
    ("en", ("The PDF/A-3 file embeds results.json and manifest.json.", "The files actions.csv (",
            "KiB) and scores.csv (", "are each larger than the attachment limit of 97.7 KiB")),
])
def test_the_report_states_what_it_leaves_out(left_out_build: Path, lang: str, phrases: tuple[str, ...]) -> None:
    folder = left_out_build / lang
    text = _pdf_text(_pdf(folder))
    html = (folder / f"oneclick-report_{PERIOD}_{lang}.html").read_text(encoding="utf-8").replace("\u00a0", " ")
    for phrase in phrases:
        assert phrase in text, phrase
        assert phrase in html, phrase
    size = file_size((folder / "scores.csv").stat().st_size, lang=lang).replace("\u00a0", " ")
    assert f"scores.csv ({size})" in text
    assert "report.attach_max_bytes" in text.split("(report.attach_max_bytes)")[1]  # and in the configuration table


def test_verify_accepts_the_pdf_with_the_files_beside_it(left_out_build: Path) -> None:
    from report.verify import verify_report

    for lang in ("ru", "en"):
        result = verify_report(_pdf(left_out_build / lang))
        assert result.ok, result.summary()
        assert "left out of the PDF" in result.check("attachment:scores.csv").detail
        assert result.check("output:actions.csv").ok


def test_a_changed_file_beside_the_pdf_fails_verify(folder_copy: Path) -> None:
    from report.cli import main
    from report.verify import verify_report

    with (folder_copy / "scores.csv").open("r+b") as handle:  # one byte of one row
        handle.seek(-3, 2)
        last = handle.read(1)
        handle.seek(-3, 2)
        handle.write(b"7" if last != b"7" else b"8")
    result = verify_report(_pdf(folder_copy))
    assert [c.name for c in result.failures] == ["output:scores.csv"]
    assert main(["verify", str(_pdf(folder_copy))]) == 1
    (folder_copy / "actions.csv").unlink()
    assert "absent beside it" in {c.name: c.detail for c in verify_report(_pdf(folder_copy)).failures}[
        "output:actions.csv"]


def test_the_email_names_what_the_pdf_leaves_out(folder_copy: Path) -> None:
    from report.delivery import compose_report_email

    message = compose_report_email(folder_copy, sender="report@example.com", recipients=["boss@example.com"])
    plain = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    text = plain.get_payload(decode=True).decode(plain.get_content_charset())
    assert "к нему приложены results.json и manifest.json" in text
    assert "Файлы actions.csv (" in text and "к PDF не приложены: они лежат рядом с отчётом и в архиве" in text
    (attachment,) = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
    assert attachment.get_payload(decode=True) == _pdf(folder_copy).read_bytes()


def test_the_default_limit_embeds_every_data_file_of_the_sample(tmp_path: Path, sample_dir: Path) -> None:
    from report.verify import verify_report

    _build(tmp_path / "out", sample_dir)
    folder = tmp_path / "out"
    outer = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert outer["embedded"] == ["results.json", "scores.csv", "actions.csv", "manifest.json"]
    assert outer["left_out"] == {}
    with pikepdf.Pdf.open(_pdf(folder)) as pdf:
        assert set(pdf.attachments) == {"results.json", "scores.csv", "actions.csv", "manifest.json"}
        assert pdf.attachments["scores.csv"].get_file().read_bytes() == (folder / "scores.csv").read_bytes()
    assert verify_report(_pdf(folder)).ok
    if PDFTOTEXT is not None:
        assert "В PDF/A-3 вложены results.json, scores.csv, actions.csv и manifest.json." in _pdf_text(_pdf(folder))
