"""The read model: the one interface the application asks its questions through.

Questions about a date read the latest checkpoint before it that holds as known at the
time asked, and fold the index's events after it. Appends and hypotheses are checked
from the checkpoint before the first day they touch, through every later event (a
``Prepared`` suffix for the domain's one ``check``), and what they change in the read
model is written in the events' own transaction.

Reads never trust a row blindly: each row is checked against its seal and the digest of
the event it was built from as it is read (``ReadModelMismatch`` when it does not match;
the application then answers from the events themselves), and ``verify`` rebuilds every
row, superseded checkpoints included, and compares.
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import Any, NamedTuple, Protocol

from eventsourcing.persistence import StoredEvent

from ledger.adapters.mapper import LedgerMapper, decode, fold_form
from ledger.domain.draft import Draft, Key
from ledger.domain.entries import Entry
from ledger.domain.events import Fact
from ledger.domain.fold import Batch, check, fold
from ledger.domain.ids import agreement_uuid, event_id, version_in
from ledger.domain.state import AgreementState
from ledger.domain.timeline import (
    CORRECTION,
    OPEN,
    Recorded,
    Recording,
    Row,
    not_known_yet,
    not_open_yet,
    target,
)
from ledger.domain.versions import Changes, Reconciled, Version, reconcile
from ledger.errors import IntegrityFailure, InvalidField, ReadModelMismatch, plural
from ledger.readmodel import bitemporal
from ledger.readmodel.checkpoints import Keeper, load, spacing
from ledger.readmodel.sql import (
    Append,
    Checkpoint,
    ReadModelWrite,
    Tables,
    View,
    checkpoint_seal,
    seal,
)

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
        """The log version as it stood at ``at`` (0: nothing recorded yet).

        The appends that bound ``at`` are checked against their last events (their
        recording times and digests), so an edited time cannot move the answer.
        """
        if at >= view.last_recorded:
            return view.version
        before, after = self.tables.appends_around(view.aggregate_id, at)
        self._check_appends(view, [a for a in (before, after) if a is not None])
        return before.last_version if before is not None else 0

    def _check_appends(self, view: View, appends: Sequence[Append]) -> None:
        events = self._events_at(view, [a.last_version for a in appends])
        for append in appends:
            event = events.get(append.last_version)
            if event is None or (event.digest, event.recorded_at) != (
                append.digest,
                append.recorded_at,
            ):
                raise ReadModelMismatch(
                    f"{view.agreement}: the record of the append ending at version "
                    f"{append.last_version} does not match its event"
                )

    def _events_at(self, view: View, versions: Sequence[int]) -> dict[int, Recorded]:
        rows = self.tables.stored(view.aggregate_id, sorted(set(versions)))
        return {row.originator_version: self._mapper.to_domain_event(row) for row in rows}

    def checked_view(self, view: View) -> View:
        """``view``, once the log's head is found where it says: the last event it
        followed is there, with its digest, and nothing is missing after it.

        Raises ``IntegrityFailure`` if the log is shorter than the read model followed
        (events were removed), ``ReadModelMismatch`` if the head differs otherwise.
        """
        head = self.head(view.aggregate_id)
        if head is None or head.originator_version < view.version:
            found = 0 if head is None else head.originator_version
            raise IntegrityFailure(
                f"{view.agreement}: the log holds {plural(found, 'event')}, but "
                f"{view.version} were recorded (the read model followed them all): events are "
                "missing — do not rebuild the read model; restore the store, and check it with "
                "`ledger verify --expect HEADS`"
            )
        if head.originator_version == view.version and head.digest != view.digest:
            raise ReadModelMismatch(f"{view.agreement}: the log's last event is not as followed")
        return view

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
            self._check_checkpoint(view, checkpoint, version)
            start = load(checkpoint.state)[0]
            entries = self.entries(view, version, after=checkpoint.on, until=on)
            folded = fold(start, entries)
        else:
            folded = fold(None, self._from_opening(view, version, on))
        if folded is None:  # pragma: no cover - _from_opening yields the opening first
            raise not_known_yet(view.agreement, None, view.first_recorded)
        return folded

    def _check_checkpoint(self, view: View, checkpoint: Checkpoint, version: int) -> None:
        """A checkpoint is what was written at its version, and still holds at ``version``."""
        written = self._events_at(view, [checkpoint.valid_from]).get(checkpoint.valid_from)
        expected = None
        if written is not None:
            expected = checkpoint_seal(
                view.aggregate_id,
                checkpoint.on,
                checkpoint.valid_from,
                checkpoint.state,
                written.digest,
            )
        if expected != checkpoint.seal or self.tables.stale(view.aggregate_id, checkpoint, version):
            raise ReadModelMismatch(
                f"{view.agreement}: the checkpoint of {checkpoint.on} (written at version "
                f"{checkpoint.valid_from}) does not match the events"
            )

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
        rows = self.tables.events(view.aggregate_id, version, after, until)
        for entry in in_effect(view.agreement, view.aggregate_id, rows, version):
            if limit is not None:
                if limit == 0:
                    return
                limit -= 1
            yield entry

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
        if checkpoint is not None:
            self._check_checkpoint(view, checkpoint, high)
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
    ) -> list[Seed]:
        """The earlier events the batch withdraws, with their latest rows and digests, and
        for a correction still in effect, the event it corrected (retracting it restores
        that)."""
        if last == 0:
            return []
        wanted = {version_in(agreement, aimed, last) for r in new if (aimed := target(r.plain))}
        seeds: list[Seed] = []
        seen: set[int] = set()
        while wanted - {None} - seen:
            versions = sorted(v for v in wanted if v is not None and v not in seen)
            wanted = set()
            rows = self.tables.latest_rows(aggregate_id, versions)
            for stored in self.tables.stored(aggregate_id, versions):
                plain, _, digest = decode(stored.topic, stored.state)
                version = stored.originator_version
                seeds.append(Seed(version, plain, rows.get(version), digest))
                seen.add(version)
                if plain["type"] == CORRECTION:
                    wanted.add(version_in(agreement, plain["corrects"], last))
        return sorted(seeds, key=lambda seed: seed.version)

    def written(
        self, prepared: Prepared, draft: Draft | None, follower: Follower, view: View | None
    ) -> ReadModelWrite:
        """What the append of ``prepared``'s batch writes in the read model, once checked
        (``draft`` is the state after it, ``follower`` what its fold kept and changed)."""
        new = prepared.new
        if draft is None:  # pragma: no cover - a checked batch leaves an agreement
            raise ValueError("a checked batch leaves a state")
        recorded_at = new[-1].timestamp
        digests = {seed.version: seed.digest for seed in prepared.seeds}
        digests.update((r.originator_version, r.digest) for r in new)
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
                digest=new[-1].digest,
            ),
            appends=(
                Append(new[-1].originator_version, recorded_at, prepared.touched, new[-1].digest),
            ),
            opened=prepared.recording.opened(),
            closed=prepared.recording.closed(),
            digests=digests,
            touched=prepared.touched,
            first=new[0].originator_version,
            checkpoints=follower.keeper.kept,
            versions=self._reconciled(prepared, follower.changes),
        )

    def _reconciled(self, prepared: Prepared, changes: Changes) -> Reconciled:
        """The bitemporal rows the append closes and opens, from the first day it touches."""
        start = prepared.touched
        if start is None:
            return Reconciled((), ())
        believed: list[Version] = []
        if prepared.last > 0:
            aggregate_id = prepared.new[0].originator_id
            believed = bitemporal.believed(self.tables, aggregate_id, start, changes.by_fact)
        return reconcile(start, believed, changes.by_fact)

    def follower(self, prepared: Prepared) -> Follower:
        """What follows ``prepared``'s fold: the checkpoints it keeps, the facts it changes."""
        return Follower(
            Keeper(from_day=prepared.touched, after=prepared.start_spacing),
            Changes(prepared.touched),
        )

    # -- maintenance ---------------------------------------------------------------

    def rebuild(self, agreement: str, records: Sequence[Recorded]) -> None:
        """Rebuild an agreement's read model from its whole log, by recording its appends
        again one after the other, as they happened: the rows come out exactly as the
        appends wrote them, history included (superseded checkpoints, the recording
        axis). The agreement's view is written last, so that a rebuild cut short is
        started again from scratch on first use."""
        aggregate_id = agreement_uuid(agreement)
        with self.tables.transaction(commit=True) as cursor:
            self.tables.forget(cursor, aggregate_id)
        view = None
        for _, group in groupby(records, key=lambda r: r.timestamp):
            batch = list(group)
            prepared = self.prepare(agreement, batch)
            follower = self.follower(prepared)
            draft = check(prepared, prepared.batch, follower.each_day, observe=True)
            change = self.written(prepared, draft, follower, view)
            view = change.view
            last = batch[-1] is records[-1]
            with self.tables.transaction(commit=True) as cursor:
                self.tables.write(cursor, change, with_view=last)

    def rows(self, agreement: str) -> dict[str, list[tuple[Any, ...]]]:
        """Every read-model row of an agreement, table by table, in a form that compares
        across stores and dialects (``verify`` compares a store's rows with a rebuild's)."""
        return self.tables.rows_of(agreement_uuid(agreement))


class Follower:
    """What an append's fold leaves in the read model: the checkpoints it keeps and the
    facts it changes (its ``each_day`` sees every day's end; the fold must observe)."""

    def __init__(self, keeper: Keeper, changes: Changes) -> None:
        self.keeper = keeper
        self.changes = changes

    def each_day(self, draft: Draft, day: date, count: int, upcoming: date | None) -> None:
        """The fold reached the end of ``day``, having folded ``count`` entries on it."""
        self.keeper.each_day(draft, day, count, upcoming)
        self.changes.each_day(draft, day)


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
        seeds: Sequence[Seed],
    ) -> None:
        self.agreement = agreement
        self.new = new
        self.last = last  # the log version the batch is checked against
        self._tables = tables
        self.seeds = seeds
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
        if self.checkpoint is not None and tables.stale(
            new[0].originator_id, self.checkpoint, last
        ):
            raise ReadModelMismatch(
                f"{agreement}: the checkpoint of {self.checkpoint.on} no longer holds"
            )
        self.start_spacing = 0
        if self.checkpoint is not None:
            self.start_spacing = spacing(load(self.checkpoint.state)[1])

    def _recording(self, upto: int) -> Recording:
        """The seeded recording with the batch's events up to ``upto``, each withdrawal
        checked against what it withdraws."""
        recording = Recording(self.agreement)
        for seed in self.seeds:
            recording.seed(seed.version, seed.plain, seed.row)
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
        rows = (
            row
            for row in self._tables.events(aggregate_id, self.last, after)
            if (row["version"], row["visible_from"]) not in gone
        )
        return heapq.merge(in_effect(self.agreement, aggregate_id, rows, self.last), fresh)


class Seed(NamedTuple):
    """An earlier event a batch withdraws: its plain form, latest index row and digest."""

    version: int
    plain: dict[str, Any]
    row: Row | None
    digest: str


def in_effect(
    agreement: str, aggregate_id: uuid.UUID, rows: Iterable[Any], version: int
) -> Iterator[Entry]:
    """The entries of index rows in effect at ``version``, every row's seal checked
    first (a row withdrawn by then is checked, then left out)."""
    for row in rows:
        entry = entry_of(agreement, aggregate_id, row)
        if row["visible_until"] > version:
            yield entry


def entry_of(agreement: str, aggregate_id: uuid.UUID, row: Any) -> Entry:
    """The entry of a row of ``Tables.events``: the index's place and the stored fact,
    once the row's seal says it is what was written for this event."""
    plain = fold_form(row["topic"], bytes(row["state"]))
    replacing = plain["type"] == CORRECTION
    fact = plain["replacement"] if replacing else plain
    version = row["version"]
    day = date.fromordinal(row["day"])
    sealed = seal(
        aggregate_id.hex,
        version,
        row["visible_from"],
        row["visible_until"],
        row["day"],
        row["opening"],
        row["seq"],
        plain["digest"],
    )
    if sealed != row["seal"] or fact["effective_on"] != day.isoformat():
        raise ReadModelMismatch(
            f"{agreement}: the timeline index row of {event_id(agreement, version)} does not "
            "match its event"
        )
    return Entry(
        day,
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
