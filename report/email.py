"""Compose the monthly report as one e-mail message and deliver it over SMTP.

The message is ``multipart/mixed``: a ``multipart/related`` part (holding a
``multipart/alternative`` with ``text/plain`` and ``text/html``, plus the figures
as inline images that the HTML references by ``cid:``), followed by the
attachments (the PDF).

Header folding
--------------
Python 3.11's default e-mail policy mangles long non-ASCII headers when it
folds them (CPython gh-92081). ``_refold_parse_tree`` encodes word by word and
merges each new word into the previous encoded word (``_fold_as_ew`` decodes
that word plus the space after it, appends the new word and re-encodes). When
the merged text overflows, the rest starts a continuation line with an encoded
word whose text begins with the separating space (``" активности"``) — still
correct. But when the *next* word is merged into that continuation word, the
re-decoded text starts with that space, and ``_fold_as_ew`` takes a leading
space for whitespace next to unencoded text: it strips it from the text and
writes it literally, in front of the encoded word. It now sits between two
encoded words, where RFC 2047 §6.2 tells every decoder to drop it, so two words
are glued together ("покупательской активности" comes back as
"покупательскойактивности"; the folded line starts with two spaces). Long
non-ASCII display names in address headers suffer the same way.

This module therefore folds ``Subject`` and the address headers itself (see
:class:`_SafeUnstructuredHeader` and :class:`_SafeAddressFoldMixin`): every
encoded word is at most 75 characters, words are split only when one word
alone does not fit, and every character of the text, spaces included, is
*inside* an encoded word, so the whitespace between encoded words is pure
folding whitespace. The folding lives in the header objects, so it is used
whatever policy later serialises the message (``as_bytes()``,
:meth:`smtplib.SMTP.send_message`, :func:`write_eml`). A display name is put
into a single encoded word whenever it fits, because Python 3.11's own address
parser (unlike mail clients and :func:`email.header.decode_header`) keeps the
whitespace between adjacent encoded words. A subject set by the program is
taken literally, even when it contains something like ``=?utf-8?q?x?=``.

Credentials
-----------
:func:`send_message` takes the SMTP user name and password as arguments (the
CLI reads them with :func:`credentials_from_env`). They are never logged,
printed or put into an exception message; any server reply quoted in a
:class:`DeliveryError` has the password scrubbed from it as well.
"""

from __future__ import annotations

import base64
import email.utils
import logging
import os
import re
import smtplib
import socket
import ssl
import sys
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from email.headerregistry import (
    Address,
    AddressHeader,
    HeaderRegistry,
    SingleAddressHeader,
    UniqueAddressHeader,
    UniqueSingleAddressHeader,
    UniqueUnstructuredHeader,
)
from email.message import EmailMessage, MIMEPart
from email.policy import EmailPolicy
from html.parser import HTMLParser
from ipaddress import IPv6Address
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "ENV_SMTP_PASSWORD",
    "ENV_SMTP_USER",
    "POLICY",
    "Attachment",
    "DeliveryError",
    "InlineImage",
    "compose_message",
    "credentials_from_env",
    "parse_smtp_address",
    "send_message",
    "write_eml",
]

_log = logging.getLogger(__name__)

#: Environment variable holding the SMTP user name.
ENV_SMTP_USER = "ONECLICK_SMTP_USER"
#: Environment variable holding the SMTP password.
ENV_SMTP_PASSWORD = "ONECLICK_SMTP_PASSWORD"

Security = Literal["none", "starttls", "ssl"]
_SECURITY_MODES: tuple[str, ...] = ("none", "starttls", "ssl")


# --------------------------------------------------------------------------- #
# Header folding that survives the round trip (works around CPython gh-92081) #
# --------------------------------------------------------------------------- #

#: RFC 2047 §2: an encoded word is at most 75 characters long.
_MAX_EW_LEN = 75
_EW_PREFIX = "=?utf-8?b?"
_EW_CHROME = len(_EW_PREFIX) + len("?=")
#: The shortest encoded word that can hold any single character (4 UTF-8 bytes).
_MIN_EW_LEN = _EW_CHROME + 8
#: A word and the whitespace after it; leading whitespace alone is its own token.
_WORD_RE = re.compile(r"\S+\s*|\s+")
#: RFC 5322 atext: a display name made only of these (and single spaces) needs no quotes.
_ATEXT_RE = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+")
_PRINTABLE_ASCII_RE = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")


def _ew_len(text: str) -> int:
    """Length of the base64 encoded word holding ``text``."""
    return _EW_CHROME + 4 * ((len(text.encode("utf-8")) + 2) // 3)


def _encoded_word(text: str) -> str:
    """``text`` as one RFC 2047 base64 encoded word in UTF-8."""
    return _EW_PREFIX + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def _is_plain(text: str) -> bool:
    """Whether ``text`` can be written into a header as it is.

    True for printable ASCII words separated by single spaces that do not look
    like an encoded word (``=?``), with no leading or trailing whitespace.
    """
    return (
        text == ""
        or _PRINTABLE_ASCII_RE.fullmatch(text) is not None
        and "=?" not in text
    )


class _Folder:
    """Greedy folder of one header: tokens separated by one space or a fold.

    A fold is CRLF inserted before the separating space, so unfolding gives back
    the tokens joined by single spaces. Between two encoded words that space is
    ignored by decoders (RFC 2047 §6.2), so encoded text never relies on it.

    Parameters
    ----------
    name : str
        The header name.
    maxlen : int
        The longest line wanted (``sys.maxsize`` for no limit).
    """

    def __init__(self, name: str, maxlen: int) -> None:
        self.maxlen = maxlen
        self.lines = [f"{name}:"]
        self._bare = True  # no token on the first line yet

    def room(self) -> int:
        """Characters still available on the current line after a space."""
        return self.maxlen - len(self.lines[-1]) - 1

    def add(self, token: str) -> None:
        """Append one unbreakable token, folding before it if it does not fit."""
        fits_here = len(token) <= self.room()
        fits_anywhere = len(token) <= self.maxlen - 1
        if fits_here or (self._bare and not fits_anywhere):
            self.lines[-1] += " " + token
        else:
            self.lines.append(" " + token)
        self._bare = False

    def add_encoded(self, text: str, *, whole_if_fits: bool = False) -> None:
        """Append ``text`` as encoded words split on word boundaries.

        Every character of ``text``, whitespace included, ends up inside an
        encoded word. A word is split (between characters) only when it does not
        fit into one encoded word on a line of its own.

        Parameters
        ----------
        text : str
            The text to encode; must not be empty.
        whole_if_fits : bool
            Use one encoded word (on the next line if need be) whenever the whole
            text fits into one, instead of filling the current line first.
        """
        full_cap = min(_MAX_EW_LEN, self.maxlen - 1)
        if full_cap < _MIN_EW_LEN:
            raise ValueError("max_line_length is too small to fold an encoded word")
        if whole_if_fits and _ew_len(text) <= full_cap:
            self.add(_encoded_word(text))
            return
        current = ""
        cap = 0

        def flush() -> None:
            nonlocal current
            if current:
                self.add(_encoded_word(current))
                current = ""

        for token in _WORD_RE.findall(text):
            if current and _ew_len(current + token) <= cap:
                current += token
                continue
            flush()
            here = min(_MAX_EW_LEN, self.room())
            # Never leave the first line bare: parsers keep the folding whitespace
            # in front of a value that starts on a continuation line.
            limit = here if self._bare and here >= _MIN_EW_LEN else full_cap
            if _ew_len(token) <= limit:
                # A new encoded word: on this line if the whole word fits, else on the next.
                current, cap = token, (here if _ew_len(token) <= here else full_cap)
                continue
            # One word longer than a whole encoded word: split between characters,
            # filling the current line first when there is room for anything.
            cap = here if here >= _MIN_EW_LEN else full_cap
            for char in token:
                if _ew_len(current + char) <= cap:
                    current += char
                else:
                    flush()
                    current, cap = char, full_cap
        flush()

    def result(self, linesep: str) -> str:
        """The folded header, ending with ``linesep``."""
        return linesep.join(self.lines) + linesep


def _max_line_length(policy: Any) -> int:
    return getattr(policy, "max_line_length", None) or sys.maxsize


class _SafeUnstructuredHeader(UniqueUnstructuredHeader):
    """``Subject`` header whose folding keeps every space (avoids gh-92081)."""

    def fold(self, *, policy: Any) -> str:
        """The header folded for ``policy``, ending with ``policy.linesep``."""
        value = str(self)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # undecodable bytes from a parsed message
            return super().fold(policy=policy)  # type: ignore[misc]
        folder = _Folder(self.name, _max_line_length(policy))
        words = value.split(" ")
        if (
            _is_plain(value)
            and len(words[0]) <= folder.room()
            and all(len(word) <= folder.maxlen - 1 for word in words)
        ):
            for word in words:
                folder.add(word)
        else:
            folder.add_encoded(value)
        return folder.result(policy.linesep)


class _SafeAddressFoldMixin:
    """Address headers whose non-ASCII display names fold without losing spaces.

    Falls back to the standard folding for groups and non-ASCII addresses, which
    this project never produces.
    """

    def fold(self, *, policy: Any) -> str:
        """The header folded for ``policy``, ending with ``policy.linesep``."""
        groups = self.groups  # type: ignore[attr-defined]
        addresses = [a for g in groups for a in g.addresses]
        if (
            any(g.display_name is not None for g in groups)
            or not addresses
            or not all(_is_plain(a.addr_spec) and a.addr_spec for a in addresses)
        ):
            return super().fold(policy=policy)  # type: ignore[misc]
        folder = _Folder(self.name, _max_line_length(policy))  # type: ignore[attr-defined]
        for index, address in enumerate(addresses):
            comma = "," if index < len(addresses) - 1 else ""
            name = address.display_name
            if not name:
                folder.add(address.addr_spec + comma)
                continue
            if _is_plain(name):
                words = name.split(" ")
                if not all(_ATEXT_RE.fullmatch(word) for word in words):
                    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
                    words = f'"{quoted}"'.split(" ")
                for word in words:
                    folder.add(word)
            else:
                # One encoded word when possible: Python 3.11's own address parser
                # (wrongly) keeps the whitespace between adjacent encoded words.
                folder.add_encoded(name, whole_if_fits=True)
            folder.add(f"<{address.addr_spec}>{comma}")
        return folder.result(policy.linesep)


class _SafeAddressHeader(_SafeAddressFoldMixin, AddressHeader):
    """``Resent-To``/``-Cc``/``-Bcc``/``-From`` with gh-92081-safe folding."""


class _SafeUniqueAddressHeader(_SafeAddressFoldMixin, UniqueAddressHeader):
    """``From``/``To``/``Cc``/``Bcc``/``Reply-To`` with gh-92081-safe folding."""


class _SafeUniqueSingleAddressHeader(_SafeAddressFoldMixin, UniqueSingleAddressHeader):
    """``Sender`` with gh-92081-safe folding."""


class _SafeSingleAddressHeader(_SafeAddressFoldMixin, SingleAddressHeader):
    """``Resent-Sender`` with gh-92081-safe folding."""


class _LiteralSubjectHeader(_SafeUnstructuredHeader):
    """A ``Subject`` set by the program: its text is taken literally.

    The stock header class decodes anything that looks like an encoded word
    (``=?utf-8?q?x?=`` becomes ``x``) even in a value the program sets; this one
    keeps the text as given (the folding then encodes it, so it survives).
    """

    @classmethod
    def parse(cls, value: str, kwds: dict[str, Any]) -> None:
        super().parse(value, kwds)  # parse tree and defects, as usual
        kwds["decoded"] = value


def _make_registry(*, literal_subject: bool = False) -> HeaderRegistry:
    registry = HeaderRegistry()
    registry.map_to_type(
        "subject", _LiteralSubjectHeader if literal_subject else _SafeUnstructuredHeader
    )
    for name in ("from", "to", "cc", "bcc", "reply-to"):
        registry.map_to_type(name, _SafeUniqueAddressHeader)
    registry.map_to_type("sender", _SafeUniqueSingleAddressHeader)
    registry.map_to_type("resent-sender", _SafeSingleAddressHeader)
    for name in ("resent-to", "resent-cc", "resent-bcc", "resent-from"):
        registry.map_to_type(name, _SafeAddressHeader)
    return registry


_LITERAL_REGISTRY = _make_registry(literal_subject=True)


class _ReportPolicy(EmailPolicy):
    """:class:`~email.policy.EmailPolicy` whose program-set ``Subject`` is literal.

    Headers parsed from a message source are decoded as usual.
    """

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if name.lower() == "subject" and isinstance(value, str) and not hasattr(value, "name"):
            if len(value.splitlines()) > 1:
                raise ValueError("Header values may not contain linefeed or carriage return characters")
            return (name, _LITERAL_REGISTRY(name, value))
        return super().header_store_parse(name, value)  # type: ignore[no-any-return]


#: The policy of every composed message: the default (RFC-compliant) policy with
#: CRLF line ends, 7-bit-clean bodies (quoted-printable or base64 for non-ASCII
#: text) and the gh-92081-safe header classes above.
POLICY = _ReportPolicy(linesep="\r\n", cte_type="7bit", header_factory=_make_registry())


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
    if header.defects or len(header.addresses) != 1:
        raise ValueError(problem)
    address = header.addresses[0]
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
        The subject, any Unicode text on one line (long Cyrillic subjects are
        folded safely, see the module docstring).
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
        The message, using :data:`POLICY`.

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

    alternative = MIMEPart(policy=POLICY)
    alternative.set_content(text, subtype="plain", charset="utf-8")
    alternative.add_alternative(html, subtype="html", charset="utf-8")

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
        )

    msg = EmailMessage(policy=POLICY)
    if date is None:
        when = datetime.now(timezone.utc).astimezone()
    else:
        when = date if date.tzinfo is not None else date.astimezone()
    msg["Subject"] = subject
    msg["From"] = from_address
    msg["To"] = to_addresses
    msg["Date"] = email.utils.format_datetime(when)
    msg["Message-ID"] = email.utils.make_msgid(domain=message_id_domain)
    # RFC 3834: a generated report; asks auto-responders not to reply.
    msg["Auto-Submitted"] = "auto-generated"
    msg["MIME-Version"] = "1.0"
    msg["Content-Type"] = "multipart/mixed"
    msg.attach(related)
    for attachment in attachments:
        part = MIMEPart(policy=POLICY)
        part.set_content(
            attachment.data,
            maintype=attachment.maintype,
            subtype=attachment.subtype,
            disposition="attachment",
            filename=attachment.filename,
        )
        msg.attach(part)
    return msg


def write_eml(message: EmailMessage, path: str | os.PathLike[str]) -> Path:
    """Write ``message`` to ``path`` as an ``.eml`` file (for ``--dry-run``).

    The bytes are exactly what :func:`send_message` would transmit (CRLF line
    ends), so the file opens in any mail client.

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


# --------------------------------------------------------------------------- #
# Delivery                                                                    #
# --------------------------------------------------------------------------- #


class DeliveryError(Exception):
    """The message could not be delivered.

    The message names the SMTP server (``host:port``), the step that failed and
    why; it never contains the password.
    """


def _format_hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_smtp_address(value: str) -> tuple[str, int]:
    """Split ``HOST:PORT`` into host and port.

    Parameters
    ----------
    value : str
        ``smtp.example.com:587``, ``127.0.0.1:25`` or, for IPv6,
        ``[::1]:25`` (brackets required). Surrounding whitespace is ignored.

    Returns
    -------
    tuple of (str, int)
        The host (without brackets) and the port.

    Raises
    ------
    ValueError
        If the port is missing or not in 1–65535, the host is empty or contains
        whitespace, or an IPv6 address is not in brackets.
    """
    text = value.strip() if isinstance(value, str) else ""
    usage = "expected HOST:PORT, e.g. smtp.example.com:587 or [::1]:25"
    if not text:
        raise ValueError(f"empty SMTP server address; {usage}")
    if text.startswith("["):
        match = re.fullmatch(r"\[([^\]]*)\](?::(.*))?", text)
        if match is None:
            raise ValueError(f"invalid SMTP server address {value!r}; {usage}")
        host, port_text = match.group(1), match.group(2)
        try:
            IPv6Address(host)
        except ValueError:
            raise ValueError(
                f"invalid SMTP server address {value!r}: {host!r} in brackets is not "
                f"an IPv6 address; {usage}"
            ) from None
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep:
            raise ValueError(f"SMTP server address {value!r} has no port; {usage}")
        if ":" in host:
            raise ValueError(
                f"invalid SMTP server address {value!r}: write an IPv6 address in "
                f"brackets, e.g. [::1]:25"
            )
        if not host or re.search(r"[\s/@\[\]]", host) or not host.isprintable():
            raise ValueError(f"invalid host in SMTP server address {value!r}; {usage}")
    if port_text is None or port_text == "":
        raise ValueError(f"SMTP server address {value!r} has no port; {usage}")
    if not re.fullmatch(r"[0-9]{1,5}", port_text) or not 1 <= int(port_text) <= 65535:
        raise ValueError(
            f"invalid port {port_text!r} in SMTP server address {value!r}: "
            f"expected a number from 1 to 65535"
        )
    return host, int(port_text)


def credentials_from_env(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """Read the SMTP user name and password from the environment.

    Parameters
    ----------
    env : mapping of str to str
        Usually :data:`os.environ`. ``ONECLICK_SMTP_USER`` and
        ``ONECLICK_SMTP_PASSWORD`` are read; unset or empty means None.

    Returns
    -------
    tuple of (str or None, str or None)
        ``(user, password)``; both None when no authentication is configured.

    Raises
    ------
    ValueError
        If exactly one of the two is set (the message names the variables,
        never their values).
    """
    user = env.get(ENV_SMTP_USER) or None
    password = env.get(ENV_SMTP_PASSWORD) or None
    if (user is None) != (password is None):
        present, absent = (
            (ENV_SMTP_USER, ENV_SMTP_PASSWORD) if user is not None
            else (ENV_SMTP_PASSWORD, ENV_SMTP_USER)
        )
        raise ValueError(f"{present} is set but {absent} is not: set both or neither")
    return user, password


def _redactor(username: str | None, password: str | None) -> Callable[[str], str]:
    """A function removing the password (also as sent in AUTH) from a text."""
    secrets: list[str] = []
    if password:
        secrets.append(password)
        for raw in (
            password,
            f"\0{username or ''}\0{password}",
            f"{username or ''}\0{password}",
        ):
            encoded = base64.b64encode(raw.encode("utf-8")).decode("ascii")
            secrets.append(encoded)
            secrets.append(encoded.rstrip("="))
    secrets.sort(key=len, reverse=True)

    def redact(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, "***")
        return text

    return redact


def _reply(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}".strip()


def _reason(exc: BaseException, *, host: str, timeout: float) -> str:
    """A short human description of what went wrong (no secrets in it)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(
            f"{addr} ({_reply(code, reply)})" for addr, (code, reply) in exc.recipients.items()
        )
        return f"the server refused every recipient: {refused}"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"the server refused the sender {exc.sender}: {_reply(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"authentication failed: the server replied {_reply(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPDataError):
        return f"the server rejected the message: {_reply(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPConnectError):
        return f"unexpected greeting from the server: {_reply(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the server replied {_reply(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        # smtplib turns a read timeout into SMTPServerDisconnected("... timed out").
        if "timed out" in str(exc):
            return f"timed out after {timeout:g} s without an answer"
        return "the server closed the connection unexpectedly"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"the server does not support it ({exc})"
    if isinstance(exc, smtplib.SMTPException):
        return str(exc) or type(exc).__name__
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate verification failed: {exc.verify_message or exc.reason}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {exc.reason or exc}"
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout:g} s without an answer"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is an SMTP server listening on that port?)"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host name {host!r} ({exc.strerror or exc})"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"


def send_message(
    message: EmailMessage,
    *,
    host: str,
    port: int,
    security: Security = "none",
    username: str | None = None,
    password: str | None = None,
    timeout: float = 30.0,
) -> None:
    """Deliver ``message`` to an SMTP server.

    The envelope sender and recipients are taken from the ``From`` and
    ``To``/``Cc``/``Bcc`` headers (``Bcc`` is not transmitted).

    Parameters
    ----------
    message : email.message.EmailMessage
        The message, typically from :func:`compose_message`.
    host : str
        The SMTP server (host name or IP address, IPv6 without brackets).
    port : int
        Its port (25, 465 for ``"ssl"``, 587 for ``"starttls"`` usually).
    security : {"none", "starttls", "ssl"}
        ``"starttls"`` upgrades a plain connection with STARTTLS and fails if the
        server does not offer it; ``"ssl"`` speaks TLS from the start (SMTPS).
        Both verify the server certificate and host name against the system's
        trust store (set ``SSL_CERT_FILE`` to add a private CA). ``"none"`` sends
        everything, credentials included, in the clear.
    username, password : str or None
        SMTP AUTH credentials; both or neither. Never logged nor put into an
        error message.
    timeout : float
        Seconds to wait for each network operation.

    Raises
    ------
    DeliveryError
        If the connection is refused or times out, TLS fails, the server does
        not offer STARTTLS or AUTH, authentication fails, the server refuses the
        sender, any recipient or the message. The message names ``host:port``
        and the failing step. If only some recipients were refused, the others
        did receive the message; the error lists the refused ones.
    ValueError
        For an invalid ``security``, ``port`` or ``timeout``, only one of
        ``username``/``password``, or non-ASCII credentials (smtplib sends
        AUTH PLAIN/LOGIN as ASCII).
    """
    if security not in _SECURITY_MODES:
        raise ValueError(f"security must be one of {', '.join(_SECURITY_MODES)}, got {security!r}")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"port must be an integer from 1 to 65535, got {port!r}")
    if not isinstance(host, str) or not host:
        raise ValueError("host must be a non-empty string")
    if not timeout > 0:
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    if (username is None) != (password is None):
        raise ValueError("username and password must be given together (or neither)")
    if username is not None and not (username.isascii() and password.isascii()):  # type: ignore[union-attr]
        # smtplib encodes AUTH PLAIN/LOGIN as ASCII; say so without showing either value.
        raise ValueError("SMTP user name and password must be ASCII (a limitation of smtplib)")

    where = _format_hostport(host, port)
    redact = _redactor(username, password)
    context = ssl.create_default_context() if security != "none" else None
    _log.info("sending %r via %s (security=%s, auth=%s)", message["Subject"], where,
              security, "yes" if username is not None else "no")

    stage = "connecting"
    client: smtplib.SMTP | None = None
    try:
        if security == "ssl":
            stage = "connecting with TLS"
            client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        stage = "greeting the server (EHLO)"
        client.ehlo()
        if security == "starttls":
            stage = "starting TLS (STARTTLS)"
            if not client.has_extn("starttls"):
                raise DeliveryError(
                    f"SMTP delivery via {where} failed while {stage}: the server does "
                    f"not offer STARTTLS (use --ssl for implicit TLS, usually port 465)"
                )
            client.starttls(context=context)
            client.ehlo()
        if username is not None:
            stage = "authenticating"
            if not client.has_extn("auth"):
                raise DeliveryError(
                    f"SMTP delivery via {where} failed while {stage}: the server does "
                    f"not offer authentication (AUTH)"
                    + ("; many servers offer it only after STARTTLS" if security == "none" else "")
                )
            assert password is not None
            client.login(username, password)
        stage = "sending the message"
        refused = client.send_message(message)
        if refused:
            listed = ", ".join(
                f"{addr} ({redact(_reply(code, reply))})" for addr, (code, reply) in refused.items()
            )
            raise DeliveryError(
                f"SMTP delivery via {where}: the server refused recipient(s) {listed}; "
                f"the message went to the other recipients only"
            )
        stage = "closing the session (QUIT)"
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            pass  # the message was accepted; a failed QUIT does not matter
        client = None
    except DeliveryError:
        raise
    except Exception as exc:
        error = DeliveryError(
            f"SMTP delivery via {where} failed while {stage}: "
            f"{redact(_reason(exc, host=host, timeout=timeout))}"
        )
        if stage == "authenticating":
            # Never chain the original: nothing of the AUTH exchange goes into tracebacks.
            raise error from None
        raise error from exc
    finally:
        if client is not None:
            client.close()
    _log.info("message accepted by %s", where)

