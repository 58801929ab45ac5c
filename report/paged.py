"""What the PDF renderer and the templates exchange when a report is laid out in parts.

WeasyPrint lays a document out on one core, and on the real data that is most of the PDF's time
(~8 s for ~37 pages). Every major section of the report starts on a new page, so the sections
can be laid out in independent *parts*, one per core, and put back together page by page:

1. **Content parts** — consecutive sections, rendered without page furniture (no running header,
   no page numbers) and with the figure counter continued from the parts before them. The table
   of contents is laid out in the first part but kept invisible, so it takes its page.
2. **Frame** — one page per content page, rendered after the parts, carrying everything that
   depends on the whole document: the running header and «стр. N из M», the visible table of
   contents with its page numbers, the PDF outline (bookmarks), the internal links and their
   targets (replayed at the positions the parts reported), the XMP metadata and the attachments.
3. **Merge** — each content page is drawn under its frame page (:mod:`report.pdf`).

This module holds the plain data of that exchange, so that :mod:`report.render` (templates) and
:mod:`report.pdf` (WeasyPrint, pikepdf) do not import each other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["ORIGIN_ID", "RESOURCE_SCHEME", "TOC_ROOM_ID", "AnchorMark", "BookmarkMark", "LinkMark",
           "PageMarks", "PagedDocument", "Resource"]


@dataclass(frozen=True, slots=True)
class AnchorMark:
    """An element ``id`` on a page, at ``(x, y)`` CSS px from the top left corner of the page area."""

    name: str
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class LinkMark:
    """An internal link to ``#target`` covering the given rectangle (CSS px, page area)."""

    target: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class BookmarkMark:
    """An entry of the PDF outline: ``label`` at ``level`` (1 = top), pointing at ``(x, y)``."""

    level: int
    label: str
    x: float
    y: float
    open: bool


@dataclass(frozen=True, slots=True)
class PageMarks:
    """What a content page holds that the frame has to reproduce."""

    anchors: tuple[AnchorMark, ...] = ()
    links: tuple[LinkMark, ...] = ()
    bookmarks: tuple[BookmarkMark, ...] = ()


@dataclass(frozen=True, slots=True)
class Resource:
    """A file the document refers to by URL (e.g. a figure), served from memory."""

    content: bytes
    mime: str


@dataclass(frozen=True, slots=True)
class PagedDocument:
    """A document ready for :func:`report.pdf.render_pdf`.

    Parameters
    ----------
    parts : sequence of str
        HTML of the content parts, in page order. Each must begin with an element whose id is
        :data:`ORIGIN_ID`, positioned at the top left corner of the page area (the origin of the
        marks), and must not draw page furniture.
    frame : callable
        Given the marks of every content page (in order), returns the HTML of the frame: exactly
        one page per content page, with the furniture, the outline, the links and their targets.
    resources : mapping of str to Resource
        Files the HTML refers to by URL (``report-resource:…``); nothing else is fetched.
    """

    parts: tuple[str, ...]
    frame: Callable[[Sequence[PageMarks]], str]
    resources: Mapping[str, Resource] = field(default_factory=dict)


#: The id of the invisible table of contents in a content part: the frame shows the real one on its page.
TOC_ROOM_ID = "toc-room"
#: The id of the origin marker every content part begins with.
ORIGIN_ID = "page-area-origin"
#: URL scheme of in-memory resources (figures) in the HTML given to the PDF renderer.
RESOURCE_SCHEME = "report-resource:"
