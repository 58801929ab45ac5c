"""Tests of :mod:`report.delivery`'s texts: the email's subject and both bodies come from the templates
(``email_summary.jinja``, ``email.txt``, ``email.html``) and the catalogue, for the sample's results."""

from __future__ import annotations

import email
import email.policy
import re
from html.parser import HTMLParser

import pytest

from analysis.results import Results
from report.delivery import SCATTER_CID, email_texts
from report.email import InlineImage, compose_message
from report.env import make_environment
from report.i18n import translator

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_email_texts_come_from_the_catalogue(results_sample: Results, lang: str) -> None:
    results = results_sample
    t = translator(lang, money_unit=results.meta.config.report.money_unit)
    env = make_environment(lang=lang, money_unit=results.meta.config.report.money_unit)
    period = env.filters["period"](results.meta.period)
    subject, text, html = email_texts(results, lang=lang)

    assert subject == t("email.subject", period=period)
    assert "\u00a0" not in subject  # the header is the catalogue's text, not the printed one
    lines = text.splitlines()
    assert lines[0].replace("\u00a0", " ") == subject and lines[1] == ""
    assert text.replace("\u00a0—", " —").endswith(f"{t('email.attached')}\n")  # printed: no-break before a dash
    n_customers = env.filters["num"](results.data.n_customers_analysed)
    roc_auc = env.filters["num"](results.model.test.roc_auc, 3)
    for label, value in ((t("kpi.analysed"), n_customers), (t("email.roc_auc"), roc_auc)):
        assert f"- {label}: {value}" in lines
        assert value in html and label in html
    actions = [line for line in lines if re.match(r"\d\. ", line)]
    assert len(actions) == len(results.actions.top) > 0
    for line, key in zip(actions, results.actions.top, strict=True):
        assert t(f"action.{results.actions.plan(key).action}.title") in line
    assert t("email.priority") in text and t("email.priority") in html
    # Plain text: nothing escaped for HTML, no placeholder left.
    assert not re.search(r"&(amp|lt|gt|quot|#\d+);|[{}<>]", text)
    assert f'src="cid:{SCATTER_CID}"' in html and "<script" not in html.lower()
    if lang == "en":
        assert not _CYRILLIC.search(subject + text), "the English email must not print Russian"


def test_report_email_composes_and_parses_back(results_sample: Results) -> None:
    subject, text, html = email_texts(results_sample, lang="ru")
    message = compose_message(subject=subject, sender="Отчёты «В один клик» <reports@shop.example>",
                              recipients=["Финансовый директор <cfo@shop.example>"], text=text, html=html,
                              inline_images=[InlineImage(cid=SCATTER_CID, data=b"\x89PNG", subtype="png")])
    raw = message.as_bytes()
    assert raw.isascii() and max(len(line) for line in raw.split(b"\r\n")) <= 76
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == subject
    assert parsed["From"].addresses[0].display_name == "Отчёты «В один клик»"
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == text
    assert parsed.get_body(("html",)).get_content().replace("\r\n", "\n") == html


class _TextNodes(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_email_words_are_all_messages_and_the_text_is_not_escaped(results_sample: Results, lang: str) -> None:
    """email.txt and email.html in a pseudo-locale: every message wrapped in ⟦<&…>⟧. The wrapping
    comes out unescaped in the plain-text part, escaped in the HTML, and no word of either body is
    left outside a message (in the HTML: outside its text nodes' messages)."""
    from report.structure import pdf_attachments, view_model

    env = make_environment(lang=lang, money_unit=results_sample.meta.config.report.money_unit)
    real_t = env.globals["t"]
    real_segment_title = env.filters["segment_title"]  # a catalogue message read by a filter
    real_attached = env.globals["attachments_email_text"]  # …and one worded by report.texts
    env.globals["t"] = lambda key, /, **kwargs: f"⟦<&{real_t(key, **kwargs)}>⟧"
    env.filters["segment_title"] = lambda key: f"⟦<&{real_segment_title(key)}>⟧"
    env.globals["attachments_email_text"] = lambda attachments: f"⟦<&{real_attached(attachments)}>⟧"
    left_out = pdf_attachments([("scores.csv", 61_000_000), ("actions.csv", 1_000)], limit_bytes=16 << 20)
    view = view_model(results_sample, attachments=left_out)
    text = env.get_template("email.txt").render(results=results_sample, view=view, cid=SCATTER_CID)
    assert "⟦<&" in text and not re.search(r"&(amp|lt|gt);", text)
    for line in text.splitlines():
        outside = re.sub(r"⟦.*?⟧", "", line)
        assert not re.search(r"[^\W\d_]{2,}", outside), f"words outside the catalogue: {line!r}"
    html = env.get_template("email.html").render(results=results_sample, view=view, cid=SCATTER_CID)
    assert "⟦&lt;&amp;" in html and "⟦<&" not in html
    nodes = _TextNodes()
    nodes.feed(html)
    for node in nodes.texts:
        outside = re.sub(r"⟦.*?⟧", "", node, flags=re.S)
        assert not re.search(r"[^\W\d_]{2,}", outside), f"words outside the catalogue in the HTML: {node!r}"
