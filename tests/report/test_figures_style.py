"""Tests of :mod:`report.figures.style`: palette, figure factory, deterministic serialisation."""

from __future__ import annotations

import io
import itertools
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib as mpl
import matplotlib.image as mimage
import numpy as np
import pytest
from matplotlib import colors as mcolors
from matplotlib._pylab_helpers import Gcf
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from report.figures import style

ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(_VENV_PYTHON) if _VENV_PYTHON.exists() else sys.executable


def _luminance(color: str | tuple[float, ...]) -> float:
    r, g, b = mcolors.to_rgb(color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


# --------------------------------------------------------------------------------------------
# Palette
# --------------------------------------------------------------------------------------------


def test_okabe_ito_and_categorical_colours_are_valid_and_distinct() -> None:
    for palette in (tuple(style.OKABE_ITO.values()), style.CATEGORICAL):
        assert all(mcolors.is_color_like(c) for c in palette)
        assert len({mcolors.to_hex(c) for c in palette}) == len(palette)
    assert len(style.CATEGORICAL) >= 6


def test_roles_are_distinct_and_classes_differ() -> None:
    roles = [style.DECLINED, style.STABLE, style.ACCENT, style.NEUTRAL, style.GRID]
    assert len({mcolors.to_hex(c) for c in roles}) == len(roles)
    declined = np.array(mcolors.to_rgb(style.DECLINED))
    stable = np.array(mcolors.to_rgb(style.STABLE))
    assert np.abs(declined - stable).sum() > 0.5  # clearly different, not a near shade
    # The two classes come from the colour-blind-safe set.
    assert {style.DECLINED, style.STABLE} <= set(style.OKABE_ITO.values())
    # The grid is light, text and axes are dark.
    assert _luminance(style.GRID) > 0.85
    assert _luminance(style.TEXT) < 0.2 and _luminance(style.AXIS) < 0.4


def test_colormaps() -> None:
    div = style.DIVERGING_CMAP
    low, mid, high = div(0.0), div(0.5), div(1.0)
    assert _luminance(mid) > 0.9  # zero correlation is near-white
    assert _luminance(low) < 0.4 and _luminance(high) < 0.4
    assert mcolors.to_hex(low) != mcolors.to_hex(high)
    seq = [_luminance(style.SEQUENTIAL_CMAP(x)) for x in np.linspace(0, 1, 11)]
    assert all(a > b for a, b in itertools.pairwise(seq))  # monotonically darker


def test_tint() -> None:
    assert style.tint(style.STABLE, amount=0.0) == "#ffffff"
    assert style.tint(style.STABLE, amount=1.0) == mcolors.to_hex(style.STABLE)
    assert _luminance(style.tint(style.DECLINED, amount=0.2)) > _luminance(style.DECLINED)
    with pytest.raises(ValueError, match=r"amount must be in \[0, 1\], got 1.5"):
        style.tint("red", amount=1.5)


# --------------------------------------------------------------------------------------------
# Figure factory
# --------------------------------------------------------------------------------------------


def test_figure_size_axes_and_style() -> None:
    before = dict(mpl.rcParams)
    fig, ax = style.figure(width_cm=16, height_cm=7)
    assert dict(mpl.rcParams) == before  # no global change survives the call
    assert isinstance(fig, Figure) and isinstance(ax, Axes)
    np.testing.assert_allclose(fig.get_size_inches() * 2.54, [16, 7])
    assert Gcf.get_num_fig_managers() == 0  # not registered with pyplot
    assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()
    assert ax.spines["left"].get_visible() and ax.spines["bottom"].get_visible()

    ax.plot([0, 1, 2], [3, 1, 2])
    ax.set_xlabel("Месяц")
    fig.canvas.draw()  # outside any rc context: the pinned style must hold
    ticks = ax.xaxis.get_major_ticks()
    assert ticks[0].gridline.get_visible()
    assert mcolors.to_hex(ticks[0].gridline.get_color()) == mcolors.to_hex(style.GRID)
    assert ticks[0].label1.get_fontsize() == pytest.approx(style.FONT_SIZES["tick"])
    assert ax.xaxis.label.get_fontsize() == pytest.approx(style.FONT_SIZES["label"])
    assert ax.xaxis.label.get_fontname() == style.FONT_FAMILY


def test_figure_grid_and_validation() -> None:
    _, axes = style.figure(nrows=2, ncols=3, width_cm=16, height_cm=10, sharey=True)
    assert isinstance(axes, np.ndarray) and axes.shape == (2, 3)
    assert all(not a.spines["top"].get_visible() for a in axes.ravel())
    with pytest.raises(ValueError, match="figure size must be positive"):
        style.figure(width_cm=0)


def test_context_applies_report_fonts_and_restores() -> None:
    before = dict(mpl.rcParams)
    with style.context():
        assert mpl.rcParams["font.sans-serif"][0] == "DejaVu Sans"
        _, ax = style.figure()
        title = ax.set_title("Заголовок")
    assert title.get_fontsize() == pytest.approx(style.FONT_SIZES["title"])
    assert dict(mpl.rcParams) == before


# --------------------------------------------------------------------------------------------
# Serialisation
# --------------------------------------------------------------------------------------------


def _sample_figure(n_points: int = 50, *, layout: str = "constrained") -> Figure:
    rng = np.random.default_rng(0)
    with style.context():
        fig, (left, right) = style.figure(ncols=2, layout=layout)  # type: ignore[arg-type]
        x, y = rng.normal(size=(2, n_points))
        points = left.scatter(x, y, s=3, color=style.STABLE)
        style.rasterize_if_dense(points, n_points, threshold=200)
        left.set_title("Выручка")
        right.imshow(rng.uniform(-1, 1, (4, 4)), cmap=style.DIVERGING_CMAP, vmin=-1, vmax=1)
    return fig


@pytest.fixture(scope="module")
def sample_outputs() -> tuple[str, bytes]:
    fig = _sample_figure()
    return style.to_svg(fig), style.to_png(fig, dpi=100)


def test_svg_is_valid_and_has_no_date(sample_outputs: tuple[str, bytes]) -> None:
    svg, _ = sample_outputs
    root = ET.fromstring(svg.encode("utf-8"))
    assert root.tag.endswith("svg")
    assert "<dc:date>" not in svg
    assert "<image" in svg  # the imshow layer
    width_pt = float(root.attrib["width"].removesuffix("pt"))
    assert width_pt == pytest.approx(16 / 2.54 * 72, abs=0.5)


def test_png_is_valid_sized_and_without_software_chunk(sample_outputs: tuple[str, bytes]) -> None:
    _, png = sample_outputs
    assert png.startswith(PNG_SIGNATURE)
    assert b"Software" not in png
    pixels = mimage.imread(io.BytesIO(png), format="png")
    height, width = pixels.shape[:2]
    assert abs(width - 16 / 2.54 * 100) <= 1 and abs(height - 7 / 2.54 * 100) <= 1


def test_serialisation_is_stable_within_a_process() -> None:
    with style.context():
        fig, ax = style.figure()
        image = ax.imshow(np.eye(3), cmap=style.DIVERGING_CMAP, vmin=-1, vmax=1)
        fig.colorbar(image, ax=ax)  # constrained layout moves axes between the first draws
    first_svg, first_png = style.to_svg(fig), style.to_png(fig)
    assert style.to_svg(fig) == first_svg
    assert style.to_png(fig) == first_png


def test_rasterize_if_dense() -> None:
    _, ax = style.figure()
    sparse = ax.scatter(np.arange(10), np.arange(10))
    dense = ax.scatter(np.arange(5000), np.arange(5000))
    assert style.rasterize_if_dense(sparse, 10, threshold=200) is False
    assert not sparse.get_rasterized()
    assert style.rasterize_if_dense(dense, 5000, threshold=200) is True
    assert dense.get_rasterized()
    assert style.rasterize_if_dense(ax.scatter([0], [0]), 200, threshold=200) is False
    with pytest.raises(ValueError, match="n_points and threshold must be non-negative, got -1, 200"):
        style.rasterize_if_dense(sparse, -1, threshold=200)


def test_rasterised_layer_keeps_svg_light() -> None:
    vector = style.to_svg(_sample_figure(n_points=150, layout="none"))
    raster = style.to_svg(_sample_figure(n_points=3000, layout="none"))
    assert raster.count("<image") == vector.count("<image") + 1
    assert len(raster) < 3 * len(vector)  # 20× the points, far less than 20× the bytes


_DETERMINISM_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import matplotlib as mpl

    before = dict(mpl.rcParams)
    from report.figures import style
    assert dict(mpl.rcParams) == before, "importing the style module changed rcParams"

    import numpy as np

    out = Path(sys.argv[1])
    rng = np.random.default_rng(1)
    with style.context():
        fig, (left, right) = style.figure(ncols=2)
        dots = left.scatter(rng.normal(size=2000), rng.normal(size=2000), s=2, color=style.DECLINED)
        style.rasterize_if_dense(dots, 2000, threshold=200)
        left.plot([-2, 2], [0, 1], color=style.ACCENT)
        left.set_title("Покупательская активность")
        left.legend(["точки", "линия"])
        right.bar(["стандарт", "премиум"], [3, 5], color=[style.STABLE, style.DECLINED])
    (out / "figure.svg").write_text(style.to_svg(fig), encoding="utf-8")
    (out / "figure.png").write_bytes(style.to_png(fig))
    """
)


def test_svg_and_png_are_identical_across_processes(tmp_path: Path) -> None:
    script = tmp_path / "render.py"
    script.write_text(_DETERMINISM_SCRIPT, encoding="utf-8")
    runs = []
    for seed in ("1", "2"):
        out = tmp_path / f"run{seed}"
        out.mkdir()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": seed, "MPLBACKEND": "Agg"}
        process = subprocess.Popen(
            [PYTHON, str(script), str(out)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        runs.append((process, out))
    for process, _ in runs:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()
    (_, first), (_, second) = runs
    for name in ("figure.svg", "figure.png"):
        a, b = (first / name).read_bytes(), (second / name).read_bytes()
        assert len(a) > 1000
        assert a == b, f"{name} differs between processes"
