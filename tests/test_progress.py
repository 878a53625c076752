"""Long work reports its progress to a callback; the command line draws it only on a
terminal, and a piped run prints nothing but its summary."""

from __future__ import annotations

import io
import json
import subprocess
import time
from pathlib import Path

import pytest
from conftest import cli_environment, ledger_command
from rich.console import Console

from ledger import Ledger
from ledger.application import PROGRESS_EVERY
from ledger.presentation.progress import ProgressBar

EVENTS = 2500


def governance_file(path: Path, count: int = EVENTS) -> Path:
    """A JSON file of ``count`` governance events for the bundled example."""
    events = [
        {
            "type": "governance",
            "effective_on": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "kind": "other",
            "entity": "openai",
            "description": f"Board meeting {i}",
            "source": {"citation": f"Minutes {i}", "confidence": "reported"},
        }
        for i in range(count)
    ]
    path.write_text(json.dumps({"agreement": "openai-microsoft", "events": events}))
    return path


class Recorder:
    """A progress callback that keeps every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int | None]] = []

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        self.calls.append((stage, done, total))

    def stages(self) -> list[str]:
        return list(dict.fromkeys(stage for stage, _, _ in self.calls))

    def of(self, stage: str) -> list[tuple[int, int | None]]:
        return [(done, total) for s, done, total in self.calls if s == stage]


class TestTheCallback:
    """``progress`` on the application's long use cases."""

    def test_an_append_reports_reading_checking_and_writing(self, tmp_path: Path) -> None:
        """Each stage from its start to its end, the checking every thousand events."""
        heard = Recorder()
        with Ledger("memory:") as ledger:
            ledger.load_example()
            ledger.append_file(str(governance_file(tmp_path / "many.json")), progress=heard)
        assert heard.stages() == ["reading the file", "checking the rules", "writing"]
        assert heard.of("reading the file") == [(0, None), (EVENTS, EVENTS)]
        assert heard.of("writing") == [(0, EVENTS), (EVENTS, EVENTS)]
        checking = heard.of("checking the rules")
        assert checking[0][0] == 0
        assert checking[-1][0] == checking[-1][1] >= EVENTS  # the events after a checkpoint too
        assert len(checking) >= 2 + EVENTS // PROGRESS_EVERY
        assert all(total is None or done <= total for _, done, total in heard.calls)

    def test_a_new_agreement_knows_its_total_from_the_start(self) -> None:
        """Loading the example: the batch is the whole timeline, so the total is known."""
        heard = Recorder()
        with Ledger("memory:") as ledger:
            appended = ledger.load_example(progress=heard)
        assert heard.of("checking the rules")[0] == (0, len(appended))
        assert heard.of("writing")[-1] == (len(appended), len(appended))

    def test_verify_reports_each_stage(self, tmp_path: Path) -> None:
        """Reading, the chain a thousand rows at a time, the index; and a rebuild when asked."""
        with Ledger(str(tmp_path / "l.sqlite")) as ledger:
            ledger.load_example()
            ledger.append_file(str(governance_file(tmp_path / "many.json")))
            total = EVENTS + 11
            heard = Recorder()
            assert ledger.verify(progress=heard) == total
            rebuilt = Recorder()
            ledger.verify(reindex=True, progress=rebuilt)
        assert heard.stages() == ["reading the events", "checking the chain", "checking the index"]
        assert heard.of("checking the chain")[0] == (0, total)
        assert heard.of("checking the chain")[-1] == (total, total)
        assert len(heard.of("checking the chain")) == 2 + total // PROGRESS_EVERY
        assert "rebuilding the index" in rebuilt.stages()

    def test_no_callback_is_no_work(self) -> None:
        """Without a callback the use cases run as before."""
        with Ledger("memory:") as ledger:
            assert len(ledger.load_example()) == 11
            assert ledger.verify() == 11


class TestTheBar:
    """``ProgressBar``: drawn on a terminal, silent elsewhere."""

    def test_a_terminal_sees_the_stage(self) -> None:
        """On a terminal the bar is drawn (after its delay) and taken away at the end."""
        screen = io.StringIO()
        terminal = Console(file=screen, force_terminal=True, width=80)
        with ProgressBar(terminal, delay=0) as bar:
            assert bar.enabled
            bar("checking the rules", 0, 2000)
            for _ in range(200):  # the bar is started by a timer thread
                if bar.shown:
                    break
                time.sleep(0.01)
            bar("checking the rules", 1000, 2000)
        assert bar.shown
        assert "checking the rules" in screen.getvalue()

    def test_anything_else_sees_nothing(self) -> None:
        """Not a terminal: no bar, nothing written, however long the work."""
        screen = io.StringIO()
        with ProgressBar(Console(file=screen, width=80), delay=0) as bar:
            assert not bar.enabled
            bar("writing", 0, 10)
            bar("writing", 10, 10)
        assert screen.getvalue() == ""
        assert not bar.shown


@pytest.mark.slow
def test_a_piped_append_prints_only_its_summary(tmp_path: Path) -> None:
    """``ledger append`` of a large file, its output captured: one summary line, no bar."""
    store = tmp_path / "l.sqlite"
    env = cli_environment()
    subprocess.run(
        [*ledger_command(), "--store", str(store), "init", "--example", "openai-microsoft"],
        env=env,
        check=True,
        capture_output=True,
    )
    done = subprocess.run(
        [*ledger_command(), "append", str(governance_file(tmp_path / "many.json"))],
        env={**env, "LEDGER_STORE": str(store)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    [line] = done.stdout.splitlines()
    assert line.startswith(
        f"Appended {EVENTS:,} events (openai-microsoft#12 … openai-microsoft#{EVENTS + 11})"
    )
