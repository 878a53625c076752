"""One clause's whole life: added, each amendment, removal, expiry or termination.

The state on a date holds only the clauses in force then; what a clause was before, and
how it ended, is told by folding the timeline with the fold noting which events change
it (``Draft.observe``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import attrs

from ledger.domain.draft import Draft, clause_state
from ledger.domain.state import ClauseState


@attrs.frozen(kw_only=True)
class ClauseChange:
    """One moment of a clause's life: what happened on ``on``, by which events (none
    for an expiry), and the clause after it (``None``: out of force)."""

    on: date
    change: str  # added, amended, removed, expired, ended (the agreement was terminated)
    events: tuple[str, ...]
    clause: ClauseState | None


@attrs.frozen(kw_only=True)
class ClauseLife:
    """A clause's changes up to a date, oldest first."""

    clause: str
    as_of: date
    changes: tuple[ClauseChange, ...]

    @property
    def in_force(self) -> ClauseState | None:
        """The clause on ``as_of``, if it was in force then."""
        return self.changes[-1].clause if self.changes else None


def clause_life(
    clause_id: str, days: Iterable[tuple[Draft, date, int, date | None]], as_of: date
) -> ClauseLife:
    """The life of ``clause_id`` told by a fold's days (``fold_days(..., observe=True)``
    from the opening) up to ``as_of``."""
    key = ("clause", clause_id)
    changes: list[ClauseChange] = []
    before: ClauseState | None = None
    seen = 0
    for draft, day, _, _ in days:
        if before is not None and _lapsed(before, day):
            changes.append(_expired(before))
            before = None
        events = (draft.observed or {}).get(key, [])
        if len(events) == seen:
            continue
        made, seen = tuple(events[seen:]), len(events)
        found = draft.clauses.get(clause_id)
        now = clause_state(found) if found is not None else None
        if now is None:
            ended = draft.terminated is not None and draft.terminated.on == day
            changes.append(
                ClauseChange(
                    on=day, change="ended" if ended else "removed", events=made, clause=None
                )
            )
        elif before is not None and before.in_force_since == now.in_force_since:
            changes.append(ClauseChange(on=day, change="amended", events=made, clause=now))
        else:
            if before is not None:  # removed and added again the same day
                changes.append(ClauseChange(on=day, change="removed", events=made, clause=None))
            changes.append(ClauseChange(on=day, change="added", events=made, clause=now))
        before = now
    if before is not None and _lapsed(before, as_of):
        changes.append(_expired(before))
    return ClauseLife(clause=clause_id, as_of=as_of, changes=tuple(changes))


def _lapsed(clause: ClauseState, day: date) -> bool:
    return clause.until is not None and clause.until < day


def _expired(clause: ClauseState) -> ClauseChange:
    until = clause.until or date.max
    return ClauseChange(on=until + timedelta(days=1), change="expired", events=(), clause=None)
