"""Every chart of the report, drawn from the precomputed :class:`analysis.results.Results`.

"Compute once, plot many times": the analysis layer computed every number; each function
here takes the part of :class:`~analysis.results.Results` it needs plus ``lang`` (``"ru"`` or
``"en"``) and returns a :class:`~matplotlib.figure.Figure` made by
:func:`report.figures.style.figure` (object-oriented, no pyplot state).  Figures never fit,
test or estimate anything; the only arithmetic is what drawing needs (a class's share of a
bin, the running sum of a waterfall, the jitter of a beeswarm).

One function per chart *kind* — :func:`numeric_feature_figure` and
:func:`categorical_feature_figure` serve every feature — and one entry point,
:func:`build_figures`, which draws the whole set for one language and serialises it into
:class:`FigureAsset` objects.

Layout
------
No layout engine: every figure is laid out once, in centimetres, from the measured widths of
its labels (the glyph outlines that the SVG output embeds, see :func:`_width`).  A figure is
therefore drawn exactly once when serialised, which keeps :func:`build_figures` fast, and
labels are never clipped in the SVG (constrained layout measures hinted raster glyphs, about
4 % narrower than the outlines).

Formats
-------
WeasyPrint renders SVG with a pure-Python renderer in which every glyph of every label (the
report style embeds text as paths) costs about a millisecond: a simple chart costs 0.5–2 s,
the whole set of 34 charts 17–21 s of CPU.  The same set as PNG costs under 1 s.  So
:func:`build_figures` returns PNG by default (fast PDF) and SVG with ``vector=True`` (crisp
HTML); in SVG, the dense point layers (beeswarm, segment scatter) are embedded as one raster
image each (:func:`report.figures.style.rasterize_if_dense`).

Every number written on a chart or into an alt text is formatted for the language with
:mod:`report.format` (Babel) (decimal comma and no-break-space thousands in Russian).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
from matplotlib import colors as mcolors
from matplotlib import lines as mlines
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.collections import PolyCollection
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Text
from matplotlib.ticker import FixedLocator, Formatter, MaxNLocator, ScalarFormatter

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
from report.format import NBSP, fmt_auto, fmt_number, fmt_p_value, fmt_percent, fmt_signed
from report.i18n import catalogue, check_lang, data_value, feature_label, segment_title, translator
from report.figures import style
from report.figures import text as measure_text
from report.figures.ishikawa import draw_ishikawa
from report.figures.jobs import FigureAsset, collect_figures
from report.figures.registry import figure_keys, figure_subjects
from report.texts import skip_note

if TYPE_CHECKING:
    from analysis.pipeline import Findings
    from runtime.executor import Executor

__all__ = [
    "BEESWARM_CMAP",
    "GROUP_ORDER",
    "FIGURES",
    "FigureAsset",
    "build_figures",
    "calibration_figure",
    "categorical_feature_figure",
    "confusion_figure",
    "eda_categorical_grid",
    "eda_numeric_grid",
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

# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------

#: The Ishikawa diagram's bones, in drawing order (keys of ``results.data.groups``).
GROUP_ORDER: Final[tuple[str, ...]] = ("communication", "product", "purchasing", "site")
_EFFECT_SYMBOL: Final[Mapping[str, str]] = {"rank_biserial": "r", "cramers_v": "V"}


def _t(key: str, lang: str, **kwargs: object) -> str:
    """The chart message ``chart.<key>`` of the catalogue of ``lang``."""
    return translator(lang)(f"chart.{key}", **kwargs)


def _check_lang(lang: str) -> None:
    check_lang(lang)


def _class(name: str, lang: str) -> str:
    return _t(f"class.{name}", lang)


def level_label(level: str, lang: str) -> str:
    """The label of a categorical level in ``lang`` (the data hold the Russian values)."""
    return data_value(level, lang)


def _group_title(key: str, lang: str) -> str:
    return translator(lang)(f"chart.group.{key}") if f"chart.group.{key}" in catalogue(lang) else key


def _segment_title(key: str, lang: str) -> str:
    return segment_title(key, lang)


def _target_aware_label(name: str, lang: str) -> str:
    if name in ("target", "activity"):
        return _t("target", lang)
    return feature_label(name, lang)


def _wrap(text: str, width: int) -> str:
    return textwrap.fill(text, width=width, break_long_words=False, break_on_hyphens=False)


def _signed(value: float, lang: str, digits: int = 2) -> str:
    return fmt_signed(value, lang, digits=digits)


def _quote(text: str, lang: str) -> str:
    return translator(lang)("quote", text=text)


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
    effect = (fmt_number(test.effect_size, lang, digits=2) if test.effect_name == "cramers_v"
              else _signed(test.effect_size, lang))
    return f"{symbol}{NBSP}={NBSP}{effect} · {p_text} · {_t('magnitude.' + test.magnitude, lang)}"


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

    def set_locs(self, locs: list[float]) -> None:
        super().set_locs(locs)
        steps = np.diff(np.sort(np.asarray(locs, dtype=float))) * 100
        steps = steps[steps > 1e-9]
        step = float(steps.min()) if steps.size else 10.0
        self._digits = int(min(2, max(0, -math.floor(math.log10(step) + 1e-9))))

    def __call__(self, x: float, pos: int | None = None) -> str:
        return fmt_percent(x, self._lang, digits=self._digits)


def _locale_axis(axis: Axis, lang: str, *, percent: bool = False) -> None:
    axis.set_major_formatter(_PercentFormatter(lang) if percent else _LocaleFormatter(lang))


def _hide_grid(ax: Axes, axis: Literal["both", "x", "y"]) -> None:
    ax.grid(False, axis=axis)


def _inside(text: Text) -> Text:
    """A text drawn inside the axes; it never needs room in the layout."""
    text.set_in_layout(False)
    return text


# --------------------------------------------------------------------------------------------
# Manual layout, in centimetres
# --------------------------------------------------------------------------------------------

#: Centimetres per typographic point.
_PT: Final[float] = 2.54 / 72
#: Blank border around every figure.
_EDGE: Final[float] = 0.18
#: Tick mark plus the gap to its label (style: 3 pt + 2.5 pt), and the gap alone.
_TICK: Final[float] = 5.5 * _PT
_TICK0: Final[float] = 2.5 * _PT
#: Gap between tick labels and the axis label (matplotlib's default labelpad).
_LABELPAD: Final[float] = 4.0 * _PT
_SIZE_TICK: Final[float] = style.FONT_SIZES["tick"]
_SIZE_LABEL: Final[float] = style.FONT_SIZES["label"]
_SIZE_NOTE: Final[float] = style.FONT_SIZES["annotation"]
_SIZE_TITLE: Final[float] = style.FONT_SIZES["title"]
_width = measure_text.width_cm


def _widest(texts: Iterable[str], size: float, bold: bool = False) -> float:
    return max((_width(t, size, bold) for t in texts), default=0.0)


_line = measure_text.line_height_cm


def _n_lines(texts: Iterable[str]) -> int:
    return max((t.count("\n") + 1 for t in texts), default=1)


_wrap_cm = measure_text.wrap_greedy


def _tick_texts(axis: Axis) -> list[str]:
    """The major tick labels ``axis`` will draw (no drawing needed: limits are already set)."""
    lo, hi = sorted(axis.get_view_interval())
    tol = (hi - lo) * 1e-9
    locs = [float(v) for v in axis.get_major_locator()() if lo - tol <= v <= hi + tol]
    return [str(s) for s in axis.get_major_formatter().format_ticks(locs)]


def _ytick_width(ax: Axes, size: float = _SIZE_TICK) -> float:
    return _widest(_tick_texts(ax.yaxis), size)


def _xtick_height(ax: Axes, size: float = _SIZE_TICK) -> float:
    return _line(size, _n_lines(_tick_texts(ax.xaxis)))


def _place(ax: Axes, fig_size: tuple[float, float], *, left: float, bottom: float, width: float,
           height: float) -> None:
    """Put ``ax`` at a rectangle given in cm from the figure's lower-left corner."""
    w, h = fig_size
    ax.set_position((left / w, bottom / h, max(width, 0.1) / w, max(height, 0.1) / h))


@dataclass(frozen=True)
class _Header:
    """A figure title and an optional muted note under it, both flush with the figure's left edge."""

    title: str
    note: str
    width_cm: float

    @classmethod
    def make(cls, title: str, note: str | None, width_cm: float) -> _Header:
        wrapped = _wrap_cm(note, _SIZE_NOTE, width_cm - 2 * _EDGE) if note else ""
        return cls(title=_wrap_cm(title, _SIZE_TITLE, width_cm - 2 * _EDGE), note=wrapped, width_cm=width_cm)

    @property
    def height(self) -> float:
        """Height taken at the top of the figure, including the gap to what follows."""
        h = _EDGE + _line(_SIZE_TITLE, self.title.count("\n") + 1)
        if self.note:
            h += 0.08 + _line(_SIZE_NOTE, self.note.count("\n") + 1)
        return h + 0.22

    def draw(self, fig: Figure, height_cm: float) -> None:
        w = self.width_cm
        fig.text(_EDGE / w, 1 - _EDGE / height_cm, self.title, ha="left", va="top", fontsize=_SIZE_TITLE,
                 fontweight="bold", color=style.TEXT, linespacing=1.2)
        if self.note:
            y = _EDGE + _line(_SIZE_TITLE, self.title.count("\n") + 1) + 0.08
            fig.text(_EDGE / w, 1 - y / height_cm, self.note, ha="left", va="top", fontsize=_SIZE_NOTE,
                     color=style.TEXT_MUTED, linespacing=1.2)


def _left_margin(ytick_width: float, *, ylabel: str | None = None, ticks: bool = True) -> float:
    """Room at the left of an axes for its tick labels (and rotated axis label)."""
    m = _EDGE + ytick_width + (_TICK if ticks else _TICK0)
    if ylabel:
        m += _line(_SIZE_LABEL, ylabel.count("\n") + 1) + _LABELPAD
    return m


def _bottom_margin(xtick_height: float, *, xlabel: str | None = None, ticks: bool = True) -> float:
    """Room under an axes for its tick labels and axis label."""
    m = _EDGE + xtick_height + (_TICK if ticks else _TICK0)
    if xlabel:
        m += _line(_SIZE_LABEL, xlabel.count("\n") + 1) + _LABELPAD
    return m


def _new(width_cm: float, height_cm: float) -> tuple[Figure, Axes]:
    """A report figure with one axes, without layout engine (laid out by hand, drawn once)."""
    fig, ax = style.figure(width_cm=width_cm, height_cm=height_cm, layout=None)
    assert isinstance(ax, Axes)
    return fig, ax


def _new_grid(width_cm: float, height_cm: float, *, nrows: int = 1, ncols: int = 1, sharex: bool = False,
              sharey: bool = False, squeeze: bool = True) -> tuple[Figure, np.ndarray]:
    """A report figure with a grid of axes (an array, as :func:`_new`'s otherwise)."""
    fig, axes = style.figure(width_cm=width_cm, height_cm=height_cm, layout=None, nrows=nrows, ncols=ncols,
                             sharex=sharex, sharey=sharey, squeeze=squeeze)
    assert isinstance(axes, np.ndarray)
    return fig, axes


def _resize(fig: Figure, width_cm: float, height_cm: float) -> tuple[float, float]:
    fig.set_size_inches(width_cm * style.CM, height_cm * style.CM)
    return width_cm, height_cm


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


def segment_text_color(segment: Segment) -> str:
    """The segment's colour for text: light hues (orange) darkened until they read on white."""
    rgb = np.array(mcolors.to_rgb(segment_color(segment)))
    luminance = float(rgb @ np.array([0.2126, 0.7152, 0.0722]))
    if luminance > 0.45:  # orange, bluish green: darken towards black
        rgb = rgb * (0.45 / luminance)
    return mcolors.to_hex(np.clip(rgb, 0, 1))


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


def numeric_feature_figure(item: NumericEda, *, lang: str, width_cm: float = 16.0) -> Figure:
    """Distribution of one numeric feature in both classes: histogram and box plots.

    The histogram shows each class's share per bin (the classes differ in size); up to twelve
    bins are drawn side by side, more as overlaid steps.  The box plots below share the x axis
    and are drawn from the precomputed quartiles, whiskers, fliers and means (◇).
    """
    _check_lang(lang)
    edges = np.asarray(item.bin_edges, dtype=float)
    counts = {"declined": np.asarray(item.counts_declined, dtype=float),
              "stable": np.asarray(item.counts_stable, dtype=float)}
    stats = {"declined": item.declined, "stable": item.stable}
    colors = {"declined": style.DECLINED, "stable": style.STABLE}
    label = feature_label(item.feature, lang)
    header = _Header.make(label, _effect_note(item.test, lang), width_cm)
    ylabel = _t("class_share", lang)
    height_cm = 7.0

    with style.context():
        fig, (ax_h, ax_b) = _new_grid(width_cm, height_cm, nrows=2, sharex=True)
        n_bins = len(edges) - 1
        widths = np.diff(edges)
        if n_bins < 1:
            handles = [Patch(color=colors[n]) for n in ("declined", "stable")]
        elif n_bins <= 12:
            centers = edges[:-1] + widths / 2
            bar_w = widths * 0.4
            for offset, name in ((-0.5, "declined"), (0.5, "stable")):
                share = counts[name] / max(counts[name].sum(), 1.0)
                ax_h.bar(centers + offset * bar_w, share, width=bar_w, color=colors[name],
                         edgecolor="white", linewidth=0.4, zorder=2)
            handles = [Patch(color=colors[n]) for n in ("declined", "stable")]
            if n_bins <= 10 and np.allclose(widths, widths[0]) and np.allclose(centers, np.round(centers)):
                ax_b.xaxis.set_major_locator(FixedLocator(centers.tolist()))
        else:
            for name in ("stable", "declined"):
                share = counts[name] / max(counts[name].sum(), 1.0)
                ax_h.stairs(share, edges, fill=True, color=colors[name], alpha=0.18, linewidth=0, zorder=2)
                ax_h.stairs(share, edges, color=colors[name], linewidth=1.4, zorder=3)
            handles = [Patch(facecolor=style.tint(colors[n], amount=0.3), edgecolor=colors[n], linewidth=1.2)
                       for n in ("declined", "stable")]
        legend_labels = [f"{_class(n, lang)} (n{NBSP}={NBSP}{_count(stats[n].n, lang)})"
                         for n in ("declined", "stable")]
        # above the histogram, never over its bars
        ax_h.legend(handles, legend_labels, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2, borderaxespad=0.1,
                    handlelength=1.0, borderpad=0.1)
        ax_h.set_ylabel(ylabel)
        ax_h.set_ylim(0, None)
        ax_h.margins(y=0.12)
        ax_h.yaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 2.5, 5, 10]))
        _locale_axis(ax_h.yaxis, lang, percent=True)
        _hide_grid(ax_h, "x")

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
        class_labels = [_class("declined", lang), _class("stable", lang)]
        ax_b.set_yticks([1, 0], class_labels)
        ax_b.set_ylim(-0.6, 1.6)
        _hide_grid(ax_b, "y")
        ax_b.set_xlabel(label)
        _locale_axis(ax_b.xaxis, lang)
        lo = min(*edges[:1], item.declined.min, item.stable.min)
        hi = max(*edges[-1:], item.declined.max, item.stable.max)
        pad = (hi - lo) * 0.02 or 0.5
        ax_b.set_xlim(lo - pad, hi + pad)

        left = max(_left_margin(_ytick_width(ax_h), ylabel=ylabel), _left_margin(_widest(class_labels, _SIZE_TICK)))
        bottom = _bottom_margin(_xtick_height(ax_b), xlabel=label)
        right = _EDGE + max(0.25, _widest(_tick_texts(ax_b.xaxis)[-1:], _SIZE_TICK) / 2)
        top = header.height + _line(style.FONT_SIZES["legend"]) + 0.2
        gap = 0.25
        body = height_cm - top - bottom - gap
        h_box = min(1.9, body * 0.32)
        size = (width_cm, height_cm)
        _place(ax_b, size, left=left, bottom=bottom, width=width_cm - left - right, height=h_box)
        _place(ax_h, size, left=left, bottom=bottom + h_box + gap, width=width_cm - left - right,
               height=body - h_box)
        header.draw(fig, height_cm)
    return fig


def categorical_feature_figure(item: CategoricalEda, *, lang: str, width_cm: float = 16.0) -> Figure:
    """Share of each class per level of a categorical feature (100 % stacked bars).

    Levels are sorted by the share of declined customers (highest on top); the dashed line is
    the overall share over the levels; each level's size is written at the right.
    """
    _check_lang(lang)
    levels = sorted(item.levels, key=lambda lv: (-lv.declined_share, lv.level))
    n = len(levels)
    total_declined = sum(lv.declined for lv in levels)
    total = sum(lv.declined + lv.stable for lv in levels)
    overall = total_declined / max(total, 1)
    header = _Header.make(feature_label(item.feature, lang), _effect_note(item.test, lang), width_cm)
    xlabel = _t("declined_share", lang)
    level_texts = [_wrap(level_label(lv.level, lang), 30) for lv in levels]
    sizes = [lv.declined + lv.stable for lv in levels]
    size_texts = [f"n{NBSP}={NBSP}{_count(c, lang)}" for c in sizes]
    row = 0.62 if _n_lines(level_texts) == 1 else 0.72
    legend_row = _line(style.FONT_SIZES["legend"]) + 0.2

    with style.context():
        fig, ax = _new(width_cm, 6.0)
        y = np.arange(n)[::-1].astype(float)
        shares = np.array([lv.declined_share for lv in levels])
        ax.barh(y, shares, height=0.64, color=style.DECLINED, zorder=2, label=_class("declined", lang))
        ax.barh(y, 1 - shares, left=shares, height=0.64, color=style.tint(style.STABLE, amount=0.3),
                zorder=2, label=_class("stable", lang))
        note = _SIZE_NOTE
        for yi, share, text in zip(y, shares, size_texts, strict=True):
            if share >= 0.07:
                _inside(ax.text(share / 2, yi, fmt_percent(share, lang), ha="center", va="center",
                                color="white", fontsize=note, fontweight="bold", zorder=3))
            if 1 - share >= 0.07:
                _inside(ax.text(share + (1 - share) / 2, yi, fmt_percent(1 - share, lang), ha="center",
                                va="center", color=style.TEXT, fontsize=note, zorder=3))
            _inside(ax.text(1.012, yi, text, ha="left", va="center", fontsize=note, color=style.TEXT_MUTED,
                            transform=ax.get_yaxis_transform()))
        ax.axvline(overall, color=style.TEXT, linestyle=(0, (3, 2)), linewidth=0.9, zorder=4)
        _inside(ax.text(overall + 0.006, n - 0.5, f"{_t('average', lang)} {fmt_percent(overall, lang)}",
                        ha="left", va="center", fontsize=note, color=style.TEXT, zorder=4))
        ax.set_yticks(y, level_texts)
        ax.set_ylim(-0.55, n - 0.5 + 0.42)
        ax.set_xlim(0, 1)
        _locale_axis(ax.xaxis, lang, percent=True)
        ax.set_xlabel(xlabel)
        _hide_grid(ax, "y")
        ax.tick_params(axis="y", length=0)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2, borderaxespad=0.1,
                  handlelength=1.0, borderpad=0.1)

        left = _left_margin(_widest(level_texts, _SIZE_TICK), ticks=False)
        right = _EDGE + 0.15 + _widest(size_texts, note)
        bottom = _bottom_margin(_xtick_height(ax), xlabel=xlabel)
        top = header.height + legend_row
        height_cm = top + bottom + row * (n + 0.4)
        size = _resize(fig, width_cm, height_cm)
        _place(ax, size, left=left, bottom=bottom, width=width_cm - left - right, height=height_cm - top - bottom)
        header.draw(fig, height_cm)
    return fig


def _panel_header(fig: Figure, size: tuple[float, float], *, x: float, top: float, title: str, note: str) -> None:
    """A small multiple's title (bold) and note (muted), flush left at ``x`` cm, ``top`` cm from the top."""
    w, h = size
    fig.text(x / w, 1 - top / h, title, ha="left", va="top", fontsize=_SIZE_NOTE + 0.5, fontweight="bold",
             color=style.TEXT, linespacing=1.15)
    lines = title.count("\n") + 1
    fig.text(x / w, 1 - (top + _line(_SIZE_NOTE + 0.5, lines) + 0.04) / h, note, ha="left", va="top",
             fontsize=_SIZE_NOTE - 0.5, color=style.TEXT_MUTED, linespacing=1.15)


def _panel_head_height(title: str, note: str) -> float:
    return (_line(_SIZE_NOTE + 0.5, title.count("\n") + 1) + 0.04
            + _line(_SIZE_NOTE - 0.5, note.count("\n") + 1) + 0.12)


def _panel_note(test: TestResult, lang: str) -> str:
    """``r = −0,65 · эффект большой`` for a small multiple."""
    symbol = _EFFECT_SYMBOL.get(test.effect_name, test.effect_name)
    effect = (fmt_number(test.effect_size, lang, digits=2) if test.effect_name == "cramers_v"
              else _signed(test.effect_size, lang))
    return f"{symbol}{NBSP}={NBSP}{effect} · {_t('magnitude.' + test.magnitude, lang)}"


def _grid_legend(fig: Figure, size: tuple[float, float], handles: Sequence[Artist], labels: list[str]) -> None:
    w, h = size
    fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(_EDGE / w, 1 - _EDGE / h), ncols=len(labels),
               borderaxespad=0.0, handlelength=1.2, borderpad=0.1, frameon=False)


def eda_order(items: Sequence[NumericEda]) -> list[NumericEda]:
    """Numeric features by the size of their effect, largest first (the report's order)."""
    return sorted(items, key=lambda e: (-abs(e.test.effect_size), e.feature))


def eda_numeric_grid(items: Sequence[NumericEda], *, lang: str, width_cm: float = 16.0, columns: int = 4) -> Figure:
    """Small multiples: the distribution of every numeric feature in both classes.

    One panel per feature, in the order given (the report passes them by effect size): each
    class's share of customers per bin, as outlined steps on the same bins, so that the two
    classes compare at a glance; the panel's note gives the effect size and its name.
    """
    _check_lang(lang)
    colors = {"declined": style.DECLINED, "stable": style.STABLE}
    n = len(items)
    rows = max(1, math.ceil(n / columns))
    gap_x, edge = 0.45, _EDGE
    panel_w = (width_cm - 2 * edge - gap_x * (columns - 1)) / columns
    titles = [_wrap_cm(feature_label(item.feature, lang), _SIZE_NOTE + 0.5, panel_w) for item in items]
    notes = [_wrap_cm(_panel_note(item.test, lang), _SIZE_NOTE - 0.5, panel_w) for item in items]
    head = max((_panel_head_height(t, nt) for t, nt in zip(titles, notes, strict=True)), default=0.0)
    plot_h, tick_h = 1.6, _line(_SIZE_TICK - 0.5) + _TICK
    row_h = head + plot_h + tick_h + 0.3
    legend_h = _line(style.FONT_SIZES["legend"]) + 0.3
    height_cm = edge + legend_h + rows * row_h + edge
    size = (width_cm, height_cm)
    with style.context():
        fig, _ = _new(width_cm, height_cm)
        fig.delaxes(fig.axes[0])
        for i, item in enumerate(items):
            r, c = divmod(i, columns)
            x = edge + c * (panel_w + gap_x)
            top = edge + legend_h + r * row_h
            _panel_header(fig, size, x=x, top=top, title=titles[i], note=notes[i])
            ax = fig.add_axes((0, 0, 1, 1))
            edges = np.asarray(item.bin_edges, dtype=float)
            for name, counts in (("stable", item.counts_stable), ("declined", item.counts_declined)):
                share = np.asarray(counts, dtype=float)
                share = share / max(share.sum(), 1.0)
                ax.stairs(share, edges, fill=True, color=colors[name], alpha=0.15, linewidth=0, zorder=2)
                ax.stairs(share, edges, color=colors[name], linewidth=1.1, zorder=3)
            ax.set_xlim(edges[0], edges[-1])
            ax.set_ylim(0, None)
            ax.margins(y=0.08)
            ax.yaxis.set_major_locator(MaxNLocator(3, steps=[1, 2, 2.5, 5, 10]))
            whole = edges.size > 1 and np.allclose(np.diff(edges), 1.0)  # integer-valued feature
            ax.xaxis.set_major_locator(MaxNLocator(3, steps=[1, 2, 2.5, 5, 10], integer=whole))
            _locale_axis(ax.yaxis, lang, percent=True)
            _locale_axis(ax.xaxis, lang)
            ax.tick_params(labelsize=_SIZE_TICK - 0.5)
            _hide_grid(ax, "x")
            ytw = _widest(_tick_texts(ax.yaxis), _SIZE_TICK - 0.5) + _TICK
            _place(ax, size, left=x + ytw, bottom=height_cm - top - head - plot_h, width=panel_w - ytw - 0.15,
                   height=plot_h)
        handles = [Patch(facecolor=style.tint(colors[k], amount=0.3), edgecolor=colors[k], linewidth=1.1)
                   for k in ("declined", "stable")]
        _grid_legend(fig, size, handles, [_class(k, lang) for k in ("declined", "stable")])
    return fig


def eda_categorical_grid(items: Sequence[CategoricalEda], *, lang: str, width_cm: float = 16.0,
                         columns: int = 3) -> Figure:
    """Small multiples: the share of customers whose activity declined per level of every
    categorical feature, with the level's size; the dashed line is the share over all levels."""
    _check_lang(lang)
    n = len(items)
    gap_x, edge = 0.6, _EDGE
    note = _SIZE_NOTE - 0.5
    bar = 0.42
    # a row's width is shared by weight: a feature with more than two levels gets twice the room
    weights = [1.0 if len(item.levels) <= 2 else 2.0 for item in items]
    panel_ws: list[float] = []
    for start in range(0, n, columns):
        row_w = weights[start:start + columns]
        free = width_cm - 2 * edge - gap_x * (len(row_w) - 1)
        unit = free / max(sum(row_w), columns * 1.0 if len(row_w) == columns else sum(row_w))
        panel_ws += [w * unit for w in row_w]
    prepared = []
    for item, panel_w in zip(items, panel_ws, strict=True):
        levels = sorted(item.levels, key=lambda lv: (-lv.declined_share, lv.level))
        texts = [_wrap_cm(level_label(lv.level, lang), _SIZE_TICK - 0.5, panel_w * 0.45) for lv in levels]
        prepared.append((item, levels, texts))
    titles = [_wrap_cm(feature_label(item.feature, lang), _SIZE_NOTE + 0.5, w)
              for item, w in zip(items, panel_ws, strict=True)]
    notes = [_wrap_cm(_panel_note(item.test, lang), note, w) for item, w in zip(items, panel_ws, strict=True)]
    head = max((_panel_head_height(t, nt) for t, nt in zip(titles, notes, strict=True)), default=0.0)
    tick_h = _line(_SIZE_TICK - 0.5) + _TICK
    rows = [prepared[i:i + columns] for i in range(0, n, columns)]
    row_heights = [head + max(sum(max(bar, _line(_SIZE_TICK - 0.5, t.count("\n") + 1) + 0.08) for t in texts)
                              for _, _, texts in row) + tick_h + 0.35 for row in rows]
    legend_h = _line(style.FONT_SIZES["legend"]) + 0.3
    height_cm = edge + legend_h + sum(row_heights) + edge
    size = (width_cm, height_cm)
    with style.context():
        fig, _ = _new(width_cm, height_cm)
        fig.delaxes(fig.axes[0])
        top = edge + legend_h
        for r, row in enumerate(rows):
            x = edge
            for c, (_, levels, texts) in enumerate(row):
                i = r * columns + c
                panel_w = panel_ws[i]
                _panel_header(fig, size, x=x, top=top, title=titles[i], note=notes[i])
                heights = [max(bar, _line(_SIZE_TICK - 0.5, t.count("\n") + 1) + 0.08) for t in texts]
                plot_h = sum(heights)
                ax = fig.add_axes((0, 0, 1, 1))
                centers = plot_h - (np.cumsum(heights) - np.asarray(heights) / 2)
                shares = np.array([lv.declined_share for lv in levels])
                ax.barh(centers, shares, height=bar * 0.8, color=style.DECLINED, zorder=2)
                total = sum(lv.declined + lv.stable for lv in levels)
                overall = sum(lv.declined for lv in levels) / max(total, 1)
                ax.axvline(overall, color=style.TEXT, linestyle=(0, (3, 2)), linewidth=0.8, zorder=4)
                sizes = [f"{fmt_percent(s, lang)} · n{NBSP}={NBSP}{_count(lv.declined + lv.stable, lang)}"
                         for s, lv in zip(shares, levels, strict=True)]
                for yc, sh, text in zip(centers, shares, sizes, strict=True):
                    _inside(ax.text(sh + 0.015, yc, text, ha="left", va="center", fontsize=note, zorder=5,
                                    color=style.TEXT_MUTED, bbox={"facecolor": "white", "edgecolor": "none",
                                                                  "pad": 0.6}))
                ax.set_yticks(centers, texts)
                ax.set_ylim(0, plot_h)
                ax.set_xlim(0, 1)
                ax.xaxis.set_major_locator(FixedLocator([0, 0.5, 1.0] if panel_w < 5 else [0, 0.25, 0.5, 0.75, 1.0]))
                _locale_axis(ax.xaxis, lang, percent=True)
                ax.tick_params(labelsize=_SIZE_TICK - 0.5)
                ax.tick_params(axis="y", length=0)
                _hide_grid(ax, "y")
                lw = _widest(texts, _SIZE_TICK - 0.5) + _TICK0
                _place(ax, size, left=x + lw, bottom=height_cm - top - head - plot_h, width=panel_w - lw - 0.2,
                       height=plot_h)
                x += panel_w + gap_x
            top += row_heights[r]
        handles = [Patch(color=style.DECLINED), mlines.Line2D([], [], color=style.TEXT, linestyle=(0, (3, 2)),
                                                                 linewidth=0.8)]
        _grid_legend(fig, size, handles, [_t("declined_share", lang), _t("overall_share", lang)])
    return fig


# --------------------------------------------------------------------------------------------
# 2. Ishikawa
# --------------------------------------------------------------------------------------------


def ishikawa_figure(results: Results | Findings, *, lang: str) -> Figure:
    """The fishbone diagram of the four feature groups leading to the decline."""
    _check_lang(lang)
    order = [k for k in GROUP_ORDER if k in results.data.groups]
    order += [k for k in results.data.groups if k not in GROUP_ORDER]
    groups = [
        (_group_title(key, lang),
         [feature_label(f, lang) for f in results.data.groups[key]])
        for key in order
        if results.data.groups[key]
    ]
    return draw_ishikawa(effect=_t("effect", lang), groups=groups, width_cm=16, height_cm=9)


# --------------------------------------------------------------------------------------------
# 3. phik
# --------------------------------------------------------------------------------------------


def phik_heatmap(correlation: CorrelationResult, *, lang: str, width_cm: float = 16.0) -> Figure:
    """The φK matrix (lower triangle without the diagonal), annotated, flagged pairs outlined.

    The cells are as large as the width allows and the figure is as tall as the square grid
    needs; the colour bar and the legend sit in the empty upper triangle.
    """
    _check_lang(lang)
    labels = list(correlation.phik.labels)
    n = len(labels)
    values = np.array([[np.nan if v is None else float(v) for v in row] for row in correlation.phik.values],
                      dtype=float).reshape(n, n)
    names = [_target_aware_label(name, lang) for name in labels]
    is_target = [name in ("target", "activity") for name in labels]
    # Lower triangle without the diagonal: rows 1..n-1, columns 0..n-2.
    rows, cols = list(range(1, n)), list(range(n - 1))
    m = max(n - 1, 1)
    sub = values[1:, : n - 1] if n > 1 else np.full((1, 1), np.nan)
    cmap, norm = style.SEQUENTIAL_CMAP, Normalize(vmin=0.0, vmax=1.0)
    rgba = cmap(norm(np.ma.masked_invalid(sub)))
    cells = [(i, j) for i in range(sub.shape[0]) for j in range(i + 1)]
    rows_used = correlation.sample_rows or correlation.n_rows
    header = _Header.make(_t("phik_title", lang), f"{_customers(rows_used, lang)}", width_cm)

    label_size, angle = 7.0, 45.0
    y_width = max((_width(names[r], label_size, is_target[r]) for r in rows), default=1.0)
    x_width = _widest((names[c] for c in cols), label_size)
    rad = math.radians(angle)
    left = _EDGE + y_width + _TICK0
    right = _EDGE + 0.1
    grid = width_cm - left - right
    cell = grid / m
    # The first column's label runs down to the left from its cell: keep it on the page.
    left = max(left, _EDGE + x_width * math.cos(rad) - 0.5 * cell)
    grid = width_cm - left - right
    cell = grid / m
    bottom = _EDGE + _TICK0 + x_width * math.sin(rad) + _line(label_size) * math.cos(rad)
    top = header.height
    height_cm = top + grid + bottom

    with style.context():
        fig, ax = _new(width_cm, height_cm)
        _place(ax, (width_cm, height_cm), left=left, bottom=bottom, width=grid, height=grid)
        # Vector cells (crisp in every viewer), thin white gaps between them.
        ax.add_collection(PolyCollection(
            [((j - 0.5, i - 0.5), (j + 0.5, i - 0.5), (j + 0.5, i + 0.5), (j - 0.5, i + 0.5)) for i, j in cells],
            facecolors=[rgba[i, j] for i, j in cells], edgecolors="white", linewidths=0.6))
        ax.grid(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        size = float(min(6.5, max(4.5, cell / _PT * 0.30)))
        for i in range(sub.shape[0]):
            for j in range(i + 1):
                v = sub[i, j]
                text = "—" if not math.isfinite(v) else fmt_number(v, lang, digits=2)
                dark = math.isfinite(v) and v >= 0.55
                ax.text(j, i, text, ha="center", va="center", fontsize=size,
                        color="white" if dark else style.TEXT)
        ax.set_xticks(range(len(cols)), [names[c] for c in cols], rotation=angle, ha="right",
                      rotation_mode="anchor")
        ax.set_yticks(range(len(rows)), [names[r] for r in rows])
        ax.tick_params(axis="both", length=0, labelsize=label_size, pad=2.5)
        ax.set_xlim(-0.5, m - 0.5)
        ax.set_ylim(m - 0.5, -0.5)
        for tick, r in zip(ax.get_yticklabels(), rows, strict=True):
            if is_target[r]:
                tick.set_fontweight("bold")
                tick.set_color(style.TEXT)
        index = {name: k for k, name in enumerate(labels)}
        for pair in correlation.flagged_pairs:
            if pair.a not in index or pair.b not in index or pair.a == pair.b:
                continue
            r, c = max(index[pair.a], index[pair.b]), min(index[pair.a], index[pair.b])
            ax.add_patch(Rectangle((c - 0.5, r - 1 - 0.5), 1, 1, fill=False, edgecolor=style.ACCENT,
                                   linewidth=2.0, zorder=5))
        # Colour bar and legend in the empty upper triangle.
        cax = ax.inset_axes((0.50, 0.90, 0.46, 0.03))
        bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal")
        bar.outline.set_linewidth(0.4)  # type: ignore[operator]  # stub: Colorbar.outline is a Spine, not a Spines mapping
        cax.tick_params(labelsize=6.5, length=2, pad=1.5)
        cax.xaxis.set_major_locator(MaxNLocator(5))
        _locale_axis(cax.xaxis, lang)
        cax.set_title(_t("phik_cbar", lang), fontsize=7.0, fontweight="normal", loc="left", pad=3)
        ax.add_patch(Rectangle((0.50, 0.775), 0.028, 0.028, transform=ax.transAxes, fill=False,
                               edgecolor=style.ACCENT, linewidth=2.0, clip_on=False))
        flagged = _t("phik_flagged", lang, t=fmt_number(correlation.threshold, lang, digits=1))
        ax.text(0.545, 0.789, _wrap_cm(flagged, 7.0, 0.43 * grid), transform=ax.transAxes, fontsize=7.0,
                va="center", ha="left", color=style.TEXT, linespacing=1.15)
        header.draw(fig, height_cm)
    return fig


# --------------------------------------------------------------------------------------------
# 4–5. Model
# --------------------------------------------------------------------------------------------


def _family(name: str, family: str, lang: str) -> str:
    key = f"chart.family.{family}"
    return translator(lang)(key) if key in catalogue(lang) else name


def model_comparison_figure(model: ModelResult, *, lang: str, width_cm: float = 16.0) -> Figure:
    """Cross-validated ROC-AUC (mean ± std) of every candidate, best on top, the selected highlighted.

    Bars start at 0.5 (chance level); skipped candidates are listed at the bottom, marked so.
    """
    _check_lang(lang)
    ranked = sorted((c for c in model.candidates if not c.skipped and c.cv_roc_auc_mean is not None),
                    key=lambda c: (-(c.cv_roc_auc_mean or 0.0), c.name))
    skipped = [c for c in model.candidates if c.skipped or c.cv_roc_auc_mean is None]
    order = ranked + skipped
    n = max(len(order), 1)
    base = 0.5
    names = [_family(c.name, c.family, lang) for c in order]
    selected = [c.name == model.selected.name for c in order]
    header = _Header.make(_t("model_title", lang),
                          _t("cv_note", lang, k=model.cv_folds, r=model.cv_repeats, count=model.selection_rows,
                             n=_count(model.selection_rows, lang)), width_cm)
    xlabel = _t("model_x", lang)
    with style.context():
        fig, ax = _new(width_cm, 6.0)
        y = np.arange(len(order))[::-1].astype(float)
        note = _SIZE_NOTE
        for yi, cand, sel in zip(y, order, selected, strict=True):
            if cand in skipped:
                text = (translator(lang)("model.skipped", note=skip_note(cand.note, lang=lang)) if cand.note
                        else _t("skipped", lang))
                _inside(ax.text(base + 0.006, yi, text, va="center", ha="left", fontsize=note,
                                color=style.TEXT_MUTED, fontstyle="italic"))
                continue
            mean, std = cand.cv_roc_auc_mean or 0.0, cand.cv_roc_auc_std or 0.0
            color = style.ACCENT if sel else style.tint(style.NEUTRAL, amount=0.45)
            ax.barh(yi, mean - base, left=base, height=0.62, color=color, zorder=2)
            ax.errorbar(mean, yi, xerr=std, fmt="none", ecolor=style.TEXT, elinewidth=0.9,
                        capsize=2.5, capthick=0.9, zorder=3)
            text = f"{fmt_number(mean, lang, digits=3)} ± {fmt_number(std, lang, digits=3)}"
            if sel:
                text += f" · {_t('selected', lang)}"
            _inside(ax.text(base + 0.006, yi, text, va="center", ha="left", fontsize=note, zorder=4,
                            color=style.TEXT, fontweight="bold" if sel else "normal"))
        ax.set_yticks(y, names)
        for tick, sel in zip(ax.get_yticklabels(), selected, strict=True):
            if sel:
                tick.set_fontweight("bold")
                tick.set_color(style.TEXT)
        ax.tick_params(axis="y", length=0)
        ax.set_xlim(base, 1.0)
        ax.set_ylim(-0.6, n - 0.4)
        _hide_grid(ax, "y")
        _locale_axis(ax.xaxis, lang)
        ax.set_xlabel(xlabel)
        label_w = max(_widest([t for t, s in zip(names, selected, strict=True) if not s], _SIZE_TICK),
                      _widest([t for t, s in zip(names, selected, strict=True) if s], _SIZE_TICK, True) * 1.04)
        left = _left_margin(label_w, ticks=False)  # bold is hinted wider still in raster output
        bottom = _bottom_margin(_xtick_height(ax), xlabel=xlabel)
        right = _EDGE + 0.35
        top = header.height
        height_cm = top + bottom + 0.56 * (n + 0.3)
        size = _resize(fig, width_cm, height_cm)
        _place(ax, size, left=left, bottom=bottom, width=width_cm - left - right, height=height_cm - top - bottom)
        header.draw(fig, height_cm)
    return fig


def _square_layout(ax: Axes, *, x0: float, x1: float, ylabel: str, xlabel: str) -> tuple[float, float, float]:
    """``(left, bottom, side)`` in cm of the largest square axes between ``x0`` and ``x1``."""
    left = x0 + _left_margin(_ytick_width(ax), ylabel=ylabel)
    bottom = _bottom_margin(_xtick_height(ax), xlabel=xlabel)
    right = _EDGE + max(0.15, _widest(_tick_texts(ax.xaxis)[-1:], _SIZE_TICK) / 2)
    return left, bottom, x1 - left - right


def _place_squares(fig: Figure, panels: Sequence[tuple[Axes, tuple[float, float, float]]], *, width: float,
                   header: _Header) -> None:
    """Size the figure to fit the square panels under the header, place them and draw the header."""
    side = min(s for _, (_, _, s) in panels)
    bottom = max(b for _, (_, b, _) in panels)
    height = header.height + side + bottom
    size = _resize(fig, width, height)
    for ax, (left, _, _) in panels:
        _place(ax, size, left=left, bottom=bottom, width=side, height=side)
    header.draw(fig, height)


def roc_figure(model: ModelResult, *, lang: str, with_pr: bool = False, width_cm: float | None = None) -> Figure:
    """ROC curve on the test set with the operating point; with ``with_pr`` also the PR curve.

    The single ROC panel is 8.5 cm wide (half the text width, next to the calibration
    diagram); with the precision–recall panel the figure is 16 cm wide.
    """
    _check_lang(lang)
    cm = model.confusion
    fpr_point = cm.fp / max(cm.fp + cm.tn, 1)
    threshold = fmt_number(cm.threshold, lang, digits=2)
    curve_color = style.OKABE_ITO["blue"]
    width = width_cm or (16.0 if with_pr else 8.5)
    title = _t("roc_title", lang) if not with_pr else f"{_t('roc_title', lang)} · {_t('pr_title', lang)}"
    header = _Header.make(title, _t("test_note", lang, count=model.test.n, n=_count(model.test.n, lang)), width)
    panel = width / (2 if with_pr else 1)
    with style.context():
        fig, axes = _new_grid(width, header.height + panel, ncols=2 if with_pr else 1, squeeze=False)
        ax_roc = axes[0, 0]
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
        panels = [(ax_roc, _t("fpr", lang), _t("tpr", lang))]
        if with_pr:
            ax_pr = axes[0, 1]
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
            panels.append((ax_pr, _t("recall", lang), _t("precision", lang)))
        layout = []
        for i, (ax, xlabel, ylabel) in enumerate(panels):
            ax.set_xlim(-0.01, 1.01)
            ax.set_ylim(-0.01, 1.02)
            ax.xaxis.set_major_locator(MaxNLocator(6))
            ax.yaxis.set_major_locator(MaxNLocator(6))
            _locale_axis(ax.xaxis, lang)
            _locale_axis(ax.yaxis, lang)
            layout.append((ax, _square_layout(ax, x0=i * panel, x1=(i + 1) * panel, ylabel=ylabel, xlabel=xlabel)))
        _place_squares(fig, layout, width=width, header=header)
    return fig


def calibration_figure(model: ModelResult, *, lang: str, width_cm: float = 8.5) -> Figure:
    """Reliability diagram: predicted probability against the observed share, per group of customers
    (equal-count bins of the prediction), each with the interval of its observed share; a group
    whose interval misses the diagonal is drawn hollow."""
    _check_lang(lang)
    check = model.calibration_check
    if check is not None:
        x = np.array([b.predicted for b in check.bins])
        y = np.array([b.observed for b in check.bins])
        lo = np.array([b.lo for b in check.bins])
        hi = np.array([b.hi for b in check.bins])
        covered = np.array([b.covered for b in check.bins])
        n_per_bin = sorted({b.n for b in check.bins})
    else:  # results written before the interval per bin
        curve = model.calibration_curve
        x, y = np.asarray(curve.x, dtype=float), np.asarray(curve.y, dtype=float)
        lo, hi, covered = y, y, np.ones(x.shape, dtype=bool)
        n_per_bin = sorted(set(curve.counts))
    note = (_t("test_note", lang, count=model.test.n, n=_count(model.test.n, lang))
            + " · " + _t("brier", lang, value=fmt_number(model.test.brier, lang, digits=3)))
    header = _Header.make(_t("cal_title", lang), note, width_cm)
    xlabel, ylabel = _t("cal_x", lang), _t("cal_y", lang)
    n_text = (_count(n_per_bin[0], lang) if len(n_per_bin) == 1
              else f"{_count(n_per_bin[0], lang)}–{_count(n_per_bin[-1], lang)}") if n_per_bin else "—"
    level = fmt_percent(check.level, lang) if check is not None else ""
    with style.context():
        fig, ax = _new(width_cm, header.height + width_cm)
        ax.plot([0, 1], [0, 1], color=style.NEUTRAL, linestyle=(0, (3, 2)), linewidth=0.9,
                label=_t("cal_ideal", lang))
        ax.plot(x, y, color=style.OKABE_ITO["blue"], linewidth=1.0, zorder=2)
        if check is not None:
            ax.errorbar(x, y, yerr=[y - lo, hi - y], fmt="none", ecolor=style.OKABE_ITO["blue"], elinewidth=0.9,
                        capsize=2.0, zorder=2, label=_t("cal_interval", lang, level=level))
        ax.scatter(x[covered], y[covered], s=22, color=style.OKABE_ITO["blue"], edgecolor="white", linewidth=0.6,
                   zorder=3, label=_t("cal_points", lang, n=n_text), clip_on=False)
        if (~covered).any():
            ax.scatter(x[~covered], y[~covered], s=22, facecolor="white", edgecolor=style.DECLINED, linewidth=1.1,
                       zorder=4, label=_t("cal_missed", lang), clip_on=False)
        ax.set_xlim(-0.03, 1.03)
        ax.set_ylim(-0.03, 1.03)
        ax.xaxis.set_major_locator(MaxNLocator(6))
        ax.yaxis.set_major_locator(MaxNLocator(6))
        _locale_axis(ax.xaxis, lang, percent=True)
        _locale_axis(ax.yaxis, lang, percent=True)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.legend(loc="upper left", fontsize=style.FONT_SIZES["legend"] - 0.5)
        _place_squares(fig, [(ax, _square_layout(ax, x0=0.0, x1=width_cm, ylabel=ylabel, xlabel=xlabel))],
                       width=width_cm, header=header)
    return fig


def confusion_figure(model: ModelResult, *, lang: str, width_cm: float = 8.5) -> Figure:
    """The 2×2 confusion matrix on the test set (positive = activity declined), threshold in the title."""
    _check_lang(lang)
    cm = model.confusion
    matrix = np.array([[cm.tp, cm.fn], [cm.fp, cm.tn]], dtype=float)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1.0)
    correct = np.array([[True, False], [False, True]])
    note = (f"{_t('precision', lang)} {fmt_percent(cm.precision, lang)} · "
            f"{_t('recall', lang).lower()} {fmt_percent(cm.recall, lang)} · "
            + _t("test_note", lang, count=model.test.n, n=_count(model.test.n, lang)))
    header = _Header.make(_t("conf_title", lang, t=fmt_number(cm.threshold, lang, digits=2)), note, width_cm)
    names = [_class("declined", lang), _class("stable", lang)]
    predicted, actual = _t("predicted", lang), _t("actual", lang)
    with style.context():
        fig, ax = _new(width_cm, 7.0)
        colors = np.empty((2, 2, 4))
        for i in range(2):
            for j in range(2):
                hue = style.STABLE if correct[i, j] else style.DECLINED
                colors[i, j] = mcolors.to_rgba(style.tint(hue, amount=min(0.12 + 0.75 * shares[i, j], 1.0)))
        ax.imshow(colors, interpolation="nearest", aspect="auto")
        ax.grid(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        for i in range(2):
            for j in range(2):
                dark = 0.12 + 0.75 * shares[i, j] > 0.55
                ink = "white" if dark else style.TEXT
                ax.text(j, i - 0.1, _count(int(matrix[i, j]), lang), ha="center", va="center",
                        fontsize=13, fontweight="bold", color=ink)
                ax.text(j, i + 0.2, f"{fmt_percent(shares[i, j], lang)} {_t('of_class', lang)}",
                        ha="center", va="center", fontsize=7.5, color=ink)
        ax.set_xticks([0, 1], names)
        ax.set_yticks([0, 1], names, rotation=90, va="center")
        ax.tick_params(axis="both", length=0, labelsize=_SIZE_LABEL)
        ax.xaxis.set_label_position("top")
        ax.xaxis.tick_top()
        ax.set_xlabel(predicted, labelpad=4)
        ax.set_ylabel(actual, labelpad=4)
        left = _EDGE + 2 * _line(_SIZE_LABEL) + _TICK0 + 4 * _PT
        top = header.height + 2 * _line(_SIZE_LABEL) + _TICK0 + 4 * _PT
        side_cm = width_cm - left - _EDGE - 0.1
        height = top + side_cm * 0.8 + _EDGE
        size = _resize(fig, width_cm, height)
        _place(ax, size, left=left, bottom=_EDGE, width=side_cm, height=side_cm * 0.8)
        header.draw(fig, height)
    return fig


# --------------------------------------------------------------------------------------------
# 6. SHAP
# --------------------------------------------------------------------------------------------

#: Beeswarm colours: low feature values blue, high values red (Okabe–Ito ends, purple midway).
BEESWARM_CMAP: Final = LinearSegmentedColormap.from_list(
    "oneclick_beeswarm", [style.OKABE_ITO["blue"], "#9A5EA8", style.OKABE_ITO["vermillion"]]
)


def _shap_unit(output: str, lang: str) -> str:
    key = output if f"chart.shap_unit.{output}" in catalogue(lang) else "decision_function"
    return _t(f"shap_unit.{key}", lang)


def _feature_labels(features: Sequence[str], lang: str, width: int = 40) -> list[str]:
    return [_wrap(feature_label(f, lang), width) for f in features]


def shap_bar(importance: ImportanceResult, *, lang: str, width_cm: float = 16.0) -> Figure:
    """Mean |SHAP| per feature (left) next to permutation importance ± std (right), same order."""
    _check_lang(lang)
    features = [fv.feature for fv in importance.global_importance]
    shap_values = np.array([fv.value for fv in importance.global_importance], dtype=float)
    perm = {fv.feature: fv for fv in importance.permutation}
    n = max(len(features), 1)
    labels = _feature_labels(features, lang)
    xlabel_s = _wrap_cm(_t("shap_mean_abs", lang, u=_shap_unit(importance.output, lang)), _SIZE_LABEL, 6.5)
    xlabel_p = _wrap_cm(_t("perm_x", lang), _SIZE_LABEL, 5.5)
    header = _Header.make(_t("shap_title", lang), None, width_cm)
    # the two panels' widths first: each title is wrapped to its own panel, with a gap between them
    left = _left_margin(_widest(labels, _SIZE_TICK), ticks=False)
    gap, right = 0.7, _EDGE + 0.35
    body = width_cm - left - right - gap
    w_s = body * 0.55
    title_s = _wrap_cm(_t("shap_panel", lang), _SIZE_LABEL, w_s - 0.1)
    title_p = _wrap_cm(_t("perm_title", lang), _SIZE_LABEL, body - w_s - 0.1)
    subtitle = _line(_SIZE_LABEL, max(_n_lines([title_s]), _n_lines([title_p]))) + 6 * _PT
    with style.context():
        fig, (ax_s, ax_p) = _new_grid(width_cm, 8.0, ncols=2, sharey=True)
        y = np.arange(len(features))[::-1].astype(float)
        ax_s.set_yticks(y, labels)
        ax_s.tick_params(axis="y", length=0)
        ax_s.barh(y, shap_values, height=0.66, color=style.OKABE_ITO["blue"], zorder=2)
        top_value = float(shap_values.max()) if shap_values.size else 1.0
        for yi, v in zip(y, shap_values, strict=True):
            _inside(ax_s.text(v + top_value * 0.015, yi, fmt_number(v, lang, digits=3), va="center", ha="left",
                              fontsize=6.5, color=style.TEXT_MUTED))
        ax_s.set_xlim(0, top_value * 1.2)
        ax_s.set_xlabel(xlabel_s)
        ax_s.set_title(title_s, loc="left", fontsize=_SIZE_LABEL)
        pv = np.array([perm[f].value if f in perm else np.nan for f in features], dtype=float)
        ps = np.array([perm[f].std if f in perm else 0.0 for f in features], dtype=float)
        ax_p.barh(y, pv, height=0.66, color=style.OKABE_ITO["bluish_green"], zorder=2)
        ax_p.errorbar(pv, y, xerr=ps, fmt="none", ecolor=style.TEXT, elinewidth=0.7, capsize=1.8, zorder=3)
        ax_p.axvline(0, color=style.AXIS, linewidth=0.6)
        ax_p.set_xlabel(xlabel_p)
        ax_p.tick_params(axis="y", length=0)
        ax_p.set_title(title_p, loc="left", fontsize=_SIZE_LABEL)
        for ax in (ax_s, ax_p):
            _hide_grid(ax, "y")
            ax.xaxis.set_major_locator(MaxNLocator(5))
            _locale_axis(ax.xaxis, lang)
        ax_s.set_ylim(-0.6, n - 0.4)
        bottom = max(_bottom_margin(_xtick_height(ax_s), xlabel=xlabel_s),
                     _bottom_margin(_xtick_height(ax_p), xlabel=xlabel_p))
        top = header.height + subtitle
        row = 0.44 if _n_lines(labels) == 1 else 0.5
        height = top + bottom + row * (n + 0.3)
        size = _resize(fig, width_cm, height)
        _place(ax_s, size, left=left, bottom=bottom, width=w_s, height=height - top - bottom)
        _place(ax_p, size, left=left + w_s + gap, bottom=bottom, width=body - w_s, height=height - top - bottom)
        header.draw(fig, height)
    return fig


def _jitter_unit(n: int) -> np.ndarray:
    """A deterministic, evenly spread sequence in [-1, 1] indexed by row (golden-ratio steps)."""
    golden = (math.sqrt(5.0) - 1.0) / 2.0
    return 2.0 * ((np.arange(n) * golden + 0.5) % 1.0) - 1.0


def shap_beeswarm(importance: ImportanceResult, *, lang: str, rasterize_above: int = 200,
                  width_cm: float = 16.0) -> Figure:
    """SHAP value of every (sampled) customer per feature, coloured by the feature's value.

    Features are in the stored order (most important on top).  A point's vertical offset is a
    deterministic function of its row index, scaled by how crowded its neighbourhood on the x
    axis is, so dense regions widen like a swarm.  Points without a value scale (categorical
    features) are grey.  All points are one collection, rasterised in vector output when there
    are more than ``rasterize_above``.
    """
    _check_lang(lang)
    bees = importance.beeswarm
    features = list(bees.features)
    n = max(len(features), 1)
    xs, ys, colors = [], [], []
    grey = np.array(mcolors.to_rgba(style.NEUTRAL, alpha=0.75))
    any_grey = False
    for k in range(len(features)):
        shap_row = np.asarray(bees.shap[k], dtype=float)
        ok = np.isfinite(shap_row)
        values = shap_row[ok]
        if values.size == 0:
            continue
        # Crowding along x (drawing arithmetic): how many of the row's points share the bin.
        span = float(values.max() - values.min())
        bins = 40
        if span > 0:
            idx = np.minimum(((values - values.min()) / span * bins).astype(int), bins - 1)
            density = np.bincount(idx, minlength=bins)[idx].astype(float)
            density /= density.max()
        else:
            density = np.ones_like(values)
        offsets = 0.4 * np.sqrt(density) * _jitter_unit(shap_row.size)[ok]
        xs.append(values)
        ys.append(np.full(values.size, len(features) - 1 - k, dtype=float) + offsets)
        scaled = [s for s, good in zip(bees.scaled_values[k], ok, strict=True) if good]
        has = np.array([s is not None for s in scaled], dtype=bool)
        rgba = np.tile(grey, (values.size, 1))
        if has.any():
            rgba[has] = BEESWARM_CMAP(np.array([s for s in scaled if s is not None], dtype=float))
            rgba[has, 3] = 0.85
        any_grey = any_grey or not has.all()
        colors.append(rgba)
    x = np.concatenate(xs) if xs else np.empty(0)
    y = np.concatenate(ys) if ys else np.empty(0)
    c = np.concatenate(colors) if colors else np.empty((0, 4))
    labels = _feature_labels(features, lang)
    xlabel = _t("bee_x", lang, u=_shap_unit(importance.output, lang))
    header = _Header.make(_t("bee_title", lang), _t("bee_grey", lang) if any_grey else None, width_cm)

    with style.context():
        fig, ax = _new(width_cm, 10.0)
        ax.axvline(0, color=style.AXIS, linewidth=0.7, zorder=1)
        for k in range(len(features)):
            ax.axhline(k, color=style.GRID, linewidth=0.5, zorder=0)
        points = ax.scatter(x, y, s=3.0, c=c, linewidths=0, zorder=2)
        style.rasterize_if_dense(points, int(x.size), threshold=rasterize_above)
        ax.set_yticks(np.arange(len(features))[::-1].astype(float), labels)
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(-0.6, n - 0.4)
        _hide_grid(ax, "y")
        ax.set_xlabel(xlabel)
        _locale_axis(ax.xaxis, lang)

        cbar_label = _t("bee_value", lang)
        tick_labels = [_t("low", lang), _t("high", lang)]
        cbar_w, gap = 0.28, 0.35
        right = _EDGE + _line(7.0) + 3 * _PT + _widest(tick_labels, 6.5) + 3 * _PT + cbar_w + gap
        left = _left_margin(_widest(labels, _SIZE_TICK), ticks=False)
        bottom = _bottom_margin(_xtick_height(ax), xlabel=xlabel)
        top = header.height
        row = 0.5 if _n_lines(labels) == 1 else 0.56
        height = top + bottom + row * (n + 0.3)
        size = _resize(fig, width_cm, height)
        body_w = width_cm - left - right
        _place(ax, size, left=left, bottom=bottom, width=body_w, height=height - top - bottom)
        cax = fig.add_axes((0, 0, 1, 1))
        _place(cax, size, left=left + body_w + gap, bottom=bottom + (height - top - bottom) * 0.1,
               width=cbar_w, height=(height - top - bottom) * 0.8)
        bar = fig.colorbar(ScalarMappable(norm=Normalize(0, 1), cmap=BEESWARM_CMAP), cax=cax)
        bar.set_ticks([0, 1], labels=tick_labels)
        cax.tick_params(labelsize=6.5, length=0, pad=3)
        bar.set_label(cbar_label, fontsize=7.0, labelpad=3)
        bar.outline.set_visible(False)  # type: ignore[operator]  # stub: Colorbar.outline is a Spine, not a Spines mapping
        header.draw(fig, height)
    return fig


def shap_segments(importance: ImportanceResult, segments: SegmentsResult, *, lang: str, top: int = 8,
                  width_cm: float = 16.0) -> Figure:
    """Mean SHAP contribution of the ``top`` most important features in each segment (a heatmap).

    Red raises the risk of decline, blue lowers it; columns are the segments, titled in their
    colours (the priority segment in bold).
    """
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
    labels = _feature_labels(features, lang)
    header = _Header.make(_t("seg_shap_title", lang), None, width_cm)
    left = _left_margin(_widest(labels, _SIZE_TICK), ticks=False)
    col_w = (width_cm - left - _EDGE - 0.1) / max(len(segs), 1)
    col_labels = [_wrap_cm(_segment_title(s.key, lang), _SIZE_TICK * (1.1 if s.priority else 1.0), col_w * 0.9)
                  + f"\n{_customers(s.n_customers, lang)}" for s in segs]
    cbar_label = f"{_t('seg_shap_cbar', lang)} ({_shap_unit(importance.output, lang)})"
    with style.context():
        fig, ax = _new(width_cm, 8.0)
        if matrix.size:
            ax.imshow(np.ma.masked_invalid(matrix), cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
        ax.grid(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        for i in range(len(features)):
            for j in range(len(segs)):
                v = matrix[i, j]
                text = "—" if not math.isfinite(v) else _signed(v, lang, digits=3)
                dark = math.isfinite(v) and abs(v) / limit > 0.6
                _inside(ax.text(j, i, text, ha="center", va="center", fontsize=7.0,
                                color="white" if dark else style.TEXT))
        ax.set_yticks(range(len(features)), labels)
        ax.set_xticks(range(len(segs)), col_labels)
        ax.xaxis.tick_top()
        ax.tick_params(axis="both", length=0, labelsize=_SIZE_TICK)
        for tick, seg in zip(ax.get_xticklabels(), segs, strict=True):
            tick.set_color(segment_text_color(seg))
            if seg.priority:
                tick.set_fontweight("bold")
        col_h = _line(_SIZE_TICK, _n_lines(col_labels)) + _TICK0
        cbar_h, cbar_gap = 0.25, 0.35
        bottom = _EDGE + _line(7.0) + 3 * _PT + _line(6.5) + 3 * _PT + cbar_h + cbar_gap
        top_m = header.height + col_h
        row = 0.62 if _n_lines(labels) == 1 else 0.7
        height = top_m + bottom + row * max(len(features), 1)
        size = _resize(fig, width_cm, height)
        body_w = width_cm - left - _EDGE - 0.1
        _place(ax, size, left=left, bottom=bottom, width=body_w, height=height - top_m - bottom)
        cax = fig.add_axes((0, 0, 1, 1))
        _place(cax, size, left=left + body_w * 0.15, bottom=bottom - cbar_gap - cbar_h, width=body_w * 0.7,
               height=cbar_h)
        bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal")
        bar.outline.set_linewidth(0.4)  # type: ignore[operator]  # stub: Colorbar.outline is a Spine, not a Spines mapping
        cax.tick_params(labelsize=6.5, length=2, pad=2)
        cax.xaxis.set_major_locator(MaxNLocator(7, symmetric=True))
        _locale_axis(cax.xaxis, lang)
        bar.set_label(cbar_label, fontsize=7.0, labelpad=3)
        header.draw(fig, height)
    return fig


def shap_waterfall(example: CustomerExplanation, *, lang: str, output: str = "probability",
                   segment_title: str | None = None, width_cm: float = 16.0) -> Figure:
    """One customer's prediction: the model's average prediction plus every feature's contribution.

    Bars start at the base value (bottom) and add the contributions from the smallest to the
    largest (top); increases of the risk are red, decreases blue, the feature's value is written
    next to its name.  SHAP explains the model's raw score; when the model's probabilities are
    calibrated, a last grey «calibration» step goes from that score to the calibrated
    probability, so the bars end at the model's probability for the customer.  When the report's
    probability is the out-of-fold one (a training customer), the note says so and gives it.
    """
    _check_lang(lang)
    contributions = list(example.contributions)[::-1]  # smallest at the bottom
    widths = np.array([c.shap for c in contributions], dtype=float)
    labels = [_wrap(f"{feature_label(c.feature, lang)} = {_value_text(c.value, lang)}", 46) for c in contributions]
    calibration = None
    if output == "probability" and example.refit_probability is not None:
        calibration = example.refit_probability - (example.base_value + float(widths.sum()))
        widths = np.append(widths, calibration)
        labels.append(_t("wf_calibration", lang))
    k = len(widths)
    starts = example.base_value + np.concatenate([[0.0], np.cumsum(widths)[:-1]]) if k else np.empty(0)
    end = example.base_value + float(widths.sum())
    lo = min([example.base_value, end, *(starts + np.minimum(widths, 0)).tolist()])
    hi = max([example.base_value, end, *(starts + np.maximum(widths, 0)).tolist()])
    span = (hi - lo) or 1.0
    shown = example.refit_probability if calibration is not None else example.probability
    note = _t("wf_probability", lang, p=fmt_percent(shown, lang))
    if example.out_of_fold:
        note += " · " + _t("wf_oof", lang, p=fmt_percent(example.probability, lang))
    if segment_title:
        note = f"{segment_title} · {note}"
    header = _Header.make(_t("wf_title", lang, id=example.id), note, width_cm)
    xlabel = _t("wf_x", lang, u=_shap_unit(output, lang))
    with style.context():
        fig, ax = _new(width_cm, 7.0)
        y = np.arange(k, dtype=float)
        colors = [style.DECLINED if w > 0 else style.STABLE for w in widths]
        if calibration is not None:
            colors[-1] = style.NEUTRAL
        ax.barh(y, widths, left=starts, height=0.62, color=colors, zorder=2)
        for yi, start, w in zip(y, starts, widths, strict=True):
            if round(w, 2) == 0:  # a contribution that prints as zero gets no label
                continue
            if w >= 0:
                _inside(ax.text(start + w + span * 0.012, yi, _signed(w, lang), va="center", ha="left",
                                fontsize=_SIZE_NOTE, color=style.DECLINED, fontweight="bold"))
            else:
                _inside(ax.text(start + w - span * 0.012, yi, _signed(w, lang), va="center", ha="right",
                                fontsize=_SIZE_NOTE, color=style.STABLE, fontweight="bold"))
        for i in range(k - 1):  # connectors between consecutive bars
            x_join = starts[i] + widths[i]
            ax.plot([x_join, x_join], [i + 0.31, i + 1 - 0.31], color=style.AXIS, linewidth=0.6, zorder=1)
        ax.axvline(example.base_value, color=style.NEUTRAL, linestyle=(0, (3, 2)), linewidth=0.8, zorder=1)
        ax.axvline(end, color=style.TEXT, linestyle=(0, (3, 2)), linewidth=0.8, zorder=1)
        # Both labels run from their line towards the other one, inside the axes.
        rightwards = example.base_value <= end
        nudge = span * 0.01 * (1 if rightwards else -1)
        _inside(ax.text(example.base_value + nudge, -0.6,
                        f"{_t('wf_base', lang)} {fmt_number(example.base_value, lang, digits=2)}",
                        ha="left" if rightwards else "right", va="center", fontsize=_SIZE_NOTE,
                        color=style.TEXT_MUTED))
        end_text = _t("wf_end_calibrated" if calibration is not None else "wf_end_raw", lang)
        _inside(ax.text(end - nudge, k - 0.4, f"{end_text}: {fmt_number(end, lang, digits=2)}",
                        ha="right" if rightwards else "left", va="center", fontsize=_SIZE_NOTE, color=style.TEXT,
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.8}, zorder=5))
        ax.set_yticks(y, labels)
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(-1.0, k - 0.1)
        # Room for the value labels beyond the extreme bars, converted from cm to data units.
        left = _left_margin(_widest(labels, _SIZE_TICK), ticks=False)
        axes_w = width_cm - left - (_EDGE + 0.3)
        pad_cm = max((_width(_signed(w, lang), _SIZE_NOTE, True) for w in widths), default=0.5) + 0.35
        pad = pad_cm * span / max(axes_w - 2 * pad_cm, 1.0)
        ax.set_xlim(lo - pad, hi + pad)
        _hide_grid(ax, "y")
        ticks = np.asarray(MaxNLocator(6).tick_values(lo - pad, hi + pad))
        if output == "probability":  # no tick beyond what a probability can be
            ticks = ticks[(ticks >= 0) & (ticks <= 1)]
        ax.xaxis.set_major_locator(FixedLocator(ticks[(ticks >= lo - pad) & (ticks <= hi + pad)].tolist()))
        _locale_axis(ax.xaxis, lang)
        ax.set_xlabel(xlabel)
        bottom = _bottom_margin(_xtick_height(ax), xlabel=xlabel)
        right = _EDGE + 0.3
        top = header.height
        row = 0.55 if _n_lines(labels) == 1 else 0.65
        height = top + bottom + row * (k + 0.9)
        size = _resize(fig, width_cm, height)
        _place(ax, size, left=left, bottom=bottom, width=width_cm - left - right, height=height - top - bottom)
        header.draw(fig, height)
    return fig


# --------------------------------------------------------------------------------------------
# 7–8. Segments
# --------------------------------------------------------------------------------------------


def segments_scatter(segments: SegmentsResult, *, lang: str, rasterize_above: int = 200,
                     width_cm: float = 16.0, height_cm: float = 11.0, money_unit: str = "unit") -> Figure:
    """Probability × profit of every customer (or a stated sample), with the two thresholds.

    The four quadrants are named in the corners by their segments' titles, sizes and shares,
    in the segments' colours; the points are one collection, rasterised in vector output when
    there are more than ``rasterize_above``.
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
    note = None
    if scatter.sampled:
        total = sum(s.n_customers for s in segments.segments)
        note = _t("sampled", lang, n=_count(int(x.size), lang), m=_count(total, lang))
    header = _Header.make(_t("scatter_title", lang), note, width_cm)
    xlabel = _t("scatter_x", lang)
    ylabel = translator(lang, money_unit=money_unit)("chart.scatter_y")
    with style.context():
        fig, ax = _new(width_cm, height_cm)
        # the points pile up near 0 % and 100 %: a strip above the plot counts the customers per 5 %
        ax_top = fig.add_axes((0, 0, 1, 1), sharex=ax)
        counts, edges = np.histogram(np.clip(x, 0, 1), bins=np.linspace(0, 1, 21))
        ax_top.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color=style.NEUTRAL,
                   edgecolor="white", linewidth=0.4, zorder=2)
        ax_top.yaxis.set_major_locator(MaxNLocator(2, integer=True))
        _locale_axis(ax_top.yaxis, lang)
        ax_top.tick_params(axis="x", labelbottom=False, length=0)
        ax_top.tick_params(axis="y", labelsize=_SIZE_TICK - 0.5)
        _hide_grid(ax_top, "x")
        ax_top.set_ylabel(_t("scatter_count", lang), fontsize=_SIZE_TICK - 0.5)
        points = ax.scatter(x, y, s=5, c=c, alpha=0.55, linewidths=0, zorder=2)
        style.rasterize_if_dense(points, int(x.size), threshold=rasterize_above)
        ax.axvline(p_thr, color=style.TEXT, linestyle=(0, (4, 2)), linewidth=1.0, zorder=3)
        ax.axhline(m_thr, color=style.TEXT, linestyle=(0, (4, 2)), linewidth=1.0, zorder=3)
        ax.set_xlim(-0.03, 1.03)
        ax.set_ylim(y_lo - 0.22 * y_span, y_hi + 0.22 * y_span)
        box = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85}
        _inside(ax.text(p_thr + 0.008, 0.5, _t("prob_threshold", lang, t=fmt_number(p_thr, lang, digits=2)),
                        transform=ax.get_xaxis_transform(), rotation=90, ha="left", va="center",
                        fontsize=_SIZE_NOTE, color=style.TEXT, zorder=4, bbox=box))
        _inside(ax.text(0.012, m_thr, _t("profit_threshold", lang, t=fmt_number(m_thr, lang, digits=2)),
                        transform=ax.get_yaxis_transform(), ha="left", va="bottom", fontsize=_SIZE_NOTE,
                        color=style.TEXT, zorder=4, bbox=box))
        corners = {("low", "high"): (0.012, 0.985, "left", "top"),
                   ("high", "high"): (0.988, 0.985, "right", "top"),
                   ("low", "low"): (0.012, 0.015, "left", "bottom"),
                   ("high", "low"): (0.988, 0.015, "right", "bottom")}
        for seg in segments.segments:
            place = corners.get((seg.rule.risk, seg.rule.value))
            if place is None:
                continue
            cx, cy, ha, va = place
            text = (f"{_segment_title(seg.key, lang)}\n{_customers(seg.n_customers, lang)} · "
                    f"{fmt_percent(seg.share, lang)}")
            _inside(ax.text(cx, cy, text, transform=ax.transAxes, ha=ha, va=va, multialignment=ha,
                            fontsize=7.5, fontweight="bold", color=segment_text_color(seg), zorder=5,
                            bbox={"boxstyle": "round,pad=0.3", "facecolor": "white",
                                  "edgecolor": colors[seg.key], "linewidth": 0.8, "alpha": 0.92}))
        ax.xaxis.set_major_locator(MaxNLocator(6))
        _locale_axis(ax.xaxis, lang, percent=True)
        _locale_axis(ax.yaxis, lang)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        left = max(_left_margin(_ytick_width(ax), ylabel=ylabel),
                   _left_margin(_ytick_width(ax_top, _SIZE_TICK - 0.5), ylabel=_t("scatter_count", lang)))
        bottom = _bottom_margin(_xtick_height(ax), xlabel=xlabel)
        right = _EDGE + 0.3
        strip, gap = 1.3, 0.2
        main_h = height_cm - header.height - bottom - strip - gap
        _place(ax, (width_cm, height_cm), left=left, bottom=bottom, width=width_cm - left - right, height=main_h)
        _place(ax_top, (width_cm, height_cm), left=left, bottom=bottom + main_h + gap, width=width_cm - left - right,
               height=strip)
        header.draw(fig, height_cm)
    return fig


def segment_profile_figure(segment: Segment, *, lang: str, top: int = 6, width_cm: float = 16.0) -> Figure:
    """How a segment differs from the other customers: standardised differences of the means.

    The ``top`` largest differences, as bars in the segment's colour; each bar's label (segment
    mean against the others' mean) sits on the empty side of zero.
    """
    _check_lang(lang)
    contrasts = sorted(segment.profile.contrasts, key=lambda c: (-abs(c.effect_size), c.feature))[:top]
    k = len(contrasts)
    color = segment_color(segment)
    effects = np.array([c.effect_size for c in contrasts], dtype=float)
    limit = float(np.abs(effects).max()) if k else 1.0
    limit = limit or 1.0
    labels = _feature_labels([c.feature for c in contrasts], lang)
    note = (f"{_customers(segment.n_customers, lang)} ({fmt_percent(segment.share, lang)}) · "
            f"{_t('mean_probability', lang)} {fmt_percent(segment.mean_probability, lang)} · "
            f"{_t('versus_note', lang)}")
    header = _Header.make(_segment_title(segment.key, lang), note, width_cm)
    xlabel = _t("profile_x", lang)
    with style.context():
        fig, ax = _new(width_cm, 6.0)
        y = np.arange(k)[::-1].astype(float)
        ax.barh(y, effects, height=0.62, color=color, zorder=2)
        ax.axvline(0, color=style.AXIS, linewidth=0.7, zorder=3)
        for yi, contrast, e in zip(y, contrasts, effects, strict=True):
            text = _t("versus", lang, a=fmt_auto(contrast.segment_mean, lang), b=fmt_auto(contrast.others_mean, lang))
            if e >= 0:
                _inside(ax.text(-limit * 0.03, yi, text, va="center", ha="right", fontsize=_SIZE_NOTE,
                                color=style.TEXT))
            else:
                _inside(ax.text(limit * 0.03, yi, text, va="center", ha="left", fontsize=_SIZE_NOTE,
                                color=style.TEXT))
        ax.set_yticks(y, labels)
        ax.tick_params(axis="y", length=0)
        ax.set_xlim(-limit * 1.1, limit * 1.1)
        ax.set_ylim(-0.6, max(k, 1) - 0.4)
        _hide_grid(ax, "y")
        _locale_axis(ax.xaxis, lang)
        ax.set_xlabel(xlabel)
        left = _left_margin(_widest(labels, _SIZE_TICK), ticks=False)
        bottom = _bottom_margin(_xtick_height(ax), xlabel=xlabel)
        right = _EDGE + 0.3
        top_m = header.height
        row = 0.55 if _n_lines(labels) == 1 else 0.65
        height = top_m + bottom + row * (max(k, 1) + 0.2)
        size = _resize(fig, width_cm, height)
        _place(ax, size, left=left, bottom=bottom, width=width_cm - left - right, height=height - top_m - bottom)
        header.draw(fig, height)
    return fig


# --------------------------------------------------------------------------------------------
# Alt texts
# --------------------------------------------------------------------------------------------


def _a(key: str, lang: str, **kwargs: object) -> str:
    """The alt-text message ``alt.<key>``."""
    return translator(lang)(f"alt.{key}", **kwargs)


def _customers(n: int, lang: str, case: str = "nom") -> str:
    """«1 297 клиентов» in the grammatical ``case`` the sentence needs (``nom``/``gen``/``dat``)."""
    return _a(f"customers.{case}", lang, count=n, n=_count(n, lang))


def _features(n: int, lang: str, case: str = "nom") -> str:
    return _a(f"features.{case}", lang, count=n, n=_count(n, lang))


def _sentences(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _alt_numeric(item: NumericEda, lang: str) -> str:
    d, s = item.declined, item.stable
    return _a("numeric", lang, label=_quote(feature_label(item.feature, lang), lang),
              median_declined=fmt_number(d.median, lang, digits=2), median_stable=fmt_number(s.median, lang, digits=2),
              mean_declined=fmt_number(d.mean, lang, digits=2), mean_stable=fmt_number(s.mean, lang, digits=2),
              effect=_effect_note(item.test, lang))


def _alt_categorical(item: CategoricalEda, lang: str) -> str:
    parts = "; ".join(_a("share_of_level", lang, level=level_label(lv.level, lang),
                         share=fmt_percent(lv.declined_share, lang))
                      for lv in sorted(item.levels, key=lambda lv: -lv.declined_share))
    return _a("categorical", lang, label=_quote(feature_label(item.feature, lang), lang), parts=parts,
              effect=_effect_note(item.test, lang))


def _alt_ishikawa(results: Results | Findings, lang: str) -> str:
    groups = [_group_title(k, lang) for k in results.data.groups]
    n = sum(len(v) for v in results.data.groups.values())
    return _a("ishikawa", lang, features=_features(n, lang),
              in_groups=_a("in_groups", lang, count=len(groups), n=_count(len(groups), lang)),
              groups=", ".join(groups), effect=_quote(_t("effect", lang), lang))


def _alt_phik(correlation: CorrelationResult, lang: str) -> str:
    best = max(correlation.with_target, key=lambda t: t.phik, default=None)
    pairs = ", ".join(_a("pair", lang, a=feature_label(p.a, lang), b=feature_label(p.b, lang),
                         phik=fmt_number(p.phik, lang, digits=2))
                      for p in correlation.flagged_pairs)
    thr = fmt_number(correlation.threshold, lang, digits=1)
    n = len(correlation.phik.labels)
    return _sentences(
        _a("phik", lang, features=_features(n, lang, "gen")),
        _a("phik_best", lang, label=_quote(feature_label(best.feature, lang), lang),
           phik=fmt_number(best.phik, lang, digits=2)) if best is not None else "",
        _a("phik_pairs", lang, t=thr, pairs=pairs) if pairs else _a("phik_no_pairs", lang, t=thr))


def _alt_models(model: ModelResult, lang: str) -> str:
    sel = next((c for c in model.candidates if c.name == model.selected.name), None)
    ranked = [c for c in model.candidates if not c.skipped and c.cv_roc_auc_mean is not None]
    skipped = [c for c in model.candidates if c.skipped or c.cv_roc_auc_mean is None]
    lo = min((c.cv_roc_auc_mean or 0.0) for c in ranked) if ranked else None
    hi = max((c.cv_roc_auc_mean or 0.0) for c in ranked) if ranked else None
    name = _family(model.selected.name, sel.family if sel else "", lang)
    return _sentences(
        _a("models", lang, count=len(ranked), n=_count(len(ranked), lang), lo=fmt_number(lo, lang, digits=3),
           hi=fmt_number(hi, lang, digits=3), name=name,
           auc=fmt_number(sel.cv_roc_auc_mean, lang, digits=3) if sel else "—"),
        _a("models_skipped", lang, n=_count(len(skipped), lang)) if skipped else "")


def _alt_roc(model: ModelResult, lang: str) -> str:
    t, cm = model.test, model.confusion
    lo, hi = t.roc_auc_ci95
    return _a("roc", lang, customers=_customers(t.n, lang), auc=fmt_number(t.roc_auc, lang, digits=3),
              ci=_a("range", lang, lo=fmt_number(lo, lang, digits=3), hi=fmt_number(hi, lang, digits=3)),
              thr=fmt_number(cm.threshold, lang, digits=2), recall=fmt_percent(cm.recall, lang),
              fpr=fmt_percent(cm.false_positive_rate, lang))


def _alt_calibration(model: ModelResult, lang: str) -> str:
    n = len(model.calibration_curve.x)
    return _a("calibration", lang, in_groups=_a("in_groups", lang, count=n, n=_count(n, lang)),
              brier=fmt_number(model.test.brier, lang, digits=3))


def _alt_confusion(model: ModelResult, lang: str) -> str:
    cm = model.confusion
    return _a("confusion", lang, thr=fmt_number(cm.threshold, lang, digits=2),
              found=_a("declines_found", lang, count=cm.tp, n=_count(cm.tp, lang)), fn=_count(cm.fn, lang),
              fp=_count(cm.fp, lang), tn=_count(cm.tn, lang), precision=fmt_percent(cm.precision, lang),
              recall=fmt_percent(cm.recall, lang))


def _top_names(values: Iterable[str], lang: str, k: int = 3) -> str:
    return ", ".join(_quote(feature_label(f, lang), lang) for f in list(values)[:k])


def _alt_shap_bar(importance: ImportanceResult, lang: str) -> str:
    first = importance.global_importance[0] if importance.global_importance else None
    return _a("shap_bar", lang, features=_features(len(importance.global_importance), lang, "dat"),
              top=_top_names((fv.feature for fv in importance.global_importance), lang),
              value=fmt_number(first.value, lang, digits=3) if first else "—",
              perm_top=_top_names((fv.feature for fv in importance.permutation), lang))


def _alt_beeswarm(importance: ImportanceResult, lang: str) -> str:
    bees = importance.beeswarm
    n_points = sum(len(row) for row in bees.shap[:1])
    return _a("beeswarm", lang, customers=_customers(n_points, lang, "gen"),
              features=_features(len(bees.features), lang, "dat"), top=_top_names(bees.features, lang))


def _alt_shap_segments(importance: ImportanceResult, segments: SegmentsResult, lang: str) -> str:
    parts = []
    for seg in segments.segments:
        values = importance.per_segment.get(seg.key)
        if not values:
            continue
        first = values[0]
        parts.append(_a("segment_driver", lang, segment=_segment_title(seg.key, lang),
                        feature=feature_label(first.feature, lang), value=_signed(first.value, lang, digits=3)))
    return _a("shap_segments", lang, parts="; ".join(parts))


def _alt_waterfall(example: CustomerExplanation, segment_title: str | None, lang: str) -> str:
    first = example.contributions[0] if example.contributions else None
    return _sentences(
        _a("waterfall_segment" if segment_title else "waterfall", lang, id=example.id,
           segment=_quote(segment_title, lang) if segment_title else "",
           p=fmt_percent(example.probability, lang), base=fmt_number(example.base_value, lang, digits=2)),
        _a("waterfall_first", lang, feature=_quote(feature_label(first.feature, lang), lang),
           value=_value_text(first.value, lang), shap=_signed(first.shap, lang)) if first is not None else "")


def _alt_scatter(segments: SegmentsResult, lang: str) -> str:
    parts = "; ".join(_a("segment_size", lang, segment=_segment_title(s.key, lang), n=_count(s.n_customers, lang),
                         share=fmt_percent(s.share, lang))
                      for s in segments.segments)
    return _sentences(
        _a("scatter", lang, customers=_customers(len(segments.scatter.probability), lang, "gen"),
           p=fmt_number(segments.probability_threshold, lang, digits=2),
           m=fmt_number(segments.profit_threshold, lang, digits=2), parts=parts),
        _a("scatter_sampled", lang) if segments.scatter.sampled else "")


def _alt_profile(segment: Segment, lang: str) -> str:
    contrasts = sorted(segment.profile.contrasts, key=lambda c: -abs(c.effect_size))[:3]
    versus = "; ".join(_a("contrast", lang, feature=feature_label(c.feature, lang),
                          versus=_t("versus", lang, a=fmt_number(c.segment_mean, lang, digits=2),
                                    b=fmt_number(c.others_mean, lang, digits=2)))
                       for c in contrasts)
    return _a("profile", lang, title=_quote(_segment_title(segment.key, lang), lang),
              customers=_customers(segment.n_customers, lang), versus=versus)


# --------------------------------------------------------------------------------------------
# Assets
# --------------------------------------------------------------------------------------------


# FigureAsset lives in report.figures.jobs (importable without matplotlib); re-exported here.


def _asset(key: str, fig: Figure, alt: str, *, dpi: int, vector: bool) -> FigureAsset:
    """Serialise ``fig`` deterministically with :mod:`report.figures.style`.

    The figure is not registered anywhere (no pyplot): it is freed with the last reference to it.
    """
    width_cm = round(float(fig.get_size_inches()[0]) / style.CM, 2)
    if vector:
        return FigureAsset(key=key, svg=style.to_svg(fig, rasterize_dpi=dpi), png=None, alt=alt, width_cm=width_cm)
    return FigureAsset(key=key, svg=None, png=style.to_png(fig, dpi=dpi), alt=alt, width_cm=width_cm)


# drawn from the Results, or from the Findings that hold what the figure needs (registry: ``needs``)
_Draw = Callable[[Any, Any, str, int], Figure]
_Alt = Callable[[Any, Any, str], str]


def _titles(results: Results, lang: str) -> dict[str, str]:
    return {s.key: _segment_title(s.key, lang) for s in results.segments.segments}


#: How each kind of figure of :data:`report.figures.registry.FIGURES` is drawn and described:
#: ``name → (draw(results, subject, lang, rasterize_above), alt(results, subject, lang))``.
FIGURES: Final[Mapping[str, tuple[_Draw, _Alt]]] = {
    "ishikawa": (lambda r, _, lang, __: ishikawa_figure(r, lang=lang),
                 lambda r, _, lang: _alt_ishikawa(r, lang)),
    "eda-numeric": (lambda r, _, lang, __: eda_numeric_grid(eda_order(r.eda.numeric), lang=lang),
                    lambda r, _, lang: " ".join(_alt_numeric(n, lang) for n in eda_order(r.eda.numeric))),
    "eda-categorical": (lambda r, _, lang, __: eda_categorical_grid(r.eda.categorical, lang=lang),
                        lambda r, _, lang: " ".join(_alt_categorical(c, lang) for c in r.eda.categorical)),
    "phik": (lambda r, _, lang, __: phik_heatmap(r.correlation, lang=lang),
             lambda r, _, lang: _alt_phik(r.correlation, lang)),
    "model-comparison": (lambda r, _, lang, __: model_comparison_figure(r.model, lang=lang),
                         lambda r, _, lang: _alt_models(r.model, lang)),
    "roc": (lambda r, _, lang, __: roc_figure(r.model, lang=lang), lambda r, _, lang: _alt_roc(r.model, lang)),
    "calibration": (lambda r, _, lang, __: calibration_figure(r.model, lang=lang),
                    lambda r, _, lang: _alt_calibration(r.model, lang)),
    "confusion": (lambda r, _, lang, __: confusion_figure(r.model, lang=lang),
                  lambda r, _, lang: _alt_confusion(r.model, lang)),
    "shap-bar": (lambda r, _, lang, __: shap_bar(r.importance, lang=lang),
                 lambda r, _, lang: _alt_shap_bar(r.importance, lang)),
    "shap-beeswarm": (lambda r, _, lang, dense: shap_beeswarm(r.importance, lang=lang, rasterize_above=dense),
                      lambda r, _, lang: _alt_beeswarm(r.importance, lang)),
    "shap-segments": (lambda r, _, lang, __: shap_segments(r.importance, r.segments, lang=lang),
                      lambda r, _, lang: _alt_shap_segments(r.importance, r.segments, lang)),
    "shap-example": (lambda r, e, lang, __: shap_waterfall(e, lang=lang, output=r.importance.output,
                                                          segment_title=_titles(r, lang).get(e.segment)),
                     lambda r, e, lang: _alt_waterfall(e, _titles(r, lang).get(e.segment), lang)),
    "segments-scatter": (lambda r, _, lang, dense: segments_scatter(r.segments, lang=lang, rasterize_above=dense,
                                                                  money_unit=r.meta.config.report.money_unit),
                         lambda r, _, lang: _alt_scatter(r.segments, lang)),
    "segment": (lambda r, s, lang, __: segment_profile_figure(s, lang=lang), lambda r, s, lang: _alt_profile(s, lang)),
}


def build_figures(results: Results, *, lang: str, dpi: int = style.DPI, rasterize_above: int = 200,
                  vector: bool = False, executor: Executor | None = None,
                  submitted: Mapping[str, Future[FigureAsset]] | None = None) -> dict[str, FigureAsset]:
    """Draw and serialise every figure of the report for ``lang``.

    Parameters
    ----------
    results : Results
        The analysis results (only read).
    lang : {"ru", "en"}
        Language of the labels and the alt texts.
    dpi : int
        Resolution of PNG figures and of the raster layers inside SVG figures.
    rasterize_above : int
        Point layers (beeswarm, segment scatter) with more points than this are embedded as one
        raster image inside an SVG figure.
    vector : bool
        ``False`` (default): every figure is a PNG — WeasyPrint renders the whole set in under a
        second.  ``True``: every figure is an SVG (text as paths, dense point layers rasterised)
        — crisp in a browser at any zoom, but 17–21 s of WeasyPrint for the whole set.
    executor : runtime.executor.Executor, optional
        Worker processes that share the figures, one at a time (the bytes are the same whichever
        process draws a figure); without one every figure is drawn here.
    submitted : mapping of str to Future, optional
        Figures already submitted to ``executor`` (:func:`draw_figure`; the build submits each as
        soon as the analysis knows what it shows, :mod:`report.figures.registry` ``needs``): their
        results are taken as they are.

    Returns
    -------
    dict of str to FigureAsset
        In report order, keyed by stable ids: ``ishikawa``, ``eda-numeric`` and
        ``eda-categorical`` (small multiples of every numeric and categorical feature), ``phik``,
        ``model-comparison``, ``roc``, ``calibration``, ``confusion``, ``shap-bar``, ``shap-beeswarm``,
        ``shap-segments``, ``shap-example-<customer id>`` per explained customer, ``segments-scatter`` and
        ``segment-<segment key>`` per segment.

    Raises
    ------
    ValueError
        If ``lang`` is not ``"ru"`` or ``"en"``.
    """
    _check_lang(lang)
    if executor is not None:
        return collect_figures(results, executor=executor, lang=lang, dpi=dpi, rasterize_above=rasterize_above,
                               vector=vector, submitted=submitted)
    return {key: draw_figure(results, key, lang=lang, dpi=dpi, rasterize_above=rasterize_above, vector=vector)
            for key in figure_keys(results)}


def draw_figure(results: Results | Findings, key: str, *, lang: str, dpi: int = style.DPI,
                rasterize_above: int = 200, vector: bool = False) -> FigureAsset:
    """Draw and serialise the figure ``key`` of :func:`build_figures` (one worker task).

    A figure whose kind needs less than the results (:attr:`report.figures.registry.FigureSpec.needs`)
    is drawn from :class:`~analysis.pipeline.Findings` that hold it, the same bytes (the build has
    it drawn while the analysis goes on).

    Raises
    ------
    KeyError
        When the report for ``results`` has no figure ``key``.
    """
    _check_lang(lang)
    for spec, asset_key, subject in figure_subjects(results):
        if asset_key == key:
            draw_kind, alt_kind = FIGURES[spec.name]
            return _asset(key, draw_kind(results, subject, lang, rasterize_above), alt_kind(results, subject, lang),
                          dpi=dpi, vector=vector)
    raise KeyError(f"the report has no figure {key!r}")
