"""Tests of :func:`report.figures.ishikawa.draw_ishikawa`: content, geometry, robustness."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backend_bases import RendererBase
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from report.figures import style
from report.figures.ishikawa import draw_ishikawa

ROOT = Path(__file__).resolve().parents[2]
_VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(_VENV_PYTHON) if _VENV_PYTHON.exists() else sys.executable

EFFECT_RU = "Снижение покупательской активности"
GROUPS_RU: list[tuple[str, list[str]]] = [
    (
        "Коммуникация с клиентом",
        [
            "Тип сервиса",
            "Согласие на рассылки",
            "Маркетинг за 6 мес. (касаний в месяц)",
            "Маркетинг в текущем месяце",
        ],
    ),
    (
        "Продуктовое поведение",
        [
            "Популярная категория",
            "Доля акционных покупок",
            "Категорий за визит",
            "Неоплаченных товаров в корзине",
        ],
    ),
    (
        "Покупательское поведение",
        ["Выручка, позапрошлый месяц", "Выручка, прошлый месяц", "Выручка, текущий месяц"],
    ),
    (
        "Поведение на сайте",
        [
            "Страниц за визит",
            "Минут на сайте, прошлый месяц",
            "Минут на сайте, текущий месяц",
            "Ошибки сервиса",
            "Дней с регистрации",
        ],
    ),
]
GROUPS_EN: list[tuple[str, list[str]]] = [
    (
        "Customer communication",
        ["Service type", "Consent to newsletters", "Marketing over 6 months (contacts per month)"],
    ),
    (
        "Product behaviour",
        ["Favourite category", "Share of promo purchases", "Unpaid items in the basket"],
    ),
    ("Purchasing behaviour", ["Revenue, month before last", "Revenue, current month"]),
    ("Website behaviour", ["Pages per visit", "Minutes on site, current month", "Service errors"]),
]
# Six groups of eight long-ish members: forces smaller fonts and a taller figure.
GROUPS_6X8: list[tuple[str, list[str]]] = [
    (
        f"Группа {g + 1}: длинное название группы",
        [
            (f"Признак {g + 1}.{i + 1}, " + "описание признака средней длины"[: 6 + 3 * i]).strip()
            for i in range(8)
        ],
    )
    for g in range(6)
]
GROUPS_2: list[tuple[str, list[str]]] = [
    ("Коммуникация", ["Тип сервиса"]),
    ("Сайт", ["Минут на сайте, текущий месяц", "Ошибки сервиса"]),
]

# Overlap tolerance in pixels: anti-aliased edges may touch, boxes may not intersect.
TOL = 1.0


def _normalise(text: str) -> str:
    return " ".join(text.split())


def _texts(fig: Figure) -> dict[str, Text]:
    (ax,) = fig.axes
    return {t.get_gid(): t for t in ax.texts}


def _drawn(fig: Figure) -> RendererBase:
    """Draw once (box patches are positioned at draw time) and return the renderer."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. «Glyph … missing from font(s)»
        fig.canvas.draw()
    return fig.canvas.get_renderer()


def _boxes(fig: Figure, renderer: RendererBase) -> dict[str, Bbox]:
    """Display-space extent of every text: its box patch if it has one, else the text."""
    boxes = {}
    for gid, text in _texts(fig).items():
        patch = text.get_bbox_patch()
        extent = text.get_window_extent(renderer)
        if patch is not None:
            extent = Bbox.union([extent, patch.get_window_extent(renderer)])
        boxes[gid] = extent
    return boxes


def _overlap(a: Bbox, b: Bbox) -> bool:
    return (
        min(a.x1, b.x1) - max(a.x0, b.x0) > TOL and min(a.y1, b.y1) - max(a.y0, b.y0) > TOL
    )


def _segment_hits_box(p: np.ndarray, q: np.ndarray, box: Bbox) -> bool:
    """Does the segment p–q pass through the interior of ``box`` (shrunk by TOL)?"""
    points = p + np.linspace(0.0, 1.0, 400)[:, None] * (q - p)
    inside = (
        (points[:, 0] > box.x0 + TOL)
        & (points[:, 0] < box.x1 - TOL)
        & (points[:, 1] > box.y0 + TOL)
        & (points[:, 1] < box.y1 - TOL)
    )
    return bool(inside.any())


def _check_geometry(fig: Figure, groups: Sequence[tuple[str, Sequence[str]]], effect: str) -> None:
    renderer = _drawn(fig)
    (ax,) = fig.axes
    texts = _texts(fig)
    boxes = _boxes(fig, renderer)

    # Content: the effect, every group title and every member, as text artists.
    assert _normalise(texts["ishikawa-effect"].get_text()) == effect
    for i, (title, members) in enumerate(groups):
        assert _normalise(texts[f"ishikawa-group-{i}"].get_text()) == title
        for j, member in enumerate(members):
            assert _normalise(texts[f"ishikawa-item-{i}-{j}"].get_text()) == member
    expected = 1 + len(groups) + sum(len(m) for _, m in groups) + ("ishikawa-title" in texts)
    assert len(texts) == expected
    assert all(t.get_fontname() == "DejaVu Sans" for t in texts.values())

    # One arrow: the spine, whose head touches the effect box.
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 1
    (arrow,) = arrows
    arrow_box = arrow.get_window_extent(renderer)
    effect_box = boxes["ishikawa-effect"]
    assert abs(arrow_box.x1 - effect_box.x0) < 4
    spine_y = (arrow_box.y0 + arrow_box.y1) / 2
    assert effect_box.y0 < spine_y < effect_box.y1

    # No two texts (with their boxes) overlap.
    for (ga, a), (gb, b) in itertools.combinations(boxes.items(), 2):
        assert not _overlap(a, b), f"{ga} overlaps {gb}"

    # Everything lies inside the figure.
    figure_box = fig.bbox
    for gid, box in boxes.items():
        assert box.x0 >= figure_box.x0 - TOL and box.x1 <= figure_box.x1 + TOL, gid
        assert box.y0 >= figure_box.y0 - TOL and box.y1 <= figure_box.y1 + TOL, gid

    # No text crosses the spine, and no bone or rib crosses a text.
    spine_half_width = arrow.get_linewidth() * fig.dpi / 72 / 2
    for gid, box in boxes.items():
        if gid == "ishikawa-effect":
            continue
        crosses = (
            box.y0 + TOL < spine_y + spine_half_width
            and box.y1 - TOL > spine_y - spine_half_width
        )
        assert not (crosses and box.x0 < arrow_box.x1), f"{gid} crosses the spine"
    lines = [line for line in ax.lines if isinstance(line, Line2D)]
    n_members = sum(len(m) for _, m in groups)
    assert len(lines) == len(groups) + n_members  # one bone per group, one rib per member
    for line in lines:
        p, q = ax.transData.transform(np.column_stack(line.get_data()))
        for gid, box in boxes.items():
            assert not _segment_hits_box(p, q, box), f"a line crosses {gid}"


@pytest.fixture(scope="module")
def figure_ru() -> Figure:
    return draw_ishikawa(effect=EFFECT_RU, groups=GROUPS_RU, title="Факторы снижения активности")


def test_russian_diagram_content_and_geometry(figure_ru: Figure) -> None:
    np.testing.assert_allclose(figure_ru.get_size_inches() * 2.54, [16, 9])
    _check_geometry(figure_ru, GROUPS_RU, EFFECT_RU)
    assert _normalise(_texts(figure_ru)["ishikawa-title"].get_text()) == "Факторы снижения активности"


def test_bones_alternate_above_and_below_the_spine(figure_ru: Figure) -> None:
    renderer = _drawn(figure_ru)
    boxes = _boxes(figure_ru, renderer)
    arrow = next(p for p in figure_ru.axes[0].patches if isinstance(p, FancyArrowPatch))
    extent = arrow.get_window_extent(renderer)
    spine_y = (extent.y0 + extent.y1) / 2
    for i in range(len(GROUPS_RU)):
        box = boxes[f"ishikawa-group-{i}"]
        assert (box.y0 > spine_y) if i % 2 == 0 else (box.y1 < spine_y)
        # Members sit on the same side as their group.
        for j in range(len(GROUPS_RU[i][1])):
            item = boxes[f"ishikawa-item-{i}-{j}"]
            assert (item.y0 > spine_y) if i % 2 == 0 else (item.y1 < spine_y)


def test_long_labels_are_wrapped(figure_ru: Figure) -> None:
    assert "\n" in _texts(figure_ru)["ishikawa-item-0-2"].get_text()  # «Маркетинг за 6 мес. (…)»
    assert "\n" not in _texts(figure_ru)["ishikawa-item-0-0"].get_text()  # «Тип сервиса»


def test_english_diagram(tmp_path: Path) -> None:
    fig = draw_ishikawa(effect="Decline in purchasing activity", groups=GROUPS_EN)
    _check_geometry(fig, GROUPS_EN, "Decline in purchasing activity")
    assert "ishikawa-title" not in _texts(fig)
    root = ET.fromstring(style.to_svg(fig).encode("utf-8"))
    assert root.tag.endswith("svg")
    assert style.to_png(fig).startswith(b"\x89PNG")


@pytest.mark.parametrize("groups", [GROUPS_2, GROUPS_RU[:3], GROUPS_6X8], ids=["2x1-2", "3", "6x8"])
def test_other_sizes_do_not_overlap(groups: list[tuple[str, list[str]]]) -> None:
    fig = draw_ishikawa(effect=EFFECT_RU, groups=groups, title="Диаграмма Исикавы")
    width_cm, height_cm = fig.get_size_inches() * 2.54
    assert width_cm == pytest.approx(16)
    assert 9 - 1e-9 <= height_cm <= 27 + 1e-9  # may only grow, and boundedly
    _check_geometry(fig, groups, EFFECT_RU)


def test_invalid_input() -> None:
    ok = [("A", ["a"]), ("B", ["b"])]
    with pytest.raises(ValueError, match="expected 1–6 groups, got 0"):
        draw_ishikawa(effect="E", groups=[])
    with pytest.raises(ValueError, match="expected 1–6 groups, got 7"):
        draw_ishikawa(effect="E", groups=[(f"G{i}", ["x"]) for i in range(7)])
    with pytest.raises(ValueError, match="group 'A': expected 1–8 items, got 0"):
        draw_ishikawa(effect="E", groups=[("A", [])])
    with pytest.raises(ValueError, match="group 'A': expected 1–8 items, got 9"):
        draw_ishikawa(effect="E", groups=[("A", [f"x{i}" for i in range(9)])])
    with pytest.raises(ValueError, match="effect must be a non-empty string"):
        draw_ishikawa(effect=" ", groups=ok)
    with pytest.raises(ValueError, match="group 'A' has an empty item label"):
        draw_ishikawa(effect="E", groups=[("A", ["a", ""])])
    with pytest.raises(ValueError, match="figure size must be positive"):
        draw_ishikawa(effect="E", groups=ok, width_cm=0)
    with pytest.raises(TypeError):
        draw_ishikawa(effect="E", groups=[("A", "abc")])  # type: ignore[list-item]


_DETERMINISM_SCRIPT = textwrap.dedent(
    """
    import sys
    from report.figures import style
    from report.figures.ishikawa import draw_ishikawa

    groups = [
        ("Коммуникация с клиентом", ["Тип сервиса", "Маркетинг за 6 мес. (касаний в месяц)"]),
        ("Поведение на сайте", ["Минут на сайте, текущий месяц", "Ошибки сервиса"]),
        ("Покупательское поведение", ["Выручка, текущий месяц"]),
    ]
    fig = draw_ishikawa(effect="Снижение покупательской активности", groups=groups)
    sys.stdout.buffer.write(style.to_svg(fig).encode("utf-8"))
    """
)


def test_svg_is_identical_across_processes(tmp_path: Path) -> None:
    script = tmp_path / "render.py"
    script.write_text(_DETERMINISM_SCRIPT, encoding="utf-8")
    processes = [
        subprocess.Popen(
            [PYTHON, str(script)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": seed},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for seed in ("3", "4")
    ]
    outputs = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()
        outputs.append(stdout)
    assert outputs[0].startswith(b"<?xml") and len(outputs[0]) > 1000
    assert outputs[0] == outputs[1]
