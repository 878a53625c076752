"""Checking stored rows against their agreement's hash chain, byte for byte."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from typing import Any

import orjson
from eventsourcing.persistence import Notification, StoredEvent

from ledger.adapters.mapper import LedgerMapper
from ledger.domain import chain
from ledger.domain.events import BY_TOPIC
from ledger.domain.ids import agreement_uuid, event_id
from ledger.domain.timeline import Recorded
from ledger.errors import IntegrityFailure


def verify_rows(
    agreement: str, rows: Iterable[StoredEvent], mapper: LedgerMapper
) -> list[Recorded]:
    """Check an agreement's stored rows in order; the events they hold, read strictly.

    The digest is recomputed from each row's stored JSON as written (not from values
    parsed out of it), so any edit that changes the stored content is caught, and
    upcasting an old row's shape never breaks its chain. Every row must also still
    read as an event. Raises ``IntegrityFailure`` naming the first row that fails.
    """
    previous = chain.GENESIS
    read: list[Recorded] = []
    for row in rows:
        ident = event_id(agreement, row.originator_version)
        stored_digest, content = _content(row, ident)
        expected = chain.link_content(previous, content)
        if stored_digest != expected:
            raise IntegrityFailure(
                f"{ident} does not match its chain "
                f"(stored digest {str(stored_digest)[:12]}…, its content gives {expected[:12]}…)"
            )
        try:
            read.append(mapper.read_strictly(row))
        except Exception as error:  # any failure to read a row is what verify reports
            raise IntegrityFailure(f"{ident} cannot be read: {error}") from None
        previous = stored_digest
    return read


def _content(row: StoredEvent, ident: str) -> tuple[str, dict[str, Any]]:
    try:
        state = orjson.loads(row.state)
        fact_type = BY_TOPIC[row.topic].TYPE
        digest = str(state.pop("digest"))
        recorded_at = state.pop("recorded_at")
    except (orjson.JSONDecodeError, KeyError, AttributeError, TypeError) as error:
        raise IntegrityFailure(f"{ident} cannot be read: {type(error).__name__}: {error}") from None
    state.pop("class_version", None)
    return digest, {"fact": {"type": fact_type, **state}, "recorded_at": recorded_at}


def opened_agreements(
    openings: Iterable[Notification], mapper: LedgerMapper
) -> list[tuple[str, uuid.UUID]]:
    """The agreements' names and aggregate ids, read from their opening rows.

    A name that cannot be read, or that no longer gives its row's aggregate id (it was
    altered), is shown as the aggregate id, so that ``verify`` reports the damage rather
    than hiding the agreement.
    """
    found = []
    for row in openings:
        aggregate_id = uuid.UUID(str(row.originator_id))
        name = str(aggregate_id)
        with contextlib.suppress(Exception):  # an opening that cannot be read keeps the id
            agreement = mapper.to_domain_event(row).plain.get("agreement")
            if isinstance(agreement, str) and agreement_uuid(agreement) == aggregate_id:
                name = agreement
        found.append((name, aggregate_id))
    return found
