"""Tests of the PDF/A-3b report: what a reader sees (text via ``pdftotext``), what an archive
needs (PDF/A XMP, output intent, embedded fonts, attachments), reproducibility, and the URL
fetcher that only serves ``data:`` URIs.

The report is rendered once per module from a real analysis of the sample (``results_sample``)
with the real figures (``report.figures.charts.build_figures``). ``pdftotext`` comes from
poppler-utils; the text tests skip where it is not installed.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pikepdf
import pytest

from analysis.results import Results
from analysis.textfmt import fmt_number
from report.i18n import translator
from report.pdf import DataOnlyURLFetcher, ExternalResourceError, parse_created, render_pdf
from report.render import expected_figure_keys, render_html

PDFTOTEXT = shutil.which("pdftotext")
needs_pdftotext = pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) is not installed")

#: A 1×1 PNG.
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==")


def attachments_for(results: Results, scores_csv: bytes) -> list[tuple[str, bytes, str]]:
    data = results.model_dump_json(by_alias=True, indent=1).encode("utf-8")
    manifest = (
        '{"results.json": "%s", "scores.csv": "%s"}'
        % (hashlib.sha256(data).hexdigest(), hashlib.sha256(scores_csv).hexdigest())
    ).encode()
    return [
        ("results.json", data, "Analysis results"),
        ("scores.csv", scores_csv, "Per-customer scores"),
        ("manifest.json", manifest, "Checksums of the attached files"),
    ]


def pdf_text(path: Path) -> str:
    """The PDF's text with every run of whitespace (no-break spaces included) as one space."""
    out = subprocess.run([PDFTOTEXT, "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True).stdout
    return re.sub(r"\s+", " ", out.decode("utf-8").replace("\u00a0", " "))


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " "))


@pytest.fixture(scope="module")
def results(results_sample: Results) -> Results:
    return results_sample


@pytest.fixture(scope="module")
def scores_csv(analysis_sample) -> bytes:  # noqa: ANN001
    return analysis_sample.scores.to_csv(index=False, lineterminator="\n").encode("utf-8")


@pytest.fixture(scope="module")
def figures_ru(results: Results) -> dict:
    from report.figures.charts import build_figures

    return build_figures(results, lang="ru")


@pytest.fixture(scope="module")
def html_ru(results: Results, figures_ru: dict) -> str:
    return render_html(results, lang="ru", figures=figures_ru)


@pytest.fixture(scope="module")
def pdf_ru(tmp_path_factory: pytest.TempPathFactory, results: Results, html_ru: str, scores_csv: bytes) -> Path:
    out = tmp_path_factory.mktemp("pdf") / "report.pdf"
    render_pdf(html_ru, out_path=out, attachments=attachments_for(results, scores_csv), base_dir=out.parent,
               created=results.meta.report_date)
    return out


@pytest.fixture(scope="module")
def pdf_en(tmp_path_factory: pytest.TempPathFactory, results: Results, scores_csv: bytes) -> Path:
    from report.figures.charts import build_figures

    html = render_html(results, lang="en", figures=build_figures(results, lang="en"))
    out = tmp_path_factory.mktemp("pdf-en") / "report.pdf"
    render_pdf(html, out_path=out, attachments=attachments_for(results, scores_csv), base_dir=out.parent,
               created=results.meta.report_date)
    return out


# ------------------------------------------------------------------------------- figures
def test_real_figures_cover_every_key_the_report_shows(results: Results, figures_ru: dict, html_ru: str) -> None:
    missing = sorted(set(expected_figure_keys(results)) - set(figures_ru))
    assert not missing, f"build_figures does not draw: {missing}"
    assert 'class="fig-missing"' not in html_ru


# ------------------------------------------------------------------------------- PDF/A-3
def test_pdf_is_pdf_a_3b_with_output_intent(pdf_ru: Path) -> None:
    with pikepdf.open(pdf_ru) as pdf:
        with pdf.open_metadata() as meta:
            assert meta.get("pdfaid:part") == "3"
            assert meta.get("pdfaid:conformance") == "B"
            assert meta.get("xmp:CreateDate", "").startswith("2026-10-31")
        intents = pdf.Root.OutputIntents
        assert len(intents) >= 1
        assert intents[0].S == "/GTS_PDFA1"
        assert "/DestOutputProfile" in intents[0]
        assert str(pdf.docinfo.CreationDate).startswith("D:20261031")
        assert str(pdf.docinfo.ModDate).startswith("D:20261031")
        assert str(pdf.Root.Lang) == "ru"
        assert "2026" in str(pdf.docinfo.Title)


def test_pdf_embeds_every_font(pdf_ru: Path) -> None:
    fonts: dict[str, pikepdf.Dictionary] = {}
    with pikepdf.open(pdf_ru) as pdf:
        for page in pdf.pages:
            for name, font in (page.Resources.get("/Font") or {}).items():
                fonts[str(font.BaseFont)] = font
        assert fonts
        for base, font in fonts.items():
            descriptor = font.DescendantFonts[0].FontDescriptor if "/DescendantFonts" in font else font.FontDescriptor
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), base
        assert any("DejaVu" in base for base in fonts)


def test_pdf_carries_the_attachments(pdf_ru: Path, results: Results, scores_csv: bytes) -> None:
    expected = {name: content for name, content, _ in attachments_for(results, scores_csv)}
    with pikepdf.open(pdf_ru) as pdf:
        attached = pdf.attachments
        assert set(attached) == set(expected)
        for name, content in expected.items():
            spec = attached[name]
            assert spec.get_file().read_bytes() == content
            assert spec.description
        af = pdf.Root.AF
        assert len(af) == len(expected)
        assert {str(spec.AFRelationship) for spec in af} <= {"/Data", "/Supplement"}
        params = attached["results.json"].get_file().obj.Params
        assert str(params.CreationDate).startswith("D:20261031000000")
        assert str(params.ModDate).startswith("D:20261031000000")


def test_pdf_is_byte_reproducible(tmp_path: Path, pdf_ru: Path, results: Results, html_ru: str,
                                  scores_csv: bytes) -> None:
    again = tmp_path / "again.pdf"
    render_pdf(html_ru, out_path=again, attachments=attachments_for(results, scores_csv), base_dir=tmp_path,
               created=results.meta.report_date)
    assert again.read_bytes() == pdf_ru.read_bytes()


# ---------------------------------------------------------------------------------- text
@needs_pdftotext
def test_pdf_text_has_what_a_reader_needs(pdf_ru: Path, results: Results) -> None:
    text = pdf_text(pdf_ru)
    t = translator("ru")
    for key in ("data", "eda", "ishikawa", "correlation", "model", "importance", "segments", "conclusions", "appendix"):
        assert t(f"section.{key}") in text, key
    assert t("report.title") in text and "Исикав" in text
    assert flat(fmt_number(results.data.n_customers_analysed, "ru")) in text
    assert flat(fmt_number(results.model.test.roc_auc, "ru", digits=3)) in text
    for seg in results.segments.segments:
        assert seg.title.ru in text, seg.title.ru
        assert flat(fmt_number(seg.n_customers, "ru")) in text
    # page numbers: «стр. N из M» on every page
    with pikepdf.open(pdf_ru) as pdf:
        n_pages = len(pdf.pages)
    assert n_pages >= 12
    assert f"стр. 2 из {n_pages}" in text and f"стр. {n_pages} из {n_pages}" in text
    # the table of contents carries page numbers
    toc = text.split(t("section.toc"), 1)[1][:1500]
    assert re.search(re.escape(t("section.data")) + r"[ .]*\d+", toc)


@needs_pdftotext
def test_english_pdf_text(pdf_en: Path, results: Results) -> None:
    text = pdf_text(pdf_en)
    t = translator("en")
    for key in ("data", "eda", "ishikawa", "model", "segments", "appendix"):
        assert t(f"section.{key}") in text
    assert "Ishikawa" in text
    assert fmt_number(results.data.n_customers_analysed, "en") in text
    assert fmt_number(results.model.test.roc_auc, "en", digits=3) in text
    for seg in results.segments.segments:
        assert seg.title.en in text
    assert re.search(r"page 2 of \d+", text)


@needs_pdftotext
def test_page_one_is_the_executive_summary(pdf_ru: Path, results: Results) -> None:
    out = subprocess.run([PDFTOTEXT, "-f", "1", "-l", "1", "-enc", "UTF-8", str(pdf_ru), "-"], check=True,
                         capture_output=True).stdout.decode("utf-8")
    page1 = flat(out)
    priority = results.segment(results.segments.priority)
    assert priority.title.ru in page1
    assert priority.recommendations[0].title.ru in page1
    assert flat(fmt_number(results.data.n_customers_analysed, "ru")) in page1
    assert "стр. 1 из" in page1


# --------------------------------------------------------------------------- URL fetcher
def test_url_fetcher_serves_data_uris_only(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[object] = []
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", lambda self, *a, **k: opened.append(a))
    fetcher = DataOnlyURLFetcher()
    response = fetcher.fetch("data:image/png;base64," + base64.b64encode(PNG_1PX).decode())
    assert response.read() == PNG_1PX and response.content_type == "image/png"
    assert fetcher.fetch("data:text/plain;charset=utf-8,%D0%B0").read() == "а".encode()
    for url in ("http://example.com/x.png", "https://example.com/x.png", "file:///etc/passwd",
                "ftp://example.com/x", "FILE:///etc/hosts"):
        with pytest.raises(BaseException, match="refused"):
            fetcher.fetch(url)
    assert fetcher.refused == ["http://example.com/x.png", "https://example.com/x.png", "file:///etc/passwd",
                               "ftp://example.com/x", "FILE:///etc/hosts"]
    assert fetcher.fetched == 2
    assert opened == []


@pytest.mark.parametrize("src", ["http://example.com/x.png", "file:///etc/passwd", "secret.png"])
def test_render_pdf_refuses_external_resources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, src: str) -> None:
    opened: list[object] = []
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", lambda self, *a, **k: opened.append(a))
    (tmp_path / "secret.png").write_bytes(PNG_1PX)
    html = f'<!DOCTYPE html><html lang="en"><head><title>x</title></head><body><p>x</p><img src="{src}"></body></html>'
    out = tmp_path / "out.pdf"
    with pytest.raises(ExternalResourceError, match="refused"):
        render_pdf(html, out_path=out, attachments=[], base_dir=tmp_path, created="2026-10-31")
    assert not out.exists()
    assert opened == []


def test_render_pdf_refuses_css_imports_and_background_urls(tmp_path: Path) -> None:
    for css in ("@import url('http://example.com/a.css');", "body { background: url(http://example.com/b.png) }",
                "@font-face { font-family: X; src: url(file:///etc/passwd) } body { font-family: X }"):
        html = f"<html><head><style>{css}</style></head><body><p>x</p></body></html>"
        with pytest.raises(ExternalResourceError):
            render_pdf(html, out_path=tmp_path / "x.pdf", attachments=[], base_dir=tmp_path, created="2026-10-31")


def test_render_pdf_accepts_data_uris(tmp_path: Path) -> None:
    uri = "data:image/png;base64," + base64.b64encode(PNG_1PX).decode()
    html = (f'<!DOCTYPE html><html lang="en"><head><title>x</title>'
            f'<meta name="dcterms.created" content="2026-10-31"></head><body><img src="{uri}"></body></html>')
    out = tmp_path / "ok.pdf"
    render_pdf(html, out_path=out, attachments=[("a.json", b"{}", "A")], base_dir=tmp_path, created="2026-10-31")
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 1
        assert set(pdf.attachments) == {"a.json"}


def test_parse_created() -> None:
    assert parse_created("2026-10-31").isoformat() == "2026-10-31T00:00:00+00:00"
    assert parse_created("2026-10-31T12:30:00+03:00").isoformat() == "2026-10-31T09:30:00+00:00"
