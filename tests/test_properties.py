"""Laws of the ledger, checked on drawn histories of an invented agreement."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import AGREEMENT, histories

from ledger import Ledger
from ledger.adapters.files import parse_document
from ledger.domain.events import DatedEvent, Fact
from ledger.domain.fold import fold
from ledger.domain.state import AgreementState
from ledger.domain.timeline import Log, known, state_at

T0 = datetime(2024, 1, 1, tzinfo=UTC)
LAWS = settings(max_examples=50, deadline=None)
_ID = re.compile(rf"{re.escape(AGREEMENT)}#(\d+)")


def facts_of(document: dict[str, Any]) -> tuple[Fact, ...]:
    """The events of a drawn history."""
    return parse_document(document).events


def opened(facts: Sequence[Fact], at: datetime = T0) -> Log:
    """The agreement recording ``facts`` in one append at ``at``."""
    agreement, _ = Log.open(facts, at)
    return agreement


def dates_to_check(facts: Sequence[Fact]) -> list[date]:
    """Every effective date, the day before each (from the opening on), and a later day."""
    days = {f.effective_on for f in facts if isinstance(f, DatedEvent)}
    first = min(days)
    around = {d - timedelta(days=1) for d in days if d > first} | {max(days) + timedelta(days=30)}
    return sorted(days | around)


def on(agreement: Log, day: date, known_at: datetime | None = None) -> AgreementState:
    """The state of ``agreement`` on ``day``."""
    return state_at(AGREEMENT, agreement.records, day, known_at)


def renamed(value: Any, names: dict[str, str]) -> Any:
    """``value`` (a state as plain data) with every event id renamed by ``names``."""
    if isinstance(value, str):
        return _ID.sub(lambda m: names.get(m.group(0), m.group(0)), value)
    if isinstance(value, dict):
        return {renamed(k, names): renamed(v, names) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(renamed(item, names) for item in value)
    return value


def plain(state: AgreementState, names: dict[str, str] | None = None) -> Any:
    """The whole state as plain data, event ids renamed."""
    return renamed(attrs.asdict(state), names or {})


def totals(state: AgreementState) -> dict[tuple[str, str, str], Any]:
    """Investment totals by investor, recipient and currency."""
    return {key: total.total.amount for key, total in state.investments.items()}


def assert_no_decrease(earlier: dict[Any, Any], later: dict[Any, Any]) -> None:
    """Every total of ``earlier`` is still there in ``later``, and not smaller."""
    for key, amount in earlier.items():
        assert key in later
        assert later[key] >= amount


class TestReplay:
    """Replaying the same events gives the same state."""

    @LAWS
    @given(histories())
    def test_replaying_twice_gives_equal_states(self, document: dict[str, Any]) -> None:
        """Two replays of one log, and two logs of the same events, agree on every date."""
        facts = facts_of(document)
        first, second = opened(facts), opened(facts)
        assert first.records == second.records
        for day in dates_to_check(facts):
            assert on(first, day) == on(first, day) == on(second, day)

    @settings(max_examples=25, deadline=None)
    @given(histories(max_events=6))
    def test_replaying_from_the_store_gives_the_pure_folds_state(
        self, document: dict[str, Any]
    ) -> None:
        """Stored and read back, the events fold to the state the pure fold gives."""
        facts = facts_of(document)
        expected = opened(facts)
        with Ledger("memory:", clock=lambda: T0) as ledger:
            ledger.append(facts)
            assert ledger.log().records == expected.records
            for day in dates_to_check(facts):
                assert ledger.state_at(day, known_at=T0) == on(expected, day, T0)


class TestRecordingOrder:
    """With distinct effective dates the recording order does not matter."""

    @LAWS
    @given(histories(distinct_dates=True), st.data())
    def test_shuffled_recording_gives_the_same_state(
        self, document: dict[str, Any], data: st.DataObject
    ) -> None:
        """Events recorded in any order (the opening first) fold to the same states."""
        facts = facts_of(document)
        rest = list(range(1, len(facts)))
        order = data.draw(st.permutations(rest), label="recording order")
        shuffled = opened([facts[0], *(facts[i] for i in order)])
        # Version v of the shuffled log holds the fact at version order[v - 2] + 1.
        names = {
            f"{AGREEMENT}#{position + 2}": f"{AGREEMENT}#{original + 1}"
            for position, original in enumerate(order)
        }
        straight = opened(facts)
        for day in dates_to_check(facts):
            assert plain(on(shuffled, day), names) == plain(on(straight, day))

    @LAWS
    @given(histories(distinct_dates=True), st.data())
    def test_events_recorded_in_batches_fold_like_one_batch(
        self, document: dict[str, Any], data: st.DataObject
    ) -> None:
        """Appending the events in several batches, in date order, changes no state."""
        facts = facts_of(document)
        inner = st.integers(1, max(1, len(facts) - 1))
        cuts = [*sorted(data.draw(st.sets(inner), label="cuts")), len(facts)]
        agreement = opened(facts[: cuts[0]])
        for index, (start, end) in enumerate(pairwise(cuts), start=1):
            if start < end:
                agreement, _ = agreement.record(facts[start:end], T0 + timedelta(hours=index))
        whole = opened(facts)
        for day in dates_to_check(facts):
            assert on(agreement, day) == on(whole, day)


class TestCutOff:
    """``state_at(D)`` is the fold of exactly the events effective on or before D."""

    @LAWS
    @given(histories())
    def test_state_on_a_date_ignores_later_events(self, document: dict[str, Any]) -> None:
        """Recording only the events up to D gives the same state on D."""
        facts = facts_of(document)
        everything = opened(facts)
        for day in dates_to_check(facts):
            prefix = [f for f in facts if isinstance(f, DatedEvent) and f.effective_on <= day]
            assert on(opened(prefix), day) == on(everything, day)

    @LAWS
    @given(histories(distinct_dates=True), st.data())
    def test_state_on_a_date_is_the_fold_of_the_entries_up_to_it(
        self, document: dict[str, Any], data: st.DataObject
    ) -> None:
        """Whatever the recording order, the state on D folds the entries dated by D."""
        facts = facts_of(document)
        order = data.draw(st.permutations(range(1, len(facts))), label="recording order")
        agreement = opened([facts[0], *(facts[i] for i in order)])
        entries = known(AGREEMENT, agreement.records).entries
        for day in dates_to_check(facts):
            upto = [entry for entry in entries if entry.effective_on <= day]
            folded = fold(None, upto)
            assert folded is not None
            expected = folded.freeze(day)
            assert on(agreement, day) == expected
            assert on(agreement, day).events_applied == len(upto)


class TestMonotonicity:
    """Without corrections, investment totals never shrink."""

    @LAWS
    @given(histories())
    def test_totals_never_shrink_as_the_date_advances(self, document: dict[str, Any]) -> None:
        """For D1 ≤ D2 every total on D1 is there on D2 and no smaller."""
        facts = facts_of(document)
        agreement = opened(facts)
        states = [totals(on(agreement, day)) for day in dates_to_check(facts)]
        for earlier, later in pairwise(states):
            assert_no_decrease(earlier, later)

    @LAWS
    @given(histories(), st.data())
    def test_totals_never_shrink_as_more_becomes_known(
        self, document: dict[str, Any], data: st.DataObject
    ) -> None:
        """Appended in batches, the totals known at T1 ≤ T2 never exceed those known at T2."""
        facts = facts_of(document)
        size = data.draw(st.integers(1, 3), label="batch size")
        agreement = opened(facts[:1])
        moments = [T0]
        for index, start in enumerate(range(1, len(facts), size), start=1):
            moments.append(T0 + timedelta(minutes=index))
            agreement, _ = agreement.record(facts[start : start + size], moments[-1])
        for day in dates_to_check(facts):
            known_states = [totals(on(agreement, day, moment)) for moment in moments]
            for earlier, later in pairwise(known_states):
                assert_no_decrease(earlier, later)
            assert known_states[-1] == totals(on(agreement, day))
