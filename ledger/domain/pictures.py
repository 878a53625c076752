"""The projection behind ``ledger timeline``: an agreement's entries folded into a ``Picture``.

The fold (``fold_days`` with ``observe``) says, at the end of each day, which events
changed which keys; this module turns those per-day deltas into what is drawn: a span per
stretch a clause id was in force, its amendments as marks (terms before → after), a
cumulative series per investor → recipient and currency, a series per stake, governance
marks, renegotiations and the termination.

It never freezes a state: a frozen ``AgreementState`` per day would cost a copy of
everything in force at every day of a long history. What it keeps is bounded by what is
drawn: the spans of clauses in force now (their last terms, to say what an amendment
changed), the marks and steps inside the window (before it, one carried step per series),
and the events of the day being folded. Aggregating for the eye is the renderers' work
(``ledger.presentation.lanes``).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal

import attrs

from ledger.domain.draft import Draft, Key, Plain
from ledger.domain.entries import Entry
from ledger.domain.fold import fold_days
from ledger.domain.spans import ClauseSpan, Mark, Picture, Series, Step, TalksSpan
from ledger.domain.values import Confidence, DatePrecision, Source, describe
from ledger.errors import InputError

ONE_DAY = timedelta(days=1)
PRECISIONS = {precision.value: precision for precision in DatePrecision}
CONFIDENCES = {confidence.value: confidence for confidence in Confidence}


def picture(
    entries: Iterable[Entry],
    *,
    known_at: datetime,
    start: date | None = None,
    end: date | None = None,
    today: date | None = None,
) -> Picture:
    """The picture of an agreement from its ``entries`` as known at ``known_at`` (all of
    them, in the fold's order, from the opening), over the window ``start``–``end``.

    ``start`` defaults to the opening; ``end`` to the later of the last entry's date and
    ``today``. Entries dated after ``end`` are not folded. Raises ``ValueError`` when
    there is no entry, ``InputError`` when the window ends before it starts, and the
    fold's ``Broken`` if the entries break a rule (stored entries never do).
    """
    if start is not None and end is not None and end < start:
        raise InputError(f"expected --to on or after --from, got {start} then {end}")
    day_entries = _DayEntries(entries)
    projection: _Projection | None = None
    draft: Draft | None = None
    last = None
    for draft, day, _, _ in fold_days(None, day_entries, observe=True):
        if end is not None and day > end:
            break
        if projection is None:
            projection = _Projection(start or draft.opened_on)
        projection.day(draft, day, day_entries.of(day))
        # Keep only the next day's delta: the fold adds to ``observed`` and never reads it.
        if draft.observed is not None:
            draft.observed.clear()
        last = day
    if projection is None or draft is None or last is None:
        raise ValueError("an agreement's picture needs its entries from the opening")
    window_end = end if end is not None else max(last, today or last)
    if window_end < projection.start:
        raise InputError(
            f"expected --from on or before the timeline's end ({window_end}), "
            f"got {projection.start}"
        )
    return projection.finish(draft, window_end, known_at)


class _DayEntries:
    """The entries handed to the fold, with the current day's kept by id: the fold's
    observations name events, and their marks need the facts (date precision, source).

    The fold reads one entry ahead (the next day's first) before it yields a day, so the
    entries after the day asked for are kept for the next."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._entries = iter(entries)
        self._pending: list[Entry] = []

    def __iter__(self) -> Iterator[Entry]:
        for entry in self._entries:
            self._pending.append(entry)
            yield entry

    def of(self, day: date) -> dict[str, Entry]:
        """The entries of ``day`` by event id; earlier ones are forgotten."""
        found = {e.id: e for e in self._pending if e.effective_on == day}
        self._pending = [e for e in self._pending if e.effective_on > day]
        return found


@attrs.define
class _OpenSpan:
    """A clause id in force: its span so far, and its terms and ``until`` as last seen."""

    serial: int
    clause: str
    kind: str
    start: date
    precision: DatePrecision
    added: Mark
    terms: Plain  # the fold replaces a clause's terms dict on amendment, never edits it
    until: date | None
    amendments: list[Mark] = attrs.field(factory=list)


@attrs.define
class _OpenTalks:
    """A renegotiation seen so far: its opening, proposals (by id) and closing."""

    renegotiation: str
    start: date
    opened: Mark
    proposals: dict[str, Mark] = attrs.field(factory=dict)
    settled: dict[str, Mark] = attrs.field(factory=dict)  # rejections and withdrawals
    closed: Mark | None = None


class _SeriesSteps:
    """The steps of one series: every step inside the window, and before it only the
    last one (carrying the count of the events before), which renderers carry in."""

    def __init__(self, label: str, unit: str, start: date) -> None:
        self.label = label
        self.unit = unit
        self._start = start
        self.steps: list[Step] = []

    def add(self, day: date, value: Decimal, events: list[str]) -> None:
        before = self.steps[-1] if self.steps and self.steps[-1].on < self._start else None
        if before is not None and day < self._start:
            self.steps[-1] = Step(
                on=day, value=value, events=before.events + len(events), event=events[-1]
            )
        else:
            self.steps.append(Step(on=day, value=value, events=len(events), event=events[-1]))

    def series(self) -> Series:
        return Series(label=self.label, unit=self.unit, steps=tuple(self.steps))


class _Projection:
    """The picture being built, one day's delta at a time (see the module's docstring)."""

    def __init__(self, start: date) -> None:
        self.start = start
        self._serials = 0
        self._open: dict[str, _OpenSpan] = {}
        # Clauses with an ``until``: (until, serial, clause), stale rows skipped when popped.
        self._expiries: list[tuple[date, int, str]] = []
        self._spans: list[ClauseSpan] = []
        self._investments: dict[Key, _SeriesSteps] = {}
        self._stakes: dict[Key, _SeriesSteps] = {}
        self._governance: list[Mark] = []
        self._talks: dict[str, _OpenTalks] = {}
        self._termination: Mark | None = None
        # Many events cite the same source: one value each, not one per mark.
        self._sources: dict[tuple[str, str, str | None], Source] = {}

    # -- one day ---------------------------------------------------------------

    def day(self, draft: Draft, day: date, entries: Mapping[str, Entry]) -> None:
        """Take in what changed on ``day`` (``draft.observed``: since the last day)."""
        self._expire_before(day)
        for key, events in (draft.observed or {}).items():
            what = key[0]
            if what == "clause":
                self._clause(draft, day, key[1], [entries[e] for e in events])
            elif what == "investment":
                total = draft.totals[(key[1], key[2], key[3])]
                lane = self._series(self._investments, key, f"{key[1]} → {key[2]} ({key[3]})")
                lane.add(day, total.amount, events)
            elif what == "stake":
                stake = draft.stakes.get((key[1], key[2]))
                lane = self._series(self._stakes, key, f"{key[1]} in {key[2]}", "%")
                lane.add(day, stake.percent if stake is not None else Decimal(0), events)
            elif what == "governance":
                self._governance_mark(entries[events[-1]])
            elif what == "renegotiation":
                self._renegotiation(key[1], day, [entries[e] for e in events])
            elif what == "termination":
                self._termination = self._mark(entries[events[-1]])

    def _mark(
        self,
        entry: Entry,
        label: str | None = None,
        details: tuple[tuple[str, str], ...] = (),
        kind: str | None = None,
    ) -> Mark:
        """The mark of an event: its date as precise as its source, and its source."""
        return Mark(
            on=entry.effective_on,
            precision=PRECISIONS[entry.precision],
            event=entry.id,
            kind=kind or entry.type,
            label=_label(entry) if label is None else label,
            details=details,
            source=self._source(entry.fact["source"]),
        )

    def _source(self, plain: Plain) -> Source:
        key = (plain["citation"], plain["confidence"], plain.get("quote"))
        found = self._sources.get(key)
        if found is None:
            found = self._sources[key] = Source(key[0], CONFIDENCES[key[1]], key[2])
        return found

    # -- clauses ---------------------------------------------------------------

    def _clause(self, draft: Draft, day: date, clause_id: str, events: list[Entry]) -> None:
        """A clause's day: added, amended, removed, ended by the termination, or removed
        and added again, told by its span so far and the draft at the day's end."""
        span = self._open.get(clause_id)
        now = draft.clauses.get(clause_id)
        amended = f"{clause_id} amended"
        if span is not None and now is not None and now.since == span.start:
            # Amended: the day's net change goes with its last event (the fold keeps
            # only the day's end, and several amendments of one clause on a day are rare).
            for entry in events[:-1]:
                self._amended(span, self._mark(entry, amended))
            details = _changed(span.terms, now.terms, span.until, now.until)
            self._amended(span, self._mark(events[-1], amended, details))
            span.terms = now.terms
            if now.until != span.until:
                span.until = now.until
                self._will_expire(span)
            return
        if span is not None:
            if now is None:  # out of force: the last event ended it, earlier ones amended it
                for entry in events[:-1]:
                    self._amended(span, self._mark(entry, amended))
                closing = events[-1]
            else:  # removed and added again the same day: the first event removed it
                closing = events[0]
            ended = draft.terminated
            if now is None and ended is not None and ended.event == closing.id:
                label, ended_by = f"{clause_id} ended by the termination", "terminated"
            else:
                label, ended_by = f"{clause_id} removed", "removed"
            self._close(span, day, ended_by, self._mark(closing, label))
        if now is not None:
            self._serials += 1
            span = _OpenSpan(
                serial=self._serials,
                clause=clause_id,
                kind=now.kind,
                start=now.since,
                precision=PRECISIONS[now.since_precision],
                added=self._mark(
                    events[-1], f"{clause_id} added ({now.kind})", _terms(now.terms, now.until)
                ),
                terms=now.terms,
                until=now.until,
            )
            self._open[clause_id] = span
            self._will_expire(span)
        # Neither before nor after: added and removed the same day, so never in force at
        # a day's end, and never in force on any date.

    def _amended(self, span: _OpenSpan, mark: Mark) -> None:
        if mark.on >= self.start:  # amendments before the window are never drawn
            span.amendments.append(mark)

    def _will_expire(self, span: _OpenSpan) -> None:
        if span.until is not None:
            heapq.heappush(self._expiries, (span.until, span.serial, span.clause))

    def _expire_before(self, day: date) -> None:
        """Close the spans of clauses whose ``until`` is before ``day``: the fold drops
        them without a word (no event expires a clause)."""
        while self._expiries and self._expiries[0][0] < day:
            until, serial, clause_id = heapq.heappop(self._expiries)
            span = self._open.get(clause_id)
            if span is not None and span.serial == serial and span.until == until:
                self._close(span, until + ONE_DAY, "expired", None)

    def _close(self, span: _OpenSpan, end: date, ended_by: str, closed: Mark | None) -> None:
        del self._open[span.clause]
        if end <= self.start:
            return  # over before the window: never drawn
        self._spans.append(_span(span, end, ended_by, closed))

    # -- money and stakes ------------------------------------------------------------

    def _series(
        self, lane: dict[Key, _SeriesSteps], key: Key, label: str, unit: str | None = None
    ) -> _SeriesSteps:
        found = lane.get(key)
        if found is None:
            found = lane[key] = _SeriesSteps(label, unit or key[-1], self.start)
        return found

    # -- governance and talks --------------------------------------------------------

    def _governance_mark(self, entry: Entry) -> None:
        if entry.effective_on < self.start:
            return
        fact = entry.fact
        details = [("entity", str(fact["entity"]))]
        if fact.get("people"):
            details.append(("people", ", ".join(fact["people"])))
        if fact.get("approved_by"):
            details.append(("approved by", ", ".join(fact["approved_by"])))
        kind = f"governance:{fact['kind']}"
        self._governance.append(self._mark(entry, details=tuple(details), kind=kind))

    def _renegotiation(self, talks_id: str, day: date, entries: list[Entry]) -> None:
        talks = self._talks.get(talks_id)
        for entry in entries:
            kind, fact = entry.type, entry.fact
            if kind == "renegotiation_opened":
                topics = ", ".join(fact.get("topics", ())) or "none named"
                opened = self._mark(entry, details=(("topics", topics),))
                talks = self._talks[talks_id] = _OpenTalks(talks_id, day, opened)
            elif talks is None:  # pragma: no cover - the fold refuses talks never opened
                continue
            elif kind == "proposal":
                changes = tuple(("change", _plain_change(c)) for c in fact["changes"])
                talks.proposals[fact["proposal"]] = self._mark(entry, details=changes)
            elif kind in ("proposal_rejected", "proposal_withdrawn"):
                talks.settled[fact["proposal"]] = self._mark(entry)
            elif kind == "renegotiation_concluded":
                talks.closed = self._mark(entry)

    # -- the picture -----------------------------------------------------------------

    def finish(self, draft: Draft, end: date, known_at: datetime) -> Picture:
        """The picture over ``start``–``end`` of what was taken in."""
        self._expire_before(end)  # a clause in force on the last day is still in force
        spans = [*self._spans, *(_span(span, None, None, None) for span in self._open.values())]
        spans.sort(key=lambda span: (span.start, span.clause))
        talks = [t for t in (self._talks_span(draft, talks) for talks in self._talks.values()) if t]
        return Picture(
            agreement=draft.agreement,
            title=draft.title,
            start=self.start,
            end=end,
            known_at=known_at,
            clauses=tuple(spans),
            investments=tuple(s.series() for _, s in sorted(self._investments.items())),
            stakes=tuple(s.series() for _, s in sorted(self._stakes.items())),
            governance=tuple(self._governance),
            talks=tuple(talks),
            termination=self._termination,
        )

    def _talks_span(self, draft: Draft, talks: _OpenTalks) -> TalksSpan | None:
        state = draft.talks[talks.renegotiation]
        closed = talks.closed
        if closed is not None and closed.on < self.start:
            return None  # over before the window
        proposals = []
        for made in state.proposals:
            mark = talks.proposals.get(made.id)
            if mark is None or mark.on < self.start:
                continue
            settled = talks.settled.get(made.id) or (
                closed if made.status in ("accepted", "superseded") else None
            )
            status = made.status + (f" {settled.when} ({settled.event})" if settled else "")
            label = f"{made.id} by {made.by}"
            proposals.append(
                attrs.evolve(mark, label=label, details=(*mark.details, ("status", status)))
            )
        if closed is not None:
            accepted = [p.id for p in state.proposals if p.status == "accepted"]
            outcome = f"{state.status}: {accepted[0]} accepted" if accepted else state.status
            closed = attrs.evolve(closed, label=f"{talks.renegotiation} {outcome}")
        return TalksSpan(
            renegotiation=talks.renegotiation,
            start=talks.start,
            end=closed.on if closed is not None else None,
            status=state.status,
            opened=talks.opened,
            proposals=tuple(proposals),
            closed=closed,
        )


def _span(
    span: _OpenSpan, end: date | None, ended_by: str | None, closed: Mark | None
) -> ClauseSpan:
    return ClauseSpan(
        clause=span.clause,
        kind=span.kind,
        start=span.start,
        start_precision=span.precision,
        end=end,
        ended_by=ended_by,
        added=span.added,
        amendments=tuple(span.amendments),
        closed=closed,
    )


def _label(entry: Entry) -> str:
    """A first label for an event's mark; the projection says more where it knows more."""
    fact = entry.fact
    kind = entry.type
    if kind == "termination":
        reason = fact.get("reason")
        return "the agreement ends" + (f": {reason}" if reason else "")
    if kind == "governance":
        described = fact.get("description")
        return str(described) if described else f"{fact['kind']} at {fact['entity']}"
    if kind == "renegotiation_opened":
        return f"{fact['renegotiation']} opened by {fact['initiated_by']}"
    return kind.replace("_", " ")


def _terms(terms: Plain, until: date | None) -> tuple[tuple[str, str], ...]:
    """A clause's terms as name/value lines (``until`` last)."""
    lines = [(name, describe(value)) for name, value in terms.items() if value is not None]
    if until is not None:
        lines.append(("until", until.isoformat()))
    return tuple(lines)


def _changed(
    before: Plain, after: Plain, until_before: date | None, until_after: date | None
) -> tuple[tuple[str, str], ...]:
    """The terms an amendment changed, each ``before → after``."""
    names = [n for n, v in before.items() if after.get(n) != v]
    names += [n for n, v in after.items() if n not in before and v is not None]
    lines = [(n, f"{describe(before.get(n))} → {describe(after.get(n))}") for n in names]
    if until_before != until_after:
        lines.append(("until", f"{_day_text(until_before)} → {_day_text(until_after)}"))
    return tuple(lines)


def _day_text(day: date | None) -> str:
    return "—" if day is None else day.isoformat()


def _plain_change(change: Plain) -> str:
    """A proposed change in a few words: ``add x (veto)``, ``amend y: rate=8``."""
    if "add" in change:
        return f"add {change['add']['id']} ({change['add']['kind']})"
    if "amend" in change:
        terms = ", ".join(f"{k}={describe(v)}" for k, v in (change.get("terms") or {}).items())
        until = f" until {change['until']}" if change.get("until") else ""
        return f"amend {change['amend']}: {terms}{until}"
    return f"remove {change['remove']}"
