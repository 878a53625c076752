"""Where the events live: a store location to the library's persistence settings."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import attrs

from ledger.errors import InputError

DEFAULT_STORE = "ledger.sqlite"
MEMORY = "memory:"


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

    def exists(self) -> bool:
        """Whether there is a store to read (a PostgreSQL server is asked on connect)."""
        return self.is_postgres or self.is_memory or self.path.is_file()

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
        if self.is_memory:
            return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
        if not self.is_postgres:
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.path),
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        parts = urlsplit(self.url)
        database = parts.path.lstrip("/")
        if not parts.hostname or not database:
            raise InputError(
                f"expected a store URL like postgresql://user@host:5432/database, got {self.display()!r}"
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
        }
