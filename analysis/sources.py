"""Where the four tables come from: a folder of CSV or Parquet files, or a PostgreSQL database.

``--data DIR`` reads each table from ``DIR/<table>.csv`` (any encoding, separator and decimal
mark :mod:`analysis.load` detects) or, where that is absent, from ``DIR/<table>.parquet``.
``--data postgresql://host:port/database`` reads them from PostgreSQL through the ADBC driver
(``adbc-driver-postgresql``, libpq) into polars, with the table names or the queries of
:class:`analysis.config.SourceConfig`. The URL carries no password: libpq takes the credentials
from the environment (``PGUSER``, ``PGPASSWORD``) or ``~/.pgpass``, so nothing that is printed or
recorded holds a secret.

Every source gives the same :class:`analysis.load.RawTable` objects; what is wrong with a table
of a database (a missing table or column, a wrong type, a server that cannot be reached) is a
:class:`analysis.errors.DataError` like a bad file's, and ends the command with exit 2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
import polars as pl

from analysis.errors import DataError
from analysis.load import RawFormat, RawTable, bad_rows, read_table, sha256_file
from analysis.schema import TABLES, Kind, Table

if TYPE_CHECKING:
    import adbc_driver_manager.dbapi

    from analysis.config import Config

_SCHEMES = ("postgresql://", "postgres://")
#: URL parameters that would put a secret into a URL that is printed or recorded.
_SECRET_PARAMETERS = frozenset({"password", "passfile", "sslpassword"})


@dataclass(frozen=True, slots=True)
class PostgresSource:
    """A PostgreSQL database: a libpq URL without a password (``postgresql://host:port/db``)."""

    url: str

    def __str__(self) -> str:
        return self.url


#: What ``--data`` names.
Source = Path | PostgresSource


def is_database_url(text: str) -> bool:
    """Whether ``text`` names a database rather than a folder."""
    return text.startswith(_SCHEMES)


def parse_source(text: str, *, option: str = "--data") -> Source:
    """``--data``'s value (or another setting's, named ``option`` in the errors: the monthly run's
    ``source.data``; none when empty) as a folder or a database.

    Raises
    ------
    ValueError
        When a database URL holds a password (it would be printed and recorded), or is not a URL;
        the message names ``option`` and shows the URL with any secret replaced by ``***``.
    """
    if not is_database_url(text):
        return Path(text)
    named = f"{option} {_redacted(text)}" if option else _redacted(text)
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ValueError(f"{named}: the port is not a number") from None
    secret = sorted(k for k, _ in parse_qsl(parts.query) if k.lower() in _SECRET_PARAMETERS)
    if parts.password is not None or secret:
        held = ", ".join(secret) or "user:password@"
        raise ValueError(f"{named}: the URL holds a password ({held}); "
                         "give it in the environment instead (PGPASSWORD, or ~/.pgpass), never in a URL that "
                         "is printed and recorded")
    return PostgresSource(text)


def _redacted(url: str) -> str:
    """``url`` with any password and secret parameter replaced by ``***``."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            netloc = f"{parts.username or ''}:***@{netloc.rpartition('@')[2]}"
        query = urlencode([(k, "***" if k.lower() in _SECRET_PARAMETERS else v) for k, v in parse_qsl(parts.query)])
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return url.split("://", 1)[0] + "://***"


def read_source(source: Source, config: Config) -> dict[str, RawTable]:
    """The four tables of ``source`` (table name → :class:`RawTable`)."""
    return {raw.table.name: raw for raw in iter_source(source, config)}


def iter_source(source: Source, config: Config) -> Iterator[RawTable]:
    """The four tables of ``source``, one at a time (the caller may clean each and let its raw
    values go before the next is read). A folder's files are all checked for presence first."""
    cleaning = config.cleaning
    if isinstance(source, PostgresSource):
        return iter_postgres(source, config)
    return iter_folder(Path(source), max_cell_chars=cleaning.max_cell_chars, max_rows=cleaning.max_rows_in_error)


def read_folder(data_dir: Path, *, max_cell_chars: int | None = None, max_rows: int = 5) -> dict[str, RawTable]:
    """Each table from ``<table>.csv`` or, where that is absent, ``<table>.parquet``."""
    return {raw.table.name: raw for raw in iter_folder(data_dir, max_cell_chars=max_cell_chars, max_rows=max_rows)}


def iter_folder(data_dir: Path, *, max_cell_chars: int | None = None, max_rows: int = 5) -> Iterator[RawTable]:
    """Each table from ``<table>.csv`` or, where that is absent, ``<table>.parquet``.

    Raises
    ------
    DataError
        When a table has neither file, or both (which one is meant is not guessed): before any
        table is read.
    """
    readers = []
    for table in TABLES:
        csv, parquet = data_dir / table.file, data_dir / parquet_name(table)
        if csv.exists() and parquet.exists():
            raise DataError(file=table.file, problem=f"both {table.file} and {parquet.name} are in {data_dir}",
                            expected="one file per table, CSV or Parquet")
        if parquet.exists() and not csv.exists():
            readers.append((read_parquet_table, parquet, table))
        elif not csv.is_file():
            raise DataError(file=table.file, problem=f"file not found in {data_dir}",
                            expected=f"the file {table.file} (or {parquet.name})")
        else:
            readers.append((read_table, csv, table))
    return (read(path, table, max_cell_chars=max_cell_chars, max_rows=max_rows) for read, path, table in readers)


def parquet_name(table: Table) -> str:
    """The Parquet file of ``table``: ``market_file.parquet``, …"""
    return f"{table.name}.parquet"


def _select_declared(frame: pl.DataFrame, table: Table, source: str, what: str) -> pl.DataFrame:
    """The declared columns of ``table`` under their English names, or a DataError.

    A column is found under its raw name (``Длительность``) or under its English identifier
    (``tenure_days``): PostgreSQL cuts names at 63 bytes, shorter than some raw names in Cyrillic.
    """
    names = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    frame = frame.rename(dict(zip(frame.columns, names, strict=True))) if names != frame.columns else frame
    found = {c.name: c.source if c.source in frame.columns else c.name for c in table.columns
             if c.source in frame.columns or c.name in frame.columns}
    missing = [c.source for c in table.columns if c.name not in found]
    if missing:
        shown = ", ".join(repr(c) for c in frame.columns[:30])
        more = f" and {frame.width - 30} more" if frame.width > 30 else ""
        raise DataError(file=source, column=missing[0],
                        problem=f"missing column(s) {', '.join(repr(m) for m in missing)}; found {shown}{more}",
                        expected="the columns " + ", ".join(repr(c.source) for c in table.columns)
                                 + " (or their identifiers " + ", ".join(c.name for c in table.columns) + ")")
    if frame.height == 0:
        raise DataError(file=source, problem=f"the {what} has no rows", expected="at least one data row")
    return frame.select([pl.col(found[c.name]).alias(c.name) for c in table.columns])


def _checked(raw: RawTable, *, max_cell_chars: int | None, max_rows: int) -> RawTable:
    """``raw`` with the checks and text fixes a CSV file gets in :func:`analysis.load.read_table`:
    no text cell longer than ``max_cell_chars``; decimal commas in a text column of numbers."""
    frame, table = raw.frame, raw.table
    text = [c for c in table.columns if frame.schema[c.name] == pl.String]
    if max_cell_chars is not None:
        for col in text:
            too_long = np.flatnonzero(frame[col.name].str.len_chars().gt(max_cell_chars).fill_null(False).to_numpy())
            if too_long.size:
                raise DataError(file=raw.file, column=col.source,
                                problem=f"values longer than {max_cell_chars} characters",
                                expected=f"at most {max_cell_chars} characters in a cell",
                                rows=bad_rows(raw, too_long, col.name, limit=max_rows), n_rows=int(too_long.size))
    numbers = [c.name for c in text if c.kind in (Kind.NUMERIC, Kind.INTEGER)]
    if numbers:
        found = frame.select([(pl.col(n).str.contains(",", literal=True).any()
                               & ~pl.col(n).str.contains(".", literal=True).any()).alias(n) for n in numbers])
        commas = [n for n in numbers if found[n].item()]
        if commas:
            frame = frame.with_columns([pl.col(n).str.replace_all(",", ".", literal=True) for n in commas])
            raw = RawTable(table=table, frame=frame, lines=raw.lines, format=raw.format, sha256=raw.sha256,
                           size_bytes=raw.size_bytes, source=raw.source, origin=raw.origin)
    return raw


def read_parquet_table(path: Path, table: Table, *, max_cell_chars: int | None = None, max_rows: int = 5) -> RawTable:
    """Read one table from a Parquet file: its declared columns (raw names), lazily, in their
    stored types.

    Raises
    ------
    DataError
        When the file is not Parquet, lacks a column or has no rows.
    """
    try:
        names = list(pl.read_parquet_schema(path))
        frame = pl.scan_parquet(path).select(list(names)).collect()
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(file=path.name, problem=f"cannot be read as Parquet ({message[:200]})",
                        expected="a Parquet file with the columns "
                                 + ", ".join(repr(c.source) for c in table.columns)) from None
    frame = _select_declared(frame, table, path.name, "file")
    raw = RawTable(table=table, frame=frame, lines=None, format=RawFormat("parquet", "", "", ""),
                   sha256=sha256_file(path), size_bytes=path.stat().st_size, source=path.name, origin="parquet")
    return _checked(raw, max_cell_chars=max_cell_chars, max_rows=max_rows)


class _Digest:
    """A write-only file that hashes what is written to it."""

    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered."""


def content_sha256(frame: pl.DataFrame) -> tuple[str, int]:
    """SHA-256 of a table's content as read: the frame written as CSV (UTF-8, ``,``, a header
    with the columns as named by the source, ``\\n``), and that CSV's size in bytes."""
    digest = _Digest()
    frame.write_csv(digest)  # type: ignore[call-overload]  # polars writes to any object with write(); its stub asks IO
    return digest.sha256.hexdigest(), digest.size


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]


def _with_timeout(url: str, seconds: int) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    if not any(k == "connect_timeout" for k, _ in query):
        query.append(("connect_timeout", str(seconds)))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def read_postgres(source: PostgresSource, config: Config) -> dict[str, RawTable]:
    """The four tables from PostgreSQL (:func:`iter_postgres`)."""
    return {raw.table.name: raw for raw in iter_postgres(source, config)}


def iter_postgres(source: PostgresSource, config: Config) -> Iterator[RawTable]:
    """The four tables from PostgreSQL, one at a time: one query each (``config.source``), read
    through ADBC into polars, on one connection (connected before the first is asked for).

    Raises
    ------
    DataError
        When the server cannot be reached or refuses the login, a table (or query) cannot be read,
        or a table lacks a column or has no rows.
    """
    import adbc_driver_manager
    import adbc_driver_manager.dbapi
    import adbc_driver_postgresql.dbapi as pg

    where = f"PostgreSQL {source}"
    try:
        connection = pg.connect(_with_timeout(source.url, config.source.connect_timeout))
    except (adbc_driver_manager.Error, adbc_driver_manager.dbapi.Error, OSError) as exc:
        raise DataError(file=where, problem=f"cannot connect to the database ({_first_line(exc)})",
                        expected="a reachable PostgreSQL server at that address, with the user and password in "
                                 "the environment (PGUSER, PGPASSWORD) or ~/.pgpass") from None
    return _tables_of(connection, config)


def _tables_of(connection: adbc_driver_manager.dbapi.Connection, config: Config) -> Iterator[RawTable]:
    import adbc_driver_manager
    import adbc_driver_manager.dbapi  # the except clauses name adbc_driver_manager.dbapi.Error

    cleaning = config.cleaning
    try:
        for table in TABLES:
            query = config.source.query(table.name)
            custom = table.name in config.source.queries
            origin = ("query source.queries." + table.name if custom
                      else "table " + getattr(config.source, table.name))
            label = f"{table.name} (PostgreSQL {origin})"
            try:
                with connection.cursor() as cursor:
                    cursor.execute(query)
                    arrow = cursor.fetch_arrow_table()
                connection.rollback()  # read only: end the transaction the query opened
            except (adbc_driver_manager.Error, adbc_driver_manager.dbapi.Error) as exc:
                connection.rollback()
                message = _first_line(exc)
                missing = "does not exist" in message and not custom
                problem = "the table does not exist" if missing else "the query failed"
                raise DataError(file=label, problem=f"{problem} ({message})",
                                expected=(f"a table {getattr(config.source, table.name)} in the database "
                                          f"(source.{table.name}), or a query in source.queries.{table.name}")
                                if not custom else "a query that reads the table's columns") from None
            frame = pl.from_arrow(arrow)
            assert isinstance(frame, pl.DataFrame)
            sha256, size = content_sha256(frame)
            frame = _select_declared(frame, table, label, "table")
            raw = RawTable(table=table, frame=frame, lines=None, format=RawFormat("postgresql", "", "", ""),
                           sha256=sha256, size_bytes=size, source=label, origin=query)
            yield _checked(raw, max_cell_chars=cleaning.max_cell_chars, max_rows=cleaning.max_rows_in_error)
    finally:
        connection.close()
