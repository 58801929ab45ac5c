"""Turn the report's HTML into an archival PDF/A-3b with WeasyPrint.

* ``pdf_variant="pdf/a-3b"``: XMP metadata with ``pdfaid:part=3`` / ``conformance=B``, an sRGB
  output intent, every font embedded (subset), attachments linked from the catalogue's ``/AF``.
* The data travel inside the PDF as attachments (``results.json``, ``scores.csv``,
  ``manifest.json``), so an archived report carries what it was made from.
* Byte-reproducible: the document dates come from ``<meta name="dcterms.created|modified">``
  (set by :mod:`report.render` from the report date) and the attachments' dates are pinned to
  ``created``; the file identifier is a hash of the content; font subsets are stamped with
  ``created`` too (``SOURCE_DATE_EPOCH``, honoured by fontTools). The same HTML and attachments
  give the same bytes.
* Nothing is fetched: :class:`DataOnlyURLFetcher` serves ``data:`` URIs itself and refuses every
  other URL (http, https, ftp, file, relative paths resolved against ``base_dir`` …) with
  :class:`ExternalResourceError`, which stops the rendering.

Fonts: the CSS asks for "DejaVu Sans" (it has Cyrillic); on Debian it is the package
``fonts-dejavu-core``. WeasyPrint finds it through fontconfig, never through the URL fetcher.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path

from weasyprint import HTML, Attachment
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

__all__ = [
    "PDF_VARIANT",
    "DataOnlyURLFetcher",
    "ExternalResourceError",
    "parse_created",
    "render_pdf",
]

_log = logging.getLogger(__name__)

#: The archival variant every report is written in.
PDF_VARIANT = "pdf/a-3b"


class ExternalResourceError(ValueError):
    """The HTML referenced a resource that is not a ``data:`` URI."""


class _Refused(FatalURLFetchingError):
    """Raised inside WeasyPrint to stop the rendering (WeasyPrint swallows ordinary errors)."""


class DataOnlyURLFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves ``data:`` URIs and refuses everything else.

    ``data:`` URIs are decoded here (no :mod:`urllib` handler is involved); any other URL is
    recorded in :attr:`refused` and raises, which stops the rendering. :attr:`fetched` counts the
    URIs served.
    """

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("data",), allow_redirects=False, fail_on_errors=True)
        self.refused: list[str] = []
        self.fetched: int = 0

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:  # noqa: ARG002
        """Serve a ``data:`` URI; refuse any other ``url``."""
        if not url[:5].lower() == "data:":
            self.refused.append(url)
            raise _Refused(f"refused to fetch {url!r}: the report may only use data: URIs")
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


def _dedupe_associated_files(document: object, pdf: object) -> None:  # noqa: ARG001 - WeasyPrint's finisher API
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
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def render_pdf(html: str, *, out_path: Path, attachments: Sequence[tuple[str, bytes, str]], base_dir: Path,
               created: str) -> None:
    """Write ``html`` as a PDF/A-3b file to ``out_path``.

    Parameters
    ----------
    html : str
        A self-contained document (from :func:`report.render.render_html`).
    out_path : Path
        Where to write the PDF (written only when the rendering succeeded).
    attachments : sequence of (name, content, description)
        Files embedded in the PDF, e.g. ``("results.json", data, "Analysis results")``; the MIME
        type follows from the name.
    base_dir : Path
        Base for relative URLs in ``html`` (they are refused all the same: only ``data:`` URIs
        are fetched).
    created : str
        ISO date (``2026-10-31``) or date-time pinned as the attachments' creation and
        modification dates; the document's own dates come from its ``dcterms`` meta tags.

    Raises
    ------
    ExternalResourceError
        When the HTML references anything but a ``data:`` URI.
    """
    moment = parse_created(created)
    fetcher = DataOnlyURLFetcher()
    files = [
        Attachment(string=content, base_url=base_dir.resolve().as_uri() + "/", url_fetcher=fetcher,
                   name=name, description=description, created=moment, modified=moment,
                   relationship="Data" if name.endswith((".json", ".csv")) else "Supplement")
        for name, content, description in attachments
    ]
    document = HTML(string=html, base_url=base_dir.resolve().as_uri() + "/", url_fetcher=fetcher)
    try:
        with _source_date_epoch(moment):
            pdf = document.write_pdf(pdf_variant=PDF_VARIANT, attachments=files, finisher=_dedupe_associated_files)
    except FatalURLFetchingError as exc:  # _Refused, or a malformed data: URI
        raise ExternalResourceError(str(exc)) from None
    if fetcher.refused:  # pragma: no cover - _Refused always stops the rendering
        raise ExternalResourceError(f"refused to fetch: {', '.join(fetcher.refused)}")
    assert pdf is not None
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".part")
    tmp.write_bytes(pdf)
    tmp.replace(out_path)
    _log.info("wrote %s (%d bytes, %d data: URIs)", out_path, len(pdf), fetcher.fetched)
