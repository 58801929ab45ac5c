"""The facts the published data set's README states, found by the data layer."""

from __future__ import annotations

import pytest

from analysis.config import Config
from analysis.features import prepare_data
from analysis.schema import FEATURES

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def prepared(real_dir):  # noqa: ANN001, ANN201
    return prepare_data(real_dir, Config())


def test_customer_counts(prepared) -> None:  # noqa: ANN001
    r = prepared.result
    assert (r.n_customers_raw, r.n_customers_active, r.n_dropped_inactive) == (1300, 1297, 3)
    assert (r.n_dropped_outlier, r.n_customers_analysed) == (1, 1296)


def test_typos_found_and_logged(prepared) -> None:  # noqa: ANN001
    fixes = {(e.from_, e.to, e.rows) for e in prepared.result.cleaning_log if e.action == "fix_typo"}
    assert ("стандартт", "стандарт", 10) in fixes
    assert ("Косметика и аксесуары", "Косметика и аксессуары", 223) in fixes
    assert ("предыдцщий_месяц", "предыдущий_месяц", 1300) in fixes


def test_extreme_revenue_caught(prepared) -> None:  # noqa: ANN001
    (outlier,) = prepared.result.outliers
    assert outlier.ids == (215380,) and outlier.values == (106862.2,)
    assert any(e.from_ == 106862.2 for e in prepared.result.cleaning_log)


def test_no_duplicates_and_formats(prepared) -> None:  # noqa: ANN001
    assert not [e for e in prepared.result.cleaning_log if "duplicates" in e.action]
    formats = {t.file: (t.separator, t.decimal) for t in prepared.result.tables}
    assert formats["money.csv"] == (";", ",") and formats["market_file.csv"] == (",", ".")


def test_one_row_per_customer_profit_not_a_feature(prepared) -> None:  # noqa: ANN001
    frame = prepared.frame
    assert frame.index.is_unique and len(frame) == 1296
    assert "profit" not in FEATURES and "profit" not in prepared.X.columns
    assert frame[["revenue_prev2", "revenue_prev", "revenue_current"]].gt(0).all().all()
