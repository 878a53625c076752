"""A governance event: a CEO removed, a board changed, a restructuring… A restructuring
needs the approval of every veto holder over restructuring in force on its date."""

from __future__ import annotations

import attrs

from ledger.domain.draft import Draft
from ledger.domain.entries import Entry
from ledger.domain.rules import VETO, require_party
from ledger.domain.values import GovernanceKind
from ledger.domain.vocabulary.base import DatedEvent, EventKind
from ledger.errors import RuleViolation


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


def fold(draft: Draft, entry: Entry) -> None:
    """Record the event, once every veto over its kind has approved it."""
    fact = entry.fact
    approved_by = list(fact.get("approved_by", ()))
    for index, approver in enumerate(approved_by):
        require_party(draft, f"approved_by[{index}]", approver)
    kind = fact["kind"]
    for clause in draft.clauses_in_force(entry.effective_on):
        holder = clause.terms.get("holder")
        vetoes = clause.kind == VETO and kind in clause.terms.get("over", ())
        if vetoes and holder is not None and holder not in approved_by:
            raise RuleViolation(
                "approved_by",
                f"expected approval by {holder!r}, who holds a veto over {kind} "
                f"(clause {clause.id!r}), got {approved_by}",
            )
    draft.governance.append(
        {
            "id": entry.id,
            "kind": kind,
            "effective_on": fact["effective_on"],
            "date_precision": entry.precision,
            "entity": fact["entity"],
            "people": list(fact.get("people", ())),
            "description": fact.get("description"),
            "approved_by": approved_by,
            "confidence": entry.confidence,
        }
    )
    draft.touch("governance", entry.id)


def summary(fact: Governance) -> str:
    """The kind, where, who, and what happened."""
    people = f" ({', '.join(fact.people)})" if fact.people else ""
    described = f": {fact.description}" if fact.description else ""
    return f"{fact.kind.value} at {fact.entity}{people}{described}"


KIND = EventKind(Governance, fold, summary)
