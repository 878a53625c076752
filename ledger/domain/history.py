"""The log as people read it: events by effective date, each withdrawal after its target."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime

import attrs

from ledger.domain.events import Correction, DatedEvent, Fact, Retraction, target_of
from ledger.domain.fold import Entry
from ledger.domain.timeline import Recorded, event_id, known, order


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

    ``start``/``end`` bound the effective date (a withdrawal goes with its target);
    ``kinds`` keeps only those event types.
    """
    withdrawn_by = known(agreement, records, known_at).withdrawn_by
    visible = [r for r in records if known_at is None or r.timestamp <= known_at]
    entries = {
        event_id(agreement, r.originator_version): HistoryEntry(
            id=event_id(agreement, r.originator_version),
            version=r.originator_version,
            recorded_at=r.timestamp,
            fact=r.fact,
            digest=r.digest,
            withdrawn_by=withdrawn_by.get(event_id(agreement, r.originator_version)),
        )
        for r in visible
    }
    followers: dict[str, list[HistoryEntry]] = {}
    for entry in entries.values():
        if isinstance(entry.fact, (Correction, Retraction)):
            followers.setdefault(target_of(entry.fact), []).append(entry)
    dated = [
        (Entry(e.id, e.version, e.fact), e)
        for e in entries.values()
        if not isinstance(e.fact, (Correction, Retraction))
    ]
    dated.sort(key=lambda pair: order(pair[0]))
    ordered: list[HistoryEntry] = []
    for placed, entry in dated:
        day = placed.effective_on
        if (start is None or day >= start) and (end is None or day <= end):
            _with_followers(entry, followers, ordered)
    return tuple(e for e in ordered if not kinds or e.fact.TYPE in kinds)


def _with_followers(
    entry: HistoryEntry, followers: dict[str, list[HistoryEntry]], out: list[HistoryEntry]
) -> None:
    out.append(entry)
    for follower in followers.get(entry.id, []):
        _with_followers(follower, followers, out)
