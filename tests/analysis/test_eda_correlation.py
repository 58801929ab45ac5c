"""Effect sizes, interpretations and multicollinearity measures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.config import EdaConfig
from analysis.correlation import vif
from analysis.eda import bin_edges, chi2, mann_whitney
from report.format import fmt_number, fmt_percent


def test_rank_biserial_sign_and_size() -> None:
    cfg = EdaConfig()
    high, low = np.arange(10, 20, dtype=float), np.arange(0, 10, dtype=float)
    assert mann_whitney(high, low, cfg).effect_size == 1.0
    r = mann_whitney(low, high, cfg)
    assert r.effect_size == -1.0 and r.magnitude == "large" and r.significant


def test_cramers_v_bounds() -> None:
    cfg = EdaConfig()
    assert chi2(np.array([[50, 0], [0, 50]]), cfg).effect_size > 0.95
    assert chi2(np.array([[25, 25], [25, 25]]), cfg).effect_size == 0.0


def test_integer_features_get_integer_bins() -> None:
    edges = bin_edges(np.array([0, 1, 2, 3, 3, 5.0]), bins=20)
    assert edges[0] == -0.5 and edges[-1] == 5.5 and np.allclose(np.diff(edges), 1)


def test_vif_flags_collinear_columns() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=500)
    frame = pd.DataFrame({"a": a, "b": a + rng.normal(scale=0.05, size=500), "c": rng.normal(size=500)})
    values = vif(frame)
    assert values["a"] > 50 and values["b"] > 50 and values["c"] < 1.2


def test_correlation_result(results_sample) -> None:  # noqa: ANN001
    c = results_sample.correlation
    assert c.phik.labels[-1] == "target" and len(c.phik.values) == len(c.phik.labels)
    assert all(p.phik >= c.threshold for p in c.flagged_pairs)
    assert c.with_target[0].phik >= c.with_target[-1].phik
    assert c.significance is not None


def test_locale_formatting() -> None:
    assert fmt_number(1297, "ru") == "1\u00a0297" and fmt_number(1297, "en") == "1,297"
    assert fmt_number(0.9312, "ru", digits=2) == "0,93" and fmt_number(0.9312, "en", digits=2) == "0.93"
    assert fmt_percent(0.38, "ru") == "38\u00a0%" and fmt_percent(0.38, "en") == "38%"


def _samples(kind: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    values = {
        "whole": lambda: rng.integers(0, 12, n).astype(float),
        "one_decimal": lambda: np.round(rng.normal(4, 1, n), 1),
        "continuous": lambda: rng.normal(5000, 700, n),
        "signed_zeros": lambda: rng.choice([-0.0, 0.0, 1.0, 2.5], n),
        "constant": lambda: np.full(n, 3.0),
        "integers": lambda: rng.integers(-5, 5, n),
    }[kind]()
    declined = rng.random(n) < 0.38
    if kind == "whole":
        values = values + declined * (rng.random(n) < 0.2)  # a real difference, a tiny p-value
    return values[declined], values[~declined]


@pytest.mark.parametrize("kind", ["whole", "one_decimal", "continuous", "signed_zeros", "constant", "integers"])
@pytest.mark.parametrize("n", [12, 30, 5_000, 200_000])
def test_mann_whitney_u_is_scipys_to_the_last_bit(kind: str, n: int) -> None:
    from scipy import stats

    from analysis.eda import mann_whitney_u

    x, y = _samples(kind, n, seed=n)
    expected = stats.mannwhitneyu(x, y, alternative="two-sided")
    assert mann_whitney_u(x, y) == (float(expected.statistic), float(expected.pvalue))


def test_mann_whitney_u_small_samples_and_nan_go_to_scipy() -> None:
    from scipy import stats

    from analysis.eda import mann_whitney_u

    x, y = np.array([1.0, 2.0, 3.5]), np.arange(20, dtype=float)
    expected = stats.mannwhitneyu(x, y, alternative="two-sided")  # the exact distribution
    assert mann_whitney_u(x, y) == (float(expected.statistic), float(expected.pvalue))
    with_nan = np.array([np.nan, *range(20)])
    expected = stats.mannwhitneyu(with_nan, y, alternative="two-sided")  # scipy's NaN policy: NaN
    assert np.isnan(expected.pvalue)
    assert np.array_equal(mann_whitney_u(with_nan, y), (expected.statistic, expected.pvalue), equal_nan=True)
