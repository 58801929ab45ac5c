"""The monthly report by e-mail: :mod:`~report.email.compose` builds the message,
:mod:`~report.email.smtp` delivers it.

Both are on the standard library: headers are encoded by :class:`email.header.Header` on a
``compat32`` message (see :mod:`report.email.compose` for why not the default policy), and
delivery is :mod:`smtplib`. The names below are the package's public interface.
"""

from report.email.compose import MAX_LINE_LENGTH, POLICY, Attachment, InlineImage, compose_message, write_eml
from report.email.smtp import (
    ENV_SMTP_PASSWORD,
    ENV_SMTP_USER,
    DeliveryError,
    Security,
    credentials_from_env,
    parse_smtp_address,
    send_message,
)

__all__ = [
    "ENV_SMTP_PASSWORD",
    "ENV_SMTP_USER",
    "MAX_LINE_LENGTH",
    "POLICY",
    "Attachment",
    "DeliveryError",
    "InlineImage",
    "Security",
    "compose_message",
    "credentials_from_env",
    "parse_smtp_address",
    "send_message",
    "write_eml",
]
