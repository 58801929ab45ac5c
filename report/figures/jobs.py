"""The report's figures as worker tasks, with nothing of matplotlib imported here.

The build's own process only asks for figures: it submits :func:`draw` once per key of
:func:`figure_keys` to the workers (:mod:`runtime.executor`), whose forkserver preloaded
:mod:`report.figures.charts`, and receives :class:`FigureAsset` objects back. So the build's
process never imports matplotlib (measured: 0.35 s of its start-up, and a shorter exit), and the
figures are the same bytes wherever they are drawn.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from report.figures import registry
from report.figures.registry import DATA_FIGURE_KEYS
from runtime import collector

if TYPE_CHECKING:
    from analysis.pipeline import Findings
    from analysis.results import Results
    from runtime.executor import Executor

__all__ = ["DATA_FIGURE_KEYS", "FigureAsset", "collect_figures", "draw", "figure_keys", "submit_figures"]


def figure_keys(results: Results) -> tuple[str, ...]:
    """Every figure of the report for ``results``, in report order (:mod:`report.figures.registry`)."""
    return registry.figure_keys(results)


@dataclass(frozen=True)
class FigureAsset:
    """One serialised figure, ready to embed in HTML (and so in the PDF).

    Exactly one of ``svg`` and ``png`` is set.
    """

    key: str
    svg: str | None
    png: bytes | None
    alt: str
    width_cm: float

    def data_uri(self) -> str:
        """The figure as a ``data:`` URI (``data:image/svg+xml;base64,…`` or ``data:image/png;base64,…``)."""
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
    def payload(self) -> bytes:
        """The serialised figure (SVG text as UTF-8, or PNG)."""
        if self.svg is not None:
            return self.svg.encode("utf-8")
        if self.png is not None:
            return self.png
        raise ValueError(f"figure {self.key!r} has no content")

    @property
    def file_name(self) -> str:
        """A file name for the figure: its key with the extension of its format."""
        return f"{self.key}.{'svg' if self.svg is not None else 'png'}"

    @property
    def size_bytes(self) -> int:
        """Size of the serialised figure in bytes."""
        if self.svg is not None:
            return len(self.svg.encode("utf-8"))
        return len(self.png or b"")


def draw(results: Results | Findings, key: str, *, lang: str, dpi: int, rasterize_above: int,
         vector: bool = False) -> FigureAsset:
    """Draw the figure ``key`` (one worker task: :func:`report.figures.charts.draw_figure`, imported
    where the task runs)."""
    from report.figures.charts import draw_figure

    with collector.paused():  # thousands of artists, no garbage collection while they are made
        return draw_figure(results, key, lang=lang, dpi=dpi, rasterize_above=rasterize_above, vector=vector)


def submit_figures(known: Results | Findings, *, executor: Executor, lang: str, dpi: int, rasterize_above: int,
                   vector: bool = False,
                   submitted: Mapping[str, Future[FigureAsset]]) -> dict[str, Future[FigureAsset]]:
    """The figures ``known`` holds what they are drawn from (every figure of the results; of
    :class:`~analysis.pipeline.Findings`, :func:`report.figures.registry.figure_subjects`), but for
    those already ``submitted``.

    Before the importance is known they are queued behind the work already submitted
    (:meth:`~runtime.executor.Executor.submit_later`): the workers draw them while the model is
    fitted, or beside the SHAP values, without delaying either. Once it is known the analysis has
    nothing more for the workers, and they draw at once while the actions are assigned here.
    """
    submit = executor.submit if known.importance is not None else executor.submit_later
    return {key: submit(draw, known, key, lang=lang, dpi=dpi, rasterize_above=rasterize_above, vector=vector)
            for _, key, _ in registry.figure_subjects(known) if key not in submitted}


def collect_figures(results: Results, *, executor: Executor, lang: str, dpi: int, rasterize_above: int,
                    vector: bool = False,
                    submitted: Mapping[str, Future[FigureAsset]] | None = None) -> dict[str, FigureAsset]:
    """Every figure of :func:`figure_keys`, drawn by the workers (those in ``submitted`` were
    already asked for), in report order.

    Raises
    ------
    concurrent.futures.process.BrokenProcessPool
        When a worker died; a figure's own exception, with the worker's traceback, when it failed.
    """
    futures = {**submit_figures(results, executor=executor, lang=lang, dpi=dpi, rasterize_above=rasterize_above,
                                vector=vector, submitted=submitted or {}),
               **(submitted or {})}
    return {key: executor.result(futures[key], name=f"figure {key}") for key in figure_keys(results)}
