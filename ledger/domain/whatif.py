"""Hypotheses: events applied in memory on top of the history as known at a time.

Like an append, a hypothesis goes through the one check, over every later event, on
the events' own effective dates; unlike an append, it is never stored. Hypothetical
events take the ids the next appends would get, and are listed as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

import attrs

from ledger.domain.difference import Causes, Difference, difference
from ledger.domain.draft import Draft, Key
from ledger.domain.events import Fact, RenegotiationConcluded
from ledger.domain.fold import Batch, Suffix, check
from ledger.domain.ids import parse_event_id
from ledger.domain.state import AgreementState, ProposalStatus
from ledger.domain.values import Confidence, Source
from ledger.errors import InputError


@attrs.frozen(kw_only=True)
class WhatIf:
    """The agreement on a date as it is, as it would be, and what differs."""

    baseline: AgreementState
    hypothetical: AgreementState
    events: tuple[tuple[str, Fact], ...]
    causes: Causes = attrs.field(factory=dict)

    @property
    def difference(self) -> Difference:
        """What the hypothesis changes relative to the actual agreement."""
        return difference(self.baseline, self.hypothetical, self.causes)


def hypothetical(
    baseline: AgreementState, suffix: Suffix, batch: Batch, on: date, known_at: datetime
) -> tuple[AgreementState, Causes]:
    """The agreement on ``on`` with the batch's events, checked over the whole timeline
    after the suffix's start, and the batch's events behind each change.

    Raises ``InvalidField``/``RuleViolation`` naming the hypothetical event at fault, as
    a refused append would.
    """
    found: list[tuple[AgreementState, Causes]] = []

    def keep(draft: Draft, day: date, _count: int, upcoming: date | None) -> None:
        if day <= on and (upcoming is None or upcoming > on):
            found.append((draft.freeze(on, known_at), _ours(draft.observed or {}, batch)))

    check(suffix, batch, keep, observe=True)
    # Nothing after the start is dated by ``on``: the hypothesis changes nothing on it.
    return found[-1] if found else (baseline, {})


def _ours(observed: Mapping[Key, list[str]], batch: Batch) -> dict[Key, tuple[str, ...]]:
    """The events of the batch among those that changed each key."""
    return {key: tuple(i for i in ids if _in_batch(i, batch)) for key, ids in observed.items()}


def _in_batch(ident: str, batch: Batch) -> bool:
    parsed = parse_event_id(ident)
    return parsed is not None and parsed[1] >= batch.first


def acceptance(state: AgreementState, proposal: str) -> RenegotiationConcluded:
    """The event that would conclude ``proposal``'s renegotiation by accepting it on ``as_of``."""
    holders = [t for t in state.renegotiations.values() if t.proposal(proposal) is not None]
    if len(holders) > 1:
        names = ", ".join(sorted(t.id for t in holders))
        raise InputError(f"proposal {proposal!r} was made in several renegotiations ({names})")
    for talks in holders:
        made = talks.proposal(proposal)
        if made is None:  # pragma: no cover - holders have it
            continue
        if made.status is not ProposalStatus.PENDING:
            raise InputError(f"proposal {proposal!r} is {made.status.value} on {state.as_of}")
        return RenegotiationConcluded(
            effective_on=state.as_of,
            renegotiation=talks.id,
            accepted=proposal,
            source=Source(
                citation="what-if: accepted hypothetically", confidence=Confidence.ESTIMATED
            ),
        )
    recorded = ", ".join(sorted(p.id for t in state.renegotiations.values() for p in t.proposals))
    raise InputError(
        f"expected a proposal recorded by {state.as_of} ({recorded or 'none'}), got {proposal!r}"
    )
