"""Ishikawa (fishbone) diagram of the feature groups behind the modelled effect.

The diagram is drawn by code, in a coordinate system measured in centimetres (one axes fills
the whole figure), so that every gap below is a physical distance on the A4 page::

     [Group 0]                [Group 2]
         \\  item ─┐              \\  item ─┐
          \\ item ─┤               \\ item ─┤
    ────────\\──────────────────────\\────────────▶ [ Effect ]
            /  item ─┘             /  item ─┘
           /   item               /   item
     [Group 1]                [Group 3]

Layout
------
Groups alternate above and below the spine, left to right.  Each side has its own columns of
equal width; a bone leaves the spine and slants up-left (down-left) to a rounded box with the
group's title.  Each member is a short horizontal rib ending on the bone, with its label to the
left of the rib, right-aligned.  Labels are wrapped with :mod:`textwrap` into the width of the
column (measured by the figures' text engine, not guessed from character counts), choosing the fewest
and then the most balanced lines; ribs are spread evenly along the bone.  If the content does
not fit, the fonts shrink step by step and, as a last resort at the smallest font, the figure
grows taller — labels never overlap each other, the bones, the spine or the effect box.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import ArrowStyle, FancyArrowPatch

from report.figures import style
from report.figures import text as measure_text

__all__ = ["MAX_GROUPS", "MAX_ITEMS", "draw_ishikawa"]

#: Largest number of groups (bones) the layout supports.
MAX_GROUPS = 6
#: Largest number of members per group the layout supports.
MAX_ITEMS = 8

# Physical distances, in centimetres.
_MARGIN = 0.15  # around the drawing
_RIB = 0.32  # length of a rib
_RIB_PAD = 0.07  # between a label and its rib
_BONE_GAP = 0.25  # between a label and the neighbouring bone on its left
_SPINE_GAP = 0.22  # between the spine and the nearest label
_GROUP_GAP = 0.10  # between the outermost label and the group box
_MIN_LABEL_GAP = 0.07  # between two labels on one bone
_ARROW_ROOM = 0.85  # spine visible between the last bone and the effect box
_TITLE_GAP = 0.20  # below the title
_MIN_COLUMN = 1.6  # narrowest usable column
_BOX_GAP = 0.4  # between two neighbouring group boxes
_TAIL = 0.6  # spine visible left of the leftmost label or box

_BONE_ANGLE_DEG = 62.0  # angle between a bone and the spine (at most; see _MAX_RUN)
_SLANT = 1.0 / math.tan(math.radians(_BONE_ANGLE_DEG))  # horizontal run per vertical cm
#: Largest horizontal run of a bone, as a share of the width: long bones get steeper instead
#: of eating the columns' width.
_MAX_RUN = 0.11

_LINESPACING = 1.1
_GROUP_PAD = 0.38  # box padding, in units of the font size
_EFFECT_PAD = 0.55

#: Item font sizes tried in turn (points); group, effect and title sizes follow them.
_FONT_STEPS = (8.0, 7.5, 7.0, 6.5)
#: Height increments (cm) tried at the smallest font, as a last resort.
_GROW_STEP = 0.5
_GROW_MAX_FACTOR = 3.0

#: Bone colours: the palette without vermillion, which the effect («declined») owns.
_GROUP_COLORS = tuple(c for c in style.CATEGORICAL if c != style.DECLINED)
_SPINE_COLOR = "#3A3A3A"

_PT_TO_CM = 2.54 / 72.0


# --------------------------------------------------------------------------------------------
# Text measurement and wrapping
# --------------------------------------------------------------------------------------------


class _Measure:
    """Text extents in cm for the diagram: the figures' one engine (:mod:`report.figures.text`)
    at the diagram's line spacing."""

    def size(self, text: str, fontsize: float, bold: bool) -> tuple[float, float]:
        """Return (width, height) of ``text`` in cm."""
        return (measure_text.width_cm(text, fontsize, bold),
                measure_text.height_cm(text, fontsize, bold, linespacing=_LINESPACING))

    def word_width(self, word: str, fontsize: float, bold: bool) -> float:
        """Width of one line of text in cm."""
        return measure_text.width_cm(word, fontsize, bold)

    def wrap(self, text: str, *, max_width: float, fontsize: float, bold: bool = False, slant: float = 0.0,
             break_words: bool = False) -> tuple[str, float, float, bool]:
        """Wrap ``text`` into ``max_width`` cm (:func:`report.figures.text.wrap_balanced`)."""
        return measure_text.wrap_balanced(text, max_width=max_width, size=fontsize, bold=bold, slant=slant,
                                          break_words=break_words, linespacing=_LINESPACING)


def _font(size: float, *, bold: bool = False) -> FontProperties:
    return FontProperties(family=style.FONT_FAMILY, size=size, weight="bold" if bold else "normal")


# --------------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sizes:
    item: float
    group: float
    effect: float
    title: float

    @classmethod
    def for_item(cls, item: float) -> _Sizes:
        return cls(item=item, group=item + 0.5, effect=item + 1.5, title=min(item + 2.0, 10.0))


@dataclass
class _Label:
    text: str
    x: float  # right edge
    y: float  # vertical centre
    width: float
    height: float
    rib: tuple[float, float, float]  # x_start, x_end, y


@dataclass
class _Bone:
    index: int  # group index
    title: str
    color: str
    above: bool
    root: tuple[float, float]  # on the spine
    tip: tuple[float, float]  # outer end, where the group box begins
    box_center: tuple[float, float]
    box_size: tuple[float, float]
    labels: list[_Label] = field(default_factory=list)


@dataclass
class _Plan:
    width: float
    height: float
    sizes: _Sizes
    spine_y: float
    spine_x: tuple[float, float]
    effect: str
    effect_center: tuple[float, float]
    effect_box: tuple[float, float, float, float]  # x0, y0, width, height
    title: str | None
    title_xy: tuple[float, float]
    bones: list[_Bone]
    fits: bool
    deficit: float  # extra figure height (cm) the members need at this font size
    view_x0: float  # left end of the visible x range: centres the drawing horizontally


def _sides(n_groups: int) -> tuple[list[int], list[int]]:
    """Group indices above and below the spine, left to right (alternating, starting above)."""
    return list(range(0, n_groups, 2)), list(range(1, n_groups, 2))


def _layout(
    measure: _Measure,
    *,
    effect: str,
    groups: Sequence[tuple[str, Sequence[str]]],
    title: str | None,
    width: float,
    height: float,
    sizes: _Sizes,
) -> _Plan:
    """Place every element; ``fits`` tells whether all constraints hold."""
    fits = True
    deficit = 0.0
    # Words are split only when nothing else is left to try.
    last_resort = sizes.item <= _FONT_STEPS[-1]
    pad_group = _GROUP_PAD * sizes.group * _PT_TO_CM
    pad_effect = _EFFECT_PAD * sizes.effect * _PT_TO_CM

    # Title band.
    top = height - _MARGIN
    title_xy = (_MARGIN, top)
    if title:
        title_text, _, title_h, title_fits = measure.wrap(
            title,
            max_width=width - 2 * _MARGIN,
            fontsize=sizes.title,
            bold=True,
            break_words=last_resort,
        )
        fits &= title_fits
        top -= title_h + _TITLE_GAP
    else:
        title_text = None
    bottom = _MARGIN
    spine_y = (top + bottom) / 2
    half = (top - bottom) / 2

    # Effect box at the right, centred on the spine.
    # About a fifth of the width, but never narrower than the effect's longest word (up to a
    # third of the width).
    widest_word = max(measure.word_width(w, sizes.effect, True) for w in effect.split())
    effect_max = max(min(max(0.22 * width, 2.6), 4.2) - 2 * pad_effect, widest_word)
    effect_max = min(effect_max, width / 3 - 2 * pad_effect)
    effect_text, eff_w, eff_h, eff_fits = measure.wrap(
        effect, max_width=effect_max, fontsize=sizes.effect, bold=True, break_words=last_resort
    )
    box_w, box_h = eff_w + 2 * pad_effect, eff_h + 2 * pad_effect
    fits &= eff_fits and box_h <= 2 * half
    deficit = max(deficit, box_h - 2 * half)
    box_x0 = width - _MARGIN - box_w
    effect_box = (box_x0, spine_y - box_h / 2, box_w, box_h)
    last_root_x = box_x0 - _ARROW_ROOM

    above, below = _sides(len(groups))
    colors = {i: _GROUP_COLORS[i % len(_GROUP_COLORS)] for i in range(len(groups))}

    # Bone length and group boxes depend on each other (box height ← wrap width ← column width
    # ← bone slant ← bone length ← box height): iterate to a fixed point from one line.
    group_h = measure.size("Ag", sizes.group, True)[1] + 2 * pad_group
    wrapped_titles: dict[int, tuple[str, float, float]] = {}

    def slant_of(bone_len: float) -> float:
        return min(_SLANT, _MAX_RUN * width / bone_len) if bone_len > 0 else _SLANT

    for _ in range(4):
        bone_len = half - group_h
        span = last_root_x - _MARGIN - slant_of(bone_len) * bone_len
        new_group_h = 0.0
        for side in (above, below):
            if not side:
                continue
            column = span / len(side)
            for i in side:
                text, w, h, ok = measure.wrap(
                    groups[i][0],
                    max_width=column - _BOX_GAP - 2 * pad_group,
                    fontsize=sizes.group,
                    bold=True,
                    break_words=last_resort,
                )
                wrapped_titles[i] = (text, w + 2 * pad_group, h + 2 * pad_group)
                new_group_h = max(new_group_h, h + 2 * pad_group)
        if math.isclose(new_group_h, group_h):
            break
        group_h = new_group_h
    bone_len = half - group_h
    slant = slant_of(bone_len)
    span = last_root_x - _MARGIN - slant * bone_len
    fits &= bone_len > _SPINE_GAP + _GROUP_GAP
    deficit = max(deficit, 2 * (_SPINE_GAP + _GROUP_GAP - bone_len))

    bones: list[_Bone] = []
    for side, is_above in ((above, True), (below, False)):
        if not side:
            continue
        column = span / len(side)
        fits &= column >= _MIN_COLUMN
        sign = 1.0 if is_above else -1.0
        for k, i in enumerate(side):
            _, members = groups[i]
            root_x = _MARGIN + slant * bone_len + (k + 1) * column
            tip = (root_x - slant * bone_len, spine_y + sign * bone_len)
            text, gw, gh = wrapped_titles[i]
            fits &= gw <= column - _BOX_GAP + 1e-9
            bone = _Bone(
                index=i,
                title=text,
                color=colors[i],
                above=is_above,
                root=(root_x, spine_y),
                tip=tip,
                box_center=(tip[0], tip[1] + sign * gh / 2),
                box_size=(gw, gh),
            )
            # Labels: wrap into the column, then spread evenly between spine and group box.
            label_max = column - _RIB - _RIB_PAD - _BONE_GAP
            wrapped = []
            for member in members:
                m_text, m_w, m_h, ok = measure.wrap(
                    member,
                    max_width=label_max,
                    fontsize=sizes.item,
                    slant=slant,
                    break_words=last_resort,
                )
                fits &= ok
                wrapped.append((m_text, m_w, m_h))
            near, far = _SPINE_GAP, bone_len - _GROUP_GAP
            total = sum(h for _, _, h in wrapped)
            slack = (far - near) - total
            n = len(wrapped)
            fits &= slack >= (n - 1) * _MIN_LABEL_GAP
            deficit = max(deficit, 2 * ((n - 1) * _MIN_LABEL_GAP - slack))
            gap = slack / n if n else 0.0
            # Members read top-down on both sides: above the spine item 0 sits next to the
            # group box, below it next to the spine.
            order = list(range(n)) if is_above else list(reversed(range(n)))
            placed: dict[int, _Label] = {}
            distance = far - gap / 2
            for j in order:
                m_text, m_w, m_h = wrapped[j]
                centre = distance - m_h / 2
                distance -= m_h + gap
                y = spine_y + sign * centre
                bone_x = root_x - slant * centre
                placed[j] = _Label(
                    text=m_text,
                    x=bone_x - _RIB - _RIB_PAD,
                    y=y,
                    width=m_w,
                    height=m_h,
                    rib=(bone_x - _RIB, bone_x, y),
                )
            bone.labels.extend(placed[j] for j in range(n))
            bones.append(bone)

    # The drawing hugs the effect box; with few or short members, centre it by cutting the
    # spine's tail and moving the view (the title stays at the left margin).
    content_left = min(
        [label.x - label.width for bone in bones for label in bone.labels]
        + [bone.box_center[0] - bone.box_size[0] / 2 for bone in bones]
    )
    tail_start = max(_MARGIN, content_left - _TAIL)
    view_x0 = (tail_start - _MARGIN) / 2

    return _Plan(
        width=width,
        height=height,
        sizes=sizes,
        spine_y=spine_y,
        spine_x=(tail_start, box_x0),
        effect=effect_text,
        effect_center=(box_x0 + box_w / 2, spine_y),
        effect_box=effect_box,
        title=title_text,
        title_xy=(title_xy[0] + view_x0, title_xy[1]),
        bones=bones,
        fits=fits,
        deficit=deficit,
        view_x0=view_x0,
    )


def _validate(effect: str, groups: Sequence[tuple[str, Sequence[str]]]) -> None:
    if not effect or not effect.strip():
        raise ValueError("effect must be a non-empty string")
    if not 1 <= len(groups) <= MAX_GROUPS:
        raise ValueError(f"expected 1–{MAX_GROUPS} groups, got {len(groups)}")
    for group_title, members in groups:
        if not group_title or not group_title.strip():
            raise ValueError("every group needs a non-empty title")
        if isinstance(members, str):
            raise TypeError(f"members of group {group_title!r} must be a sequence of strings")
        if not 1 <= len(members) <= MAX_ITEMS:
            raise ValueError(
                f"group {group_title!r}: expected 1–{MAX_ITEMS} items, got {len(members)}"
            )
        if any(not m or not m.strip() for m in members):
            raise ValueError(f"group {group_title!r} has an empty item label")


# --------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------


def draw_ishikawa(
    *,
    effect: str,
    groups: Sequence[tuple[str, Sequence[str]]],
    title: str | None = None,
    width_cm: float = 16,
    height_cm: float = 9,
) -> Figure:
    """Draw a fishbone (Ishikawa) diagram: groups of causes leading to one effect.

    Parameters
    ----------
    effect : str
        The effect, shown in a box at the head of the spine, e.g. «Снижение покупательской
        активности».
    groups : sequence of (str, sequence of str)
        ``(group title, member labels)`` in diagram order: 1–6 groups of 1–8 members.  Groups
        alternate above and below the spine, left to right; members are listed top-down (from
        the group's box towards the spine above it, from the spine towards the box below it).
    title : str, optional
        Title printed at the top left.
    width_cm, height_cm : float
        Size of the figure in centimetres.  The height is a minimum: when the members cannot
        fit even at the smallest font (6.5 pt), the figure grows taller in 0.5 cm steps.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (object-oriented, with an Agg canvas; serialise with
        :func:`report.figures.style.to_svg` or :func:`~report.figures.style.to_png`).  Its
        texts carry gids: ``ishikawa-title``, ``ishikawa-effect``, ``ishikawa-group-{i}`` and
        ``ishikawa-item-{i}-{j}``; the spine is the only
        :class:`~matplotlib.patches.FancyArrowPatch`.

    Raises
    ------
    ValueError
        If a label is empty, the size is not positive, or the number of groups or members is
        outside the supported range.
    TypeError
        If a group's members are given as one string.

    Notes
    -----
    Fonts step down from 8 pt (members) to 6.5 pt before the figure grows (at most to three
    times ``height_cm``).  A single word too wide for its column even at 6.5 pt is split; at
    16 cm wide this never happens for the report's labels.  The function touches no global
    state (no pyplot, no rcParams): fonts are passed explicitly, so it is thread-safe.
    """
    _validate(effect, groups)
    if not (width_cm > 0 and height_cm > 0):
        raise ValueError(f"figure size must be positive, got {width_cm} × {height_cm} cm")

    fig = Figure(figsize=(width_cm * style.CM, height_cm * style.CM), dpi=style.DPI)
    FigureCanvasAgg(fig)
    measure = _Measure()

    def attempt(item_size: float, height: float) -> _Plan:
        return _layout(
            measure,
            effect=effect,
            groups=groups,
            title=title,
            width=width_cm,
            height=height,
            sizes=_Sizes.for_item(item_size),
        )

    plan: _Plan | None = None
    for item_size in _FONT_STEPS:
        plan = attempt(item_size, height_cm)
        if plan.fits:
            break
    assert plan is not None
    # Last resort: grow by what the members lack (both sides), in whole steps, then bisect
    # back down (the lack is an upper bound: taller bones are steeper, so labels may wrap into
    # fewer lines).
    if not plan.fits:
        item_size = _FONT_STEPS[-1]
        max_height = _GROW_MAX_FACTOR * height_cm
        low, height = height_cm, height_cm
        while not plan.fits and plan.deficit > 0 and height < max_height:
            low = height
            steps = max(1, math.ceil(plan.deficit / _GROW_STEP))
            height = min(height + _GROW_STEP * steps, max_height)
            plan = attempt(item_size, height)
        if plan.fits:
            high = height
            while high - low > _GROW_STEP + 1e-9:
                middle = low + _GROW_STEP * max(1, round((high - low) / _GROW_STEP / 2))
                candidate = attempt(item_size, middle)
                if candidate.fits:
                    high, plan = middle, candidate
                else:
                    low = middle
    if plan.height != height_cm:
        fig.set_size_inches(width_cm * style.CM, plan.height * style.CM)

    _render(fig, plan)
    return fig


def _render(fig: Figure, plan: _Plan) -> None:
    """Draw ``plan`` on ``fig`` (one axes in centimetres, covering the figure)."""
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    ax.set_xlim(plan.view_x0, plan.view_x0 + plan.width)
    ax.set_ylim(0.0, plan.height)
    sizes = plan.sizes

    if plan.title:
        ax.text(
            *plan.title_xy,
            plan.title,
            ha="left",
            va="top",
            color=style.TEXT,
            fontproperties=_font(sizes.title, bold=True),
            linespacing=_LINESPACING,
            gid="ishikawa-title",
        )

    # Spine with the arrow head touching the effect box.
    x0, x1 = plan.spine_x
    ax.add_patch(
        FancyArrowPatch(
            (x0, plan.spine_y),
            (x1, plan.spine_y),
            arrowstyle=ArrowStyle("-|>", head_length=0.55, head_width=0.28),
            mutation_scale=14,
            shrinkA=0,
            shrinkB=0,
            linewidth=2.2,
            color=_SPINE_COLOR,
            joinstyle="miter",
            capstyle="butt",
            zorder=2,
            gid="ishikawa-spine",
        )
    )

    # Effect box.
    effect_color = style.DECLINED
    # Anchored at the box's left edge, where the arrow head ends: the box's drawn width may
    # differ from the measured one by the glyphs' hinting, and that shows only on its right.
    ax.text(
        plan.effect_box[0] + _EFFECT_PAD * sizes.effect * _PT_TO_CM,
        plan.effect_center[1],
        plan.effect,
        ha="left",
        va="center",
        multialignment="center",
        color=style.TEXT,
        fontproperties=_font(sizes.effect, bold=True),
        linespacing=_LINESPACING,
        bbox={
            "boxstyle": f"round,pad={_EFFECT_PAD},rounding_size=0.5",
            "facecolor": style.tint(effect_color, amount=0.14),
            "edgecolor": effect_color,
            "linewidth": 1.6,
        },
        zorder=4,
        gid="ishikawa-effect",
    )

    for bone in plan.bones:
        ax.add_line(
            Line2D(
                [bone.root[0], bone.tip[0]],
                [bone.root[1], bone.tip[1]],
                color=bone.color,
                linewidth=1.7,
                solid_capstyle="round",
                zorder=3,
            )
        )
        ax.text(
            *bone.box_center,
            bone.title,
            ha="center",
            va="center",
            multialignment="center",
            color=style.TEXT,
            fontproperties=_font(sizes.group, bold=True),
            linespacing=_LINESPACING,
            bbox={
                "boxstyle": f"round,pad={_GROUP_PAD}",
                "facecolor": style.tint(bone.color, amount=0.16),
                "edgecolor": bone.color,
                "linewidth": 1.1,
            },
            zorder=4,
            gid=f"ishikawa-group-{bone.index}",
        )
        for j, label in enumerate(bone.labels):
            x_start, x_end, y = label.rib
            ax.add_line(
                Line2D(
                    [x_start, x_end],
                    [y, y],
                    color=bone.color,
                    linewidth=0.9,
                    solid_capstyle="butt",
                    zorder=3,
                )
            )
            ax.text(
                label.x,
                label.y,
                label.text,
                ha="right",
                va="center",
                multialignment="right",
                color=style.TEXT,
                fontproperties=_font(sizes.item),
                linespacing=_LINESPACING,
                zorder=4,
                gid=f"ishikawa-item-{bone.index}-{j}",
            )
