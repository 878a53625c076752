"""The agreement opens: its title, parties and the clauses in force from day one."""

from __future__ import annotations

from collections import Counter
from functools import partial

import attrs

from ledger.domain.clauses import AddClause
from ledger.domain.draft import Draft
from ledger.domain.entries import Entry
from ledger.domain.rules import add_clause
from ledger.domain.values import Party
from ledger.domain.vocabulary.base import DatedEvent, EventKind
from ledger.errors import RuleViolation, at_path


@attrs.frozen(kw_only=True)
class AgreementOpened(DatedEvent):
    """The agreement starts: its parties and the clauses in force from day one."""

    TYPE = "agreement_opened"
    TOPIC = "contract-ledger/agreement_opened"
    agreement: str
    title: str
    parties: tuple[Party, ...]
    clauses: tuple[AddClause, ...] = ()


def open_draft(entry: Entry, *, observe: bool = False) -> Draft:
    """The state on the day the agreement opens (``entry`` must be its opening); with
    ``observe``, it notes the keys the opening sets (see ``Draft.observe``)."""
    if entry.type != AgreementOpened.TYPE:
        raise RuleViolation("type", f"expected the agreement to open first, got {entry.type!r}")
    fact = entry.fact
    counts = Counter(party["id"] for party in fact["parties"])  # linear: parties are many
    duplicates = sorted(pid for pid, count in counts.items() if count > 1)
    if duplicates:
        raise RuleViolation("parties", f"expected distinct party ids, got {duplicates[0]!r} twice")
    draft = Draft(
        agreement=fact["agreement"],
        title=fact["title"],
        opened_on=entry.effective_on,
        opened_precision=entry.precision,
        as_of=entry.effective_on,
        parties=[(party["id"], party["name"]) for party in fact["parties"]],
        events_applied=1,
    )
    if observe:
        draft.observe()
    draft.folding(entry.id)
    for index, add in enumerate(fact.get("clauses", ())):
        at_path(f"clauses[{index}]", partial(add_clause, draft, add, entry))
    return draft


def fold(draft: Draft, _entry: Entry) -> None:
    """A second opening is refused."""
    raise RuleViolation(
        "type", f"expected one opening, but the agreement already opened on {draft.opened_on}"
    )


def summary(fact: AgreementOpened) -> str:
    """The title and the clauses it opens with."""
    return f"{fact.title}: " + ", ".join(c.id for c in fact.clauses)


KIND = EventKind(AgreementOpened, fold, summary)
