"""The PostgreSQL recorder (imported only for PostgreSQL stores: psycopg is the
``postgres`` extra).

eventsourcing runs ``CREATE TYPE``, ``CREATE TABLE IF NOT EXISTS`` and ``CREATE OR
REPLACE FUNCTION`` every time an application starts. Processes starting at once then
collide in PostgreSQL's catalogue ("tuple concurrently updated", duplicate key in
``pg_type``). This recorder takes a transaction-level advisory lock first and runs those
statements only when the events table is missing, so the first process to start creates
the schema and the others (and readers without DDL rights) just use it; the read model's
tables are created, or replaced when their schema version differs, under the same lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.errors import DuplicateObject

from ledger.readmodel.recorders import write_read_model
from ledger.readmodel.sql import SCHEMA_VERSION, Tables


def quoted(identifier: str) -> str:
    """An SQL identifier, quoted."""
    return '"' + identifier.replace('"', '""') + '"'


class PostgresLedgerRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder; its tables are created once, under a lock,
    and the read model commits with the events."""

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        schema = quoted(datastore.schema)
        table = kwargs.get("events_table_name", "stored_events")
        self.tables = Tables(
            postgres=True,
            events_table=f"{schema}.{quoted(table)}",
            prefix=f"{schema}.",
            transaction=datastore.transaction,
        )
        try:
            super().__init__(datastore, **kwargs)
        except OperationalError as error:
            raise explained(datastore, error) from None

    def create_table(self) -> None:
        """Create the events' and the read model's tables once, under a lock."""
        try:
            self._create_once()
        except OperationalError as error:
            raise explained(self.datastore, error) from None

    def _create_once(self) -> None:
        schema = self.datastore.schema
        qualified = f"{quoted(schema)}.{quoted(self.events_table_name)}"
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))",
                (f"contract-ledger create {qualified}",),
                prepare=False,
            )
            cursor.execute("SELECT to_regclass(%s) AS found", (qualified,), prepare=False)
            row: Any = cursor.fetchone()
            if row is None or row["found"] is None:
                for statement in self.sql_create_statements:
                    try:
                        with cursor.connection.transaction():  # a savepoint
                            cursor.execute(statement, prepare=False)
                    except DuplicateObject:  # a type left behind by a dropped table
                        continue
            if self.tables.schema_version(cursor) != SCHEMA_VERSION:
                statements = (
                    self.tables.drop_statements()
                    + self.tables.durable_statements()
                    + self.tables.create_statements()
                )
                for ddl in (*statements, self.tables.stamp_statement()):
                    cursor.execute(ddl, prepare=False)
        self.datastore.register_type_adapters()

    def _insert_events(
        self,
        curs: Any,
        stored_events: Sequence[StoredEvent],  # noqa: ARG002 - the library's signature
        **kwargs: Any,
    ) -> None:
        write_read_model(self.tables, curs, kwargs)


def explained(datastore: Any, error: Exception) -> Exception:
    """The pool only says it "couldn't get a connection": ask the server why."""
    settings = dict(datastore.pool.kwargs or {})
    settings.pop("row_factory", None)
    try:
        psycopg.connect(**settings, connect_timeout=5).close()
    except psycopg.Error as refusal:
        lines = str(refusal).strip().splitlines()
        if lines:
            return OperationalError(lines[0])
    return error
