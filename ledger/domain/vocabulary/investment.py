"""An investor puts money into a recipient; totals are kept per investor, recipient and
currency."""

from __future__ import annotations

from decimal import Decimal

import attrs

from ledger.domain.draft import Draft, TotalDraft, latest
from ledger.domain.entries import Entry
from ledger.domain.rules import require_party
from ledger.domain.values import EXACT, Instrument, Money
from ledger.domain.vocabulary.base import DatedEvent, EventKind


@attrs.frozen(kw_only=True)
class Investment(DatedEvent):
    """An investor puts money into a recipient."""

    TYPE = "investment"
    TOPIC = "contract-ledger/investment"
    investor: str
    recipient: str
    amount: Money
    instrument: Instrument


def fold(draft: Draft, entry: Entry) -> None:
    """Add the amount to the total of its investor, recipient and currency."""
    fact = entry.fact
    investor, recipient = fact["investor"], fact["recipient"]
    require_party(draft, "investor", investor)
    require_party(draft, "recipient", recipient)
    money = fact["amount"]
    key = (investor, recipient, money["currency"])
    amount = Decimal(money["amount"])
    total = draft.totals.get(key)
    if total is None:
        draft.totals[key] = TotalDraft(
            investor, recipient, money["currency"], amount, [fact["instrument"]], [entry.id]
        )
    else:
        total.amount = EXACT.add(total.amount, amount)
        if fact["instrument"] not in total.instruments:
            total.instruments.append(fact["instrument"])
        latest(total.caused_by, entry.id)
    draft.touch("investment", *key)


def summary(fact: Investment) -> str:
    """Who put how much into whom."""
    return f"{fact.investor} → {fact.recipient}: {fact.amount} ({fact.instrument.value})"


KIND = EventKind(Investment, fold, summary)
