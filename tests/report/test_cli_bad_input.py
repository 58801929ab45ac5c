"""Every class of bad input ends with exit 2, a message naming the file (and column and rows),
no traceback, and an untouched output folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from report.cli import main


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line_with(path: Path, needle: str) -> tuple[int, str]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number, line
    raise AssertionError(needle)


def _first_row(path: Path) -> str:
    return path.read_text(encoding="utf-8").splitlines()[1]


def _set_field(path: Path, line_no: int, index: int, value: str, sep: str = ",") -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    fields = lines[line_no - 1].split(sep)
    fields[index] = value
    lines[line_no - 1] = sep.join(fields)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return fields[0]


def _breakers():  # noqa: ANN202 - (name, mutate(data_dir) -> list of expected fragments)
    def missing_file(d: Path) -> list[str]:
        (d / "money.csv").unlink()
        return ["money.csv", "file not found"]

    def empty_file(d: Path) -> list[str]:
        (d / "market_time.csv").write_bytes(b"")
        return ["market_time.csv", "empty"]

    def header_only(d: Path) -> list[str]:
        (d / "money.csv").write_text("id;Прибыль\n", encoding="utf-8")
        return ["money.csv", "no data rows"]

    def missing_column(d: Path) -> list[str]:
        _edit(d / "market_file.csv", "Страниц_за_визит", "Страницы")
        return ["market_file.csv", "«Страниц_за_визит»", "missing column"]

    def non_numeric(d: Path) -> list[str]:
        cid = _set_field(d / "market_file.csv", 3, 6, "много")
        return ["market_file.csv", "«Длительность»", "not numbers", "line 3", f"id {cid}", "'много'"]

    def share_out_of_range(d: Path) -> list[str]:
        cid = _set_field(d / "market_file.csv", 4, 7, "1.5")
        return ["market_file.csv", "«Акционные_покупки»", "out of range", "[0, 1]", "line 4", f"id {cid}"]

    def negative_days(d: Path) -> list[str]:
        cid = _set_field(d / "market_file.csv", 5, 6, "-3")
        return ["market_file.csv", "«Длительность»", "out of range", "line 5", f"id {cid}"]

    def negative_revenue(d: Path) -> list[str]:
        cid = _set_field(d / "market_money.csv", 2, 2, "-10.0")
        return ["market_money.csv", "«Выручка»", "out of range", "line 2", f"id {cid}"]

    def negative_minutes(d: Path) -> list[str]:
        cid = _set_field(d / "market_time.csv", 6, 2, "-1")
        return ["market_time.csv", "«минут»", "out of range", "line 6", f"id {cid}"]

    def negative_count(d: Path) -> list[str]:
        cid = _set_field(d / "market_file.csv", 7, 10, "-2")
        return ["market_file.csv", "«Неоплаченные_продукты_штук_квартал»", "line 7", f"id {cid}"]

    def duplicate_id(d: Path) -> list[str]:
        path = d / "market_file.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        fields = lines[2].split(",")
        fields[0] = lines[1].split(",")[0]
        path.write_text("\n".join([*lines[:2], ",".join(fields), *lines[3:]]) + "\n", encoding="utf-8")
        return ["market_file.csv", "same id appears more than once", "line 2", "line 3"]

    def unknown_target(d: Path) -> list[str]:
        cid = _set_field(d / "market_file.csv", 8, 1, "Выросла")
        return ["market_file.csv", "«Покупательская активность»", "unknown labels", "line 8", f"id {cid}", "Снизилась"]

    def unknown_period(d: Path) -> list[str]:
        cid = _set_field(d / "market_money.csv", 9, 1, "следующий_квартал")
        return ["market_money.csv", "«Период»", "unknown labels", "line 9", f"id {cid}"]

    def id_only_in_one_table(d: Path) -> list[str]:
        path = d / "money.csv"
        path.write_text(path.read_text(encoding="utf-8") + "999999;1,5\n", encoding="utf-8")
        return ["money.csv", "absent from market_file.csv", "id 999999"]

    def id_missing_from_a_table(d: Path) -> list[str]:
        path = d / "money.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        cid = lines[5].split(";")[0]
        path.write_text("\n".join(lines[:5] + lines[6:]) + "\n", encoding="utf-8")
        return ["money.csv", "missing from this file", f"id {cid}"]

    # --- issue 15: non-finite and huge numbers in any numeric column (item 5)
    def infinite_revenue(d: Path) -> list[str]:
        cid = _set_field(d / "market_money.csv", 3, 2, "inf")
        return ["market_money.csv", "«Выручка»", "not finite numbers", "line 3", f"id {cid}", "'inf'"]

    def nan_minutes(d: Path) -> list[str]:
        cid = _set_field(d / "market_time.csv", 4, 2, "NaN")
        return ["market_time.csv", "«минут»", "not finite numbers", "line 4", f"id {cid}"]

    def huge_profit(d: Path) -> list[str]:
        cid = _set_field(d / "money.csv", 5, 1, "1e308", sep=";")
        return ["money.csv", "«Прибыль»", "out of range", "[-1e+12, 1e+12]", "line 5", f"id {cid}"]

    def infinite_whole_number(d: Path) -> list[str]:
        cid = _set_field(d / "market_file.csv", 6, 6, "-inf")
        return ["market_file.csv", "«Длительность»", "not finite numbers", "line 6", f"id {cid}"]

    # --- a target the model cannot learn from; files that are not text tables (item 6)
    def one_class(d: Path) -> list[str]:
        path = d / "market_file.csv"
        path.write_text(path.read_text(encoding="utf-8").replace(",Прежний уровень,", ",Снизилась,"), encoding="utf-8")
        return ["market_file.csv", "«Покупательская активность»", "only one class", "at least 8", "model.cv_folds"]

    def too_few_customers(d: Path) -> list[str]:
        from analysis.sample import write_sample

        write_sample(d, n_customers=12, seed=1)
        return ["market_file.csv", "«Покупательская активность»", "too few analysed customers", "model.cv_folds = 5"]

    def binary_garbage(d: Path) -> list[str]:
        (d / "market_time.csv").write_bytes(bytes(range(256)) * 40)
        return ["market_time.csv", "binary data", "offset", "line 1", "a CSV text file"]

    def millions_of_separators(d: Path) -> list[str]:
        path = d / "money.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        lines[6] = lines[6] + ";" * 2_000_000
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return ["money.csv", "cannot be read as a table", "line 7", "2 fields separated by ';'"]

    def separators_in_the_header(d: Path) -> list[str]:
        path = d / "market_time.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join([lines[0] + "," * 1_000_000, *lines[1:]]) + "\n", encoding="utf-8")
        return ["market_time.csv", "the header has 1000003 fields", "'минут'"]

    def utf16(d: Path) -> list[str]:
        path = d / "market_file.csv"
        path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
        return ["market_file.csv", "UTF-16", "not supported", "UTF-8 or cp1251"]

    def utf16_without_bom(d: Path) -> list[str]:
        path = d / "money.csv"
        path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16-le"))
        return ["money.csv", "UTF-16"]

    def neither_utf8_nor_cp1251(d: Path) -> list[str]:
        path = d / "market_money.csv"
        lines = path.read_text(encoding="utf-8").encode("cp1251").split(b"\n")
        lines[4] = lines[4].replace(b",", b",\x98", 1)  # a byte cp1251 leaves undefined
        path.write_bytes(b"\n".join(lines))
        return ["market_money.csv", "neither UTF-8 nor cp1251", "byte 0x98", "line 5"]

    # --- line numbers after a quoted field holding line breaks (item 10)
    def line_after_quoted_newline(d: Path) -> list[str]:
        path = d / "market_file.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        fields = lines[2].split(",")
        fields[8] = '"' + fields[8].replace(" ", "\n", 2) + '"'  # the category spread over three lines
        lines[2] = ",".join(fields)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        cid = _set_field(path, 21, 7, "1.5")  # file line 21 (data row 18)
        return ["market_file.csv", "«Акционные_покупки»", "out of range", "line 21", f"id {cid}"]

    # --- a cell longer than the configured limit: refused before any near-typo search (item 11)
    def megabyte_category(d: Path) -> list[str]:
        cid = _set_field(d / "market_file.csv", 9, 8, "Товары для детей" + "ы" * 1_000_000)
        return ["market_file.csv", "«Популярная_категория»", "longer than 200 characters", "line 9", f"id {cid}",
                "(1000016 characters)"]

    # --- many distinct new categories: each would be a category of the model, the charts and the log
    def thousands_of_new_categories(d: Path) -> list[str]:
        path = d / "market_file.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        for i in range(1, len(lines)):
            fields = lines[i].split(",")
            fields[8] = f"Категория {i:05d}"
            lines[i] = ",".join(fields)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return ["market_file.csv", "«Популярная_категория»", "more than 20 values", "cleaning.max_new_categories",
                "line 2"]

    return [missing_file, empty_file, header_only, missing_column, non_numeric, share_out_of_range, negative_days,
            negative_revenue, negative_minutes, negative_count, duplicate_id, unknown_target, unknown_period,
            id_only_in_one_table, id_missing_from_a_table,
            infinite_revenue, nan_minutes, huge_profit, infinite_whole_number, one_class, too_few_customers,
            binary_garbage, millions_of_separators, separators_in_the_header, utf16, utf16_without_bom,
            neither_utf8_nor_cp1251, line_after_quoted_newline, megabyte_category, thousands_of_new_categories]


@pytest.mark.parametrize("breaker", _breakers(), ids=lambda f: f.__name__)
def test_validate_refuses_bad_input(breaker, data_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    expected = breaker(data_copy)
    code = main(["validate", "--data", str(data_copy)])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    for fragment in expected:
        assert fragment in err, f"{fragment!r} not in {err!r}"
    assert len(err) < 5000  # a hostile value is not echoed back whole


def test_failed_build_leaves_previous_report_untouched(data_copy: Path, tmp_path: Path,
                                                       capfd: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    previous = {"oneclick-report_2026-09_ru.pdf": b"%PDF-previous", "results.json": b"{}"}
    for name, data in previous.items():
        (out / name).write_bytes(data)
    _set_field(data_copy / "market_file.csv", 4, 7, "7")
    code = main(["build", "--data", str(data_copy), "--out", str(out), "--period", "2026-10"])
    err = capfd.readouterr().err
    assert code == 2 and "Акционные_покупки" in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == previous
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.tmp-")]


@pytest.mark.parametrize(("argv", "fragment"), [
    (["build", "--data", "x", "--period", "2026-13"], "period must be YYYY-MM"),
    (["frobnicate"], "invalid choice"),
    (["sample", "--out", "x", "--customers", "1"], "at least 2"),
])
def test_usage_errors_exit_2(argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:  # argparse exits by itself; main() returns the code of the others
        raise SystemExit(main(argv))
    assert exc.value.code == 2
    assert fragment in capsys.readouterr().err


def test_validate_summary_on_sample(sample_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--data", str(sample_dir)]) == 0
    out = capsys.readouterr().out
    assert "market_file.csv" in out and "fix_typo 'стандартт' → 'стандарт'" in out
    assert "raw →" in out and "analysed" in out and "Outlier: market_money.revenue" in out


# --- issue 15, item 7: configuration values that passed the schema and crashed later -----------------------

@pytest.mark.parametrize(("config", "fragments"), [
    ("seed = -1\n", ["seed", "greater than or equal to 0"]),
    ("seed = 4294967296\n", ["seed", "less than or equal to 4294967295"]),
    ('[groups]\nsite = ["pages_per_visit", "minutes_prev", "minutes_current", "service_errors", "shoe_size"]\n',
     ["groups.site: unknown feature 'shoe_size'"]),
    (('[groups]\nsite = ["pages_per_visit", "minutes_prev", "minutes_current", "service_errors", "tenure_days", '
      '"promo_share"]\n'), ["'promo_share' is already in groups.product"]),
    ('[groups]\nsite = ["pages_per_visit", "minutes_prev", "minutes_current", "service_errors"]\n',
     ["every feature needs a group; missing tenure_days"]),
    ("[report]\ndpi = 100000\n", ["report.dpi", "less than or equal to 600"]),
    ("[model]\ncv_folds = 1000\n", ["model.cv_folds", "less than or equal to 50"]),
    ('[[model.candidates]]\nname = "KNN"\nfamily = "knn"\nparams = {n_neighbours = 5}\n',
     ["model.candidates[0] (KNN, family knn)", "unexpected keyword argument 'n_neighbours'"]),
    ('[[model.candidates]]\nname = "Tree"\nfamily = "decision_tree"\ngrid = {max_depth = [4, -3]}\n',
     ["model.candidates[0] (Tree, family decision_tree)", "'max_depth' parameter", "Got -3"]),
    (('[[model.candidates]]\nname = "Big"\nfamily = "decision_tree"\n'
      'grid = {max_depth = [1, 2, 3, 4, 5, 6, 7, 8], min_samples_leaf = [1, 2, 3, 4, 5, 6, 7, 8]}\n'),
     ["candidate 'Big': its grid has 64 configurations; at most 50"]),
])
def test_config_values_that_would_crash_later_are_refused(config: str, fragments: list[str], tmp_path: Path,
                                                           sample_dir: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config, encoding="utf-8")
    assert main(["validate", "--data", str(sample_dir), "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"


def test_more_folds_than_customers_is_refused_naming_the_setting(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from analysis.sample import write_sample

    data = tmp_path / "data"
    write_sample(data, n_customers=60, seed=3)
    config = tmp_path / "config.toml"
    config.write_text("[model]\ncv_folds = 40\n", encoding="utf-8")
    assert main(["validate", "--data", str(data), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "market_file.csv" in err and "too few analysed customers" in err and "model.cv_folds = 40" in err


def test_a_folder_as_config_is_refused(tmp_path: Path, sample_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--data", str(sample_dir), "--config", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"--config {tmp_path} is not a file" in err and "Traceback" not in err


# --- item 8: arguments checked before any work --------------------------------------------------------------

@pytest.mark.parametrize(("extra", "fragment"), [
    (["--period", "2026-10\n"], "period must be YYYY-MM"),
    (["--period", "0000-01"], "period must be YYYY-MM"),
    (["--period", "2026-1"], "period must be YYYY-MM"),
    (["--period", " 2026-10"], "period must be YYYY-MM"),
])
def test_malformed_periods_are_refused(extra: list[str], fragment: str, sample_dir: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["build", "--data", str(sample_dir), "--out", str(tmp_path / "out"), *extra])
    assert exc.value.code == 2
    assert fragment in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("case", ["out_is_a_file", "out_under_a_file", "archive_is_a_file", "data_missing",
                                  "output_name_is_a_folder"])
def test_bad_build_arguments_are_refused_before_any_work(case: str, sample_dir: Path, tmp_path: Path,
                                                         capfd: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "report.pdf"
    a_file.write_bytes(b"%PDF keep me")
    out, data, extra = tmp_path / "out", sample_dir, []
    if case == "out_is_a_file":
        out, fragment = a_file, f"--out {a_file} exists and is not a folder"
    elif case == "out_under_a_file":
        out, fragment = a_file / "sub", f"{a_file} is not a folder"
    elif case == "archive_is_a_file":
        extra, fragment = ["--archive", str(a_file)], f"--archive {a_file} exists and is not a folder"
    elif case == "data_missing":
        data, fragment = tmp_path / "nowhere", "no such folder"
    else:
        (out / "results.json").mkdir(parents=True)
        fragment = f"{out / 'results.json'} is a folder"
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    code = main(["build", "--data", str(data), "--out", str(out), "--period", "2026-10", *extra])
    err = capfd.readouterr().err
    assert code == 2, err
    assert fragment in err and "Traceback" not in err
    assert "[" not in err  # no stage started
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before
    assert a_file.read_bytes() == b"%PDF keep me"


@pytest.mark.parametrize(("argv", "fragment"), [
    (["sample", "--out", "x", "--customers", "100000000000"], "at most 10000000"),
    (["sample", "--out", "x", "--seed", "-5"], "at least 0"),
    (["sample", "--out", "x", "--customers", "many"], "expected a whole number"),
])
def test_sample_arguments_are_bounded(argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert fragment in capsys.readouterr().err


def test_a_megabyte_cell_is_not_matched_in_full() -> None:
    """Item 11: the near-typo search is bounded by the distance cut-off, whatever a value's length."""
    from analysis.clean import canonical_match, levenshtein

    vocabulary = ("Товары для детей", "Домашний текстиль")
    assert canonical_match("Товары для детей" + "ы" * 5_000_000, vocabulary, max_distance=2,
                           max_relative=0.25) == (None, "unknown")
    assert levenshtein("a" * 1_000_000, "b" * 1_000_000, cutoff=2) == 3
    assert canonical_match("Товары для детйе", vocabulary, max_distance=2, max_relative=0.25) == \
        ("Товары для детей", "fix_typo")


def test_the_default_candidates_pass_their_own_check() -> None:
    from analysis.config import ModelConfig
    from analysis.model import check_candidates

    check_candidates(ModelConfig())  # every default configuration, the thorough extras included


def test_broken_previous_results_are_refused_before_any_work(sample_dir: Path, tmp_path: Path,
                                                             capfd: pytest.CaptureFixture[str]) -> None:
    previous = tmp_path / "results.json"
    previous.write_text('{"schema_version": 2, "meta": [', encoding="utf-8")
    out = tmp_path / "out"
    code = main(["build", "--data", str(sample_dir), "--out", str(out), "--period", "2026-10",
                 "--previous", str(previous)])
    err = capfd.readouterr().err
    assert code == 2 and str(previous) in err and "not a valid results file" in err
    assert "Traceback" not in err and " s] " not in err  # no stage started
    assert not out.exists()


def test_verify_of_a_folder_names_the_pdf_to_give(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "oneclick-report_2026-10_ru.pdf").write_bytes(b"%PDF-1.7")
    assert main(["verify", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is a folder; expected the report PDF" in err and "oneclick-report_2026-10_ru.pdf" in err
