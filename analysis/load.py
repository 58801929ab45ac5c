"""Load the four raw tables whatever their encoding, separator, decimal mark and line endings.

Nothing is assumed from a file's name: each file's encoding (UTF-8, UTF-8 with BOM, cp1251),
separator (``,`` ``;`` tab), decimal mark (``.`` or ``,``) and line endings are detected from
its bytes. Raw column names are mapped to English identifiers here, once, from
:mod:`analysis.schema`. CSV values stay strings: typing and range checks belong to
:mod:`analysis.validate`. Tables are polars frames: pyarrow's multithreaded CSV reader parses a
well-formed file and hands its columns to polars without a copy; a file of another shape (ragged
rows, duplicate header names) is parsed by the standard library's :mod:`csv`, row by row, so that
its error names the line. A well-formed file is first read with its numbers as typed columns
(:func:`_read_typed`: no text buffer per number cell, which at ten million customers cost more
time in page faults than the parsing itself); any value or shape that read does not take, and any
error found afterwards, sends the table through the text path, so that bad input gets exactly the
error it always got. The same tables may also come as Parquet files or from PostgreSQL
(:mod:`analysis.sources`); they keep their column types, which :mod:`analysis.validate` checks.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import functools
import hashlib
import io
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import AnyStr

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv

from analysis.errors import BadRow, DataError
from analysis.schema import Kind, Table

_SEPARATORS = (",", ";", "\t")
_DECIMAL_COMMA = re.compile(r"(?:^|[;\t])\s*-?\d+,\d+\s*(?:$|[;\t])", re.MULTILINE)
_SNIFF_LINES = 200
#: A header may carry this many columns besides the declared ones (they are ignored); more is not
#: one of the four tables (a file of millions of separators is refused before it is parsed).
_MAX_EXTRA_COLUMNS = 100
#: Bytes that never occur in a text table: NUL and the C0 controls other than tab, LF and CR.
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_TEXT_BYTES = bytes(range(0x20, 0x100)) + b"\t\n\r"
_PARSER_LINE = re.compile(r"line (\d+)")
#: The typed read proves that no cell is longer than ``max_cell_chars`` by scanning the file in
#: chunks of about this many bytes, into two boolean buffers allocated once (0.36 s per GB,
#: measured on the 1M sample's market_file.csv).
_SCAN_CHUNK_BYTES = 1 << 24
#: The declared kinds a CSV file's typed read parses as numbers, and the type of each (integers as
#: floats, as :mod:`analysis.validate` checks them).
_TYPED_KINDS: dict[Kind, type[pl.DataType]] = {Kind.ID: pl.Int64, Kind.NUMERIC: pl.Float64,
                                               Kind.INTEGER: pl.Float64}


class NeedsText(Exception):
    """A step needs the values of a table read with typed numbers as they were written (the
    duplicates' «repeats the raw row exactly»): the caller reads the table again as text
    (:attr:`RawTable.as_text`) and repeats its cleaning."""


@dataclass(frozen=True, slots=True)
class RawFormat:
    """What was detected about one file."""

    encoding: str
    separator: str
    decimal: str
    line_ending: str


@dataclass(frozen=True, slots=True)
class RawTable:
    """One loaded table: English column names, the values as read, the file line of every row.

    Parameters
    ----------
    frame : polars.DataFrame
        The declared columns under their English names, in declared order: strings from a CSV
        file, the stored types from Parquet or a database.
    lines : ndarray, range or None
        File line (1-based) of every row (a ``range`` when each row is one line: no array of ten
        million numbers); ``None`` where rows have no lines (Parquet, a database).
    source : str
        What errors name: the file name (``market_file.csv``), or the table or query read.
    origin : str
        What was read, for the manifest: ``file``, ``parquet``, or the SQL query run.
    """

    table: Table
    frame: pl.DataFrame
    lines: np.ndarray | range | None
    format: RawFormat
    sha256: str
    size_bytes: int
    source: str = ""
    origin: str = "file"
    #: Rows read (kept when the values are let go: :meth:`without_values`).
    n_rows: int | None = None
    #: Set when the numbers of a CSV file were read as typed columns: reads the file again with
    #: every value as text, the path whose errors name the values as written (a failed check, a
    #: duplicate row, :class:`NeedsText`, sends the table there).
    as_text: Callable[[], RawTable] | None = None

    @property
    def rows(self) -> int:
        """How many data rows were read."""
        return self.frame.height if self.n_rows is None else self.n_rows

    def without_values(self) -> RawTable:
        """This table without its values (an empty frame of the same columns), once it is cleaned:
        its name, lines, format, hash and row count stay for errors, the report and the manifest."""
        return dataclasses.replace(self, frame=self.frame.clear(), n_rows=self.rows)

    @property
    def file(self) -> str:
        """The name errors and the report use for this table (the file name for CSV)."""
        return self.source or self.table.file

    def line_of(self, index: int) -> int | None:
        """The 1-based line number in the file of the row at positional ``index`` (``None``
        where the table has no lines)."""
        return None if self.lines is None else int(self.lines[index])


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def decode(data: bytes) -> tuple[str, str]:
    """Decode ``data``: UTF-8 with BOM, UTF-8, else cp1251 (Excel in a Russian locale).

    Returns
    -------
    (text, encoding)
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1251"), "cp1251"


def detect_format(text: str, *, encoding: str) -> RawFormat:
    """Detect separator, decimal mark and line ending from decoded ``text``."""
    line_ending = "\r\n" if "\r\n" in text[:65536] else ("\r" if "\r" in text[:65536] else "\n")
    head_lines = text[:65536].splitlines()
    header = head_lines[0] if head_lines else ""
    counts = {sep: header.count(sep) for sep in _SEPARATORS}
    separator = max(counts, key=lambda s: counts[s]) if any(counts.values()) else ","
    decimal = "."
    if separator != ",":
        sample = "\n".join(head_lines[1:_SNIFF_LINES])
        if _DECIMAL_COMMA.search(sample.replace(separator, "\t") if separator != "\t" else sample):
            decimal = ","
    return RawFormat(encoding=encoding, separator=separator, decimal=decimal, line_ending=line_ending)


def _line_numbers(text: str | bytes, n_rows: int, *, separator: str = ",") -> np.ndarray | range:
    """File line (1-based) of each data row, skipping blank lines as the parser does.

    ``text`` may be the raw bytes of a UTF-8 file (decoded only when it has blank lines or quoted
    fields spanning lines). A row whose quoted field holds line breaks starts on the line given.
    """
    breaks = (_inner_line_breaks(text, b"\n", (b"\n", b"\r\n")) if isinstance(text, bytes)
              else _inner_line_breaks(text, "\n", ("\n", "\r\n")))
    if breaks == n_rows:
        # one line per row after the header (no blank line, no line break inside a quoted field):
        # one counting pass instead of searches and copies of the whole file
        return range(2, n_rows + 2)
    if _spans_lines(text, n_rows):
        return _quoted_line_numbers(text if isinstance(text, str) else decode(text)[0], n_rows, separator)
    if isinstance(text, bytes):
        start, end = 0, len(text)
        while start < end and text[start] in b"\r\n":
            start += 1
        while end > start and text[end - 1] in b"\r\n":
            end -= 1
        if text.find(b"\n\n", start, end) < 0 and text.find(b"\n\r\n", start, end) < 0:
            return range(2, n_rows + 2)
        text = decode(text)[0]
    if "\n\n" not in text.replace("\r\n", "\n").strip("\n"):
        return range(2, n_rows + 2)
    lines = text.splitlines()
    numbers = [i + 1 for i, line in enumerate(lines[1:], start=1) if line.strip()]
    return np.asarray(numbers[:n_rows], dtype=np.int64)


def _inner_line_breaks(text: AnyStr, newline: AnyStr, ends: tuple[AnyStr, AnyStr]) -> int:
    """Line breaks in ``text`` before its trailing ones (no copy of the file)."""
    last = len(text)
    while last and text[last - 1:last] in ends:
        last -= 1
    return text.count(newline, 0, last)


def _spans_lines(text: str | bytes, n_rows: int) -> bool:
    """Whether some quoted field holds a line break: more non-blank lines than header + rows."""
    if isinstance(text, str):
        return _spans(text, '"', "\n", "\r\n", n_rows)
    return _spans(text, b'"', b"\n", b"\r\n", n_rows)


def _spans(text: AnyStr, quote: AnyStr, newline: AnyStr, crlf: AnyStr, n_rows: int) -> bool:
    if quote not in text:
        return False
    body = text.replace(crlf, newline).strip()
    lines = body.count(newline) + 1 - body.count(newline * 2)
    return lines > n_rows + 1


def _quoted_line_numbers(text: str, n_rows: int, separator: str) -> np.ndarray:
    """Line numbers from the CSV grammar itself (quoted line breaks), skipping blank lines."""
    import csv

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    numbers, end = [], 0
    for index, row in enumerate(reader):
        start, end = end + 1, reader.line_num
        if index == 0 or (len(row) <= 1 and not "".join(row).strip()):
            continue  # the header; a blank line
        numbers.append(start)
        if len(numbers) == n_rows:
            break
    numbers += [numbers[-1] if numbers else 2] * (n_rows - len(numbers))
    return np.asarray(numbers, dtype=np.int64)


def _refuse_non_text(data: bytes, file: str) -> None:
    """UTF-16/32 and binary files are named as such (not read as mojibake with «missing columns»)."""
    head = data[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) >= 64 and head.count(0) > len(head) // 4):
        raise DataError(file=file, problem="the file is UTF-16 (or UTF-32) encoded, which is not supported",
                        expected="a text file in UTF-8 or cp1251: save it again as «CSV UTF-8» or as CSV (cp1251)")
    # bytes.translate deleting every allowed byte runs ~8× faster than the regex over a clean file
    match = _BINARY.search(data) if data.translate(None, _TEXT_BYTES) else None
    if match is not None:
        offset = match.start()
        line = data.count(b"\n", 0, offset) + 1
        raise DataError(file=file, problem=f"binary data (byte 0x{data[offset]:02x} at offset {offset}, line {line})",
                        expected="a CSV text file in UTF-8 or cp1251")


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


#: A Cyrillic letter (U+0400–U+04FF): the tables' headers are in Russian.
_CYRILLIC = re.compile("[\u0400-\u04ff]")
#: The first window :func:`_not_utf8_lines` decodes after a bad line.
_FIRST_WINDOW = 1 << 12
#: The most lines above a line of another encoding searched for the start of its row (a quoted
#: field with line breaks); beyond, the line is named itself.
_MAX_ROW_LINES = 100


def _not_utf8_cells(line: bytes, separator: str, id_field: int | None) -> tuple[str | None, str]:
    """The id (the cell under ``id_field``, the header's id column) and the first cell that is not
    UTF-8 of one row's ``line`` (lines, when a quoted field holds line breaks), split as the CSV
    reader splits it (quoted separators stay in their cell), read as cp1251. cp1251 maps each byte
    to one character (``surrogateescape`` keeps its one undefined byte), so each cell's bytes are
    found again to test them."""
    text = line.rstrip(b"\r").decode("cp1251", errors="surrogateescape")
    if text.count('"') % 2:  # a quoted field goes on below this line: closed here
        text += '"'
    try:
        cells = next(csv.reader([text], delimiter=separator, strict=True), [])
    except csv.Error:  # an unbalanced quote: the line is shown as it is
        cells = []
    bad = [cell for cell in cells if not _is_utf8(cell.encode("cp1251", errors="surrogateescape"))]
    value = bad[0] if bad else text
    leading = cells[id_field].strip() if id_field is not None and id_field < len(cells) else ""
    return (_shown(leading) or None), _shown(value)


def _shown(cell: str) -> str:
    """A cell read as cp1251 as it is quoted in an error (its undefined byte as U+FFFD)."""
    return cell.encode("cp1251", errors="surrogateescape").decode("cp1251", errors="replace")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _not_utf8_lines(body: bytes, *, max_rows: int, id_column: str | None = "id") -> tuple[list[BadRow], int]:
    """The lines of ``body`` that are not valid UTF-8 when its header line is UTF-8 with Cyrillic
    letters (a UTF-8 file into which rows of another encoding were pasted): the first ``max_rows``
    (line, id — the cell under the header's ``id_column`` —, and the first cell that is not UTF-8,
    read as cp1251) and how many there are. ``([], 0)`` when the header is not such UTF-8: the file
    is then one encoding, cp1251, as a whole.

    The bytes are checked by the UTF-8 decoder in windows that double from ``_FIRST_WINDOW`` up to
    ``_SCAN_CHUNK_BYTES`` and start small again after each bad line (the error holds a copy of its
    window), each decoded window dropped at once: the whole file is never held as text.
    """
    first_break = min((i for i in (body.find(b"\n"), body.find(b"\r")) if i >= 0), default=len(body))
    try:
        header = body[:first_break].decode("utf-8")
    except UnicodeDecodeError:
        return [], 0
    if not _CYRILLIC.search(header):
        return [], 0
    separator = detect_format(header, encoding="utf-8").separator
    try:
        names = [name.strip() for name in next(csv.reader([header], delimiter=separator), [])]
    except csv.Error:
        names = []
    id_field = names.index(id_column) if id_column in names else None
    newline = b"\n" if b"\n" in body else b"\r"
    view = memoryview(body)
    rows: list[BadRow] = []
    count, line, counted_to, quotes, pos, window = 0, 1, 0, 0, 0, _FIRST_WINDOW
    while pos < len(body):
        final = pos + window >= len(body)
        try:
            pos += codecs.utf_8_decode(view[pos:pos + window], "strict", final)[1]
            window = min(2 * window, max(_SCAN_CHUNK_BYTES, 4))  # 4: the longest UTF-8 sequence
            continue
        except UnicodeDecodeError as exc:  # it holds a copy of the window: small again after each bad line
            bad, window = pos + exc.start, _FIRST_WINDOW
        start = body.rfind(newline, 0, bad) + 1
        end = body.find(newline, bad)
        end = len(body) if end < 0 else end
        line += body.count(newline, counted_to, start)
        count += 1
        if len(rows) < max_rows:
            quotes += body.count(b'"', counted_to, start)  # counted only while rows are shown
            record, odd = start, quotes % 2
            for _ in range(_MAX_ROW_LINES if odd else 0):  # inside a quoted field: the row starts above
                above = body.rfind(newline, 0, record - 1) + 1
                odd ^= body.count(b'"', above, record) % 2
                record = above
                if not odd or record == 0:
                    break
            if odd:  # no row start near: an odd quote is a literal one (5" in a cell), not a field's
                record = start
            record_line = line - body.count(newline, record, start)
            if not rows or rows[-1].line != record_line:  # two lines of one row: the row once
                row_id, value = _not_utf8_cells(body[record:end], separator, id_field)
                rows.append(BadRow(line=record_line, id=row_id, value=value))
        counted_to = start
        pos = end + 1
    return rows, count


def _refuse_mixed_encodings(body: bytes, table: Table, *, max_rows: int) -> None:
    """Raise :class:`DataError` naming the lines of another encoding in a UTF-8 ``body``
    (:func:`_not_utf8_lines`); return when there are none."""
    id_column = next((column.source for column in table.columns if column.kind is Kind.ID), None)
    rows, count = _not_utf8_lines(body, max_rows=max_rows, id_column=id_column)
    if count:
        raise DataError(file=table.file, problem=(
            f"the header and the other lines are UTF-8, but {count} line(s) are in another encoding "
            "(cp1251, as read here)"), expected="one encoding for the whole file: save it again as «CSV UTF-8»",
            rows=rows, n_rows=count)


def _decode_lazily(data: bytes) -> tuple[str | None, str]:
    """Like :func:`decode`, but a valid UTF-8 file is only validated (in C), not decoded into a
    Python string: ``(None, encoding)`` then. cp1251 files are decoded (``(text, "cp1251")``)."""
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        pa.LargeBinaryArray.from_buffers(
            pa.large_binary(), 1, [None, pa.py_buffer(np.array([0, len(body)], dtype=np.int64)), pa.py_buffer(body)],
        ).cast(pa.large_string())
    except pa.ArrowInvalid:
        return decode(data)
    return None, ("utf-8-sig" if body is not data else "utf-8")


def _text_head(data: bytes, encoding: str) -> str:
    """The first 65,536 characters of a valid UTF-8 file (enough for :func:`detect_format`)."""
    body = data[3:] if encoding == "utf-8-sig" else data
    return body[: 4 * 65536 + 4].decode("utf-8", errors="ignore")[:65536]


def _read_arrow(data: bytes, text: str | None, fmt: RawFormat) -> pl.DataFrame | None:
    """Parse into string columns with pyarrow's multithreaded CSV reader (measured 30× faster than
    pandas' C parser with ``dtype=str`` at a million rows). ``None`` when the file has another
    shape (ragged rows, whitespace-only lines, duplicate or empty header names, a parse error):
    the caller then reads it with :func:`_read_rows`, which names the offending line."""
    if text is not None:
        body = text.encode("utf-8")
    else:
        body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    parse = pa_csv.ParseOptions(delimiter=fmt.separator)
    try:
        end = body.find(b"\n")
        first = body[: end if end >= 0 else len(body)].split(b"\r", 1)[0]
        if not first.strip():
            return None
        names = pa_csv.read_csv(pa.py_buffer(first + b"\n"), parse_options=parse).column_names
        if len(set(names)) != len(names) or any(not n.strip() for n in names):
            return None
        table = pa_csv.read_csv(
            pa.py_buffer(body),
            read_options=pa_csv.ReadOptions(block_size=1 << 24),
            parse_options=parse,
            convert_options=pa_csv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, UnicodeDecodeError):
        return None
    if table.column_names != names:
        return None
    return pl.from_arrow(table)  # type: ignore[return-value]


def _read_polars(data: bytes, text: str | None, fmt: RawFormat) -> pl.DataFrame | None:
    """Parse a file of one line per row into string columns with polars' reader (its string
    columns directly: pyarrow's reader, then polars' copy of its columns, held six times the file's
    size at the peak; polars' reader three times). ``None`` for any other shape — a blank line, a
    line break inside a quoted field, a row longer than the header, odd header names, a parse
    error — which :func:`_read_arrow` then reads as before."""
    if text is not None:
        body = text.encode("utf-8")
    else:
        body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    end = body.find(b"\n")
    first = body[: end if end >= 0 else len(body)].split(b"\r", 1)[0]
    if not first.strip() or b'"' in first:
        return None
    names = first.decode("utf-8").split(fmt.separator)
    if len(set(names)) != len(names) or any(not n.strip() for n in names):
        return None
    try:
        frame = pl.read_csv(body, separator=fmt.separator, has_header=True, infer_schema=False,
                            empty_string_is_null=False, quote_char='"', raise_if_empty=False)
    except (pl.exceptions.PolarsError, ValueError, UnicodeDecodeError):
        return None
    last = len(body)
    while last and body[last - 1:last] in b"\r\n":
        last -= 1
    if frame.columns != names or body.count(b"\n", 0, last) != frame.height or "\r" in "".join(names):
        return None  # not one line per row (quoted line breaks, CR line ends): pyarrow's reader
    if frame.height and frame.select(pl.any_horizontal(pl.all_horizontal(pl.all().fill_null("") == "")).any()).item():
        return None  # a blank line (polars reads it as a row of empty cells) or a row of empty cells: pyarrow's
    return frame


def _no_long_cells(body: bytes, separator: str, limit: int) -> bool:
    """Whether no cell of ``body`` (a file without quotes) can be longer than ``limit`` characters.

    Cells lie within the runs of bytes between separators and line feeds (not CR: a lone one may
    sit inside a cell). The file is cut into blocks of ``limit // 2 + 1`` bytes: a run longer than
    ``limit`` bytes holds a whole block, so a file in which every block holds a separator or a line
    feed has no cell longer than ``limit`` bytes, nor characters. ``False`` (the text path then
    measures each cell) also for a cell of fewer characters than ``limit`` that fills a block: a
    false alarm costs time, never a wrong answer.
    """
    block = limit // 2 + 1
    values = np.frombuffer(body, dtype=np.uint8)
    chunk = max(1, _SCAN_CHUNK_BYTES // block) * block
    is_cut = np.empty(min(chunk, -(-values.size // block) * block), dtype=bool)
    is_break = np.empty_like(is_cut)
    padded = np.empty(is_cut.size, dtype=np.uint8)
    for start in range(0, values.size, chunk):
        part = values[start:start + chunk]
        size = -(-part.size // block) * block
        if size != part.size:  # the last, partial block: padded with line breaks
            padded[:part.size] = part
            padded[part.size:size] = ord("\n")
            part = padded[:size]
        cut, line_break = is_cut[:size], is_break[:size]
        np.equal(part, ord(separator), out=cut)
        np.equal(part, ord("\n"), out=line_break)  # not CR: a lone CR may sit inside a cell
        np.logical_or(cut, line_break, out=cut)
        if not cut.reshape(-1, block).any(axis=1).all():
            return False
    return True


def _read_typed(data: bytes, text: str | None, fmt: RawFormat, table: Table,
                max_cell_chars: int | None) -> pl.DataFrame | None:
    """Parse a file of one line per row with polars' reader, the declared number columns as typed
    columns (ids as integers, the other numbers as floats, with the detected decimal mark) and the
    others as text: no text buffer per number cell. ``None`` for whatever that read cannot take as
    the text path would — a quote anywhere, a header not naming every declared column as written,
    a value that is no plain number, an empty number cell, a blank line, a line break inside a
    field, a cell that might be longer than ``max_cell_chars`` — which :func:`_read_polars` and the
    text path then read as before. The numbers it takes are those polars' cast of the text takes,
    to the same value (both parse correctly rounded)."""
    if text is not None:
        body = text.encode("utf-8")
    else:
        body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if b'"' in body or fmt.line_ending == "\r":
        return None
    end = body.find(b"\n")
    first = body[: end if end >= 0 else len(body)].split(b"\r", 1)[0]
    if not first.strip():
        return None
    names = first.decode("utf-8").split(fmt.separator)
    if len(set(names)) != len(names) or any(not n.strip() for n in names):
        return None
    types = {c.source: _TYPED_KINDS[c.kind] for c in table.columns if c.kind in _TYPED_KINDS}
    if any(c.source not in names for c in table.columns):
        return None
    if max_cell_chars is not None and not _no_long_cells(body, fmt.separator, max_cell_chars):
        return None
    try:
        frame = pl.read_csv(body, separator=fmt.separator, has_header=True, infer_schema=False,
                            schema_overrides=types, empty_string_is_null=False, quote_char='"',
                            raise_if_empty=False, decimal_comma=fmt.decimal == ",")
    except (pl.exceptions.PolarsError, ValueError, UnicodeDecodeError):
        return None  # most often a value that is no number: the text path names it
    last = len(body)
    while last and body[last - 1:last] in b"\r\n":
        last -= 1
    if frame.columns != names or body.count(b"\n", 0, last) != frame.height:
        return None
    if any(frame[name].null_count() for name in types):
        return None  # an empty number cell, a short row, a blank line: the text path
    return frame


def _unique_names(names: list[str]) -> list[str]:
    """Header names made unique as spreadsheet exports and pandas do: an empty name becomes
    ``Unnamed: i``, a repeated one ``name.1``, ``name.2``."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        name = name if name.strip() else f"Unnamed: {index}"
        base, count = name, seen.get(name, 0)
        while name in seen:
            count += 1
            name = f"{base}.{count}"
        seen[base] = count
        seen.setdefault(name, 0)
        out.append(name)
    return out


class _Ragged(ValueError):
    """A row with more fields than the header."""

    def __init__(self, expected: int, line: int, found: int) -> None:
        super().__init__(f"Expected {expected} fields in line {line}, saw {found}")


def _read_rows(text: str, separator: str) -> pl.DataFrame:
    """Parse ``text`` with the standard library's CSV grammar: blank lines skipped, a short row
    padded with missing values, a long one refused with its line (:class:`_Ragged`)."""
    import csv

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    header: list[str] | None = None
    columns: list[list[str | None]] = []
    for row in reader:
        if not row or (len(row) == 1 and not row[0]):
            continue  # a blank line
        if header is None:
            header = row
            columns = [[] for _ in header]
            continue
        if len(row) > len(header):
            raise _Ragged(len(header), reader.line_num, len(row))
        for index, column in enumerate(columns):
            column.append(row[index] if index < len(row) else None)
    if header is None:
        return pl.DataFrame()
    names = _unique_names([name.strip().lstrip("\ufeff") for name in header])
    return pl.DataFrame({name: pl.Series(name, values, dtype=pl.String)
                         for name, values in zip(names, columns, strict=True)})


def read_table(path: Path, table: Table, *, max_cell_chars: int | None = None, max_rows: int = 5,
               typed_numbers: bool = True) -> RawTable:
    """Read one raw table with English column names: its numbers as typed columns where the file
    allows (:func:`_read_typed`), else every value as text.

    Parameters
    ----------
    max_cell_chars : int, optional
        Refuse a declared column's cell longer than this many characters (``None``: no limit).
    max_rows : int
        How many offending rows an error quotes.
    typed_numbers : bool
        Try the typed read first (then :attr:`RawTable.as_text` reads the file again as text);
        ``False``: every value as text, as written.

    Raises
    ------
    DataError
        When the file is missing, empty, not text in UTF-8 or cp1251, cannot be parsed, has no
        data rows, lacks a column or has a cell longer than ``max_cell_chars``.
    """
    if not path.is_file():
        raise DataError(file=table.file, problem=f"file not found in {path.parent}",
                        expected=f"the file {table.file}")
    data = path.read_bytes()
    # the file's hash is computed in a thread while the file is parsed (hashlib lets the GIL go)
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(_sha256_hex, data)
        return _parse(path, table, data, digest.result, max_cell_chars=max_cell_chars, max_rows=max_rows,
                      typed_numbers=typed_numbers)


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _parse(path: Path, table: Table, data: bytes, digest: Callable[[], str], *, max_cell_chars: int | None,
           max_rows: int, typed_numbers: bool) -> RawTable:
    """The body of :func:`read_table`; ``digest`` gives the hash of ``data``."""
    _refuse_non_text(data, table.file)
    try:
        text, encoding = _decode_lazily(data)
    except UnicodeDecodeError as exc:  # neither UTF-8 nor cp1251 (cp1251 leaves one byte, 0x98, undefined)
        if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 mark, then rows in another encoding?
            _refuse_mixed_encodings(data[3:], table, max_rows=max_rows)
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(file=table.file, problem=f"bytes that are neither UTF-8 nor cp1251 (byte "
                                                 f"0x{exc.object[exc.start]:02x} at offset {exc.start}, line {line})",
                        expected="a text file in UTF-8 or cp1251") from None
    if encoding == "cp1251":
        _refuse_mixed_encodings(data, table, max_rows=max_rows)
    head = text if text is not None else _text_head(data, encoding)
    if not head.strip() and (text is not None or not decode(data)[0].strip()):
        raise DataError(file=table.file, problem="the file is empty",
                        expected="a header row and at least one data row")
    fmt = detect_format(head, encoding=encoding)
    ends = [i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0]
    header_fields = data[: min(ends, default=len(data))].count(fmt.separator.encode("ascii")) + 1
    if header_fields > len(table.columns) + _MAX_EXTRA_COLUMNS:
        raise DataError(file=table.file, problem=f"the header has {header_fields} fields",
                        expected=f"the {len(table.columns)} columns "
                                 + ", ".join(repr(c.source) for c in table.columns))
    typed = _read_typed(data, text, fmt, table, max_cell_chars) if typed_numbers else None
    if typed is not None:
        try:
            # no cell's length measured again: _read_typed proved none is longer than max_cell_chars
            raw = _declared(typed, table, data, text, fmt, digest, max_cell_chars=None, max_rows=max_rows,
                            one_line_per_row=True)
        except DataError:
            pass  # named by the text path, as it always was
        else:
            return dataclasses.replace(raw, as_text=functools.partial(
                read_table, path, table, max_cell_chars=max_cell_chars, max_rows=max_rows, typed_numbers=False))
        del typed
    frame = _read_polars(data, text, fmt)
    if frame is None:
        frame = _read_arrow(data, text, fmt)
    if frame is None:  # anything pyarrow refuses goes through the standard library's CSV reader
        text = text if text is not None else decode(data)[0]
        try:
            frame = _read_rows(text, fmt.separator)
        except (_Ragged, csv_error()) as exc:
            message = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            found = _PARSER_LINE.search(message)
            raise DataError(file=table.file, problem=f"cannot be read as a table ({_shorten(message, 200)})",
                            expected=f"{header_fields} fields separated by {fmt.separator!r} on every row, "
                                     "as in the header",
                            rows=[BadRow(line=int(found.group(1)), id=None, value="")] if found else ()) from None
    return _declared(frame, table, data, text, fmt, digest, max_cell_chars=max_cell_chars, max_rows=max_rows)


def _declared(frame: pl.DataFrame, table: Table, data: bytes, text: str | None, fmt: RawFormat,
              digest: Callable[[], str], *, max_cell_chars: int | None, max_rows: int,
              one_line_per_row: bool = False) -> RawTable:
    """The parsed ``frame`` as a :class:`RawTable`: the declared columns under their English names,
    no text cell longer than ``max_cell_chars``, decimal commas in text number columns as points.
    ``one_line_per_row``: the reader counted one line per row after the header (the lines are
    2, 3, … without counting them again).

    Raises
    ------
    DataError
        When a declared column is missing, there are no data rows or a cell is too long.
    """
    frame = frame.rename(dict(zip(frame.columns, _unique_names([str(c).strip().lstrip("\ufeff")
                                                                for c in frame.columns]), strict=True)))
    missing = [c.source for c in table.columns if c.source not in frame.columns]
    if missing:
        shown = ", ".join(repr(_shorten(str(c))) for c in list(frame.columns)[:30])
        more = f" and {len(frame.columns) - 30} more" if len(frame.columns) > 30 else ""
        raise DataError(file=table.file, column=missing[0],
                        problem=f"missing column(s) {', '.join(repr(m) for m in missing)}; found {shown}{more}",
                        expected="the columns " + ", ".join(repr(c.source) for c in table.columns))
    if frame.height == 0:
        raise DataError(file=table.file, problem="the header has no data rows",
                        expected="at least one data row")
    frame = frame.select([pl.col(c.source).alias(c.name) for c in table.columns])
    lines: np.ndarray | range | None = range(2, frame.height + 2) if one_line_per_row else None
    if max_cell_chars is not None:
        # the typed read's numbers are no text: it proved none of their cells too long
        texts = [c for c in table.columns if frame.schema[c.name] == pl.String]
        too_long_any = frame.select(pl.any_horizontal(pl.col(c.name).str.len_chars() > max_cell_chars
                                                      for c in texts).any()).item() if texts else False
        for col in texts if too_long_any else ():
            too_long = np.flatnonzero(frame[col.name].str.len_chars().gt(max_cell_chars).fill_null(False).to_numpy())
            if too_long.size:
                lines = _line_numbers(text if text is not None else data, len(frame), separator=fmt.separator)
                raw = RawTable(table=table, frame=frame, lines=lines, format=fmt, sha256="", size_bytes=len(data))
                raise DataError(file=table.file, column=col.source,
                                problem=f"values longer than {max_cell_chars} characters",
                                expected=f"at most {max_cell_chars} characters in a cell",
                                rows=bad_rows(raw, too_long, col.name, limit=max_rows), n_rows=int(too_long.size))
    numeric = [c.name for c in table.columns
               if c.kind in (Kind.NUMERIC, Kind.INTEGER) and frame.schema[c.name] == pl.String]
    if fmt.decimal == ",":
        commas = set(numeric)
    else:  # per column when quoted in a comma-separated file: commas and no point anywhere in it
        decimal_commas = frame.select([(pl.col(n).str.contains(",", literal=True).any()
                                        & ~pl.col(n).str.contains(".", literal=True).any()).alias(n)
                                       for n in numeric])
        commas = {n for n in numeric if decimal_commas[n].item()}
    if commas:
        frame = frame.with_columns([pl.col(n).str.replace_all(",", ".", literal=True) for n in commas])
    if lines is None:
        lines = _line_numbers(text if text is not None else data, len(frame), separator=fmt.separator)
    return RawTable(table=table, frame=frame, lines=lines, format=fmt,
                    sha256=digest(), size_bytes=len(data))


def csv_error() -> type[Exception]:
    """The standard library's CSV parse error."""
    import csv

    return csv.Error


def read_all(data_dir: Path, *, max_cell_chars: int | None = None, max_rows: int = 5) -> dict[str, RawTable]:
    """Read the four tables from ``data_dir`` (table name → :class:`RawTable`): each as CSV, or as
    Parquet where ``<table>.parquet`` is there instead (:func:`analysis.sources.read_parquet_table`)."""
    from analysis.sources import read_folder

    return read_folder(data_dir, max_cell_chars=max_cell_chars, max_rows=max_rows)


def bad_rows(raw: RawTable, positions: np.ndarray, column: str | None, *, limit: int) -> list[BadRow]:
    """The first ``limit`` offending rows at ``positions`` as :class:`BadRow` objects."""
    out = []
    has_id = "id" in raw.frame.columns
    for pos in positions[:limit]:
        pos = int(pos)
        value = "" if column is None else _as_text(raw.frame[column][pos])
        out.append(BadRow(line=raw.line_of(pos), id=_as_text(raw.frame["id"][pos]) if has_id else None,
                          value=value))
    return out


def _as_text(value: object) -> str:
    """A cell as quoted in an error: a missing value as the empty string."""
    return "" if value is None else str(value)
