"""Turn the report into one archival, tagged PDF/A-3a document with WeasyPrint.

* ``pdf_variant="pdf/a-3a"``: XMP metadata with ``pdfaid:part=3`` / ``conformance=A``, an sRGB
  output intent, every font embedded (subset), attachments linked from the catalogue's ``/AF``,
  and a tagged structure (``MarkInfo/Marked``, the document ``Lang`` from ``<html lang>``,
  headings ``H1``–``H4``, paragraphs, lists, tables with ``TH`` header cells, ``Figure`` with the
  ``alt`` text of every image); the page furniture is marked as artifacts.
* One WeasyPrint document with its own paged media (``report.css``): running header through
  ``string-set``, «стр. N из M» through ``counter(page)`` / ``counter(pages)``, the table of
  contents' page numbers through ``target-counter()``, the PDF outline from the headings and
  internal links.
* The data travel inside the PDF as attachments (``results.json``, ``scores.csv``,
  ``manifest.json``), so an archived report carries what it was made from.
* Byte-reproducible: the document dates come from ``<meta name="dcterms.created|modified">``
  (set by :mod:`report.render` from the report date) and the attachments' dates are pinned to
  ``created``; the file identifier is a hash of the content; font subsets are stamped with
  ``created`` too (``SOURCE_DATE_EPOCH``, honoured by fontTools). Font subset names depend on the
  hash seed: the build renders the PDF in a worker started with ``PYTHONHASHSEED=0``
  (:mod:`runtime.executor`).
* Nothing is fetched: :class:`ReportURLFetcher` serves ``data:`` URIs and the document's own
  in-memory resources (``report-resource:…``) itself and refuses every other URL (http, https,
  ftp, file, relative paths …) with :class:`ExternalResourceError`, which stops the rendering.

Fonts: the CSS asks for "DejaVu Sans" (it has Cyrillic); on Debian it is the package
``fonts-dejavu-core``. WeasyPrint finds it through fontconfig, never through the URL fetcher.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, UTC
from pathlib import Path

from weasyprint import HTML, Attachment
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from report.render import RESOURCE_SCHEME, PdfDocument, Resource
from runtime import collector

__all__ = [
    "PDF_VARIANT",
    "ExternalResourceError",
    "ReportURLFetcher",
    "parse_created",
    "render_pdf",
]

_log = logging.getLogger(__name__)

#: The archival variant every report is written in.
PDF_VARIANT = "pdf/a-3a"


class ExternalResourceError(ValueError):
    """The HTML referenced a resource that is neither a ``data:`` URI nor one of its own resources."""


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


def render_pdf(document: PdfDocument, *, out_path: Path, attachments: Sequence[tuple[str, bytes, str]],
               created: str) -> int:
    """Write ``document`` as a tagged PDF/A-3a file to ``out_path``; the number of pages.

    Parameters
    ----------
    document : PdfDocument
        The report's HTML and its in-memory resources (:func:`report.render.pdf_document`).
    out_path : Path
        Where to write the PDF (written only when the rendering succeeded).
    attachments : sequence of (name, content, description)
        Files embedded in the PDF, e.g. ``("results.json", data, "Analysis results")``; the MIME
        type follows from the name.
    created : str
        ISO date (``2026-10-31``) or date-time pinned as the attachments' creation and
        modification dates; the document's own dates come from its ``dcterms`` meta tags.

    Raises
    ------
    ExternalResourceError
        When the HTML references anything but a ``data:`` URI or one of its resources.
    """
    moment = parse_created(created)
    fetcher = ReportURLFetcher(document.resources)
    try:
        # WeasyPrint's boxes, no garbage collection while they are made (runtime.collector)
        with _source_date_epoch(moment), collector.paused():
            files = [
                Attachment(string=content, base_url=RESOURCE_SCHEME, url_fetcher=fetcher, name=name,
                           description=description, created=moment, modified=moment,
                           relationship="Data" if name.endswith((".json", ".csv")) else "Supplement")
                for name, content, description in attachments
            ]
            laid_out = HTML(string=document.html, base_url=RESOURCE_SCHEME, url_fetcher=fetcher).render(
                pdf_variant=PDF_VARIANT)
            pdf = laid_out.write_pdf(pdf_variant=PDF_VARIANT, attachments=files, finisher=_dedupe_associated_files)
    except FatalURLFetchingError as exc:  # _Refused, or a malformed data: URI
        raise ExternalResourceError(str(exc)) from None
    assert pdf is not None
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".part")
    tmp.write_bytes(pdf)
    tmp.replace(out_path)
    _log.info("wrote %s (%d bytes, %d pages)", out_path, len(pdf), len(laid_out.pages))
    return len(laid_out.pages)
