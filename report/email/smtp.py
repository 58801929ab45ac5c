"""Deliver a composed message over SMTP (``smtplib``), with clear errors and no leaked secrets.

:func:`send_message` takes the SMTP user name and password as arguments (the CLI reads them with
:func:`credentials_from_env`). They are never logged, printed or put into an exception message;
any server reply quoted in a :class:`DeliveryError` has the password scrubbed from it as well.
Composition lives in :mod:`report.email.compose`.
"""

from __future__ import annotations

import base64
import logging
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from ipaddress import IPv6Address
from typing import Literal

__all__ = [
    "ENV_SMTP_PASSWORD",
    "ENV_SMTP_USER",
    "DeliveryError",
    "Security",
    "credentials_from_env",
    "parse_smtp_address",
    "send_message",
]

_log = logging.getLogger(__name__)

#: Environment variable holding the SMTP user name.
ENV_SMTP_USER = "ONECLICK_SMTP_USER"
#: Environment variable holding the SMTP password.
ENV_SMTP_PASSWORD = "ONECLICK_SMTP_PASSWORD"

Security = Literal["none", "starttls", "ssl"]
_SECURITY_MODES: tuple[str, ...] = ("none", "starttls", "ssl")


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
        The message, typically from :func:`report.email.compose.compose_message`.
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
    _log.info("sending %r via %s (security=%s, auth=%s)", str(message["Subject"]), where,
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

