"""One typed configuration with defaults: every threshold, budget and seed of the project.

The configuration is a frozen pydantic model, so it validates on load (``--config FILE``, TOML
or JSON), serialises into ``results.json`` → ``meta.config`` and loads back equal.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class VocabularyConfig(_Frozen):
    """Canonical values of the categorical columns; near-typos are mapped onto them."""

    service_type: tuple[str, ...] = ("стандарт", "премиум")
    allow_messages: tuple[str, ...] = ("да", "нет")
    popular_category: tuple[str, ...] = (
        "Товары для детей",
        "Домашний текстиль",
        "Косметика и аксессуары",
        "Техника для красоты и здоровья",
        "Мелкая бытовая техника и электроника",
        "Кухонная посуда",
    )
    activity: tuple[str, ...] = ("Снизилась", "Прежний уровень")
    money_periods: tuple[str, ...] = ("препредыдущий_месяц", "предыдущий_месяц", "текущий_месяц")
    time_periods: tuple[str, ...] = ("предыдущий_месяц", "текущий_месяц")


class CleaningConfig(_Frozen):
    """Typo correction and the outlier rule."""

    vocabulary: VocabularyConfig = VocabularyConfig()
    #: A value within this edit distance of exactly one canonical value is a typo of it …
    typo_max_distance: int = Field(2, ge=1)
    #: … provided the distance is at most this share of the canonical value's length.
    typo_max_relative: float = Field(0.25, gt=0, le=1)
    #: Robust outlier rule on revenue: value > median + k · MAD·1.4826 (per period) …
    outlier_mad_k: float = Field(10.0, gt=0)
    #: … and at least this many times the median.
    outlier_min_ratio: float = Field(5.0, gt=1)
    #: ``drop`` removes the customer; ``cap`` replaces the value by the threshold.
    outlier_policy: Literal["drop", "cap"] = "drop"
    #: Maximum number of offending rows quoted in an error message.
    max_rows_in_error: int = Field(5, ge=1)
    #: A cell longer than this many characters is refused (the longest category name has 36; a
    #: hostile 5 MB cell made the typo search take minutes and the PDF never finish).
    max_cell_chars: int = Field(200, ge=10, le=100_000)
    #: More distinct new values than this in a category column (no near-typo of a known one) are
    #: refused: each becomes a category of the model, the charts and the cleaning log (1,300 distinct
    #: values made the sample's build 20× slower).
    max_new_categories: int = Field(20, ge=0, le=1000)
    #: Numbers beyond ±this are refused: 1e308 passes every sign check and overflows the model's
    #: sums of squares; the largest published revenue is ~1e5.
    max_abs_number: float = Field(1e12, gt=0, le=1e15)


class FeatureGroupsConfig(_Frozen):
    """Feature groups of the Ishikawa diagram (feature identifiers)."""

    communication: tuple[str, ...] = ("service_type", "allow_messages", "marketing_6m", "marketing_current")
    product: tuple[str, ...] = ("popular_category", "promo_share", "categories_per_visit", "unpaid_items")
    purchasing: tuple[str, ...] = ("revenue_prev2", "revenue_prev", "revenue_current")
    site: tuple[str, ...] = ("pages_per_visit", "minutes_prev", "minutes_current", "service_errors", "tenure_days")

    @model_validator(mode="after")
    def _every_feature_once(self) -> FeatureGroupsConfig:
        from analysis.schema import FEATURES

        seen: dict[str, str] = {}
        for key, members in self.as_dict().items():
            for feature in members:
                if feature not in FEATURES:
                    raise ValueError(f"groups.{key}: unknown feature {feature!r}; the features are "
                                     + ", ".join(FEATURES))
                if feature in seen:
                    raise ValueError(f"groups.{key}: {feature!r} is already in groups.{seen[feature]}")
                seen[feature] = key
        missing = [f for f in FEATURES if f not in seen]
        if missing:
            raise ValueError(f"groups: every feature needs a group; missing {', '.join(missing)}")
        return self

    def as_dict(self) -> dict[str, tuple[str, ...]]:
        """Group key → members, in diagram order."""
        return {
            "communication": self.communication,
            "product": self.product,
            "purchasing": self.purchasing,
            "site": self.site,
        }

    def group_of(self, feature: str) -> str:
        """Return the group key of ``feature``."""
        for key, members in self.as_dict().items():
            if feature in members:
                return key
        raise KeyError(feature)


class EdaConfig(_Frozen):
    """Exploratory analysis."""

    histogram_bins: int = Field(20, ge=5, le=200)
    #: Significance level of the per-feature tests.
    alpha: float = Field(0.05, gt=0, lt=1)
    #: |rank-biserial| / Cramér's V thresholds for «small», «medium», «large» effects.
    effect_small: float = 0.1
    effect_medium: float = 0.3
    effect_large: float = 0.5
    #: Above this many rows the box-plot outliers are not listed.
    max_fliers: int = 50


class CorrelationConfig(_Frozen):
    """phik correlations and multicollinearity."""

    #: |phik| at or above this flags a pair as multicollinear.
    phik_threshold: float = Field(0.8, gt=0, le=1)
    #: VIF at or above this flags a numeric feature.
    vif_threshold: float = Field(5.0, gt=1)
    #: Above this many rows phik is computed on a stated random sample of this size.
    max_rows: int = Field(20_000, ge=100)
    #: Compute the phik significance (z-score) matrix (costly at scale).
    significance: bool = True
    #: Above this many rows the significance matrix is skipped and the report says so.
    significance_max_rows: int = Field(5_000, ge=100)
    bins: int = Field(10, ge=2, le=100)


#: Configurations in one candidate's grid (each one is cross-validated on every fold).
MAX_GRID_POINTS = 50


class CandidateConfig(_Frozen):
    """One candidate model family and its search grid (parameter → values)."""

    name: str
    family: Literal[
        "knn", "decision_tree", "logistic_regression", "svc", "extra_trees", "random_forest",
        "hist_gradient_boosting", "lightgbm",
    ]
    params: dict[str, int | float | str | bool | None] = {}
    grid: dict[str, tuple[int | float | str | bool | None, ...]] = {}
    #: Skip this candidate above this many training rows (SVC and KNN do not scale).
    max_rows: int | None = None

    @model_validator(mode="after")
    def _bounded_grid(self) -> CandidateConfig:
        size = math.prod(len(values) for values in self.grid.values())
        if size > MAX_GRID_POINTS:
            raise ValueError(f"candidate {self.name!r}: its grid has {size} configurations; at most "
                             f"{MAX_GRID_POINTS}, each cross-validated")
        if any(not values for values in self.grid.values()):
            raise ValueError(f"candidate {self.name!r}: a grid parameter without values")
        return self


def _default_candidates() -> tuple[CandidateConfig, ...]:
    return (
        # KNN's cost is in prediction (every query against every training row): 28 s of CPU for its
        # 2×5 CV fits on a 50,000-row selection sample, measured; skipped above 20,000 rows.
        CandidateConfig(name="KNN", family="knn", params={"weights": "distance"},
                        grid={"n_neighbors": (31, 51)}, max_rows=20_000),
        CandidateConfig(name="DecisionTree", family="decision_tree", params={"min_samples_leaf": 10},
                        grid={"max_depth": (4, 6)}),
        CandidateConfig(name="LogisticRegression", family="logistic_regression",
                        grid={"C": (0.1, 1.0)}),
        # Kernel SVC costs O(n²) or more: 0.94 s a fit at 6,000 rows (10k customers), so ~7 s a fit
        # and ~45 s of CV at 20,000 (measured and extrapolated); skipped above 5,000 rows.
        CandidateConfig(name="SVC", family="svc", params={"kernel": "rbf"}, grid={"C": (1.0,)},
                        max_rows=5_000),
        # 60 trees of depth ≤ 8: the same CV ROC-AUC as 100 or 200 unbounded trees within noise
        # (measured on the published data, 5×3 CV: 0.921, 0.9205, 0.920), and exact TreeSHAP for every
        # customer ~10× cheaper than with unbounded trees (1.4 ms a row; 2.6 ms with 100 trees of depth 8).
        CandidateConfig(name="ExtraTrees", family="extra_trees",
                        params={"n_estimators": 60, "min_samples_leaf": 2, "max_depth": 8,
                                "max_features": "sqrt"}),
        CandidateConfig(name="HistGradientBoosting", family="hist_gradient_boosting",
                        params={"learning_rate": 0.1, "max_iter": 100, "max_leaf_nodes": 15,
                                "l2_regularization": 1.0}),
    )


def _extra_candidates() -> tuple[CandidateConfig, ...]:
    return (
        CandidateConfig(name="RandomForest", family="random_forest",
                        params={"n_estimators": 100, "min_samples_leaf": 3, "max_depth": 10,
                                "max_features": "sqrt"}),
        CandidateConfig(name="LightGBM", family="lightgbm",
                        params={"n_estimators": 150, "learning_rate": 0.05, "num_leaves": 15,
                                "min_child_samples": 20, "subsample": 0.8, "subsample_freq": 1,
                                "colsample_bytree": 0.8, "verbose": -1}),
    )


class ModelConfig(_Frozen):
    """Model selection protocol and budgets."""

    test_size: float = Field(0.25, gt=0, lt=1)
    cv_folds: int = Field(5, ge=2, le=50)
    cv_repeats: int = Field(1, ge=1, le=100)
    candidates: tuple[CandidateConfig, ...] = Field(default_factory=_default_candidates)
    #: The «thorough» search adds these families and repeats the CV ``thorough_repeats`` times.
    thorough: bool = False
    extra_candidates: tuple[CandidateConfig, ...] = Field(default_factory=_extra_candidates)
    thorough_repeats: int = Field(5, ge=1, le=100)
    #: Above this many training rows, model selection runs on a stratified sample of this size.
    #: Measured at a million customers: on 20,000 rows as on 50,000 the one-standard-error rule
    #: picks LogisticRegression (CV ROC-AUC 0.9095 ± SE 0.0023 vs 0.9104 ± 0.0017), for 5.1 s of
    #: selection instead of 7.5 s. Kept equal to ``refit_max_rows``: the selected model is then
    #: refitted on that very sample, whose out-of-fold scores its calibration is fitted on.
    selection_max_rows: int = Field(20_000, ge=500)
    #: Above this many training rows, the selected model is fitted on a stratified sample of this
    #: size (the selection sample itself when both budgets are equal) instead of the whole training
    #: part; customers of that sample get out-of-fold probabilities, every other customer is scored
    #: by the fitted model, which never saw them. Measured at 1M customers (750k training rows):
    #: test ROC-AUC 50k vs 750k rows — LogisticRegression 0.9102 vs 0.9103, HistGradientBoosting
    #: 0.9082 vs 0.9095, ExtraTrees 0.9065 vs 0.9068 — for fits of 0.2/1.2/2.6 s vs 1.6/17/139 s
    #: (plus five more such fits for the out-of-fold probabilities when the budgets differ); on
    #: 20k rows LogisticRegression 0.9098 (Brier 0.1177 against 0.1175 on 50k, the same two of ten
    #: calibration bins covered), the whole million-customer build 2.3 s shorter.
    refit_max_rows: int = Field(20_000, ge=500)
    #: Bootstrap resamples for the test ROC-AUC interval.
    bootstrap: int = Field(1000, ge=100, le=100_000)
    #: Above this many test customers the ROC-AUC interval is DeLong's (the variance of the AUC
    #: from each customer's placement among the other class, one ranking: linear after a sort)
    #: instead of the bootstrap, whose cost grows as resamples × customers: at 2.5M test customers
    #: (ten million customers) the bootstrap took 79 s. Both use every test customer. Measured with
    #: 1,000 resamples on scores of AUC ≈ 0.91: at 50k, 100k and 250k test customers both intervals
    #: agree to 0.0001, for 0.22 / 0.44 / 1.1 s of bootstrap against 0.01 / 0.02 / 0.05 s (a million
    #: customers' build spent 1.9–2.3 s on it).
    bootstrap_max_rows: int = Field(50_000, ge=100)
    #: Decision threshold for the confusion matrix.
    threshold: float = Field(0.5, gt=0, lt=1)
    calibration_bins: int = Field(10, ge=3, le=100)
    #: Confidence of the interval of the observed share in each calibration bin (Wilson).
    calibration_level: float = Field(0.95, gt=0, lt=1)
    #: The probabilities are called calibrated («read as expected shares») when at least this
    #: share of the test part's calibration bins has its predicted mean inside that interval.
    calibrated_min_covered: float = Field(0.9, gt=0, le=1)
    #: Calibrate (sigmoid, on out-of-fold scores) when it lowers the CV Brier score.
    calibrate: bool = True
    #: How the model is chosen from the cross-validated candidates: ``one_standard_error`` takes
    #: the simplest candidate (lowest ``complexity``) whose mean ROC-AUC is within one standard
    #: error (fold SD / √fits) of the best mean, since differences inside that band are noise;
    #: ``best_mean`` takes the best mean.
    selection_rule: Literal["one_standard_error", "best_mean"] = "one_standard_error"
    #: Complexity rank of each family for that rule (lower is simpler): how much the fitted model
    #: keeps and how directly it can be explained — a linear model, one tree, tree ensembles
    #: (explained exactly by TreeSHAP), boosted ensembles and kernel machines, and k nearest
    #: neighbours, which keeps every training row and is explained only model-agnostically.
    complexity: dict[str, int] = Field(default_factory=lambda: {
        "logistic_regression": 1, "decision_tree": 2, "extra_trees": 3, "random_forest": 3,
        "hist_gradient_boosting": 4, "lightgbm": 4, "svc": 4, "knn": 5})
    #: Rows scored per batch when predicting every customer.
    batch_size: int = Field(100_000, ge=1000)
    #: Points kept for the ROC and PR curves.
    curve_points: int = Field(200, ge=20, le=10_000)


class ImportanceConfig(_Frozen):
    """SHAP and permutation importance."""

    #: Exact SHAP for at most this many customers (a stated stratified sample above it).
    shap_max_rows: int = Field(2_000, ge=50)
    #: Customers per batch for the fast-path (approximate) SHAP values of everyone else.
    batch_size: int = Field(50_000, ge=1000)
    #: Rows shown in the beeswarm.
    beeswarm_rows: int = Field(600, ge=50)
    #: Background rows for the model-agnostic (permutation) explainer.
    background_rows: int = Field(50, ge=10)
    permutation_repeats: int = Field(5, ge=1, le=100)
    permutation_max_rows: int = Field(5_000, ge=100)
    #: Reasons per customer in scores.csv.
    top_reasons: int = Field(3, ge=1, le=10)
    #: Individual customers explained in the report.
    examples: int = Field(3, ge=1, le=20)
    #: SHAP and permutation importance disagree on a feature when its share of the total mean
    #: |SHAP| is at least ``disagreement_min_shap_share`` while shuffling it lowers the test
    #: ROC-AUC by no more than ``disagreement_max_permutation`` (within noise).
    disagreement_min_shap_share: float = Field(0.05, gt=0, lt=1)
    disagreement_max_permutation: float = Field(0.003, ge=0)


class SegmentConfig(_Frozen):
    """Probability × profit segmentation."""

    #: Probability at or above this is «high risk».
    risk_threshold: float = Field(0.5, gt=0, lt=1)
    #: Profit above this quantile of active customers' profit is «high value».
    value_quantile: float = Field(0.5, gt=0, lt=1)
    #: Points of the scatter plot (a stated random sample above it).
    scatter_max_points: int = Field(3_000, ge=100)
    #: Share of a customer's profit lost when the activity declines, for the expected loss.
    #: «Profit at risk» (probability × profit) is its upper bound: a decline as the loss of all
    #: profit. The data give no measure of it; 0.5 is an assumption, stated in the report.
    decline_loss_share: float = Field(0.5, gt=0, le=1)


class ActionEconomics(_Frozen):
    """Economics of one action, per channel: the cost of reaching one customer and the assumed save
    rate (the share of would-be decliners the action keeps). ``None`` cost: no variant on that channel.

    Costs are in the data's money unit per month (``ReportConfig.money_unit``), like profit. The save
    rates are assumptions until a control group has measured them (``build --previous``).
    """

    contact_cost: float | None = Field(None, ge=0)
    contact_save_rate: float = Field(0.0, ge=0, le=1)
    site_cost: float | None = Field(None, ge=0)
    site_save_rate: float = Field(0.0, ge=0, le=1)


def _economics(contact: tuple[float, float] | None, site: tuple[float, float] | None) -> ActionEconomics:
    return ActionEconomics(contact_cost=contact[0] if contact else None,
                           contact_save_rate=contact[1] if contact else 0.0,
                           site_cost=site[0] if site else None, site_save_rate=site[1] if site else 0.0)


class ActionsConfig(_Frozen):
    """Which customers get which action, what it is worth, and the control groups that measure it.

    A rule fires for a segment when each of its features separates the segment from the other
    customers by at least ``effect_size_min`` (Cohen's d, or Cohen's h for a category) in the
    direction that raises the risk, and the model agrees (the feature's mean SHAP in the segment is
    positive). A customer of such a segment gets the action when *that customer* is beyond
    ``customer_quantile`` of all analysed customers on each feature, and the expected value
    ``probability × profit × save rate − cost`` of the best channel the customer can be reached on
    exceeds ``min_expected_value``.

    Default economics (money unit per month, as profit): a contact (e-mail, SMS, call; only with
    consent) costs more and saves more than the on-site variant; actions with an incentive
    (a discount, a promo code, a free premium month) cost the incentive too.
    """

    effect_size_min: float = Field(0.2, gt=0)
    customer_quantile: float = Field(0.75, gt=0.5, lt=1)
    min_expected_value: float = 0.0
    #: Actions shown on page 1 (the highest total expected value first).
    top_actions: int = Field(3, ge=1, le=6)
    promo_cart: ActionEconomics = _economics((0.20, 0.15), (0.05, 0.06))
    personalised_home: ActionEconomics = _economics(None, (0.02, 0.05))
    premium_trial: ActionEconomics = _economics((0.40, 0.20), (0.30, 0.12))
    more_communication: ActionEconomics = _economics((0.05, 0.05), None)
    fix_service: ActionEconomics = _economics((0.15, 0.10), (0.10, 0.05))
    keep_and_grow: ActionEconomics = _economics((0.05, 0.10), (0.02, 0.05))
    #: Control groups: the smallest holdout that detects a decline rate lower by ``min_effect``
    #: (a share, 0.10 = 10 percentage points) at ``alpha`` with ``power``, at most
    #: ``control_share_max`` of the audience (stratified by segment, seeded).
    min_effect: float = Field(0.10, gt=0, lt=1)
    alpha: float = Field(0.05, gt=0, lt=1)
    power: float = Field(0.8, gt=0.5, lt=1)
    control_share_max: float = Field(0.3, gt=0, lt=1)

    def economics(self, action: str) -> ActionEconomics:
        """The economics of ``action``."""
        value = getattr(self, action, None)
        if not isinstance(value, ActionEconomics):
            raise KeyError(action)
        return value


class ReportConfig(_Frozen):
    """Rendering only: nothing here may shape the results (the analysis cache, :mod:`report.cache`,
    serves one analysis to every value of these settings)."""

    lang: Literal["ru", "en"] = "ru"
    dpi: int = Field(110, ge=50, le=600)
    #: Above this many points a plot's data layer is rasterised.
    rasterize_above: int = Field(200, ge=1)
    #: The money unit of profit and costs, a key of the catalogues' ``money.unit.*`` (the data
    #: give none: «усл. ед./мес.», conventional units per month, by default).
    money_unit: Literal["unit", "thousand_rub", "rub"] = "unit"
    #: A data file of the build (``scores.csv``, ``actions.csv``) larger than this many bytes is
    #: not embedded in the PDF/A-3 (``results.json`` and ``manifest.json`` always are): it is
    #: delivered beside the report and in the archive, and the manifests record its SHA-256.
    #: 16 MiB keeps the PDF of a mailed report under the usual 20–25 MB message limits after
    #: base64; 0 embeds no data file.
    attach_max_bytes: int = Field(16 << 20, ge=0)


class ComparisonConfig(_Frozen):
    """Month-over-month comparison: drift of the feature distributions (PSI)."""

    #: PSI at or above this flags a feature as drifted.
    psi_threshold: float = Field(0.2, gt=0)
    #: PSI at or above this (and below ``psi_threshold``) is a moderate shift worth watching.
    psi_warn: float = Field(0.1, gt=0)
    #: Shares of a bin or level are floored at this before the logarithm (empty bins).
    psi_epsilon: float = Field(1e-4, gt=0, lt=1)


_SQL_NAME = r"[A-Za-z_][A-Za-z0-9_$]*"


class SourceConfig(_Frozen):
    """Where a database (``--data postgresql://…``) keeps the four tables: a table name each
    (optionally ``schema.table``), or one SQL query each in ``queries`` (table → query), which
    then takes the table name's place. The query's columns carry the raw names
    (``"Покупательская активность"``, …), as the CSV header does. Credentials never go here nor in
    the URL: libpq reads them from the environment (``PGUSER``, ``PGPASSWORD``) or ``~/.pgpass``."""

    market_file: str = Field("market_file", pattern=rf"^{_SQL_NAME}(\.{_SQL_NAME})?$")
    market_money: str = Field("market_money", pattern=rf"^{_SQL_NAME}(\.{_SQL_NAME})?$")
    market_time: str = Field("market_time", pattern=rf"^{_SQL_NAME}(\.{_SQL_NAME})?$")
    money: str = Field("money", pattern=rf"^{_SQL_NAME}(\.{_SQL_NAME})?$")
    queries: dict[str, str] = Field(default_factory=dict)
    #: Seconds to wait for the server before the build gives up (libpq's ``connect_timeout``).
    connect_timeout: int = Field(10, ge=1, le=600)

    @model_validator(mode="after")
    def _known_tables(self) -> SourceConfig:
        tables = ("market_file", "market_money", "market_time", "money")
        for key, query in self.queries.items():
            if key not in tables:
                raise ValueError(f"source.queries: unknown table {key!r}; the tables are " + ", ".join(tables))
            if not query.strip():
                raise ValueError(f"source.queries.{key}: empty query")
        return self

    def query(self, table: str) -> str:
        """The SQL that reads ``table``: its query, or every column of its table."""
        if table in self.queries:
            return self.queries[table].strip().rstrip(";")
        name = getattr(self, table)
        return "SELECT * FROM " + ".".join(f'"{part}"' for part in name.split("."))
class ExecutorConfig(_Frozen):
    """The build's worker processes (:mod:`runtime.executor`; ``n_jobs`` of them)."""

    #: Seconds one worker task (a stage, a fit, a batch of figures, the PDF) may take before the
    #: build stops its workers and fails (a hung worker).
    task_timeout: float = Field(600.0, gt=0)


class CacheConfig(_Frozen):
    """Limits of the analysis cache (:mod:`report.cache`); they do not shape the results."""

    #: Entries kept (the least recently used are removed first).
    max_entries: int = Field(8, ge=1, le=1000)
    #: Bytes kept in all (a million customers' entry is ~80 MB, most of it scores.csv).
    max_bytes: int = Field(4 << 30, ge=1 << 20)


class Config(_Frozen):
    """The project's whole configuration."""

    #: numpy's and scikit-learn's seeds are unsigned 32-bit integers.
    seed: int = Field(42, ge=0, le=2**32 - 1)
    #: Worker processes of a build (runtime.executor); joblib threads of an estimator fitted here.
    n_jobs: int = Field(2, ge=1, le=256)
    #: BLAS/OpenMP threads for the whole run (HistGradientBoosting, numpy linear algebra).
    openmp_threads: int = Field(1, ge=1, le=256)
    cleaning: CleaningConfig = CleaningConfig()
    groups: FeatureGroupsConfig = FeatureGroupsConfig()
    eda: EdaConfig = EdaConfig()
    correlation: CorrelationConfig = CorrelationConfig()
    model: ModelConfig = ModelConfig()
    importance: ImportanceConfig = ImportanceConfig()
    segments: SegmentConfig = SegmentConfig()
    actions: ActionsConfig = ActionsConfig()
    report: ReportConfig = ReportConfig()
    comparison: ComparisonConfig = ComparisonConfig()
    source: SourceConfig = SourceConfig()
    cache: CacheConfig = CacheConfig()
    executor: ExecutorConfig = ExecutorConfig()


def load_config(path: Path | None = None) -> Config:
    """Load a configuration file (TOML or JSON) over the defaults.

    Parameters
    ----------
    path : Path or None
        ``None`` returns the defaults.

    Raises
    ------
    pydantic.ValidationError
        When a value is of the wrong type or out of range.
    """
    if path is None:
        return Config()
    if path.is_dir():
        raise IsADirectoryError(21, "a folder, not a configuration file", str(path))
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    return Config.model_validate(data)


#: One setting's value in the flattened configuration (:func:`settings`).
SettingValue = str | int | float | bool | None | tuple[str | int | float | bool | None, ...]


def _flatten(prefix: str, value: object) -> Iterator[tuple[str, SettingValue]]:
    """``(dotted.path, value)`` rows of a JSON-like value; a list of mappings item by item, as
    ``path[name]`` when the item has a name, else ``path[index]``."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _flatten(f"{prefix}.{key}" if prefix else str(key), item)
    elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        for index, item in enumerate(value):
            yield from _flatten(f"{prefix}[{item.get('name', index)}]", item)
    elif isinstance(value, list):
        yield prefix, tuple(value)
    else:
        yield prefix, value  # type: ignore[misc]  # a JSON scalar


def settings(config: Config) -> dict[str, SettingValue]:
    """Every setting of ``config`` by dotted path (``segments.risk_threshold``,
    ``model.candidates[KNN].grid.n_neighbors``), in config order, without the analysis cache's
    limits (they shape neither the results nor the report)."""
    dumped = config.model_dump(mode="json")
    dumped.pop("cache", None)
    return dict(_flatten("", dumped))


def changed_settings(config: Config) -> tuple[tuple[str, SettingValue, SettingValue], ...]:
    """``(path, value, default)`` of every setting of ``config`` that differs from this code's
    default, in config order: a setting the defaults have not (an added action, a candidate's
    extra parameter) has the default ``None``, one of the defaults that ``config`` has not (a
    removed candidate) the value ``None``."""
    ours, defaults = settings(config), settings(Config())
    changed = [(path, value, defaults.get(path)) for path, value in ours.items()
               if path not in defaults or defaults[path] != value]
    changed += [(path, None, default) for path, default in defaults.items() if path not in ours]
    return tuple(changed)
