"""The picture model of ``ledger timeline``: what was in force over a window of time.

A ``Picture`` is pure data, made by a projection from the event log and drawn by the
renderers in ``ledger.presentation.timeline``; nothing here reads a store or draws.
Dates are calendar dates (valid time) with the precision the source gives; ``known_at``
is the transaction time the picture was projected at. Money and percentages are
``Decimal``: a renderer converts to floats only at the last moment, if its plotting
library needs them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import attrs

from ledger.domain.values import DatePrecision, Source


@attrs.frozen(kw_only=True)
class Mark:
    """One event on a lane: when it took effect, what it was, and where it comes from.

    ``details`` are name/value lines for a hover or a footnote, such as
    ``("rate", "20 → 8")`` for an amendment's terms before and after.
    """

    on: date
    precision: DatePrecision
    event: str
    kind: str
    label: str
    details: tuple[tuple[str, str], ...] = ()
    source: Source

    @property
    def when(self) -> str:
        """The date as precisely as the source gives it: ``2023-11-17``, ``2023-Q4``."""
        return self.precision.label(self.on)


@attrs.frozen(kw_only=True)
class ClauseSpan:
    """One stretch of time during which a clause id was in force.

    ``end`` is the first day the clause was no longer in force (``None``: still in force
    at the picture's end); ``ended_by`` says why it ended (``removed``, ``expired`` or
    ``terminated``). A clause removed and added again has one span per stretch.
    """

    clause: str
    kind: str
    start: date
    start_precision: DatePrecision
    end: date | None
    ended_by: str | None
    added: Mark
    amendments: tuple[Mark, ...] = ()
    closed: Mark | None = None

    @property
    def since(self) -> str:
        """The start as precisely as the source gives it."""
        return self.start_precision.label(self.start)


@attrs.frozen(kw_only=True)
class Step:
    """From ``on``, a series has ``value``: the result of ``events`` events, the last ``event``."""

    on: date
    value: Decimal
    events: int = attrs.field(validator=attrs.validators.ge(1))
    event: str


@attrs.frozen(kw_only=True)
class Series:
    """A value over time as steps: a cumulative investment total, or a stake in percent.

    ``unit`` is a currency code, or ``%`` for a stake.
    """

    label: str
    unit: str
    steps: tuple[Step, ...]


@attrs.frozen(kw_only=True)
class TalksSpan:
    """A renegotiation from its opening to its conclusion (``end`` ``None``: still open)."""

    renegotiation: str
    start: date
    end: date | None
    status: str
    opened: Mark
    proposals: tuple[Mark, ...] = ()
    closed: Mark | None = None


def _utc_known_at(_instance: object, _attribute: object, value: datetime) -> None:
    if value.utcoffset() != timedelta(0):
        raise ValueError(f"'known_at' must be a UTC timestamp, got {value.isoformat()!r}")


@attrs.frozen(kw_only=True)
class Picture:
    """An agreement over the window ``start``–``end`` (both drawn), as known at ``known_at``.

    ``compare``, when set, is the same window as known at another time: renderers draw
    it as a ghost layer so that backdated amendments and corrections show.
    """

    agreement: str
    title: str
    start: date
    end: date = attrs.field()
    known_at: datetime = attrs.field(validator=_utc_known_at)
    clauses: tuple[ClauseSpan, ...] = ()
    investments: tuple[Series, ...] = ()
    stakes: tuple[Series, ...] = ()
    governance: tuple[Mark, ...] = ()
    talks: tuple[TalksSpan, ...] = ()
    termination: Mark | None = None
    compare: Picture | None = None

    @end.validator
    def _window(self, _attribute: object, value: date) -> None:
        if value < self.start:
            raise ValueError(
                f"a picture's 'end' must not be before its start {self.start}, got {value}"
            )
