"""The two time axes: which events are known at T, and the state they fold to on D.

Order is total: effective date, then the opening before anything else on its day,
then recording order. A correction's replacement takes the correction's place in
recording order; withdrawn events are left out of folds known after the withdrawal.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime

import attrs

from ledger.domain.events import (
    AgreementOpened,
    Correction,
    DatedFact,
    Fact,
    OwnershipChange,
    Retraction,
    target_of,
)
from ledger.domain.fold import Entry, apply, opening, over_allocation
from ledger.domain.state import AgreementState
from ledger.domain.values import DatePrecision
from ledger.errors import DateOutOfRange, InvalidField, RuleViolation


@attrs.frozen(kw_only=True)
class Recorded:
    """An event as stored: the fact, its place in the log, when it was recorded, its digest.

    Shaped as eventsourcing's domain event protocol (``originator_id``,
    ``originator_version``, ``timestamp``), so the library's event store keeps it.
    """

    originator_id: uuid.UUID
    originator_version: int
    timestamp: datetime
    fact: Fact
    digest: str

    @property
    def recorded_at(self) -> datetime:
        """When the ledger recorded the event (transaction time)."""
        return self.timestamp


def event_id(agreement: str, version: int) -> str:
    """The stable id of the event at ``version`` in an agreement's log."""
    return f"{agreement}#{version}"


@attrs.frozen
class Timeline:
    """The events of an agreement as known at one time, withdrawals resolved."""

    agreement: str
    entries: tuple[Entry, ...]
    withdrawn_by: dict[str, str]

    @property
    def opened_on(self) -> date:
        """The date the agreement opened, as known."""
        return next(e.effective_on for e in self.entries if isinstance(e.fact, AgreementOpened))


def known(agreement: str, records: Sequence[Recorded], at: datetime | None = None) -> Timeline:
    """The timeline of the events recorded at or before ``at`` (default: all of them)."""
    visible = [r for r in records if at is None or r.timestamp <= at]
    withdrawals = Withdrawals()
    for record in visible:
        withdrawals.record(event_id(agreement, record.originator_version), record.fact)
    withdrawn_by = withdrawals.withdrawn_by
    place: dict[str, int] = {}  # a replacement takes its original's place in recording order
    entries = []
    for record in visible:
        ident = event_id(agreement, record.originator_version)
        fact = record.fact
        replacing = isinstance(fact, Correction)
        if isinstance(fact, Correction):
            place[ident] = place.get(fact.corrects, record.originator_version)
        else:
            place[ident] = record.originator_version
        dated = dated_fact(fact)
        if dated is not None and ident not in withdrawn_by:
            entries.append(Entry(ident, place[ident], dated, replacing, record.originator_version))
    entries.sort(key=order)
    return Timeline(agreement, tuple(entries), withdrawn_by)


class Withdrawals:
    """Which events are withdrawn, and by what, as the log is read in recording order.

    A correction withdraws its target and puts its replacement in its place; correcting
    a correction replaces the replacement. A retraction withdraws its target; retracting
    a correction undoes it, so the event it had corrected is in effect again.
    """

    def __init__(self) -> None:
        self.facts: dict[str, Fact] = {}
        self.withdrawn_by: dict[str, str] = {}

    def record(self, ident: str, fact: Fact) -> str | None:
        """Take the next event of the log into account; the id it puts back in effect, if any."""
        self.facts[ident] = fact
        if not isinstance(fact, (Correction, Retraction)):
            return None
        target = target_of(fact)
        self.withdrawn_by[target] = ident
        undone = self.facts.get(target)
        if (
            isinstance(fact, Retraction)
            and isinstance(undone, Correction)
            and self.withdrawn_by.get(undone.corrects) == target
        ):
            del self.withdrawn_by[undone.corrects]
            return undone.corrects
        return None


def order(entry: Entry) -> tuple[date, int, int, int]:
    """The total order of the fold."""
    opening = 0 if isinstance(entry.fact, AgreementOpened) else 1
    return (entry.effective_on, opening, entry.seq, entry.version)


def dated_fact(fact: Fact) -> DatedFact | None:
    """The dated fact an event puts on the timeline: a correction's replacement, else itself."""
    if isinstance(fact, Correction):
        return fact.replacement
    if isinstance(fact, Retraction):
        return None
    return fact


def fold(
    entries: Iterable[Entry], on: date | None = None, start: AgreementState | None = None
) -> AgreementState:
    """The state after the entries effective on or before ``on`` (default: all).

    ``start`` is a state the first of ``entries`` follows (a checkpoint), if any.
    """
    if start is None:  # the opening is among the entries: name its date if one comes before
        entries = list(entries)
        opened_on = _opening_date(entries)
    else:
        opened_on = str(start.opened_on)
    state = start
    for entry in entries:
        if on is not None and entry.effective_on > on:
            break
        state = step(state, entry, opened_on)
    if state is None:
        raise DateOutOfRange(f"the agreement had not opened on {on}: it opened on {opened_on}")
    return state if on is None else attrs.evolve(state, as_of=on)


def step(state: AgreementState | None, entry: Entry, opened_on: str) -> AgreementState:
    """One entry folded into the state; the first must be the opening."""
    if state is not None:
        return apply(state, entry)
    if not isinstance(entry.fact, AgreementOpened):
        raise RuleViolation(
            "effective_on",
            f"expected a date on or after the agreement opened ({opened_on}), "
            f"got '{entry.effective_on}'",
        )
    return opening(entry)


def state_at(
    agreement: str, records: Sequence[Recorded], on: date, known_at: datetime | None = None
) -> AgreementState:
    """The agreement on ``on`` as known at ``known_at`` (default: everything recorded)."""
    timeline = known(agreement, records, known_at)
    if not timeline.entries:
        raise not_known_yet(agreement, known_at)
    if on < timeline.opened_on:
        raise not_open_yet(agreement, timeline.entries[0], on)
    return attrs.evolve(fold(timeline.entries, on), known_at=known_at)


def not_known_yet(agreement: str, known_at: datetime | None) -> DateOutOfRange:
    """The refusal of a question asked as known before anything was recorded."""
    return DateOutOfRange(f"{agreement!r} was not known yet at {known_at}")


def not_open_yet(agreement: str, opening: Entry, on: date) -> DateOutOfRange:
    """The refusal of a date before the agreement opened (``opening`` is its first entry)."""
    opened_on = opening.effective_on
    precision = opening.fact.date_precision
    approximately = ""
    if precision is not DatePrecision.DAY:
        label = precision.label(opened_on)
        approximately = f" (that is, in {label}: the source gives no exact day)"
    return DateOutOfRange(
        f"{agreement!r} had not opened on {on}: it opened on {opened_on}" + approximately
    )


def check(agreement: str, records: Sequence[Recorded], first_new: int) -> None:
    """Refuse a log whose events from version ``first_new`` on break a rule.

    The whole timeline is folded, so a backdated event that breaks a later one is
    refused too; the error names the new event at fault (1-based within its batch).
    """
    old = [r for r in records if r.originator_version < first_new]
    new = [r for r in records if r.originator_version >= first_new]
    batch = Batch(first_new, {r.originator_version: r.fact.TYPE for r in new})
    check_withdrawals(agreement, records, batch)
    try:
        _fold_checked(agreement, records)
    except Broken as broken:
        entry, error = broken.entry, broken.error
        if entry.version >= first_new:
            raise batch.blame(error, entry) from None
        culprit = _culprit(agreement, old, new)
        raise RuleViolation(
            error.path,
            f"{error.problem} — this would break {entry.id} ({entry.fact.TYPE} on "
            f"{entry.effective_on}), recorded earlier",
            event_index=batch.index(culprit.originator_version),
            event_type=culprit.fact.TYPE,
        ) from None


@attrs.frozen
class Batch:
    """The events being appended: from version ``first``, with their types."""

    first: int
    types: dict[int, str]

    def index(self, version: int) -> int:
        """The 1-based place of an event in its batch (its file)."""
        return version - self.first + 1

    def blame(self, error: InvalidField, entry: Entry) -> InvalidField:
        """``error``, raised by folding a new ``entry``, placed at that entry's event."""
        if entry.replacing:
            return error.within("replacement").located(self.index(entry.version), "correction")
        return error.located(self.index(entry.version), entry.fact.TYPE)


class Broken(Exception):
    """A rule broken while folding ``entry``."""

    def __init__(self, entry: Entry, error: InvalidField) -> None:
        super().__init__(str(error))
        self.entry = entry
        self.error = error


def _fold_checked(agreement: str, records: Sequence[Recorded]) -> None:
    """Fold every event known, raising ``Broken`` at the first rule broken."""
    entries = known(agreement, records).entries
    for _ in fold_days(None, entries, _opening_date(entries)):
        pass


def fold_days(
    state: AgreementState | None, entries: Iterable[Entry], opened_on: str
) -> Iterator[tuple[AgreementState, int]]:
    """Fold ``entries`` after ``state``, checking every rule, day by day.

    Yields the state at the end of each day with the number of entries folded that
    day; raises ``Broken`` at the first rule broken. Stakes are summed at the end of
    each day, so that one day's ownership changes (a recapitalisation) may come in any
    order.
    """
    day: list[Entry] = []
    for entry in entries:
        if day and entry.effective_on != day[-1].effective_on and state is not None:
            _check_day_end(state, day)
            yield state, len(day)
            day = []
        try:
            state = step(state, entry, opened_on)
        except InvalidField as error:
            raise Broken(entry, error) from None
        day.append(entry)
    if day and state is not None:
        _check_day_end(state, day)
        yield state, len(day)


def _check_day_end(state: AgreementState, day: Sequence[Entry]) -> None:
    # Stakes change only through ownership changes, and the last day-end check passed.
    if not any(isinstance(e.fact, OwnershipChange) for e in day):
        return
    found = over_allocation(state)
    if found is None:
        return
    entity, problem = found
    changed = [e for e in day if isinstance(e.fact, OwnershipChange) and e.fact.entity == entity]
    raise Broken(changed[-1], RuleViolation("percent", problem))


def _culprit(agreement: str, old: list[Recorded], new: list[Recorded]) -> Recorded:
    """The first new event whose addition breaks the timeline."""
    for count in range(1, len(new) + 1):
        try:
            _fold_checked(agreement, old + new[:count])
        except Broken:
            return new[count - 1]
    return new[0]  # pragma: no cover - the whole batch breaks it, so some prefix does


def _opening_date(entries: Sequence[Entry]) -> str:
    dates = [e.effective_on for e in entries if isinstance(e.fact, AgreementOpened)]
    return str(dates[0]) if dates else "not yet"


def check_withdrawals(agreement: str, records: Sequence[Recorded], batch: Batch) -> None:
    """Each new correction or retraction names an earlier event that is still in effect."""
    withdrawals = Withdrawals()
    for record in records:
        fact = record.fact
        if isinstance(fact, (Correction, Retraction)) and record.originator_version >= batch.first:
            try:
                check_withdrawal(fact, withdrawals.facts, withdrawals.withdrawn_by)
            except InvalidField as error:
                raise error.located(batch.index(record.originator_version), fact.TYPE) from None
        withdrawals.record(event_id(agreement, record.originator_version), fact)


def check_withdrawal(
    fact: Correction | Retraction, kinds: dict[str, Fact], withdrawn: dict[str, str]
) -> None:
    """Refuse a withdrawal whose target is unknown, already withdrawn, or may not be."""
    field = "corrects" if isinstance(fact, Correction) else "retracts"
    target = target_of(fact)
    original = kinds.get(target)
    if original is None:
        raise RuleViolation(field, f"expected the id of an event recorded before, got {target!r}")
    if target in withdrawn:
        raise RuleViolation(
            field,
            f"expected an event not yet withdrawn, got {target!r}, "
            f"which {withdrawn[target]} already withdrew",
        )
    if isinstance(original, Retraction):
        raise RuleViolation(field, f"expected an event other than a retraction, got {target!r}")
    original_dated = dated_fact(original)
    opens = isinstance(original_dated, AgreementOpened)
    # Retracting the opening itself is refused; retracting a correction of it undoes that.
    if isinstance(fact, Retraction) and isinstance(original, AgreementOpened):
        raise RuleViolation(
            field, f"expected an event other than the opening, got {target!r}; correct it instead"
        )
    if isinstance(fact, Correction):
        replaces_opening = isinstance(fact.replacement, AgreementOpened)
        if opens != replaces_opening:
            raise RuleViolation(
                "replacement.type",
                f"expected {original_dated.TYPE if original_dated else 'an event'} to be replaced "
                f"by the same kind of opening or non-opening event, got {fact.replacement.TYPE!r}",
            )
        if (
            opens
            and isinstance(original_dated, AgreementOpened)
            and isinstance(fact.replacement, AgreementOpened)
            and fact.replacement.agreement != original_dated.agreement
        ):
            raise RuleViolation(
                "replacement.agreement",
                f"expected {original_dated.agreement!r}, got {fact.replacement.agreement!r}",
            )
