"""Concurrent writers: many processes append to one agreement at once.

Every append either lands or is refused by a rule — never lost, never duplicated — and
the chain still verifies. Each worker process ('spawn') appends investments of amounts
no other append uses, so each one can be traced in the final store. Some appends are
designed to be refused:

* every tenth is dated before the agreement opened (always refused);
* every tenth (another step) retracts one of a few "contested" investments that every
  worker tries to retract at about the same time: exactly one retraction per contested
  investment may land, the others must be refused ("not yet withdrawn") — a lost update
  would let two land.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from ledger import Investment, Ledger, Retraction, structure_fact

AGREEMENT = "acme-globex"
SOURCE = {"citation": "Load test", "confidence": "confirmed"}
OPENED_ON = date(2020, 1, 1)
REFUSED_STEP = 9  # step % 10: dated before the opening
CONTESTED_STEP = 4  # step % 10: retract the contested investment number step // 10


def investment(on: date, amount: int) -> Any:
    return structure_fact(
        {
            "type": "investment",
            "effective_on": on.isoformat(),
            "investor": "acme",
            "recipient": "globex",
            "amount": {"amount": str(amount), "currency": "USD"},
            "instrument": "equity",
            "source": SOURCE,
        }
    )


def amount_of(worker: int, step: int) -> int:
    """A distinct amount for every append of the test."""
    return (worker + 1) * 1000 + step


def append_worker(
    store: str, worker: int, steps: int, contested: list[str], barrier: Any, results: Any
) -> None:
    """One writer: ``steps`` appends, each reported as landed, refused, given up or failed."""
    from ledger import ConcurrencyError, InputError

    landed: list[tuple[str, int, str]] = []
    refused: list[tuple[str, int, str]] = []
    gave_up: list[tuple[str, int, str]] = []
    failed: list[str] = []
    with Ledger(store) as ledger:
        ledger.agreements()  # connected before the race starts
        barrier.wait(timeout=120)
        for step in range(steps):
            amount = amount_of(worker, step)
            if step % 10 == REFUSED_STEP:
                kind, fact = "early", investment(OPENED_ON - timedelta(days=1 + step), amount)
            elif step % 10 == CONTESTED_STEP and step // 10 < len(contested):
                target = contested[step // 10]
                kind = "retraction"
                fact = structure_fact(
                    {
                        "type": "retraction",
                        "retracts": target,
                        "reason": f"w{worker}",
                        "source": SOURCE,
                    }
                )
            else:
                kind = "investment"
                fact = investment(OPENED_ON + timedelta(days=amount % 1500), amount)
            try:
                appended = ledger.append([fact], agreement=AGREEMENT)
            except InputError as error:
                refused.append((kind, amount, str(error)))
            except ConcurrencyError as error:  # retries exhausted: nothing written
                gave_up.append((kind, amount, str(error)))
            except Exception as error:  # a lost append: reported, and the test fails
                failed.append(f"{kind} {amount}: {type(error).__name__}: {error}")
            else:
                landed.append((kind, amount, appended[0].id))
    results.put((worker, landed, refused, gave_up, failed))


def run_writers(store: str, workers: int, steps: int) -> dict[str, Any]:
    """Open the agreement, start the writers together, check the store; the figures."""
    contested_count = steps // 10
    with Ledger(store) as ledger:
        opening = structure_fact(
            {
                "type": "agreement_opened",
                "effective_on": OPENED_ON.isoformat(),
                "agreement": AGREEMENT,
                "title": "Acme–Globex",
                "parties": [{"id": "acme", "name": "Acme"}, {"id": "globex", "name": "Globex"}],
                "source": SOURCE,
            }
        )
        setup = ledger.append(
            [opening, *(investment(OPENED_ON, 10 + n) for n in range(contested_count))]
        )
    contested = [a.id for a in setup[1:]]

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    results = context.Queue()
    processes = [
        context.Process(target=append_worker, args=(store, w, steps, contested, barrier, results))
        for w in range(workers)
    ]
    started = time.monotonic()
    for process in processes:
        process.start()
    reports = [results.get(timeout=240) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    elapsed = time.monotonic() - started

    landed = [item for report in reports for item in report[1]]
    refused = [item for report in reports for item in report[2]]
    gave_up = [item for report in reports for item in report[3]]
    failed = [item for report in reports for item in report[4]]
    attempted = workers * steps
    assert failed == [], (len(failed), failed[:3])
    # Every append lands or is refused by a rule: giving up on a conflict is neither.
    assert gave_up == [], (len(gave_up), gave_up[:3])
    assert len(landed) + len(refused) == attempted

    with Ledger(store) as ledger:
        history = ledger.history()
        checked = ledger.verify()
        state = ledger.state_at(date(2030, 1, 1))

    # Every landed append is in the store exactly once, under the id it was given.
    by_id = {entry.id: entry for entry in history}
    assert len(by_id) == len(history) == 1 + contested_count + len(landed)
    assert checked == len(history)
    versions = sorted(entry.version for entry in history)
    assert versions == list(range(1, len(history) + 1))  # no gap, no duplicate
    assert len({event_id for _, _, event_id in landed}) == len(landed)
    stored_amounts = Counter(
        int(entry.fact.amount.amount)
        for entry in history
        if isinstance(entry.fact, Investment) and entry.fact.amount.amount >= 1000
    )
    duplicated = [amount for amount, count in stored_amounts.items() if count > 1]
    landed_amounts = {amount for kind, amount, _ in landed if kind == "investment"}
    lost = landed_amounts - set(stored_amounts)
    assert duplicated == []
    assert lost == set()
    assert set(stored_amounts) == landed_amounts  # nothing refused slipped in
    for kind, amount, event_id in landed:
        fact = by_id[event_id].fact
        if kind == "investment":
            assert isinstance(fact, Investment)
            assert fact.amount.amount == amount

    # Refusals are the designed ones: early dates always, contested retractions all but one.
    assert {kind for kind, _, _ in refused} <= {"early", "retraction"}
    early = [amount for kind, amount, _ in refused if kind == "early"]
    assert len(early) == workers * (steps // 10)
    assert all("opened" in message for kind, _, message in refused if kind == "early")
    retractions = Counter(
        entry.fact.retracts for entry in history if isinstance(entry.fact, Retraction)
    )
    assert retractions == dict.fromkeys(contested, 1)
    assert len([k for k, _, _ in landed if k == "retraction"]) == contested_count
    assert len([k for k, _, _ in refused if k == "retraction"]) == contested_count * (workers - 1)
    assert all("withdrawn" in message for kind, _, message in refused if kind == "retraction")

    # The state folds exactly the landed investments (the contested ones are retracted).
    total = state.investments[("acme", "globex", "USD")].total.amount
    assert total == sum(Decimal(a) for a in landed_amounts)

    return {
        "workers": workers,
        "appends": attempted,
        "landed": len(landed),
        "refused": len(refused),
        "gave_up": len(gave_up),
        "lost": len(lost),
        "duplicated": len(duplicated),
        "events": checked,
        "seconds": round(elapsed, 1),
    }


def test_four_processes_on_sqlite(sqlite_store: str, record_property: Any) -> None:
    figures = run_writers(sqlite_store, workers=4, steps=50)
    record_property("figures", figures)
    print(f"\nSQLite concurrency: {figures}")


@pytest.mark.postgres
def test_eight_processes_on_postgres(postgres_url: str, record_property: Any) -> None:
    figures = run_writers(postgres_url, workers=8, steps=50)
    record_property("figures", figures)
    print(f"\nPostgreSQL concurrency: {figures}")
