"""From four validated, cleaned tables to one row per active customer.

Load → text normalisation and near-typos → typed validation → duplicates → cross-table checks →
outliers → active customers → pivot and merge, on polars. The merged frame crosses to pandas
once, at the end (:func:`_to_pandas`): the model, the EDA and the segments read it there. Profit
is kept beside the features for the segmentation only; it is never a model feature.
"""

from __future__ import annotations

import math
import resource
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import polars as pl

from analysis.clean import detect_outliers, drop_duplicates, map_vocabulary, normalise_text
from analysis.config import Config
from analysis.errors import BadRow, DataError
from analysis.load import NeedsText, RawTable
from analysis.results import (
    CleaningEntry, DataResult, FeatureInfo, InactiveNote, OutlierInfo, OutlierNote, TableSummary,
)
from analysis.schema import (
    BINARY_FEATURES, FEATURES, MARKET_FILE, MARKET_MONEY, MARKET_TIME, MONEY,
    NEGATIVE_LABEL, NUMERIC_FEATURES, PERIOD_FEATURES, POSITIVE_LABEL, TARGET, Kind,
)

if TYPE_CHECKING:
    from analysis.sources import Source
    from analysis.pipeline import StageClock


@dataclass(frozen=True, slots=True)
class PreparedData:
    """The merged one-row-per-customer frame and what the data layer found.

    ``frame`` is indexed by customer id and holds the features, ``target`` (1 = declined) and
    ``profit``.
    """

    frame: pd.DataFrame
    result: DataResult
    input_sha256: dict[str, str]
    #: What was read, table by table (for the manifest): name, source, origin (file, parquet or
    #: the SQL query), rows and the content hash.
    sources: tuple[dict[str, str | int], ...] = ()

    @property
    def X(self) -> pd.DataFrame:  # scikit-learn naming
        """Model features only (never profit)."""
        return self.frame[list(FEATURES)]

    @property
    def y(self) -> np.ndarray:
        """Target: 1 when activity declined."""
        return np.asarray(self.frame["target"].to_numpy())


def _clean_table(raw: RawTable, config: Config) -> tuple[pl.DataFrame, list[CleaningEntry]]:
    """``raw`` cleaned and validated (:func:`_clean_values`); a table whose numbers were read as
    typed columns is read again as text and cleaned again when anything is wrong with it, or a key
    repeats: its errors and its duplicates' log are then those of the values as written."""
    try:
        return _clean_values(raw, config)
    except (DataError, NeedsText):
        if raw.as_text is None:
            raise
    return _clean_values(raw.as_text(), config)


def _clean_values(raw: RawTable, config: Config) -> tuple[pl.DataFrame, list[CleaningEntry]]:
    cfg = config.cleaning
    voc = cfg.vocabulary
    frame, log = normalise_text(raw, raw.frame)
    table = raw.table
    open_vocab = {"popular_category": voc.popular_category, "service_type": voc.service_type,
                  "allow_messages": voc.allow_messages}
    closed_vocab = {"activity": voc.activity}
    if table.name == "market_money":
        closed_vocab["period"] = voc.money_periods
    if table.name == "market_time":
        closed_vocab["period"] = voc.time_periods
    for col in table.columns:
        if col.name in open_vocab:
            frame, entries = map_vocabulary(raw, frame, col.name, open_vocab[col.name], cfg, open_vocabulary=True)
            log += entries
        elif col.name in closed_vocab:
            frame, entries = map_vocabulary(raw, frame, col.name, closed_vocab[col.name], cfg, open_vocabulary=False)
            log += entries
    from analysis.validate import validate_table  # local: keeps pandera off the CLI's start-up path

    typed = validate_table(raw, frame, voc, max_rows=cfg.max_rows_in_error, max_abs=cfg.max_abs_number)
    key = ["id"] if table.one_row_per_customer else ["id", "period"]
    # Text columns hold a few distinct values: as categoricals they take 4 bytes a row instead of a
    # string each (the periods of 30 million rows: 1.5 GB as strings); cast before the duplicates
    # are looked for, whose key is then counted on the period's codes without another cast.
    texts = [col.name for col in table.columns if col.kind not in (Kind.ID, Kind.NUMERIC, Kind.INTEGER)]
    typed = typed.with_columns(pl.col(texts).cast(pl.Categorical))
    typed, entries = drop_duplicates(raw, typed, raw.frame, key=key, max_rows=cfg.max_rows_in_error)
    log += entries
    integers = [col.name for col in table.columns if col.kind is Kind.INTEGER]
    typed = typed.with_columns(pl.col(integers).cast(pl.Int64))
    return typed, log


def _check_ids(tables: dict[str, pl.DataFrame], raws: dict[str, RawTable], config: Config) -> None:
    reference = tables["market_file"]["id"].unique()
    limit = config.cleaning.max_rows_in_error
    for name, frame in tables.items():
        if name == "market_file":
            continue
        ids = frame["id"].unique()
        extra = ids.filter(~ids.is_in(reference.implode())).sort()
        missing = reference.filter(~reference.is_in(ids.implode())).sort()
        if len(extra):
            raw = raws[name]
            positions = np.flatnonzero(frame["id"].is_in(extra.implode()).to_numpy())
            rows = [BadRow(line=None, id=str(i), value="") for i in extra[:limit].to_list()]
            if len(positions):
                rows = [BadRow(line=raw.line_of(int(p)), id=str(frame["id"][int(p)]), value="")
                        for p in positions[:limit]]
            raise DataError(file=raw.file, column="id", problem=f"ids absent from {raws['market_file'].file}",
                            expected="the same customers in every table", rows=rows, n_rows=len(extra))
        if len(missing):
            raise DataError(file=raws[name].file, column="id",
                            problem=f"customers of {raws['market_file'].file} are missing from this "
                                    + ("file" if raws[name].lines is not None else "table"),
                            expected="the same customers in every table",
                            rows=[BadRow(line=None, id=str(i), value="") for i in missing[:limit].to_list()],
                            n_rows=len(missing))


def _pivot(frame: pl.DataFrame, value: str, periods: tuple[str, ...], raw: RawTable,
           config: Config) -> pl.DataFrame:
    """One row per customer (sorted by id), one column per period in ``periods`` order. The pairs
    (id, period) are unique here: no aggregation, so a missing period stays missing (``sum``
    would make it 0)."""
    wide = frame.pivot(on="period", index="id", values=value, aggregate_function=None)
    wide = wide.with_columns([pl.lit(None, dtype=pl.Float64).alias(p) for p in periods if p not in wide.columns])
    wide = wide.select("id", *periods).sort("id")
    incomplete = wide.select(pl.any_horizontal(pl.col(list(periods)).is_null())).to_series()
    if incomplete.any():
        lacking_rows = wide.filter(incomplete)
        first = lacking_rows.row(0, named=True)
        lacking = [p for p in periods if first[p] is None]
        raise DataError(file=raw.file, column=raw.table.column("period").source,
                        problem=f"customers without a row for every period (e.g. «{lacking[0]}»)",
                        expected="one row per customer for each of " + ", ".join(f"«{p}»" for p in periods),
                        rows=[BadRow(line=None, id=str(i), value="")
                              for i in lacking_rows["id"][: config.cleaning.max_rows_in_error].to_list()],
                        n_rows=int(incomplete.sum()))
    return wide


def min_customers_per_class(config: Config) -> int:
    """Analysed customers each class needs: ``cv_folds`` of them in the training part and two in the
    held-out part (for its ROC-AUC), after the stratified split of ``test_size``."""
    model = config.model
    return max(math.ceil(model.cv_folds / (1 - model.test_size)) + 1, math.ceil(2 / model.test_size))


def _check_classes(n_declined: int, n_stable: int, config: Config) -> None:
    """Refuse data the model cannot be fitted and evaluated on (one class, too few customers)."""
    needed = min_customers_per_class(config)
    counts = {POSITIVE_LABEL: n_declined, NEGATIVE_LABEL: n_stable}
    short = {label: n for label, n in counts.items() if n < needed}
    if short:
        found = ", ".join(f"«{label}» {n}" for label, n in counts.items())
        problem = ("only one class among the analysed customers" if min(counts.values()) == 0
                   else "too few analysed customers of a class") + f" ({found})"
        raise DataError(file=MARKET_FILE.file, column=MARKET_FILE.column(TARGET).source, problem=problem,
                        expected=f"at least {needed} analysed customers of each class, «{POSITIVE_LABEL}» and "
                                 f"«{NEGATIVE_LABEL}» (model.cv_folds = {config.model.cv_folds} folds on the "
                                 f"training part, model.test_size = {config.model.test_size:g} held out)")


def _stage(clock: StageClock | None, name: str) -> AbstractContextManager[None]:
    return nullcontext() if clock is None else clock.stage(name)


def prepare_data(data_dir: Path | Source, config: Config, *, clock: StageClock | None = None) -> PreparedData:
    """Load, validate and clean the four tables and merge them into one row per active customer.

    Parameters
    ----------
    data_dir : Path or analysis.sources.Source
        A folder of CSV (or Parquet) files, or a database (:class:`analysis.sources.PostgresSource`).
    clock : analysis.pipeline.StageClock, optional
        Times the sub-stages ``load`` (reading and parsing), ``validate`` (text normalisation,
        near-typos, typed validation, duplicates) and ``clean`` (cross-table checks, pivots,
        inactive customers, outliers, merge).

    Raises
    ------
    DataError
        On any invalid input, naming the file, column, rows and what was expected.
    """
    from analysis.sources import iter_source

    log: list[CleaningEntry] = []
    tables: dict[str, pl.DataFrame] = {}
    raws: dict[str, RawTable] = {}
    timer = _SubStages(clock)
    # Table by table: each is read, then cleaned, and its raw values let go before the next is read
    # (at ten million customers the four raw tables as text took more memory than the typed ones).
    with timer("load"):
        tables_read = iter_source(data_dir, config)
    try:
        while True:
            with timer("load"):
                raw = next(tables_read, None)
            if raw is None:
                break
            with timer("validate"):
                tables[raw.table.name], entries = _clean_table(raw, config)
                log += entries
            raws[raw.table.name] = raw.without_values()
            del raw
    finally:
        close = getattr(tables_read, "close", None)
        if close is not None:
            close()  # a database's connection, at once (also after an error)
    timer.record()
    with _stage(clock, "clean"):
        return _merge(raws, tables, log, config)


class _SubStages:
    """Wall and CPU time of named sub-stages entered many times, recorded once each (in the order
    first entered) on a :class:`analysis.pipeline.StageClock`."""

    def __init__(self, clock: object | None) -> None:
        self.clock = clock
        self.totals: dict[str, list[float]] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        if self.clock is not None and name not in self.totals:
            self.clock.announce(name)  # type: ignore[attr-defined]
        totals = self.totals.setdefault(name, [0.0, 0.0, 0.0])
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            totals[0] += time.perf_counter() - wall
            totals[1] += time.process_time() - cpu
            totals[2] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def record(self) -> None:
        if self.clock is None:
            return
        from analysis.results import StageTiming

        parent = self.clock._open[-1] if getattr(self.clock, "_open", None) else None  # type: ignore[attr-defined]
        for name, (wall, cpu, peak) in self.totals.items():
            self.clock.timings.append(StageTiming(  # type: ignore[attr-defined]
                stage=name, wall_seconds=round(wall, 3), cpu_seconds=round(cpu, 3), peak_rss_mb=round(peak, 1),
                parent=parent))


def _merge(raws: dict[str, RawTable], tables: dict[str, pl.DataFrame], log: list[CleaningEntry],
           config: Config) -> PreparedData:
    _check_ids(tables, raws, config)
    voc = config.cleaning.vocabulary
    revenue = _pivot(tables["market_money"], "revenue", voc.money_periods, raws["market_money"], config)
    minutes = _pivot(tables["market_time"], "minutes", voc.time_periods, raws["market_time"], config)
    n_raw = int(tables["market_file"]["id"].n_unique())

    active = revenue.select(pl.all_horizontal(pl.col(list(voc.money_periods)) > 0)).to_series()
    n_active = int(active.sum())
    n_inactive = revenue.height - n_active
    if n_inactive:
        log.append(CleaningEntry(table="market_money", column=MARKET_MONEY.column("revenue").source,
                                 action="drop_inactive_customers", from_=None, to=None, rows=n_inactive,
                                 note=InactiveNote(months=len(voc.money_periods))))
    revenue = revenue.filter(active)

    money_long = tables["market_money"].filter(pl.col("id").is_in(revenue["id"].implode()))
    decision = detect_outliers(money_long["revenue"].to_numpy(), money_long["period"], money_long["id"].to_numpy(),
                               config.cleaning)
    policy = config.cleaning.outlier_policy
    outliers: list[OutlierInfo] = []
    n_dropped_outlier = 0
    if decision.ids.size:
        outliers.append(OutlierInfo(table="market_money", column="revenue", threshold=decision.threshold,
                                    policy=policy, ids=tuple(int(i) for i in decision.ids),
                                    values=tuple(float(v) for v in decision.values)))
        for cid, value in zip(decision.ids, decision.values, strict=True):
            log.append(CleaningEntry(
                table="market_money", column=MARKET_MONEY.column("revenue").source,
                action="drop_outlier_customer" if policy == "drop" else "cap_outlier",
                from_=float(value), to=None if policy == "drop" else round(decision.threshold, 2), rows=1,
                note=OutlierNote(customer=int(cid), threshold=float(decision.threshold),
                                 mad_k=config.cleaning.outlier_mad_k, min_ratio=config.cleaning.outlier_min_ratio)))
        if policy == "drop":
            keep = ~revenue["id"].is_in(pl.Series(decision.ids).implode())
            n_dropped_outlier = int((~keep).sum())
            revenue = revenue.filter(keep)
        else:
            revenue = revenue.with_columns(pl.col(list(voc.money_periods)).clip(upper_bound=decision.threshold))

    suffix = {label: name for name, (_, _, label) in PERIOD_FEATURES.items() if name.startswith("revenue")}
    suffix_t = {label: name for name, (_, _, label) in PERIOD_FEATURES.items() if name.startswith("minutes")}
    merged = (tables["market_file"].lazy()
              .join(revenue.lazy().rename(suffix), on="id", how="inner")
              .join(minutes.lazy().rename(suffix_t), on="id", how="inner")
              .join(tables["money"].lazy().select("id", "profit"), on="id", how="inner")
              .with_columns((pl.col(TARGET) == POSITIVE_LABEL).cast(pl.Int8).alias("target"))
              .drop(TARGET)
              .sort("id")
              .collect())
    frame = _to_pandas(merged)

    groups = config.groups.as_dict()
    features = tuple(
        FeatureInfo(name=f,
                    kind="numeric" if f in NUMERIC_FEATURES else ("binary" if f in BINARY_FEATURES else "categorical"),
                    group=config.groups.group_of(f))
        for f in FEATURES
    )
    summaries = tuple(
        TableSummary(name=raw.table.name, file=raw.file, rows=raw.rows, columns=raw.frame.width,
                     encoding=raw.format.encoding, separator=raw.format.separator, decimal=raw.format.decimal,
                     size_bytes=raw.size_bytes)
        for raw in raws.values()
    )
    n_declined = int(frame["target"].sum())
    _check_classes(n_declined, len(frame) - n_declined, config)
    result = DataResult(
        tables=summaries, cleaning_log=tuple(log), outliers=tuple(outliers), n_customers_raw=n_raw,
        n_customers_active=n_active, n_dropped_inactive=n_inactive, n_dropped_outlier=n_dropped_outlier,
        n_customers_analysed=len(frame), n_declined=n_declined, n_stable=len(frame) - n_declined,
        features=features, groups=groups,
    )
    sources: tuple[dict[str, str | int], ...] = tuple(
        {"table": raw.table.name, "source": raw.file, "origin": raw.origin, "rows": raw.rows, "sha256": raw.sha256}
        for raw in raws.values())
    return PreparedData(frame=frame, result=result, input_sha256={r.file: r.sha256 for r in raws.values()},
                        sources=sources)


def _to_pandas(merged: pl.DataFrame) -> pd.DataFrame:
    """The model boundary: the merged polars frame as the pandas frame the modelling libraries read,
    indexed by id. Text columns become categoricals with sorted object-dtype categories: turning
    one into a NumPy array (scikit-learn's encoders, crosstabs) is then a pointer copy, not a new
    Python string per row (16× faster at 1M rows)."""
    columns: dict[str, object] = {}
    for name, dtype in merged.schema.items():
        if name == "id":
            continue
        series = merged[name]
        if dtype == pl.String or isinstance(dtype, (pl.Categorical, pl.Enum)):
            categories = sorted(series.unique().cast(pl.String).to_list())  # code-point order, as pandas
            codes = series.cast(pl.Enum(categories)).to_physical().to_numpy()
            columns[name] = pd.Categorical.from_codes(
                codes, dtype=pd.CategoricalDtype(pd.Index(np.asarray(categories, dtype=object), dtype=object)))
        else:
            columns[name] = series.to_numpy()
    return pd.DataFrame(columns, index=pd.Index(merged["id"].to_numpy(), name="id"))


__all__ = ["PreparedData", "prepare_data", "MARKET_FILE", "MARKET_TIME", "MONEY"]
