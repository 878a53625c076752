"""Where the events live: a store location to the library's persistence settings."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import sqlite3
import stat
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import attrs
from eventsourcing.persistence import StoredEvent

from ledger.adapters.checkpoints import IndexStore
from ledger.errors import InputError, StoreError

DEFAULT_STORE = "ledger.sqlite"
MEMORY = "memory:"
# The topic under which eventsourcing finds the ledger's PostgreSQL recorder (see
# ``_register_postgres_recorder``): the library's own, creating its tables once.
POSTGRES_RECORDER_TOPIC = "ledger.adapters.store:CreateOnceRecorder"
SQLITE_RECORDER_TOPIC = "ledger.adapters.store:IndexedSQLiteRecorder"


@attrs.frozen
class StoreLocation:
    """A store: an embedded SQLite file, a PostgreSQL database, or memory."""

    url: str

    @classmethod
    def resolve(cls, given: str | os.PathLike[str] | None = None) -> StoreLocation:
        """The store named by ``given``, else ``$LEDGER_STORE``, else ``./ledger.sqlite``."""
        chosen = given if given is not None else os.environ.get("LEDGER_STORE") or DEFAULT_STORE
        return cls(os.fspath(chosen))

    @property
    def is_postgres(self) -> bool:
        """Whether this is a PostgreSQL URL."""
        return self.url.startswith(("postgresql://", "postgres://"))

    @property
    def is_memory(self) -> bool:
        """Whether this is the in-memory store (tests and what-ifs)."""
        return self.url == MEMORY

    @property
    def path(self) -> Path:
        """The SQLite file."""
        return Path(self.url.removeprefix("sqlite:///").removeprefix("sqlite://"))

    @property
    def is_file(self) -> bool:
        """Whether this is an embedded SQLite file (not memory, not a server)."""
        return not (self.is_postgres or self.is_memory)

    def exists(self) -> bool:
        """Whether there is a store to read (a PostgreSQL server is asked on connect).

        Raises ``InputError`` when the path names something that cannot be a store (a
        directory, a device), before anything is created beside it.
        """
        if not self.is_file:
            return True
        try:
            mode = self.path.stat().st_mode
        except FileNotFoundError:
            return False
        except OSError as error:
            raise StoreError(f"cannot use the store {self.url}: {error.strerror}") from None
        if stat.S_ISDIR(mode):
            raise InputError(f"the store {self.url} is a directory: name a file inside it")
        if not stat.S_ISREG(mode):
            raise InputError(f"the store {self.url} is not a regular file")
        return True

    def staged(self) -> StoreLocation:
        """A new, unused SQLite file beside this one, to build a store in before it is
        published under this name (``publish``)."""
        name = f".{self.path.name}.creating-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        return StoreLocation(str(self.path.with_name(name)))

    def publish(self, staged: StoreLocation) -> bool:
        """Give the finished store ``staged`` this location's name, unless a store appeared
        under it meanwhile; whether it did. ``staged`` must be closed.

        A hard link is atomic and never replaces a file, so a store another process
        created is never overwritten. Its write-ahead log is folded into the file first,
        since the log's name follows the file's (the file stays in WAL mode, so the first
        reader does not rewrite its header).
        """
        with contextlib.closing(sqlite3.connect(staged.path)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        try:
            os.link(staged.path, self.path)
        except FileExistsError:
            return False
        except OSError as error:
            if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                raise StoreError(f"cannot create the store {self.url}: {error.strerror}") from None
            # No hard links on this filesystem: a rename is atomic too, but replaces a file
            # that appears in the instant between this check and the rename.
            if self.path.exists():
                return False
            os.replace(staged.path, self.path)
        return True

    def discard(self) -> None:
        """Remove this SQLite file and its journals (only ever called on a staged file,
        which no other process knows of)."""
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def display(self) -> str:
        """The location for messages, without any password."""
        if not self.is_postgres:
            return self.url
        parts = urlsplit(self.url)
        user = f"{parts.username}@" if parts.username else ""
        port = f":{parts.port}" if parts.port else ""
        query = f"?{parts.query}" if parts.query else ""
        return f"{parts.scheme}://{user}{parts.hostname}{port}{parts.path}{query}"

    def env(self) -> dict[str, str]:
        """The eventsourcing environment that selects and configures this store."""
        if not self.is_postgres:
            # Memory is SQLite too (a private in-memory database), so every store has the
            # timeline index and checkpoints.
            name = f"file:ledger-{uuid.uuid4().hex}?mode=memory&cache=shared"
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": name if self.is_memory else str(self.path),
                "SQLITE_LOCK_TIMEOUT": "30",
                "APPLICATION_RECORDER_TOPIC": _register_sqlite_recorder(),
            }
        parts = urlsplit(self.url)
        database = parts.path.lstrip("/")
        if not parts.hostname or not database:
            raise InputError(
                "expected a store URL like postgresql://user@host:5432/database, "
                f"got {self.display()!r}"
            )
        options = parse_qs(parts.query)
        unknown = sorted(set(options) - {"schema"})
        if unknown:
            raise InputError(f"expected only ?schema=NAME in the store URL, got {unknown[0]!r}")
        schema = {"POSTGRES_SCHEMA": options["schema"][0]} if "schema" in options else {}
        return schema | {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": database,
            "POSTGRES_HOST": parts.hostname,
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or ""),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_POOL_TIMEOUT": "5",
            "APPLICATION_RECORDER_TOPIC": _register_postgres_recorder(),
        }


@functools.cache
def _register_sqlite_recorder() -> str:
    """Register (once) the SQLite recorder that writes the index with the events."""
    from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
    from eventsourcing.utils import register_topic

    class IndexedSQLiteRecorder(SQLiteApplicationRecorder):
        """The library's SQLite recorder; the index and checkpoints commit with the events."""

        def __init__(
            self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"
        ) -> None:
            self.index = IndexStore(
                postgres=False,
                events_table=events_table_name,
                prefix="",
                transaction=datastore.transaction,
            )
            super().__init__(datastore, events_table_name)

        def construct_create_table_statements(self) -> list[str]:
            return super().construct_create_table_statements() + self.index.create_statements()

        def _insert_events(
            self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
        ) -> Sequence[int] | None:
            ids = super()._insert_events(c, stored_events, **kwargs)
            change = kwargs.get("index")
            if change is not None:
                self.index.write(c, change)
            return ids

    register_topic(SQLITE_RECORDER_TOPIC, IndexedSQLiteRecorder)
    return SQLITE_RECORDER_TOPIC


@functools.cache
def _register_postgres_recorder() -> str:
    """Register (once) the recorder that creates the PostgreSQL tables under a lock.

    eventsourcing runs ``CREATE TYPE``, ``CREATE TABLE IF NOT EXISTS`` and ``CREATE OR
    REPLACE FUNCTION`` every time an application starts. Processes starting at once then
    collide in PostgreSQL's catalogue ("tuple concurrently updated", duplicate key in
    ``pg_type``). This recorder takes a transaction-level advisory lock first and runs
    those statements only when the events table is missing, so the first process to
    start creates the schema and the others (and readers without DDL rights) just use it.
    Imported lazily: psycopg is only needed for PostgreSQL stores (the ``postgres`` extra).
    """
    from eventsourcing.utils import register_topic

    try:
        import psycopg
        from eventsourcing.persistence import OperationalError
        from eventsourcing.postgres import PostgresApplicationRecorder
        from psycopg.errors import DuplicateObject
    except ImportError:
        raise StoreError(
            "PostgreSQL stores need psycopg: pip install 'contract-ledger[postgres]'"
        ) from None

    class CreateOnceRecorder(PostgresApplicationRecorder):
        """The library's PostgreSQL recorder; its tables are created once, under a lock,
        and the index and checkpoints commit with the events."""

        def __init__(self, datastore: Any, **kwargs: Any) -> None:
            schema = _quoted(datastore.schema)
            table = kwargs.get("events_table_name", "stored_events")
            self.index = IndexStore(
                postgres=True,
                events_table=f"{schema}.{_quoted(table)}",
                prefix=f"{schema}.",
                transaction=datastore.transaction,
            )
            try:
                super().__init__(datastore, **kwargs)
            except OperationalError as error:
                raise _explained(datastore, error) from None

        def create_table(self) -> None:
            try:
                self._create_once()
            except OperationalError as error:
                raise _explained(self.datastore, error) from None

        def _create_once(self) -> None:
            schema = self.datastore.schema
            qualified = f"{_quoted(schema)}.{_quoted(self.events_table_name)}"
            with self.datastore.transaction(commit=True) as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))",
                    (f"contract-ledger create {qualified}",),
                )
                cursor.execute("SELECT to_regclass(%s) AS found", (qualified,))
                row: Any = cursor.fetchone()
                if row is None or row["found"] is None:
                    for statement in self.sql_create_statements:
                        try:
                            with cursor.connection.transaction():  # a savepoint
                                cursor.execute(statement, prepare=False)
                        except DuplicateObject:  # a type left behind by a dropped table
                            continue
                cursor.execute(
                    "SELECT to_regclass(%s) AS found", (f"{_quoted(schema)}.ledger_checkpoints",)
                )
                row = cursor.fetchone()
                if row is None or row["found"] is None:  # a store from before the index
                    for ddl in self.index.create_statements():
                        cursor.execute(ddl, prepare=False)
            self.datastore.register_type_adapters()

        def _insert_events(
            self,
            curs: Any,
            stored_events: Sequence[StoredEvent],  # noqa: ARG002 - the library's signature
            **kwargs: Any,
        ) -> None:
            change = kwargs.get("index")
            if change is not None:
                self.index.write(curs, change)

    def _explained(datastore: Any, error: Exception) -> Exception:
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

    register_topic(POSTGRES_RECORDER_TOPIC, CreateOnceRecorder)
    return POSTGRES_RECORDER_TOPIC


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
