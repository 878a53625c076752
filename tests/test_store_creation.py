"""A command that creates a store owns only what it created (issue 11, §1).

A refused write to a store that did not exist leaves nothing behind, and never removes a
store that another process created in the meantime.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]

OPENING = {
    "type": "agreement_opened",
    "effective_on": "2020-01-01",
    "title": "Acme and Globex",
    "parties": [{"id": "acme", "name": "Acme"}, {"id": "globex", "name": "Globex"}],
    "source": {"citation": "test", "confidence": "confirmed"},
}


def _refused_at_the_end(events: int) -> str:
    """A file of ``events`` investments that the rules refuse at its last event only."""
    rows = [OPENING] + [
        {
            "type": "investment",
            "effective_on": "2020-02-01",
            "investor": "acme",
            "recipient": "globex",
            "amount": {"amount": "1", "currency": "USD"},
            "instrument": "equity",
            "source": {"citation": "test", "confidence": "confirmed"},
        }
        for _ in range(events)
    ]
    rows[-1] = {**rows[-1], "investor": "nobody"}  # not a party: refused by the fold
    return json.dumps({"agreement": "acme-globex", "events": rows})


def _events_in(run_cli: Run, store: Path) -> int:
    shown = run_cli("--store", str(store), "history", "--json")
    assert shown.returncode == 0, shown.stderr
    return len(json.loads(shown.stdout))


class TestARefusedAppendOwnsOnlyWhatItCreated:
    def test_a_store_created_meanwhile_by_another_process_survives_the_refusal(
        self,
        tmp_path: Path,
        ledger_cmd: list[str],
        cli_env: dict[str, str],
        run_cli: Run,
    ) -> None:
        """The issue's reproducer, with two real processes: the refused append started
        first, on a missing store; `init` created the store while the append was still
        reading its input; the refusal must leave `init`'s store and its 11 events."""
        store = tmp_path / "s.sqlite"
        refused = subprocess.Popen(
            [*ledger_cmd, "--store", str(store), "append", "-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env,
        )
        assert refused.stdin is not None
        text = _refused_at_the_end(2000)
        refused.stdin.write(text[:1000])
        refused.stdin.flush()
        # Let the append start and decide that the store is missing (the old code created
        # the file at once, so wait for it when it appears; give up waiting after 5 s).
        deadline = time.monotonic() + 5
        while not store.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        created = run_cli("--store", str(store), "init", "--example", "openai-microsoft")
        assert created.returncode == 0, created.stderr
        _, stderr = refused.communicate(text[1000:], timeout=120)
        assert refused.returncode == 2, stderr
        assert "investor" in stderr
        assert store.exists(), "the refused append removed a store it did not create"
        assert _events_in(run_cli, store) == 11

    def test_a_refused_append_to_a_missing_store_leaves_no_file_at_all(
        self, tmp_path: Path, run_cli: Run
    ) -> None:
        """Neither the store nor a staging file, journal or WAL is left behind."""
        store = tmp_path / "new.sqlite"
        refused = run_cli("--store", str(store), "append", "-", stdin=_refused_at_the_end(3))
        assert refused.returncode == 2, refused.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == []

    def test_an_accepted_append_creates_the_store_and_only_the_store(
        self, tmp_path: Path, run_cli: Run
    ) -> None:
        """Staging is invisible on success: one store file, holding the events."""
        store = tmp_path / "new.sqlite"
        good = _refused_at_the_end(3).replace('"nobody"', '"acme"')
        accepted = run_cli("--store", str(store), "append", "-", stdin=good)
        assert accepted.returncode == 0, accepted.stderr
        leftovers = [p.name for p in tmp_path.iterdir() if p.name != "new.sqlite"]
        assert leftovers == []
        assert _events_in(run_cli, store) == 4

    def test_a_refused_init_of_an_unknown_example_creates_nothing(
        self, tmp_path: Path, run_cli: Run
    ) -> None:
        """A refused `init` leaves no store either."""
        store = tmp_path / "new.sqlite"
        refused = run_cli("--store", str(store), "init", "--example", "no-such-example")
        assert refused.returncode == 2, refused.stderr
        assert list(tmp_path.iterdir()) == []


class TestStoresThatAreNotFiles:
    @pytest.mark.parametrize("command", [("replay", "--as-of", "2024-01-01"), ("append", "-")])
    def test_a_directory_is_refused_saying_so(
        self, tmp_path: Path, run_cli: Run, command: tuple[str, ...]
    ) -> None:
        """`--store` naming a directory says it is one, and writes nothing into it."""
        shown = run_cli("--store", str(tmp_path), *command, stdin=_refused_at_the_end(3))
        assert shown.returncode == 2, shown.stderr
        assert "is a directory" in shown.stderr
        assert list(tmp_path.iterdir()) == []

    def test_a_device_node_is_refused_before_anything_is_created(self, run_cli: Run) -> None:
        """`/dev/null` is not a store: refused, with no journal or staging file left."""
        shown = run_cli("--store", "/dev/null", "append", "-", stdin=_refused_at_the_end(3))
        assert shown.returncode == 2, shown.stderr
        assert "not a regular file" in shown.stderr
        assert not Path("/dev/null-journal").exists()
        assert not list(Path("/dev").glob(".null*"))
