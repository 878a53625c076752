"""The fold: an agreement's entries folded into its state in the timeline's total order,
every rule checked on the way; and the one check that every append and every hypothesis
goes through.

The fold is pure: it never reads the clock or the store. The same function validates
appends and answers questions, so what was accepted is exactly what replays. Where it
starts (from the opening, or from a checkpoint) is the caller's choice: ``check`` takes
a ``Suffix``, which the read side builds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from itertools import chain
from typing import Protocol

import attrs

from ledger.domain.draft import Draft
from ledger.domain.entries import OPENING, Entry
from ledger.domain.events import FOLDS, GUARDS
from ledger.domain.vocabulary.opening import open_draft
from ledger.domain.vocabulary.ownership import over_allocation
from ledger.errors import InvalidField, RuleViolation

OWNERSHIP = "ownership_change"
# The draft at the end of a day, the day, how many entries it had, and the next entry's
# day (None after the last).
DayEnd = Callable[[Draft, date, int, date | None], None]


class Broken(Exception):
    """A rule broken while folding ``entry``."""

    def __init__(self, entry: Entry, error: InvalidField) -> None:
        super().__init__(str(error))
        self.entry = entry
        self.error = error


def fold_days(
    start: Draft | None, entries: Iterable[Entry], *, observe: bool = False
) -> Iterator[tuple[Draft, date, int, date | None]]:
    """Fold ``entries`` (in the total order) after ``start`` (``None``: they begin with
    the opening), checking every rule; yield the draft at the end of each day, with the
    day, the number of entries folded on it, and the next entry's day (``None`` at the
    end). With ``observe``, the draft notes which events change which keys.

    Raises ``Broken`` at the first rule broken. Stakes are summed at the end of each
    day, so that one day's ownership changes (a recapitalisation) may come in any order.
    The draft yielded is the one being folded: copy what must outlive the next step.
    """
    draft = start
    if draft is not None and observe:
        draft.observe()
    day: date | None = None
    count = 0
    stakes: list[Entry] = []  # the day's ownership changes, checked at its end
    remaining = iter(entries)
    for entry in remaining:
        if entry.effective_on != day:
            if draft is not None and day is not None:
                _day_end(draft, stakes)
                yield draft, day, count, entry.effective_on
                draft.expire(entry.effective_on)
            day, count, stakes = entry.effective_on, 0, []
        try:
            if draft is None:
                draft = _opened(entry, remaining, observe)
            else:
                step(draft, entry)
        except InvalidField as error:
            raise Broken(entry, error) from None
        count += 1
        if entry.type == OWNERSHIP:
            stakes.append(entry)
    if draft is not None and day is not None:
        _day_end(draft, stakes)
        yield draft, day, count, None


def fold(start: Draft | None, entries: Iterable[Entry], *, observe: bool = False) -> Draft | None:
    """The draft after every entry (``start`` when there are none)."""
    draft = start
    for draft, *_ in fold_days(start, entries, observe=observe):  # noqa: B007 - the last one
        pass
    return draft


def step(draft: Draft, entry: Entry) -> None:
    """One entry folded into the draft, with its rules."""
    if entry.effective_on < draft.opened_on:
        raise RuleViolation(
            "effective_on",
            f"expected a date on or after the agreement opened ({draft.opened_on}), "
            f"got '{entry.effective_on}'",
        )
    for guard in GUARDS:
        guard(draft, entry)
    draft.folding(entry.id)
    FOLDS[entry.type](draft, entry)
    draft.events_applied += 1
    draft.as_of = entry.effective_on


def _opened(first: Entry, rest: Iterator[Entry], observe: bool) -> Draft:
    """The draft of the opening, which must be the first entry of a whole timeline."""
    if first.type == OPENING:
        return open_draft(first, observe=observe)
    opening = next((e for e in chain([first], rest) if e.type == OPENING), None)
    if opening is None:
        return open_draft(first)  # refuses it: the agreement must open first
    raise RuleViolation(
        "effective_on",
        f"expected a date on or after the agreement opened ({opening.effective_on}), "
        f"got '{first.effective_on}'",
    )


def _day_end(draft: Draft, stakes: list[Entry]) -> None:
    # Stakes change only through ownership changes, and the last day-end check passed,
    # so only the entities whose stakes changed today can be over-allocated.
    if not stakes:
        return
    found = over_allocation(draft, (e.fact["entity"] for e in stakes))
    if found is None:
        return
    entity, problem = found
    changed = [e for e in stakes if e.fact["entity"] == entity]
    raise Broken(changed[-1], RuleViolation("percent", problem))


# -- the one check -----------------------------------------------------------------------


@attrs.frozen
class Batch:
    """The events being appended: from version ``first``, with their types."""

    first: int
    types: dict[int, str]

    @property
    def last(self) -> int:
        """The version of the batch's last event."""
        return self.first + len(self.types) - 1

    def index(self, version: int) -> int:
        """The 1-based place of an event in its batch (its file)."""
        return version - self.first + 1

    def blame(self, error: InvalidField, entry: Entry) -> InvalidField:
        """``error``, raised by folding a new ``entry``, placed at that entry's event."""
        if entry.replacing:
            return error.within("replacement").located(self.index(entry.version), "correction")
        return error.located(self.index(entry.version), entry.type)


class Suffix(Protocol):
    """Where a check starts, and the timeline after that point (built by the read side)."""

    def start(self) -> Draft | None:
        """A fresh copy of the state to fold from (``None``: from the opening)."""

    def entries(self, upto: int) -> Iterator[Entry]:
        """The timeline after the start, with the batch's events up to version ``upto``
        (and what they withdraw) taken into account."""


def check(
    suffix: Suffix, batch: Batch, each_day: DayEnd | None = None, *, observe: bool = False
) -> Draft | None:
    """The state after the timeline with the whole batch, every rule checked (``each_day``
    sees the draft at the end of each day; ``observe`` as in ``fold_days``).

    Raises ``InvalidField`` placed at the batch's event at fault: the event whose fold
    broke a rule when it is new; when it is an earlier event that breaks, the first of
    the batch whose addition breaks the timeline, with the broken event named.
    """
    draft = suffix.start()
    try:
        days = fold_days(draft, suffix.entries(batch.last), observe=observe)
        for draft, day, count, upcoming in days:
            if each_day is not None:
                each_day(draft, day, count, upcoming)
    except Broken as broken:
        raise _blamed(suffix, batch, broken) from None
    return draft


def _blamed(suffix: Suffix, batch: Batch, broken: Broken) -> InvalidField:
    entry, error = broken.entry, broken.error
    if entry.version >= batch.first:
        return batch.blame(error, entry)
    culprit = next(
        (upto for upto in range(batch.first, batch.last + 1) if _breaks(suffix, upto)),
        batch.first,
    )
    return RuleViolation(
        error.path,
        f"{error.problem} — this would break {entry.id} ({entry.type} on "
        f"{entry.effective_on}), recorded earlier",
        event_index=batch.index(culprit),
        event_type=batch.types[culprit],
    )


def _breaks(suffix: Suffix, upto: int) -> bool:
    try:
        fold(suffix.start(), suffix.entries(upto))
    except Broken:
        return True
    return False
