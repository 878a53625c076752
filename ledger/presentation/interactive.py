"""The interactive timeline: one self-contained HTML page drawn with plotly, for offline use.

Plotly's JavaScript (about 4.8 MB) is inlined from the plotly package, so the page needs no
network. What is left of the 5 MB limit carries the figure (some 180 kB): hover texts are
cut to a dozen short lines, a marker of many marks says how many and what the last
changed, and the figure is built again with halved ``Limits`` while the page is too big.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import attrs
import plotly.io as pio

from ledger.domain.spans import Mark, Picture, TalksSpan
from ledger.domain.values import DatePrecision
from ledger.errors import plural
from ledger.presentation.lanes import (
    Bar,
    Bin,
    ClauseRow,
    Lanes,
    Limits,
    MarkLane,
    StepLane,
    StepLine,
    TalksRow,
    bin_lines,
    colour_of,
    lanes,
    mark_lines,
)

MAX_HTML_BYTES = 5_000_000
_SHRINKS = 6
_MS_PER_DAY = 86_400_000
_DAY = DatePrecision.DAY
_HOVER_LINES = 12
_HOVER_LINE_CHARS = 90
_QUOTE_CHARS = 240
_TALKS_COLOURS = {"open": "#868E96", "concluded": "#2B8A3E", "abandoned": "#C92A2A"}
_TERMINATION_COLOUR = "#C92A2A"
_PANEL_GAP_PX = 46
_MARGIN = {"l": 20, "r": 20, "t": 70, "b": 40}

Json = dict[str, Any]


def render(picture: Picture) -> str:
    """The picture as one HTML page that works offline, under ``MAX_HTML_BYTES``.

    The lanes are drawn with the default ``Limits``, then with halved ones while the page
    is too large (only absurdly long titles or labels could keep it so).
    """
    limits = Limits()
    page = _page(picture, _plot(figure_of(picture, limits)))
    for _ in range(_SHRINKS):
        if len(page.encode()) < MAX_HTML_BYTES:
            break
        limits = limits.halved()
        page = _page(picture, _plot(figure_of(picture, limits)))
    return page


def _plot(figure: Json) -> str:
    html_div: str = pio.to_html(
        figure,
        include_plotlyjs=True,
        full_html=False,
        validate=False,
        div_id="timeline",
        config={"displaylogo": False, "responsive": True},
    )
    return html_div


def _page(picture: Picture, plot: str) -> str:
    title = html.escape(picture.title)
    header = (
        f"<strong>{html.escape(picture.agreement)}</strong> from {picture.start} to "
        f"{picture.end} · solid bars: as known at {_moment(picture)}"
    )
    if picture.compare:
        header += (
            f" · outlined ghost bars: as known at {_moment(picture.compare)}"
            " (where they differ, the record changed between the two)"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title} — timeline</title>\n"
        "<style>body{font-family:system-ui,sans-serif;margin:1em 2em}"
        "h1{font-size:1.3em;margin:0}p{margin:.3em 0 1em;color:#444}</style>\n"
        f"</head>\n<body>\n<h1>{title}</h1>\n<p>{header}</p>\n{plot}\n</body>\n</html>\n"
    )


def _moment(picture: Picture) -> str:
    return picture.known_at.strftime("%Y-%m-%d %H:%M:%S UTC")


# -- the figure ----------------------------------------------------------------


def figure_of(picture: Picture, limits: Limits) -> Json:
    """The plotly figure (as a plain dict) of the picture's lanes within ``limits``."""
    drawn = lanes(picture, limits)
    panels = [
        panel
        for panel in (
            _clause_panel(drawn, picture),
            _talks_panel(drawn.talks),
            _governance_panel(drawn.governance),
            _steps_panel("investments (cumulative)", drawn.investments, "", drawn.window.stop),
            _steps_panel("stakes", drawn.stakes, "%", drawn.window.stop),
        )
        if panel
    ]
    return _cut_hovers(_assemble(panels, drawn), limits.hover_lines)


@attrs.frozen
class _Panel:
    """One lane of the figure: its traces, its y axis and its height in pixels."""

    title: str
    height: int
    traces: list[Json]
    yaxis: Json


def _assemble(panels: list[_Panel], drawn: Lanes) -> Json:
    plot_px = sum(p.height for p in panels) + _PANEL_GAP_PX * (len(panels) - 1)
    layout: Json = {
        "height": plot_px + _MARGIN["t"] + _MARGIN["b"],
        "margin": _MARGIN,
        "barmode": "overlay",
        "hovermode": "closest",
        "hoverlabel": {"align": "left"},
        "legend": {"groupclick": "toggleitem", "tracegroupgap": 12},
        "plot_bgcolor": "#FFFFFF",
        "annotations": [],
        "shapes": [],
    }
    traces: list[Json] = []
    top = 1.0
    window = drawn.window
    for index, panel in enumerate(panels, start=1):
        bottom = top - panel.height / plot_px
        x, y = ("x", "y") if index == 1 else (f"x{index}", f"y{index}")
        layout[_axis_key("xaxis", index)] = {
            "type": "date",
            "range": [window.start.isoformat(), window.stop.isoformat()],
            "anchor": y,
            "showgrid": True,
            "gridcolor": "#EEEEEE",
            "showticklabels": index in (1, len(panels)),
            "side": "top" if index == 1 and len(panels) > 1 else "bottom",
            **({} if index == 1 else {"matches": "x"}),
        }
        layout[_axis_key("yaxis", index)] = {
            "domain": [max(0.0, bottom), top],
            "anchor": x,
            "automargin": True,
            **panel.yaxis,
        }
        ticks_above = index == 1 and len(panels) > 1
        layout["annotations"].append(_panel_title(panel.title, top, 20 if ticks_above else 0))
        traces += [{**trace, "xaxis": x, "yaxis": y} for trace in panel.traces]
        top = bottom - _PANEL_GAP_PX / plot_px
    if drawn.termination:
        _draw_termination(layout, drawn.termination)
    return {"data": traces, "layout": layout}


def _axis_key(name: str, index: int) -> str:
    return name if index == 1 else f"{name}{index}"


def _panel_title(title: str, top: float, lift: int) -> Json:
    return {
        "text": f"<b>{html.escape(title)}</b>",
        "xref": "paper",
        "yref": "paper",
        "x": 0,
        "y": top,
        "xanchor": "left",
        "yanchor": "bottom",
        "showarrow": False,
        "yshift": lift,
        "font": {"size": 12},
    }


def _draw_termination(layout: Json, mark: Mark) -> None:
    day = mark.on.isoformat()
    layout["shapes"].append(
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": day,
            "x1": day,
            "y0": 0,
            "y1": 1,
            "line": {"color": _TERMINATION_COLOUR, "width": 2, "dash": "dash"},
        }
    )
    layout["annotations"].append(
        {
            "text": f"terminated {mark.when}",
            "hovertext": _hover(mark_lines(mark)),
            "xref": "x",
            "yref": "paper",
            "x": day,
            "y": 1,
            "yanchor": "bottom",
            "xanchor": "left",
            "yshift": 20,
            "showarrow": False,
            "font": {"color": _TERMINATION_COLOUR},
        }
    )


# -- clauses -------------------------------------------------------------------


def _clause_panel(drawn: Lanes, picture: Picture) -> _Panel:
    rows = drawn.clauses
    labels = [row.label for row in rows]
    known = f"as known at {_moment(picture)}"
    traces: list[Json] = []
    ghosts = [(row, bar) for row in rows for bar in row.ghosts]
    if picture.compare and ghosts:
        # Beneath the solid bars: taller, so the outline shows around them.
        traces.append(_ghost_bars(ghosts, f"as known at {_moment(picture.compare)}"))
    for kind in sorted({row.kind for row in rows}):
        kin = [row for row in rows if row.kind == kind]
        traces.append(_clause_bars(kind, kin, known))
    vague = [(row, bar) for row in rows for bar in row.bars if bar.vague_until]
    if vague:
        traces += _vague_traces(vague)
    amended = [(row.label, found) for row in rows for found in row.marks]
    closed = [(row.label, found) for row in rows for found in row.closings]
    traces.append(_markers(amended, "amendments", "diamond", "#212529", "marks"))
    traces.append(_markers(closed, "removals", "x-thin", "#C92A2A", "marks"))
    title = "clauses"
    if drawn.grouped:
        title += " — a row per kind (too many clause ids); shade: how many in force"
    if not rows:
        title += " — none in force in this window"
    return _Panel(
        title,
        max(80, 26 * len(rows)),
        [trace for trace in traces if trace["x"]],
        {
            "type": "category",
            "categoryorder": "array",
            "categoryarray": [_label(label) for label in labels],
            "autorange": "reversed",
            "showgrid": False,
        },
    )


def _clause_bars(kind: str, rows: Sequence[ClauseRow], known: str) -> Json:
    bars = [(row, bar) for row in rows for bar in row.bars]
    trace = _bars(
        [(row.label, bar) for row, bar in bars],
        name=kind,
        hover=[_hover(_bar_lines(row, bar)) for row, bar in bars],
        width=0.55,
        marker={"color": colour_of(kind)},
    )
    trace["legendgroup"] = "clauses"
    trace["legendgrouptitle"] = {"text": f"clauses {known}"}
    if any(row.grouped for row in rows):
        peak = max(row.peak for row in rows) or 1
        trace["marker"]["opacity"] = [_shade(bar.in_force, peak, 0.3) for _, bar in bars]
    return trace


def _vague_traces(vague: list[tuple[ClauseRow, Bar]]) -> list[Json]:
    """The approximate part of each start: hatched, faded, labelled as approximate."""
    hover = [
        _hover([f"{row.label}: started {_since(bar)} — the source gives no exact day"])
        for row, bar in vague
    ]
    hatch = _bars(
        [(row.label, Bar(bar.start, bar.vague_until or bar.stop)) for row, bar in vague],
        name="approximate start (month, quarter or year)",
        hover=hover,
        width=0.55,
        marker={
            "color": "rgba(255,255,255,0.6)",
            "pattern": {"shape": "/", "fgcolor": "#495057", "size": 5, "solidity": 0.25},
        },
    )
    label = {
        "type": "scatter",
        "mode": "text",
        "x": [bar.start.isoformat() for _, bar in vague],
        "y": [_label(row.label) for row, _ in vague],
        "text": [f"~{_since(bar)}" for _, bar in vague],
        "textposition": "top right",
        "textfont": {"size": 9, "color": "#495057"},
        "hoverinfo": "skip",
        "showlegend": False,
    }
    return [hatch, label]


def _since(bar: Bar) -> str:
    return bar.span.since if bar.span else bar.start.isoformat()


def _ghost_bars(ghosts: list[tuple[ClauseRow, Bar]], known: str) -> Json:
    trace = _bars(
        [(row.label, bar) for row, bar in ghosts],
        name=f"outline: {known}",
        hover=[_hover([f"{known}:", *_bar_lines(row, bar)]) for row, bar in ghosts],
        width=0.85,
        marker={
            "color": "rgba(73,80,87,0.08)",
            "line": {"color": "rgba(33,37,41,0.75)", "width": 1.5},
        },
    )
    trace["legendgroup"] = "compare"
    trace["legendgrouptitle"] = {"text": "ghost layer"}
    if any(row.grouped for row, _ in ghosts):
        # Shading tells the counts; a hover on every stretch would cost the page's budget.
        trace["hoverinfo"] = "skip"
        del trace["hovertext"]
    return trace


def _bars(
    pairs: Sequence[tuple[str, Bar]],
    *,
    name: str,
    hover: list[str],
    width: float,
    marker: Json,
) -> Json:
    return {
        "type": "bar",
        "orientation": "h",
        "name": _label(name),
        "y": [_label(label) for label, _ in pairs],
        "base": [bar.start.isoformat() for _, bar in pairs],
        "x": [(bar.stop - bar.start).days * _MS_PER_DAY for _, bar in pairs],
        "width": width,
        "marker": marker,
        "hovertext": hover,
        "hoverinfo": "text",
    }


def _bar_lines(row: ClauseRow, bar: Bar) -> list[str]:
    if bar.span is None:
        return [f"{row.kind}: up to {bar.in_force} in force", _between(bar)]
    span = bar.span
    until = "still in force" if span.end is None else f"until {_before(span.end)}"
    ended = f" ({span.ended_by})" if span.ended_by else ""
    lines = [f"{span.clause} ({span.kind})", f"in force from {span.since}, {until}{ended}"]
    if span.amendments:
        lines.append(plural(len(span.amendments), "amendment"))
    return [*lines, "added by:", *mark_lines(span.added)]


def _before(day: date) -> date:
    return date.fromordinal(day.toordinal() - 1) if day > date.min else day


def _markers(
    points: Sequence[tuple[str, Bin]],
    noun: str,
    symbol: str,
    colour: str,
    legendgroup: str,
) -> Json:
    """Binned marks: a marker of several is bigger, and its hover says how many."""
    return {
        "type": "scatter",
        "mode": "markers",
        "name": noun,
        "legendgroup": legendgroup,
        "x": [found.on.isoformat() for _, found in points],
        "y": [_label(label) for label, _ in points],
        "marker": {
            "symbol": symbol,
            "color": colour,
            "size": [min(16, 8 + 2 * found.count.bit_length()) for _, found in points],
            # A date the source gives only as a month, quarter or year: a faded marker.
            "opacity": [1 if found.last.precision is _DAY else 0.45 for _, found in points],
            "line": {"width": 1.5, "color": colour},
        },
        "hovertext": [_hover(bin_lines(found, noun)) for _, found in points],
        "hoverinfo": "text",
    }


# -- talks, governance, steps ----------------------------------------------------


def _talks_panel(rows: tuple[TalksRow, ...]) -> _Panel | None:
    if not rows:
        return None
    traces: list[Json] = []
    for status in sorted({row.status for row in rows}):
        mine = [row for row in rows if row.status == status]
        single = [(row.label, Bar(bar.start, bar.stop)) for row in mine for bar in row.bars]
        grouped = [(row.label, bar) for row in mine for bar in row.density]
        hover = [_hover(_talks_lines(bar.talks)) for row in mine for bar in row.bars]
        hover += [
            _hover([f"{status}: up to {bar.in_force} under way", _between(bar)])
            for _, bar in grouped
        ]
        trace = _bars(
            [*single, *grouped],
            name=f"talks: {status}",
            hover=hover,
            width=0.5,
            marker={"color": _TALKS_COLOURS.get(status, "#868E96"), "opacity": 0.6},
        )
        if grouped:
            peak = max(bar.in_force for _, bar in grouped)
            trace["marker"]["opacity"] = [0.6] * len(single) + [
                _shade(bar.in_force, peak, 0.2) for _, bar in grouped
            ]
        trace["legendgroup"] = "talks"
        traces.append(trace)
    proposals = [(row.label, found) for row in rows for found in row.proposals]
    traces.append(_markers(proposals, "proposals", "circle-open", "#1C7ED6", "talks"))
    return _Panel(
        "renegotiations",
        max(50, 24 * len(rows)),
        [trace for trace in traces if trace["x"]],
        {
            "type": "category",
            "categoryorder": "array",
            "categoryarray": [_label(row.label) for row in rows],
            "autorange": "reversed",
        },
    )


def _shade(count: int, peak: int, faintest: float) -> float:
    """An opacity from ``faintest`` (none in force) to 1 (the peak); two decimals are
    plenty to see, and every byte of the figure counts."""
    return round(faintest + (1 - faintest) * count / peak, 2)


def _between(bar: Bar) -> str:
    return f"between {bar.start} and {_before(bar.stop)}"


def _talks_lines(talks: TalksSpan) -> list[str]:
    until = f"to {talks.end}" if talks.end else "still open"
    lines = [f"{talks.renegotiation}: {talks.status}", f"from {talks.opened.when} {until}"]
    lines += [plural(len(talks.proposals), "proposal")] if talks.proposals else []
    if talks.closed:
        lines.append(f"closed: {talks.closed.label} ({talks.closed.event})")
    return [*lines, "opened by:", *mark_lines(talks.opened)]


def _governance_panel(rows: tuple[MarkLane, ...]) -> _Panel | None:
    if not rows:
        return None
    points = [(row.label, found) for row in rows for found in row.bins]
    trace = _markers(points, "governance events", "triangle-up", "#7048E8", "governance")
    return _Panel(
        "governance",
        max(40, 24 * len(rows)),
        [trace],
        {
            "type": "category",
            "categoryorder": "array",
            "categoryarray": [_label(row.label) for row in rows],
            "autorange": "reversed",
        },
    )


def _steps_panel(title: str, lane: StepLane, suffix: str, stop: date) -> _Panel | None:
    if not lane.lines:
        return None
    if lane.left_out:
        title += f" — the {len(lane.lines)} largest; {lane.left_out} smaller series not drawn"
    traces = [_step_trace(line, stop) for line in lane.lines]
    return _Panel(
        title,
        200,
        traces,
        {"rangemode": "tozero", "ticksuffix": suffix, "gridcolor": "#EEEEEE"},
    )


def _step_trace(line: StepLine, stop: date) -> Json:
    # The last step holds to the window's last day: drawn as a point there too.
    steps = [*line.steps, line.steps[-1]]
    days = [step.on.isoformat() for step in line.steps] + [_before(stop).isoformat()]
    # Plotting needs floats; the exact decimal stays in the model and in `replay`.
    values = [_number(step.value) for step in steps]
    extra = [[plural(step.events, "event"), step.event] for step in steps]
    unit = html.escape(line.unit)
    return {
        "type": "scatter",
        "mode": "lines",
        "name": _label(line.label),
        "legendgroup": "steps",
        "x": days,
        "y": values,
        "customdata": extra,
        "line": {"shape": "hv", "width": 2},
        "hovertemplate": (
            f"{html.escape(line.label)}<br>%{{y:,}} {unit} on %{{x|%Y-%m-%d}}"
            "<br>the step of %{customdata[0]}, the last %{customdata[1]}<extra></extra>"
        ),
    }


def _number(value: Decimal) -> float | int:
    """A plottable number; whole numbers as ints, which print shorter in the page."""
    return int(value) if value == value.to_integral_value() else float(value)


# -- text ----------------------------------------------------------------------


def _label(text: str) -> str:
    """A name or row label as plotly shows it: its markup is a subset of HTML."""
    return html.escape(text, quote=False)


def _hover(lines: Iterable[str]) -> str:
    """Hover text: escaped, each line cut to a readable width, at most a dozen lines."""
    shown: list[str] = []
    for line in lines:
        shown += _wrap(line)
        if len(shown) >= _HOVER_LINES:
            shown = [*shown[: _HOVER_LINES - 1], "…"]
            break
    return "<br>".join(html.escape(line, quote=False) for line in shown)


def _cut_hovers(figure: Json, most: int) -> Json:
    """Every hover text of the figure cut to ``most`` lines."""
    if most >= _HOVER_LINES:
        return figure
    for item in [*figure["data"], *figure["layout"]["annotations"]]:
        texts = item.get("hovertext")
        if isinstance(texts, list):
            item["hovertext"] = [_cut(text, most) for text in texts]
        elif isinstance(texts, str):
            item["hovertext"] = _cut(texts, most)
    return figure


def _cut(text: str, most: int) -> str:
    lines = text.split("<br>")
    return text if len(lines) <= most else "<br>".join([*lines[: most - 1], "…"])


def _wrap(line: str) -> list[str]:
    if len(line) > _QUOTE_CHARS:
        line = line[: _QUOTE_CHARS - 1] + "…"
    return textwrap.wrap(line, _HOVER_LINE_CHARS, break_on_hyphens=False) or [""]
