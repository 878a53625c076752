"""What the timeline renderers draw: a Picture cut to its window and aggregated.

A picture of a long history holds far more than a reader (or a browser) can take in, so
every renderer draws these lanes, never the raw model:

- **Clause rows.** Up to ``Limits.clause_rows`` clause ids, a row each (a clause removed
  and added again keeps its row). Beyond that, a row per clause *kind*: its bar is the
  number of that kind's clauses in force, the peak over each of ``Limits.buckets`` equal
  stretches of the window (adjacent stretches with the same count merged).
- **Marks on a bar.** At most ``Limits.marks_per_bar`` markers per row: when a row has
  more amendments (or removals), they are binned into equal stretches of the window and
  each bin is one marker, placed at its last event, that knows its first and last marks
  and how many it stands for.
- **Step series.** At most ``Limits.series`` series per lane (the largest values at the
  window's end; the others are counted as left out), each thinned to at most
  ``Limits.step_points`` steps and the lane to ``Limits.lane_points``: the window is cut
  into that many equal stretches and each stretch keeps its last step, with the events
  of the steps it stands for added up. A step before the window is carried in at the
  window's start.
- **Governance.** A lane per event kind (the most frequent kinds, the rest as ``other``),
  its marks binned like marks on a bar, into at most ``Limits.markers`` markers.
- **Talks.** A row per renegotiation, up to ``Limits.talk_rows``; beyond that, a row per
  status whose bar is how many were under way (as for clause kinds), its proposals
  binned like governance events.

The clauses of a picture's ``compare`` are drawn on the same rows, as ghosts (on a kind
row: wherever any clause of the kind was in force). Dates are drawn as half-open
intervals ``[start, stop)``: the window is ``[picture.start, picture.end + 1 day)``. An
approximate start (month, quarter or year precision) has its period, cut to the bar, as
the bar's ``vague_until``: renderers draw it faded or hatched.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

import attrs

from ledger.domain.spans import ClauseSpan, Mark, Picture, Series, Step, TalksSpan
from ledger.domain.values import DatePrecision
from ledger.errors import plural

T = TypeVar("T")
ONE_DAY = timedelta(days=1)
KIND_ORDER = (
    "exclusivity",
    "revenue_share",
    "profit_share",
    "ip_rights",
    "veto",
    "agi_clause",
    "custom",
)
# Okabe–Ito: told apart by colour-blind readers too; kinds beyond these cycle the spares.
_KIND_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#999999")
_SPARE_COLOURS = ("#8C564B", "#17BECF", "#BCBD22", "#7F7F7F")


@attrs.frozen
class Limits:
    """How much of a picture a renderer draws at most (see the module's docstring)."""

    clause_rows: int = 60
    marks_per_bar: int = 8
    buckets: int = 40
    step_points: int = 300
    lane_points: int = 600
    series: int = 12
    governance_lanes: int = 8
    markers: int = 20
    talk_rows: int = 12
    hover_lines: int = 12

    def halved(self) -> Limits:
        """Tighter limits, for an output that came out too large: clause ids give way to
        kinds only once their marks are down to one marker per bar."""
        return Limits(
            clause_rows=self.clause_rows
            if self.marks_per_bar > 1
            else max(8, self.clause_rows // 2),
            marks_per_bar=max(1, self.marks_per_bar // 2),
            buckets=max(8, self.buckets // 2),
            step_points=max(16, self.step_points // 2),
            lane_points=max(64, self.lane_points // 2),
            series=max(4, self.series // 2),
            governance_lanes=max(2, self.governance_lanes // 2),
            markers=max(8, self.markers // 2),
            talk_rows=max(2, self.talk_rows // 2),
            hover_lines=max(2, self.hover_lines // 2),
        )


@attrs.frozen
class Window:
    """The half-open stretch ``[start, stop)`` that a picture draws."""

    start: date
    stop: date
    # Asked for once per mark and step drawn: worked out once.
    days: int = attrs.field(init=False)

    @days.default
    def _days(self) -> int:
        """The window's length in days (at least one)."""
        return max(1, (self.stop - self.start).days)

    @classmethod
    def of(cls, picture: Picture) -> Window:
        """The window of a picture: its start through its end, both drawn."""
        return cls(picture.start, next_day(picture.end))

    def holds(self, day: date) -> bool:
        """Whether ``day`` falls inside the window."""
        return self.start <= day < self.stop

    def clip(self, start: date, stop: date | None) -> tuple[date, date] | None:
        """``[start, stop)`` cut to the window (``stop`` ``None``: open), or ``None``."""
        low, high = max(start, self.start), min(stop or self.stop, self.stop)
        return (low, high) if low < high else None

    def bucket(self, day: date, count: int) -> int:
        """Which of ``count`` equal stretches of the window holds ``day`` (clamped)."""
        offset = (day - self.start).days
        if offset < 0:
            return 0
        index = offset * count // self.days
        return index if index < count else count - 1


@attrs.frozen
class Bin:
    """One or more marks drawn as one marker, at the date of the last."""

    first: Mark
    last: Mark
    count: int = 1

    @classmethod
    def of(cls, mark: Mark) -> Bin:
        """A marker of one mark."""
        return cls(mark, mark)

    @property
    def on(self) -> date:
        """The marker's date: the last mark's."""
        return self.last.on


@attrs.frozen
class Bar:
    """A stretch of a row in force: one clause span, or the clauses of a kind in force."""

    start: date
    stop: date
    vague_until: date | None = None
    in_force: int = 1
    span: ClauseSpan | None = None
    open_ended: bool = False


@attrs.frozen
class ClauseRow:
    """A row of the clause lane: a clause id, or every clause of a kind."""

    label: str
    kind: str
    clauses: tuple[str, ...]
    bars: tuple[Bar, ...]
    marks: tuple[Bin, ...]
    closings: tuple[Bin, ...]
    ghosts: tuple[Bar, ...] = ()
    grouped: bool = False

    @property
    def peak(self) -> int:
        """The most clauses of the row in force at once."""
        return max((bar.in_force for bar in self.bars), default=0)


@attrs.frozen
class StepLine:
    """A step series thinned for drawing."""

    label: str
    unit: str
    steps: tuple[Step, ...]


@attrs.frozen
class StepLane:
    """The series of one lane (investments or stakes), and how many were left out."""

    lines: tuple[StepLine, ...]
    left_out: int = 0


@attrs.frozen
class MarkLane:
    """A row of markers: the governance events of one kind."""

    label: str
    bins: tuple[Bin, ...]


@attrs.frozen
class TalksBar:
    """A renegotiation drawn on its row, ``[start, stop)`` within the window."""

    talks: TalksSpan
    start: date
    stop: date


@attrs.frozen
class TalksRow:
    """A row of renegotiations: one, or all those of a status (``density`` then)."""

    label: str
    status: str
    bars: tuple[TalksBar, ...] = ()
    density: tuple[Bar, ...] = ()
    proposals: tuple[Bin, ...] = ()


@attrs.frozen
class Lanes:
    """Everything a renderer draws of one picture."""

    window: Window
    clauses: tuple[ClauseRow, ...]
    grouped: bool
    investments: StepLane
    stakes: StepLane
    governance: tuple[MarkLane, ...]
    talks: tuple[TalksRow, ...]
    termination: Mark | None


def lanes(picture: Picture, limits: Limits | None = None) -> Lanes:
    """The lanes of ``picture`` within ``limits`` (the defaults when ``None``)."""
    limits = limits or Limits()
    window = Window.of(picture)
    ghosts = picture.compare.clauses if picture.compare else ()
    rows, grouped = clause_rows(picture.clauses, ghosts, window, limits)
    return Lanes(
        window=window,
        clauses=rows,
        grouped=grouped,
        investments=step_lane(picture.investments, window, limits),
        stakes=step_lane(picture.stakes, window, limits),
        governance=governance_lanes(picture.governance, window, limits),
        talks=talks_rows(picture.talks, window, limits),
        termination=(
            picture.termination
            if picture.termination and window.holds(picture.termination.on)
            else None
        ),
    )


def next_day(day: date) -> date:
    """The day after ``day`` (the calendar's last day has none: itself)."""
    return day + ONE_DAY if day < date.max else day


def ticks(window: Window, most: int) -> list[tuple[date, str]]:
    """Calendar ticks for a date axis, at most ``most`` of them: days or weeks for a short
    window, else the first days of months, quarters or years (every second, fifth… year
    for a long one)."""
    for step_days in (1, 7, 14):
        if window.days <= most * step_days:
            days = [window.start + timedelta(days=n) for n in range(0, window.days, step_days)]
            return [(day, day.isoformat()) for day in days]
    months = _month_index(window.stop) - _month_index(window.start) + 1
    for step in (1, 3, 6, 12, 24, 60, 120, 240, 600, 1200, 2400, 6000):
        if months // step + 1 > most:
            continue
        days = _month_starts(window, step)
        if step >= 12:
            return [(day, f"{day.year}") for day in days]
        label = DatePrecision.QUARTER.label if step == 3 else DatePrecision.MONTH.label
        return [(day, label(day)) for day in days]
    return [(window.start, window.start.isoformat())]


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_starts(window: Window, step: int) -> list[date]:
    """The first days of months inside the window, at multiples of ``step`` months."""
    index = _month_index(window.start)
    index += -index % step
    days = []
    while index // 12 <= date.max.year:
        day = date(index // 12, index % 12 + 1, 1)
        if day >= window.stop:
            break
        if day >= window.start:
            days.append(day)
        index += step
    return days


def colour_of(kind: str) -> str:
    """The colour a clause kind is drawn in, the same in every output."""
    if kind in KIND_ORDER:
        return _KIND_COLOURS[KIND_ORDER.index(kind)]
    return _SPARE_COLOURS[sum(kind.encode()) % len(_SPARE_COLOURS)]


def mark_lines(mark: Mark) -> list[str]:
    """What a mark says, line by line: what, when, which event, the terms, the source."""
    source = mark.source
    lines = [f"{mark.kind} {mark.when} · {mark.event}", mark.label]
    lines += [f"{name}: {value}" for name, value in mark.details]
    lines.append(f"source: {source.citation} ({source.confidence.value})")
    if source.quote:
        lines.append(f"“{source.quote}”")
    return lines


def bin_lines(found: Bin, noun: str) -> list[str]:
    """What a marker says: its one mark in full, or how many it stands for and what the
    last of them changed (the sources of many are left to ``ledger history``)."""
    if found.count == 1:
        return mark_lines(found.last)
    first, last = found.first, found.last
    return [
        f"{found.count} {noun} from {first.when} to {last.when}",
        f"the last, {last.event}: {last.label}",
        *(f"{name}: {value}" for name, value in last.details),
    ]


# -- clauses -------------------------------------------------------------------


def clause_rows(
    spans: Sequence[ClauseSpan], ghosts: Sequence[ClauseSpan], window: Window, limits: Limits
) -> tuple[tuple[ClauseRow, ...], bool]:
    """The clause rows, and whether they are grouped by kind (too many clause ids)."""
    ids = {span.clause for span in spans} | {span.clause for span in ghosts}
    grouped = len(ids) > limits.clause_rows
    key: Callable[[ClauseSpan], str] = (lambda s: s.kind) if grouped else (lambda s: s.clause)
    mine, theirs = _group(spans, key), _group(ghosts, key)
    build = _kind_row if grouped else _clause_row
    rows = [
        build(name, mine.get(name, []), theirs.get(name, []), window, limits)
        for name in set(mine) | set(theirs)
    ]
    shown = [row for row in rows if row.bars or row.ghosts]
    order = _kind_rank if grouped else _first_start
    return tuple(sorted(shown, key=order)), grouped


def _clause_row(
    clause: str,
    spans: list[ClauseSpan],
    ghosts: list[ClauseSpan],
    window: Window,
    limits: Limits,
) -> ClauseRow:
    kind = (spans or ghosts)[0].kind
    return ClauseRow(
        label=clause,
        kind=kind,
        clauses=(clause,),
        bars=tuple(bar for span in spans if (bar := _span_bar(span, window))),
        marks=_changes(spans, window, limits),
        closings=_closings(spans, window, limits),
        ghosts=tuple(bar for span in ghosts if (bar := _span_bar(span, window))),
    )


def _kind_row(
    kind: str,
    spans: list[ClauseSpan],
    ghosts: list[ClauseSpan],
    window: Window,
    limits: Limits,
) -> ClauseRow:
    clauses = tuple(sorted({span.clause for span in spans}))
    return ClauseRow(
        label=f"{kind} ({plural(len(clauses), 'clause')})",
        kind=kind,
        clauses=clauses,
        bars=density(((span.start, span.end) for span in spans), window, limits.buckets),
        marks=_changes(spans, window, limits),
        closings=_closings(spans, window, limits),
        ghosts=_union(ghosts, window),
        grouped=True,
    )


def _union(spans: Iterable[ClauseSpan], window: Window) -> tuple[Bar, ...]:
    """Where any of the spans was in force: a ghost outline says where, not how many."""
    merged: list[Bar] = []
    for start, stop in sorted(c for span in spans if (c := window.clip(span.start, span.end))):
        if merged and merged[-1].stop >= start:
            merged[-1] = Bar(merged[-1].start, max(merged[-1].stop, stop))
        else:
            merged.append(Bar(start, stop))
    return tuple(merged)


def _span_bar(span: ClauseSpan, window: Window) -> Bar | None:
    clipped = window.clip(span.start, span.end)
    if clipped is None:
        return None
    vague = None
    if span.start_precision is not DatePrecision.DAY:
        vague = window.clip(span.start, period_end(span.start, span.start_precision))
    return Bar(
        start=clipped[0],
        stop=clipped[1],
        vague_until=min(vague[1], clipped[1]) if vague else None,
        span=span,
        open_ended=span.end is None or span.end >= window.stop,
    )


def _changes(spans: Iterable[ClauseSpan], window: Window, limits: Limits) -> tuple[Bin, ...]:
    marks = [mark for span in spans for mark in span.amendments]
    return bin_marks(marks, window, limits.marks_per_bar)


def _closings(spans: Iterable[ClauseSpan], window: Window, limits: Limits) -> tuple[Bin, ...]:
    marks = [span.closed for span in spans if span.closed]
    return bin_marks(marks, window, limits.marks_per_bar)


def density(
    stretches: Iterable[tuple[date, date | None]], window: Window, buckets: int
) -> tuple[Bar, ...]:
    """How many ``[start, stop)`` stretches overlap, as the peak over each of ``buckets``
    equal parts of the window (``stop`` ``None``: to the window's end)."""
    changes: Counter[date] = Counter()
    for start, stop in stretches:
        clipped = window.clip(start, stop)
        if clipped:
            changes[clipped[0]] += 1
            changes[clipped[1]] -= 1
    count = min(buckets, window.days)
    peaks = [0] * count
    in_force = 0
    days = sorted(changes)
    for day, following in zip(days, [*days[1:], window.stop], strict=True):
        in_force += changes[day]
        if in_force and day < following:
            last = window.bucket(following - ONE_DAY, count)
            for index in range(window.bucket(day, count), last + 1):
                peaks[index] = max(peaks[index], in_force)
    return _merge_buckets(peaks, window)


def _merge_buckets(peaks: list[int], window: Window) -> tuple[Bar, ...]:
    edges = [_edge(window, index, len(peaks)) for index in range(len(peaks) + 1)]
    bars: list[Bar] = []
    for index, peak in enumerate(peaks):
        if not peak:
            continue
        if bars and bars[-1].stop == edges[index] and bars[-1].in_force == peak:
            bars[-1] = attrs.evolve(bars[-1], stop=edges[index + 1])
        else:
            bars.append(Bar(edges[index], edges[index + 1], in_force=peak))
    return tuple(bars)


def _edge(window: Window, index: int, count: int) -> date:
    """The first day of stretch ``index`` of ``count`` (the inverse of ``Window.bucket``)."""
    return window.start + timedelta(days=math.ceil(index * window.days / count))


def period_end(day: date, precision: DatePrecision) -> date:
    """The first day after the period that ``day`` stands for at ``precision``."""
    if precision is DatePrecision.DAY:
        return day + ONE_DAY
    months = {DatePrecision.MONTH: 1, DatePrecision.QUARTER: 3, DatePrecision.YEAR: 12}
    index = day.year * 12 + day.month - 1 + months[precision]
    return date(index // 12, index % 12 + 1, 1) if index // 12 <= date.max.year else date.max


def _first_start(row: ClauseRow) -> tuple[date, str]:
    return (min(bar.start for bar in (*row.bars, *row.ghosts)), row.label)


def _kind_rank(row: ClauseRow) -> tuple[int, str]:
    rank = KIND_ORDER.index(row.kind) if row.kind in KIND_ORDER else len(KIND_ORDER)
    return (rank, row.kind)


# -- marks ---------------------------------------------------------------------


def bin_marks(marks: Iterable[Mark], window: Window, most: int) -> tuple[Bin, ...]:
    """The marks inside the window as at most ``most`` markers (one each when they fit)."""
    inside = [mark for mark in marks if window.holds(mark.on)]
    if len(inside) <= most:
        return tuple(Bin.of(mark) for mark in sorted(inside, key=_mark_order))
    buckets: dict[int, list[Mark]] = defaultdict(list)
    for mark in inside:
        buckets[window.bucket(mark.on, most)].append(mark)
    return tuple(
        Bin(min(group, key=_mark_order), max(group, key=_mark_order), len(group))
        for _, group in sorted(buckets.items())
    )


def _mark_order(mark: Mark) -> tuple[date, str]:
    return (mark.on, mark.event)


def governance_lanes(marks: Sequence[Mark], window: Window, limits: Limits) -> tuple[MarkLane, ...]:
    """A lane per governance kind; the least frequent kinds share a lane ``other``."""
    inside = [mark for mark in marks if window.holds(mark.on)]
    counts = Counter(_short_kind(mark.kind) for mark in inside)
    kept = {kind for kind, _ in counts.most_common(limits.governance_lanes - 1)}
    if len(counts) <= limits.governance_lanes:
        kept = set(counts)
    by_kind = _group(inside, lambda mark: k if (k := _short_kind(mark.kind)) in kept else "other")
    return tuple(
        MarkLane(kind, bin_marks(by_kind[kind], window, limits.markers))
        for kind in sorted(by_kind, key=lambda k: (k == "other", k))
    )


def _short_kind(kind: str) -> str:
    """``governance:ceo_removed`` is drawn as ``ceo_removed``."""
    return kind.removeprefix("governance:")


# -- steps ---------------------------------------------------------------------


def step_lane(series: Sequence[Series], window: Window, limits: Limits) -> StepLane:
    """The largest ``limits.series`` series, each thinned to ``limits.step_points`` steps."""
    finals = [(value, one) for one in series if (value := _final(one, window)) is not None]
    ranked = [one for _, one in sorted(finals, key=lambda pair: (-pair[0], pair[1].label))]
    kept = sorted(ranked[: limits.series], key=lambda one: (one.unit, one.label))
    most = min(limits.step_points, limits.lane_points // max(1, len(kept)))
    lines = tuple(thin(one, window, most) for one in kept)
    return StepLane(lines, left_out=len(ranked) - len(kept))


def _final(series: Series, window: Window) -> Decimal | None:
    """The series' value at the window's end (``None``: it starts after the window)."""
    shown = [step for step in series.steps if step.on < window.stop]
    return shown[-1].value if shown else None


def thin(series: Series, window: Window, most: int) -> StepLine:
    """The steps inside the window, at most ``most`` of them, each the last of a stretch."""
    before = [step for step in series.steps if step.on < window.start]
    inside = [step for step in series.steps if window.holds(step.on)]
    if before:
        carried = attrs.evolve(
            before[-1], on=window.start, events=sum(step.events for step in before)
        )
        inside = [carried, *inside]
    if len(inside) > most:
        buckets: dict[int, list[Step]] = defaultdict(list)
        for step in inside:
            buckets[window.bucket(step.on, most)].append(step)
        inside = [_last_of(buckets[index]) for index in sorted(buckets)]
    return StepLine(series.label, series.unit, tuple(inside))


def _last_of(steps: list[Step]) -> Step:
    return attrs.evolve(steps[-1], events=sum(step.events for step in steps))


# -- talks ---------------------------------------------------------------------


def talks_rows(spans: Sequence[TalksSpan], window: Window, limits: Limits) -> tuple[TalksRow, ...]:
    """A row per renegotiation, or (too many of them) a row per status."""
    bars = sorted(
        (bar for span in spans if (bar := _talks_bar(span, window))),
        key=lambda bar: (bar.start, bar.talks.renegotiation),
    )
    if len(bars) <= limits.talk_rows:
        return tuple(
            TalksRow(
                bar.talks.renegotiation,
                bar.talks.status,
                bars=(bar,),
                proposals=bin_marks(bar.talks.proposals, window, limits.marks_per_bar),
            )
            for bar in bars
        )
    by_status = _group(bars, lambda bar: bar.talks.status)
    return tuple(
        TalksRow(
            f"{status} ({len(group)})",
            status,
            density=density(((bar.start, bar.stop) for bar in group), window, limits.buckets),
            proposals=bin_marks(
                (mark for bar in group for mark in bar.talks.proposals), window, limits.markers
            ),
        )
        for status, group in sorted(by_status.items())
    )


def _talks_bar(span: TalksSpan, window: Window) -> TalksBar | None:
    # The talks end on the day they conclude: that day is drawn too.
    clipped = window.clip(span.start, next_day(span.end) if span.end else None)
    return TalksBar(span, *clipped) if clipped else None


def _group(items: Iterable[T], key: Callable[[T], str]) -> dict[str, list[T]]:
    groups: dict[str, list[T]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return groups
