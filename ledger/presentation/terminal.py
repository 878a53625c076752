"""The text timeline: rows of characters over a date axis, fitted to the console's width.

Each row is a label, a bar (one character per stretch of the window) and a short note on
the right: when a clause started, as precisely as the source says (``2019-07``), or a
series' last value. Several marks in one character show their count (``2``–``9``, ``+``
for more); marks that would cover a third of a bar are left out and counted below the
lanes instead, and a lane of markers that crowded is shaded by how many fall in each
character. A picture's ``compare`` adds a dotted row under each clause whose days in
force differ.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from rich.console import Console
from rich.text import Text

from ledger.domain.spans import Mark, Picture
from ledger.domain.values import format_decimal
from ledger.errors import plural
from ledger.presentation.lanes import (
    ONE_DAY,
    Bar,
    Bin,
    ClauseRow,
    Lanes,
    Limits,
    StepLane,
    StepLine,
    TalksRow,
    Window,
    colour_of,
    lanes,
    ticks,
)

_NOTE = 10
_MIN_BAR = 16
_DENSITY = "░▒▓█"
_SPARKS = "▁▂▃▄▅▆▇█"
_LEGEND = (
    "█ in force  ░ approximate start (month, quarter or year)  ▶ still in force  "
    "◆ amendment  × removed  ▲ governance  ○ proposal  2–9, + several at once  "
    "░▒▓█ how many, up to the row's peak"
)


def render(picture: Picture, console: Console) -> None:
    """Print the picture on ``console``, no line wider than the console."""
    layout = _Layout.fit(console.width)
    drawn = lanes(
        picture,
        Limits(
            marks_per_bar=layout.bar,
            buckets=layout.bar,
            markers=layout.bar,
            step_points=2 * layout.bar,
        ),
    )
    for line in _lines(picture, drawn, layout):
        console.print(line)


class _Layout:
    """The columns of a row: label, bar and note, within the console's width."""

    def __init__(self, label: int, bar: int, note: int) -> None:
        self.label = label
        self.bar = bar
        self.note = note

    @classmethod
    def fit(cls, width: int) -> _Layout:
        label = max(8, min(22, width // 4))
        note = _NOTE if width - label - _NOTE - 2 >= _MIN_BAR else 0
        bar = max(_MIN_BAR, width - label - 1 - (note + 1 if note else 0))
        return cls(label, bar, note)


def _row(layout: _Layout, label: str, cells: Text, note: str = "") -> Text:
    """A row of cells: cut at the console's edge rather than wrapped."""
    line = Text(no_wrap=True, overflow="crop")
    line.append(_fit(label, layout.label).ljust(layout.label))
    line.append(" ")
    line.append_text(cells)
    if layout.note:
        line.append(" " + _fit(note, layout.note), style="dim")
    return line


def _prose(text: str, style: str = "") -> Text:
    """A line of prose: wrapped at the console's edge."""
    return Text(text, style=style, overflow="fold")


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# -- the whole picture ---------------------------------------------------------


def _lines(picture: Picture, drawn: Lanes, layout: _Layout) -> Iterable[Text]:
    yield _prose(f"{picture.title} ({picture.agreement})", style="bold")
    yield _prose(f"{picture.start} to {picture.end}, as known at {_moment(picture)}")
    if picture.compare:
        yield _prose(f"dotted rows: as known at {_moment(picture.compare)}", style="dim")
    yield from _axis(drawn.window, layout)
    grid = _Grid(drawn.window, layout.bar, drawn.termination)
    unmarked: Counter[str] = Counter()
    title = "clauses, a row per kind (too many to list)" if drawn.grouped else "clauses"
    yield _prose(title, style="bold")
    if not drawn.clauses:
        yield _prose("  none in force in this window", style="dim")
    for row in drawn.clauses:
        yield from _clause(row, grid, layout, bool(picture.compare), unmarked)
    if drawn.talks:
        yield _prose("renegotiations", style="bold")
    for talks in drawn.talks:
        yield _talks(talks, grid, layout, unmarked)
    if drawn.governance:
        yield _prose("governance", style="bold")
    for lane in drawn.governance:
        cells = grid.blank()
        grid.marks(cells, lane.bins, "▲", "#7048E8", unmarked, "")
        yield _row(layout, lane.label, grid.text(cells), _last_when(lane.bins))
    if unmarked:
        told = ", ".join(f"{count:,} {noun}" for noun, count in sorted(unmarked.items()))
        yield _prose(f"too many to mark one by one: {told}", style="dim")
    yield from _steps("investments (cumulative)", drawn.investments, grid, layout)
    yield from _steps("stakes", drawn.stakes, grid, layout)
    if drawn.termination:
        mark = drawn.termination
        yield _prose(f"┃ terminated {mark.when} ({mark.event}): {mark.label}", style="red")
    yield _prose(_LEGEND, style="dim")


def _talks(talks: TalksRow, grid: _Grid, layout: _Layout, unmarked: Counter[str]) -> Text:
    cells = grid.blank()
    for bar in talks.bars:
        grid.fill(cells, bar.start, bar.stop, "━", "#868E96")
    peak = max((stretch.in_force for stretch in talks.density), default=1)
    for stretch in talks.density:
        shade = _shade(stretch.in_force, peak)
        grid.fill(cells, stretch.start, stretch.stop, shade, "#868E96")
    grid.marks(cells, talks.proposals, "○", "#1C7ED6", unmarked, "proposals")
    return _row(layout, talks.label, grid.text(cells), talks.status)


def _moment(picture: Picture) -> str:
    return picture.known_at.strftime("%Y-%m-%d %H:%M:%S UTC")


def _axis(window: Window, layout: _Layout) -> Iterable[Text]:
    labels = [" "] * layout.bar
    rule = ["─"] * layout.bar
    free = 0
    for day, label in ticks(window, max(2, layout.bar // 6)):
        cell = window.bucket(day, layout.bar)
        rule[cell] = "┬"
        if cell >= free and cell + len(label) <= layout.bar:
            labels[cell : cell + len(label)] = label
            free = cell + len(label) + 1
    yield _row(layout, "", Text("".join(labels)))
    yield _row(layout, "", Text("".join(rule), style="dim"), "since")


def _last_when(bins: Sequence[Bin]) -> str:
    return bins[-1].last.when if bins else ""


# -- cells ---------------------------------------------------------------------


class _Grid:
    """Maps days to the cells of a bar, and draws into a row of cells."""

    def __init__(self, window: Window, width: int, termination: Mark | None) -> None:
        self.window = window
        self.width = width
        self.termination = termination

    def cell(self, day: date) -> int:
        return self.window.bucket(day, self.width)

    def blank(self) -> list[tuple[str, str]]:
        return [(" ", "")] * self.width

    def fill(
        self, cells: list[tuple[str, str]], start: date, stop: date, char: str, style: str
    ) -> None:
        for index in range(self.cell(start), self.cell(stop - ONE_DAY) + 1):
            cells[index] = (char, style)

    def marks(
        self,
        cells: list[tuple[str, str]],
        bins: Sequence[Bin],
        char: str,
        style: str,
        unmarked: Counter[str],
        noun: str,
    ) -> None:
        """Each mark as ``char`` (a count where several share a cell). When marks would
        crowd out a bar (``noun`` given), they are left out and tallied in ``unmarked``;
        crowding a lane of their own, they shade it by how many fall in each cell."""
        counts: Counter[int] = Counter()
        for found in bins:
            counts[self.cell(found.on)] += found.count
        if len(counts) * 3 > self.width:
            if noun:
                unmarked[noun] += sum(counts.values())
                return
            top = max(counts.values())
            for index, count in counts.items():
                cells[index] = (_shade(count, top), style)
            return
        for index, count in counts.items():
            shown = char if count == 1 else str(count) if count < 10 else "+"
            cells[index] = (shown, f"bold {style}")

    def text(self, cells: list[tuple[str, str]]) -> Text:
        if self.termination:
            index = self.cell(self.termination.on)
            if cells[index][0] == " ":
                cells = [*cells]
                cells[index] = ("┃", "red")
        text = Text()
        for char, style in cells:
            text.append(char, style=style)
        return text


def _clause(
    row: ClauseRow, grid: _Grid, layout: _Layout, compare: bool, unmarked: Counter[str]
) -> Iterable[Text]:
    cells = grid.blank()
    colour = colour_of(row.kind)
    peak = row.peak or 1
    for bar in row.bars:
        char = _shade(bar.in_force, peak) if row.grouped else "█"
        grid.fill(cells, bar.start, bar.stop, char, colour)
        if bar.vague_until:
            grid.fill(cells, bar.start, bar.vague_until, "░", colour)
        if bar.open_ended:
            cells[grid.cell(bar.stop - ONE_DAY)] = ("▶", colour)
    grid.marks(cells, row.marks, "◆", "white on " + colour, unmarked, "amendments")
    grid.marks(cells, row.closings, "×", "red", unmarked, "removals")
    label = f"{row.kind} ×{len(row.clauses)}" if row.grouped else row.label
    yield _row(layout, label, grid.text(cells), _since(row))
    if compare and _differs(row):
        ghost = grid.blank()
        for bar in row.ghosts:
            grid.fill(ghost, bar.start, bar.stop, "·", "")
        yield _row(layout, "  (as known then)", grid.text(ghost), _ghost_since(row))


def _shade(count: int, peak: int) -> str:
    """``░▒▓█``: a quarter of the peak or less, … up to the peak."""
    return _DENSITY[min(3, (count * 4 - 1) // peak)]


def _since(row: ClauseRow) -> str:
    if row.grouped:
        return f"peak {row.peak}"
    spans = [bar.span for bar in row.bars if bar.span]
    return spans[0].since if spans else "—"


def _ghost_since(row: ClauseRow) -> str:
    spans = [bar.span for bar in row.ghosts if bar.span]
    return spans[0].since if spans else ("—" if not row.ghosts else "")


def _differs(row: ClauseRow) -> bool:
    """Whether the clause (or kind) was in force on other days as known then."""

    def stretches(bars: Iterable[Bar]) -> list[tuple[date, date]]:
        merged: list[tuple[date, date]] = []
        for start, stop in sorted((bar.start, bar.stop) for bar in bars):
            if merged and merged[-1][1] >= start:
                merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
            else:
                merged.append((start, stop))
        return merged

    return stretches(row.bars) != stretches(row.ghosts)


# -- steps ---------------------------------------------------------------------


def _steps(title: str, lane: StepLane, grid: _Grid, layout: _Layout) -> Iterable[Text]:
    if not lane.lines:
        return
    if lane.left_out:
        title += f" (the {len(lane.lines)} largest; {lane.left_out} more not shown)"
    yield _prose(title, style="bold")
    for line in lane.lines:
        yield _row(layout, line.label, grid.text(_sparkline(line, grid)), _short(line))
        yield _prose("  " + _summary(line), style="dim")


def _sparkline(line: StepLine, grid: _Grid) -> list[tuple[str, str]]:
    cells = grid.blank()
    top = max(step.value for step in line.steps) or Decimal(1)
    for step, following in zip(line.steps, [*line.steps[1:], None], strict=True):
        stop = following.on if following else grid.window.stop
        level = min(7, int(step.value * 8 / top)) if step.value > 0 else 0
        if step.on < stop:
            grid.fill(cells, step.on, stop, _SPARKS[level], "cyan")
    return cells


def _short(line: StepLine) -> str:
    value = line.steps[-1].value
    if line.unit == "%":
        return f"{format_decimal(value)}%"
    for size, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if value >= size:
            return f"{format_decimal(round(value / size, 1))}{suffix} {line.unit}"
    return f"{format_decimal(value)} {line.unit}"


def _summary(line: StepLine) -> str:
    first, last = line.steps[0], line.steps[-1]
    events = sum(step.events for step in line.steps)
    told = f"{_amount(first.value, line.unit)} on {first.on}"
    if last is not first:
        told += f" → {_amount(last.value, line.unit)} on {last.on}"
    return f"{told}; {plural(events, 'event')}, the last {last.event}"


def _amount(value: Decimal, unit: str) -> str:
    if unit == "%":
        return f"{format_decimal(value)}%"
    whole, _, fraction = format_decimal(value).partition(".")
    grouped = f"{int(whole):,}" + (f".{fraction}" if fraction else "")
    return f"{grouped} {unit}"
