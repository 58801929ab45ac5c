"""Message catalogues of the report: every static string, in Russian and English.

The catalogues live in ``templates/messages/<lang>.json``. A message is either a string or, when
it depends on a count, a dict of plural forms (``one``/``few``/``many`` in Russian,
``one``/``other`` in English) chosen by the ``count`` argument. Placeholders use
:meth:`str.format` syntax (``"{n} клиентов"``); callers pass values already formatted for the
locale.

>>> t = translator("en")
>>> t("section.data")
'Data and cleaning'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

__all__ = [
    "LANGS",
    "MESSAGES_DIR",
    "MissingMessageError",
    "Translator",
    "catalogue",
    "plural_form",
    "translator",
]

#: Report languages.
LANGS: tuple[str, ...] = ("ru", "en")
#: Where the catalogues live.
MESSAGES_DIR = Path(__file__).resolve().parent.parent / "templates" / "messages"

Message = str | Mapping[str, str]


class MissingMessageError(KeyError):
    """A message key that the catalogue does not have."""


class Translator(Protocol):
    """``t(key, **kwargs)``: the message ``key`` formatted with ``kwargs``."""

    def __call__(self, key: str, /, **kwargs: Any) -> str: ...  # noqa: D102


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"unsupported report language {lang!r}; expected one of {LANGS}")


@lru_cache(maxsize=None)
def catalogue(lang: str) -> Mapping[str, Message]:
    """The read-only message catalogue of ``lang`` (key → message)."""
    _check_lang(lang)
    data = json.loads((MESSAGES_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{lang}.json: expected a JSON object of messages")
    return MappingProxyType({key: (MappingProxyType(value) if isinstance(value, dict) else value)
                             for key, value in data.items()})


def plural_form(count: int | float, lang: str) -> str:
    """The CLDR plural category of ``count`` in ``lang`` (integers; fractions take ``other``/``few``)."""
    if isinstance(count, float) and not count.is_integer():
        return "few" if lang == "ru" else "other"
    n = abs(int(count))
    if lang == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return "few"
        return "many"
    return "one" if n == 1 else "other"


def _pick(message: Message, lang: str, kwargs: Mapping[str, Any], key: str) -> str:
    if isinstance(message, str):
        return message
    if "count" not in kwargs:
        raise TypeError(f"message {key!r} has plural forms: pass count=")
    form = plural_form(kwargs["count"], lang)
    return message.get(form) or message["other" if "other" in message else "many"]


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
