"""eventsourcing's recorders, writing the read model in the events' own transaction.

Both are the library's application recorders with two additions: the read model's
tables are created with the events table (and dropped and recreated when their schema
version differs, since they are rebuilt from the log), and ``insert_events`` takes a
``read_model`` keyword (a ``ReadModelWrite``) that is written with the same cursor as
the events — the library's own place for writes that must commit with them (its
process recorders pass ``tracking`` the same way).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from ledger.domain.heads import SignedHead
from ledger.readmodel.sql import SCHEMA_VERSION, ReadModelWrite, Tables

# Topics are where eventsourcing finds the classes: module paths, resolved on use.
SQLITE_RECORDER_TOPIC = "ledger.readmodel.recorders:SQLiteLedgerRecorder"
POSTGRES_RECORDER_TOPIC = "ledger.readmodel.postgres:PostgresLedgerRecorder"


class SQLiteLedgerRecorder(SQLiteApplicationRecorder):
    """The library's SQLite recorder, with the read model beside the events."""

    def __init__(
        self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"
    ) -> None:
        self.tables = Tables(
            postgres=False,
            events_table=events_table_name,
            prefix="",
            transaction=datastore.transaction,
        )
        super().__init__(datastore, events_table_name)

    def _create_table(self, c: SQLiteCursor) -> None:
        # Nothing is written when the tables are there at this version, so that a store
        # can be opened read-only.
        if self.tables.schema_version(c) == SCHEMA_VERSION:
            return
        # Building it writes: take the write lock first, then look again. A transaction
        # that has read cannot wait for another process building it at the same moment
        # (SQLite refuses that upgrade at once: "database is locked"); BEGIN IMMEDIATE
        # waits its turn, and then finds the read model built.
        c.execute("ROLLBACK")
        c.execute("BEGIN IMMEDIATE")
        if self.tables.schema_version(c) == SCHEMA_VERSION:
            return
        for statement in self.tables.drop_statements():
            c.execute(statement)
        super()._create_table(c)
        c.execute(self.tables.stamp_statement())

    def construct_create_table_statements(self) -> list[str]:
        """The events table, the signed heads, then the read model's tables."""
        return (
            super().construct_create_table_statements()
            + self.tables.durable_statements()
            + self.tables.create_statements()
        )

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        write_read_model(self.tables, c, kwargs)
        return ids


def write_read_model(tables: Tables, cursor: Any, kwargs: dict[str, Any]) -> None:
    """Write the ``read_model`` and ``head_signature`` keywords of an insert, if given."""
    change = kwargs.get("read_model")
    if isinstance(change, ReadModelWrite):
        tables.write(cursor, change)
    signed = kwargs.get("head_signature")
    if isinstance(signed, SignedHead) and isinstance(change, ReadModelWrite):
        tables.sign(cursor, change.aggregate_id, signed)
