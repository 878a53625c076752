"""What ``verify`` checks of the events themselves, before it trusts them to check the
read model: every stored row belongs to an agreement's chain, every chain is whole and
matches its rows byte for byte, signed heads verify, saved heads are still extended,
and the read model never followed events the log no longer holds.

Every failure here is about the events: the message says so, and never suggests
rebuilding anything from them.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import orjson
from eventsourcing.persistence import Notification, StoredEvent

from ledger.adapters.mapper import LedgerMapper
from ledger.adapters.signing import Keyring
from ledger.domain import chain
from ledger.domain.events import BY_TOPIC, AgreementOpened
from ledger.domain.heads import Head, SignedHead
from ledger.domain.ids import agreement_uuid, event_id
from ledger.domain.timeline import Recorded
from ledger.errors import IntegrityFailure, plural

PAGE = 1000
DAMAGED = "the events themselves are damaged: restore the store (do not rebuild from them)"


class NotificationReader(Protocol):
    """What ``every_row`` needs of the library's recorder."""

    def select_notifications(
        self, start: int | None, limit: int, stop: int | None = None, topics: Sequence[str] = ()
    ) -> Sequence[Notification]:
        """Stored events in the order they were recorded, across agreements."""


def every_row(reader: NotificationReader) -> dict[uuid.UUID, tuple[int, Notification | None]]:
    """Every stored event's aggregate, counted: (rows, the row of version 1 if any)."""
    found: dict[uuid.UUID, tuple[int, Notification | None]] = {}
    start = 1
    while True:
        page = reader.select_notifications(start=start, limit=PAGE)
        for row in page:
            aggregate = uuid.UUID(str(row.originator_id))
            count, opening = found.get(aggregate, (0, None))
            found[aggregate] = (count + 1, row if row.originator_version == 1 else opening)
        if len(page) < PAGE:
            return found
        start = page[-1].id + 1


def agreements_of(
    rows: dict[uuid.UUID, tuple[int, Notification | None]], mapper: LedgerMapper
) -> list[tuple[str, uuid.UUID]]:
    """The agreements every stored row belongs to, in the order they were first stored,
    named by their openings. An opening that is unreadable, or names an agreement whose
    id is not its log's, was altered: its log is named by its aggregate id, so that the
    chain check reports it rather than hiding it. Raises ``IntegrityFailure`` for rows
    whose log has no first event at all: they belong to no chain.
    """
    found = []
    for aggregate, (count, opening) in rows.items():
        if opening is None:
            raise IntegrityFailure(
                f"{count} stored events (aggregate {aggregate}) belong to no agreement: the "
                f"first event of their log is missing, so they match no chain — {DAMAGED}"
            )
        name = _name_of(opening, mapper)
        if name is None or agreement_uuid(name) != aggregate:
            name = str(aggregate)
        found.append((name, aggregate))
    return found


def _name_of(opening: Notification | None, mapper: LedgerMapper) -> str | None:
    if opening is None or opening.topic != AgreementOpened.TOPIC:
        return None
    with contextlib.suppress(Exception):  # an opening that cannot be read names nothing
        name = mapper.to_domain_event(opening).plain.get("agreement")
        return name if isinstance(name, str) else None
    return None


def verify_rows(
    agreement: str, rows: Iterable[StoredEvent], mapper: LedgerMapper
) -> list[Recorded]:
    """Check an agreement's stored rows in order; the events they hold, read strictly.

    Versions must run from 1 without a gap. The digest is recomputed from each row's
    stored JSON as written (not from values parsed out of it), so any edit that changes
    the stored content is caught, and upcasting an old row's shape never breaks its
    chain. Every row must also still read as an event. Raises ``IntegrityFailure``
    naming the first row that fails.
    """
    previous = chain.GENESIS
    read: list[Recorded] = []
    for expected_version, row in enumerate(rows, 1):
        ident = event_id(agreement, row.originator_version)
        if row.originator_version != expected_version:
            raise IntegrityFailure(
                f"{event_id(agreement, expected_version)} is missing from the log (it goes "
                f"from #{expected_version - 1} to #{row.originator_version}) — {DAMAGED}"
            )
        stored_digest, content = _content(row, ident)
        expected = chain.link_content(previous, content)
        if stored_digest != expected:
            raise IntegrityFailure(
                f"{ident} does not match its chain (stored digest {str(stored_digest)[:12]}…, "
                f"its content gives {expected[:12]}…) — {DAMAGED}"
            )
        try:
            read.append(mapper.read_strictly(row))
        except Exception as error:  # any failure to read a row is what verify reports
            raise IntegrityFailure(f"{ident} cannot be read: {error} — {DAMAGED}") from None
        previous = stored_digest
    return read


def check_signatures(
    agreement: str,
    records: Sequence[Recorded],
    signed: Sequence[SignedHead],
    keyring: Keyring | None,
) -> None:
    """Every signed head kept is a head of this log and verifies with the keyring; and
    with a keyring, the log's last event is covered by a signed head, so that no event
    was rewritten, removed or added without the private key.

    Without a keyring, signed heads kept are still checked against the log, not their
    signatures.
    """
    by_version = {r.originator_version: r for r in records}
    for head in signed:
        record = by_version.get(head.version)
        recorded = record.timestamp.isoformat() if record is not None else None
        if record is None or (record.digest, recorded) != (head.digest, head.recorded_at):
            raise IntegrityFailure(
                f"{agreement}: the signed head of {event_id(agreement, head.version)} does not "
                f"match the log: the log was rewritten or cut after it was signed — {DAMAGED}"
            )
        if keyring is not None:
            problem = keyring.verify(
                Head(agreement, head.version, head.digest, head.recorded_at), head
            )
            if problem is not None:
                raise IntegrityFailure(
                    f"{agreement}: the signed head of {event_id(agreement, head.version)} "
                    f"is not genuine: {problem} — {DAMAGED}"
                )
    if keyring is None or not records:
        return
    last = records[-1].originator_version
    covered = signed[-1].version if signed else 0
    if covered < last:
        raise IntegrityFailure(
            f"{agreement}: events {event_id(agreement, covered + 1)} … "
            f"{event_id(agreement, last)} are covered by no signed head: they were written "
            f"without the signing key (or their signatures were removed) — {DAMAGED}"
        )


def check_expected(agreement: str, records: Sequence[Recorded], heads: Sequence[Head]) -> None:
    """The log still extends every head saved for it (``ledger head``)."""
    for head in heads:
        if head.version > len(records):
            raise IntegrityFailure(
                f"{agreement}: the saved head is {event_id(agreement, head.version)}, but the "
                f"log holds {plural(len(records), 'event')}: it was cut — {DAMAGED}"
            )
        record = records[head.version - 1]
        if record.digest != head.digest:
            raise IntegrityFailure(
                f"{agreement}: the log no longer extends its saved head: "
                f"{event_id(agreement, head.version)} has digest {record.digest[:12]}…, the "
                f"saved head {head.digest[:12]}… — {DAMAGED}"
            )


def check_followed(agreement: str, records: Sequence[Recorded], view: Any) -> None:
    """The read model never followed more events than the log holds (if it did, events
    were removed: the read model commits with them, so it cannot run ahead)."""
    if view is not None and view.version > len(records):
        raise IntegrityFailure(
            f"{agreement}: the log holds {plural(len(records), 'event')}, but {view.version} "
            f"were recorded (the read model followed them): events are missing — {DAMAGED}"
        )


def _content(row: StoredEvent, ident: str) -> tuple[str, dict[str, Any]]:
    try:
        state = orjson.loads(row.state)
        fact_type = BY_TOPIC[row.topic].TYPE
        digest = str(state.pop("digest"))
        recorded_at = state.pop("recorded_at")
    except (orjson.JSONDecodeError, KeyError, AttributeError, TypeError) as error:
        raise IntegrityFailure(
            f"{ident} cannot be read: {type(error).__name__}: {error} — {DAMAGED}"
        ) from None
    state.pop("class_version", None)
    return digest, {"fact": {"type": fact_type, **state}, "recorded_at": recorded_at}
