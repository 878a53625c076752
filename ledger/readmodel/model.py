"""The read model: the one interface the application asks its questions through.

Questions about a date read the latest checkpoint before it that holds as known at the
time asked, and fold the index's events after it. Appends and hypotheses are checked
from the checkpoint before the first day they touch, through every later event (a
``Prepared`` suffix for the domain's one ``check``), and what they change in the read
model is written in the events' own transaction.
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Collection, Iterator, Sequence
from datetime import date, datetime, timedelta
from itertools import groupby, zip_longest
from typing import Any, Protocol

from eventsourcing.persistence import StoredEvent

from ledger.adapters.mapper import LedgerMapper, decode, fold_form
from ledger.domain.draft import Draft, Key
from ledger.domain.entries import Entry
from ledger.domain.events import Fact
from ledger.domain.fold import Batch, check, fold, fold_days
from ledger.domain.ids import agreement_uuid, event_id, version_in
from ledger.domain.state import AgreementState
from ledger.domain.timeline import (
    CORRECTION,
    OPEN,
    Recorded,
    Recording,
    Row,
    known,
    not_known_yet,
    not_open_yet,
    target,
)
from ledger.errors import IntegrityFailure, InvalidField
from ledger.readmodel.checkpoints import Keeper, load, spacing
from ledger.readmodel.sql import ReadModelWrite, Tables, View, micros

PAGE = 5000


class EventReader(Protocol):
    """What the read model needs of the library's recorder."""

    def select_events(
        self,
        originator_id: uuid.UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        """An agreement's stored events, as eventsourcing's recorders select them."""


class ReadModel:
    """The timeline index and checkpoints of one store, with the reader of its events."""

    def __init__(self, tables: Tables, reader: EventReader, mapper: LedgerMapper) -> None:
        self.tables = tables
        self._reader = reader
        self._mapper = mapper

    # -- the log -----------------------------------------------------------------

    def head(self, aggregate_id: uuid.UUID) -> Recorded | None:
        """The last event of an agreement's log, if it has one."""
        rows = self._reader.select_events(aggregate_id, desc=True, limit=1)
        return self._mapper.to_domain_event(rows[0]) if rows else None

    def stored_rows(self, aggregate_id: uuid.UUID) -> Iterator[StoredEvent]:
        """An agreement's stored events in order, a page at a time."""
        after = 0
        while True:
            rows = self._reader.select_events(aggregate_id, gt=after, limit=PAGE)
            yield from rows
            if len(rows) < PAGE:
                return
            after = rows[-1].originator_version

    def records(self, aggregate_id: uuid.UUID) -> list[Recorded]:
        """An agreement's whole log, in recording order."""
        return [self._mapper.to_domain_event(row) for row in self.stored_rows(aggregate_id)]

    # -- questions ---------------------------------------------------------------

    def known_version(self, view: View, at: datetime) -> int:
        """The log version as it stood at ``at`` (0: nothing recorded yet)."""
        if at >= view.last_recorded:
            return view.version
        return self.tables.known_at(view.aggregate_id, at)

    def state_at(self, view: View, on: date, known_at: datetime) -> AgreementState:
        """The agreement on ``on`` as known at ``known_at``, from the checkpoint before."""
        version = self.known_version(view, known_at)
        if version == 0:
            raise not_known_yet(view.agreement, known_at, view.first_recorded)
        draft = self.fold_to(view, on, version)
        return draft.freeze(on, known_at)

    def fold_to(self, view: View, on: date, version: int) -> Draft:
        """The draft at the end of ``on`` as the log stood at ``version``."""
        checkpoint = self.tables.checkpoint(view.aggregate_id, on, version)
        if checkpoint is not None:
            start = load(checkpoint.state)[0]
            entries = self.entries(view, version, after=checkpoint.on, until=on)
            folded = fold(start, entries)
        else:
            folded = fold(None, self._from_opening(view, version, on))
        if folded is None:  # pragma: no cover - _from_opening yields the opening first
            raise not_known_yet(view.agreement, None, view.first_recorded)
        return folded

    def _from_opening(self, view: View, version: int, on: date) -> Iterator[Entry]:
        entries = self.entries(view, version, until=on)
        first = next(entries, None)
        if first is None:  # nothing by ``on``: the agreement had not opened
            raise not_open_yet(view.agreement, next(self.entries(view, version, limit=1)), on)
        yield first
        yield from entries

    def facts(self, view: View, idents: Collection[str]) -> dict[str, Fact]:
        """The events with these ids in an agreement's log, as typed values."""
        versions = sorted(v for i in idents if (v := version_in(view.agreement, i, view.version)))
        rows = self.tables.stored(view.aggregate_id, versions)
        return {
            event_id(view.agreement, row.originator_version): self._mapper.to_domain_event(row).fact
            for row in rows
        }

    def entries(
        self,
        view: View,
        version: int,
        *,
        after: date | None = None,
        until: date | None = None,
        limit: int | None = None,
    ) -> Iterator[Entry]:
        """The entries in effect at ``version``, dated after ``after`` and up to ``until``,
        in the fold's order."""
        for row in self.tables.events(view.aggregate_id, version, after, until, limit):
            yield entry_of(view.agreement, row)

    def window(
        self, view: View, first: date, second: date, known_at: datetime
    ) -> tuple[AgreementState, AgreementState, dict[Key, list[str]]]:
        """The agreement on ``first`` and on ``second`` as known at ``known_at``, and which
        events changed what in between."""
        version = self.known_version(view, known_at)
        if version == 0:
            raise not_known_yet(view.agreement, known_at, view.first_recorded)
        draft = self.fold_to(view, first, version)
        before = draft.freeze(first, known_at)
        between = self.entries(view, version, after=first, until=second)
        after = fold(draft, between, observe=True) or draft
        return before, after.freeze(second, known_at), after.observed or {}

    def revision(
        self, view: View, on: date, first: datetime, second: datetime
    ) -> tuple[AgreementState, AgreementState, dict[Key, list[str]]]:
        """The agreement on ``on`` as known at ``first`` and as known at ``second``, and,
        for what differs, the events behind it: those known in one view only, an event
        withdrawn in between standing for the correction or retraction that withdrew it."""
        versions = [self.known_version(view, first), self.known_version(view, second)]
        for version, moment in zip(versions, (first, second), strict=True):
            if version == 0:
                raise not_known_yet(view.agreement, moment, view.first_recorded)
        low, high = min(versions), max(versions)
        # Both views share every day up to a checkpoint that held from one to the other.
        checkpoint = self.tables.checkpoint(view.aggregate_id, on, low, through=high)
        after = checkpoint.on if checkpoint is not None else None
        states, seen, observed = [], [], []
        for version, moment in zip(versions, (first, second), strict=True):
            folded: set[str] = set()
            start = load(checkpoint.state)[0] if checkpoint is not None else None
            entries = self.entries(view, version, after=after, until=on)
            if start is None:
                entries = self._from_opening(view, version, on)
            draft = fold(start, _noted(entries, folded), observe=True)
            if draft is None:  # pragma: no cover - _from_opening yields the opening
                raise not_known_yet(view.agreement, moment, view.first_recorded)
            states.append(draft.freeze(on, moment))
            seen.append(folded)
            observed.append(draft.observed or {})
        only = seen[0] ^ seen[1]
        by_version = {v: i for i in only if (v := version_in(view.agreement, i, high))}
        withdrawers = self.tables.withdrawn_between(view.aggregate_id, list(by_version), low, high)
        causes: dict[Key, list[str]] = {}
        for key in set(observed[0]) | set(observed[1]):
            named = [i for obs in observed for i in obs.get(key, []) if i in only]
            behind = [
                event_id(view.agreement, withdrawers[v])
                if (v := version_in(view.agreement, i, high)) in withdrawers
                else i
                for i in named
            ]
            if behind:
                causes[key] = list(dict.fromkeys(behind))
        return states[0], states[1], causes

    # -- appends and hypotheses ----------------------------------------------------

    def prepare(
        self, agreement: str, new: Sequence[Recorded], known: int | None = None
    ) -> Prepared:
        """What checking ``new`` needs: where to start, and the timeline after it with the
        batch in it, as the log stood at version ``known`` (default: just before ``new``;
        a hypothesis is checked against the log as known at some time)."""
        last = new[0].originator_version - 1 if known is None else known
        seeds = self._seeds(agreement, new[0].originator_id, last, new)
        return Prepared(self.tables, agreement, last, new, seeds)

    def _seeds(
        self, agreement: str, aggregate_id: uuid.UUID, last: int, new: Sequence[Recorded]
    ) -> list[tuple[int, dict[str, Any], Row | None]]:
        """The earlier events the batch withdraws, with their latest rows, and for a
        correction still in effect, the event it corrected (retracting it restores that)."""
        if last == 0:
            return []
        wanted = {version_in(agreement, aimed, last) for r in new if (aimed := target(r.plain))}
        seeds: list[tuple[int, dict[str, Any], Row | None]] = []
        seen: set[int] = set()
        while wanted - {None} - seen:
            versions = sorted(v for v in wanted if v is not None and v not in seen)
            wanted = set()
            rows = self.tables.latest_rows(aggregate_id, versions)
            for stored in self.tables.stored(aggregate_id, versions):
                plain = decode(stored.topic, stored.state)[0]
                seeds.append(
                    (stored.originator_version, plain, rows.get(stored.originator_version))
                )
                seen.add(stored.originator_version)
                if plain["type"] == CORRECTION:
                    wanted.add(version_in(agreement, plain["corrects"], last))
        return sorted(seeds, key=lambda seed: seed[0])

    def written(
        self, prepared: Prepared, draft: Draft | None, keeper: Keeper, view: View | None
    ) -> ReadModelWrite:
        """What the append of ``prepared``'s batch writes in the read model, once checked
        (``draft`` is the state after it, ``keeper`` what its fold kept)."""
        new = prepared.new
        if draft is None:  # pragma: no cover - a checked batch leaves an agreement
            raise ValueError("a checked batch leaves a state")
        recorded_at = new[-1].timestamp
        return ReadModelWrite(
            aggregate_id=new[0].originator_id,
            view=View(
                agreement=prepared.agreement,
                aggregate_id=new[0].originator_id,
                title=draft.title,
                opened_on=draft.opened_on,
                opened_precision=draft.opened_precision,
                first_recorded=view.first_recorded if view else new[0].timestamp,
                version=new[-1].originator_version,
                last_recorded=recorded_at,
            ),
            appends=_appends(new),
            opened=prepared.recording.opened(),
            closed=prepared.recording.closed(),
            touched=prepared.touched,
            first=new[0].originator_version,
            checkpoints=keeper.kept,
        )

    def keeper(self, prepared: Prepared) -> Keeper:
        """What keeps the checkpoints of ``prepared``'s fold."""
        return Keeper(from_day=prepared.touched, after=prepared.start_spacing)

    # -- maintenance ---------------------------------------------------------------

    def rebuild(self, agreement: str, records: Sequence[Recorded]) -> None:
        """Rebuild an agreement's read model from its whole log."""
        prepared = self.prepare(agreement, records)
        keeper = self.keeper(prepared)
        draft = check(prepared, prepared.batch, keeper.each_day)
        change = self.written(prepared, draft, keeper, None)
        with self.tables.transaction(commit=True) as cursor:
            self.tables.forget(cursor, change.aggregate_id)
            self.tables.write(cursor, change)

    def verify(self, agreement: str, records: Sequence[Recorded]) -> None:
        """Check the index, the appends and the checkpoints in force against the whole log
        (already verified); ``IntegrityFailure`` names the first that differs."""
        aggregate_id = agreement_uuid(agreement)
        recording = Recording(agreement)
        for record in records:
            recording.add(record.originator_version, record.plain)
        expected = sorted(recording.rows, key=lambda r: (r.version, r.visible_from))
        for want, got in zip_longest(expected, self.tables.all_rows(aggregate_id)):
            if want != got:
                where = event_id(agreement, (want or got).version)
                raise _read_model_failure(agreement, f"the timeline index at {where}")
        appends = [(last, micros(moment)) for last, moment in _appends(records)]
        if appends != self.tables.appends(aggregate_id):
            raise _read_model_failure(agreement, "the record of its appends")
        wanted = {checkpoint.on: checkpoint for checkpoint in self.tables.in_force(aggregate_id)}
        for draft, day, _, _ in fold_days(None, known(agreement, records).entries):
            checkpoint = wanted.pop(day, None)
            if checkpoint is not None and load(checkpoint.state)[0] != draft:
                raise _read_model_failure(agreement, f"the checkpoint of {checkpoint.on}")
        if wanted:
            raise _read_model_failure(agreement, f"the checkpoint of {min(wanted)}")


class Prepared:
    """The ``Suffix`` of an append or hypothesis: the checkpoint before the first day the
    batch touches, as the log stood before it, and the index's events after it, with the
    batch's events in their places and what they withdraw left out."""

    def __init__(
        self,
        tables: Tables,
        agreement: str,
        last: int,
        new: Sequence[Recorded],
        seeds: Sequence[tuple[int, dict[str, Any], Row | None]],
    ) -> None:
        self.agreement = agreement
        self.new = new
        self.last = last  # the log version the batch is checked against
        self._tables = tables
        self._seeds = seeds
        first = new[0].originator_version
        self.batch = Batch(first, {r.originator_version: r.type for r in new})
        self.recording = self._recording(self.batch.last)
        changed = (*self.recording.opened(), *self.recording.closed())
        self.touched: date | None = min((row.on for row in changed), default=None)
        self.checkpoint = None
        if last > 0 and self.touched is not None and self.touched > date.min:
            self.checkpoint = tables.checkpoint(
                new[0].originator_id, self.touched - timedelta(days=1), last
            )
        self.start_spacing = 0
        if self.checkpoint is not None:
            self.start_spacing = spacing(load(self.checkpoint.state)[1])

    def _recording(self, upto: int) -> Recording:
        """The seeded recording with the batch's events up to ``upto``, each withdrawal
        checked against what it withdraws."""
        recording = Recording(self.agreement)
        for version, plain, row in self._seeds:
            recording.seed(version, plain, row)
        for record in self.new:
            version = record.originator_version
            if version > upto:
                break
            try:
                recording.add(version, record.plain, checked=True)
            except InvalidField as error:
                raise error.located(self.batch.index(version), record.type) from None
        return recording

    def start(self) -> Draft | None:
        """A fresh copy of the checkpoint's state (``None``: from the opening)."""
        return load(self.checkpoint.state)[0] if self.checkpoint is not None else None

    def entries(self, upto: int) -> Iterator[Entry]:
        """The timeline after the start, with the batch's events up to ``upto``."""
        recording = self.recording if upto == self.batch.last else self._recording(upto)
        gone = {(row.version, row.visible_from) for row in recording.closed()}
        fresh = sorted(
            row.entry(self.agreement, recording.facts[event_id(self.agreement, row.version)])
            for row in recording.opened()
            if row.visible_until == OPEN
        )
        if self.last == 0:
            return iter(fresh)
        after = self.checkpoint.on if self.checkpoint is not None else None
        aggregate_id = self.new[0].originator_id
        old = (
            entry_of(self.agreement, row)
            for row in self._tables.events(aggregate_id, self.last, after)
            if (row["version"], row["visible_from"]) not in gone
        )
        return heapq.merge(old, fresh)


def entry_of(agreement: str, row: Any) -> Entry:
    """The entry of a row of ``Tables.events``: the index's place, the stored fact."""
    plain = fold_form(row["topic"], bytes(row["state"]))
    replacing = plain["type"] == CORRECTION
    fact = plain["replacement"] if replacing else plain
    version = row["version"]
    return Entry(
        date.fromordinal(row["day"]),
        row["opening"],
        row["seq"],
        version,
        event_id(agreement, version),
        fact["type"],
        fact,
        replacing,
    )


def _noted(entries: Iterator[Entry], ids: set[str]) -> Iterator[Entry]:
    """``entries``, noting each one's id in ``ids`` as it passes."""
    for entry in entries:
        ids.add(entry.id)
        yield entry


def _appends(records: Sequence[Recorded]) -> tuple[tuple[int, datetime], ...]:
    """(last version, recorded_at) of each append among the records: the events of one
    append share their recording time."""
    return tuple(
        (list(batch)[-1].originator_version, moment)
        for moment, batch in groupby(records, key=lambda r: r.timestamp)
    )


def _read_model_failure(agreement: str, what: str) -> IntegrityFailure:
    return IntegrityFailure(
        f"{agreement}: {what} does not match the log; the events themselves are intact — "
        "rebuild the index and checkpoints with `ledger verify --reindex`"
    )
