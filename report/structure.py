"""The structure of the report: what every output shows, in which order (the view model).

Like ydata-profiling's ``report/structure``, this layer sits between the results and the
renderers. :func:`view_model` arranges :class:`analysis.results.Results` for reading — the
sections in order, features ordered by effect, the candidates ranked, the top actions, the
month-over-month rows, the configuration flattened — and the HTML report (``report.render``), the
PDF, the e-mail (``report.delivery``) and the Quarto document (``report.qmd``) all iterate the same
:class:`ViewModel`. It never computes a statistic (every derived number is in the results) and
never words anything (the catalogues do).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from analysis.config import ActionEconomics, CandidateConfig, settings
from analysis.results import (
    ActionPlan,
    Candidate,
    CategoricalEda,
    Comparison,
    FeatureContrast,
    FeatureInfo,
    FeatureValue,
    NumericEda,
    Results,
    Segment,
    SegmentRules,
    SettingChange,
    TableSummary,
)
from report.texts import actions_resting_on

__all__ = [
    "ALWAYS_EMBEDDED",
    "GLOSSARY_TERMS",
    "PROFILE_CATEGORIES",
    "PROFILE_CONTRASTS",
    "SECTIONS",
    "ChangeRow",
    "ComparisonView",
    "DataSourceKind",
    "FeatureView",
    "LeftOutFile",
    "PdfAttachments",
    "SectionView",
    "SegmentView",
    "TableView",
    "ViewModel",
    "data_source_kind",
    "pdf_attachments",
    "view_model",
]

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


#: What the run's tables were read from: one kind for all four, or ``mixed`` (a folder of CSV and
#: Parquet files).
DataSourceKind = Literal["csv", "parquet", "postgresql", "mixed"]


# ------------------------------------------------------------------------------ the PDF's attachments
@dataclass(frozen=True, slots=True)
class LeftOutFile:
    """An output of the build that the PDF does not embed (larger than the limit)."""

    name: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class PdfAttachments:
    """Which outputs the PDF/A-3 embeds, in order, and which it leaves out, with the limit applied
    (``report.attach_max_bytes``). A file left out is delivered beside the report and archived with
    it; both manifests record its SHA-256 (``outputs``), ``embedded`` and ``left_out``."""

    embedded: tuple[str, ...]
    left_out: tuple[LeftOutFile, ...]
    limit_bytes: int

    def manifest_record(self) -> dict[str, Any]:
        """What ``manifest.json`` records: ``embedded`` (names, in order) and ``left_out`` (name → bytes)."""
        return {"embedded": list(self.embedded), "left_out": {f.name: f.size_bytes for f in self.left_out}}

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any], *, limit_bytes: int) -> PdfAttachments | None:
        """The record of a ``manifest.json`` (:meth:`manifest_record`); ``None`` when it has none
        (a build before the limit existed embedded every data file) or a malformed one."""
        embedded, left_out = manifest.get("embedded"), manifest.get("left_out", {})
        if not (isinstance(embedded, list) and all(isinstance(n, str) for n in embedded)
                and isinstance(left_out, Mapping)
                and all(isinstance(n, str) and isinstance(b, int) and not isinstance(b, bool)
                        for n, b in left_out.items())):
            return None
        return cls(embedded=tuple(embedded), left_out=tuple(LeftOutFile(n, b) for n, b in sorted(left_out.items())),
                   limit_bytes=limit_bytes)


#: What the PDF always embeds, first and last: the results it was written from and its own manifest.
ALWAYS_EMBEDDED: tuple[str, str] = ("results.json", "manifest.json")


def pdf_attachments(data_files: Sequence[tuple[str, int]], *, limit_bytes: int) -> PdfAttachments:
    """What the PDF embeds: :data:`ALWAYS_EMBEDDED` and, between them, each of ``data_files``
    (name, bytes) of at most ``limit_bytes``, in order; the larger ones are left out (by name, as
    a manifest lists them)."""
    kept = tuple(name for name, size in data_files if size <= limit_bytes)
    left_out = sorted((name, size) for name, size in data_files if size > limit_bytes)
    return PdfAttachments(embedded=(ALWAYS_EMBEDDED[0], *kept, ALWAYS_EMBEDDED[1]),
                          left_out=tuple(LeftOutFile(name, size) for name, size in left_out), limit_bytes=limit_bytes)


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
    #: How many settings shaped the run (:func:`analysis.config.settings`).
    config_size: int
    #: The settings off the defaults of the code that ran, as the analysis recorded them; ``None``
    #: for results written before they were recorded.
    config_changed: tuple[SettingChange, ...] | None
    candidate_sets: tuple[tuple[str, tuple[CandidateConfig, ...]], ...]
    timings_total: tuple[float, float]
    comparison: ComparisonView | None
    #: What the four tables were read from (the methodology's first sentence).
    source_kind: DataSourceKind
    #: Actions (keys) whose rules rest on a feature SHAP and permutation importance disagree on.
    disagreement_actions: tuple[str, ...] = ()
    #: What the build's PDF embeds and leaves out; ``None`` when the report is rendered on its own
    #: (it then says nothing about the PDF's attachments).
    attachments: PdfAttachments | None = None


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


def data_source_kind(tables: tuple[TableSummary, ...]) -> DataSourceKind:
    """The kind of source the tables were read from, as the results record it."""
    kinds = {t.source_kind for t in tables}
    if len(kinds) == 1:
        (kind,) = kinds
        return kind
    return "mixed"


def view_model(results: Results, *, attachments: PdfAttachments | None = None) -> ViewModel:
    """The derived, print-ready view of ``results`` (pure: no I/O, no statistics); ``attachments``
    is what the build's PDF embeds (:func:`pdf_attachments`), when known."""
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

    candidate_sets = tuple(
        (name, value) for name, value in results.meta.config.model
        if isinstance(value, tuple) and value and all(isinstance(v, CandidateConfig) for v in value))
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
        config_size=len(settings(results.meta.config)),
        config_changed=results.meta.settings_changed,
        candidate_sets=candidate_sets,
        timings_total=(sum(s.wall_seconds for s in timings), sum(s.cpu_seconds for s in timings)),
        comparison=_comparison_view(results),
        source_kind=data_source_kind(results.data.tables),
        disagreement_actions=actions_resting_on(results, results.importance.disagreements),
        attachments=attachments,
    )
