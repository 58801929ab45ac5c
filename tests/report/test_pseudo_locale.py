"""The report in a pseudo-locale: every message of the catalogue wrapped in ⟦…⟧.

A word of the rendered report (its HTML text, every attribute a reader meets: alt, title,
aria-label, and every text drawn on a chart) that is outside the wrapped messages did not come from
the catalogue: an untranslated string. Only what the results quote as recorded may stay outside
(identifiers in ``<code>``, the cleaning log's before/after values, the configuration dump, file
and table names), and a short list of notation that is the same in every language.

This is also the proof that a language is one catalogue file: the pseudo-locale is nothing but a
``xx.json`` beside the others.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from analysis.results import Results
from report import format as report_format
from report import i18n

OPEN, CLOSE = "⟦", "⟧"
PSEUDO = "xx"
#: Notation a translator keeps as it is (metric names, symbols, units of code).
NOTATION = {"ROC", "AUC", "SHAP", "PR", "MAD", "CSV", "HTML", "PDF", "JSON", "SHA", "id", "ID", "TreeSHAP", "PSI",
            "phik", "VIF", "FPR", "TPR", "pp", "CI", "KNN", "SVC", "LightGBM", "α", "φK", "φ"}
_INNERMOST = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
_WORD = re.compile(r"[^\W\d_]{2,}")


def _pseudo(message: object, key: str) -> object:
    if isinstance(message, dict):
        return {form: _pseudo(text, key) for form, text in message.items()}
    if key == "_locale":
        return "en"
    if key == "date.pattern":  # a CLDR pattern: the brackets are quoted literals
        return f"'{OPEN}'{message}'{CLOSE}'"
    return f"{OPEN}{message}{CLOSE}"


@pytest.fixture
def pseudo_locale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A catalogue ``xx.json`` made from the English one, every message wrapped."""
    english = json.loads((i18n.MESSAGES_DIR / "en.json").read_text(encoding="utf-8"))
    folder = tmp_path / "messages"
    folder.mkdir()
    for lang in i18n.LANGS:
        (folder / f"{lang}.json").write_bytes((i18n.MESSAGES_DIR / f"{lang}.json").read_bytes())
    pseudo = {key: _pseudo(value, key) for key, value in english.items()}
    (folder / f"{PSEUDO}.json").write_text(json.dumps(pseudo, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(i18n, "MESSAGES_DIR", folder)
    _clear_caches()
    yield PSEUDO
    _clear_caches()


def _clear_caches() -> None:
    from report.render import environment

    for cached in (i18n.catalogue, i18n.translator, report_format.babel_locale, environment):
        cached.cache_clear()


def _leaks(text: str, allowed: set[str]) -> list[str]:
    """The words of ``text`` outside every wrapped message (innermost first: messages nest)."""
    previous = None
    while previous != text:
        previous, text = text, _INNERMOST.sub(" ", text)
    return [w for w in _WORD.findall(text) if w not in NOTATION and w not in allowed]


class _Texts(HTMLParser):
    """Visible text and reader-facing attributes, without what the report quotes as recorded."""

    QUOTED = frozenset({"code", "style", "script"})
    QUOTED_CLASSES = frozenset({"val", "config"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skip: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        for attr in ("alt", "title", "aria-label"):
            if named.get(attr):
                self.texts.append(str(named[attr]))
        classes = set((named.get("class") or "").split())
        if (self._skip or tag in self.QUOTED or classes & self.QUOTED_CLASSES) \
                and tag not in {"br", "wbr", "img", "meta", "link", "col", "hr", "input"}:
            self._skip.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(data)


def _quoted_values(results: Results) -> set[str]:
    """Words of what the results quote as recorded: file, table and column names, identifiers."""
    words: set[str] = set()
    for table in results.data.tables:
        words |= {table.name, table.file, *table.file.split(".")}
    for entry in results.data.cleaning_log:
        words |= set(_WORD.findall(f"{entry.table} {entry.column or ''}"))
    for outlier in results.data.outliers:
        words |= set(_WORD.findall(outlier.table))
    words |= set(_WORD.findall(" ".join(c.name for c in results.model.candidates)))
    words |= set(_WORD.findall(results.model.selected.name))
    words |= set(_WORD.findall(" ".join(results.meta.versions)))
    params = [results.model.selected.params, *(c.params for c in results.model.candidates)]
    for p in params:  # hyperparameters are scikit-learn's identifiers, quoted as the model has them
        words |= set(_WORD.findall(" ".join(f"{k} {v}" for k, v in p.items())))
    return words


def _month_names(lang: str) -> set[str]:
    """Month names come from CLDR (Babel) with the locale, not from the catalogue."""
    months = report_format.babel_locale(lang).months
    return {str(name) for context in months.values() for width in context.values() for name in width.values()}


def test_every_string_of_the_report_comes_from_the_catalogue(results_sample: Results, pseudo_locale: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from report.figures.charts import build_figures
    from report.render import render_html
    from report.structure import pdf_attachments

    drawn: list[str] = []
    save = Figure.savefig

    def recording_savefig(self: Figure, *args: object, **kwargs: object) -> None:
        drawn.extend(t.get_text() for t in self.findobj(Text) if t.get_visible() and t.get_text().strip())
        save(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", recording_savefig)
    figures = build_figures(results_sample, lang=pseudo_locale)
    # with data files left out of the PDF, so that the methodology words them too
    attachments = pdf_attachments([("scores.csv", 61_000_000), ("actions.csv", 130_000_000)], limit_bytes=16 << 20)
    html = render_html(results_sample, lang=pseudo_locale, figures=figures, attachments=attachments)
    assert "actions.csv" in html and drawn, "no chart text was recorded"

    parser = _Texts()
    parser.feed(html)
    allowed = _quoted_values(results_sample) | _month_names(pseudo_locale)
    leaks = {w for text in parser.texts for w in _leaks(text, allowed)}
    contexts = [text for text in parser.texts if _leaks(text, allowed)]
    assert not leaks, f"words not from the catalogue in the HTML: {sorted(leaks)[:40]} in {contexts[:30]}"
    # A value filled into a message is inside its brackets, so the check above cannot see it: a data
    # value (a category, «да»/«нет», a column's raw header) that is not translated would stay Russian
    # in a report made from the English catalogue. Only what the report quotes as recorded may.
    russian = sorted({w for text in parser.texts for w in re.findall(r"[\u0400-\u04FF]+", text)})
    assert not russian, f"Russian words outside the quoted raw values: {russian[:20]}"
    chart_russian = sorted({w for text in drawn for w in re.findall(r"[\u0400-\u04FF]+", text)})
    assert not chart_russian, f"Russian words on the charts: {chart_russian[:20]}"
    chart_leaks = {w for text in drawn for w in _leaks(text, allowed)}
    assert not chart_leaks, f"words not from the catalogue on the charts: {sorted(chart_leaks)[:40]}"


def test_a_missing_key_fails_the_render(results_sample: Results, pseudo_locale: str) -> None:
    from report.render import render_html
    from report.i18n import MissingMessageError
    from tests.report.test_render import tiny_figures

    path = i18n.MESSAGES_DIR / f"{pseudo_locale}.json"
    messages = json.loads(path.read_text(encoding="utf-8"))
    del messages["section.model"]
    path.write_text(json.dumps(messages, ensure_ascii=False), encoding="utf-8")
    _clear_caches()
    with pytest.raises(MissingMessageError, match=r"section\.model"):
        render_html(results_sample, lang=pseudo_locale, figures=tiny_figures(results_sample))
