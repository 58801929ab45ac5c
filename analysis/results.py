"""The one typed, frozen, JSON-serialisable results object.

Every stage returns its own typed result (like Evidently's metric results); :class:`Results`
holds them all. Renderers only read it. ``Results.model_validate_json(r.model_dump_json()) == r``
is tested.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from analysis.config import Config

Scalar = int | float | str | bool | None


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class LocalizedText(_Frozen):
    """A text generated from the results, in both report languages."""

    ru: str
    en: str

    def get(self, lang: str) -> str:
        """The text in ``lang``."""
        return self.ru if lang == "ru" else self.en


# --------------------------------------------------------------------------------------- meta
class StageTiming(_Frozen):
    """Cost of one pipeline stage."""

    stage: str
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    #: The enclosing stage of a sub-stage (``load`` within ``load_validate_clean``), else ``None``.
    parent: str | None = None
    #: Ran in a forked worker while the main process ran other stages (its wall time overlaps theirs).
    concurrent: bool = False


class Meta(_Frozen):
    """Provenance of a run."""

    period: str
    report_date: str
    input_sha256: dict[str, str]
    versions: dict[str, str]
    code_version: str
    config: Config
    seed: int
    stage_timings: tuple[StageTiming, ...] = ()


# --------------------------------------------------------------------------------------- data
class TableSummary(_Frozen):
    """One input table as loaded."""

    name: str
    file: str
    rows: int
    columns: int
    encoding: str
    separator: str
    decimal: str
    size_bytes: int


class CleaningEntry(_Frozen):
    """One logged cleaning decision."""

    table: str
    column: str | None
    action: str
    from_: Scalar = Field(alias="from")
    to: Scalar
    rows: int
    note: LocalizedText | None = None


class OutlierInfo(_Frozen):
    """The extreme values found by the robust rule."""

    table: str
    column: str
    threshold: float
    policy: Literal["drop", "cap"]
    ids: tuple[int, ...]
    values: tuple[float, ...]


class FeatureInfo(_Frozen):
    """One model feature."""

    name: str
    kind: Literal["numeric", "binary", "categorical"]
    group: str
    label_ru: str
    label_en: str

    def label(self, lang: str) -> str:
        """The label in ``lang``."""
        return self.label_ru if lang == "ru" else self.label_en


class DataResult(_Frozen):
    """What the data layer found and did."""

    tables: tuple[TableSummary, ...]
    cleaning_log: tuple[CleaningEntry, ...]
    outliers: tuple[OutlierInfo, ...]
    n_customers_raw: int
    n_customers_active: int
    n_dropped_inactive: int
    n_dropped_outlier: int
    n_customers_analysed: int
    n_declined: int
    n_stable: int
    features: tuple[FeatureInfo, ...]
    groups: dict[str, tuple[str, ...]]

    @property
    def declined_share(self) -> float:
        """Share of analysed customers whose activity declined."""
        return self.n_declined / max(self.n_customers_analysed, 1)


# ---------------------------------------------------------------------------------------- eda
class ClassStats(_Frozen):
    """Descriptive statistics of a numeric feature in one class."""

    n: int
    mean: float
    std: float
    min: float
    q1: float
    median: float
    q3: float
    max: float
    whislo: float
    whishi: float
    fliers: tuple[float, ...] = ()


class TestResult(_Frozen):
    """A test of difference between the classes, with its effect size."""

    test: Literal["mann_whitney_u", "chi2"]
    statistic: float
    p_value: float
    effect_name: Literal["rank_biserial", "cramers_v"]
    effect_size: float
    magnitude: Literal["negligible", "small", "medium", "large"]
    significant: bool


class NumericEda(_Frozen):
    """EDA of one numeric feature by target class (``declined`` / ``stable``)."""

    feature: str
    declined: ClassStats
    stable: ClassStats
    bin_edges: tuple[float, ...]
    counts_declined: tuple[int, ...]
    counts_stable: tuple[int, ...]
    test: TestResult
    interpretation: LocalizedText


class CategoryCount(_Frozen):
    """One level of a categorical feature by class."""

    level: str
    declined: int
    stable: int

    @property
    def declined_share(self) -> float:
        """Share of the level's customers whose activity declined."""
        return self.declined / max(self.declined + self.stable, 1)


class CategoricalEda(_Frozen):
    """EDA of one categorical/binary feature by target class."""

    feature: str
    levels: tuple[CategoryCount, ...]
    test: TestResult
    interpretation: LocalizedText


class EdaResult(_Frozen):
    """EDA of every feature."""

    numeric: tuple[NumericEda, ...]
    categorical: tuple[CategoricalEda, ...]
    profit: ClassStats


# -------------------------------------------------------------------------------- correlation
class Matrix(_Frozen):
    """A labelled square matrix."""

    labels: tuple[str, ...]
    values: tuple[tuple[float | None, ...], ...]


class FlaggedPair(_Frozen):
    """A pair of features at or above the multicollinearity threshold."""

    a: str
    b: str
    phik: float


class VifEntry(_Frozen):
    """Variance inflation factor of one numeric feature."""

    feature: str
    vif: float
    flagged: bool


class TargetCorrelation(_Frozen):
    """phik of one feature with the target."""

    feature: str
    phik: float
    significance: float | None


class CorrelationResult(_Frozen):
    """phik matrix, significance and multicollinearity."""

    phik: Matrix
    significance: Matrix | None
    n_rows: int
    sample_rows: int | None
    threshold: float
    flagged_pairs: tuple[FlaggedPair, ...]
    vif: tuple[VifEntry, ...]
    vif_threshold: float
    with_target: tuple[TargetCorrelation, ...]


# -------------------------------------------------------------------------------------- model
class Candidate(_Frozen):
    """One candidate model family compared by cross-validation on the training part."""

    name: str
    family: str
    params: dict[str, Scalar]
    cv_roc_auc_mean: float | None
    cv_roc_auc_std: float | None
    fit_seconds: float | None
    n_configurations: int
    skipped: bool = False
    note: str = ""


class Selected(_Frozen):
    """The selected model."""

    name: str
    params: dict[str, Scalar]
    calibrated: bool
    cv_brier_raw: float
    cv_brier_calibrated: float


class ConfusionMatrix(_Frozen):
    """Counts at a stated threshold (positive = activity declined)."""

    threshold: float
    tn: int
    fp: int
    fn: int
    tp: int

    @property
    def precision(self) -> float:
        """TP / (TP + FP)."""
        return self.tp / max(self.tp + self.fp, 1)

    @property
    def recall(self) -> float:
        """TP / (TP + FN)."""
        return self.tp / max(self.tp + self.fn, 1)


class Curve(_Frozen):
    """A curve to plot."""

    x: tuple[float, ...]
    y: tuple[float, ...]
    counts: tuple[int, ...] = ()


class TestMetrics(_Frozen):
    """Held-out test metrics of the selected model."""

    n: int
    roc_auc: float
    roc_auc_ci95: tuple[float, float]
    pr_auc: float
    brier: float
    prevalence: float


class ModelResult(_Frozen):
    """Model selection and held-out evaluation."""

    candidates: tuple[Candidate, ...]
    selected: Selected
    test: TestMetrics
    confusion: ConfusionMatrix
    roc_curve: Curve
    pr_curve: Curve
    calibration_curve: Curve
    cv_folds: int
    cv_repeats: int
    n_train: int
    n_test: int
    selection_rows: int
    features: tuple[str, ...]
    oof_roc_auc: float
    #: Training rows the selected model was fitted on: ``n_train``, or a stratified sample of
    #: ``ModelConfig.refit_max_rows`` at scale (``None`` in results written before this field).
    refit_rows: int | None = None


# --------------------------------------------------------------------------------- importance
class FeatureValue(_Frozen):
    """A feature with a value (mean |SHAP|, permutation drop, …)."""

    feature: str
    value: float
    std: float = 0.0


class Beeswarm(_Frozen):
    """Data for the SHAP beeswarm: per feature, SHAP values and feature values scaled to [0, 1]."""

    features: tuple[str, ...]
    shap: tuple[tuple[float, ...], ...]
    scaled_values: tuple[tuple[float | None, ...], ...]


class Contribution(_Frozen):
    """One feature's contribution to one customer's prediction."""

    feature: str
    value: str
    shap: float


class CustomerExplanation(_Frozen):
    """A single customer's prediction, explained."""

    id: int
    segment: str
    probability: float
    base_value: float
    contributions: tuple[Contribution, ...]


class ImportanceResult(_Frozen):
    """SHAP (global, beeswarm, per segment, individual) and permutation importance."""

    explainer: str
    output: str
    n_rows: int
    sampled: bool
    base_value: float
    global_importance: tuple[FeatureValue, ...]
    beeswarm: Beeswarm
    per_segment: dict[str, tuple[FeatureValue, ...]]
    examples: tuple[CustomerExplanation, ...]
    permutation: tuple[FeatureValue, ...]
    seconds: float | None


# ----------------------------------------------------------------------------------- segments
class Evidence(_Frozen):
    """A number that triggered a recommendation, and the threshold it was compared with."""

    metric: str
    value: float
    reference: float | None
    threshold: float
    comparison: Literal[">=", "<="]
    unit: Literal["share", "count", "ratio", "probability", "money", "number"]
    label: LocalizedText


class Recommendation(_Frozen):
    """A personalised offer for a segment, triggered by its profile."""

    key: str
    title: LocalizedText
    text: LocalizedText
    audience: int
    evidence: tuple[Evidence, ...]


class FeatureContrast(_Frozen):
    """A feature's mean in the segment against the other customers."""

    feature: str
    segment_mean: float
    others_mean: float
    effect_size: float


class SegmentProfile(_Frozen):
    """Who is in a segment."""

    contrasts: tuple[FeatureContrast, ...]
    category_mix: dict[str, float]
    premium_share: float
    consent_share: float
    declined_share_observed: float


class SegmentRule(_Frozen):
    """The thresholds that define a segment."""

    risk: Literal["high", "low"]
    value: Literal["high", "low"]
    probability_threshold: float
    profit_threshold: float


class Segment(_Frozen):
    """One probability × profit segment."""

    key: str
    title: LocalizedText
    rule: SegmentRule
    priority: bool
    n_customers: int
    share: float
    mean_probability: float
    mean_profit: float
    profit_at_risk: float
    profile: SegmentProfile
    recommendations: tuple[Recommendation, ...]


class DeepDive(_Frozen):
    """A closer look at the priority segment's promo buyers with unpaid items."""

    segment: str
    n_customers: int
    n_promo_unpaid: int
    share_promo_unpaid: float
    promo_threshold: float
    unpaid_threshold: float
    mean_probability: float
    profit_at_risk: float
    top_categories: dict[str, float]
    consent_share: float


class ScatterPoints(_Frozen):
    """Probability × profit points for the segment scatter (a stated sample at scale)."""

    probability: tuple[float, ...]
    profit: tuple[float, ...]
    segment: tuple[str, ...]
    sampled: bool


class SegmentsResult(_Frozen):
    """Segmentation of all analysed customers."""

    probability_threshold: float
    profit_threshold: float
    segments: tuple[Segment, ...]
    priority: str
    deep_dive: DeepDive
    scatter: ScatterPoints
    total_profit_at_risk: float
    share_high_risk: float


# -------------------------------------------------------------------------------- conclusions
class Conclusion(_Frozen):
    """One conclusion written from the results."""

    key: str
    text: LocalizedText


class Comparison(_Frozen):
    """Month-over-month comparison with a previous results file (see :func:`analysis.comparison.compare`).

    Pairs are ``(previous, current)``. Customers are matched by id between the two months'
    scores; ``segment_transitions`` maps previous segment → current segment → customers and sums
    to ``customers_matched``. ``psi`` is the population stability index of every feature, current
    month against the previous one; ``psi_flagged`` lists those at or above ``psi_threshold``,
    highest first.
    """

    previous_period: str
    customers_matched: int
    customers_new: int
    customers_gone: int
    segment_transitions: dict[str, dict[str, int]]
    declined_share: tuple[float, float]
    roc_auc: tuple[float, float]
    segment_sizes: dict[str, tuple[int, int]]
    profit_at_risk: tuple[float, float]
    psi: dict[str, float]
    psi_flagged: tuple[str, ...]
    psi_threshold: float
    #: PSI at or above this (below ``psi_threshold``) is a moderate shift.
    psi_warn: float = 0.1
    #: ``False`` when the previous month's per-customer scores were not available: then
    #: ``customers_*`` are 0 and ``segment_transitions`` is empty because they are unknown, not zero.
    customers_compared: bool = True


class Results(_Frozen):
    """Everything a run computed; the renderers' only input."""

    schema_version: Literal[1] = 1
    meta: Meta
    data: DataResult
    eda: EdaResult
    correlation: CorrelationResult
    model: ModelResult
    importance: ImportanceResult
    segments: SegmentsResult
    conclusions: tuple[Conclusion, ...]
    comparison: Comparison | None = None

    def segment(self, key: str) -> Segment:
        """The segment with ``key``."""
        for seg in self.segments.segments:
            if seg.key == key:
                return seg
        raise KeyError(key)

    def without_measurements(self) -> Results:
        """A copy without the run's own measurements (stage timings, fit and SHAP seconds).

        They vary from run to run, so the archived report (HTML, PDF and the results attached to
        it) is rendered from this copy and stays byte-reproducible; the full ``results.json`` beside
        the outputs and ``manifest.json`` keep the measurements.
        """
        candidates = tuple(c.model_copy(update={"fit_seconds": None}) for c in self.model.candidates)
        return self.model_copy(update={
            "meta": self.meta.model_copy(update={"stage_timings": ()}),
            "model": self.model.model_copy(update={"candidates": candidates}),
            "importance": self.importance.model_copy(update={"seconds": None}),
        })

    def save(self, path: Path) -> None:
        """Write as JSON (UTF-8, stable key order)."""
        path.write_text(self.model_dump_json(by_alias=True, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Results:
        """Read a results file written by :meth:`save`."""
        return cls.model_validate_json(path.read_text(encoding="utf-8"))
