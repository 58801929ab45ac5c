"""The CRM file: ``actions.csv``, one row per customer and action, worded in the report's language.

The analysis computes the rows (:data:`analysis.actions.ACTION_COLUMNS`: the customer's own
values and the references they are compared with); this module only words the ``reason`` from the
catalogue and writes the file. Formatting is vectorised: every distinct number is formatted once.

Columns: ``id``, ``segment``, ``action``, ``channel`` (``contact``: e-mail, SMS or a call, which
needs consent; ``site``), ``group`` (``treatment`` or ``control``), ``expected_value`` (the
customer's probability × profit × save rate − cost, in the money unit per month) and ``reason``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from string import Formatter
from typing import TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.actions import ACTION_RULES, PROBABILITY
from report.env import make_filters
from report.i18n import catalogue

__all__ = ["CRM_COLUMNS", "actions_csv_frame", "actions_csv_table", "write_actions_csv"]

#: Columns of ``actions.csv``, in order.
CRM_COLUMNS: tuple[str, ...] = ("id", "segment", "action", "channel", "group", "expected_value", "reason")

_Piece: TypeAlias = "str | pa.Array"  # a literal, or one string per row


def _format(template: str, **params: _Piece) -> list[_Piece]:
    """The pieces of ``template.format(**params)``, where a parameter may be an array (per row)."""
    out: list[_Piece] = []
    for literal, field, _, _ in Formatter().parse(template):
        if literal:
            out.append(literal)
        if field is not None:
            out.append(params[field])
    return out


def _mapped(values: np.ndarray, fmt: Callable[[float], str]) -> pa.Array:  # fmt: a formatting filter
    """``fmt`` of every value (each distinct value formatted once; nulls where a value is missing)."""
    codes, unique = pd.factorize(values)
    words = pa.array([fmt(float(v)) for v in unique], type=pa.string())
    return words.take(pa.array(codes, mask=codes < 0))


def _joined(pieces: list[_Piece], n: int) -> pa.Array:
    """The pieces concatenated row by row (a literal repeats on every row)."""
    arrays = [piece if isinstance(piece, pa.Array) else pa.scalar(piece) for piece in pieces]
    if not any(isinstance(piece, pa.Array) for piece in pieces):
        return pa.array(["".join(str(piece) for piece in pieces)] * n, type=pa.string())
    return pc.binary_join_element_wise(*arrays, "")


def _reasons(table: pd.DataFrame, *, lang: str, money_unit: str, risk_threshold: float) -> pa.Array:
    """The worded ``reason`` of every row of ``table``, in its order."""
    messages = catalogue(lang)

    def t(key: str) -> str:  # the raw message: its placeholders are filled per row below
        return str(messages[key])

    f = make_filters(lang, money_unit=money_unit)
    action = pd.Categorical(table["action"], categories=[r.key for r in ACTION_RULES]).codes
    chunks: list[pa.Array] = []
    positions: list[np.ndarray] = []
    for code, rule in enumerate(ACTION_RULES):
        rows = np.flatnonzero(action == code)
        if not rows.size:
            continue
        numeric = [c for c in rule.conditions if c.level is None and c.feature != PROBABILITY]
        pieces: list[_Piece]
        if numeric:
            pieces = []
            for i, cond in enumerate(numeric[:2], start=1):
                fmt = f["pct"] if cond.share else f["auto"]
                label = f["feature_label"](cond.feature)
                if i > 1:
                    pieces.append(t("reason.join"))
                pieces += _format(t("reason.feature"), label=label if i == 1 else label[:1].lower() + label[1:],
                                  value=_mapped(table[f"value_{i}"].to_numpy()[rows], fmt),
                                  reference=_mapped(table[f"reference_{i}"].to_numpy()[rows], fmt))
        elif any(c.level is not None for c in rule.conditions):  # a category (premium service)
            pieces = _format(t("reason.premium"), p=_mapped(table["probability"].to_numpy()[rows], f["pct"]))
        else:
            pieces = _format(t("reason.low_risk"), p=_mapped(table["probability"].to_numpy()[rows], f["pct"]),
                             threshold=f["pct"](risk_threshold))
        chunks.append(_joined(pieces, rows.size))
        positions.append(rows)
    rest = np.flatnonzero(action < 0)  # not an action of the rules: no reason
    chunks.append(pa.array([""] * rest.size, type=pa.string()))
    positions.append(rest)
    order = np.concatenate(positions)
    inverse = np.empty(order.size, dtype=np.int64)
    inverse[order] = np.arange(order.size)
    return pa.concat_arrays([chunk.cast(pa.string()) for chunk in chunks]).take(pa.array(inverse))


def actions_csv_table(table: pd.DataFrame, *, lang: str, money_unit: str, risk_threshold: float) -> pa.Table:
    """The rows of ``actions.csv`` (:data:`CRM_COLUMNS`) as an Arrow table: ``table`` (the analysis'
    action rows) with a worded ``reason``. Text columns stay dictionary-encoded where they are
    categoricals; nothing is formatted per row in Python."""
    columns = {name: pa.Array.from_pandas(table[name]) for name in CRM_COLUMNS[:-1]}
    columns["reason"] = _reasons(table, lang=lang, money_unit=money_unit, risk_threshold=risk_threshold)
    return pa.table(columns)


def actions_csv_frame(table: pd.DataFrame, *, lang: str, money_unit: str, risk_threshold: float) -> pd.DataFrame:
    """The rows of ``actions.csv`` as a pandas frame (:func:`actions_csv_table`)."""
    return actions_csv_table(table, lang=lang, money_unit=money_unit, risk_threshold=risk_threshold).to_pandas()


def write_actions_csv(table: pd.DataFrame, path: Path, *, lang: str, money_unit: str, risk_threshold: float) -> None:
    """Write ``actions.csv``: UTF-8, LF, a header row, text fields quoted (Arrow's writer: 2.4 s →
    0.2 s for 620 000 rows against pandas' ``to_csv``; the reasons joined by Arrow too: 1.7 s →
    0.5 s for the 780 000 rows of a million customers, measured)."""
    import pyarrow.csv as pa_csv

    arrow = actions_csv_table(table, lang=lang, money_unit=money_unit, risk_threshold=risk_threshold)
    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    with pa.OSFile(str(path), "wb") as sink:
        sink.write((",".join(CRM_COLUMNS) + "\n").encode("utf-8"))
        pa_csv.write_csv(arrow, sink, write_options=options)
