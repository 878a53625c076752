"""Hypotheses: events applied in memory on top of the history as known at a time.

Like an append, a hypothesis goes through every rule over the whole timeline, on the
events' own effective dates; unlike an append, it is never stored. Hypothetical events
take the ids the next appends would get, and are listed as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import attrs

from ledger.domain.agreement import Agreement
from ledger.domain.difference import Difference, difference
from ledger.domain.events import Fact, RenegotiationConcluded
from ledger.domain.state import AgreementState, ProposalStatus
from ledger.domain.timeline import state_at
from ledger.domain.values import Confidence, Source
from ledger.errors import InputError


@attrs.frozen(kw_only=True)
class WhatIf:
    """The agreement on a date as it is, as it would be, and what differs."""

    baseline: AgreementState
    hypothetical: AgreementState
    events: tuple[tuple[str, Fact], ...]

    @property
    def difference(self) -> Difference:
        """What the hypothesis changes relative to the actual agreement."""
        return difference(self.baseline, self.hypothetical)


def what_if(log: Agreement, facts: Sequence[Fact], on: date, known_at: datetime) -> WhatIf:
    """The agreement on ``on`` as known at ``known_at``, with and without ``facts``.

    Raises ``InvalidField``/``RuleViolation`` naming the hypothetical event at fault,
    as a refused append would.
    """
    known = [record for record in log.records if record.timestamp <= known_at]
    as_known = attrs.evolve(log, records=tuple(known))
    # Hypothetical events are numbered after everything recorded, so their ids never
    # collide with real ones, and stamped at known_at, so they belong to that view.
    after, new = attrs.evolve(as_known, version=log.version).record(facts, known_at)
    return WhatIf(
        baseline=state_at(log.agreement, as_known.records, on, known_at),
        hypothetical=state_at(log.agreement, after.records, on, known_at),
        events=tuple((f"{log.agreement}#{r.originator_version}", r.fact) for r in new),
    )


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
