"""Render :class:`analysis.results.Results` into one self-contained HTML document, and for the PDF.

The HTML file and the PDF come from the same templates and the same rendered sections:

* :func:`render_html` — the HTML file: the CSS inlined in a ``<style>``, every figure a
  ``data:`` URI, no external URL and no JavaScript;
* :func:`paged_document` — the PDF's content parts (consecutive sections, the figures referred to
  as in-memory ``report-resource:`` URLs) and its frame (page furniture, table of contents,
  outline, links), see :mod:`report.paged`.

Every data-derived string goes through Jinja's autoescaping.

Templates never compute statistics. What needs more than formatting — ordering, the top
actions, month-over-month rows, flattening the configuration — is arranged by
:func:`report.structure.view_model`, which every output (HTML, PDF, e-mail, Quarto) reads.

>>> html = render_html(results, lang="ru", figures=build_figures(results, lang="ru"))  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from jinja2 import Environment
from markupsafe import Markup

from analysis.results import Results
from report.env import TEMPLATES_DIR, make_environment
from report.figures.registry import figure_keys
from report.i18n import translator
from report.structure import GLOSSARY_TERMS, SECTIONS, SectionView, ViewModel, view_model
from report.paged import ORIGIN_ID, RESOURCE_SCHEME, TOC_ROOM_ID, PagedDocument, PageMarks, Resource

if TYPE_CHECKING:  # the figures module is optional at import time
    from report.figures.charts import FigureAsset

__all__ = [
    "GLOSSARY_TERMS",
    "SECTIONS",
    "ViewModel",
    "build_context",
    "environment",
    "expected_figure_keys",
    "paged_document",
    "render_html",
    "view_model",
]

_log = logging.getLogger(__name__)

CSS_PATH = TEMPLATES_DIR / "report.css"



def expected_figure_keys(results: Results) -> tuple[str, ...]:
    """The figure keys the report shows for ``results`` (:func:`report.figures.registry.figure_keys`)."""
    return figure_keys(results)


# ------------------------------------------------------------------------------ rendering
@cache
def environment(lang: str, money_unit: str = "unit") -> Environment:
    """The (cached) Jinja environment of ``lang``; templates are compiled once per process."""
    return make_environment(lang=lang, money_unit=money_unit)


def compile_templates(lang: str) -> None:
    """Compile every template of ``lang``'s environment now (they are kept for the process)."""
    env = environment(lang)
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)


def _css() -> Markup:
    css = CSS_PATH.read_text(encoding="utf-8")
    if "</" in css:
        raise ValueError(f"{CSS_PATH} must not contain '</' (it is inlined in a <style> element)")
    return Markup(css)  # noqa: S704 - our own stylesheet, checked above


@dataclass(frozen=True, slots=True)
class FigureRef:
    """A figure as the templates show it: its ``src`` (data: URI or resource URL), alt text and width."""

    src: str
    alt: str
    width_cm: float


def _figure_refs(figures: Mapping[str, FigureAsset], *, embed: bool) -> dict[str, FigureRef]:
    return {key: FigureRef(src=asset.data_uri() if embed else RESOURCE_SCHEME + "figures/" + asset.file_name,
                           alt=asset.alt, width_cm=asset.width_cm)
            for key, asset in figures.items()}


def _resources(figures: Mapping[str, FigureAsset]) -> dict[str, Resource]:
    return {RESOURCE_SCHEME + "figures/" + a.file_name: Resource(content=a.payload, mime=a.mime)
            for a in figures.values()}


def build_context(results: Results, *, lang: str, figures: Mapping[str, FigureAsset],
                  embed: bool = True) -> dict[str, Any]:
    """The template context: ``r`` (results), ``vm`` (view model), ``figures``, ``css``, ``glossary``.

    ``embed`` makes every figure a ``data:`` URI (the HTML file); otherwise figures are referred
    to by ``report-resource:`` URLs that the PDF renderer serves from memory.
    """
    missing = [k for k in expected_figure_keys(results) if k not in figures]
    if missing:
        _log.warning("figures missing from the report: %s", ", ".join(missing))
    return {"r": results, "vm": view_model(results), "figures": _figure_refs(figures, embed=embed), "css": _css(),
            "lang": lang, "glossary": GLOSSARY_TERMS, "page_mode": "screen", "origin_id": ORIGIN_ID,
            "toc_room_id": TOC_ROOM_ID, "money_unit": results.meta.config.report.money_unit,
            "figure_offset": 0}


def _sections(context: Mapping[str, Any], lang: str) -> list[tuple[SectionView, Markup]]:
    """Each section of the report rendered on its own, in order."""
    env = environment(lang, context["money_unit"])
    return [(s, Markup(env.get_template(s.template).render(context)))  # noqa: S704 - autoescaped template output
            for s in context["vm"].sections]


def _document(context: Mapping[str, Any], lang: str, body: Sequence[Markup], **overrides: Any) -> str:
    return environment(lang, context["money_unit"]).get_template("report.html").render(
        {**context, **overrides, "body": Markup("\n").join(body)})


def render_html(results: Results, *, lang: str, figures: Mapping[str, FigureAsset]) -> str:
    """The report as one self-contained HTML document.

    Parameters
    ----------
    results : Results
        What the analysis computed.
    lang : {"ru", "en"}
        Language of every static string and of number formatting.
    figures : mapping of str to FigureAsset
        The figures by key (:func:`report.figures.charts.build_figures`); a missing figure is
        replaced by a visible note (and logged).
    """
    context = build_context(results, lang=lang, figures=figures)
    return _document(context, lang, [html for _, html in _sections(context, lang)])


_FIGURE_TAG = '<figure class="fig'


def _split(weights: Sequence[int], n_parts: int) -> list[int]:
    """Start indexes of ``n_parts`` consecutive groups of ``weights`` with sums as even as possible."""
    n_parts = max(1, min(n_parts, len(weights)))
    total = sum(weights)
    starts, acc = [0], 0
    for i, w in enumerate(weights[:-1]):
        acc += w
        # close a group once it reaches its share, or at the latest when the rest need a section each
        if len(starts) < n_parts and (acc >= total * len(starts) / n_parts
                                      or len(weights) - (i + 1) <= n_parts - len(starts)):
            if abs(acc - w - total * len(starts) / n_parts) < abs(acc - total * len(starts) / n_parts) \
                    and i > starts[-1]:
                starts.append(i)
            else:
                starts.append(i + 1)
    return starts


def paged_document(results: Results, *, lang: str, figures: Mapping[str, FigureAsset],
                   n_parts: int = 1) -> PagedDocument:
    """The report prepared for :func:`report.pdf.render_pdf`: content parts, frame and figures.

    Parameters
    ----------
    results, lang, figures
        As for :func:`render_html`.
    n_parts : int
        Number of content parts (one per core that will lay them out). Sections are grouped
        consecutively by the size of their markup, a fair proxy of their layout time.
    """
    context = {**build_context(results, lang=lang, figures=figures, embed=False), "page_mode": "part"}
    sections = _sections(context, lang)
    weights = [len(html) for _, html in sections]
    starts = _split(weights, n_parts)
    parts = []
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(sections)
        offset = sum(html.count(_FIGURE_TAG) for _, html in sections[:start])
        parts.append(_document(context, lang, [html for _, html in sections[start:end]], figure_offset=offset))

    def frame(pages: Sequence[PageMarks]) -> str:
        return render_frame(results, lang=lang, pages=pages, context=context)

    return PagedDocument(parts=tuple(parts), frame=frame, resources=_resources(figures))


@dataclass(frozen=True, slots=True)
class FramePage:
    """One page of the frame: what it replays and the section title of its running header."""

    number: int
    marks: PageMarks
    section_title: str
    toc: bool


def render_frame(results: Results, *, lang: str, pages: Sequence[PageMarks],
                 context: Mapping[str, Any] | None = None) -> str:
    """The PDF's frame for content pages with ``pages`` marks (see :mod:`report.paged`).

    The running header of a page names the section that starts on it, or else the one that
    started last; the table of contents is shown on the page where the content keeps its room
    (:data:`report.paged.TOC_ROOM_ID`).
    """
    context = context or build_context(results, lang=lang, figures={}, embed=False)
    vm: ViewModel = context["vm"]
    t = translator(lang, money_unit=context["money_unit"])
    titles = {s.key: f"{s.number}.\u00a0{t('section.' + s.key)}" for s in vm.sections if s.number is not None}
    order = [s.key for s in vm.sections]
    seen: set[str] = set()
    current, frame_pages = "", []
    for number, marks in enumerate(pages, start=1):
        # an element split over pages is marked on each of them: keep its first page only
        first = tuple(a for a in marks.anchors if a.name not in seen)
        seen.update(a.name for a in first)
        names = {a.name for a in first}
        current = next((titles[k] for k in order if k in names and k in titles), current)
        frame_pages.append(FramePage(number=number, section_title=current, toc=TOC_ROOM_ID in names,
                                     marks=PageMarks(anchors=first, links=marks.links, bookmarks=marks.bookmarks)))
    return environment(lang, context["money_unit"]).get_template("frame.html").render({**context, "pages": frame_pages,
                                                               "page_mode": "frame"})
