"""The analysis pipeline: raw CSVs → one :class:`Results` object (plus the per-customer scores).

Stages: load/validate/clean/features → eda → correlation → model → importance → segments →
conclusions. Each stage is timed (wall, CPU, peak memory) into ``meta.stage_timings``. BLAS and
OpenMP pools are pinned to ``config.openmp_threads`` (1 by default: two OpenMP threads on this
2-core machine under load made a HistGradientBoosting fit 30× slower); tree ensembles use
``config.n_jobs`` joblib threads instead.
"""

from __future__ import annotations

import calendar
import hashlib
import platform
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import analysis
from analysis.config import Config, changed_settings
from analysis.results import (CorrelationResult, DataResult, EdaResult, ImportanceResult, Meta, ModelResult, Results,
                              SegmentsResult, SettingChange, StageTiming)
from runtime import collector

if TYPE_CHECKING:
    import pandas as pd

    from analysis.features import PreparedData
    from analysis.sources import Source
    from runtime.executor import Executor

_PACKAGES = ("numpy", "pandas", "polars", "pyarrow", "scipy", "scikit-learn", "pandera", "phik", "shap", "lightgbm",
             "pydantic")


def package_versions(names: tuple[str, ...] = _PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that shape the results."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def code_version() -> str:
    """The package version and a hash of the project's source files (analysis, report, templates)."""
    root = Path(analysis.__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for folder in ("analysis", "report", "templates"):
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and path.suffix in {".py", ".html", ".css", ".json", ".qmd"}:
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
    return f"{analysis.__version__}+{digest.hexdigest()[:12]}"


def report_date(period: str) -> str:
    """The date printed in the report: the last day of the period (never the wall clock)."""
    year, month = (int(x) for x in period.split("-"))
    return f"{year:04d}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}"


@dataclass
class StageClock:
    """Times pipeline stages: wall, CPU and peak resident memory."""

    timings: list[StageTiming] = field(default_factory=list)
    on_stage: Callable[[str], None] | None = None
    _open: list[str] = field(default_factory=list, repr=False)

    def announce(self, *names: str) -> None:
        """Report progress: stages starting now (also those another process runs)."""
        if self.on_stage is not None:
            for name in names:
                self.on_stage(name)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the enclosed block as stage ``name``.

        Stages may nest: an inner stage records its enclosing stage as ``parent`` (and is
        listed before it), so summing the stages without a parent never counts time twice.
        """
        self.announce(name)
        parent = self._open[-1] if self._open else None
        self._open.append(name)
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self._open.pop()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.timings.append(StageTiming(stage=name, wall_seconds=round(time.perf_counter() - wall, 3),
                                        cpu_seconds=round(time.process_time() - cpu, 3), peak_rss_mb=round(peak, 1),
                                        parent=parent))


@dataclass(frozen=True, slots=True)
class AnalysisOutput:
    """The results object, the per-customer scores, the per-customer actions (the list a CRM acts
    on, :data:`analysis.actions.ACTION_COLUMNS`) and the features."""

    results: Results
    scores: pd.DataFrame
    features: pd.DataFrame
    actions: pd.DataFrame
    #: What was read, table by table: :attr:`analysis.features.PreparedData.sources`.
    sources: tuple[dict[str, str | int], ...] = ()


def timed(name: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> tuple[Any, StageTiming]:
    """``fn(*args, **kwargs)`` and its timing as stage ``name``, marked ``concurrent`` (run by a
    worker process while the build went on)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return result, StageTiming(stage=name, wall_seconds=round(time.perf_counter() - wall, 3),
                               cpu_seconds=round(time.process_time() - cpu, 3),
                               peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                               concurrent=True)


def _eda(data: PreparedData, config: Config) -> EdaResult:
    from analysis.eda import run_eda

    return run_eda(data, config.eda)


def _correlation(data: PreparedData, config: Config) -> CorrelationResult:
    from analysis.correlation import run_correlation

    return run_correlation(data, config.correlation, random_state=config.seed)


@dataclass(frozen=True, slots=True)
class Findings:
    """What the analysis knows before its end: the data, the EDA and the correlations before the
    model; then also the model and the segments; then also the importance (``None`` until known).
    Without the run's own measurements (fit and SHAP seconds), as the archived report shows them."""

    data: DataResult
    eda: EdaResult
    correlation: CorrelationResult
    model: ModelResult | None = None
    segments: SegmentsResult | None = None
    importance: ImportanceResult | None = None


def run_analysis(data_dir: Path | Source, *, config: Config, period: str, clock: StageClock | None = None,
                 executor: Executor | None = None,
                 on_findings: Callable[[Findings], None] | None = None,
                 after_load: Callable[[dict[str, str]], None] | None = None) -> AnalysisOutput:
    """Run every analysis stage on the four tables in ``data_dir``.

    Parameters
    ----------
    data_dir : Path or analysis.sources.Source
        Folder with ``market_file.csv``, ``market_money.csv``, ``market_time.csv``, ``money.csv``
        (or ``<table>.parquet``), or a database (:class:`analysis.sources.PostgresSource`).
    config : Config
        Thresholds, budgets and the seed.
    period : str
        The reporting month, ``YYYY-MM``.
    clock : StageClock, optional
        Collects stage timings (and reports progress); a new one when omitted.
    after_load : callable, optional
        Called with what was read (table file → SHA-256, as ``meta.input_sha256``) once the data
        are loaded, validated and cleaned, before the model; an exception it raises ends the
        analysis there (the analysis cache serves a source it cannot hash before reading so).
    executor : runtime.executor.Executor, optional
        Worker processes for the cross-validation fits, the exact TreeSHAP rows and the
        permutation importance (beside the SHAP values); without one everything runs here, with
        the same results.
    on_findings : callable, optional
        Called with the :class:`Findings` as they grow: as soon as the EDA and the correlations
        are known (before the model is fitted), once the customers are segmented, and once the
        importance is known (before the actions).

    Raises
    ------
    analysis.errors.DataError
        On invalid input.
    """
    from threadpoolctl import threadpool_limits

    from analysis.features import prepare_data
    from runtime.executor import Executor

    clock = clock or StageClock()
    ex = executor or Executor(workers=0, task_timeout=config.executor.task_timeout)
    seed = config.seed
    with threadpool_limits(limits=config.openmp_threads), ExitStack() as limits:
        with clock.stage("load_validate_clean"):
            data = prepare_data(data_dir, config, clock=clock)
        if after_load is not None:
            after_load(dict(data.input_sha256))
        # Imported, and the EDA and the correlations computed, here while the workers' forkserver
        # imports its modules on the other core (the workers exist only once it has).
        from analysis.actions import run_actions
        from analysis.conclusions import write_conclusions
        from analysis.importance import explain, permutation_sample, permuted, run_importance
        from analysis.model import run_model
        from analysis.scores import score_table
        from analysis.segments import assign_segments, run_segments

        limits.enter_context(threadpool_limits(limits=config.openmp_threads))  # the pools loaded just now
        # What is alive now (the libraries just imported, the prepared data) lives as long as the
        # analysis: frozen out of the garbage collector's way until it ends, a full collection that
        # the stages' allocations trigger traverses only what they made (the real data: one such
        # collection in the refit, 0.13 s, is gone)
        limits.enter_context(collector.frozen())
        found: list[tuple[EdaResult, CorrelationResult]] = []
        beside = StageClock(on_stage=clock.on_stage)

        def findings() -> None:
            # here while the workers fit the model's cross-validation folds (they need neither)
            with beside.stage("eda"):
                eda_result = _eda(data, config)
            with beside.stage("correlation"):
                correlation_result = _correlation(data, config)
            found.append((eda_result, correlation_result))
            if on_findings is not None:  # e.g. their figures, queued for the workers behind those fits
                on_findings(Findings(data=data.result, eda=eda_result, correlation=correlation_result))

        position = len(clock.timings)
        with clock.stage("model"):
            model = run_model(data, config.model, random_state=seed, n_jobs=config.n_jobs, clock=clock, executor=ex,
                              meanwhile=findings)
        (eda_result, correlation_result), = found
        # listed before the model, marked as run beside it (their time is inside the model selection's)
        clock.timings[position:position] = [t.model_copy(update={"concurrent": True}) for t in beside.timings]
        with clock.stage("segments"):
            segment_of, profit_threshold = assign_segments(model.probability, data.frame["profit"],
                                                           config.segments)
            segments = run_segments(data, model.probability, segment_of, profit_threshold, config.segments,
                                    config.actions, random_state=seed)
        modelled = Findings(data=data.result, eda=eda_result, correlation=correlation_result,
                            model=model.result.without_measurements(), segments=segments)
        if on_findings is not None:  # e.g. the model's and the segments' figures, drawn beside the SHAP values
            on_findings(modelled)
        with clock.stage("shap"):
            start = time.perf_counter()
            # permutation importance does not depend on the SHAP values: a worker computes it beside them
            # (only its sample of test customers and the fitted pipeline travel to the worker: at a
            # million customers the whole frame and model output took it 0.6 s to receive)
            X_permuted, y_permuted = permutation_sample(model, data, config.importance, random_state=seed)
            permutation_future = ex.submit(timed, "permutation", permuted, model.model.pipeline, X_permuted,
                                           y_permuted, config.importance, random_state=seed)
            with clock.stage("shap_values"):
                explanation = explain(model, data, config.importance, random_state=seed, executor=ex)
            permutation, permutation_timing = ex.result(permutation_future, name="permutation")
            clock.timings.append(permutation_timing.model_copy(update={"parent": "shap"}))
            importance = run_importance(model, data, explanation, segment_of, config.importance,
                                        random_state=seed, seconds=time.perf_counter() - start,
                                        n_jobs=config.n_jobs, permutation=(permutation[0], permutation[1], 0.0))
        if on_findings is not None:  # e.g. the SHAP figures, drawn while the actions are assigned here
            on_findings(replace(modelled, importance=importance.without_measurements()))
        with clock.stage("actions"):
            actions = run_actions(data.frame, model.probability, segment_of, explanation.values,
                                  config=config.actions, risk_threshold=config.segments.risk_threshold,
                                  random_state=seed)
        with clock.stage("scores"):
            scores = score_table(ids=data.frame.index.to_numpy(), probability=model.probability.to_numpy(),
                                 segment=segment_of, profit=data.frame["profit"].to_numpy(),
                                 in_test=model.is_test.to_numpy(), shap=explanation.values, actions=actions,
                                 k=config.importance.top_reasons)
        conclusions = write_conclusions(data=data.result, eda=eda_result, correlation=correlation_result,
                                        model=model.result, importance=importance, segments=segments)
    meta = Meta(period=period, report_date=report_date(period), input_sha256=data.input_sha256,
                versions=package_versions(), code_version=code_version(), config=config, seed=seed,
                stage_timings=tuple(clock.timings),
                settings_changed=tuple(SettingChange(path=path, value=value, default=default)
                                       for path, value, default in changed_settings(config)))
    results = Results(meta=meta, data=data.result, eda=eda_result, correlation=correlation_result,
                      model=model.result, importance=importance, segments=segments, actions=actions.result,
                      conclusions=conclusions)
    return AnalysisOutput(results=results, scores=scores, features=data.frame, actions=actions.table,
                          sources=data.sources)
