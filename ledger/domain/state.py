"""The projected state of an agreement on a date: clauses, ownership, governance, talks."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime

import attrs

from ledger.domain.clauses import Change, ClauseKind, Terms
from ledger.domain.values import (
    Confidence,
    DatePrecision,
    GovernanceKind,
    Instrument,
    Money,
    Party,
    Percent,
)


@attrs.frozen(kw_only=True)
class ClauseState:
    """A clause in force, as the timeline has shaped it."""

    id: str
    kind: ClauseKind
    terms: Terms
    in_force_since: date
    since_precision: DatePrecision = DatePrecision.DAY
    until: date | None = None
    amended_on: date | None = None
    amended_precision: DatePrecision = DatePrecision.DAY
    confidence: Confidence
    caused_by: tuple[str, ...] = ()  # the latest ten events that shaped it

    def in_force_on(self, day: date) -> bool:
        """Added by ``day`` and not past its ``until`` then."""
        return self.in_force_since <= day and (self.until is None or day <= self.until)


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
    since_precision: DatePrecision = DatePrecision.DAY
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
    proposed_precision: DatePrecision = DatePrecision.DAY
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
    opened_precision: DatePrecision = DatePrecision.DAY
    proposals: tuple[ProposalState, ...] = ()
    closed_on: date | None = None
    closed_precision: DatePrecision = DatePrecision.DAY

    def proposal(self, proposal_id: str) -> ProposalState | None:
        """The proposal with that id, if it was made."""
        return next((p for p in self.proposals if p.id == proposal_id), None)


@attrs.frozen(kw_only=True)
class Terminated:
    """The end of the agreement: from ``on``, no clause is in force."""

    on: date
    precision: DatePrecision
    event: str  # the termination in effect (a correction's id, when one replaced it)
    reason: str | None


@attrs.frozen(kw_only=True)
class AgreementState:
    """An agreement as it stood on ``as_of``, as known at ``known_at``.

    ``clauses`` holds the clauses in force on ``as_of``; what ended before is in the
    log (``Ledger.history``, ``Ledger.clause_life``), not in the state.
    """

    agreement: str
    title: str
    opened_on: date
    opened_precision: DatePrecision = DatePrecision.DAY
    as_of: date
    known_at: datetime | None = None
    parties: tuple[Party, ...]
    clauses: Mapping[str, ClauseState] = attrs.field(factory=dict)
    investments: Mapping[tuple[str, str, str], InvestmentTotal] = attrs.field(factory=dict)
    stakes: Mapping[tuple[str, str], Stake] = attrs.field(factory=dict)
    governance: tuple[GovernanceRecord, ...] = ()
    renegotiations: Mapping[str, RenegotiationState] = attrs.field(factory=dict)
    terminated: Terminated | None = None
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
