"""Compose the monthly report as one e-mail message (``.eml`` for a dry run).

The message is ``multipart/mixed``: a ``multipart/related`` part (holding a
``multipart/alternative`` with ``text/plain`` and ``text/html``, plus the figures
as inline images that the HTML references by ``cid:``), followed by the
attachments (the PDF). Delivery is :mod:`report.email.smtp`.

Headers
-------
The message uses the standard library's ``compat32`` policy and
:class:`email.header.Header`, not the default policy. The default policy's
folder mangles long non-ASCII headers (CPython gh-92081): it re-encodes a
continuation word with its leading space outside the encoded word, where
RFC 2047 §6.2 tells every decoder to drop it, so «покупательской активности»
comes back as «покупательскойактивности». Measured with random Cyrillic subjects
of up to 250 characters, the default policy decodes back wrongly on CPython
3.11.2, 3.11.7 and 3.12.1 (273 of 2008) and 3.13.0 (138 of 2008);
:class:`~email.header.Header` on ``compat32`` decodes back exactly on all four,
every line at most 76 characters. ``Header`` splits a text between characters
into base64 (or quoted-printable) encoded words of at most 75 characters, and
every character, spaces included, sits inside an encoded word, so the
whitespace between them is pure folding.

A header of printable ASCII words separated by single spaces stays readable
(plain text folded at the spaces); anything else (non-ASCII, runs of
whitespace, a word too long to fold, text that reads like an encoded word such
as ``=?utf-8?q?x?=``) is encoded, so the subject comes back literally. A
display name goes into one encoded word when it fits (up to 22 Cyrillic
letters): CPython's own address parser, unlike mail clients and
:func:`email.header.decode_header`, keeps the whitespace between two encoded
words of a display name (3.11 to 3.13), so only a longer name is split.
"""

from __future__ import annotations

import email.utils
import os
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.contentmanager import raw_data_manager
from email.header import Header
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage, MIMEPart
from email.policy import compat32
from html.parser import HTMLParser
from pathlib import Path

__all__ = [
    "MAX_LINE_LENGTH",
    "POLICY",
    "Attachment",
    "InlineImage",
    "compose_message",
    "write_eml",
]

#: The longest line of a composed message: RFC 5322's 78 less two, so that an encoded word
#: on a continuation line stays within RFC 2047's 75 characters (also the base64 line length).
MAX_LINE_LENGTH = 76
#: RFC 2047 §2: an encoded word is at most 75 characters long.
_MAX_ENCODED_WORD = 75
#: A header word longer than this is encoded (an encoded text can be split, a plain word cannot).
_MAX_PLAIN_WORD = 60
#: Longest attachment file name in UTF-8 bytes (a file system's limit); it keeps the
#: RFC 2231-encoded ``filename*`` parameter within RFC 5322's 998 characters a line.
_MAX_FILENAME_BYTES = 255

#: The policy of every composed message: ``compat32`` (folding by :class:`~email.header.Header`)
#: with CRLF line ends and 7-bit-clean bodies (quoted-printable or base64 for non-ASCII text).
POLICY = compat32.clone(linesep="\r\n", max_line_length=MAX_LINE_LENGTH, cte_type="7bit")


def _is_plain(text: str) -> bool:
    """Whether ``text`` can go into a header as it is and be read back unchanged.

    True for printable ASCII words separated by single spaces, none longer than
    ``_MAX_PLAIN_WORD`` and none reading like an encoded word (``=?``).
    """
    return (text.isascii() and text.isprintable() and "=?" not in text
            and all(0 < len(word) <= _MAX_PLAIN_WORD for word in text.split(" ")))


def _subject_header(subject: str) -> Header:
    """The ``Subject``: plain when :func:`_is_plain`, else UTF-8 encoded words."""
    return Header(subject, "us-ascii" if _is_plain(subject) else "utf-8", header_name="Subject")


def _mailbox(address: Address) -> str:
    """``address`` as it goes into ``From``/``To``: ASCII, the display name encoded if need be."""
    name = address.display_name
    if not name:
        return address.addr_spec
    if _is_plain(name):
        return email.utils.formataddr((name, address.addr_spec))  # quoted if it has specials
    # One encoded word when the name fits into one, else several; none longer than 75.
    words = Header(name, "utf-8").encode(maxlinelen=_MAX_ENCODED_WORD).split()
    return " ".join([*words, f"<{address.addr_spec}>"])


# --------------------------------------------------------------------------- #
# Composing                                                                   #
# --------------------------------------------------------------------------- #

_MIME_TOKEN_RE = re.compile(r"[A-Za-z0-9!#$&^_.+\-]+")
_CID_RE = re.compile(r"[\x21-\x7e]+")
_CID_REF_RE = re.compile(r"""cid:([^\s"'<>()\\]+)""", re.IGNORECASE)
_MSGID_DOMAIN_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")


@dataclass(frozen=True)
class InlineImage:
    """An image shown inside the HTML body.

    Parameters
    ----------
    cid : str
        Content-ID without angle brackets (e.g. ``"fig-revenue@oneclick-report"``);
        the HTML refers to it as ``src="cid:fig-revenue@oneclick-report"``.
    data : bytes
        The encoded image.
    subtype : str
        The MIME subtype of ``image/…``, e.g. ``"png"`` or ``"svg+xml"``.
    """

    cid: str
    data: bytes
    subtype: str


@dataclass(frozen=True)
class Attachment:
    """A file attached to the message (e.g. the PDF report).

    Parameters
    ----------
    filename : str
        The file name shown to the recipient (may be non-ASCII; RFC 2231-encoded).
    data : bytes
        The file's bytes, delivered unchanged.
    maintype, subtype : str
        The MIME type, e.g. ``"application"`` and ``"pdf"``.
    """

    filename: str
    data: bytes
    maintype: str
    subtype: str


class _ScriptFinder(HTMLParser):
    """Collects every place where an HTML document could run JavaScript."""

    _URL_SCHEMES = ("javascript:", "vbscript:")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []
        self._in_style = False

    @staticmethod
    def _squash(value: str) -> str:
        # Browsers ignore whitespace and control characters inside a URL scheme.
        return re.sub(r"[\x00-\x20]+", "", value).lower()

    def _check_css(self, css: str, where: str) -> None:
        squashed = self._squash(css)
        if "expression(" in squashed or any(s in squashed for s in self._URL_SCHEMES):
            self.findings.append(f"script in CSS ({where})")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.findings.append("<script> element")
        self._in_style = tag == "style"
        for name, value in attrs:
            if name.startswith("on"):
                self.findings.append(f"event handler attribute {name}= on <{tag}>")
            elif value is not None:
                if name == "style":
                    self._check_css(value, f"style= on <{tag}>")
                elif any(s in self._squash(value) for s in self._URL_SCHEMES):
                    self.findings.append(f"script URL in {name}= on <{tag}>")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self._check_css(data, "<style> element")


def _check_no_javascript(html: str) -> None:
    finder = _ScriptFinder()
    finder.feed(html)
    finder.close()
    if finder.findings:
        found = "; ".join(dict.fromkeys(finder.findings))
        raise ValueError(f"the HTML body must carry no JavaScript, but it has: {found}")


def _check_header_text(value: str, what: str) -> None:
    if _CONTROL_RE.search(value):
        raise ValueError(f"{what} must be one line without control characters: {value!r}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{what} is not valid Unicode text: {value!r}") from exc


def _parse_mailbox(value: str, what: str) -> Address:
    """Parse ``addr@example.com`` or ``Name <addr@example.com>`` strictly."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, got {type(value).__name__}")
    _check_header_text(value, what)
    problem = f"{what} is not a valid e-mail address: {value!r}"
    try:
        header = HeaderRegistry()("to", value)
    except Exception as exc:  # the stdlib parser raises IndexError on e.g. "a@"
        raise ValueError(problem) from exc
    # typeshed types the registry's headers as BaseHeader; the class it makes for "to" is an AddressHeader
    addresses: tuple[Address, ...] = header.addresses  # type: ignore[attr-defined]
    if header.defects or len(addresses) != 1:
        raise ValueError(problem)
    address = addresses[0]
    if not address.username or not address.domain:
        raise ValueError(problem)
    if not (address.addr_spec.isascii() and address.addr_spec.isprintable()):
        raise ValueError(f"{problem} (internationalised addresses are not supported)")
    return address


def _check_cid(cid: str) -> None:
    if not isinstance(cid, str) or not _CID_RE.fullmatch(cid) or "<" in cid or ">" in cid:
        raise ValueError(
            f"inline image cid must be printable ASCII without spaces or angle "
            f"brackets (e.g. 'fig1@oneclick-report'), got {cid!r}"
        )


def _check_mime_token(value: str, what: str) -> None:
    if not isinstance(value, str) or not _MIME_TOKEN_RE.fullmatch(value):
        raise ValueError(f"{what} must be a MIME token such as 'png' or 'pdf', got {value!r}")


def compose_message(
    *,
    subject: str,
    sender: str,
    recipients: Sequence[str],
    text: str,
    html: str,
    inline_images: Sequence[InlineImage] = (),
    attachments: Sequence[Attachment] = (),
    date: datetime | None = None,
    message_id_domain: str = "oneclick-report.local",
) -> EmailMessage:
    """Build the report message.

    The structure is always::

        multipart/mixed
        ├── multipart/related
        │   ├── multipart/alternative
        │   │   ├── text/plain
        │   │   └── text/html
        │   └── image/* (inline, Content-ID <cid>)   × len(inline_images)
        └── <attachment>                             × len(attachments)

    Parameters
    ----------
    subject : str
        The subject, any Unicode text on one line (encoded and folded so that it
        decodes back exactly, see the module docstring).
    sender : str
        ``From``: ``addr@example.com`` or ``Display Name <addr@example.com>``.
    recipients : sequence of str
        ``To``: one or more addresses in the same form as ``sender``.
    text : str
        The plain-text body.
    html : str
        The HTML body. It must not contain JavaScript (``<script>``, ``on…=``
        handlers, ``javascript:`` URLs or CSS expressions), and every ``cid:``
        it references must be one of ``inline_images``.
    inline_images : sequence of InlineImage
        Images referenced from the HTML by ``cid:``; each must be referenced.
    attachments : sequence of Attachment
        Files attached after the body, e.g. the PDF report.
    date : datetime or None
        The ``Date`` header; now if None. A naive datetime is taken as local time.
    message_id_domain : str
        The domain part of the generated ``Message-ID``.

    Returns
    -------
    email.message.EmailMessage
        The message, using :data:`POLICY` (``compat32``): ``message["Subject"]``
        is an :class:`email.header.Header` (``str()`` of it is the subject),
        ``From`` and ``To`` hold the encoded addresses.

    Raises
    ------
    ValueError
        For an invalid address, a multi-line subject, JavaScript in the HTML,
        a ``cid:`` reference without an image (or an image nobody references),
        a duplicate cid, or a malformed MIME type.
    TypeError
        If ``recipients`` is a single string instead of a sequence of strings.
    """
    if isinstance(subject, str):
        _check_header_text(subject, "subject")
    else:
        raise TypeError(f"subject must be a string, got {type(subject).__name__}")
    from_address = _parse_mailbox(sender, "sender")
    if isinstance(recipients, str):
        raise TypeError("recipients must be a sequence of addresses, not one string")
    to_addresses = tuple(_parse_mailbox(r, "recipient") for r in recipients)
    if not to_addresses:
        raise ValueError("at least one recipient is required")
    if not _MSGID_DOMAIN_RE.fullmatch(message_id_domain):
        raise ValueError(f"message_id_domain must be a host name, got {message_id_domain!r}")

    _check_no_javascript(html)
    cids: list[str] = []
    for image in inline_images:
        _check_cid(image.cid)
        _check_mime_token(image.subtype, "inline image subtype")
        cids.append(image.cid)
    duplicates = sorted({c for c in cids if cids.count(c) > 1})
    if duplicates:
        raise ValueError(f"duplicate inline image cid: {', '.join(duplicates)}")
    referenced = {urllib.parse.unquote(m) for m in _CID_REF_RE.findall(html)}
    missing = sorted(referenced - set(cids))
    if missing:
        raise ValueError(f"the HTML references cid: {', '.join(missing)} but no such inline image was given")
    unused = [c for c in cids if c not in referenced]
    if unused:
        raise ValueError(f"inline image(s) not referenced from the HTML by cid: {', '.join(unused)}")
    for attachment in attachments:
        _check_mime_token(attachment.maintype, "attachment maintype")
        _check_mime_token(attachment.subtype, "attachment subtype")
        _check_header_text(attachment.filename, "attachment filename")
        if not attachment.filename:
            raise ValueError("attachment filename must not be empty")
        if len(attachment.filename.encode("utf-8")) > _MAX_FILENAME_BYTES:
            raise ValueError(f"attachment filename is longer than {_MAX_FILENAME_BYTES} bytes in UTF-8: "
                             f"{attachment.filename!r}")

    # compat32 has no content manager of its own: the standard one is named at each call.
    content = {"content_manager": raw_data_manager}
    alternative = MIMEPart(policy=POLICY)
    alternative.set_content(text, subtype="plain", charset="utf-8", **content)
    alternative.add_alternative(html, subtype="html", charset="utf-8", **content)

    related = MIMEPart(policy=POLICY)
    related["Content-Type"] = "multipart/related"
    related.set_param("type", "multipart/alternative")  # RFC 2387: the root's type
    related.attach(alternative)
    for image in inline_images:
        related.add_related(
            image.data,
            maintype="image",
            subtype=image.subtype,
            cid=f"<{image.cid}>",
            disposition="inline",
            **content,
        )

    msg = EmailMessage(policy=POLICY)
    if date is None:
        when = datetime.now(UTC).astimezone()
    else:
        when = date if date.tzinfo is not None else date.astimezone()
    msg["Subject"] = _subject_header(subject)
    msg["From"] = _mailbox(from_address)
    msg["To"] = ", ".join(_mailbox(address) for address in to_addresses)
    msg["Date"] = email.utils.format_datetime(when)
    msg["Message-ID"] = email.utils.make_msgid(domain=message_id_domain)
    # RFC 3834: a generated report; asks auto-responders not to reply.
    msg["Auto-Submitted"] = "auto-generated"
    msg["MIME-Version"] = "1.0"
    msg["Content-Type"] = "multipart/mixed"
    msg.attach(related)  # type: ignore[arg-type]  # typeshed: attach(payload: Self); a sub-part is a MIMEPart
    for attachment in attachments:
        part = MIMEPart(policy=POLICY)
        part.set_content(
            attachment.data,
            maintype=attachment.maintype,
            subtype=attachment.subtype,
            disposition="attachment",
            filename=attachment.filename,  # RFC 2231 (filename*=utf-8''…) when not ASCII
            **content,
        )
        msg.attach(part)  # type: ignore[arg-type]  # as above
    return msg


def write_eml(message: EmailMessage, path: str | os.PathLike[str]) -> Path:
    """Write ``message`` to ``path`` as an ``.eml`` file (for ``--dry-run``).

    The bytes are exactly what :func:`report.email.smtp.send_message` would
    transmit (CRLF line ends), so the file opens in any mail client.

    Parameters
    ----------
    message : email.message.EmailMessage
        The message, typically from :func:`compose_message`.
    path : str or os.PathLike
        The destination; its directory must exist. An existing file is replaced.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    target = Path(path)
    data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target


