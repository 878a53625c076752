"""The event vocabulary: every fact the ledger can record about an agreement.

Each class has a ``TYPE`` (its name in amendment files) and a ``TOPIC`` (its name in the
store). Both are public and permanent: renaming or moving a class never changes them, so
stored events always resolve. A class whose stored shape changes raises its
``class_version`` and gains a static ``upcast_v<N>_v<N+1>(state)``, as eventsourcing does.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import ClassVar, TypeAlias

import attrs

from ledger.domain.clauses import AddClause, Change
from ledger.domain.values import DatePrecision, Money, Party, Percent, Source


class Instrument(enum.Enum):
    """What an investment bought."""

    EQUITY = "equity"
    PROFIT_INTEREST = "profit_interest"
    CLOUD_CREDITS = "cloud_credits"
    OTHER = "other"


class GovernanceKind(enum.Enum):
    """Kinds of governance event."""

    CEO_REMOVED = "ceo_removed"
    CEO_APPOINTED = "ceo_appointed"
    CEO_REINSTATED = "ceo_reinstated"
    BOARD_CHANGED = "board_changed"
    OBSERVER_SEAT_GRANTED = "observer_seat_granted"
    OBSERVER_SEAT_RELINQUISHED = "observer_seat_relinquished"
    DEPARTURE = "departure"
    RESTRUCTURING = "restructuring"
    OTHER = "other"


class Outcome(enum.Enum):
    """How a renegotiation ended."""

    ACCEPTED = "accepted"
    ABANDONED = "abandoned"


@attrs.frozen(kw_only=True)
class DatedEvent:
    """What every event with a place on the agreement's calendar carries."""

    TYPE: ClassVar[str]
    TOPIC: ClassVar[str]
    class_version: ClassVar[int] = 1

    effective_on: date
    source: Source
    date_precision: DatePrecision = DatePrecision.DAY
    note: str | None = None


@attrs.frozen(kw_only=True)
class AgreementOpened(DatedEvent):
    """The agreement starts: its parties and the clauses in force from day one."""

    TYPE = "agreement_opened"
    TOPIC = "contract-ledger/agreement_opened"
    agreement: str
    title: str
    parties: tuple[Party, ...]
    clauses: tuple[AddClause, ...] = ()


@attrs.frozen(kw_only=True)
class Investment(DatedEvent):
    """An investor puts money into a recipient."""

    TYPE = "investment"
    TOPIC = "contract-ledger/investment"
    investor: str
    recipient: str
    amount: Money
    instrument: Instrument


@attrs.frozen(kw_only=True)
class Amendment(DatedEvent):
    """An atomic set of clause changes."""

    TYPE = "amendment"
    TOPIC = "contract-ledger/amendment"
    changes: tuple[Change, ...]


@attrs.frozen(kw_only=True)
class OwnershipChange(DatedEvent):
    """A holder's stake in an entity, from this date on."""

    TYPE = "ownership_change"
    TOPIC = "contract-ledger/ownership_change"
    holder: str
    entity: str
    percent: Percent


@attrs.frozen(kw_only=True)
class Governance(DatedEvent):
    """A governance event: a CEO removed, a board changed, a restructuring…"""

    TYPE = "governance"
    TOPIC = "contract-ledger/governance"
    kind: GovernanceKind
    entity: str
    people: tuple[str, ...] = ()
    description: str | None = None
    approved_by: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class RenegotiationOpened(DatedEvent):
    """A party opens talks on some topics of the agreement."""

    TYPE = "renegotiation_opened"
    TOPIC = "contract-ledger/renegotiation_opened"
    renegotiation: str
    initiated_by: str
    topics: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Proposal(DatedEvent):
    """A party proposes clause changes within an open renegotiation."""

    TYPE = "proposal"
    TOPIC = "contract-ledger/proposal"
    renegotiation: str
    proposal: str
    by: str
    changes: tuple[Change, ...]


@attrs.frozen(kw_only=True)
class ProposalRejected(DatedEvent):
    """A pending proposal is rejected."""

    TYPE = "proposal_rejected"
    TOPIC = "contract-ledger/proposal_rejected"
    renegotiation: str
    proposal: str


@attrs.frozen(kw_only=True)
class ProposalWithdrawn(DatedEvent):
    """A pending proposal is withdrawn by its author."""

    TYPE = "proposal_withdrawn"
    TOPIC = "contract-ledger/proposal_withdrawn"
    renegotiation: str
    proposal: str


@attrs.frozen(kw_only=True)
class RenegotiationConcluded(DatedEvent):
    """Talks end: one proposal accepted (its changes take effect now) or abandoned."""

    TYPE = "renegotiation_concluded"
    TOPIC = "contract-ledger/renegotiation_concluded"
    renegotiation: str
    accepted: str | None = None
    outcome: Outcome = Outcome.ACCEPTED


DatedFact: TypeAlias = (
    AgreementOpened
    | Investment
    | Amendment
    | OwnershipChange
    | Governance
    | RenegotiationOpened
    | Proposal
    | ProposalRejected
    | ProposalWithdrawn
    | RenegotiationConcluded
)


@attrs.frozen(kw_only=True)
class Correction:
    """Withdraws an earlier event and puts a replacement in its place.

    It has no date of its own: the replacement carries one. The original stays in
    the log forever; it is only left out of folds as known after the correction.
    """

    TYPE: ClassVar[str] = "correction"
    TOPIC: ClassVar[str] = "contract-ledger/correction"
    class_version: ClassVar[int] = 1
    corrects: str
    reason: str
    source: Source
    replacement: DatedFact
    note: str | None = None


@attrs.frozen(kw_only=True)
class Retraction:
    """Withdraws an earlier event that should never have been recorded."""

    TYPE: ClassVar[str] = "retraction"
    TOPIC: ClassVar[str] = "contract-ledger/retraction"
    class_version: ClassVar[int] = 1
    retracts: str
    reason: str
    source: Source
    note: str | None = None


Withdrawal: TypeAlias = Correction | Retraction
Fact: TypeAlias = DatedFact | Withdrawal

FACT_TYPES: tuple[type[Fact], ...] = (
    AgreementOpened,
    Investment,
    Amendment,
    OwnershipChange,
    Governance,
    RenegotiationOpened,
    Proposal,
    ProposalRejected,
    ProposalWithdrawn,
    RenegotiationConcluded,
    Correction,
    Retraction,
)
BY_TYPE: dict[str, type[Fact]] = {cls.TYPE: cls for cls in FACT_TYPES}
BY_TOPIC: dict[str, type[Fact]] = {cls.TOPIC: cls for cls in FACT_TYPES}


def target_of(withdrawal: Withdrawal) -> str:
    """The id of the event a correction or retraction withdraws."""
    return withdrawal.corrects if isinstance(withdrawal, Correction) else withdrawal.retracts
