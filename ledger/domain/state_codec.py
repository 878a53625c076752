"""An agreement's state to and from plain data, for the checkpoints kept in the store.

A checkpoint is a cache of the fold, never a source of truth: ``state_from_plain`` only
ever reads what ``state_to_plain`` wrote, so it trusts its input's shape. Mappings keyed
by tuples are written as lists, their keys rebuilt from the values.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ledger.domain.clauses import ClauseKind
from ledger.domain.codec import (
    stored_terms,
    structure_change,
    unstructure_change,
    unstructure_terms,
)
from ledger.domain.events import GovernanceKind, Instrument
from ledger.domain.state import (
    AgreementState,
    ClauseState,
    GovernanceRecord,
    InvestmentTotal,
    ProposalState,
    ProposalStatus,
    RenegotiationState,
    RenegotiationStatus,
    Stake,
)
from ledger.domain.values import Confidence, DatePrecision, Money, Party, Percent

_day = date.fromisoformat


def _optional_day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _optional_text(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def state_to_plain(state: AgreementState) -> dict[str, Any]:
    """The state as JSON-ready data (``known_at`` is not kept: it belongs to a query)."""
    return {
        "agreement": state.agreement,
        "title": state.title,
        "opened_on": state.opened_on.isoformat(),
        "as_of": state.as_of.isoformat(),
        "parties": [[p.id, p.name] for p in state.parties],
        "clauses": [_clause_to_plain(c) for c in state.clauses.values()],
        "investments": [
            [
                i.investor,
                i.recipient,
                str(i.total.amount),
                i.total.currency,
                [x.value for x in i.instruments],
                list(i.caused_by),
            ]
            for i in state.investments.values()
        ],
        "stakes": [
            [s.holder, s.entity, str(s.percent.value), s.since.isoformat(), s.caused_by]
            for s in state.stakes.values()
        ],
        "governance": [
            [
                g.id,
                g.kind.value,
                g.effective_on.isoformat(),
                g.date_precision.value,
                g.entity,
                list(g.people),
                g.description,
                list(g.approved_by),
                g.confidence.value,
            ]
            for g in state.governance
        ],
        "renegotiations": [_talks_to_plain(r) for r in state.renegotiations.values()],
        "events_applied": state.events_applied,
    }


def state_from_plain(plain: dict[str, Any]) -> AgreementState:
    """The state ``state_to_plain`` wrote."""
    clauses = [_clause_from_plain(c) for c in plain["clauses"]]
    investments = [
        InvestmentTotal(
            investor=investor,
            recipient=recipient,
            total=Money(Decimal(amount), currency),
            instruments=tuple(Instrument(x) for x in instruments),
            caused_by=tuple(caused_by),
        )
        for investor, recipient, amount, currency, instruments, caused_by in plain["investments"]
    ]
    stakes = [
        Stake(
            holder=holder,
            entity=entity,
            percent=Percent(Decimal(percent)),
            since=_day(since),
            caused_by=caused_by,
        )
        for holder, entity, percent, since, caused_by in plain["stakes"]
    ]
    governance = tuple(
        GovernanceRecord(
            id=ident,
            kind=GovernanceKind(kind),
            effective_on=_day(on),
            date_precision=DatePrecision(precision),
            entity=entity,
            people=tuple(people),
            description=description,
            approved_by=tuple(approved_by),
            confidence=Confidence(confidence),
        )
        for ident, kind, on, precision, entity, people, description, approved_by, confidence in (
            plain["governance"]
        )
    )
    talks = [_talks_from_plain(r) for r in plain["renegotiations"]]
    return AgreementState(
        agreement=plain["agreement"],
        title=plain["title"],
        opened_on=_day(plain["opened_on"]),
        as_of=_day(plain["as_of"]),
        parties=tuple(Party(pid, name) for pid, name in plain["parties"]),
        clauses={c.id: c for c in clauses},
        investments={(i.investor, i.recipient, i.total.currency): i for i in investments},
        stakes={(s.holder, s.entity): s for s in stakes},
        governance=governance,
        renegotiations={r.id: r for r in talks},
        events_applied=plain["events_applied"],
    )


def _clause_to_plain(clause: ClauseState) -> list[Any]:
    return [
        clause.id,
        clause.kind.value,
        unstructure_terms(clause.terms),
        clause.in_force_since.isoformat(),
        clause.since_precision.value,
        _optional_text(clause.until),
        _optional_text(clause.amended_on),
        _optional_text(clause.removed_on),
        clause.confidence.value,
        list(clause.caused_by),
    ]


def _clause_from_plain(plain: list[Any]) -> ClauseState:
    ident, kind, terms, since, precision, until, amended, removed, confidence, caused = plain
    clause_kind = ClauseKind(kind)
    return ClauseState(
        id=ident,
        kind=clause_kind,
        terms=stored_terms(clause_kind, terms),
        in_force_since=_day(since),
        since_precision=DatePrecision(precision),
        until=_optional_day(until),
        amended_on=_optional_day(amended),
        removed_on=_optional_day(removed),
        confidence=Confidence(confidence),
        caused_by=tuple(caused),
    )


def _talks_to_plain(talks: RenegotiationState) -> dict[str, Any]:
    return {
        "id": talks.id,
        "status": talks.status.value,
        "topics": list(talks.topics),
        "initiated_by": talks.initiated_by,
        "opened_on": talks.opened_on.isoformat(),
        "closed_on": _optional_text(talks.closed_on),
        "proposals": [
            [
                p.id,
                p.by,
                p.proposed_on.isoformat(),
                p.status.value,
                [unstructure_change(c) for c in p.changes],
                p.caused_by,
            ]
            for p in talks.proposals
        ],
    }


def _talks_from_plain(plain: dict[str, Any]) -> RenegotiationState:
    return RenegotiationState(
        id=plain["id"],
        status=RenegotiationStatus(plain["status"]),
        topics=tuple(plain["topics"]),
        initiated_by=plain["initiated_by"],
        opened_on=_day(plain["opened_on"]),
        closed_on=_optional_day(plain["closed_on"]),
        proposals=tuple(
            ProposalState(
                id=ident,
                by=by,
                proposed_on=_day(on),
                status=ProposalStatus(status),
                changes=tuple(structure_change(c) for c in changes),
                caused_by=caused_by,
            )
            for ident, by, on, status, changes, caused_by in plain["proposals"]
        ),
    )
