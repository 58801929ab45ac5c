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
from typing import TYPE_CHECKING, Any

from analysis.results import Results

if TYPE_CHECKING:
    from analysis.pipeline import Findings

__all__ = ["DATA_FIGURE_KEYS", "FIGURES", "FigureSpec", "figure_keys", "figure_subjects"]


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
    data_only : bool
        Drawn from the data, the EDA and the correlations alone (:class:`analysis.pipeline.Findings`),
        so the build can have it drawn while the model is fitted.
    """

    name: str
    section: str
    subjects: Callable[[Any], tuple[tuple[str, object], ...]]
    data_only: bool = False


def _one(name: str) -> Callable[[Any], tuple[tuple[str, object], ...]]:
    return lambda results: ((name, None),)


#: Every kind of figure, in report order.
FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("ishikawa", "ishikawa", _one("ishikawa"), data_only=True),
    FigureSpec("eda-numeric", "eda", _one("eda-numeric"), data_only=True),
    FigureSpec("eda-categorical", "eda", _one("eda-categorical"), data_only=True),
    FigureSpec("phik", "correlation", _one("phik"), data_only=True),
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


#: The asset keys of the figures drawn from the findings alone (the specs marked ``data_only``).
DATA_FIGURE_KEYS: tuple[str, ...] = tuple(spec.name for spec in FIGURES if spec.data_only)


def figure_subjects(results: Results | Findings) -> tuple[tuple[FigureSpec, str, object], ...]:
    """``(spec, asset key, subject)`` of every figure the report shows for ``results``, in order
    (for :class:`~analysis.pipeline.Findings`: those of the ``data_only`` specs)."""
    data_only = not isinstance(results, Results)
    return tuple((spec, key, subject) for spec in FIGURES if spec.data_only or not data_only
                 for key, subject in spec.subjects(results))


def figure_keys(results: Results) -> tuple[str, ...]:
    """The asset keys of every figure the report shows for ``results``, in report order."""
    return tuple(key for _, key, _ in figure_subjects(results))
