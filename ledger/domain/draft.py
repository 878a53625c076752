"""The fold's working state: what an agreement holds while its events are folded in.

The fold changes one ``Draft`` in place, event after event, and hands out frozen
``AgreementState`` values (``freeze``) only at the end: building immutable values at
every event cost more than all the rest of the fold. A draft holds only what is in
force (clauses removed or past their ``until`` are dropped), so its size follows the
agreement's present, not its age. It is plain data throughout, so a checkpoint is its
``to_plain`` form and reads back with ``from_plain``.

Facts are read in their plain form (``Plain``: the form stored and hashed), and clause
terms are kept in it too; typed terms are built only when a state is frozen.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeAlias, TypeVar

import attrs

from ledger.domain.clauses import ClauseKind
from ledger.domain.codec import stored_terms, structure_change
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
    Terminated,
)
from ledger.domain.values import (
    Confidence,
    DatePrecision,
    GovernanceKind,
    Instrument,
    Money,
    Party,
    Percent,
)

Plain: TypeAlias = Mapping[str, Any]
Key: TypeAlias = tuple[
    str, ...
]  # what an event changed: ("clause", id), ("stake", holder, entity)…

# A total or a clause shaped by thousands of events names the latest few: the state of a
# long history stays small, and `history` lists them all.
CAUSED_BY_KEPT = 10

_day = date.fromisoformat


def _text(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _parsed(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def latest(caused_by: list[str], event: str) -> None:
    """Add ``event`` to ``caused_by``, keeping the latest ``CAUSED_BY_KEPT``."""
    caused_by.append(event)
    if len(caused_by) > CAUSED_BY_KEPT:
        del caused_by[0]


@attrs.define(slots=True)
class ClauseDraft:
    """A clause in force (or past its ``until``, until the fold moves beyond it)."""

    id: str
    kind: str
    terms: dict[str, Any]  # the plain form of its terms
    since: date
    since_precision: str
    until: date | None
    confidence: str
    caused_by: list[str]
    amended_on: date | None = None
    amended_precision: str = "day"

    def in_force_on(self, day: date) -> bool:
        """Added by ``day`` and not past its ``until``."""
        return self.since <= day and (self.until is None or day <= self.until)


@attrs.define(slots=True)
class TotalDraft:
    """What one investor put into one recipient in one currency, so far."""

    investor: str
    recipient: str
    currency: str
    amount: Decimal
    instruments: list[str]
    caused_by: list[str]


@attrs.define(slots=True)
class StakeDraft:
    """A holder's stake in an entity, from ``since``."""

    holder: str
    entity: str
    percent: Decimal
    since: date
    since_precision: str
    caused_by: str


@attrs.define(slots=True)
class ProposalDraft:
    """A proposal made in a renegotiation; its changes in their plain form."""

    id: str
    by: str
    proposed_on: date
    precision: str
    status: str
    changes: list[Any]
    caused_by: str


@attrs.define(slots=True)
class TalksDraft:
    """A renegotiation and its proposals, in the order they were made."""

    id: str
    status: str
    topics: list[str]
    initiated_by: str
    opened_on: date
    opened_precision: str
    proposals: list[ProposalDraft]
    closed_on: date | None = None
    closed_precision: str = "day"

    def proposal(self, proposal_id: str) -> ProposalDraft | None:
        """The proposal with that id, if it was made."""
        return next((p for p in self.proposals if p.id == proposal_id), None)


@attrs.define(slots=True)
class TerminationDraft:
    """The termination in effect: its date, event and reason."""

    on: date
    precision: str
    event: str
    reason: str | None


@attrs.define(slots=True)
class Draft:
    """An agreement's state while the fold runs (see the module's docstring)."""

    agreement: str
    title: str
    opened_on: date
    opened_precision: str
    as_of: date
    parties: list[tuple[str, str]]
    clauses: dict[str, ClauseDraft] = attrs.field(factory=dict)
    totals: dict[tuple[str, str, str], TotalDraft] = attrs.field(factory=dict)
    stakes: dict[tuple[str, str], StakeDraft] = attrs.field(factory=dict)
    governance: list[dict[str, Any]] = attrs.field(factory=list)
    talks: dict[str, TalksDraft] = attrs.field(factory=dict)
    terminated: TerminationDraft | None = None
    events_applied: int = 0
    # Which events changed which keys, when someone asks (``observe``); None otherwise.
    observed: dict[Key, list[str]] | None = attrs.field(default=None, eq=False, repr=False)
    _current: str = attrs.field(default="", eq=False, repr=False)
    _next_expiry: date | None = attrs.field(default=None, eq=False, repr=False)
    # The ids of the agreement's parties (the rules ask at almost every event).
    party_ids: frozenset[str] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self.party_ids = frozenset(pid for pid, _ in self.parties)

    def observe(self) -> dict[Key, list[str]]:
        """From now on, note which events change which keys (see ``touch``)."""
        self.observed = {}
        return self.observed

    def folding(self, event: str) -> None:
        """The event whose changes follow."""
        self._current = event

    def touch(self, *key: str) -> None:
        """Note that the event being folded changes ``key`` (when observed)."""
        if self.observed is not None:
            events = self.observed.setdefault(key, [])
            if not events or events[-1] != self._current:
                events.append(self._current)

    def clause_in_force(self, clause_id: str, day: date) -> ClauseDraft | None:
        """The clause with that id if it is in force on ``day``."""
        clause = self.clauses.get(clause_id)
        return clause if clause is not None and clause.in_force_on(day) else None

    def clauses_in_force(self, day: date) -> list[ClauseDraft]:
        """The clauses in force on ``day``, by id."""
        return [c for _, c in sorted(self.clauses.items()) if c.in_force_on(day)]

    def ends(self, until: date | None) -> None:
        """A clause in force will expire after ``until`` (see ``expire``)."""
        if until is not None and (self._next_expiry is None or until < self._next_expiry):
            self._next_expiry = until

    def expire(self, day: date) -> None:
        """Forget the clauses past their ``until`` on ``day`` (the fold never goes back),
        so that the draft holds what is in force, not everything that ever was."""
        if self._next_expiry is None or day <= self._next_expiry:
            return
        expired = [k for k, c in self.clauses.items() if c.until is not None and c.until < day]
        for clause_id in expired:
            del self.clauses[clause_id]
        untils = [c.until for c in self.clauses.values() if c.until is not None]
        self._next_expiry = min(untils, default=None)

    # -- frozen values -----------------------------------------------------------

    def freeze(self, as_of: date, known_at: datetime | None = None) -> AgreementState:
        """The agreement on ``as_of`` (on or after the last event folded), as a value."""
        clauses = {c.id: clause_state(c) for c in self.clauses.values() if c.in_force_on(as_of)}
        return AgreementState(
            agreement=self.agreement,
            title=self.title,
            opened_on=self.opened_on,
            opened_precision=_member(DatePrecision, self.opened_precision),
            as_of=as_of,
            known_at=known_at,
            parties=tuple(Party(pid, name) for pid, name in self.parties),
            clauses=clauses,
            investments={key: _total(t) for key, t in self.totals.items()},
            stakes={key: _stake(s) for key, s in self.stakes.items()},
            governance=tuple(_governance(g) for g in self.governance),
            renegotiations={key: _talks(t) for key, t in self.talks.items()},
            terminated=_termination(self.terminated),
            events_applied=self.events_applied,
        )

    # -- plain form (checkpoints) ----------------------------------------------------

    def to_plain(self) -> dict[str, Any]:
        """The draft as JSON-ready data (``from_plain`` reads it back)."""
        return {
            "agreement": self.agreement,
            "title": self.title,
            "opened_on": self.opened_on.isoformat(),
            "opened_precision": self.opened_precision,
            "as_of": self.as_of.isoformat(),
            "parties": [list(p) for p in self.parties],
            "clauses": [
                [
                    c.id,
                    c.kind,
                    c.terms,
                    c.since.isoformat(),
                    c.since_precision,
                    _text(c.until),
                    c.confidence,
                    c.caused_by,
                    _text(c.amended_on),
                    c.amended_precision,
                ]
                for c in self.clauses.values()
            ],
            "totals": [
                [t.investor, t.recipient, t.currency, str(t.amount), t.instruments, t.caused_by]
                for t in self.totals.values()
            ],
            "stakes": [
                [
                    s.holder,
                    s.entity,
                    str(s.percent),
                    s.since.isoformat(),
                    s.since_precision,
                    s.caused_by,
                ]
                for s in self.stakes.values()
            ],
            "governance": self.governance,
            "talks": [_talks_to_plain(t) for t in self.talks.values()],
            "terminated": None
            if self.terminated is None
            else [
                self.terminated.on.isoformat(),
                self.terminated.precision,
                self.terminated.event,
                self.terminated.reason,
            ],
            "events_applied": self.events_applied,
        }

    @classmethod
    def from_plain(cls, plain: Plain) -> Draft:
        """The draft ``to_plain`` wrote (a cache of the fold: its shape is trusted)."""
        clauses = {}
        for row in plain["clauses"]:
            cid, kind, terms, since, precision, until, confidence, caused, amended, amended_p = row
            clauses[cid] = ClauseDraft(
                cid,
                kind,
                terms,
                _day(since),
                precision,
                _parsed(until),
                confidence,
                caused,
                _parsed(amended),
                amended_p,
            )
        totals = {
            (i, r, c): TotalDraft(i, r, c, Decimal(amount), instruments, caused)
            for i, r, c, amount, instruments, caused in plain["totals"]
        }
        stakes = {
            (h, e): StakeDraft(h, e, Decimal(p), _day(since), precision, caused)
            for h, e, p, since, precision, caused in plain["stakes"]
        }
        ended = plain["terminated"]
        draft = cls(
            agreement=plain["agreement"],
            title=plain["title"],
            opened_on=_day(plain["opened_on"]),
            opened_precision=plain["opened_precision"],
            as_of=_day(plain["as_of"]),
            parties=[(pid, name) for pid, name in plain["parties"]],
            clauses=clauses,
            totals=totals,
            stakes=stakes,
            governance=list(plain["governance"]),
            talks={t["id"]: _talks_from_plain(t) for t in plain["talks"]},
            terminated=None
            if ended is None
            else TerminationDraft(_day(ended[0]), ended[1], ended[2], ended[3]),
            events_applied=plain["events_applied"],
        )
        for clause in clauses.values():
            draft.ends(clause.until)
        return draft


E = TypeVar("E", bound=enum.Enum)


def _member(kind: type[E], value: str) -> E:
    # ``Enum(value)`` costs more than a dictionary look-up, and a freeze makes hundreds.
    member: E = kind._value2member_map_[value]  # type: ignore[assignment]  # keys are values
    return member


def _talks_to_plain(talks: TalksDraft) -> dict[str, Any]:
    return {
        "id": talks.id,
        "status": talks.status,
        "topics": talks.topics,
        "initiated_by": talks.initiated_by,
        "opened_on": talks.opened_on.isoformat(),
        "opened_precision": talks.opened_precision,
        "closed_on": _text(talks.closed_on),
        "closed_precision": talks.closed_precision,
        "proposals": [
            [p.id, p.by, p.proposed_on.isoformat(), p.precision, p.status, p.changes, p.caused_by]
            for p in talks.proposals
        ],
    }


def _talks_from_plain(plain: Plain) -> TalksDraft:
    return TalksDraft(
        id=plain["id"],
        status=plain["status"],
        topics=list(plain["topics"]),
        initiated_by=plain["initiated_by"],
        opened_on=_day(plain["opened_on"]),
        opened_precision=plain["opened_precision"],
        closed_on=_parsed(plain["closed_on"]),
        closed_precision=plain["closed_precision"],
        proposals=[
            ProposalDraft(pid, by, _day(on), precision, status, changes, caused)
            for pid, by, on, precision, status, changes, caused in plain["proposals"]
        ],
    )


# -- drafts to frozen values ---------------------------------------------------------


def clause_state(clause: ClauseDraft) -> ClauseState:
    """A clause draft as a frozen value."""
    kind = _member(ClauseKind, clause.kind)
    return ClauseState(
        id=clause.id,
        kind=kind,
        terms=stored_terms(kind, clause.terms),
        in_force_since=clause.since,
        since_precision=_member(DatePrecision, clause.since_precision),
        until=clause.until,
        amended_on=clause.amended_on,
        amended_precision=_member(DatePrecision, clause.amended_precision),
        confidence=_member(Confidence, clause.confidence),
        caused_by=tuple(clause.caused_by),
    )


def _total(total: TotalDraft) -> InvestmentTotal:
    return InvestmentTotal(
        investor=total.investor,
        recipient=total.recipient,
        total=Money(total.amount, total.currency),
        instruments=tuple(_member(Instrument, i) for i in total.instruments),
        caused_by=tuple(total.caused_by),
    )


def _stake(stake: StakeDraft) -> Stake:
    return Stake(
        holder=stake.holder,
        entity=stake.entity,
        percent=Percent(stake.percent),
        since=stake.since,
        since_precision=_member(DatePrecision, stake.since_precision),
        caused_by=stake.caused_by,
    )


def _governance(record: Plain) -> GovernanceRecord:
    return GovernanceRecord(
        id=record["id"],
        kind=_member(GovernanceKind, record["kind"]),
        effective_on=_day(record["effective_on"]),
        date_precision=_member(DatePrecision, record["date_precision"]),
        entity=record["entity"],
        people=tuple(record["people"]),
        description=record["description"],
        approved_by=tuple(record["approved_by"]),
        confidence=_member(Confidence, record["confidence"]),
    )


def _talks(talks: TalksDraft) -> RenegotiationState:
    return RenegotiationState(
        id=talks.id,
        status=_member(RenegotiationStatus, talks.status),
        topics=tuple(talks.topics),
        initiated_by=talks.initiated_by,
        opened_on=talks.opened_on,
        opened_precision=_member(DatePrecision, talks.opened_precision),
        proposals=tuple(
            ProposalState(
                id=p.id,
                by=p.by,
                proposed_on=p.proposed_on,
                proposed_precision=_member(DatePrecision, p.precision),
                status=_member(ProposalStatus, p.status),
                changes=tuple(structure_change(c) for c in p.changes),
                caused_by=p.caused_by,
            )
            for p in talks.proposals
        ),
        closed_on=talks.closed_on,
        closed_precision=_member(DatePrecision, talks.closed_precision),
    )


def _termination(ended: TerminationDraft | None) -> Terminated | None:
    if ended is None:
        return None
    return Terminated(
        on=ended.on,
        precision=_member(DatePrecision, ended.precision),
        event=ended.event,
        reason=ended.reason,
    )
