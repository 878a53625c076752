"""contract-ledger: an event-sourced ledger of long-lived business agreements.

>>> from datetime import date
>>> from ledger import Ledger
>>> with Ledger("memory:") as ledger:
...     _ = ledger.load_example("openai-microsoft")
...     state = ledger.state_at(date(2024, 1, 1))
>>> state.clause_in_force("azure-exclusivity").terms.exclusive
True
"""

# Names are imported when first used, so that ``import ledger`` (and every ``ledger``
# command's start-up) loads only what it needs: a replay never loads YAML, for one.
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger.adapters.files import AmendmentFile, parse_text, read_file
    from ledger.application import Appended, Ledger
    from ledger.domain.clauses import AddClause, AmendClause, ClauseKind, RemoveClause
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
        Termination,
        structure_fact,
        unstructure_fact,
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

_WHERE = {
    "AddClause": "ledger.domain.clauses",
    "AgreementExists": "ledger.errors",
    "AgreementNotFound": "ledger.errors",
    "AgreementOpened": "ledger.domain.events",
    "AgreementState": "ledger.domain.state",
    "AmendClause": "ledger.domain.clauses",
    "Amendment": "ledger.domain.events",
    "AmendmentFile": "ledger.adapters.files",
    "Appended": "ledger.application",
    "ClauseKind": "ledger.domain.clauses",
    "ClauseState": "ledger.domain.state",
    "ConcurrencyError": "ledger.errors",
    "Confidence": "ledger.domain.values",
    "Correction": "ledger.domain.events",
    "DateOutOfRange": "ledger.errors",
    "DatePrecision": "ledger.domain.values",
    "Difference": "ledger.domain.difference",
    "FileError": "ledger.errors",
    "Governance": "ledger.domain.events",
    "GovernanceKind": "ledger.domain.values",
    "HistoryEntry": "ledger.domain.history",
    "InputError": "ledger.errors",
    "Instrument": "ledger.domain.values",
    "IntegrityFailure": "ledger.errors",
    "InvalidField": "ledger.errors",
    "Investment": "ledger.domain.events",
    "Ledger": "ledger.application",
    "LedgerError": "ledger.errors",
    "Money": "ledger.domain.values",
    "OwnershipChange": "ledger.domain.events",
    "Party": "ledger.domain.values",
    "Percent": "ledger.domain.values",
    "Proposal": "ledger.domain.events",
    "ProposalRejected": "ledger.domain.events",
    "ProposalWithdrawn": "ledger.domain.events",
    "RemoveClause": "ledger.domain.clauses",
    "RenegotiationConcluded": "ledger.domain.events",
    "RenegotiationOpened": "ledger.domain.events",
    "Retraction": "ledger.domain.events",
    "RuleViolation": "ledger.errors",
    "Source": "ledger.domain.values",
    "StoreError": "ledger.errors",
    "Termination": "ledger.domain.events",
    "difference": "ledger.domain.difference",
    "parse_text": "ledger.adapters.files",
    "read_file": "ledger.adapters.files",
    "structure_fact": "ledger.domain.events",
    "unstructure_fact": "ledger.domain.events",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'ledger' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
    "Termination",
    "difference",
    "parse_text",
    "read_file",
    "structure_fact",
    "unstructure_fact",
]
