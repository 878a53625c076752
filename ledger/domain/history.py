"""The log as people read it: events by effective date, each withdrawal after its target."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime

import attrs

from ledger.domain.entries import OPENING
from ledger.domain.events import DatedEvent, Fact
from ledger.domain.ids import event_id
from ledger.domain.timeline import Recorded, dated, known, target


@attrs.frozen(kw_only=True)
class HistoryEntry:
    """One recorded event with its id, and what withdrew it if anything did."""

    id: str
    version: int
    recorded_at: datetime
    fact: Fact
    digest: str
    withdrawn_by: str | None = None

    @property
    def effective_on(self) -> date | None:
        """The event's own date (a correction or retraction has none)."""
        return self.fact.effective_on if isinstance(self.fact, DatedEvent) else None


def history(
    agreement: str,
    records: Sequence[Recorded],
    *,
    known_at: datetime | None = None,
    start: date | None = None,
    end: date | None = None,
    kinds: Collection[str] = (),
) -> tuple[HistoryEntry, ...]:
    """The events known at ``known_at``, oldest effective date first.

    ``start``/``end`` bound the effective date, and ``kinds`` the event types; a
    correction or retraction always stays next to the event it withdraws, and is shown
    with it when either matches.
    """
    visible = [r for r in records if known_at is None or r.timestamp <= known_at]
    withdrawn_by = known(agreement, visible).withdrawn_by
    followers: dict[str, list[Recorded]] = {}
    for record in visible:
        aimed = target(record.plain)
        if aimed is not None:
            followers.setdefault(aimed, []).append(record)
    own = sorted(
        ((date.fromisoformat(r.plain["effective_on"]), r.type != OPENING, r.originator_version), r)
        for r in visible
        if target(r.plain) is None
    )
    shown: list[HistoryEntry] = []
    for (day, _, _), record in own:
        if (start is not None and day < start) or (end is not None and day > end):
            continue
        group = [record, *_followers(agreement, record, followers)]
        if not kinds or any(_kind_of(r) & set(kinds) for r in group):
            shown.extend(_entry(agreement, r, withdrawn_by) for r in group)
    return tuple(shown)


def _followers(
    agreement: str, record: Recorded, followers: dict[str, list[Recorded]]
) -> list[Recorded]:
    found = []
    for follower in followers.get(event_id(agreement, record.originator_version), []):
        found.append(follower)
        found.extend(_followers(agreement, follower, followers))
    return found


def _kind_of(record: Recorded) -> set[str]:
    """The types an event counts as for ``kinds``: its own, and its replacement's."""
    replacement = dated(record.plain)
    return {record.type} | ({replacement["type"]} if replacement is not None else set())


def _entry(agreement: str, record: Recorded, withdrawn_by: dict[str, str]) -> HistoryEntry:
    ident = event_id(agreement, record.originator_version)
    return HistoryEntry(
        id=ident,
        version=record.originator_version,
        recorded_at=record.timestamp,
        fact=record.fact,
        digest=record.digest,
        withdrawn_by=withdrawn_by.get(ident),
    )
