"""actions.csv's reasons: each row worded from the catalogue with that row's own numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.actions import ACTION_COLUMNS, ACTION_RULES
from report.crm import CRM_COLUMNS, actions_csv_frame, write_actions_csv
from report.env import make_filters


def _table() -> pd.DataFrame:
    """Rows of several actions, interleaved by customer as the analysis sorts them."""
    keys = [r.key for r in ACTION_RULES]
    action = ["promo_cart", "fix_service", "keep_and_grow", "promo_cart", "premium_trial", "personalised_home"]
    n = len(action)
    return pd.DataFrame({
        "id": [1, 1, 2, 3, 3, 4], "segment": pd.Categorical(["retain_profitable"] * n),
        "action": pd.Categorical(action, categories=keys), "channel": pd.Categorical(["site"] * n),
        "group": pd.Categorical(["treatment", "control"] * 3), "expected_value": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
        "probability": [0.81, 0.81, 0.2345, 0.66, 0.66, 0.9], "profit": 4.0, "cost": 0.1, "save_rate": 0.1,
        "value_1": [0.75, 7.0, np.nan, 0.9, np.nan, 3.0], "reference_1": [0.3, 4.0, np.nan, 0.3, np.nan, 8.25],
        "value_2": [5.0, np.nan, np.nan, 6.0, np.nan, np.nan],
        "reference_2": [3.0, np.nan, np.nan, 3.0, np.nan, np.nan],
    })[list(ACTION_COLUMNS)]


def test_every_row_is_worded_with_its_own_numbers() -> None:
    table = _table()
    frame = actions_csv_frame(table, lang="en", money_unit="unit", risk_threshold=0.5)
    f = make_filters("en")
    promo = f["feature_label"]("promo_share"), f["feature_label"]("unpaid_items")
    expected = [
        f"{promo[0]}: 75% vs 30% on average; {promo[1][:1].lower() + promo[1][1:]}: 5 vs 3 on average",
        f"{f['feature_label']('service_errors')}: 7 vs 4 on average",
        "Probability of decline 23%, below the threshold 50%",
        f"{promo[0]}: 90% vs 30% on average; {promo[1][:1].lower() + promo[1][1:]}: 6 vs 3 on average",
        "Premium service, probability of decline 66%",
        f"{f['feature_label']('pages_per_visit')}: 3 vs 8.25 on average",
    ]
    assert list(frame.columns) == list(CRM_COLUMNS)
    assert frame["reason"].tolist() == expected
    assert frame["id"].tolist() == table["id"].tolist()


def test_actions_csv_quotes_text_and_keeps_the_row_order(tmp_path: Path) -> None:
    table = _table()
    write_actions_csv(table, tmp_path / "actions.csv", lang="ru", money_unit="unit", risk_threshold=0.5)
    lines = (tmp_path / "actions.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(CRM_COLUMNS)
    reason = "Вероятность снижения 23\u00a0% — ниже порога 50\u00a0%"
    assert lines[3] == f'2,"retain_profitable","keep_and_grow","site","treatment",0.3,"{reason}"'
    assert len(lines) == len(table) + 1
