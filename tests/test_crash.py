"""Crashes: a process killed (SIGKILL) while appending a large file leaves all or none of it.

``ledger append`` runs in a subprocess on a 20,000-event JSON file; it is killed at
several moments — once exactly while SQLite is writing the batch (the write-ahead log is
growing), and at fractions of the time an uninterrupted append takes. Each time the
store must hold either none of the file's events or all of them, and still verify.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ledger import Ledger

AGREEMENT = "openai-microsoft"
EVENTS = 20_000
SOURCE = {"citation": "Crash test", "confidence": "confirmed"}


def count(store: Path) -> int:
    with contextlib.closing(sqlite3.connect(store)) as connection:
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if "originator_version"
            in {c[1] for c in connection.execute(f'PRAGMA table_info("{name}")')}
        ]
        assert len(tables) == 1, tables
        query = f'SELECT COUNT(*) FROM "{tables[0]}"'  # noqa: S608 - the name is from sqlite_master
        (rows,) = connection.execute(query).fetchone()
        return int(rows)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    """A store holding the bundled history, and a large file of investments for it."""
    directory = tmp_path_factory.mktemp("crash")
    store = directory / "base.sqlite"
    with Ledger(str(store)) as ledger:
        base = len(ledger.load_example(AGREEMENT))
    big = directory / "big.json"
    events = [
        {
            "type": "investment",
            "effective_on": "2024-01-02",
            "investor": "microsoft",
            "recipient": "openai",
            "amount": {"amount": str(1000 + n), "currency": "USD"},
            "instrument": "equity",
            "source": SOURCE,
        }
        for n in range(EVENTS)
    ]
    big.write_text(json.dumps({"agreement": AGREEMENT, "events": events}))
    return store, big, base


def start(ledger_cmd: list[str], env: dict[str, str], store: Path, big: Path) -> Any:
    return subprocess.Popen(
        [*ledger_cmd, "--store", str(store), "append", str(big)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )


def check_all_or_none(store: Path, base: int) -> str:
    """The store after a crash: all of the file or none of it, and an intact chain."""
    held = count(store)
    assert held in (base, base + EVENTS), f"{held - base} of {EVENTS} events landed"
    with Ledger(str(store)) as ledger:
        assert ledger.verify() == held
        totals = ledger.state_at(date(2024, 1, 2)).investments
        invested = totals[("microsoft", "openai", "USD")].total.amount
    expected_extra = sum(1000 + n for n in range(EVENTS)) if held > base else 0
    assert invested == 1_000_000_000 + expected_extra
    return "all" if held > base else "none"


def test_sigkill_mid_append_leaves_all_or_none(
    setup: tuple[Path, Path, int],
    tmp_path: Path,
    ledger_cmd: list[str],
    cli_env: dict[str, str],
    record_property: Any,
) -> None:
    base_store, big, base = setup

    # An uninterrupted append, for its duration (and to show the file is accepted).
    store = tmp_path / "full.sqlite"
    shutil.copyfile(base_store, store)
    started = time.monotonic()
    done = start(ledger_cmd, cli_env, store, big)
    _, stderr = done.communicate(timeout=120)
    full = time.monotonic() - started
    assert done.returncode == 0, stderr
    assert count(store) == base + EVENTS

    outcomes: list[tuple[str, str]] = []

    # Killed exactly while SQLite writes the batch: the write-ahead log is growing.
    store = tmp_path / "during-write.sqlite"
    shutil.copyfile(base_store, store)
    wal = Path(f"{store}-wal")
    process = start(ledger_cmd, cli_env, store, big)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_size > 256 * 1024:
            break
        time.sleep(0.001)
    assert process.poll() is None, "the append ended before the kill: nothing was tested"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    outcomes.append(("while writing", check_all_or_none(store, base)))

    # Killed at fractions of the uninterrupted duration (parsing, checking, writing).
    for fraction in (0.3, 0.6, 0.9):
        store = tmp_path / f"at-{fraction}.sqlite"
        shutil.copyfile(base_store, store)
        process = start(ledger_cmd, cli_env, store, big)
        time.sleep(full * fraction)
        killed = process.poll() is None
        if killed:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        outcome = check_all_or_none(store, base)
        outcomes.append((f"at {fraction:.0%} ({'killed' if killed else 'had finished'})", outcome))

    record_property("crash outcomes", outcomes)
    print(f"\ncrash: full append {full:.1f}s; outcomes {outcomes}")
    assert any(when.startswith("while") for when, _ in outcomes)


def test_cli_verifies_after_a_crash(
    setup: tuple[Path, Path, int],
    tmp_path: Path,
    ledger_cmd: list[str],
    cli_env: dict[str, str],
) -> None:
    base_store, big, base = setup
    store = tmp_path / "crashed.sqlite"
    shutil.copyfile(base_store, store)
    process = start(ledger_cmd, cli_env, store, big)
    time.sleep(0.5)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    verified = subprocess.run(
        [*ledger_cmd, "--store", str(store), "verify"],
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=60,
        check=False,
    )
    assert verified.returncode == 0, verified.stderr
    assert count(store) in (base, base + EVENTS)
