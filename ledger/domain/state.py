"""The projected state of an agreement on a date: clauses, ownership, governance, talks."""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

import attrs

from ledger.domain.clauses import Change, ClauseKind, Terms
from ledger.domain.events import GovernanceKind, Instrument
from ledger.domain.values import Confidence, DatePrecision, Money, Party, Percent

T = TypeVar("T")


def evolve(instance: T, **changes: Any) -> T:
    """``attrs.evolve`` for the fold's hot path, where it runs several times per event:
    the class's field names and their getter are worked out once per class."""
    cls: type[Any] = type(instance)
    names, values = _fields_of(cls)
    current = dict(zip(names, values(instance), strict=True))
    current.update(changes)
    result: T = cls(**current)
    return result


_FIELDS: dict[type[Any], tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]] = {}


def _fields_of(cls: type[Any]) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]:
    found = _FIELDS.get(cls)
    if found is None:
        names = tuple(field.name for field in attrs.fields(cls) if field.init)
        getter = operator.attrgetter(*names)
        found = _FIELDS[cls] = (
            names,
            getter if len(names) > 1 else lambda instance: (getter(instance),),
        )
    return found


@attrs.frozen(kw_only=True)
class ClauseState:
    """A clause as the timeline has shaped it so far."""

    id: str
    kind: ClauseKind
    terms: Terms
    in_force_since: date
    since_precision: DatePrecision = DatePrecision.DAY
    until: date | None = None
    amended_on: date | None = None
    removed_on: date | None = None
    confidence: Confidence
    caused_by: tuple[str, ...] = ()  # the latest ten events that shaped it

    def in_force_on(self, day: date) -> bool:
        """Added, not removed, and not past its ``until`` on ``day``."""
        if self.removed_on is not None or day < self.in_force_since:
            return False
        return self.until is None or day <= self.until


@attrs.frozen(kw_only=True)
class InvestmentTotal:
    """Everything one investor put into one recipient in one currency."""

    investor: str
    recipient: str
    total: Money
    instruments: tuple[Instrument, ...]
    caused_by: tuple[str, ...]  # the latest ten investments in the total


@attrs.frozen(kw_only=True)
class Stake:
    """A holder's stake in an entity."""

    holder: str
    entity: str
    percent: Percent
    since: date
    caused_by: str


@attrs.frozen(kw_only=True)
class GovernanceRecord:
    """A governance event as it stands in the record."""

    id: str
    kind: GovernanceKind
    effective_on: date
    date_precision: DatePrecision
    entity: str
    people: tuple[str, ...]
    description: str | None
    approved_by: tuple[str, ...]
    confidence: Confidence


class ProposalStatus(enum.Enum):
    """Where a proposal stands."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"


class RenegotiationStatus(enum.Enum):
    """Where a renegotiation stands."""

    OPEN = "open"
    CONCLUDED = "concluded"
    ABANDONED = "abandoned"


@attrs.frozen(kw_only=True)
class ProposalState:
    """A proposal made in a renegotiation."""

    id: str
    by: str
    proposed_on: date
    status: ProposalStatus
    changes: tuple[Change, ...]
    caused_by: str


@attrs.frozen(kw_only=True)
class RenegotiationState:
    """A renegotiation and its proposals, in the order they were made."""

    id: str
    status: RenegotiationStatus
    topics: tuple[str, ...]
    initiated_by: str
    opened_on: date
    proposals: tuple[ProposalState, ...] = ()
    closed_on: date | None = None

    def proposal(self, proposal_id: str) -> ProposalState | None:
        """The proposal with that id, if it was made."""
        return next((p for p in self.proposals if p.id == proposal_id), None)


@attrs.frozen(kw_only=True)
class AgreementState:
    """An agreement as it stood on ``as_of``, as known at ``known_at``.

    ``clauses`` holds every clause ever added, removed and expired ones included, so
    that differences can say what ended; ``clauses_in_force()`` is what applied.
    """

    agreement: str
    title: str
    opened_on: date
    as_of: date
    known_at: datetime | None = None
    parties: tuple[Party, ...]
    clauses: Mapping[str, ClauseState] = attrs.field(factory=dict)
    investments: Mapping[tuple[str, str, str], InvestmentTotal] = attrs.field(factory=dict)
    stakes: Mapping[tuple[str, str], Stake] = attrs.field(factory=dict)
    governance: tuple[GovernanceRecord, ...] = ()
    renegotiations: Mapping[str, RenegotiationState] = attrs.field(factory=dict)
    events_applied: int = 0

    def clauses_in_force(self, day: date | None = None) -> tuple[ClauseState, ...]:
        """The clauses in force on ``day`` (default: ``as_of``), by id."""
        on = self.as_of if day is None else day
        return tuple(clause for _, clause in sorted(self.clauses.items()) if clause.in_force_on(on))

    def clause_in_force(self, clause_id: str, day: date | None = None) -> ClauseState | None:
        """The clause with that id if it is in force on ``day`` (default: ``as_of``)."""
        clause = self.clauses.get(clause_id)
        on = self.as_of if day is None else day
        return clause if clause is not None and clause.in_force_on(on) else None

    def party_ids(self) -> frozenset[str]:
        """The ids of the agreement's parties."""
        return frozenset(party.id for party in self.parties)
