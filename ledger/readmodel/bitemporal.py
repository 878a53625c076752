"""The bitemporal tables: one row per version of one fact of an agreement, with its valid
interval on the effective axis and its recorded interval on the transaction axis.

They are public interface (the README documents every column), written in the events'
own transaction and rebuilt with the rest of the read model. Every value is text in its
plain form, so that one query runs alike on SQLite, PostgreSQL and DuckDB: dates
``YYYY-MM-DD``, recording times ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (fixed width, so they sort
as text), decimals as written, lists and terms as JSON. A row is valid on D when
``valid_from <= D < valid_to`` and was believed at T when
``recorded_from <= T < recorded_to``; ``9999-12-31`` and ``9999-12-31T23:59:59.999999Z``
mean "not ended". Each table has a ``<table>_now`` view of what is believed now.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from ledger.domain.versions import COLUMNS, END, Fact, Reconciled, Version

if TYPE_CHECKING:
    from ledger.readmodel.sql import Tables

TABLES = tuple(COLUMNS)
VIEWS = tuple(f"{table}_now" for table in TABLES)
OPEN_TEXT = "9999-12-31T23:59:59.999999Z"  # recorded_to of a row still believed
END_TEXT = END.isoformat()
CHUNK = 200  # facts per look-up of their current versions


def moment_text(moment: datetime) -> str:
    """A recording time as the tables hold it (UTC, microseconds, fixed width)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _columns(table: str) -> tuple[str, ...]:
    keys, values = COLUMNS[table]
    return ("agreement", *keys, *values, "valid_from", "valid_to", "recorded_from", "recorded_to")


def create_statements(tables: Tables) -> list[str]:
    """The tables, their indexes and their ``_now`` views (idempotent)."""
    ident = "uuid" if tables.postgres else "TEXT"
    statements = []
    for table in TABLES:
        keys, values = COLUMNS[table]
        columns = ", ".join(
            [f"aggregate_id {ident} NOT NULL", "agreement TEXT NOT NULL"]
            + [f"{name} TEXT NOT NULL" for name in keys]
            + [f"{name} TEXT" for name in values]
            + [
                f"{name} TEXT NOT NULL"
                for name in ("valid_from", "valid_to", "recorded_from", "recorded_to")
            ]
        )
        primary = ", ".join(("aggregate_id", *keys, "valid_from", "recorded_from"))
        statements += [
            tables.sql(
                f"CREATE TABLE IF NOT EXISTS {{t}}{table} ({columns}, PRIMARY KEY ({primary}))"
            ),
            tables.sql(
                f"CREATE INDEX IF NOT EXISTS {table}_starting ON {{t}}{table} "
                "(aggregate_id, recorded_to, valid_from)"
            ),
            tables.sql(
                f"CREATE INDEX IF NOT EXISTS {table}_ending ON {{t}}{table} "
                "(aggregate_id, recorded_to, valid_to)"
            ),
            tables.sql(
                f"CREATE VIEW IF NOT EXISTS {{t}}{table}_now AS SELECT "  # noqa: S608
                f"{', '.join(_columns(table)[:-2])} FROM {{t}}{table} "
                f"WHERE recorded_to = '{OPEN_TEXT}'"
            )
            if not tables.postgres
            else tables.sql(
                f"CREATE OR REPLACE VIEW {{t}}{table}_now AS SELECT "  # noqa: S608
                f"{', '.join(_columns(table)[:-2])} FROM {{t}}{table} "
                f"WHERE recorded_to = '{OPEN_TEXT}'"
            ),
        ]
    # The portfolio's questions start from a kind, a holder, an investor, or an end.
    for table, columns in (
        ("clause_versions", "kind, valid_to, valid_from"),
        ("clause_versions", "valid_to, recorded_to"),
        ("stake_versions", "holder, valid_to"),
        ("investment_totals", "investor, valid_to"),
    ):
        name = f"{table}_by_{columns.split(',')[0]}"
        statements.append(
            tables.sql(f"CREATE INDEX IF NOT EXISTS {name} ON {{t}}{table} ({columns})")
        )
    return statements


def drop_statements(tables: Tables) -> list[str]:
    """The views, then the tables (they are rebuilt from the log)."""
    return [tables.sql(f"DROP VIEW IF EXISTS {{t}}{view}") for view in VIEWS] + [
        tables.sql(f"DROP TABLE IF EXISTS {{t}}{table}") for table in TABLES
    ]


def write(
    tables: Tables, cursor: Any, agg: Any, agreement: str, recorded: datetime, change: Reconciled
) -> None:
    """Close the versions an append no longer believes and open its new ones, as of its
    recording time, with ``cursor`` (the events' transaction)."""
    at = moment_text(recorded)
    for version in change.closed:
        keys, _ = COLUMNS[version.table]
        where = "".join(f" AND {name} = ?" for name in keys)
        cursor.execute(
            tables.sql(
                f"UPDATE {{t}}{version.table} SET recorded_to = ? "  # noqa: S608
                f"WHERE aggregate_id = ?{where} AND valid_from = ? AND recorded_to = ?"
            ),
            (at, agg, *version.key, version.valid_from.isoformat(), OPEN_TEXT),
        )
    by_table: dict[str, list[tuple[Any, ...]]] = {}
    for version in change.opened:
        by_table.setdefault(version.table, []).append(
            (
                agg,
                agreement,
                *version.key,
                *version.values,
                version.valid_from.isoformat(),
                version.valid_to.isoformat(),
                at,
                OPEN_TEXT,
            )
        )
    for table, rows in by_table.items():
        marks = ", ".join("?" for _ in range(len(_columns(table)) + 1))
        cursor.executemany(
            tables.sql(f"INSERT INTO {{t}}{table} VALUES ({marks})"),  # noqa: S608
            rows,
        )


def believed(
    tables: Tables, aggregate_id: uuid.UUID, start: date, facts: Iterable[Fact]
) -> list[Version]:
    """The believed versions ``reconcile`` needs for an append from ``start``: those that
    begin on or after it, those that end on or after it (before ``END``), and for
    ``facts`` and every fact found so, the version valid on the day before."""
    agg, day = tables.aggregate(aggregate_id), start.isoformat()
    found: dict[tuple[Fact, date], Version] = {}
    for table in TABLES:
        # Two range scans, one per index, rather than an OR the planner may scan for.
        for condition, params in (
            ("valid_from >= ?", (day,)),
            ("valid_to >= ? AND valid_to < ?", (day, END_TEXT)),
        ):
            rows = tables.all(
                f"SELECT * FROM {{t}}{table} WHERE aggregate_id = ? AND recorded_to = ? "  # noqa: S608
                f"AND {condition}",
                (agg, OPEN_TEXT, *params),
            )
            for version in _versions(table, rows):
                found[(version.fact, version.valid_from)] = version
    wanted = sorted({*facts, *(fact for fact, _ in found)})
    for table in TABLES:
        keys, _ = COLUMNS[table]
        mine = [fact[1:] for fact in wanted if fact[0] == table]
        for chunk in _chunks(mine):
            one = " AND ".join(f"{name} = ?" for name in keys) or "1 = 1"
            match = " OR ".join(f"({one})" for _ in chunk)
            rows = tables.all(
                f"SELECT * FROM {{t}}{table} WHERE aggregate_id = ? AND recorded_to = ? "  # noqa: S608
                f"AND valid_from < ? AND valid_to >= ? AND ({match})",
                (agg, OPEN_TEXT, day, day, *(value for key in chunk for value in key)),
            )
            for version in _versions(table, rows):
                found[(version.fact, version.valid_from)] = version
    return list(found.values())


def _chunks(keys: Sequence[tuple[str, ...]]) -> Iterator[Sequence[tuple[str, ...]]]:
    for index in range(0, len(keys), CHUNK):
        yield keys[index : index + CHUNK]


def _versions(table: str, rows: Iterable[Any]) -> Iterator[Version]:
    keys, values = COLUMNS[table]
    for row in rows:
        yield Version(
            (table, *(row[name] for name in keys)),
            tuple(row[name] for name in values),
            date.fromisoformat(row["valid_from"]),
            date.fromisoformat(row["valid_to"]),
        )
