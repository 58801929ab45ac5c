"""Tests of :mod:`report.figures.charts`: the figure set, its formats, texts and layout.

The figures are drawn from the real :class:`~analysis.results.Results` of the project's sample
(the session fixture ``results_sample`` of ``tests/conftest.py``); the whole set is built twice
per module (Russian PNG, English SVG), everything else draws single figures.
"""

from __future__ import annotations

from dataclasses import replace

import base64
import re
import xml.etree.ElementTree as ET

import pytest
from matplotlib._pylab_helpers import Gcf
from matplotlib.figure import Figure
from matplotlib.text import Text

from analysis.results import Results, TooManyRowsSkip
from report.figures import charts, style
from report.figures.charts import FigureAsset, build_figures

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
NAMED = ("ishikawa", "phik", "model-comparison", "roc", "calibration", "confusion", "shap-bar",
         "shap-beeswarm", "shap-segments", "segments-scatter")
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
RDF_RESOURCE = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}resource"


@pytest.fixture(scope="module")
def results(results_sample: Results) -> Results:
    return results_sample


@pytest.fixture(scope="module")
def figures_ru(results: Results) -> dict[str, FigureAsset]:
    """The default set: PNG (fast to render in WeasyPrint)."""
    return build_figures(results, lang="ru")


@pytest.fixture(scope="module")
def figures_en_svg(results: Results) -> dict[str, FigureAsset]:
    """The vector set, with dense point layers rasterised inside the SVG."""
    return build_figures(results, lang="en", vector=True, rasterize_above=200)


def expected_keys(results: Results) -> set[str]:
    keys = {"eda-numeric", "eda-categorical"} | set(NAMED)
    keys |= {f"shap-example-{e.id}" for e in results.importance.examples}
    keys |= {f"segment-{s.key}" for s in results.segments.segments}
    return keys


def texts_of(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def drawn_texts(fig: Figure) -> list[Text]:
    """The texts a draw shows: tick labels only for ticks inside the view limits."""
    tick_labels: set[int] = set()
    shown: list[Text] = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks():
                tick_labels.update({id(tick.label1), id(tick.label2)})
                if lo - 1e-9 <= tick.get_loc() <= hi + 1e-9:
                    shown += [lb for lb in (tick.label1, tick.label2) if lb.get_visible()]
    shown += [t for t in fig.findobj(Text) if id(t) not in tick_labels and t.get_visible()]
    return [t for t in shown if t.get_text().strip()]


# ---------------------------------------------------------------------------------- the set
def test_every_feature_and_chart_has_a_figure(results: Results, figures_ru: dict, figures_en_svg: dict) -> None:
    assert set(figures_ru) == expected_keys(results)
    assert set(figures_en_svg) == set(figures_ru)
    assert len(results.eda.numeric) >= 10 and len(results.eda.categorical) >= 3  # the sample is complete
    for key, asset in figures_ru.items():
        assert asset.key == key
        assert 5.0 <= asset.width_cm <= 16.0


def test_the_report_template_finds_every_figure(results: Results, figures_ru: dict) -> None:
    from analysis.pipeline import Findings
    from report.figures.charts import draw_figure
    from report.figures.jobs import DATA_FIGURE_KEYS, figure_keys
    from report.figures.registry import figure_subjects
    from report.render import expected_figure_keys

    assert set(expected_figure_keys(results)) <= set(figures_ru)
    # the keys the build asks its workers for (without matplotlib) are the figures, in report order
    assert list(figure_keys(results)) == list(figures_ru)
    # the figures drawn while the analysis goes on need only the findings known by then, and are
    # the same figures as those drawn from the results
    findings = Findings(data=results.data, eda=results.eda, correlation=results.correlation)
    assert DATA_FIGURE_KEYS == ("ishikawa", "eda-numeric", "eda-categorical", "phik")
    for key in DATA_FIGURE_KEYS:
        assert draw_figure(findings, key, lang="ru") == figures_ru[key], key
    with pytest.raises(KeyError, match="no figure 'roc'"):
        draw_figure(findings, "roc", lang="ru")
    archived = results.without_measurements()
    modelled = replace(findings, model=archived.model, segments=archived.segments)
    model_keys = [key for _, key, _ in figure_subjects(modelled) if key not in DATA_FIGURE_KEYS]
    assert model_keys == ["model-comparison", "roc", "calibration", "confusion",
                          *(f"segment-{s.key}" for s in results.segments.segments)]
    explained = replace(modelled, importance=archived.importance)
    late = [key for _, key, _ in figure_subjects(explained) if key not in DATA_FIGURE_KEYS and key not in model_keys]
    assert late == ["shap-bar", "shap-beeswarm", "shap-segments",
                    *(f"shap-example-{e.id}" for e in results.importance.examples)]
    for key in (*model_keys, *late):
        assert draw_figure(explained, key, lang="ru") == figures_ru[key], key
    with pytest.raises(KeyError, match="no figure 'shap-bar'"):
        draw_figure(modelled, "shap-bar", lang="ru")
    with pytest.raises(KeyError, match="no figure 'segments-scatter'"):  # its axis needs the results' money unit
        draw_figure(explained, "segments-scatter", lang="ru")


def test_alt_texts_are_in_the_language_and_carry_numbers(figures_ru: dict, figures_en_svg: dict) -> None:
    for key, asset in figures_ru.items():
        assert len(asset.alt) > 40 and CYRILLIC.search(asset.alt), key
        assert not re.search(r"\d\.\d", asset.alt), f"{key}: decimal point in Russian: {asset.alt}"
    for key, asset in figures_en_svg.items():
        assert len(asset.alt) > 40 and not CYRILLIC.search(asset.alt), f"{key}: {asset.alt}"
    assert re.search(r"\d,\d{3}", figures_ru["roc"].alt)  # ROC-AUC with a decimal comma
    assert re.search(r"\d\.\d{3}", figures_en_svg["roc"].alt)
    assert "—" not in figures_ru["model-comparison"].alt  # no missing numbers


# ---------------------------------------------------------------------------------- formats
def test_default_assets_are_png(figures_ru: dict) -> None:
    for key, asset in figures_ru.items():
        assert asset.svg is None and asset.png is not None, key
        assert asset.png.startswith(PNG_SIGNATURE), key
        assert asset.mime == "image/png" and asset.size_bytes == len(asset.png)
        prefix = "data:image/png;base64,"
        uri = asset.data_uri()
        assert uri.startswith(prefix) and base64.b64decode(uri[len(prefix):]) == asset.png
    assert sum(a.size_bytes for a in figures_ru.values()) < 3_000_000


def test_svg_assets_are_self_contained_xml(figures_en_svg: dict) -> None:
    for key, asset in figures_en_svg.items():
        assert asset.png is None and asset.svg is not None, key
        assert asset.data_uri().startswith("data:image/svg+xml;base64,")
        root = ET.fromstring(asset.svg.encode("utf-8"))
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert "file:" not in asset.svg, key
        for element in root.iter():
            for name, value in element.attrib.items():
                if name in (XLINK_HREF, "href"):
                    assert value.startswith(("#", "data:")), f"{key}: external reference {value[:60]}"
                elif name == RDF_RESOURCE:
                    continue  # an identifier in the metadata, never fetched
                else:
                    assert "http:" not in value and "https:" not in value, f"{key}: {name}={value[:60]}"
                    for url in re.findall(r"url\(([^)]*)\)", value):
                        assert url.startswith("#"), f"{key}: {url}"


def test_dense_point_layers_are_rasterised_in_svg(results: Results, figures_en_svg: dict) -> None:
    n_points = sum(len(row) for row in results.importance.beeswarm.shap)
    assert n_points > 2000 and len(results.segments.scatter.probability) > 1000
    for key in ("shap-beeswarm", "segments-scatter"):
        svg = figures_en_svg[key].svg
        assert "<image" in svg and "data:image/png;base64," in svg, key  # the points: one raster layer
        assert svg.count("<use") < 1500, key  # glyphs of the (vector) text only, no marker per point
        assert figures_en_svg[key].size_bytes < 400_000
    assert "<image" not in figures_en_svg["eda-numeric"].svg
    # Below the threshold the points stay vector: one marker each.
    svg = style.to_svg(charts.shap_beeswarm(results.importance, lang="en", rasterize_above=10**9))
    assert svg.count("<use") > n_points


def test_figure_bytes_are_deterministic(results: Results) -> None:
    imp = results.importance
    twice = [
        lambda: style.to_svg(charts.shap_beeswarm(imp, lang="ru", rasterize_above=200)),
        lambda: style.to_png(charts.segments_scatter(results.segments, lang="ru")),
        lambda: style.to_svg(charts.numeric_feature_figure(results.eda.numeric[0], lang="ru")),
        lambda: style.to_png(charts.phik_heatmap(results.correlation, lang="en")),
    ]
    for make in twice:
        assert make() == make()


def test_no_pyplot_state_is_left(figures_ru: dict) -> None:
    assert Gcf.get_num_fig_managers() == 0


def test_asset_without_content_has_no_uri() -> None:
    with pytest.raises(ValueError, match="no content"):
        FigureAsset(key="x", svg=None, png=None, alt="x", width_cm=16).data_uri()


def test_unknown_language_is_refused(results: Results) -> None:
    with pytest.raises(ValueError, match="lang"):
        build_figures(results, lang="de")
    with pytest.raises(ValueError, match="lang"):
        charts.numeric_feature_figure(results.eda.numeric[0], lang="fr")


# ---------------------------------------------------------------------------------- texts
def test_russian_labels_on_the_charts(results: Results) -> None:
    # The report style writes glyphs as paths (no <text> in the SVG), so the labels are checked
    # on the figures' text artists.
    assert style.RC["svg.fonttype"] == "path"
    fishbone = " ".join(texts_of(charts.ishikawa_figure(results, lang="ru")))
    for label in ("Снижение покупательской активности", "Коммуникация с клиентом", "Поведение на сайте",
                  "Страниц за визит"):
        assert label.replace(" ", "") in fishbone.replace("\n", "").replace(" ", ""), label
    item = next(e for e in results.eda.numeric if e.feature == "pages_per_visit")
    eda = texts_of(charts.numeric_feature_figure(item, lang="ru"))
    assert "Снизилась" in eda and "Прежний уровень" in eda and "Страниц за визит" in eda
    assert any("n\u00a0=\u00a0" in t for t in eda)
    english = texts_of(charts.categorical_feature_figure(results.eda.categorical[0], lang="en"))
    assert not any(CYRILLIC.search(t) for t in english), english


def test_numbers_use_the_locale(results: Results) -> None:
    ru = texts_of(charts.phik_heatmap(results.correlation, lang="ru"))
    en = texts_of(charts.phik_heatmap(results.correlation, lang="en"))
    assert any(re.fullmatch(r"0,\d\d", t) for t in ru) and not any(re.fullmatch(r"0\.\d\d", t) for t in ru)
    assert any(re.fullmatch(r"0\.\d\d", t) for t in en)


def test_sampled_scatter_states_the_sample(results: Results) -> None:
    segments = results.segments
    sampled = segments.model_copy(update={"scatter": segments.scatter.model_copy(update={"sampled": True})})
    note = " ".join(texts_of(charts.segments_scatter(sampled, lang="ru")))
    n = len(segments.scatter.probability)
    assert "случайная выборка" in note and f"{n:,}".replace(",", "\u00a0") in note
    assert "выборка" not in " ".join(texts_of(charts.segments_scatter(segments, lang="ru")))


def test_skipped_candidate_is_shown_as_skipped(results: Results) -> None:
    model = results.model
    other = next(c for c in model.candidates if c.name != model.selected.name)
    skipped = other.model_copy(update={"skipped": True, "cv_roc_auc_mean": None, "cv_roc_auc_std": None,
                                       "note": TooManyRowsSkip(max_rows=20_000)})
    changed = model.model_copy(update={"candidates": tuple(skipped if c is other else c for c in model.candidates)})
    texts = texts_of(charts.model_comparison_figure(changed, lang="en"))
    assert "skipped: more than 20,000 training rows" in texts


# ---------------------------------------------------------------------------------- layout
def _kinds(results: Results) -> dict[str, object]:
    imp = results.importance
    longest = max(results.eda.categorical, key=lambda c: max(len(lv.level) for lv in c.levels))
    return {
        "numeric": lambda lang: charts.numeric_feature_figure(results.eda.numeric[0], lang=lang),
        "categorical": lambda lang: charts.categorical_feature_figure(longest, lang=lang),
        "phik": lambda lang: charts.phik_heatmap(results.correlation, lang=lang),
        "models": lambda lang: charts.model_comparison_figure(results.model, lang=lang),
        "roc": lambda lang: charts.roc_figure(results.model, lang=lang, with_pr=True),
        "calibration": lambda lang: charts.calibration_figure(results.model, lang=lang),
        "confusion": lambda lang: charts.confusion_figure(results.model, lang=lang),
        "shap-bar": lambda lang: charts.shap_bar(imp, lang=lang),
        "beeswarm": lambda lang: charts.shap_beeswarm(imp, lang=lang),
        "shap-segments": lambda lang: charts.shap_segments(imp, results.segments, lang=lang),
        "waterfall": lambda lang: charts.shap_waterfall(imp.examples[0], lang=lang, output=imp.output,
                                                        segment_title="Сегмент" if lang == "ru" else "Segment"),
        "scatter": lambda lang: charts.segments_scatter(results.segments, lang=lang),
        "profile": lambda lang: charts.segment_profile_figure(results.segments.segments[0], lang=lang),
    }


@pytest.mark.parametrize("kind", ["numeric", "categorical", "phik", "models", "roc", "calibration", "confusion",
                                  "shap-bar", "beeswarm", "shap-segments", "waterfall", "scatter", "profile"])
def test_no_text_is_clipped_or_overlaps_the_axes_labels(results: Results, kind: str) -> None:
    lang = "ru" if kind not in ("phik", "scatter") else "en"
    fig = _kinds(results)[kind](lang)
    assert fig.get_layout_engine() is None  # laid out by hand: drawn once when saved
    with style.context():
        renderer = fig.canvas.get_renderer()
        fig.draw(renderer)
        frame = fig.bbox
        for text in drawn_texts(fig):
            box = text.get_window_extent(renderer)
            assert (box.x0 >= frame.x0 - 1 and box.x1 <= frame.x1 + 1 and box.y0 >= frame.y0 - 1
                    and box.y1 <= frame.y1 + 1), f"{kind}: {text.get_text()!r} leaves the figure: {box}"
        # Tick labels never run into the axes of the same figure.
        for ax in fig.axes:
            for label in ax.get_yticklabels():
                if label.get_visible() and label.get_text() and label.get_position()[0] == 0.0:
                    assert label.get_window_extent(renderer).x1 <= ax.get_window_extent(renderer).x0 + 1, kind


def _russian_figures(results: Results) -> dict[str, Figure]:
    imp, seg, model = results.importance, results.segments, results.model
    return {
        "eda-numeric": charts.eda_numeric_grid(charts.eda_order(results.eda.numeric), lang="ru"),
        "eda-categorical": charts.eda_categorical_grid(results.eda.categorical, lang="ru"),
        "phik": charts.phik_heatmap(results.correlation, lang="ru"),
        "model-comparison": charts.model_comparison_figure(model, lang="ru"),
        "roc": charts.roc_figure(model, lang="ru"),
        "calibration": charts.calibration_figure(model, lang="ru"),
        "confusion": charts.confusion_figure(model, lang="ru"),
        "shap-bar": charts.shap_bar(imp, lang="ru"),
        "shap-beeswarm": charts.shap_beeswarm(imp, lang="ru"),
        "shap-segments": charts.shap_segments(imp, seg, lang="ru"),
        "waterfall": charts.shap_waterfall(imp.examples[0], lang="ru", output=imp.output),
        "segments-scatter": charts.segments_scatter(seg, lang="ru"),
        "segment": charts.segment_profile_figure(seg.segments[0], lang="ru"),
    }


def test_russian_charts_use_the_decimal_comma(results: Results) -> None:
    """No «1.0» among decimal commas: every drawn text of a Russian chart, ticks included."""
    for key, fig in _russian_figures(results).items():
        fig.canvas.draw()
        dotted = [t.get_text() for t in fig.findobj(Text) if t.get_visible() and re.search(r"\d\.\d", t.get_text())]
        assert dotted == [], key


def test_waterfall_reaches_the_model_probability(results: Results) -> None:
    """All features, then the calibration step: the bars end at the probability the chart names."""
    imp = results.importance
    for example in imp.examples:
        assert {c.feature for c in example.contributions} == set(results.model.features)
        raw = example.base_value + sum(c.shap for c in example.contributions)
        assert raw == pytest.approx(example.raw_output, abs=1e-3)
        fig = charts.shap_waterfall(example, lang="ru", output=imp.output)
        texts = " ".join(texts_of(fig))
        end = example.refit_probability if imp.output == "probability" else raw
        assert charts.fmt_number(end, "ru", digits=2) in texts
        if imp.output == "probability":
            assert "калибровка" in texts


def test_the_registry_and_the_charts_list_the_same_figures(results: Results) -> None:
    """One registry (report.figures.registry) lists the figures; the charts draw every kind of it
    and nothing else, and build_figures makes exactly the keys the renderer expects."""
    from report.figures.registry import FIGURES as SPECS
    from report.figures.registry import figure_keys
    from report.structure import SECTIONS

    assert [s.name for s in SPECS] == list(charts.FIGURES)
    assert {s.section for s in SPECS} <= {key for key, _, _ in SECTIONS}
    keys = figure_keys(results)
    assert len(keys) == len(set(keys))
    assert keys[:2] == ("ishikawa", "eda-numeric")
    assert sum(k.startswith("segment-") for k in keys) == len(results.segments.segments)
    assert sum(k.startswith("shap-example-") for k in keys) == len(results.importance.examples)
