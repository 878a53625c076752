"""The ledger's laws under Hypothesis, against a simple reference model.

``LedgerMachine`` drives ``Ledger("memory:")`` with random batches of valid and invalid
facts — investments, stakes, clauses added and removed, backdated ones, corrections,
retractions — and keeps a model: a plain list of what was recorded, folded by a few
lines of Python. After every step it checks that the ledger accepted exactly what the
model says the rules allow, that a refused batch changed nothing, and that
``state_at(D, known_at=T)`` matches the model for random D and T. A clock injected into
the ledger makes every recording time distinct and known.

Then three properties: determinism, independence from recording order when effective
dates differ, and as-of monotonicity of investment totals.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from ledger import DateOutOfRange, InputError, Ledger, structure_fact

AGREEMENT = "acme-globex"
OPENED_ON = date(2020, 1, 1)
PARTIES = ("acme", "globex")
OUTSIDER = "initech"
ENTITY = "globex-labs"
CLAUSES = ("c-alpha", "c-beta", "c-gamma")
SOURCE = {"citation": "Model test", "confidence": "confirmed"}
EPOCH = datetime(2030, 1, 1, tzinfo=UTC)
STATS: Counter[str] = Counter()


class Clock:
    """Strictly increasing recording times: one second per reading."""

    def __init__(self) -> None:
        self.now = EPOCH

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def day(offset: int) -> date:
    return OPENED_ON + timedelta(days=offset)


# -- primitive facts, in file form and in the model's form -------------------------


@dataclass(frozen=True)
class Dated:
    """A dated fact as the model sees it."""

    kind: str  # open, invest, stake, add, remove
    on: date
    who: str = ""  # investor / holder
    amount: Decimal = Decimal(0)  # investment amount / stake percent
    clause: str = ""
    until: date | None = None

    def plain(self) -> dict[str, Any]:
        base = {"effective_on": self.on.isoformat(), "source": SOURCE}
        if self.kind == "invest":
            return {
                "type": "investment",
                **base,
                "investor": self.who,
                "recipient": "globex",
                "amount": {"amount": str(self.amount), "currency": "USD"},
                "instrument": "equity",
            }
        if self.kind == "stake":
            return {
                "type": "ownership_change",
                **base,
                "holder": self.who,
                "entity": ENTITY,
                "percent": str(self.amount),
            }
        if self.kind == "add":
            add: dict[str, Any] = {"id": self.clause, "kind": "custom", "terms": {"text": "t"}}
            if self.until is not None:
                add["until"] = self.until.isoformat()
            return {"type": "amendment", **base, "changes": [{"add": add}]}
        if self.kind == "remove":
            return {"type": "amendment", **base, "changes": [{"remove": self.clause}]}
        raise AssertionError(self.kind)


@dataclass(frozen=True)
class Command:
    """One fact of a batch: a dated fact, a correction (target + replacement) or a retraction."""

    dated: Dated | None = None
    target: str | None = None  # for a correction or a retraction

    def plain(self) -> dict[str, Any]:
        if self.target is None:
            assert self.dated is not None
            return self.dated.plain()
        if self.dated is None:
            return {"type": "retraction", "retracts": self.target, "reason": "r", "source": SOURCE}
        return {
            "type": "correction",
            "corrects": self.target,
            "reason": "c",
            "source": SOURCE,
            "replacement": self.dated.plain(),
        }


@dataclass
class Recorded:
    id: str
    seq: int
    at: datetime
    command: Command


@dataclass
class ModelState:
    investments: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    stakes: dict[str, Decimal] = field(default_factory=dict)
    clauses: dict[str, tuple[date, date | None, bool]] = field(default_factory=dict)
    applied: int = 0

    def in_force(self, clause: str, on: date) -> bool:
        if clause not in self.clauses:
            return False
        since, until, removed = self.clauses[clause]
        return not removed and since <= on and (until is None or on <= until)


class Refused(Exception):
    """The model's verdict: the rules refuse this batch."""


OPENING = Dated("open", OPENED_ON)


def withdrawn_by(log: list[Recorded]) -> dict[str, str]:
    """Which events are withdrawn, and by which, reading the log in recording order.

    A correction or retraction withdraws its target; retracting a correction undoes it,
    so the event that correction had withdrawn is in effect again.
    """
    by_id = {r.id: r for r in log}
    withdrawn: dict[str, str] = {}
    for r in log:
        target = r.command.target
        if target is None:
            continue
        withdrawn[target] = r.id
        undone = by_id.get(target)
        if r.command.dated is not None or undone is None or undone.command.dated is None:
            continue  # not a retraction, or not of a correction
        corrected = undone.command.target
        if corrected is not None and withdrawn.get(corrected) == target:
            del withdrawn[corrected]
    return withdrawn


def timeline(log: list[Recorded], known_at: datetime | None) -> list[tuple[date, int, int, Dated]]:
    """The model's timeline: visible, not withdrawn, in (date, opening first, seq) order."""
    visible = [r for r in log if known_at is None or r.at <= known_at]
    withdrawn = withdrawn_by(visible)
    entries = []
    for r in visible:
        if r.id in withdrawn or r.command.dated is None:
            continue
        dated = r.command.dated
        entries.append((dated.on, 0 if dated.kind == "open" else 1, r.seq, dated))
    return sorted(entries, key=lambda e: (e[0], e[1], e[2]))


def fold(entries: list[tuple[date, int, int, Dated]], on: date | None) -> ModelState:
    """The model's fold; raises ``Refused`` where the ledger's rules would."""
    state = ModelState()
    for index, (when, _, _, fact) in enumerate(entries):
        if on is not None and when > on:
            break
        if index == 0:
            if fact.kind != "open":
                raise Refused("dated before the opening")
            state.applied = 1
            continue
        if when < OPENED_ON:
            raise Refused("dated before the opening")
        if fact.kind == "invest":
            if fact.who not in PARTIES:
                raise Refused("investor not a party")
            key = (fact.who, "globex")
            state.investments[key] = state.investments.get(key, Decimal(0)) + fact.amount
        elif fact.kind == "stake":
            if fact.who not in PARTIES:
                raise Refused("holder not a party")
            others = sum((p for h, p in state.stakes.items() if h != fact.who), Decimal(0))
            if others + fact.amount > 100:
                raise Refused("stakes over 100")
            if fact.amount == 0:
                state.stakes.pop(fact.who, None)
            else:
                state.stakes[fact.who] = fact.amount
        elif fact.kind == "add":
            if state.in_force(fact.clause, when):
                raise Refused("clause already in force")
            if fact.until is not None and fact.until < when:
                raise Refused("until before the date")
            state.clauses[fact.clause] = (when, fact.until, False)
        elif fact.kind == "remove":
            if not state.in_force(fact.clause, when):
                raise Refused("clause not in force")
            since, until, _ = state.clauses[fact.clause]
            state.clauses[fact.clause] = (since, until, True)
        state.applied += 1
    return state


def check_withdrawals(log: list[Recorded], first_new: int) -> None:
    """The ledger's rules for corrections and retractions, in recording order."""
    by_id: dict[str, Recorded] = {}
    for n, r in enumerate(log):
        target = r.command.target
        if target is not None and r.seq >= first_new:
            original = by_id.get(target)
            if original is None:
                raise Refused("withdraws an unknown event")
            if target in withdrawn_by(log[:n]):
                raise Refused("already withdrawn")
            if original.command.target is not None and original.command.dated is None:
                raise Refused("withdraws a retraction")
            dated = original.command.dated
            if dated is not None and dated.kind == "open":
                raise Refused("withdraws the opening")
        by_id[r.id] = r


def event_id(seq: int) -> str:
    return f"{AGREEMENT}#{seq}"


# -- strategies ----------------------------------------------------------------------

offsets = st.sampled_from(["after"] * 6 + ["before"]).flatmap(  # 1 in 7 too early
    lambda when: st.integers(0, 1500) if when == "after" else st.integers(-30, -1)
)
amounts = st.integers(1, 10**9).map(Decimal) | st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal(10**6), places=2
)
percents = st.sampled_from([Decimal(p) for p in ("0", "10", "25", "40", "50", "60", "75", "100")])
parties = st.sampled_from((*PARTIES * 4, OUTSIDER))  # 1 in 9 not a party


@st.composite
def dated_facts(draw: st.DrawFn) -> Dated:
    kind = draw(st.sampled_from(["invest", "invest", "stake", "add", "remove"]))
    on = day(draw(offsets))
    if kind == "invest":
        return Dated("invest", on, who=draw(parties), amount=draw(amounts))
    if kind == "stake":
        return Dated("stake", on, who=draw(parties), amount=draw(percents))
    clause = draw(st.sampled_from(CLAUSES))
    if kind == "add":
        until = draw(st.none() | st.integers(-3, 400).map(lambda d: on + timedelta(days=d)))
        return Dated("add", on, clause=clause, until=until)
    return Dated("remove", on, clause=clause)


class LedgerMachine(RuleBasedStateMachine):
    """The ledger against the model, one batch at a time."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.ledger = Ledger("memory:", clock=self.clock)
        self.log: list[Recorded] = []

    @initialize()
    def open_agreement(self) -> None:
        opening = structure_fact(
            {
                "type": "agreement_opened",
                "effective_on": OPENED_ON.isoformat(),
                "agreement": AGREEMENT,
                "title": "Acme–Globex",
                "parties": [{"id": p, "name": p.title()} for p in PARTIES],
                "source": SOURCE,
            }
        )
        (appended,) = self.ledger.append([opening])
        self.log.append(Recorded(appended.id, 1, appended.recorded_at, Command(OPENING)))

    def teardown(self) -> None:
        self.ledger.close()

    # -- the rules -------------------------------------------------------------------

    def target(self, data: st.DataObject) -> str:
        """Mostly an event that may be withdrawn; sometimes any id, or none recorded."""
        ids = [r.id for r in self.log]
        withdrawn = {r.command.target for r in self.log}
        live = [
            r.id
            for r in self.log[1:]
            if r.id not in withdrawn and not (r.command.target and r.command.dated is None)
        ]
        kind = data.draw(st.sampled_from(["live"] * 4 + ["any", "unknown"]), label="target kind")
        if kind == "live" and live:
            return data.draw(st.sampled_from(live), label="target")
        if kind == "unknown":
            return data.draw(st.sampled_from([event_id(len(ids) + 5), f"{AGREEMENT}#0"]))
        return data.draw(st.sampled_from(ids), label="target")

    @rule(data=st.data(), facts=st.lists(dated_facts(), min_size=1, max_size=3))
    def append_facts(self, data: st.DataObject, facts: list[Dated]) -> None:
        self.append(data, [Command(f) for f in facts])

    @precondition(lambda self: len(self.log) > 1)
    @rule(data=st.data(), replacement=dated_facts())
    def correct(self, data: st.DataObject, replacement: Dated) -> None:
        self.append(data, [Command(replacement, self.target(data))])

    @precondition(lambda self: len(self.log) > 1)
    @rule(data=st.data())
    def retract(self, data: st.DataObject) -> None:
        self.append(data, [Command(None, self.target(data))])

    @precondition(lambda self: len(self.log) > 1)
    @rule(data=st.data(), fact=dated_facts())
    def retract_and_append(self, data: st.DataObject, fact: Dated) -> None:
        self.append(data, [Command(None, self.target(data)), Command(fact)])

    # -- one append, checked ---------------------------------------------------------

    def append(self, data: st.DataObject, commands: list[Command]) -> None:
        first = len(self.log) + 1
        candidate = self.log + [
            Recorded(event_id(first + n), first + n, EPOCH, c) for n, c in enumerate(commands)
        ]
        try:
            check_withdrawals(candidate, first)
            fold(timeline(candidate, None), None)
        except Refused as reason:
            expected: str | None = str(reason)
        else:
            expected = None

        before = self.ledger.history()
        facts = [structure_fact(c.plain()) for c in commands]
        refusal: str | None = None
        try:
            appended = self.ledger.append(facts)
        except InputError as error:
            refusal = str(error)
        if refusal is not None:
            assert expected is not None, f"refused, but the model allows it: {refusal}"
            assert self.ledger.history() == before  # nothing written
            STATS["refused"] += 1
            STATS[f"refused: {expected}"] += 1
        else:
            assert expected is None, f"accepted, but the model refuses it ({expected})"
            assert [a.id for a in appended] == [event_id(first + n) for n in range(len(commands))]
            assert len({a.recorded_at for a in appended}) == 1  # one time per append
            for n, (command, done) in enumerate(zip(commands, appended, strict=True)):
                self.log.append(Recorded(done.id, first + n, done.recorded_at, command))
            STATS["accepted"] += 1
            STATS["events recorded"] += len(commands)
        self.compare(data)

    def compare(self, data: st.DataObject) -> None:
        """state_at(D, known_at=T) against the model, for random D and T."""
        times = [r.at for r in self.log]
        for _ in range(2):
            on = day(data.draw(st.integers(-5, 1600), label="D"))
            choice = data.draw(
                st.sampled_from(["now", "before", "at", "just before"]), label="T kind"
            )
            moment = data.draw(st.sampled_from(times), label="T")
            known_at = {
                "now": None,
                "before": EPOCH,
                "at": moment,
                "just before": moment - timedelta(microseconds=1),
            }[choice]
            self.compare_at(on, known_at)
            STATS["state_at comparisons"] += 1

    def compare_at(self, on: date, known_at: datetime | None) -> None:
        entries = timeline(self.log, known_at)
        if not entries or on < OPENED_ON:
            with pytest.raises(DateOutOfRange):
                self.ledger.state_at(on, known_at=known_at)
            return
        expected = fold(entries, on)
        state = self.ledger.state_at(on, known_at=known_at)
        investments = {(k[0], k[1]): v.total.amount for k, v in state.investments.items()}
        assert investments == expected.investments, (on, known_at)
        assert {k[0]: s.percent.value for k, s in state.stakes.items()} == expected.stakes
        assert [c.id for c in state.clauses_in_force()] == sorted(
            c for c in expected.clauses if expected.in_force(c, on)
        ), (on, known_at)
        assert state.events_applied == expected.applied, (on, known_at)

    @invariant()
    def log_matches(self) -> None:
        if not self.log:
            return
        history = self.ledger.history()
        assert sorted(e.version for e in history) == [r.seq for r in self.log]
        assert self.ledger.verify() == len(self.log)
        self.compare_at(day(10_000), None)


LedgerMachine.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestLedgerMachine = LedgerMachine.TestCase


@pytest.fixture(scope="module", autouse=True)
def figures() -> Any:
    """Prints what the machine did (visible with ``-s``)."""
    yield
    print(f"\nstateful: {dict(sorted(STATS.items()))}")


# -- properties ----------------------------------------------------------------------


def opened(clock: Clock | None = None) -> Ledger:
    ledger = Ledger("memory:", clock=clock or Clock())
    ledger.append(
        [
            structure_fact(
                {
                    "type": "agreement_opened",
                    "effective_on": OPENED_ON.isoformat(),
                    "agreement": AGREEMENT,
                    "title": "Acme–Globex",
                    "parties": [{"id": p, "name": p.title()} for p in PARTIES],
                    "source": SOURCE,
                }
            )
        ]
    )
    return ledger


def comparable(ledger: Ledger, on: date) -> Any:
    state = ledger.state_at(on)
    return attrs.evolve(
        state,
        known_at=None,
        # caused_by and ids name events by recording position, which differs by design
        investments={k: v.total for k, v in state.investments.items()},
        stakes={k: (s.percent, s.since) for k, s in state.stakes.items()},
        clauses={k: (c.in_force_since, c.until, c.removed_on) for k, c in state.clauses.items()},
    )


@st.composite
def always_valid(draw: st.DrawFn) -> list[Dated]:
    """Investments and stakes (each holder at most 50%) on distinct dates after the opening."""
    dates = draw(st.lists(st.integers(0, 2000), min_size=2, max_size=10, unique=True))
    facts = []
    for offset in dates:
        if draw(st.booleans()):
            facts.append(
                Dated(
                    "invest", day(offset), who=draw(st.sampled_from(PARTIES)), amount=draw(amounts)
                )
            )
        else:
            percent = draw(st.sampled_from([Decimal(p) for p in ("0", "12.5", "30", "50")]))
            facts.append(
                Dated("stake", day(offset), who=draw(st.sampled_from(PARTIES)), amount=percent)
            )
    return facts


@settings(max_examples=25, deadline=None)
@given(facts=always_valid(), data=st.data())
def test_state_independent_of_recording_order(facts: list[Dated], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(facts), label="recording order")
    with opened() as first, opened() as second:
        for fact in facts:
            first.append([structure_fact(fact.plain())])
        for fact in shuffled:
            second.append([structure_fact(fact.plain())])
        for offset in data.draw(st.lists(st.integers(0, 2100), min_size=1, max_size=4)):
            assert comparable(first, day(offset)) == comparable(second, day(offset))


@settings(max_examples=25, deadline=None)
@given(facts=always_valid(), batches=st.integers(1, 4))
def test_deterministic(facts: list[Dated], batches: int) -> None:
    """The same facts, appended the same way at the same times: the same log and states."""
    ledgers = [opened(Clock()), opened(Clock())]
    for ledger in ledgers:
        for start in range(0, len(facts), batches):
            ledger.append([structure_fact(f.plain()) for f in facts[start : start + batches]])
    first, second = ledgers
    assert [e.digest for e in first.history()] == [e.digest for e in second.history()]
    for fact in facts:
        assert first.state_at(fact.on) == second.state_at(fact.on)
    for ledger in ledgers:
        ledger.close()


@settings(max_examples=25, deadline=None)
@given(facts=always_valid(), days=st.lists(st.integers(0, 2100), min_size=2, max_size=6))
def test_investment_totals_never_shrink_as_the_date_grows(
    facts: list[Dated], days: list[int]
) -> None:
    with opened() as ledger:
        ledger.append([structure_fact(f.plain()) for f in facts])
        previous: dict[Any, Decimal] = {}
        for offset in sorted(days):
            totals = {
                k: v.total.amount for k, v in ledger.state_at(day(offset)).investments.items()
            }
            for key, amount in previous.items():
                assert totals.get(key, Decimal(0)) >= amount
            previous = totals


def test_the_model_can_fail() -> None:
    """The comparison is not vacuous: a wrong model is caught."""
    machine = LedgerMachine()
    machine.open_agreement()
    fact = Dated("invest", day(10), who="acme", amount=Decimal(5))
    machine.ledger.append([structure_fact(fact.plain())])  # behind the model's back
    with pytest.raises(AssertionError):
        machine.log_matches()
    machine.teardown()
