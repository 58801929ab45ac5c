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

import pandas as pd

from analysis.actions import ACTION_RULES, PROBABILITY
from report.env import make_filters
from report.i18n import catalogue

__all__ = ["CRM_COLUMNS", "actions_csv_frame", "write_actions_csv"]

#: Columns of ``actions.csv``, in order.
CRM_COLUMNS: tuple[str, ...] = ("id", "segment", "action", "channel", "group", "expected_value", "reason")

def _format(template: str, **params: str | pd.Series) -> pd.Series | str:
    """``template.format(**params)`` where a parameter may be a Series (element-wise)."""
    out: pd.Series | str = ""
    for literal, field, _, _ in Formatter().parse(template):
        out = out + literal
        if field is not None:
            out = out + params[field]
    return out


def _mapped(values: pd.Series, fmt: Callable[[float], str]) -> pd.Series:  # fmt: a formatting filter
    unique = pd.unique(values.dropna())
    return values.map({v: fmt(float(v)) for v in unique})


def actions_csv_frame(table: pd.DataFrame, *, lang: str, money_unit: str, risk_threshold: float) -> pd.DataFrame:
    """The rows of ``actions.csv``: ``table`` (the analysis' action rows) with a worded ``reason``."""
    messages = catalogue(lang)

    def t(key: str) -> str:  # the raw message: its placeholders are filled per row below
        return str(messages[key])

    f = make_filters(lang, money_unit=money_unit)
    reason = pd.Series("", index=table.index, dtype=object)
    for rule in ACTION_RULES:
        rows = table["action"] == rule.key
        if not rows.any():
            continue
        part = table[rows]
        numeric = [c for c in rule.conditions if c.level is None and c.feature != PROBABILITY]
        if numeric:
            pieces = []
            for i, cond in enumerate(numeric[:2], start=1):
                fmt = f["pct"] if cond.share else f["auto"]
                label = f["feature_label"](cond.feature)
                pieces.append(_format(t("reason.feature"), label=label if i == 1 else label[:1].lower() + label[1:],
                                      value=_mapped(part[f"value_{i}"], fmt),
                                      reference=_mapped(part[f"reference_{i}"], fmt)))
            text = pieces[0]
            for piece in pieces[1:]:
                text = text + t("reason.join") + piece
        elif any(c.level is not None for c in rule.conditions):  # a category (premium service)
            text = _format(t("reason.premium"), p=_mapped(part["probability"], f["pct"]))
        else:
            text = _format(t("reason.low_risk"), p=_mapped(part["probability"], f["pct"]),
                           threshold=f["pct"](risk_threshold))
        reason[rows] = text
    out = table.loc[:, ["id", "segment", "action", "channel", "group", "expected_value"]].copy()
    out["reason"] = reason
    return out


def write_actions_csv(table: pd.DataFrame, path: Path, *, lang: str, money_unit: str, risk_threshold: float) -> None:
    """Write ``actions.csv``: UTF-8, LF, a header row, fields quoted only where needed (Arrow's writer:
    2.4 s → 0.2 s for 620 000 rows against pandas' ``to_csv``)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    frame = actions_csv_frame(table, lang=lang, money_unit=money_unit, risk_threshold=risk_threshold)
    arrow = pa.Table.from_pandas(frame.astype({c: str for c in CRM_COLUMNS if c not in ("id", "expected_value")}),
                                 preserve_index=False)
    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    with pa.OSFile(str(path), "wb") as sink:
        sink.write((",".join(CRM_COLUMNS) + "\n").encode("utf-8"))
        pa_csv.write_csv(arrow, sink, write_options=options)
