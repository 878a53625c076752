"""contract-ledger: an event-sourced ledger of long-lived business agreements.

>>> from datetime import date
>>> from ledger import Ledger
>>> with Ledger("memory:") as ledger:
...     _ = ledger.load_example("openai-microsoft")
...     state = ledger.state_at(date(2024, 1, 1))
>>> state.clause_in_force("azure-exclusivity").terms.exclusive
True
"""

from ledger.adapters.files import AmendmentFile, parse_text, read_file
from ledger.application import Appended, Ledger
from ledger.domain.clauses import AddClause, AmendClause, ClauseKind, RemoveClause
from ledger.domain.codec import structure_fact, unstructure_fact
from ledger.domain.difference import Difference, difference
from ledger.domain.events import (
    AgreementOpened,
    Amendment,
    Correction,
    Governance,
    GovernanceKind,
    Instrument,
    Investment,
    OwnershipChange,
    Proposal,
    ProposalRejected,
    ProposalWithdrawn,
    RenegotiationConcluded,
    RenegotiationOpened,
    Retraction,
)
from ledger.domain.history import HistoryEntry
from ledger.domain.state import AgreementState, ClauseState
from ledger.domain.values import Confidence, DatePrecision, Money, Party, Percent, Source
from ledger.errors import (
    AgreementExists,
    AgreementNotFound,
    ConcurrencyError,
    DateOutOfRange,
    FileError,
    InputError,
    IntegrityFailure,
    InvalidField,
    LedgerError,
    RuleViolation,
    StoreError,
)

__all__ = [
    "AddClause",
    "AgreementExists",
    "AgreementNotFound",
    "AgreementOpened",
    "AgreementState",
    "AmendClause",
    "Amendment",
    "AmendmentFile",
    "Appended",
    "ClauseKind",
    "ClauseState",
    "ConcurrencyError",
    "Confidence",
    "Correction",
    "DateOutOfRange",
    "DatePrecision",
    "Difference",
    "FileError",
    "Governance",
    "GovernanceKind",
    "HistoryEntry",
    "InputError",
    "Instrument",
    "IntegrityFailure",
    "InvalidField",
    "Investment",
    "Ledger",
    "LedgerError",
    "Money",
    "OwnershipChange",
    "Party",
    "Percent",
    "Proposal",
    "ProposalRejected",
    "ProposalWithdrawn",
    "RemoveClause",
    "RenegotiationConcluded",
    "RenegotiationOpened",
    "Retraction",
    "RuleViolation",
    "Source",
    "StoreError",
    "difference",
    "parse_text",
    "read_file",
    "structure_fact",
    "unstructure_fact",
]
