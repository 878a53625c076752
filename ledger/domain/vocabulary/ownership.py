"""A holder's stake in an entity, from a date on. Stakes in one entity are summed at the
end of each day (``over_allocation``), so that a recapitalisation's changes on one date
may come in any order."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import attrs

from ledger.domain.draft import Draft, StakeDraft
from ledger.domain.entries import Entry
from ledger.domain.rules import require_party
from ledger.domain.values import Percent, format_decimal
from ledger.domain.vocabulary.base import DatedEvent, EventKind


@attrs.frozen(kw_only=True)
class OwnershipChange(DatedEvent):
    """A holder's stake in an entity, from this date on."""

    TYPE = "ownership_change"
    TOPIC = "contract-ledger/ownership_change"
    holder: str
    entity: str
    percent: Percent


def fold(draft: Draft, entry: Entry) -> None:
    """The holder's stake becomes the percent (0: no stake)."""
    fact = entry.fact
    holder, entity = fact["holder"], fact["entity"]
    require_party(draft, "holder", holder)
    key = (holder, entity)
    percent = Decimal(fact["percent"])
    if percent == 0:
        draft.stakes.pop(key, None)
    else:
        stake = draft.stakes.get(key)
        if stake is None:
            draft.stakes[key] = StakeDraft(
                holder, entity, percent, entry.effective_on, entry.precision, entry.id
            )
        else:
            stake.percent, stake.since, stake.since_precision, stake.caused_by = (
                percent,
                entry.effective_on,
                entry.precision,
                entry.id,
            )
    draft.touch("stake", holder, entity)


def over_allocation(draft: Draft, entities: Iterable[str]) -> tuple[str, str] | None:
    """One of ``entities`` whose stakes sum to more than 100, with how they add up, if any."""
    wanted = set(entities)
    totals: dict[str, list[StakeDraft]] = {}
    for stake in draft.stakes.values():
        if stake.entity in wanted:
            totals.setdefault(stake.entity, []).append(stake)
    for entity, stakes in sorted(totals.items()):
        if sum((s.percent for s in stakes), Decimal(0)) > 100:
            parts = " + ".join(f"{format_decimal(s.percent)}% ({s.holder})" for s in stakes)
            return entity, f"expected stakes in {entity!r} to sum to at most 100, got {parts}"
    return None


def summary(fact: OwnershipChange) -> str:
    """Who holds how much of what."""
    return f"{fact.holder} holds {fact.percent} of {fact.entity}"


KIND = EventKind(OwnershipChange, fold, summary)
