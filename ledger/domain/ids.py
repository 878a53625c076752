"""The one format of an event's id, ``<agreement>#<version>``, and of an agreement's
aggregate id."""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("6f1c1a52-3d36-4b8c-9a51-2f0b9c1d7e10")


def event_id(agreement: str, version: int) -> str:
    """The stable id of the event at ``version`` (1-based) in an agreement's log."""
    return f"{agreement}#{version}"


def parse_event_id(text: str) -> tuple[str, int] | None:
    """The agreement and version an event id names, or ``None`` if it is not one."""
    agreement, mark, number = text.rpartition("#")
    if not mark or not agreement or not number.isascii() or not number.isdigit():
        return None
    version = int(number)
    return (agreement, version) if version >= 1 else None


def version_in(agreement: str, text: str, last: int) -> int | None:
    """The version an event id names in this agreement's log of ``last`` events, if any."""
    parsed = parse_event_id(text)
    if parsed is None or parsed[0] != agreement or parsed[1] > last:
        return None
    return parsed[1]


def agreement_uuid(agreement: str) -> uuid.UUID:
    """The aggregate id of an agreement: stable, derived from its slug."""
    return uuid.uuid5(_NAMESPACE, agreement)
