"""The typed read of a CSV file's numbers and its fallback to the text path.

The typed read (numbers parsed by polars' CSV reader as typed columns) must give the same frames
and results as the text path, and bad input must get exactly the error the text path gives.
"""

from __future__ import annotations

from functools import partial

import functools
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import analysis.sources
from analysis.config import Config
from analysis.errors import DataError
from analysis.features import PreparedData, prepare_data
from analysis.load import RawTable, read_table
from analysis.schema import MARKET_FILE, MARKET_MONEY, MONEY, TABLES, Kind
from analysis.validate import typed_columns
from tests.conftest import SAMPLE_DIR


def _text_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every CSV file read as text (the path before the typed read, and its fallback)."""
    monkeypatch.setattr(analysis.sources, "read_table", functools.partial(read_table, typed_numbers=False))


def _prepared_or_error(folder: Path) -> object:
    """The prepared data of ``folder``, or the :class:`DataError` that refused it."""
    try:
        return prepare_data(folder, Config())
    except DataError as exc:
        return exc


def _both(monkeypatch: pytest.MonkeyPatch, run: Callable[[], object]) -> tuple[object, object]:
    """``run()`` with the typed read, then with every file read as text."""
    typed = run()
    with monkeypatch.context() as patch:
        _text_only(patch)
        text = run()
    return typed, text


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_sample_numbers_are_read_as_typed_columns(table) -> None:  # noqa: ANN001
    raw = read_table(SAMPLE_DIR / table.file, table)
    assert raw.as_text is not None
    for col in table.columns:
        expected = {Kind.ID: pl.Int64, Kind.NUMERIC: pl.Float64, Kind.INTEGER: pl.Float64}.get(col.kind, pl.String)
        assert raw.frame.schema[col.name] == expected, col.name
    text = raw.as_text()
    assert text.as_text is None and all(dtype == pl.String for dtype in text.frame.schema.values())
    assert (text.lines, text.format, text.sha256, text.size_bytes) == (raw.lines, raw.format, raw.sha256,
                                                                        raw.size_bytes)
    assert_frame_equal(typed_columns(raw, raw.frame)[0], typed_columns(text, text.frame)[0])


def test_sample_prepared_data_is_that_of_the_text_path(monkeypatch: pytest.MonkeyPatch) -> None:
    typed, text = _both(monkeypatch, lambda: prepare_data(SAMPLE_DIR, Config()))
    assert isinstance(typed, PreparedData) and isinstance(text, PreparedData)
    assert typed.result == text.result
    assert typed.sources == text.sources
    assert typed.frame.equals(text.frame) and typed.frame.dtypes.equals(text.frame.dtypes)


def _edit(path: Path, row: int, column: int, value: str, separator: str = ",") -> None:
    """Set the ``column``-th field of data row ``row`` of ``path`` to ``value``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    fields = lines[row].split(separator)
    fields[column] = value
    lines[row] = separator.join(fields)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(("file", "column", "value", "separator", "message"), [
    # a value the typed read cannot parse: read as text at once
    ("market_file.csv", 4, "4.4.", ",", "not numbers"),
    ("market_money.csv", 2, "1 000", ",", "not numbers"),
    ("money.csv", 1, "n/a", ";", "not numbers"),
    ("market_file.csv", 0, "215348.0", ",", "ids that are not whole numbers"),
    ("market_time.csv", 2, "", ",", "empty values"),
    ("market_file.csv", 6, "\u00a0265", ",", None),  # a no-break space: the text path takes it
    # a value the typed read parses and the checks refuse: the table read again as text
    ("market_file.csv", 5, "4.5", ",", "not whole numbers"),
    ("market_file.csv", 7, "1.70", ",", "out of range"),
    ("market_money.csv", 2, "-0005", ",", "out of range"),
    ("money.csv", 1, "NaN", ";", "not finite"),
    ("market_file.csv", 0, "+0215348", ",", None),
])
def test_one_bad_number_gets_the_text_paths_error(data_copy: Path, monkeypatch: pytest.MonkeyPatch, file: str,
                                                  column: int, value: str, separator: str,
                                                  message: str | None) -> None:
    _edit(data_copy / file, 3, column, value, separator)

    typed, text = _both(monkeypatch, partial(_prepared_or_error, data_copy))
    if message is None:  # no error, or a later one (an id that is no longer in every table)
        assert str(typed) == str(text) if isinstance(text, DataError) else (
            isinstance(typed, PreparedData) and isinstance(text, PreparedData) and typed.result == text.result)
        return
    assert isinstance(text, DataError) and message in text.problem
    assert isinstance(typed, DataError)
    assert (str(typed), typed.rows, typed.n_rows) == (str(text), text.rows, text.n_rows)
    assert "line 4" in str(typed) and file in str(typed)


def test_unparsable_value_is_read_as_text(data_copy: Path) -> None:
    _edit(data_copy / "market_money.csv", 3, 2, "4 130.5")
    raw = read_table(data_copy / "market_money.csv", MARKET_MONEY)
    assert raw.as_text is None and raw.frame.schema["revenue"] == pl.String
    assert raw.frame["revenue"][2] == "4 130.5"


def test_a_long_number_cell_is_refused_as_before(data_copy: Path) -> None:
    # 0.000…01 parses as a valid promo share; the cell is longer than cleaning.max_cell_chars
    long_number = "0." + "0" * 300 + "1"
    _edit(data_copy / "market_file.csv", 3, 7, long_number)
    with pytest.raises(DataError, match=r"«Акционные_покупки»: values longer than 200 characters.*line 4"):
        read_table(data_copy / "market_file.csv", MARKET_FILE, max_cell_chars=200)
    assert read_table(data_copy / "market_file.csv", MARKET_FILE).frame.schema["promo_share"] == pl.Float64


def test_a_row_repeated_with_a_number_written_otherwise_is_an_implicit_duplicate(
        data_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = data_copy / "money.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    row = lines[1].split(";")
    path.write_text("\n".join([*lines, f"{row[0]};{row[1]}0"]) + "\n", encoding="utf-8")  # 5,89 and 5,890
    typed, text = _both(monkeypatch, lambda: prepare_data(data_copy, Config()))
    assert isinstance(typed, PreparedData) and isinstance(text, PreparedData)
    assert typed.result == text.result
    assert [(e.action, e.rows) for e in typed.result.cleaning_log if "duplicates" in e.action] == [
        ("drop_implicit_duplicates", 1)]


def test_typed_raw_table_reads_again_as_text(tmp_path: Path) -> None:
    path = tmp_path / "money.csv"
    path.write_text("id;Прибыль\n1;0,98\n2;4\n", encoding="utf-8")
    raw: RawTable = read_table(path, MONEY)
    assert raw.frame["profit"].to_list() == [0.98, 4.0]
    assert raw.as_text is not None and raw.without_values().as_text is not None
    assert raw.as_text().frame["profit"].to_list() == ["0.98", "4"]


@pytest.mark.parametrize("cell", ["a" * 150 + "\r" + "a" * 150, "б" * 201, "x" * 120])
def test_a_long_text_cell_gets_the_text_paths_answer(data_copy: Path, monkeypatch: pytest.MonkeyPatch,
                                                     cell: str) -> None:
    _edit(data_copy / "market_file.csv", 3, 8, cell)  # Популярная_категория

    typed, text = _both(monkeypatch, partial(_prepared_or_error, data_copy))
    if len(cell) > Config().cleaning.max_cell_chars:
        assert isinstance(text, DataError) and isinstance(typed, DataError)
        assert str(typed) == str(text)
    else:  # a new category, read through the text path (the cell fills a block of the scan)
        assert isinstance(typed, PreparedData) and isinstance(text, PreparedData)
        assert typed.result == text.result
