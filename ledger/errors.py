"""The project's exception hierarchy: every refusal a user can act on is one of these."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

SHOWN = 60  # characters of an echoed value that a message shows
MAX_LINE = 500  # characters of one error message, whatever it echoes
_DEPTH = 3  # levels of a list or mapping that a message shows


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 event``, ``2 events``, ``1,000 events``: a count in a message or a table."""
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


def shown(value: object, limit: int = SHOWN) -> str:
    """A value for an error message, as ``repr`` writes it but never long: text beyond
    ``limit`` characters is cut, with its length (``'abc…' (5,000,000 characters)``), and
    a list or mapping shows its first items (``['a', 'b', …] (70,000 items)``)."""
    return _shown(value, limit, _DEPTH)


def _shown(value: object, limit: int, depth: int) -> str:
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        text = repr(value[:limit])
        return f"{text[:-1]}…{text[-1]} ({len(value):,} characters)"
    if isinstance(value, (list, tuple, dict)):
        return _shown_items(value, limit, depth)
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def _shown_items(
    value: list[object] | tuple[object, ...] | dict[object, object], limit: int, depth: int
) -> str:
    brackets = {dict: "{}", tuple: "()"}.get(type(value), "[]")
    opening, closing = brackets[0], brackets[1]
    if not value:
        return opening + closing
    if depth == 0:
        return f"{opening}…{closing} ({_items(value)})"
    if isinstance(value, dict):
        items = (
            f"{_shown(key, limit, depth - 1)}: {_shown(item, limit, depth - 1)}"
            for key, item in value.items()
        )
    else:
        items = (_shown(item, limit, depth - 1) for item in value)
    parts: list[str] = []
    used = 0
    for part in items:
        if parts and used + len(part) > limit:
            return f"{opening}{', '.join(parts)}, …{closing} ({_items(value)})"
        parts.append(part)
        used += len(part) + 2
    return opening + ", ".join(parts) + closing


def _items(value: list[object] | tuple[object, ...] | dict[object, object]) -> str:
    return "1 item" if len(value) == 1 else f"{len(value):,} items"


# Characters a terminal acts on instead of showing (escape sequences start with ESC), or
# that reorder what follows (bidirectional controls), and line breaks other than "\n":
# shown as their escapes.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` safe to print to a terminal: control characters (``\\x1b``, ``\\u202e``…)
    shown escaped, as Python writes them; line breaks and tabs kept."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda found: found[0].encode("unicode_escape").decode("ascii"), text)


def one_line(message: str, limit: int = MAX_LINE) -> str:
    """A message on one line of at most about ``limit`` characters: line breaks become
    spaces, control characters show as escapes, and the middle of a longer message
    gives way to ``…``."""
    lines = message.splitlines()
    if len(lines) > 1:
        message = " ".join(line.strip() for line in lines)
    message = printable(message)
    if len(message) <= limit:
        return message
    head = limit * 3 // 5
    tail = limit - head - 40
    return f"{message[:head]} … [{len(message) - head - tail:,} characters cut] … {message[-tail:]}"


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose; its message is one line, never
    longer than ``MAX_LINE`` characters or so, whatever it quotes."""

    exit_code = 1

    def __str__(self) -> str:
        return one_line(super().__str__())


class InputError(LedgerError, ValueError):
    """Input that is malformed or refused by a rule; nothing was written."""

    exit_code = 2


class InvalidField(InputError):
    """A field of an event that does not have the expected shape.

    ``path`` locates the field inside the event (``amount.currency``,
    ``changes[0].terms.rate``); ``event_index`` (1-based) and ``event_type`` locate
    the event inside its file or batch once known.
    """

    def __init__(
        self,
        path: str,
        problem: str,
        *,
        event_index: int | None = None,
        event_type: str | None = None,
    ) -> None:
        self.path = path
        self.problem = problem
        self.event_index = event_index
        self.event_type = event_type
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.event_index is not None:
            kind = f" ({_name(self.event_type)})" if self.event_type else ""
            where.append(f"event {self.event_index}{kind}")
        if self.path:
            where.append(_name(self.path))
        return one_line(": ".join([*where, self.problem]))

    def located(self, event_index: int, event_type: str | None) -> InvalidField:
        """The same error, placed at an event of a file or batch."""
        return type(self)(self.path, self.problem, event_index=event_index, event_type=event_type)

    def within(self, outer: str) -> InvalidField:
        """The same error, its path prefixed by the field that contains it."""
        return type(self)(join_path(outer, self.path), self.problem)


def _name(text: str) -> str:
    """A field's path or an event's type as a message shows it: as it is, or cut."""
    return text if len(text) <= MAX_LINE // 5 else shown(text)


def join_path(outer: str, inner: str) -> str:
    """``changes[0]`` + ``terms.rate`` is ``changes[0].terms.rate``; indexes stick."""
    if not inner:
        return outer
    if not outer or inner.startswith("["):
        return outer + inner
    return f"{outer}.{inner}"


def at_path(path: str, build: Callable[[], T]) -> T:
    """Run ``build``; a field error it raises is re-raised with ``path`` in front."""
    try:
        return build()
    except InvalidField as error:
        raise error.within(path) from None


class RuleViolation(InvalidField):
    """An event that is well formed but breaks a rule of the agreement's timeline."""


class FileError(InputError):
    """A file that cannot be read as an amendment file at all, or an error inside it."""

    def __init__(self, filename: str, message: str) -> None:
        self.filename = filename
        self.message = message
        super().__init__(f"{filename}: {message}")


class AgreementNotFound(InputError):
    """The store holds no agreement with the requested id."""


class AgreementExists(InputError):
    """An agreement with that id is already in the store."""


class DateOutOfRange(InputError):
    """A query about a date on which the agreement did not exist yet."""


class StoreError(LedgerError):
    """The store cannot be reached, opened or written for a reason outside the input."""


class ConcurrencyError(StoreError):
    """Other writers kept winning the race to append; the append was not written."""


class IntegrityFailure(LedgerError):
    """A stored event does not match its hash chain."""


class MissingExtra(LedgerError):
    """An output needs an optional extra that is not installed; the message says how."""


class ReadModelMismatch(IntegrityFailure):
    """A read-model row that does not match the events it was built from: the question is
    answered from the events instead, and ``ledger verify`` says what differs."""


class ReadModelWarning(UserWarning):
    """A question was answered from the events, because the read model did not match."""
