"""Turn the report into an archival PDF/A-3b with WeasyPrint, laid out on every core.

* ``pdf_variant="pdf/a-3b"``: XMP metadata with ``pdfaid:part=3`` / ``conformance=B``, an sRGB
  output intent, every font embedded (subset), attachments linked from the catalogue's ``/AF``.
* The data travel inside the PDF as attachments (``results.json``, ``scores.csv``,
  ``manifest.json``), so an archived report carries what it was made from.
* Parallel layout (see :mod:`report.paged`): the content parts are laid out at the same time,
  one per core (a forked worker each but the first), then the frame — page furniture, table of
  contents, outline, links, metadata, attachments — and each content page is drawn under its
  frame page with pikepdf. Measured on the real data (37 pages, 2 cores): 8.5 s as one document,
  about 4.5 s in two parts plus the frame.
* Byte-reproducible: the document dates come from ``<meta name="dcterms.created|modified">``
  (set by :mod:`report.render` from the report date) and the attachments' dates are pinned to
  ``created``; the file identifier is a hash of the content; font subsets are stamped with
  ``created`` too (``SOURCE_DATE_EPOCH``, honoured by fontTools). The same parts and attachments
  give the same bytes, whether the parts were laid out in one process or several.
* Nothing is fetched: :class:`ReportURLFetcher` serves ``data:`` URIs and the document's own
  in-memory resources (``report-resource:…``) itself and refuses every other URL (http, https,
  ftp, file, relative paths …) with :class:`ExternalResourceError`, which stops the rendering.

Fonts: the CSS asks for "DejaVu Sans" (it has Cyrillic); on Debian it is the package
``fonts-dejavu-core``. WeasyPrint finds it through fontconfig, never through the URL fetcher.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import logging
import os
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, UTC
from functools import partial
from pathlib import Path

import pikepdf
from weasyprint import HTML, Attachment
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from report.paged import (
    ORIGIN_ID,
    RESOURCE_SCHEME,
    AnchorMark,
    BookmarkMark,
    LinkMark,
    PagedDocument,
    PageMarks,
    Resource,
)

__all__ = [
    "PDF_VARIANT",
    "ExternalResourceError",
    "PagedLayoutError",
    "ReportURLFetcher",
    "parse_created",
    "render_pdf",
]

_log = logging.getLogger(__name__)

#: The archival variant every report is written in.
PDF_VARIANT = "pdf/a-3b"


class ExternalResourceError(ValueError):
    """The HTML referenced a resource that is neither a ``data:`` URI nor one of its own resources."""


class PagedLayoutError(RuntimeError):
    """The frame does not have one page per content page (see :mod:`report.paged`)."""


class _Refused(FatalURLFetchingError):
    """Raised inside WeasyPrint to stop the rendering (WeasyPrint swallows ordinary errors)."""


class ReportURLFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves ``data:`` URIs and in-memory resources, and refuses the rest.

    Parameters
    ----------
    resources : mapping of str to Resource, optional
        Served by their exact URL (``report-resource:figures/roc.png``); no :mod:`urllib` handler
        is involved. Any other URL is recorded in :attr:`refused` and raises, which stops the
        rendering. :attr:`fetched` counts the URLs served.
    """

    def __init__(self, resources: Mapping[str, Resource] | None = None) -> None:
        super().__init__(allowed_protocols=("data",), allow_redirects=False, fail_on_errors=True)
        self.resources: Mapping[str, Resource] = resources or {}
        self.refused: list[str] = []
        self.fetched: int = 0

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        """Serve a ``data:`` URI or one of :attr:`resources`; refuse any other ``url``."""
        resource = self.resources.get(url) if url.startswith(RESOURCE_SCHEME) else None
        if resource is not None:
            self.fetched += 1
            return URLFetcherResponse(url, body=resource.content, headers={"Content-Type": resource.mime})
        if url[:5].lower() != "data:":
            self.refused.append(url)
            raise _Refused(f"refused to fetch {url!r}: the report may only use data: URIs and its own resources")
        header, sep, payload = url[5:].partition(",")
        if not sep:
            raise _Refused("malformed data: URI (no comma)")
        params = header.split(";")
        mime = params[0].strip() or "text/plain"
        try:
            if any(p.strip().lower() == "base64" for p in params[1:]):
                body = base64.b64decode(urllib.parse.unquote_to_bytes(payload), validate=False)
            else:
                body = urllib.parse.unquote_to_bytes(payload)
        except (binascii.Error, ValueError) as exc:
            raise _Refused(f"malformed data: URI ({exc})") from exc
        self.fetched += 1
        headers_out = {"Content-Type": mime}
        for p in params[1:]:
            key, eq, value = p.partition("=")
            if eq and key.strip().lower() == "charset":
                headers_out["Content-Type"] = f"{mime}; charset={value.strip()}"
        return URLFetcherResponse("data:" + header + ",", body=body, headers=headers_out)


def _dedupe_associated_files(document: object, pdf: object) -> None:  # WeasyPrint's finisher API
    """Keep each file specification once in the catalogue's ``/AF`` array.

    WeasyPrint 70's PDF/A code appends every attachment twice (once from the embedded-files name
    tree, once from the file specification objects); PDF/A-3 wants each associated file listed once.
    """
    catalog = pdf.catalog  # type: ignore[attr-defined]
    if "AF" in catalog:
        unique = list(dict.fromkeys(catalog["AF"]))
        catalog["AF"].clear()
        catalog["AF"].extend(unique)


@contextmanager
def _source_date_epoch(moment: datetime) -> Iterator[None]:
    """Pin ``SOURCE_DATE_EPOCH`` (reproducible-builds.org) to ``moment`` for the enclosed block.

    fontTools, which WeasyPrint uses to subset fonts when HarfBuzz-subset is not installed,
    stamps the subset font's ``head.modified`` with the current time unless this is set.
    """
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(int(moment.timestamp()))
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


def parse_created(created: str) -> datetime:
    """``created`` (ISO date or date-time) as an aware UTC datetime (a date means midnight UTC)."""
    try:
        moment = datetime.fromisoformat(created)
    except ValueError:
        moment = datetime.combine(date.fromisoformat(created), datetime.min.time())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _marks(page: object, origin: tuple[float, float]) -> PageMarks:
    """The anchors, internal links and bookmarks of a laid-out WeasyPrint page, relative to ``origin``."""
    ox, oy = origin
    anchors = tuple(AnchorMark(name=name, x=round(box[0] - ox, 3), y=round(box[1] - oy, 3))
                    for name, box in page.anchors.items() if name != ORIGIN_ID)  # type: ignore[attr-defined]
    links = tuple(LinkMark(target=target, x=round(x0 - ox, 3), y=round(y0 - oy, 3),
                           width=round(x1 - x0, 3), height=round(y1 - y0, 3))
                  for kind, target, (x0, y0, x1, y1), _ in page.links  # type: ignore[attr-defined]
                  if kind == "internal")
    bookmarks = tuple(BookmarkMark(level=level, label=label, x=round(x - ox, 3), y=round(y - oy, 3),
                                   open=state != "closed")
                      for level, label, (x, y), state in page.bookmarks)  # type: ignore[attr-defined]
    return PageMarks(anchors=anchors, links=links, bookmarks=bookmarks)


def _render_part(html: str, resources: Mapping[str, Resource]) -> tuple[bytes, tuple[PageMarks, ...]]:
    """Lay out one content part: its PDF bytes and the marks of each of its pages."""
    fetcher = ReportURLFetcher(resources)
    document = HTML(string=html, base_url=RESOURCE_SCHEME, url_fetcher=fetcher).render(pdf_variant=PDF_VARIANT)
    if not document.pages or ORIGIN_ID not in document.pages[0].anchors:
        raise PagedLayoutError(f"a content part must begin with the origin marker #{ORIGIN_ID}")
    origin = document.pages[0].anchors[ORIGIN_ID][:2]
    pdf = document.write_pdf(pdf_variant=PDF_VARIANT, uncompressed_pdf=True)  # compressed once, by _merge
    assert pdf is not None
    return pdf, tuple(_marks(page, origin) for page in document.pages)


def _render_parts(parts: Sequence[str], resources: Mapping[str, Resource],
                  n_jobs: int) -> list[tuple[bytes, tuple[PageMarks, ...]]]:
    """Every part laid out, the first here and the others in forked workers (up to ``n_jobs`` at once)."""
    from analysis.parallel import Forked

    rendered: list[tuple[bytes, tuple[PageMarks, ...]]] = []
    for start in range(0, len(parts), max(1, n_jobs)):
        batch = parts[start:start + max(1, n_jobs)]
        workers = [Forked([("pdf_part", partial(_render_part, h, resources))]) for h in batch[1:]]
        try:
            first = _render_part(batch[0], resources)
        except BaseException:
            for worker in workers:
                worker.cancel()
            raise
        rendered.append(first)
        for worker in workers:
            (result,), _ = worker.join()
            rendered.append(result)
    return rendered


def _subset_tag(seed: str) -> str:
    """A six-letter font subset tag derived from ``seed`` (``ABCDEF`` in ``ABCDEF+DejaVu-Sans``)."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    return "".join(chr(ord("A") + b % 26) for b in digest[:6])


def _retag_fonts(resources: pikepdf.Object, part: int, seen: set[tuple[int, int]]) -> None:
    """Give the font subsets of content part ``part`` names of their own.

    Every part embeds its own subset of the same fonts; WeasyPrint names a subset after the font,
    so two different subsets would carry one name (``XKQQSR+DejaVu-Sans``), which a viewer may
    take for one font. The new tag is derived from the part number and the old name.
    """
    fonts = resources.get("/Font")
    if fonts is not None:
        for font in fonts.values():
            if font.objgen in seen:
                continue
            seen.add(font.objgen)
            name = str(font.get("/BaseFont", ""))[1:]
            _, plus, base = name.partition("+")
            if not plus:
                continue
            new = pikepdf.Name("/" + _subset_tag(f"{part}:{name}") + "+" + base)
            font.BaseFont = new
            for descendant in font.get("/DescendantFonts", []):
                descendant.BaseFont = new
                if "/FontDescriptor" in descendant:
                    descendant.FontDescriptor.FontName = new
            if "/FontDescriptor" in font:
                font.FontDescriptor.FontName = new
    for xobject in (resources.get("/XObject") or {}).values():
        if xobject.get("/Subtype") == "/Form" and "/Resources" in xobject and xobject.objgen not in seen:
            seen.add(xobject.objgen)
            _retag_fonts(xobject.Resources, part, seen)


def _underlay(target: pikepdf.Page, page: pikepdf.Page, number: int) -> None:
    """Draw ``page`` (from another PDF) under ``target``, as the Form XObject ``/ContentPage<number>``.

    pikepdf's ``add_underlay`` names the XObject at random, which would make every build's bytes
    differ; this does the same with a fixed name (numbered: frame pages may share one resource
    dictionary).
    """
    name = pikepdf.Name(f"/ContentPage{number}")
    xobjects = target.Resources.get("/XObject")
    if xobjects is not None and name in xobjects:
        raise PagedLayoutError(f"frame page {number} already has a content page under it")
    form = page.as_form_xobject()
    target.add_resource(form, pikepdf.Name.XObject, name=name)
    placement = target.calc_form_xobject_placement(form, name, pikepdf.Rectangle(target.trimbox))
    target.contents_add(placement, prepend=True)
    target.contents_coalesce()


def _merge(frame_pdf: bytes, parts: Sequence[bytes]) -> bytes:
    """Draw the pages of ``parts`` (concatenated) under the pages of ``frame_pdf``."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(frame_pdf)) as frame:
        sources = [pikepdf.open(io.BytesIO(part)) for part in parts]
        try:
            content = [(k, page) for k, source in enumerate(sources) for page in source.pages]
            if len(content) != len(frame.pages):
                raise PagedLayoutError(f"the frame has {len(frame.pages)} pages for {len(content)} content pages")
            for k, source in enumerate(sources):
                seen: set[tuple[int, int]] = set()
                for page in source.pages:
                    _retag_fonts(page.Resources, k, seen)
            for number, (target, (_, page)) in enumerate(zip(frame.pages, content, strict=True), start=1):
                _underlay(target, page, number)
            # The parts and the frame come uncompressed: every stream is compressed here, once, by
            # qpdf at zlib's default level (WeasyPrint's writer compresses at level 9 in Python:
            # the frame's attachments alone took 0.17 s of 0.30 s; the file is as small).
            frame.save(out, deterministic_id=True, compress_streams=True,
                       object_stream_mode=pikepdf.ObjectStreamMode.generate)
        finally:
            for source in sources:
                source.close()
    return out.getvalue()


def render_pdf(document: PagedDocument, *, out_path: Path, attachments: Sequence[tuple[str, bytes, str]],
               created: str, n_jobs: int = 1) -> None:
    """Write ``document`` as a PDF/A-3b file to ``out_path``.

    Parameters
    ----------
    document : PagedDocument
        The content parts, the frame builder and the in-memory resources
        (:func:`report.render.paged_document`).
    out_path : Path
        Where to write the PDF (written only when the rendering succeeded).
    attachments : sequence of (name, content, description)
        Files embedded in the PDF, e.g. ``("results.json", data, "Analysis results")``; the MIME
        type follows from the name.
    created : str
        ISO date (``2026-10-31``) or date-time pinned as the attachments' creation and
        modification dates; the document's own dates come from the frame's ``dcterms`` meta tags.
    n_jobs : int
        Content parts laid out at the same time (forked workers beside this process).

    Raises
    ------
    ExternalResourceError
        When the HTML references anything but a ``data:`` URI or one of its resources.
    PagedLayoutError
        When the frame does not have one page per content page.
    """
    moment = parse_created(created)
    try:
        with _source_date_epoch(moment):
            rendered = _render_parts(document.parts, document.resources, n_jobs)
            marks = [m for _, part_marks in rendered for m in part_marks]
            fetcher = ReportURLFetcher(document.resources)
            files = [
                Attachment(string=content, base_url=RESOURCE_SCHEME, url_fetcher=fetcher, name=name,
                           description=description, created=moment, modified=moment,
                           relationship="Data" if name.endswith((".json", ".csv")) else "Supplement")
                for name, content, description in attachments
            ]
            frame = HTML(string=document.frame(marks), base_url=RESOURCE_SCHEME, url_fetcher=fetcher)
            frame_pdf = frame.write_pdf(pdf_variant=PDF_VARIANT, attachments=files, uncompressed_pdf=True,
                                        finisher=_dedupe_associated_files)
    except FatalURLFetchingError as exc:  # _Refused, or a malformed data: URI
        raise ExternalResourceError(str(exc)) from None
    assert frame_pdf is not None
    pdf = _merge(frame_pdf, [part for part, _ in rendered])
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".part")
    tmp.write_bytes(pdf)
    tmp.replace(out_path)
    _log.info("wrote %s (%d bytes, %d pages, %d parts)", out_path, len(pdf), len(marks), len(rendered))
