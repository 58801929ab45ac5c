"""Tests of the HTML report: message catalogues, the Jinja environment, every partial, escaping,
self-containment and the language of the static strings.

The results come from one real analysis run on the project's sample (``results_sample`` in
``tests/conftest.py``). The figures are small SVG assets made here (the real figures are drawn in
``tests/report/test_pdf.py``): these tests are about the HTML around them.
"""

from __future__ import annotations

import html as html_lib
import json
import logging
import re
import typing
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from analysis.actions import ACTION_RULES
from analysis.schema import FEATURES
from analysis.segments import SEGMENTS
from analysis.config import CandidateConfig, CleaningConfig, FeatureGroupsConfig, ReportConfig
from analysis.results import RuleEvidence
from analysis.results import (
    Candidate,
    Comparison,
    FeatureInfo,
    EditDistanceNote,
    ImplicitDuplicatesNote,
    InactiveNote,
    NewCategoryNote,
    OutlierNote,
    TooManyRowsSkip,
    OutlierInfo,
    Results,
)
from analysis.results import TestResult as _TestResult  # aliased: pytest would try to collect it
from report.env import TEMPLATES_DIR, make_environment, make_filters
from report.format import babel_locale, fmt_number
from report.i18n import LANGS, MESSAGES_DIR, MissingMessageError, catalogue, plural_form, segment_title, translator
from report.structure import DataSourceKind
from report.render import (
    CSS_PATH,
    GLOSSARY_TERMS,
    SECTIONS,
    build_context,
    environment,
    expected_figure_keys,
    render_html,
    view_model,
)

ROOT = Path(__file__).resolve().parents[2]
NBSP = "\u00a0"
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
PAYLOAD = "<script>alert(1)</script>"

from report.figures.charts import FigureAsset  # noqa: E402 - after the constants above


def tiny_figures(results: Results, *, alt: str = "figure") -> dict[str, FigureAsset]:
    """A light SVG asset for every key the report shows."""
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="160mm" height="40mm" viewBox="0 0 160 40">'
           '<rect x="1" y="1" width="158" height="38" fill="#eef2f6" stroke="#9aa5b1"/></svg>')
    return {k: FigureAsset(key=k, svg=svg, png=None, alt=f"{alt} {k}", width_cm=16.0)
            for k in expected_figure_keys(results)}


def comparison_for(results: Results) -> Comparison:
    """A month-over-month comparison consistent with ``results`` (previous month made up)."""
    keys = [s.key for s in results.segments.segments]
    return Comparison(
        previous_period="2026-09",
        customers_matched=results.data.n_customers_analysed - 20,
        customers_new=20,
        customers_gone=31,
        segment_transitions={a: {b: (40 if a == b else 3) for b in keys} for a in keys},
        declined_share=(0.35, results.data.declined_share),
        roc_auc=(0.91, results.model.test.roc_auc),
        segment_sizes={s.key: (s.n_customers + 5, s.n_customers) for s in results.segments.segments},
        profit_at_risk=(1800.0, results.segments.total_profit_at_risk),
        psi={"revenue_current": 0.04, "minutes_prev": 0.27},
        psi_flagged=("minutes_prev",),
        psi_threshold=0.2,
    )


@pytest.fixture(scope="module")
def results(results_sample: Results) -> Results:
    return results_sample


@pytest.fixture(scope="module")
def figures(results: Results) -> dict[str, FigureAsset]:
    return tiny_figures(results)


@pytest.fixture(scope="module")
def html_ru(results: Results, figures: dict[str, FigureAsset]) -> str:
    return render_html(results, lang="ru", figures=figures)


@pytest.fixture(scope="module")
def html_en(results: Results, figures: dict[str, FigureAsset]) -> str:
    return render_html(results, lang="en", figures=figures)


# ---------------------------------------------------------------------------- catalogues
def _placeholders(message: object) -> set[str]:
    texts = message.values() if isinstance(message, dict) else [message]
    return {name for text in texts for name in re.findall(r"{(\w+)}", str(text))}


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    ru = json.loads((MESSAGES_DIR / "ru.json").read_text(encoding="utf-8"))
    en = json.loads((MESSAGES_DIR / "en.json").read_text(encoding="utf-8"))
    assert set(ru) == set(en), f"only ru: {sorted(set(ru) - set(en))}; only en: {sorted(set(en) - set(ru))}"
    for key in ru:
        assert isinstance(ru[key], dict) == isinstance(en[key], dict), key
        assert _placeholders(ru[key]) == _placeholders(en[key]), key
        if isinstance(ru[key], dict):
            # exactly the CLDR plural categories of each locale (Babel's rules pick among them)
            assert set(ru[key]) == set(babel_locale("ru").plural_form.tags) | {"other"}, key
            assert set(en[key]) == set(babel_locale("en").plural_form.tags) | {"other"}, key
        assert ru[key] and en[key], key


def test_english_catalogue_has_no_cyrillic() -> None:
    for key, message in catalogue("en").items():
        texts = message.values() if not isinstance(message, str) else [message]
        for text in texts:
            assert not CYRILLIC.search(text), (key, text)


def _literal_values(model: type, field: str) -> tuple[str, ...]:
    annotation = model.model_fields[field].annotation  # type: ignore[attr-defined]
    return typing.get_args(annotation)


#: Values of data-derived message keys (``tx(prefix, value)`` and ``t(prefix ~ value)``).
def _dynamic_keys() -> set[str]:
    actions = set(re.findall(r'action="(\w+)"', "\n".join(
        p.read_text(encoding="utf-8") for p in (ROOT / "analysis").glob("*.py"))))
    actions |= {"normalise_case", "fix_typo", "cap_outlier", "drop_outlier_customer"}
    values = {
        "action": actions,
        "policy": set(_literal_values(CleaningConfig, "outlier_policy")) | set(_literal_values(OutlierInfo, "policy")),
        "kind": set(_literal_values(FeatureInfo, "kind")),
        "group": set(FeatureGroupsConfig().as_dict()),
        "test": set(_literal_values(_TestResult, "test")),
        "effect": set(_literal_values(_TestResult, "effect_name")),
        "magnitude": set(_literal_values(_TestResult, "magnitude")),
        "family": set(_literal_values(CandidateConfig, "family")),
        "output": {"probability", "log_odds", "decision_function"},
        "explainer": {"TreeExplainer", "LinearExplainer", "PermutationExplainer"},
        "stage": {"load_validate_clean", "eda", "correlation", "model", "segments", "shap", "scores", "load",
                  "validate", "clean", "model_selection", "refit", "scoring", "evaluation", "shap_values",
                  "permutation", "actions"},
        "section": {key for key, _, _ in SECTIONS},
        "class": {"declined", "stable"},
        "segment": {key for key, _, _ in SEGMENTS},
        "feature": {*FEATURES, "profit", "activity", "id", "period", "revenue", "minutes"},
        "cleaning.note": {n.model_fields["key"].default for n in (EditDistanceNote, NewCategoryNote,
                                                                   ImplicitDuplicatesNote, InactiveNote, OutlierNote)},
    }
    keys = {f"{prefix}.{value}" for prefix, vals in values.items() for value in vals}
    keys |= {f"comparison.metric_{k}" for k in ("declined_share", "roc_auc", "profit_at_risk")}
    keys |= {f"segments.rule_{risk}_{value}" for risk in ("high", "low") for value in ("high", "low")}
    keys |= {f"segments.rounding_{part}" for part in ("profit", "share")}
    keys |= {f"glossary.{term}.{part}" for term in GLOSSARY_TERMS for part in ("term", "text")}
    keys |= {f"action.{rule.key}.{part}" for rule in ACTION_RULES for part in ("title", "text")}
    keys |= {"action.monitor.text"}
    keys |= {f"rule.measure.{m}" for m in _literal_values(RuleEvidence, "effect_measure")}
    keys |= {f"rule.blocked.{b}" for b in ("separation", "model", "value")}
    keys |= {f"summary.effects_none.{w}" for w in ("previous", "actions")}
    keys |= {f"money.unit.{u}" for u in _literal_values(ReportConfig, "money_unit")}
    keys |= {f"level.{c.level}" for rule in ACTION_RULES for c in rule.conditions if c.level}
    keys |= {f"method.data_source.{kind}" for kind in typing.get_args(DataSourceKind)}
    return keys


def _template_sources() -> list[tuple[Path, str]]:
    paths = sorted(TEMPLATES_DIR.rglob("*.html")) + [ROOT / "report" / p for p in ("env.py", "render.py", "texts.py")]
    return [(p, p.read_text(encoding="utf-8")) for p in paths]


def test_every_message_key_used_exists() -> None:
    static = {
        (path.name, key)
        for path, text in _template_sources()
        for key in re.findall(r"""\bt\(\s*["']([\w.]+)["']\s*[,)]""", text)
    }
    assert len(static) > 150
    for lang in LANGS:
        messages = catalogue(lang)
        missing = sorted(f"{name}: {key}" for name, key in static if key not in messages)
        assert not missing, f"{lang}: {missing}"
        missing_dynamic = sorted(k for k in _dynamic_keys() if k not in messages)
        assert not missing_dynamic, f"{lang}: {missing_dynamic}"


def test_every_catalogue_key_is_used() -> None:
    """No dead message: every key is named in the code, the templates or report.qmd, built from a
    prefix there (``f"chart.{key}"``, ``"section." ~ key``), or one of :func:`_dynamic_keys`
    (the Quarto metadata's words are checked against their keys in test_quarto)."""
    paths = [p for p in TEMPLATES_DIR.rglob("*") if p.is_file() and p.suffix not in (".json", ".css")]
    paths += [*(ROOT / "report").rglob("*.py"), ROOT / "report.qmd"]
    text = "\n".join(p.read_text(encoding="utf-8") for p in paths)
    literals = set(re.findall(r"""["']([\w.-]+)["']""", text))
    prefixes = set(re.findall(r"""f["']([\w.]+\.)\{""", text)) | set(re.findall(r"""["']([\w.]+\.)["']\s*[~+]""", text))
    quarto = {"report.subtitle", "table.label", "section.label"}

    def used(key: str) -> bool:
        # charts and alt texts name their messages without the "chart."/"alt." of their helpers
        names = [key] + [key[len(p):] for p in ("chart.", "alt.") if key.startswith(p)]
        return (key.startswith("_") or key in quarto or any(n in literals for n in names)
                or any(n.startswith(p) for n in names for p in prefixes))

    for lang in LANGS:
        unused = sorted(k for k in catalogue(lang) if not used(k) and k not in _dynamic_keys())
        assert not unused, f"{lang}: {unused}"


def test_dynamic_key_prefixes_are_all_known() -> None:
    """Every prefix a template builds a message key from is covered by :func:`_dynamic_keys`."""
    dynamic = _dynamic_keys()
    tx_prefixes: set[str] = set()
    concatenated: set[str] = set()
    for _, text in _template_sources():
        tx_prefixes |= set(re.findall(r"""\btx\(\s*["']([\w.]+)["']""", text))
        concatenated |= set(re.findall(r"""\bt\(\s*["']([\w.]+)["']\s*~""", text))
    assert tx_prefixes and concatenated
    for prefix in tx_prefixes:
        assert any(k.startswith(prefix + ".") for k in dynamic), prefix
    for prefix in concatenated:
        assert any(k.startswith(prefix) for k in dynamic), prefix


def test_templates_have_no_cyrillic_outside_the_catalogues() -> None:
    for path in [*TEMPLATES_DIR.rglob("*.html"), TEMPLATES_DIR / "report.css"]:
        assert not CYRILLIC.search(path.read_text(encoding="utf-8")), path


def test_translator() -> None:
    t = translator("ru")
    assert t("section.data") == "Данные и очистка"
    assert translator("en")("section.data") == "Data and cleaning"
    assert t("rec.audience", n="1", count=1) == "1 клиент"
    assert t("rec.audience", n="3", count=3) == "3 клиента"
    assert t("rec.audience", n="11", count=11) == "11 клиентов"
    assert translator("en")("rec.audience", n="1", count=1) == "1 customer"
    with pytest.raises(MissingMessageError):
        t("no.such.key")
    with pytest.raises(TypeError):
        t("rec.audience", n="2")
    with pytest.raises(ValueError, match="unsupported report language 'de'"):
        translator("de")
    assert ([plural_form(n, "ru") for n in (1, 2, 5, 11, 21, 22, 112)]
            == ["one", "few", "many", "many", "one", "few", "many"])


# ------------------------------------------------------------------------------- filters
def test_formatting_filters_follow_the_locale() -> None:
    ru, en = make_filters("ru"), make_filters("en")
    assert ru["num"](0.93, 2) == "0,93" and en["num"](0.93, 2) == "0.93"
    assert ru["num"](1297) == f"1{NBSP}297" and en["num"](1297) == "1,297"
    assert ru["pct"](0.38) == f"38{NBSP}%" and en["pct"](0.38) == "38%"
    assert ru["money"](1988.56) == f"1{NBSP}989" and en["money"](1988.56) == "1,989"
    assert ru["pval"](0.0001) == f"<{NBSP}0,001" and en["pval"](0.0123) == "0.012"
    assert ru["signed"](-0.0351) == "−0,035" and en["signed"](0.1617) == "+0.162" and en["signed"](-0.5, 1) == "−0.5"
    assert ru["period"]("2026-10") == "октябрь 2026" and en["period"]("2026-10") == "October 2026"
    assert ru["date"]("2026-10-31") == "31 октября 2026 г." and en["date"]("2026-10-31") == "31 October 2026"
    assert ru["scalar"](True) == "да" and en["scalar"](None) == "—" and ru["scalar"](0.25) == "0,25"
    assert ru["scalar"](("a", "b")) == "a, b" and en["scalar"](20000) == "20,000"
    assert ru["datum"]("4472.0") == f"4{NBSP}472" and en["datum"]("премиум") == "премиум"
    assert ru["evidence"](0.4921, "share") == f"49{NBSP}%" and en["evidence"](0.5145, "ratio") == "0.51× the others"
    assert ru["pp"](0.015) == f"+1,5 п.{NBSP}п." and en["cmp"](">=") == "≥"
    assert ru["feature_label"]("promo_share") == "Доля акционных покупок"
    assert en["feature_label"]("promo_share") == "Share of promo purchases"


def test_environment_is_strict_and_autoescaping() -> None:
    env = make_environment(lang="en")
    assert env.autoescape is not False
    with pytest.raises(UndefinedError):
        env.from_string("{{ missing }}").render()
    assert env.from_string("{{ x }}").render(x=PAYLOAD) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert env.autoescape("partials/data.html") is True and env.autoescape("report.html") is True
    assert env.globals["t"]("section.model") == "Model comparison and selection"


# ------------------------------------------------------------------------------ partials
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("key", "template"), [(k, tpl) for k, tpl, _ in SECTIONS])
def test_each_partial_renders_alone(results: Results, figures: dict, key: str, template: str, lang: str) -> None:
    if key == "comparison":
        results = results.model_copy(update={"comparison": comparison_for(results)})
    context = build_context(results, lang=lang, figures=figures)
    out = environment(lang).get_template(template).render(context)
    assert f'id="{key}"' in out
    t = translator(lang)
    if key not in ("summary", "toc"):
        assert t(f"section.{key}") in html_lib.unescape(out)


def test_comparison_section_only_with_a_comparison(results: Results, figures: dict, html_ru: str) -> None:
    assert 'id="comparison"' not in html_ru and 'href="#comparison"' not in html_ru
    with_comparison = results.model_copy(update={"comparison": comparison_for(results)})
    out = render_html(with_comparison, lang="ru", figures=figures)
    assert 'id="comparison"' in out and 'href="#comparison"' in out
    text = html_lib.unescape(out)
    assert "сентябрь 2026" in text and "PSI" in text
    titles = [segment_title(s.key, "ru") for s in results.segments.segments]
    assert all(title in text for title in titles)


def test_sections_in_order(results: Results, html_ru: str, html_en: str) -> None:
    expected = [k for k, _, _ in SECTIONS if k != "comparison"]
    for out, lang in ((html_ru, "ru"), (html_en, "en")):
        ids = re.findall(r'<(?:section|nav) id="([\w-]+)"', out)
        assert ids == expected
        t = translator(lang)
        headings = [html_lib.unescape(re.sub(r"<[^>]+>", "", h)).strip()
                    for h in re.findall(r'<h1 class="section-title">(.*?)</h1>', out, flags=re.S)]
        numbered = [k for k in expected if k not in ("summary", "toc")]
        assert headings == [f"{i}. {t(f'section.{k}')}" for i, k in enumerate(numbered, start=1)]
        toc = re.findall(r'<li><a href="#([\w-]+)">', out)
        assert toc == numbered


def test_page_one_has_the_executive_summary(results: Results, html_ru: str) -> None:
    # (a spaced dash is printed after a no-break space, so that no line starts with it)
    page1 = html_lib.unescape(html_ru.split('<nav id="toc"', 1)[0]).replace("\u00a0— ", " — ")
    f = make_filters("ru")
    priority = results.segment(results.segments.priority)
    assert f["period"](results.meta.period) in page1
    assert f["num"](results.data.n_customers_analysed) in page1
    assert f["pct"](results.segments.share_high_risk) in page1
    assert f["money"](results.segments.total_profit_at_risk) in page1
    assert segment_title(priority.key, "ru") in page1
    t = translator("ru")
    actions = view_model(results).top_actions
    assert 1 <= len(actions) <= results.meta.config.actions.top_actions
    assert [a.action for a in actions] == list(results.actions.top)
    values = [a.expected_value for a in actions]
    assert values == sorted(values, reverse=True) and all(v > 0 for v in values)
    for action in actions:
        assert t(f"action.{action.action}.title") in page1
        assert f["money"](action.expected_value, 1) in page1 and f["num"](action.treatment) in page1
    # fact vs forecast, and the upper bound beside the expected loss
    assert t("summary.fact_forecast", risk=f["pct"](results.segments.share_high_risk),
             fact=f["pct"](results.data.declined_share)) in page1
    assert "верхняя граница" in page1 and f["money"](results.segments.total_expected_loss) in page1
    assert t("summary.effects_none.previous") in page1


def test_every_figure_is_embedded_with_caption_and_alt(results: Results, figures: dict, html_ru: str) -> None:
    for key in expected_figure_keys(results):
        block = re.search(rf'<figure class="fig[^"]*" id="fig-{re.escape(key)}">(.*?)</figure>', html_ru, flags=re.S)
        assert block, key
        assert f'alt="figure {key}"' in block.group(1)
        assert '<img src="data:image/svg+xml;base64,' in block.group(1)
        assert "<figcaption>" in block.group(1)
    # the EDA as two sets of small multiples, and one row of the summary per feature
    assert re.findall(r'id="fig-eda-[a-z]+"', html_ru) == ['id="fig-eda-numeric"', 'id="fig-eda-categorical"']
    rows = re.findall(r'<tr id="eda-([a-z_0-9]+)"', html_ru)
    assert sorted(rows) == sorted(e.feature for e in (*results.eda.numeric, *results.eda.categorical))


def test_missing_figures_are_visible_and_logged(results: Results, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="report.render"):
        out = render_html(results, lang="en", figures={})
    assert out.count('class="fig-missing"') == len(expected_figure_keys(results))
    assert "figures missing" in caplog.text


def test_html_is_self_contained(results: Results, html_ru: str, html_en: str) -> None:
    for out, lang in ((html_ru, "ru"), (html_en, "en")):
        assert out.startswith("<!DOCTYPE html>")
        assert f'<html lang="{lang}">' in out
        assert re.search(r"<title>[^<]+</title>", out)
        assert f'<meta name="dcterms.created" content="{results.meta.report_date}">' in out
        assert f'<meta name="dcterms.modified" content="{results.meta.report_date}">' in out
        for pattern in (r'src\s*=\s*"?https?:', r'href\s*=\s*"?https?:', r"url\(\s*['\"]?https?:", r"@import",
                        r"<script", r"<link\b", r"<[^>]*\son\w+\s*=", r'src="(?!data:)', r'href="(?!#)'):
            assert not re.search(pattern, out, flags=re.I), pattern
        assert out.count("<style>") == 1 and "@page" in out


def _with_payload(results: Results) -> Results:
    """``results`` with a script payload in data-derived strings deep inside."""
    data = results.data
    log = list(data.cleaning_log)
    entry = log[0] if log else None
    if entry is None:
        from analysis.results import CleaningEntry

        entry = CleaningEntry(table="market_file", column="x", action="fix_typo", **{"from": "a"}, to="b", rows=1)
        log = [entry]
    log[0] = entry.model_copy(update={"from_": PAYLOAD, "column": PAYLOAD})
    cat = results.eda.categorical[0]
    levels = (cat.levels[0].model_copy(update={"level": PAYLOAD}), *cat.levels[1:])
    eda = results.eda.model_copy(update={"categorical": (cat.model_copy(update={
        "levels": levels}), *results.eda.categorical[1:])})
    cand = results.model.candidates[0]
    model = results.model.model_copy(update={"candidates": (
        Candidate(**{**cand.model_dump(), "params": {"k": PAYLOAD}}), *results.model.candidates[1:])})
    return results.model_copy(update={
        "data": data.model_copy(update={"cleaning_log": tuple(log)}),
        "eda": eda, "model": model,
    })


@pytest.mark.parametrize("lang", LANGS)
def test_data_strings_are_escaped(results: Results, lang: str) -> None:
    hostile = _with_payload(results)
    out = render_html(hostile, lang=lang, figures=tiny_figures(hostile, alt=PAYLOAD))
    assert PAYLOAD not in out
    assert "<script" not in out.lower()
    assert out.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 8


def test_english_static_strings_have_no_cyrillic(results: Results, html_en: str) -> None:
    """Only data values (category names, raw column names, quoted levels …) may be Cyrillic."""
    data_strings: set[str] = set()

    def collect(node: object) -> None:
        if isinstance(node, str):
            if CYRILLIC.search(node):
                data_strings.add(node)
        elif isinstance(node, dict):
            for k, v in node.items():
                collect(k)
                collect(v)
        elif isinstance(node, (list, tuple)):
            for v in node:
                collect(v)

    collect(results.model_dump(mode="json", by_alias=True))
    text = html_lib.unescape(re.sub(r"<style>.*?</style>", "", html_en, flags=re.S))
    text = re.sub(r"<[^>]+>", "\n", text.replace("<wbr>", ""))
    for value in sorted(data_strings, key=len, reverse=True):
        text = text.replace(value, "")
    leftovers = sorted({line.strip() for line in text.splitlines() if CYRILLIC.search(line)})
    assert not leftovers, leftovers[:10]
    assert CYRILLIC.search(html_en)  # the data (e.g. category names) do stay in Russian


def test_russian_report_uses_the_russian_catalogue(html_ru: str) -> None:
    text = html_lib.unescape(html_ru)
    for key in ("section.data", "section.model", "appendix.glossary", "summary.title"):
        assert translator("ru")(key) in text
    assert "Data and cleaning" not in text


def test_render_is_deterministic(results: Results, figures: dict, html_ru: str) -> None:
    assert render_html(results, lang="ru", figures=figures) == html_ru


def test_view_model_is_pure_and_ordered(results: Results) -> None:
    vm = view_model(results)
    assert vm == view_model(results)
    assert [f.info.name for f in vm.features] == [
        f.name for f in results.data.features
        if f.name in {e.feature for e in (*results.eda.numeric, *results.eda.categorical)}]
    effects = [abs(f.eda.test.effect_size) for f in vm.eda_overview]
    assert effects == sorted(effects, reverse=True)
    aucs = [c.cv_roc_auc_mean for c in vm.candidates if not c.skipped]
    assert aucs == sorted(aucs, reverse=True)
    assert vm.priority.segment.key == results.segments.priority
    assert abs(sum(s.risk_share for s in vm.segments) - 1) < 0.02
    assert all(len(s.contrasts) <= 5 and len(s.categories) <= 3 for s in vm.segments)
    assert vm.config_changed == ()  # the sample is analysed with the defaults
    assert vm.config_size > 100
    assert "candidates" in dict(vm.candidate_sets)
    assert vm.comparison is None


def test_configuration_lists_only_the_settings_off_their_defaults(results: Results, figures) -> None:  # noqa: ANN001
    from analysis.config import changed_settings
    from analysis.results import SettingChange

    config = results.meta.config
    changed = config.model_copy(update={
        "seed": config.seed + 1,
        "segments": config.segments.model_copy(update={"risk_threshold": 0.6}),
        "cache": config.cache.model_copy(update={"max_entries": config.cache.max_entries + 1})})
    recorded = tuple(SettingChange(path=p, value=v, default=d) for p, v, d in changed_settings(changed))
    edited = results.model_copy(update={"meta": results.meta.model_copy(
        update={"config": changed, "settings_changed": recorded})})
    vm = view_model(edited)
    assert vm.config_changed is not None
    assert [(r.path, r.value, r.default) for r in vm.config_changed] == [
        ("seed", config.seed + 1, config.seed), ("segments.risk_threshold", 0.6, config.segments.risk_threshold)]
    assert vm.config_size == view_model(results).config_size  # the cache's limits are not settings of the run
    for lang, sentence in (("ru", "отличаются 2 параметра"), ("en", "2 settings differ from the defaults")):
        html = render_html(edited, lang=lang, figures=figures)
        section = html[html.index('id="configuration"'):html.index('id="provenance"')]
        assert sentence in section and "segments.<wbr>risk_<wbr>threshold" in section
        assert "model.<wbr>cv_<wbr>folds" not in section  # a setting at its default is in results.json only
        assert "results.json" in section
    plain = render_html(results, lang="en", figures=figures)
    section = plain[plain.index('id="configuration"'):plain.index('id="provenance"')]
    assert "None of them was changed: all are at the defaults of version" in section
    assert "<table" not in section.split("<h3")[0]  # no table of changed settings: only the candidate sets'
    # results written before the changes were recorded: the report claims nothing about defaults
    unknown = results.model_copy(update={"meta": results.meta.model_copy(update={"settings_changed": None})})
    html = render_html(unknown, lang="en", figures=figures)
    section = html[html.index('id="configuration"'):html.index('id="provenance"')]
    assert "results.json" in section and "default" not in section.split("<h3")[0]


def test_candidates_row_budgets_are_counts_as_the_report_writes_them(html_ru: str, html_en: str) -> None:
    """The candidate tables' «max rows» column formats its budgets as every count of the report
    (5,000 and 20,000 in English, 5 000 and 20 000 in Russian), not as raw settings."""
    from analysis.config import Config

    budgets = [c.max_rows for c in Config().model.candidates if c.max_rows is not None]
    assert any(b < 10_000 for b in budgets)  # a budget of four digits, which the settings' format leaves bare
    for html, lang in ((html_en, "en"), (html_ru, "ru")):
        section = html[html.index('id="configuration"'):html.index('id="provenance"')]
        for budget in budgets:
            assert f'<td class="num">{fmt_number(budget, lang)}</td>' in section, (lang, budget)


def test_css_defines_the_print_layout() -> None:
    css = (TEMPLATES_DIR / "report.css").read_text(encoding="utf-8")
    assert ":root" in css and "@page" in css and "size: A4" in css
    assert "counter(page)" in css and "counter(pages)" in css and "string-set" in css
    assert "target-counter(attr(href), page)" in css
    assert "break-before: page" in css and "break-inside: avoid" in css
    assert "</" not in css


def test_optional_branches_render(results: Results, figures: dict) -> None:
    """Sampled correlations and SHAP, a skipped candidate, no cleaning, no outliers, an uncalibrated
    model and a segment without recommendations all render (StrictUndefined would fail otherwise)."""
    skipped = Candidate(name="SVC", family="svc", params={}, cv_roc_auc_mean=None, cv_roc_auc_std=None,
                        fit_seconds=0.0, n_configurations=0, skipped=True, note=TooManyRowsSkip(max_rows=20_000))
    seg = results.segments.segments[-1]
    variant = results.model_copy(update={
        "data": results.data.model_copy(update={"cleaning_log": (), "outliers": ()}),
        "correlation": results.correlation.model_copy(update={"sample_rows": 500, "significance": None}),
        "importance": results.importance.model_copy(update={"sampled": True, "permutation_rows": 100}),
        "model": results.model.model_copy(update={
            "candidates": (*results.model.candidates, skipped),
            "selection_rows": results.model.n_train // 2,
            "selected": results.model.selected.model_copy(update={"calibrated": False}),
        }),
        "segments": results.segments.model_copy(update={"segments": (
            *results.segments.segments[:-1], seg)}),
        "actions": results.actions.model_copy(update={"rules": tuple(
            r.model_copy(update={"outcomes": ()}) if r.segment == seg.key else r for r in results.actions.rules)}),
        "conclusions": (),
    })
    for lang in LANGS:
        text = html_lib.unescape(render_html(variant, lang=lang, figures=figures))
        t = translator(lang)
        f = make_filters(lang)
        for key, kwargs in (
            ("data.no_cleaning", {}), ("data.no_outliers", {}), ("corr.no_significance", {}),
            ("action.monitor.text", {}), ("conclusions.none", {}),
            ("corr.sample_note", {"n": f["num"](500), "total": f["num"](results.correlation.n_rows)}),
            ("model.skipped", {"note": t("model.skip.too_many_rows", max_rows=f["num"](20_000))}),
            ("shap.permutation_sampled", {"n": f["num"](100), "total": f["num"](results.model.test.n)}),
        ):
            assert t(key, **kwargs) in text, key
        im = results.importance  # the beeswarm shows a sample of the explained customers, and says so
        assert 0 < im.beeswarm_points < im.n_rows
        assert t("shap.beeswarm_sampled", n=f["num"](im.beeswarm_points), total=f["num"](im.n_rows)) in text
        assert t("model.not_calibrated", raw=f["num"](results.model.selected.cv_brier_raw, 4),
                 cal=f["num"](results.model.selected.cv_brier_calibrated, 4)) in text
        # the customers outside the exact SHAP sample: approximate reasons from a tree model, none otherwise
        assert (variant.importance.explainer == "TreeExplainer") == variant.importance.rest_approximated
        assert t("shap.rest_approximate" if variant.importance.rest_approximated else "shap.rest_none") in text
        other = variant.model_copy(update={"importance": variant.importance.model_copy(
            update={"explainer": "LinearExplainer"})})
        assert t("shap.rest_none") in html_lib.unescape(render_html(other, lang=lang, figures=figures))


@pytest.mark.parametrize(("encodings", "kind"), [
    (("utf-8", "utf-8", "cp1251", "utf-8-sig"), "csv"),
    (("parquet",) * 4, "parquet"),
    (("postgresql",) * 4, "postgresql"),
    (("utf-8", "parquet", "utf-8", "parquet"), "mixed"),
])
def test_method_text_names_the_recorded_source(results: Results, figures: dict[str, FigureAsset],
                                               encodings: tuple[str, ...], kind: str) -> None:
    """The methodology's first sentence follows what the results record each table was read from
    (``data.tables[].encoding``): «CSV» only for CSV files."""
    tables = tuple(t.model_copy(update={"encoding": e}) for t, e in zip(results.data.tables, encodings, strict=True))
    variant = results.model_copy(update={"data": results.data.model_copy(update={"tables": tables})})
    assert view_model(variant).source_kind == kind
    for lang in LANGS:
        text = html_lib.unescape(render_html(variant, lang=lang, figures=figures)).replace(NBSP, " ")
        t = translator(lang)
        sentence = t("method.data_source." + kind)
        (methodology,) = [p for p in re.findall(r"<p>(.*?)</p>", text, re.S) if sentence in p]
        whole = t("method.data", source=sentence, k="", ratio="", policy="", distance="")
        assert methodology.startswith(whole[:whole.index(sentence) + len(sentence)])  # «Данные. <sentence>»
        others = [k for k in typing.get_args(DataSourceKind) if k != kind]
        assert not any(t("method.data_source." + other) in text for other in others), lang
        assert ("CSV" in methodology) == (kind in ("csv", "mixed")), methodology


def test_css_hyphenates_by_language_and_never_breaks_inside_a_word() -> None:
    """Words break only at the language's hyphenation points (``hyphens: auto`` with <html lang>);
    no rule lets a line break inside a word without a hyphen, except for a hash (not a word)."""
    css = CSS_PATH.read_text(encoding="utf-8")
    body = re.search(r"(?ms)^body \{(.*?)\}", css).group(1)
    assert "hyphens: auto" in body and "overflow-wrap: normal" in body
    for rule in re.findall(r"(?ms)^([^{}@/]+)\{([^{}]*)\}", css):
        selector, block = rule
        if re.search(r"overflow-wrap:\s*(break-word|anywhere)|word-break:\s*break-(all|word)", block):
            assert "hash" in selector, selector.strip()
    assert '<html lang="{{ lang }}">' in (TEMPLATES_DIR / "base.html").read_text(encoding="utf-8")


def test_compiled_templates_are_kept_between_processes(tmp_path: Path) -> None:
    from unittest import mock

    from jinja2 import Environment

    from report.env import TemplateBytecodeCache

    folder = tmp_path / "cache" / "templates" / "0.1.0+abc"  # one folder per code version
    cache = TemplateBytecodeCache.at(folder)
    assert cache is not None
    make_environment(lang="ru", bytecode_cache=cache).get_template("report.html")
    assert any(folder.iterdir())
    fresh = make_environment(lang="ru", bytecode_cache=TemplateBytecodeCache.at(folder))  # as in a new process
    with mock.patch.object(Environment, "compile", side_effect=AssertionError("compiled again")):
        fresh.get_template("report.html")
    # a folder that cannot be made or written is no error: the templates are compiled in memory
    (tmp_path / "file").write_text("")
    assert TemplateBytecodeCache.at(tmp_path / "file" / "0.1.0") is None
    gone = TemplateBytecodeCache.at(tmp_path / "other" / "gone")
    assert gone is not None
    (tmp_path / "other" / "gone").rmdir()
    make_environment(lang="en", bytecode_cache=gone).get_template("report.html")
    # a file cut short is compiled again (and rewritten), not an error
    for path in folder.iterdir():
        path.write_bytes(path.read_bytes()[:7])
    html = make_environment(lang="ru", bytecode_cache=TemplateBytecodeCache.at(folder)).get_template("report.html")
    assert html is not None and all(path.stat().st_size > 7 for path in folder.iterdir())
    # another code version gets a folder of its own; the old version's is removed
    newer = TemplateBytecodeCache.at(folder.parent / "0.2.0+def")
    assert newer is not None and [p.name for p in folder.parent.iterdir()] == ["0.2.0+def"]
