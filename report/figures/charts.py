"""Every chart of the report, drawn from the precomputed :class:`analysis.results.Results`.

"Compute once, plot many times": the analysis layer computed every number; each function
here takes the part of :class:`~analysis.results.Results` it needs plus ``lang`` (``"ru"`` or
``"en"``) and returns a :class:`~matplotlib.figure.Figure` built with
:func:`report.figures.style.figure` (object-oriented, no pyplot state).  Figures never fit,
test or estimate anything; the only arithmetic is what drawing needs (shares of a bin,
cumulative sums of a waterfall, the jitter of a beeswarm).

One function per chart *kind* — :func:`numeric_feature_figure` and
:func:`categorical_feature_figure` serve every feature — and one entry point,
:func:`build_figures`, which draws the whole set for one language and serialises it into
:class:`FigureAsset` objects (SVG for simple charts; the dense beeswarm and segment scatter keep
their axes and text as vector and their point layers as one embedded raster image each, so
that WeasyPrint renders them quickly).

Every number written on a chart or into an alt text is formatted for the language with
:mod:`analysis.textfmt` (decimal comma and no-break-space thousands in Russian).
"""

from __future__ import annotations

import base64
import math
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.cm import ScalarMappable
from matplotlib import colors as mcolors
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import Formatter, MaxNLocator, ScalarFormatter

from analysis.results import (
    CategoricalEda,
    ClassStats,
    CorrelationResult,
    CustomerExplanation,
    ImportanceResult,
    ModelResult,
    NumericEda,
    Results,
    Segment,
    SegmentsResult,
    TestResult,
)
from analysis.schema import feature_label
from analysis.textfmt import NBSP, fmt_number, fmt_p_value, fmt_percent
from report.figures import style
from report.figures.ishikawa import draw_ishikawa

__all__ = [
    "BEESWARM_CMAP",
    "CLASS_LABELS",
    "EFFECT_LABELS",
    "GROUP_TITLES",
    "FigureAsset",
    "build_figures",
    "calibration_figure",
    "categorical_feature_figure",
    "confusion_figure",
    "ishikawa_figure",
    "level_label",
    "model_comparison_figure",
    "numeric_feature_figure",
    "phik_heatmap",
    "roc_figure",
    "segment_color",
    "segment_profile_figure",
    "segments_scatter",
    "shap_bar",
    "shap_beeswarm",
    "shap_segments",
    "shap_waterfall",
]

LANGS: Final[tuple[str, ...]] = ("ru", "en")

# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------

#: The two target classes: «declined» (positive) and «same level».
CLASS_LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "declined": {"ru": "Снизилась", "en": "Declined"},
    "stable": {"ru": "Прежний уровень", "en": "Same level"},
}
#: The effect at the head of the Ishikawa diagram.
EFFECT_LABELS: Final[Mapping[str, str]] = {
    "ru": "Снижение покупательской активности",
    "en": "Decline in purchasing activity",
}
#: Titles of the feature groups (keys of ``results.data.groups``), in diagram order.
GROUP_TITLES: Final[Mapping[str, Mapping[str, str]]] = {
    "communication": {"ru": "Коммуникация с клиентом", "en": "Communication with the customer"},
    "product": {"ru": "Продуктовое поведение", "en": "Product behaviour"},
    "purchasing": {"ru": "Покупательское поведение", "en": "Purchasing behaviour"},
    "site": {"ru": "Поведение на сайте", "en": "Site behaviour"},
}
#: English names of the canonical levels of the categorical columns (the data are Russian).
LEVEL_LABELS_EN: Final[Mapping[str, str]] = {
    "стандарт": "standard",
    "премиум": "premium",
    "да": "yes",
    "нет": "no",
    "Товары для детей": "Children's goods",
    "Домашний текстиль": "Home textiles",
    "Косметика и аксессуары": "Cosmetics and accessories",
    "Техника для красоты и здоровья": "Beauty and health appliances",
    "Мелкая бытовая техника и электроника": "Small appliances and electronics",
    "Кухонная посуда": "Kitchenware",
}
#: Candidate model families, as management reads them.
FAMILY_LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "knn": {"ru": "k ближайших соседей", "en": "k nearest neighbours"},
    "decision_tree": {"ru": "Дерево решений", "en": "Decision tree"},
    "logistic_regression": {"ru": "Логистическая регрессия", "en": "Logistic regression"},
    "svc": {"ru": "Метод опорных векторов", "en": "Support vector machine"},
    "extra_trees": {"ru": "Случайные деревья (Extra Trees)", "en": "Extra trees"},
    "random_forest": {"ru": "Случайный лес", "en": "Random forest"},
    "hist_gradient_boosting": {"ru": "Градиентный бустинг", "en": "Gradient boosting"},
    "lightgbm": {"ru": "LightGBM", "en": "LightGBM"},
}
_MAGNITUDE: Final[Mapping[str, Mapping[str, str]]] = {
    "negligible": {"ru": "различие несущественно", "en": "negligible difference"},
    "small": {"ru": "слабое различие", "en": "small difference"},
    "medium": {"ru": "умеренное различие", "en": "medium difference"},
    "large": {"ru": "сильное различие", "en": "large difference"},
}
_EFFECT_SYMBOL: Final[Mapping[str, str]] = {"rank_biserial": "r", "cramers_v": "V"}
#: What one SHAP unit means, by ``ImportanceResult.output``.
_SHAP_UNIT: Final[Mapping[str, Mapping[str, str]]] = {
    "probability": {"ru": "вероятность снижения", "en": "probability of decline"},
    "log_odds": {"ru": "логарифм шансов снижения", "en": "log-odds of decline"},
    "decision_function": {"ru": "оценку модели", "en": "model score"},
}

_TEXT: Final[Mapping[str, Mapping[str, str]]] = {
    "class_share": {"ru": "Доля клиентов класса", "en": "Share of the class"},
    "declined_share": {"ru": "Доля клиентов со сниженной активностью",
                       "en": "Share of customers whose activity declined"},
    "average": {"ru": "в среднем", "en": "overall"},
    "target": {"ru": "Целевой признак", "en": "Target"},
    "phik_title": {"ru": "Связь признаков: коэффициент φK", "en": "Association between features: φK"},
    "phik_cbar": {"ru": "φK (0 — нет связи, 1 — полная)", "en": "φK (0 no association, 1 full)"},
    "phik_flagged": {"ru": "рамка: пара с φK ≥ {t} (мультиколлинеарность)",
                     "en": "outlined: pair with φK ≥ {t} (multicollinearity)"},
    "customers": {"ru": "клиентов", "en": "customers"},
    "model_title": {"ru": "Сравнение моделей на кросс-валидации",
                    "en": "Candidate models compared by cross-validation"},
    "model_x": {"ru": "ROC-AUC (среднее ± стандартное отклонение)", "en": "ROC-AUC (mean ± standard deviation)"},
    "selected": {"ru": "выбрана", "en": "selected"},
    "skipped": {"ru": "пропущена", "en": "skipped"},
    "chance": {"ru": "случайное угадывание", "en": "chance level"},
    "roc_title": {"ru": "ROC-кривая (тестовая выборка)", "en": "ROC curve (test set)"},
    "pr_title": {"ru": "Точность и полнота (тестовая выборка)", "en": "Precision–recall (test set)"},
    "fpr": {"ru": "Доля ложных тревог (FPR)", "en": "False positive rate"},
    "tpr": {"ru": "Полнота (TPR)", "en": "Recall (true positive rate)"},
    "recall": {"ru": "Полнота", "en": "Recall"},
    "precision": {"ru": "Точность", "en": "Precision"},
    "threshold_point": {"ru": "порог {t}", "en": "threshold {t}"},
    "prevalence": {"ru": "доля класса {p}", "en": "prevalence {p}"},
    "ci": {"ru": "95 % ДИ", "en": "95% CI"},
    "cal_title": {"ru": "Калибровка вероятностей (тестовая выборка)",
                  "en": "Calibration of probabilities (test set)"},
    "cal_x": {"ru": "Предсказанная вероятность снижения", "en": "Predicted probability of decline"},
    "cal_y": {"ru": "Фактическая доля снизивших активность", "en": "Observed share declined"},
    "cal_ideal": {"ru": "идеальная калибровка", "en": "perfect calibration"},
    "cal_points": {"ru": "группы клиентов (размер — число клиентов)",
                   "en": "groups of customers (size = number of customers)"},
    "conf_title": {"ru": "Матрица ошибок при пороге {t}", "en": "Confusion matrix at threshold {t}"},
    "actual": {"ru": "Фактически", "en": "Actual"},
    "predicted": {"ru": "Прогноз", "en": "Predicted"},
    "of_class": {"ru": "класса", "en": "of class"},
    "shap_title": {"ru": "Важность признаков", "en": "Feature importance"},
    "shap_mean_abs": {"ru": "Средний |SHAP| (вклад в {u})", "en": "Mean |SHAP| (effect on {u})"},
    "perm_title": {"ru": "Перестановочная важность", "en": "Permutation importance"},
    "perm_x": {"ru": "Снижение ROC-AUC при перемешивании", "en": "Drop in ROC-AUC when shuffled"},
    "bee_title": {"ru": "Как значения признаков влияют на прогноз (SHAP)",
                  "en": "How feature values drive the prediction (SHAP)"},
    "bee_x": {"ru": "SHAP-вклад в {u}", "en": "SHAP contribution to the {u}"},
    "bee_value": {"ru": "Значение признака", "en": "Feature value"},
    "low": {"ru": "низкое", "en": "low"},
    "high": {"ru": "высокое", "en": "high"},
    "bee_grey": {"ru": "серые точки — категориальный признак", "en": "grey: categorical feature"},
    "seg_shap_title": {"ru": "Средний SHAP-вклад по сегментам", "en": "Mean SHAP contribution by segment"},
    "seg_shap_cbar": {"ru": "> 0 повышает риск снижения, < 0 понижает",
                      "en": "> 0 raises the risk of decline, < 0 lowers it"},
    "wf_title": {"ru": "Клиент {id}: почему такой прогноз", "en": "Customer {id}: why this prediction"},
    "wf_base": {"ru": "средний прогноз", "en": "average prediction"},
    "wf_end": {"ru": "после {k} главных признаков", "en": "after the top {k} features"},
    "wf_probability": {"ru": "вероятность снижения {p}", "en": "probability of decline {p}"},
    "scatter_title": {"ru": "Сегменты: вероятность снижения × прибыль",
                      "en": "Segments: probability of decline × profit"},
    "scatter_x": {"ru": "Вероятность снижения активности", "en": "Probability of declining activity"},
    "prob_threshold": {"ru": "порог вероятности {t}", "en": "probability threshold {t}"},
    "profit_threshold": {"ru": "порог прибыли {t}", "en": "profit threshold {t}"},
    "sampled": {"ru": "показано {n} из {m} клиентов (случайная выборка)",
                "en": "{n} of {m} customers shown (random sample)"},
    "profile_x": {"ru": "Стандартизованная разница с остальными клиентами",
                  "en": "Standardised difference from the other customers"},
    "versus": {"ru": "{a} против {b}", "en": "{a} vs {b}"},
    "mean_probability": {"ru": "средняя вероятность снижения", "en": "mean probability of decline"},
}


def _t(key: str, lang: str, **kwargs: object) -> str:
    text = _TEXT[key][lang]
    return text.format(**kwargs) if kwargs else text


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")


def _class(name: str, lang: str) -> str:
    return CLASS_LABELS[name][lang]


def level_label(level: str, lang: str) -> str:
    """The label of a categorical level in ``lang`` (the data hold the Russian values)."""
    if lang == "ru":
        return level
    return LEVEL_LABELS_EN.get(level, level)


def _target_aware_label(name: str, lang: str) -> str:
    if name in ("target", "activity"):
        return _t("target", lang)
    return feature_label(name, lang)


def _wrap(text: str, width: int) -> str:
    return textwrap.fill(text, width=width, break_long_words=False, break_on_hyphens=False)


def _num(value: float | int | None, lang: str, digits: int = 2) -> str:
    return fmt_number(value, lang, digits=digits)


def _signed(value: float, lang: str, digits: int = 2) -> str:
    text = fmt_number(abs(value), lang, digits=digits)
    if round(value, digits) == 0:
        return text
    return ("+" if value > 0 else "−") + text


def _quote(text: str, lang: str) -> str:
    return f"«{text}»" if lang == "ru" else f"“{text}”"


def _count(n: int, lang: str) -> str:
    return fmt_number(n, lang)


def _value_text(raw: str, lang: str) -> str:
    """A customer's feature value (stored as text) formatted for ``lang``."""
    try:
        number = float(raw)
    except ValueError:
        return level_label(raw, lang)
    if not math.isfinite(number):
        return "—"
    if number.is_integer():
        return fmt_number(number, lang, digits=0)
    decimals = len(raw.split(".")[1]) if "." in raw else 2
    return fmt_number(number, lang, digits=min(max(decimals, 1), 2))


def _effect_note(test: TestResult, lang: str) -> str:
    symbol = _EFFECT_SYMBOL.get(test.effect_name, test.effect_name)
    p = fmt_p_value(test.p_value, lang)
    p_text = f"p{NBSP}{p}" if p.startswith("<") else f"p{NBSP}={NBSP}{p}"
    return (f"{symbol}{NBSP}={NBSP}{_signed(test.effect_size, lang)} · {p_text} · "
            f"{_MAGNITUDE[test.magnitude][lang]}")


# --------------------------------------------------------------------------------------------
# Axis formatting
# --------------------------------------------------------------------------------------------


class _LocaleFormatter(ScalarFormatter):
    """Tick labels with the locale's decimal mark and thousands separator, never an offset."""

    def __init__(self, lang: str) -> None:
        super().__init__(useOffset=False, useMathText=False)
        self.set_scientific(False)
        self._lang = lang

    def __call__(self, x: float, pos: int | None = None) -> str:
        text = super().__call__(x, pos).replace("\u2212", "-")
        if not text:
            return text
        try:
            value = float(text)
        except ValueError:
            return text
        digits = len(text.split(".")[1]) if "." in text else 0
        return fmt_number(value, self._lang, digits=digits).replace("-", "\u2212")


class _PercentFormatter(Formatter):
    """Shares in [0, 1] as percentages, with as many decimals as the tick step needs."""

    def __init__(self, lang: str) -> None:
        self._lang = lang
        self._digits = 0

    def set_locs(self, locs: Sequence[float]) -> None:
        super().set_locs(locs)
        steps = np.diff(np.sort(np.asarray(locs, dtype=float))) * 100
        steps = steps[steps > 1e-9]
        step = float(steps.min()) if steps.size else 10.0
        self._digits = int(min(2, max(0, -math.floor(math.log10(step) + 1e-9))))

    def __call__(self, x: float, pos: int | None = None) -> str:
        return fmt_percent(x, self._lang, digits=self._digits)


def _locale_axis(axis: Axis, lang: str, *, percent: bool = False) -> None:
    axis.set_major_formatter(_PercentFormatter(lang) if percent else _LocaleFormatter(lang))


def _title(ax: Axes, title: str, note: str | None = None) -> None:
    ax.set_title(title, loc="left")
    if note:
        ax.set_title(note, loc="right", fontsize=style.FONT_SIZES["annotation"],
                     fontweight="normal", color=style.TEXT_MUTED)


def _note(fig: Figure, text: str) -> None:
    """A muted one-line note under the figure's title."""
    fig.text(0.01, 0.005, text, ha="left", va="bottom", fontsize=style.FONT_SIZES["annotation"],
             color=style.TEXT_MUTED)


def _hide_grid(ax: Axes, axis: str) -> None:
    ax.grid(False, axis=axis)


def _annotation_size() -> float:
    return style.FONT_SIZES["annotation"]


# --------------------------------------------------------------------------------------------
# Segment colours
# --------------------------------------------------------------------------------------------

_SEGMENT_COLORS: Final[Mapping[tuple[str, str], str]] = {
    ("high", "high"): style.DECLINED,  # at risk and profitable: the priority
    ("high", "low"): style.ACCENT,
    ("low", "high"): style.STABLE,
    ("low", "low"): style.OKABE_ITO["bluish_green"],
}


def segment_color(segment: Segment) -> str:
    """The colour of a segment on every chart, from its rule (risk × value)."""
    return _SEGMENT_COLORS.get((segment.rule.risk, segment.rule.value), style.NEUTRAL)


# --------------------------------------------------------------------------------------------
# 1. EDA
# --------------------------------------------------------------------------------------------


def _bxp_stats(stats: ClassStats, label: str) -> dict[str, object]:
    return {
        "med": stats.median,
        "q1": stats.q1,
        "q3": stats.q3,
        "whislo": stats.whislo,
        "whishi": stats.whishi,
        "mean": stats.mean,
        "fliers": np.asarray(stats.fliers, dtype=float),
        "label": label,
    }


def numeric_feature_figure(item: NumericEda, *, lang: str) -> Figure:
    """Distribution of one numeric feature in both classes: histogram and box plots.

    The histogram shows each class's share per bin (the classes differ in size); few bins are
    drawn side by side, many as overlaid steps.  The box plots below share the x axis and are
    drawn from the precomputed quartiles, whiskers, fliers and means.
    """
    _check_lang(lang)
    edges = np.asarray(item.bin_edges, dtype=float)
    counts = {
        "declined": np.asarray(item.counts_declined, dtype=float),
        "stable": np.asarray(item.counts_stable, dtype=float),
    }
    stats = {"declined": item.declined, "stable": item.stable}
    colors = {"declined": style.DECLINED, "stable": style.STABLE}
    label = feature_label(item.feature, lang)

    with style.context():
        fig, (ax_h, ax_b) = style.figure(
            width_cm=16, height_cm=7.2, nrows=2, sharex=True,
            gridspec_kw={"height_ratios": [3.0, 1.35]},
        )
        n_bins = len(edges) - 1
        handles = []
        if n_bins <= 12:
            widths = np.diff(edges)
            centers = edges[:-1] + widths / 2
            bar_w = widths * 0.4
            for offset, name in ((-0.5, "declined"), (0.5, "stable")):
                share = counts[name] / max(counts[name].sum(), 1.0)
                ax_h.bar(centers + offset * bar_w, share, width=bar_w, color=colors[name],
                         edgecolor="white", linewidth=0.4, zorder=2)
                handles.append(Patch(color=colors[name]))
            if n_bins <= 8 and np.allclose(widths, 1.0):
                ax_h.set_xticks(centers)
        else:
            for name in ("stable", "declined"):
                share = counts[name] / max(counts[name].sum(), 1.0)
                ax_h.stairs(share, edges, fill=True, color=colors[name], alpha=0.18, linewidth=0, zorder=2)
                ax_h.stairs(share, edges, color=colors[name], linewidth=1.4, zorder=3)
            handles = [Patch(facecolor=style.tint(colors[n], amount=0.3), edgecolor=colors[n], linewidth=1.2)
                       for n in ("declined", "stable")]
        legend_labels = [f"{_class(n, lang)} (n{NBSP}={NBSP}{_count(stats[n].n, lang)})"
                         for n in ("declined", "stable")]
        ax_h.legend(handles, legend_labels, loc="upper right", ncols=1)
        ax_h.set_ylabel(_t("class_share", lang))
        ax_h.set_ylim(0, None)
        ax_h.margins(y=0.12)
        _locale_axis(ax_h.yaxis, lang, percent=True)
        _hide_grid(ax_h, "x")
        _title(ax_h, label, _effect_note(item.test, lang))

        bxp = ax_b.bxp(
            [_bxp_stats(stats["declined"], _class("declined", lang)),
             _bxp_stats(stats["stable"], _class("stable", lang))],
            positions=[1, 0], widths=0.55, orientation="horizontal", patch_artist=True,
            showmeans=True, manage_ticks=False,
            medianprops={"color": style.TEXT, "linewidth": 1.3},
            meanprops={"marker": "D", "markersize": 3.2, "markerfacecolor": "white",
                       "markeredgecolor": style.TEXT, "markeredgewidth": 0.6},
            whiskerprops={"linewidth": 0.8}, capprops={"linewidth": 0.8},
            flierprops={"marker": "o", "markersize": 2.2, "markeredgewidth": 0.5, "alpha": 0.6},
        )
        for i, name in enumerate(("declined", "stable")):
            box = bxp["boxes"][i]
            box.set_facecolor(style.tint(colors[name], amount=0.35))
            box.set_edgecolor(colors[name])
            box.set_linewidth(0.9)
            for part in ("whiskers", "caps"):
                for line in bxp[part][2 * i: 2 * i + 2]:
                    line.set_color(colors[name])
            bxp["fliers"][i].set_markeredgecolor(colors[name])
            bxp["fliers"][i].set_markerfacecolor("none")
        ax_b.set_yticks([1, 0], [_class("declined", lang), _class("stable", lang)])
        ax_b.set_ylim(-0.6, 1.6)
        _hide_grid(ax_b, "y")
        ax_b.set_xlabel(label)
        _locale_axis(ax_b.xaxis, lang)
        lo = min(edges[0], item.declined.min, item.stable.min)
        hi = max(edges[-1], item.declined.max, item.stable.max)
        pad = (hi - lo) * 0.02 or 0.5
        ax_b.set_xlim(lo - pad, hi + pad)
    return fig


def categorical_feature_figure(item: CategoricalEda, *, lang: str) -> Figure:
    """Share of each class per level of a categorical feature (100 % stacked bars).

    Levels are sorted by the share of declined customers (highest on top); the dashed line is
    the overall share over the levels; the level's size is written at the right.
    """
    _check_lang(lang)
    levels = sorted(item.levels, key=lambda lv: (-lv.declined_share, lv.level))
    n = len(levels)
    total_declined = sum(lv.declined for lv in levels)
    total = sum(lv.declined + lv.stable for lv in levels)
    overall = total_declined / max(total, 1)
    label = feature_label(item.feature, lang)

    with style.context():
        fig, ax = style.figure(width_cm=16, height_cm=2.9 + 0.72 * n)
        y = np.arange(n)[::-1].astype(float)
        shares = np.array([lv.declined_share for lv in levels])
        sizes = [lv.declined + lv.stable for lv in levels]
        ax.barh(y, shares, height=0.62, color=style.DECLINED, zorder=2,
                label=_class("declined", lang))
        ax.barh(y, 1 - shares, left=shares, height=0.62, color=style.tint(style.STABLE, amount=0.75),
                zorder=2, label=_class("stable", lang))
        size = _annotation_size()
        for yi, share, lv, count in zip(y, shares, levels, sizes, strict=True):
            if share >= 0.07:
                ax.text(share / 2, yi, fmt_percent(share, lang), ha="center", va="center",
                        color="white", fontsize=size, fontweight="bold", zorder=3)
            if 1 - share >= 0.07:
                ax.text(share + (1 - share) / 2, yi, fmt_percent(1 - share, lang), ha="center",
                        va="center", color="white", fontsize=size, zorder=3)
            ax.text(1.015, yi, f"n{NBSP}={NBSP}{_count(count, lang)}", ha="left", va="center",
                    fontsize=size, color=style.TEXT_MUTED, transform=ax.get_yaxis_transform())
        ax.axvline(overall, color=style.TEXT, linestyle=(0, (3, 2)), linewidth=0.9, zorder=4)
        ax.text(overall, n - 0.45, f"{_t('average', lang)} {fmt_percent(overall, lang)}",
                ha="center", va="bottom", fontsize=size, color=style.TEXT)
        ax.set_yticks(y, [_wrap(level_label(lv.level, lang), 28) for lv in levels])
        ax.set_ylim(-0.55, n - 0.45 + 0.5)
        ax.set_xlim(0, 1)
        _locale_axis(ax.xaxis, lang, percent=True)
        ax.set_xlabel(_t("declined_share", lang))
        _hide_grid(ax, "y")
        ax.tick_params(axis="y", length=0)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2, borderaxespad=0.2,
                  handlelength=1.0)
        # The title goes above the legend.
        ax.set_title(label, loc="left", pad=18)
        ax.set_title(_effect_note(item.test, lang), loc="right", pad=18,
                     fontsize=style.FONT_SIZES["annotation"], fontweight="normal", color=style.TEXT_MUTED)
        fig.get_layout_engine().set(w_pad=0.05)
    return fig


# --------------------------------------------------------------------------------------------
# 2. Ishikawa
# --------------------------------------------------------------------------------------------


def ishikawa_figure(results: Results, *, lang: str) -> Figure:
    """The fishbone diagram of the four feature groups leading to the decline."""
    _check_lang(lang)
    order = [k for k in GROUP_TITLES if k in results.data.groups]
    order += [k for k in results.data.groups if k not in GROUP_TITLES]
    groups = [
        (GROUP_TITLES[key][lang] if key in GROUP_TITLES else key,
         [feature_label(f, lang) for f in results.data.groups[key]])
        for key in order
        if results.data.groups[key]
    ]
    return draw_ishikawa(effect=EFFECT_LABELS[lang], groups=groups, width_cm=16, height_cm=9)


# --------------------------------------------------------------------------------------------
# 3. phik
# --------------------------------------------------------------------------------------------


def phik_heatmap(correlation: CorrelationResult, *, lang: str) -> Figure:
    """The φK matrix (lower triangle), annotated, with the flagged pairs outlined."""
    _check_lang(lang)
    labels = list(correlation.phik.labels)
    n = len(labels)
    values = np.array([[np.nan if v is None else float(v) for v in row] for row in correlation.phik.values],
                      dtype=float)
    names = [_target_aware_label(name, lang) for name in labels]
    # Lower triangle without the diagonal: rows 1..n-1, columns 0..n-2.
    rows, cols = list(range(1, n)), list(range(0, n - 1))
    sub = values[1:, : n - 1]
    keep = np.tril(np.ones_like(sub, dtype=bool))
    cmap, norm = style.SEQUENTIAL_CMAP, Normalize(vmin=0.0, vmax=1.0)
    rgba = cmap(norm(np.ma.masked_invalid(sub)))
    rgba[~keep] = (1.0, 1.0, 1.0, 0.0)

    with style.context():
        fig, ax = style.figure(width_cm=16, height_cm=14.5)
        ax.imshow(rgba, interpolation="nearest", aspect="equal")
        ax.grid(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        size = 6.0 if n <= 18 else 5.0
        for i in range(sub.shape[0]):
            for j in range(i + 1):
                v = sub[i, j]
                text = "—" if not math.isfinite(v) else fmt_number(v, lang, digits=2)
                dark = math.isfinite(v) and v >= 0.55
                ax.text(j, i, text, ha="center", va="center", fontsize=size,
                        color="white" if dark else style.TEXT)
        ax.set_xticks(range(len(cols)), [names[c] for c in cols], rotation=50, ha="right",
                      rotation_mode="anchor")
        ax.set_yticks(range(len(rows)), [names[r] for r in rows])
        ax.tick_params(axis="both", length=0, labelsize=7.0)
        ax.set_xlim(-0.5, len(cols) - 0.5)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        # Target row in bold.
        for tick, r in zip(ax.get_yticklabels(), rows, strict=True):
            if labels[r] in ("target", "activity"):
                tick.set_fontweight("bold")
                tick.set_color(style.TEXT)
        # Flagged pairs.
        index = {name: k for k, name in enumerate(labels)}
        for pair in correlation.flagged_pairs:
            if pair.a not in index or pair.b not in index:
                continue
            r, c = max(index[pair.a], index[pair.b]), min(index[pair.a], index[pair.b])
            ax.add_patch(Rectangle((c - 0.5, r - 1 - 0.5), 1, 1, fill=False, edgecolor=style.ACCENT,
                                   linewidth=2.0, zorder=5))
        # Colour bar and legend in the empty upper triangle.
        cax = ax.inset_axes((0.56, 0.90, 0.40, 0.035))
        bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal")
        bar.outline.set_linewidth(0.4)
        cax.tick_params(labelsize=6.5, length=2)
        _locale_axis(cax.xaxis, lang)
        cax.set_title(_t("phik_cbar", lang), fontsize=7.0, fontweight="normal", loc="left", pad=3)
        ax.add_patch(Rectangle((0.56, 0.79), 0.035, 0.035, transform=ax.transAxes, fill=False,
                               edgecolor=style.ACCENT, linewidth=2.0, clip_on=False))
        ax.text(0.61, 0.8075, _t("phik_flagged", lang, t=fmt_number(correlation.threshold, lang, digits=1)),
                transform=ax.transAxes, fontsize=7.0, va="center", ha="left", color=style.TEXT)
        rows_used = correlation.sample_rows or correlation.n_rows
        ax.text(0.56, 0.73, f"n{NBSP}={NBSP}{_count(rows_used, lang)} {_t('customers', lang)}",
                transform=ax.transAxes, fontsize=7.0, va="center", ha="left", color=style.TEXT_MUTED)
        ax.set_title(_t("phik_title", lang), loc="left")
    return fig


# --------------------------------------------------------------------------------------------
# 4–5. Model
# --------------------------------------------------------------------------------------------


def _family(name: str, family: str, lang: str) -> str:
    return FAMILY_LABELS.get(family, {}).get(lang, name)


def model_comparison_figure(model: ModelResult, *, lang: str) -> Figure:
    """Cross-validated ROC-AUC (mean ± std) of every candidate, the selected one highlighted."""
    _check_lang(lang)
    ranked = sorted((c for c in model.candidates if not c.skipped and c.cv_roc_auc_mean is not None),
                    key=lambda c: (-(c.cv_roc_auc_mean or 0.0), c.name))
    skipped = [c for c in model.candidates if c.skipped or c.cv_roc_auc_mean is None]
    order = ranked + skipped
    n = len(order)
    base = 0.5
    with style.context():
        fig, ax = style.figure(width_cm=16, height_cm=2.6 + 0.62 * n)
        y = np.arange(n)[::-1].astype(float)
        size = _annotation_size()
        for yi, cand in zip(y, order, strict=True):
            selected = cand.name == model.selected.name
            if cand in skipped:
                note = _t("skipped", lang) + (f": {cand.note}" if cand.note else "")
                ax.text(base + 0.005, yi, note, va="center", ha="left", fontsize=size,
                        color=style.TEXT_MUTED, fontstyle="italic")
                continue
            mean, std = cand.cv_roc_auc_mean or 0.0, cand.cv_roc_auc_std or 0.0
            color = style.ACCENT if selected else style.tint(style.NEUTRAL, amount=0.55)
            ax.barh(yi, mean - base, left=base, height=0.6, color=color, zorder=2)
            ax.errorbar(mean, yi, xerr=std, fmt="none", ecolor=style.TEXT, elinewidth=0.9,
                        capsize=2.5, capthick=0.9, zorder=3)
            text = f"{fmt_number(mean, lang, digits=3)} ± {fmt_number(std, lang, digits=3)}"
            if selected:
                text += f"  · {_t('selected', lang)}"
            ax.text(mean + std + 0.006, yi, text, va="center", ha="left", fontsize=size,
                    color=style.TEXT, fontweight="bold" if selected else "normal")
        labels = [_family(c.name, c.family, lang) for c in order]
        ax.set_yticks(y, labels)
        for tick, cand in zip(ax.get_yticklabels(), order, strict=True):
            if cand.name == model.selected.name:
                tick.set_fontweight("bold")
                tick.set_color(style.TEXT)
        ax.tick_params(axis="y", length=0)
        ax.set_xlim(base, 1.0)
        ax.set_ylim(-0.6, n - 0.4)
        _hide_grid(ax, "y")
        _locale_axis(ax.xaxis, lang)
        ax.set_xlabel(_t("model_x", lang))
        folds = f"{model.cv_folds}×{model.cv_repeats} CV, n{NBSP}={NBSP}{_count(model.selection_rows, lang)}"
        _title(ax, _t("model_title", lang), folds)
    return fig


def roc_figure(model: ModelResult, *, lang: str) -> Figure:
    """ROC curve and precision–recall curve on the test set, with the operating point."""
    _check_lang(lang)
    cm = model.confusion
    fpr_point = cm.fp / max(cm.fp + cm.tn, 1)
    threshold = fmt_number(cm.threshold, lang, digits=2)
    curve_color = style.OKABE_ITO["blue"]
    with style.context():
        fig, (ax_roc, ax_pr) = style.figure(width_cm=16, height_cm=8.6, ncols=2)
        # ROC
        lo, hi = model.test.roc_auc_ci95
        auc = (f"ROC-AUC = {fmt_number(model.test.roc_auc, lang, digits=3)}\n"
               f"({_t('ci', lang)} {fmt_number(lo, lang, digits=3)}–{fmt_number(hi, lang, digits=3)})")
        ax_roc.plot([0, 1], [0, 1], color=style.NEUTRAL, linestyle=(0, (3, 2)), linewidth=0.9,
                    label=_t("chance", lang))
        ax_roc.plot(model.roc_curve.x, model.roc_curve.y, color=curve_color, linewidth=1.6,
                    drawstyle="steps-post", label=auc)
        ax_roc.plot([fpr_point], [cm.recall], marker="o", markersize=5.5, color=style.ACCENT,
                    markeredgecolor=style.TEXT, markeredgewidth=0.6, linestyle="none",
                    label=_t("threshold_point", lang, t=threshold))
        ax_roc.set_xlabel(_t("fpr", lang))
        ax_roc.set_ylabel(_t("tpr", lang))
        ax_roc.legend(loc="lower right")
        _title(ax_roc, _t("roc_title", lang))
        # PR
        prevalence = model.test.prevalence
        ax_pr.axhline(prevalence, color=style.NEUTRAL, linestyle=(0, (3, 2)), linewidth=0.9,
                      label=_t("prevalence", lang, p=fmt_percent(prevalence, lang)))
        ax_pr.plot(model.pr_curve.x, model.pr_curve.y, color=curve_color, linewidth=1.6,
                   label=f"PR-AUC = {fmt_number(model.test.pr_auc, lang, digits=3)}")
        ax_pr.plot([cm.recall], [cm.precision], marker="o", markersize=5.5, color=style.ACCENT,
                   markeredgecolor=style.TEXT, markeredgewidth=0.6, linestyle="none",
                   label=_t("threshold_point", lang, t=threshold))
        ax_pr.set_xlabel(_t("recall", lang))
        ax_pr.set_ylabel(_t("precision", lang))
        ax_pr.legend(loc="lower left")
        _title(ax_pr, _t("pr_title", lang))
        for ax in (ax_roc, ax_pr):
            ax.set_xlim(-0.01, 1.01)
            ax.set_ylim(-0.01, 1.02)
            ax.set_aspect("equal")
            ax.xaxis.set_major_locator(MaxNLocator(6))
            ax.yaxis.set_major_locator(MaxNLocator(6))
            _locale_axis(ax.xaxis, lang)
            _locale_axis(ax.yaxis, lang)
    return fig


def calibration_figure(model: ModelResult, *, lang: str) -> Figure:
    """Reliability diagram: predicted probability against the observed share, per group."""
    _check_lang(lang)
    curve = model.calibration_curve
    x, y = np.asarray(curve.x, dtype=float), np.asarray(curve.y, dtype=float)
    counts = np.asarray(curve.counts, dtype=float) if curve.counts else np.full(x.shape, 1.0)
    sizes = 12 + 70 * counts / max(counts.max(), 1.0)
    with style.context():
        fig, ax = style.figure(width_cm=12, height_cm=10)
        ax.plot([0, 1], [0, 1], color=style.NEUTRAL, linestyle=(0, (3, 2)), linewidth=0.9,
                label=_t("cal_ideal", lang))
        ax.plot(x, y, color=style.OKABE_ITO["blue"], linewidth=1.1, zorder=2)
        ax.scatter(x, y, s=sizes, color=style.OKABE_ITO["blue"], edgecolor="white", linewidth=0.6,
                   zorder=3, label=_t("cal_points", lang))
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_aspect("equal")
        _locale_axis(ax.xaxis, lang, percent=True)
        _locale_axis(ax.yaxis, lang, percent=True)
        ax.set_xlabel(_t("cal_x", lang))
        ax.set_ylabel(_t("cal_y", lang))
        ax.legend(loc="upper left")
        note = f"Brier = {fmt_number(model.test.brier, lang, digits=3)} · n{NBSP}={NBSP}{_count(model.test.n, lang)}"
        _title(ax, _t("cal_title", lang))
        ax.text(0.98, 0.03, note, transform=ax.transAxes, ha="right", va="bottom",
                fontsize=_annotation_size(), color=style.TEXT_MUTED)
    return fig


def confusion_figure(model: ModelResult, *, lang: str) -> Figure:
    """The 2×2 confusion matrix on the test set (positive = activity declined)."""
    _check_lang(lang)
    cm = model.confusion
    matrix = np.array([[cm.tp, cm.fn], [cm.fp, cm.tn]], dtype=float)
    row_totals = matrix.sum(axis=1, keepdims=True)
    shares = matrix / np.maximum(row_totals, 1.0)
    correct = np.array([[True, False], [False, True]])
    with style.context():
        fig, ax = style.figure(width_cm=11, height_cm=8.5)
        colors = np.empty((2, 2, 4))
        for i in range(2):
            for j in range(2):
                base = style.STABLE if correct[i, j] else style.DECLINED
                amount = 0.15 + 0.75 * shares[i, j]
                colors[i, j] = mcolors.to_rgba(style.tint(base, amount=min(amount, 1.0)))
        ax.imshow(colors, interpolation="nearest")
        ax.grid(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        for i in range(2):
            for j in range(2):
                dark = 0.15 + 0.75 * shares[i, j] > 0.55
                ax.text(j, i - 0.08, _count(int(matrix[i, j]), lang), ha="center", va="center",
                        fontsize=13, fontweight="bold", color="white" if dark else style.TEXT)
                ax.text(j, i + 0.2, f"{fmt_percent(shares[i, j], lang)} {_t('of_class', lang)}",
                        ha="center", va="center", fontsize=7.5, color="white" if dark else style.TEXT)
        names = [_class("declined", lang), _class("stable", lang)]
        ax.set_xticks([0, 1], names)
        ax.set_yticks([0, 1], names, rotation=90, va="center")
        ax.tick_params(axis="both", length=0, labelsize=8)
        ax.xaxis.set_label_position("top")
        ax.xaxis.tick_top()
        ax.set_xlabel(_t("predicted", lang), labelpad=6)
        ax.set_ylabel(_t("actual", lang))
        ax.set_title(_t("conf_title", lang, t=fmt_number(cm.threshold, lang, digits=2)), loc="left", pad=10)
        note = (f"{_t('precision', lang)} {fmt_percent(cm.precision, lang)} · "
                f"{_t('recall', lang).lower()} {fmt_percent(cm.recall, lang)} · "
                f"n{NBSP}={NBSP}{_count(model.test.n, lang)}")
        ax.text(0.5, -0.06, note, transform=ax.transAxes, ha="center", va="top",
                fontsize=_annotation_size(), color=style.TEXT_MUTED)
    return fig


# --------------------------------------------------------------------------------------------
# 6. SHAP
# --------------------------------------------------------------------------------------------

#: Beeswarm colours: low feature values blue, high values red (Okabe–Ito ends, purple midway).
BEESWARM_CMAP: Final = LinearSegmentedColormap.from_list(
    "oneclick_beeswarm", [style.OKABE_ITO["blue"], "#9A5EA8", style.OKABE_ITO["vermillion"]]
)


def _shap_unit(output: str, lang: str) -> str:
    return _SHAP_UNIT.get(output, _SHAP_UNIT["decision_function"])[lang]


def _feature_ticks(ax: Axes, features: Sequence[str], lang: str, *, width: int = 30) -> np.ndarray:
    y = np.arange(len(features))[::-1].astype(float)
    ax.set_yticks(y, [_wrap(feature_label(f, lang), width) for f in features])
    ax.tick_params(axis="y", length=0)
    return y


def shap_bar(importance: ImportanceResult, *, lang: str) -> Figure:
    """Mean |SHAP| per feature, next to permutation importance (same feature order)."""
    _check_lang(lang)
    features = [fv.feature for fv in importance.global_importance]
    shap_values = np.array([fv.value for fv in importance.global_importance])
    perm = {fv.feature: fv for fv in importance.permutation}
    n = len(features)
    with style.context():
        fig, (ax_s, ax_p) = style.figure(width_cm=16, height_cm=2.6 + 0.46 * n, ncols=2, sharey=True,
                                         gridspec_kw={"width_ratios": [1.15, 1.0]})
        y = _feature_ticks(ax_s, features, lang)
        ax_s.barh(y, shap_values, height=0.68, color=style.OKABE_ITO["blue"], zorder=2)
        top = float(shap_values.max()) if n else 1.0
        for yi, v in zip(y, shap_values, strict=True):
            ax_s.text(v + top * 0.015, yi, fmt_number(v, lang, digits=3), va="center", ha="left",
                      fontsize=6.5, color=style.TEXT_MUTED)
        ax_s.set_xlim(0, top * 1.22)
        ax_s.set_xlabel(_wrap(_t("shap_mean_abs", lang, u=_shap_unit(importance.output, lang)), 40))
        _title(ax_s, _t("shap_title", lang) + " (SHAP)")
        pv = np.array([perm[f].value if f in perm else np.nan for f in features])
        ps = np.array([perm[f].std if f in perm else 0.0 for f in features])
        ax_p.barh(y, pv, height=0.68, color=style.OKABE_ITO["bluish_green"], zorder=2)
        ax_p.errorbar(pv, y, xerr=ps, fmt="none", ecolor=style.TEXT, elinewidth=0.7, capsize=1.8, zorder=3)
        ax_p.axvline(0, color=style.AXIS, linewidth=0.6)
        ax_p.set_xlabel(_t("perm_x", lang))
        ax_p.tick_params(axis="y", length=0)
        _title(ax_p, _t("perm_title", lang))
        for ax in (ax_s, ax_p):
            _hide_grid(ax, "y")
            ax.xaxis.set_major_locator(MaxNLocator(5))
            _locale_axis(ax.xaxis, lang)
        ax_s.set_ylim(-0.6, n - 0.4)
    return fig


def _jitter_unit(n: int) -> np.ndarray:
    """A deterministic, evenly spread sequence in [-1, 1] indexed by row (golden-ratio steps)."""
    golden = (math.sqrt(5.0) - 1.0) / 2.0
    return 2.0 * ((np.arange(n) * golden + 0.5) % 1.0) - 1.0


def shap_beeswarm(importance: ImportanceResult, *, lang: str, rasterize_above: int = 200) -> Figure:
    """SHAP value of every (sampled) customer per feature, coloured by the feature's value.

    The vertical spread of a point is a deterministic function of its row index, scaled by how
    many points share its neighbourhood (so dense regions widen like a swarm).  All points are one
    collection, rasterised in vector output above ``rasterize_above`` points.
    """
    _check_lang(lang)
    bees = importance.beeswarm
    features = list(bees.features)
    n = len(features)
    xs, ys, colors = [], [], []
    grey = np.array(mcolors.to_rgba(style.NEUTRAL, alpha=0.75))
    for k, feature in enumerate(features):
        shap_row = np.asarray(bees.shap[k], dtype=float)
        scaled = bees.scaled_values[k]
        ok = np.isfinite(shap_row)
        values = shap_row[ok]
        if values.size == 0:
            continue
        # Local density along x (drawing arithmetic): share of the row's points in the bin.
        span = float(values.max() - values.min())
        bins = 40
        if span > 0:
            idx = np.minimum(((values - values.min()) / span * bins).astype(int), bins - 1)
            density = np.bincount(idx, minlength=bins)[idx].astype(float)
            density /= density.max()
        else:
            density = np.ones_like(values)
        amplitude = 0.38 * np.sqrt(density)
        offsets = amplitude * _jitter_unit(shap_row.size)[ok]
        xs.append(values)
        ys.append(np.full(values.size, n - 1 - k, dtype=float) + offsets)
        rgba = np.empty((values.size, 4))
        scaled_ok = [s for s, good in zip(scaled, ok, strict=True) if good]
        has = np.array([s is not None for s in scaled_ok])
        svals = np.array([s if s is not None else 0.0 for s in scaled_ok], dtype=float)
        rgba[:] = grey
        if has.any():
            rgba[has] = BEESWARM_CMAP(svals[has])
            rgba[has, 3] = 0.85
        colors.append(rgba)
    x = np.concatenate(xs) if xs else np.empty(0)
    y = np.concatenate(ys) if ys else np.empty(0)
    c = np.concatenate(colors) if colors else np.empty((0, 4))
    any_grey = any(all(s is None for s in row) or any(s is None for s in row) for row in bees.scaled_values)

    with style.context():
        fig, ax = style.figure(width_cm=16, height_cm=2.8 + 0.55 * n)
        ax.axvline(0, color=style.AXIS, linewidth=0.7, zorder=1)
        points = ax.scatter(x, y, s=3.2, c=c, linewidths=0, zorder=2)
        style.rasterize_if_dense(points, int(x.size), threshold=rasterize_above)
        _feature_ticks(ax, features, lang)
        ax.set_ylim(-0.6, n - 0.4)
        _hide_grid(ax, "y")
        for k in range(n):
            ax.axhline(k, color=style.GRID, linewidth=0.5, zorder=0)
        ax.set_xlabel(_t("bee_x", lang, u=_shap_unit(importance.output, lang)))
        _locale_axis(ax.xaxis, lang)
        bar = fig.colorbar(ScalarMappable(norm=Normalize(0, 1), cmap=BEESWARM_CMAP), ax=ax,
                           fraction=0.03, pad=0.015, aspect=30)
        bar.set_ticks([0, 1], labels=[_t("low", lang), _t("high", lang)])
        bar.ax.tick_params(labelsize=6.5, length=0)
        bar.set_label(_t("bee_value", lang), fontsize=7.0, labelpad=-2)
        bar.outline.set_visible(False)
        note = None
        if any_grey:
            note = _t("bee_grey", lang)
        _title(ax, _t("bee_title", lang), note)
    return fig


def shap_segments(importance: ImportanceResult, segments: SegmentsResult, *, lang: str,
                  top: int = 8) -> Figure:
    """Mean SHAP contribution of the top features in each segment (a diverging heatmap)."""
    _check_lang(lang)
    features = [fv.feature for fv in importance.global_importance[:top]]
    segs = [s for s in segments.segments if s.key in importance.per_segment]
    matrix = np.full((len(features), len(segs)), np.nan)
    for j, seg in enumerate(segs):
        values = {fv.feature: fv.value for fv in importance.per_segment[seg.key]}
        for i, f in enumerate(features):
            if f in values:
                matrix[i, j] = values[f]
    finite = matrix[np.isfinite(matrix)]
    limit = float(np.abs(finite).max()) if finite.size else 1.0
    limit = limit or 1.0
    norm = Normalize(vmin=-limit, vmax=limit)
    cmap = style.DIVERGING_CMAP
    with style.context():
        fig, ax = style.figure(width_cm=16, height_cm=3.6 + 0.72 * len(features))
        ax.imshow(np.ma.masked_invalid(matrix), cmap=cmap, norm=norm, aspect="auto",
                  interpolation="nearest")
        ax.grid(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        for i in range(len(features)):
            for j in range(len(segs)):
                v = matrix[i, j]
                text = "—" if not math.isfinite(v) else _signed(v, lang, digits=3)
                dark = math.isfinite(v) and abs(v) / limit > 0.6
                ax.text(j, i, text, ha="center", va="center", fontsize=7.0,
                        color="white" if dark else style.TEXT)
        ax.set_yticks(range(len(features)), [_wrap(feature_label(f, lang), 30) for f in features])
        col_labels = [f"{_wrap(s.title.get(lang), 18)}\n{_count(s.n_customers, lang)} {_t('customers', lang)}"
                      for s in segs]
        ax.set_xticks(range(len(segs)), col_labels)
        ax.xaxis.tick_top()
        ax.tick_params(axis="both", length=0, labelsize=7.0)
        for tick, seg in zip(ax.get_xticklabels(), segs, strict=True):
            tick.set_color(segment_color(seg))
            if seg.priority:
                tick.set_fontweight("bold")
        bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, orientation="horizontal",
                           fraction=0.05, pad=0.03, aspect=40)
        bar.outline.set_linewidth(0.4)
        bar.ax.tick_params(labelsize=6.5, length=2)
        bar.ax.xaxis.set_major_locator(MaxNLocator(7, symmetric=True))
        _locale_axis(bar.ax.xaxis, lang)
        bar.set_label(_t("seg_shap_cbar", lang) + f" ({_shap_unit(importance.output, lang)})", fontsize=7.0)
        ax.set_title(_t("seg_shap_title", lang), loc="left", pad=8)
    return fig


def shap_waterfall(example: CustomerExplanation, *, lang: str, output: str = "probability",
                   segment_title: str | None = None) -> Figure:
    """One customer's prediction: the model's average prediction plus the top contributions.

    Bars start at the base value (bottom) and add the contributions from the smallest to the
    largest (top); increases of the risk are red, decreases blue.  Only the contributions stored
    in the results are drawn, so the end point is "after the top k features"; the customer's
    (calibrated) probability is stated in the title.
    """
    _check_lang(lang)
    contributions = list(example.contributions)[::-1]  # smallest at the bottom
    k = len(contributions)
    starts = example.base_value + np.concatenate([[0.0], np.cumsum([c.shap for c in contributions])[:-1]])
    end = example.base_value + float(sum(c.shap for c in contributions))
    digits = 2
    with style.context():
        fig, ax = style.figure(width_cm=16, height_cm=3.4 + 0.62 * k)
        y = np.arange(k, dtype=float)
        widths = np.array([c.shap for c in contributions])
        colors = [style.DECLINED if w > 0 else style.STABLE for w in widths]
        ax.barh(y, widths, left=starts, height=0.62, color=colors, zorder=2)
        span = max(float(np.max(starts + np.maximum(widths, 0))), end, example.base_value) - \
            min(float(np.min(starts + np.minimum(widths, 0))), end, example.base_value)
        span = span or 1.0
        for yi, start, w in zip(y, starts, widths, strict=True):
            right = start + max(w, 0.0)
            left = start + min(w, 0.0)
            if w >= 0:
                ax.text(right + span * 0.012, yi, _signed(w, lang, digits), va="center", ha="left",
                        fontsize=_annotation_size(), color=style.DECLINED, fontweight="bold")
            else:
                ax.text(left - span * 0.012, yi, _signed(w, lang, digits), va="center", ha="right",
                        fontsize=_annotation_size(), color=style.STABLE, fontweight="bold")
        # Connectors between consecutive bars.
        for i in range(k - 1):
            x_join = starts[i] + widths[i]
            ax.plot([x_join, x_join], [i + 0.31, i + 1 - 0.31], color=style.AXIS, linewidth=0.6, zorder=1)
        ax.axvline(example.base_value, color=style.NEUTRAL, linestyle=(0, (3, 2)), linewidth=0.8, zorder=1)
        ax.axvline(end, color=style.TEXT, linestyle=(0, (3, 2)), linewidth=0.8, zorder=1)
        ax.text(example.base_value, -0.75, f"{_t('wf_base', lang)} {fmt_number(example.base_value, lang, digits=2)}",
                ha="center", va="top", fontsize=_annotation_size(), color=style.TEXT_MUTED)
        ax.text(end, k - 0.35, f"{_t('wf_end', lang, k=k)}: {fmt_number(end, lang, digits=2)}",
                ha="center", va="bottom", fontsize=_annotation_size(), color=style.TEXT)
        labels = [f"{feature_label(c.feature, lang)} = {_value_text(c.value, lang)}" for c in contributions]
        ax.set_yticks(y, [_wrap(lbl, 44) for lbl in labels])
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(-1.25, k + 0.3)
        lo = min(float(np.min(starts + np.minimum(widths, 0))), example.base_value, end)
        hi = max(float(np.max(starts + np.maximum(widths, 0))), example.base_value, end)
        ax.set_xlim(lo - span * 0.14, hi + span * 0.14)
        _hide_grid(ax, "y")
        _locale_axis(ax.xaxis, lang)
        ax.set_xlabel(_t("bee_x", lang, u=_shap_unit(output, lang)))
        title = _t("wf_title", lang, id=example.id)
        note = _t("wf_probability", lang, p=fmt_percent(example.probability, lang))
        if segment_title:
            note = f"{segment_title} · {note}"
        _title(ax, title, note)
    return fig


# --------------------------------------------------------------------------------------------
# 7–8. Segments
# --------------------------------------------------------------------------------------------


def segments_scatter(segments: SegmentsResult, *, lang: str, rasterize_above: int = 200) -> Figure:
    """Probability × profit of every customer (or a stated sample), with the two thresholds.

    The four quadrants are named in the corners by their segments' titles, in the segments'
    colours; the points are one collection, rasterised in vector output when dense.
    """
    _check_lang(lang)
    scatter = segments.scatter
    by_key = {s.key: s for s in segments.segments}
    colors = {k: segment_color(s) for k, s in by_key.items()}
    x = np.asarray(scatter.probability, dtype=float)
    y = np.asarray(scatter.profit, dtype=float)
    c = [colors.get(k, style.NEUTRAL) for k in scatter.segment]
    p_thr, m_thr = segments.probability_threshold, segments.profit_threshold
    if y.size:
        y_lo, y_hi = float(min(y.min(), m_thr)), float(max(y.max(), m_thr))
    else:
        y_lo, y_hi = m_thr - 1.0, m_thr + 1.0
    y_span = (y_hi - y_lo) or 1.0
    with style.context():
        fig, ax = style.figure(width_cm=16, height_cm=11)
        points = ax.scatter(x, y, s=6, c=c, alpha=0.7, linewidths=0, zorder=2)
        style.rasterize_if_dense(points, int(x.size), threshold=rasterize_above)
        ax.axvline(p_thr, color=style.TEXT, linestyle=(0, (4, 2)), linewidth=1.0, zorder=3)
        ax.axhline(m_thr, color=style.TEXT, linestyle=(0, (4, 2)), linewidth=1.0, zorder=3)
        size = _annotation_size()
        ax.set_xlim(-0.03, 1.03)
        ax.set_ylim(y_lo - 0.2 * y_span, y_hi + 0.2 * y_span)
        ax.text(p_thr + 0.008, 0.5, _t("prob_threshold", lang, t=fmt_number(p_thr, lang, digits=2)),
                transform=ax.get_xaxis_transform(), rotation=90, ha="left", va="center",
                fontsize=size, color=style.TEXT, zorder=4,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
        ax.text(0.01, m_thr, _t("profit_threshold", lang, t=fmt_number(m_thr, lang, digits=2)),
                transform=ax.get_yaxis_transform(), ha="left", va="bottom", fontsize=size,
                color=style.TEXT, zorder=4,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
        corners = {("low", "high"): (0.015, 0.985, "left", "top"),
                   ("high", "high"): (0.985, 0.985, "right", "top"),
                   ("low", "low"): (0.015, 0.015, "left", "bottom"),
                   ("high", "low"): (0.985, 0.015, "right", "bottom")}
        for seg in segments.segments:
            place = corners.get((seg.rule.risk, seg.rule.value))
            if place is None:
                continue
            cx, cy, ha, va = place
            text = (f"{seg.title.get(lang)}\n{_count(seg.n_customers, lang)} {_t('customers', lang)} · "
                    f"{fmt_percent(seg.share, lang)}")
            ax.text(cx, cy, text, transform=ax.transAxes, ha=ha, va=va, multialignment=ha,
                    fontsize=7.5, fontweight="bold", color=colors[seg.key], zorder=5,
                    bbox={"boxstyle": "round,pad=0.3", "facecolor": "white",
                          "edgecolor": colors[seg.key], "linewidth": 0.8, "alpha": 0.92})
        _locale_axis(ax.xaxis, lang, percent=True)
        _locale_axis(ax.yaxis, lang)
        ax.set_xlabel(_t("scatter_x", lang))
        ax.set_ylabel(feature_label("profit", lang))
        note = None
        if scatter.sampled:
            total = sum(s.n_customers for s in segments.segments)
            note = _t("sampled", lang, n=_count(int(x.size), lang), m=_count(total, lang))
        _title(ax, _t("scatter_title", lang), note)
    return fig


def segment_profile_figure(segment: Segment, *, lang: str, top: int = 6) -> Figure:
    """How the segment differs from the other customers: standardised differences of the means."""
    _check_lang(lang)
    contrasts = sorted(segment.profile.contrasts, key=lambda c: (-abs(c.effect_size), c.feature))[:top]
    k = len(contrasts)
    color = segment_color(segment)
    effects = np.array([c.effect_size for c in contrasts], dtype=float)
    limit = float(np.abs(effects).max()) if k else 1.0
    limit = limit or 1.0
    with style.context():
        fig, ax = style.figure(width_cm=16, height_cm=2.9 + 0.62 * max(k, 1))
        y = np.arange(k)[::-1].astype(float)
        ax.barh(y, effects, height=0.62, color=color, zorder=2)
        ax.axvline(0, color=style.AXIS, linewidth=0.7, zorder=3)
        for yi, contrast, e in zip(y, contrasts, effects, strict=True):
            text = _t("versus", lang, a=fmt_number(contrast.segment_mean, lang, digits=2),
                      b=fmt_number(contrast.others_mean, lang, digits=2))
            if e >= 0:
                ax.text(e + limit * 0.03, yi, text, va="center", ha="left", fontsize=_annotation_size(),
                        color=style.TEXT)
            else:
                ax.text(e - limit * 0.03, yi, text, va="center", ha="right", fontsize=_annotation_size(),
                        color=style.TEXT)
        ax.set_yticks(y, [_wrap(feature_label(c.feature, lang), 32) for c in contrasts])
        ax.tick_params(axis="y", length=0)
        ax.set_xlim(-limit * 1.9, limit * 1.9)
        ax.set_ylim(-0.6, max(k, 1) - 0.4)
        _hide_grid(ax, "y")
        _locale_axis(ax.xaxis, lang)
        ax.set_xlabel(_t("profile_x", lang))
        note = (f"{_count(segment.n_customers, lang)} {_t('customers', lang)} · {fmt_percent(segment.share, lang)} · "
                f"{_t('mean_probability', lang)} {fmt_percent(segment.mean_probability, lang)}")
        _title(ax, segment.title.get(lang), note)
    return fig


# --------------------------------------------------------------------------------------------
# Alt texts
# --------------------------------------------------------------------------------------------


def _alt_numeric(item: NumericEda, lang: str) -> str:
    label = _quote(feature_label(item.feature, lang), lang)
    d, s = item.declined, item.stable
    if lang == "ru":
        return (f"Распределение признака {label} у клиентов со сниженной активностью и с прежним уровнем "
                f"(гистограмма долей и диаграммы размаха): медиана {fmt_number(d.median, lang, digits=2)} "
                f"против {fmt_number(s.median, lang, digits=2)}, среднее {fmt_number(d.mean, lang, digits=2)} "
                f"против {fmt_number(s.mean, lang, digits=2)}; {_effect_note(item.test, lang)}.")
    return (f"Distribution of {label} for customers whose activity declined and those at the same level "
            f"(histogram of shares and box plots): median {fmt_number(d.median, lang, digits=2)} vs "
            f"{fmt_number(s.median, lang, digits=2)}, mean {fmt_number(d.mean, lang, digits=2)} vs "
            f"{fmt_number(s.mean, lang, digits=2)}; {_effect_note(item.test, lang)}.")


def _alt_categorical(item: CategoricalEda, lang: str) -> str:
    label = _quote(feature_label(item.feature, lang), lang)
    parts = "; ".join(f"{level_label(lv.level, lang)} — {fmt_percent(lv.declined_share, lang)}"
                      for lv in sorted(item.levels, key=lambda lv: -lv.declined_share))
    if lang == "ru":
        return (f"Доля клиентов со сниженной активностью по значениям признака {label}: {parts}; "
                f"{_effect_note(item.test, lang)}.")
    return f"Share of customers whose activity declined by {label}: {parts}; {_effect_note(item.test, lang)}."


def _alt_ishikawa(results: Results, lang: str) -> str:
    groups = [GROUP_TITLES[k][lang] if k in GROUP_TITLES else k for k in results.data.groups]
    n = sum(len(v) for v in results.data.groups.values())
    if lang == "ru":
        return (f"Диаграмма Исикавы: {n} признаков в четырёх группах ({', '.join(groups)}) ведут к эффекту "
                f"«{EFFECT_LABELS[lang]}».")
    return (f"Ishikawa diagram: {n} features in {len(groups)} groups ({', '.join(groups)}) leading to the effect "
            f"“{EFFECT_LABELS[lang]}”.")


def _alt_phik(correlation: CorrelationResult, lang: str) -> str:
    best = max(correlation.with_target, key=lambda t: t.phik, default=None)
    pairs = ", ".join(f"{feature_label(p.a, lang)} — {feature_label(p.b, lang)} ({fmt_number(p.phik, lang, digits=2)})"
                      for p in correlation.flagged_pairs)
    thr = fmt_number(correlation.threshold, lang, digits=1)
    if lang == "ru":
        text = f"Тепловая карта коэффициента φK для {len(correlation.phik.labels)} признаков, включая целевой."
        if best is not None:
            text += (f" Сильнее всего с целевым признаком связан {_quote(feature_label(best.feature, lang), lang)}"
                     f" (φK = {fmt_number(best.phik, lang, digits=2)}).")
        text += f" Пары с φK ≥ {thr}: {pairs}." if pairs else f" Пар с φK ≥ {thr} нет."
        return text
    text = f"Heatmap of φK for {len(correlation.phik.labels)} features including the target."
    if best is not None:
        text += (f" The feature most associated with the target is {_quote(feature_label(best.feature, lang), lang)}"
                 f" (φK = {fmt_number(best.phik, lang, digits=2)}).")
    text += f" Pairs with φK ≥ {thr}: {pairs}." if pairs else f" No pair has φK ≥ {thr}."
    return text


def _alt_models(model: ModelResult, lang: str) -> str:
    sel = next((c for c in model.candidates if c.name == model.selected.name), None)
    ranked = [c for c in model.candidates if not c.skipped and c.cv_roc_auc_mean is not None]
    skipped = [c for c in model.candidates if c.skipped or c.cv_roc_auc_mean is None]
    lo = min((c.cv_roc_auc_mean or 0.0) for c in ranked) if ranked else None
    hi = max((c.cv_roc_auc_mean or 0.0) for c in ranked) if ranked else None
    name = _family(model.selected.name, sel.family if sel else "", lang)
    sel_auc = fmt_number(sel.cv_roc_auc_mean, lang, digits=3) if sel else "—"
    if lang == "ru":
        text = (f"ROC-AUC на кросс-валидации для {len(ranked)} моделей-кандидатов: от {fmt_number(lo, lang, digits=3)} "
                f"до {fmt_number(hi, lang, digits=3)}; выбрана модель «{name}» (ROC-AUC {sel_auc}).")
        if skipped:
            text += f" Пропущено: {len(skipped)}."
        return text
    text = (f"Cross-validated ROC-AUC of {len(ranked)} candidate models: from {fmt_number(lo, lang, digits=3)} "
            f"to {fmt_number(hi, lang, digits=3)}; selected: {name} (ROC-AUC {sel_auc}).")
    if skipped:
        text += f" Skipped: {len(skipped)}."
    return text


def _alt_roc(model: ModelResult, lang: str) -> str:
    t = model.test
    lo, hi = t.roc_auc_ci95
    if lang == "ru":
        return (f"ROC-кривая и кривая точности–полноты на тестовой выборке ({_count(t.n, lang)} клиентов): "
                f"ROC-AUC {fmt_number(t.roc_auc, lang, digits=3)} (95 % ДИ {fmt_number(lo, lang, digits=3)}–"
                f"{fmt_number(hi, lang, digits=3)}), PR-AUC {fmt_number(t.pr_auc, lang, digits=3)} при доле класса "
                f"{fmt_percent(t.prevalence, lang)}.")
    return (f"ROC and precision–recall curves on the test set ({_count(t.n, lang)} customers): ROC-AUC "
            f"{fmt_number(t.roc_auc, lang, digits=3)} (95% CI {fmt_number(lo, lang, digits=3)}–"
            f"{fmt_number(hi, lang, digits=3)}), PR-AUC {fmt_number(t.pr_auc, lang, digits=3)} at a prevalence of "
            f"{fmt_percent(t.prevalence, lang)}.")


def _alt_calibration(model: ModelResult, lang: str) -> str:
    n = len(model.calibration_curve.x)
    brier = fmt_number(model.test.brier, lang, digits=3)
    if lang == "ru":
        return (f"Диаграмма калибровки: предсказанная вероятность снижения против фактической доли в {n} группах "
                f"клиентов тестовой выборки; показатель Брайера {brier}.")
    return (f"Reliability diagram: predicted probability of decline against the observed share in {n} groups of "
            f"test customers; Brier score {brier}.")


def _alt_confusion(model: ModelResult, lang: str) -> str:
    cm = model.confusion
    thr = fmt_number(cm.threshold, lang, digits=2)
    if lang == "ru":
        return (f"Матрица ошибок при пороге {thr}: верно найдено {cm.tp} клиентов со снижением, пропущено {cm.fn}, "
                f"ложных тревог {cm.fp}, верно отнесено к прежнему уровню {cm.tn}; точность "
                f"{fmt_percent(cm.precision, lang)}, полнота {fmt_percent(cm.recall, lang)}.")
    return (f"Confusion matrix at threshold {thr}: {cm.tp} declines found, {cm.fn} missed, {cm.fp} false alarms, "
            f"{cm.tn} correctly kept at the same level; precision {fmt_percent(cm.precision, lang)}, recall "
            f"{fmt_percent(cm.recall, lang)}.")


def _top_names(values: Iterable[str], lang: str, k: int = 3) -> str:
    return ", ".join(_quote(feature_label(f, lang), lang) for f in list(values)[:k])


def _alt_shap_bar(importance: ImportanceResult, lang: str) -> str:
    top = _top_names((fv.feature for fv in importance.global_importance), lang)
    perm_top = _top_names((fv.feature for fv in importance.permutation), lang)
    first = importance.global_importance[0] if importance.global_importance else None
    value = fmt_number(first.value, lang, digits=3) if first else "—"
    if lang == "ru":
        return (f"Средний модуль SHAP по {len(importance.global_importance)} признакам и перестановочная важность. "
                f"Самые важные по SHAP: {top} (у первого {value}); по перестановке: {perm_top}.")
    return (f"Mean absolute SHAP value of {len(importance.global_importance)} features and permutation importance. "
            f"Most important by SHAP: {top} (the first {value}); by permutation: {perm_top}.")


def _alt_beeswarm(importance: ImportanceResult, lang: str) -> str:
    bees = importance.beeswarm
    n_points = sum(len(row) for row in bees.shap[:1])
    top = _top_names(bees.features, lang)
    if lang == "ru":
        return (f"Диаграмма SHAP-значений для {_count(n_points, lang)} клиентов по {len(bees.features)} признакам; "
                f"цвет — значение признака (синий — низкое, красный — высокое). Сильнее всего влияют {top}.")
    return (f"SHAP values of {_count(n_points, lang)} customers across {len(bees.features)} features; colour shows "
            f"the feature value (blue low, red high). The strongest drivers are {top}.")


def _alt_shap_segments(importance: ImportanceResult, segments: SegmentsResult, lang: str) -> str:
    parts = []
    for seg in segments.segments:
        values = importance.per_segment.get(seg.key)
        if not values:
            continue
        first = values[0]
        parts.append(f"{seg.title.get(lang)}: {feature_label(first.feature, lang)} "
                     f"({_signed(first.value, lang, digits=3)})")
    if lang == "ru":
        return "Средний SHAP-вклад главных признаков по сегментам; сильнейший вклад — " + "; ".join(parts) + "."
    return "Mean SHAP contribution of the top features by segment; the strongest — " + "; ".join(parts) + "."


def _alt_waterfall(example: CustomerExplanation, lang: str) -> str:
    first = example.contributions[0] if example.contributions else None
    prob = fmt_percent(example.probability, lang)
    base = fmt_number(example.base_value, lang, digits=2)
    if lang == "ru":
        text = (f"Разбор прогноза для клиента {example.id}: вероятность снижения {prob}, средний прогноз модели "
                f"{base}.")
        if first is not None:
            text += (f" Главный вклад: {_quote(feature_label(first.feature, lang), lang)} = "
                     f"{_value_text(first.value, lang)} ({_signed(first.shap, lang)}).")
        return text
    text = f"Explanation of the prediction for customer {example.id}: probability of decline {prob}, average {base}."
    if first is not None:
        text += (f" Largest contribution: {_quote(feature_label(first.feature, lang), lang)} = "
                 f"{_value_text(first.value, lang)} ({_signed(first.shap, lang)}).")
    return text


def _alt_scatter(segments: SegmentsResult, lang: str) -> str:
    parts = "; ".join(f"{s.title.get(lang)} — {_count(s.n_customers, lang)} ({fmt_percent(s.share, lang)})"
                      for s in segments.segments)
    p = fmt_number(segments.probability_threshold, lang, digits=2)
    m = fmt_number(segments.profit_threshold, lang, digits=2)
    n = len(segments.scatter.probability)
    if lang == "ru":
        text = (f"Диаграмма рассеяния {_count(n, lang)} клиентов: вероятность снижения и прибыль, пороги {p} и {m} "
                f"делят клиентов на четыре сегмента: {parts}.")
        return text + (" Показана случайная выборка." if segments.scatter.sampled else "")
    text = (f"Scatter of {_count(n, lang)} customers: probability of decline against profit; thresholds {p} and {m} "
            f"split them into four segments: {parts}.")
    return text + (" A random sample is shown." if segments.scatter.sampled else "")


def _alt_profile(segment: Segment, lang: str) -> str:
    contrasts = sorted(segment.profile.contrasts, key=lambda c: -abs(c.effect_size))[:3]
    versus = "; ".join(f"{feature_label(c.feature, lang)}: "
                       + _t("versus", lang, a=fmt_number(c.segment_mean, lang, digits=2),
                            b=fmt_number(c.others_mean, lang, digits=2))
                       for c in contrasts)
    title = _quote(segment.title.get(lang), lang)
    if lang == "ru":
        return (f"Профиль сегмента {title} ({_count(segment.n_customers, lang)} клиентов): самые заметные отличия "
                f"от остальных клиентов — {versus}.")
    return (f"Profile of the segment {title} ({_count(segment.n_customers, lang)} customers): the largest "
            f"differences from the other customers — {versus}.")


# --------------------------------------------------------------------------------------------
# Assets
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureAsset:
    """One serialised figure, ready to embed in HTML (and so in the PDF)."""

    key: str
    svg: str | None
    png: bytes | None
    alt: str
    width_cm: float

    def data_uri(self) -> str:
        """The figure as a ``data:`` URI (SVG preferred)."""
        if self.svg is not None:
            return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode("utf-8")).decode("ascii")
        if self.png is not None:
            return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")
        raise ValueError(f"figure {self.key!r} has no content")

    @property
    def mime(self) -> str:
        """The MIME type of :meth:`data_uri`."""
        return "image/svg+xml" if self.svg is not None else "image/png"

    @property
    def size_bytes(self) -> int:
        """Size of the serialised figure in bytes."""
        if self.svg is not None:
            return len(self.svg.encode("utf-8"))
        return len(self.png or b"")


def _asset(key: str, fig: Figure, alt: str, *, dpi: int, png: bool = False) -> FigureAsset:
    width_cm = round(float(fig.get_size_inches()[0]) / style.CM, 2)
    try:
        if png:
            return FigureAsset(key=key, svg=None, png=style.to_png(fig, dpi=dpi), alt=alt, width_cm=width_cm)
        return FigureAsset(key=key, svg=style.to_svg(fig, rasterize_dpi=dpi), png=None, alt=alt, width_cm=width_cm)
    finally:
        fig.clear()


def build_figures(results: Results, *, lang: str, dpi: int = style.DPI,
                  rasterize_above: int = 200) -> dict[str, FigureAsset]:
    """Draw and serialise every figure of the report for ``lang``.

    Parameters
    ----------
    results : Results
        The analysis results (only read).
    lang : {"ru", "en"}
        Language of the labels and the alt texts.
    dpi : int
        Resolution of the raster layers inside SVG (dense point clouds).
    rasterize_above : int
        Point layers with more points than this are rasterised inside the SVG.

    Returns
    -------
    dict of str to FigureAsset
        In report order, keyed by stable ids: ``ishikawa``, ``eda-<feature>`` for every
        numeric and categorical feature, ``phik``, ``model-comparison``, ``roc``,
        ``calibration``, ``confusion``, ``shap-bar``, ``shap-beeswarm``, ``shap-segments``,
        ``shap-waterfall-<segment>`` per explained customer, ``segments-scatter`` and
        ``segment-<segment>`` per segment.  Every asset is SVG; the beeswarm and the scatter
        carry their points as one embedded raster image when dense.
    """
    _check_lang(lang)
    assets: dict[str, FigureAsset] = {}

    def add(key: str, make: Callable[[], Figure], alt: str) -> None:
        if key in assets:
            raise ValueError(f"duplicate figure key {key!r}")
        assets[key] = _asset(key, make(), alt, dpi=dpi)

    add("ishikawa", lambda: ishikawa_figure(results, lang=lang), _alt_ishikawa(results, lang))
    for cat in results.eda.categorical:
        add(f"eda-{cat.feature}", lambda c=cat: categorical_feature_figure(c, lang=lang), _alt_categorical(cat, lang))
    for num in results.eda.numeric:
        add(f"eda-{num.feature}", lambda n=num: numeric_feature_figure(n, lang=lang), _alt_numeric(num, lang))
    add("phik", lambda: phik_heatmap(results.correlation, lang=lang), _alt_phik(results.correlation, lang))
    model = results.model
    add("model-comparison", lambda: model_comparison_figure(model, lang=lang), _alt_models(model, lang))
    add("roc", lambda: roc_figure(model, lang=lang), _alt_roc(model, lang))
    add("calibration", lambda: calibration_figure(model, lang=lang), _alt_calibration(model, lang))
    add("confusion", lambda: confusion_figure(model, lang=lang), _alt_confusion(model, lang))
    imp = results.importance
    add("shap-bar", lambda: shap_bar(imp, lang=lang), _alt_shap_bar(imp, lang))
    add("shap-beeswarm", lambda: shap_beeswarm(imp, lang=lang, rasterize_above=rasterize_above),
        _alt_beeswarm(imp, lang))
    add("shap-segments", lambda: shap_segments(imp, results.segments, lang=lang),
        _alt_shap_segments(imp, results.segments, lang))
    titles = {s.key: s.title.get(lang) for s in results.segments.segments}
    for example in imp.examples:
        key = f"shap-waterfall-{example.segment}"
        if key in assets:
            key = f"{key}-{example.id}"
        add(key, lambda e=example: shap_waterfall(e, lang=lang, output=imp.output,
                                                  segment_title=titles.get(e.segment)),
            _alt_waterfall(example, lang))
    add("segments-scatter", lambda: segments_scatter(results.segments, lang=lang, rasterize_above=rasterize_above),
        _alt_scatter(results.segments, lang))
    for seg in results.segments.segments:
        add(f"segment-{seg.key}", lambda s=seg: segment_profile_figure(s, lang=lang), _alt_profile(seg, lang))
    return assets
