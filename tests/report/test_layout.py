"""The report as its readers see it, on the real data, in both languages.

* PDF: nothing is drawn in the side margins (apart from the running header and the folio, which
  sit above and below the page area); the main body before the appendix has at most
  :data:`MAX_BODY_PAGES` pages; no line starts with a dash.
* HTML: at 390 px (a phone) and at 1280 px the document is exactly as wide as the viewport (no
  sideways scrolling of the page; wide tables and charts scroll in their own box), no table cell
  is narrower than two letters and nothing overflows its tile or table cell. Checked in Debian's
  Chromium (/usr/bin/chromium, ``make sysdeps``) driven by Playwright.
* Tables: numbers in one column have one precision.

The reports are built once per module with the command line, as a user builds them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from report.i18n import translator

pytestmark = [pytest.mark.slow, pytest.mark.realdata]

PDFTOPPM = shutil.which("pdftoppm")
PDFTOTEXT = shutil.which("pdftotext")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]

#: The issue's bound on the main body (cover to conclusions).
MAX_BODY_PAGES = 22
#: A4 and the page margins of templates/report.css (@page: 20 mm 17 mm 18 mm 17 mm).
PAGE_MM = (210.0, 297.0)
MARGIN_MM = {"top": 20.0, "right": 17.0, "bottom": 18.0, "left": 17.0}
DPI = 50


@pytest.fixture(scope="module", params=["ru", "en"])
def built(request: pytest.FixtureRequest, real_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    lang = request.param
    out = tmp_path_factory.mktemp(f"real-{lang}")
    subprocess.run([str(Path(sys.executable).parent / "oneclick-report"), "build", "--data", str(real_dir),
                    "--out", str(out), "--period", "2026-10", "--lang", lang], check=True, capture_output=True)
    return {"lang": lang, "pdf": out / f"oneclick-report_2026-10_{lang}.pdf",
            "html": out / f"oneclick-report_2026-10_{lang}.html"}


def _pages_text(pdf: Path) -> list[str]:
    out = subprocess.run([PDFTOTEXT, "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True).stdout
    return out.decode("utf-8").split("\f")[:-1]


def margin_ink(pdf: Path, tmp_path: Path) -> list[tuple[int, str, int]]:
    """(page, side, columns with ink) for every page with non-white pixels in a side margin,
    between the bottom of the top margin and the top of the bottom margin (where the running
    header and the folio are not)."""
    subprocess.run([PDFTOPPM, "-gray", "-r", str(DPI), str(pdf), str(tmp_path / "p")], check=True)
    from PIL import Image

    def px(mm: float) -> int:
        return round(mm / 25.4 * DPI)

    found = []
    for path in sorted(tmp_path.glob("p-*.pgm")):
        page = np.asarray(Image.open(path))
        height, width = page.shape
        band = page[px(MARGIN_MM["top"]): height - px(MARGIN_MM["bottom"])]
        # one pixel of tolerance at the edge of the page area (anti-aliasing of a rule flush with it)
        sides = {"left": band[:, : px(MARGIN_MM["left"]) - 1], "right": band[:, width - px(MARGIN_MM["right"]) + 1:]}
        for side, area in sides.items():
            columns = int((area < 200).any(axis=0).sum())
            if columns:
                found.append((int(path.stem.split("-")[1]), side, columns))
    return found


@pytest.mark.skipif(PDFTOPPM is None, reason="pdftoppm (poppler-utils) is not installed")
def test_nothing_is_drawn_in_the_side_margins(built: dict, tmp_path: Path) -> None:
    assert margin_ink(built["pdf"], tmp_path) == []


def page_fill(pdf: Path, tmp_path: Path) -> list[float]:
    """For every page, how far down the page area the last ink reaches (0–1)."""
    subprocess.run([PDFTOPPM, "-gray", "-r", "40", str(pdf), str(tmp_path / "f")], check=True)
    from PIL import Image

    def px(mm: float) -> int:
        return round(mm / 25.4 * 40)

    fills = []
    for path in sorted(tmp_path.glob("f-*.pgm")):
        page = np.asarray(Image.open(path))
        height, width = page.shape
        area = page[px(MARGIN_MM["top"]): height - px(MARGIN_MM["bottom"]),
                    px(MARGIN_MM["left"]): width - px(MARGIN_MM["right"])]
        rows = np.flatnonzero((area < 200).any(axis=1))
        fills.append((rows.max() + 1) / area.shape[0] if rows.size else 0.0)
    return fills


@pytest.mark.skipif(PDFTOPPM is None or PDFTOTEXT is None, reason="poppler-utils are not installed")
def test_no_half_empty_page_inside_a_section(built: dict, tmp_path: Path) -> None:
    """A page filled less than half is only allowed before a new major section (whose heading
    repeats the running header's section title on its first page) and at the end."""
    texts = _pages_text(built["pdf"])
    fills = page_fill(built["pdf"], tmp_path)
    assert len(fills) == len(texts)
    half_empty = []
    for i, fill in enumerate(fills[:-1]):
        titles = re.findall(r"^(\d+\.\s.+)$", texts[i + 1], flags=re.M)
        starts_section = len(titles) != len(set(titles))
        if fill < 0.5 and not starts_section:
            half_empty.append((i + 1, round(fill, 2)))
    assert half_empty == []


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) is not installed")
def test_main_body_is_short(built: dict) -> None:
    t = translator(built["lang"])
    pages = _pages_text(built["pdf"])
    toc = next(i for i, text in enumerate(pages) if t("section.toc") in text)
    title = t("section.appendix")
    appendix = next(i for i, text in enumerate(pages) if i != toc and title in re.sub(r"\s+", " ", text))
    assert appendix <= MAX_BODY_PAGES, f"the appendix starts on page {appendix + 1} of {len(pages)}"


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) is not installed")
def test_no_line_starts_with_a_dash(built: dict) -> None:
    lines = [line for text in _pages_text(built["pdf"]) for line in text.splitlines()]
    # a dash that starts a line of text (a cell holding «—» for «none», «— / 0,02», is a value)
    starting = [line for line in lines if re.match(r"[—–-]\s*[^\W\d_]", line.strip())]
    assert starting == []


# ---------------------------------------------------------------------------------- HTML
class _Cells(HTMLParser):
    """The text of every ``td.num`` cell of every table, by table and column."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[int, list[str]]] = []
        self._col = -1
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table":
            self.tables.append({})
        elif tag == "tr":
            self._col = -1
        elif tag in ("td", "th"):
            span = int(dict(attrs).get("colspan") or 1)
            self._col += span
            # a column of values of different features (one row per feature, class «val») keeps
            # each value as recorded
            self._cell = [] if tag == "td" and "num" in classes and "val" not in classes and self.tables else None
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1].setdefault(self._col, []).append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _decimals(cell: str, lang: str) -> set[int]:
    """The number of decimals of every number in ``cell`` (thousands separators removed)."""
    mark, thousands = (",", "\u00a0") if lang == "ru" else (".", ",")  # ru: a no-break space
    text = re.sub(rf"(?<=\d){thousands}(?=\d{{3}})", "", cell)
    return {len(m.group(1) or "") for m in re.finditer(rf"\d+(?:{re.escape(mark)}(\d+))?", text)}


def test_numbers_in_one_column_have_one_precision(built: dict) -> None:
    parser = _Cells()
    parser.feed(built["html"].read_text(encoding="utf-8"))
    mixed = []
    for i, table in enumerate(parser.tables):
        for col, cells in table.items():
            numbers = [c for c in cells if re.search(r"\d", c)]
            precisions = set().union(*(_decimals(c, built["lang"]) for c in numbers)) if numbers else set()
            if len(precisions) > 1:
                mixed.append((i, col, numbers[:6]))
    assert mixed == []


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201 - playwright Browser
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make sysdeps)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield b
        b.close()


#: Measured in the page: document width, the narrowest table cell against the width of two
#: letters of its own font, tiles and table cells whose content overflows them (runs into the
#: next cell).
_MEASURE = """() => {
  const canvas = document.createElement("canvas").getContext("2d");
  const narrow = [];
  for (const cell of document.querySelectorAll("table td, table th")) {
    const text = cell.textContent.trim();
    if (!text) continue;
    const style = getComputedStyle(cell);
    canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const two = canvas.measureText("оо").width;
    const pad = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
    const inner = cell.getBoundingClientRect().width - pad;
    if (inner + 0.5 < Math.min(two, canvas.measureText(text).width)) narrow.push([text.slice(0, 30), inner, two]);
  }
  const overflowing = [...document.querySelectorAll(".kpi-value, .fact-value, .funnel-value, table td, table th")]
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent.trim().slice(0, 40));
  return {doc: document.documentElement.scrollWidth, body: document.body.scrollWidth,
          viewport: window.innerWidth, narrow: narrow.slice(0, 5), overflowing};
}"""


@pytest.mark.parametrize("width", [390, 1280])
def test_html_fits_the_screen(built: dict, browser, width: int) -> None:  # noqa: ANN001
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(built["html"].as_uri())
        assert page.locator('meta[name="viewport"]').count() == 1
        m = page.evaluate(_MEASURE)
    finally:
        page.close()
    assert m["doc"] == m["viewport"] == width, m
    assert m["narrow"] == [], m["narrow"]
    assert m["overflowing"] == [], m["overflowing"]
