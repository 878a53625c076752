"""The application service: the use cases, each a short story of load, domain, save.

``Ledger`` loads what a use case needs through the read model (``ledger.readmodel``),
asks the domain (the fold and its one check), and saves new events through
eventsourcing's application, with the read model's changes in the same transaction.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from importlib import resources
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, TypeVar

import attrs
from eventsourcing.application import Application
from eventsourcing.persistence import (
    IntegrityError,
    Notification,
    PersistenceError,
    StoredEvent,
)

from ledger.adapters.mapper import LedgerMapper
from ledger.adapters.store import StoreLocation
from ledger.domain import chain
from ledger.domain.events import AgreementOpened, Fact, unstructure_fact
from ledger.domain.fold import check
from ledger.domain.ids import agreement_uuid, event_id
from ledger.domain.state import AgreementState
from ledger.domain.timeline import Log, Recorded, chained, not_known_yet
from ledger.errors import (
    AgreementExists,
    AgreementNotFound,
    ConcurrencyError,
    FileError,
    InputError,
    IntegrityFailure,
    InvalidField,
    StoreError,
)
from ledger.readmodel.model import ReadModel
from ledger.readmodel.sql import ReadModelWrite, View

if TYPE_CHECKING:  # imported where used, so a command loads only what it needs
    from ledger.adapters.files import AmendmentFile
    from ledger.adapters.moving import LoggedEvent
    from ledger.domain.difference import Difference
    from ledger.domain.history import HistoryEntry
    from ledger.domain.lives import ClauseLife
    from ledger.domain.whatif import WhatIf

T = TypeVar("T")

EXAMPLES = ("openai-microsoft",)
RETRY_SECONDS = 60
BASE_PAUSE = 0.002
MAX_PAUSE = 0.25
# Recording times strictly increase along an agreement's log, whatever a writer's
# clock says, so "known at T" is always a prefix of the log and appends never share one.
TICK = timedelta(microseconds=1)
PROGRESS_EVERY = 10_000  # events between two calls of an export's or import's progress
POSTGRES_CHUNK = 2_000  # rows an import sends to PostgreSQL in one statement


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
class Moved:
    """What an export wrote or an import loaded: the agreements and how many events."""

    agreements: tuple[str, ...]
    events: int


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
        recorder: Any = self._app.recorder
        self._read = ReadModel(recorder.tables, recorder, self._app.mapper)

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

    # -- agreements ----------------------------------------------------------------

    def agreements(self) -> list[str]:
        """The ids of the agreements in the store, in the order they were first recorded."""
        return [view.agreement for view in self.views()]

    def views(self) -> list[View]:
        """What the store holds of each agreement: title, opening, events, recording times."""
        views = self._store(self._read.tables.views)
        if views:
            return list(views)
        # No read model yet (a new store, or one written by an earlier version): build it.
        for name in self._opened():
            self._rebuild(name)
        return list(self._store(self._read.tables.views))

    def _opened(self) -> list[str]:
        """The agreements whose openings are in the log (read from the events)."""
        names = []
        for row in self._opening_rows():
            plain = self._app.mapper.to_domain_event(row).plain
            names.append(str(plain["agreement"]))
        return names

    def _opening_rows(self) -> list[Notification]:
        rows: list[Notification] = []
        while True:
            batch = self._store(
                lambda: self._app.recorder.select_notifications(
                    start=rows[-1].id + 1 if rows else 1,
                    limit=500,
                    topics=[AgreementOpened.TOPIC],
                )
            )
            rows.extend(batch)
            if len(batch) < 500:
                return rows

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

    def view(self, agreement: str | None = None) -> View:
        """What the read model knows of ``agreement`` (built from its log if it lags)."""
        name = self.resolve(agreement)
        aggregate_id = agreement_uuid(name)
        found = self._store(lambda: self._read.tables.view(aggregate_id))
        if found is None:
            found = self._rebuild(name)
        return found

    def _rebuild(self, name: str) -> View:
        records = self.log(name, must_be_known=False).records
        if not records:
            raise AgreementNotFound(f"the store holds no agreement {name!r}")
        self._store(lambda: self._read.rebuild(name, records))
        view = self._store(lambda: self._read.tables.view(agreement_uuid(name)))
        if view is None:  # pragma: no cover - the rebuild just wrote it
            raise StoreError(f"the read model of {name!r} could not be built")
        return view

    def log(self, agreement: str | None = None, *, must_be_known: bool = True) -> Log:
        """The whole log of ``agreement`` (may be omitted when the store holds just one)."""
        name = self.resolve(agreement)
        records = self._store(lambda: self._read.records(agreement_uuid(name)))
        if not records and must_be_known:
            raise AgreementNotFound(f"the store holds no agreement {name!r}")
        return Log(name, tuple(records))

    # -- questions -----------------------------------------------------------------

    def state_at(
        self, on: date, *, known_at: datetime | None = None, agreement: str | None = None
    ) -> AgreementState:
        """The agreement on ``on``, as known at ``known_at`` (default: now)."""
        view = self.view(agreement)
        known = self._known(known_at)
        state: AgreementState = self._store(lambda: self._read.state_at(view, on, known))
        return state

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
        log = self.log(agreement)
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
        """What changed in the agreement from ``first`` to ``second``, and which events
        changed it."""
        from ledger.domain.difference import difference

        if second < first:
            raise InputError(
                f"expected the second date on or after the first, got {first} then {second}"
            )
        view = self.view(agreement)
        known = self._known(known_at)
        before, after, causes = self._store(lambda: self._read.window(view, first, second, known))
        return difference(before, after, causes)

    def clause_life(
        self,
        clause: str,
        *,
        as_of: date | None = None,
        known_at: datetime | None = None,
        agreement: str | None = None,
    ) -> tuple[ClauseLife, dict[str, Fact]]:
        """One clause's whole life up to ``as_of`` (default: its last event) as known at
        ``known_at``, and the events that made each change."""
        from ledger.domain.fold import fold_days
        from ledger.domain.lives import clause_life

        view = self.view(agreement)
        known = self._known(known_at)
        version = self._read.known_version(view, known)
        if version == 0:
            raise not_known_yet(view.agreement, known, view.first_recorded)
        entries = self._read.entries(view, version, until=as_of)
        days = fold_days(None, entries, observe=True)
        life = self._store(lambda: clause_life(clause, days, as_of or date.max))
        made = {ident for change in life.changes for ident in change.events}
        facts = self._store(lambda: self._read.facts(view, made))
        return life, facts

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
        from ledger.domain.whatif import WhatIf, acceptance, hypothetical

        view = self.view(agreement)
        known = self._known(known_at)
        baseline = self._store(lambda: self._read.state_at(view, on, known))
        hypothesis = list(facts)
        if proposal is not None:
            hypothesis.append(acceptance(baseline, proposal))
        if not hypothesis:
            raise InputError("expected a file of events or a proposal to try, got neither")
        # Hypothetical events follow everything recorded, so their ids never collide with
        # real ones, and are stamped at known_at, so they belong to that view.
        head = self._store(lambda: self._read.head(view.aggregate_id))
        new = chained(view.aggregate_id, head, [unstructure_fact(f) for f in hypothesis], known)
        version = self._read.known_version(view, known)
        prepared = self._store(lambda: self._read.prepare(view.agreement, new, version))
        state, causes = hypothetical(baseline, prepared, prepared.batch, on, known)
        return WhatIf(
            baseline=baseline,
            hypothetical=state,
            events=tuple(
                (event_id(view.agreement, r.originator_version), f)
                for r, f in zip(new, hypothesis, strict=True)
            ),
            causes=causes,
        )

    def compare_proposals(
        self,
        on: date,
        proposals: tuple[str, str],
        *,
        known_at: datetime | None = None,
        agreement: str | None = None,
    ) -> tuple[WhatIf, WhatIf, Difference]:
        """Each of two recorded proposals accepted on ``on``, and what the second would
        change relative to the first."""
        from ledger.domain.difference import difference

        first, second = (
            self.what_if(on, proposal=p, known_at=known_at, agreement=agreement) for p in proposals
        )
        return first, second, difference(first.hypothetical, second.hypothetical, second.causes)

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

    # -- integrity -----------------------------------------------------------------

    def verify(self, agreement: str | None = None, *, reindex: bool = False) -> int:
        """Check every stored event against the hash chain, then the read model against
        the events; the number of events checked.

        Raises ``IntegrityFailure`` naming the first event, or the first part of the
        read model, that does not match. With ``reindex``, the read model is rebuilt
        from the verified events first.
        """
        from ledger.adapters.integrity import opened_agreements, verify_rows

        if agreement is not None:
            self.log(agreement)  # an agreement the store does not hold is refused
            names = [(agreement, agreement_uuid(agreement))]
        else:
            names = opened_agreements(self._opening_rows(), self._app.mapper)
        checked = 0
        for name, aggregate_id in names:
            rows: list[StoredEvent] = self._store(
                partial(list, self._read.stored_rows(aggregate_id))
            )
            records = verify_rows(name, rows, self._app.mapper)
            checked += len(records)
            view = self._store(partial(self._read.tables.view, aggregate_id))
            if reindex or view is None:
                self._store(partial(self._read.rebuild, name, records))
            self._store(partial(self._read.verify, name, records))
        return checked

    # -- writing -------------------------------------------------------------------

    def append(self, facts: Sequence[Fact], *, agreement: str | None = None) -> list[Appended]:
        """Record ``facts`` atomically: all of them, or none if any breaks a rule.

        A batch that starts with ``agreement_opened`` creates its agreement. When
        another writer appends first, the batch is checked again against the new
        timeline and retried.
        """
        if not facts:
            raise InputError("expected at least one event to append, got none")
        name = _agreement_named(facts, agreement)
        label = self.resolve(None) if name is None else name
        plain = [unstructure_fact(fact) for fact in facts]
        deadline = time.monotonic() + RETRY_SECONDS
        attempt = 0
        while True:
            new, write = self._prepared(label, facts, plain)
            try:
                # The library's event store writes them: mapped rows, one transaction.
                self._store(partial(self._app.events.put, new, read_model=write))
            except IntegrityError:
                attempt += 1
                if time.monotonic() >= deadline:
                    break
                # Exponential back-off with full jitter spreads out writers that collided.
                pause = min(MAX_PAUSE, BASE_PAUSE * 2**attempt)
                time.sleep(random.uniform(0, pause))  # noqa: S311 - jitter, not security
                continue
            return [
                Appended(event_id(label, r.originator_version), r.timestamp, fact)
                for r, fact in zip(new, facts, strict=True)
            ]
        raise ConcurrencyError(
            f"other writers kept appending to {label!r}; gave up after {attempt} attempts in "
            f"{RETRY_SECONDS} s without writing anything — try again"
        )

    def _prepared(
        self, name: str, facts: Sequence[Fact], plain: Sequence[dict[str, Any]]
    ) -> tuple[list[Recorded], Any]:
        """Load: the log's head; domain: the new events, checked from the checkpoint the
        read model chooses; and what the read model writes with them."""
        aggregate_id = agreement_uuid(name)
        head = self._store(lambda: self._read.head(aggregate_id))
        _refuse_misplaced_openings(name, facts, head)
        view = None
        if head is not None:
            view = self.view(name)
        new = chained(aggregate_id, head, plain, self._recording_time(head))
        prepared = self._store(lambda: self._read.prepare(name, new))
        keeper = self._read.keeper(prepared)
        draft = self._store(lambda: check(prepared, prepared.batch, keeper.each_day))
        return new, self._read.written(prepared, draft, keeper, view)

    def _recording_time(self, head: Recorded | None) -> datetime:
        now = self._clock()
        return now if head is None else max(now, head.timestamp + TICK)

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

    # -- moving a ledger: export and import -----------------------------------------

    def export(
        self,
        out: IO[bytes],
        *,
        agreement: str | None = None,
        progress: Callable[[str, int], None] | None = None,
    ) -> Moved:
        """Write the log of every agreement (or of ``agreement``) to ``out`` in the
        self-describing format of ``ledger.adapters.moving``, a page of events at a time.

        Each event is checked against its chain on the way: ``IntegrityFailure`` names
        the first that does not match, and nothing after it is written. ``progress`` is
        called with ``("exported", events so far)`` every ``PROGRESS_EVERY`` events.
        """
        from ledger.adapters import moving

        names = self._exported(agreement)
        out.write(moving.header())
        events = 0
        for name, aggregate_id in names:
            previous, last = chain.GENESIS, None
            for row in self._rows(aggregate_id):
                line, last = moving.event_line(name, row, previous)
                out.write(line)
                previous = last.digest
                events += 1
                if progress is not None and events % PROGRESS_EVERY == 0:
                    progress("exported", events)
            if last is None:  # pragma: no cover - an opening row was found for it
                raise IntegrityFailure(f"{name}: its opening was found but not its events")
            out.write(moving.head_line(name, last))
        out.write(moving.end_line(len(names), events))
        if progress is not None:
            progress("exported", events)
        return Moved(tuple(name for name, _ in names), events)

    def _exported(self, agreement: str | None) -> list[tuple[str, uuid.UUID]]:
        """The agreements an export writes, in the order they were first recorded (read
        from their openings, as ``verify`` does)."""
        from ledger.adapters.integrity import opened_agreements

        if agreement is not None:
            aggregate_id = agreement_uuid(agreement)
            if self._store(lambda: self._read.head(aggregate_id)) is None:
                raise AgreementNotFound(f"the store holds no agreement {agreement!r}")
            return [(agreement, aggregate_id)]
        names = opened_agreements(self._opening_rows(), self._app.mapper)
        for name, aggregate_id in names:
            if agreement_uuid(name) != aggregate_id:
                raise IntegrityFailure(
                    f"the opening of {name} cannot be read: not exported (see `ledger verify`)"
                )
        return names

    def _rows(self, aggregate_id: uuid.UUID) -> Iterator[StoredEvent]:
        """An agreement's stored rows, a page at a time; a store failure is a StoreError."""
        rows = self._read.stored_rows(aggregate_id)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except PersistenceError as error:
                raise StoreError(
                    f"the store {self.location.display()} failed: {_reason(error)}"
                ) from None
            yield row

    def import_log(
        self,
        source: IO[bytes],
        name: str,
        *,
        progress: Callable[[str, int], None] | None = None,
    ) -> Moved:
        """Load a file ``export`` wrote (``source``, seekable; ``name`` for messages)
        into this store, which must hold none of its agreements: ids, recording times and
        chains as they were, and each agreement's read model built beside its events.

        All or nothing: the whole file is read and verified before anything is written —
        each line's shape, every event read as strictly as an amendment file's, each
        agreement's version sequence, hash chain and head, the end line's counts — and
        each agreement's events are checked against every rule, as its appends were. Any
        failure is a ``FileError`` naming the line and the event, and nothing is written.
        Then each agreement is written in one transaction: its events and its read model.

        The file is read a line at a time, and memory holds one agreement's log at a time
        (its rules need all of it), plus the last agreement's, kept checked for writing.
        A file of several agreements is read twice: the others are checked again as they
        are written. ``progress`` is called with (stage, events so far).
        """
        from ledger.adapters.moving import LogReader, per_agreement

        def exists(agreement: str) -> bool:
            aggregate_id = agreement_uuid(agreement)
            return self._store(lambda: self._read.head(aggregate_id)) is not None

        verified = LogReader(source, name, strict=True, exists=exists)
        last: tuple[list[StoredEvent], ReadModelWrite] | None = None
        for _, events in per_agreement(verified):
            last = None  # only the last agreement's is kept
            last = self._checked(events, name)
            del events  # its rows are all that is kept
            if progress is not None:
                progress("checked", verified.events)
        agreements = tuple(verified.agreements)
        if last is None:
            return Moved((), 0)
        source.seek(0)
        again = per_agreement(LogReader(source, name), stop_at=agreements[-1])
        written = 0
        for index, (agreement, events) in enumerate(again):
            written += self._write_imported(
                agreement, *self._checked(events, name), agreements[:index]
            )
            if progress is not None:
                progress("written", written)
        written += self._write_imported(agreements[-1], *last, agreements[:-1])
        if progress is not None:
            progress("written", written)
        return Moved(agreements, written)

    def _checked(
        self, events: Sequence[LoggedEvent], name: str
    ) -> tuple[list[StoredEvent], ReadModelWrite]:
        """An agreement's rows as logged, and its read model once every event is checked
        against every rule, over the whole log (as ``ReadModel.rebuild`` builds it)."""
        agreement = events[0].agreement
        rows = [event.stored() for event in events]
        records = [event.record(row) for event, row in zip(events, rows, strict=True)]
        try:
            prepared = self._read.prepare(agreement, records)
            keeper = self._read.keeper(prepared)
            draft = check(prepared, prepared.batch, keeper.each_day)
        except InvalidField as error:
            at = events[error.event_index - 1] if error.event_index else events[0]
            kind = f" ({error.event_type})" if error.event_type else ""
            field = f"{error.path}: " if error.path else ""
            raise FileError(
                name, f"line {at.line}: {at.id}{kind}: {field}{error.problem}"
            ) from None
        return rows, self._read.written(prepared, draft, keeper, None)

    def _write_imported(
        self,
        agreement: str,
        rows: list[StoredEvent],
        change: ReadModelWrite,
        before: Sequence[str],
    ) -> int:
        """Write an agreement's rows and read model in one transaction; how many rows."""
        try:
            self._store(partial(self._insert_imported, rows, change))
        except IntegrityError:
            imported = f"; imported before it: {', '.join(before)}" if before else ""
            raise AgreementExists(
                f"another writer recorded the agreement {agreement!r} during the import; "
                f"it was not imported{imported}"
            ) from None
        return len(rows)

    def _insert_imported(self, rows: list[StoredEvent], change: ReadModelWrite) -> None:
        """Insert rows with their read model, in one transaction, as an append does.

        On PostgreSQL, the library's ``insert_events`` sends the rows as one message in
        pipeline mode, and psycopg (3.3.9, pure Python or binary) then waits forever
        once a batch holds about 10,000 events: the library's own statements instead, in
        one plain transaction, a chunk of rows at a time.
        """
        recorder: Any = self._app.recorder
        if not self.location.is_postgres:
            recorder.insert_events(rows, read_model=change)
            return
        with recorder.datastore.transaction(commit=True) as cursor:
            for start in range(0, len(rows), POSTGRES_CHUNK):
                recorder._insert_stored_events(cursor, rows[start : start + POSTGRES_CHUNK])
            recorder._insert_events(cursor, rows, read_model=change)

    def _store(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except IntegrityError:
            raise
        except PersistenceError as error:
            raise StoreError(
                f"the store {self.location.display()} failed: {_reason(error)}"
            ) from None


def _refuse_misplaced_openings(name: str, facts: Sequence[Fact], head: Recorded | None) -> None:
    if head is None:
        if not isinstance(facts[0], AgreementOpened):
            raise AgreementNotFound(
                f"agreement: the store holds no agreement {name!r}; a file that opens "
                "one starts with an agreement_opened event"
            )
        return
    opening = next((i for i, f in enumerate(facts, 1) if isinstance(f, AgreementOpened)), None)
    if opening is not None:
        raise AgreementExists(
            f"event {opening} (agreement_opened): the store already holds the agreement {name!r}"
        )


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
