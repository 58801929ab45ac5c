"""Tests of :mod:`report.email`: composing (headers by :class:`email.header.Header` on ``compat32``,
which avoids CPython gh-92081) and SMTP delivery.

Delivery is tested against a real SMTP server (aiosmtpd) on 127.0.0.1 and an
ephemeral port. The TLS tests make a throw-away self-signed certificate with the
``openssl`` command (the ``cryptography`` package is not in the venv) and are
skipped when that command is missing.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
import shutil
import socket
import ssl
import struct
import subprocess
import traceback
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from email.header import decode_header, make_header
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from report.email import (
    MAX_LINE_LENGTH,
    Attachment,
    DeliveryError,
    InlineImage,
    compose_message,
    credentials_from_env,
    parse_smtp_address,
    send_message,
    write_eml,
)
from tests.report.smtp_sink import EphemeralController

SUBJECT = (
    "Отчёт о покупательской активности — октябрь 2026 "
    "(предварительный выпуск для руководства)"
)
LONG_SUBJECTS = [
    SUBJECT,
    "«Отчёт» о покупательской активности интернет-магазина «Ромашка» — итоги октября 2026 года",
    ("Monthly report — покупательская активность: выручка +12,5 %, отток −3 %, "
     "сегмент «премиум» растёт (октябрь 2026)"),
    ("Сверхдлинноесловобезпробеловкотороезаведомонепомещаетсяводнозакодированноеслово "
     "и ещё немного текста"),
    "  пробелы  по  краям  и  двойные  пробелы  внутри  длинной  темы  письма  для  руководства  ",
    "Отчёт\tс табуляцией — октябрь 2026 — предварительный выпуск для руководства компании",
    "Похоже на encoded word: =?utf-8?q?x?= — но это обычный текст темы письма для руководства",
]
SENDER = "reports@shop.example"
RECIPIENTS = ("ceo@shop.example", "Финансовый директор <cfo@shop.example>")
CID = "fig-revenue@oneclick-report"
PASSWORD = "correct horse battery staple 42"
USER = "report-bot"


def _png_1x1() -> bytes:
    """A valid 1×1 PNG, built by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x80\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


PNG = _png_1x1()
# Every byte value, CR/LF/NUL included, so "byte-identical" means something.
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\r\n.\r\n%%EOF\n"
PDF_NAME = "Отчёт_октябрь_2026.pdf"
TEXT = "Добрый день!\n\nОтчёт за октябрь 2026 во вложении.\n"
HTML = (
    "<!doctype html><html><body><h1>Отчёт — октябрь 2026</h1>"
    f'<p>Выручка по месяцам:</p><img src="cid:{CID}" alt="Выручка"></body></html>'
)


def _compose(**overrides: Any) -> EmailMessage:
    kwargs: dict[str, Any] = {
        "subject": SUBJECT,
        "sender": SENDER,
        "recipients": RECIPIENTS,
        "text": TEXT,
        "html": HTML,
        "inline_images": [InlineImage(cid=CID, data=PNG, subtype="png")],
        "attachments": [Attachment(filename=PDF_NAME, data=PDF, maintype="application", subtype="pdf")],
        "date": datetime(2026, 11, 2, 9, 30, tzinfo=timezone(timedelta(hours=3))),
    }
    kwargs.update(overrides)
    return compose_message(**kwargs)


def _compose_small(*, subject: str = SUBJECT, recipients: tuple[str, ...] = RECIPIENTS) -> EmailMessage:
    """A message with only a text and an HTML body (for the many examples of the property tests)."""
    return compose_message(subject=subject, sender=SENDER, recipients=recipients, text="x", html="<p>x</p>")


def _round_trip(message: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _header_lines(raw: bytes, name: str) -> list[str]:
    """The physical lines of header ``name`` in ``raw``."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    lines = head.split("\r\n")
    start = next(i for i, line in enumerate(lines) if line.lower().startswith(name.lower() + ":"))
    end = start + 1
    while end < len(lines) and lines[end][:1] in (" ", "\t"):
        end += 1
    return lines[start:end]


def _assert_well_folded(lines: list[str]) -> None:
    for line in lines:
        assert len(line) <= MAX_LINE_LENGTH <= 78, line
        for word in re.findall(r"=\?[^?]+\?[bBqQ]\?[^?]*\?=", line):
            assert len(word) <= 75, word


# --------------------------------------------------------------------------- #
# Header encoding: CPython gh-92081                                           #
# --------------------------------------------------------------------------- #


def test_stdlib_default_policy_glues_words_gh_92081() -> None:
    """Documents why the default policy is not used: it loses a space."""
    stock = EmailMessage(policy=email.policy.default)
    stock["Subject"] = SUBJECT
    stock.set_content("x")
    parsed = email.message_from_bytes(stock.as_bytes(), policy=email.policy.default)
    if parsed["Subject"] == SUBJECT:
        pytest.skip("this Python no longer has gh-92081")
    assert parsed["Subject"] == SUBJECT.replace("покупательской активности", "покупательскойактивности")


@pytest.mark.parametrize("subject", LONG_SUBJECTS)
def test_long_subject_survives_round_trip(subject: str) -> None:
    message = _compose(subject=subject)
    raw = message.as_bytes()
    lines = _header_lines(raw, "Subject")
    assert len(lines) > 1, "the subject should be long enough to be folded"
    _assert_well_folded(lines)
    assert _round_trip(message)["Subject"] == subject
    # A strict RFC 2047 decoder (whitespace between encoded words is dropped) agrees.
    unfolded = "".join(lines)[len("Subject:"):]
    assert str(make_header(decode_header(unfolded))) == subject
    assert str(message["Subject"]) == subject  # the message in memory says the same


def test_ascii_subject_stays_readable() -> None:
    subject = "Monthly customer activity report for management, October 2026 (preliminary edition)"
    message = _compose(subject=subject)
    lines = _header_lines(message.as_bytes(), "Subject")
    assert "=?" not in "".join(lines)
    _assert_well_folded(lines)
    assert _round_trip(message)["Subject"] == subject


_SUBJECT_ALPHABET = st.sampled_from(
    "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюя"
    "ABCXYZabcxyz0123456789"
    "      «»—–-.,:;!?()\"'%=_/+№"
)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(subject=st.text(_SUBJECT_ALPHABET, min_size=1, max_size=250))
@example(subject="Looks like an encoded word =?utf-8?q?x?= but is plain ASCII text")
@example(subject="  two  spaces  between  ASCII  words  ")
@example(subject="An ASCII subject with one word far too long to fold: " + "x" * 90)
@example(subject="Tab\there")
def test_any_subject_survives_round_trip(subject: str) -> None:
    raw = _compose_small(subject=subject).as_bytes()
    assert raw.isascii()  # no raw non-ASCII in any header
    lines = _header_lines(raw, "Subject")
    _assert_well_folded(lines)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == subject
    assert str(make_header(decode_header("".join(lines)[len("Subject: "):]))) == subject


_NAME_ALPHABET = st.sampled_from(
    "АБВГДЕЁЖЗИКЛМНОПРСТабвгдеёжзиклмнопрстуфхцчшщыэюяABCxyz019   «»—-.,()\"'\\<>@;:"
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(name=st.text(_NAME_ALPHABET, min_size=1, max_size=120).filter(lambda s: s.strip() == s))
@example(name="Финансовый директор интернет-магазина «Ромашка» по работе с ключевыми клиентами")
@example(name="Сверхдлинноеимябезпробеловкотороенепомещаетсяводнозакодированноеслово")
@example(name="An ASCII name with a word too long to fold " + "x" * 80)
@example(name='Отдел "аналитики" \\ (отчёты), <ежемесячные>; и: ещё@много слов ради длины')
def test_any_display_name_decodes_exactly(name: str) -> None:
    """Long non-ASCII display names (the same bug hits address headers)."""
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')  # a quoted string keeps every space
    message = _compose_small(recipients=(f'"{quoted}" <cfo@shop.example>',))
    assert message["To"].isascii()
    lines = _header_lines(message.as_bytes(), "To")
    _assert_well_folded(lines)
    phrase = "".join(lines)[len("To:"):].rsplit("<", 1)[0]
    decoded = str(make_header(decode_header(phrase))).strip()
    if decoded.startswith('"'):
        decoded = email.utils.unquote(decoded)
    assert decoded == name
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert parsed["To"].addresses[0].addr_spec == "cfo@shop.example"


def test_short_display_name_round_trips_with_stdlib_parser() -> None:
    parsed = _round_trip(_compose())
    assert [(a.display_name, a.addr_spec) for a in parsed["To"].addresses] == [
        ("", "ceo@shop.example"),
        ("Финансовый директор", "cfo@shop.example"),
    ]


@pytest.mark.parametrize("name", [
    "Финансовый директор",
    "Аналитика, «Клик»",  # a comma and quotes: specials inside an encoded word
    "Иванов Иван Иванович",
    "Shop reports (monthly)",  # ASCII with specials: a quoted string
])
def test_display_name_that_fits_one_encoded_word_round_trips(name: str) -> None:
    """Such a name is one encoded word, so CPython's own parser (which keeps the whitespace
    between two encoded words of a display name) reads it back exactly too."""
    sender = email.utils.formataddr((name, "reports@shop.example"))
    message = _compose_small(recipients=(sender, "ceo@shop.example"))
    assert len(re.findall(r"=\?utf-8\?", message["To"])) <= 1
    parsed = _round_trip(message)
    assert [(a.display_name, a.addr_spec) for a in parsed["To"].addresses] == [
        (name, "reports@shop.example"), ("", "ceo@shop.example")]
    _assert_well_folded(_header_lines(message.as_bytes(), "To"))


def test_sender_display_name_round_trips() -> None:
    message = compose_message(subject=SUBJECT, sender="Отчёты «В один клик» <reports@shop.example>",
                              recipients=["ceo@shop.example"], text="x", html="<p>x</p>")
    (address,) = _round_trip(message)["From"].addresses
    assert (address.display_name, address.addr_spec) == ("Отчёты «В один клик»", "reports@shop.example")


# --------------------------------------------------------------------------- #
# Composition                                                                 #
# --------------------------------------------------------------------------- #


def _check_report_message(parsed: EmailMessage) -> None:
    """The structure and content every delivered report must have."""
    assert parsed["Subject"] == SUBJECT
    assert parsed.get_content_type() == "multipart/mixed"
    related, pdf = parsed.get_payload()
    assert related.get_content_type() == "multipart/related"
    alternative, image = related.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    types = [part.get_content_type() for part in parsed.walk()]
    assert types.count("text/plain") == 1
    assert types.count("text/html") == 1
    plain, html = alternative.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert plain.get_content().replace("\r\n", "\n") == TEXT
    html_text = html.get_content()
    assert f'src="cid:{CID}"' in html_text
    assert "<script" not in html_text.lower()
    assert image.get_content_type() == "image/png"
    assert image["Content-ID"] == f"<{CID}>"
    assert image.get_content_disposition() == "inline"
    assert image.get_content() == PNG
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content_disposition() == "attachment"
    assert pdf.get_filename() == PDF_NAME
    assert pdf.get_content() == PDF


def test_compose_structure() -> None:
    message = _compose()
    _check_report_message(_round_trip(message))
    assert str(message["Subject"]) == SUBJECT
    assert message["Date"] == "Mon, 02 Nov 2026 09:30:00 +0300"
    assert re.fullmatch(r"<[^<>@]+@oneclick-report\.local>", message["Message-ID"])
    assert message.as_bytes().isascii()  # 7-bit clean: no 8BITMIME needed


def test_write_eml(tmp_path: Path) -> None:
    message = _compose()
    path = write_eml(message, tmp_path / "report.eml")
    raw = path.read_bytes()
    assert raw == message.as_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    _check_report_message(email.message_from_bytes(raw, policy=email.policy.default))
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize(
    ("html", "found"),
    [
        ('<p>x</p><script>alert(1)</script><img src="cid:' + CID + '">', "<script> element"),
        ('<img src="cid:' + CID + '" onerror="alert(1)">', "event handler attribute onerror="),
        ('<a href=" jav&#x61;script:alert(1)">x</a><img src="cid:' + CID + '">', "script URL in href="),
        ('<div style="background:url(javascript:x)"><img src="cid:' + CID + '"></div>', "script in CSS"),
    ],
)
def test_html_with_javascript_is_refused(html: str, found: str) -> None:
    with pytest.raises(ValueError, match=re.escape(found)):
        _compose(html=html)


def test_cid_references_must_match_images() -> None:
    with pytest.raises(ValueError, match=r"references cid: other@x but no such inline image"):
        _compose(html=HTML + '<img src="cid:other@x">')
    with pytest.raises(ValueError, match=r"not referenced from the HTML by cid: spare@x"):
        _compose(inline_images=[InlineImage(CID, PNG, "png"), InlineImage("spare@x", PNG, "png")])
    with pytest.raises(ValueError, match=r"duplicate inline image cid"):
        _compose(inline_images=[InlineImage(CID, PNG, "png"), InlineImage(CID, PNG, "png")])
    with pytest.raises(ValueError, match=r"angle brackets"):
        _compose(inline_images=[InlineImage(f"<{CID}>", PNG, "png")])


@pytest.mark.parametrize(
    ("overrides", "error", "match"),
    [
        ({"subject": "Отчёт\r\nBcc: victim@example.com"}, ValueError, r"subject must be one line"),
        ({"sender": "not-an-address"}, ValueError, r"sender is not a valid e-mail address"),
        ({"sender": "a@"}, ValueError, r"sender is not a valid e-mail address"),
        ({"recipients": ["ceo@shop.example", "x@y, z@w"]}, ValueError, r"recipient is not a valid"),
        ({"recipients": []}, ValueError, r"at least one recipient"),
        ({"recipients": "ceo@shop.example"}, TypeError, r"not one string"),
        ({"recipients": ["Финансовый\nдиректор <cfo@shop.example>"]}, ValueError, r"recipient must be one line"),
        ({"sender": "reports@shop.example\r\nBcc: victim@example.com"}, ValueError, r"sender must be one line"),
        ({"attachments": [Attachment("а" * 128 + ".pdf", PDF, "application", "pdf")]}, ValueError,
         r"attachment filename is longer than 255 bytes"),
        ({"attachments": [Attachment("report.pdf", PDF, "application", "pdf; x=y")]}, ValueError,
         r"attachment subtype must be a MIME token"),
    ],
)
def test_compose_rejects_bad_input(overrides: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        _compose(**overrides)


# --------------------------------------------------------------------------- #
# Helpers for the CLI                                                         #
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("smtp.example.com:587", ("smtp.example.com", 587)),
        ("127.0.0.1:25", ("127.0.0.1", 25)),
        ("[::1]:25", ("::1", 25)),
        ("[2001:db8::1]:465", ("2001:db8::1", 465)),
        (" localhost:2525 ", ("localhost", 2525)),
    ],
)
def test_parse_smtp_address(value: str, expected: tuple[str, int]) -> None:
    assert parse_smtp_address(value) == expected


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("smtp.example.com", r"has no port"),
        ("smtp.example.com:", r"has no port"),
        ("[::1]", r"has no port"),
        (":25", r"invalid host"),
        ("", r"empty SMTP server address"),
        ("smtp.example.com:0", r"expected a number from 1 to 65535"),
        ("smtp.example.com:65536", r"expected a number from 1 to 65535"),
        ("smtp.example.com:smtp", r"invalid port 'smtp'"),
        ("smtp.example.com:+25", r"invalid port"),
        ("::1:25", r"IPv6 address in brackets"),
        ("[nonsense]:25", r"not an IPv6 address"),
        ("smtp example.com:25", r"invalid host"),
    ],
)
def test_parse_smtp_address_rejects(value: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_smtp_address(value)


def test_credentials_from_env() -> None:
    assert credentials_from_env({}) == (None, None)
    assert credentials_from_env({"ONECLICK_SMTP_USER": "", "ONECLICK_SMTP_PASSWORD": ""}) == (None, None)
    env = {"ONECLICK_SMTP_USER": USER, "ONECLICK_SMTP_PASSWORD": PASSWORD, "OTHER": "x"}
    assert credentials_from_env(env) == (USER, PASSWORD)
    with pytest.raises(ValueError, match="ONECLICK_SMTP_PASSWORD is set but ONECLICK_SMTP_USER is not") as info:
        credentials_from_env({"ONECLICK_SMTP_PASSWORD": PASSWORD})
    assert PASSWORD not in str(info.value)


# --------------------------------------------------------------------------- #
# Delivery to a real SMTP server on loopback                                  #
# --------------------------------------------------------------------------- #

HOST = "127.0.0.1"


class _Recorder:
    """Handler that stores envelopes and refuses some recipients."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.envelopes: list[Envelope] = []
        self.logins: list[bytes | None] = []
        self.refuse = refuse

    async def handle_RCPT(self, server: Any, session: Any, envelope: Envelope, address: str, options: list[str]) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        self.logins.append(session.login_data)
        return "250 2.0.0 Message accepted"


def _authenticator(*, echo_password: bool = False) -> Callable[..., AuthResult]:
    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == USER.encode()
            and auth_data.password == PASSWORD.encode()
        ):
            return AuthResult(success=True, auth_data=auth_data)
        if echo_password and isinstance(auth_data, LoginPassword):
            # A careless server quoting the password back: it must not reach the user.
            echoed = auth_data.password.decode()
            return AuthResult(success=False, handled=False, message=f"535 5.7.8 bad password {echoed}")
        return AuthResult(success=False, handled=False)

    return authenticate


StartServer = Callable[..., tuple[EphemeralController, _Recorder]]


@pytest.fixture
def smtp_server() -> Iterator[StartServer]:
    """Start aiosmtpd servers on 127.0.0.1:<ephemeral>; stopped after the test."""
    started: list[EphemeralController] = []

    def start(*, refuse: tuple[str, ...] = (), **smtp_kwargs: Any) -> tuple[EphemeralController, _Recorder]:
        recorder = _Recorder(refuse)
        controller = EphemeralController(recorder, hostname=HOST, port=0, ready_timeout=5.0, **smtp_kwargs)
        controller.start()
        started.append(controller)
        return controller, recorder

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound on 127.0.0.1 but not listening: connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        yield sock.getsockname()[1]


def _received(recorder: _Recorder) -> tuple[Envelope, EmailMessage]:
    assert len(recorder.envelopes) == 1
    envelope = recorder.envelopes[0]
    assert isinstance(envelope.content, bytes)
    parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return envelope, parsed


def _assert_no_password(exc: BaseException) -> None:
    text = "".join(traceback.format_exception(exc))
    assert PASSWORD not in text
    assert PASSWORD not in str(exc) and PASSWORD not in repr(exc)


def test_delivers_report_to_real_server(smtp_server: StartServer) -> None:
    controller, recorder = smtp_server()
    send_message(_compose(), host=HOST, port=controller.port, timeout=5)
    envelope, parsed = _received(recorder)
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == ["ceo@shop.example", "cfo@shop.example"]
    _check_report_message(parsed)


def test_delivers_with_authentication(smtp_server: StartServer) -> None:
    controller, recorder = smtp_server(authenticator=_authenticator(), auth_require_tls=False)
    send_message(_compose(), host=HOST, port=controller.port, username=USER, password=PASSWORD, timeout=5)
    _check_report_message(_received(recorder)[1])
    assert recorder.logins == [USER.encode()]


def test_connection_refused(closed_port: int) -> None:
    with pytest.raises(DeliveryError, match=rf"127\.0\.0\.1:{closed_port} failed while connecting: connection refused"):
        send_message(_compose(), host=HOST, port=closed_port, timeout=5)


def test_timeout_without_greeting() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        sock.listen(1)  # the kernel accepts the connection, nobody ever says 220
        port = sock.getsockname()[1]
        with pytest.raises(DeliveryError,
                           match=rf"127\.0\.0\.1:{port} failed while connecting: timed out after 0\.3 s"):
            send_message(_compose(), host=HOST, port=port, timeout=0.3)


def test_authentication_failure_hides_password(smtp_server: StartServer) -> None:
    controller, recorder = smtp_server(authenticator=_authenticator(), auth_require_tls=False)
    failed = rf"{HOST}:{controller.port} failed while authenticating: authentication failed.*535"
    with pytest.raises(DeliveryError, match=failed) as info:
        send_message(_compose(), host=HOST, port=controller.port, username=USER, password="wrong " + PASSWORD,
                     timeout=5)
    _assert_no_password(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert recorder.envelopes == []


def test_password_echoed_by_server_is_redacted(smtp_server: StartServer) -> None:
    controller, _ = smtp_server(authenticator=_authenticator(echo_password=True), auth_require_tls=False)
    wrong = "hunter2-" + PASSWORD
    with pytest.raises(DeliveryError, match=r"authentication failed.*bad password \*\*\*") as info:
        send_message(_compose(), host=HOST, port=controller.port, username=USER, password=wrong, timeout=5)
    assert wrong not in "".join(traceback.format_exception(info.value))


def test_server_without_auth(smtp_server: StartServer) -> None:
    controller, _ = smtp_server()  # no authenticator: AUTH is not offered
    with pytest.raises(DeliveryError,
                       match=r"failed while authenticating: the server does not offer authentication") as info:
        send_message(_compose(), host=HOST, port=controller.port, username=USER, password=PASSWORD, timeout=5)
    _assert_no_password(info.value)


def test_all_recipients_refused(smtp_server: StartServer) -> None:
    controller, recorder = smtp_server(refuse=("ceo@shop.example", "cfo@shop.example"))
    refused = r"sending the message: the server refused every recipient: ceo@shop\.example \(550 5\.1\.1"
    with pytest.raises(DeliveryError, match=refused):
        send_message(_compose(), host=HOST, port=controller.port, timeout=5)
    assert recorder.envelopes == []


def test_some_recipients_refused(smtp_server: StartServer) -> None:
    controller, recorder = smtp_server(refuse=("cfo@shop.example",))
    with pytest.raises(DeliveryError,
                       match=r"refused recipient\(s\) cfo@shop\.example \(550 .*\); the message went to the other"):
        send_message(_compose(), host=HOST, port=controller.port, timeout=5)
    envelope, _ = _received(recorder)
    assert envelope.rcpt_tos == ["ceo@shop.example"]


def test_send_message_argument_checks() -> None:
    message = _compose()
    with pytest.raises(ValueError, match="security must be one of"):
        send_message(message, host=HOST, port=25, security="tls")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="given together"):
        send_message(message, host=HOST, port=25, password=PASSWORD)
    with pytest.raises(ValueError, match="must be ASCII") as info:
        send_message(message, host=HOST, port=25, username=USER, password="пароль")
    assert "пароль" not in str(info.value)
    with pytest.raises(ValueError, match="port must be an integer"):
        send_message(message, host=HOST, port=0)


# --------------------------------------------------------------------------- #
# TLS (self-signed certificate made with the openssl command)                 #
# --------------------------------------------------------------------------- #

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost and its key."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=oneclick-report test", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


@pytest.fixture
def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def trust_certificate(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ssl.create_default_context() trust the test certificate (and only it)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


@needs_openssl
@pytest.mark.usefixtures("trust_certificate")
def test_starttls_with_authentication(smtp_server: StartServer, server_tls: ssl.SSLContext) -> None:
    controller, recorder = smtp_server(tls_context=server_tls, require_starttls=True, authenticator=_authenticator())
    send_message(
        _compose(), host=HOST, port=controller.port, security="starttls", username=USER, password=PASSWORD, timeout=5
    )
    _check_report_message(_received(recorder)[1])
    assert recorder.logins == [USER.encode()]


@needs_openssl
@pytest.mark.usefixtures("trust_certificate")
def test_implicit_tls(smtp_server: StartServer, server_tls: ssl.SSLContext) -> None:
    controller, recorder = smtp_server(ssl_context=server_tls)
    send_message(_compose(), host=HOST, port=controller.port, security="ssl", timeout=5)
    _check_report_message(_received(recorder)[1])


@needs_openssl
def test_starttls_untrusted_certificate(
    smtp_server: StartServer, server_tls: ssl.SSLContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "no-ca.pem"
    empty.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(empty))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    controller, recorder = smtp_server(tls_context=server_tls, authenticator=_authenticator())
    with pytest.raises(
        DeliveryError,
        match=rf"{HOST}:{controller.port} failed while starting TLS \(STARTTLS\): TLS certificate verification failed",
    ) as info:
        send_message(
            _compose(), host=HOST, port=controller.port, security="starttls", username=USER, password=PASSWORD,
            timeout=5,
        )
    _assert_no_password(info.value)
    assert recorder.envelopes == []


def test_starttls_not_offered(smtp_server: StartServer) -> None:
    controller, recorder = smtp_server()
    with pytest.raises(DeliveryError, match=r"starting TLS \(STARTTLS\): the server does not offer STARTTLS"):
        send_message(_compose(), host=HOST, port=controller.port, security="starttls", timeout=5)
    assert recorder.envelopes == []


def test_implicit_tls_against_plain_server(smtp_server: StartServer) -> None:
    controller, _ = smtp_server()
    with pytest.raises(DeliveryError, match=rf"{HOST}:{controller.port} failed while connecting with TLS: TLS failed"):
        send_message(_compose(), host=HOST, port=controller.port, security="ssl", timeout=5)
