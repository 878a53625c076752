"""The fast paths give exactly the plain fold's states.

``Ledger.state_at`` reads the checkpoint before the date and the index's events after
it; appends check new events from the checkpoint before the first day they touch.
Here random histories are recorded in random order and batches (so events are
backdated), with corrections and retractions among them and checkpoints kept every
few entries; then every question, on every date and as known at every time, must get
the state (or the refusal) the plain fold over the whole log gives.
"""

from __future__ import annotations

import sqlite3
import subprocess
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import fresh_schema, ledger_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import AGREEMENT, histories
from test_properties import dates_to_check, facts_of

from ledger import Ledger
from ledger.domain.draft import Draft
from ledger.domain.events import Correction, DatedEvent, Fact, Retraction
from ledger.domain.fold import fold
from ledger.domain.timeline import Log, known, state_at
from ledger.domain.values import Confidence, Source
from ledger.errors import IntegrityFailure, LedgerError
from ledger.readmodel import checkpoints

T0 = datetime(2024, 1, 1, tzinfo=UTC)
SOURCE = Source("checkpoint tests", Confidence.REPORTED)
# The fixture below patches module constants once for all examples, which is what it means.
FAST_PATH_LAWS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class Clock:
    """A clock that moves one second at each reading, so each append has its own time."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture(autouse=True)
def dense_checkpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checkpoints every two entries, so that every question starts from one."""
    monkeypatch.setattr(checkpoints, "MIN_SPACING", 2)
    monkeypatch.setattr(checkpoints, "BYTES_PER_ENTRY", 10**9)


def outcome(question: Callable[[], Any]) -> Any:
    """A state, or the kind and message of the refusal."""
    try:
        return question()
    except LedgerError as error:
        return (type(error).__name__, str(error))


@st.composite
def recordings(draw: st.DrawFn) -> list[list[Fact]]:
    """Batches of a history's events, recorded out of date order, with withdrawals."""
    facts = facts_of(draw(histories(min_events=2, max_events=24)))
    rest = draw(st.permutations(facts[1:]))
    batches: list[list[Fact]] = [[facts[0]]]
    recorded = 1
    for fact in rest:
        if draw(st.integers(0, 3)) == 0 or len(batches) == 1:
            batches.append([])
        batches[-1].append(fact)
        recorded += 1
        if draw(st.integers(0, 3)) == 0:
            target = f"{AGREEMENT}#{draw(st.integers(2, recorded))}"
            if draw(st.booleans()):
                batches[-1].append(Retraction(retracts=target, reason="withdrawn", source=SOURCE))
            else:
                replacement = draw(st.sampled_from(facts[1:]))
                assert isinstance(replacement, DatedEvent)
                batches[-1].append(
                    Correction(
                        corrects=target, reason="corrected", source=SOURCE, replacement=replacement
                    )
                )
            recorded += 1
    return batches


def record(ledger: Ledger, batches: list[list[Fact]]) -> list[datetime]:
    """Append each batch (a refused one writes nothing); the times they were recorded."""
    times = []
    for batch in batches:
        try:
            appended = ledger.append(batch, agreement=AGREEMENT)
        except LedgerError:
            continue
        times.append(appended[0].recorded_at)
    return times


def questions(facts: list[Fact], times: list[datetime]) -> Iterator[tuple[date, datetime]]:
    """Every date worth asking about, as known before, at and after every append."""
    moments = [T0, *times, times[-1] + timedelta(days=1)]
    dated = [f for f in facts if isinstance(f, DatedEvent)]
    days = [*dates_to_check(dated), min(f.effective_on for f in dated) - timedelta(days=1)]
    for moment in moments:
        for day in days:
            yield day, moment


def assert_fast_paths_agree(ledger: Ledger, batches: list[list[Fact]]) -> None:
    times = record(ledger, batches)
    records = ledger.log(AGREEMENT).records
    facts = [f for batch in batches for f in batch]
    for day, moment in questions(facts, times):
        expected = outcome(lambda: state_at(AGREEMENT, records, day, moment))  # noqa: B023
        assert outcome(lambda: ledger.state_at(day, known_at=moment)) == expected  # noqa: B023


@FAST_PATH_LAWS
@given(recordings())
def test_state_at_from_checkpoints_is_the_plain_fold(batches: list[list[Fact]]) -> None:
    """On every date, as known at every time, after backdated appends and withdrawals."""
    with Ledger("memory:", clock=Clock()) as ledger:
        assert_fast_paths_agree(ledger, batches)


@pytest.mark.postgres
@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=recordings())
def test_state_at_from_checkpoints_on_postgresql(
    postgres_server: str, batches: list[list[Fact]]
) -> None:
    """The same law on PostgreSQL, where the index has its own types and placeholders."""
    with fresh_schema(postgres_server) as url, Ledger(url, clock=Clock()) as ledger:
        assert_fast_paths_agree(ledger, batches)


@FAST_PATH_LAWS
@given(recordings())
def test_appends_accepted_are_those_the_whole_log_accepts(batches: list[list[Fact]]) -> None:
    """An append is refused from the checkpoints exactly when the whole log refuses it,
    with the same message."""
    log: Log | None = None
    with Ledger("memory:", clock=Clock()) as ledger:
        for batch in batches:
            try:
                log = (log.record(batch, T0) if log else Log.open(batch, T0))[0]
                expected: Any = [r.fact for r in log.records]
            except LedgerError as error:
                expected = str(error)
            try:
                ledger.append(batch, agreement=AGREEMENT)
                got: Any = [r.fact for r in ledger.log(AGREEMENT).records]
            except LedgerError as error:
                got = str(error)
            assert got == expected


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(recordings())
def test_a_store_from_before_the_index_is_indexed_on_first_use(
    batches: list[list[Fact]],
) -> None:
    """A SQLite store whose index tables are dropped answers as before, once rebuilt."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ledger.sqlite"
        with Ledger(str(path), clock=Clock()) as ledger:
            times = record(ledger, batches)
            records = ledger.log(AGREEMENT).records
        with closing(sqlite3.connect(path)) as connection:
            for table in (
                "ledger_meta",
                "ledger_views",
                "ledger_timeline",
                "ledger_appends",
                "ledger_checkpoints",
            ):
                connection.execute(f"DROP TABLE {table}")
            connection.commit()
        with Ledger(str(path), must_exist=True) as ledger:
            assert ledger.agreements() == [AGREEMENT]
            facts = [f for batch in batches for f in batch]
            for day, moment in questions(facts, times):
                expected = outcome(lambda: state_at(AGREEMENT, records, day, moment))  # noqa: B023
                assert outcome(lambda: ledger.state_at(day, known_at=moment)) == expected  # noqa: B023


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(histories(max_events=12))
def test_states_round_trip_through_checkpoints(document: dict[str, Any]) -> None:
    """A checkpoint reads back as the very state that was written, at the end of every
    day, and folds on from there to the same states."""
    facts = facts_of(document)
    log, _ = Log.open(facts, T0)
    entries = known(AGREEMENT, log.records).entries
    for day in dates_to_check(facts):
        draft = fold(None, (e for e in entries if e.effective_on <= day))
        if draft is None:
            continue
        again = Draft.from_plain(checkpoints.load(checkpoints.dump(draft)[0])[0].to_plain())
        assert again == draft
        later = [e for e in entries if e.effective_on > day]
        assert fold(again, later) == fold(draft, later)


TAMPERINGS = {
    "an index row's date": "UPDATE ledger_timeline SET day = day - 400 WHERE version = 3",
    "an index row's visibility": "UPDATE ledger_timeline SET visible_until = 2 WHERE version = 5",
    "an append's time": "UPDATE ledger_appends SET recorded_at = recorded_at + 1",
    "a checkpoint's day": "UPDATE ledger_checkpoints SET day = day + 1",
}


@pytest.mark.parametrize("tampering", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_verify_names_a_tampered_index_and_reindex_mends_it(tmp_path: Path, tampering: str) -> None:
    """The index and checkpoints answer questions, so ``verify`` checks them too; the
    events stay intact, and ``--reindex`` rebuilds the rest from them. (A checkpoint
    missing is no error: questions then fold from an earlier one.)"""
    store = tmp_path / "ledger.sqlite"
    command = [*ledger_command(), "--store", str(store)]
    subprocess.run([*command, "init", "--example", "openai-microsoft"], check=True)
    with closing(sqlite3.connect(store)) as connection:
        assert connection.execute(tampering).rowcount > 0
        connection.commit()
    refused = subprocess.run([*command, "verify"], capture_output=True, text=True)
    assert refused.returncode == 1
    assert "does not match the log; the events themselves are intact" in refused.stderr
    assert "ledger verify --reindex" in refused.stderr
    mended = subprocess.run([*command, "verify", "--reindex"], capture_output=True, text=True)
    assert mended.returncode == 0, mended.stderr
    assert subprocess.run([*command, "verify"], capture_output=True).returncode == 0


def test_verify_reads_every_checkpoint_in_force(tmp_path: Path) -> None:
    """A checkpoint whose state was edited (and recompressed) is named by its day."""
    store = tmp_path / "ledger.sqlite"
    with Ledger(str(store)) as ledger:
        ledger.load_example("openai-microsoft")
    with closing(sqlite3.connect(store)) as connection:
        day, state = connection.execute("SELECT day, state FROM ledger_checkpoints").fetchone()
        edited = zlib.compress(zlib.decompress(state).replace(b'"USD"', b'"EUR"'))
        connection.execute("UPDATE ledger_checkpoints SET state = ? WHERE day = ?", (edited, day))
        connection.commit()
    with Ledger(str(store)) as ledger, pytest.raises(IntegrityFailure, match="the checkpoint of"):
        ledger.verify()
