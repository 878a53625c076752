"""The timeline index and the checkpoints, kept in the events' own database.

Both are read models of the log: written in the same transaction as the events they
follow (through the recorder's ``_insert_events`` hook, the library's own place for
writes that must commit with the events), and rebuilt from the log when they lag it.
A checkpoint is the state at the end of a day as the log stood at ``valid_from``; a
later batch that touches that day or an earlier one sets its ``valid_until``, so that
questions "as known at" an earlier time still use it.

SQLite and PostgreSQL differ here only in placeholders, column types and how the
aggregate id is stored (the library keeps a UUID's hex in SQLite).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from typing import Any

import attrs
from eventsourcing.persistence import StoredEvent

from ledger.domain.timeline_index import OPEN, IndexRow

PAGE = 5000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    """A recording time as whole microseconds since the epoch (exact, sortable)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@attrs.frozen
class IndexWrite:
    """What one append changes in the index and checkpoints, besides its events."""

    aggregate_id: uuid.UUID
    agreement: str
    appends: Sequence[tuple[int, datetime]]  # (last version, recorded_at) of each append
    rows: Sequence[IndexRow]  # rows the append opens
    closed: Sequence[IndexRow]  # rows it closes (their visible_until set)
    touched: date | None  # checkpoints from this day on no longer hold
    first: int  # the append's first version: superseded checkpoints hold before it
    checkpoints: Sequence[tuple[date, bytes]]

    @property
    def last(self) -> int:
        """The log version after the append."""
        return self.appends[-1][0]


@attrs.frozen
class Checkpoint:
    """A stored checkpoint: the state at the end of ``on``, as zlib-compressed JSON (a
    cache, unlike the events, which stay readable in the store)."""

    on: date
    state: bytes


@attrs.frozen
class IndexedEvent:
    """An index row with the stored event it points to."""

    row: IndexRow
    stored: StoredEvent


Transaction = Callable[..., AbstractContextManager[Any]]


@attrs.frozen
class IndexStore:
    """The SQL of the index, for one database and one events table."""

    postgres: bool
    events_table: str  # qualified
    prefix: str  # schema qualifier for the index's own tables ("" or '"schema".')
    transaction: Transaction

    @property
    def _p(self) -> str:
        return "%s" if self.postgres else "?"

    def _id(self, aggregate_id: uuid.UUID) -> Any:
        return aggregate_id if self.postgres else aggregate_id.hex

    def _sql(self, text: str) -> str:
        text = text.replace("{t}", self.prefix)
        return text.replace("?", "%s") if self.postgres else text

    def create_statements(self) -> list[str]:
        """The tables and indexes (idempotent)."""
        ident = "uuid" if self.postgres else "TEXT"
        blob = "bytea" if self.postgres else "BLOB"
        big = "bigint" if self.postgres else "INTEGER"
        return [
            self._sql(
                f"CREATE TABLE IF NOT EXISTS {{t}}ledger_views (aggregate_id {ident} PRIMARY KEY, "
                f"agreement TEXT NOT NULL, opened {big} NOT NULL, version {big} NOT NULL)"
            ),
            self._sql(
                f"CREATE TABLE IF NOT EXISTS {{t}}ledger_timeline (aggregate_id {ident}, "
                f"version {big}, visible_from {big}, visible_until {big}, day integer, "
                f"opening integer, seq {big}, "
                "PRIMARY KEY (aggregate_id, version, visible_from))"
            ),
            self._sql(
                "CREATE INDEX IF NOT EXISTS ledger_timeline_order ON {t}ledger_timeline "
                "(aggregate_id, day, opening, seq, version)"
            ),
            self._sql(
                f"CREATE TABLE IF NOT EXISTS {{t}}ledger_appends (aggregate_id {ident}, "
                f"last_version {big}, recorded_at {big}, "
                "PRIMARY KEY (aggregate_id, last_version))"
            ),
            self._sql(
                f"CREATE TABLE IF NOT EXISTS {{t}}ledger_checkpoints (aggregate_id {ident}, "
                f"day integer, valid_from {big}, valid_until {big}, state {blob}, "
                "PRIMARY KEY (aggregate_id, day, valid_from))"
            ),
        ]

    # -- writing (inside the events' transaction) ------------------------------

    def write(self, cursor: Any, change: IndexWrite) -> None:
        """Record ``change`` with ``cursor``, in the transaction that inserts its events."""
        agg = self._id(change.aggregate_id)
        cursor.execute(
            self._sql(
                "INSERT INTO {t}ledger_views (aggregate_id, agreement, opened, version) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (aggregate_id) "
                "DO UPDATE SET version = excluded.version"
            ),
            (agg, change.agreement, micros(change.appends[0][1]), change.last),
        )
        cursor.executemany(
            self._sql("INSERT INTO {t}ledger_appends VALUES (?, ?, ?)"),
            [(agg, version, micros(moment)) for version, moment in change.appends],
        )
        for row in change.closed:
            cursor.execute(
                self._sql(
                    "UPDATE {t}ledger_timeline SET visible_until = ? "
                    "WHERE aggregate_id = ? AND version = ? AND visible_from = ?"
                ),
                (row.visible_until, agg, row.version, row.visible_from),
            )
        if change.rows:
            cursor.executemany(
                self._sql("INSERT INTO {t}ledger_timeline VALUES (?, ?, ?, ?, ?, ?, ?)"),
                [
                    (
                        agg,
                        r.version,
                        r.visible_from,
                        r.visible_until,
                        r.on.toordinal(),
                        0 if r.opening else 1,
                        r.seq,
                    )
                    for r in change.rows
                ],
            )
        if change.touched is not None:
            cursor.execute(
                self._sql(
                    "UPDATE {t}ledger_checkpoints SET valid_until = ? "
                    "WHERE aggregate_id = ? AND day >= ? AND valid_until = ?"
                ),
                (change.first, agg, change.touched.toordinal(), OPEN),
            )
        if change.checkpoints:
            cursor.executemany(
                self._sql("INSERT INTO {t}ledger_checkpoints VALUES (?, ?, ?, ?, ?)"),
                [
                    (agg, on.toordinal(), change.last, OPEN, state)
                    for on, state in change.checkpoints
                ],
            )

    def forget(self, cursor: Any, aggregate_id: uuid.UUID) -> None:
        """Remove an agreement's index and checkpoints (before rebuilding them)."""
        for table in ("ledger_views", "ledger_timeline", "ledger_appends", "ledger_checkpoints"):
            cursor.execute(
                # The table names are the module's own constants, never input.
                self._sql(f"DELETE FROM {{t}}{table} WHERE aggregate_id = ?"),  # noqa: S608
                (self._id(aggregate_id),),
            )

    # -- reading ---------------------------------------------------------------

    def _all(self, sql: str, params: Sequence[Any]) -> list[Any]:
        with self.transaction(commit=False) as cursor:
            cursor.execute(self._sql(sql), params)
            return list(cursor.fetchall())

    def agreements(self) -> list[tuple[str, uuid.UUID]] | None:
        """The indexed agreements, in the order they opened; ``None`` if none is indexed."""
        rows = self._all(
            "SELECT agreement, aggregate_id FROM {t}ledger_views ORDER BY opened, agreement", ()
        )
        if not rows:
            return None
        return [(r["agreement"], uuid.UUID(str(r["aggregate_id"]))) for r in rows]

    def version(self, aggregate_id: uuid.UUID) -> int:
        """The log version the index has followed up to (0: not indexed)."""
        rows = self._all(
            "SELECT version FROM {t}ledger_views WHERE aggregate_id = ?", (self._id(aggregate_id),)
        )
        return int(rows[0]["version"]) if rows else 0

    def known_at(self, aggregate_id: uuid.UUID, moment: datetime) -> int:
        """The last log version recorded at or before ``moment`` (0: none)."""
        rows = self._all(
            "SELECT MAX(last_version) AS v FROM {t}ledger_appends "
            "WHERE aggregate_id = ? AND recorded_at <= ?",
            (self._id(aggregate_id), micros(moment)),
        )
        found = rows[0]["v"] if rows else None
        return int(found) if found is not None else 0

    def checkpoint(
        self, aggregate_id: uuid.UUID, on_or_before: date, known: int
    ) -> Checkpoint | None:
        """The latest checkpoint on or before a day that holds at log version ``known``."""
        rows = self._all(
            "SELECT day, state FROM {t}ledger_checkpoints WHERE aggregate_id = ? AND day <= ? "
            "AND valid_from <= ? AND valid_until > ? ORDER BY day DESC LIMIT 1",
            (self._id(aggregate_id), on_or_before.toordinal(), known, known),
        )
        if not rows:
            return None
        return Checkpoint(date.fromordinal(rows[0]["day"]), bytes(rows[0]["state"]))

    def latest_rows(self, aggregate_id: uuid.UUID, versions: Sequence[int]) -> dict[int, IndexRow]:
        """The latest row of each of these events (none for a retraction)."""
        found: dict[int, IndexRow] = {}
        for version in versions:
            rows = self._all(
                "SELECT version, visible_from, visible_until, day, opening, seq "
                "FROM {t}ledger_timeline WHERE aggregate_id = ? AND version = ? "
                "ORDER BY visible_from DESC LIMIT 1",
                (self._id(aggregate_id), version),
            )
            if rows:
                found[version] = _row(rows[0])
        return found

    def all_rows(self, aggregate_id: uuid.UUID) -> list[IndexRow]:
        """Every row of an agreement's index, by version and then visible_from."""
        rows = self._all(
            "SELECT version, visible_from, visible_until, day, opening, seq FROM "
            "{t}ledger_timeline WHERE aggregate_id = ? ORDER BY version, visible_from",
            (self._id(aggregate_id),),
        )
        return [_row(r) for r in rows]

    def appends(self, aggregate_id: uuid.UUID) -> list[tuple[int, int]]:
        """(last version, recorded_at in microseconds) of each append, in order."""
        rows = self._all(
            "SELECT last_version, recorded_at FROM {t}ledger_appends WHERE aggregate_id = ? "
            "ORDER BY last_version",
            (self._id(aggregate_id),),
        )
        return [(int(r["last_version"]), int(r["recorded_at"])) for r in rows]

    def in_force(self, aggregate_id: uuid.UUID) -> list[Checkpoint]:
        """The checkpoints that hold at the log's head, by day."""
        rows = self._all(
            "SELECT day, state FROM {t}ledger_checkpoints WHERE aggregate_id = ? "
            "AND valid_until = ? ORDER BY day",
            (self._id(aggregate_id), OPEN),
        )
        return [Checkpoint(date.fromordinal(r["day"]), bytes(r["state"])) for r in rows]

    def _events_sql(self) -> str:
        # The events table is the recorder's own name for it, never input.
        return (
            "SELECT t.version, t.visible_from, t.visible_until, t.day, t.opening, t.seq, "  # noqa: S608
            f"e.topic, e.state FROM {{t}}ledger_timeline t JOIN {self.events_table} e "
            "ON e.originator_id = t.aggregate_id AND e.originator_version = t.version "
            "WHERE t.aggregate_id = ? AND (t.day, t.opening, t.seq, t.version) > (?, ?, ?, ?) "
            "AND t.day <= ? AND t.visible_from <= ? AND t.visible_until > ? "
            "ORDER BY t.day, t.opening, t.seq, t.version LIMIT ?"
        )

    def events(
        self,
        aggregate_id: uuid.UUID,
        known: int,
        after: date | None = None,
        until: date | None = None,
        limit: int | None = None,
    ) -> Iterator[IndexedEvent]:
        """The events in effect at log version ``known``, dated after ``after`` and up to
        ``until``, in the order of the fold; read a page at a time."""
        agg = self._id(aggregate_id)
        key: tuple[int, int, int, int] = ((after.toordinal() if after else 0), 2, 0, 0)
        last_day = until.toordinal() if until else date.max.toordinal()
        remaining = limit
        while remaining is None or remaining > 0:
            page = PAGE if remaining is None else min(PAGE, remaining)
            rows = self._all(
                self._events_sql(),
                (agg, *key, last_day, known, known, page),
            )
            for r in rows:
                yield IndexedEvent(
                    _row(r),
                    StoredEvent(
                        originator_id=aggregate_id,
                        originator_version=r["version"],
                        topic=r["topic"],
                        state=bytes(r["state"]),
                    ),
                )
            if len(rows) < page:
                return
            last = rows[-1]
            key = (last["day"], last["opening"], last["seq"], last["version"])
            if remaining is not None:
                remaining -= len(rows)


def _row(r: Any) -> IndexRow:
    return IndexRow(
        r["version"],
        date.fromordinal(r["day"]),
        r["opening"] == 0,
        r["seq"],
        r["visible_from"],
        r["visible_until"],
    )
