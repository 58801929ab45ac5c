"""Validate types, ranges and labels with pandera schemas built from :mod:`analysis.schema`.

The pandera schemas (pandera's polars backend) are derived from the declared columns, so
:mod:`analysis.schema` stays the single place that knows columns, types and ranges. Text from a
CSV file is first parsed to the declared types by polars (a value that is no number becomes a
missing one, and is named as such); a Parquet file's or a database's column keeps its type when it
is of the declared kind and is refused when it is not. A failure becomes a :class:`DataError` that
names the file (or table), the column, the first offending rows (line and id) and what was expected.
"""

from __future__ import annotations

import numpy as np
import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from analysis.config import VocabularyConfig
from analysis.errors import DataError
from analysis.load import RawTable, bad_rows
from analysis.schema import Column, Kind, Table

#: The declared kind → the polars type it is validated (and analysed) as. Integers are checked as
#: whole numbers and stored as floats until the duplicates are dropped.
_DTYPES: dict[Kind, type[pl.DataType]] = {
    Kind.ID: pl.Int64,
    Kind.NUMERIC: pl.Float64,
    Kind.INTEGER: pl.Float64,
    Kind.CATEGORICAL: pl.String,
    Kind.BINARY: pl.String,
    Kind.TARGET: pl.String,
    Kind.PERIOD: pl.String,
}
_NUMBERS = (Kind.ID, Kind.NUMERIC, Kind.INTEGER)


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


def _finite(data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(pl.col(data.key).is_finite())


def _whole(data: pa.PolarsData) -> pl.LazyFrame:
    value = pl.col(data.key)
    return data.lazyframe.select((value - value.round()).abs() < 1e-9)


def build_schema(table: Table, vocabulary: VocabularyConfig, *, max_abs: float | None = None) -> pa.DataFrameSchema:
    """The pandera (polars) schema of one table (English column names); numbers must be finite and,
    with ``max_abs``, within ±``max_abs``."""
    columns: dict[str, pa.Column] = {}
    for col in table.columns:
        checks: list[pa.Check] = []
        if col.kind in _NUMBERS:
            if col.kind is not Kind.ID:
                checks.append(pa.Check(_finite, name="finite"))
            lo, hi = _bounds(col, max_abs)
            if lo is not None:
                checks.append(pa.Check.ge(lo))
            if hi is not None:
                checks.append(pa.Check.le(hi))
            if col.kind is Kind.INTEGER:
                checks.append(pa.Check(_whole, name="whole_number"))
        else:
            checks.append(pa.Check.str_length(min_value=1))
        allowed = _allowed(table, col, vocabulary)
        if allowed is not None:
            checks.append(pa.Check.isin(list(allowed)))
        columns[col.name] = pa.Column(_DTYPES[col.kind], checks=checks, nullable=False)
    return pa.DataFrameSchema(columns, strict=False, ordered=False)


def _kind_of_type(dtype: pl.DataType) -> str:
    return "text" if dtype == pl.String else str(dtype)


def typed_columns(raw: RawTable, frame: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    """``frame`` with every declared column in its declared polars type, and, per numeric column,
    the positions of values that are no number.

    Text is parsed by polars: a plain literal as it is, any other cell again after dropping the
    spaces around it (no-break spaces from Excel included: not part of a number); a number column
    keeps its values; any other type (a date where a number is declared, a number where text is)
    is refused.

    Raises
    ------
    DataError
        On a column of a type that cannot hold the declared kind.
    """
    table = raw.table
    columns: list[pl.Series] = []
    positions: dict[str, np.ndarray] = {}
    for col in table.columns:
        series = frame[col.name]
        dtype = series.dtype
        target = _DTYPES[col.kind]
        if col.kind in _NUMBERS and dtype == pl.String:
            parsed = series.cast(target, strict=False)
            retry = parsed.is_null() & series.is_not_null()
            if retry.any():  # cleaning every cell costs 4× the cast: only those that did not parse
                cleaned = series.str.replace_all("\u00a0", "", literal=True).str.strip_chars()
                parsed = pl.select(pl.when(retry).then(cleaned.cast(target, strict=False))
                                   .otherwise(parsed)).to_series()
                failed = np.flatnonzero((parsed.is_null() & series.is_not_null()).to_numpy())
                if failed.size:
                    positions[col.name] = failed
            columns.append(parsed.alias(col.name))
        elif col.kind in _NUMBERS and dtype.is_numeric():
            if col.kind is Kind.ID and not dtype.is_integer():
                whole = series.cast(pl.Float64)
                bad = (~((whole - whole.round()).abs() < 1e-9).fill_null(True) | ~whole.is_finite()).fill_null(False)
                failed = np.flatnonzero(bad.to_numpy())
                if failed.size:
                    positions[col.name] = failed
                whole = pl.select(pl.when(bad).then(None).otherwise(whole)).to_series()
                columns.append(whole.cast(target, strict=False).alias(col.name))
            else:
                columns.append(series.cast(target, strict=False).alias(col.name))
        elif col.kind not in _NUMBERS and dtype == pl.String:
            columns.append(series)
        elif col.kind not in _NUMBERS and isinstance(dtype, (pl.Categorical, pl.Enum)):
            columns.append(series.cast(pl.String))
        else:
            what = "numbers" if col.kind in _NUMBERS else "text"
            raise DataError(file=raw.file, column=col.source, problem=f"a column of type {_kind_of_type(dtype)}",
                            expected=f"a column of {what}: {_expectation(table, col, VocabularyConfig())}")
    return pl.DataFrame(columns), positions


def validate_table(raw: RawTable, frame: pl.DataFrame, vocabulary: VocabularyConfig,
                   *, max_rows: int, max_abs: float | None = None) -> pl.DataFrame:
    """Type ``frame`` (English names, values as read) and check ranges and labels.

    Parameters
    ----------
    raw : RawTable
        The loaded table, for the file name and line numbers.
    frame : polars.DataFrame
        The (text-normalised) frame to validate; rows aligned with ``raw``.
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
    typed, unparsed = typed_columns(raw, frame)
    try:
        return build_schema(raw.table, vocabulary, max_abs=max_abs).validate(typed, lazy=True)
    except SchemaErrors as exc:
        raise _to_data_error(raw, frame, typed, unparsed, exc.failure_cases, vocabulary, max_rows=max_rows,
                             max_abs=max_abs) from None


def _to_data_error(raw: RawTable, frame: pl.DataFrame, typed: pl.DataFrame, unparsed: dict[str, np.ndarray],
                   cases: pl.DataFrame, vocabulary: VocabularyConfig, *, max_rows: int,
                   max_abs: float | None = None) -> DataError:
    table = raw.table
    row_cases = cases.filter(pl.col("index").is_not_null() & pl.col("column").is_not_null())
    if row_cases.is_empty():
        first = cases.row(0, named=True)
        column = table.column(str(first["column"])) if first["column"] in {c.name for c in table.columns} \
            else table.columns[0]
        return DataError(file=raw.file, column=column.source,
                         problem=f"the check {first['check']} could not run ({first['failure_case']})",
                         expected=_expectation(table, column, vocabulary, max_abs))
    order = {c.name: i for i, c in enumerate(table.columns)}
    name = min(row_cases["column"].unique().to_list(), key=lambda c: order[c])
    column = table.column(name)
    mine = row_cases.filter(pl.col("column") == name)
    positions = np.unique(mine["index"].cast(pl.Int64).to_numpy())
    checks = set(mine["check"].cast(pl.String).to_list())
    not_numbers = unparsed.get(name, np.empty(0, dtype=np.int64))
    values = typed[name]
    if np.isin(positions, not_numbers).any():
        problem = "values that are not numbers" if column.kind is not Kind.ID else "ids that are not whole numbers"
        texts = frame[name].gather(positions)
        if texts.dtype == pl.String and texts.str.strip_chars().eq("").all():
            problem = "empty values"
    elif any(c.startswith("isin") for c in checks):
        problem = "unknown labels"
    elif "finite" in checks or ("not_nullable" in checks and values.dtype == pl.Float64
                                and values.gather(positions).is_nan().any()):
        problem = "values that are not finite numbers (NaN or infinity)"
    elif "not_nullable" in checks or any(c.startswith("str_length") for c in checks):
        problem = "empty values"
    elif "whole_number" in checks:
        problem = "values that are not whole numbers"
    else:
        problem = "values out of range"
    return DataError(file=raw.file, column=column.source, problem=problem,
                     expected=_expectation(table, column, vocabulary, max_abs),
                     rows=bad_rows(raw, positions, name, limit=max_rows), n_rows=len(positions))
