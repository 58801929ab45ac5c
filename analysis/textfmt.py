"""Pure, locale-aware number formatting shared by the generated texts and the renderers.

Russian: decimal comma and a no-break space between thousands (``0,93``, ``1 297``);
English: decimal point and a comma between thousands (``0.93``, ``1,297``).
"""

from __future__ import annotations

import math

NBSP = "\u00a0"


def fmt_number(value: float | int | None, lang: str, *, digits: int = 0) -> str:
    """Format ``value`` with ``digits`` decimals and locale separators ("—" for None/NaN)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    text = f"{value:,.{digits}f}"
    if lang == "ru":
        text = text.replace(",", "\u2009").replace(".", ",").replace("\u2009", NBSP)
        if text.startswith("-"):
            text = "−" + text[1:]
    return text


def fmt_auto(value: float | int | None, lang: str) -> str:
    """Format with a sensible number of decimals for the magnitude of ``value``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    magnitude = abs(float(value))
    digits = 0 if magnitude >= 100 else (1 if magnitude >= 10 else 2)
    if float(value).is_integer() and magnitude >= 1:
        digits = 0
    return fmt_number(value, lang, digits=digits)


def fmt_percent(share: float | None, lang: str, *, digits: int = 0) -> str:
    """Format a share in [0, 1] as a percentage (``38 %`` in Russian, ``38%`` in English)."""
    if share is None or not math.isfinite(share):
        return "—"
    number = fmt_number(share * 100, lang, digits=digits)
    return f"{number}{NBSP}%" if lang == "ru" else f"{number}%"


def fmt_money(value: float | None, lang: str, *, digits: int = 0) -> str:
    """Format an amount in the store's profit/revenue units (thousand roubles in the source data)."""
    return fmt_number(value, lang, digits=digits)


def fmt_p_value(p: float, lang: str) -> str:
    """Format a p-value (``< 0,001`` below one in a thousand)."""
    if p < 0.001:
        return ("<" + NBSP + fmt_number(0.001, lang, digits=3))
    return fmt_number(p, lang, digits=3)
