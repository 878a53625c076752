"""One suite, every store: in memory, a SQLite file and PostgreSQL behave the same.

Each test runs against ``store_url`` (memory / sqlite / postgres); PostgreSQL tests get a
schema of their own (see ``conftest.py``).
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import attrs
import pytest

from ledger import (
    DateOutOfRange,
    InputError,
    Ledger,
    RuleViolation,
    structure_fact,
)

AGREEMENT = "acme-globex"
SOURCE = {"citation": "Board minutes", "confidence": "confirmed"}
START = datetime(2030, 1, 1, tzinfo=UTC)


def event(type_: str, on: str, **fields: Any) -> Any:
    """A fact from its file form."""
    return structure_fact({"type": type_, "effective_on": on, "source": SOURCE, **fields})


def opening(on: str = "2020-01-01") -> Any:
    return event(
        "agreement_opened",
        on,
        agreement=AGREEMENT,
        title="Acme–Globex cloud deal",
        parties=[{"id": "acme", "name": "Acme"}, {"id": "globex", "name": "Globex"}],
        clauses=[
            {
                "id": "cloud-exclusivity",
                "kind": "exclusivity",
                "terms": {"holder": "acme", "grantor": "globex", "exclusive": True},
            }
        ],
    )


def investment(on: str, amount: str, investor: str = "acme") -> Any:
    return event(
        "investment",
        on,
        investor=investor,
        recipient="globex",
        amount={"amount": amount, "currency": "USD"},
        instrument="equity",
    )


def stake(on: str, holder: str, percent: str) -> Any:
    return event("ownership_change", on, holder=holder, entity="globex", percent=percent)


def removal(on: str, clause: str = "cloud-exclusivity") -> Any:
    return event("amendment", on, changes=[{"remove": clause}])


class Clock:
    """An injectable clock: one second later at every reading, from 2030-01-01."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(store_url: str, clock: Clock) -> Iterator[Ledger]:
    with Ledger(store_url, clock=clock) as opened:
        yield opened


def invested(ledger: Ledger, on: date, known_at: datetime | None = None) -> Decimal:
    state = ledger.state_at(on, known_at=known_at)
    total = state.investments.get(("acme", "globex", "USD"))
    return total.total.amount if total else Decimal(0)


def stakes(ledger: Ledger, on: date) -> dict[str, Decimal]:
    state = ledger.state_at(on)
    return {holder: s.percent.value for (holder, _), s in state.stakes.items()}


def in_force(ledger: Ledger, on: date, known_at: datetime | None = None) -> list[str]:
    return [c.id for c in ledger.state_at(on, known_at=known_at).clauses_in_force()]


def state_on(ledger: Ledger, on: date) -> Any:
    """The state on ``on`` as known now, without the (clock-dependent) ``known_at``."""
    return attrs.evolve(ledger.state_at(on), known_at=None)


def stored_rows(ledger: Ledger) -> list[tuple[Any, ...]]:
    """Every row of the store, as the library's recorder returns it."""
    recorder = ledger._app.recorder
    return [
        (n.id, str(n.originator_id), n.originator_version, n.topic, bytes(n.state))
        for n in recorder.select_notifications(start=1, limit=1_000_000)
    ]


def test_append_and_replay_to_dates(ledger: Ledger) -> None:
    appended = ledger.append(
        [opening(), investment("2020-06-01", "100"), stake("2020-06-01", "acme", "20")]
    )
    ledger.append([investment("2021-01-01", "50.5"), removal("2021-06-01")])

    assert [a.id for a in appended] == [f"{AGREEMENT}#1", f"{AGREEMENT}#2", f"{AGREEMENT}#3"]
    assert ledger.agreements() == [AGREEMENT]
    assert invested(ledger, date(2020, 3, 1)) == 0
    assert in_force(ledger, date(2020, 3, 1)) == ["cloud-exclusivity"]
    assert invested(ledger, date(2020, 12, 31)) == 100
    assert stakes(ledger, date(2020, 12, 31)) == {"acme": 20}
    assert invested(ledger, date(2021, 1, 1)) == Decimal("150.5")
    assert in_force(ledger, date(2021, 5, 31)) == ["cloud-exclusivity"]
    assert in_force(ledger, date(2021, 6, 1)) == []
    assert ledger.state_at(date(2021, 6, 1)).events_applied == 5
    with pytest.raises(DateOutOfRange, match="2020-01-01"):
        ledger.state_at(date(2019, 12, 31))


def test_backdated_event_replays_in_effective_order(ledger: Ledger) -> None:
    ledger.append([opening(), investment("2022-01-01", "10")])
    ledger.append([investment("2020-02-01", "1")])  # recorded later, effective earlier

    assert invested(ledger, date(2020, 2, 1)) == 1
    assert invested(ledger, date(2021, 12, 31)) == 1
    assert invested(ledger, date(2022, 1, 1)) == 11
    assert [e.id for e in ledger.history()] == [
        f"{AGREEMENT}#1",
        f"{AGREEMENT}#3",
        f"{AGREEMENT}#2",
    ]


def test_known_at(ledger: Ledger, clock: Clock) -> None:
    ledger.append([opening(), investment("2020-06-01", "100")])
    before = clock()  # a moment after the first append, before the second
    ledger.append([investment("2020-03-01", "7"), removal("2020-09-01")])

    assert invested(ledger, date(2020, 12, 31), known_at=before) == 100
    assert in_force(ledger, date(2020, 12, 31), known_at=before) == ["cloud-exclusivity"]
    assert invested(ledger, date(2020, 12, 31)) == 107
    assert in_force(ledger, date(2020, 12, 31)) == []
    recorded = {e.id: e.recorded_at for e in ledger.history()}
    assert recorded[f"{AGREEMENT}#3"] == recorded[f"{AGREEMENT}#4"]  # one time per append
    assert recorded[f"{AGREEMENT}#2"] < before < recorded[f"{AGREEMENT}#3"]
    with pytest.raises(DateOutOfRange):
        ledger.state_at(date(2020, 12, 31), known_at=START)  # before anything was recorded


def test_corrections_and_retractions(ledger: Ledger, clock: Clock) -> None:
    ledger.append([opening(), investment("2020-06-01", "100"), investment("2020-07-01", "5")])
    before = clock()
    ledger.append(
        [
            structure_fact(
                {
                    "type": "correction",
                    "corrects": f"{AGREEMENT}#2",
                    "reason": "the figure was 1000",
                    "source": SOURCE,
                    "replacement": {
                        "type": "investment",
                        "effective_on": "2020-06-02",
                        "investor": "acme",
                        "recipient": "globex",
                        "amount": {"amount": "1000", "currency": "USD"},
                        "instrument": "equity",
                        "source": SOURCE,
                    },
                }
            ),
            structure_fact(
                {
                    "type": "retraction",
                    "retracts": f"{AGREEMENT}#3",
                    "reason": "never happened",
                    "source": SOURCE,
                }
            ),
        ]
    )

    assert invested(ledger, date(2020, 12, 31), known_at=before) == 105
    assert invested(ledger, date(2020, 12, 31)) == 1000
    assert invested(ledger, date(2020, 6, 1)) == 0  # the replacement takes effect a day later
    assert ledger.state_at(date(2020, 12, 31)).events_applied == 2  # opening + replacement
    withdrawn = {e.id: e.withdrawn_by for e in ledger.history()}
    assert withdrawn[f"{AGREEMENT}#2"] == f"{AGREEMENT}#4"
    assert withdrawn[f"{AGREEMENT}#3"] == f"{AGREEMENT}#5"
    assert [e.id for e in ledger.history(known_at=before)] == [
        f"{AGREEMENT}#1",
        f"{AGREEMENT}#2",
        f"{AGREEMENT}#3",
    ]
    assert ledger.verify() == 5


REFUSED: dict[str, tuple[Callable[[], list[Any]], str]] = {
    "investor not a party": (
        lambda: [investment("2021-01-01", "1", investor="initech")],
        "investor",
    ),
    "dated before the opening": (lambda: [investment("2019-12-31", "1")], "2020-01-01"),
    "clause not in force": (lambda: [removal("2021-01-01", "no-such-clause")], "not in force"),
    "stakes over 100": (lambda: [stake("2021-01-01", "globex", "80.5")], "100"),
    "bad event after a good one": (
        lambda: [investment("2021-01-01", "3"), investment("2021-01-02", "4", investor="initech")],
        "event 2",
    ),
    "backdated removal breaks a later amendment": (
        lambda: [removal("2020-02-01")],
        "not in force",
    ),
    "retraction of an unknown event": (
        lambda: [
            structure_fact(
                {
                    "type": "retraction",
                    "retracts": f"{AGREEMENT}#99",
                    "reason": "?",
                    "source": SOURCE,
                }
            )
        ],
        "#99",
    ),
    "a second opening": (lambda: [opening("2020-01-01")], "already"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_append_leaves_the_store_unchanged(ledger: Ledger, case: str) -> None:
    ledger.append([opening(), investment("2020-06-01", "100"), stake("2020-06-01", "acme", "20")])
    ledger.append(
        [
            removal("2020-09-01"),
            event(
                "amendment",
                "2020-10-01",
                changes=[
                    {
                        "add": {
                            "id": "cloud-exclusivity",
                            "kind": "exclusivity",
                            "terms": {"holder": "acme"},
                        }
                    }
                ],
            ),
        ]
    )
    ledger.append(
        [
            event(
                "amendment",
                "2021-03-01",
                changes=[{"amend": "cloud-exclusivity", "terms": {"exclusive": False}}],
            )
        ]
    )
    rows = stored_rows(ledger)
    history = ledger.history()
    state = state_on(ledger, date(2022, 1, 1))

    facts, message = REFUSED[case]
    with pytest.raises(InputError, match=message):
        ledger.append(facts())

    assert stored_rows(ledger) == rows
    assert ledger.history() == history
    assert state_on(ledger, date(2022, 1, 1)) == state
    assert ledger.verify() == len(rows)


def test_rule_violation_names_the_event_and_field(ledger: Ledger) -> None:
    ledger.append([opening()])
    with pytest.raises(RuleViolation) as refused:
        ledger.append(
            [investment("2021-01-01", "3"), investment("2021-01-02", "4", investor="initech")]
        )
    assert refused.value.event_index == 2
    assert refused.value.path == "investor"


def test_verify_counts_every_event(ledger: Ledger) -> None:
    assert ledger.verify() == 0
    ledger.append([opening()])
    for n in range(1, 6):
        ledger.append([investment(f"2020-0{n}-02", str(n))])
    assert ledger.verify() == 6
    digests = [e.digest for e in sorted(ledger.history(), key=lambda e: e.version)]
    assert len(set(digests)) == 6


def test_reopened_store_replays_the_same(durable_store_url: str, clock: Clock) -> None:
    with Ledger(durable_store_url, clock=clock) as first:
        first.append([opening(), investment("2020-06-01", "100"), removal("2021-01-01")])
        state = state_on(first, date(2021, 6, 1))
        rows = stored_rows(first)
    with Ledger(durable_store_url, must_exist=True, clock=clock) as again:
        assert stored_rows(again) == rows
        assert state_on(again, date(2021, 6, 1)) == state
        assert again.verify() == 3


def test_cli_on_every_durable_store(
    durable_store_url: str, run_cli: Callable[..., Any], tmp_path: Any
) -> None:
    loaded = run_cli("--store", durable_store_url, "init", "--example", "openai-microsoft")
    assert loaded.returncode == 0, loaded.stderr
    again = run_cli("--store", durable_store_url, "init", "--example", "openai-microsoft")
    assert again.returncode == 2
    assert len(again.stderr.strip().splitlines()) == 1
    verified = run_cli("--store", durable_store_url, "verify")
    assert verified.returncode == 0, verified.stderr
    replayed = run_cli("--store", durable_store_url, "replay", "--as-of", "2019-12-31", "--json")
    assert replayed.returncode == 0, replayed.stderr
    assert '"agreement": "openai-microsoft"' in replayed.stdout


def with_password(url: str, secret: str, path: str | None = None) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username or 'postgres'}:{secret}@{parts.hostname}:{parts.port or 5432}"
    query = parts.query if path is None else ""
    return urlunsplit((parts.scheme, netloc, parts.path if path is None else path, query, ""))


@pytest.mark.postgres
def test_postgres_password_never_shown(postgres_url: str, run_cli: Callable[..., Any]) -> None:
    secret = f"pw-{uuid.uuid4().hex[:8]}"  # trust authentication: any password connects
    done = run_cli(
        "--store", with_password(postgres_url, secret), "init", "--example", "openai-microsoft"
    )
    assert done.returncode == 0, done.stderr
    assert "schema=" in done.stdout
    assert secret not in done.stdout + done.stderr


@pytest.mark.postgres
def test_postgres_wrong_database_fails_fast(
    postgres_server: str, run_cli: Callable[..., Any]
) -> None:
    parts = urlsplit(postgres_server)
    database = f"no_such_db_{uuid.uuid4().hex[:6]}"
    secret = f"pw-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    failed = run_cli(
        "--store",
        with_password(postgres_server, secret, f"/{database}"),
        "replay",
        "--as-of",
        "2024-01-01",
    )
    elapsed = time.monotonic() - started

    assert failed.returncode == 1
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1, failed.stderr
    assert "Traceback" not in failed.stderr
    assert f"{parts.hostname}:{parts.port or 5432}/{database}" in lines[0]
    assert "does not exist" in lines[0]
    assert secret not in failed.stdout + failed.stderr
    assert elapsed < 10


def test_an_unreachable_server_fails_fast_naming_host_port_and_database(
    run_cli: Callable[..., Any],
) -> None:
    """Nothing listens on the port: one line naming where, in well under the pool's 6 s."""
    pytest.importorskip("psycopg")
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    started = time.monotonic()
    failed = run_cli(
        "--store",
        f"postgresql://someone@127.0.0.1:{port}/nowhere",
        "replay",
        "--as-of",
        "2024-01-01",
    )
    elapsed = time.monotonic() - started
    assert failed.returncode == 1
    [line] = failed.stderr.strip().splitlines()
    assert f"cannot reach PostgreSQL at 127.0.0.1:{port}/nowhere as user someone: " in line
    assert elapsed < 5
