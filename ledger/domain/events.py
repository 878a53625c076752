"""The event vocabulary's registry: every kind of event the ledger can record, and the
one plain form of each (the amendment-file shape, which is also the stored and hashed
shape).

Each kind lives in its own module of ``ledger.domain.vocabulary`` with its shape, its
fold and its rules; this module lists them (``KINDS``) and reads and writes their plain
form with the converter of ``ledger.domain.codec``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any, TypeAlias

from ledger.domain.codec import converter, mapping_of, structure, trusted
from ledger.domain.values import (
    GovernanceKind,
    Instrument,
    Outcome,
    parse_slug,
)
from ledger.domain.vocabulary import (
    amendment,
    governance,
    investment,
    opening,
    ownership,
    renegotiation,
    termination,
)
from ledger.domain.vocabulary.amendment import Amendment
from ledger.domain.vocabulary.base import DatedEvent, EventKind, Fold
from ledger.domain.vocabulary.governance import Governance
from ledger.domain.vocabulary.investment import Investment
from ledger.domain.vocabulary.opening import AgreementOpened
from ledger.domain.vocabulary.ownership import OwnershipChange
from ledger.domain.vocabulary.renegotiation import (
    Proposal,
    ProposalRejected,
    ProposalWithdrawn,
    RenegotiationConcluded,
    RenegotiationOpened,
)
from ledger.domain.vocabulary.termination import Termination
from ledger.domain.vocabulary.withdrawal import (
    RETRACTION,
    Correction,
    Retraction,
    Withdrawal,
    summary_correction,
    target_of,
)
from ledger.errors import InvalidField, at_path, shown

__all__ = [
    "BY_TOPIC",
    "BY_TYPE",
    "FACT_TYPES",
    "FOLDS",
    "KINDS",
    "AgreementOpened",
    "Amendment",
    "Correction",
    "DatedEvent",
    "DatedFact",
    "Fact",
    "Governance",
    "GovernanceKind",
    "Instrument",
    "Investment",
    "Outcome",
    "OwnershipChange",
    "Proposal",
    "ProposalRejected",
    "ProposalWithdrawn",
    "RenegotiationConcluded",
    "RenegotiationOpened",
    "Retraction",
    "Termination",
    "Withdrawal",
    "structure_fact",
    "structure_stored",
    "summary",
    "target_of",
    "unstructure_fact",
]

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
    | Termination
)
Fact: TypeAlias = DatedFact | Withdrawal


def _summary_correction(fact: Correction) -> str:
    return summary_correction(fact, summary(fact.replacement))


KINDS: tuple[EventKind, ...] = (
    opening.KIND,
    investment.KIND,
    amendment.KIND,
    ownership.KIND,
    governance.KIND,
    *renegotiation.KINDS,
    termination.KIND,
    EventKind(Correction, None, _summary_correction),
    RETRACTION,
)
FACT_TYPES: tuple[type[Fact], ...] = tuple(kind.fact for kind in KINDS)
BY_TYPE: dict[str, type[Fact]] = {cls.TYPE: cls for cls in FACT_TYPES}
BY_TOPIC: dict[str, type[Fact]] = {cls.TOPIC: cls for cls in FACT_TYPES}
FOLDS: dict[str, Fold] = {k.fact.TYPE: k.fold for k in KINDS if k.fold is not None}
# Rules every entry must pass, whatever its kind, set by kinds that constrain the others.
GUARDS: tuple[Fold, ...] = tuple(k.guard for k in KINDS if k.guard is not None)
_SUMMARIES = {kind.fact: kind.summary for kind in KINDS}


def summary(fact: Fact | DatedEvent) -> str:
    """One line saying what an event records."""
    return _SUMMARIES[type(fact)](fact)


# -- plain form ------------------------------------------------------------------------


def structure_fact(raw: object) -> Fact:
    """An event from its plain form (``{"type": "investment", ...}``), checked strictly."""
    mapping = mapping_of(raw, "an event (a mapping with a type)")
    if "type" not in mapping:
        raise InvalidField("type", "required field is missing")
    kind = mapping["type"]
    cls = BY_TYPE.get(kind) if isinstance(kind, str) else None
    if cls is None:
        options = ", ".join(BY_TYPE)
        raise InvalidField("type", f"expected one of {options}, got {shown(kind)}")
    fields = {key: value for key, value in mapping.items() if key != "type"}
    fact = structure(fields, cls)
    _check_shape(fact)
    return fact


def _check_shape(fact: Fact) -> None:
    """Rules about one event alone, which need no timeline to check."""
    if isinstance(fact, DatedEvent) and not fact.date_precision.admits(fact.effective_on):
        precision = fact.date_precision.value
        raise InvalidField(
            "effective_on",
            f"expected the first day of the {precision} (date_precision {precision}), "
            f"got '{fact.effective_on.isoformat()}'",
        )
    changes = getattr(fact, "changes", None)
    if changes is not None and not changes:
        raise InvalidField("changes", "expected at least one change, got none")
    for name in ("agreement", "renegotiation", "proposal", "accepted", "entity"):
        value = getattr(fact, name, None)
        if isinstance(value, str):
            at_path(name, partial(parse_slug, value, ""))
    if isinstance(fact, RenegotiationConcluded):
        if fact.outcome is Outcome.ACCEPTED and fact.accepted is None:
            raise InvalidField(
                "accepted", "expected the id of the accepted proposal (or outcome: abandoned)"
            )
        if fact.outcome is Outcome.ABANDONED and fact.accepted is not None:
            raise InvalidField("accepted", "expected no accepted proposal when abandoned")
    if isinstance(fact, AgreementOpened):
        if not fact.parties:
            raise InvalidField("parties", "expected the agreement's parties, got none")
        for index, party in enumerate(fact.parties):
            at_path(f"parties[{index}].id", partial(parse_slug, party.id, ""))


def unstructure_fact(fact: Fact) -> dict[str, Any]:
    """The plain form of an event, ``type`` first; unknown and default fields left out."""
    plain: dict[str, Any] = converter.unstructure(fact)
    return {"type": fact.TYPE, **plain}


def _dated_fact(value: object, _: type) -> DatedEvent:
    fact = structure_fact(value)
    if not isinstance(fact, DatedEvent):
        raise InvalidField("type", f"expected an event with a date of its own, got {fact.TYPE!r}")
    return fact


# -- reading back what the ledger wrote --------------------------------------------------


def structure_stored(raw: Mapping[str, Any]) -> Fact:
    """An event from the plain form the ledger stored (``unstructure_fact``'s output),
    read without re-checking (see ``ledger.domain.codec.trusted``)."""
    cls = BY_TYPE[raw["type"]]
    fact: Fact = trusted.structure({k: v for k, v in raw.items() if k != "type"}, cls)
    return fact


def _stored_dated(raw: Mapping[str, Any], _: type) -> DatedEvent:
    fact = structure_stored(raw)
    if not isinstance(fact, DatedEvent):  # pragma: no cover - only dated facts are written here
        raise InvalidField("type", f"expected an event with a date of its own, got {fact.TYPE!r}")
    return fact


# A correction's replacement is typed by the base class: any dated event, told by its type.
converter.register_structure_hook_func(lambda cls: cls is DatedEvent, _dated_fact)
converter.register_unstructure_hook_func(lambda cls: cls is DatedEvent, unstructure_fact)
trusted.register_structure_hook_func(lambda cls: cls is DatedEvent, _stored_dated)
