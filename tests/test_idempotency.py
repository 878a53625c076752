"""Safe retries: an append with an idempotency key, retried after an uncertain failure,
is recorded once (issue 17 §3).

The reproducer: `ledger append inv.yaml` run twice stored the investment twice (the
total became 2,000 where 1,000 was invested). With a key — `--idempotency-key K` or the
file's `idempotency_key:` — the retry succeeds, says so, and writes nothing; the same key
with other events is refused with exit 2, writing nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from conftest import fresh_schema

from ledger import Ledger
from ledger.errors import InputError

AGREEMENT = "openai-microsoft"
INVESTMENT = """\
agreement: openai-microsoft
{key}events:
  - type: investment
    effective_on: "2024-06-01"
    source: {{citation: "Board minutes", confidence: confirmed}}
    investor: microsoft
    recipient: openai
    amount: {{amount: "{amount}", currency: USD}}
    instrument: equity
"""
Run = Callable[..., "subprocess.CompletedProcess[str]"]  # noqa: F821 - conftest's runner


def investment(tmp_path: Path, amount: str = "1000", *, key: str | None = None) -> Path:
    path = tmp_path / f"inv-{amount}-{key or 'none'}.yaml"
    field = f"idempotency_key: {key}\n" if key else ""
    path.write_text(INVESTMENT.format(key=field, amount=amount), "utf-8")
    return path


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    with Ledger(str(path)) as ledger:
        ledger.load_example(AGREEMENT)
    return path


def invested(store: Path | str) -> tuple[int, str]:
    """The log's length and Microsoft's total in OpenAI on 2025-01-01."""
    with Ledger(str(store)) as ledger:
        state = ledger.state_at(date(2025, 1, 1))
        total = state.investments[("microsoft", "openai", "USD")].total.amount
        return len(ledger.log(AGREEMENT).records), str(total)


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


class TestTheCommand:
    def test_without_a_key_a_retry_records_twice(self, store: Path, run_cli: Run, tmp_path):
        """The reproducer, as it still behaves without a key: two appends, two events."""
        path = investment(tmp_path)
        before = invested(store)
        for _ in range(2):
            assert run_cli("--store", str(store), "append", str(path)).returncode == 0
        assert invested(store)[0] == before[0] + 2

    def test_a_retry_with_the_same_key_writes_nothing_and_says_so(
        self, store: Path, run_cli: Run, tmp_path: Path
    ) -> None:
        path = investment(tmp_path)
        first = run_cli("--store", str(store), "append", str(path), "--idempotency-key", "k-1")
        assert first.returncode == 0, first.stderr
        assert "Appended 1 event (openai-microsoft#12)" in first.stdout
        after_first = invested(store)
        again = run_cli("--store", str(store), "append", str(path), "--idempotency-key", "k-1")
        assert again.returncode == 0, again.stderr
        assert "Already appended with this idempotency key: 1 event (openai-microsoft#12)" in (
            again.stdout
        )
        assert "nothing written" in again.stdout
        assert invested(store) == after_first

    def test_the_files_own_key_works_the_same(self, store: Path, run_cli: Run, tmp_path: Path):
        path = investment(tmp_path, key="nightly-2026-12-01")
        for _ in range(3):
            done = run_cli("--store", str(store), "append", str(path))
            assert done.returncode == 0, done.stderr
        count, total = invested(store)
        assert count == 12
        assert total == "1000001000"

    def test_the_same_key_with_other_events_is_refused_writing_nothing(
        self, store: Path, run_cli: Run, tmp_path: Path
    ) -> None:
        run_cli(
            "--store", str(store), "append", str(investment(tmp_path)), "--idempotency-key", "k"
        )
        before = invested(store)
        other = investment(tmp_path, "2000")
        done = run_cli("--store", str(store), "append", str(other), "--idempotency-key", "k")
        assert done.returncode == 2
        line = one_line(done.stderr)
        assert "'k' was used for other events (openai-microsoft#12" in line
        assert "nothing written" in line
        assert invested(store) == before

    def test_a_key_that_differs_from_the_files_is_refused(
        self, store: Path, run_cli: Run, tmp_path: Path
    ) -> None:
        path = investment(tmp_path, key="in-the-file")
        before = invested(store)
        done = run_cli("--store", str(store), "append", str(path), "--idempotency-key", "given")
        assert done.returncode == 2
        assert "idempotency_key: expected 'given' (from --idempotency-key)" in one_line(done.stderr)
        assert invested(store) == before

    @pytest.mark.parametrize("key", ["", "   ", "x" * 201, "tab\there"])
    def test_a_bad_key_is_refused_before_anything_is_written(
        self, store: Path, run_cli: Run, tmp_path: Path, key: str
    ) -> None:
        before = invested(store)
        path = investment(tmp_path)
        done = run_cli("--store", str(store), "append", str(path), "--idempotency-key", key)
        assert done.returncode == 2
        assert "expected 1 to 200 printable characters" in one_line(done.stderr)
        assert invested(store) == before


class TestTheApplication:
    def test_a_refused_append_keeps_no_key(self, store: Path, tmp_path: Path) -> None:
        """The key is stored with the append, in its transaction: an append refused by a
        rule leaves the key free for the corrected retry."""
        broken = tmp_path / "broken.yaml"
        broken.write_text(
            INVESTMENT.format(key="", amount="1000").replace("microsoft", "nobody", 1), "utf-8"
        )
        with Ledger(str(store)) as ledger:
            with pytest.raises(InputError):
                ledger.append_file(str(broken), idempotency_key="retry-me")
            appended = ledger.append_file(str(investment(tmp_path)), idempotency_key="retry-me")
        assert not appended[0].already
        assert invested(store)[0] == 12

    def test_the_key_outlives_a_rebuilt_read_model(self, store: Path, tmp_path: Path) -> None:
        path = investment(tmp_path)
        with Ledger(str(store)) as ledger:
            ledger.append_file(str(path), idempotency_key="durable")
            ledger.verify(reindex=True)
            again = ledger.append_file(str(path), idempotency_key="durable")
        assert again[0].already
        assert again[0].id == "openai-microsoft#12"
        assert invested(store)[0] == 12

    def test_two_writers_retrying_at_once_record_it_once(self, store: Path, tmp_path: Path):
        """Two processes' worth of retries racing (two ledgers on one file, in threads)."""
        path = investment(tmp_path)
        results: list[bool] = []
        barrier = threading.Barrier(4)

        def retry() -> None:
            with Ledger(str(store)) as ledger:
                barrier.wait()
                results.append(ledger.append_file(str(path), idempotency_key="race")[0].already)

        threads = [threading.Thread(target=retry) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [False, True, True, True]
        assert invested(store) == (12, "1000001000")


@pytest.mark.postgres
def test_on_postgresql(postgres_server: str, tmp_path: Path) -> None:
    """The same on a shared store: the retry writes nothing; another content is refused."""
    with fresh_schema(postgres_server) as url:
        with Ledger(url) as ledger:
            ledger.load_example(AGREEMENT)
            first = ledger.append_file(str(investment(tmp_path)), idempotency_key="pg")
            again = ledger.append_file(str(investment(tmp_path)), idempotency_key="pg")
            assert [a.id for a in again] == [a.id for a in first]
            assert again[0].already
            with pytest.raises(InputError, match="was used for other events"):
                ledger.append_file(str(investment(tmp_path, "5")), idempotency_key="pg")
        assert invested(url) == (12, "1000001000")
