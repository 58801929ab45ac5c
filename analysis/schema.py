"""The declared schema of the four monthly tables.

This module is the single place that knows the raw (Russian) column names, the English
identifiers they map to, their types, their allowed ranges and the feature groups' members.
Everything downstream of :mod:`analysis.load` works with the English identifiers only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """How a column is measured."""

    ID = "id"
    NUMERIC = "numeric"
    INTEGER = "integer"
    CATEGORICAL = "categorical"
    BINARY = "binary"
    TARGET = "target"
    PERIOD = "period"


@dataclass(frozen=True, slots=True)
class Column:
    """One raw column of one table.

    Parameters
    ----------
    source : str
        The column name as it appears in the raw file.
    name : str
        The English identifier used everywhere after loading.
    kind : Kind
        How the column is measured.
    minimum, maximum : float or None
        Allowed closed range for numeric columns (``None`` = unbounded).
    """

    source: str
    name: str
    kind: Kind
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True, slots=True)
class Table:
    """One of the four input tables."""

    name: str
    file: str
    columns: tuple[Column, ...]
    one_row_per_customer: bool

    @property
    def rename_map(self) -> dict[str, str]:
        """Raw column name → English identifier."""
        return {c.source: c.name for c in self.columns}

    def column(self, name: str) -> Column:
        """Return the column with English identifier ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


ID = Column("id", "id", Kind.ID, minimum=0)

MARKET_FILE = Table(
    name="market_file",
    file="market_file.csv",
    one_row_per_customer=True,
    columns=(
        ID,
        Column("Покупательская активность", "activity", Kind.TARGET),
        Column("Тип сервиса", "service_type", Kind.BINARY),
        Column("Разрешить сообщать", "allow_messages", Kind.BINARY),
        Column("Маркет_актив_6_мес", "marketing_6m", Kind.NUMERIC, 0, None),
        Column("Маркет_актив_тек_мес", "marketing_current", Kind.INTEGER, 0, None),
        Column("Длительность", "tenure_days", Kind.INTEGER, 0, None),
        Column("Акционные_покупки", "promo_share", Kind.NUMERIC, 0, 1),
        Column("Популярная_категория", "popular_category", Kind.CATEGORICAL),
        Column("Средний_просмотр_категорий_за_визит", "categories_per_visit", Kind.NUMERIC, 0, None),
        Column("Неоплаченные_продукты_штук_квартал", "unpaid_items", Kind.INTEGER, 0, None),
        Column("Ошибка_сервиса", "service_errors", Kind.INTEGER, 0, None),
        Column("Страниц_за_визит", "pages_per_visit", Kind.NUMERIC, 0, None),
    ),
)

MARKET_MONEY = Table(
    name="market_money",
    file="market_money.csv",
    one_row_per_customer=False,
    columns=(
        ID,
        Column("Период", "period", Kind.PERIOD),
        Column("Выручка", "revenue", Kind.NUMERIC, 0, None),
    ),
)

MARKET_TIME = Table(
    name="market_time",
    file="market_time.csv",
    one_row_per_customer=False,
    columns=(
        ID,
        Column("Период", "period", Kind.PERIOD),
        Column("минут", "minutes", Kind.NUMERIC, 0, None),
    ),
)

MONEY = Table(
    name="money",
    file="money.csv",
    one_row_per_customer=True,
    columns=(
        ID,
        Column("Прибыль", "profit", Kind.NUMERIC, None, None),
    ),
)

TABLES: tuple[Table, ...] = (MARKET_FILE, MARKET_MONEY, MARKET_TIME, MONEY)
TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}

#: Canonical period labels (raw) → suffix of the pivoted English column.
PERIOD_SUFFIX: dict[str, str] = {
    "препредыдущий_месяц": "prev2",
    "предыдущий_месяц": "prev",
    "текущий_месяц": "current",
}

#: Pivoted per-period features: name → (source table, value column, raw period label).
PERIOD_FEATURES: dict[str, tuple[str, str, str]] = {
    "revenue_prev2": ("market_money", "revenue", "препредыдущий_месяц"),
    "revenue_prev": ("market_money", "revenue", "предыдущий_месяц"),
    "revenue_current": ("market_money", "revenue", "текущий_месяц"),
    "minutes_prev": ("market_time", "minutes", "предыдущий_месяц"),
    "minutes_current": ("market_time", "minutes", "текущий_месяц"),
}

TARGET = "activity"
#: The positive class: activity declined.
POSITIVE_LABEL = "Снизилась"
NEGATIVE_LABEL = "Прежний уровень"

#: Feature columns of the merged one-row-per-customer frame, in report order.
NUMERIC_FEATURES: tuple[str, ...] = (
    "marketing_6m", "marketing_current", "tenure_days", "promo_share", "categories_per_visit",
    "unpaid_items", "service_errors", "pages_per_visit",
    *PERIOD_FEATURES,
)
BINARY_FEATURES: tuple[str, ...] = ("service_type", "allow_messages")
CATEGORICAL_FEATURES: tuple[str, ...] = ("popular_category",)
FEATURES: tuple[str, ...] = (*BINARY_FEATURES, *CATEGORICAL_FEATURES, *NUMERIC_FEATURES)
