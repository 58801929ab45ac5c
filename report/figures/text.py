"""The one text-measuring engine of the figures: widths, heights and wrapping, in centimetres.

Every chart lays its labels out by hand (titles, notes, tick labels and the Ishikawa diagram's
bones), so it must know how large a text is before anything is drawn. Widths are those of the
glyph outlines (matplotlib's :class:`~matplotlib.textpath.TextToPath`, unhinted), exactly as an
SVG figure draws them, widened by :data:`WIDTH_SAFETY` because raster output hints glyphs to whole
pixels. Heights are matplotlib's own layout of a (multi-line) :class:`~matplotlib.text.Text`,
measured by the raster renderer at the figures' resolution.

>>> round(width_cm("ROC-AUC", 8.0), 2) > 0
True
"""

from __future__ import annotations

import textwrap
from functools import lru_cache

from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.text import Text
from matplotlib.textpath import TextToPath

from report.figures import style

__all__ = ["PT", "WIDTH_SAFETY", "height_cm", "line_height_cm", "width_cm", "wrap_balanced", "wrap_greedy"]

#: One typographic point in centimetres.
PT = 2.54 / 72.0
#: Raster output hints glyphs to whole pixels, which can widen a label by a few per cent.
WIDTH_SAFETY = 1.04


@lru_cache(maxsize=16)
def _font(size: float, bold: bool) -> FontProperties:
    return FontProperties(family=style.FONT_FAMILY, size=size, weight="bold" if bold else "normal")


@lru_cache(maxsize=1)
def _text_to_path() -> TextToPath:
    return TextToPath()


@lru_cache(maxsize=16384)
def width_cm(text: str, size: float, bold: bool = False) -> float:
    """Width in cm of ``text`` (its widest line) at ``size`` points."""
    engine = _text_to_path()
    width = max((engine.get_text_width_height_descent(line, _font(size, bold), ismath=False)[0]
                 for line in text.split("\n")), default=0.0)
    return width * PT * WIDTH_SAFETY


@lru_cache(maxsize=1)
def _raster() -> tuple[Figure, RendererAgg]:
    """A figure at the figures' resolution and its raster renderer, to lay text out with."""
    fig = Figure(dpi=style.DPI)
    return fig, FigureCanvasAgg(fig).get_renderer()


@lru_cache(maxsize=4096)
def height_cm(text: str, size: float, bold: bool = False, *, linespacing: float = 1.2) -> float:
    """Height in cm of ``text`` at ``size`` points: matplotlib's own layout of the lines, at the
    figures' resolution (the height of the line boxes, not of the glyphs' outlines)."""
    fig, renderer = _raster()
    artist = Text(0.0, 0.0, text, fontproperties=_font(size, bold), linespacing=linespacing)
    artist.set_figure(fig)
    return float(artist.get_window_extent(renderer).height) * 2.54 / style.DPI


def line_height_cm(size: float, n: int = 1) -> float:
    """Room in cm for ``n`` lines at ``size`` points at a line spacing of 1.2 (the charts' rows)."""
    return size * 1.2 * max(n, 1) * PT


def wrap_greedy(text: str, size: float, max_width: float) -> str:
    """Greedy word wrap of ``text`` into lines no wider than ``max_width`` cm (a word is never split)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            candidate = f"{current} {word}" if current else word
            if current and width_cm(candidate, size) > max_width:
                lines.append(current)
                current = word
            else:
                current = candidate
        lines.append(current)
    return "\n".join(lines)


def _split_word(word: str, room: float, size: float, bold: bool) -> str:
    """``word`` cut into space-separated chunks no wider than ``room`` cm."""
    chunks: list[str] = []
    rest = word
    while rest and width_cm(rest, size, bold) > room:
        cut = 1
        while cut < len(rest) and width_cm(rest[: cut + 1], size, bold) <= room:
            cut += 1
        chunks.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        chunks.append(rest)
    return " ".join(chunks)


def _balanced(text: str, max_width: float, size: float, bold: bool, slant: float,
              linespacing: float) -> tuple[str, float, float, bool]:
    narrowest_chars = max((len(w) for w in text.split()), default=1)
    seen: set[str] = set()
    fitting: list[tuple[int, float, float, str]] = []
    narrowest: tuple[float, float, str] | None = None
    # Narrower wrap widths never give fewer lines: once a wrapping fits, only the wrappings with
    # as many lines remain to be compared for balance.
    for chars in range(max(len(text), 1), max(narrowest_chars, 1) - 1, -1):
        lines = textwrap.wrap(text, width=chars, break_long_words=False, break_on_hyphens=False)
        if fitting and len(lines) > fitting[0][0]:
            break
        wrapped = "\n".join(lines)
        if wrapped in seen:
            continue
        seen.add(wrapped)
        width = width_cm(wrapped, size, bold)
        height = height_cm(wrapped, size, bold, linespacing=linespacing)
        if narrowest is None or width < narrowest[0]:
            narrowest = (width, height, wrapped)
        if width + slant * height / 2 <= max_width:
            fitting.append((len(lines), width, height, wrapped))
    if fitting:
        _, width, height, best = min(fitting)
        return best, width, height, True
    assert narrowest is not None
    width, height, best = narrowest
    return best, width, height, False


def wrap_balanced(text: str, *, max_width: float, size: float, bold: bool = False, slant: float = 0.0,
                  break_words: bool = False, linespacing: float = 1.2) -> tuple[str, float, float, bool]:
    """Wrap ``text`` into ``max_width`` cm with the fewest, then the most balanced, lines.

    A wrapping fits when ``width + slant × height / 2 <= max_width`` (a label beside a slanted
    line loses that much room at its nearer edge). With ``break_words``, when no wrapping at word
    boundaries fits, words too wide on their own are cut into chunks.

    Returns
    -------
    wrapped : str
        The text with line breaks.
    width, height : float
        Its extent in cm.
    fits : bool
        ``False`` if no wrapping fits; the narrowest is returned.
    """
    result = _balanced(text, max_width, size, bold, slant, linespacing)
    if not result[3] and break_words:
        room = max_width - slant * height_cm("lp", size, bold, linespacing=linespacing) / 2
        split = " ".join(_split_word(w, room, size, bold) for w in text.split())
        result = _balanced(split, max_width, size, bold, slant, linespacing)
    return result
