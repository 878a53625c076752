"""The agreement ends: from its date no clause is in force, and nothing may follow it on
the timeline but corrections and retractions (the fold refuses anything later, naming
the termination). Stakes, investments, governance and talks stay as they were. A
correction or retraction of the termination revives the agreement."""

from __future__ import annotations

import attrs

from ledger.domain.draft import Draft, TerminationDraft
from ledger.domain.entries import Entry
from ledger.domain.values import DatePrecision
from ledger.domain.vocabulary.base import DatedEvent, EventKind
from ledger.errors import RuleViolation


@attrs.frozen(kw_only=True)
class Termination(DatedEvent):
    """The agreement ends on ``effective_on``."""

    TYPE = "termination"
    TOPIC = "contract-ledger/termination"
    reason: str | None = None


def fold(draft: Draft, entry: Entry) -> None:
    """Every clause ends; the state says when, by which event, and why."""
    for clause_id in list(draft.clauses):
        draft.touch("clause", clause_id)
    draft.clauses.clear()
    draft.terminated = TerminationDraft(
        entry.effective_on, entry.precision, entry.id, entry.fact.get("reason")
    )
    draft.touch("termination")


def refuse_after(draft: Draft, entry: Entry) -> None:
    """Refuse ``entry`` if the agreement was terminated before it in the fold's order."""
    ended = draft.terminated
    if ended is None:
        return
    on = DatePrecision(ended.precision).label(ended.on)
    raise RuleViolation(
        "effective_on",
        f"expected no event after the agreement's termination ({ended.event}, effective {on}), "
        f"got {entry.type} on '{entry.effective_on}'",
    )


def summary(fact: Termination) -> str:
    """Why the agreement ended."""
    return "the agreement ends" + (f": {fact.reason}" if fact.reason else "")


KIND = EventKind(Termination, fold, summary, guard=refuse_after)
