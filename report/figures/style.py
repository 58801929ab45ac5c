"""The one visual style of every figure in the report.

The module owns

* a colour-blind-safe palette (Okabe & Ito, 2008) with named roles — :data:`DECLINED` for the
  «activity declined» class, :data:`STABLE` for the «same level» class, :data:`ACCENT`,
  :data:`NEUTRAL`, :data:`GRID` — plus the qualitative :data:`CATEGORICAL` list and the
  :data:`DIVERGING_CMAP` / :data:`SEQUENTIAL_CMAP` colormaps;
* the rc settings (:data:`RC`): DejaVu Sans (it has Cyrillic), small fonts readable on A4 at
  16 cm wide, a light grid, no top/right spines;
* :func:`figure`, a factory of object-oriented :class:`~matplotlib.figure.Figure` objects (no
  pyplot state: nothing is registered globally, nothing leaks, figures are garbage-collected);
* :func:`to_svg` and :func:`to_png`, which serialise byte-identically across runs and processes;
* :func:`rasterize_if_dense`, which keeps SVG light for WeasyPrint.

Importing the module changes no global state: the style is applied through
:func:`matplotlib.rc_context` (see :func:`context`) and by pinning the properties of the axes
that :func:`figure` creates.

Notes
-----
``rcParams`` are process-global, so every temporary change made here happens under one
re-entrant module lock: two threads drawing report figures through this module never see each
other's settings.  Drawing code that adds titles or legends should run inside
``with context():`` so that these artists, created after :func:`figure` returned, get the
report's font sizes too::

    with style.context():
        fig, ax = style.figure(width_cm=16, height_cm=7)
        ax.set_title("Выручка по месяцам")
        ax.legend()
    svg = style.to_svg(fig)
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final, Literal

import matplotlib as mpl
import numpy as np
from cycler import cycler
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib import colors as mcolors
from matplotlib.colors import Colormap
from matplotlib.figure import Figure
from matplotlib.layout_engine import PlaceHolderLayoutEngine

__all__ = [
    "ACCENT",
    "AXIS",
    "CATEGORICAL",
    "CM",
    "DECLINED",
    "DIVERGING_CMAP",
    "DPI",
    "FONT_FAMILY",
    "FONT_SIZES",
    "GRID",
    "NEUTRAL",
    "OKABE_ITO",
    "RC",
    "SEQUENTIAL_CMAP",
    "STABLE",
    "SVG_HASH_SALT",
    "TEXT",
    "TEXT_MUTED",
    "context",
    "figure",
    "rasterize_if_dense",
    "tint",
    "to_png",
    "to_svg",
]

# --------------------------------------------------------------------------------------------
# Palette
# --------------------------------------------------------------------------------------------

#: The eight Okabe–Ito colours, distinguishable under the common colour-vision deficiencies.
OKABE_ITO: Final[Mapping[str, str]] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: Class «покупательская активность снизилась» (activity declined).
DECLINED: Final[str] = OKABE_ITO["vermillion"]
#: Class «прежний уровень» (activity stayed at the same level).
STABLE: Final[str] = OKABE_ITO["blue"]
#: Highlights: a threshold, the selected segment, a reference line.
ACCENT: Final[str] = OKABE_ITO["orange"]
#: De-emphasised data: "all other customers", context bars.
NEUTRAL: Final[str] = "#8C8C8C"
#: Grid lines: visible on white paper, never competing with data.
GRID: Final[str] = "#E3E3E3"
#: Spines and ticks.
AXIS: Final[str] = "#595959"
#: zlib level of the PNG figures. On these flat-colour charts level 1 is as small as the default 6
#: (the real data's 34 figures: 1.24 MB against 1.28 MB) and cheaper to write; WeasyPrint
#: re-compresses the image data in the PDF either way.
PNG_COMPRESS_LEVEL: Final = 1

#: Main text.
TEXT: Final[str] = "#222222"
#: Secondary text: tick labels, notes.
TEXT_MUTED: Final[str] = "#4D4D4D"

#: Qualitative colours for unordered categories, in order of use.  Vermillion comes late so
#: that a categorical chart next to a class chart rarely reuses the «declined» colour; yellow
#: is omitted (too light for lines and text on white).
CATEGORICAL: Final[tuple[str, ...]] = (
    OKABE_ITO["blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["vermillion"],
    "#6B6B6B",
)

#: Correlation heatmaps: ColorBrewer RdBu (colour-blind safe), reversed so that negative is
#: blue and positive is red; use with ``vmin=-1, vmax=1``.  Missing values are light grey.
DIVERGING_CMAP: Final[Colormap] = mpl.colormaps["RdBu_r"].with_extremes(bad="#D9D9D9")
#: Magnitudes (counts, shares, importances): single-hue blues, colour-blind safe and greyscale
#: printable.  Missing values are light grey.
SEQUENTIAL_CMAP: Final[Colormap] = mpl.colormaps["Blues"].with_extremes(bad="#D9D9D9")

# --------------------------------------------------------------------------------------------
# Fonts and rc settings
# --------------------------------------------------------------------------------------------

#: One centimetre in inches (matplotlib sizes figures in inches).
CM: Final[float] = 1 / 2.54
#: Default resolution of raster output (PNG and the rasterised layers of SVG).
DPI: Final[int] = 110
#: DejaVu Sans ships with matplotlib and covers Cyrillic.
FONT_FAMILY: Final[str] = "DejaVu Sans"
#: Font sizes in points for a figure printed at 16 cm wide on A4 (body text is ~10–11 pt).
FONT_SIZES: Final[Mapping[str, float]] = {
    "base": 8.0,
    "title": 9.0,
    "label": 8.0,
    "tick": 7.5,
    "legend": 7.5,
    "annotation": 7.0,
    "suptitle": 10.0,
}
#: Fixed salt for the SVG element ids, so that ids do not change between runs.
SVG_HASH_SALT: Final[str] = "oneclick-report"

#: The rc settings of every report figure (applied with :func:`context`, never globally).
RC: Final[Mapping[str, Any]] = {
    # fonts
    "font.family": "sans-serif",
    "font.sans-serif": [FONT_FAMILY],
    "font.size": FONT_SIZES["base"],
    "axes.titlesize": FONT_SIZES["title"],
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titlepad": 6.0,
    "axes.labelsize": FONT_SIZES["label"],
    "xtick.labelsize": FONT_SIZES["tick"],
    "ytick.labelsize": FONT_SIZES["tick"],
    "legend.fontsize": FONT_SIZES["legend"],
    "legend.title_fontsize": FONT_SIZES["legend"],
    "figure.titlesize": FONT_SIZES["suptitle"],
    "figure.titleweight": "bold",
    "axes.unicode_minus": True,
    "mathtext.fontset": "dejavusans",
    # colours
    "text.color": TEXT,
    "axes.labelcolor": TEXT,
    "axes.edgecolor": AXIS,
    "xtick.color": AXIS,
    "ytick.color": AXIS,
    "xtick.labelcolor": TEXT_MUTED,
    "ytick.labelcolor": TEXT_MUTED,
    "axes.prop_cycle": cycler(color=list(CATEGORICAL)),
    "image.cmap": "Blues",
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    # frame, ticks and grid
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.6,
    "axes.grid": True,
    "axes.grid.axis": "both",
    "axes.axisbelow": True,
    "grid.color": GRID,
    "grid.linewidth": 0.6,
    "grid.linestyle": "-",
    "grid.alpha": 1.0,
    "xtick.major.size": 3.0,
    "ytick.major.size": 3.0,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.pad": 2.5,
    "ytick.major.pad": 2.5,
    # lines, patches, legend
    "lines.linewidth": 1.5,
    "lines.markersize": 4.0,
    "patch.linewidth": 0.5,
    "legend.frameon": False,
    "legend.borderaxespad": 0.3,
    "legend.handlelength": 1.4,
    # output
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "savefig.bbox": None,
    "svg.fonttype": "path",
    "svg.image_inline": True,
    "svg.hashsalt": SVG_HASH_SALT,
    "svg.id": None,
}

#: Most layout passes run by :func:`_freeze_layout` …
_MAX_LAYOUT_PASSES: Final[int] = 4
#: … stopping once no axes moves by more than this share of the figure (0.03 mm at 16 cm).
_LAYOUT_TOLERANCE: Final[float] = 2e-4

#: Serialises every temporary change of the process-global rcParams made by this module.
_RC_LOCK: Final = threading.RLock()


@contextmanager
def context(*, rc: Mapping[str, Any] | None = None) -> Iterator[None]:
    """Apply the report style (and ``rc`` overrides) for the duration of a ``with`` block.

    Parameters
    ----------
    rc : mapping, optional
        rcParams overriding :data:`RC` inside the block.

    Yields
    ------
    None
        Inside the block, artists created by matplotlib take the report's fonts and colours.

    Notes
    -----
    The block holds the module's re-entrant lock, because :func:`matplotlib.rc_context` changes
    process-global state; nested use in one thread is fine.
    """
    params = {**RC, **(dict(rc) if rc else {})}
    with _RC_LOCK, mpl.rc_context(params):
        yield


def _pin_axes_style(ax: Axes) -> None:
    """Pin on ``ax`` the style that matplotlib would otherwise read from rcParams lazily.

    Ticks are created on demand — often while drawing, outside :func:`context` — so their size,
    colours and grid properties are stored on the axes explicitly.
    """
    for axis_name in ("x", "y"):
        ax.tick_params(
            axis=axis_name,
            which="major",
            labelsize=FONT_SIZES["tick"],
            labelcolor=TEXT_MUTED,
            color=AXIS,
            length=3.0,
            width=0.6,
            pad=2.5,
            grid_color=GRID,
            grid_linewidth=0.6,
            grid_alpha=1.0,
            grid_linestyle="-",
        )
        ax.tick_params(axis=axis_name, which="minor", color=AXIS, width=0.5, length=1.8)


def figure(
    *,
    width_cm: float = 16,
    height_cm: float = 7,
    nrows: int = 1,
    ncols: int = 1,
    sharex: bool | Literal["none", "all", "row", "col"] = False,
    sharey: bool | Literal["none", "all", "row", "col"] = False,
    squeeze: bool = True,
    layout: Literal["constrained", "compressed", "tight", "none"] | None = "constrained",
    subplot_kw: Mapping[str, Any] | None = None,
    gridspec_kw: Mapping[str, Any] | None = None,
    rc: Mapping[str, Any] | None = None,
) -> tuple[Figure, Axes | np.ndarray]:
    """Create a report figure with a grid of axes, without pyplot.

    Parameters
    ----------
    width_cm, height_cm : float
        Size of the figure in centimetres; 16 cm is the text width of the A4 report.
    nrows, ncols : int
        Grid of axes, as in :meth:`matplotlib.figure.Figure.subplots`.
    sharex, sharey : bool or {"none", "all", "row", "col"}
        Axis sharing, as in :meth:`~matplotlib.figure.Figure.subplots`.
    squeeze : bool
        Return a single :class:`~matplotlib.axes.Axes` for a 1×1 grid (and a 1-D array for a
        single row or column), as in :meth:`~matplotlib.figure.Figure.subplots`.
    layout : {"constrained", "compressed", "tight", "none"} or None
        Layout engine of the figure.
    subplot_kw, gridspec_kw : mapping, optional
        Passed to :meth:`~matplotlib.figure.Figure.subplots`.
    rc : mapping, optional
        rcParams overriding :data:`RC` while the figure and its axes are created.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure, with an Agg canvas attached (so ``fig.canvas.get_renderer()`` works).
    axes : matplotlib.axes.Axes or numpy.ndarray
        The axes (an array of axes for a grid, unless squeezed).

    Raises
    ------
    ValueError
        If a size is not positive.
    """
    if not (width_cm > 0 and height_cm > 0):
        raise ValueError(f"figure size must be positive, got {width_cm} × {height_cm} cm")
    with context(rc=rc):
        # matplotlib's stub omits layout="none", which Figure documents and accepts (no layout engine)
        fig = Figure(figsize=(width_cm * CM, height_cm * CM), dpi=DPI, layout=layout)  # type: ignore[arg-type]
        FigureCanvasAgg(fig)
        axes = fig.subplots(
            nrows,
            ncols,
            sharex=sharex,
            sharey=sharey,
            squeeze=squeeze,
            subplot_kw=dict(subplot_kw) if subplot_kw else None,
            gridspec_kw=dict(gridspec_kw) if gridspec_kw else None,
        )
        for ax in np.atleast_1d(axes).ravel():
            _pin_axes_style(ax)
    return fig, axes


def _axes_positions(fig: Figure) -> np.ndarray:
    return np.array([ax.get_position().bounds for ax in fig.findobj(Axes)], dtype=float)


def _freeze_layout(fig: Figure) -> None:
    """Run the figure's layout engine until the axes stop moving, then freeze the layout.

    A layout engine (constrained, tight) starts from the current axes positions, so the first
    and the second draw of a figure differ slightly; a figure saved twice would not be saved
    identically.  Freezing (``set_layout_engine("none")`` keeps the settled positions) makes
    every later serialisation of the figure identical.
    """
    engine = fig.get_layout_engine()
    if engine is None or isinstance(engine, PlaceHolderLayoutEngine):
        return
    with context():
        previous = _axes_positions(fig)
        for _ in range(_MAX_LAYOUT_PASSES):
            fig.draw_without_rendering()
            current = _axes_positions(fig)
            settled = previous.shape == current.shape and np.allclose(
                previous, current, rtol=0.0, atol=_LAYOUT_TOLERANCE
            )
            if settled:
                break
            previous = current
    fig.set_layout_engine("none")


def to_svg(fig: Figure, *, rasterize_dpi: int = DPI) -> str:
    """Serialise ``fig`` to SVG text, byte-identical across runs and processes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to save.
    rasterize_dpi : int
        Resolution of the layers marked as rasterised (see :func:`rasterize_if_dense`); vector
        layers are unaffected.

    Returns
    -------
    str
        The SVG document.  Glyphs are embedded as paths (no font needed by the viewer), element
        ids are hashed with the fixed :data:`SVG_HASH_SALT`, and the ``Date`` metadata is
        omitted; nothing else is stripped.

    Notes
    -----
    The figure's layout is settled and frozen first (see :func:`_freeze_layout`), so saving
    the same figure again, in either format, gives the same bytes.
    """
    _freeze_layout(fig)
    buffer = io.BytesIO()
    with context():
        fig.savefig(buffer, format="svg", dpi=rasterize_dpi, metadata={"Date": None})
    return buffer.getvalue().decode("utf-8")


def to_png(fig: Figure, *, dpi: int = DPI) -> bytes:
    """Serialise ``fig`` to PNG bytes, byte-identical across runs and processes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to save.
    dpi : int
        Resolution in dots per inch.

    Returns
    -------
    bytes
        An opaque RGB PNG (no alpha channel, no text chunks), compressed at
        :data:`PNG_COMPRESS_LEVEL`: the bytes depend only on the figure and the renderer.

    Notes
    -----
    As in :func:`to_svg`, the figure's layout is settled and frozen first.  The figure is
    rendered to raw RGBA by Agg and written as RGB: the report's figures are drawn on an opaque
    white background, and a PDF renderer has to split an alpha channel into a separate soft mask
    (WeasyPrint re-encodes both), which an RGB image spares it.

    Raises
    ------
    ValueError
        If the figure has transparent pixels (its face colour is not opaque).
    """
    from PIL import Image

    _freeze_layout(fig)
    buffer = io.BytesIO()
    with context():
        fig.savefig(buffer, format="rgba", dpi=dpi)
    width, height = (int(v * dpi) for v in fig.get_size_inches())
    raw = buffer.getbuffer()
    if raw.nbytes != width * height * 4:  # pragma: no cover - Agg's size rule changed
        raise RuntimeError(f"unexpected raster size: {raw.nbytes} bytes for {width}×{height} RGBA")
    rgba = np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 4)
    if rgba[..., 3].min() != 255:
        raise ValueError("the figure has transparent pixels; draw it on an opaque face colour")
    out = io.BytesIO()
    Image.fromarray(rgba[..., :3]).save(out, format="png", compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()


def rasterize_if_dense(artist: Artist, n_points: int, *, threshold: int) -> bool:
    """Rasterise ``artist`` in vector output when it draws more than ``threshold`` points.

    A scatter of thousands of markers makes a heavy SVG that WeasyPrint renders slowly; as a
    raster layer (at :func:`to_svg`'s ``rasterize_dpi``) it stays light while axes, labels and
    text remain vector.

    Parameters
    ----------
    artist : matplotlib.artist.Artist
        The data layer, e.g. the :class:`~matplotlib.collections.PathCollection` returned by
        :meth:`~matplotlib.axes.Axes.scatter`.
    n_points : int
        Number of points the layer draws.
    threshold : int
        Largest number of points kept as vector (``config.report.rasterize_above``).

    Returns
    -------
    bool
        Whether the artist was marked as rasterised.

    Raises
    ------
    ValueError
        If ``n_points`` or ``threshold`` is negative.
    """
    if n_points < 0 or threshold < 0:
        raise ValueError(
            f"n_points and threshold must be non-negative, got {n_points}, {threshold}"
        )
    dense = n_points > threshold
    if dense:
        artist.set_rasterized(True)
    return dense


def tint(color: str, *, amount: float) -> str:
    """Mix ``color`` with white: ``amount`` 0 gives white, 1 gives the colour itself.

    Parameters
    ----------
    color : str
        Any matplotlib colour.
    amount : float
        Share of the colour, in [0, 1].

    Returns
    -------
    str
        The mixed colour as ``#rrggbb``.

    Raises
    ------
    ValueError
        If ``amount`` is outside [0, 1].
    """
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"amount must be in [0, 1], got {amount}")
    r, g, b = mcolors.to_rgb(color)
    return mcolors.to_hex((1.0 - amount * (1.0 - r), 1.0 - amount * (1.0 - g), 1.0 - amount * (1.0 - b)))
