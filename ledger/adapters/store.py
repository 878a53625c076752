"""Where the events live: a store location to the library's persistence settings."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import importlib.util
import os
import re
import sqlite3
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import attrs

from ledger.errors import InputError, StoreError, shown
from ledger.readmodel.recorders import POSTGRES_RECORDER_TOPIC, SQLITE_RECORDER_TOPIC

DEFAULT_STORE = "ledger.sqlite"
MEMORY = "memory:"
# psycopg's smallest connect timeout; the library's pool, left to find out alone, takes
# its own timeout and retries (6-7 s) to fail.
PROBE_SECONDS = 2
# What psycopg says before the reason, which the probe's message says in its own words.
_PSYCOPG_PREAMBLE = re.compile(
    r'^(connection failed: )?(connection to server at "[^"]*"( \([^)]*\))?, port \d+ failed: )?'
    r"(FATAL: +)?"
)
SQLITE_SCHEME = "sqlite://"
# A schema name as PostgreSQL folds it and every statement can use it unquoted.
_SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,62}")


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
        """The SQLite file: the store as a path, or a ``sqlite://`` URL's path as written
        after the scheme — ``sqlite:///abs/ledger.sqlite`` is ``/abs/ledger.sqlite``,
        ``sqlite://ledger.sqlite`` is ``ledger.sqlite`` in the current directory."""
        return Path(self.url.removeprefix(SQLITE_SCHEME))

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
            raise InputError(
                f"the store {self.url} is a directory: name a file inside it "
                f"(e.g. {self.path / DEFAULT_STORE})"
            )
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
        """Remove this SQLite file, its journals and its writers' lock file (only ever
        called on a staged file, which no other process knows of)."""
        for suffix in ("", "-wal", "-shm", "-journal", "-lock"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    @contextlib.contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Hold the lock writers of this SQLite file take turns on: a kernel lock on the
        file ``<store>-lock`` beside it (released by the kernel if the process dies; the
        file stays, like SQLite's ``-shm``). A ``file:`` URI (a store opened read-only,
        say) has no lock file: SQLite arbitrates alone."""
        if self.url.startswith("file:"):
            yield
            return
        descriptor = os.open(f"{self.path}-lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # closing the file releases the lock

    def display(self) -> str:
        """The location for messages, without any password."""
        if not self.is_postgres:
            return self.url
        parts = urlsplit(self.url)
        user = f"{parts.username}@" if parts.username else ""
        port = f":{parts.port}" if parts.port else ""
        query = f"?{parts.query}" if parts.query else ""
        return f"{parts.scheme}://{user}{parts.hostname}{port}{parts.path}{query}"

    def probe(self) -> None:
        """Connect to a PostgreSQL store once, with a short timeout, so that an unreachable
        server or a wrong database fails at once, naming host, port and database."""
        if not self.is_postgres:
            return
        _postgres_recorder()  # psycopg must be there
        import psycopg

        settings = self.env()
        where = (
            f"{settings['POSTGRES_HOST']}:{settings['POSTGRES_PORT']}/{settings['POSTGRES_DBNAME']}"
        )
        try:
            psycopg.connect(
                host=settings["POSTGRES_HOST"],
                port=settings["POSTGRES_PORT"],
                dbname=settings["POSTGRES_DBNAME"],
                user=settings["POSTGRES_USER"] or None,
                password=settings["POSTGRES_PASSWORD"] or None,
                connect_timeout=PROBE_SECONDS,
            ).close()
        except psycopg.Error as error:
            lines = str(error).strip().splitlines() or [type(error).__name__]
            reason = _PSYCOPG_PREAMBLE.sub("", lines[0].strip()) or lines[0]
            user = f" as user {settings['POSTGRES_USER']}" if settings["POSTGRES_USER"] else ""
            raise StoreError(f"cannot reach PostgreSQL at {where}{user}: {reason}") from None

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
                "APPLICATION_RECORDER_TOPIC": SQLITE_RECORDER_TOPIC,
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
            raise InputError(
                f"expected only ?schema=NAME in the store URL, got {shown(unknown[0])}"
            )
        schema = {"POSTGRES_SCHEMA": _schema(options["schema"])} if "schema" in options else {}
        return schema | {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": database,
            "POSTGRES_HOST": parts.hostname,
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or ""),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_POOL_TIMEOUT": "5",
            "APPLICATION_RECORDER_TOPIC": _postgres_recorder(),
        }


def _schema(given: list[str]) -> str:
    """The one schema a store URL names, if PostgreSQL and every statement can use it
    as it is (the library's own statements name it unquoted)."""
    if len(given) > 1:
        raise InputError(f"expected one ?schema=NAME in the store URL, got {len(given)}")
    if not _SCHEMA.fullmatch(given[0]):
        raise InputError(
            "expected a schema name of lower-case letters, digits and '_' (at most 63, "
            f"not starting with a digit) in the store URL, got {shown(given[0])}"
        )
    return given[0]


def _postgres_recorder() -> str:
    """The PostgreSQL recorder's topic, once psycopg is known to be there."""
    if importlib.util.find_spec("psycopg") is None:
        raise StoreError("PostgreSQL stores need psycopg: pip install 'contract-ledger[postgres]'")
    return POSTGRES_RECORDER_TOPIC
