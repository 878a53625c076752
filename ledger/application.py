"""The application service: the use cases, each a short story of load, domain, save.

``Ledger`` loads what a use case needs through the read model (``ledger.readmodel``),
asks the domain (the fold and its one check), and saves new events through
eventsourcing's application, with the read model's changes in the same transaction.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import random
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from importlib import resources
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

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
from ledger.domain.heads import Head, SignedHead
from ledger.domain.ids import agreement_uuid, event_id, parse_event_id
from ledger.domain.state import AgreementState
from ledger.domain.timeline import Log, Recorded, chained, not_known_yet, not_open_yet
from ledger.domain.versions import COLUMNS
from ledger.errors import (
    AgreementExists,
    AgreementNotFound,
    ConcurrencyError,
    FileError,
    InputError,
    IntegrityFailure,
    InvalidField,
    ReadModelMismatch,
    ReadModelWarning,
    StoreError,
    plural,
    shown,
)
from ledger.readmodel.model import ReadModel
from ledger.readmodel.sql import Idempotent, Tables, View

if TYPE_CHECKING:  # imported where used, so a command loads only what it needs
    from ledger.adapters.files import AmendmentFile
    from ledger.adapters.moving import LoggedEvent
    from ledger.adapters.query import Answer
    from ledger.domain.difference import Difference
    from ledger.domain.draft import Draft
    from ledger.domain.fold import DayEnd
    from ledger.domain.history import HistoryEntry
    from ledger.domain.lives import ClauseLife
    from ledger.domain.portfolio import ClauseOn, Ending, Holdings
    from ledger.domain.spans import Picture
    from ledger.domain.whatif import WhatIf

T = TypeVar("T")
# When a question is asked as known at: a time, or an event's id (just after that event
# was recorded).
KnownAt = datetime | str

# A report of long work: the stage (``reading the file``, ``checking the rules``,
# ``writing``, ``reading the events``, ``checking the chain``, ``checking the index``,
# ``rebuilding the index``), how much of it is done, and the total when it is known.
# Called at coarse grain: at each stage's start and end, and every ``PROGRESS_EVERY``
# events in between.
Progress = Callable[[str, int, int | None], None]
PROGRESS_EVERY = 1000

EXAMPLES = ("openai-microsoft",)
RETRY_SECONDS = 60
BASE_PAUSE = 0.002
MAX_PAUSE = 0.25
# Recording times strictly increase along an agreement's log, whatever a writer's
# clock says, so "known at T" is always a prefix of the log and appends never share one.
TICK = timedelta(microseconds=1)
PROGRESS_EVERY = 10_000  # events between two calls of an export's or import's progress
POSTGRES_CHUNK = 2_000  # rows an import sends to PostgreSQL in one statement


P = ParamSpec("P")


def answered_from_events(
    method: Callable[Concatenate[Ledger, P], T],
) -> Callable[Concatenate[Ledger, P], T]:
    """A question that, should a read-model row not match the events it was built from,
    is answered from the events themselves (a read model rebuilt in memory from the
    agreement's log), with a warning saying so."""

    def answer(self: Ledger, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(self, *args, **kwargs)
        except ReadModelMismatch as error:
            warnings.warn(
                f"{error}; answered from the events themselves — `ledger verify` says what "
                "differs, and `ledger verify --reindex` rebuilds the read model",
                ReadModelWarning,
                stacklevel=2,
            )
            agreement = kwargs.get("agreement")
            with self.from_events(agreement if isinstance(agreement, str) else None) as shadow:
                return method(shadow, *args, **kwargs)

    functools.update_wrapper(answer, method)  # its name, docstring and signature
    return answer


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
class SignedHeadOf:
    """An agreement's head, with its signature if its last append was signed."""

    head: Head
    signature: SignedHead | None


@attrs.frozen
class Moved:
    """What an export wrote or an import loaded: the agreements and how many events."""

    agreements: tuple[str, ...]
    events: int


@attrs.frozen
class Appended:
    """An event an append recorded: its id and recording time (``already``: recorded by
    an earlier append with the same idempotency key; nothing was written this time)."""

    id: str
    recorded_at: datetime
    fact: Fact
    already: bool = False


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
        signing_key: str | None = None,
        verify_keys: str | None = None,
    ) -> None:
        """Open the store; sign every append's head with ``signing_key`` (default:
        ``$LEDGER_SIGNING_KEY``), and check signed heads in ``verify`` with the public
        keys of ``verify_keys`` (default: ``$LEDGER_VERIFY_KEYS``; the signing key's
        own public key is always one of them)."""
        from ledger.adapters import signing

        signing_key = signing_key or os.environ.get(signing.SIGNING_KEY_ENV) or None
        verify_keys = verify_keys or os.environ.get(signing.VERIFY_KEYS_ENV) or None
        self._signer = signing.load_signer(signing_key) if signing_key else None
        self._keyring = signing.read_keyring(verify_keys) if verify_keys else None
        if self._signer is not None:
            keys = dict(self._keyring.keys) if self._keyring else {}
            keys[self._signer.id] = self._signer.key.public_key()
            self._keyring = signing.Keyring(keys)
        self.location = StoreLocation.resolve(store)
        if not self.location.exists() and must_exist:
            raise StoreError(
                f"no ledger store at {self.location.display()}: create it with `ledger init`"
            )
        self._clock = clock
        self.location.probe()
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
        self._memory_turn = threading.Lock()

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
        return self._store(partial(self._read.checked_view, found))

    def _rebuild(self, name: str) -> View:
        aggregate_id = agreement_uuid(name)
        with self._turn(aggregate_id):  # readers arriving together rebuild it once
            view = self._store(partial(self._read.tables.view, aggregate_id))
            if view is not None:
                return view
            records = self.log(name, must_be_known=False).records
            if not records:
                raise AgreementNotFound(f"the store holds no agreement {name!r}")
            self._store(partial(self._read.rebuild, name, records))
        view = self._store(partial(self._read.tables.view, aggregate_id))
        if view is None:  # pragma: no cover - the rebuild just wrote it
            raise StoreError(f"the read model of {name!r} could not be built")
        return view

    @contextlib.contextmanager
    def _turn(self, aggregate_id: uuid.UUID) -> Iterator[None]:
        """Writers to one agreement take turns: each reads the head, checks and saves
        while the others wait, instead of racing and checking again after losing.
        PostgreSQL queues them on an advisory lock per agreement (first come, first
        served); a SQLite file on a lock file beside it (one writer at a time, as
        SQLite writes anyway); memory on a lock in this process."""
        if self.location.is_postgres:
            recorder: Any = self._app.recorder
            datastore = recorder.datastore
            key = f"contract-ledger agreement {aggregate_id}"
            with datastore.get_connection() as connection:
                connection.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
                try:
                    yield
                finally:
                    connection.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
            return
        if self.location.is_file:
            with self.location.writer_lock():
                yield
            return
        with self._memory_turn:
            yield

    def events(self, ids: Collection[str], *, agreement: str | None = None) -> dict[str, Fact]:
        """The recorded events with these ids (``agreement#n``), as typed values; ids the
        log does not hold are left out."""
        view = self.view(agreement)
        found: dict[str, Fact] = self._store(partial(self._read.facts, view, set(ids)))
        return found

    def from_events(self, agreement: str | None = None) -> Ledger:
        """A ledger in memory holding only ``agreement``'s log, copied event for event
        (ids, recording times, digests), with a read model built afresh from it."""
        log = self.log(agreement)
        shadow = Ledger("memory:", clock=self._clock)
        shadow._store(partial(shadow._app.events.put, list(log.records)))
        shadow._store(partial(shadow._read.rebuild, log.agreement, log.records))
        return shadow

    def log(self, agreement: str | None = None, *, must_be_known: bool = True) -> Log:
        """The whole log of ``agreement`` (may be omitted when the store holds just one)."""
        name = self.resolve(agreement)
        records = self._store(lambda: self._read.records(agreement_uuid(name)))
        if not records and must_be_known:
            raise AgreementNotFound(f"the store holds no agreement {name!r}")
        return Log(name, tuple(records))

    # -- questions -----------------------------------------------------------------

    @answered_from_events
    def state_at(
        self, on: date, *, known_at: KnownAt | None = None, agreement: str | None = None
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
        known_at: KnownAt | None = None,
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

    @answered_from_events
    def diff(
        self,
        first: date,
        second: date,
        *,
        known_at: KnownAt | None = None,
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

    @answered_from_events
    def clause_life(
        self,
        clause: str,
        *,
        as_of: date | None = None,
        known_at: KnownAt | None = None,
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

    @answered_from_events
    def revision(
        self,
        on: date,
        *,
        known_at: KnownAt,
        against_known_at: KnownAt | None = None,
        agreement: str | None = None,
    ) -> Difference:
        """What we believed about ``on`` at ``known_at`` against what we believe at
        ``against_known_at`` (default: now): the recording axis's difference, each change
        naming the event, correction or retraction behind it."""
        from ledger.domain.difference import difference

        view = self.view(agreement)
        first, second = self._known(known_at), self._known(against_known_at)
        before, after, causes = self._store(lambda: self._read.revision(view, on, first, second))
        return difference(before, after, causes)

    @answered_from_events
    def timeline(
        self,
        *,
        agreement: str | None = None,
        start: date | None = None,
        end: date | None = None,
        known_at: KnownAt | None = None,
        compare_known_at: KnownAt | None = None,
    ) -> Picture:
        """What was in force from ``start`` (default: the opening) to ``end`` (default:
        the later of the last event's date and today), as known at ``known_at``; with
        ``compare_known_at``, the same window as known then, as the picture's ``compare``."""
        if start is not None and end is not None and end < start:
            raise InputError(f"expected --to on or after --from, got {start} then {end}")
        view = self.view(agreement)
        today = self._clock().date()
        drawn = self._picture(view, self._known(known_at), start, end, today)
        if compare_known_at is None:
            return drawn
        ghost = self._picture(view, self._known(compare_known_at), drawn.start, drawn.end, today)
        return attrs.evolve(drawn, compare=ghost)

    def _picture(
        self, view: View, known: datetime, start: date | None, end: date | None, today: date
    ) -> Picture:
        """Load: the entries in effect as known at ``known``, up to ``end``, from the
        opening; domain: the picture's projection."""
        from ledger.domain.pictures import picture

        version = self._read.known_version(view, known)
        if version == 0:
            raise not_known_yet(view.agreement, known, view.first_recorded)
        entries = self._read.entries(view, version, until=end)
        first = self._store(lambda: next(entries, None))
        if first is None:  # nothing by ``end``: the agreement had not opened
            opening = self._store(lambda: next(self._read.entries(view, version, limit=1)))
            raise not_open_yet(view.agreement, opening, end or today)
        return self._store(
            lambda: picture(
                itertools.chain([first], entries),
                known_at=known.astimezone(UTC),
                start=start,
                end=end,
                today=today,
            )
        )

    @answered_from_events
    def what_if(
        self,
        on: date,
        *,
        facts: Sequence[Fact] = (),
        proposal: str | None = None,
        known_at: KnownAt | None = None,
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
        known_at: KnownAt | None = None,
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
        known_at: KnownAt | None = None,
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

    # -- across agreements ---------------------------------------------------------

    def find(
        self,
        clause_kind: str,
        *,
        on: date,
        terms: Sequence[str] = (),
        known_at: KnownAt | None = None,
    ) -> list[ClauseOn]:
        """The clauses of ``clause_kind`` in force on ``on``, in every agreement, that meet
        every condition in ``terms`` (``"rate>10"``, ``"exclusive=true"``; see
        ``ledger.domain.portfolio``), as known at ``known_at`` (default: now)."""
        from ledger.domain.portfolio import matches, parse_condition, parse_kind
        from ledger.readmodel.portfolio import clauses_of_kind

        kind = parse_kind(clause_kind)
        conditions = [parse_condition(text, kind) for text in terms]
        known, tables = self._known(known_at), self._portfolio()
        found = self._store(lambda: clauses_of_kind(tables, kind.value, on, known))
        return [clause for clause in found if matches(clause.terms, conditions)]

    def expiring(self, *, within: int, on: date, known_at: KnownAt | None = None) -> list[Ending]:
        """The clauses, in every agreement, whose last day in force falls from ``on`` to
        ``within`` days after it (their ``until``, a removal or a termination), as known
        at ``known_at`` (default: now); soonest first."""
        from ledger.readmodel.portfolio import ending

        if within < 0:
            raise InputError(f"--within: expected a number of days, 0 or more, got {within}")
        _check_window(on, within)
        known, tables = self._known(known_at), self._portfolio()
        return self._store(lambda: ending(tables, on, within, known))

    def holdings(self, party: str, *, on: date, known_at: KnownAt | None = None) -> Holdings:
        """``party``'s stakes and what it had invested, in every agreement, on ``on``, as
        known at ``known_at`` (default: now)."""
        from ledger.domain.portfolio import Holdings
        from ledger.readmodel.portfolio import invested_by, known_parties, stakes_of

        known, tables = self._known(known_at), self._portfolio()
        stakes = self._store(lambda: stakes_of(tables, party, on, known))
        invested = self._store(lambda: invested_by(tables, party, on, known))
        if not stakes and not invested:
            everyone = self._store(lambda: known_parties(tables))
            if party not in everyone:
                raise InputError(_unknown_party(party, everyone))
        return Holdings(party, on, tuple(stakes), tuple(invested))

    def sql(self, query: str) -> Answer:
        """The answer to one read-only SQL query over the store's tables (the bitemporal
        tables are documented in the README); anything but a query is refused."""
        from ledger.adapters.query import run_query

        self._portfolio()
        return run_query(self.location, query)

    def _portfolio(self) -> Tables:
        """The read model's tables, once the log's agreements are in them (a store from
        before them is indexed on first use)."""
        if not self._store(self._read.tables.follows_any):
            self.views()
        return self._read.tables

    def _known(self, known_at: KnownAt | None) -> datetime:
        """``known_at`` as an aware UTC time (a time without a zone is UTC; an event id is
        the time its append was recorded); default: now."""
        if known_at is None:
            return self._clock()
        if isinstance(known_at, str):
            return self.recorded_at(known_at)
        return known_at.replace(tzinfo=UTC) if known_at.tzinfo is None else known_at

    def recorded_at(self, event: str) -> datetime:
        """When the event with this id was recorded (every event of its append shares it)."""
        parsed = parse_event_id(event)
        if parsed is None:
            raise InputError(f"expected an event id such as openai-microsoft#11, got {event!r}")
        agreement, version = parsed
        view = self.view(agreement)
        rows = self._store(partial(self._read.tables.stored, view.aggregate_id, [version]))
        if not rows:
            raise InputError(
                f"expected an event of the store, got {event!r}: {agreement!r} has "
                f"{plural(view.version, 'event')}"
            )
        return self._app.mapper.to_domain_event(rows[0]).recorded_at

    # -- integrity -----------------------------------------------------------------

    @property
    def signs(self) -> bool:
        """Whether appends sign their heads, and ``verify`` checks signed heads."""
        return self._keyring is not None

    def heads(self, agreement: str | None = None) -> list[SignedHeadOf]:
        """Each agreement's head (its last event's version, digest and recording time),
        with its signature when one was kept: what to save or publish, so that
        ``verify(expect=…)`` can prove later that the log still extends it."""
        names = [self.resolve(agreement)] if agreement is not None else self.agreements()
        heads = []
        for name in names:
            view = self.view(name)
            signed = self._store(partial(self._read.tables.signatures, view.aggregate_id))
            last = signed[-1] if signed and signed[-1].version == view.version else None
            heads.append(
                SignedHeadOf(
                    Head(name, view.version, view.digest, view.last_recorded.isoformat()), last
                )
            )
        return heads

    def verify(
        self,
        agreement: str | None = None,
        *,
        reindex: bool = False,
        expect: Sequence[Head] = (),
        progress: Progress | None = None,
    ) -> int:
        """Check everything stored: every event against its agreement's chain (and no
        event outside a chain), the signed heads (with a keyring), the heads in
        ``expect`` (the log must still extend each), and only then every read-model row,
        superseded ones included; the number of events checked.

        Raises ``IntegrityFailure`` naming the first thing that does not match, saying
        whether the events themselves are damaged (restore them; never rebuild from them)
        or only the read model (rebuild it: ``reindex``). With ``reindex``, the read model
        is rebuilt from the events once they are proven intact. ``progress`` hears of each
        stage (see ``Progress``).
        """
        from ledger.adapters import integrity

        report = progress or _silent
        if agreement is not None:
            self.log(agreement)  # an agreement the store does not hold is refused
            names = [(agreement, agreement_uuid(agreement))]
        else:
            everything = self._store(partial(integrity.every_row, self._app.recorder))
            names = integrity.agreements_of(everything, self._app.mapper)
        checked, proven = 0, []
        for name, aggregate_id in names:
            stored = _counted(self._read.stored_rows(aggregate_id), "reading the events", None)
            rows: list[StoredEvent] = self._store(partial(list, stored(report)))
            chained_rows = _counted(iter(rows), "checking the chain", len(rows))
            records = integrity.verify_rows(name, chained_rows(report), self._app.mapper)
            signed = self._store(partial(self._read.tables.signatures, aggregate_id))
            integrity.check_signatures(name, records, signed, self._keyring)
            integrity.check_expected(name, records, [h for h in expect if h.agreement == name])
            view = self._store(partial(self._read.tables.view_row, aggregate_id))
            integrity.check_followed(name, records, view)
            checked += len(records)
            proven.append((name, records))
        missing = {h.agreement for h in expect} - {name for name, _ in proven}
        if missing and agreement is None:
            raise IntegrityFailure(
                f"the saved head of {sorted(missing)[0]!r} names an agreement the store no "
                "longer holds: its events are missing — restore the store"
            )
        for name, records in proven:
            aggregate_id = records[0].originator_id
            if reindex or self._store(partial(self._read.tables.view_row, aggregate_id)) is None:
                report("rebuilding the index", 0, 1)
                self._store(partial(self._read.rebuild, name, records))
                report("rebuilding the index", 1, 1)
            report("checking the index", 0, 1)
            self._compare_read_model(name)
            report("checking the index", 1, 1)
        return checked

    def _compare_read_model(self, name: str) -> None:
        """Every read-model row of ``name`` is the row a rebuild from its events writes:
        ``IntegrityFailure`` names the first table and row that differ."""
        with self.from_events(name) as rebuilt:
            expected = rebuilt._store(partial(rebuilt._read.rows, name))
        found = self._store(partial(self._read.rows, name))
        for table, rows in expected.items():
            stored = found.get(table, [])
            for want, got in itertools.zip_longest(rows, stored):
                if want != got:
                    where = _row_named(name, table, want if want is not None else got)
                    raise IntegrityFailure(
                        f"{name}: {where} does not match the log; the events themselves are "
                        "intact (every chain checks out) — rebuild the read model with "
                        "`ledger verify --reindex`"
                    )

    # -- writing -------------------------------------------------------------------

    def append(
        self,
        facts: Sequence[Fact],
        *,
        agreement: str | None = None,
        progress: Progress | None = None,
        idempotency_key: str | None = None,
    ) -> list[Appended]:
        """Record ``facts`` atomically: all of them, or none if any breaks a rule.

        A batch that starts with ``agreement_opened`` creates its agreement. When
        another writer appends first, the batch is checked again against the new
        timeline and retried. ``progress`` hears of the checking and the writing.

        With an ``idempotency_key``, the key is stored with the append, in its
        transaction: a retry with the same key and the same events writes nothing and
        returns the events recorded the first time (``Appended.already``); the same key
        with other events is refused (``InputError``).
        """
        from ledger.adapters.files import parse_idempotency_key

        report = progress or _silent
        if not facts:
            raise InputError("expected at least one event to append, got none")
        name = _agreement_named(facts, agreement)
        label = self.resolve(None) if name is None else name
        plain = [unstructure_fact(fact) for fact in facts]
        key = None
        if idempotency_key is not None:
            key = parse_idempotency_key(idempotency_key, "--idempotency-key")
        content = _content_digest(label, plain)
        deadline = time.monotonic() + RETRY_SECONDS
        attempt = 0
        while True:
            try:
                with self._turn(agreement_uuid(label)):
                    if key is not None:
                        done = self._store(partial(self._read.tables.idempotent, key))
                        if done is not None:
                            return _retried(done, label, content, facts)
                    new, write = self._prepared(label, facts, plain, report)
                    if key is not None:
                        write = attrs.evolve(
                            write, idempotency=_idempotent(key, content, label, new)
                        )
                    report("writing", 0, len(new))
                    # The library's event store writes them: mapped rows, one transaction.
                    signed = self._signed(label, new)
                    self._store(
                        partial(self._app.events.put, new, read_model=write, head_signature=signed)
                    )
            except IntegrityError:
                attempt += 1
                if time.monotonic() >= deadline:
                    break
                # Exponential back-off with full jitter spreads out writers that collided.
                pause = min(MAX_PAUSE, BASE_PAUSE * 2**attempt)
                time.sleep(random.uniform(0, pause))  # noqa: S311 - jitter, not security
                continue
            report("writing", len(new), len(new))
            return [
                Appended(event_id(label, r.originator_version), r.timestamp, fact)
                for r, fact in zip(new, facts, strict=True)
            ]
        raise ConcurrencyError(
            f"other writers kept appending to {label!r}; gave up after {attempt} attempts in "
            f"{RETRY_SECONDS} s without writing anything — try again"
        )

    def _signed(self, name: str, new: Sequence[Recorded]) -> SignedHead | None:
        """The signature of the head ``new`` makes, when a signing key is configured."""
        if self._signer is None:
            return None
        last = new[-1]
        head = Head(name, last.originator_version, last.digest, last.timestamp.isoformat())
        return self._signer.sign(head)

    def _prepared(
        self,
        name: str,
        facts: Sequence[Fact],
        plain: Sequence[dict[str, Any]],
        report: Progress,
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
        follower = self._read.follower(prepared)
        # From the opening, the fold goes through the batch alone; from a checkpoint, through
        # the events after it too, which only the fold itself counts.
        total = len(new) if prepared.last == 0 else None
        each_day = _CountingDays(follower.each_day, report, total)
        report("checking the rules", 0, total)
        draft = self._store(lambda: check(prepared, prepared.batch, each_day, observe=True))
        report("checking the rules", each_day.done, each_day.done)
        return new, self._store(lambda: self._read.written(prepared, draft, follower, view))

    def _recording_time(self, head: Recorded | None) -> datetime:
        now = self._clock()
        return now if head is None else max(now, head.timestamp + TICK)

    def append_file(
        self,
        name: str,
        *,
        agreement: str | None = None,
        stdin_text: str | None = None,
        progress: Progress | None = None,
        idempotency_key: str | None = None,
    ) -> list[Appended]:
        """Append the events of an amendment file (``-``: standard input); ``progress``
        hears of the reading, the checking and the writing. The idempotency key is the
        file's own (``idempotency_key:``) or ``idempotency_key`` (see ``append``)."""
        from ledger.adapters.files import read_file

        report = progress or _silent
        report("reading the file", 0, None)
        file = read_file(name, stdin_text)
        report("reading the file", len(file.events), len(file.events))
        label = name if name != "-" else "<stdin>"
        if idempotency_key is not None:
            given = file.idempotency_key
            if given is not None and given != idempotency_key:
                raise FileError(
                    label,
                    f"idempotency_key: expected {shown(idempotency_key)} (from "
                    f"--idempotency-key), got {shown(given)}",
                )
            file = attrs.evolve(file, idempotency_key=idempotency_key)
        return self._append_document(file, label, agreement, report)

    def load_example(
        self,
        example: str = "openai-microsoft",
        *,
        with_record: bool = False,
        progress: Progress | None = None,
    ) -> list[Appended]:
        """Load a bundled history; refused if the store already holds that agreement.

        With ``with_record``, its public record follows as a second, later recording
        (corrections, retractions and the events the first layer never had), so that
        "as known at" the first layer's last event tells the first layer's story.
        ``progress`` hears of the reading, the checking and the writing.
        """
        from ledger.adapters.files import parse_text

        report = progress or _silent
        if example not in EXAMPLES:
            raise InputError(
                f"expected one of the bundled examples ({', '.join(EXAMPLES)}), got {example!r}"
            )
        names = [f"{example}.yaml", *([f"{example}-record.yaml"] if with_record else [])]
        report("reading the file", 0, None)
        files = [
            parse_text(resources.files("ledger.examples").joinpath(n).read_text("utf-8"), n)
            for n in names
        ]
        read = sum(len(file.events) for file in files)
        report("reading the file", read, read)
        if files[0].agreement in self.agreements():
            raise AgreementExists(f"the store already holds the agreement {files[0].agreement!r}")
        return [
            appended
            for name, file in zip(names, files, strict=True)
            for appended in self._append_document(file, name, None, report)
        ]

    def _append_document(
        self, file: AmendmentFile, name: str, agreement: str | None, report: Progress
    ) -> list[Appended]:
        if agreement is not None and file.agreement is not None and agreement != file.agreement:
            raise FileError(
                name,
                f"agreement: expected {agreement!r} (from --agreement), got {file.agreement!r}",
            )
        try:
            return self.append(
                file.events,
                agreement=file.agreement or agreement,
                progress=report,
                idempotency_key=file.idempotency_key,
            )
        except (InvalidField, AgreementNotFound, AgreementExists) as error:
            raise FileError(name, str(error)) from None

    # -- moving a ledger: export and import -----------------------------------------

    def export(
        self,
        out: IO[bytes],
        *,
        agreement: str | None = None,
        progress: Progress | None = None,
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
                    progress("exporting", events, None)
            if last is None:  # pragma: no cover - an opening row was found for it
                raise IntegrityFailure(f"{name}: its opening was found but not its events")
            out.write(moving.head_line(name, last))
        out.write(moving.end_line(len(names), events))
        if progress is not None:
            progress("exporting", events, None)
        return Moved(tuple(name for name, _ in names), events)

    def _exported(self, agreement: str | None) -> list[tuple[str, uuid.UUID]]:
        """The agreements an export writes, in the order they were first recorded (read
        from their openings, as ``verify`` does)."""
        from ledger.adapters import integrity

        if agreement is not None:
            aggregate_id = agreement_uuid(agreement)
            if self._store(lambda: self._read.head(aggregate_id)) is None:
                raise AgreementNotFound(f"the store holds no agreement {agreement!r}")
            return [(agreement, aggregate_id)]
        everything = self._store(partial(integrity.every_row, self._app.recorder))
        names = integrity.agreements_of(everything, self._app.mapper)
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
        progress: Progress | None = None,
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
        are written. ``progress`` hears of the checking and the writing (see ``Progress``).
        """
        from ledger.adapters.moving import LogReader, per_agreement

        def exists(agreement: str) -> bool:
            aggregate_id = agreement_uuid(agreement)
            return self._store(lambda: self._read.head(aggregate_id)) is not None

        verified = LogReader(source, name, strict=True, exists=exists)
        last: tuple[list[StoredEvent], list[Recorded]] | None = None
        for _, events in per_agreement(verified):
            last = None  # only the last agreement's is kept
            last = self._checked(events, name)
            del events  # its rows are all that is kept
            if progress is not None:
                progress("checking the file", verified.events, None)
        agreements = tuple(verified.agreements)
        if last is None:
            return Moved((), 0)
        total = verified.events
        source.seek(0)
        again = per_agreement(LogReader(source, name), stop_at=agreements[-1])
        written = 0
        for index, (agreement, events) in enumerate(again):
            written += self._write_imported(
                agreement, *self._checked(events, name), agreements[:index]
            )
            if progress is not None:
                progress("writing", written, total)
        written += self._write_imported(agreements[-1], *last, agreements[:-1])
        if progress is not None:
            progress("writing", written, total)
        return Moved(agreements, written)

    def _checked(
        self, events: Sequence[LoggedEvent], name: str
    ) -> tuple[list[StoredEvent], list[Recorded]]:
        """An agreement's rows as logged, and its events, once every event is checked
        against every rule over the whole log."""
        agreement = events[0].agreement
        rows = [event.stored() for event in events]
        records = [event.record(row) for event, row in zip(events, rows, strict=True)]
        try:
            prepared = self._read.prepare(agreement, records)
            check(prepared, prepared.batch)
        except InvalidField as error:
            at = events[error.event_index - 1] if error.event_index else events[0]
            kind = f" ({error.event_type})" if error.event_type else ""
            field = f"{error.path}: " if error.path else ""
            raise FileError(
                name, f"line {at.line}: {at.id}{kind}: {field}{error.problem}"
            ) from None
        return rows, records

    def _write_imported(
        self,
        agreement: str,
        rows: list[StoredEvent],
        records: list[Recorded],
        before: Sequence[str],
    ) -> int:
        """Write an agreement's rows in one transaction, then its read model, as a
        rebuild writes it (append by append, so "as known at" holds as it did where the
        log was exported; should it be cut short, the first read builds it again);
        how many rows."""
        try:
            self._store(partial(self._insert_imported, rows))
        except IntegrityError:
            imported = f"; imported before it: {', '.join(before)}" if before else ""
            raise AgreementExists(
                f"another writer recorded the agreement {agreement!r} during the import; "
                f"it was not imported{imported}"
            ) from None
        with self._turn(agreement_uuid(agreement)):
            self._store(partial(self._read.rebuild, agreement, records))
        return len(rows)

    def _insert_imported(self, rows: list[StoredEvent]) -> None:
        """Insert rows in one transaction.

        On PostgreSQL, the library's ``insert_events`` sends the rows as one message in
        pipeline mode, and psycopg (3.3.9, pure Python or binary) then waits forever
        once a batch holds about 10,000 events: the library's own statements instead, in
        one plain transaction, a chunk of rows at a time.
        """
        recorder: Any = self._app.recorder
        if not self.location.is_postgres:
            recorder.insert_events(rows)
            return
        with recorder.datastore.transaction(commit=True) as cursor:
            for start in range(0, len(rows), POSTGRES_CHUNK):
                recorder._insert_stored_events(cursor, rows[start : start + POSTGRES_CHUNK])

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


def _silent(_stage: str, _done: int, _total: int | None) -> None:
    """No one is listening."""


class _CountingDays:
    """The fold's day ends passed on to ``each_day``, with the entries folded reported
    every ``PROGRESS_EVERY``."""

    def __init__(self, each_day: DayEnd, report: Progress, total: int | None) -> None:
        self._each_day = each_day
        self._report = report
        self._total = total
        self.done = 0
        self._next = PROGRESS_EVERY

    def __call__(self, draft: Draft, day: date, count: int, upcoming: date | None) -> None:
        self._each_day(draft, day, count, upcoming)
        self.done += count
        if self.done >= self._next:
            self._report("checking the rules", self.done, self._total)
            self._next = self.done + PROGRESS_EVERY


def _counted(
    items: Iterator[T], stage: str, total: int | None
) -> Callable[[Progress], Iterator[T]]:
    """``items``, with how many have gone by reported every ``PROGRESS_EVERY``."""

    def counting(report: Progress) -> Iterator[T]:
        report(stage, 0, total)
        done = 0
        for item in items:
            yield item
            done += 1
            if done % PROGRESS_EVERY == 0:
                report(stage, done, total)
        report(stage, done, done if total is None else max(total, done))

    return counting


def _content_digest(agreement: str, plain: Sequence[dict[str, Any]]) -> str:
    """What an idempotency key vouches for: the agreement and its events, as stored."""
    return chain.link_content(chain.GENESIS, {"agreement": agreement, "events": list(plain)})


def _idempotent(key: str, content: str, agreement: str, new: Sequence[Recorded]) -> Idempotent:
    first, last = new[0], new[-1]
    return Idempotent(
        key=key,
        content=content,
        agreement=agreement,
        first_version=first.originator_version,
        last_version=last.originator_version,
        recorded_at=last.timestamp,
    )


def _retried(
    done: Idempotent, agreement: str, content: str, facts: Sequence[Fact]
) -> list[Appended]:
    """The events an earlier append with the same key recorded, if it appended these."""
    first = event_id(done.agreement, done.first_version)
    last = event_id(done.agreement, done.last_version)
    if done.content != content or done.agreement != agreement:
        raise InputError(
            f"--idempotency-key: {shown(done.key)} was used for other events ({first} … "
            f"{last}, recorded {done.recorded_at.isoformat()}); nothing written — use a new "
            "key for new events"
        )
    return [
        Appended(event_id(agreement, version), done.recorded_at, fact, already=True)
        for version, fact in zip(
            range(done.first_version, done.last_version + 1), facts, strict=True
        )
    ]


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


def _row_named(agreement: str, table: str, row: tuple[Any, ...] | None) -> str:
    """A read-model row as a person would look for it: its table and leading columns."""
    values = list(row or ("?", "?"))
    if table == "ledger_appends":
        return f"the record of the append ending at {event_id(agreement, values[0])}"
    if table == "ledger_timeline":
        return f"the timeline index at {event_id(agreement, values[0])}"
    if table == "ledger_checkpoints":
        day = date.fromordinal(values[0]).isoformat()
        return f"the checkpoint of {day} (written at {event_id(agreement, values[1])})"
    if table in COLUMNS and len(values) >= 5:  # agreement, its key, …, the four intervals
        key = ", ".join(map(str, values[1 : 1 + len(COLUMNS[table][0])]))
        named = f" for {key}" if key else ""
        return f"its row in {table}{named} valid from {values[-4]}, recorded {values[-2]}"
    return f"its row in {table}"


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _check_window(on: date, days: int) -> None:
    """A window that ends after the calendar does is refused, naming the last day."""
    if date.max.toordinal() - on.toordinal() <= days:
        raise InputError(f"--within: {days} days after {on} is past {date.max}")


def _unknown_party(party: str, everyone: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(party, everyone, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return (
        f"expected a party that holds a stake or invested in some agreement, got {party!r} "
        f"({hint}known: {', '.join(everyone) or 'none'})"
    )
