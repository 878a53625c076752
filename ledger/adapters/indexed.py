"""An agreement's log read and extended through its timeline index and checkpoints.

These are the fast paths: ``state_at`` reads the checkpoint before the date and the
events after it; an append folds its events from the checkpoint before the first
day they touch, through every later event, with every rule checked, and writes the
checkpoints that fold passes. Each must give exactly what the plain fold over the
whole log gives (``ledger.domain.timeline``); the tests hold them to it.
"""

from __future__ import annotations

import heapq
import uuid
import zlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from itertools import groupby, zip_longest
from typing import Any

import attrs
import orjson
from eventsourcing.persistence import StoredEvent

from ledger.adapters.checkpoints import Checkpoint, IndexStore, IndexWrite, micros
from ledger.adapters.mapper import LedgerMapper
from ledger.domain.agreement import agreement_uuid
from ledger.domain.events import AgreementOpened, Correction, Retraction, target_of
from ledger.domain.fold import Entry
from ledger.domain.state import AgreementState
from ledger.domain.state_codec import state_from_plain, state_to_plain
from ledger.domain.timeline import (
    Batch,
    Broken,
    Recorded,
    check_withdrawal,
    check_withdrawals,
    event_id,
    fold,
    fold_days,
    known,
    not_known_yet,
    not_open_yet,
    order,
)
from ledger.domain.timeline_index import OPEN, IndexBuilder, IndexRow, index_rows, spacing
from ledger.errors import IntegrityFailure, InvalidField


class NeedsFullCheck(Exception):
    """The fast path cannot decide (or name) the outcome: check against the whole log."""


class IndexedLog:
    """One store's index, with the recorder and mapper that read its events."""

    def __init__(self, recorder: Any, mapper: LedgerMapper) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self.index: IndexStore = recorder.index

    # -- the log's head ----------------------------------------------------------

    def head(self, aggregate_id: uuid.UUID) -> Recorded | None:
        """The last event of an agreement's log, if it has one."""
        rows: Sequence[StoredEvent] = self.recorder.select_events(aggregate_id, desc=True, limit=1)
        return self.mapper.to_domain_event(rows[0]) if rows else None

    def in_step(self, aggregate_id: uuid.UUID, head: Recorded) -> bool:
        """Whether the index has followed the log up to ``head`` (read a moment ago).

        The index commits with the events, so it can only be behind a log written before
        it existed; another writer's append since ``head`` was read puts it ahead.
        """
        return self.index.version(aggregate_id) >= head.originator_version

    # -- reading -----------------------------------------------------------------

    def state_at(self, agreement: str, on: date, known_at: datetime) -> AgreementState:
        """The agreement on ``on`` as known at ``known_at``, from the checkpoint before."""
        aggregate_id = agreement_uuid(agreement)
        version = self.index.known_at(aggregate_id, known_at)
        if version == 0:
            raise not_known_yet(agreement, known_at)
        checkpoint = self.index.checkpoint(aggregate_id, on, version)
        after = checkpoint.on if checkpoint else None
        entries = (e for e, _ in self._read(agreement, aggregate_id, version, after, until=on))
        if checkpoint is not None:
            state = fold(entries, on, _load(checkpoint)[0])
        else:
            folded = list(entries)
            if not folded or not isinstance(folded[0].fact, AgreementOpened):
                first, _ = next(self._read(agreement, aggregate_id, version, limit=1))
                raise not_open_yet(agreement, first, on)
            state = fold(folded, on)
        return attrs.evolve(state, known_at=known_at)

    # -- writing -----------------------------------------------------------------

    def appended(self, agreement: str, head: Recorded, new: Sequence[Recorded]) -> IndexWrite:
        """The index's part of appending ``new`` after ``head``, checked against every
        later event from the checkpoint before the first day the batch touches.

        Corrections and retractions are checked against the events they name, read
        from the store with their rows. Raises the rule a new event breaks, placed at
        it; ``NeedsFullCheck`` when there is no checkpoint to start from, or an earlier
        event would break (the whole log then names the culprit).
        """
        aggregate_id = head.originator_id
        last = head.originator_version
        batch = Batch(last + 1, {r.originator_version: r.fact.TYPE for r in new})
        builder = self._seeded(agreement, aggregate_id, last, new)
        for record in new:
            fact = record.fact
            if isinstance(fact, (Correction, Retraction)):
                try:
                    check_withdrawal(
                        fact, builder.withdrawals.facts, builder.withdrawals.withdrawn_by
                    )
                except InvalidField as error:
                    raise error.located(batch.index(record.originator_version), fact.TYPE) from None
            builder.add(record)
        opened, closed = builder.opened(), builder.closed()
        touched = min(row.on for row in (*opened, *closed)) if opened or closed else None
        if touched is None or touched == date.min:
            raise NeedsFullCheck  # nothing on the timeline changes: the whole log decides
        checkpoint = self.index.checkpoint(aggregate_id, touched - timedelta(days=1), last)
        if checkpoint is None:
            raise NeedsFullCheck
        facts = {r.originator_version: r.fact for r in new} | {
            builder.version_of[ident]: fact
            for ident, fact in builder.withdrawals.facts.items()
            if builder.version_of[ident] <= last
        }
        fresh = sorted(  # a row the batch opened and closed again is not in effect after it
            (
                row.entry(agreement, facts[row.version])
                for row in opened
                if row.visible_until == OPEN
            ),
            key=order,
        )
        gone = {(row.version, row.visible_from) for row in closed}
        later = (
            entry
            for entry, row in self._read(agreement, aggregate_id, last, checkpoint.on)
            if (row.version, row.visible_from) not in gone
        )
        start, size = _load(checkpoint)
        try:
            checkpoints = along(start, heapq.merge(later, fresh, key=order), spacing(size))
        except Broken as broken:
            if broken.entry.version > last:
                raise batch.blame(broken.error, broken.entry) from None
            raise NeedsFullCheck from None
        return IndexWrite(
            aggregate_id=aggregate_id,
            agreement=agreement,
            appends=((new[-1].originator_version, new[-1].timestamp),),
            rows=opened,
            closed=closed,
            touched=touched,
            first=last + 1,
            checkpoints=checkpoints,
        )

    def _seeded(
        self, agreement: str, aggregate_id: uuid.UUID, last: int, new: Sequence[Recorded]
    ) -> IndexBuilder:
        """An index builder that knows the earlier events the batch withdraws: their facts
        and latest rows, and for a correction still in effect, the event it corrected."""
        builder = IndexBuilder(agreement)
        wanted = {
            _version(agreement, target_of(r.fact), last)
            for r in new
            if isinstance(r.fact, (Correction, Retraction))
        }
        wanted.discard(None)
        seen: set[int] = set()
        while wanted:
            versions = sorted(v for v in wanted if v is not None and v not in seen)
            wanted = set()
            rows = self.index.latest_rows(aggregate_id, versions)
            for version in versions:
                seen.add(version)
                stored = self.recorder.select_events(aggregate_id, gt=version - 1, lte=version)
                fact = self.mapper.to_domain_event(stored[0]).fact
                builder.seed(version, fact, rows.get(version))
                if isinstance(fact, Correction):  # retracting it would restore this one
                    wanted.add(_version(agreement, fact.corrects, last))
            wanted.discard(None)
        return builder

    def _read(
        self,
        agreement: str,
        aggregate_id: uuid.UUID,
        version: int,
        after: date | None = None,
        *,
        until: date | None = None,
        limit: int | None = None,
    ) -> Iterator[tuple[Entry, IndexRow]]:
        """The index's events in effect at ``version`` (see ``IndexStore.events``), read."""
        for found in self.index.events(aggregate_id, version, after, until, limit):
            fact = self.mapper.to_domain_event(found.stored).fact
            yield found.row.entry(agreement, fact), found.row

    def checked(self, agreement: str, records: Sequence[Recorded], first: int) -> IndexWrite:
        """``rebuilt``, with the events from version ``first`` on checked: their
        withdrawals, then every rule in the one fold that also writes the checkpoints.
        ``NeedsFullCheck`` when a rule is broken (the whole-log check names the event at
        fault)."""
        new = {r.originator_version: r.fact.TYPE for r in records if r.originator_version >= first}
        check_withdrawals(agreement, records, Batch(first, new))
        try:
            return self.rebuilt(agreement, records, first)
        except Broken:
            raise NeedsFullCheck from None

    def rebuilt(self, agreement: str, records: Sequence[Recorded], first: int) -> IndexWrite:
        """The index's part of a log whose events from version ``first`` on are new,
        from the whole log (already checked): what the new events open and close, and
        the checkpoints from the one before the first day they touch."""
        aggregate_id = records[0].originator_id
        rows = index_rows(agreement, records)
        opened = [r for r in rows if r.visible_from >= first]
        closed = [r for r in rows if r.visible_from < first <= r.visible_until < OPEN]
        touched = min((r.on for r in (*opened, *closed)), default=None)
        checkpoint = None
        if touched is not None and first > 1 and touched > date.min:
            checkpoint = self.index.checkpoint(aggregate_id, touched - timedelta(days=1), first - 1)
        entries = known(agreement, records).entries
        if checkpoint is not None:
            start, size = _load(checkpoint)
            every = spacing(size)
            entries = tuple(e for e in entries if e.effective_on > checkpoint.on)
        else:
            start, every = None, spacing(0)
        appends = _appends(records, first)
        return IndexWrite(
            aggregate_id=aggregate_id,
            agreement=agreement,
            appends=appends,
            rows=opened,
            closed=closed,
            touched=touched,
            first=first,
            checkpoints=along(start, entries, every),
        )

    def verify(self, agreement: str, records: Sequence[Recorded]) -> None:
        """Check the index, the appends and the checkpoints in force against the whole log
        (already verified); ``IntegrityFailure`` names the first that differs."""
        aggregate_id = agreement_uuid(agreement)
        expected = sorted(index_rows(agreement, records), key=lambda r: (r.version, r.visible_from))
        stored = self.index.all_rows(aggregate_id)
        for want, got in zip_longest(expected, stored):
            if want != got:
                where = event_id(agreement, (want or got).version)
                raise _read_model_failure(agreement, f"the timeline index at {where}")
        appends = [(last, micros(moment)) for last, moment in _appends(records, 1)]
        if appends != self.index.appends(aggregate_id):
            raise _read_model_failure(agreement, "the record of its appends")
        checkpoints = self.index.in_force(aggregate_id)
        wanted = {checkpoint.on: checkpoint for checkpoint in checkpoints}
        for state, _ in fold_days(None, known(agreement, records).entries, "not yet"):
            checkpoint = wanted.pop(state.as_of, None)
            if checkpoint is not None and _load(checkpoint)[0] != state:
                raise _read_model_failure(agreement, f"the checkpoint of {checkpoint.on}")
        if wanted:
            raise _read_model_failure(agreement, f"the checkpoint of {min(wanted)}")

    def reindex(self, agreement: str, records: Sequence[Recorded]) -> None:
        """Rebuild an agreement's index and checkpoints from its whole log."""
        change = self.rebuilt(agreement, records, 1)
        with self.recorder.datastore.transaction(commit=True) as cursor:
            self.index.forget(cursor, change.aggregate_id)
            self.index.write(cursor, change)


def along(
    start: AgreementState | None, entries: Iterable[Entry], every: int
) -> list[tuple[date, bytes]]:
    """Fold ``entries`` after ``start`` with every rule checked, keeping a checkpoint at
    the end of a day once ``every`` entries have passed since the last one.

    Folding from the opening keeps one at the end of its day too, so that an event
    backdated to any later day has a checkpoint to start from.
    """
    kept: list[tuple[date, bytes]] = []
    run = 0
    opening = start is None
    opened_on = str(start.opened_on) if start is not None else "not yet"
    for state, count in fold_days(start, entries, opened_on):
        run += count
        if run >= every or opening:
            opening = False
            data = orjson.dumps(state_to_plain(state))
            kept.append((state.as_of, zlib.compress(data, 1)))
            every, run = spacing(len(data)), 0
    return kept


def _load(checkpoint: Checkpoint) -> tuple[AgreementState, int]:
    """The state a checkpoint holds (compressed JSON), and the size of its JSON."""
    data = zlib.decompress(checkpoint.state)
    return state_from_plain(orjson.loads(data)), len(data)


def _version(agreement: str, ident: str, last: int) -> int | None:
    """The version an event id names in this agreement's log up to ``last``, if any."""
    name, _, number = ident.rpartition("#")
    if name != agreement or not number.isdigit() or not 1 <= int(number) <= last:
        return None
    return int(number)


def _appends(records: Sequence[Recorded], first: int) -> tuple[tuple[int, datetime], ...]:
    """(last version, recorded_at) of each append among the records from ``first`` on:
    the events of one append share their recording time."""
    return tuple(
        (list(batch)[-1].originator_version, moment)
        for moment, batch in groupby(
            (r for r in records if r.originator_version >= first), key=lambda r: r.timestamp
        )
    )


def _read_model_failure(agreement: str, what: str) -> IntegrityFailure:
    return IntegrityFailure(
        f"{agreement}: {what} does not match the log; the events themselves are intact — "
        "rebuild the index and checkpoints with `ledger verify --reindex`"
    )
