"""The Agreement aggregate: an agreement's log of recorded events, and what may join it.

Functional style (as in eventsourcing's own examples): the aggregate is an immutable
value rebuilt by ``project_agreement``; ``record`` returns the new events and the
aggregate they make, after checking the whole timeline they would produce.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs

from ledger.domain import chain
from ledger.domain.events import AgreementOpened, Fact
from ledger.domain.timeline import Recorded, check
from ledger.errors import InvalidField

_NAMESPACE = uuid.UUID("6f1c1a52-3d36-4b8c-9a51-2f0b9c1d7e10")


def agreement_uuid(agreement: str) -> uuid.UUID:
    """The aggregate id of an agreement: stable, derived from its slug."""
    return uuid.uuid5(_NAMESPACE, agreement)


@attrs.frozen(kw_only=True)
class Agreement:
    """An agreement's log: every event ever recorded for it, in recording order."""

    id: uuid.UUID
    version: int
    created_on: datetime
    modified_on: datetime
    agreement: str
    records: tuple[Recorded, ...]

    @classmethod
    def open(cls, facts: Sequence[Fact], recorded_at: datetime) -> tuple[Agreement, list[Recorded]]:
        """A new agreement from a batch whose first event opens it."""
        first = facts[0] if facts else None
        if not isinstance(first, AgreementOpened):
            raise InvalidField(
                "type",
                "expected agreement_opened as the first event of a new agreement",
                event_index=1,
                event_type=getattr(first, "TYPE", None),
            )
        empty = cls(
            id=agreement_uuid(first.agreement),
            version=0,
            created_on=recorded_at,
            modified_on=recorded_at,
            agreement=first.agreement,
            records=(),
        )
        return empty.record(facts, recorded_at)

    def record(
        self, facts: Sequence[Fact], recorded_at: datetime
    ) -> tuple[Agreement, list[Recorded]]:
        """The events that record ``facts`` at ``recorded_at``, if the timeline allows them.

        Raises ``InvalidField`` (a ``RuleViolation`` for a broken rule) naming the
        batch's event at fault; nothing is changed then.
        """
        previous = self.records[-1].digest if self.records else chain.GENESIS
        new = chained(self.id, self.version, previous, facts, recorded_at)
        after = attrs.evolve(
            self,
            version=self.version + len(new),
            modified_on=recorded_at,
            records=self.records + tuple(new),
        )
        check(after.agreement, after.records, first_new=self.version + 1)
        return after, new


def chained(
    aggregate_id: uuid.UUID,
    version: int,
    previous: str,
    facts: Sequence[Fact],
    recorded_at: datetime,
) -> list[Recorded]:
    """The events that record ``facts`` after ``version``, whose digest is ``previous``.

    Nothing is checked: ``Agreement.record`` checks them against the whole log, the
    application's fast path against the checkpoint before the first day they touch.
    """
    new: list[Recorded] = []
    for offset, fact in enumerate(facts, start=1):
        digest = chain.link(previous, fact, recorded_at)
        new.append(
            Recorded(
                originator_id=aggregate_id,
                originator_version=version + offset,
                timestamp=recorded_at,
                fact=fact,
                digest=digest,
            )
        )
        previous = digest
    return new


def project_agreement(agreement: Agreement | None, events: Iterable[Recorded]) -> Agreement | None:
    """The aggregate after ``events`` (the projector eventsourcing's repository calls).

    ``None`` when there is nothing yet: the repository then reports the agreement missing.
    """
    records = list(events)
    if agreement is None and not records:
        return None
    if agreement is None:
        opening = records[0].fact
        if not isinstance(opening, AgreementOpened):  # pragma: no cover - stores are checked
            raise InvalidField("type", "expected the log to start with agreement_opened")
        agreement = Agreement(
            id=records[0].originator_id,
            version=0,
            created_on=records[0].timestamp,
            modified_on=records[0].timestamp,
            agreement=opening.agreement,
            records=(),
        )
    if not records:
        return agreement
    return attrs.evolve(
        agreement,
        version=records[-1].originator_version,
        modified_on=records[-1].timestamp,
        records=agreement.records + tuple(records),
    )
