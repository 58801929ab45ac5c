"""Cleaning, every decision logged: text normalisation, near-typos, duplicates, outliers.

Each function returns the cleaned (polars) frame and the :class:`CleaningEntry` objects that
describe what it did; nothing is changed silently. Decisions are taken once per distinct value
(a few dozen), the frame is changed by polars in one pass.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from numpy.typing import ArrayLike

import numpy as np
import polars as pl
from rapidfuzz.distance import Levenshtein

from analysis.config import CleaningConfig
from analysis.errors import DataError
from analysis.load import NeedsText, RawTable, bad_rows
from analysis.results import CleaningEntry, EditDistanceNote, ImplicitDuplicatesNote, NewCategoryNote
from analysis.schema import Kind, Table

_SPACES = re.compile(r"\s+")


def levenshtein(a: str, b: str, *, cutoff: int | None = None) -> int:
    """Edit distance (insertions, deletions, substitutions) between two strings.

    With ``cutoff``, any distance above it is returned as ``cutoff + 1`` — bounded work whatever
    the strings' lengths (rapidfuzz's bit-parallel Levenshtein).
    """
    return Levenshtein.distance(a, b, score_cutoff=cutoff)


def canonical_match(value: str, vocabulary: Sequence[str], *, max_distance: int,
                    max_relative: float) -> tuple[str | None, str]:
    """Map ``value`` onto ``vocabulary``.

    Returns
    -------
    (canonical or None, action)
        ``action`` is ``"keep"`` (already canonical), ``"normalise_case"``, ``"fix_typo"`` or
        ``"unknown"`` (no unique near match: ``None``).
    """
    if value in vocabulary:
        return value, "keep"
    folded = {v.casefold(): v for v in vocabulary}
    if value.casefold() in folded:
        return folded[value.casefold()], "normalise_case"
    # Only distances up to max_distance matter: the cut-off bounds the work (a 5 MB cell took 192 s
    # with a full edit-distance table), and a length gap beyond it is answered at once.
    folded_value = value.casefold()
    distances = [(max_distance + 1 if abs(len(value) - len(v)) > max_distance
                  else levenshtein(folded_value, v.casefold(), cutoff=max_distance), v) for v in vocabulary]
    best = min(d for d, _ in distances)
    nearest = [v for d, v in distances if d == best]
    if len(nearest) == 1 and best <= max_distance and best <= max_relative * len(nearest[0]):
        return nearest[0], "fix_typo"
    return None, "unknown"


def _counts(series: pl.Series) -> list[tuple[str, int]]:
    """Distinct non-missing values and their counts: the most frequent first, ties in order of
    first appearance (as pandas' ``value_counts``)."""
    counts = (series.drop_nulls().to_frame("value").group_by("value", maintain_order=True).len()
              .sort("len", descending=True, maintain_order=True))
    return list(zip(counts["value"].to_list(), counts["len"].to_list(), strict=True))


def _replace(frame: pl.DataFrame, column: str, mapping: dict[str, str]) -> pl.DataFrame:
    return frame.with_columns(pl.col(column).replace(list(mapping), list(mapping.values())))


def normalise_text(raw: RawTable, frame: pl.DataFrame) -> tuple[pl.DataFrame, list[CleaningEntry]]:
    """Strip and collapse whitespace in every text column; log the values that changed."""
    log: list[CleaningEntry] = []
    for col in raw.table.columns:
        if col.kind in (Kind.NUMERIC, Kind.INTEGER, Kind.ID) or frame.schema[col.name] != pl.String:
            continue
        series = frame[col.name]
        uniques = series.drop_nulls().unique(maintain_order=True).to_list()
        changed = {u: _SPACES.sub(" ", u).strip() for u in uniques}
        changed = {k: v for k, v in changed.items() if k != v}
        if changed:
            counts = dict(_counts(series.filter(series.is_in(list(changed)))))
            for before, after in changed.items():
                log.append(CleaningEntry(table=raw.table.name, column=col.source, action="normalise_whitespace",
                                         from_=before, to=after, rows=int(counts[before])))
            frame = _replace(frame, col.name, changed)
    return frame, log


def map_vocabulary(raw: RawTable, frame: pl.DataFrame, column: str, vocabulary: Sequence[str],
                   config: CleaningConfig, *, open_vocabulary: bool) -> tuple[pl.DataFrame, list[CleaningEntry]]:
    """Map near-typos (and case variants) of ``column`` onto the canonical ``vocabulary``.

    Parameters
    ----------
    open_vocabulary : bool
        When true, a value that is no near-typo of a canonical one is kept as a new category
        (and logged); when false it is left for validation to reject.
    """
    table = raw.table
    source = table.column(column).source
    series = frame[column]
    if series.dtype != pl.String:
        return frame, []  # not text: validation names the column's type
    mapping: dict[str, str] = {}
    log: list[CleaningEntry] = []
    unknown: list[str] = []
    for value, rows in _counts(series):
        target, action = canonical_match(str(value), vocabulary, max_distance=config.typo_max_distance,
                                         max_relative=config.typo_max_relative)
        if action == "unknown" and open_vocabulary:
            unknown.append(value)
            if len(unknown) > config.max_new_categories:  # stop at once: bounded work on any number of values
                positions = np.flatnonzero(series.is_in(unknown).fill_null(False).to_numpy())
                raise DataError(file=raw.file, column=source,
                                problem=f"more than {config.max_new_categories} values that are neither one of "
                                        "the known categories nor a near-typo of one",
                                expected="one of " + ", ".join(f"«{v}»" for v in vocabulary)
                                         + f", or at most {config.max_new_categories} new categories "
                                           "(cleaning.max_new_categories)",
                                rows=bad_rows(raw, positions, column, limit=config.max_rows_in_error),
                                n_rows=len(positions))
        if action in ("normalise_case", "fix_typo") and target is not None:
            mapping[value] = target
            log.append(CleaningEntry(table=table.name, column=source, action=action, from_=value, to=target,
                                     rows=int(rows),
                                     note=EditDistanceNote(distance=levenshtein(str(value), target))
                                     if action == "fix_typo" else None))
        elif action == "unknown" and open_vocabulary:
            log.append(CleaningEntry(table=table.name, column=source, action="new_category", from_=value,
                                     to=value, rows=int(rows),
                                     note=NewCategoryNote()))
    if mapping:
        frame = _replace(frame, column, mapping)
    return frame, log


def _repeats(frame: pl.DataFrame, columns: Sequence[str] | None = None) -> np.ndarray:
    """Whether each row repeats an earlier one (on ``columns``, by default all)."""
    return (~frame.select(pl.struct(list(columns) if columns else frame.columns).is_first_distinct())
            .to_series()).to_numpy()


#: Bits of a categorical's physical code (UInt32): an id below 2**(64 - 1 - this) and a code fit
#: into one Int64 together.
_CODE_BITS = 32


def key_is_unique(frame: pl.DataFrame, key: Sequence[str]) -> bool:
    """Whether no two rows of ``frame`` share ``key``.

    The key is counted as one integer per row: the id alone, or the id and the code of the
    period's categorical in one Int64 (ids below 2**31): the 3 million rows of (id, period) of a
    million customers' market_money.csv in 0.07 s instead of the 0.27 s of hashing a struct of the
    values per row (measured). Any other key: the struct.
    """
    first = frame[key[0]]
    if len(key) == 1 and first.dtype.is_integer():
        return bool(first.n_unique() == frame.height)
    if len(key) == 2 and first.dtype.is_integer() and frame.height:
        second = frame[key[1]]
        low, high = first.min(), first.max()
        fits = isinstance(low, int) and isinstance(high, int) and low >= 0 and high < 2 ** (63 - _CODE_BITS)
        if fits and (second.dtype == pl.String or isinstance(second.dtype, pl.Categorical)):
            codes = second.cast(pl.Categorical).to_physical().cast(pl.Int64)
            return bool((first.cast(pl.Int64) * 2 ** _CODE_BITS + codes).n_unique() == frame.height)
    return bool(frame.select(pl.struct(list(key)).is_unique().all()).item())


def drop_duplicates(raw: RawTable, frame: pl.DataFrame, raw_frame: pl.DataFrame, *,
                    key: Sequence[str], max_rows: int) -> tuple[pl.DataFrame, list[CleaningEntry]]:
    """Drop full and implicit duplicate rows; refuse conflicting rows for the same key.

    A *full* duplicate repeats another row of the raw file exactly; an *implicit* one only
    after text normalisation and typo fixes (e.g. «стандартт» vs «стандарт»). Two rows with the
    same ``key`` but different values are a :class:`DataError`.

    Raises
    ------
    NeedsText
        When ``raw``'s numbers were read as typed columns and some key repeats: whether a row
        repeats another *as written* (``4.3`` and ``4.30`` do not) needs the text.
    """
    table = raw.table
    log: list[CleaningEntry] = []
    # A full duplicate is also a duplicate of the key: a unique key means nothing to drop or refuse
    # (hashing the key alone is cheaper than whole rows).
    unique_key = key_is_unique(frame, key)
    if unique_key:
        return frame, log
    if raw.as_text is not None:
        raise NeedsText(raw.file)
    dup_all = _repeats(frame)
    if dup_all.any():
        dup_raw = _repeats(raw_frame)
        n_full = int((dup_all & dup_raw).sum())
        n_implicit = int((dup_all & ~dup_raw).sum())
        if n_full:
            log.append(CleaningEntry(table=table.name, column=None, action="drop_full_duplicates",
                                     from_=None, to=None, rows=n_full))
        if n_implicit:
            log.append(CleaningEntry(table=table.name, column=None, action="drop_implicit_duplicates",
                                     from_=None, to=None, rows=n_implicit,
                                     note=ImplicitDuplicatesNote()))
        keep = ~dup_all
        frame = frame.filter(pl.Series(keep))
        positions_kept = np.flatnonzero(keep)
    else:
        positions_kept = np.arange(frame.height)
    conflict = frame.select(pl.struct(list(key)).is_duplicated()).to_series().to_numpy()
    if conflict.any():
        positions = positions_kept[conflict]
        what = "the same id" if len(key) == 1 else "the same id and period"
        raise DataError(file=raw.file, column=table.column(key[-1]).source,
                        problem=f"{what} appears more than once with different values",
                        expected="one row per customer" if len(key) == 1 else "one row per customer and period",
                        rows=bad_rows(raw, positions, key[-1], limit=max_rows), n_rows=len(positions))
    return frame, log


@dataclass(frozen=True, slots=True)
class OutlierDecision:
    """Result of the robust outlier rule on one value column of a long table."""

    threshold: float
    ids: np.ndarray
    values: np.ndarray
    mask: np.ndarray


def detect_outliers(values: ArrayLike, periods: ArrayLike, ids: ArrayLike,
                    config: CleaningConfig) -> OutlierDecision:
    """Flag values above ``median + k·1.4826·MAD`` (per period, over positive values) that are
    also at least ``outlier_min_ratio`` times the median.

    ``values``, ``periods`` and ``ids`` are aligned one-dimensional arrays (NumPy, polars or
    pandas). The threshold reported is the smallest per-period threshold.
    """
    v = np.asarray(values, dtype=float)
    mask = np.zeros(v.size, dtype=bool)
    thresholds: list[float] = []
    labels = (periods if isinstance(periods, pl.Series)
              else pl.Series(np.asarray(periods, dtype=object), dtype=pl.String))
    # one comparison per distinct period (a few) instead of a dense rank, a sort of every row: the
    # 3 million periods of a million customers 0.10 → 0.02 s (measured); the order of the periods
    # changes neither the mask nor the smallest threshold
    for label in labels.drop_nulls().unique():
        sel = (labels == label).fill_null(False).to_numpy()
        positive = v[sel & (v > 0)]
        if positive.size < 3:
            continue
        median = float(np.median(positive))
        mad = float(np.median(np.abs(positive - median))) * 1.4826
        threshold = max(median + config.outlier_mad_k * mad, config.outlier_min_ratio * median)
        thresholds.append(threshold)
        mask |= sel & (v > threshold)
    threshold = min(thresholds) if thresholds else float("inf")
    return OutlierDecision(threshold=threshold, ids=np.asarray(ids)[mask], values=v[mask], mask=mask)


def column_source(table: Table, name: str) -> str:
    """Raw column name of the English identifier ``name``."""
    return table.column(name).source
