"""The fold: one event applied to the agreement's state, every rule checked on the way.

``apply`` is pure: it never reads the clock or the store, and it raises
``RuleViolation`` (naming the field, what was expected and what came) instead of
producing a state the rules forbid. The same function validates appends and answers
queries, so what was accepted is exactly what replays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from functools import partial, singledispatch
from typing import TypeVar

import attrs

from ledger.domain.clauses import AddClause, AmendClause, Change, RemoveClause, Terms, VetoTerms
from ledger.domain.codec import amended_terms
from ledger.domain.events import (
    AgreementOpened,
    Amendment,
    DatedFact,
    Governance,
    GovernanceKind,
    Investment,
    Outcome,
    OwnershipChange,
    Proposal,
    ProposalRejected,
    ProposalWithdrawn,
    RenegotiationConcluded,
    RenegotiationOpened,
)
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
    evolve,
)
from ledger.errors import RuleViolation, at_path

# A total or a clause shaped by thousands of events names the latest few: the state of a
# long history stays small, and `history` lists them all.
CAUSED_BY_KEPT = 10

K = TypeVar("K")
V = TypeVar("V")


@attrs.frozen
class Entry:
    """An event in its place on the timeline: its id, recording position and fact."""

    id: str
    seq: int  # place in recording order (a replacement takes its original's)
    fact: DatedFact
    replacing: bool = False  # the fact is a correction's replacement
    version: int = attrs.field(  # the version of the event that carries the fact
        default=attrs.Factory(lambda self: self.seq, takes_self=True)
    )

    @property
    def effective_on(self) -> date:
        """The date the event takes effect in the agreement."""
        return self.fact.effective_on


def opening(entry: Entry) -> AgreementState:
    """The state on the day the agreement opens."""
    fact = entry.fact
    if not isinstance(fact, AgreementOpened):
        raise RuleViolation("type", f"expected the agreement to open first, got {fact.TYPE!r}")
    ids = [party.id for party in fact.parties]
    duplicates = sorted({pid for pid in ids if ids.count(pid) > 1})
    if duplicates:
        raise RuleViolation("parties", f"expected distinct party ids, got {duplicates[0]!r} twice")
    state = AgreementState(
        agreement=fact.agreement,
        title=fact.title,
        opened_on=fact.effective_on,
        as_of=fact.effective_on,
        parties=fact.parties,
        events_applied=1,
    )
    for index, add in enumerate(fact.clauses):
        state = at_path(f"clauses[{index}]", partial(_add, state, add, entry))
    return state


def apply(state: AgreementState, entry: Entry) -> AgreementState:
    """The state after ``entry``, which must not be dated before the agreement opened."""
    if entry.effective_on < state.opened_on:
        raise RuleViolation(
            "effective_on",
            f"expected a date on or after the agreement opened ({state.opened_on}), "
            f"got '{entry.effective_on}'",
        )
    after = _apply(entry.fact, state, entry)
    return evolve(after, as_of=entry.effective_on, events_applied=after.events_applied + 1)


@singledispatch
def _apply(fact: DatedFact, _state: AgreementState, _entry: Entry) -> AgreementState:
    raise RuleViolation("type", f"expected an event the fold knows, got {type(fact).__name__}")


@_apply.register
def _(_fact: AgreementOpened, state: AgreementState, _entry: Entry) -> AgreementState:
    raise RuleViolation(
        "type", f"expected one opening, but the agreement already opened on {state.opened_on}"
    )


@_apply.register
def _(fact: Investment, state: AgreementState, entry: Entry) -> AgreementState:
    _require_party(state, "investor", fact.investor)
    _require_party(state, "recipient", fact.recipient)
    key = (fact.investor, fact.recipient, fact.amount.currency)
    known = state.investments.get(key)
    total = InvestmentTotal(
        investor=fact.investor,
        recipient=fact.recipient,
        total=fact.amount if known is None else known.total + fact.amount,
        instruments=_union(() if known is None else known.instruments, (fact.instrument,)),
        caused_by=_latest(() if known is None else known.caused_by, entry.id),
    )
    return evolve(state, investments=_put(state.investments, key, total))


@_apply.register
def _(fact: Amendment, state: AgreementState, entry: Entry) -> AgreementState:
    return apply_changes(state, fact.changes, entry, "changes")


@_apply.register
def _(fact: OwnershipChange, state: AgreementState, entry: Entry) -> AgreementState:
    _require_party(state, "holder", fact.holder)
    key = (fact.holder, fact.entity)
    # The sum of stakes is checked at the end of the day (``over_allocation``), so that
    # a recapitalisation's changes on one date may come in any order.
    if fact.percent.value == 0:
        stakes = {k: s for k, s in state.stakes.items() if k != key}
    else:
        stake = Stake(
            holder=fact.holder,
            entity=fact.entity,
            percent=fact.percent,
            since=fact.effective_on,
            caused_by=entry.id,
        )
        stakes = _put(state.stakes, key, stake)
    return evolve(state, stakes=stakes)


@_apply.register
def _(fact: Governance, state: AgreementState, entry: Entry) -> AgreementState:
    for index, approver in enumerate(fact.approved_by):
        _require_party(state, f"approved_by[{index}]", approver)
    vetoes = [
        (clause, clause.terms.holder)
        for clause in state.clauses.values()
        if isinstance(clause.terms, VetoTerms)
        and fact.kind.value in clause.terms.over
        and clause.in_force_on(fact.effective_on)
    ]
    for clause, holder in vetoes:
        if holder is not None and holder not in fact.approved_by:
            raise RuleViolation(
                "approved_by",
                f"expected approval by {holder!r}, who holds a veto over {fact.kind.value} "
                f"(clause {clause.id!r}), got {list(fact.approved_by)}",
            )
    record = GovernanceRecord(
        id=entry.id,
        kind=fact.kind,
        effective_on=fact.effective_on,
        date_precision=fact.date_precision,
        entity=fact.entity,
        people=fact.people,
        description=fact.description,
        approved_by=fact.approved_by,
        confidence=fact.source.confidence,
    )
    return evolve(state, governance=(*state.governance, record))


@_apply.register
def _(fact: RenegotiationOpened, state: AgreementState, _entry: Entry) -> AgreementState:
    _require_party(state, "initiated_by", fact.initiated_by)
    if fact.renegotiation in state.renegotiations:
        raise RuleViolation(
            "renegotiation", f"expected a new renegotiation id, got {fact.renegotiation!r} again"
        )
    talks = RenegotiationState(
        id=fact.renegotiation,
        status=RenegotiationStatus.OPEN,
        topics=fact.topics,
        initiated_by=fact.initiated_by,
        opened_on=fact.effective_on,
    )
    return evolve(state, renegotiations=_put(state.renegotiations, talks.id, talks))


@_apply.register
def _(fact: Proposal, state: AgreementState, entry: Entry) -> AgreementState:
    talks = _open_renegotiation(state, fact.renegotiation)
    _require_party(state, "by", fact.by)
    if talks.proposal(fact.proposal) is not None:
        raise RuleViolation(
            "proposal",
            f"expected a new proposal id in {talks.id!r}, got {fact.proposal!r} again",
        )
    for index, change in enumerate(fact.changes):
        at_path(f"changes[{index}]", partial(_check_shape, state, change, entry.effective_on))
    proposal = ProposalState(
        id=fact.proposal,
        by=fact.by,
        proposed_on=fact.effective_on,
        status=ProposalStatus.PENDING,
        changes=fact.changes,
        caused_by=entry.id,
    )
    return _put_talks(state, evolve(talks, proposals=(*talks.proposals, proposal)))


@_apply.register
def _(fact: ProposalRejected, state: AgreementState, _entry: Entry) -> AgreementState:
    return _close_proposal(state, fact.renegotiation, fact.proposal, ProposalStatus.REJECTED)


@_apply.register
def _(fact: ProposalWithdrawn, state: AgreementState, _entry: Entry) -> AgreementState:
    return _close_proposal(state, fact.renegotiation, fact.proposal, ProposalStatus.WITHDRAWN)


@_apply.register
def _(fact: RenegotiationConcluded, state: AgreementState, entry: Entry) -> AgreementState:
    talks = _open_renegotiation(state, fact.renegotiation)
    if fact.outcome is Outcome.ABANDONED:
        closed = evolve(
            talks,
            status=RenegotiationStatus.ABANDONED,
            closed_on=fact.effective_on,
            proposals=_supersede_pending(talks.proposals, keep=None),
        )
        return _put_talks(state, closed)
    accepted = _pending_proposal(talks, fact.accepted or "", "accepted")
    state = apply_changes(state, accepted.changes, entry, f"accepted ({accepted.id}).changes")
    closed = evolve(
        talks,
        status=RenegotiationStatus.CONCLUDED,
        closed_on=fact.effective_on,
        proposals=_supersede_pending(talks.proposals, keep=accepted.id),
    )
    return _put_talks(state, closed)


def over_allocation(state: AgreementState) -> tuple[str, str] | None:
    """An entity whose stakes sum to more than 100, with how they add up, if any."""
    totals: dict[str, list[Stake]] = {}
    for stake in state.stakes.values():
        totals.setdefault(stake.entity, []).append(stake)
    for entity, stakes in sorted(totals.items()):
        if sum((s.percent.value for s in stakes), Decimal(0)) > 100:
            parts = " + ".join(f"{s.percent} ({s.holder})" for s in stakes)
            return entity, f"expected stakes in {entity!r} to sum to at most 100, got {parts}"
    return None


def apply_changes(
    state: AgreementState, changes: Iterable[Change], entry: Entry, path: str
) -> AgreementState:
    """The state after an atomic set of clause changes made by ``entry``."""
    for index, change in enumerate(changes):
        state = at_path(f"{path}[{index}]", partial(_change, state, change, entry))
    return state


def _change(state: AgreementState, change: Change, entry: Entry) -> AgreementState:
    if isinstance(change, AddClause):
        return at_path("add", partial(_add, state, change, entry))
    if isinstance(change, AmendClause):
        return _amend(state, change, entry)
    return _remove(state, change, entry)


def _check_shape(state: AgreementState, change: Change, day: date) -> None:
    """The shape a proposed change must have when made: governance kinds that exist and,
    for a clause in force that day, the names and types of the terms it amends. The
    rules (parties, clauses in force…) are checked when the proposal is accepted."""
    if isinstance(change, AddClause):
        _check_veto_kinds(change.terms, "add.terms.over")
        return
    clause = state.clause_in_force(change.id, day)
    if isinstance(change, AmendClause) and clause is not None:
        terms = at_path("terms", lambda: amended_terms(clause.kind, clause.terms, change.terms))
        _check_veto_kinds(terms, "terms.over")


def _check_terms(state: AgreementState, terms: Terms, names: Iterable[str], path: str) -> None:
    """The party terms among ``names`` name parties; a veto's kinds are governance kinds."""
    for name in names:
        value = getattr(terms, name, None)
        if name in type(terms).PARTY_TERMS and value is not None:
            _require_party(state, f"{path}.{name}", value)
    _check_veto_kinds(terms, f"{path}.over")


def _add(state: AgreementState, add: AddClause, entry: Entry) -> AgreementState:
    day = entry.effective_on
    if state.clause_in_force(add.id, day) is not None:
        raise RuleViolation("id", f"expected a clause id not in force on {day}, got {add.id!r}")
    if add.until is not None and add.until < day:
        raise RuleViolation("until", f"expected a date on or after {day}, got '{add.until}'")
    _check_terms(state, add.terms, type(add.terms).PARTY_TERMS, "terms")
    clause = ClauseState(
        id=add.id,
        kind=add.kind,
        terms=add.terms,
        in_force_since=day,
        since_precision=entry.fact.date_precision,
        until=add.until,
        confidence=entry.fact.source.confidence,
        caused_by=(entry.id,),
    )
    return evolve(state, clauses=_put(state.clauses, add.id, clause))


def _amend(state: AgreementState, amend: AmendClause, entry: Entry) -> AgreementState:
    clause = _in_force(state, amend.id, entry.effective_on, "amend")
    terms = at_path("terms", lambda: amended_terms(clause.kind, clause.terms, amend.terms))
    _check_terms(state, terms, tuple(amend.terms), "terms")
    if amend.until is not None and amend.until < entry.effective_on:
        raise RuleViolation(
            "until", f"expected a date on or after {entry.effective_on}, got '{amend.until}'"
        )
    amended = evolve(
        clause,
        terms=terms,
        until=clause.until if amend.until is None else amend.until,
        amended_on=entry.effective_on,
        confidence=entry.fact.source.confidence,
        caused_by=_latest(clause.caused_by, entry.id),
    )
    return evolve(state, clauses=_put(state.clauses, clause.id, amended))


def _remove(state: AgreementState, remove: RemoveClause, entry: Entry) -> AgreementState:
    clause = _in_force(state, remove.id, entry.effective_on, "remove")
    removed = evolve(
        clause, removed_on=entry.effective_on, caused_by=_latest(clause.caused_by, entry.id)
    )
    return evolve(state, clauses=_put(state.clauses, clause.id, removed))


def _in_force(state: AgreementState, clause_id: str, day: date, path: str) -> ClauseState:
    clause = state.clause_in_force(clause_id, day)
    if clause is None:
        in_force = ", ".join(c.id for c in state.clauses_in_force(day)) or "none"
        raise RuleViolation(
            path,
            f"expected a clause in force on {day}, got {clause_id!r}, which is not in force "
            f"(in force: {in_force})",
        )
    return clause


def _check_veto_kinds(terms: object, path: str) -> None:
    if not isinstance(terms, VetoTerms):
        return
    kinds = {kind.value for kind in GovernanceKind}
    for index, over in enumerate(terms.over):
        if over not in kinds:
            raise RuleViolation(
                f"{path}[{index}]",
                f"expected a governance kind ({', '.join(sorted(kinds))}), got {over!r}",
            )


def _require_party(state: AgreementState, path: str, party: str) -> None:
    if party not in state.party_ids():
        parties = ", ".join(sorted(state.party_ids()))
        raise RuleViolation(path, f"expected a party of the agreement ({parties}), got {party!r}")


def _open_renegotiation(state: AgreementState, renegotiation: str) -> RenegotiationState:
    talks = state.renegotiations.get(renegotiation)
    if talks is None:
        raise RuleViolation(
            "renegotiation", f"expected a renegotiation opened before, got {renegotiation!r}"
        )
    if talks.status is not RenegotiationStatus.OPEN:
        raise RuleViolation(
            "renegotiation",
            f"expected an open renegotiation, got {renegotiation!r}, {talks.status.value} "
            f"on {talks.closed_on}",
        )
    return talks


def _pending_proposal(talks: RenegotiationState, proposal_id: str, path: str) -> ProposalState:
    proposal = talks.proposal(proposal_id)
    if proposal is None:
        made = ", ".join(p.id for p in talks.proposals) or "none"
        raise RuleViolation(
            path, f"expected a proposal made in {talks.id!r} ({made}), got {proposal_id!r}"
        )
    if proposal.status is not ProposalStatus.PENDING:
        raise RuleViolation(
            path, f"expected a pending proposal, got {proposal_id!r}, {proposal.status.value}"
        )
    return proposal


def _close_proposal(
    state: AgreementState, renegotiation: str, proposal_id: str, status: ProposalStatus
) -> AgreementState:
    talks = _open_renegotiation(state, renegotiation)
    proposal = _pending_proposal(talks, proposal_id, "proposal")
    proposals = tuple(
        evolve(p, status=status) if p.id == proposal.id else p for p in talks.proposals
    )
    return _put_talks(state, evolve(talks, proposals=proposals))


def _supersede_pending(
    proposals: tuple[ProposalState, ...], keep: str | None
) -> tuple[ProposalState, ...]:
    def settle(proposal: ProposalState) -> ProposalState:
        if proposal.id == keep:
            return evolve(proposal, status=ProposalStatus.ACCEPTED)
        if proposal.status is ProposalStatus.PENDING:
            return evolve(proposal, status=ProposalStatus.SUPERSEDED)
        return proposal

    return tuple(settle(p) for p in proposals)


def _put_talks(state: AgreementState, talks: RenegotiationState) -> AgreementState:
    return evolve(state, renegotiations=_put(state.renegotiations, talks.id, talks))


def _put(mapping: Mapping[K, V], key: K, value: V) -> dict[K, V]:
    return {**mapping, key: value}


def _latest(caused_by: tuple[str, ...], event: str) -> tuple[str, ...]:
    """``caused_by`` and then ``event``, the latest ``CAUSED_BY_KEPT`` of them."""
    return (*caused_by[1 - CAUSED_BY_KEPT :], event) if caused_by else (event,)


def _union(first: tuple[V, ...], second: tuple[V, ...]) -> tuple[V, ...]:
    return first + tuple(item for item in second if item not in first)
