"""Tamper evidence: any change to a stored event is caught by ``verify``, naming the event.

The store is a SQLite file holding the bundled history plus a correction and a
retraction. A test flips one byte of one stored event's JSON state with ``sqlite3``
(an ``UPDATE`` of the blob, as a tamperer would) in a copy of that file, then asks
``Ledger.verify()`` (or ``ledger verify``) to find it.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ledger import IntegrityFailure, Ledger, structure_fact
from ledger.domain.ids import agreement_uuid

AGREEMENT = "openai-microsoft"
SOURCE = {"citation": "Tamper test", "confidence": "confirmed"}


def events_table(connection: sqlite3.Connection) -> str:
    """The table eventsourcing keeps the events in (its name depends on the library)."""
    tables = [
        name
        for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if "originator_version"
        in {row[1] for row in connection.execute(f'PRAGMA table_info("{name}")')}
    ]
    assert len(tables) == 1, tables
    return tables[0]


def read_rows(path: Path) -> list[tuple[int, int, bytes]]:
    """(rowid, originator_version, state) of every stored event, in storage order."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        table = events_table(connection)
        return [
            (rowid, version, bytes(state))
            for rowid, version, state in connection.execute(
                f'SELECT rowid, originator_version, state FROM "{table}" ORDER BY rowid'  # noqa: S608 - the name comes from sqlite_master
            )
        ]


def write_state(path: Path, rowid: int, state: bytes) -> None:
    connection = sqlite3.connect(path)
    try:
        table = events_table(connection)
        update = f'UPDATE "{table}" SET state = ? WHERE rowid = ?'  # noqa: S608 - from sqlite_master
        connection.execute(update, (state, rowid))
        connection.commit()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store: the bundled history, a correction and a retraction."""
    path = tmp_path_factory.mktemp("tamper") / "pristine.sqlite"
    with Ledger(str(path)) as ledger:
        ledger.load_example(AGREEMENT)
        investment = next(e for e in ledger.history() if e.fact.TYPE == "investment")
        governance = next(e for e in ledger.history() if e.fact.TYPE == "governance")
        ledger.append(
            [
                structure_fact(
                    {
                        "type": "correction",
                        "corrects": investment.id,
                        "reason": "tamper test",
                        "source": SOURCE,
                        "replacement": {
                            "type": "investment",
                            "effective_on": "2019-07-22",
                            "investor": "microsoft",
                            "recipient": "openai",
                            "amount": {"amount": "1000000000.5", "currency": "USD"},
                            "instrument": "equity",
                            "source": SOURCE,
                        },
                    }
                ),
                structure_fact(
                    {
                        "type": "retraction",
                        "retracts": governance.id,
                        "reason": "tamper test",
                        "source": SOURCE,
                    }
                ),
            ],
            agreement=AGREEMENT,
        )
    assert not Path(f"{path}-wal").exists()  # every write is in the file itself
    return path


@pytest.fixture
def copy_of(pristine: Path, tmp_path: Path) -> Callable[[], Path]:
    def make() -> Path:
        target = tmp_path / f"copy-{len(list(tmp_path.iterdir()))}.sqlite"
        shutil.copyfile(pristine, target)
        return target

    return make


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A directory for one Hypothesis example (function fixtures outlive examples)."""
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def verify_failure(path: Path) -> str:
    """The message of the ``IntegrityFailure`` that ``verify`` raises on ``path``."""
    with Ledger(str(path)) as ledger, pytest.raises(IntegrityFailure) as failure:
        ledger.verify()
    return str(failure.value)


def names_event(message: str, version: int, renamed: str | None = None) -> bool:
    """Whether ``message`` names the event: ``openai-microsoft#3`` — or, when the opening
    itself is unreadable and so the agreement's name unknown, its aggregate id ``<uuid>#3``
    (or the ``renamed`` id a tampered opening now gives)."""
    known = [AGREEMENT, str(agreement_uuid(AGREEMENT)), *([renamed] if renamed else [])]
    names = "(" + "|".join(re.escape(name) for name in known) + ")"
    return re.search(rf"(?<![\w-]){names}#{version}(?!\d)", message) is not None


def tampered(pristine: Path, directory: Path, row: int, offset: int, mask: int) -> tuple[Path, int]:
    """A copy of the store with one byte of one event's state XOR-ed with ``mask``."""
    path = directory / f"tampered-{row}-{offset}-{mask}.sqlite"
    shutil.copyfile(pristine, path)
    rowid, version, state = read_rows(path)[row]
    changed = bytearray(state)
    changed[offset % len(state)] ^= mask
    write_state(path, rowid, bytes(changed))
    return path, version


def test_untouched_store_verifies(pristine: Path, copy_of: Callable[[], Path]) -> None:
    path = copy_of()
    before = read_rows(path)
    with Ledger(str(path)) as ledger:
        assert ledger.verify() == len(before) == 13
        assert ledger.verify(AGREEMENT) == 13
    assert read_rows(path) == before  # verifying writes nothing


def test_rewriting_a_row_unchanged_still_verifies(copy_of: Callable[[], Path]) -> None:
    path = copy_of()
    for rowid, _, state in read_rows(path):
        write_state(path, rowid, state)
    with Ledger(str(path)) as ledger:
        assert ledger.verify() == 13


# Single-byte edits of a stored state: the JSON's values, its keys and structure, and the
# recording time in forms ``datetime.fromisoformat`` reads as the same instant.
EDITS = [
    pytest.param(2, b'"amount":"1000000000"', b'"amount":"1000000001"', id="amount-digit"),
    pytest.param(2, b'"recipient":"openai"', b'"recipient":"openaj"', id="recipient-letter"),
    pytest.param(5, b'"digest":"', b'"digest":"', id="digest-char"),  # edited below
    pytest.param(7, b'"recorded_at":"', b'"recorded_at":"', id="recorded-at-year"),
    pytest.param(
        3,
        b"T",
        b" ",
        id="recorded-at-separator",
    ),
    pytest.param(
        3,
        b"+00:00",
        b"-00:00",
        id="recorded-at-offset-sign",
    ),
    pytest.param(
        1,
        b'"agreement":"openai-microsoft"',
        b'"agreement":"openai-microsofu"',
        id="opening-agreement-name",  # reported under the name the tampered row now gives
    ),
    pytest.param(
        4,
        b'"recorded_at"',
        b'"recorded_au"',
        id="key-name",
    ),
    pytest.param(
        4,
        b"{",
        b"[",
        id="json-structure",
    ),
]


@pytest.mark.parametrize(("version", "old", "new"), EDITS)
def test_single_byte_edit(
    copy_of: Callable[[], Path], version: int, old: bytes, new: bytes
) -> None:
    path = copy_of()
    rowid, _, state = next(row for row in read_rows(path) if row[1] == version)
    if old == new:  # edit the first character after the marker
        start = state.index(old) + len(old)
        changed = state[:start] + bytes([state[start] ^ 0x01]) + state[start + 1 :]
    elif old == b"T" or old == b"+00:00":  # inside recorded_at
        at = state.index(b'"recorded_at":"') + len(b'"recorded_at":"')
        start = state.index(old, at)
        changed = state[:start] + new + state[start + len(old) :]
    else:
        assert state.count(old) >= 1
        changed = state.replace(old, new, 1)
    assert len(changed) == len(state)
    assert sum(a != b for a, b in zip(changed, state, strict=True)) == 1
    write_state(path, rowid, changed)

    message = verify_failure(path)
    renamed = b"openai-microsofu" in new
    assert names_event(message, version, "openai-microsofu" if renamed else None), message


@settings(
    max_examples=50,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a failing flip needs no shrinking
)
@given(data=st.data())
def test_any_byte_flip_is_detected_and_named(
    pristine: Path, scratch: Path, data: st.DataObject
) -> None:
    rows = read_rows(pristine)
    row = data.draw(st.integers(0, len(rows) - 1), label="row")
    offset = data.draw(st.integers(0, len(rows[row][2]) - 1), label="offset")
    mask = data.draw(st.integers(1, 255), label="xor mask")
    path, version = tampered(pristine, scratch, row, offset, mask)

    message = verify_failure(path)
    assert names_event(message, version), message


def test_cli_verify(copy_of: Callable[[], Path], run_cli: Callable[..., Any]) -> None:
    intact = copy_of()
    ok = run_cli("--store", str(intact), "verify")
    assert ok.returncode == 0, ok.stderr
    assert "13" in ok.stdout

    broken = copy_of()
    rowid, version, state = read_rows(broken)[5]
    marker = b'"digest":"'
    start = state.index(marker) + len(marker)
    write_state(broken, rowid, state[:start] + bytes([state[start] ^ 0x02]) + state[start + 1 :])
    failed = run_cli("--store", str(broken), "verify")
    assert failed.returncode == 1
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1, failed.stderr
    assert names_event(lines[0], version), lines[0]
    assert "Traceback" not in failed.stderr


def test_cli_verify_names_an_unreadable_event(
    copy_of: Callable[[], Path], run_cli: Callable[..., Any]
) -> None:
    broken = copy_of()
    rowid, version, state = read_rows(broken)[3]
    write_state(broken, rowid, b"[" + state[1:])  # no longer a JSON object
    failed = run_cli("--store", str(broken), "verify")
    assert failed.returncode == 1
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1, failed.stderr
    assert names_event(lines[0], version), lines[0]
