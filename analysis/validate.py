"""Validate types, ranges and labels with pandera schemas built from :mod:`analysis.schema`.

The pandera schemas are derived from the declared columns, so :mod:`analysis.schema` stays the
single place that knows columns, types and ranges. A failure becomes a :class:`DataError` that
names the file, the column, the first offending rows (line and id) and what was expected.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from analysis.config import VocabularyConfig
from analysis.errors import DataError
from analysis.load import RawTable, bad_rows
from analysis.schema import Column, Kind, Table

_DTYPES = {
    Kind.ID: "int64",
    Kind.NUMERIC: "float64",
    Kind.INTEGER: "float64",  # integers are checked as whole numbers, stored as float for NaN-safety
    Kind.CATEGORICAL: "str",
    Kind.BINARY: "str",
    Kind.TARGET: "str",
    Kind.PERIOD: "str",
}


def _allowed(table: Table, column: Column, vocabulary: VocabularyConfig) -> tuple[str, ...] | None:
    if column.kind is Kind.TARGET:
        return vocabulary.activity
    if column.kind is Kind.PERIOD:
        return vocabulary.money_periods if table.name == "market_money" else vocabulary.time_periods
    return None


def _bounds(column: Column, max_abs: float | None) -> tuple[float | None, float | None]:
    """The closed range a numeric column's values must lie in: the declared one, within ±``max_abs``."""
    lo, hi = column.minimum, column.maximum
    if max_abs is not None and column.kind is not Kind.ID:
        lo = -max_abs if lo is None else max(lo, -max_abs)
        hi = max_abs if hi is None else min(hi, max_abs)
    return lo, hi


def _expectation(table: Table, column: Column, vocabulary: VocabularyConfig, max_abs: float | None = None) -> str:
    allowed = _allowed(table, column, vocabulary)
    if allowed is not None:
        return "one of " + ", ".join(f"«{v}»" for v in allowed) + " (or a near-typo of one)"
    if column.kind is Kind.ID:
        return "a whole, non-negative customer id"
    if column.kind in (Kind.NUMERIC, Kind.INTEGER):
        what = "a whole number" if column.kind is Kind.INTEGER else "a number"
        lo, hi = _bounds(column, max_abs)
        if lo is not None and hi is not None:
            return f"{what} in [{lo:g}, {hi:g}]"
        if lo is not None:
            return f"{what} ≥ {lo:g}"
        return what
    return "a non-empty text value"


def build_schema(table: Table, vocabulary: VocabularyConfig, *, max_abs: float | None = None) -> pa.DataFrameSchema:
    """The pandera schema of one table (English column names); numbers must be finite and, with
    ``max_abs``, within ±``max_abs``."""
    columns: dict[str, pa.Column] = {}
    for col in table.columns:
        checks: list[pa.Check] = []
        if col.kind in (Kind.NUMERIC, Kind.INTEGER, Kind.ID):
            if col.kind is not Kind.ID:
                checks.append(pa.Check(lambda s: pd.Series(np.isfinite(s.to_numpy(dtype=float)), index=s.index),
                                       name="finite"))
            lo, hi = _bounds(col, max_abs)
            if lo is not None:
                checks.append(pa.Check.ge(lo))
            if hi is not None:
                checks.append(pa.Check.le(hi))
            if col.kind in (Kind.INTEGER, Kind.ID):
                checks.append(pa.Check(lambda s: (s - s.round()).abs() < 1e-9, name="whole_number"))
        else:
            checks.append(pa.Check.str_length(min_value=1))
        allowed = _allowed(table, col, vocabulary)
        if allowed is not None:
            checks.append(pa.Check.isin(list(allowed)))
        columns[col.name] = pa.Column(_DTYPES[col.kind], checks=checks, coerce=True, nullable=False)
    return pa.DataFrameSchema(columns, strict=False, ordered=False)


def validate_table(raw: RawTable, frame: pd.DataFrame, vocabulary: VocabularyConfig,
                   *, max_rows: int, max_abs: float | None = None) -> pd.DataFrame:
    """Coerce ``frame`` (string values, English names) to typed columns and check ranges/labels.

    Parameters
    ----------
    raw : RawTable
        The loaded table, for the file name and line numbers.
    frame : DataFrame
        The (text-normalised) frame to validate; positional index aligned with ``raw``.
    vocabulary : VocabularyConfig
        Allowed target and period labels.
    max_rows : int
        How many offending rows to quote.
    max_abs : float, optional
        Numbers beyond ±``max_abs`` are refused (besides NaN and infinities, always refused).

    Raises
    ------
    DataError
        At the first failing column, with its offending rows.
    """
    table = raw.table
    numeric = [c.name for c in table.columns if c.kind in (Kind.NUMERIC, Kind.INTEGER, Kind.ID)]
    frame = frame.copy()
    for name in numeric:
        # Empty cells and stray spaces (incl. no-break spaces from Excel) are not numbers.
        frame[name] = frame[name].str.replace("\u00a0", "", regex=False).str.strip()
    # Numeric columns whose every value is a plain decimal literal are parsed here by pyarrow (the
    # same numbers; pandas' coercion of pyarrow strings took 6 s of 8 at a million customers).
    # Every other column, and every check, is still pandera's, so the errors are unchanged.
    precast = frame.copy(deep=False)
    for name in numeric:
        kind = table.column(name).kind
        precast[name] = _precast(frame[name], np.int64 if kind is Kind.ID else np.float64)
    try:
        return build_schema(table, vocabulary, max_abs=max_abs).validate(precast, lazy=True)
    except SchemaErrors as exc:
        raise _to_data_error(raw, frame, exc.failure_cases, vocabulary, max_rows=max_rows, max_abs=max_abs) from None


_INTEGER_LITERAL = r"^[+-]?[0-9]+$"
_DECIMAL_LITERAL = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"


def _precast(series: pd.Series, dtype: type) -> pd.Series:
    """``series`` parsed to ``dtype`` when every value is a plain ASCII literal of that type (then
    pyarrow's and Python's parsers agree to the bit); else ``series`` unchanged, for pandera."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if series.empty:
        return series
    try:
        values = pa.chunked_array(pa.array(series.array)) if not hasattr(series.array, "_pa_array") \
            else series.array._pa_array
        if values.null_count or not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
            return series
        pattern = _INTEGER_LITERAL if dtype is np.int64 else _DECIMAL_LITERAL
        if not pc.all(pc.match_substring_regex(values, pattern)).as_py():
            return series
        target = pa.int64() if dtype is np.int64 else pa.float64()
        parsed = pc.cast(values, target).to_numpy()
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return series
    return pd.Series(parsed, index=series.index, name=series.name)


def _to_data_error(raw: RawTable, frame: pd.DataFrame, cases: pd.DataFrame,
                   vocabulary: VocabularyConfig, *, max_rows: int, max_abs: float | None = None) -> DataError:
    table = raw.table
    row_cases = cases[cases["index"].notna()]
    if row_cases.empty:
        first = cases.iloc[0]
        column = table.column(str(first["column"]))
        return DataError(file=table.file, column=column.source,
                         problem=f"the check {first['check']} could not run ({first['failure_case']})",
                         expected=_expectation(table, column, vocabulary, max_abs))
    cases = row_cases
    order = {c.name: i for i, c in enumerate(table.columns)}
    cases = cases.assign(_order=cases["column"].map(order)).sort_values(["_order", "index"], kind="stable")
    name = str(cases["column"].iloc[0])
    column = table.column(name)
    positions = np.unique(cases.loc[cases["column"] == name, "index"].astype(np.int64).to_numpy())
    check = " ".join(cases.loc[cases["column"] == name, "check"].astype(str).unique())
    if "coerce_dtype" in check or "dtype(" in check:
        problem = "values that are not numbers" if column.kind is not Kind.ID else "ids that are not whole numbers"
        if frame[name].iloc[positions].eq("").all():
            problem = "empty values"
    elif "isin" in check:
        problem = "unknown labels"
    elif "finite" in check or "not_nullable" in check:
        problem = "values that are not finite numbers (NaN or infinity)"
    elif "whole_number" in check:
        problem = "values that are not whole numbers"
    elif "str_length" in check:
        problem = "empty values"
    else:
        problem = "values out of range"
    return DataError(file=table.file, column=column.source, problem=problem,
                     expected=_expectation(table, column, vocabulary, max_abs),
                     rows=bad_rows(raw, positions, name, limit=max_rows), n_rows=len(positions))
