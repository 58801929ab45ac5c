"""The loader detects encoding, separator, decimal mark, BOM and line endings from the bytes."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from analysis.errors import DataError
from analysis.load import decode, detect_format, read_table
from analysis.schema import MARKET_FILE, MONEY

MONEY_ROWS = [("215348", "0.98"), ("215349", "4.16"), ("215350", "3")]


def _money_bytes(*, encoding: str, sep: str, decimal: str, bom: bool, eol: str) -> bytes:
    lines = [sep.join(["id", "Прибыль"])]
    lines += [sep.join([i, v.replace(".", decimal)]) for i, v in MONEY_ROWS]
    data = (eol.join(lines) + eol).encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom and encoding == "utf-8" else data


def test_decode_prefers_bom_then_utf8_then_cp1251() -> None:
    assert decode("id;Прибыль".encode("utf-8-sig"))[1] == "utf-8-sig"
    assert decode("id;Прибыль".encode())[1] == "utf-8"
    text, enc = decode("id;Прибыль".encode("cp1251"))
    assert (text, enc) == ("id;Прибыль", "cp1251")


@pytest.mark.parametrize(("eol", "bom"), [("\n", b""), ("\r\n", b""), ("\r", b""), ("\r\n", b"\xef\xbb\xbf")])
def test_rows_of_another_encoding_in_a_utf8_file_are_named(tmp_path: Path, eol: str, bom: bytes) -> None:
    """Decoded as cp1251 as a whole, the UTF-8 header would become mojibake and the error would
    name every column as missing; the rows pasted in cp1251 are named instead."""
    header = "id,Покупательская активность,Популярная_категория".encode()
    lines = [header, "215348,Снизилась,Товары для детей".encode(),
             b"215349," + "Снизилась".encode("cp1251") + ",Косметика".encode(),
             "215350,Прежний уровень,Техника".encode(),
             "215351,Снизилась,".encode() + "Домашний текстиль".encode("cp1251")]
    path = tmp_path / "market_file.csv"
    path.write_bytes(bom + eol.encode().join(lines) + eol.encode())
    with pytest.raises(DataError, match=r"2 line\(s\) are in another encoding") as info:
        read_table(path, MARKET_FILE)
    assert info.value.file == "market_file.csv" and info.value.n_rows == 2
    assert [(r.line, r.id, r.value) for r in info.value.rows] == [
        (3, "215349", "Снизилась"), (5, "215351", "Домашний текстиль")]
    assert "save it again as «CSV UTF-8»" in str(info.value)
    assert "missing column" not in str(info.value)


def test_bad_lines_are_found_across_decoding_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows of a few bytes split the two-byte Cyrillic letters: the same lines are found."""
    import analysis.load

    body = "\n".join(["id;Прибыль", *(f"{i};{'Прибыль' * (i % 3)}" for i in range(1, 40))]).encode()
    body = body.replace(b"\n7;", b"\n7;" + "ё".encode("cp1251")).replace(b"\n31;", b"\n31;" + b"\xff")
    expected = analysis.load._not_utf8_lines(body, max_rows=5)
    assert [(r.line, r.id) for r in expected[0]] == [(8, "7"), (32, "31")] and expected[1] == 2
    for first, largest in ((1, 3), (2, 5), (3, 64)):
        monkeypatch.setattr(analysis.load, "_FIRST_WINDOW", first)
        monkeypatch.setattr(analysis.load, "_SCAN_CHUNK_BYTES", largest)
        assert analysis.load._not_utf8_lines(body, max_rows=5) == expected


def test_rows_of_another_encoding_are_named_by_their_id_column_and_first_line(tmp_path: Path) -> None:
    """The id is the cell under the header's id column (the columns may come in any order), the
    cell is split as the CSV reader splits it, and a row whose quoted field holds line breaks is
    named by the line it starts on, as every other error names it."""
    header = "Тип сервиса;id;Популярная_категория;Прибыль"
    path = tmp_path / "market_file.csv"
    path.write_bytes(b"\n".join([
        header.encode(),
        "премиум;215348;Техника;5".encode(),
        b"7;215349;" + '"Товары; для детей"'.encode("cp1251") + b";3",
        '"премиум\nстандарт";215350;"'.encode() + "Мелкая\nбытовая".encode("cp1251") + b'";4',
        b""]))
    with pytest.raises(DataError, match=r"3 line\(s\) are in another encoding") as info:
        read_table(path, MARKET_FILE)
    assert [(r.line, r.id, r.value) for r in info.value.rows] == [  # lines 5 and 6: the row of line 4
        (3, "215349", "Товары; для детей"), (4, "215350", "Мелкая")]


def test_a_literal_quote_does_not_move_the_rows_named() -> None:
    """A quote inside an unquoted cell (5") opens no field: the lines below are named themselves,
    and the search for a row's start stays near its line (it was a walk back to the quote, for
    each line named: 5 s for six lines at a million customers)."""
    from analysis.load import _not_utf8_lines

    lines = ["id;Прибыль;Длина".encode(), b'1;3;5"', *(f"{i};2;1".encode() for i in range(2, 300))]
    lines[250] = b"250;" + "ё".encode("cp1251") + b";1"
    body = b"\n".join(lines)
    rows, count = _not_utf8_lines(body, max_rows=5)
    assert count == 1 and [(r.line, r.id, r.value) for r in rows] == [(251, "250", "ё")]


def test_a_cp1251_file_with_an_ascii_header_is_cp1251(tmp_path: Path) -> None:
    """Only a UTF-8 header with Cyrillic says the file was meant as UTF-8."""
    path = tmp_path / "money.csv"
    path.write_bytes("id;Прибыль\r\n1;0,98\r\n".encode("cp1251"))
    assert read_table(path, MONEY, typed_numbers=False).format.encoding == "cp1251"
    from analysis.load import _not_utf8_lines

    assert _not_utf8_lines("id;profit\n1;Прибыль\n".encode("cp1251"), max_rows=5) == ([], 0)


def test_detect_format_reads_separator_and_decimal_comma() -> None:
    fmt = detect_format("id;Прибыль\r\n1;0,98\r\n", encoding="utf-8")
    assert (fmt.separator, fmt.decimal, fmt.line_ending) == (";", ",", "\r\n")
    fmt = detect_format("id,Прибыль\n1,0.98\n", encoding="utf-8")
    assert (fmt.separator, fmt.decimal) == (",", ".")
    assert detect_format("id\tПрибыль\n1\t0,5\n", encoding="utf-8").decimal == ","


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(encoding=st.sampled_from(["utf-8", "cp1251"]), sep=st.sampled_from([",", ";", "\t"]),
       decimal=st.sampled_from([".", ","]), bom=st.booleans(), eol=st.sampled_from(["\n", "\r\n"]))
def test_same_frame_for_every_format(tmp_path: Path, encoding: str, sep: str, decimal: str, bom: bool,
                                     eol: str) -> None:
    if sep == "," and decimal == ",":
        decimal = "."  # a comma cannot be both (Excel never writes that without quoting)
    path = tmp_path / f"money-{encoding}-{ord(sep)}-{ord(decimal)}-{bom}-{len(eol)}.csv"
    path.write_bytes(_money_bytes(encoding=encoding, sep=sep, decimal=decimal, bom=bom, eol=eol))
    raw = read_table(path, MONEY, typed_numbers=False)
    expected = pl.DataFrame({"id": [r[0] for r in MONEY_ROWS], "profit": [r[1] for r in MONEY_ROWS]})
    assert_frame_equal(raw.frame, expected)
    assert list(raw.lines) == [2, 3, 4]
    assert raw.as_text is None
    typed = read_table(path, MONEY)  # the numbers as typed columns, the same values
    assert_frame_equal(typed.frame, expected.with_columns(pl.col("id").cast(pl.Int64),
                                                          pl.col("profit").cast(pl.Float64)))
    assert list(typed.lines) == [2, 3, 4] and typed.format == raw.format and typed.sha256 == raw.sha256
    assert typed.as_text is not None
    assert_frame_equal(typed.as_text().frame, expected)


def test_line_numbers_skip_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "money.csv"
    path.write_text("id;Прибыль\n1;1,5\n\n2;2,5\n", encoding="utf-8")
    raw = read_table(path, MONEY)
    assert list(raw.lines) == [2, 4]


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"market_file\.csv: file not found"):
        read_table(tmp_path / "market_file.csv", MARKET_FILE)


def test_header_only_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "money.csv"
    path.write_text("id;Прибыль\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"money\.csv: the header has no data rows"):
        read_table(path, MONEY)


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "money.csv"
    path.write_text("id;Доход\n1;2\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"column «Прибыль».*missing column"):
        read_table(path, MONEY)


def test_quoted_decimal_commas_in_a_comma_separated_file(tmp_path: Path) -> None:
    path = tmp_path / "money.csv"
    path.write_text('id,Прибыль\n1,"0,98"\n2,"4,5"\n', encoding="utf-8")
    assert read_table(path, MONEY).frame["profit"].to_list() == ["0.98", "4.5"]
