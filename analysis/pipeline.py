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
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import analysis
from analysis.config import Config
from analysis.results import CorrelationResult, EdaResult, Meta, Results, StageTiming

if TYPE_CHECKING:
    import pandas as pd

    from analysis.features import PreparedData
    from analysis.sources import Source

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


def run_analysis(data_dir: Path | Source, *, config: Config, period: str, clock: StageClock | None = None,
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

    Raises
    ------
    analysis.errors.DataError
        On invalid input.
    """
    import pandas as pd
    from threadpoolctl import threadpool_limits

    from analysis.features import fork_safe, prepare_data
    from analysis.parallel import Forked

    clock = clock or StageClock()
    seed = config.seed
    parallel = config.n_jobs > 1
    with threadpool_limits(limits=config.openmp_threads), ExitStack() as limits:
        # A forked worker loads, validates and cleans the data, then computes the EDA and the
        # correlations (they do not depend on the model), while this process imports the modelling
        # libraries and then fits the models. Forked before any OpenMP pool exists here, so it is safe.
        done: dict[str, Any] = {}

        def load_validate_clean() -> tuple[PreparedData, list[StageTiming]]:
            inner = StageClock(on_stage=clock.on_stage)
            return prepare_data(data_dir, config, clock=inner), inner.timings

        def eda() -> EdaResult:
            from analysis.eda import run_eda

            with threadpool_limits(limits=config.openmp_threads):  # pools of the libraries just imported
                return run_eda(done["load_validate_clean"][0], config.eda)

        def correlation() -> CorrelationResult:
            from analysis.correlation import run_correlation

            with threadpool_limits(limits=config.openmp_threads):
                return run_correlation(done["load_validate_clean"][0], config.correlation, random_state=seed)

        clock.announce("load_validate_clean")
        side = Forked([("load_validate_clean", load_validate_clean), ("eda", eda), ("correlation", correlation)],
                      enabled=parallel and fork_safe(), results=done)
        try:
            from analysis.actions import run_actions
            from analysis.conclusions import write_conclusions
            from analysis.importance import explain, permutation_importance, run_importance, top_reasons
            from analysis.model import run_model
            from analysis.segments import assign_segments, run_segments

            # threadpoolctl limits the pools of the libraries loaded when it is entered: scikit-learn's
            # OpenMP runtime was loaded just now (two threads per fit here made the models 3–4× slower)
            limits.enter_context(threadpool_limits(limits=config.openmp_threads))
            data, data_timings = side.get("load_validate_clean")
            outer = side.timings["load_validate_clean"]
            clock.timings += [t.model_copy(update={"parent": t.parent or outer.stage,
                                                   "concurrent": outer.concurrent}) for t in data_timings]
            clock.timings.append(outer)
            if after_load is not None:
                after_load(dict(data.input_sha256))
            clock.announce("eda", "correlation")
            position = len(clock.timings)
            with clock.stage("model"):
                model = run_model(data, config.model, random_state=seed, n_jobs=config.n_jobs, clock=clock,
                                  parallel=parallel and config.openmp_threads == 1)
            with clock.stage("segments"):
                segment_of, profit_threshold = assign_segments(model.probability, data.frame["profit"],
                                                               config.segments)
                segments = run_segments(data, model.probability, segment_of, profit_threshold, config.segments,
                                        config.actions, random_state=seed)
            with clock.stage("shap"):
                start = time.perf_counter()
                # Permutation importance does not depend on the SHAP values: computed beside them. Not with
                # OpenMP pools in this process (libgomp is not fork-safe): LightGBM, or more OpenMP threads.
                fork_ok = parallel and config.openmp_threads == 1 and model.model.candidate.family != "lightgbm"
                perm = Forked([("permutation", lambda: permutation_importance(model, data, config.importance,
                                                                              random_state=seed))], enabled=fork_ok)
                try:
                    with clock.stage("shap_values"):
                        explanation = explain(model, data, config.importance, random_state=seed,
                                              n_jobs=config.n_jobs if fork_ok else 1)
                    (permutation,), perm_timings = perm.join()
                finally:
                    perm.cancel()
                clock.timings += [t.model_copy(update={"parent": "shap"}) for t in perm_timings]
                importance = run_importance(model, data, explanation, segment_of, config.importance,
                                            random_state=seed, seconds=time.perf_counter() - start,
                                            n_jobs=config.n_jobs, permutation=(permutation[0], permutation[1], 0.0))
            with clock.stage("actions"):
                actions = run_actions(data.frame, model.probability, segment_of, explanation.values,
                                      config=config.actions, risk_threshold=config.segments.risk_threshold,
                                      random_state=seed)
            with clock.stage("scores"):
                reasons = top_reasons(explanation, k=config.importance.top_reasons)
                scores = pd.DataFrame({
                    "id": data.frame.index.to_numpy(),
                    "probability": model.probability.round(4).to_numpy(),
                    "segment": segment_of.to_numpy(),
                    "profit": data.frame["profit"].to_numpy(),
                    "in_test": model.is_test.to_numpy(),
                })
                for column in reasons.columns:
                    scores[column] = reasons[column].to_numpy()
                scores["offer"] = scores["id"].map(actions.offers()).fillna("")
            # the side worker's results are needed only now: it had the model, the segments and the
            # SHAP stages to finish them (measured: it no longer keeps this process waiting)
            eda_result, correlation_result = side.get("eda"), side.get("correlation")
        finally:
            side.cancel()
        clock.timings[position:position] = [side.timings["eda"], side.timings["correlation"]]
        conclusions = write_conclusions(data=data.result, eda=eda_result, correlation=correlation_result,
                                        model=model.result, importance=importance, segments=segments)
    meta = Meta(period=period, report_date=report_date(period), input_sha256=data.input_sha256,
                versions=package_versions(), code_version=code_version(), config=config, seed=seed,
                stage_timings=tuple(clock.timings))
    results = Results(meta=meta, data=data.result, eda=eda_result, correlation=correlation_result,
                      model=model.result, importance=importance, segments=segments, actions=actions.result,
                      conclusions=conclusions)
    return AnalysisOutput(results=results, scores=scores, features=data.frame, actions=actions.table,
                          sources=data.sources)
