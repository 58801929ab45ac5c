"""Near-typo mapping, the outlier rule and duplicate handling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.clean import canonical_match, detect_outliers, levenshtein
from analysis.config import CleaningConfig, Config
from analysis.errors import DataError
from analysis.features import prepare_data

VOCAB = ("стандарт", "премиум")


@pytest.mark.parametrize(("a", "b", "d"), [("стандартт", "стандарт", 1), ("", "abc", 3), ("kitten", "sitting", 3),
                                           ("предыдцщий_месяц", "предыдущий_месяц", 1)])
def test_levenshtein(a: str, b: str, d: int) -> None:
    assert levenshtein(a, b) == d == levenshtein(b, a)


def test_canonical_match_actions() -> None:
    kw = {"max_distance": 2, "max_relative": 0.25}
    assert canonical_match("стандарт", VOCAB, **kw) == ("стандарт", "keep")
    assert canonical_match("Стандарт", VOCAB, **kw) == ("стандарт", "normalise_case")
    assert canonical_match("стандартт", VOCAB, **kw) == ("стандарт", "fix_typo")
    assert canonical_match("vip", VOCAB, **kw) == (None, "unknown")


def test_outlier_rule_catches_extreme_and_spares_normal_values() -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(5000, 600, 999), [106862.2]])
    periods = pd.Series(["текущий_месяц"] * 1000)
    decision = detect_outliers(pd.Series(values), periods, pd.Series(np.arange(1000)), CleaningConfig())
    assert decision.ids.tolist() == [999]
    assert decision.values.tolist() == [106862.2]
    assert 8000 < decision.threshold < 106862.2


def _replace_in(path, old: str, new: str, *, count: int = 1) -> None:  # noqa: ANN001
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def test_unknown_category_is_kept_and_logged(data_copy) -> None:  # noqa: ANN001
    _replace_in(data_copy / "market_file.csv", "Кухонная посуда", "Зоотовары")
    data = prepare_data(data_copy, Config())
    entries = [e for e in data.result.cleaning_log if e.action == "new_category"]
    assert [(e.from_, e.rows) for e in entries] == [("Зоотовары", 1)]
    assert "Зоотовары" in set(data.frame["popular_category"].astype(str))


def test_whitespace_and_case_are_normalised_and_logged(data_copy) -> None:  # noqa: ANN001
    _replace_in(data_copy / "market_file.csv", ",премиум,", ",  Премиум ,")
    log = prepare_data(data_copy, Config()).result.cleaning_log
    actions = {(e.action, e.from_, e.to) for e in log}
    assert ("normalise_whitespace", "  Премиум ", "Премиум") in actions
    assert ("normalise_case", "Премиум", "премиум") in actions


def test_full_duplicate_row_is_dropped_and_logged(data_copy) -> None:  # noqa: ANN001
    path = data_copy / "market_file.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    data = prepare_data(data_copy, Config())
    assert [(e.action, e.rows) for e in data.result.cleaning_log if "duplicates" in e.action] == [
        ("drop_full_duplicates", 1)]
    assert data.result.n_customers_raw == 1300


def test_implicit_duplicate_after_typo_fix_is_dropped(data_copy) -> None:  # noqa: ANN001
    path = data_copy / "market_file.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    row = next(line for line in lines[1:] if ",стандарт," in line)
    path.write_text("\n".join([*lines, row.replace(",стандарт,", ",стандартт,")]) + "\n", encoding="utf-8")
    log = prepare_data(data_copy, Config()).result.cleaning_log
    assert ("drop_implicit_duplicates", 1) in [(e.action, e.rows) for e in log]


def test_conflicting_rows_for_one_id_are_refused(data_copy) -> None:  # noqa: ANN001
    path = data_copy / "money.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    cid = lines[1].split(";")[0]
    path.write_text("\n".join([*lines, f"{cid};99,9"]) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"money\.csv.*same id appears more than once.*id {cid}"):
        prepare_data(data_copy, Config())


def test_cap_policy_keeps_the_customer(data_copy) -> None:  # noqa: ANN001
    drop = prepare_data(data_copy, Config())
    cap = prepare_data(data_copy, Config.model_validate({"cleaning": {"outlier_policy": "cap"}}))
    assert cap.result.n_customers_analysed == drop.result.n_customers_analysed + 1
    assert cap.result.n_dropped_outlier == 0
    assert any(e.action == "cap_outlier" for e in cap.result.cleaning_log)
    assert cap.frame["revenue_current"].max() <= cap.result.outliers[0].threshold + 1e-9


@pytest.mark.parametrize(("ids", "periods", "unique"), [
    ([1, 1, 2], ["a", "b", "a"], True),
    ([1, 1, 2], ["a", "a", "b"], False),
    ([2**40, 2**40, 3], ["a", "b", "a"], True),  # too large for one Int64 with the code: the struct
    ([2**40, 2**40, 3], ["a", "a", "b"], False),
])
def test_key_is_unique_on_id_and_period(ids: list[int], periods: list[str], unique: bool) -> None:
    import polars as pl

    from analysis.clean import key_is_unique

    frame = pl.DataFrame({"id": ids, "period": periods})
    assert key_is_unique(frame, ["id", "period"]) is unique
    assert key_is_unique(frame.with_columns(pl.col("period").cast(pl.Categorical)), ["id", "period"]) is unique
    assert key_is_unique(frame, ["id"]) is (len(set(ids)) == len(ids))
