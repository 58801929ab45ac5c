"""The one typed, frozen, JSON-serialisable results object.

Every stage returns its own typed result (like Evidently's metric results); :class:`Results`
holds them all. Renderers only read it. ``Results.model_validate_json(r.model_dump_json()) == r``
is tested.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from analysis.config import Config, SettingValue

Scalar = int | float | str | bool | None


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


#: The version of the results' JSON schema. 3: language-neutral facts (cleaning notes as typed
#: facts, no sentences, titles or labels in the results); 2 is read by :func:`migrate_v2`.
SCHEMA_VERSION: Final = 3


# --------------------------------------------------------------------------------------- meta
class StageTiming(_Frozen):
    """Cost of one pipeline stage."""

    stage: str
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    #: The enclosing stage of a sub-stage (``load`` within ``load_validate_clean``), else ``None``.
    parent: str | None = None
    #: Ran in a worker process while the main process ran other stages (its wall time overlaps theirs).
    concurrent: bool = False


class SettingChange(_Frozen):
    """A setting of the run off the default of the code that ran (:func:`analysis.config.changed_settings`):
    its dotted ``path``, its ``value`` and the ``default`` (``None`` where the one or the other has
    no such setting)."""

    path: str
    value: SettingValue
    default: SettingValue


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
    #: The settings off the defaults of ``code_version``, recorded when the analysis ran (``None``
    #: in results written before this field: which were changed is then not known).
    settings_changed: tuple[SettingChange, ...] | None = None


# --------------------------------------------------------------------------------------- data
#: What a table was read from: a CSV file, a Parquet file or a PostgreSQL database.
SourceKind = Literal["csv", "parquet", "postgresql"]


class TableSummary(_Frozen):
    """One input table as loaded."""

    name: str
    file: str
    rows: int
    columns: int
    #: A CSV file's detected encoding (``utf-8``, ``utf-8-sig``, ``cp1251``); ``parquet`` or
    #: ``postgresql`` for a table read from a Parquet file or a database (:mod:`analysis.sources`),
    #: which have no encoding, separator or decimal mark (those are then empty).
    encoding: str
    separator: str
    decimal: str
    size_bytes: int

    @property
    def source_kind(self) -> SourceKind:
        """What the table was read from (recorded as its ``encoding``)."""
        if self.encoding == "parquet":
            return "parquet"
        if self.encoding == "postgresql":
            return "postgresql"
        return "csv"


class EditDistanceNote(_Frozen):
    """A typo fixed at a Levenshtein distance of ``distance`` from the known value."""

    key: Literal["edit_distance"] = "edit_distance"
    distance: int


class NewCategoryNote(_Frozen):
    """A value that is no near-typo of a known one, kept as a new category."""

    key: Literal["new_category"] = "new_category"


class ImplicitDuplicatesNote(_Frozen):
    """Rows identical only after whitespace, case and typo fixes."""

    key: Literal["implicit_duplicates"] = "implicit_duplicates"


class InactiveNote(_Frozen):
    """Customers with zero revenue in at least one of ``months`` months."""

    key: Literal["inactive"] = "inactive"
    months: int


class OutlierNote(_Frozen):
    """A customer above the robust threshold ``median + mad_k·MAD`` (at least ``min_ratio`` medians)."""

    key: Literal["outlier"] = "outlier"
    customer: int
    threshold: float
    mad_k: float
    min_ratio: float


#: Why a cleaning decision was taken: a key and its typed parameters (the report words it).
CleaningNote = Annotated[
    EditDistanceNote | NewCategoryNote | ImplicitDuplicatesNote | InactiveNote | OutlierNote,
    Field(discriminator="key"),
]


class CleaningEntry(_Frozen):
    """One logged cleaning decision."""

    table: str
    column: str | None
    action: str
    from_: Scalar = Field(alias="from")
    to: Scalar
    rows: int
    note: CleaningNote | None = None


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
class NotInstalledSkip(_Frozen):
    """The candidate's library is not installed."""

    key: Literal["not_installed"] = "not_installed"
    package: str


class TooManyRowsSkip(_Frozen):
    """The training part has more rows than the candidate's ``max_rows``."""

    key: Literal["too_many_rows"] = "too_many_rows"
    max_rows: int


class TooFewRowsSkip(_Frozen):
    """k nearest neighbours asks for more neighbours than a cross-validation fold has rows."""

    key: Literal["too_few_rows"] = "too_few_rows"
    neighbours: int
    fold_rows: int


#: Why a candidate was not compared: a key and its typed parameters (the report words it).
SkipNote = Annotated[NotInstalledSkip | TooManyRowsSkip | TooFewRowsSkip, Field(discriminator="key")]


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
    note: SkipNote | None = None


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

    @property
    def false_positive_rate(self) -> float:
        """FP / (FP + TN)."""
        return self.fp / max(self.fp + self.tn, 1)


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
    #: How ``roc_auc_ci95`` was obtained: ``bootstrap`` (percentile, ``ModelConfig.bootstrap``
    #: resamples), or ``delong`` above ``ModelConfig.bootstrap_max_rows`` test customers (``None``
    #: in results written before this field: the bootstrap).
    roc_auc_ci_method: Literal["bootstrap", "delong"] | None = None


class SelectionRule(_Frozen):
    """How the model was chosen among candidates whose cross-validated ROC-AUC differ by noise."""

    rule: Literal["one_standard_error", "best_mean"]
    #: The candidate with the highest mean CV ROC-AUC, and the standard error of that mean.
    best_mean: str
    standard_error: float
    #: Best mean − one standard error: candidates at or above it are indistinguishable from the best.
    threshold: float
    #: Those candidates, simplest first (``ModelConfig.complexity``).
    within: tuple[str, ...]


class CalibrationBin(_Frozen):
    """One bin of the test part's calibration curve, with an interval for its observed share."""

    predicted: float
    observed: float
    n: int
    lo: float
    hi: float
    #: The bin's mean predicted probability lies inside the interval of its observed share.
    covered: bool


class CalibrationCheck(_Frozen):
    """Whether the probabilities can be read as expected shares, bin by bin."""

    level: float
    bins: tuple[CalibrationBin, ...]
    n_covered: int
    min_covered: float
    #: Bins that must be covered: ``ceil(min_covered × bins)``.
    required: int
    calibrated: bool
    #: The bin farthest from its observed share (largest |predicted − observed|).
    worst: CalibrationBin


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
    #: How the selected model was chosen (``None`` in results written before this field).
    selection: SelectionRule | None = None
    #: The calibration of the test part's probabilities, bin by bin (``None`` before this field).
    calibration_check: CalibrationCheck | None = None
    #: The candidate with the highest mean CV ROC-AUC after the selected one (``None`` when
    #: no other candidate was scored).
    runner_up: str | None = None

    def without_measurements(self) -> ModelResult:
        """A copy without the candidates' fit seconds (they vary from run to run)."""
        return self.model_copy(update={"candidates": tuple(c.model_copy(update={"fit_seconds": None})
                                                           for c in self.candidates)})


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
    """A single customer's prediction, explained.

    SHAP explains the refit model's raw output: ``base_value`` plus every contribution equals
    ``raw_output``; the calibration map turns it into ``refit_probability``. ``probability`` is
    the customer's probability in the report and in scores.csv: for a test customer the same
    number, for a training customer the out-of-fold one (from the fold fit that did not see the
    customer), which differs from the refit model's (``out_of_fold``).
    """

    id: int
    segment: str
    probability: float
    base_value: float
    #: Every feature's contribution, largest |SHAP| first.
    contributions: tuple[Contribution, ...]
    raw_output: float | None = None
    refit_probability: float | None = None
    out_of_fold: bool = False


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
    #: Features SHAP ranks as important while permutation importance finds them within noise
    #: (``ImportanceConfig.disagreement_*``), by mean |SHAP|.
    disagreements: tuple[str, ...] = ()
    #: Test customers whose features permutation importance shuffled: all of the test part, or a
    #: seeded random sample of ``ImportanceConfig.permutation_max_rows`` above it (``None`` in
    #: results written before it was recorded).
    permutation_rows: int | None = None

    @property
    def rest_approximated(self) -> bool:
        """Whether the customers outside the exact sample have approximate SHAP values (TreeSHAP's
        fast path; other explainers leave them without reasons)."""
        return self.sampled and self.explainer == "TreeExplainer"

    @property
    def beeswarm_points(self) -> int:
        """Customers the beeswarm shows: the explained customers, or a random sample of
        ``ImportanceConfig.beeswarm_rows`` of them."""
        return len(self.beeswarm.shap[0]) if self.beeswarm.shap else 0

    def without_measurements(self) -> ImportanceResult:
        """A copy without the seconds the SHAP values took (they vary from run to run)."""
        return self.model_copy(update={"seconds": None})


# ----------------------------------------------------------------------------------- segments
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
    rule: SegmentRule
    priority: bool
    n_customers: int
    share: float
    mean_probability: float
    mean_profit: float
    #: Σ probability × profit: the upper bound of the loss (a decline as the loss of all profit).
    profit_at_risk: float
    #: ``profit_at_risk × SegmentConfig.decline_loss_share``: the expected loss.
    expected_loss: float
    #: The segment's share of the total profit at risk (0 when there is none).
    profit_at_risk_share: float
    profile: SegmentProfile


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


class RoundedTotal(_Frozen):
    """Parts and their total, each rounded to a whole number as a table prints them."""

    total: int
    parts_sum: int

    @property
    def consistent(self) -> bool:
        """The printed parts add up to the printed total."""
        return self.total == self.parts_sum


class SegmentsResult(_Frozen):
    """Segmentation of all analysed customers."""

    probability_threshold: float
    profit_threshold: float
    segments: tuple[Segment, ...]
    priority: str
    deep_dive: DeepDive
    scatter: ScatterPoints
    total_profit_at_risk: float
    #: ``total_profit_at_risk × decline_loss_share``.
    total_expected_loss: float
    share_high_risk: float
    #: The segments' profit at risk (money unit) and shares (per cent) as printed, whole
    #: numbers: the sum of the rounded parts against the rounded total (``None`` before this field).
    profit_at_risk_rounding: RoundedTotal | None = None
    share_rounding: RoundedTotal | None = None

    @property
    def priority_risk_share(self) -> float:
        """Share of the total profit at risk that the priority segment carries."""
        return next(s.profit_at_risk_share for s in self.segments if s.key == self.priority)


# ------------------------------------------------------------------------------------ actions
class RuleEvidence(_Frozen):
    """One feature of a rule, for one segment: does it separate the segment, and does the model agree?

    ``effect_size`` is the segment against the other customers (Cohen's d of the feature, or Cohen's
    h of the share with ``level``), signed so that a positive value lies in the rule's ``direction``.
    ``mean_shap`` is the feature's mean SHAP value in the segment (for a ``level``, among the
    segment's customers with it; for ``feature="probability"``, the sum over the features);
    positive raises the predicted risk.
    """

    feature: str
    level: str | None
    direction: Literal["high", "low"]
    #: The values are shares (a level's share, the probability, a share feature).
    share: bool
    segment_value: float
    others_value: float
    effect_measure: Literal["cohens_d", "cohens_h"]
    effect_size: float
    effect_size_min: float
    #: ``None`` when no customer of the segment has a SHAP value (a non-tree model's unexplained rows).
    mean_shap: float | None
    #: Customers whose SHAP values the mean is over.
    n_shap: int
    #: The per-customer cut: a population quantile (``None`` for a level: having it is the condition).
    customer_threshold: float | None
    separates: bool
    model_agrees: bool


class RuleOutcome(_Frozen):
    """One action rule evaluated for one segment."""

    action: str
    fired: bool
    #: Why it did not fire: ``empty`` (no customers), ``risk`` (not a segment it is for),
    #: ``separation``, ``shap_unknown`` (no SHAP values in the segment), ``model`` (the model
    #: disagrees), ``customers`` (no customer meets the conditions), ``value`` (no customer with a
    #: positive expected value on a channel that reaches them); ``None`` when it fired.
    blocked_by: Literal["empty", "risk", "separation", "shap_unknown", "model", "customers", "value"] | None
    evidence: tuple[RuleEvidence, ...]
    audience: int
    treatment: int
    control: int
    expected_value: float


class SegmentRules(_Frozen):
    """The rules evaluated for one segment."""

    segment: str
    outcomes: tuple[RuleOutcome, ...]

    @property
    def fired(self) -> tuple[RuleOutcome, ...]:
        """The rules that fired."""
        return tuple(o for o in self.outcomes if o.fired)


class ActionPlan(_Frozen):
    """One action over all customers who get it: audience, groups, economics, testability.

    ``audience`` = ``treatment`` + ``control``. Costs and expected values are totals over the
    treatment group (the control group is not reached), in the money unit per month.
    """

    action: str
    discount: bool
    channels: tuple[Literal["contact", "site"], ...]
    segments: dict[str, int]
    audience: int
    audience_contact: int
    audience_site: int
    treatment_contact: int
    treatment_site: int
    treatment: int
    control: int
    mean_probability: float
    cost: float
    expected_value: float
    #: Σ probability × profit of the treatment: the most the action could save.
    value_at_stake: float
    #: The save rate at which the expected value is zero: cost / value at stake.
    break_even_save_rate: float | None
    #: Save rate assumed (weighted over the treatment's channels).
    save_rate: float
    #: Control size the power calculation asks for (uncapped), and whether the drawn groups reach it.
    control_needed: int
    testable: bool
    #: The smallest audience whose capped control group would be large enough (when not testable).
    audience_needed: int | None
    #: Minimal detectable difference in decline rate (a share) with the groups as drawn.
    mde: float | None


class ActionsResult(_Frozen):
    """Per-customer actions summarised: what ``actions.csv`` lists, action by action.

    ``n_rows`` is the number of rows of ``actions.csv`` (one per customer and action),
    ``n_customers`` the customers with at least one action (control groups included), ``offers``
    the customers with at least one action to carry out (a treatment row; their ``scores.csv``
    ``offer`` is the best of them). Every treatment row is to be carried out; a control row means
    «not this action». ``expected_value`` counts a customer with several actions once, their save
    rates combined as 1 − Π(1 − s); ``expected_value_separate`` is the plans' sum, each action as if
    alone.
    """

    plans: tuple[ActionPlan, ...]
    rules: tuple[SegmentRules, ...]
    top: tuple[str, ...]
    n_rows: int
    n_customers: int
    n_treatment: int
    n_control: int
    offers: int
    treatment_contact: int
    treatment_site: int
    #: Customers with more than one action to carry out.
    customers_several: int
    cost: float
    expected_value: float
    expected_value_separate: float
    #: Contact actions reaching a customer without consent (0 by construction; checked).
    contact_without_consent: int

    def plan(self, action: str) -> ActionPlan:
        """The plan of ``action``."""
        for p in self.plans:
            if p.action == action:
                return p
        raise KeyError(action)

    def rules_of(self, segment: str) -> SegmentRules:
        """The rules evaluated for ``segment``."""
        for r in self.rules:
            if r.segment == segment:
                return r
        return SegmentRules(segment=segment, outcomes=())


# -------------------------------------------------------------------------------- conclusions
class Conclusion(_Frozen):
    """A conclusion the results support; the report writes it (``report.texts.conclusion_text``)."""

    key: str


class ActionEffect(_Frozen):
    """One of last month's actions, measured: this month's decline rate, treatment against control.

    Customers of last month's groups are matched by id with this month's analysed customers;
    ``difference`` = treatment − control (negative: the action lowered the decline rate), with
    Newcombe's hybrid score 95 % interval and a two-sided two-proportion z-test p-value.
    """

    action: str
    n_treatment: int
    n_control: int
    decline_rate_treatment: float | None
    decline_rate_control: float | None
    difference: float | None
    difference_ci95: tuple[float, float] | None
    p_value: float | None
    #: Customers of last month's groups not among this month's analysed customers.
    n_gone: int
    #: Whether the interval excludes 0.
    significant: bool


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
    #: Whether the previous month's ``actions.csv`` was found (and matched its manifest).
    previous_actions: bool = False
    #: Last month's actions measured on this month's decline: treatment against control.
    action_effects: tuple[ActionEffect, ...] = ()


class Results(_Frozen):
    """Everything a run computed; the renderers' only input."""

    schema_version: Literal[3] = SCHEMA_VERSION
    meta: Meta
    data: DataResult
    eda: EdaResult
    correlation: CorrelationResult
    model: ModelResult
    importance: ImportanceResult
    segments: SegmentsResult
    actions: ActionsResult
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
        return self.model_copy(update={
            "meta": self.meta.model_copy(update={"stage_timings": ()}),
            "model": self.model.without_measurements(),
            "importance": self.importance.without_measurements(),
        })

    def save(self, path: Path) -> None:
        """Write as JSON (UTF-8, stable key order)."""
        path.write_text(self.model_dump_json(by_alias=True, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Results:
        """Read a results file written by :meth:`save` (schema 3, or 2 through :func:`migrate_v2`)."""
        text = path.read_text(encoding="utf-8")
        try:
            head = json.loads(text)
        except ValueError:
            head = None
        if isinstance(head, dict) and head.get("schema_version") == 2:
            return cls.model_validate(migrate_v2(head))
        return cls.model_validate_json(text)


def runner_up(candidates: list[dict[str, object]], selected: object) -> str | None:
    """The scored candidate with the highest mean CV ROC-AUC other than ``selected`` (ties by name)."""
    scored = [c for c in candidates if not c.get("skipped") and isinstance(c.get("cv_roc_auc_mean"), (int, float))]
    scored.sort(key=lambda c: (-float(c["cv_roc_auc_mean"]), str(c.get("name"))))  # type: ignore[arg-type]
    return next((str(c["name"]) for c in scored if c.get("name") != selected), None)


def migrate_v2(data: dict[str, object]) -> dict[str, object]:
    """A schema-2 results document as schema 3: its sentences, titles and labels dropped.

    Version 2 carried the report's wording in both languages (cleaning notes, EDA sentences,
    conclusion texts, segment titles, feature labels); version 3 has the facts only, and the
    report words them. The cleaning notes of version 2 were sentences whose numbers cannot be
    read back, so they are dropped; every other fact is unchanged.
    """
    out: dict[str, Any] = json.loads(json.dumps(data))
    out["schema_version"] = SCHEMA_VERSION
    d = out.get("data")
    if isinstance(d, dict):
        for entry in d.get("cleaning_log", ()) or ():
            if isinstance(entry, dict):
                entry.pop("note", None)
        for feature in d.get("features", ()) or ():
            if isinstance(feature, dict):
                feature.pop("label_ru", None)
                feature.pop("label_en", None)
    e = out.get("eda")
    if isinstance(e, dict):
        for part in e.values():
            for item in part if isinstance(part, list) else ():
                if isinstance(item, dict):
                    item.pop("interpretation", None)
    s = out.get("segments")
    if isinstance(s, dict):
        total = s.get("total_profit_at_risk") or 0.0
        for seg in s.get("segments", ()) or ():
            if isinstance(seg, dict):
                seg.pop("title", None)
                at_risk = seg.get("profit_at_risk") or 0.0
                seg["profit_at_risk_share"] = round(at_risk / total, 4) if total else 0.0
        s.pop("priority_risk_share", None)
    m = out.get("model")
    if isinstance(m, dict):
        for c in m.get("candidates", ()) or ():
            if isinstance(c, dict):
                c["note"] = None  # a sentence in version 2
        selected = (m.get("selected") or {}).get("name")
        m["runner_up"] = runner_up([c for c in m.get("candidates", ()) if isinstance(c, dict)], selected)
    for c in out.get("conclusions", ()) or ():
        if isinstance(c, dict):
            c.pop("text", None)
    return out
