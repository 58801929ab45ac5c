"""The sentences the report writes from the results (report.texts) and the general rules of its
wording: one effect-size vocabulary, no sign on a number that prints as zero or on Cramér's V, a
two-valued feature compared rather than ranked, one precision for numbers printed together."""

from __future__ import annotations

import re

import pytest

from analysis.results import CategoricalEda, CategoryCount, ClassStats, NumericEda, Results
from analysis.results import TestResult as _TestResult
from report.env import make_filters
from report.i18n import LANGS, catalogue
from report.texts import column_digits, eda_finding, eda_sentence

#: Words of another effect-size scale than the catalogue's «magnitude.*» (малый/умеренный/большой).
FOREIGN_EFFECT_WORDS = re.compile(r"\b(слаб\w*|сильн\w*|несуществ\w*|weak|strong)\b", re.IGNORECASE)


def _test(effect: float, p: float, magnitude: str, *, name: str = "rank_biserial") -> _TestResult:
    return _TestResult(test="mann_whitney_u" if name == "rank_biserial" else "chi2", statistic=1.0, p_value=p,
                      effect_name=name, effect_size=effect, magnitude=magnitude, significant=p < 0.05)  # type: ignore[arg-type]


def _stats(mean: float) -> ClassStats:
    return ClassStats(n=10, mean=mean, std=1.0, min=0.0, q1=1.0, median=mean, q3=3.0, max=4.0,
                      whislo=0.0, whishi=4.0, fliers=())


def _numeric(d: float, s: float, test: _TestResult) -> NumericEda:
    return NumericEda(feature="pages_per_visit", declined=_stats(d), stable=_stats(s), bin_edges=(0.0, 1.0),
                      counts_declined=(1,), counts_stable=(1,), test=test)


def test_numeric_sentence_gives_means_in_one_precision_and_the_direction() -> None:
    text = eda_sentence(_numeric(4.0, 3.1, _test(0.45, 0.0001, "medium")), lang="ru")
    assert "4,00" in text and "3,10" in text, text  # not «4» beside «3,10»
    assert "значения выше, эффект умеренный" in text
    en = eda_sentence(_numeric(3.57, 4.4, _test(-0.65, 0.0001, "large")), lang="en")
    assert "3.57" in en and "4.40" in en and "lower values, a large effect" in en


def test_significant_but_negligible_is_not_called_immaterial() -> None:
    """«связь несущественна… p = 0,002» contradicted itself: a significant, negligible effect says both."""
    test = _test(0.09, 0.002, "negligible", name="cramers_v")
    assert eda_finding(test, lang="ru") == "различие статистически значимо, но эффект пренебрежимо малый"
    assert eda_finding(_test(0.01, 0.8, "negligible"), lang="ru") == "различие статистически незначимо"


def test_two_valued_feature_is_compared_not_ranked() -> None:
    levels = (CategoryCount(level="премиум", declined=168, stable=206),
              CategoryCount(level="стандарт", declined=326, stable=596))
    item = CategoricalEda(feature="service_type", levels=levels,
                          test=_test(0.09, 0.002, "negligible", name="cramers_v"))
    ru = eda_sentence(item, lang="ru")
    assert "всего" not in ru and "«премиум» — 45\u00a0%" in ru and "«стандарт» — 35\u00a0%" in ru, ru
    en = eda_sentence(item, lang="en")
    assert "highest" not in en and "“premium”" in en and "“standard”" in en, en
    three = CategoricalEda(feature="popular_category", levels=(*levels, CategoryCount(level="x", declined=1, stable=9)),
                           test=item.test)
    assert "выше всего у «премиум»" in eda_sentence(three, lang="ru")


def test_no_sign_on_zero_or_on_cramers_v() -> None:
    f = make_filters("ru")
    assert f["signed"](-0.001, 2) == "0,00" and f["signed"](0.004, 2) == "0,00"
    assert f["signed"](-0.5, 2) == "\u22120,50" and f["signed"](0.5, 2) == "+0,50"


def test_column_digits() -> None:
    assert column_digits([4.0, 3.1]) == 2
    assert column_digits([4.0, 5.0, 1.0]) == 0
    assert column_digits([10.9, 14.6]) == 1
    assert column_digits([4972.3, 4933.1]) == 0
    assert column_digits([4972.3, 0.24]) == 2


@pytest.mark.parametrize("lang", LANGS)
def test_one_effect_size_vocabulary_in_the_catalogue(lang: str) -> None:
    """Effect sizes are named by «magnitude.*» only; no message uses a second scale."""
    for key, message in catalogue(lang).items():
        texts = (message,) if isinstance(message, str) else tuple(message.values())
        for text in texts:
            assert not FOREIGN_EFFECT_WORDS.search(text), (key, text)


@pytest.mark.parametrize("lang", LANGS)
def test_every_sentence_of_the_sample_uses_the_vocabulary(results_sample: Results, lang: str) -> None:
    words = {catalogue(lang)[f"magnitude.{m}"] for m in ("negligible", "small", "medium", "large")}
    for item in (*results_sample.eda.numeric, *results_sample.eda.categorical):
        text = eda_sentence(item, lang=lang)
        assert not FOREIGN_EFFECT_WORDS.search(text), text
        if item.test.significant:
            assert any(w in text for w in words), text
