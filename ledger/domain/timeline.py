"""The recording axis: which events are in effect as the log stood at any version.

A plain event is in effect from its own version on. A correction withdraws its target
and puts its replacement in the target's place in recording order; correcting a
correction replaces the replacement. A retraction withdraws its target; retracting a
correction undoes it, so the event it had corrected is in effect again. ``Recording``
reads a log in recording order and says, as rows, from which version to which each
event is in effect: the entries in effect at version V are the rows open at V. The
store keeps those rows as its timeline index; ``known`` is the same question asked of
records in memory.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from functools import cached_property

import attrs

from ledger.domain import chain
from ledger.domain.draft import Plain
from ledger.domain.entries import OPENING, Entry
from ledger.domain.events import AgreementOpened, Fact, structure_stored, unstructure_fact
from ledger.domain.fold import Batch, check, fold
from ledger.domain.ids import agreement_uuid, event_id
from ledger.domain.state import AgreementState
from ledger.domain.values import DatePrecision
from ledger.errors import DateOutOfRange, InvalidField, RuleViolation

CORRECTION = "correction"
RETRACTION = "retraction"
OPEN = 2**63 - 1  # visible_until of a row still in effect: later than any log version


@attrs.frozen(kw_only=True)
class Recorded:
    """An event as stored: its place in the log, when it was recorded, its plain form
    (with its ``type``) and its digest.

    Shaped as eventsourcing's domain event protocol (``originator_id``,
    ``originator_version``, ``timestamp``), so the library's event store keeps it.
    """

    originator_id: uuid.UUID
    originator_version: int
    timestamp: datetime
    plain: Plain
    digest: str

    @property
    def recorded_at(self) -> datetime:
        """When the ledger recorded the event (transaction time)."""
        return self.timestamp

    @property
    def type(self) -> str:
        """The event's type (``investment``, ``correction``…)."""
        kind: str = self.plain["type"]
        return kind

    @cached_property
    def fact(self) -> Fact:
        """The event as a typed value."""
        return structure_stored(self.plain)


def dated(plain: Plain) -> Plain | None:
    """The dated fact an event puts on the timeline: a correction's replacement, else
    itself (a retraction has none)."""
    kind = plain["type"]
    if kind == CORRECTION:
        replacement: Plain = plain["replacement"]
        return replacement
    return None if kind == RETRACTION else plain


def target(plain: Plain) -> str | None:
    """The id a correction or retraction withdraws (``None`` for other events)."""
    kind = plain["type"]
    if kind == CORRECTION:
        return str(plain["corrects"])
    return str(plain["retracts"]) if kind == RETRACTION else None


@attrs.frozen
class Row:
    """An event in effect from log version ``visible_from`` until before ``visible_until``."""

    version: int  # the event that carries the fact (a correction carries its replacement)
    on: date
    opening: bool
    seq: int  # place in recording order (a replacement takes its original's)
    visible_from: int
    visible_until: int = OPEN

    def entry(self, agreement: str, plain: Plain) -> Entry:
        """The entry this row stands for, given the plain form of its event."""
        fact = dated(plain)
        if fact is None:  # pragma: no cover - retractions have no rows
            raise ValueError(f"{event_id(agreement, self.version)} has no date of its own")
        return Entry.of(
            event_id(agreement, self.version),
            self.version,
            self.seq,
            fact,
            replacing=plain["type"] == CORRECTION,
        )


class Recording:
    """An agreement's log read in recording order: the rows of its timeline index, and
    what withdrew what.

    Seeded (``seed``) with the rows and plain forms of the earlier events a batch
    withdraws, it gives what the batch changes without reading the rest of the log.
    """

    def __init__(self, agreement: str) -> None:
        self.agreement = agreement
        self.rows: list[Row] = []
        self.seeded = 0  # rows[:seeded] came from the store
        self.facts: dict[str, Plain] = {}  # event id -> its plain form
        self.withdrawn_by: dict[str, str] = {}
        self.version_of: dict[str, int] = {}
        self._open_row: dict[str, int] = {}  # event id -> its row in effect
        self._place: dict[str, int] = {}

    def seed(self, version: int, plain: Plain, last_row: Row | None) -> None:
        """An earlier event: its plain form and its latest row (``None`` for a retraction)."""
        ident = event_id(self.agreement, version)
        self.version_of[ident] = version
        self.facts[ident] = plain
        if last_row is None:
            return
        self._place[ident] = last_row.seq
        if last_row.visible_until == OPEN:
            self._open_row[ident] = len(self.rows)
            self.rows.append(last_row)
            self.seeded = len(self.rows)
        else:
            self.withdrawn_by[ident] = event_id(self.agreement, last_row.visible_until)

    def add(self, version: int, plain: Plain, *, checked: bool = False) -> None:
        """The next event of the log; a correction or retraction is ``checked`` against
        what it withdraws first (``InvalidField`` if it may not)."""
        ident = event_id(self.agreement, version)
        withdraws = target(plain)
        if withdraws is not None and checked:
            check_withdrawal(plain, self.facts, self.withdrawn_by)
        self.version_of[ident] = version
        self.facts[ident] = plain
        restored = None
        if withdraws is not None:
            restored = self._withdraw(ident, withdraws, plain)
            if withdraws in self._open_row:
                at = self._open_row.pop(withdraws)
                self.rows[at] = attrs.evolve(self.rows[at], visible_until=version)
        if restored is not None:
            self._open(restored, self.version_of[restored], self._place[restored], version)
        corrects = withdraws if plain["type"] == CORRECTION else None
        place = version if corrects is None else self._place.get(corrects, version)
        self._place[ident] = place
        if dated(plain) is not None:
            self._open(ident, version, place, version)

    def _withdraw(self, ident: str, withdrawn: str, plain: Plain) -> str | None:
        """Note the withdrawal; the id it puts back in effect (retracting a correction
        restores what that correction had corrected), if any."""
        self.withdrawn_by[withdrawn] = ident
        undone = self.facts.get(withdrawn)
        if plain["type"] != RETRACTION or undone is None or undone["type"] != CORRECTION:
            return None
        corrected = str(undone["corrects"])
        if self.withdrawn_by.get(corrected) != withdrawn:
            return None
        del self.withdrawn_by[corrected]
        return corrected

    def _open(self, ident: str, version: int, seq: int, visible_from: int) -> None:
        fact = dated(self.facts[ident])
        if fact is None:  # pragma: no cover - callers open dated events only
            raise ValueError("a retraction has no place on the timeline")
        on = date.fromisoformat(fact["effective_on"])
        self._open_row[ident] = len(self.rows)
        self.rows.append(Row(version, on, fact["type"] == OPENING, seq, visible_from))

    def opened(self) -> list[Row]:
        """The rows added since seeding."""
        return self.rows[self.seeded :]

    def closed(self) -> list[Row]:
        """The seeded rows closed since."""
        return [row for row in self.rows[: self.seeded] if row.visible_until != OPEN]

    def in_effect(self) -> Iterator[Entry]:
        """The entries of the rows still open, unsorted."""
        for row in self.rows:
            if row.visible_until == OPEN:
                plain = self.facts[event_id(self.agreement, row.version)]
                yield row.entry(self.agreement, plain)


def check_withdrawal(
    fact: Plain, facts: Mapping[str, Plain], withdrawn_by: Mapping[str, str]
) -> None:
    """Refuse a withdrawal whose target is unknown, already withdrawn, or may not be."""
    kind = fact["type"]
    field = "corrects" if kind == CORRECTION else "retracts"
    aimed = str(fact[field])
    original = facts.get(aimed)
    if original is None:
        raise RuleViolation(field, f"expected the id of an event recorded before, got {aimed!r}")
    if aimed in withdrawn_by:
        raise RuleViolation(
            field,
            f"expected an event not yet withdrawn, got {aimed!r}, "
            f"which {withdrawn_by[aimed]} already withdrew",
        )
    if original["type"] == RETRACTION:
        raise RuleViolation(field, f"expected an event other than a retraction, got {aimed!r}")
    original_dated = dated(original)
    opens = original_dated is not None and original_dated["type"] == OPENING
    # Retracting the opening itself is refused; retracting a correction of it undoes that.
    if kind == RETRACTION and original["type"] == OPENING:
        raise RuleViolation(
            field, f"expected an event other than the opening, got {aimed!r}; correct it instead"
        )
    if kind != CORRECTION:
        return
    replacement = fact["replacement"]
    if opens != (replacement["type"] == OPENING):
        was = original_dated["type"] if original_dated is not None else "an event"
        raise RuleViolation(
            "replacement.type",
            f"expected {was} to be replaced by the same kind of opening or non-opening "
            f"event, got {replacement['type']!r}",
        )
    if (
        opens
        and original_dated is not None
        and replacement["agreement"] != original_dated["agreement"]
    ):
        raise RuleViolation(
            "replacement.agreement",
            f"expected {original_dated['agreement']!r}, got {replacement['agreement']!r}",
        )


# -- the definitions, over a log in memory -----------------------------------------------


@attrs.frozen
class Timeline:
    """The events of an agreement as known at one time, withdrawals resolved."""

    agreement: str
    entries: tuple[Entry, ...]
    withdrawn_by: dict[str, str]


def known(agreement: str, records: Sequence[Recorded], at: datetime | None = None) -> Timeline:
    """The timeline of the events recorded at or before ``at`` (default: all of them)."""
    recording = Recording(agreement)
    for record in records:
        if at is None or record.timestamp <= at:
            recording.add(record.originator_version, record.plain)
    return Timeline(agreement, tuple(sorted(recording.in_effect())), recording.withdrawn_by)


def state_at(
    agreement: str, records: Sequence[Recorded], on: date, known_at: datetime | None = None
) -> AgreementState:
    """The agreement on ``on`` as known at ``known_at`` (default: everything recorded):
    DESIGN's definition, folded from the opening. The application asks the read side,
    which starts from a checkpoint; the laws hold the two to the same answers."""
    timeline = known(agreement, records, known_at)
    if not timeline.entries:
        raise not_known_yet(agreement, known_at, records[0].timestamp if records else None)
    if on < timeline.entries[0].effective_on:
        raise not_open_yet(agreement, timeline.entries[0], on)
    draft = fold(None, (e for e in timeline.entries if e.effective_on <= on))
    if draft is None:  # pragma: no cover - the opening is on or before ``on``
        raise not_open_yet(agreement, timeline.entries[0], on)
    return draft.freeze(on, known_at)


@attrs.frozen
class WholeLog:
    """The ``Suffix`` of a whole log from its opening: the definition of the check
    (``check_log``), which the read side's checks from checkpoints must agree with."""

    agreement: str
    records: Sequence[Recorded]
    batch: Batch

    def start(self) -> None:
        """No checkpoint: the fold starts with the opening."""

    def entries(self, upto: int) -> Iterator[Entry]:
        """The whole timeline with the batch's events up to ``upto``."""
        recording = Recording(self.agreement)
        for record in self.records:
            version = record.originator_version
            if version > upto:
                break
            try:
                recording.add(version, record.plain, checked=version >= self.batch.first)
            except InvalidField as error:
                raise error.located(self.batch.index(version), record.type) from None
        return iter(sorted(recording.in_effect()))


def chained(
    aggregate_id: uuid.UUID,
    head: Recorded | None,
    plain: Sequence[Plain],
    recorded_at: datetime,
) -> list[Recorded]:
    """The events that record ``plain`` facts after ``head``, each chained to the last.

    Nothing is checked: ``check`` does that, from wherever the caller starts it.
    """
    previous = head.digest if head is not None else chain.GENESIS
    version = head.originator_version if head is not None else 0
    moment = recorded_at.isoformat()  # one recording time for the whole append
    new: list[Recorded] = []
    for offset, fact in enumerate(plain, start=1):
        digest = chain.link_content(previous, {"fact": fact, "recorded_at": moment})
        new.append(
            Recorded(
                originator_id=aggregate_id,
                originator_version=version + offset,
                timestamp=recorded_at,
                plain=fact,
                digest=digest,
            )
        )
        previous = digest
    return new


@attrs.frozen
class Log:
    """An agreement's log: every event recorded for it, in recording order.

    ``open`` and ``record`` check new events over the whole timeline from the opening:
    the definition the application's checks from checkpoints are held to.
    """

    agreement: str
    records: tuple[Recorded, ...]

    @classmethod
    def open(cls, facts: Sequence[Fact], recorded_at: datetime) -> tuple[Log, list[Recorded]]:
        """A new agreement from a batch whose first event opens it."""
        first = facts[0] if facts else None
        if not isinstance(first, AgreementOpened):
            raise InvalidField(
                "type",
                "expected agreement_opened as the first event of a new agreement",
                event_index=1,
                event_type=getattr(first, "TYPE", None),
            )
        return cls(first.agreement, ()).record(facts, recorded_at)

    def record(self, facts: Sequence[Fact], recorded_at: datetime) -> tuple[Log, list[Recorded]]:
        """The log with ``facts`` recorded at ``recorded_at``, and their events, if the
        timeline allows them (else ``InvalidField`` naming the event at fault)."""
        head = self.records[-1] if self.records else None
        aggregate_id = agreement_uuid(self.agreement)
        new = chained(aggregate_id, head, [unstructure_fact(f) for f in facts], recorded_at)
        after = Log(self.agreement, (*self.records, *new))
        check_log(self.agreement, after.records, new[0].originator_version)
        return after, new


def check_log(agreement: str, records: Sequence[Recorded], first_new: int) -> None:
    """Refuse a log whose events from version ``first_new`` on break a rule, checked over
    the whole timeline from its opening (``InvalidField`` names the new event at fault)."""
    batch = Batch(
        first_new,
        {r.originator_version: r.type for r in records if r.originator_version >= first_new},
    )
    check(WholeLog(agreement, records, batch), batch)


def not_known_yet(
    agreement: str, known_at: datetime | None, first_recorded: datetime | None = None
) -> DateOutOfRange:
    """The refusal of a question asked as known before anything was recorded."""
    first = f"; it was first recorded at {first_recorded.isoformat()}" if first_recorded else ""
    return DateOutOfRange(f"{agreement!r} was not known yet at {known_at}{first}")


def not_open_yet(agreement: str, opening: Entry, on: date) -> DateOutOfRange:
    """The refusal of a date before the agreement opened (``opening`` is its first entry)."""
    opened_on = opening.effective_on
    precision = DatePrecision(opening.precision)
    approximately = ""
    if precision is not DatePrecision.DAY:
        label = precision.label(opened_on)
        approximately = f" (that is, in {label}: the source gives no exact day)"
    return DateOutOfRange(
        f"{agreement!r} had not opened on {on}: it opened on {opened_on}" + approximately
    )
