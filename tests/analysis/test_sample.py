"""Tests of the seeded synthetic sample generator (:mod:`analysis.sample`)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from analysis.config import VocabularyConfig
from analysis.sample import (
    CATEGORY_TYPO,
    CATEGORY_TYPO_INDEX,
    PERIOD_TYPO,
    SERVICE_TYPO,
    SampleTables,
    generate_sample,
    write_sample,
)
from analysis.schema import MARKET_FILE, MARKET_MONEY, MARKET_TIME, MONEY, POSITIVE_LABEL, TABLES, Table

PUBLISHED = Path("/work/shared/data/one-click")
PROJECT_SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
N = 1300
SEED = 42

#: The four raw tables by name, as read back from their files.
Frames = dict[str, pd.DataFrame]

needs_published = pytest.mark.skipif(not PUBLISHED.is_dir(), reason="published data not available")


def src(table: Table, name: str) -> str:
    """Raw column name of the English identifier ``name`` in ``table``."""
    return table.column(name).source


def read(folder: Path, table: Table) -> pd.DataFrame:
    """Read one raw file back with pandas, in its published format."""
    if table is MONEY:
        return pd.read_csv(folder / table.file, sep=";", decimal=",")
    return pd.read_csv(folder / table.file)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    write_sample(out, n_customers=N, seed=SEED)
    return out


@pytest.fixture(scope="module")
def frames(folder: Path) -> dict[str, pd.DataFrame]:
    return {table.name: read(folder, table) for table in TABLES}


@pytest.fixture(scope="module")
def published() -> dict[str, pd.DataFrame]:
    if not PUBLISHED.is_dir():
        pytest.skip("published data not available")
    return {table.name: read(PUBLISHED, table) for table in TABLES}


def revenue_wide(money: pd.DataFrame) -> pd.DataFrame:
    """Revenue pivoted to one row per customer, columns = raw period labels."""
    return money.pivot(index=src(MARKET_MONEY, "id"), columns=src(MARKET_MONEY, "period"),
                       values=src(MARKET_MONEY, "revenue"))


# --- determinism, API ------------------------------------------------------------------------

def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a = write_sample(tmp_path / "a", n_customers=200, seed=7)
    b = write_sample(tmp_path / "b", n_customers=200, seed=7)
    c = write_sample(tmp_path / "c", n_customers=200, seed=8)
    assert [p.name for p in a] == [t.file for t in TABLES]
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b, strict=True))
    assert all(x.read_bytes() != y.read_bytes() for x, y in zip(a, c, strict=True))


def test_generate_returns_frozen_raw_frames() -> None:
    tables = generate_sample(n_customers=50, seed=1, first_id=1000)
    assert isinstance(tables, SampleTables)
    with pytest.raises(AttributeError):
        tables.money = tables.money  # type: ignore[misc]
    for table, frame in zip(TABLES, tables.as_dict().values(), strict=True):
        assert list(frame.columns) == [c.source for c in table.columns]
    assert tables.market_file[src(MARKET_FILE, "id")].tolist() == list(range(1000, 1050))
    with pytest.raises(ValueError, match="n_customers must be at least 2, got 1"):
        generate_sample(n_customers=1, seed=1)


def test_project_sample_is_seed_42(folder: Path) -> None:
    if not PROJECT_SAMPLE.is_dir():
        pytest.skip("data/sample not generated")
    for table in TABLES:
        assert (PROJECT_SAMPLE / table.file).read_bytes() == (folder / table.file).read_bytes()


# --- shapes, headers, formats ----------------------------------------------------------------

def test_shapes_and_row_pattern(frames: dict[str, pd.DataFrame]) -> None:
    rows = {"market_file": 1, "market_money": 3, "market_time": 2, "money": 1}
    for name, per_customer in rows.items():
        frame = frames[name]
        assert len(frame) == N * per_customer
        ids = frame["id"].to_numpy()
        assert np.all(np.diff(ids) >= 0), "rows are grouped by ascending id"
        assert (frame.groupby("id").size() == per_customer).all()
    for table in (MARKET_MONEY, MARKET_TIME):
        frame = frames[table.name]
        assert frame.groupby("id")[src(table, "period")].nunique().eq(rows[table.name]).all()
        # Periods come in several orders per customer, as in the published files.
        orders = frame.groupby("id")[src(table, "period")].agg(tuple)
        assert orders.nunique() == (6 if table is MARKET_MONEY else 2)


@needs_published
def test_headers_equal_published(folder: Path) -> None:
    for table in TABLES:
        ours = (folder / table.file).read_text(encoding="utf-8").split("\n", 1)[0]
        theirs = (PUBLISHED / table.file).read_text(encoding="utf-8").split("\n", 1)[0]
        assert ours == theirs
        assert ours.split(";" if table is MONEY else ",") == [c.source for c in table.columns]


def test_file_formats(folder: Path, frames: dict[str, pd.DataFrame]) -> None:
    for table in TABLES:
        data = (folder / table.file).read_bytes()
        text = data.decode("utf-8")
        assert not data.startswith(b"\xef\xbb\xbf")
        assert "\r" not in text and text.endswith("\n") and '"' not in text
    money_lines = (folder / MONEY.file).read_text(encoding="utf-8").splitlines()[1:]
    assert all(re.fullmatch(r"\d+;\d+(,\d{1,2})?", line) for line in money_lines)
    assert any("," in line for line in money_lines)
    assert frames["money"][src(MONEY, "profit")].dtype == np.float64
    for table in (MARKET_FILE, MARKET_MONEY, MARKET_TIME):
        assert ";" not in (folder / table.file).read_text(encoding="utf-8")
    revenue = [line.rsplit(",", 1)[1] for line in
               (folder / MARKET_MONEY.file).read_text(encoding="utf-8").splitlines()[1:]]
    assert all(re.fullmatch(r"\d+\.\d", value) for value in revenue)
    market = pd.read_csv(folder / MARKET_FILE.file, dtype=str)
    assert market[src(MARKET_FILE, "promo_share")].str.fullmatch(r"[01]\.\d{1,2}").all()
    assert market[src(MARKET_FILE, "marketing_6m")].str.fullmatch(r"\d\.\d").all()
    profit = frames["money"][src(MONEY, "profit")]
    assert 3.7 < profit.mean() < 4.3 and profit.min() >= 0.8 and profit.max() <= 7.5


def test_no_missing_values_or_duplicates(frames: dict[str, pd.DataFrame]) -> None:
    for frame in frames.values():
        assert not frame.isna().any().any()
        assert not frame.duplicated().any()


# --- dirt ------------------------------------------------------------------------------------

def test_typos(frames: dict[str, pd.DataFrame]) -> None:
    vocab = VocabularyConfig()
    service = frames["market_file"][src(MARKET_FILE, "service_type")]
    assert set(service) == {*vocab.service_type, SERVICE_TYPO}
    assert 0.005 <= (service == SERVICE_TYPO).mean() <= 0.015
    periods = frames["market_time"][src(MARKET_TIME, "period")]
    assert set(periods) == {PERIOD_TYPO, *vocab.time_periods[1:]}
    assert (periods == PERIOD_TYPO).sum() == N
    assert set(frames["market_money"][src(MARKET_MONEY, "period")]) == set(vocab.money_periods)
    categories = set(frames["market_file"][src(MARKET_FILE, "popular_category")])
    canonical = vocab.popular_category[CATEGORY_TYPO_INDEX]
    assert CATEGORY_TYPO in categories and canonical not in categories
    assert categories == set(vocab.popular_category) - {canonical} | {CATEGORY_TYPO}


@needs_published
def test_typos_and_value_sets_equal_published(frames: Frames, published: Frames) -> None:
    for table, name in ((MARKET_FILE, "service_type"), (MARKET_FILE, "popular_category"),
                        (MARKET_FILE, "allow_messages"), (MARKET_FILE, "activity"),
                        (MARKET_MONEY, "period"), (MARKET_TIME, "period")):
        column = src(table, name)
        assert set(frames[table.name][column]) == set(published[table.name][column]), column


def test_exactly_one_extreme_revenue_on_an_active_customer(frames: Frames) -> None:
    wide = revenue_wide(frames["market_money"])
    prev2, prev, current = VocabularyConfig().money_periods
    values = frames["market_money"][src(MARKET_MONEY, "revenue")]
    extreme = frames["market_money"][values > 10 * values.median()]
    assert len(extreme) == 1
    assert extreme[src(MARKET_MONEY, "period")].item() == current
    ratio = extreme[src(MARKET_MONEY, "revenue")].item() / wide[current].median()
    assert 15 <= ratio <= 25 and extreme[src(MARKET_MONEY, "revenue")].item() >= 100_000
    who = extreme["id"].item()
    assert wide.loc[who, prev] > 0 and wide.loc[who, prev2] > 0


def test_inactive_customers(frames: Frames) -> None:
    wide = revenue_wide(frames["market_money"])
    prev2, prev, current = VocabularyConfig().money_periods
    inactive = wide[(wide[prev2] == 0) & (wide[prev] == 0)]
    assert len(inactive) == round(0.0025 * N) == 3
    assert (inactive[current] > 0).all()
    assert (wide == 0).sum().sum() == 2 * len(inactive), "no other zero revenue"
    small = generate_sample(n_customers=40, seed=3).market_money
    small_wide = revenue_wide(small)
    assert ((small_wide[prev2] == 0) & (small_wide[prev] == 0)).sum() == 1


@settings(max_examples=25, deadline=None)
@given(n=st.integers(min_value=2, max_value=120), seed=st.integers(min_value=0, max_value=2**32))
def test_invariants_hold_for_any_size_and_seed(n: int, seed: int) -> None:
    tables = generate_sample(n_customers=n, seed=seed)
    assert [len(f) for f in tables.as_dict().values()] == [n, 3 * n, 2 * n, n]
    assert not any(f.isna().any().any() for f in tables.as_dict().values())
    wide = revenue_wide(tables.market_money)
    prev2, prev, current = VocabularyConfig().money_periods
    inactive = (wide[prev2] == 0) & (wide[prev] == 0)
    assert inactive.sum() == max(1, round(0.0025 * n))
    huge = wide.stack()[lambda v: v > 50_000]
    assert len(huge) == 1 and huge.index[0][1] == current
    assert not inactive[huge.index[0][0]]


@needs_published
def test_dirt_is_on_other_customers_than_published(frames: Frames, published: Frames) -> None:
    def dirty_ids(tables: dict[str, pd.DataFrame]) -> tuple[set[int], int]:
        wide = revenue_wide(tables["market_money"])
        prev2, prev, current = VocabularyConfig().money_periods
        inactive = set(wide.index[(wide[prev2] == 0) & (wide[prev] == 0)])
        return inactive, int(wide[current].idxmax())

    ours, theirs = dirty_ids(frames), dirty_ids(published)
    assert ours[0] != theirs[0] and ours[1] != theirs[1]
    service = src(MARKET_FILE, "service_type")
    typo_ids = [set(t["market_file"].loc[t["market_file"][service] == SERVICE_TYPO, "id"])
                for t in (frames, published)]
    assert typo_ids[0] != typo_ids[1]


# --- joint structure -------------------------------------------------------------------------

def test_class_balance_and_shares(frames: Frames) -> None:
    market = frames["market_file"]
    declined = market[src(MARKET_FILE, "activity")] == POSITIVE_LABEL
    assert 0.33 <= declined.mean() <= 0.43
    vocab = VocabularyConfig()
    premium = market[src(MARKET_FILE, "service_type")] == vocab.service_type[1]
    assert 0.24 <= premium.mean() <= 0.34
    consent = market[src(MARKET_FILE, "allow_messages")] == vocab.allow_messages[0]
    assert 0.69 <= consent.mean() <= 0.79
    # Declined customers view fewer pages and buy more on promotion.
    pages = market[src(MARKET_FILE, "pages_per_visit")]
    promo = market[src(MARKET_FILE, "promo_share")]
    assert pages[declined].mean() < pages[~declined].mean() - 2
    assert promo[declined].mean() > promo[~declined].mean() + 0.1


def merged(tables: SampleTables) -> tuple[pd.DataFrame, pd.Series]:
    """One row per customer: typos fixed, inactive and extreme customers dropped."""
    vocab = VocabularyConfig()
    market = tables.market_file.set_index("id")
    service = src(MARKET_FILE, "service_type")
    market[service] = market[service].replace(SERVICE_TYPO, vocab.service_type[0])
    minutes = tables.market_time.pivot(index="id", columns=src(MARKET_TIME, "period"),
                                       values=src(MARKET_TIME, "minutes"))
    wide = revenue_wide(tables.market_money)
    data = market.join(wide.add_prefix("revenue_")).join(minutes.add_prefix("minutes_"))
    revenue = data.filter(like="revenue_")
    data = data[(revenue > 0).all(axis=1) & (revenue.max(axis=1) < 50_000)]
    target = data.pop(src(MARKET_FILE, "activity")) == POSITIVE_LABEL
    return pd.get_dummies(data, drop_first=True, dtype=float), target


@pytest.mark.parametrize("seed", [SEED, 7])
def test_model_reaches_plausible_roc_auc(seed: int) -> None:
    features, target = merged(generate_sample(n_customers=N, seed=seed))
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    auc = cross_val_score(model, features, target, cv=cv, scoring="roc_auc").mean()
    assert 0.85 <= auc <= 0.95
