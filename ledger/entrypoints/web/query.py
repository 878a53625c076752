"""A request's query (or form) parameters, read the way the CLI reads its options."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime

from ledger.entrypoints.moments import parse_known_at
from ledger.errors import InputError


class Query:
    """Parameters by name: unknown names are refused, an empty value means the default,
    and only ``repeatable`` names may be given more than once."""

    def __init__(
        self,
        items: Iterable[tuple[str, str]],
        allowed: Sequence[str],
        repeatable: Collection[str] = (),
    ) -> None:
        self.values: dict[str, list[str]] = {}
        for name, value in items:
            if name not in allowed:
                raise InputError(f"expected only the parameters {', '.join(allowed)}, got {name!r}")
            if value.strip():
                self.values.setdefault(name, []).append(value.strip())
        for name, given in self.values.items():
            if len(given) > 1 and name not in repeatable:
                raise InputError(f"{name}: expected one value, got {len(given)}")

    def text(self, name: str) -> str:
        """The value as given ("" when absent), to show again in a form."""
        return self.values.get(name, [""])[0]

    def all(self, name: str) -> list[str]:
        """Every value of a repeatable parameter."""
        return self.values.get(name, [])

    def date(self, name: str) -> date | None:
        """A date, ``YYYY-MM-DD`` as the CLI takes it."""
        text = self.text(name)
        return parse_date(text, name) if text else None

    def moment(self, name: str) -> datetime | str | None:
        """A point in recording time, as ``--known-at`` takes it."""
        text = self.text(name)
        return _moment(text, name) if text else None


def parse_date(text: str, name: str) -> date:
    """``YYYY-MM-DD``, or an ``InputError`` naming the parameter."""
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise InputError(f"{name}: expected a date as YYYY-MM-DD, got {text!r}")


def _moment(text: str, name: str = "known_at") -> datetime | str:
    """What ``--known-at`` accepts: an ISO timestamp (no zone: UTC), a date (the end of
    that day, UTC), or an event id (just after it was recorded)."""
    try:
        return parse_known_at(text)
    except ValueError:
        raise InputError(
            f"{name}: expected an ISO timestamp, a date or an event id, got {text!r}"
        ) from None
