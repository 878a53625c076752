"""Read-only SQL over a store (``ledger sql``): the analyst's way in.

The query runs on a connection of its own that cannot write: a SQLite file is opened by
SQLite itself as read-only (``mode=ro``) and an authorizer lets a statement read tables
and call functions and nothing else (no ``ATTACH``, no ``PRAGMA``, no writes); a
PostgreSQL store is read in a read-only transaction, with the store's schema first on
the search path, and only a statement that starts as a query is sent at all. One
statement, which must return rows; everything else is refused before anything runs, or
by the database, as an ``InputError`` in one line.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from typing import Any
from urllib.parse import quote

import attrs

from ledger.adapters.store import StoreLocation
from ledger.errors import InputError, StoreError

# What a query may start with, once comments and blanks are skipped.
_QUERY_START = re.compile(r"^(select|with|values|table)\b", re.IGNORECASE)
_COMMENTS = re.compile(r"^(\s+|--[^\n]*(\n|$)|/\*.*?\*/|\()+", re.DOTALL)
# The authorizer's codes for reading (the stdlib names them from Python 3.12 on).
_SQLITE_READS = frozenset(
    {
        sqlite3.SQLITE_SELECT,
        sqlite3.SQLITE_READ,
        sqlite3.SQLITE_FUNCTION,
        33,  # SQLITE_RECURSIVE: a recursive common table expression
    }
)


@attrs.frozen
class Answer:
    """A query's column names and rows, in the order the database returned them."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


def run_query(location: StoreLocation, query: str) -> Answer:
    """The answer to one read-only ``query`` on the store at ``location``.

    Raises ``InputError`` (one line) for anything but a single query, or when the
    database refuses it; ``StoreError`` when the store cannot be opened."""
    text = query.strip().rstrip(";").strip()
    if not text:
        raise InputError("sql: expected a query (SELECT …), got nothing")
    if not _QUERY_START.match(_COMMENTS.sub("", text)):
        first = _COMMENTS.sub("", text).split(None, 1)[0] if text else ""
        raise InputError(
            f"sql: expected a query (SELECT, WITH, VALUES or TABLE), got {first!r}: "
            "the store is read-only here"
        )
    if location.is_postgres:
        return _postgres(location, text)
    if location.is_memory:
        raise InputError("sql: the in-memory store has no tables to query outside its process")
    return _sqlite(location, text)


def _sqlite(location: StoreLocation, text: str) -> Answer:
    if not location.exists():
        raise StoreError(f"no ledger store at {location.display()}: create it with `ledger init`")
    uri = f"file:{quote(str(location.path.resolve()))}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
    except sqlite3.Error as error:
        raise StoreError(f"cannot open {location.display()}: {error}") from None
    with closing(connection):
        connection.set_authorizer(_reads_only)
        try:
            cursor = connection.execute(text)
            return _answer(cursor.description, cursor.fetchall())
        except sqlite3.Warning as error:  # more than one statement
            raise InputError(f"sql: {_one_line(error)}") from None
        except sqlite3.DatabaseError as error:
            raise InputError(f"sql: {_explained(_one_line(error))}") from None


def _reads_only(action: int, *_args: object) -> int:
    return sqlite3.SQLITE_OK if action in _SQLITE_READS else sqlite3.SQLITE_DENY


def _explained(message: str) -> str:
    if message == "not authorized":
        return "only queries may run here: the store is read-only (not authorized)"
    return message


def _postgres(location: StoreLocation, text: str) -> Answer:
    import psycopg

    with _read_only_session(location) as connection:
        try:
            cursor = connection.execute(text, prepare=False)
            rows = cursor.fetchall() if cursor.description else []
            return _answer(cursor.description, rows)
        except psycopg.Error as error:
            raise InputError(f"sql: {_one_line(error)}") from None


@contextmanager
def _read_only_session(location: StoreLocation) -> Iterator[Any]:
    import psycopg

    settings = location.env()
    schema = settings.get("POSTGRES_SCHEMA", "public")
    try:
        connection = psycopg.connect(
            host=settings["POSTGRES_HOST"],
            port=settings["POSTGRES_PORT"],
            dbname=settings["POSTGRES_DBNAME"],
            user=settings["POSTGRES_USER"] or None,
            password=settings["POSTGRES_PASSWORD"] or None,
            connect_timeout=5,
            options=f"-c default_transaction_read_only=on -c search_path={schema}",
        )
    except psycopg.Error as error:
        raise StoreError(f"cannot reach {location.display()}: {_one_line(error)}") from None
    with closing(connection):
        connection.read_only = True
        try:
            yield connection
        finally:
            connection.rollback()


def _answer(description: Sequence[Sequence[Any]] | None, rows: Sequence[Any]) -> Answer:
    if not description:
        raise InputError("sql: expected a query that returns rows")
    return Answer(tuple(str(column[0]) for column in description), tuple(map(tuple, rows)))


def _one_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
