"""Seeded, vectorised generator of a synthetic sample in the published raw format.

The four tables imitate the public «В один клик» release: the same raw (Russian) column names
and values, the same column order, the same separators and decimal marks, the same row order
pattern of the long tables and the same kinds of dirt (typos, inactive customers, one extreme
revenue), but with new random customers.

Every customer has a latent *decline propensity* :math:`z \\sim N(0, 1)`; the target is
«Снизилась» when :math:`z + \\tau\\varepsilon` exceeds the threshold that gives the published
share of declined customers. The behavioural features are noisy functions of :math:`z`:
customers with a higher propensity view fewer pages and categories per visit, spend fewer
minutes on the site, buy a larger share on promotion, leave more unpaid items in the cart, get
somewhat fewer marketing touches and meet slightly more service errors; revenue is mildly
related and profit is independent of the target. :math:`\\tau` is calibrated so that a
reasonable model reaches a cross-validated ROC-AUC of about 0.9.

Only :func:`numpy.random.default_rng` is used, so the same seed gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from analysis.config import VocabularyConfig
from analysis.schema import (
    MARKET_FILE,
    MARKET_MONEY,
    MARKET_TIME,
    MONEY,
    NEGATIVE_LABEL,
    POSITIVE_LABEL,
    Table,
)

# --- Dirt of the published release (the misspelt values, exactly as published) ---------------
#: Typo of the standard service type (``VocabularyConfig().service_type[0]``).
SERVICE_TYPO = "стандартт"
#: Typo of the previous-month label in ``market_time`` (``VocabularyConfig().time_periods[0]``).
PERIOD_TYPO = "предыдцщий_месяц"
#: Misspelling of ``VocabularyConfig().popular_category[CATEGORY_TYPO_INDEX]``.
CATEGORY_TYPO = "Косметика и аксесуары"
CATEGORY_TYPO_INDEX = 2
#: Share of all customers whose service type carries :data:`SERVICE_TYPO`.
SERVICE_TYPO_SHARE = 0.01
#: Share of customers with zero revenue in the previous and pre-previous months (at least one).
INACTIVE_SHARE = 0.0025
#: The extreme current-month revenue is this many times the median (uniform range).
EXTREME_RATIO = (19.5, 21.5)

# --- Marginals imitated from the published release ---------------------------------------------
#: Share of customers whose activity declined.
DECLINED_SHARE = 0.383
#: Standard deviation of the noise between the latent propensity and the label (sets the AUC).
LABEL_NOISE = 0.36
#: Share of premium customers at zero propensity and the log-odds slope on the propensity.
PREMIUM_SHARE = 0.29
PREMIUM_SLOPE = 0.25
#: Consent to messages for premium / standard customers.
CONSENT_PREMIUM = 0.87
CONSENT_STANDARD = 0.69
#: Favourite category: shares and log-odds slopes on the propensity, in the order of
#: ``VocabularyConfig().popular_category``.
CATEGORY_SHARES = (0.254, 0.193, 0.172, 0.141, 0.134, 0.106)
CATEGORY_SLOPES = (0.10, 0.03, 0.16, -0.45, -0.85, 0.18)
#: Marketing touches this month: values and probabilities.
MARKETING_CURRENT = ((3, 4, 5), (0.237, 0.515, 0.248))
#: Days since registration: closed range.
TENURE_RANGE = (110, 1079)
#: Published order of the periods of one customer in ``market_money`` (indices into
#: ``VocabularyConfig().money_periods``) and how often each order occurs.
MONEY_ORDERS = ((2, 0, 1), (0, 1, 2), (1, 2, 0), (1, 0, 2), (2, 1, 0), (0, 2, 1))
MONEY_ORDER_COUNTS = (314, 298, 288, 145, 132, 123)
#: The same for ``market_time`` (indices into ``VocabularyConfig().time_periods``).
TIME_ORDERS = ((1, 0), (0, 1))
TIME_ORDER_COUNTS = (677, 623)

#: Default first customer id (as in the published release).
FIRST_ID = 215348


@dataclass(frozen=True, slots=True)
class SampleTables:
    """The four raw tables of one synthetic sample.

    Parameters
    ----------
    market_file : pandas.DataFrame
        One row per customer, the columns of ``market_file.csv``.
    market_money : pandas.DataFrame
        Three rows per customer (revenue by period), the columns of ``market_money.csv``.
    market_time : pandas.DataFrame
        Two rows per customer (minutes on the site by period), the columns of ``market_time.csv``.
    money : pandas.DataFrame
        One row per customer (mean monthly profit), the columns of ``money.csv``.
    """

    market_file: pd.DataFrame
    market_money: pd.DataFrame
    market_time: pd.DataFrame
    money: pd.DataFrame

    def as_dict(self) -> dict[str, pd.DataFrame]:
        """Table name (as in :mod:`analysis.schema`) → frame, in the published file order."""
        return {
            MARKET_FILE.name: self.market_file,
            MARKET_MONEY.name: self.market_money,
            MARKET_TIME.name: self.market_time,
            MONEY.name: self.money,
        }


def _strings(codes: np.ndarray, labels: tuple[str, ...] | list[str]) -> pd.Series:
    """A pandas string column holding ``labels[codes]`` (vectorised through Arrow)."""
    array = pc.take(pa.array(list(labels), type=pa.large_string()), pa.array(codes))
    return pd.Series(pd.arrays.ArrowStringArray(array), dtype="str")


def _frame(table: Table, columns: dict[str, np.ndarray | pd.Series]) -> pd.DataFrame:
    """A frame of ``table`` from English identifier → values, with the raw names in raw order."""
    return pd.DataFrame({c.source: columns[c.name] for c in table.columns})


def _int_normal(rng: np.random.Generator, mean: np.ndarray, sd: float, low: int, high: int
                ) -> np.ndarray:
    """Round ``N(mean, sd)`` to integers clipped to ``[low, high]``."""
    values = np.rint(mean + rng.normal(0.0, sd, size=mean.shape))
    return np.clip(values, low, high).astype(np.int64)


def _gumbel_choice(rng: np.random.Generator, logits: np.ndarray) -> np.ndarray:
    """Draw one category per row of ``logits`` (rows × categories) by the Gumbel-max trick."""
    return np.asarray(np.argmax(logits + rng.gumbel(size=logits.shape), axis=1))


def _orders(rng: np.random.Generator, n: int, orders: tuple[tuple[int, ...], ...],
            counts: tuple[int, ...]) -> np.ndarray:
    """Per-customer row order of a long table (n × periods), with the published frequencies."""
    weights = np.asarray(counts, dtype=float)
    choice = rng.choice(len(orders), size=n, p=weights / weights.sum())
    return np.asarray(orders, dtype=np.int64)[choice]


def _pick(rng: np.random.Generator, candidates: np.ndarray, k: int) -> np.ndarray:
    """``k`` distinct positions drawn from ``candidates`` (all of them when fewer)."""
    k = min(k, candidates.size)
    return rng.choice(candidates, size=k, replace=False) if k else candidates[:0]


def generate_sample(*, n_customers: int, seed: int, first_id: int = FIRST_ID) -> SampleTables:
    """Generate the four raw tables of a synthetic sample.

    Parameters
    ----------
    n_customers : int
        Number of customers (at least 2: one extreme-revenue and one inactive customer).
    seed : int
        Seed of :func:`numpy.random.default_rng`; the same seed gives identical tables.
    first_id : int, default 215348
        The first customer id; ids are consecutive.

    Returns
    -------
    SampleTables
        Frames with the raw column names, raw values and column order of the published files.

    Raises
    ------
    ValueError
        When ``n_customers`` is below 2.
    """
    if n_customers < 2:
        raise ValueError(f"n_customers must be at least 2, got {n_customers}")
    n = int(n_customers)
    rng = np.random.default_rng(seed)
    vocab = VocabularyConfig()
    ids = np.arange(first_id, first_id + n, dtype=np.int64)

    # Latent decline propensity and the target.
    z = rng.standard_normal(n)
    threshold = NormalDist().inv_cdf(1.0 - DECLINED_SHARE) * np.sqrt(1.0 + LABEL_NOISE**2)
    declined = z + LABEL_NOISE * rng.standard_normal(n) > threshold

    # Communication with the customer.
    premium_logit = np.log(PREMIUM_SHARE / (1 - PREMIUM_SHARE)) + PREMIUM_SLOPE * z
    premium = rng.random(n) < 1.0 / (1.0 + np.exp(-premium_logit))
    consent = rng.random(n) < np.where(premium, CONSENT_PREMIUM, CONSENT_STANDARD)
    marketing_6m = np.clip(np.rint((4.25 - 0.55 * z + rng.normal(0.0, 0.85, n)) * 10), 9, 66) / 10
    values, probabilities = MARKETING_CURRENT
    marketing_current = rng.choice(np.asarray(values, dtype=np.int64), size=n, p=probabilities)

    # Site behaviour.
    low, high = TENURE_RANGE
    tenure = np.rint(low + (high - low) * np.clip(rng.beta(1.6, 1.6, n) + 0.02 * z, 0, 1))
    tenure = tenure.astype(np.int64)
    pages = _int_normal(rng, 8.2 - 3.0 * z, 2.6, 1, 20)
    errors = _int_normal(rng, 4.2 + 0.25 * z, 1.9, 0, 9)
    minutes_prev = _int_normal(rng, 13.5 - 2.4 * z, 2.9, 5, 23)
    minutes_current = _int_normal(rng, 13.2 - 2.2 * z + 0.15 * (minutes_prev - 13.5), 3.4, 4, 23)

    # Product behaviour.
    slopes = np.asarray(CATEGORY_SLOPES)  # − slope²/2 keeps the marginal shares
    category = _gumbel_choice(
        rng, np.log(np.asarray(CATEGORY_SHARES)) - slopes**2 / 2 + np.outer(z, slopes)
    )
    categories_per_visit = _int_normal(rng, 3.3 - 0.65 * z, 1.15, 1, 6)
    unpaid = np.minimum(rng.poisson(np.exp(0.92 + 0.33 * z + rng.normal(0.0, 0.2, n))), 10)
    high_promo = rng.random(n) < 1.0 / (1.0 + np.exp(-(-2.8 + 1.5 * z)))
    promo_low = np.clip(0.245 + 0.015 * z + rng.normal(0.0, 0.065, n), 0.11, 0.44)
    promo_high = 0.99 - rng.gamma(1.2, 0.035, n).clip(0.0, 0.14)
    promo = np.where(high_promo, promo_high, promo_low)
    promo[rng.random(n) < 0.0025] = 0.0
    promo = np.rint(promo * 100) / 100

    # Purchasing behaviour: revenue by period (canonical order prev2, prev, current).
    revenue_prev2 = np.clip(np.rint(4835 - 180 * z + rng.normal(0.0, 290, n)), 4000, 5700)
    revenue_prev = 4940 + 0.6 * (revenue_prev2 - 4835) + 108 * z + rng.normal(0.0, 640, n)
    revenue_prev = np.rint(2 * revenue_prev) / 2
    revenue_prev = np.clip(revenue_prev, 2800.0, 7000.0)
    revenue_current = revenue_prev * 1.05 + 20 + 70 * z + rng.normal(0.0, 330, n)
    revenue_current = np.clip(np.rint(revenue_current * 10) / 10, 2700.0, 8000.0)
    profit = np.clip(np.rint(rng.normal(4.0, 1.0, n) * 100) / 100, 0.86, 7.43)

    # Dirt: inactive customers, one extreme revenue, the service-type typo.
    everyone = np.arange(n)
    extreme = int(rng.integers(n))
    inactive = _pick(rng, everyone[everyone != extreme], max(1, round(INACTIVE_SHARE * n)))
    revenue_prev2[inactive] = 0.0
    revenue_prev[inactive] = 0.0
    ratio = rng.uniform(*EXTREME_RATIO)
    revenue_current[extreme] = np.rint(np.median(revenue_current) * ratio * 10) / 10
    service_code = premium.astype(np.int64)  # 0 = standard, 1 = premium
    typos = _pick(rng, np.flatnonzero(~premium), max(1, round(SERVICE_TYPO_SHARE * n)))
    service_code[typos] = 2
    money_order = _orders(rng, n, MONEY_ORDERS, MONEY_ORDER_COUNTS)
    time_order = _orders(rng, n, TIME_ORDERS, TIME_ORDER_COUNTS)

    categories = list(vocab.popular_category)
    categories[CATEGORY_TYPO_INDEX] = CATEGORY_TYPO
    market_file = _frame(MARKET_FILE, {
        "id": ids,
        "activity": _strings(np.where(declined, 0, 1), (POSITIVE_LABEL, NEGATIVE_LABEL)),
        "service_type": _strings(service_code, (*vocab.service_type, SERVICE_TYPO)),
        "allow_messages": _strings(np.where(consent, 0, 1), vocab.allow_messages),
        "marketing_6m": marketing_6m,
        "marketing_current": marketing_current,
        "tenure_days": tenure,
        "promo_share": promo,
        "popular_category": _strings(category, categories),
        "categories_per_visit": categories_per_visit,
        "unpaid_items": unpaid.astype(np.int64),
        "service_errors": errors,
        "pages_per_visit": pages,
    })

    revenue = np.column_stack([revenue_prev2, revenue_prev, revenue_current])
    rows = np.repeat(everyone, money_order.shape[1])
    market_money = _frame(MARKET_MONEY, {
        "id": ids[rows],
        "period": _strings(money_order.ravel(), vocab.money_periods),
        "revenue": revenue[rows, money_order.ravel()],
    })

    minutes = np.column_stack([minutes_prev, minutes_current])
    time_periods = [PERIOD_TYPO, *vocab.time_periods[1:]]
    rows = np.repeat(everyone, time_order.shape[1])
    market_time = _frame(MARKET_TIME, {
        "id": ids[rows],
        "period": _strings(time_order.ravel(), time_periods),
        "minutes": minutes[rows, time_order.ravel()],
    })
    money = _frame(MONEY, {"id": ids, "profit": profit})
    return SampleTables(market_file, market_money, market_time, money)


def _format_decimal(values: np.ndarray, *, decimals: int, min_decimals: int, mark: str
                    ) -> pa.Array:
    """Render non-negative numbers with at most ``decimals`` and at least ``min_decimals`` digits.

    Trailing zeros beyond ``min_decimals`` are dropped, as in the published files
    (``4472.0``, ``0.3``, ``0.24``; profit ``4``, ``1,4``, ``0,98``). Vectorised in Arrow.
    """
    scale = 10**decimals
    scaled = np.rint(np.asarray(values, dtype=float) * scale).astype(np.int64)
    whole = pc.cast(pa.array(scaled // scale), pa.string())
    fraction = pc.utf8_lpad(pc.cast(pa.array(scaled % scale), pa.string()), width=decimals,
                            padding="0")
    fraction = pc.utf8_rtrim(fraction, characters="0")
    if min_decimals:
        fraction = pc.utf8_rpad(fraction, width=min_decimals, padding="0")
    joined = pc.binary_join_element_wise(whole, fraction, mark)
    if min_decimals:
        return joined
    return pc.if_else(pc.equal(pc.utf8_length(fraction), 0), whole, joined)


def _write_csv(frame: pd.DataFrame, path: Path, *, separator: str,
               formats: dict[str, tuple[int, int]], mark: str) -> None:
    """Write ``frame`` with ``separator``, LF line endings, no quotes; ``formats`` maps a column to
    ``(decimals, min_decimals)`` of :func:`_format_decimal`."""
    arrays = []
    for name in frame.columns:
        column = frame[name]
        if name in formats:
            decimals, min_decimals = formats[name]
            arrays.append(_format_decimal(column.to_numpy(), decimals=decimals,
                                          min_decimals=min_decimals, mark=mark))
        elif pd.api.types.is_numeric_dtype(column.dtype):
            arrays.append(pa.array(column.to_numpy()))
        else:
            arrays.append(pa.array(column))
    names = [str(name) for name in frame.columns]
    table = pa.Table.from_arrays(arrays, names=names)
    # Arrow quotes the header; the published files do not, so the header is written here.
    options = pa_csv.WriteOptions(include_header=False, delimiter=separator, quoting_style="none")
    with pa.OSFile(str(path), "wb") as sink:
        sink.write((separator.join(names) + "\n").encode("utf-8"))
        pa_csv.write_csv(table, sink, write_options=options)


def write_sample(out_dir: Path, *, n_customers: int, seed: int) -> list[Path]:
    """Generate a sample and write its four files in the published raw formats.

    ``market_file.csv``, ``market_money.csv`` and ``market_time.csv`` use ``,`` and decimal
    points; ``money.csv`` uses ``;`` and decimal commas. UTF-8, LF line endings, a header row,
    no quotes. Revenue has one decimal, promo share and profit at most two (trailing zeros are
    dropped as in the published files).

    Parameters
    ----------
    out_dir : Path
        Directory to write into (created if missing); existing files are overwritten.
    n_customers : int
        Number of customers.
    seed : int
        Seed of the generator; the same seed gives identical bytes.

    Returns
    -------
    list of Path
        The four written files, in the order market_file, market_money, market_time, money.
    """
    return write_tables(generate_sample(n_customers=n_customers, seed=seed), out_dir)

#: Next month's default transition of the label: the chance that a customer who declined this
#: month declines again, and that a stable customer declines next month.
STAY_DECLINED = 0.8
BECOME_DECLINED = 0.12


def next_month(data_dir: Path, *, actions: pd.DataFrame, effects: dict[str, float], seed: int,
               stay_declined: float = STAY_DECLINED, become_declined: float = BECOME_DECLINED,
               gone_share: float = 0.01, new_share: float = 0.01) -> SampleTables:
    """Next month's four tables for the customers of ``data_dir``, with known effects of actions.

    Every customer's activity next month declines with probability ``stay_declined`` when it
    declined this month, else ``become_declined``; a customer in the *treatment* group of an
    action in ``effects`` has that probability shifted by the effect (``-0.15``: 15 percentage
    points less likely to decline; effects of several actions add up; clipped to [0, 1]). Control
    customers and actions not in ``effects`` are left alone, so a report that measures treatment
    against control recovers each effect. Revenue and minutes move one period on (this month's
    current month becomes the previous one) with noise; the other features stay. ``gone_share`` of
    the customers leave, and ``new_share`` new ones (from :func:`generate_sample`) join.

    Parameters
    ----------
    data_dir : Path
        This month's four tables (any format :func:`analysis.load.read_table` reads).
    actions : pandas.DataFrame
        This month's ``actions.csv`` (``id``, ``action``, ``group``).
    effects : dict of str to float
        Action key → change of the decline probability of its treated customers.
    seed : int
        Seed of :func:`numpy.random.default_rng`.

    Raises
    ------
    ValueError
        When an action of ``effects`` is not in ``actions``, or a probability is out of [0, 1].
    """
    from analysis.load import read_all

    for name, value in (("stay_declined", stay_declined), ("become_declined", become_declined),
                        ("gone_share", gone_share), ("new_share", new_share)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {value}")
    unknown = sorted(set(effects) - set(actions["action"].unique()))
    if unknown:
        raise ValueError(f"no customer has the action(s) {unknown} in the given actions.csv")
    rng = np.random.default_rng(seed)
    # the generator works on pandas (the raw tables are small next to what it writes)
    raws = {name: raw.frame.to_pandas() for name, raw in read_all(Path(data_dir)).items()}
    market_file = raws[MARKET_FILE.name].copy()
    ids = market_file["id"].astype(np.int64).to_numpy()

    declined = (market_file["activity"] == POSITIVE_LABEL).to_numpy()
    p = np.where(declined, stay_declined, become_declined)
    treated = actions[(actions["group"] == "treatment") & actions["action"].isin(list(effects))]
    shift = treated.assign(effect=treated["action"].map(effects)).groupby("id")["effect"].sum()
    p = np.clip(p + pd.Series(ids).map(shift).fillna(0.0).to_numpy(), 0.0, 1.0)
    declined_next = rng.random(ids.size) < p
    market_file["activity"] = np.where(declined_next, POSITIVE_LABEL, NEGATIVE_LABEL)

    vocab = VocabularyConfig()
    money = raws[MARKET_MONEY.name].copy()
    revenue = money.pivot_table(index="id", columns="period", values="revenue", aggfunc="first",
                                sort=False).astype(float).reindex(market_file["id"])
    _, prev, current = (revenue[name].to_numpy() if name in revenue else np.zeros(ids.size)
                            for name in vocab.money_periods)
    grown = current * np.where(declined_next, 0.95, 1.03) + rng.normal(0.0, 150.0, ids.size)
    new_current = np.where(current > 0, np.clip(np.rint(grown * 10) / 10, 0.0, None), 0.0)
    time_ = raws[MARKET_TIME.name].copy()
    minutes = time_.pivot_table(index="id", columns="period", values="minutes", aggfunc="first",
                                sort=False).astype(float).reindex(market_file["id"])
    current_minutes = minutes[vocab.time_periods[1]].to_numpy()
    new_minutes = np.clip(np.rint(current_minutes + rng.normal(0.0, 2.0, ids.size)
                                  - np.where(declined_next, 1.0, 0.0)), 1, None).astype(np.int64)

    keep = rng.random(ids.size) >= gone_share
    numeric = {"marketing_6m": float, "marketing_current": np.int64, "tenure_days": np.int64, "promo_share": float,
               "categories_per_visit": np.int64, "unpaid_items": np.int64, "service_errors": np.int64,
               "pages_per_visit": np.int64}
    columns = {c.name: (market_file[c.name].astype(numeric[c.name]).to_numpy() if c.name in numeric
                        else market_file[c.name].to_numpy()) for c in MARKET_FILE.columns}
    columns["id"] = ids
    profit = raws[MONEY.name].set_index("id")["profit"].astype(float).reindex(market_file["id"]).to_numpy()
    tables = _assemble(columns, keep=keep, revenue=np.column_stack([prev, current, new_current]),
                       minutes=np.column_stack([current_minutes, new_minutes]), profit=profit, rng=rng)
    n_new = round(new_share * ids.size)
    if n_new >= 2:
        fresh = generate_sample(n_customers=n_new, seed=seed + 1, first_id=int(ids.max()) + 1)
        tables = SampleTables(*(pd.concat([old, new], ignore_index=True)
                                for old, new in zip(tables.as_dict().values(), fresh.as_dict().values(), strict=True)))
    return tables


def _assemble(columns: dict[str, np.ndarray], *, keep: np.ndarray, revenue: np.ndarray, minutes: np.ndarray,
              profit: np.ndarray, rng: np.random.Generator) -> SampleTables:
    """The four raw tables of the customers ``keep`` selects (canonical period order, shuffled rows)."""
    vocab = VocabularyConfig()
    rows = np.flatnonzero(keep)
    ids = columns["id"][rows]
    market_file = _frame(MARKET_FILE, {k: v[rows] for k, v in columns.items()})
    everyone = np.arange(rows.size)
    money_order = _orders(rng, rows.size, MONEY_ORDERS, MONEY_ORDER_COUNTS)
    long_rows = np.repeat(everyone, money_order.shape[1])
    market_money = _frame(MARKET_MONEY, {
        "id": ids[long_rows], "period": _strings(money_order.ravel(), vocab.money_periods),
        "revenue": revenue[rows][long_rows, money_order.ravel()],
    })
    time_order = _orders(rng, rows.size, TIME_ORDERS, TIME_ORDER_COUNTS)
    long_rows = np.repeat(everyone, time_order.shape[1])
    market_time = _frame(MARKET_TIME, {
        "id": ids[long_rows], "period": _strings(time_order.ravel(), vocab.time_periods),
        "minutes": minutes[rows][long_rows, time_order.ravel()],
    })
    money = _frame(MONEY, {"id": ids, "profit": profit[rows]})
    return SampleTables(market_file, market_money, market_time, money)


def write_tables(tables: SampleTables, out_dir: Path) -> list[Path]:
    """Write four tables in the published raw formats (see :func:`write_sample`)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Table, frame, separator, decimal mark, English column → (decimals, minimum decimals).
    specs: tuple[tuple[Table, pd.DataFrame, str, str, dict[str, tuple[int, int]]], ...] = (
        (MARKET_FILE, tables.market_file, ",", ".",
         {"marketing_6m": (1, 1), "promo_share": (2, 1)}),
        (MARKET_MONEY, tables.market_money, ",", ".", {"revenue": (1, 1)}),
        (MARKET_TIME, tables.market_time, ",", ".", {}),
        (MONEY, tables.money, ";", ",", {"profit": (2, 0)}),
    )
    paths = []
    for table, frame, separator, mark, by_name in specs:
        formats = {table.column(name).source: spec for name, spec in by_name.items()}
        path = out_dir / table.file
        _write_csv(frame, path, separator=separator, formats=formats, mark=mark)
        paths.append(path)
    return paths
