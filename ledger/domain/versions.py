"""The bitemporal read model's rows as values: one version of one fact of an agreement,
valid on the effective axis from ``valid_from`` until before ``valid_to``.

A fold knows what is true at the end of each day; these rows say it per fact, so that a
database can answer across agreements (which had an exclusivity clause in force on D?)
without folding any of them. ``snapshot`` reads the facts a fold changed at the end of a
day; ``reconcile`` turns an append's day-by-day changes from its first touched day into
the rows to close and the rows to open, leaving every row it does not change alone. The
recording axis (when a row was believed) is the store's: rows are closed, never edited.

Every value is in its plain, stored form (dates ISO, decimals as written, JSON as text),
so what the store returns compares with what the fold computes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeAlias

import attrs
import orjson

from ledger.domain.draft import ClauseDraft, Draft, Key
from ledger.domain.values import format_decimal

END = date.max  # the valid_to of a version nothing has ended yet

# The public tables, with the columns that name a fact and those that describe it.
CLAUSES = "clause_versions"
STAKES = "stake_versions"
TOTALS = "investment_totals"
GOVERNANCE = "governance_events"
RENEGOTIATIONS = "renegotiation_versions"
PROPOSALS = "proposal_versions"
TERMINATIONS = "terminations"

COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    CLAUSES: (
        ("clause_id",),
        (
            "kind",
            "terms",
            "in_force_since",
            "since_precision",
            "until",
            "amended_on",
            "amended_precision",
            "confidence",
            "caused_by",
        ),
    ),
    STAKES: (
        ("holder", "entity"),
        ("percent", "since", "since_precision", "caused_by"),
    ),
    TOTALS: (
        ("investor", "recipient", "currency"),
        ("amount", "instruments", "caused_by"),
    ),
    GOVERNANCE: (
        ("event",),
        (
            "kind",
            "effective_on",
            "date_precision",
            "entity",
            "people",
            "description",
            "approved_by",
            "confidence",
        ),
    ),
    RENEGOTIATIONS: (
        ("renegotiation_id",),
        (
            "status",
            "topics",
            "initiated_by",
            "opened_on",
            "opened_precision",
            "closed_on",
            "closed_precision",
            "caused_by",
        ),
    ),
    PROPOSALS: (
        ("renegotiation_id", "proposal_id"),
        ("proposed_by", "proposed_on", "proposed_precision", "status", "changes", "caused_by"),
    ),
    TERMINATIONS: ((), ("event", "terminated_on", "precision", "reason")),
}

Cell: TypeAlias = str | None
# A fact's identity within its agreement: its table, then its key columns' values.
Fact: TypeAlias = tuple[str, ...]
Values: TypeAlias = tuple[Cell, ...]
# A fact's values from each day a fold changed it (``None``: gone), in order.
Points: TypeAlias = Sequence[tuple[date, "Values | None"]]


@attrs.frozen
class Version:
    """One version of one fact: its values, valid from ``valid_from`` until before
    ``valid_to`` (``END``: until something ends it)."""

    fact: Fact
    values: Values
    valid_from: date
    valid_to: date

    @property
    def table(self) -> str:
        """The table the version is a row of."""
        return self.fact[0]

    @property
    def key(self) -> tuple[str, ...]:
        """The values of its table's key columns."""
        return self.fact[1:]


def json_text(value: Any) -> str:
    """JSON as the tables hold it: keys sorted, decimals as strings, no spaces."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=_plain).decode()


def _plain(value: object) -> str:
    if isinstance(value, Decimal):
        return format_decimal(value)
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def _day(value: date | None) -> Cell:
    return None if value is None else value.isoformat()


def natural_end(fact: Fact, values: Values) -> date:
    """The day a version stops by itself: the day after a clause's ``until``."""
    if fact[0] == CLAUSES and values[4] is not None:
        until = date.fromisoformat(values[4])
        # The calendar's last day has no day after it: such a clause never ends here.
        return END if until == END else until + timedelta(days=1)
    return END


def _clause(clause: ClauseDraft) -> Values:
    return (
        clause.kind,
        json_text(clause.terms),
        clause.since.isoformat(),
        clause.since_precision,
        _day(clause.until),
        _day(clause.amended_on),
        clause.amended_precision if clause.amended_on is not None else None,
        clause.confidence,
        clause.caused_by[-1],
    )


def snapshot(draft: Draft, key: Key, events: Sequence[str]) -> dict[Fact, Values | None]:
    """The facts a fold's ``key`` stands for, as ``draft`` holds them at the end of a day
    (``None``: gone); ``events`` changed the key that day, in order."""
    kind = key[0]
    if kind == "clause":
        clause = draft.clauses.get(key[1])
        return {(CLAUSES, key[1]): None if clause is None else _clause(clause)}
    if kind == "stake":
        stake = draft.stakes.get((key[1], key[2]))
        return {
            (STAKES, key[1], key[2]): None
            if stake is None
            else (
                format_decimal(stake.percent),
                stake.since.isoformat(),
                stake.since_precision,
                stake.caused_by,
            )
        }
    if kind == "investment":
        total = draft.totals.get((key[1], key[2], key[3]))
        return {
            (TOTALS, key[1], key[2], key[3]): None
            if total is None
            else (format_decimal(total.amount), json_text(total.instruments), total.caused_by[-1])
        }
    if kind == "governance":
        return {(GOVERNANCE, key[1]): _governance(draft, key[1])}
    if kind == "renegotiation":
        return _talks(draft, key[1], events[-1])
    if kind == "termination":
        ended = draft.terminated
        return {
            (TERMINATIONS,): None
            if ended is None
            else (ended.event, ended.on.isoformat(), ended.precision, ended.reason)
        }
    raise ValueError(f"no table follows the key {key!r}")  # pragma: no cover - all kinds


def _governance(draft: Draft, event: str) -> Values | None:
    # Recent records are the ones a day touches: look from the end.
    for record in reversed(draft.governance):
        if record["id"] == event:
            return (
                record["kind"],
                record["effective_on"],
                record["date_precision"],
                record["entity"],
                json_text(record["people"]),
                record["description"],
                json_text(record["approved_by"]),
                record["confidence"],
            )
    return None


def _talks(draft: Draft, talks_id: str, cause: str) -> dict[Fact, Values | None]:
    talks = draft.talks.get(talks_id)
    if talks is None:
        return {(RENEGOTIATIONS, talks_id): None}
    found: dict[Fact, Values | None] = {
        (RENEGOTIATIONS, talks_id): (
            talks.status,
            json_text(talks.topics),
            talks.initiated_by,
            talks.opened_on.isoformat(),
            talks.opened_precision,
            _day(talks.closed_on),
            talks.closed_precision if talks.closed_on is not None else None,
            cause,
        )
    }
    for proposal in talks.proposals:
        found[(PROPOSALS, talks_id, proposal.id)] = (
            proposal.by,
            proposal.proposed_on.isoformat(),
            proposal.precision,
            proposal.status,
            json_text(proposal.changes),
            proposal.caused_by,
        )
    return found


class Changes:
    """What a fold changed, fact by fact and day by day, from the first day an append
    touches (``each_day``, given the fold's observed keys)."""

    def __init__(self, start: date | None) -> None:
        self.start = start
        self.by_fact: dict[Fact, list[tuple[date, Values | None]]] = {}

    def each_day(self, draft: Draft, day: date) -> None:
        """The fold reached the end of ``day``: note the facts its events changed."""
        observed = draft.observed
        if observed is None:
            return
        if self.start is not None and day >= self.start:
            for key, events in observed.items():
                for fact, values in snapshot(draft, key, events).items():
                    self.by_fact.setdefault(fact, []).append((day, values))
        observed.clear()


@attrs.frozen
class Reconciled:
    """The rows an append closes (no longer believed) and opens."""

    closed: tuple[Version, ...]
    opened: tuple[Version, ...]


def reconcile(
    start: date,
    believed: Iterable[Version],
    changes: Mapping[Fact, Sequence[tuple[date, Values | None]]],
) -> Reconciled:
    """The rows that make the believed versions agree with a fold that changed
    ``changes`` from ``start`` on.

    ``believed`` must hold, for every fact that changed on or after ``start`` in either
    history, each believed version still valid on the day before ``start`` or after it.
    The effective history before ``start`` is the same in both, so each fact's new
    versions start from the one valid on that day (its carrier) and follow its changes.
    """
    old: dict[Fact, list[Version]] = {}
    for version in believed:
        old.setdefault(version.fact, []).append(version)
    facts = set(changes)
    for fact, versions in old.items():
        if any(_changed_from(v, start) for v in versions):
            facts.add(fact)
    closed: list[Version] = []
    opened: list[Version] = []
    for fact in sorted(facts):
        before = [v for v in old.get(fact, ()) if v.valid_to >= start]
        carrier = next((v for v in before if v.valid_from < start), None)
        points: list[tuple[date, Values | None]] = []
        if carrier is not None:
            points.append((carrier.valid_from, carrier.values))
        points.extend(changes.get(fact, ()))
        after = set(_versions(fact, points))
        now = set(before)
        closed.extend(sorted(now - after, key=_order))
        opened.extend(sorted(after - now, key=_order))
    return Reconciled(tuple(closed), tuple(opened))


def _changed_from(version: Version, start: date) -> bool:
    """Whether the old history changed this fact on or after ``start``: a version began
    then, or one ended then other than by itself."""
    if version.valid_from >= start:
        return True
    ended = version.valid_to
    return start <= ended < END and ended != natural_end(version.fact, version.values)


def _versions(fact: Fact, points: Points) -> list[Version]:
    """The versions of a fact that takes ``values`` from each point's day on."""
    found: list[Version] = []
    for index, (day, values) in enumerate(points):
        if values is None:
            continue
        following = points[index + 1][0] if index + 1 < len(points) else END
        until = min(following, natural_end(fact, values))
        if until <= day:
            continue
        last = found[-1] if found else None
        if last is not None and last.values == values and last.valid_to == day:
            found[-1] = attrs.evolve(last, valid_to=until)
        else:
            found.append(Version(fact, values, day, until))
    return found


def _order(version: Version) -> tuple[Fact, date]:
    return version.fact, version.valid_from
