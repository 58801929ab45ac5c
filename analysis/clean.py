"""Cleaning, every decision logged: text normalisation, near-typos, duplicates, outliers.

Each function returns the cleaned frame and the :class:`CleaningEntry` objects that describe
what it did; nothing is changed silently.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz.distance import Levenshtein

from analysis.config import CleaningConfig
from analysis.errors import DataError
from analysis.load import RawTable, bad_rows
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


def normalise_text(raw: RawTable, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[CleaningEntry]]:
    """Strip and collapse whitespace in every text column; log the values that changed."""
    log: list[CleaningEntry] = []
    frame = frame.copy()
    for col in raw.table.columns:
        if col.kind in (Kind.NUMERIC, Kind.INTEGER, Kind.ID):
            continue
        series = frame[col.name]
        uniques = series.unique()
        mapping = {u: _SPACES.sub(" ", u).strip() for u in uniques}
        changed = {k: v for k, v in mapping.items() if k != v}
        if changed:
            counts = series.value_counts()
            for before, after in changed.items():
                log.append(CleaningEntry(table=raw.table.name, column=col.source, action="normalise_whitespace",
                                         from_=before, to=after, rows=int(counts[before])))
            frame[col.name] = series.map(mapping)
    return frame, log


def map_vocabulary(raw: RawTable, frame: pd.DataFrame, column: str, vocabulary: Sequence[str],
                   config: CleaningConfig, *, open_vocabulary: bool) -> tuple[pd.DataFrame, list[CleaningEntry]]:
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
    counts = series.value_counts()
    mapping: dict[str, str] = {}
    log: list[CleaningEntry] = []
    unknown: list[str] = []
    for value in counts.index:
        target, action = canonical_match(str(value), vocabulary, max_distance=config.typo_max_distance,
                                         max_relative=config.typo_max_relative)
        if action == "unknown" and open_vocabulary:
            unknown.append(value)
            if len(unknown) > config.max_new_categories:  # stop at once: bounded work on any number of values
                positions = np.flatnonzero(series.isin(unknown).to_numpy())
                raise DataError(file=table.file, column=source,
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
                                     rows=int(counts[value]),
                                     note=EditDistanceNote(distance=levenshtein(str(value), target))
                                     if action == "fix_typo" else None))
        elif action == "unknown" and open_vocabulary:
            log.append(CleaningEntry(table=table.name, column=source, action="new_category", from_=value,
                                     to=value, rows=int(counts[value]),
                                     note=NewCategoryNote()))
    if mapping:
        frame = frame.copy()
        frame[column] = series.replace(mapping)
    return frame, log


def drop_duplicates(raw: RawTable, frame: pd.DataFrame, raw_frame: pd.DataFrame, *,
                    key: Sequence[str], max_rows: int) -> tuple[pd.DataFrame, list[CleaningEntry]]:
    """Drop full and implicit duplicate rows; refuse conflicting rows for the same key.

    A *full* duplicate repeats another row of the raw file exactly; an *implicit* one only
    after text normalisation and typo fixes (e.g. «стандартт» vs «стандарт»). Two rows with the
    same ``key`` but different values are a :class:`DataError`.
    """
    table = raw.table
    log: list[CleaningEntry] = []
    # A full duplicate is also a duplicate of the key: a unique key means nothing to drop or refuse
    # (hashing the key alone is 5× cheaper than whole rows at a million customers).
    unique_key = frame[key[0]].is_unique if len(key) == 1 else not frame.duplicated(subset=list(key)).any()
    if unique_key:
        return frame, log
    dup_all = frame.duplicated(keep="first").to_numpy()
    if dup_all.any():
        dup_raw = raw_frame.duplicated(keep="first").to_numpy()
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
        frame = frame[keep]
        positions_kept = np.flatnonzero(keep)
    else:
        positions_kept = np.arange(len(frame))
    conflict = frame.duplicated(subset=list(key), keep=False).to_numpy()
    if conflict.any():
        positions = positions_kept[conflict]
        what = "the same id" if len(key) == 1 else "the same id and period"
        raise DataError(file=table.file, column=table.column(key[-1]).source,
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


def detect_outliers(values: pd.Series, periods: pd.Series, ids: pd.Series,
                    config: CleaningConfig) -> OutlierDecision:
    """Flag values above ``median + k·1.4826·MAD`` (per period, over positive values) that are
    also at least ``outlier_min_ratio`` times the median.

    The threshold reported is the smallest per-period threshold.
    """
    mask = np.zeros(len(values), dtype=bool)
    thresholds: list[float] = []
    v = values.to_numpy(dtype=float)
    codes, uniques = pd.factorize(periods)  # in order of appearance, as pd.unique
    for k in range(len(uniques)):
        sel = codes == k
        positive = v[sel & (v > 0)]
        if positive.size < 3:
            continue
        median = float(np.median(positive))
        mad = float(np.median(np.abs(positive - median))) * 1.4826
        threshold = max(median + config.outlier_mad_k * mad, config.outlier_min_ratio * median)
        thresholds.append(threshold)
        mask |= sel & (v > threshold)
    threshold = min(thresholds) if thresholds else float("inf")
    return OutlierDecision(threshold=threshold, ids=ids.to_numpy()[mask], values=v[mask], mask=mask)


def column_source(table: Table, name: str) -> str:
    """Raw column name of the English identifier ``name``."""
    return table.column(name).source
