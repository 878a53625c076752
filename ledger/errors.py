"""The project's exception hierarchy: every refusal a user can act on is one of these."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose."""

    exit_code = 1


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
            kind = f" ({self.event_type})" if self.event_type else ""
            where.append(f"event {self.event_index}{kind}")
        if self.path:
            where.append(self.path)
        return ": ".join([*where, self.problem])

    def located(self, event_index: int, event_type: str | None) -> InvalidField:
        """The same error, placed at an event of a file or batch."""
        return type(self)(self.path, self.problem, event_index=event_index, event_type=event_type)

    def within(self, outer: str) -> InvalidField:
        """The same error, its path prefixed by the field that contains it."""
        return type(self)(join_path(outer, self.path), self.problem)


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
