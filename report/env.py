"""The one Jinja environment of the report.

:func:`make_environment` is the only place that configures Jinja: templates from
``templates/``, autoescaping of every HTML template (and of templates made from strings),
:class:`~jinja2.StrictUndefined` (a misspelt name fails the render instead of printing
nothing), the locale's formatting filters (pure wrappers of :mod:`report.format`, Babel), the
``feature_label`` filter and the ``t`` (message catalogue) global.

Filters (``lang`` is fixed by the environment):

=================  ==========================================================================
``num(d=0)``       number with ``d`` decimals: ru ``1 297`` (no-break space), ``0,93``;
                   en ``1,297``, ``0.93``
``auto``           number with decimals chosen by magnitude
``pct(d=0)``       share in [0, 1] as a percentage: ru ``38 %``, en ``38%``
``money(d=0)``     an amount in the data's money unit
``pval``           p-value (``< 0,001``)
``signed(d=3)``    number with an explicit sign (``+0,162``, ``−0,035``)
``pp(d=1)``        a difference of two shares in percentage points (``+1,5 п. п.``)
``scalar``         any configuration / log value (None → «—», bool → yes/no, numbers, text)
``datum``          a data value given as text: a number in the locale when it parses as one
``evidence(unit)`` a recommendation's evidence value by its unit (share, ratio, count, …)
``feature_label``  human label of a feature identifier (catalogue ``feature.<name>``)
``segment_title``  title of a segment key (catalogue ``segment.<key>``)
``level``          a data value (a category, a service type, yes/no) in the report language
                   (catalogue ``level.<raw value>``; an unknown value is printed as recorded)
``period``         ``2026-10`` → «октябрь 2026» / "October 2026"
``date``           ``2026-10-31`` → «31.10.2026» / "31 October 2026"
``cmp``            ``>=`` → ``≥``, ``<=`` → ``≤``
``wbr``            an identifier or file name, escaped, with a line-break opportunity (``<wbr>``)
                   after every ``_``, ``.`` and ``/``: it wraps there, never inside a word
=================  ==========================================================================
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import (BytecodeCache, Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined,
                    select_autoescape)
from jinja2.bccache import Bucket
from markupsafe import Markup, escape

from report.format import (
    fmt_auto, fmt_date, fmt_money, fmt_month, fmt_number, fmt_p_value, fmt_percent, fmt_signed,
)
from report.i18n import catalogue, data_value, feature_label as _feature_label, segment_title as _segment_title
from report.i18n import source_column_label, translator

__all__ = ["TEMPLATES_DIR", "TemplateBytecodeCache", "make_environment", "make_filters"]

#: The report's templates, partials, macros, CSS and message catalogues.
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

_BREAK_AFTER = re.compile(r"([_./])(?=.)")


_SPACED_DASH = re.compile(r" ([—–]) ")


def _no_line_starts_with_a_dash(value: Any) -> Any:
    """Every printed value: the space before a spaced dash is a no-break space, so that a line
    never starts with the dash (Russian typography; also in English text)."""
    if isinstance(value, str) and " " in value:
        text = _SPACED_DASH.sub("\u00a0\\1 ", value)
        return Markup(text) if isinstance(value, Markup) else text  # noqa: S704 - only spaces changed
    return value


def wbr(value: Any) -> Markup:
    """``value`` escaped, with ``<wbr>`` after each ``_``, ``.`` and ``/`` (not at the end)."""
    return Markup(_BREAK_AFTER.sub(r"\1<wbr>", str(escape(value))))  # noqa: S704 - escaped, then <wbr> added


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _six_significant(value: float, lang: str) -> str:
    """``value`` to six significant digits (``%g``), with the locale's decimal sign and minus."""
    text = f"{value:.6g}"
    if "e" in text:
        return text
    digits = len(text.split(".")[1]) if "." in text else 0
    return fmt_number(value, lang, digits=digits, group=False)


def make_filters(lang: str, *, money_unit: str = "unit") -> dict[str, Callable[..., str]]:
    """The formatting filters of ``lang`` (pure functions of their arguments)."""
    t = translator(lang, money_unit=money_unit)

    def num(value: float | int | None, digits: int = 0) -> str:
        return fmt_number(value, lang, digits=digits)

    def auto(value: float | int | None) -> str:
        return fmt_auto(value, lang)

    def pct(share: float | None, digits: int = 0) -> str:
        return fmt_percent(share, lang, digits=digits)

    def money(value: float | None, digits: int = 0) -> str:
        return fmt_money(value, lang, digits=digits)

    def pval(p: float | None) -> str:
        return "—" if p is None or _is_missing(p) else fmt_p_value(float(p), lang)

    def signed(value: float | None, digits: int = 3) -> str:
        return fmt_signed(value, lang, digits=digits)

    def pp(delta: float | None, digits: int = 1) -> str:
        if delta is None or _is_missing(delta):
            return "—"
        return t("unit.pp", value=signed(delta * 100, digits))

    def scalar(value: Any) -> str:
        if value is None:
            return "—"
        if isinstance(value, bool):
            return t("value.yes") if value else t("value.no")
        if isinstance(value, int):
            return fmt_number(value, lang) if abs(value) >= 10_000 else str(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                return "—"
            if value.is_integer() and abs(value) >= 1000:
                return fmt_number(value, lang)
            return _six_significant(value, lang)
        if isinstance(value, (tuple, list)):
            return ", ".join(scalar(v) for v in value) if value else "—"
        return str(value)

    def evidence(value: float | None, unit: str) -> str:
        if unit in ("share", "probability"):
            return pct(value)
        if unit == "ratio":
            return t("unit.ratio", value=num(value, 2))
        if unit == "money":
            return money(value, 2)
        if unit == "count":
            return num(value, 2)
        return auto(value)

    def exact(number: float) -> str:
        """A data value as recorded: every decimal kept (up to 4), in the locale."""
        if number.is_integer():
            return fmt_number(number, lang)
        text = fmt_number(number, lang, digits=4)
        return text.rstrip("0").rstrip(",.")

    def datum(value: Any) -> str:
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                return value
            return exact(number) if math.isfinite(number) else value
        if isinstance(value, float) and math.isfinite(value):
            return exact(value)
        return scalar(value)

    def feature_label(name: str) -> str:
        return _feature_label(name, lang)

    def segment_title(key: str) -> str:
        return _segment_title(key, lang)

    def level(value: Any) -> str:
        return data_value(value, lang)

    def period(value: str) -> str:
        return fmt_month(value, lang)

    def date(value: str) -> str:
        return fmt_date(value, lang, pattern=t("date.pattern"))

    def cmp(value: str) -> str:
        return {">=": "≥", "<=": "≤", ">": ">", "<": "<"}.get(value, value)

    return {
        "num": num, "auto": auto, "pct": pct, "money": money, "pval": pval, "signed": signed, "pp": pp,
        "scalar": scalar, "datum": datum, "exact": exact, "evidence": evidence, "feature_label": feature_label,
        "segment_title": segment_title, "level": level, "period": period, "date": date, "cmp": cmp, "wbr": wbr,
    }


_log = logging.getLogger(__name__)


class TemplateBytecodeCache(FileSystemBytecodeCache):
    """Jinja's compiled templates kept between processes in ``directory`` (the build's:
    ``$XDG_CACHE_HOME/oneclick-report/templates/<code version>``), as Python keeps compiled
    modules: a new process loads the report's templates instead of compiling them (measured on
    the real data: the first rendering of a process 0.21 s → 0.07 s).

    Jinja keys each file by the template's name and path, a checksum of its source and its own
    and Python's bytecode versions, and writes it through a temporary file renamed into place.
    What it does not key by — the environment's filters, tests and options, in this package's
    code — is the folder: one per code version (:func:`analysis.pipeline.code_version`), the
    other versions' folders removed when a new one is made. A file that cannot be read back (cut
    short, damaged) is removed and the template compiled again; a folder that cannot be written is
    no error either: the templates are then compiled in memory only, as without a cache.
    """

    def __init__(self, directory: Path) -> None:
        super().__init__(str(directory))

    @classmethod
    def at(cls, directory: Path) -> TemplateBytecodeCache | None:
        """The cache in ``directory`` (created, its sibling folders removed), or ``None`` when it
        cannot be created."""
        try:
            if not directory.is_dir():
                directory.mkdir(parents=True)
                for other in directory.parent.iterdir():  # other code versions' compiled templates
                    if other != directory and other.is_dir():
                        shutil.rmtree(other, ignore_errors=True)
        except OSError as exc:
            _log.debug("templates not cached in %s: %s", directory, exc)
            return None if not directory.is_dir() else cls(directory)
        return cls(directory)

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception as exc:  # noqa: BLE001 - any damage: compiled again (Jinja catches only marshal's errors)
            _log.debug("compiled template %s unreadable, compiled again: %s", bucket.key, exc)
            bucket.reset()
            with contextlib.suppress(OSError):
                os.remove(self._get_cache_filename(bucket))

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError as exc:  # a read-only or removed folder: compiled in memory only
            _log.debug("template %s not cached: %s", bucket.key, exc)


def make_environment(*, lang: str, money_unit: str = "unit",
                     bytecode_cache: BytecodeCache | None = None) -> Environment:
    """The report's Jinja environment for ``lang`` ("ru" or "en").

    Globals: ``t`` (the catalogue), ``tx(prefix, value)`` (``t(prefix.value)`` when the
    catalogue has it, else ``value`` itself: for data-derived keys such as a cleaning action),
    ``lang``, ``eda_sentence(eda)``, ``selection_text(model)``, ``calibration_text(model)``,
    ``agreement_text(results, recommendations)``, ``conclusion_text(results, conclusion)``,
    ``cleaning_note(note)``, ``attachments_text(attachments)``, ``attachments_email_text(attachments)``,
    ``model_label(results)``
    (:mod:`report.texts`). The ``digits`` filter
    gives one precision for a column of numbers (:func:`report.texts.column_digits`). ``money_unit``
    names the unit of amounts (``ReportConfig.money_unit``). ``bytecode_cache``: where compiled
    templates are kept between processes (:class:`TemplateBytecodeCache`); none by default.
    """
    t = translator(lang, money_unit=money_unit)
    messages = catalogue(lang)
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(enabled_extensions=("html", "htm", "xml"),
                                     default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_no_line_starts_with_a_dash,
        bytecode_cache=bytecode_cache,
    )

    def tx(prefix: str, value: Any) -> str:
        key = f"{prefix}.{value}"
        return t(key) if key in messages else ("—" if value is None else str(value))

    from report import texts  # the sentences use this module's filters

    env.filters.update(make_filters(lang, money_unit=money_unit))
    env.filters["digits"] = texts.column_digits
    env.globals.update(t=t, tx=tx, lang=lang,
                       eda_sentence=lambda eda: texts.eda_sentence(eda, lang=lang),
                       selection_text=lambda model: texts.selection_text(model, lang=lang),
                       calibration_text=lambda model: texts.calibration_text(model, lang=lang),
                       agreement_text=lambda results, recs: texts.agreement_text(results, recs, lang=lang),
                       conclusion_text=lambda results, c: texts.conclusion_text(results, c, lang=lang),
                       model_label=lambda results: texts.model_label(results, lang=lang),
                       cleaning_note=lambda note: texts.cleaning_note(note, lang=lang),
                       skip_note=lambda note: texts.skip_note(note, lang=lang),
                       rows_note=lambda actions: texts.rows_note(actions, lang=lang),
                       attachments_text=lambda attachments: texts.attachments_text(attachments, lang=lang),
                       attachments_email_text=lambda attachments: texts.attachments_email_text(attachments,
                                                                                               lang=lang),
                       column_label=lambda table, column: source_column_label(table, column, lang))
    return env
