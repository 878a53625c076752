"""What every event with a date of its own carries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, ClassVar

import attrs

from ledger.domain.draft import Draft
from ledger.domain.entries import Entry
from ledger.domain.values import DatePrecision, Source

Fold = Callable[[Draft, Entry], None]


@attrs.frozen(kw_only=True)
class DatedEvent:
    """An event with a place on the agreement's calendar.

    Each subclass has a ``TYPE`` (its name in amendment files) and a ``TOPIC`` (its name
    in the store). Both are public and permanent: renaming or moving a class never
    changes them, so stored events always resolve. A class whose stored shape changes
    raises its ``class_version`` and gains a static ``upcast_v<N>_v<N+1>(state)``, as
    eventsourcing does.
    """

    TYPE: ClassVar[str]
    TOPIC: ClassVar[str]
    class_version: ClassVar[int] = 1

    effective_on: date
    source: Source
    date_precision: DatePrecision = DatePrecision.DAY
    note: str | None = None


@attrs.frozen
class EventKind:
    """A kind of event: its shape, how it folds (``None``: it acts on the recording
    axis only), one line saying what an event of it records, and, if events of this
    kind constrain every other, the rule every entry must pass (``guard``)."""

    fact: type[Any]
    fold: Fold | None
    summary: Callable[[Any], str]
    guard: Fold | None = None
