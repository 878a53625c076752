"""The bitemporal tables and the portfolio's questions give exactly the fold's answers.

Random histories of several agreements are recorded in random batches, interleaved, out
of date order, with corrections, retractions of corrections and terminations among them
(``recordings``); then for every agreement, on every date worth asking about and as known
before, at and after every append, the rows the tables hold (read with ``Ledger.sql``, as
an analyst would) say what ``state_at`` over the whole log says, and ``find``,
``expiring`` and ``holdings`` answer what folding each agreement answers. A refused
append changes no row. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from conftest import fresh_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import AGREEMENT, PARTIES
from test_checkpoints import T0, Clock, questions, recordings

from ledger import Ledger
from ledger.domain.clauses import ClauseKind
from ledger.domain.codec import stored_terms, structure_change, unstructure_terms
from ledger.domain.events import AgreementOpened, Correction, DatedEvent, Fact, Retraction
from ledger.domain.portfolio import Holdings, matches, parse_condition
from ledger.domain.state import AgreementState
from ledger.domain.timeline import state_at
from ledger.errors import InputError, LedgerError
from ledger.readmodel.bitemporal import TABLES, moment_text

LAWS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
NAMES = ("deal-a", "deal-b", "deal-c")
# Conditions ``find`` is asked with, per clause kind (an empty one: the kind alone).
CONDITIONS = {
    "exclusivity": ["exclusive=true"],
    "revenue_share": ["rate>10"],
    "profit_share": ["rate<=25"],
    "veto": ["over=ceo_removed"],
}


def renamed(fact: Fact, name: str) -> Fact:
    """A fact of ``acme-globex`` as a fact of ``name``."""
    if isinstance(fact, AgreementOpened):
        return attrs.evolve(fact, agreement=name)
    if isinstance(fact, Correction):
        return attrs.evolve(fact, corrects=fact.corrects.replace(AGREEMENT, name, 1))
    if isinstance(fact, Retraction):
        return attrs.evolve(fact, retracts=fact.retracts.replace(AGREEMENT, name, 1))
    return fact


@st.composite
def portfolios(draw: st.DrawFn) -> list[tuple[str, list[Fact]]]:
    """Batches of two or three agreements' histories, interleaved in recording order."""
    count = draw(st.integers(2, len(NAMES)))
    queues = [
        [(name, [renamed(f, name) for f in batch]) for batch in draw(recordings())]
        for name in NAMES[:count]
    ]
    order: list[tuple[str, list[Fact]]] = []
    while any(queues):
        queue = draw(st.sampled_from([q for q in queues if q]))
        order.append(queue.pop(0))
    return order


def record(ledger: Ledger, batches: list[tuple[str, list[Fact]]]) -> list[datetime]:
    """Append each batch; a refused one must leave every table as it was."""
    times = []
    for name, batch in batches:
        before = every_row(ledger)
        try:
            appended = ledger.append(batch, agreement=name)
        except LedgerError:
            assert every_row(ledger) == before, "a refused append changed a table"
            continue
        times.append(appended[0].recorded_at)
    return times


def every_row(ledger: Ledger) -> dict[str, Any]:
    """Every row of every bitemporal table."""
    return {
        table: sorted(map(repr, ledger.sql(f"SELECT * FROM {table}").rows))  # noqa: S608
        for table in TABLES
    }


# -- the tables' answer and the fold's ------------------------------------------------


Rows = dict[str, list[dict[str, Any]]]


def every_version(ledger: Ledger) -> Rows:
    """Every row of every table, as an analyst reads them (``ledger sql``)."""
    found = {}
    for table in TABLES:
        answer = ledger.sql(f"SELECT * FROM {table}")  # noqa: S608
        found[table] = [dict(zip(answer.columns, row, strict=True)) for row in answer.rows]
    return found


def believed(rows: Rows, table: str, name: str, day: date, moment: datetime) -> list[dict]:
    """The rows of ``table`` for ``name`` valid on ``day`` and believed at ``moment``, by
    the README's rule: ``valid_from <= D < valid_to``, ``recorded_from <= T < recorded_to``
    (compared as text, as SQL compares them)."""
    on, at = day.isoformat(), moment_text(moment)
    return [
        r
        for r in rows[table]
        if r["agreement"] == name
        and r["valid_from"] <= on < r["valid_to"]
        and r["recorded_from"] <= at < r["recorded_to"]
    ]


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def from_tables(rows: Rows, name: str, day: date, moment: datetime) -> dict[tuple, tuple]:
    """What the tables say of ``name`` on ``day`` as known at ``moment``."""
    found: dict[tuple, tuple] = {}
    for r in believed(rows, "clause_versions", name, day, moment):
        kind = ClauseKind(r["kind"])
        found[("clause", r["clause_id"])] = (
            kind,
            stored_terms(kind, json.loads(r["terms"])),
            _day(r["in_force_since"]),
            r["since_precision"],
            _day(r["until"]),
            _day(r["amended_on"]),
            r["confidence"],
            r["caused_by"],
        )
    for r in believed(rows, "stake_versions", name, day, moment):
        found[("stake", r["holder"], r["entity"])] = (
            Decimal(r["percent"]),
            _day(r["since"]),
            r["since_precision"],
            r["caused_by"],
        )
    for r in believed(rows, "investment_totals", name, day, moment):
        found[("total", r["investor"], r["recipient"], r["currency"])] = (
            Decimal(r["amount"]),
            tuple(json.loads(r["instruments"])),
            r["caused_by"],
        )
    for r in believed(rows, "governance_events", name, day, moment):
        found[("governance", r["event"])] = (
            r["kind"],
            _day(r["effective_on"]),
            r["date_precision"],
            r["entity"],
            tuple(json.loads(r["people"])),
            r["description"],
            tuple(json.loads(r["approved_by"])),
            r["confidence"],
        )
    for r in believed(rows, "renegotiation_versions", name, day, moment):
        found[("renegotiation", r["renegotiation_id"])] = (
            r["status"],
            tuple(json.loads(r["topics"])),
            r["initiated_by"],
            _day(r["opened_on"]),
            r["opened_precision"],
            _day(r["closed_on"]),
        )
    for r in believed(rows, "proposal_versions", name, day, moment):
        found[("proposal", r["renegotiation_id"], r["proposal_id"])] = (
            r["proposed_by"],
            _day(r["proposed_on"]),
            r["proposed_precision"],
            r["status"],
            tuple(structure_change(c) for c in json.loads(r["changes"])),
            r["caused_by"],
        )
    for r in believed(rows, "terminations", name, day, moment):
        found[("terminated",)] = (r["event"], _day(r["terminated_on"]), r["precision"], r["reason"])
    return found


def from_state(state: AgreementState) -> dict[tuple, tuple]:
    """The same facts, from a folded state."""
    found: dict[tuple, tuple] = {}
    for c in state.clauses.values():
        found[("clause", c.id)] = (
            c.kind,
            c.terms,
            c.in_force_since,
            c.since_precision.value,
            c.until,
            c.amended_on,
            c.confidence.value,
            c.caused_by[-1],
        )
    for s in state.stakes.values():
        found[("stake", s.holder, s.entity)] = (
            s.percent.value,
            s.since,
            s.since_precision.value,
            s.caused_by,
        )
    for t in state.investments.values():
        found[("total", t.investor, t.recipient, t.total.currency)] = (
            t.total.amount,
            tuple(i.value for i in t.instruments),
            t.caused_by[-1],
        )
    for g in state.governance:
        found[("governance", g.id)] = (
            g.kind.value,
            g.effective_on,
            g.date_precision.value,
            g.entity,
            g.people,
            g.description,
            g.approved_by,
            g.confidence.value,
        )
    for r in state.renegotiations.values():
        found[("renegotiation", r.id)] = (
            r.status.value,
            r.topics,
            r.initiated_by,
            r.opened_on,
            r.opened_precision.value,
            r.closed_on,
        )
        for p in r.proposals:
            found[("proposal", r.id, p.id)] = (
                p.by,
                p.proposed_on,
                p.proposed_precision.value,
                p.status.value,
                p.changes,
                p.caused_by,
            )
    if state.terminated is not None:
        ended = state.terminated
        found[("terminated",)] = (ended.event, ended.on, ended.precision.value, ended.reason)
    return found


def folded(ledger: Ledger, name: str, day: date, moment: datetime) -> AgreementState | None:
    """The plain fold of the whole log (``None`` where it has no state to give)."""
    try:
        return state_at(name, ledger.log(name).records, day, moment)
    except LedgerError:
        return None


# -- the laws -------------------------------------------------------------------------


@pytest.fixture
def store_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory)


def assert_tables_are_the_fold(ledger: Ledger, batches: list[tuple[str, list[Fact]]]) -> None:
    times = record(ledger, batches)
    if not times:
        return
    rows = every_version(ledger)
    for name in ledger.agreements():
        facts = [f for n, batch in batches if n == name for f in batch]
        for day, moment in questions(facts, times):
            state = folded(ledger, name, day, moment)
            expected = {} if state is None else from_state(state)
            assert from_tables(rows, name, day, moment) == expected, (name, day, moment)


@LAWS
@given(batches=portfolios())
def test_every_table_says_what_the_fold_says(store_dir: Path, batches) -> None:
    """On every date, as known at every time, for every agreement (SQLite)."""
    path = store_dir / f"{len(list(store_dir.iterdir()))}.sqlite"
    with Ledger(str(path), clock=Clock()) as ledger:
        assert_tables_are_the_fold(ledger, batches)


@pytest.mark.postgres
@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=portfolios())
def test_every_table_says_what_the_fold_says_on_postgresql(postgres_server: str, batches) -> None:
    """The same law on PostgreSQL."""
    with fresh_schema(postgres_server) as url, Ledger(url, clock=Clock()) as ledger:
        assert_tables_are_the_fold(ledger, batches)


def moments(times: list[datetime]) -> list[datetime]:
    return [T0, *times, times[-1] + timedelta(days=1)]


def assert_questions_are_the_fold(ledger: Ledger, batches: list[tuple[str, list[Fact]]]) -> None:
    times = record(ledger, batches)
    if not times:
        return
    names = ledger.agreements()
    facts = [f for _, batch in batches for f in batch]
    dated = [f for f in facts if isinstance(f, DatedEvent)]
    days = sorted({f.effective_on for f in dated})
    for moment in moments(times)[-3:]:
        for day in (days[0], days[len(days) // 2], days[-1] + timedelta(days=1)):
            states = {n: folded(ledger, n, day, moment) for n in names}
            for kind in ClauseKind:
                conditions = [parse_condition(c, kind) for c in CONDITIONS.get(kind.value, [])]
                for chosen in ([], conditions):
                    texts = [str(c) for c in chosen]
                    expected = sorted(
                        (n, c.id)
                        for n, s in states.items()
                        if s is not None
                        for c in s.clauses.values()
                        if c.kind is kind and matches(unstructure_terms(c.terms), chosen)
                    )
                    got = [
                        (c.agreement, c.clause_id)
                        for c in ledger.find(kind.value, on=day, terms=texts, known_at=moment)
                    ]
                    assert sorted(got) == expected, (kind, texts, day, moment)
            for party in PARTIES:
                try:
                    holdings = ledger.holdings(party, on=day, known_at=moment)
                except InputError:  # never a holder or an investor anywhere
                    holdings = Holdings(party, day, (), ())
                assert sorted(
                    (s.agreement, s.entity, s.percent) for s in holdings.stakes
                ) == sorted(
                    (n, k.entity, k.percent.value)
                    for n, s in states.items()
                    if s is not None
                    for k in s.stakes.values()
                    if k.holder == party
                )
                assert sorted(
                    (i.agreement, i.recipient, i.currency, i.amount) for i in holdings.investments
                ) == sorted(
                    (n, t.recipient, t.total.currency, t.total.amount)
                    for n, s in states.items()
                    if s is not None
                    for t in s.investments.values()
                    if t.investor == party
                )
            assert_expiring_is_the_fold(ledger, names, dated, day, moment)


def assert_expiring_is_the_fold(
    ledger: Ledger, names: list[str], dated: list[DatedEvent], day: date, moment: datetime
) -> None:
    """A clause's last day in force is one it is in force and the next it is not; such
    a day is the eve of an event's date or an ``until``."""
    within = 60
    ends = {f.effective_on - timedelta(days=1) for f in dated}
    for fact in dated:
        for change in [*getattr(fact, "clauses", ()), *getattr(fact, "changes", ())]:
            if getattr(change, "until", None) is not None:
                ends.add(change.until)
    expected = set()
    for last in sorted(e for e in ends if day <= e <= day + timedelta(days=within)):
        for name in names:
            today, tomorrow = (
                folded(ledger, name, d, moment) for d in (last, last + timedelta(days=1))
            )
            if today is None:
                continue
            after = set() if tomorrow is None else set(tomorrow.clauses)
            expected |= {(name, c, last) for c in today.clauses if c not in after}
    got = {
        (e.clause.agreement, e.clause.clause_id, e.last_day)
        for e in ledger.expiring(within=within, on=day, known_at=moment)
    }
    assert got == expected, (day, moment)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=portfolios())
def test_the_portfolio_questions_answer_what_folding_each_agreement_answers(
    store_dir: Path, batches
) -> None:
    """find (with and without term conditions), holdings and expiring, across agreements."""
    path = store_dir / f"{len(list(store_dir.iterdir()))}.sqlite"
    with Ledger(str(path), clock=Clock()) as ledger:
        assert_questions_are_the_fold(ledger, batches)


@pytest.mark.postgres
@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=portfolios())
def test_the_portfolio_questions_on_postgresql(postgres_server: str, batches) -> None:
    """The same questions on PostgreSQL."""
    with fresh_schema(postgres_server) as url, Ledger(url, clock=Clock()) as ledger:
        assert_questions_are_the_fold(ledger, batches)


def test_a_clause_until_the_calendars_last_day_never_ends(tmp_path: Path) -> None:
    """``until: 9999-12-31`` has no day after it: its version stays open."""
    from strategies import amendment, document, opening
    from test_properties import facts_of

    facts = facts_of(
        document(
            [
                opening(date(2020, 1, 1), []),
                amendment(
                    date(2021, 1, 1),
                    {
                        "add": {
                            "id": "forever",
                            "kind": "custom",
                            "terms": {"text": "to the end of time"},
                            "until": "9999-12-31",
                        }
                    },
                ),
            ]
        )
    )
    with Ledger(str(tmp_path / "ledger.sqlite")) as ledger:
        ledger.append(list(facts), agreement=AGREEMENT)
        rows = ledger.sql("SELECT valid_from, valid_to, until FROM clause_versions_now").rows
        assert rows == (("2021-01-01", "9999-12-31", "9999-12-31"),)
        assert [c.clause_id for c in ledger.find("custom", on=date(9000, 1, 1))] == ["forever"]
        assert ledger.expiring(within=30, on=date(9999, 11, 1)) == []
