"""The static timeline: SVG or PNG drawn by matplotlib, without pyplot, a browser or network.

The lanes are the interactive page's, simplified: no hover, so the terms and sources are
left to the HTML page and ``ledger history``; a marker of several marks is bigger.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import matplotlib as mpl
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from ledger.domain.spans import Picture
from ledger.presentation.lanes import (
    Bar,
    Bin,
    ClauseRow,
    Lanes,
    MarkLane,
    StepLane,
    TalksRow,
    colour_of,
    lanes,
    ticks,
)

_TALKS_COLOURS = {"open": "#868E96", "concluded": "#2B8A3E", "abandoned": "#C92A2A"}
_TERMINATION_COLOUR = "#C92A2A"
_WIDTH_IN = 12.0
_LEGEND_IN = 2.5
_TOP_IN = 0.75
_GAP_IN = 0.4
_BOTTOM_IN = 0.4
_CHAR_IN = 0.065
_LABEL_CHARS = 30
_ROW_IN = 0.28
_STEPS_IN = 1.8
_DPI = 100
_MAX_TICKS = 14


def render(picture: Picture, fmt: str) -> bytes:
    """The picture as ``svg`` or ``png`` bytes."""
    with mpl.rc_context(
        {
            # Text stays text in the SVG (searchable, selectable, and testable).
            "svg.fonttype": "none",
            # Element ids and metadata fixed, so the same picture gives the same file.
            "svg.hashsalt": "contract-ledger",
            # Sources quote dollar amounts: "$1 billion ... $10 billion" is not a formula.
            "text.parse_math": False,
            "font.size": 8,
        }
    ):
        figure = draw(picture)
        out = io.BytesIO()
        metadata = {"Date": None} if fmt == "svg" else {"Software": None}
        figure.savefig(out, format=fmt, dpi=_DPI, metadata=metadata)
    return out.getvalue()


def draw(picture: Picture) -> Figure:
    """A matplotlib figure of the picture's lanes, its panels placed by hand.

    Matplotlib's automatic layouts measure every label of every axis, which took most of
    the time here; the labels' widths are known well enough from their length.
    """
    drawn = lanes(picture)
    panels = _panels(drawn)
    labels = [row.label for row in drawn.clauses] + [row.label for row in drawn.talks]
    labels += [row.label for row in drawn.governance]
    left = 0.3 + _CHAR_IN * max((len(_short(label)) for label in labels), default=6)
    height = _TOP_IN + sum(h for _, h in panels) + _GAP_IN * (len(panels) - 1) + _BOTTOM_IN
    figure = Figure(figsize=(_WIDTH_IN, height))
    width = (_WIDTH_IN - left - _LEGEND_IN) / _WIDTH_IN
    axes: list[Axes] = []
    top = height - _TOP_IN
    for paint, panel_height in panels:
        box = (left / _WIDTH_IN, (top - panel_height) / height, width, panel_height / height)
        ax = figure.add_axes(box, sharex=axes[0] if axes else None)
        paint(ax, drawn, picture)
        ax.tick_params(labelbottom=False)
        if drawn.termination:
            ax.axvline(_x(drawn.termination.on), color=_TERMINATION_COLOUR, linestyle="--")
        axes.append(ax)
        top -= panel_height + _GAP_IN
    if drawn.termination:
        axes[0].annotate(
            f"terminated {drawn.termination.when}",
            (_x(drawn.termination.on), 1.0),
            xycoords=("data", "axes fraction"),
            color=_TERMINATION_COLOUR,
            va="bottom",
        )
    bottom = axes[-1]
    bottom.set_xlim(_x(drawn.window.start), _x(drawn.window.stop))
    marks = ticks(drawn.window, _MAX_TICKS)
    bottom.set_xticks([_x(day) for day, _ in marks], labels=[label for _, label in marks])
    bottom.tick_params(labelbottom=True)
    figure.text(0.01, 1 - 0.12 / height, _heading(picture), va="top", fontsize=10)
    return figure


def _short(text: str) -> str:
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"


def _heading(picture: Picture) -> str:
    heading = (
        f"{picture.title} ({picture.agreement}), {picture.start} to {picture.end}\n"
        f"solid: as known at {_moment(picture)}"
    )
    if picture.compare:
        heading += f"; dashed outline: as known at {_moment(picture.compare)}"
    return heading


def _moment(picture: Picture) -> str:
    return picture.known_at.strftime("%Y-%m-%d %H:%M UTC")


Painter = Callable[[Axes, Lanes, Picture], None]


def _panels(drawn: Lanes) -> list[tuple[Painter, float]]:
    panels: list[tuple[Painter, float]] = [(_clauses, max(0.9, _ROW_IN * len(drawn.clauses) + 0.3))]
    if drawn.talks:
        panels.append((_talks, _ROW_IN * len(drawn.talks) + 0.4))
    if drawn.governance:
        panels.append((_governance, _ROW_IN * len(drawn.governance) + 0.4))
    if drawn.investments.lines:
        panels.append((_investments, _STEPS_IN))
    if drawn.stakes.lines:
        panels.append((_stakes, _STEPS_IN))
    return panels


def _x(day: date) -> float:
    """Days are drawn at their ordinal, so that the lanes need no date converter."""
    return float(day.toordinal())


def _rows(ax: Axes, labels: Sequence[str], title: str) -> None:
    ax.set_yticks(range(len(labels)), labels=[_short(label) for label in labels])
    ax.set_ylim(max(1, len(labels)) - 0.5, -0.5)
    ax.set_title(title, loc="left", fontsize=9, fontweight="bold")
    ax.grid(axis="x", color="#EEEEEE")
    ax.set_axisbelow(True)


# -- clauses -------------------------------------------------------------------


def _clauses(ax: Axes, drawn: Lanes, picture: Picture) -> None:
    rows = drawn.clauses
    title = "clauses"
    if drawn.grouped:
        title += " (a row per kind: too many clause ids; shade: how many in force)"
    _rows(ax, [row.label for row in rows], title if rows else title + ": none in force")
    peak = max((row.peak for row in rows), default=1) or 1
    ghosts = [(y, bar) for y, row in enumerate(rows) for bar in row.ghosts]
    _barh(ax, ghosts, height=0.82, fill=False, linestyle="--", edgecolor="#212529")
    solid = [(y, bar) for y, row in enumerate(rows) for bar in row.bars]
    colours = [
        to_rgba(colour_of(rows[y].kind), 0.3 + 0.7 * bar.in_force / peak if rows[y].grouped else 1)
        for y, bar in solid
    ]
    _barh(ax, solid, height=0.55, color=colours)
    vague = [(y, bar) for y, bar in solid if bar.vague_until and bar.span]
    _barh(
        ax,
        [(y, Bar(bar.start, bar.vague_until or bar.stop)) for y, bar in vague],
        height=0.55,
        **_VAGUE,
    )
    for y, bar in vague:
        since = bar.span.since if bar.span else ""
        _note(ax, f"~{since}", bar.start, y - 0.3)
    _bins(ax, [(y, row.marks) for y, row in enumerate(rows)], marker="D", colour="#212529")
    _bins(ax, [(y, row.closings) for y, row in enumerate(rows)], marker="x", colour="#C92A2A")
    handles: list[Artist] = [
        Patch(color=colour_of(kind), label=_short(kind)) for kind in _kinds(rows)
    ]
    for marker, colour, label, present in (
        ("D", "#212529", "amendment", any(row.marks for row in rows)),
        ("x", "#C92A2A", "removal", any(row.closings for row in rows)),
    ):
        if present:
            handles.append(Line2D([], [], marker=marker, color=colour, linestyle="", label=label))
    if vague:
        handles.append(Patch(label="approximate start", **_VAGUE))
    if picture.compare:
        label = f"as known at {_moment(picture.compare)}"  # fits the legend's width
        handles.append(Patch(fill=False, linestyle="--", edgecolor="#212529", label=label))
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)


def _kinds(rows: Sequence[ClauseRow]) -> list[str]:
    return sorted({row.kind for row in rows})


_VAGUE: dict[str, Any] = {
    "facecolor": (1.0, 1.0, 1.0, 0.55),
    "edgecolor": "#495057",
    "hatch": "////",
    "linewidth": 0,
}


def _barh(ax: Axes, bars: Sequence[tuple[int, Bar]], *, height: float, **style: Any) -> None:
    """Many bars in one call: matplotlib is slow per call, not per bar."""
    if bars:
        ax.barh(
            [y for y, _ in bars],
            [(bar.stop - bar.start).days for _, bar in bars],
            left=[_x(bar.start) for _, bar in bars],
            height=height,
            **style,
        )


def _bins(ax: Axes, rows: Sequence[tuple[int, Sequence[Bin]]], *, marker: str, colour: str) -> None:
    """Markers, a marker of several marks the bigger the more it stands for."""
    points = [(y, found) for y, bins in rows for found in bins]
    if points:
        ax.scatter(
            [_x(found.on) for _, found in points],
            [y for y, _ in points],
            s=[12 * found.count.bit_length() + 6 for _, found in points],
            marker=marker,
            color=colour,
            zorder=3,
        )


def _note(ax: Axes, text: str, day: date, y: float) -> None:
    note = ax.annotate(text, (_x(day), y), fontsize=6, color="#495057", va="bottom")
    # Notes stay inside their lane: leaving them out of the layout keeps it fast.
    note.set_in_layout(False)


# -- talks, governance, steps ----------------------------------------------------


def _talks(ax: Axes, drawn: Lanes, _picture: Picture) -> None:
    rows: Sequence[TalksRow] = drawn.talks
    _rows(ax, [row.label for row in rows], "renegotiations")
    for status in sorted({row.status for row in rows}):
        colour = _TALKS_COLOURS.get(status, "#868E96")
        mine = [(y, row) for y, row in enumerate(rows) if row.status == status]
        single = [(y, Bar(bar.start, bar.stop)) for y, row in mine for bar in row.bars]
        _barh(ax, single, height=0.5, color=colour, alpha=0.6, label=_short(status))
        grouped = [(y, bar) for y, row in mine for bar in row.density]
        peak = max((bar.in_force for _, bar in grouped), default=1)
        shades = [to_rgba(colour, 0.2 + 0.6 * bar.in_force / peak) for _, bar in grouped]
        _barh(ax, grouped, height=0.5, color=shades, label=None if single else _short(status))
    _bins(ax, [(y, row.proposals) for y, row in enumerate(rows)], marker="o", colour="#1C7ED6")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)


def _governance(ax: Axes, drawn: Lanes, _picture: Picture) -> None:
    rows: Sequence[MarkLane] = drawn.governance
    _rows(ax, [row.label for row in rows], "governance")
    _bins(ax, [(y, row.bins) for y, row in enumerate(rows)], marker="^", colour="#7048E8")


def _investments(ax: Axes, drawn: Lanes, _picture: Picture) -> None:
    _steps(ax, drawn, drawn.investments, "investments (cumulative)")
    ax.yaxis.set_major_formatter(FuncFormatter(_compact))


def _stakes(ax: Axes, drawn: Lanes, _picture: Picture) -> None:
    _steps(ax, drawn, drawn.stakes, "stakes")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}%"))


def _steps(ax: Axes, drawn: Lanes, lane: StepLane, title: str) -> None:
    if lane.left_out:
        title += f" (the {len(lane.lines)} largest; {lane.left_out} smaller not drawn)"
    ax.set_title(title, loc="left", fontsize=9, fontweight="bold")
    ax.grid(color="#EEEEEE")
    end = _x(drawn.window.stop)
    for line in lane.lines:
        xs = [_x(step.on) for step in line.steps] + [end]
        # Plotting needs floats; the exact decimals stay in the model and in `replay`.
        ys = [float(step.value) for step in line.steps]
        ax.step(xs, [*ys, ys[-1]], where="post", label=_short(line.label))
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)


def _compact(value: float, _position: object) -> str:
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"
