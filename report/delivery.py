"""The monthly email: a short summary (plain text and HTML with one inline chart) and the PDF.

Everything in the message is read from a finished build's folder: ``manifest.json`` names the
outputs, ``results.json`` gives the numbers, the PDF is attached byte-identical. A PDF whose hash
does not match the manifest is not sent.
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.results import Results
from report.email import Attachment, InlineImage, compose_message

if TYPE_CHECKING:
    from report.structure import PdfAttachments

SCATTER_CID = "segments-scatter"


class ReportFolderError(Exception):
    """The folder does not hold a complete, untampered build."""


def _read_build(out_dir: Path, *, key: bytes | None = None) -> tuple[Results, Path, PdfAttachments | None]:
    """The results, the PDF and what it embeds (from the manifest) of a finished build, refused
    unless :func:`verify_report` accepts it."""
    from pydantic import ValidationError

    from report.structure import PdfAttachments
    from report.verify import load_manifest_file, verify_report

    manifest_path = out_dir / "manifest.json"
    if not manifest_path.is_file():
        languages = sorted(p.parent.name for p in out_dir.glob("*/manifest.json") if p.parent.name in ("ru", "en"))
        if languages:  # a build of several languages: one complete build folder per language
            raise ReportFolderError(f"{out_dir}: built in several languages; give the folder of the one to send: "
                                    + " or ".join(str(out_dir / lang) for lang in languages))
        raise ReportFolderError(f"{out_dir}: no manifest.json — is this the output folder of `oneclick-report build`?")
    try:
        manifest = load_manifest_file(manifest_path)
    except ValueError as exc:
        raise ReportFolderError(f"{exc}; refusing to send") from None
    pdfs = [name for name in manifest["outputs"] if name.endswith(".pdf")]
    if len(pdfs) != 1 or "/" in pdfs[0] or "\\" in pdfs[0]:
        raise ReportFolderError(f"{manifest_path}: expected exactly one PDF among the outputs, found {len(pdfs)}")
    pdf = out_dir / pdfs[0]
    verified = verify_report(pdf, key=key)
    if not verified.ok:
        failed = "; ".join(f"{c.name}: {c.detail}" for c in verified.failures)
        raise ReportFolderError(f"{pdf}: does not match its manifest, refusing to send it ({failed})")
    if "results.json" not in manifest["outputs"] or not (out_dir / "results.json").is_file():
        raise ReportFolderError(f"{out_dir}: results.json is missing or not in the manifest; the summary is "
                                "written from it")
    try:
        results = Results.load(out_dir / "results.json")
    except (OSError, ValueError, ValidationError) as exc:
        raise ReportFolderError(f"{out_dir / 'results.json'}: cannot be read as the results of a build "
                                f"({type(exc).__name__}); refusing to send") from None
    attachments = PdfAttachments.from_manifest(manifest, limit_bytes=results.meta.config.report.attach_max_bytes)
    return results, pdf, attachments


def report_language(pdf: Path) -> str:
    """The report language from its file name (``…_ru.pdf``)."""
    return "en" if pdf.stem.endswith("_en") else "ru"


def email_texts(results: Results, *, lang: str, attachments: PdfAttachments | None = None) -> tuple[str, str, str]:
    """Subject, plain text and HTML of the summary email (no JavaScript; the chart by ``cid:``).

    ``attachments`` is what the PDF embeds (the build's manifest): a data file it leaves out is
    named, with its size and the limit, as kept beside the report and in the archive.

    All three come from templates: ``email_summary.jinja`` (the subject and the figures both
    bodies show), ``email.txt`` and ``email.html``; their words from the catalogue (``email.*``).
    """
    from report.env import make_environment
    from report.structure import view_model

    env = make_environment(lang=lang, money_unit=results.meta.config.report.money_unit)
    context = {"results": results, "view": view_model(results, attachments=attachments), "cid": SCATTER_CID}
    summary = env.get_template("email_summary.jinja").make_module(context)
    subject = str(summary.subject)  # type: ignore[attr-defined]  # a template module's names are the template's
    return subject, env.get_template("email.txt").render(context), env.get_template("email.html").render(context)


def compose_report_email(out_dir: Path, *, sender: str, recipients: list[str],
                         key: bytes | None = None) -> EmailMessage:
    """The message for the build in ``out_dir``.

    Raises
    ------
    ReportFolderError
        When the folder is not a complete build, its PDF does not match the manifest (or, with
        ``key``, the manifest is not signed with it).
    """
    from report.figures.charts import segments_scatter
    from report.figures.style import to_png

    results, pdf, attachments = _read_build(out_dir, key=key)
    lang = report_language(pdf)
    subject, text, html = email_texts(results, lang=lang, attachments=attachments)
    figure = segments_scatter(results.segments, lang=lang, rasterize_above=results.meta.config.report.rasterize_above,
                              money_unit=results.meta.config.report.money_unit)
    image = InlineImage(cid=SCATTER_CID, data=to_png(figure, dpi=96), subtype="png")
    return compose_message(
        subject=subject, sender=sender, recipients=recipients, text=text, html=html, inline_images=[image],
        attachments=[Attachment(filename=pdf.name, data=pdf.read_bytes(), maintype="application", subtype="pdf")],
    )
