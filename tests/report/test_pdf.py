"""Tests of the tagged PDF/A-3a report: what a reader sees (text via ``pdftotext``: running header,
«стр. N из M», the table of contents' page numbers), what a screen reader gets (the structure
tree, read with pikepdf), what an archive needs (PDF/A XMP, output intent, embedded fonts,
attachments), reproducibility, and the URL fetcher that only serves ``data:`` URIs and the
report's own resources.

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
from report.format import fmt_number
from report.i18n import segment_title, translator
from report.pdf import ExternalResourceError, ReportURLFetcher, parse_created, render_pdf
from report.render import PdfDocument, Resource, expected_figure_keys, pdf_document, render_html

PDFTOTEXT = shutil.which("pdftotext")
needs_pdftotext = pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) is not installed")

#: A 1×1 PNG.
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==")


def attachments_for(results: Results, scores_csv: bytes) -> list[tuple[str, bytes, str]]:
    data = results.model_dump_json(by_alias=True, indent=1).encode("utf-8")
    manifest = (
        f'{{"results.json": "{hashlib.sha256(data).hexdigest()}", '
        f'"scores.csv": "{hashlib.sha256(scores_csv).hexdigest()}"}}'
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


def plain_document(body: str) -> PdfDocument:
    """A small document around ``body``."""
    return PdfDocument(html=('<!DOCTYPE html><html lang="en"><head><title>x</title>'
                             f'<meta name="dcterms.created" content="2026-10-31"></head><body>{body}</body></html>'),
                       resources={})


def page_texts(path: Path) -> list[str]:
    """The text of every page (``pdftotext`` page by page)."""
    out = subprocess.run([PDFTOTEXT, "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True).stdout
    return [flat(page).strip() for page in out.decode("utf-8").split("\f")][:-1]


def outline_titles(path: Path) -> list[tuple[int, str]]:
    """The PDF outline as (depth, title) in order."""
    found: list[tuple[int, str]] = []

    def walk(items, depth: int) -> None:  # noqa: ANN001 - pikepdf outline items
        for item in items:
            found.append((depth, item.title))
            walk(item.children, depth + 1)

    with pikepdf.open(path) as pdf, pdf.open_outline() as outline:
        walk(outline.root, 0)
    return found


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
def pdf_ru(tmp_path_factory: pytest.TempPathFactory, results: Results, figures_ru: dict, scores_csv: bytes) -> Path:
    out = tmp_path_factory.mktemp("pdf") / "report.pdf"
    render_pdf(pdf_document(results, lang="ru", figures=figures_ru), out_path=out,
               attachments=attachments_for(results, scores_csv), created=results.meta.report_date)
    return out


@pytest.fixture(scope="module")
def pdf_en(tmp_path_factory: pytest.TempPathFactory, results: Results, scores_csv: bytes) -> Path:
    from report.figures.charts import build_figures

    figures = build_figures(results, lang="en")
    out = tmp_path_factory.mktemp("pdf-en") / "report.pdf"
    render_pdf(pdf_document(results, lang="en", figures=figures), out_path=out,
               attachments=attachments_for(results, scores_csv), created=results.meta.report_date)
    return out


# ------------------------------------------------------------------------------- figures
def test_real_figures_cover_every_key_the_report_shows(results: Results, figures_ru: dict, html_ru: str) -> None:
    missing = sorted(set(expected_figure_keys(results)) - set(figures_ru))
    assert not missing, f"build_figures does not draw: {missing}"
    assert 'class="fig-missing"' not in html_ru


# ------------------------------------------------------------------------------- PDF/A-3
def test_pdf_is_pdf_a_3a_with_output_intent(pdf_ru: Path) -> None:
    with pikepdf.open(pdf_ru) as pdf:
        with pdf.open_metadata() as meta:
            assert meta.get("pdfaid:part") == "3"
            assert meta.get("pdfaid:conformance") == "A"
            assert meta.get("xmp:CreateDate", "").startswith("2026-10-31")
        intents = pdf.Root.OutputIntents
        assert len(intents) >= 1
        assert intents[0].S == "/GTS_PDFA1"
        assert "/DestOutputProfile" in intents[0]
        assert str(pdf.docinfo.CreationDate).startswith("D:20261031")
        assert str(pdf.docinfo.ModDate).startswith("D:20261031")
        assert str(pdf.Root.Lang) == "ru"
        assert "2026" in str(pdf.docinfo.Title)


def _fonts(resources: pikepdf.Dictionary, found: dict[tuple[int, int], pikepdf.Dictionary]) -> None:
    """Every font of ``resources``, the Form XObjects' included."""
    for font in (resources.get("/Font") or {}).values():
        found[font.objgen] = font
    for xobject in (resources.get("/XObject") or {}).values():
        if xobject.get("/Subtype") == "/Form" and "/Resources" in xobject:
            _fonts(xobject.Resources, found)


def test_pdf_embeds_every_font(pdf_ru: Path) -> None:
    found: dict[tuple[int, int], pikepdf.Dictionary] = {}
    with pikepdf.open(pdf_ru) as pdf:
        for page in pdf.pages:
            _fonts(page.Resources, found)
        assert found
        names = [str(font.BaseFont) for font in found.values()]
        for font in found.values():
            descriptor = font.DescendantFonts[0].FontDescriptor if "/DescendantFonts" in font else font.FontDescriptor
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), str(font.BaseFont)
            assert str(descriptor.FontName) == str(font.BaseFont)
        assert any("DejaVu" in name for name in names)
        assert len(set(names)) == len(names), sorted(names)  # one subset per font and style


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


def test_pdf_is_byte_reproducible(tmp_path: Path, pdf_ru: Path, results: Results, figures_ru: dict,
                                  scores_csv: bytes) -> None:
    again = tmp_path / "again.pdf"
    render_pdf(pdf_document(results, lang="ru", figures=figures_ru), out_path=again,
               attachments=attachments_for(results, scores_csv), created=results.meta.report_date)
    assert again.read_bytes() == pdf_ru.read_bytes()


# ------------------------------------------------------------------------ tagged structure
def structure(pdf: pikepdf.Pdf) -> list[tuple[str, pikepdf.Dictionary]]:
    """Every structure element of the document (``/S`` type, element) in document order."""
    found: list[tuple[str, pikepdf.Dictionary]] = []

    def walk(node: object) -> None:
        if isinstance(node, pikepdf.Array):
            for kid in node:
                walk(kid)
        elif isinstance(node, pikepdf.Dictionary):
            if "/S" in node:
                found.append((str(node.S)[1:], node))
            if "/K" in node:
                walk(node.K)

    walk(pdf.Root.StructTreeRoot.K)
    return found


def test_pdf_is_tagged_with_the_report_structure(pdf_ru: Path, results: Results, html_ru: str) -> None:
    """What a screen reader gets: a marked, tagged document in Russian, with headings for the
    sections, lists, tables with header cells and a described figure for every image."""
    with pikepdf.open(pdf_ru) as pdf:
        assert pdf.Root.MarkInfo.Marked is True
        assert str(pdf.Root.Lang) == "ru"
        assert "/StructTreeRoot" in pdf.Root and "/ParentTree" in pdf.Root.StructTreeRoot
        elements = structure(pdf)
        kinds = [kind for kind, _ in elements]
        assert kinds.count("Document") == 1
        # headings: the report title and one H1 per section (the table of contents included), then H2/H3
        numbered = list(results_sections(results))
        assert kinds.count("H1") >= len(numbered) + 1
        assert kinds.count("H2") >= len(numbered) and kinds.count("H3") >= 1
        assert kinds.count("P") >= 50 and kinds.count("L") >= 1 and kinds.count("LI") >= 5
        # every table has header cells, under a table row
        # every HTML table with header cells is a Table with TH cells (CSS display: table boxes are
        # tables too, without header cells)
        with_th = [e for kind, e in elements if kind == "Table" and "TH" in [k for k, _ in structure_of(e)]]
        html_tables = re.findall(r"<table.*?</table>", html_ru, flags=re.S)
        assert len(html_tables) >= 20
        assert len(with_th) >= sum("<th" in table for table in html_tables)  # a table split over pages: one per page
        # one Figure per image of the HTML, each with the image's alt text
        figures = [e for kind, e in elements if kind == "Figure"]
        alts = re.findall(r'<img src="[^"]*" alt="([^"]*)"', html_ru)
        assert len(figures) == len(alts) == len(expected_figure_keys(results))
        import html as html_lib

        assert [str(f.Alt) for f in figures] == [html_lib.unescape(a) for a in alts]
        assert all(str(f.Alt).strip() for f in figures)


def results_sections(results: Results) -> list[str]:
    from report.render import view_model

    return [s.key for s in view_model(results).sections if s.number is not None]


def structure_of(element: pikepdf.Dictionary) -> list[tuple[str, pikepdf.Dictionary]]:
    found: list[tuple[str, pikepdf.Dictionary]] = []

    def walk(node: object) -> None:
        if isinstance(node, pikepdf.Array):
            for kid in node:
                walk(kid)
        elif isinstance(node, pikepdf.Dictionary) and "/S" in node:
            found.append((str(node.S)[1:], node))
            if "/K" in node:
                walk(node.K)

    walk(element.K)
    return found


def test_pdf_outline_and_links(pdf_ru: Path, results: Results) -> None:
    """Bookmarks: one top-level entry per numbered section, in order; the table of contents links to them."""
    t = translator("ru")
    top = [title for depth, title in outline_titles(pdf_ru) if depth == 0]
    for key in results_sections(results):
        assert any(t(f"section.{key}") in title for title in top), key
    with pikepdf.open(pdf_ru) as pdf:
        toc_links = [a for a in pdf.pages[1].get("/Annots", []) if a.get("/Subtype") == "/Link"]
        assert len(toc_links) >= len(results_sections(results))


@needs_pdftotext
def test_toc_page_numbers_are_the_pages_of_the_sections(pdf_ru: Path, results: Results) -> None:
    t = translator("ru")
    texts = page_texts(pdf_ru)
    toc = next(text for text in texts if text.startswith(t("report.title")) and t("section.toc") in text)
    for key in results_sections(results):
        title = t(f"section.{key}")
        match = re.search(re.escape(title) + r"[ .]*?(\d+)(?!\d)", toc.split(t("section.toc"), 1)[1])
        assert match, title
        page = int(match.group(1))
        assert title in texts[page - 1], (title, page)


# ---------------------------------------------------------------------------------- text
@needs_pdftotext
def test_running_header_names_the_section_of_the_page(pdf_ru: Path) -> None:
    t = translator("ru")
    texts = page_texts(pdf_ru)
    eda_pages = [i for i, text in enumerate(texts) if t("section.eda") in text and i > 1]
    # the EDA section spans several pages: each carries its title in the running header
    assert len(eda_pages) >= 2
    assert all(texts[i].startswith(t("report.title")) for i in range(1, len(texts)))
    assert t("report.title") + " ·" not in texts[0][:80]  # the cover has no running header


@needs_pdftotext
def test_identifiers_break_without_wbr_boxes_in_the_pdf(pdf_ru: Path, results: Results, figures_ru: dict,
                                                        html_ru: str) -> None:
    # the HTML file keeps <wbr>; the PDF's HTML has U+200B instead (no inline box per break), and
    # the identifiers (file names, feature names) read whole in the PDF's text, without a hidden character
    document = pdf_document(results, lang="ru", figures=figures_ru)
    assert "<wbr>" in html_ru and "\u200b" not in html_ru
    assert "<wbr>" not in document.html and "\u200b" in document.html
    text = pdf_text(pdf_ru)
    assert "\u200b" not in text
    assert "market_file.csv" in text and "categories_per_visit" in text


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
        assert segment_title(seg.key, "ru") in text, seg.key
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
        assert segment_title(seg.key, "en") in text
    assert re.search(r"page 2 of \d+", text)


@needs_pdftotext
def test_english_pdf_has_no_cyrillic_but_quoted_raw_input(pdf_en: Path, results: Results) -> None:
    """Cyrillic in the English PDF only where it quotes the data as recorded: the cleaning log's
    columns and before/after values, and the configuration dump (the data's vocabulary)."""
    word = re.compile(r"[\u0400-\u04FF]+")
    quoted = [f"{e.from_} {e.to}" for e in results.data.cleaning_log]
    vocabulary = results.meta.config.cleaning.vocabulary
    quoted += [" ".join(v) for _, v in vocabulary if isinstance(v, tuple)]
    allowed = {w for text in quoted for w in word.findall(str(text))}
    found = set(word.findall(pdf_text(pdf_en)))
    assert found, "the cleaning log quotes Russian raw values: the check would be vacuous without them"
    assert found <= allowed, sorted(found - allowed)


@needs_pdftotext
def test_page_one_is_the_executive_summary(pdf_ru: Path, results: Results) -> None:
    out = subprocess.run([PDFTOTEXT, "-f", "1", "-l", "1", "-enc", "UTF-8", str(pdf_ru), "-"], check=True,
                         capture_output=True).stdout.decode("utf-8")
    page1 = flat(out)
    priority = results.segment(results.segments.priority)
    assert segment_title(priority.key, "ru") in page1
    assert translator("ru")(f"action.{results.actions.top[0]}.title") in page1
    assert flat(fmt_number(results.data.n_customers_analysed, "ru")) in page1
    assert "стр. 1 из" in page1


# --------------------------------------------------------------------------- URL fetcher
def test_url_fetcher_serves_data_uris_and_own_resources_only(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[object] = []
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", lambda self, *a, **k: opened.append(a))
    fetcher = ReportURLFetcher({"report-resource:figures/a.png": Resource(content=PNG_1PX, mime="image/png")})
    response = fetcher.fetch("data:image/png;base64," + base64.b64encode(PNG_1PX).decode())
    assert response.read() == PNG_1PX and response.content_type == "image/png"
    assert fetcher.fetch("data:text/plain;charset=utf-8,%D0%B0").read() == "а".encode()
    own = fetcher.fetch("report-resource:figures/a.png")
    assert own.read() == PNG_1PX and own.content_type == "image/png"
    refused = ["http://example.com/x.png", "https://example.com/x.png", "file:///etc/passwd",
               "ftp://example.com/x", "FILE:///etc/hosts", "report-resource:figures/b.png"]
    for url in refused:
        with pytest.raises(BaseException, match="refused"):
            fetcher.fetch(url)
    assert fetcher.refused == refused
    assert fetcher.fetched == 3
    assert opened == []


@pytest.mark.parametrize("src", ["http://example.com/x.png", "file:///etc/passwd", "secret.png"])
def test_render_pdf_refuses_external_resources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, src: str) -> None:
    opened: list[object] = []
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", lambda self, *a, **k: opened.append(a))
    (tmp_path / "secret.png").write_bytes(PNG_1PX)
    html = f'<!DOCTYPE html><html lang="en"><head><title>x</title></head><body><p>x</p><img src="{src}"></body></html>'
    out = tmp_path / "out.pdf"
    with pytest.raises(ExternalResourceError, match="refused"):
        render_pdf(PdfDocument(html=html, resources={}), out_path=out, attachments=[], created="2026-10-31")
    assert not out.exists()
    assert opened == []


def test_render_pdf_refuses_css_imports_and_background_urls(tmp_path: Path) -> None:
    for css in ("@import url('http://example.com/a.css');", "body { background: url(http://example.com/b.png) }",
                "@font-face { font-family: X; src: url(file:///etc/passwd) } body { font-family: X }"):
        html = f"<html><head><style>{css}</style></head><body><p>x</p></body></html>"
        with pytest.raises(ExternalResourceError):
            render_pdf(PdfDocument(html=html, resources={}), out_path=tmp_path / "x.pdf",
                       attachments=[], created="2026-10-31")


def test_render_pdf_accepts_data_uris(tmp_path: Path) -> None:
    uri = "data:image/png;base64," + base64.b64encode(PNG_1PX).decode()
    out = tmp_path / "ok.pdf"
    render_pdf(plain_document(f'<img src="{uri}"><p style="break-before: page">second</p>'), out_path=out,
               attachments=[("a.json", b"{}", "A")], created="2026-10-31")
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 2
        assert set(pdf.attachments) == {"a.json"}


def test_parse_created() -> None:
    assert parse_created("2026-10-31").isoformat() == "2026-10-31T00:00:00+00:00"
    assert parse_created("2026-10-31T12:30:00+03:00").isoformat() == "2026-10-31T09:30:00+00:00"
