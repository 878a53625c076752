"""The read model's tables and their SQL, for SQLite and PostgreSQL.

The tables live in the events' own database and are written in the same transaction as
the events they follow. They are disposable: every row can be rebuilt from the log, so
a store whose read model has another schema version has it dropped and rebuilt (see
``SCHEMA_VERSION``). The two dialects differ only in placeholders, column types and how
the aggregate id is stored (the library keeps a UUID's hex in SQLite).

- ``ledger_meta``: the schema version of the read model.
- ``ledger_views``: one row per agreement: its name, title, opening, log version.
- ``ledger_appends``: one row per append: its last version, recording time, the first
  day it changed, and its last event's digest.
- ``ledger_timeline``: the timeline index (``ledger.domain.timeline.Row``).
- ``ledger_checkpoints``: the state at the end of a day, as the log stood from version
  ``valid_from`` until before ``valid_until``.

Every row carries a ``seal``: a digest over its columns and the digest of the event it was
built from (``seal``), so that a read can check a row against the events cheaply and fall
back to them when it does not match (``ReadModelMismatch``). A seal proves no more than
the events' own chain does: it catches an edited row, not one recomputed by someone who
can also rewrite events (``ledger verify`` rebuilds every row and compares; signed heads
catch the rewrite of events).

One table is not part of the read model and is never dropped: ``ledger_signatures``, the
signed head of every append (it cannot be rebuilt without the private key).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from typing import Any

import attrs
from eventsourcing.persistence import StoredEvent

from ledger.domain.heads import SignedHead
from ledger.domain.timeline import OPEN, Row
from ledger.domain.versions import Reconciled
from ledger.errors import ReadModelMismatch
from ledger.readmodel import bitemporal

SCHEMA_VERSION = "4"
PAGE = 5000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TABLES = (
    "ledger_views",
    "ledger_appends",
    "ledger_timeline",
    "ledger_checkpoints",
    *bitemporal.TABLES,
)
# Tables of earlier schema versions, dropped with the rest when the schema changes.
RETIRED: tuple[str, ...] = ()

Transaction = Callable[..., AbstractContextManager[Any]]


def micros(moment: datetime) -> int:
    """A recording time as whole microseconds since the epoch (exact, sortable)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def seal(*parts: object) -> str:
    """What binds a read-model row to its columns and to the events it was built from."""
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]


def moment_of(value: int) -> datetime:
    """The recording time ``micros`` gave ``value`` for."""
    return datetime.fromtimestamp(value // 1_000_000, UTC).replace(microsecond=value % 1_000_000)


@attrs.frozen
class View:
    """What the read model knows of one agreement."""

    agreement: str
    aggregate_id: uuid.UUID
    title: str
    opened_on: date
    opened_precision: str
    first_recorded: datetime
    version: int
    last_recorded: datetime
    digest: str  # the digest of the log's last event, as the read model last saw it

    def sealed(self) -> str:
        """The seal this view's row must carry."""
        return seal(
            self.aggregate_id.hex,
            self.agreement,
            self.title,
            self.opened_on,
            self.opened_precision,
            micros(self.first_recorded),
            self.version,
            micros(self.last_recorded),
            self.digest,
        )


@attrs.frozen
class Append:
    """One append, as the read model keeps it: its last version, recording time, the
    first day it changed (``None``: none), and the digest of its last event."""

    last_version: int
    recorded_at: datetime
    touched: date | None
    digest: str

    def sealed(self, aggregate_id: uuid.UUID) -> str:
        """The seal this append's row must carry."""
        touched = self.touched.toordinal() if self.touched else None
        return seal(
            aggregate_id.hex, self.last_version, micros(self.recorded_at), touched, self.digest
        )


@attrs.frozen
class Checkpoint:
    """A stored checkpoint: the state at the end of ``on`` as the log stood from version
    ``valid_from`` (compressed; a cache, unlike the events, which stay readable)."""

    on: date
    state: bytes
    valid_from: int = 0
    valid_until: int = OPEN
    seal: str = ""


def checkpoint_seal(
    aggregate_id: uuid.UUID, on: date, valid_from: int, state: bytes, digest: str
) -> str:
    """What a checkpoint's row must carry: its day, the version it was written at, its
    content, and the digest of the event at that version. (Its ``valid_until`` is checked
    against the appends instead: a later append that changed its day makes it stale.)"""
    return seal(
        aggregate_id.hex, on.toordinal(), valid_from, hashlib.sha256(state).hexdigest(), digest
    )


def row_seal(aggregate_id: uuid.UUID, row: Row, digest: str) -> str:
    """What a timeline row must carry: its columns and its event's digest."""
    return seal(
        aggregate_id.hex,
        row.version,
        row.visible_from,
        row.visible_until,
        row.on.toordinal(),
        0 if row.opening else 1,
        row.seq,
        digest,
    )


@attrs.frozen
class Idempotent:
    """An append made with an idempotency key: the key, a digest of what was appended,
    and where it went."""

    key: str
    content: str
    agreement: str
    first_version: int
    last_version: int
    recorded_at: datetime


@attrs.frozen
class ReadModelWrite:
    """What one append changes in the read model, besides its events."""

    aggregate_id: uuid.UUID
    view: View
    appends: Sequence[Append]
    opened: Sequence[Row]  # index rows the append opens
    closed: Sequence[Row]  # rows it closes (their visible_until set)
    digests: Mapping[int, str]  # the digest of each event whose row is opened or closed
    touched: date | None  # checkpoints from this day on no longer hold
    first: int  # the append's first version: superseded checkpoints hold before it
    checkpoints: Sequence[tuple[date, bytes]]
    versions: Reconciled  # the bitemporal tables' rows it closes and opens
    idempotency: Idempotent | None = None  # the append's idempotency key, if it has one

    @property
    def last(self) -> int:
        """The log version after the append."""
        return self.view.version


@attrs.frozen
class Tables:
    """The read model's SQL, for one database and one events table."""

    postgres: bool
    events_table: str  # qualified
    prefix: str  # schema qualifier for the read model's own tables ("" or '"schema".')
    transaction: Transaction

    def sql(self, text: str) -> str:
        """``text`` with ``{t}`` qualified and ``?`` as this dialect's placeholder."""
        text = text.replace("{t}", self.prefix)
        return text.replace("?", "%s") if self.postgres else text

    def aggregate(self, aggregate_id: uuid.UUID) -> Any:
        """The aggregate id as this dialect stores it."""
        return aggregate_id if self.postgres else aggregate_id.hex

    # -- schema --------------------------------------------------------------------

    def create_statements(self) -> list[str]:
        """The tables and indexes (idempotent)."""
        ident = "uuid" if self.postgres else "TEXT"
        blob = "bytea" if self.postgres else "BLOB"
        big = "bigint" if self.postgres else "INTEGER"
        return [
            self.sql(
                "CREATE TABLE IF NOT EXISTS {t}ledger_meta (key TEXT PRIMARY KEY, value TEXT)"
            ),
            self.sql(
                f"CREATE TABLE IF NOT EXISTS {{t}}ledger_views (aggregate_id {ident} PRIMARY KEY, "
                "agreement TEXT NOT NULL, title TEXT NOT NULL, opened_on TEXT NOT NULL, "
                f"opened_precision TEXT NOT NULL, first_recorded {big} NOT NULL, "
                f"version {big} NOT NULL, last_recorded {big} NOT NULL, digest TEXT NOT NULL, "
                "seal TEXT NOT NULL)"
            ),
            self.sql(
                f"CREATE TABLE IF NOT EXISTS {{t}}ledger_timeline (aggregate_id {ident}, "
                f"version {big}, visible_from {big}, visible_until {big}, day integer, "
                f"opening integer, seq {big}, seal TEXT NOT NULL, "
                "PRIMARY KEY (aggregate_id, version, visible_from))"
            ),
            self.sql(
                "CREATE INDEX IF NOT EXISTS ledger_timeline_order ON {t}ledger_timeline "
                "(aggregate_id, day, opening, seq, version, visible_from)"
            ),
            self.sql(
                f"CREATE TABLE IF NOT EXISTS {{t}}ledger_appends (aggregate_id {ident}, "
                f"last_version {big}, recorded_at {big}, touched integer, digest TEXT NOT NULL, "
                "seal TEXT NOT NULL, PRIMARY KEY (aggregate_id, last_version))"
            ),
            self.sql(
                f"CREATE TABLE IF NOT EXISTS {{t}}ledger_checkpoints (aggregate_id {ident}, "
                f"day integer, valid_from {big}, valid_until {big}, state {blob}, "
                "seal TEXT NOT NULL, PRIMARY KEY (aggregate_id, day, valid_from))"
            ),
            *bitemporal.create_statements(self),
        ]

    def durable_statements(self) -> list[str]:
        """The tables that are not part of the read model (never dropped, since the events
        do not hold what they hold): signed heads, and the appends' idempotency keys."""
        ident = "uuid" if self.postgres else "TEXT"
        big = "bigint" if self.postgres else "INTEGER"
        return [
            self.sql(
                f"CREATE TABLE IF NOT EXISTS {{t}}ledger_signatures (aggregate_id {ident}, "
                f"version {big}, digest TEXT NOT NULL, recorded_at TEXT NOT NULL, "
                "key_id TEXT NOT NULL, signature TEXT NOT NULL, "
                "PRIMARY KEY (aggregate_id, version))"
            ),
            self.sql(
                "CREATE TABLE IF NOT EXISTS {t}ledger_idempotency (key TEXT PRIMARY KEY, "
                f"aggregate_id {ident} NOT NULL, agreement TEXT NOT NULL, "
                f"content TEXT NOT NULL, first_version {big} NOT NULL, "
                f"last_version {big} NOT NULL, recorded_at TEXT NOT NULL)"
            ),
        ]

    def stamp_statement(self) -> str:
        """The statement that records the schema version (once its tables are new)."""
        # The version is the module's own constant, never input.
        return self.sql(
            "INSERT INTO {t}ledger_meta (key, value) "  # noqa: S608
            f"VALUES ('schema', '{SCHEMA_VERSION}') ON CONFLICT (key) DO NOTHING"
        )

    def drop_statements(self) -> list[str]:
        """Drop every read-model table (they are rebuilt from the log)."""
        return bitemporal.drop_statements(self) + [
            # The table names are the module's own constants, never input.
            self.sql(f"DROP TABLE IF EXISTS {{t}}{table}")
            for table in (*TABLES, *RETIRED, "ledger_meta")
        ]

    def schema_version(self, cursor: Any) -> str | None:
        """The read model's schema version in the store (``None``: no read model yet)."""
        if self.postgres:
            cursor.execute("SELECT to_regclass(%s) AS found", (f"{self.prefix}ledger_meta",))
        else:
            cursor.execute(
                "SELECT name AS found FROM sqlite_master WHERE type = 'table' "
                "AND name = 'ledger_meta'"
            )
        found = cursor.fetchone()
        if found is None or found["found"] is None:
            return None
        cursor.execute(self.sql("SELECT value FROM {t}ledger_meta WHERE key = 'schema'"))
        row = cursor.fetchone()
        return None if row is None else str(row["value"])

    # -- writing (inside the events' transaction) ------------------------------------

    def write(self, cursor: Any, change: ReadModelWrite, *, with_view: bool = True) -> None:
        """Record ``change`` with ``cursor``, in the transaction that inserts its events
        (``with_view``: and the agreement's view; a rebuild writes it last)."""
        aggregate_id = change.aggregate_id
        agg = self.aggregate(aggregate_id)
        view = change.view
        if with_view:
            self._write_view(cursor, agg, view)
        self._write_rest(cursor, aggregate_id, agg, change)

    def _write_view(self, cursor: Any, agg: Any, view: View) -> None:
        cursor.execute(
            self.sql(
                "INSERT INTO {t}ledger_views (aggregate_id, agreement, title, opened_on, "
                "opened_precision, first_recorded, version, last_recorded, digest, seal) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (aggregate_id) DO UPDATE SET "
                "title = excluded.title, opened_on = excluded.opened_on, "
                "opened_precision = excluded.opened_precision, version = excluded.version, "
                "last_recorded = excluded.last_recorded, digest = excluded.digest, "
                "seal = excluded.seal"
            ),
            (
                agg,
                view.agreement,
                view.title,
                view.opened_on.isoformat(),
                view.opened_precision,
                micros(view.first_recorded),
                view.version,
                micros(view.last_recorded),
                view.digest,
                view.sealed(),
            ),
        )

    def _write_rest(
        self, cursor: Any, aggregate_id: uuid.UUID, agg: Any, change: ReadModelWrite
    ) -> None:
        view = change.view
        cursor.executemany(
            self.sql("INSERT INTO {t}ledger_appends VALUES (?, ?, ?, ?, ?, ?)"),
            [
                (
                    agg,
                    a.last_version,
                    micros(a.recorded_at),
                    a.touched.toordinal() if a.touched else None,
                    a.digest,
                    a.sealed(aggregate_id),
                )
                for a in change.appends
            ],
        )
        for row in change.closed:
            cursor.execute(
                self.sql(
                    "UPDATE {t}ledger_timeline SET visible_until = ?, seal = ? "
                    "WHERE aggregate_id = ? AND version = ? AND visible_from = ?"
                ),
                (
                    row.visible_until,
                    row_seal(aggregate_id, row, change.digests[row.version]),
                    agg,
                    row.version,
                    row.visible_from,
                ),
            )
        if change.opened:
            cursor.executemany(
                self.sql("INSERT INTO {t}ledger_timeline VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
                [
                    (
                        agg,
                        r.version,
                        r.visible_from,
                        r.visible_until,
                        r.on.toordinal(),
                        0 if r.opening else 1,
                        r.seq,
                        row_seal(aggregate_id, r, change.digests[r.version]),
                    )
                    for r in change.opened
                ],
            )
        if change.touched is not None:
            cursor.execute(
                self.sql(
                    "UPDATE {t}ledger_checkpoints SET valid_until = ? "
                    "WHERE aggregate_id = ? AND day >= ? AND valid_until = ?"
                ),
                (change.first, agg, change.touched.toordinal(), OPEN),
            )
        if change.checkpoints:
            cursor.executemany(
                self.sql("INSERT INTO {t}ledger_checkpoints VALUES (?, ?, ?, ?, ?, ?)"),
                [
                    (
                        agg,
                        on.toordinal(),
                        change.last,
                        OPEN,
                        state,
                        checkpoint_seal(aggregate_id, on, change.last, state, view.digest),
                    )
                    for on, state in change.checkpoints
                ],
            )
        self._thin_superseded(cursor, agg)
        bitemporal.write(self, cursor, agg, view.agreement, view.last_recorded, change.versions)
        if change.idempotency is not None:
            done = change.idempotency
            cursor.execute(
                self.sql("INSERT INTO {t}ledger_idempotency VALUES (?, ?, ?, ?, ?, ?, ?)"),
                (
                    done.key,
                    agg,
                    done.agreement,
                    done.content,
                    done.first_version,
                    done.last_version,
                    done.recorded_at.isoformat(),
                ),
            )

    def sign(self, cursor: Any, aggregate_id: uuid.UUID, head: SignedHead) -> None:
        """Keep the signature of an append's head, in the transaction that inserts it."""
        cursor.execute(
            self.sql("INSERT INTO {t}ledger_signatures VALUES (?, ?, ?, ?, ?, ?)"),
            (
                self.aggregate(aggregate_id),
                head.version,
                head.digest,
                head.recorded_at,
                head.key_id,
                head.signature,
            ),
        )

    def _thin_superseded(self, cursor: Any, agg: Any) -> None:
        """Keep superseded checkpoints to as many as are in force, dropping the oldest
        generations first: questions as known at those times fold from an earlier
        checkpoint instead, with the same answer."""
        cursor.execute(
            self.sql(
                "SELECT SUM(CASE WHEN valid_until = ? THEN 1 ELSE 0 END) AS live, "
                "SUM(CASE WHEN valid_until = ? THEN 0 ELSE 1 END) AS old "
                "FROM {t}ledger_checkpoints WHERE aggregate_id = ?"
            ),
            (OPEN, OPEN, agg),
        )
        counts = cursor.fetchone()
        live, old = int(counts["live"] or 0), int(counts["old"] or 0)
        if old <= live:
            return
        cursor.execute(
            self.sql(
                "DELETE FROM {t}ledger_checkpoints WHERE aggregate_id = ? AND "
                "(day, valid_from) IN (SELECT day, valid_from FROM {t}ledger_checkpoints "
                "WHERE aggregate_id = ? AND valid_until <> ? "
                "ORDER BY valid_until, day LIMIT ?)"
            ),
            (agg, agg, OPEN, old - live),
        )

    def forget(self, cursor: Any, aggregate_id: uuid.UUID) -> None:
        """Remove an agreement's read model (before rebuilding it)."""
        for table in TABLES:
            cursor.execute(
                # The table names are the module's own constants, never input.
                self.sql(f"DELETE FROM {{t}}{table} WHERE aggregate_id = ?"),  # noqa: S608
                (self.aggregate(aggregate_id),),
            )

    # -- reading -------------------------------------------------------------------

    def rows_of(self, aggregate_id: uuid.UUID) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of an agreement in every read-model table, sorted, its aggregate id
        left out and its blobs as bytes, so that two stores' rows compare."""
        found = {}
        for table in TABLES:
            rows = self.all(
                # The table names are the module's own constants, never input.
                f"SELECT * FROM {{t}}{table} WHERE aggregate_id = ?",  # noqa: S608
                (self.aggregate(aggregate_id),),
            )
            found[table] = sorted(
                (
                    tuple(
                        bytes(v) if isinstance(v, memoryview) else v
                        for k, v in dict(r).items()
                        if k != "aggregate_id"
                    )
                    for r in rows
                ),
                key=_nulls_last,
            )
        return found

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """The rows of one query, in a read transaction of its own."""
        with self.transaction(commit=False) as cursor:
            cursor.execute(self.sql(sql), params)
            return list(cursor.fetchall())

    def views(self) -> list[View]:
        """Every agreement the read model follows, in the order they were first recorded
        (``ReadModelMismatch`` if a row is not what was written)."""
        rows = self.all("SELECT * FROM {t}ledger_views ORDER BY first_recorded, agreement")
        return [_view(r) for r in rows]

    def idempotent(self, key: str) -> Idempotent | None:
        """The append made with this idempotency key, if there was one."""
        rows = self.all("SELECT * FROM {t}ledger_idempotency WHERE key = ?", (key,))
        if not rows:
            return None
        row = rows[0]
        return Idempotent(
            key=row["key"],
            content=row["content"],
            agreement=row["agreement"],
            first_version=int(row["first_version"]),
            last_version=int(row["last_version"]),
            recorded_at=datetime.fromisoformat(row["recorded_at"]),
        )

    def follows_any(self) -> bool:
        """Whether the read model follows any agreement yet."""
        return bool(self.all("SELECT 1 AS found FROM {t}ledger_views LIMIT 1"))

    def view(self, aggregate_id: uuid.UUID) -> View | None:
        """What the read model knows of one agreement, if it follows it."""
        rows = self.all(
            "SELECT * FROM {t}ledger_views WHERE aggregate_id = ?", (self.aggregate(aggregate_id),)
        )
        return _view(rows[0]) if rows else None

    def view_row(self, aggregate_id: uuid.UUID) -> View | None:
        """One agreement's row as it is, without checking its seal (for ``verify``)."""
        rows = self.all(
            "SELECT * FROM {t}ledger_views WHERE aggregate_id = ?", (self.aggregate(aggregate_id),)
        )
        return _view(rows[0], check=False) if rows else None

    def appends_around(
        self, aggregate_id: uuid.UUID, moment: datetime
    ) -> tuple[Append | None, Append | None]:
        """The last append recorded at or before ``moment``, and the first after it."""
        agg, at = self.aggregate(aggregate_id), micros(moment)
        before = self.all(
            "SELECT * FROM {t}ledger_appends WHERE aggregate_id = ? AND recorded_at <= ? "
            "ORDER BY last_version DESC LIMIT 1",
            (agg, at),
        )
        after = self.all(
            "SELECT * FROM {t}ledger_appends WHERE aggregate_id = ? AND recorded_at > ? "
            "ORDER BY last_version LIMIT 1",
            (agg, at),
        )
        return (
            _append(aggregate_id, before[0]) if before else None,
            _append(aggregate_id, after[0]) if after else None,
        )

    def stale(self, aggregate_id: uuid.UUID, checkpoint: Checkpoint, known: int) -> bool:
        """Whether an append after the checkpoint was written, by version ``known``,
        changed its day or an earlier one (then it no longer holds, whatever its
        ``valid_until`` says)."""
        rows = self.all(
            "SELECT 1 AS found FROM {t}ledger_appends WHERE aggregate_id = ? "
            "AND last_version > ? AND last_version <= ? AND touched <= ? LIMIT 1",
            (self.aggregate(aggregate_id), checkpoint.valid_from, known, checkpoint.on.toordinal()),
        )
        return bool(rows)

    def checkpoint(
        self, aggregate_id: uuid.UUID, on_or_before: date, known: int, *, through: int = 0
    ) -> Checkpoint | None:
        """The latest checkpoint on or before a day that holds at log version ``known``
        (and at every version up to ``through``, if later)."""
        rows = self.all(
            "SELECT day, state, valid_from, valid_until, seal FROM {t}ledger_checkpoints "
            "WHERE aggregate_id = ? AND day <= ? AND valid_from <= ? AND valid_until > ? "
            "ORDER BY day DESC LIMIT 1",
            (
                self.aggregate(aggregate_id),
                on_or_before.toordinal(),
                known,
                max(known, through),
            ),
        )
        return _checkpoint(rows[0]) if rows else None

    def checkpoints(self, aggregate_id: uuid.UUID) -> list[Checkpoint]:
        """Every checkpoint of an agreement, superseded ones included, by day and version."""
        rows = self.all(
            "SELECT day, state, valid_from, valid_until, seal FROM {t}ledger_checkpoints "
            "WHERE aggregate_id = ? ORDER BY day, valid_from",
            (self.aggregate(aggregate_id),),
        )
        return [_checkpoint(r) for r in rows]

    def signatures(self, aggregate_id: uuid.UUID) -> list[SignedHead]:
        """The signed heads of an agreement's appends, oldest first."""
        rows = self.all(
            "SELECT version, digest, recorded_at, key_id, signature FROM {t}ledger_signatures "
            "WHERE aggregate_id = ? ORDER BY version",
            (self.aggregate(aggregate_id),),
        )
        return [
            SignedHead(
                int(r["version"]), r["digest"], r["recorded_at"], r["key_id"], r["signature"]
            )
            for r in rows
        ]

    def latest_rows(self, aggregate_id: uuid.UUID, versions: Sequence[int]) -> dict[int, Row]:
        """The latest row of each of these events (none for a retraction)."""
        found: dict[int, Row] = {}
        for version in versions:
            rows = self.all(
                "SELECT version, visible_from, visible_until, day, opening, seq "
                "FROM {t}ledger_timeline WHERE aggregate_id = ? AND version = ? "
                "ORDER BY visible_from DESC LIMIT 1",
                (self.aggregate(aggregate_id), version),
            )
            if rows:
                found[version] = _row(rows[0])
        return found

    def withdrawn_between(
        self, aggregate_id: uuid.UUID, versions: Sequence[int], after: int, upto: int
    ) -> dict[int, int]:
        """Which of these events stopped being in effect after version ``after`` and by
        ``upto``, and the version of the event that withdrew each."""
        if not versions:
            return {}
        marks = ", ".join("?" for _ in versions)
        rows = self.all(
            "SELECT version, visible_until FROM {t}ledger_timeline WHERE aggregate_id = ? "  # noqa: S608
            f"AND version IN ({marks}) AND visible_until > ? AND visible_until <= ?",
            (self.aggregate(aggregate_id), *versions, after, upto),
        )
        return {int(r["version"]): int(r["visible_until"]) for r in rows}

    def all_rows(self, aggregate_id: uuid.UUID) -> list[tuple[Row, str]]:
        """Every row of an agreement's index with its seal, by version and visible_from."""
        rows = self.all(
            "SELECT version, visible_from, visible_until, day, opening, seq, seal FROM "
            "{t}ledger_timeline WHERE aggregate_id = ? ORDER BY version, visible_from",
            (self.aggregate(aggregate_id),),
        )
        return [(_row(r), r["seal"]) for r in rows]

    def appends(self, aggregate_id: uuid.UUID) -> list[tuple[Append, str]]:
        """Each append with its seal, in order."""
        rows = self.all(
            "SELECT * FROM {t}ledger_appends WHERE aggregate_id = ? ORDER BY last_version",
            (self.aggregate(aggregate_id),),
        )
        return [(_append(aggregate_id, r, check=False), r["seal"]) for r in rows]

    def _events_sql(self) -> str:
        # The events table is the recorder's own name for it, never input.
        return (
            "SELECT t.version, t.visible_from, t.visible_until, t.day, t.opening, t.seq, t.seal, "  # noqa: S608
            f"e.topic, e.state FROM {{t}}ledger_timeline t JOIN {self.events_table} e "
            "ON e.originator_id = t.aggregate_id AND e.originator_version = t.version "
            "WHERE t.aggregate_id = ? "
            "AND (t.day, t.opening, t.seq, t.version, t.visible_from) > (?, ?, ?, ?, ?) "
            "AND t.day <= ? AND t.visible_from <= ? "
            "ORDER BY t.day, t.opening, t.seq, t.version, t.visible_from LIMIT ?"
        )

    def events(
        self,
        aggregate_id: uuid.UUID,
        known: int,
        after: date | None = None,
        until: date | None = None,
    ) -> Iterator[Any]:
        """The events recorded by log version ``known``, dated after ``after`` and up to
        ``until``, in the order of the fold, read a page at a time: rows with the index's
        columns (``version``, ``visible_from``, ``visible_until``, ``day``, ``opening``,
        ``seq``, ``seal``) and the stored event's ``topic`` and ``state``. Rows withdrawn
        by then are among them: the reader checks every row's seal before it leaves one
        out (``in_effect``), so that a row edited to look withdrawn cannot go unseen."""
        agg = self.aggregate(aggregate_id)
        key: tuple[int, ...] = ((after.toordinal() if after else 0), 2, 0, 0, 0)
        last_day = until.toordinal() if until else date.max.toordinal()
        while True:
            rows = self.all(self._events_sql(), (agg, *key, last_day, known, PAGE))
            yield from rows
            if len(rows) < PAGE:
                return
            last = rows[-1]
            key = (last["day"], last["opening"], last["seq"], last["version"], last["visible_from"])

    def stored(self, aggregate_id: uuid.UUID, versions: Sequence[int]) -> list[StoredEvent]:
        """The stored rows of these versions of an agreement's log."""
        if not versions:
            return []
        marks = ", ".join("?" for _ in versions)
        rows = self.all(
            # The events table is the recorder's own name for it, never input.
            f"SELECT originator_version, topic, state FROM {self.events_table} "  # noqa: S608
            f"WHERE originator_id = ? AND originator_version IN ({marks})",
            (self.aggregate(aggregate_id), *versions),
        )
        return [
            StoredEvent(
                originator_id=aggregate_id,
                originator_version=int(r["originator_version"]),
                topic=r["topic"],
                state=bytes(r["state"]),
            )
            for r in rows
        ]


def _nulls_last(row: tuple[Any, ...]) -> tuple[tuple[bool, Any], ...]:
    """A sort key for rows whose columns may be NULL."""
    return tuple((value is None, value if value is not None else 0) for value in row)


def _row(r: Any) -> Row:
    return Row(
        r["version"],
        date.fromordinal(r["day"]),
        r["opening"] == 0,
        r["seq"],
        r["visible_from"],
        r["visible_until"],
    )


def _view(r: Any, *, check: bool = True) -> View:
    view = View(
        agreement=r["agreement"],
        aggregate_id=uuid.UUID(str(r["aggregate_id"])),
        title=r["title"],
        opened_on=date.fromisoformat(r["opened_on"]),
        opened_precision=r["opened_precision"],
        first_recorded=moment_of(int(r["first_recorded"])),
        version=int(r["version"]),
        last_recorded=moment_of(int(r["last_recorded"])),
        digest=r["digest"],
    )
    if check and view.sealed() != r["seal"]:
        raise ReadModelMismatch(f"{view.agreement}: its row in ledger_views is not as written")
    return view


def _append(aggregate_id: uuid.UUID, r: Any, *, check: bool = True) -> Append:
    append = Append(
        last_version=int(r["last_version"]),
        recorded_at=moment_of(int(r["recorded_at"])),
        touched=date.fromordinal(r["touched"]) if r["touched"] is not None else None,
        digest=r["digest"],
    )
    if check and append.sealed(aggregate_id) != r["seal"]:
        raise ReadModelMismatch(
            f"the record of the append ending at version {append.last_version} is not as written"
        )
    return append


def _checkpoint(r: Any) -> Checkpoint:
    return Checkpoint(
        on=date.fromordinal(r["day"]),
        state=bytes(r["state"]),
        valid_from=int(r["valid_from"]),
        valid_until=int(r["valid_until"]),
        seal=r["seal"],
    )
