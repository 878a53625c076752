"""The bundled history in two layers, and questions along the recording axis (issue 15).

``ledger init --example openai-microsoft --with-record`` records the article's story and
then, later, the public record; ``--known-at`` takes an event id; ``diff --as-of D
--known-at T1 --against-known-at T2`` says what we believed about D at T1 against T2.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from ledger import InputError, Ledger

Run = Callable[..., subprocess.CompletedProcess[str]]
ARTICLE = "openai-microsoft#11"
RECORD = "openai-microsoft#62"


@pytest.fixture(scope="module")
def layered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with both layers, loaded once through the real command."""
    from conftest import cli_environment, ledger_command

    store = tmp_path_factory.mktemp("layered") / "ledger.sqlite"
    done = subprocess.run(
        [*ledger_command(), "--store", str(store), "init", "--example", "openai-microsoft",
         "--with-record"],
        capture_output=True, text=True, env=cli_environment(), check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "62 events" in done.stdout
    return store


def replay(run_cli: Run, store: Path, *args: str) -> dict[str, object]:
    done = run_cli("--store", str(store), "replay", *args, "--json")
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


class TestTwoLayers:
    def test_the_record_layer_passes_verify(self, layered: Path, run_cli: Run) -> None:
        """Every event of both layers matches its chain, and so does the read model."""
        done = run_cli("--store", str(layered), "verify")
        assert done.returncode == 0, done.stderr
        assert "62 events" in done.stdout

    def test_now_the_october_2025_agreement_is_in_force(self, layered: Path, run_cli: Run) -> None:
        """27% stake, IP rights to 2032, the AGI expert panel."""
        state = replay(run_cli, layered, "--as-of", "2025-11-01")
        clauses = {c["id"]: c for c in state["clauses"]}  # type: ignore[attr-defined]
        assert clauses["microsoft-ip-rights"]["until"] == "2032-12-31"
        assert "expert panel" in clauses["agi-clause"]["terms"]["determined_by"]
        stakes = state["ownership"]["stakes"]  # type: ignore[index]
        assert {"holder": "microsoft", "percent": "27"}.items() <= stakes[0].items()

    def test_as_known_at_the_article_layer_the_article_tells_its_story(
        self, layered: Path, run_cli: Run
    ) -> None:
        """Known just after #11 was recorded: 11 events, IP rights to 2030, no stake."""
        state = replay(run_cli, layered, "--as-of", "2025-11-01", "--known-at", ARTICLE)
        assert state["events_applied"] == 11
        clauses = {c["id"]: c for c in state["clauses"]}  # type: ignore[attr-defined]
        assert clauses["microsoft-ip-rights"]["until"] == "2030-12-31"
        assert state["ownership"]["stakes"] == []  # type: ignore[index]

    def test_an_example_without_the_record_is_the_article_alone(self) -> None:
        """``init --example`` without ``--with-record`` stays exactly the article's story."""
        with Ledger("memory:") as ledger:
            assert len(ledger.load_example("openai-microsoft")) == 11


class TestKnownAtAnEventId:
    def test_an_event_id_means_just_after_its_append_was_recorded(self, layered: Path) -> None:
        """The same answer as the append's own recording time."""
        with Ledger(str(layered)) as ledger:
            moment = ledger.recorded_at(ARTICLE)
            by_id = ledger.state_at(date(2024, 6, 30), known_at=ARTICLE)
            by_time = ledger.state_at(date(2024, 6, 30), known_at=moment)
        assert by_id == by_time

    @pytest.mark.parametrize("ident", ["openai-microsoft#999", "acme#1"])
    def test_an_event_the_store_lacks_is_refused(self, layered: Path, ident: str) -> None:
        """An id beyond the log, or of an agreement the store lacks, is bad input."""
        with Ledger(str(layered)) as ledger, pytest.raises(InputError):
            ledger.state_at(date(2024, 6, 30), known_at=ident)

    def test_the_cli_refuses_an_unknown_id_with_exit_2(self, layered: Path, run_cli: Run) -> None:
        """One line, exit 2."""
        done = run_cli(
            "--store", str(layered), "replay", "--as-of", "2024-06-30", "--known-at",
            "openai-microsoft#999",
        )  # fmt: skip
        assert done.returncode == 2
        assert len(done.stderr.strip().splitlines()) == 1


class TestRecordingAxisDiff:
    def test_each_change_names_the_event_or_correction_behind_it(
        self, layered: Path, run_cli: Run
    ) -> None:
        """What the record changed about the article's 2024-06-30: the investments the
        article never had, and the opening's correction."""
        done = run_cli(
            "--store", str(layered), "diff", "--as-of", "2024-06-30", "--known-at", ARTICLE,
            "--against-known-at", RECORD, "--json",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert result["as_of"] == "2024-06-30"
        assert result["known_at"] == ARTICLE
        total = result["difference"]["investments"][0]
        assert (total["from"], total["to"]) == ("1000000000", "13000000000")
        assert total["caused_by"] == [
            "openai-microsoft#13",
            "openai-microsoft#21",
            "openai-microsoft#25",
        ]
        removed = {c["id"]: c for c in result["difference"]["clauses"] if c["change"] == "removed"}
        assert removed["openai-revenue-share"]["caused_by"] == ["openai-microsoft#12"]

    def test_against_now_is_the_default(self, layered: Path) -> None:
        """Without a second time, the comparison is with what is known now."""
        with Ledger(str(layered)) as ledger:
            now = ledger.revision(date(2024, 6, 30), known_at=ARTICLE)
            last = ledger.revision(date(2024, 6, 30), known_at=ARTICLE, against_known_at=RECORD)
        assert now == last

    def test_the_same_time_twice_changes_nothing(self, layered: Path) -> None:
        """A view compared with itself differs in nothing."""
        with Ledger(str(layered)) as ledger:
            same = ledger.revision(date(2024, 6, 30), known_at=RECORD, against_known_at=RECORD)
        assert same.is_empty()

    def test_a_retraction_is_named_for_what_it_withdrew(self) -> None:
        """A fact retracted between the two times: the retraction is the cause."""
        from ledger import Retraction, Source
        from ledger.domain.values import Confidence

        with Ledger("memory:") as ledger:
            ledger.load_example("openai-microsoft")
            appended = ledger.append(
                [
                    Retraction(
                        retracts="openai-microsoft#2",
                        reason="test",
                        source=Source("test", Confidence.CONFIRMED),
                    )
                ]
            )
            revised = ledger.revision(date(2024, 6, 30), known_at=ARTICLE)
        total = revised.investments[0]
        assert (total.before, total.after) == ("1000000000", None)
        assert total.caused_by == (appended[0].id,)

    def test_usage_errors_say_what_is_expected(self, layered: Path, run_cli: Run) -> None:
        """--against-known-at needs --as-of and --known-at, and no dates."""
        done = run_cli("--store", str(layered), "diff", "--against-known-at", RECORD)
        assert done.returncode == 2
        assert "--as-of D --known-at T1" in done.stderr
