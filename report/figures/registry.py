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
from typing import TYPE_CHECKING, Any, Literal

from analysis.results import Results

if TYPE_CHECKING:
    from analysis.pipeline import Findings

__all__ = ["DATA_FIGURE_KEYS", "FIGURES", "FigureSpec", "Needs", "figure_keys", "figure_subjects"]


#: What a kind of figure is drawn from: the data, the EDA and the correlations (``"data"``); also
#: the model and the segments (``"model"``); also the importance (``"importance"``): these are drawn
#: from the :class:`analysis.pipeline.Findings` as soon as the analysis knows them, the build
#: having the workers draw them while the analysis goes on. ``"results"``: only from the results.
Needs = Literal["data", "model", "importance", "results"]


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
    needs : {"data", "model", "importance", "results"}
        What it is drawn from (:data:`Needs`).
    """

    name: str
    section: str
    subjects: Callable[[Any], tuple[tuple[str, object], ...]]
    needs: Needs = "results"


def _one(name: str) -> Callable[[Any], tuple[tuple[str, object], ...]]:
    return lambda results: ((name, None),)


#: Every kind of figure, in report order.
FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("ishikawa", "ishikawa", _one("ishikawa"), needs="data"),
    FigureSpec("eda-numeric", "eda", _one("eda-numeric"), needs="data"),
    FigureSpec("eda-categorical", "eda", _one("eda-categorical"), needs="data"),
    FigureSpec("phik", "correlation", _one("phik"), needs="data"),
    FigureSpec("model-comparison", "model", _one("model-comparison"), needs="model"),
    FigureSpec("roc", "model", _one("roc"), needs="model"),
    FigureSpec("calibration", "model", _one("calibration"), needs="model"),
    FigureSpec("confusion", "model", _one("confusion"), needs="model"),
    FigureSpec("shap-bar", "importance", _one("shap-bar"), needs="importance"),
    FigureSpec("shap-beeswarm", "importance", _one("shap-beeswarm"), needs="importance"),
    FigureSpec("shap-segments", "importance", _one("shap-segments"), needs="importance"),
    FigureSpec("shap-example", "appendix",
               lambda r: tuple((f"shap-example-{e.id}", e) for e in r.importance.examples), needs="importance"),
    FigureSpec("segments-scatter", "segments", _one("segments-scatter")),  # its axis: the results' money unit
    FigureSpec("segment", "segments", lambda r: tuple((f"segment-{s.key}", s) for s in r.segments.segments),
               needs="model"),
)


#: The asset keys of the figures drawn from the data, the EDA and the correlations alone.
DATA_FIGURE_KEYS: tuple[str, ...] = tuple(spec.name for spec in FIGURES if spec.needs == "data")


def _known(spec: FigureSpec, findings: Findings) -> bool:
    """Whether ``findings`` hold what ``spec`` is drawn from."""
    if spec.needs == "data":
        return True
    if spec.needs == "model":
        return findings.model is not None and findings.segments is not None
    if spec.needs == "importance":
        return findings.importance is not None and findings.segments is not None
    return False


def figure_subjects(results: Results | Findings) -> tuple[tuple[FigureSpec, str, object], ...]:
    """``(spec, asset key, subject)`` of every figure the report shows for ``results``, in order
    (for :class:`~analysis.pipeline.Findings`: those it holds what they are drawn from)."""
    if isinstance(results, Results):
        return tuple((spec, key, subject) for spec in FIGURES for key, subject in spec.subjects(results))
    return tuple((spec, key, subject) for spec in FIGURES if _known(spec, results)
                 for key, subject in spec.subjects(results))


def figure_keys(results: Results) -> tuple[str, ...]:
    """The asset keys of every figure the report shows for ``results``, in report order."""
    return tuple(key for _, key, _ in figure_subjects(results))
