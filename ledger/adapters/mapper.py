"""Stored events: the library's ``StoredEvent`` rows to and from ``Recorded`` events.

Each row's topic is the event's permanent ``TOPIC``; its state is flat, readable JSON
(the event's plain form without its ``type``, plus ``recorded_at`` and ``digest``),
written with orjson.
"""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import Any

import orjson
from eventsourcing.persistence import Mapper, StoredEvent

from ledger.domain.events import BY_TOPIC, structure_fact
from ledger.domain.timeline import Recorded
from ledger.errors import StoreError

_TYPE_OF = {topic: cls.TYPE for topic, cls in BY_TOPIC.items()}


def decode(topic: str, state: bytes) -> tuple[dict[str, Any], str, str]:
    """A stored row's plain event (with its ``type``, upcast to the current shape), its
    ``recorded_at`` as written, and its digest; nothing is re-checked."""
    kind = _TYPE_OF.get(topic)
    if kind is None:
        raise StoreError(f"stored event has an unknown topic {topic!r}")
    plain: dict[str, Any] = orjson.loads(state)
    recorded_at = plain.pop("recorded_at")
    digest = plain.pop("digest")
    cls = BY_TOPIC[topic]
    from_version = plain.pop("class_version", 1)
    while from_version < cls.class_version:
        getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(plain)
        from_version += 1
    plain["type"] = kind
    return plain, recorded_at, digest


_UPCAST = {topic: cls.class_version > 1 for topic, cls in BY_TOPIC.items()}


def fold_form(topic: str, state: bytes) -> dict[str, Any]:
    """A stored row's plain event, as cheaply as the fold can take it: its ``type`` set,
    upcast if its shape is old, and its bookkeeping keys (``recorded_at``, ``digest``)
    left in, since the fold never reads them."""
    plain: dict[str, Any] = orjson.loads(state)
    if _UPCAST[topic] or "class_version" in plain:
        return decode(topic, state)[0]
    plain["type"] = _TYPE_OF[topic]
    return plain


def encode(record: Recorded) -> bytes:
    """The state of the row that stores ``record``."""
    state = dict(record.plain)
    cls = BY_TOPIC[_topic(state.pop("type"))]
    if cls.class_version > 1:
        state["class_version"] = cls.class_version
    state["recorded_at"] = _iso(record.timestamp)
    state["digest"] = record.digest
    return orjson.dumps(state)


_TOPIC_OF = {cls.TYPE: topic for topic, cls in BY_TOPIC.items()}


@functools.lru_cache(maxsize=4)
def _iso(moment: datetime) -> str:
    # The events of an append share one recording time: write its text once.
    return moment.isoformat()


def _topic(kind: str) -> str:
    return _TOPIC_OF[kind]


class LedgerMapper(Mapper[uuid.UUID]):
    """Maps ``Recorded`` events to stored rows and back, upcasting old shapes."""

    def __init__(self) -> None:
        # No transcoder: the ledger's own codec gives every event its one plain form.
        pass

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """The row that stores ``domain_event`` (a ``Recorded``)."""
        record: Recorded = domain_event
        return StoredEvent(
            originator_id=record.originator_id,
            originator_version=record.originator_version,
            topic=_topic(record.type),
            state=encode(record),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Recorded:
        """The ``Recorded`` event a stored row holds (read as written, not re-checked)."""
        plain, recorded_at, digest = decode(stored_event.topic, stored_event.state)
        originator_id = stored_event.originator_id
        return Recorded(
            originator_id=originator_id
            if isinstance(originator_id, uuid.UUID)
            else uuid.UUID(str(originator_id)),
            originator_version=stored_event.originator_version,
            timestamp=datetime.fromisoformat(recorded_at),
            plain=plain,
            digest=digest,
        )

    def read_strictly(self, stored_event: StoredEvent) -> Recorded:
        """The ``Recorded`` event a stored row holds, every field checked as on input."""
        record = self.to_domain_event(stored_event)
        structure_fact(record.plain)
        return record
