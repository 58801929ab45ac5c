"""Render :class:`analysis.results.Results` into one self-contained HTML document, and for the PDF.

The HTML file and the PDF come from the same templates and the same rendered sections:

* :func:`render_html` — the HTML file: the CSS inlined in a ``<style>``, every figure a
  ``data:`` URI, no external URL and no JavaScript;
* :func:`pdf_document` — the same document for the PDF, the figures referred to as in-memory
  ``report-resource:`` URLs; WeasyPrint's paged media does the rest (see ``report.css``).

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
from report.env import TEMPLATES_DIR, TemplateBytecodeCache, make_environment
from report.figures.registry import figure_keys
from report.structure import GLOSSARY_TERMS, SECTIONS, PdfAttachments, SectionView, ViewModel, view_model

#: URL scheme of in-memory resources (figures) in the HTML given to the PDF renderer.
RESOURCE_SCHEME = "report-resource:"
#: The line-break opportunity of ``<wbr>`` as a character (in the PDF's HTML).
_ZWSP = "\u200b"

if TYPE_CHECKING:  # the figures module is optional at import time
    from report.figures.jobs import FigureAsset

__all__ = [
    "GLOSSARY_TERMS",
    "SECTIONS",
    "ViewModel",
    "build_context",
    "environment",
    "expected_figure_keys",
    "pdf_document",
    "render_html",
    "view_model",
]

_log = logging.getLogger(__name__)

CSS_PATH = TEMPLATES_DIR / "report.css"



def expected_figure_keys(results: Results) -> tuple[str, ...]:
    """The figure keys the report shows for ``results`` (:func:`report.figures.registry.figure_keys`)."""
    return figure_keys(results)


# ------------------------------------------------------------------------------ rendering
#: The folder of the cache root that keeps the compiled templates (:class:`report.env.TemplateBytecodeCache`).
TEMPLATES_CACHE_DIR = "templates"


@cache
def environment(lang: str, money_unit: str = "unit") -> Environment:
    """The (cached) Jinja environment of ``lang``; templates are compiled once per process, and
    kept compiled between processes in the user's cache folder, one folder per code version
    (:func:`report.cache.cache_root` ``/ templates / <code version>``)."""
    from analysis.pipeline import code_version
    from report.cache import cache_root

    folder = cache_root() / TEMPLATES_CACHE_DIR / code_version()
    return make_environment(lang=lang, money_unit=money_unit, bytecode_cache=TemplateBytecodeCache.at(folder))


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
                  embed: bool = True, attachments: PdfAttachments | None = None) -> dict[str, Any]:
    """The template context: ``r`` (results), ``vm`` (view model), ``figures``, ``css``, ``glossary``.

    ``embed`` makes every figure a ``data:`` URI (the HTML file); otherwise figures are referred
    to by ``report-resource:`` URLs that the PDF renderer serves from memory. ``attachments``:
    what the build's PDF embeds and leaves out (the methodology states it), when known.
    """
    missing = [k for k in expected_figure_keys(results) if k not in figures]
    if missing:
        _log.warning("figures missing from the report: %s", ", ".join(missing))
    return {"r": results, "vm": view_model(results, attachments=attachments),
            "figures": _figure_refs(figures, embed=embed), "css": _css(), "lang": lang, "glossary": GLOSSARY_TERMS,
            "money_unit": results.meta.config.report.money_unit}


def _sections(context: Mapping[str, Any], lang: str) -> list[tuple[SectionView, Markup]]:
    """Each section of the report rendered on its own, in order."""
    env = environment(lang, context["money_unit"])
    return [(s, Markup(env.get_template(s.template).render(context)))  # noqa: S704 - autoescaped template output
            for s in context["vm"].sections]


def _document(context: Mapping[str, Any], lang: str, body: Sequence[Markup], **overrides: Any) -> str:
    return environment(lang, context["money_unit"]).get_template("report.html").render(
        {**context, **overrides, "body": Markup("\n").join(body)})


def render_html(results: Results, *, lang: str, figures: Mapping[str, FigureAsset],
                attachments: PdfAttachments | None = None) -> str:
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
    attachments : PdfAttachments, optional
        What the build's PDF embeds and leaves out (:func:`report.structure.pdf_attachments`);
        without it the report says nothing about the PDF's attachments.
    """
    context = build_context(results, lang=lang, figures=figures, attachments=attachments)
    return _document(context, lang, [html for _, html in _sections(context, lang)])


@dataclass(frozen=True, slots=True)
class Resource:
    """A file the PDF's HTML refers to by URL (a figure), served from memory."""

    content: bytes
    mime: str


@dataclass(frozen=True, slots=True)
class PdfDocument:
    """The report prepared for :func:`report.pdf.render_pdf`: one HTML document and its figures."""

    html: str
    resources: Mapping[str, Resource]


def pdf_document(results: Results, *, lang: str, figures: Mapping[str, FigureAsset],
                 attachments: PdfAttachments | None = None) -> PdfDocument:
    """The report as one document for WeasyPrint's paged media (running header, «стр. N из M», the
    table of contents' page numbers by ``target-counter``, bookmarks, links: all in the CSS), the
    figures referred to by ``report-resource:`` URLs served from memory.

    Parameters
    ----------
    results, lang, figures, attachments
        As for :func:`render_html`.
    """
    context = build_context(results, lang=lang, figures=figures, embed=False, attachments=attachments)
    html = _document(context, lang, [section for _, section in _sections(context, lang)])
    # WeasyPrint makes an inline box of every <wbr> (the real data's 338, mostly in the
    # configuration table, cost 0.3 s of the PDF's 3.3 s); U+200B ZERO WIDTH SPACE is the same
    # line-break opportunity inside the text, invisible and not extracted as text. The HTML file
    # keeps <wbr>, so that an identifier copied from a browser has no hidden character.
    html = html.replace("<wbr>", _ZWSP)
    return PdfDocument(html=html, resources=_resources(figures))
