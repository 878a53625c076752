"""An atomic set of clause changes: add a clause, amend its terms, remove it."""

from __future__ import annotations

import attrs

from ledger.domain.clauses import AddClause, AmendClause, Change
from ledger.domain.draft import Draft
from ledger.domain.entries import Entry
from ledger.domain.rules import apply_changes
from ledger.domain.values import describe
from ledger.domain.vocabulary.base import DatedEvent, EventKind


@attrs.frozen(kw_only=True)
class Amendment(DatedEvent):
    """An atomic set of clause changes."""

    TYPE = "amendment"
    TOPIC = "contract-ledger/amendment"
    changes: tuple[Change, ...]


def fold(draft: Draft, entry: Entry) -> None:
    """Every change, in order; any refused refuses them all."""
    apply_changes(draft, entry.fact["changes"], entry, "changes")


def summary(fact: Amendment) -> str:
    """The changes, one after the other."""
    return describe_changes(fact.changes)


def describe_changes(changes: tuple[Change, ...]) -> str:
    """Clause changes in a few words each: ``add x (veto); amend y: rate=8``."""
    return "; ".join(_change(c) for c in changes)


def _change(change: Change) -> str:
    if isinstance(change, AddClause):
        return f"add {change.id} ({change.kind.value})"
    if isinstance(change, AmendClause):
        terms = ", ".join(f"{k}={describe(v)}" for k, v in change.terms.items())
        until = f" until {change.until}" if change.until else ""
        return f"amend {change.id}: {terms}{until}"
    return f"remove {change.id}"


KIND = EventKind(Amendment, fold, summary)
