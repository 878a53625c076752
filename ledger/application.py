"""The application service: the use cases, each a short story over the store and the domain."""

from __future__ import annotations

import contextlib
import random
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, date, datetime
from functools import partial
from importlib import resources
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, Notification, PersistenceError

from ledger.adapters.checkpoints import IndexWrite
from ledger.adapters.indexed import IndexedLog, NeedsFullCheck
from ledger.adapters.mapper import LedgerMapper
from ledger.adapters.store import StoreLocation
from ledger.domain import chain
from ledger.domain.agreement import Agreement, agreement_uuid, chained, project_agreement
from ledger.domain.events import AgreementOpened, Fact
from ledger.domain.state import AgreementState
from ledger.domain.timeline import Recorded, event_id, state_at
from ledger.errors import (
    AgreementExists,
    AgreementNotFound,
    ConcurrencyError,
    FileError,
    InputError,
    InvalidField,
    StoreError,
)

if TYPE_CHECKING:  # imported where used, so a command loads only what it needs
    from ledger.adapters.files import AmendmentFile
    from ledger.domain.difference import Difference
    from ledger.domain.history import HistoryEntry
    from ledger.domain.whatif import WhatIf

T = TypeVar("T")

EXAMPLES = ("openai-microsoft",)
RETRY_SECONDS = 60
BASE_PAUSE = 0.002
MAX_PAUSE = 0.25


class LedgerApplication(Application[uuid.UUID]):
    """eventsourcing's application, storing ``Recorded`` events with the ledger's mapper."""

    name = "ContractLedger"
    mapper: LedgerMapper

    def construct_mapper(self) -> LedgerMapper:
        """The ledger's own mapper (plain JSON rows, stable topics)."""
        return LedgerMapper()


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


@attrs.frozen
class Appended:
    """An event an append recorded: its id and recording time."""

    id: str
    recorded_at: datetime
    fact: Fact


class Ledger:
    """A ledger store: append events, replay agreements to dates, read their history.

    ``Ledger()`` opens ``$LEDGER_STORE`` or ``./ledger.sqlite``; ``Ledger("memory:")``
    keeps everything in memory; ``Ledger("postgresql://user@host/db")`` shares a
    PostgreSQL database. Use it as a context manager, or call ``close()``.
    """

    def __init__(
        self,
        store: str | None = None,
        *,
        must_exist: bool = False,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.location = StoreLocation.resolve(store)
        if not self.location.exists() and must_exist:
            raise StoreError(
                f"no ledger store at {self.location.display()}: create it with `ledger init`"
            )
        self._clock = clock
        try:
            self._app = LedgerApplication(env=self.location.env())
        except InputError:
            raise
        except Exception as error:  # the library raises driver errors of every kind here
            raise StoreError(
                f"cannot open the store {self.location.display()}: {_reason(error)}"
            ) from None
        self._indexed = IndexedLog(self._app.recorder, self._app.mapper)

    def close(self) -> None:
        """Release the store's connections."""
        self._app.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    # -- reading -----------------------------------------------------------

    def agreements(self) -> list[str]:
        """The ids of the agreements in the store, in the order they were opened."""
        indexed = self._store(self._indexed.index.agreements)
        if indexed is not None:
            return [name for name, _ in indexed]
        # A store written before the index: index each agreement it holds, once.
        found = []
        for row in self._opening_rows():
            fact = self._app.mapper.to_domain_event(row).fact
            if isinstance(fact, AgreementOpened):
                found.append(fact.agreement)
                self._reindex(fact.agreement)
        return found

    def _opening_rows(self) -> list[Notification]:
        rows: list[Notification] = []
        while True:
            batch = self._store(
                partial(
                    self._app.recorder.select_notifications,
                    start=rows[-1].id + 1 if rows else 1,
                    limit=500,
                    topics=[AgreementOpened.TOPIC],
                )
            )
            rows.extend(batch)
            if len(batch) < 500:
                return rows

    def agreement(self, agreement: str | None = None) -> Agreement:
        """The log of ``agreement`` (may be omitted when the store holds just one)."""
        name = self.resolve(agreement)
        try:
            log: Agreement = self._store(
                lambda: self._app.repository.get(
                    agreement_uuid(name), projector_func=project_agreement
                )
            )
        except AggregateNotFoundError:
            raise AgreementNotFound(f"the store holds no agreement {name!r}") from None
        return log

    def resolve(self, agreement: str | None) -> str:
        """The agreement meant: the one given, or the store's only one."""
        if agreement is not None:
            return agreement
        held = self.agreements()
        if len(held) == 1:
            return held[0]
        if not held:
            raise AgreementNotFound(
                f"the store {self.location.display()} holds no agreement yet: "
                "load one with `ledger init --example openai-microsoft` or `ledger append FILE`"
            )
        raise AgreementNotFound(
            "the store holds several agreements; name the one meant (--agreement): "
            + ", ".join(held)
        )

    def state_at(
        self, on: date, *, known_at: datetime | None = None, agreement: str | None = None
    ) -> AgreementState:
        """The agreement on ``on``, as known at ``known_at`` (default: now)."""
        name = self._in_step(self.resolve(agreement))
        known = self._known(known_at)
        state: AgreementState = self._store(partial(self._indexed.state_at, name, on, known))
        return state

    def _in_step(self, name: str, head: Recorded | None = None) -> str:
        """``name``, once the index has followed its log to ``head`` (default: read it),
        rebuilt if it lags."""
        if head is None:
            head = self._store(partial(self._indexed.head, agreement_uuid(name)))
        if head is None:
            raise AgreementNotFound(f"the store holds no agreement {name!r}")
        if not self._store(partial(self._indexed.in_step, head.originator_id, head)):
            self._reindex(name)
        return name

    def _reindex(self, name: str) -> None:
        records = self.agreement(name).records
        self._store(partial(self._indexed.reindex, name, records))

    def history(
        self,
        *,
        agreement: str | None = None,
        known_at: datetime | None = None,
        start: date | None = None,
        end: date | None = None,
        kinds: Collection[str] = (),
    ) -> tuple[HistoryEntry, ...]:
        """The recorded events, oldest effective date first, each withdrawal after its target."""
        from ledger.domain.history import history

        if start is not None and end is not None and end < start:
            raise InputError(f"expected --to on or after --from, got {start} then {end}")
        log = self.agreement(agreement)
        return history(
            log.agreement,
            log.records,
            known_at=None if known_at is None else self._known(known_at),
            start=start,
            end=end,
            kinds=kinds,
        )

    def diff(
        self,
        first: date,
        second: date,
        *,
        known_at: datetime | None = None,
        agreement: str | None = None,
    ) -> Difference:
        """What changed in the agreement from ``first`` to ``second``."""
        from ledger.domain.difference import difference

        if second < first:
            raise InputError(
                f"expected the second date on or after the first, got {first} then {second}"
            )
        known = self._known(known_at)
        return difference(
            self.state_at(first, known_at=known, agreement=agreement),
            self.state_at(second, known_at=known, agreement=agreement),
        )

    def what_if(
        self,
        on: date,
        *,
        facts: Sequence[Fact] = (),
        proposal: str | None = None,
        known_at: datetime | None = None,
        agreement: str | None = None,
    ) -> WhatIf:
        """The agreement on ``on`` with ``facts`` (or ``proposal`` accepted on ``on``) applied.

        Nothing is written. A hypothesis that breaks a rule is refused like an append.
        """
        from ledger.domain.whatif import acceptance, what_if

        log = self.agreement(agreement)
        known = self._known(known_at)
        hypothesis = list(facts)
        if proposal is not None:
            actual = state_at(log.agreement, log.records, on, known)
            hypothesis.append(acceptance(actual, proposal))
        if not hypothesis:
            raise InputError("expected a file of events or a proposal to try, got neither")
        return what_if(log, hypothesis, on, known)

    def what_if_file(
        self,
        name: str,
        on: date,
        *,
        known_at: datetime | None = None,
        agreement: str | None = None,
        stdin_text: str | None = None,
    ) -> WhatIf:
        """``what_if`` with the events of an amendment file (``-``: standard input)."""
        from ledger.adapters.files import read_file

        file = read_file(name, stdin_text)
        label = name if name != "-" else "<stdin>"
        try:
            return self.what_if(
                on, facts=file.events, known_at=known_at, agreement=file.agreement or agreement
            )
        except InvalidField as error:
            raise FileError(label, str(error)) from None

    def _known(self, known_at: datetime | None) -> datetime:
        """``known_at`` as an aware UTC time (a time without a zone is UTC); default: now."""
        if known_at is None:
            return self._clock()
        return known_at.replace(tzinfo=UTC) if known_at.tzinfo is None else known_at

    def verify(self, agreement: str | None = None, *, reindex: bool = False) -> int:
        """Check every stored event against the hash chain, then the timeline index and
        checkpoints against the events; the number of events checked.

        Raises ``IntegrityFailure`` naming the first event, or the first part of the
        index, that does not match. With ``reindex``, the index and checkpoints are
        rebuilt from the verified events first.
        """
        from ledger.adapters.integrity import verify_rows

        checked = 0
        for name, aggregate_id in self._opened(agreement):
            rows = self._store(partial(self._app.recorder.select_events, aggregate_id))
            records = verify_rows(name, rows, self._app.mapper)
            checked += len(records)
            if reindex:
                self._store(partial(self._indexed.reindex, name, records))
            else:
                self._in_step(name)
            self._store(partial(self._indexed.verify, name, records))
        return checked

    def _opened(self, agreement: str | None) -> list[tuple[str, uuid.UUID]]:
        """The agreements' names and aggregate ids, read from the opening rows themselves.

        A name that cannot be read is shown as the aggregate id, so that a damaged opening
        is reported by ``verify`` rather than hiding its agreement.
        """
        if agreement is not None:
            self.agreement(agreement)  # an agreement the store does not hold is refused
            return [(agreement, agreement_uuid(agreement))]
        opened = []
        for row in self._opening_rows():
            aggregate_id = uuid.UUID(str(row.originator_id))
            fact: Fact | None = None
            # An opening that cannot be read is named by its aggregate id below.
            with contextlib.suppress(Exception):
                fact = self._app.mapper.to_domain_event(row).fact
            # The aggregate id derives from the name: a name that does not give it back was
            # altered, and must not stand for the agreement in verify's report.
            name = str(aggregate_id)
            if isinstance(fact, AgreementOpened) and agreement_uuid(fact.agreement) == aggregate_id:
                name = fact.agreement
            opened.append((name, aggregate_id))
        return opened

    # -- writing -----------------------------------------------------------

    def append(self, facts: Sequence[Fact], *, agreement: str | None = None) -> list[Appended]:
        """Record ``facts`` atomically: all of them, or none if any breaks a rule.

        A batch that starts with ``agreement_opened`` creates its agreement. When
        another writer appends first, the batch is checked again against the new
        timeline and retried.
        """
        if not facts:
            raise InputError("expected at least one event to append, got none")
        name = _agreement_named(facts, agreement)
        deadline = time.monotonic() + RETRY_SECONDS
        attempt = 0
        while True:
            label, new, change = self._prepared(facts, name)
            try:
                self._store(partial(self._app.save, *new, index=change))
            except IntegrityError:
                attempt += 1
                if time.monotonic() >= deadline:
                    break
                # Exponential back-off with full jitter spreads out writers that collided.
                pause = min(MAX_PAUSE, BASE_PAUSE * 2**attempt)
                time.sleep(random.uniform(0, pause))  # noqa: S311 - jitter, not security
                continue
            return [
                Appended(event_id(label, r.originator_version), r.timestamp, r.fact) for r in new
            ]
        raise ConcurrencyError(
            f"other writers kept appending to {name!r}; gave up after {attempt} attempts in "
            f"{RETRY_SECONDS} s without writing anything — try again"
        )

    def append_file(
        self, name: str, *, agreement: str | None = None, stdin_text: str | None = None
    ) -> list[Appended]:
        """Append the events of an amendment file (``-``: standard input)."""
        from ledger.adapters.files import read_file

        file = read_file(name, stdin_text)
        return self._append_document(file, name if name != "-" else "<stdin>", agreement)

    def load_example(self, example: str = "openai-microsoft") -> list[Appended]:
        """Load a bundled history; refused if the store already holds that agreement."""
        from ledger.adapters.files import parse_text

        if example not in EXAMPLES:
            raise InputError(
                f"expected one of the bundled examples ({', '.join(EXAMPLES)}), got {example!r}"
            )
        text = resources.files("ledger.examples").joinpath(f"{example}.yaml").read_text("utf-8")
        file = parse_text(text, f"{example}.yaml")
        if file.agreement in self.agreements():
            raise AgreementExists(f"the store already holds the agreement {file.agreement!r}")
        return self._append_document(file, f"{example}.yaml", None)

    def _append_document(
        self, file: AmendmentFile, name: str, agreement: str | None
    ) -> list[Appended]:
        if agreement is not None and file.agreement is not None and agreement != file.agreement:
            raise FileError(
                name,
                f"agreement: expected {agreement!r} (from --agreement), got {file.agreement!r}",
            )
        try:
            return self.append(file.events, agreement=file.agreement or agreement)
        except (InvalidField, AgreementNotFound, AgreementExists) as error:
            raise FileError(name, str(error)) from None

    def _prepared(
        self, facts: Sequence[Fact], name: str | None
    ) -> tuple[str, list[Recorded], IndexWrite]:
        """The events that would record ``facts``, checked, and the index's part of them."""
        label = self.resolve(None) if name is None else name
        head = self._store(partial(self._indexed.head, agreement_uuid(label)))
        if head is None:
            if not isinstance(facts[0], AgreementOpened):
                raise AgreementNotFound(
                    f"agreement: the store holds no agreement {label!r}; a file that opens "
                    "one starts with an agreement_opened event"
                )
            recorded_at = self._clock()
            new = chained(agreement_uuid(label), 0, chain.GENESIS, facts, recorded_at)
            return label, new, self._checked_whole(label, None, new, recorded_at)
        opening = next((i for i, f in enumerate(facts, 1) if isinstance(f, AgreementOpened)), None)
        if opening is not None:
            raise AgreementExists(
                f"event {opening} (agreement_opened): "
                f"the store already holds the agreement {label!r}"
            )
        self._in_step(label, head)
        # Recording times never go backwards, so "known at T" is always a prefix of the log.
        recorded_at = max(self._clock(), head.timestamp)
        new = chained(head.originator_id, head.originator_version, head.digest, facts, recorded_at)
        try:
            return label, new, self._store(partial(self._indexed.appended, label, head, new))
        except NeedsFullCheck:
            log = self.agreement(label)
            return label, new, self._checked_whole(label, log, new, recorded_at)

    def _checked_whole(
        self, label: str, log: Agreement | None, new: list[Recorded], recorded_at: datetime
    ) -> IndexWrite:
        """The index's part of ``new`` after the whole ``log``, checked in the one fold that
        writes its checkpoints; a refusal is named by the whole-log check."""
        records = (*(log.records if log is not None else ()), *new)
        try:
            change: IndexWrite = self._store(
                partial(self._indexed.checked, label, records, new[0].originator_version)
            )
        except NeedsFullCheck:
            facts = [r.fact for r in new]
            if log is None:
                Agreement.open(facts, recorded_at)
            else:
                log.record(facts, recorded_at)
            raise  # pragma: no cover - the whole-log check refuses what the fold refused
        return change

    def _store(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except (AggregateNotFoundError, IntegrityError):
            raise
        except PersistenceError as error:
            raise StoreError(
                f"the store {self.location.display()} failed: {_reason(error)}"
            ) from None


def write_to(
    store: str | None,
    action: Callable[[Ledger], T],
    *,
    clock: Callable[[], datetime] = utc_now,
) -> T:
    """Run ``action`` on the ledger at ``store``; a SQLite store that does not exist yet
    is created only if ``action`` succeeds.

    The new store is built under a name of its own and published under ``store`` only
    once ``action`` returns, so a refused write leaves nothing behind and never touches
    a store another process created meanwhile. If one did, ``action`` runs again on
    that store as it now is.
    """
    location = StoreLocation.resolve(store)
    if not location.is_file or location.exists():
        with Ledger(store, clock=clock) as ledger:
            return action(ledger)
    staged = location.staged()
    try:
        with Ledger(staged.url, clock=clock) as ledger:
            result = action(ledger)
        if location.publish(staged):
            return result
    finally:
        staged.discard()
    with Ledger(store, clock=clock) as ledger:
        return action(ledger)


def _agreement_named(facts: Sequence[Fact], agreement: str | None) -> str | None:
    first = facts[0]
    if isinstance(first, AgreementOpened):
        if agreement is not None and agreement != first.agreement:
            raise InvalidField(
                "agreement",
                f"expected {agreement!r}, got {first.agreement!r}",
                event_index=1,
                event_type=first.TYPE,
            )
        return first.agreement
    return agreement


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
