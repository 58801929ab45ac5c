"""Render :class:`analysis.results.Results` into one self-contained HTML document, and for the PDF.

The HTML file and the PDF come from the same templates and the same rendered sections:

* :func:`render_html` — the HTML file: the CSS inlined in a ``<style>``, every figure a
  ``data:`` URI, no external URL and no JavaScript;
* :func:`paged_document` — the PDF's content parts (consecutive sections, the figures referred to
  as in-memory ``report-resource:`` URLs) and its frame (page furniture, table of contents,
  outline, links), see :mod:`report.paged`.

Every data-derived string goes through Jinja's autoescaping.

Templates never compute statistics. What needs more than formatting — ordering, picking the top
actions, shares of a total, month-over-month differences, flattening the configuration — is done
here, in :func:`view_model`, a small pure function of the results.

>>> html = render_html(results, lang="ru", figures=build_figures(results, lang="ru"))  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from jinja2 import Environment
from markupsafe import Markup

from analysis.config import ActionEconomics, CandidateConfig
from analysis.results import (
    Candidate,
    CategoricalEda,
    Comparison,
    FeatureContrast,
    FeatureInfo,
    FeatureValue,
    NumericEda,
    ActionPlan,
    Results,
    Segment,
    SegmentRules,
    TableSummary,
)
from report.env import TEMPLATES_DIR, make_environment
from report.texts import actions_resting_on
from report.paged import ORIGIN_ID, RESOURCE_SCHEME, TOC_ROOM_ID, PagedDocument, PageMarks, Resource

if TYPE_CHECKING:  # the figures module is optional at import time
    from report.figures.charts import FigureAsset

__all__ = [
    "SECTIONS",
    "ViewModel",
    "build_context",
    "environment",
    "expected_figure_keys",
    "paged_document",
    "render_html",
    "view_model",
]

_log = logging.getLogger(__name__)

#: The report's sections in order: (id, partial template, numbered in the table of contents).
SECTIONS: tuple[tuple[str, str, bool], ...] = (
    ("summary", "partials/cover.html", False),
    ("toc", "partials/toc.html", False),
    ("data", "partials/data.html", True),
    ("eda", "partials/eda.html", True),
    ("ishikawa", "partials/ishikawa.html", True),
    ("correlation", "partials/correlation.html", True),
    ("model", "partials/model.html", True),
    ("importance", "partials/importance.html", True),
    ("segments", "partials/segments.html", True),
    ("actions", "partials/actions.html", True),
    ("comparison", "partials/comparison.html", True),
    ("conclusions", "partials/conclusions.html", True),
    ("appendix", "partials/appendix.html", True),
)
#: Contrasts and categories shown in a segment's profile.
PROFILE_CONTRASTS = 5
PROFILE_CATEGORIES = 3

#: Terms of the glossary, in order (``glossary.<term>.term`` / ``.text`` in the catalogues).
GLOSSARY_TERMS: tuple[str, ...] = (
    "roc_auc", "pr_auc", "brier", "calibration", "cv", "ci", "shap", "permutation", "phik", "vif",
    "mann_whitney", "chi2", "rank_biserial", "cramers_v", "p_value", "effect_size", "segment",
    "profit_at_risk", "mad", "psi", "pdfa",
)

CSS_PATH = TEMPLATES_DIR / "report.css"



# ------------------------------------------------------------------------------ view model
@dataclass(frozen=True, slots=True)
class SectionView:
    """One section of the report."""

    key: str
    template: str
    number: int | None


@dataclass(frozen=True, slots=True)
class FeatureView:
    """A feature with its EDA (numeric or categorical)."""

    info: FeatureInfo
    numeric: NumericEda | None
    categorical: CategoricalEda | None

    @property
    def eda(self) -> NumericEda | CategoricalEda:
        """Whichever EDA the feature has."""
        return self.numeric if self.numeric is not None else self.categorical  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class SegmentView:
    """A segment with the parts of its profile the card shows."""

    segment: Segment
    contrasts: tuple[FeatureContrast, ...]
    categories: tuple[tuple[str, float], ...]
    risk_share: float
    shap_top: tuple[FeatureValue, ...]
    rules: SegmentRules


@dataclass(frozen=True, slots=True)
class TableView:
    """An input table as loaded, with its size in KiB."""

    table: TableSummary
    size_kib: float


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """A value this month against the previous month."""

    key: str
    previous: float
    current: float
    delta: float


@dataclass(frozen=True, slots=True)
class ComparisonView:
    """Month-over-month numbers, ready to print."""

    comparison: Comparison
    metrics: tuple[ChangeRow, ...]
    segment_sizes: tuple[ChangeRow, ...]
    transition_keys: tuple[str, ...]
    psi: tuple[tuple[str, float, bool], ...]


@dataclass(frozen=True, slots=True)
class ViewModel:
    """Everything the templates need beyond the results themselves."""

    sections: tuple[SectionView, ...]
    section_number: Mapping[str, int]
    priority: SegmentView
    top_actions: tuple[ActionPlan, ...]
    rules: Mapping[str, SegmentRules]
    action_keys: tuple[str, ...]
    features: tuple[FeatureView, ...]
    eda_overview: tuple[FeatureView, ...]
    tables: tuple[TableView, ...]
    candidates: tuple[Candidate, ...]
    selected_candidate: Candidate | None
    runner_up: Candidate | None
    segments: tuple[SegmentView, ...]
    permutation: tuple[FeatureValue, ...]
    shap_by_feature: Mapping[str, float]
    groups: tuple[tuple[str, tuple[str, ...]], ...]
    config_rows: tuple[tuple[str, Any], ...]
    candidate_sets: tuple[tuple[str, tuple[CandidateConfig, ...]], ...]
    timings_total: tuple[float, float]
    comparison: ComparisonView | None
    #: Actions (keys) whose rules rest on a feature SHAP and permutation importance disagree on.
    disagreement_actions: tuple[str, ...] = ()


def _flatten(prefix: str, value: Any) -> Iterator[tuple[str, Any]]:
    """``(dotted.path, scalar or tuple of scalars)`` rows; a list of mappings is flattened item by
    item, as ``path[name]`` when the item has a name, else ``path[index]``."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _flatten(f"{prefix}.{key}" if prefix else str(key), item)
    elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Mapping) for v in value):
        for index, item in enumerate(value):
            yield from _flatten(f"{prefix}[{item.get('name', index)}]", item)
    else:
        yield prefix, (tuple(value) if isinstance(value, list) else value)


def _segment_view(results: Results, seg: Segment) -> SegmentView:
    mix = sorted(seg.profile.category_mix.items(), key=lambda kv: (-kv[1], kv[0]))
    contrasts = sorted(seg.profile.contrasts, key=lambda c: -abs(c.effect_size))
    shap = sorted(results.importance.per_segment.get(seg.key, ()), key=lambda f: -abs(f.value))
    return SegmentView(
        segment=seg,
        contrasts=tuple(contrasts[:PROFILE_CONTRASTS]),
        categories=tuple(mix[:PROFILE_CATEGORIES]),
        risk_share=seg.profit_at_risk_share,
        shap_top=tuple(shap[:3]),
        rules=results.actions.rules_of(seg.key),
    )


def _comparison_view(results: Results) -> ComparisonView | None:
    comp = results.comparison
    if comp is None:
        return None

    def row(key: str, pair: tuple[float, float]) -> ChangeRow:
        return ChangeRow(key=key, previous=pair[0], current=pair[1], delta=pair[1] - pair[0])

    metrics = (row("declined_share", comp.declined_share), row("roc_auc", comp.roc_auc),
               row("profit_at_risk", comp.profit_at_risk))
    known = [s.key for s in results.segments.segments]
    seen = set(comp.segment_sizes) | set(comp.segment_transitions)
    seen |= {k for targets in comp.segment_transitions.values() for k in targets}
    keys = known + sorted(seen - set(known))
    sizes = tuple(row(k, (float(comp.segment_sizes[k][0]), float(comp.segment_sizes[k][1])))
                  for k in keys if k in comp.segment_sizes)
    psi = tuple(sorted(((f, v, f in comp.psi_flagged) for f, v in comp.psi.items()), key=lambda x: (-x[1], x[0])))
    return ComparisonView(comparison=comp, metrics=metrics, segment_sizes=sizes,
                          transition_keys=tuple(dict.fromkeys(keys)), psi=psi)


def view_model(results: Results) -> ViewModel:
    """The derived, print-ready view of ``results`` (pure: no I/O, no statistics)."""
    sections: list[SectionView] = []
    number = 0
    for key, template, numbered in SECTIONS:
        if key == "comparison" and results.comparison is None:
            continue
        if numbered:
            number += 1
        sections.append(SectionView(key=key, template=template, number=number if numbered else None))

    numeric = {e.feature: e for e in results.eda.numeric}
    categorical = {e.feature: e for e in results.eda.categorical}
    features = tuple(FeatureView(info=f, numeric=numeric.get(f.name), categorical=categorical.get(f.name))
                     for f in results.data.features if f.name in numeric or f.name in categorical)

    candidates = sorted(results.model.candidates,
                        key=lambda c: (c.skipped or c.cv_roc_auc_mean is None, -(c.cv_roc_auc_mean or 0.0), c.name))
    runner_up = next((c for c in candidates if c.name == results.model.runner_up), None)

    config = results.meta.config.model_dump(mode="python")
    candidate_sets = tuple(
        (name, value) for name, value in results.meta.config.model
        if isinstance(value, tuple) and value and all(isinstance(v, CandidateConfig) for v in value))
    for name, _ in candidate_sets:  # shown as tables of their own
        config["model"].pop(name, None)
    timings = results.meta.stage_timings

    segments = tuple(_segment_view(results, s) for s in results.segments.segments)
    priority = next(v for v in segments if v.segment.key == results.segments.priority)
    return ViewModel(
        sections=tuple(sections),
        section_number={s.key: s.number for s in sections if s.number is not None},
        priority=priority,
        top_actions=tuple(results.actions.plan(key) for key in results.actions.top),
        rules={s.key: results.actions.rules_of(s.key) for s in results.segments.segments},
        action_keys=tuple(name for name, value in results.meta.config.actions if isinstance(value, ActionEconomics)),
        features=features,
        eda_overview=tuple(sorted(features, key=lambda f: -abs(f.eda.test.effect_size))),
        tables=tuple(TableView(table=t, size_kib=t.size_bytes / 1024) for t in results.data.tables),
        candidates=tuple(candidates),
        selected_candidate=next((c for c in candidates if c.name == results.model.selected.name), None),
        runner_up=runner_up,
        segments=segments,
        permutation=tuple(sorted(results.importance.permutation, key=lambda f: -f.value)),
        shap_by_feature={f.feature: f.value for f in results.importance.global_importance},
        groups=tuple((k, tuple(v)) for k, v in results.data.groups.items()),
        config_rows=tuple(_flatten("", config)),
        candidate_sets=candidate_sets,
        timings_total=(sum(s.wall_seconds for s in timings), sum(s.cpu_seconds for s in timings)),
        comparison=_comparison_view(results),
        disagreement_actions=actions_resting_on(results, results.importance.disagreements),
    )



def expected_figure_keys(results: Results) -> tuple[str, ...]:
    """The figure keys the report shows for ``results`` (see ``report.figures.charts``)."""
    keys = ["eda-numeric", "eda-categorical", "ishikawa", "phik", "model-comparison", "roc", "calibration", "confusion",
             "shap-bar", "shap-beeswarm", "shap-segments"]
    keys += [f"shap-example-{e.id}" for e in results.importance.examples]
    keys += ["segments-scatter"] + [f"segment-{s.key}" for s in results.segments.segments]
    return tuple(keys)


# ------------------------------------------------------------------------------ rendering
@lru_cache(maxsize=None)
def environment(lang: str, money_unit: str = "unit") -> Environment:
    """The (cached) Jinja environment of ``lang``; templates are compiled once per process."""
    return make_environment(lang=lang, money_unit=money_unit)


def compile_templates(lang: str) -> None:
    """Compile every template of ``lang``'s environment now (they are kept for the process)."""
    env = environment(lang)
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)


def _css() -> Markup:
    css = CSS_PATH.read_text(encoding="utf-8")
    if "</" in css:
        raise ValueError(f"{CSS_PATH} must not contain '</' (it is inlined in a <style> element)")
    return Markup(css)  # noqa: S704 - our own stylesheet, checked above


@dataclass(frozen=True, slots=True)
class FigureRef:
    """A figure as the templates show it: its ``src`` (data: URI or resource URL), alt text and width."""

    src: str
    alt: str
    width_cm: float


def _figure_refs(figures: Mapping[str, FigureAsset], *, embed: bool) -> dict[str, FigureRef]:
    return {key: FigureRef(src=asset.data_uri() if embed else RESOURCE_SCHEME + "figures/" + asset.file_name,
                           alt=asset.alt, width_cm=asset.width_cm)
            for key, asset in figures.items()}


def _resources(figures: Mapping[str, FigureAsset]) -> dict[str, Resource]:
    return {RESOURCE_SCHEME + "figures/" + a.file_name: Resource(content=a.payload, mime=a.mime)
            for a in figures.values()}


def build_context(results: Results, *, lang: str, figures: Mapping[str, FigureAsset],
                  embed: bool = True) -> dict[str, Any]:
    """The template context: ``r`` (results), ``vm`` (view model), ``figures``, ``css``, ``glossary``.

    ``embed`` makes every figure a ``data:`` URI (the HTML file); otherwise figures are referred
    to by ``report-resource:`` URLs that the PDF renderer serves from memory.
    """
    missing = [k for k in expected_figure_keys(results) if k not in figures]
    if missing:
        _log.warning("figures missing from the report: %s", ", ".join(missing))
    return {"r": results, "vm": view_model(results), "figures": _figure_refs(figures, embed=embed), "css": _css(),
            "lang": lang, "glossary": GLOSSARY_TERMS, "page_mode": "screen", "origin_id": ORIGIN_ID,
            "toc_room_id": TOC_ROOM_ID, "money_unit": results.meta.config.report.money_unit,
            "figure_offset": 0}


def _sections(context: Mapping[str, Any], lang: str) -> list[tuple[SectionView, Markup]]:
    """Each section of the report rendered on its own, in order."""
    env = environment(lang, context["money_unit"])
    return [(s, Markup(env.get_template(s.template).render(context)))  # noqa: S704 - autoescaped template output
            for s in context["vm"].sections]


def _document(context: Mapping[str, Any], lang: str, body: Sequence[Markup], **overrides: Any) -> str:
    return environment(lang, context["money_unit"]).get_template("report.html").render(
        {**context, **overrides, "body": Markup("\n").join(body)})


def render_html(results: Results, *, lang: str, figures: Mapping[str, FigureAsset]) -> str:
    """The report as one self-contained HTML document.

    Parameters
    ----------
    results : Results
        What the analysis computed.
    lang : {"ru", "en"}
        Language of every static string and of number formatting.
    figures : mapping of str to FigureAsset
        The figures by key (:func:`report.figures.charts.build_figures`); a missing figure is
        replaced by a visible note (and logged).
    """
    context = build_context(results, lang=lang, figures=figures)
    return _document(context, lang, [html for _, html in _sections(context, lang)])


_FIGURE_TAG = '<figure class="fig'


def _split(weights: Sequence[int], n_parts: int) -> list[int]:
    """Start indexes of ``n_parts`` consecutive groups of ``weights`` with sums as even as possible."""
    n_parts = max(1, min(n_parts, len(weights)))
    total = sum(weights)
    starts, acc = [0], 0
    for i, w in enumerate(weights[:-1]):
        acc += w
        # close a group once it reaches its share, or at the latest when the rest need a section each
        if len(starts) < n_parts and (acc >= total * len(starts) / n_parts
                                      or len(weights) - (i + 1) <= n_parts - len(starts)):
            if abs(acc - w - total * len(starts) / n_parts) < abs(acc - total * len(starts) / n_parts) \
                    and i > starts[-1]:
                starts.append(i)
            else:
                starts.append(i + 1)
    return starts


def paged_document(results: Results, *, lang: str, figures: Mapping[str, FigureAsset],
                   n_parts: int = 1) -> PagedDocument:
    """The report prepared for :func:`report.pdf.render_pdf`: content parts, frame and figures.

    Parameters
    ----------
    results, lang, figures
        As for :func:`render_html`.
    n_parts : int
        Number of content parts (one per core that will lay them out). Sections are grouped
        consecutively by the size of their markup, a fair proxy of their layout time.
    """
    context = {**build_context(results, lang=lang, figures=figures, embed=False), "page_mode": "part"}
    sections = _sections(context, lang)
    weights = [len(html) for _, html in sections]
    starts = _split(weights, n_parts)
    parts = []
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(sections)
        offset = sum(html.count(_FIGURE_TAG) for _, html in sections[:start])
        parts.append(_document(context, lang, [html for _, html in sections[start:end]], figure_offset=offset))

    def frame(pages: Sequence[PageMarks]) -> str:
        return render_frame(results, lang=lang, pages=pages, context=context)

    return PagedDocument(parts=tuple(parts), frame=frame, resources=_resources(figures))


@dataclass(frozen=True, slots=True)
class FramePage:
    """One page of the frame: what it replays and the section title of its running header."""

    number: int
    marks: PageMarks
    section_title: str
    toc: bool


def render_frame(results: Results, *, lang: str, pages: Sequence[PageMarks],
                 context: Mapping[str, Any] | None = None) -> str:
    """The PDF's frame for content pages with ``pages`` marks (see :mod:`report.paged`).

    The running header of a page names the section that starts on it, or else the one that
    started last; the table of contents is shown on the page where the content keeps its room
    (:data:`report.paged.TOC_ROOM_ID`).
    """
    context = context or build_context(results, lang=lang, figures={}, embed=False)
    vm: ViewModel = context["vm"]
    t = environment(lang, context["money_unit"]).globals["t"]
    titles = {s.key: f"{s.number}.\u00a0{t('section.' + s.key)}" for s in vm.sections if s.number is not None}
    order = [s.key for s in vm.sections]
    seen: set[str] = set()
    current, frame_pages = "", []
    for number, marks in enumerate(pages, start=1):
        # an element split over pages is marked on each of them: keep its first page only
        first = tuple(a for a in marks.anchors if a.name not in seen)
        seen.update(a.name for a in first)
        names = {a.name for a in first}
        current = next((titles[k] for k in order if k in names and k in titles), current)
        frame_pages.append(FramePage(number=number, section_title=current, toc=TOC_ROOM_ID in names,
                                     marks=PageMarks(anchors=first, links=marks.links, bookmarks=marks.bookmarks)))
    return environment(lang, context["money_unit"]).get_template("frame.html").render({**context, "pages": frame_pages,
                                                               "page_mode": "frame"})
