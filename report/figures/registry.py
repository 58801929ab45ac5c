"""The one list of the report's figures: which figures a run shows, in report order.

Each :class:`FigureSpec` names a kind of figure, the report section it belongs to, and the asset
keys it makes for a run (one, or one per explained customer or per segment). The renderer asks
:func:`figure_keys` which figures the report must have; :mod:`report.figures.charts` draws each
kind with its chart and alt text (``charts.FIGURES``, keyed by the spec's name; a test checks that
both list the same kinds). Adding a chart is adding a spec here and its drawing there.

This module imports no plotting library: the build's renderer and the templates read it cheaply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from analysis.results import Results

__all__ = ["FIGURES", "FigureSpec", "figure_keys", "figure_subjects"]


@dataclass(frozen=True, slots=True)
class FigureSpec:
    """A kind of figure of the report.

    Attributes
    ----------
    name : str
        The kind's id; also the asset key of a figure there is one of.
    section : str
        The report section that shows it (``report.structure.SECTIONS``).
    subjects : callable
        ``results → ((asset key, subject), ...)``: the figures of this kind in a run, each with what
        it shows (the customer explanation, the segment), or ``None`` for a figure of the whole run.
    """

    name: str
    section: str
    subjects: Callable[[Results], tuple[tuple[str, object], ...]]


def _one(name: str) -> Callable[[Results], tuple[tuple[str, object], ...]]:
    return lambda results: ((name, None),)


#: Every kind of figure, in report order.
FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("ishikawa", "ishikawa", _one("ishikawa")),
    FigureSpec("eda-numeric", "eda", _one("eda-numeric")),
    FigureSpec("eda-categorical", "eda", _one("eda-categorical")),
    FigureSpec("phik", "correlation", _one("phik")),
    FigureSpec("model-comparison", "model", _one("model-comparison")),
    FigureSpec("roc", "model", _one("roc")),
    FigureSpec("calibration", "model", _one("calibration")),
    FigureSpec("confusion", "model", _one("confusion")),
    FigureSpec("shap-bar", "importance", _one("shap-bar")),
    FigureSpec("shap-beeswarm", "importance", _one("shap-beeswarm")),
    FigureSpec("shap-segments", "importance", _one("shap-segments")),
    FigureSpec("shap-example", "appendix",
               lambda r: tuple((f"shap-example-{e.id}", e) for e in r.importance.examples)),
    FigureSpec("segments-scatter", "segments", _one("segments-scatter")),
    FigureSpec("segment", "segments", lambda r: tuple((f"segment-{s.key}", s) for s in r.segments.segments)),
)


def figure_subjects(results: Results) -> tuple[tuple[FigureSpec, str, object], ...]:
    """``(spec, asset key, subject)`` of every figure the report shows for ``results``, in order."""
    return tuple((spec, key, subject) for spec in FIGURES for key, subject in spec.subjects(results))


def figure_keys(results: Results) -> tuple[str, ...]:
    """The asset keys of every figure the report shows for ``results``, in report order."""
    return tuple(key for _, key, _ in figure_subjects(results))
