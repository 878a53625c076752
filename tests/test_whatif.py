"""What-if: hypotheses applied in memory, never written."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from ledger import InputError, Ledger, RuleViolation, parse_text

LEDGER = str(Path(sys.executable).parent / "ledger")
EQUITY_SWAP = Path(__file__).resolve().parent.parent / "features" / "whatif" / "equity-swap.yaml"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The real ``ledger`` command."""
    return subprocess.run([LEDGER, *args], capture_output=True, text=True, check=False)


@pytest.fixture
def store(tmp_path: Path) -> str:
    """A SQLite store holding the bundled history."""
    path = str(tmp_path / "ledger.sqlite")
    assert run("--store", path, "init", "--example", "openai-microsoft").returncode == 0
    return path


def digest(path: str) -> str:
    """The store file's SHA-256."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class TestWhatIfCommand:
    def test_a_file_changes_the_terms_and_not_the_store(self, store):
        """The equity swap shows its changes on the date, and the store keeps every byte."""
        before = digest(store)
        done = run("--store", store, "whatif", "--as-of", "2026-01-01", str(EQUITY_SWAP), "--json")
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert set(result) >= {"as_of", "baseline", "hypothetical", "difference"}
        clauses = {c["id"]: c for c in result["difference"]["clauses"]}
        assert clauses["openai-revenue-share"]["change"] == "removed"
        assert clauses["azure-revenue-share"]["terms"]["rate"] == {"from": "20", "to": "8"}
        assert result["difference"]["stakes"][0]["to"] == "30"
        assert result["baseline"]["ownership"]["stakes"] == []
        assert digest(store) == before

    def test_before_the_hypothesis_takes_effect_nothing_changes(self, store):
        """On a date before the file's events, the hypothetical agreement is the actual one."""
        done = run("--store", store, "whatif", "--as-of", "2025-06-01", str(EQUITY_SWAP), "--json")
        difference = json.loads(done.stdout)["difference"]
        assert difference == {
            "clauses": [],
            "investments": [],
            "stakes": [],
            "governance": [],
            "renegotiations": [],
        }

    def test_a_recorded_proposal_is_accepted_on_the_date(self, store):
        """Accepting equity-for-revenue removes the revenue share and concludes the talks."""
        before = digest(store)
        done = run(
            "--store",
            store,
            "whatif",
            "--as-of",
            "2025-06-01",
            "--proposal",
            "equity-for-revenue",
            "--json",
        )
        result = json.loads(done.stdout)
        assert result["difference"]["renegotiations"] == [
            {"id": "2025-terms", "from": "open", "to": "concluded"}
        ]
        removed = [c["id"] for c in result["difference"]["clauses"] if c["change"] == "removed"]
        assert removed == ["openai-revenue-share"]
        assert digest(store) == before

    def test_a_hypothesis_that_breaks_a_rule_is_refused(self, store, tmp_path):
        """Amending a clause that is not in force exits 2 naming the event and the field."""
        bad = tmp_path / "bad.yaml"
        bad.write_text(
            "agreement: openai-microsoft\nevents:\n"
            "  - type: amendment\n    effective_on: '2025-01-01'\n"
            "    source: {citation: x, confidence: estimated}\n"
            "    changes: [{amend: no-such-clause, terms: {text: x}}]\n"
        )
        done = run("--store", store, "whatif", "--as-of", "2026-01-01", str(bad))
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1
        assert "event 1 (amendment): changes[0].amend" in done.stderr
        assert "not in force" in done.stderr

    def test_two_proposals_side_by_side(self, store):
        """--compare shows each proposal's changes and the difference between them."""
        done = run(
            "--store",
            store,
            "whatif",
            "--as-of",
            "2025-06-01",
            "--compare",
            "equity-for-revenue",
            "agi-clause-removal",
            "--json",
        )
        result = json.loads(done.stdout)
        assert [c["proposal"] for c in result["compare"]] == [
            "equity-for-revenue",
            "agi-clause-removal",
        ]
        changed = {c["id"] for c in result["difference"]["clauses"]}
        assert {"agi-clause", "openai-revenue-share"} <= changed


class TestWhatIfApi:
    def test_known_at_limits_the_baseline(self):
        """A hypothesis is applied on the history as known at the given time."""
        with Ledger("memory:") as ledger:
            ledger.load_example()
            result = ledger.what_if(date(2025, 6, 1), proposal="agi-clause-removal")
            assert result.baseline.clause_in_force("agi-clause") is not None
            assert result.hypothetical.clause_in_force("agi-clause") is None
            assert ledger.state_at(date(2025, 6, 1)).clause_in_force("agi-clause") is not None

    def test_a_proposal_not_yet_made_is_refused(self):
        """Before the proposal was made, accepting it is refused with the proposals known."""
        with Ledger("memory:") as ledger:
            ledger.load_example()
            with pytest.raises(InputError, match="expected a proposal recorded by 2024-06-01"):
                ledger.what_if(date(2024, 6, 1), proposal="equity-for-revenue")

    def test_a_backdated_hypothesis_breaking_a_later_event_is_refused(self):
        """Removing the revenue share before the proposal that removes it breaks the talks."""
        file = parse_text(
            "agreement: openai-microsoft\nevents:\n"
            "  - {type: amendment, effective_on: '2024-01-01',\n"
            "     changes: [{remove: openai-revenue-share}],\n"
            "     source: {citation: x, confidence: estimated}}\n",
            "h.yaml",
        )
        with Ledger("memory:") as ledger:
            ledger.load_example()
            result = ledger.what_if(date(2025, 6, 1), facts=file.events)
            assert result.hypothetical.clause_in_force("openai-revenue-share") is None
            with pytest.raises(RuleViolation, match="not in force"):
                ledger.what_if(date(2025, 6, 1), facts=file.events, proposal="equity-for-revenue")
