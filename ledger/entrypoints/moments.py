"""What ``--known-at`` (and the web view's ``known_at``) accepts, read the same everywhere."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from ledger.domain.ids import parse_event_id

_END_OF_DAY = time(23, 59, 59, 999999, tzinfo=UTC)
# What ``parse_known_at`` says of a time whose zone puts it outside the years 1 to 9999.
BEYOND_THE_CALENDAR = "beyond the calendar in UTC"


def parse_moment(text: str) -> datetime:
    """A timestamp (UTC when it has no zone), or a date's last instant (UTC).

    Raises ``ValueError`` (or ``OverflowError`` for a time beyond the calendar in UTC).
    """
    if not any(mark in text for mark in "T :"):  # a date, in any ISO spelling
        return datetime.combine(date.fromisoformat(text), _END_OF_DAY)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_known_at(text: str) -> datetime | str:
    """A time, or an event id (kept as it is: the application knows when it was recorded).

    Raises ``ValueError`` when it is neither (saying ``BEYOND_THE_CALENDAR`` for a time
    whose zone puts it outside the years 1 to 9999 in UTC).
    """
    if parse_event_id(text) is not None:
        return text
    try:
        return parse_moment(text)
    except OverflowError:
        raise ValueError(BEYOND_THE_CALENDAR) from None
