"""Two answers the ``Ledger`` façade does not give cheaply yet, read from single rows.

The agreements list needs each agreement's title, opening date, event count and last
recording time, and the agreement page the source of each clause; neither may read a
whole history (a long one takes seconds). ``Ledger`` offers no cheaper public way, so
these read just the rows they need (the log's first and last event; the events a clause
names) with the eventsourcing recorder and mapper the ledger already holds. This module
is the one place the web layer reaches past the façade: ``Ledger.summaries()`` and
``Ledger.events(ids)`` in the core would replace each function with one call.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import attrs
from eventsourcing.persistence import PersistenceError

from ledger.application import Ledger
from ledger.domain.agreement import agreement_uuid
from ledger.domain.events import AgreementOpened, Fact
from ledger.domain.timeline import Recorded
from ledger.domain.values import DatePrecision
from ledger.errors import StoreError


@attrs.frozen(kw_only=True)
class Summary:
    """One agreement in the store, as the agreements list shows it."""

    id: str
    title: str
    opened_on: date
    opened_on_precision: DatePrecision
    event_count: int  # events recorded in its log, corrections and retractions included
    last_recorded: datetime

    def to_json(self) -> dict[str, Any]:
        """The plain form ``/api/agreements`` lists."""
        return {
            "id": self.id,
            "title": self.title,
            "opened_on": self.opened_on.isoformat(),
            "opened_on_precision": self.opened_on_precision.value,
            "event_count": self.event_count,
            "last_recorded": self.last_recorded.isoformat(),
        }


def summaries(ledger: Ledger) -> list[Summary]:
    """Every agreement in the store, in the order they were opened: two rows each.

    The title and date are the opening's as recorded; a correction of the opening shows
    on the agreement page (``state_at``), not here.
    """
    found = []
    for name in ledger.agreements():
        first = _rows(ledger, name, lte=1, limit=1)
        last = _rows(ledger, name, desc=True, limit=1)
        if not first or not last:
            continue  # opened meanwhile by another writer: listed on the next visit
        opening = first[0].fact
        if not isinstance(opening, AgreementOpened):
            raise StoreError(f"{name}: the first stored event is not the agreement's opening")
        found.append(
            Summary(
                id=name,
                title=opening.title,
                opened_on=opening.effective_on,
                opened_on_precision=opening.date_precision,
                event_count=last[0].originator_version,
                last_recorded=last[0].timestamp,
            )
        )
    return found


def events(ledger: Ledger, agreement: str, ids: Iterable[str]) -> dict[str, Fact]:
    """The recorded events of ``agreement`` with these ids (``name#n``), one row each."""
    found: dict[str, Fact] = {}
    for ident in dict.fromkeys(ids):
        name, _, number = ident.rpartition("#")
        if name != agreement or not number.isdigit():
            continue
        version = int(number)
        rows = _rows(ledger, agreement, gt=version - 1, lte=version)
        if rows:
            found[ident] = rows[0].fact
    return found


def _rows(ledger: Ledger, agreement: str, **select: Any) -> list[Recorded]:
    """Rows of an agreement's log read with the recorder's ``select_events`` options."""
    app = ledger._app  # the façade has no row-level reads yet: see the module's docstring
    try:
        stored = app.recorder.select_events(agreement_uuid(agreement), **select)
    except PersistenceError as error:
        raise StoreError(f"the store failed: {str(error).strip()[:200]}") from None
    return [app.mapper.to_domain_event(row) for row in stored]
