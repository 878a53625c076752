"""What a new user meets at the command line: words, widths, lists, CSV, help, pipes.

Most tests run the command in this process (``main``), which is fast; the ones about
pipes and shell completion run the installed ``ledger``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click
import pytest
from conftest import cli_environment, ledger_command

from ledger.entrypoints.cli import main

ROOT = Path(__file__).resolve().parent.parent
EQUITY_SWAP = str(ROOT / "features" / "whatif" / "equity-swap.yaml")
AMENDMENT = str(ROOT / "docs" / "examples" / "amendments" / "2020.yaml")
CLAUSES = (
    "agi-clause",
    "azure-exclusivity",
    "azure-revenue-share",
    "microsoft-ip-rights",
    "microsoft-profit-share",
    "openai-revenue-share",
    "restructuring-veto",
)
COMMANDS = (
    ("agreements",),
    ("replay", "--as-of", "2024-01-01"),
    ("replay", "--as-of", "2025-06-01"),
    ("history",),
    ("diff", "2019-07-01", "2031-01-01"),
    ("whatif", "--as-of", "2026-01-01", EQUITY_SWAP),
    ("whatif", "--as-of", "2025-06-01", "--compare", "equity-for-revenue", "agi-clause-removal"),
    ("show", "clause", "azure-exclusivity"),
)


class Run:
    """``ledger ARGS…`` in this process: exit code, standard output and error."""

    def __init__(self, capsys: pytest.CaptureFixture[str], store: Path) -> None:
        self.capsys = capsys
        self.store = store

    def __call__(self, *args: str, code: int = 0) -> str:
        self.capsys.readouterr()
        exit_code = main(["--store", str(self.store), *args])
        out, err = self.capsys.readouterr()
        assert exit_code == code, (out, err)
        self.err = err
        return out

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json"))

    def csv(self, *args: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(self(*args, "--csv"))))


def init(path: Path) -> Path:
    assert main(["--store", str(path), "init", "--example", "openai-microsoft"]) == 0
    return path


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled example, with the README's backdated amendment (read only)."""
    store = init(tmp_path_factory.mktemp("example") / "ledger.sqlite")
    assert main(["--store", str(store), "append", AMENDMENT]) == 0
    return store


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], example: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """The command on the shared example, its output as wide as a terminal of 80 columns
    or a pipe without ``$COLUMNS``."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LEDGER_STORE", raising=False)
    return Run(capsys, example)


@pytest.fixture
def fresh(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Run:
    """The command on a fresh copy of the example, for tests that write."""
    return Run(capsys, init(tmp_path / "ledger.sqlite"))


class TestWords:
    """Counts agree with their nouns; a single event is not a range."""

    def test_one_event_appended(self, fresh: Run) -> None:
        """``Appended 1 event (openai-microsoft#12)``."""
        assert fresh("append", AMENDMENT) == "Appended 1 event (openai-microsoft#12)\n"

    def test_several_events_appended(self, fresh: Run, tmp_path: Path) -> None:
        """Several events: the count in the plural and the range of ids."""
        text = Path(AMENDMENT).read_text("utf-8")
        two = text + text.split("events:\n", 1)[1].replace("2020-06-01", "2020-07-01")
        path = tmp_path / "two.yaml"
        path.write_text(two, encoding="utf-8")
        out = fresh("append", str(path))
        assert out == "Appended 2 events (openai-microsoft#12 … openai-microsoft#13)\n"

    def test_one_event_applied(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """An agreement that has only opened: ``1 event applied``."""
        opening = {
            "agreement": "acme-globex",
            "events": [
                {
                    "type": "agreement_opened",
                    "effective_on": "2021-01-01",
                    "title": "Acme–Globex",
                    "parties": [{"id": "acme", "name": "Acme"}, {"id": "globex", "name": "Globex"}],
                    "source": {"citation": "Contract", "confidence": "confirmed"},
                }
            ],
        }
        path = tmp_path / "open.json"
        path.write_text(json.dumps(opening))
        run = Run(capsys, tmp_path / "acme.sqlite")
        assert run("append", str(path)) == "Appended 1 event (acme-globex#1)\n"
        assert "1 event applied" in run("replay", "--as-of", "2021-06-01")
        assert "No clause in force." in run("replay", "--as-of", "2021-06-01")
        assert run("verify").startswith("Verified 1 event: ")

    def test_events_applied_in_the_plural(self, run: Run) -> None:
        """Six events on 2024-01-01."""
        assert "As known at " in run("replay", "--as-of", "2024-01-01")
        assert ": 7 events applied" in run("replay", "--as-of", "2024-01-01")


class TestTables:
    """Tables a person reads: from 80 columns, ids whole, amounts grouped, dates as known."""

    @pytest.mark.parametrize("args", COMMANDS, ids=lambda a: "-".join(a[:2]))
    def test_fits_80_columns_with_ids_whole(self, run: Run, args: tuple[str, ...]) -> None:
        """No line is wider than 80 columns, and no clause or event id is broken."""
        out = run(*args)
        assert max(len(line) for line in out.splitlines()) <= 80
        words = set(re.findall(r"[\w#-]+", out))
        for clause in CLAUSES:
            if clause in out.replace("\n", " "):
                assert clause in words
        broken = re.findall(r"openai-microsoft#?\s*\n", out)
        assert broken == []

    def test_a_wide_terminal_gets_every_column(
        self, run: Run, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """At 160 columns: borders and the secondary columns; --compact takes them away."""
        monkeypatch.setenv("COLUMNS", "160")
        wide = run("replay", "--as-of", "2024-01-01")
        assert "Confidence" in wide
        assert "┃" in wide
        compact = run("replay", "--as-of", "2024-01-01", "--compact")
        assert "Confidence" not in compact
        assert "┃" not in compact

    def test_piped_output_is_80_columns_or_columns(
        self, run: Run, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Not a terminal: ``$COLUMNS`` if set, else 80 (never a fixed 160)."""
        assert max(len(line) for line in run("history").splitlines()) == 80
        monkeypatch.setenv("COLUMNS", "120")
        assert max(len(line) for line in run("history").splitlines()) == 120

    def test_amounts_are_grouped_in_tables_only(self, run: Run) -> None:
        """``1,000,000,000 USD`` in the tables; JSON keeps ``"1000000000"``."""
        assert "1,000,000,000 USD" in run("replay", "--as-of", "2024-01-01")
        assert "1,000,000,000 USD" in run("history", "--kind", "investment")
        state = run.json("replay", "--as-of", "2024-01-01")
        assert state["ownership"]["investments"][0]["total"]["amount"] == "1000000000"

    def test_a_stake_and_a_rate_read_as_percentages(self, run: Run) -> None:
        """The what-if's 30% stake and the 20% → 8% rate."""
        out = run("whatif", "--as-of", "2026-01-01", EQUITY_SWAP)
        assert re.search(r"stake\s+microsoft in openai\s+—\s+30%", out)
        assert "rate: 20% → 8%" in out

    def test_whatif_shows_what_differs_and_counts_the_rest(self, run: Run) -> None:
        """Only the two clauses that change, and how many stay the same."""
        out = run("whatif", "--as-of", "2026-01-01", EQUITY_SWAP)
        assert "azure-revenue-share" in out
        assert "openai-revenue-share" in out
        assert "azure-exclusivity" not in out
        assert "Unchanged: 5 clauses in force of 7." in out

    def test_approximate_dates_are_marked(self, run: Run) -> None:
        """A clause added in July 2019, talks and proposals dated by year only."""
        out = run("replay", "--as-of", "2025-06-01")
        assert "since 2019-07" in out
        assert "amended 2020-06-01" in out
        assert "opened 2025" in out
        assert "equity-for-revenue by openai, 2025: pending" in out
        assert "2023-Q4" in out

    def test_an_empty_history_says_so(self, run: Run) -> None:
        """No table, but a sentence naming the filters."""
        out = run("history", "--kind", "termination", "--from", "2020-01-01")
        assert out == "No events of type termination, effective from 2020-01-01.\n"


def test_json_gives_the_precision_of_every_date(run: Run) -> None:
    """Each date that can be approximate has its ``<name>_precision`` sibling."""
    state = run.json("replay", "--as-of", "2025-06-01")
    clause = next(c for c in state["clauses"] if c["id"] == "azure-exclusivity")
    assert (clause["in_force_since_precision"], clause["amended_on_precision"]) == ("month", "day")
    [talks] = state["renegotiations"]
    assert (talks["opened_on_precision"], talks["closed_on_precision"]) == ("year", None)
    assert {p["proposed_on_precision"] for p in talks["proposals"]} == {"year"}
    assert state["opened_on_precision"] == "month"
    hypothetical = run.json("whatif", "--as-of", "2026-01-01", EQUITY_SWAP)["hypothetical"]
    [stake] = hypothetical["ownership"]["stakes"]
    assert stake["since_precision"] in {"day", "month", "quarter", "year"}


class TestLongLists:
    """A replay of a long history lists the latest governance events, and says so."""

    def test_latest_twenty_and_all(self, fresh: Run, tmp_path: Path) -> None:
        """30 more governance events: the latest 20 of 34, and --all shows every one."""
        events = [
            {
                "type": "governance",
                "effective_on": (date(2024, 2, 1) + timedelta(days=day)).isoformat(),
                "kind": "board_changed",
                "entity": "openai",
                "description": f"Board change {day}",
                "source": {"citation": "Minutes", "confidence": "reported"},
            }
            for day in range(1, 31)
        ]
        path = tmp_path / "board.json"
        path.write_text(json.dumps({"agreement": "openai-microsoft", "events": events}))
        fresh("append", str(path))
        out = fresh("replay", "--as-of", "2024-06-01")
        assert "The latest 20 of 34 governance events; 14 earlier ones not shown (--all" in out
        assert "Board change 30" in out
        assert "Board change 10" not in out
        every = fresh("replay", "--as-of", "2024-06-01", "--all")
        assert "Board change 10" in every
        assert "The latest" not in every


class TestAgreements:
    """``ledger agreements``."""

    def test_table_json_and_csv(self, run: Run) -> None:
        """Id, title, opening (approximate: 2019-07), event count, last recorded."""
        out = run("agreements")
        assert re.search(r"openai-microsoft\s+OpenAI–Microsoft\s+2019-07\s+12\s", out)
        [item] = run.json("agreements")
        assert item["id"] == "openai-microsoft"
        assert item["opened_on"] == "2019-07-01"
        assert item["opened_on_precision"] == "month"
        assert item["event_count"] == 12
        assert set(item) == {
            "id",
            "title",
            "opened_on",
            "opened_on_precision",
            "event_count",
            "first_recorded",
            "last_recorded",
        }
        [row] = run.csv("agreements")
        assert row["event_count"] == "12"
        assert row["last_recorded"] == item["last_recorded"]


class TestShowClause:
    """``ledger show clause ID``: a clause's whole life, with its sources."""

    def test_json_tells_each_change(self, run: Run) -> None:
        """Added with the opening (month precision), amended by #12 on its own day."""
        life = run.json("show", "clause", "azure-exclusivity")
        assert life["clause"] == "azure-exclusivity"
        assert life["in_force"] is True
        added, amended = life["changes"]
        assert (added["on"], added["on_precision"], added["change"]) == (
            "2019-07-01",
            "month",
            "added",
        )
        assert added["events"] == ["openai-microsoft#1"]
        assert added["sources"][0]["citation"] == "Foundational Alliance and Early Investments"
        assert (amended["on"], amended["on_precision"], amended["change"]) == (
            "2020-06-01",
            "day",
            "amended",
        )
        assert amended["clause"]["terms"]["exclusive"] is False
        assert amended["clause"]["amended_on_precision"] == "day"

    def test_an_expiry_and_the_table(self, run: Run) -> None:
        """The IP rights expire the day after their until; the table says so."""
        life = run.json("show", "clause", "microsoft-ip-rights")
        assert [c["change"] for c in life["changes"]] == ["added", "expired"]
        assert life["changes"][1]["on"] == "2031-01-01"
        assert life["in_force"] is False
        out = run("show", "clause", "microsoft-ip-rights")
        assert "not in force" in out
        assert "expired" in out

    def test_as_of_and_known_at(self, run: Run) -> None:
        """Up to a date; and as known before the amendment was recorded."""
        before = run.json("show", "clause", "azure-exclusivity", "--as-of", "2020-05-31")
        assert [c["change"] for c in before["changes"]] == ["added"]
        run("show", "clause", "azure-exclusivity", "--known-at", "2000-01-01", code=2)
        assert "not known yet" in run.err

    def test_history_clause_is_the_same(self, run: Run) -> None:
        """``history --clause ID --to D`` is ``show clause ID --as-of D``."""
        moment = "2030-01-01T00:00:00"
        one = run.json(
            "show", "clause", "azure-exclusivity", "--as-of", "2024-01-01", "--known-at", moment
        )
        two = run.json(
            "history", "--clause", "azure-exclusivity", "--to", "2024-01-01", "--known-at", moment
        )
        assert one == two

    def test_csv_one_row_per_change(self, run: Run) -> None:
        """Each change with the terms after it."""
        rows = run.csv("show", "clause", "azure-exclusivity")
        assert [(r["on"], r["change"], r["terms.exclusive"]) for r in rows] == [
            ("2019-07-01", "added", "true"),
            ("2020-06-01", "amended", "false"),
        ]

    def test_an_unknown_clause_is_refused_with_a_suggestion(self, run: Run) -> None:
        """Exit 2, one line, the clause meant."""
        run("show", "clause", "azure-exclusivty", code=2)
        [line] = run.err.splitlines()
        assert "got 'azure-exclusivty'" in line
        assert "did you mean 'azure-exclusivity'?" in line


class TestCsv:
    """``--csv`` wherever ``--json`` prints a table."""

    def test_replay_prints_one_table_at_a_time(self, run: Run) -> None:
        """The clauses in force by default, a column per term; other tables by name."""
        clauses = run.csv("replay", "--as-of", "2024-01-01")
        assert [r["id"] for r in clauses] == list(CLAUSES)
        exclusivity = next(r for r in clauses if r["id"] == "azure-exclusivity")
        assert exclusivity["terms.exclusive"] == "false"
        assert exclusivity["in_force_since_precision"] == "month"
        talks = run.csv("replay", "--as-of", "2025-06-01", "--table", "renegotiations")
        assert [r["proposal"] for r in talks] == ["equity-for-revenue", "agi-clause-removal"]
        investments = run.csv("replay", "--as-of", "2024-01-01", "--table", "investments")
        assert investments[0]["amount"] == "1000000000"

    def test_history_diff_and_whatif(self, run: Run) -> None:
        """One row per event; one row per changed value."""
        history = run.csv("history")
        assert len(history) == 12
        assert history[1]["summary"] == "microsoft → openai: 1000000000 USD (profit_interest)"
        changes = run.csv("diff", "2020-01-01", "2020-12-31")
        assert [(c["what"], c["id"], c["field"], c["from"], c["to"]) for c in changes] == [
            ("clause", "azure-exclusivity", "terms.exclusive", "true", "false"),
            ("clause", "azure-exclusivity", "terms.right_of_first_refusal", "", "true"),
        ]
        hypothetical = run.csv("whatif", "--as-of", "2026-01-01", EQUITY_SWAP)
        stake = next(r for r in hypothetical if r["what"] == "stake")
        assert (stake["id"], stake["change"], stake["to"]) == ("microsoft/openai", "added", "30")

    def test_replay_offers_every_table(self) -> None:
        """The command line's --table choices are the tables the CSV module prints."""
        from ledger.entrypoints import cli
        from ledger.presentation import sheets

        assert cli.STATE_TABLES == sheets.STATE_TABLES

    def test_heads(self, run: Run) -> None:
        """``head --csv``: the rows of ``head --json``."""
        [head] = run.json("head")
        [row] = run.csv("head")
        assert row["agreement"] == "openai-microsoft"
        assert row["version"] == str(head["version"]) == "12"
        assert row["digest"] == head["digest"]
        assert row["key_id"] == ""

    def test_json_and_csv_together_are_refused(self, run: Run) -> None:
        """One format at a time."""
        run("history", "--json", "--csv", code=2)
        assert "at most one of --json and --csv" in run.err


class TestGlobalOptions:
    """``--store`` and ``--debug`` after the command, as before it."""

    def test_store_after_the_command(
        self,
        capsys: pytest.CaptureFixture[str],
        example: Path,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """``ledger replay --as-of D --store PATH`` reads PATH."""
        monkeypatch.chdir(tmp_path)  # no ./ledger.sqlite here
        assert main(["replay", "--as-of", "2024-01-01", "--json", "--store", str(example)]) == 0
        assert json.loads(capsys.readouterr().out)["agreement"] == "openai-microsoft"

    def test_debug_after_the_command(self, run: Run) -> None:
        """``--debug`` at the end shows the traceback of a refusal."""
        run("replay", "--as-of", "2019-01-01", "--debug", code=2)
        assert "Traceback" in run.err

    def test_help_says_so_and_gives_examples(self, run: Run) -> None:
        """Every command's help (every one the CLI has, found by walking it) lists --store
        and has examples; --kind lists its values."""
        for command in every_command():
            text = run(*command, "--help")
            assert re.search(r"Examples:\n +ledger ", text), command
            assert "--store" in text, command
        assert "renegotiation_concluded" in run("history", "--help")
        assert "may also come after the command" in run("--help")

    def test_no_command_is_the_help(self, capsys: pytest.CaptureFixture[str]) -> None:
        """``ledger`` alone (and ``ledger show``) prints the help, with 0."""
        assert main([]) == 0
        assert capsys.readouterr().out.startswith("Usage: ledger [OPTIONS] COMMAND")
        assert main(["show"]) == 0
        assert "clause" in capsys.readouterr().out


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """``ledger history --json | head -1``: exit 0, nothing on stderr."""
    store = init(tmp_path / "ledger.sqlite")
    events = [
        {
            "type": "governance",
            "effective_on": "2024-03-01",
            "kind": "other",
            "entity": "openai",
            "description": "x" * 200,
            "source": {"citation": "Minutes", "confidence": "reported"},
        }
    ] * 400
    path = tmp_path / "many.json"
    path.write_text(json.dumps({"agreement": "openai-microsoft", "events": events}))
    assert main(["--store", str(store), "append", str(path)]) == 0
    for args in (["history", "--json"], ["replay", "--as-of", "2024-06-01", "--all"]):
        reader = subprocess.Popen(
            [*ledger_command(), "--store", str(store), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=cli_environment(),
        )
        assert reader.stdout is not None
        assert reader.stderr is not None
        assert reader.stdout.readline()
        reader.stdout.close()  # the reader goes away, as head does
        assert reader.wait(timeout=60) == 0
        assert reader.stderr.read() == b""


def test_shell_completion() -> None:
    """The bash script click generates, and the values of --kind completed."""
    env = cli_environment()
    script = subprocess.run(
        ledger_command(),
        env={**env, "_LEDGER_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert script.returncode == 0
    assert "_ledger_completion" in script.stdout
    done = subprocess.run(
        ledger_command(),
        env={
            **env,
            "_LEDGER_COMPLETE": "bash_complete",
            "COMP_WORDS": "ledger history --kind gov",
            "COMP_CWORD": "3",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert "governance" in done.stdout


def every_command(
    group: click.Group | None = None, prefix: tuple[str, ...] = ()
) -> list[list[str]]:
    """The path of every command the CLI has, subcommands of groups included."""
    from ledger.entrypoints.cli import cli

    found = []
    for name, command in sorted((group or cli).commands.items()):
        if isinstance(command, click.Group):
            found += every_command(command, (*prefix, name))
        else:
            found.append([*prefix, name])
    return found
