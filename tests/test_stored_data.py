"""Stored data outlives code: a store written by version 0.1 still opens and replays.

``tests/data/openai-microsoft-v1.sqlite`` was written once by
``ledger init --example openai-microsoft`` (contract-ledger 0.1.0, eventsourcing 9.5)
and is never rewritten: each test opens a copy. When a stored event's shape changes, the
fact class raises its ``class_version`` and gains ``upcast_v1_v2(state)``; the mapper
upcasts old rows as it reads them (exercised below with a stand-in version 2).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledger import DateOutOfRange, Investment, Ledger, structure_fact
from ledger.readmodel.sql import SCHEMA_VERSION

DATA = Path(__file__).parent / "data" / "openai-microsoft-v1.sqlite"
AGREEMENT = "openai-microsoft"
RECORDED_AT = datetime(2026, 11, 24, 21, 3, 39, 898340, tzinfo=UTC)
ALL_CLAUSES = [
    "agi-clause",
    "azure-exclusivity",
    "azure-revenue-share",
    "microsoft-ip-rights",
    "microsoft-profit-share",
    "openai-revenue-share",
    "restructuring-veto",
]


@pytest.fixture
def store(tmp_path: Path) -> str:
    """A copy of the committed store (the original is never opened for writing)."""
    copy = tmp_path / "v1.sqlite"
    shutil.copyfile(DATA, copy)
    return str(copy)


@pytest.fixture
def ledger(store: str) -> Iterator[Ledger]:
    with Ledger(store, must_exist=True) as opened:
        yield opened


def rows(path: str, *, immutable: bool = False) -> list[tuple[int, str, dict[str, Any]]]:
    """(version, topic, state) of every row; ``immutable`` opens without touching the file."""
    uri = f"file:{path}?immutable=1" if immutable else f"file:{path}"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
        (table,) = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if "originator_version"
            in {c[1] for c in connection.execute(f'PRAGMA table_info("{name}")')}
        ]
        query = f'SELECT originator_version, topic, state FROM "{table}" ORDER BY rowid'  # noqa: S608 - from sqlite_master
        return [(v, t, json.loads(bytes(s))) for v, t, s in connection.execute(query)]


def test_the_committed_file_is_a_v1_store() -> None:
    assert DATA.is_file()
    assert not Path(f"{DATA}-wal").exists()
    stored = rows(str(DATA), immutable=True)
    assert [v for v, _, _ in stored] == list(range(1, 12))
    assert {t for _, t, _ in stored} == {
        "contract-ledger/agreement_opened",
        "contract-ledger/investment",
        "contract-ledger/governance",
        "contract-ledger/renegotiation_opened",
        "contract-ledger/proposal",
    }
    for _, _, state in stored:
        assert "class_version" not in state  # every fact at version 1
        assert datetime.fromisoformat(state["recorded_at"]) == RECORDED_AT
        assert len(state["digest"]) == 64


def test_opens_and_verifies(ledger: Ledger) -> None:
    assert ledger.agreements() == [AGREEMENT]
    assert ledger.verify() == 11
    history = ledger.history()
    assert [e.id for e in history] == [f"{AGREEMENT}#{n}" for n in range(1, 12)]
    assert [e.fact.TYPE for e in history] == [
        "agreement_opened",
        "investment",
        *["governance"] * 5,
        "renegotiation_opened",
        "proposal",
        "proposal",
        "governance",
    ]
    assert {e.recorded_at for e in history} == {RECORDED_AT}


@pytest.mark.parametrize(
    ("on", "applied", "clauses", "governance", "talks"),
    [
        (date(2019, 7, 1), 2, ALL_CLAUSES, [], {}),
        (
            date(2023, 10, 1),
            6,
            ALL_CLAUSES,
            ["ceo_removed", "ceo_reinstated", "departure", "departure"],
            {},
        ),
        (
            date(2025, 6, 30),
            11,
            ALL_CLAUSES,
            ["ceo_removed", "ceo_reinstated", "departure", "departure", "other", "other"],
            {"2025-terms": ("open", ["pending", "pending"])},
        ),
        (
            date(2030, 12, 31),
            11,
            ALL_CLAUSES,
            ["ceo_removed", "ceo_reinstated", "departure", "departure", "other", "other"],
            {"2025-terms": ("open", ["pending", "pending"])},
        ),
        (
            date(2031, 1, 1),  # the IP rights ran "to 2030"
            11,
            [c for c in ALL_CLAUSES if c != "microsoft-ip-rights"],
            ["ceo_removed", "ceo_reinstated", "departure", "departure", "other", "other"],
            {"2025-terms": ("open", ["pending", "pending"])},
        ),
    ],
)
def test_replays_known_dates(
    ledger: Ledger,
    on: date,
    applied: int,
    clauses: list[str],
    governance: list[str],
    talks: dict[str, Any],
) -> None:
    state = ledger.state_at(on)
    assert state.events_applied == applied
    assert [c.id for c in state.clauses_in_force()] == clauses
    assert [g.kind.value for g in state.governance] == governance
    assert {
        t.id: (t.status.value, [p.status.value for p in t.proposals])
        for t in state.renegotiations.values()
    } == talks
    (total,) = state.investments.values()
    assert (total.investor, total.recipient) == ("microsoft", "openai")
    assert total.total.amount == Decimal("1000000000")
    assert total.total.currency == "USD"
    profit = state.clause_in_force("microsoft-profit-share")
    assert profit is not None
    assert profit.terms.rate.value == Decimal("49")  # type: ignore[union-attr]
    assert profit.terms.cap_multiple == Decimal("10")  # type: ignore[union-attr]


def test_known_at_and_bounds(ledger: Ledger) -> None:
    assert ledger.state_at(date(2025, 6, 30), known_at=RECORDED_AT).events_applied == 11
    with pytest.raises(DateOutOfRange):
        ledger.state_at(date(2025, 6, 30), known_at=RECORDED_AT - timedelta(microseconds=1))
    with pytest.raises(DateOutOfRange, match="2019-07-01"):
        ledger.state_at(date(2019, 6, 30))


def test_cli_replays_the_copy(store: str, run_cli: Callable[..., Any]) -> None:
    done = run_cli("--store", store, "replay", "--as-of", "2023-11-20", "--json")
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout)
    assert state["agreement"] == AGREEMENT
    assert state["as_of"] == "2023-11-20"
    assert state["events_applied"] == 6
    assert state["ownership"]["investments"][0]["total"] == {
        "amount": "1000000000",
        "currency": "USD",
    }
    assert [c["id"] for c in state["clauses"] if c["id"] == "azure-exclusivity"] == [
        "azure-exclusivity"
    ]
    verified = run_cli("--store", store, "verify")
    assert verified.returncode == 0, verified.stderr


def test_appending_to_the_old_store(ledger: Ledger, store: str) -> None:
    new = structure_fact(
        {
            "type": "investment",
            "effective_on": "2023-01-23",
            "investor": "microsoft",
            "recipient": "openai",
            "amount": {"amount": "10000000000", "currency": "USD"},
            "instrument": "profit_interest",
            "source": {"citation": "later", "confidence": "reported"},
        }
    )
    (appended,) = ledger.append([new])
    assert appended.id == f"{AGREEMENT}#12"
    assert ledger.verify() == 12
    total = ledger.state_at(date(2024, 1, 1)).investments[("microsoft", "openai", "USD")]
    assert total.total.amount == Decimal("11000000000")


# -- schema evolution: an upcaster ------------------------------------------------------


def upcast_v1_v2(state: dict[str, Any]) -> None:
    """A stand-in v2 of ``investment``: the note says where a v1 figure came from."""
    state["note"] = f"[v1] {state.get('note') or ''}".rstrip()


@pytest.fixture
def investment_v2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Investment, "class_version", 2)
    monkeypatch.setattr(Investment, "upcast_v1_v2", staticmethod(upcast_v1_v2), raising=False)


def test_upcaster_applies_to_old_rows_only(investment_v2: None, ledger: Ledger, store: str) -> None:
    old = next(e for e in ledger.history() if e.fact.TYPE == "investment")
    assert old.fact.note is not None
    assert old.fact.note.startswith("[v1] July 2019")
    others = [e for e in ledger.history() if e.fact.TYPE != "investment"]
    assert all(not (e.fact.note or "").startswith("[v1]") for e in others)

    new = structure_fact(
        {
            "type": "investment",
            "effective_on": "2023-01-23",
            "investor": "microsoft",
            "recipient": "openai",
            "amount": {"amount": "5", "currency": "USD"},
            "instrument": "equity",
            "note": "written at v2",
            "source": {"citation": "later", "confidence": "reported"},
        }
    )
    ledger.append([new])
    version, _, state = rows(store)[-1]
    assert version == 12
    assert state["class_version"] == 2  # new rows say which shape they have
    fresh = next(e for e in ledger.history() if e.id == f"{AGREEMENT}#12")
    assert fresh.fact.note == "written at v2"  # not upcast again


def test_without_the_upcaster_old_rows_read_as_before(ledger: Ledger) -> None:
    old = next(e for e in ledger.history() if e.fact.TYPE == "investment")
    assert old.fact.note is not None
    assert old.fact.note.startswith("July 2019")


def test_an_upcast_store_still_verifies(investment_v2: None, ledger: Ledger) -> None:
    """The chain covers each event as stored, so upcasting old rows never breaks it."""
    assert ledger.verify() == 11
    assert next(e for e in ledger.history() if e.fact.TYPE == "investment").fact.note.startswith(
        "[v1]"
    )


# -- a store written with the first read model (the timeline index and checkpoints) --------

INDEXED = Path(__file__).parent / "data" / "openai-microsoft-0.1-indexed.sqlite"


@pytest.fixture
def indexed(tmp_path: Path) -> str:
    """A copy of a store written by the version that first kept a read model: the example,
    an amendment and an investment, then a correction (three appends, read model schema 1).
    """
    copy = tmp_path / "indexed.sqlite"
    shutil.copyfile(INDEXED, copy)
    return str(copy)


def test_a_read_model_of_another_schema_is_rebuilt_and_answers_as_the_log_does(
    indexed: str,
) -> None:
    """The old tables are replaced, and every question gets the plain fold's answer, on
    every date of the history and as known at each of its appends."""
    from ledger.domain.timeline import state_at

    with contextlib.closing(sqlite3.connect(indexed)) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
    assert "ledger_checkpoints" in tables
    assert "ledger_meta" not in tables
    with Ledger(indexed, must_exist=True) as ledger:
        records = ledger.log(AGREEMENT).records
        moments = sorted({r.recorded_at for r in records})
        assert len(moments) == 3
        for moment in moments:
            for day in (date(2019, 7, 1), date(2020, 6, 1), date(2023, 1, 23), date(2031, 1, 1)):
                expected = state_at(AGREEMENT, records, day, moment)
                assert ledger.state_at(day, known_at=moment) == expected
        assert ledger.verify() == 14
    with contextlib.closing(sqlite3.connect(indexed)) as connection:
        (version,) = connection.execute(
            "SELECT value FROM ledger_meta WHERE key = 'schema'"
        ).fetchone()
    assert version == SCHEMA_VERSION
