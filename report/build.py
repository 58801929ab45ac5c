"""Build a report: analysis → results.json, scores.csv → figures → HTML → PDF/A-3a → manifest.

Everything is written into a work folder inside ``--out`` (locked for the whole build) and
published only when the whole build succeeded, as one set of renames (:mod:`report.publish`), so a
failed run never changes a previous good report and the build never touches files it did not write.
The build's parallel work runs in one pool of worker processes (:mod:`runtime.executor`), started
first so that its forkserver imports the libraries while this process loads the data.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import json
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from analysis.config import Config
from analysis.pipeline import StageClock, package_versions
from analysis.results import Results, StageTiming
from report.publish import check_targets, discard, lock_output, prepare_work, publish
from report.signing import sign_manifest
from runtime.executor import Executor, worker_environment

if TYPE_CHECKING:
    import pandas as pd

    from analysis.pipeline import Findings
    from analysis.sources import Source
    from report.cache import AnalysisCache, CacheHint, CacheKey
    from report.figures.jobs import FigureAsset
    from report.structure import PdfAttachments

REPORT_PREFIX = "oneclick-report"
#: The CRM's action list (:mod:`report.crm`).
ACTIONS_CSV = "actions.csv"
_RENDER_PACKAGES = ("jinja2", "matplotlib", "weasyprint", "pydyf", "fonttools")

#: What the workers run, imported once by the forkserver before it forks them (so no worker
#: imports anything: shap alone takes 1.7 s, WeasyPrint and matplotlib about 1 s together).
WORKER_PRELOAD = ("analysis.model", "analysis.importance", "analysis.treeshap", "report.figures.charts",
                  "report.render", "report.pdf")


#: What the workers of a build served by the analysis cache run: the rendering only.
RENDER_PRELOAD = ("report.figures.charts", "report.render", "report.pdf")


def start_executor(config: Config, *, preload: Sequence[str] = WORKER_PRELOAD) -> Executor:
    """The build's worker processes: ``config.n_jobs`` of them, forked from a forkserver that
    preloads ``preload`` (:data:`WORKER_PRELOAD`) with a fixed hash seed and
    ``config.openmp_threads`` BLAS/OpenMP threads in its environment."""
    return Executor(workers=config.n_jobs, task_timeout=config.executor.task_timeout, preload=preload,
                    env=worker_environment(hash_seed=0, threads=config.openmp_threads))


class _Workers:
    """The build's pool, started when first asked for: before the analysis with everything it
    uses (:data:`WORKER_PRELOAD`), or, when the analysis cache serves the analysis, only for the
    rendering (:data:`RENDER_PRELOAD`: the scikit-learn stack is not imported; measured on the real
    data, the figures of a cached build waited 2.1 s for the forkserver under load). A pool given
    by the caller is used as it is and left open.

    The process has one forkserver, whose preload is fixed when it starts: a rendering pool asked
    for the analysis (the cache was expected to serve, and did not) is kept, and its workers import
    the analysis' modules with its first tasks (slower, the same results)."""

    def __init__(self, config: Config, given: Executor | None) -> None:
        self.config, self.given = config, given
        self.started: Executor | None = None

    def get(self, *, analysis: bool) -> Executor:
        """The pool (``analysis``: the one that also runs the analysis' tasks)."""
        if self.given is not None:
            return self.given
        if self.started is None:
            self.started = start_executor(self.config, preload=WORKER_PRELOAD if analysis else RENDER_PRELOAD)
        return self.started

    def close(self, *, kill: bool) -> None:
        """Stop the pool this build started (none given by the caller)."""
        if self.started is not None:
            self.started.close(kill=kill)


def report_stem(period: str, lang: str) -> str:
    """File name stem of a report, e.g. ``oneclick-report_2026-10_ru``."""
    return f"{REPORT_PREFIX}_{period}_{lang}"


def sha256_bytes(data: bytes) -> str:
    """SHA-256 of ``data`` as hex."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """SHA-256 of the file at ``path`` as hex, read in chunks (``scores.csv`` of ten million
    customers is ~0.6 GB: it is never read into memory to be hashed)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@dataclass(frozen=True, slots=True)
class BuildOutputs:
    """Paths written by a build."""

    html: Path
    pdf: Path
    results: Path
    scores: Path
    actions: Path
    manifest: Path

    def all(self) -> tuple[Path, ...]:
        """Every output path."""
        return (self.html, self.pdf, self.results, self.scores, self.actions, self.manifest)


class Progress:
    """Stage progress on stderr: one updating line on a terminal, plain lines otherwise."""

    def __init__(self, *, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.perf_counter()

    def __getstate__(self) -> dict[str, Any]:  # a worker reports progress too: on its own stderr
        return {"tty": self.tty, "start": self.start}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.stream = sys.stderr
        self.tty, self.start = state["tty"], state["start"]

    def __call__(self, stage: str, *, verbatim: bool = False) -> None:
        elapsed = time.perf_counter() - self.start
        text = f"[{elapsed:6.1f} s] {stage if verbatim else stage.replace('_', ' ')}"
        if self.tty:
            self.stream.write("\r\033[K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def note(self, text: str) -> None:
        """A sentence in the progress (e.g. what the analysis cache did), printed as it is."""
        self(text, verbatim=True)

    def done(self) -> None:
        """Finish the progress display."""
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()


def _manifest(*, results_meta: dict[str, Any], outputs: dict[str, str], wall_clock: str | None = None,
              timings: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Inputs, outputs and provenance; the run's wall clock and timings only when given (the
    manifest attached inside the PDF leaves them out: the same inputs give the same PDF)."""
    manifest = {
        "schema_version": 1,
        "period": results_meta["period"],
        "inputs": results_meta["input_sha256"],
        "outputs": outputs,
        "config": results_meta["config"],
        "versions": {**results_meta["versions"], **package_versions(_RENDER_PACKAGES)},
        "code_version": results_meta["code_version"],
        "seed": results_meta["seed"],
    }
    if wall_clock is not None:
        manifest["built_at"] = wall_clock
    if timings is not None:
        manifest["stage_timings"] = timings
    return manifest


def _json_bytes(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def build_report(*, data_dir: Path | Source, out_dir: Path, period: str, lang: str, config: Config,
                 previous: Path | None = None, progress: Callable[[str], None] | None = None,
                 executor: Executor | None = None, signing_key: bytes | None = None,
                 cancelled: Callable[[], bool] | None = None, cache: AnalysisCache | None = None) -> BuildOutputs:
    """Run the analysis (or take it from ``cache``) and render the report in ``lang`` into ``out_dir``.

    Parameters
    ----------
    data_dir : Path or analysis.sources.Source
        The four raw tables: a folder (CSV or Parquet files) or a database.
    out_dir : Path
        Where the outputs go (created if needed). Replaced only on success.
    period : str
        Reporting month ``YYYY-MM``.
    lang : {"ru", "en"}
        Report language.
    config : Config
        The configuration.
    previous : Path, optional
        A previous ``results.json`` for the month-over-month comparison.
    progress : callable, optional
        Called with each stage's name (also by the workers: it must pickle).
    executor : runtime.executor.Executor, optional
        The worker processes (:func:`start_executor`): they fit the cross-validation folds, compute
        the SHAP rows and the permutation importance, draw the figures and write the HTML and the
        PDF. Without one the build starts its own and stops it at the end.
    signing_key : bytes, optional
        Sign ``manifest.json`` with this HMAC key (:mod:`report.signing`).
    cancelled : callable, optional
        Asked just before publishing: ``True`` (the build was told to stop) publishes nothing.
    cache : AnalysisCache, optional
        The analysis cache (:mod:`report.cache`): read before the analysis, written after it.
        ``None`` (``--no-cache``) neither reads nor writes it.

    Raises
    ------
    analysis.errors.DataError
        On invalid input; nothing is written into ``out_dir``.
    """
    (outputs,) = build_reports(data_dir=data_dir, out_dir=out_dir, period=period, langs=(lang,), config=config,
                               previous=previous, progress=progress, executor=executor, signing_key=signing_key,
                               cancelled=cancelled, cache=cache)
    return outputs


def language_folders(out_dir: Path, langs: Sequence[str]) -> dict[str, Path]:
    """Where each language's report goes: ``out_dir`` itself for one language; for several,
    ``out_dir/<lang>`` each — a complete build folder of its own (what ``send``, ``verify`` and the
    archive take), since ``actions.csv`` and the manifest attached to each PDF are per language."""
    if len(langs) == 1:
        return {langs[0]: out_dir}
    return {lang: out_dir / lang for lang in langs}


def build_reports(*, data_dir: Path | Source, out_dir: Path, period: str, langs: Sequence[str], config: Config,
                  previous: Path | None = None, progress: Callable[[str], None] | None = None,
                  executor: Executor | None = None, signing_key: bytes | None = None,
                  cancelled: Callable[[], bool] | None = None,
                  cache: AnalysisCache | None = None) -> tuple[BuildOutputs, ...]:
    """One analysis (computed, or served by ``cache``), rendered in every language of ``langs``.

    The outputs of each language go into :func:`language_folders`; every folder is locked and
    written into a work folder first, and published only after every language has rendered.
    Parameters as :func:`build_report`.
    """
    if not langs or len(set(langs)) != len(langs):
        raise ValueError(f"expected distinct languages, got {list(langs)}")
    workers = _Workers(config, executor)
    try:
        outputs = _build_reports(data_dir=data_dir, out_dir=out_dir, period=period, langs=langs, config=config,
                                 previous=previous, progress=progress, workers=workers, signing_key=signing_key,
                                 cancelled=cancelled, cache=cache)
    except BaseException:
        workers.close(kill=True)
        raise
    # every result is in and every file closed: the idle workers are stopped now rather than left
    # to tear their interpreters down (measured: 0.8–1.4 s each with these libraries)
    workers.close(kill=True)
    return outputs


def _build_reports(*, data_dir: Path | Source, out_dir: Path, period: str, langs: Sequence[str], config: Config,
                   previous: Path | None, progress: Callable[[str], None] | None, workers: _Workers,
                   signing_key: bytes | None, cancelled: Callable[[], bool] | None,
                   cache: AnalysisCache | None) -> tuple[BuildOutputs, ...]:
    from report.figures.jobs import collect_figures, submit_figures

    clock = StageClock(on_stage=progress)
    # the previous month is read and checked (results, scores, actions) before any work: bad input
    # there is refused at once, and read only once
    previous_inputs = None
    if previous is not None:
        previous_results = load_previous(previous)
        previous_scores, previous_actions = _previous_tables(previous, previous_rows=previous_results.actions.n_rows)
        previous_inputs = (previous_results, previous_scores, previous_actions)
    folders = language_folders(out_dir, langs)
    dpi, rasterize_above = config.report.dpi, config.report.rasterize_above
    early: dict[str, dict[str, Future[FigureAsset]]] = {lang: {} for lang in langs}

    def draw_early(findings: Findings) -> None:
        # drawn by the workers as soon as the analysis knows what they show: the data figures queued
        # behind the cross-validation fits (they fill the time the workers would wait for this
        # process' refit, scoring and segments), the model's and the segments' beside the SHAP values,
        # the SHAP figures while this process assigns the actions and writes the scores
        executor = workers.get(analysis=True)
        for lang in langs:
            early[lang].update(submit_figures(findings, executor=executor, lang=lang, dpi=dpi,
                                              rasterize_above=rasterize_above, submitted=early[lang]))

    with contextlib.ExitStack() as stack:
        works = {lang: stack.enter_context(_locked_work(folders[lang], output_names(period, lang))) for lang in langs}
        first = works[langs[0]]
        analysis = _analysis(data_dir=data_dir, period=period, config=config, previous=previous,
                             previous_inputs=previous_inputs, clock=clock, cache=cache,
                             scores_path=first / "scores.csv", workers=workers, on_findings=draw_early)
        results = analysis.results
        # The report, and the results attached to it, leave out the run's own timings so that the
        # same inputs, configuration and code give a byte-identical HTML and PDF.
        archived = results.without_measurements()
        # Every figure not asked for yet, now: the workers draw them while the outputs are written
        # here (a build served by the analysis cache starts its rendering-only workers now).
        executor = workers.get(analysis=False)
        for lang in langs:
            early[lang].update(submit_figures(archived, executor=executor, lang=lang, dpi=dpi,
                                              rasterize_above=rasterize_above, submitted=early[lang]))
        jobs = []
        with clock.stage("write_results"):
            results_bytes = results.model_dump_json(by_alias=True, indent=1).encode("utf-8")
            archived_bytes = archived.model_dump_json(by_alias=True, indent=1).encode("utf-8")
            scores_sha256 = analysis.scores_sha256 or sha256_file(first / "scores.csv")
            meta = json.loads(results.meta.model_dump_json())
            from report.crm import write_actions_csv

            for lang, work in works.items():
                (work / "results.json").write_bytes(results_bytes)
                if work != first:
                    shutil.copyfile(first / "scores.csv", work / "scores.csv")
                write_actions_csv(analysis.actions, work / ACTIONS_CSV, lang=lang,
                                  money_unit=config.report.money_unit, risk_threshold=config.segments.risk_threshold)
                jobs.append(RenderJob(work=work, stem=report_stem(period, lang), lang=lang, config=config,
                                      archived=archived, archived_bytes=archived_bytes,
                                      results_sha256=sha256_bytes(results_bytes), scores_sha256=scores_sha256,
                                      actions_sha256=sha256_file(work / ACTIONS_CSV), meta=meta))
        # The per-customer frames are written: let them go before rendering (at ten million customers
        # they held gigabytes while the renderer read scores.csv into the PDF)
        cache_record, sources = analysis.cache_record, analysis.sources
        del analysis, results
        gc.collect()
        with clock.stage("figures"):
            # drawn by the workers (this process never imports matplotlib)
            figures = {job.lang: collect_figures(job.archived, executor=executor, lang=job.lang, dpi=dpi,
                                                 rasterize_above=rasterize_above, submitted=early[job.lang])
                       for job in jobs}
        # by the workers, one language each at once: their hash seed is fixed (WeasyPrint's font
        # subset names depend on it)
        futures = [executor.submit(render_outputs, job, figures[job.lang], progress) for job in jobs]
        rendered_all = [executor.result(future, name=f"html_pdf {job.lang}") for job, future in zip(jobs, futures,
                                                                                                    strict=True)]
        built_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        for job, rendered in zip(jobs, rendered_all, strict=True):
            inner = rendered.inner_manifest
            pdf_sha256 = sha256_file(job.work / f"{job.stem}.pdf")
            timings = [*clock.timings, *rendered.timings]
            outer = _manifest(results_meta=job.meta, outputs={**rendered.outputs, f"{job.stem}.pdf": pdf_sha256},
                              wall_clock=built_at, timings=[t.model_dump() for t in timings])
            outer["embedded_manifest_sha256"] = sha256_bytes(_json_bytes(inner))
            outer["attached"] = {"results.json": inner["outputs"]["results.json"]}
            outer.update(rendered.attachments.manifest_record())  # what the PDF embeds and leaves out
            # what was read, table by table: the file or the SQL query, its rows and content hash
            outer["sources"] = [dict(source) for source in sources]
            outer["analysis_cache"] = cache_record
            if signing_key is not None:
                outer = sign_manifest(outer, signing_key)
            (job.work / "manifest.json").write_bytes(_json_bytes(outer))
        return tuple(_publish(works[lang], folders[lang], report_stem(period, lang), cancelled=cancelled)
                     for lang in langs)


@dataclass(frozen=True, slots=True)
class _Analysis:
    """The analysis a build renders: results (after the comparison), the action rows, and what the
    cache did (``manifest.json`` → ``analysis_cache``). ``scores.csv`` is in the first work folder."""

    results: Results
    actions: pd.DataFrame
    cache_record: dict[str, str]
    #: What was read, table by table (``manifest.json`` → ``sources``).
    sources: tuple[dict[str, str | int], ...] = ()
    #: The SHA-256 of ``scores.csv`` when already known (the cache checked the copy it served).
    scores_sha256: str = ""


class _Served(Exception):  # not an error: the cache had the analysis
    """Raised by the late cache lookup to end the analysis once its inputs are known and cached."""

    def __init__(self, analysis: _Analysis) -> None:
        super().__init__("served from the analysis cache")
        self.analysis = analysis


def _analysis(*, data_dir: Path | Source, period: str, config: Config, previous: Path | None,
              previous_inputs: tuple[Results, pd.DataFrame | None, pd.DataFrame | None] | None, clock: StageClock,
              cache: AnalysisCache | None, scores_path: Path, workers: _Workers,
              on_findings: Callable[[Findings], None]) -> _Analysis:
    """The cached analysis of these inputs, configuration and code, or a new one (then stored).

    The key is over what is read (:func:`report.cache.source_fingerprint`): a folder's tables are
    hashed before anything else, so a hit costs no reading. A source that cannot be hashed before it
    is read is looked up as soon as the analysis has read it (its content hashes, as the manifest
    records them), and the analysis stops there on a hit. When an entry was stored from files of
    the same sizes, modification and change times and inodes (:class:`report.cache.CacheHint`), the rendering
    workers start before the folder is hashed: their forkserver imports while this process hashes
    and loads the entry (at a million customers, 0.7–1.1 s sooner).
    """
    from analysis.pipeline import run_analysis

    key: CacheKey | None = None
    hint: CacheHint | None = None
    after_load: Callable[[dict[str, str]], None] | None = None
    found: list[CacheKey] = []
    if cache is not None:
        from report.cache import CacheHint, CacheKey, source_fingerprint, source_stats

        def lookup(inputs: dict[str, str]) -> CacheKey:
            key = CacheKey.for_build(inputs=inputs, period=period, config=config, previous=previous)
            hit = cache.load(key, config=config, scores_to=scores_path)
            if hit is not None:
                raise _Served(_Analysis(results=hit.results, actions=hit.actions, sources=hit.sources, cache_record={
                    "status": "hit", "key": key.digest, "computed_at": hit.computed_at},
                    scores_sha256=hit.scores_sha256))
            return key

        with clock.stage("analysis_cache"):
            stats = source_stats(data_dir)
            if stats is not None:
                hint = CacheHint.for_build(stats=stats, period=period, config=config, previous=previous)
                if cache.expects(hint):
                    workers.get(analysis=False)
            inputs = source_fingerprint(data_dir)
            try:
                key = lookup(inputs) if inputs is not None else None
            except _Served as served:
                return served.analysis
        if inputs is None:
            cache.note("analysis cache: this source is hashed as it is read; looked up once the data are read")

            def after_load(read: dict[str, str]) -> None:
                served = None
                with clock.stage("analysis_cache"):
                    try:
                        found.append(lookup(read))
                    except _Served as hit:
                        served = hit
                if served is not None:
                    raise served
    try:
        analysed = run_analysis(data_dir, config=config, period=period, clock=clock, after_load=after_load,
                                executor=workers.get(analysis=True), on_findings=on_findings)
    except _Served as served:
        return served.analysis
    if after_load is not None:
        key = found[0]
    results = analysed.results
    if previous_inputs is not None:
        from analysis.comparison import compare

        previous_results, previous_scores, previous_actions = previous_inputs
        with clock.stage("comparison"):
            comparison = compare(previous=previous_results, previous_scores=previous_scores,
                                 current=results, current_scores=analysed.scores,
                                 current_frame=analysed.features, config=config.comparison,
                                 previous_actions=previous_actions, alpha=config.actions.alpha)
            results = results.model_copy(update={"comparison": comparison})
    with clock.stage("write_scores"):
        # written by pandas in chunks (not as one whole-file string)
        write_scores_csv(analysed.scores, scores_path)
    sources = tuple(dict(source) for source in analysed.sources)
    if key is None or cache is None:  # a key is made only with a cache
        return _Analysis(results=results, actions=analysed.actions, sources=sources, cache_record={"status": "off"})
    status = "not stored"
    if results.meta.input_sha256 and all(key.document["inputs"].get(name) == sha
                                         for name, sha in results.meta.input_sha256.items()):
        with clock.stage("analysis_cache_store"):
            results_bytes = results.model_dump_json(by_alias=True, indent=1).encode("utf-8")
            if cache.store(key, results_bytes=results_bytes, scores=scores_path, actions=analysed.actions,
                           sources=sources, hint=hint):
                status = "stored"
    else:  # an input changed between its hashing and its reading: the key would not describe it
        cache.note("analysis cache: an input changed while the build read it; not stored")
    return _Analysis(results=results, actions=analysed.actions, sources=sources,
                     cache_record={"status": status, "key": key.digest})


def write_scores_csv(scores: pd.DataFrame, path: Path) -> None:
    """Write ``scores.csv`` byte for byte as pandas' ``to_csv(index=False, lineterminator="\\n")``
    does (UTF-8, minimal quoting, ``True``/``False``, empty cells for empty text), with polars'
    multithreaded writer: 2.7 s → 0.5 s at a million rows. A float column holding a number whose
    shortest form has an exponent (|x| < 1e-4 or ≥ 1e16: ``1e-07`` in Python, ``1e-7`` in polars)
    or NaN is left to pandas."""
    import numpy as np
    import polars as pl

    def exponent_free(values: np.ndarray) -> bool:
        magnitude = np.abs(values[values != 0])
        return bool(np.isfinite(values).all() and ((magnitude >= 1e-4) & (magnitude < 1e16)).all())

    floats = [name for name in scores.columns if scores[name].dtype.kind == "f"]
    if not all(exponent_free(scores[name].to_numpy()) for name in floats):
        scores.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
        return
    frame = pl.from_pandas(scores)
    columns = []
    for name, dtype in frame.schema.items():
        value = pl.col(name)
        if dtype == pl.Boolean:
            value = pl.when(value).then(pl.lit("True")).otherwise(pl.lit("False")).alias(name)
        elif dtype in (pl.String, pl.Categorical, pl.Enum):  # pandas writes "" as nothing
            value = value.cast(pl.String)
            value = pl.when(value == "").then(None).otherwise(value).alias(name)
        columns.append(value)
    frame.select(columns).write_csv(path, line_terminator="\n")


def output_names(period: str, lang: str) -> list[str]:
    """The names a build writes (and replaces) in ``--out``; it touches no other file there."""
    stem = report_stem(period, lang)
    return [f"{stem}.html", f"{stem}.pdf", "results.json", "scores.csv", ACTIONS_CSV, "manifest.json"]


@contextlib.contextmanager
def _locked_work(out_dir: Path, names: list[str]) -> Iterator[Path]:
    """A work folder inside ``out_dir``, which stays locked until the build has published or failed."""
    with lock_output(out_dir):
        check_targets(out_dir, names)
        work = prepare_work(out_dir)
        try:
            yield work
        except OSError as exc:
            if exc.filename is None:  # a failed write (a full disk) names the folder it was writing into
                raise OSError(exc.errno, f"cannot write the report into {out_dir}: {exc.strerror or exc}") from exc
            raise
        finally:
            discard(work)


def load_previous(path: Path) -> Results:
    """The previous month's results, or a clear error when they are of another schema or broken."""
    import pydantic

    from analysis.errors import DataError

    try:
        return Results.load(path)
    except (pydantic.ValidationError, UnicodeDecodeError, ValueError) as exc:
        version = None
        try:
            version = json.loads(path.read_text(encoding="utf-8")).get("schema_version")
        except (ValueError, UnicodeDecodeError, AttributeError):
            pass
        current = Results.model_fields["schema_version"].default
        problem = (f"it has results schema version {version}; this build reads version {current}"
                   if version not in (None, current)
                   else f"it is not a valid results file ({str(exc).splitlines()[0]})")
        raise DataError(file=str(path), problem=problem,
                        expected=f"a results.json of schema version {current} (rebuild that month with this version)"
                        ) from exc


def _previous_tables(previous: Path, *, previous_rows: int) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The previous month's ``scores.csv`` and ``actions.csv`` beside its ``results.json`` (``None``
    where absent); ``actions.csv`` must match the hash its month's ``manifest.json`` recorded.

    Raises
    ------
    analysis.errors.DataError
        When ``actions.csv`` is there but its manifest is missing, does not list it or records
        another hash: last month's groups cannot then be trusted.
    """
    import pandas as pd

    from analysis.errors import DataError

    folder = previous.parent
    scores_path, actions_path, manifest_path = folder / "scores.csv", folder / ACTIONS_CSV, folder / "manifest.json"
    scores = pd.read_csv(scores_path) if scores_path.is_file() else None
    if not actions_path.is_file():
        if previous_rows:
            raise DataError(file=str(actions_path), problem=(
                f"not found beside {previous.name}, whose month assigned {previous_rows} action rows"),
                expected="that month's actions.csv (restore it from the archive): its control groups are what "
                         "this month's report measures against")
        return scores, None
    expected = None
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        outputs = manifest.get("outputs") if isinstance(manifest, dict) else None
        expected = outputs.get(ACTIONS_CSV) if isinstance(outputs, dict) else None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        pass
    actual = sha256_file(actions_path)
    if expected != actual:
        raise DataError(file=str(actions_path), problem=(
            f"its sha256 {actual[:16]}… is not the one recorded in {manifest_path}"
            + (f" ({str(expected)[:16]}…)" if isinstance(expected, str) else " (none recorded)")),
            expected="last month's actions.csv exactly as its build wrote it")
    return scores, _checked_actions(actions_path)


def _checked_actions(path: Path) -> pd.DataFrame:
    """The ``id``, ``action`` and ``group`` of a previous ``actions.csv``, checked row by row.

    Raises
    ------
    analysis.errors.DataError
        When a column is missing, an id is not a whole number, an action is not one this version
        knows (a renamed or removed rule cannot be measured), a group is neither ``treatment`` nor
        ``control``, or a customer has the same action twice.
    """
    import pandas as pd

    from analysis.actions import ACTION_RULES
    from analysis.errors import BadRow, DataError

    try:
        frame = pd.read_csv(path, usecols=["id", "action", "group"], dtype=str, keep_default_na=False)
    except ValueError as exc:
        raise DataError(file=str(path), problem=f"cannot be read as an action list ({exc})",
                        expected="the columns id, action, group") from None
    known = {rule.key for rule in ACTION_RULES}
    ids = pd.to_numeric(frame["id"], errors="coerce")
    checks = (
        ("id", ~ids.notna() | (ids != ids.round()), "a whole-number customer id"),
        ("action", ~frame["action"].isin(known), "one of the actions " + ", ".join(sorted(known))),
        ("group", ~frame["group"].isin(["treatment", "control"]), "«treatment» or «control»"),
        ("action", frame.assign(id=ids).duplicated(["id", "action"], keep=False), "each action once per customer"),
    )
    for column, bad, expected in checks:
        if bad.any():
            positions = bad.to_numpy().nonzero()[0]
            rows = [BadRow(line=int(i) + 2, id=str(frame["id"].iat[i]), value=str(frame[column].iat[i]))
                    for i in positions[:5]]
            raise DataError(file=str(path), column=column, problem=f"{positions.size} row(s) with an unexpected value",
                            expected=expected, rows=rows, n_rows=int(positions.size))
    return frame.assign(id=ids.astype("int64"))


@dataclass(frozen=True, slots=True)
class RenderJob:
    """What rendering needs: everything the analysis produced, as written so far into ``work``."""

    work: Path
    stem: str
    lang: str
    config: Config
    archived: Results  # the results without the run's measurements (what the report shows)
    archived_bytes: bytes  # …as attached to the PDF
    results_sha256: str  # results.json beside the report (with the measurements)
    scores_sha256: str  # scores.csv, already in ``work``
    actions_sha256: str  # actions.csv, already in ``work``
    meta: dict[str, Any]  # the results' meta as JSON (provenance for the manifests)


@dataclass(frozen=True, slots=True)
class RenderedOutputs:
    """What :func:`render_outputs` wrote: hashes, the attached manifest, what the PDF embeds and
    the stage timings."""

    outputs: dict[str, str]
    inner_manifest: dict[str, Any]
    timings: tuple[StageTiming, ...]
    attachments: PdfAttachments


#: The data files of a build the PDF embeds when they are no larger than ``report.attach_max_bytes``,
#: in order (``results.json`` and the embedded ``manifest.json`` always are).
PDF_DATA_FILES = ("scores.csv", ACTIONS_CSV)
#: The description of each file the PDF may embed (its file specification's ``/Desc``).
ATTACHMENT_DESCRIPTIONS = {
    "results.json": "Results of the analysis (JSON, without the run's timings)",
    "scores.csv": "Per-customer probability, segment and offer",
    ACTIONS_CSV: "Per-customer actions: channel, treatment or control group, expected value, reason",
    "manifest.json": "Inputs, outputs and provenance",
}


def render_outputs(job: RenderJob, figures: dict[str, FigureAsset],
                   progress: Callable[[str], None] | None = None) -> RenderedOutputs:
    """Write the HTML and the PDF/A (with its attachments) into ``job.work``.

    The PDF embeds ``results.json``, each of :data:`PDF_DATA_FILES` no larger than
    ``report.attach_max_bytes`` and the manifest; a larger data file is left out (read by no one
    here), and the report and both manifests (``embedded``, ``left_out``) say so.
    Run by a worker of the build (the same bytes wherever it runs with ``PYTHONHASHSEED=0``).
    """
    from report.pdf import render_pdf
    from report.render import pdf_document, render_html
    from report.structure import pdf_attachments

    lang, archived, work, stem = job.lang, job.archived, job.work, job.stem
    attachments = pdf_attachments([(name, (work / name).stat().st_size) for name in PDF_DATA_FILES],
                                  limit_bytes=job.config.report.attach_max_bytes)
    clock = StageClock(on_stage=progress)
    with clock.stage("html"):
        html_bytes = render_html(archived, lang=lang, figures=figures, attachments=attachments).encode("utf-8")
        (work / f"{stem}.html").write_bytes(html_bytes)
        document = pdf_document(archived, lang=lang, figures=figures, attachments=attachments)
    outputs = {"results.json": job.results_sha256, "scores.csv": job.scores_sha256, ACTIONS_CSV: job.actions_sha256,
               f"{stem}.html": sha256_bytes(html_bytes)}
    inner_outputs = {**outputs, "results.json": sha256_bytes(job.archived_bytes)}
    # The manifest attached inside the PDF cannot know the PDF's own hash (the one beside it does).
    inner = {**_manifest(results_meta=job.meta, outputs=inner_outputs), **attachments.manifest_record()}
    contents = {"results.json": job.archived_bytes, "manifest.json": _json_bytes(inner)}
    with clock.stage("pdf"):
        render_pdf(document, out_path=work / f"{stem}.pdf",
                   attachments=[(name, contents[name] if name in contents else (work / name).read_bytes(),
                                 ATTACHMENT_DESCRIPTIONS[name]) for name in attachments.embedded],
                   created=archived.meta.report_date)
    return RenderedOutputs(outputs=outputs, inner_manifest=inner, timings=tuple(clock.timings),
                           attachments=attachments)


def _publish(work: Path, out_dir: Path, stem: str, *, cancelled: Callable[[], bool] | None = None) -> BuildOutputs:
    """Publish the finished outputs into ``out_dir`` as one set (:func:`report.publish.publish`)."""
    names = [f"{stem}.html", f"{stem}.pdf", "results.json", "scores.csv", ACTIONS_CSV, "manifest.json"]
    publish(work, out_dir, names, cancelled=cancelled)
    return BuildOutputs(html=out_dir / names[0], pdf=out_dir / names[1], results=out_dir / names[2],
                        scores=out_dir / names[3], actions=out_dir / names[4], manifest=out_dir / names[5])
