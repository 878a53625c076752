"""Stored events: the library's ``StoredEvent`` rows to and from ``Recorded`` events.

Each row's topic is the fact's permanent ``TOPIC``; its state is flat, readable JSON
(the fact's fields, ``recorded_at`` and ``digest``), written with orjson.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from eventsourcing.persistence import Mapper, StoredEvent

from ledger.domain.codec import structure_fact, structure_stored, unstructure_fact
from ledger.domain.events import BY_TOPIC, Fact
from ledger.domain.timeline import Recorded
from ledger.errors import StoreError


class LedgerMapper(Mapper[uuid.UUID]):
    """Maps ``Recorded`` events to stored rows and back, upcasting old shapes."""

    def __init__(self) -> None:
        # No transcoder: the ledger's own codec gives every fact its one plain form.
        pass

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """The row that stores ``domain_event`` (a ``Recorded``)."""
        record: Recorded = domain_event
        state = unstructure_fact(record.fact)
        del state["type"]
        version = type(record.fact).class_version
        if version > 1:
            state["class_version"] = version
        state["recorded_at"] = record.timestamp.isoformat()
        state["digest"] = record.digest
        return StoredEvent(
            originator_id=record.originator_id,
            originator_version=record.originator_version,
            topic=record.fact.TOPIC,
            state=orjson.dumps(state),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Recorded:
        """The ``Recorded`` event a stored row holds (read as written, not re-checked)."""
        return self.read(stored_event, structure_stored)

    def read_strictly(self, stored_event: StoredEvent) -> Recorded:
        """The ``Recorded`` event a stored row holds, every field checked as on input."""
        return self.read(stored_event, structure_fact)

    def read(
        self, stored_event: StoredEvent, structure: Callable[[dict[str, Any]], Fact]
    ) -> Recorded:
        """The ``Recorded`` event a stored row holds, its fact built by ``structure``."""
        cls = BY_TOPIC.get(stored_event.topic)
        if cls is None:
            raise StoreError(f"stored event has an unknown topic {stored_event.topic!r}")
        state: dict[str, Any] = orjson.loads(stored_event.state)
        recorded_at = datetime.fromisoformat(state.pop("recorded_at"))
        digest = state.pop("digest")
        from_version = state.pop("class_version", 1)
        while from_version < cls.class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        originator_id = stored_event.originator_id
        return Recorded(
            originator_id=originator_id
            if isinstance(originator_id, uuid.UUID)
            else uuid.UUID(str(originator_id)),
            originator_version=stored_event.originator_version,
            timestamp=recorded_at,
            fact=structure({"type": cls.TYPE, **state}),
            digest=digest,
        )
