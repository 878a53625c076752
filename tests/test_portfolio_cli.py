"""Questions across agreements at the command line: ``find``, ``expiring``, ``holdings``
and ``sql``, run as the installed ``ledger`` on the bundled example and its public record
(``init --example openai-microsoft --with-record``), with a second agreement appended
after it, so that each answer spans two agreements and ``--known-at`` the last event of
the first gives the answer from before the second was recorded.

The expected values are the fold's: each answer is held against ``replay --json`` of
each agreement on the same day.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shlex
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conftest import cli_environment, ledger_command

OPENAI = "openai-microsoft"
ACME = "microsoft-acme"
BEFORE_ACME = "openai-microsoft#62"  # the last event recorded before the second agreement
WORKERS = max(2, min(8, os.cpu_count() or 2))  # commands run side by side

# The second agreement: microsoft holds an exclusivity (to mid-2026) and a revenue share
# from Acme, a stake in it and two investments; the agreement ends on 2027-03-31.
SECOND_AGREEMENT = """\
agreement: microsoft-acme
events:
  - type: agreement_opened
    effective_on: "2024-01-01"
    title: "Microsoft–Acme cloud deal"
    parties:
      - {id: microsoft, name: Microsoft}
      - {id: acme, name: Acme}
    source: {citation: "Contract", confidence: confirmed}
    clauses:
      - id: acme-exclusivity
        kind: exclusivity
        terms: {holder: microsoft, grantor: acme, scope: "Acme's cloud", exclusive: true}
        until: "2026-06-30"
      - id: acme-revenue-share
        kind: revenue_share
        terms:
          payer: acme
          payee: microsoft
          rate: "12.5"
          threshold: {amount: "2500000", currency: EUR}
          basis: "Acme's cloud revenue"
        until: "2027-12-31"
  - type: investment
    effective_on: "2024-02-01"
    investor: microsoft
    recipient: acme
    amount: {amount: "2500000", currency: EUR}
    instrument: equity
    source: {citation: "Contract", confidence: confirmed}
  - type: investment
    effective_on: "2024-03-01"
    investor: microsoft
    recipient: acme
    amount: {amount: "500000", currency: USD}
    instrument: cloud_credits
    source: {citation: "Contract", confidence: confirmed}
  - type: ownership_change
    effective_on: "2024-02-01"
    holder: microsoft
    entity: acme
    percent: "12.5"
    source: {citation: "Contract", confidence: confirmed}
  - type: termination
    effective_on: "2027-03-31"
    reason: "ended by mutual consent"
    source: {citation: "Letter", confidence: confirmed}
"""


def _cli(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ledger_command(), "--store", str(store), *args],
        capture_output=True,
        text=True,
        env=cli_environment(),
        cwd=store.parent,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example with its record, then the second agreement (read only from here on)."""
    folder = tmp_path_factory.mktemp("portfolio")
    path = folder / "ledger.sqlite"
    done = _cli(path, "init", "--example", OPENAI, "--with-record")
    assert done.returncode == 0, done.stderr
    assert BEFORE_ACME in done.stdout
    amendment = folder / "acme.yaml"
    amendment.write_text(SECOND_AGREEMENT, encoding="utf-8")
    done = _cli(path, "append", str(amendment))
    assert done.returncode == 0, done.stderr
    assert "microsoft-acme#1 … microsoft-acme#5" in done.stdout
    return path


class Ledger:
    """``ledger --store STORE ARGS…`` as a subprocess. The store is only read once built,
    so each answer is asked for once (``prefetch`` asks for several at a time)."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.answers: dict[tuple[str, ...], subprocess.CompletedProcess[str]] = {}

    def prefetch(self, *commands: tuple[str, ...]) -> None:
        """Run these commands side by side, for later calls to find done."""
        wanted = [args for args in dict.fromkeys(commands) if args not in self.answers]
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            for args, done in zip(
                wanted, pool.map(lambda a: _cli(self.store, *a), wanted), strict=True
            ):
                self.answers[args] = done

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        if args not in self.answers:
            self.answers[args] = _cli(self.store, *args)
        return self.answers[args]

    def __call__(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        return done.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json"))

    def csv(self, *args: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(self(*args, "--csv"))))

    def replay(self, agreement: str, on: str, *known: str) -> dict[str, Any]:
        """What the fold says: ``replay --json``, run in this process (it is the reference
        the answers are held against, not a command under test here)."""
        from ledger.entrypoints.cli import main

        args = ["--store", str(self.store), "replay", "--as-of", on, "--agreement", agreement]
        with contextlib.redirect_stdout(io.StringIO()) as out:
            assert main([*args, *known, "--json"]) == 0, args
        state: dict[str, Any] = json.loads(out.getvalue())
        return state


def refusal(done: subprocess.CompletedProcess[str]) -> str:
    """The one line of a refusal (exit 2, nothing on standard output)."""
    assert done.returncode == 2, (done.args, done.stdout, done.stderr)
    assert done.stdout == "", done.args
    assert done.stderr.count("\n") == 1, done.stderr
    return done.stderr


@pytest.fixture(scope="module")
def ledger(store: Path) -> Ledger:
    """The store's answers, the ones the tests ask for asked side by side first."""
    asked = Ledger(store)
    asked.prefetch(*PREFETCH)
    return asked


def _table_rows(text: str) -> list[str]:
    """The lines of a rich table's body that start a row (a first column not blank)."""
    return [line for line in text.splitlines() if line.startswith("│ ") and line[2] != " "]


def _lines(text: str) -> list[str]:
    """The output's lines, without the spaces that pad a table's title to its width."""
    return [line.rstrip() for line in text.splitlines()]


def _replayed(clause: dict[str, Any]) -> dict[str, Any]:
    """A clause in the keys ``find`` and ``expiring`` share with ``replay``."""
    keys = (
        "id",
        "kind",
        "in_force_since",
        "in_force_since_precision",
        "amended_on",
        "amended_on_precision",
        "until",
        "confidence",
    )
    return {key: clause[key] for key in (*keys, "terms")}


ON = "2025-06-01"  # find's day: the 2025 terms, before the October 2025 agreement
LATER = "2026-01-01"  # expiring's and holdings' day: after it
FIND = ("find", "--clause-kind", "exclusivity", "--on", ON)
REVENUE = ("find", "--clause-kind", "revenue_share", "--on", ON)
EXPIRING = ("expiring", "--within", "730", "--on", LATER)
HOLDINGS = ("holdings", "microsoft", "--on", LATER)
SQL = (
    "sql",
    "SELECT agreement, clause_id, until, amended_on FROM clause_versions_now "
    "WHERE kind = 'exclusivity' AND valid_from <= '2025-06-01' AND valid_to > '2025-06-01' "
    "ORDER BY agreement, clause_id",
)
TERMS = {  # --term conditions, and the clauses of their kind that meet them on ON
    ("exclusivity", "exclusive=true"): ["acme-exclusivity", "azure-api-exclusivity"],
    ("revenue_share", "rate>12", "rate<20"): ["acme-revenue-share"],
    ("revenue_share", "rate>=20"): ["openai-revenue-share"],
    ("revenue_share", "threshold>=2500000"): ["acme-revenue-share"],
    ("veto", "over=restructuring"): ["restructuring-veto"],
}
ENDINGS = [  # expiring's answer: agreement, clause, last day in force, why
    (OPENAI, "agi-clause", "2026-04-26", "removed"),
    (OPENAI, "azure-api-exclusivity", "2026-04-26", "removed"),
    (OPENAI, "azure-revenue-share", "2026-04-26", "removed"),
    (ACME, "acme-exclusivity", "2026-06-30", "until"),
    (ACME, "acme-revenue-share", "2027-03-30", "terminated"),
]
REFUSED = [  # bad input, and what its one line says
    (("find", "--clause-kind", "exclusivty", "--on", ON), "did you mean 'exclusivity'?"),
    ((*FIND[:3], "--term", "exclusiv=true", "--on", ON), "did you mean 'exclusive'?"),
    ((*REVENUE[:3], "--term", "rate>abc", "--on", ON), "expected a number after '>'"),
    ((*FIND, "--json", "--csv"), "at most one of --json and --csv"),
    (FIND[:3], "Missing option '--on'"),
    (("holdings", "microsft", "--on", LATER), "did you mean 'microsoft'?"),
    (("expiring", "--within", "-1", "--on", LATER), "--within"),
    (("sql", "DELETE FROM clause_versions"), "read-only"),
    (("sql", "WITH gone AS (DELETE FROM clause_versions RETURNING *) SELECT 1"), "syntax"),
    (("sql", "ATTACH 'other.sqlite' AS other"), "read-only"),
    (("sql", "SELECT 1; DELETE FROM clause_versions"), "one statement"),
    (("sql", "SELECT 1", "--json", "--csv"), "at most one of --json and --csv"),
]


def _in(args: tuple[str, ...], *formats: str) -> list[tuple[str, ...]]:
    """A command as a table (``human``), ``json`` and ``csv``, as asked."""
    return [(*args, f"--{f}") if f != "human" else args for f in formats]


def _terms(kind: str, *terms: str) -> tuple[str, ...]:
    """``find`` with these conditions, on ``ON``."""
    return ("find", "--clause-kind", kind, *(a for t in terms for a in ("--term", t)), "--on", ON)


UNCHANGED = [  # what a refusal must leave as it was: the heads, the rows
    ("head", "--json"),
    ("sql", "SELECT count(*) AS n FROM clause_versions", "--json"),
]
ARTICLE = ("--known-at", "openai-microsoft#11")  # the article alone, before its record
KNOWN = ("--known-at", BEFORE_ACME)  # before the second agreement was recorded
PREFETCH = [  # every answer the tests below read, asked for side by side
    *_in(FIND, "human", "json"),
    *_in((*FIND, *KNOWN), "human", "json"),
    *_in((*FIND, *ARTICLE), "json"),
    *((*_terms(kind, *terms), "--json") for kind, *terms in TERMS),
    *_in(_terms("revenue_share", "rate<20"), "human"),
    *_in(_terms("revenue_share", "rate>50"), "human"),
    *_in(REVENUE, "csv"),
    *_in(EXPIRING, "human", "json", "csv"),
    *_in((*EXPIRING, *KNOWN), "human", "json"),
    ("expiring", "--within", "10", "--on", "2024-06-01"),
    *_in(HOLDINGS, "human", "json", "csv"),
    *_in((*HOLDINGS, *KNOWN), "json"),
    *_in(("holdings", "microsoft", "--on", "2027-06-01"), "json"),
    *_in(SQL, "human", "json", "csv"),
    *_in(("sql", "SELECT 1 AS n, 2.5 AS x, NULL AS z, 'a' AS n, x'00ff' AS b"), "json"),
    ("sql", "SELECT '[bold]x[/]' AS \"[red]h\""),
    *((command, "--help") for command in ("find", "expiring", "holdings", "sql")),
    *UNCHANGED,
]


class TestFind:
    """``ledger find --clause-kind K [--term …] --on D``."""

    def test_json_is_the_folds_clauses_of_that_kind(self, ledger: Ledger) -> None:
        """Each agreement's clauses of the kind in force on D, as ``replay`` has them."""
        found = ledger.json(*FIND)
        assert {k: found[k] for k in ("clause_kind", "terms", "on", "known_at")} == {
            "clause_kind": "exclusivity",
            "terms": [],
            "on": ON,
            "known_at": None,
        }
        assert [(c["agreement"], c["id"]) for c in found["clauses"]] == [
            (ACME, "acme-exclusivity"),
            (OPENAI, "azure-api-exclusivity"),
            (OPENAI, "azure-exclusivity"),
        ]
        for agreement in (OPENAI, ACME):
            state = ledger.replay(agreement, ON)
            expected = [c for c in state["clauses"] if c["kind"] == "exclusivity"]
            mine = [c for c in found["clauses"] if c["agreement"] == agreement]
            assert [_replayed(c) for c in mine] == [_replayed(c) for c in expected]
            assert [c["last_changed_by"] for c in mine] == [c["caused_by"][-1] for c in expected]
        assert set(found["clauses"][0]) == {
            "agreement", "id", "kind", "in_force_since", "in_force_since_precision",
            "amended_on", "amended_on_precision", "until", "terms", "confidence",
            "last_changed_by",
        }  # fmt: skip

    def test_terms_narrow_the_answer(self, ledger: Ledger) -> None:
        """``=``, ``!=``, ``>``, ``<``, ``>=`` on booleans, rates, a money term's amount and
        a list's members; several --term must all hold."""
        for (kind, *terms), expected in TERMS.items():
            found = ledger.json(*_terms(kind, *terms))
            assert [c["id"] for c in found["clauses"]] == expected, terms
            assert found["terms"] == terms

    def test_human_output_is_one_row_per_agreement(self, ledger: Ledger) -> None:
        """Two agreements, three clauses: two rows, each clause with its terms in brief."""
        text = ledger(*FIND)
        assert _lines(text)[0] == f"2 agreements with 3 exclusivity clauses in force on {ON}"
        rows = _table_rows(text)
        assert [row.split()[1] for row in rows] == [ACME, OPENAI]
        assert "acme-exclusivity" in rows[0]
        assert "2024-01-01 │ 2026-06-30" in rows[0]
        assert "azure-api-exclusivity" in rows[1]
        assert "2025-01-21 │ 2030-12-31" in rows[1]
        assert "exclusive: yes; grantor: acme; holder: microsoft; scope: Acme's cloud" in text
        assert "azure-exclusivity" in text
        assert "2019-07-22 │ —" in text

    def test_amounts_are_grouped_and_rates_are_percentages(self, ledger: Ledger) -> None:
        """``threshold: 2,500,000 EUR``, ``rate: 12.5%``; the conditions in the title."""
        text = ledger(*_terms("revenue_share", "rate<20"))
        assert f"1 agreement with 1 revenue_share clause where rate<20 in force on {ON}" in text
        assert "rate: 12.5%; threshold: 2,500,000 EUR" in text
        nothing = ledger(*_terms("revenue_share", "rate>50"))
        assert (
            nothing
            == f"No revenue_share clause where rate>50 is in force on {ON} in any agreement.\n"
        )

    def test_csv_has_a_column_per_term(self, ledger: Ledger) -> None:
        """One row per clause; money ``AMOUNT CUR``; an unknown term an empty cell."""
        rows = ledger.csv(*REVENUE)
        assert [(r["agreement"], r["id"]) for r in rows] == [
            (ACME, "acme-revenue-share"),
            (OPENAI, "azure-revenue-share"),
            (OPENAI, "openai-revenue-share"),
        ]
        acme = rows[0]
        assert acme["terms.rate"] == "12.5"
        assert acme["terms.threshold"] == "2500000 EUR"
        assert acme["until"] == "2027-12-31"
        assert acme["in_force_since_precision"] == "day"
        assert acme["last_changed_by"] == "microsoft-acme#1"
        assert rows[1]["terms.rate"] == ""  # not disclosed

    def test_known_at_before_the_append_gives_the_old_answer(self, ledger: Ledger) -> None:
        """As known just after the record's last event: the first agreement alone."""
        found = ledger.json(*FIND, *KNOWN)
        assert found["known_at"] == BEFORE_ACME
        assert [c["id"] for c in found["clauses"]] == ["azure-api-exclusivity", "azure-exclusivity"]
        text = ledger(*FIND, *KNOWN)
        assert _lines(text)[:2] == [
            f"As known just after {BEFORE_ACME} was recorded",
            f"1 agreement with 2 exclusivity clauses in force on {ON}",
        ]
        # The article alone (before its record): the clause as the article told it.
        article = ledger.json(*FIND, *ARTICLE)
        state = ledger.replay(OPENAI, ON, *ARTICLE)
        expected = [_replayed(c) for c in state["clauses"] if c["kind"] == "exclusivity"]
        assert [_replayed(c) for c in article["clauses"]] == expected
        assert expected[0]["in_force_since_precision"] == "month"


class TestExpiring:
    """``ledger expiring --within DAYS --on D``."""

    def test_json_names_the_last_day_and_why(self, ledger: Ledger) -> None:
        """Removed (by the 2026 amendment), until (its end date), terminated; soonest first."""
        ending = ledger.json(*EXPIRING)
        assert (ending["on"], ending["within"], ending["known_at"]) == (LATER, 730, None)
        found = [(c["agreement"], c["id"], c["last_day"], c["why"]) for c in ending["clauses"]]
        assert found == ENDINGS

    def test_each_is_the_clause_in_force_on_its_last_day(self, ledger: Ledger) -> None:
        """The clause as ``replay`` has it on its last day; after a termination, none."""
        for clause in ledger.json(*EXPIRING)["clauses"]:
            state = ledger.replay(clause["agreement"], clause["last_day"])
            [replayed] = [c for c in state["clauses"] if c["id"] == clause["id"]]
            assert _replayed(replayed) == _replayed(clause)
        acme = ledger.replay(ACME, "2027-03-31")
        assert acme["clauses"] == []
        assert acme["terminated"]["on"] == "2027-03-31"

    def test_human_output_is_one_row_per_agreement_soonest_first(self, ledger: Ledger) -> None:
        """Two rows: the agreement whose clause ends first, then the other."""
        text = ledger(*EXPIRING)
        title = f"5 clauses of 2 agreements leaving force from {LATER} to 2028-01-01"
        assert _lines(text)[0] == title
        rows = _table_rows(text)
        assert [row.split()[1] for row in rows] == [OPENAI, ACME]
        assert "agi-clause" in rows[0]
        assert "2026-04-26 │ removed" in rows[0]
        assert "acme-exclusivity" in rows[1]
        assert "2026-06-30 │ until" in rows[1]
        assert "acme-revenue-share" in text
        assert "2027-03-30 │ terminated" in text

    def test_csv(self, ledger: Ledger) -> None:
        """One row per clause, with its last day, why and terms."""
        rows = ledger.csv(*EXPIRING)
        assert [(r["agreement"], r["id"], r["last_day"], r["why"]) for r in rows] == ENDINGS
        assert rows[-1]["terms.threshold"] == "2500000 EUR"

    def test_known_at_before_the_append(self, ledger: Ledger) -> None:
        """Known before the second agreement was recorded: the first agreement's alone."""
        ending = ledger.json(*EXPIRING, *KNOWN)
        assert [(c["agreement"], c["id"]) for c in ending["clauses"]] == [
            (name, clause) for name, clause, _, _ in ENDINGS[:3]
        ]
        text = ledger(*EXPIRING, *KNOWN)
        assert "3 clauses of 1 agreement" in text

    def test_nothing_ends(self, ledger: Ledger) -> None:
        """A window in which no clause leaves force says so."""
        text = ledger("expiring", "--within", "10", "--on", "2024-06-01")
        assert text == "No clause leaves force from 2024-06-01 to 2024-06-11.\n"


class TestHoldings:
    """``ledger holdings PARTY --on D``."""

    def test_json_is_the_folds_stakes_and_investments(self, ledger: Ledger) -> None:
        """Each agreement's stakes of the party and what it had invested, as in ``replay``;
        totals per currency."""
        held = ledger.json(*HOLDINGS)
        assert (held["party"], held["on"], held["known_at"]) == ("microsoft", LATER, None)
        for agreement in (OPENAI, ACME):
            ownership = ledger.replay(agreement, LATER)["ownership"]
            stakes = [s for s in ownership["stakes"] if s["holder"] == "microsoft"]
            assert [
                {k: v for k, v in s.items() if k not in ("agreement", "last_changed_by")}
                for s in held["stakes"]
                if s["agreement"] == agreement
            ] == [{k: v for k, v in s.items() if k != "caused_by"} for s in stakes]
            invested = [i for i in ownership["investments"] if i["investor"] == "microsoft"]
            assert [
                (i["investor"], i["recipient"], i["total"])
                for i in held["investments"]
                if i["agreement"] == agreement
            ] == [(i["investor"], i["recipient"], i["total"]) for i in invested]
        assert [(s["agreement"], s["entity"], s["percent"]) for s in held["stakes"]] == [
            (ACME, "acme", "12.5"),
            (OPENAI, "openai-for-profit", "27"),
        ]
        assert held["totals"] == [
            {"amount": "2500000", "currency": "EUR"},
            {"amount": "13000500000", "currency": "USD"},
        ]

    def test_human_output_is_one_row_per_agreement_then_totals(self, ledger: Ledger) -> None:
        """Stakes ``entity percent``, investments grouped by thousands, a total per currency."""
        text = ledger(*HOLDINGS)
        assert _lines(text)[0] == f"microsoft's holdings on {LATER}, in 2 agreements"
        rows = _table_rows(text)
        assert [row.split()[1] for row in rows] == [ACME, OPENAI]
        assert "acme 12.5% since 2024-02-01" in rows[0]
        assert "acme 2,500,000 EUR" in rows[0]
        assert "acme 500,000 USD" in text
        assert "openai-for-profit 27% since 2025-10-28" in rows[1]
        assert "openai 13,000,000,000 USD" in rows[1]
        assert text.endswith(
            "Invested in all: 2,500,000 EUR\nInvested in all: 13,000,500,000 USD\n"
        )

    def test_csv(self, ledger: Ledger) -> None:
        """A row per stake, per investment and per currency's total."""
        rows = ledger.csv(*HOLDINGS)
        assert [(r["what"], r["agreement"], r["amount"], r["currency"]) for r in rows] == [
            ("stake", ACME, "", ""),
            ("stake", OPENAI, "", ""),
            ("investment", ACME, "2500000", "EUR"),
            ("investment", ACME, "500000", "USD"),
            ("investment", OPENAI, "13000000000", "USD"),
            ("total", "", "2500000", "EUR"),
            ("total", "", "13000500000", "USD"),
        ]
        assert (rows[0]["entity"], rows[0]["percent"], rows[0]["since"]) == (
            "acme",
            "12.5",
            "2024-02-01",
        )

    def test_a_termination_ends_clauses_not_stakes(self, ledger: Ledger) -> None:
        """After the second agreement's termination its stake and investments stay."""
        held = ledger.json("holdings", "microsoft", "--on", "2027-06-01")
        assert [s["agreement"] for s in held["stakes"]] == [ACME, OPENAI]
        assert held["totals"][0] == {"amount": "2500000", "currency": "EUR"}

    def test_known_at_before_the_append(self, ledger: Ledger) -> None:
        """Known before the second agreement: the first agreement's alone."""
        held = ledger.json(*HOLDINGS, *KNOWN)
        assert [s["agreement"] for s in held["stakes"]] == [OPENAI]
        assert held["totals"] == [{"amount": "13000000000", "currency": "USD"}]


class TestSql:
    """``ledger sql QUERY``: read-only SQL over the bitemporal tables."""

    def test_json_is_an_object_per_row(self, ledger: Ledger) -> None:
        """Keyed by column; NULL is null; the same clauses as ``find``."""
        rows = ledger.json(*SQL)
        assert rows[0] == {
            "agreement": ACME,
            "clause_id": "acme-exclusivity",
            "until": "2026-06-30",
            "amended_on": None,
        }
        assert [(r["agreement"], r["clause_id"]) for r in rows] == [
            (c["agreement"], c["id"]) for c in ledger.json(*FIND)["clauses"]
        ]

    def test_values_as_returned(self, ledger: Ledger) -> None:
        """Numbers stay numbers; a name met twice is told apart; bytes in hexadecimal."""
        rows = ledger.json("sql", "SELECT 1 AS n, 2.5 AS x, NULL AS z, 'a' AS n, x'00ff' AS b")
        assert rows == [{"n": 1, "x": 2.5, "z": None, "n_2": "a", "b": "00ff"}]

    def test_csv_and_human(self, ledger: Ledger) -> None:
        """CSV: header and rows (NULL an empty cell); human: a table, NULL as such, markup
        in values and names shown as written."""
        rows = ledger.csv(*SQL)
        assert list(rows[0]) == ["agreement", "clause_id", "until", "amended_on"]
        assert rows[0]["amended_on"] == ""
        text = ledger(*SQL)
        assert _lines(text)[0] == "3 rows"
        assert [row.split()[1:4:2] for row in _table_rows(text)] == [
            [ACME, "acme-exclusivity"],
            [OPENAI, "azure-api-exclusivity"],
            [OPENAI, "azure-exclusivity"],
        ]
        assert "NULL" in text
        named = ledger("sql", "SELECT '[bold]x[/]' AS \"[red]h\"")
        assert "[bold]x[/]" in named
        assert "[red]h" in named


def test_refusals_exit_2_in_one_line_and_write_nothing(ledger: Ledger, store: Path) -> None:
    """Bad input: exit 2, one line saying what was expected; heads and rows as before."""
    before = [ledger(*command) for command in UNCHANGED]  # asked before any test ran
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        answers = list(pool.map(lambda refused: _cli(store, *refused[0]), REFUSED))
    for (args, said), done in zip(REFUSED, answers, strict=True):
        assert said in refusal(done), args
    assert [_cli(store, *command).stdout for command in UNCHANGED] == before
    assert json.loads(before[1])[0]["n"] > 0
    assert not (store.parent / "other.sqlite").exists()


def test_help_examples_run(
    ledger: Ledger, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every example in the four commands' help runs on the example store (in this
    process, for speed: the help itself comes from the installed command)."""
    from ledger.entrypoints.cli import main

    monkeypatch.setenv("LEDGER_STORE", str(ledger.store))
    for command in ("find", "expiring", "holdings", "sql"):
        text = ledger(command, "--help")
        examples = text.split("Examples:\n", 1)[1].split("\n\n", 1)[0].splitlines()
        assert len(examples) >= 3, command
        for line in examples:
            words = shlex.split(line)
            assert words[:2] == ["ledger", command], line
            assert main(words[1:]) == 0, (line, capsys.readouterr())
            assert capsys.readouterr().out, line
