"""The portfolio's questions, answered from the bitemporal tables in one query each,
whatever the number of agreements: which clauses of a kind were in force on D, which end
within a window after D, and what a party holds on D — each as known at T."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson

from ledger.domain.portfolio import ClauseOn, Ending, Invested, StakeHeld
from ledger.readmodel.bitemporal import END_TEXT, moment_text
from ledger.readmodel.sql import Tables

# A row valid on D (``?`` twice) and believed at T (``?`` twice).
_ON_AND_KNOWN = "valid_from <= ? AND valid_to > ? AND recorded_from <= ? AND recorded_to > ?"


def _believed_on(
    tables: Tables, table: str, column: str, value: str, on: date, known_at: datetime, order: str
) -> list[Any]:
    """The rows of ``table`` whose ``column`` is ``value``, valid on ``on`` and believed
    at ``known_at``, in every agreement, by ``order``."""
    at = moment_text(known_at)
    return tables.all(
        # The table and column names are this module's own, never input.
        f"SELECT * FROM {{t}}{table} WHERE {column} = ? AND {_ON_AND_KNOWN} "  # noqa: S608
        f"ORDER BY {order}",
        (value, on.isoformat(), on.isoformat(), at, at),
    )


def clauses_of_kind(tables: Tables, kind: str, on: date, known_at: datetime) -> list[ClauseOn]:
    """The clauses of ``kind`` in force on ``on`` in every agreement, as known then."""
    rows = _believed_on(
        tables, "clause_versions", "kind", kind, on, known_at, "agreement, clause_id"
    )
    return [_clause(row) for row in rows]


def ending(tables: Tables, on: date, days: int, known_at: datetime) -> list[Ending]:
    """The clauses whose last day in force falls from ``on`` to ``days`` days after it,
    in every agreement, as known at ``known_at``: versions ending then that nothing
    continues (an amendment's next version does)."""
    at = moment_text(known_at)
    first, last = on + timedelta(days=1), on + timedelta(days=days + 1)
    rows = tables.all(
        "SELECT r.* FROM {t}clause_versions r WHERE r.valid_to >= ? AND r.valid_to <= ? "
        "AND r.valid_to < ? AND r.recorded_from <= ? AND r.recorded_to > ? AND NOT EXISTS ("
        "SELECT 1 FROM {t}clause_versions s WHERE s.aggregate_id = r.aggregate_id "
        "AND s.clause_id = r.clause_id AND s.valid_from = r.valid_to "
        "AND s.recorded_from <= ? AND s.recorded_to > ?) "
        "ORDER BY r.valid_to, r.agreement, r.clause_id",
        (first.isoformat(), last.isoformat(), END_TEXT, at, at, at, at),
    )
    terminations = _terminations(tables, {row["agreement"] for row in rows}, at)
    found = []
    for row in rows:
        clause = _clause(row)
        ended = date.fromisoformat(row["valid_to"])
        last_day = ended - timedelta(days=1)
        if clause.until == last_day:
            why = "until"
        elif (row["agreement"], row["valid_to"]) in terminations:
            why = "terminated"
        else:
            why = "removed"
        found.append(Ending(clause, last_day, why))
    return found


def _terminations(tables: Tables, agreements: Iterable[str], at: str) -> set[tuple[str, str]]:
    names = sorted(agreements)
    if not names:
        return set()
    marks = ", ".join("?" for _ in names)
    rows = tables.all(
        "SELECT agreement, terminated_on FROM {t}terminations "  # noqa: S608
        f"WHERE agreement IN ({marks}) AND recorded_from <= ? AND recorded_to > ?",
        (*names, at, at),
    )
    return {(row["agreement"], row["terminated_on"]) for row in rows}


def stakes_of(tables: Tables, holder: str, on: date, known_at: datetime) -> list[StakeHeld]:
    """``holder``'s stakes on ``on`` in every agreement, as known at ``known_at``."""
    rows = _believed_on(
        tables, "stake_versions", "holder", holder, on, known_at, "agreement, entity"
    )
    return [
        StakeHeld(
            agreement=row["agreement"],
            holder=row["holder"],
            entity=row["entity"],
            percent=Decimal(row["percent"]),
            since=date.fromisoformat(row["since"]),
            since_precision=row["since_precision"],
            caused_by=row["caused_by"],
        )
        for row in rows
    ]


def invested_by(tables: Tables, investor: str, on: date, known_at: datetime) -> list[Invested]:
    """What ``investor`` had invested by ``on``, per agreement, recipient and currency."""
    rows = _believed_on(
        tables,
        "investment_totals",
        "investor",
        investor,
        on,
        known_at,
        "agreement, recipient, currency",
    )
    return [
        Invested(
            agreement=row["agreement"],
            investor=row["investor"],
            recipient=row["recipient"],
            currency=row["currency"],
            amount=Decimal(row["amount"]),
            caused_by=row["caused_by"],
        )
        for row in rows
    ]


def known_parties(tables: Tables) -> list[str]:
    """Every holder of a stake and every investor the tables have ever recorded."""
    rows = tables.all(
        "SELECT holder AS party FROM {t}stake_versions UNION "
        "SELECT investor AS party FROM {t}investment_totals ORDER BY party"
    )
    return [row["party"] for row in rows]


def _clause(row: Any) -> ClauseOn:
    return ClauseOn(
        agreement=row["agreement"],
        clause_id=row["clause_id"],
        kind=row["kind"],
        terms=orjson.loads(row["terms"]),
        in_force_since=date.fromisoformat(row["in_force_since"]),
        since_precision=row["since_precision"],
        until=date.fromisoformat(row["until"]) if row["until"] else None,
        amended_on=date.fromisoformat(row["amended_on"]) if row["amended_on"] else None,
        amended_precision=row["amended_precision"],
        confidence=row["confidence"],
        caused_by=row["caused_by"],
    )
