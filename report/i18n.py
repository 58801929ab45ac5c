"""Message catalogues of the report: every static string, in Russian and English.

The catalogues live in ``templates/messages/<lang>.json``. A message is either a string or, when
it depends on a count, a dict of plural forms keyed by the CLDR plural categories of the
catalogue's locale (``one``/``few``/``many``/``other`` in Russian, ``one``/``other`` in English),
chosen by the ``count`` argument with Babel's plural rules. Placeholders use
:meth:`str.format` syntax (``"{n} клиентов"``); callers pass values already formatted for the
locale.

>>> t = translator("en")
>>> t("section.data")
'Data and cleaning'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

__all__ = [
    "DEFAULT_LANG",
    "LANGS",
    "MESSAGES_DIR",
    "MissingMessageError",
    "Translator",
    "catalogue",
    "check_lang",
    "data_value",
    "feature_label",
    "plural_form",
    "segment_title",
    "source_column_label",
    "translator",
]

#: Where the catalogues live: one ``<lang>.json`` per report language.
MESSAGES_DIR = Path(__file__).resolve().parent.parent / "templates" / "messages"
#: The default report language.
DEFAULT_LANG = "ru"
#: Report languages: one per catalogue file, the default first. Adding a language is adding a file.
LANGS: tuple[str, ...] = tuple(sorted((p.stem for p in MESSAGES_DIR.glob("*.json")),
                                      key=lambda lang: (lang != DEFAULT_LANG, lang)))

Message = str | Mapping[str, str]


class MissingMessageError(KeyError):
    """A message key that the catalogue does not have."""


class Translator(Protocol):
    """``t(key, **kwargs)``: the message ``key`` formatted with ``kwargs``."""

    def __call__(self, key: str, /, **kwargs: Any) -> str: ...


def check_lang(lang: str) -> None:
    """Raise :class:`ValueError` unless there is a catalogue for ``lang``."""
    if lang not in LANGS and not (MESSAGES_DIR / f"{lang}.json").is_file():
        raise ValueError(f"unsupported report language {lang!r}; expected one of {LANGS}")


@cache
def catalogue(lang: str) -> Mapping[str, Message]:
    """The read-only message catalogue of ``lang`` (key → message)."""
    check_lang(lang)
    data = json.loads((MESSAGES_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{lang}.json: expected a JSON object of messages")
    return MappingProxyType({key: (MappingProxyType(value) if isinstance(value, dict) else value)
                             for key, value in data.items()})


def plural_form(count: int | float, lang: str) -> str:
    """The CLDR plural category of ``count`` in ``lang`` (Babel's plural rules of its locale)."""
    from report.format import plural_category

    return plural_category(count, lang)


def _pick(message: Message, lang: str, kwargs: Mapping[str, Any], key: str) -> str:
    if isinstance(message, str):
        return message
    if "count" not in kwargs:
        raise TypeError(f"message {key!r} has plural forms: pass count=")
    form = plural_form(kwargs["count"], lang)
    try:
        return message[form]
    except KeyError:
        raise MissingMessageError(f"message {key!r} of the {lang} catalogue has no plural form {form!r}") from None


@cache
def translator(lang: str, *, money_unit: str = "unit") -> Callable[..., str]:
    """Return ``t(key, **kwargs)`` for ``lang``.

    ``t`` looks ``key`` up (raising :class:`MissingMessageError` when it is absent), picks the
    plural form by ``count`` when the message has forms, and fills placeholders from ``kwargs``;
    ``{unit}`` defaults to the money unit's name (``money.unit.<money_unit>``).
    """
    messages = catalogue(lang)
    unit_key = f"money.unit.{money_unit}"
    if unit_key not in messages:
        raise MissingMessageError(f"no message {unit_key!r} in the {lang} catalogue")
    defaults = {"unit": messages[unit_key]}

    def t(key: str, /, **kwargs: Any) -> str:
        try:
            message = messages[key]
        except KeyError:
            raise MissingMessageError(f"no message {key!r} in the {lang} catalogue") from None
        text = _pick(message, lang, kwargs, key)
        return text.format(**{**defaults, **kwargs})

    return t


def feature_label(name: str, lang: str) -> str:
    """The label of a feature or column identifier (``feature.<name>``; else the identifier)."""
    return str(catalogue(lang).get(f"feature.{name}", name))


def source_column_label(table: str, source: str | None, lang: str) -> str:
    """The label of a raw column of an input table (its header in the source file, e.g.
    «Тип сервиса» of ``market_file``): the label of the column's identifier; «—» for none."""
    if source is None:
        return "—"
    from analysis.schema import TABLES_BY_NAME

    spec = TABLES_BY_NAME.get(table)
    name = next((c.name for c in spec.columns if c.source == source), None) if spec is not None else None
    return feature_label(name, lang) if name is not None else source


def segment_title(key: str, lang: str) -> str:
    """The title of a segment key (``segment.<key>``; else the key)."""
    return str(catalogue(lang).get(f"segment.{key}", key))


def data_value(value: object, lang: str) -> str:
    """A value of the data (a category, a service type, «да»/«нет») in ``lang``.

    The data hold Russian values; ``level.<raw value>`` translates the known ones. A value the
    catalogue does not know (a new category) is printed as it was recorded.
    """
    text = str(value)
    return str(catalogue(lang).get(f"level.{text}", text))
