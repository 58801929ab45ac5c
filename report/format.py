"""Locale formatting of numbers, percentages, amounts and dates, by Babel (CLDR).

Every number the report prints goes through here. The locale of a report language is the
catalogue's ``_locale`` entry (``templates/messages/<lang>.json``), so a new language brings its
own separators, percent sign and month names with its catalogue file.

Russian (CLDR ``ru``): decimal comma and a no-break space between thousands (``0,93``,
``1 297``), ``38 %``; English (``en``): ``0.93``, ``1,297``, ``38%``. One typographic rule goes
beyond CLDR, and the report keeps it in every language: a negative number starts with the minus
sign U+2212 (CLDR gives the hyphen-minus), as the charts and the signed differences always did.

The value is rounded first, half to even on its binary value (Python's ``format``), and Babel
then only lays out the digits: the printed digits are those of ``f"{value:.{digits}f}"``.

>>> fmt_number(-1297.5, "ru", digits=1)
'−1\\xa0297,5'
>>> fmt_percent(0.384, "en")
'38%'
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent

__all__ = [
    "MINUS",
    "NBSP",
    "babel_locale",
    "fmt_auto",
    "fmt_date",
    "fmt_list",
    "fmt_money",
    "fmt_month",
    "fmt_number",
    "fmt_p_value",
    "fmt_percent",
    "fmt_signed",
    "plural_category",
]

NBSP = "\u00a0"
MINUS = "\u2212"
_MISSING = "—"


@cache
def babel_locale(lang: str) -> Locale:
    """The CLDR locale of the report language ``lang`` (its catalogue's ``_locale``)."""
    from report.i18n import catalogue  # the catalogue names its locale

    name = catalogue(lang).get("_locale", lang)
    return Locale.parse(str(name))


def _missing(value: float | int | None) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _pattern(digits: int, suffix: str = "", *, group: bool = True) -> str:
    return ("#,##0" if group else "0") + ("." + "0" * digits if digits > 0 else "") + suffix


def _minus(text: str, lang: str) -> str:  # lang unused: one typographic rule for every language
    return MINUS + text[1:] if text.startswith("-") else text


def fmt_number(value: float | int | None, lang: str, *, digits: int = 0, group: bool = True) -> str:
    """``value`` with ``digits`` decimals and the locale's separators («—» for None/NaN);
    ``group=False`` leaves out the thousands separator."""
    if _missing(value):
        return _MISSING
    rounded = Decimal(f"{value:.{digits}f}")
    text = format_decimal(rounded, format=_pattern(digits, group=group), locale=babel_locale(lang),
                          decimal_quantization=False)
    return _minus(text, lang)


def fmt_auto(value: float | int | None, lang: str) -> str:
    """``value`` with decimals chosen by its magnitude (0 from 100, 1 from 10, else 2)."""
    if _missing(value):
        return _MISSING
    magnitude = abs(float(value))  # type: ignore[arg-type]
    digits = 0 if magnitude >= 100 else (1 if magnitude >= 10 else 2)
    if float(value).is_integer() and magnitude >= 1:  # type: ignore[arg-type]
        digits = 0
    return fmt_number(value, lang, digits=digits)


def fmt_percent(share: float | None, lang: str, *, digits: int = 0) -> str:
    """A share in [0, 1] as the locale writes a percentage (``38 %``, ``38%``)."""
    if _missing(share):
        return _MISSING
    hundredths = Decimal(f"{share * 100:.{digits}f}")  # type: ignore[operator]
    locale = babel_locale(lang)
    # The locale's own percent pattern (``#,##0 %`` in Russian, ``#,##0%`` in English) with
    # ``digits`` decimals.
    pattern = str(locale.percent_formats[None].pattern).replace("#,##0", _pattern(digits), 1)
    text = format_percent(hundredths / 100, format=pattern, locale=locale, decimal_quantization=False)
    return _minus(text, lang)


def fmt_money(value: float | None, lang: str, *, digits: int = 0) -> str:
    """An amount in the data's money unit (the unit's name is the catalogue's ``{unit}``)."""
    return fmt_number(value, lang, digits=digits)


def fmt_signed(value: float | None, lang: str, *, digits: int = 3) -> str:
    """``value`` with an explicit sign (``+0,162``, ``−0,035``); a number that prints as zero has none."""
    if _missing(value):
        return _MISSING
    if round(float(value), digits) == 0:  # type: ignore[arg-type]
        return fmt_number(0.0, lang, digits=digits)
    text = fmt_number(value, lang, digits=digits)
    return text if text.startswith(MINUS) else "+" + text


def fmt_p_value(p: float, lang: str) -> str:
    """A p-value; below one in a thousand ``< 0,001``."""
    if p < 0.001:
        return "<" + NBSP + fmt_number(0.001, lang, digits=3)
    return fmt_number(p, lang, digits=3)


def fmt_month(period: str, lang: str) -> str:
    """``2026-10`` → «октябрь 2026» / "October 2026" (the stand-alone month name)."""
    year, month = period.split("-")[:2]
    name = babel_locale(lang).months["stand-alone"]["wide"][int(month)]
    return f"{name} {year}"


def fmt_date(value: str, lang: str, *, pattern: str) -> str:
    """An ISO date ``2026-10-31`` in the CLDR ``pattern`` (``dd.MM.y``, ``d MMMM y``)."""
    year, month, day = (int(part) for part in value.split("-")[:3])
    return format_date(date(year, month, day), format=pattern, locale=babel_locale(lang))


def fmt_list(items: list[str], lang: str) -> str:
    """``items`` joined as the locale joins a list (CLDR): «a, b и c» / "a, b, and c"."""
    return format_list(list(items), style="standard", locale=babel_locale(lang)) if items else ""


def plural_category(count: float | int, lang: str) -> str:
    """The CLDR plural category of ``count`` in ``lang`` (``one``, ``few``, ``many``, ``other``)."""
    return str(babel_locale(lang).plural_form(abs(count)))
