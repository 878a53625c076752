"""The real installed ``ledger`` command, run as a subprocess on a temporary SQLite store."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

LEDGER = Path(sys.executable).parent / "ledger"
OPENED_ON = "2019-07-01"

BACKDATED = """\
agreement: openai-microsoft
events:
  - type: amendment
    effective_on: 2020-06-01
    source: {citation: "Test amendment", confidence: reported}
    changes:
      - amend: azure-exclusivity
        terms: {exclusive: false, right_of_first_refusal: true}
"""

CORRECTIONS = """\
agreement: openai-microsoft
events:
  - type: correction
    corrects: openai-microsoft#2
    reason: "the figure was wrong"
    source: {citation: "Test filing", confidence: confirmed}
    replacement:
      type: investment
      effective_on: 2019-07-01
      date_precision: month
      investor: microsoft
      recipient: openai
      amount: {amount: "2000000000", currency: USD}
      instrument: profit_interest
      source: {citation: "Test filing", confidence: confirmed}
  - type: retraction
    retracts: openai-microsoft#11
    reason: "never happened"
    source: {citation: "Test notice", confidence: confirmed}
"""

NEGATIVE_AMOUNT = """\
agreement: openai-microsoft
events:
  - type: investment
    effective_on: 2021-01-01
    investor: microsoft
    recipient: openai
    amount: {amount: "-5", currency: USD}
    instrument: equity
    source: {citation: "Test", confidence: reported}
"""

NOT_IN_FORCE = """\
{"agreement": "openai-microsoft", "events": [
  {"type": "investment", "effective_on": "2021-01-01", "investor": "microsoft",
   "recipient": "openai", "amount": {"amount": "5", "currency": "USD"},
   "instrument": "equity", "source": {"citation": "Test", "confidence": "reported"}},
  {"type": "amendment", "effective_on": "2031-01-01",
   "changes": [{"amend": "microsoft-ip-rights", "terms": {"scope": "all"}}],
   "source": {"citation": "Test", "confidence": "reported"}}]}
"""


def run(
    *args: str, store: Path | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``ledger [--store STORE] ARGS…``; the store may also come from ``LEDGER_STORE``."""
    env = {k: v for k, v in os.environ.items() if k != "LEDGER_STORE"}
    env.update({"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"})
    command = [str(LEDGER), *(["--store", str(store)] if store else []), *args]
    return subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=cwd, timeout=60, check=False
    )


def ok(*args: str, store: Path) -> str:
    """The standard output of a command that must succeed."""
    done = run(*args, store=store)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def json_of(*args: str, store: Path) -> Any:
    """The JSON a command prints."""
    return json.loads(ok(*args, "--json", store=store))


def replay(store: Path, day: str, *more: str) -> dict[str, Any]:
    """``replay --as-of DAY --json``."""
    state: dict[str, Any] = json_of("replay", "--as-of", day, *more, store=store)
    return state


def clause(state: dict[str, Any], clause_id: str) -> dict[str, Any] | None:
    """The clause in force with that id, if any."""
    return next((c for c in state["clauses"] if c["id"] == clause_id), None)


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    """The single line a refused command prints on standard error, with no traceback."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def no_floats(value: Any) -> bool:
    """Whether no number in ``value`` is a float."""
    if isinstance(value, float):
        return False
    if isinstance(value, dict):
        return all(no_floats(v) for v in value.values())
    if isinstance(value, list):
        return all(no_floats(v) for v in value)
    return True


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the bundled example, shared by tests that only read it."""
    store = tmp_path_factory.mktemp("example") / "ledger.sqlite"
    done = run("init", "--example", "openai-microsoft", store=store)
    assert done.returncode == 0, done.stderr
    return store


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A fresh store holding the bundled example, for a test that writes."""
    path = tmp_path / "ledger.sqlite"
    ok("init", "--example", "openai-microsoft", store=path)
    return path


def example_with(factory: pytest.TempPathFactory, text: str, name: str) -> tuple[Path, str]:
    """A new store: the example, then the file ``text``; and the time just before the append."""
    path = factory.mktemp("store") / "ledger.sqlite"
    ok("init", "--example", "openai-microsoft", store=path)
    before = last_recorded_at(path)
    done = append_text(path, text, name)
    assert done.returncode == 0, done.stderr
    assert "openai-microsoft#12" in done.stdout
    return path, before


@pytest.fixture(scope="module")
def amended(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The example plus the backdated exclusivity amendment; the time just before it."""
    return example_with(tmp_path_factory, BACKDATED, "backdated.yaml")


@pytest.fixture(scope="module")
def corrected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The example with its investment corrected and #11 retracted; the time before that."""
    return example_with(tmp_path_factory, CORRECTIONS, "corrections.yaml")


def last_recorded_at(store: Path) -> str:
    """When the latest event in the store was recorded."""
    return max(e["recorded_at"] for e in json_of("history", store=store))


def append_text(store: Path, text: str, name: str) -> subprocess.CompletedProcess[str]:
    """Write ``text`` to ``name`` beside the store and ``ledger append`` it."""
    path = store.parent / name
    path.write_text(text, encoding="utf-8")
    return run("append", str(path), store=store)


class TestInit:
    """``ledger init --example openai-microsoft``."""

    def test_init_loads_the_example(self, tmp_path: Path) -> None:
        """The store is created and the bundled events loaded."""
        path = tmp_path / "new.sqlite"
        out = ok("init", "--example", "openai-microsoft", store=path)
        assert "openai-microsoft#1" in out
        assert path.is_file()
        assert len(json_of("history", store=path)) == 11

    def test_init_twice_is_refused(self, example: Path) -> None:
        """Loading the example into a store that holds it is refused with exit 2."""
        line = one_line_error(run("init", "--example", "openai-microsoft", store=example))
        assert "already holds" in line
        assert "openai-microsoft" in line

    def test_the_store_can_come_from_the_environment(self, tmp_path: Path) -> None:
        """``LEDGER_STORE`` names the store when ``--store`` is absent."""
        path = tmp_path / "env.sqlite"
        env = {k: v for k, v in os.environ.items() if k != "LEDGER_STORE"}
        env["LEDGER_STORE"] = str(path)
        done = subprocess.run(
            [str(LEDGER), "init", "--example", "openai-microsoft"],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert path.is_file()
        assert not (tmp_path / "ledger.sqlite").exists()
        assert len(json_of("history", store=path)) == 11


class TestReplay:
    """``ledger replay --as-of D --json``: DESIGN's keys and values."""

    def test_replay_json_has_designs_keys_and_values(self, example: Path) -> None:
        """On 2024-01-01 the example has its opening clauses, $1bn and four governance events."""
        state = replay(example, "2024-01-01")
        assert state["agreement"] == "openai-microsoft"
        assert state["as_of"] == "2024-01-01"
        assert datetime.fromisoformat(state["known_at"]).tzinfo is not None
        assert state["events_applied"] == 6
        assert state["parties"] == [
            {"id": "openai", "name": "OpenAI"},
            {"id": "microsoft", "name": "Microsoft"},
        ]
        assert sorted(c["id"] for c in state["clauses"]) == [
            "agi-clause",
            "azure-exclusivity",
            "azure-revenue-share",
            "microsoft-ip-rights",
            "microsoft-profit-share",
            "openai-revenue-share",
            "restructuring-veto",
        ]
        for item in state["clauses"]:
            assert {"id", "kind", "in_force_since", "until", "terms"} <= set(item)
            assert item["in_force_since"] == OPENED_ON
        assert clause(state, "azure-exclusivity")["kind"] == "exclusivity"
        assert clause(state, "azure-exclusivity")["terms"]["exclusive"] is True
        assert clause(state, "microsoft-ip-rights")["until"] == "2030-12-31"
        assert clause(state, "microsoft-profit-share")["terms"]["rate"] == "49"
        assert clause(state, "microsoft-profit-share")["terms"]["cap_multiple"] == "10"
        investments = state["ownership"]["investments"]
        assert [{k: i[k] for k in ("investor", "recipient", "total")} for i in investments] == [
            {
                "investor": "microsoft",
                "recipient": "openai",
                "total": {"amount": "1000000000", "currency": "USD"},
            }
        ]
        assert state["ownership"]["stakes"] == []
        assert state["renegotiations"] == []
        assert no_floats(state)

    def test_replay_json_governance_items(self, example: Path) -> None:
        """Governance items carry DESIGN's keys, with the source's precision."""
        events = replay(example, "2024-01-01")["governance"]["events"]
        assert [e["kind"] for e in events] == [
            "ceo_removed",
            "ceo_reinstated",
            "departure",
            "departure",
        ]
        first = events[0]
        assert {
            "id",
            "kind",
            "effective_on",
            "date_precision",
            "entity",
            "people",
            "description",
        } <= set(first)
        assert first["id"] == "openai-microsoft#3"
        assert first["effective_on"] == "2023-10-01"
        assert first["date_precision"] == "quarter"
        assert first["entity"] == "openai"
        assert first["people"] == ["Sam Altman"]

    def test_replay_json_renegotiations(self, example: Path) -> None:
        """In 2025 the talks are open with two pending proposals."""
        state = replay(example, "2025-06-01")
        assert state["events_applied"] == 11
        [talks] = state["renegotiations"]
        assert talks["id"] == "2025-terms"
        assert talks["status"] == "open"
        assert talks["topics"] == ["revenue_share", "agi_clause"]
        assert talks["initiated_by"] == "openai"
        assert [(p["id"], p["by"], p["status"]) for p in talks["proposals"]] == [
            ("equity-for-revenue", "openai", "pending"),
            ("agi-clause-removal", "microsoft", "pending"),
        ]
        assert talks["proposals"][1]["changes"] == [{"remove": "agi-clause"}]

    def test_a_clause_is_in_force_through_its_until_date(self, example: Path) -> None:
        """The IP rights run through 2030-12-31 and are gone the next day."""
        assert clause(replay(example, "2030-12-31"), "microsoft-ip-rights") is not None
        assert clause(replay(example, "2031-01-01"), "microsoft-ip-rights") is None

    def test_replay_before_the_opening_is_refused(self, example: Path) -> None:
        """A date before the agreement opened exits 2 naming the opening date."""
        line = one_line_error(run("replay", "--as-of", "2019-06-30", store=example))
        assert OPENED_ON in line

    def test_a_malformed_date_is_refused(self, example: Path) -> None:
        """``--as-of`` must be a date."""
        line = one_line_error(run("replay", "--as-of", "2019-02-30", store=example))
        assert "2019-02-30" in line

    def test_a_missing_store_is_an_error_of_its_own(self, tmp_path: Path) -> None:
        """Replaying a store that does not exist exits 1 with one line, creating nothing."""
        missing = tmp_path / "missing.sqlite"
        done = run("replay", "--as-of", "2024-01-01", store=missing)
        assert done.returncode == 1
        assert len(done.stderr.splitlines()) == 1
        assert "Traceback" not in done.stderr
        assert not missing.exists()


class TestBackdatedAmendment:
    """A backdated amendment shows from its effective date, and only as known after it."""

    def test_replay_shows_it_from_its_effective_date(self, amended: tuple[Path, str]) -> None:
        """Before 2020-06-01 exclusive; from then on, a right of first refusal."""
        store, _ = amended
        before = clause(replay(store, "2020-05-31"), "azure-exclusivity")
        assert before["terms"]["exclusive"] is True
        assert before["terms"].get("right_of_first_refusal") is None
        for day in ("2020-06-01", "2024-01-01"):
            after = clause(replay(store, day), "azure-exclusivity")
            assert after["terms"]["exclusive"] is False
            assert after["terms"]["right_of_first_refusal"] is True
            assert after["in_force_since"] == OPENED_ON
            assert after["amended_on"] == "2020-06-01"
            assert after["terms"]["holder"] == "microsoft"

    def test_known_at_before_the_append_shows_the_old_view(self, amended: tuple[Path, str]) -> None:
        """As known just before the append, 2024 still had exclusivity."""
        store, before = amended
        old = replay(store, "2024-01-01", "--known-at", before)
        assert clause(old, "azure-exclusivity")["terms"]["exclusive"] is True
        assert datetime.fromisoformat(old["known_at"]) == datetime.fromisoformat(before)
        assert old["events_applied"] == replay(store, "2024-01-01")["events_applied"] - 1

    def test_known_at_without_a_zone_is_utc(self, amended: tuple[Path, str]) -> None:
        """A timestamp without a zone means UTC: the same old view."""
        store, before = amended
        naive = datetime.fromisoformat(before).replace(tzinfo=None).isoformat()
        old = replay(store, "2024-01-01", "--known-at", naive)
        assert clause(old, "azure-exclusivity")["terms"]["exclusive"] is True

    def test_known_at_a_date_means_the_end_of_that_day(self, amended: tuple[Path, str]) -> None:
        """``--known-at DATE`` is that day's last instant, UTC."""
        store, before = amended
        day = datetime.fromisoformat(before).date().isoformat()
        state = replay(store, "2024-01-01", "--known-at", day)
        assert state["known_at"] == f"{day}T23:59:59.999999+00:00"
        done = run("replay", "--as-of", "2024-01-01", "--known-at", "2000-01-01", store=store)
        assert "not known yet" in one_line_error(done)

    def test_history_places_it_by_its_effective_date(self, amended: tuple[Path, str]) -> None:
        """The new event sits between the 2019 and 2023 events, with a later recorded_at."""
        store, before = amended
        history = json_of("history", store=store)
        ids = [e["id"] for e in history]
        assert ids.index("openai-microsoft#12") == 2
        new = history[2]
        assert new["effective_on"] == "2020-06-01"
        assert new["recorded_at"] > before

    def test_diff_json_shape(self, amended: tuple[Path, str]) -> None:
        """The difference across the amendment names the terms from and to, and the event."""
        store, _ = amended
        shown = json_of("diff", "2020-01-01", "2020-12-31", store=store)
        assert shown["from"] == "2020-01-01"
        assert shown["to"] == "2020-12-31"
        difference = shown["difference"]
        assert set(difference) >= {
            "clauses",
            "investments",
            "stakes",
            "governance",
            "renegotiations",
        }
        assert difference["clauses"] == [
            {
                "id": "azure-exclusivity",
                "change": "amended",
                "terms": {
                    "exclusive": {"from": True, "to": False},
                    "right_of_first_refusal": {"from": None, "to": True},
                },
                "until": None,
                "caused_by": ["openai-microsoft#12"],
            }
        ]
        assert difference["investments"] == []
        assert difference["governance"] == []


class TestDiff:
    """``ledger diff D1 D2 --json`` over the example."""

    def test_diff_lists_governance_and_renegotiations(self, example: Path) -> None:
        """From the opening to mid-2025: new governance events and the open talks."""
        shown = json_of("diff", OPENED_ON, "2025-06-01", store=example)
        difference = shown["difference"]
        assert difference["clauses"] == []
        assert difference["investments"] == []
        assert difference["stakes"] == []
        assert [g["kind"] for g in difference["governance"]] == [
            "ceo_removed",
            "ceo_reinstated",
            "departure",
            "departure",
            "other",
            "other",
        ]
        assert all(set(g) >= {"id", "kind", "effective_on"} for g in difference["governance"])
        assert difference["renegotiations"] == [{"id": "2025-terms", "from": None, "to": "open"}]

    def test_diff_across_the_until_date_removes_the_clause(self, example: Path) -> None:
        """The IP rights expire: a removal, with its until going away."""
        difference = json_of("diff", "2030-12-31", "2031-01-01", store=example)["difference"]
        [removed] = difference["clauses"]
        assert removed["id"] == "microsoft-ip-rights"
        assert removed["change"] == "removed"
        assert removed["until"] == {"from": "2030-12-31", "to": None}


class TestRefusedAppend:
    """A refused file exits 2 with one line naming file, event and field; nothing is written."""

    @pytest.mark.parametrize(
        ("name", "text", "where"),
        [
            ("negative.yaml", NEGATIVE_AMOUNT, "event 1 (investment): amount.amount: "),
            ("not-in-force.json", NOT_IN_FORCE, "event 2 (amendment): changes[0].amend: "),
        ],
    )
    def test_a_bad_file_is_refused_and_writes_nothing(
        self, example: Path, name: str, text: str, where: str
    ) -> None:
        """The line names the file, the event and its field; history is unchanged."""
        before = ok("history", "--json", store=example)
        done = append_text(example, text, name)
        line = one_line_error(done)
        assert name in line
        assert where in line
        assert "expected" in line
        assert done.stdout == ""
        assert ok("history", "--json", store=example) == before

    def test_a_debug_run_shows_the_traceback(self, example: Path) -> None:
        """``--debug`` adds the traceback to the refusal."""
        path = example.parent / "negative.yaml"
        path.write_text(NEGATIVE_AMOUNT, encoding="utf-8")
        done = run("--debug", "append", str(path), store=example)
        assert done.returncode == 2
        assert "Traceback" in done.stderr


class TestHistory:
    """``ledger history --json``: ids, dates, sources; withdrawals after their targets."""

    def test_history_items_have_designs_keys(self, example: Path) -> None:
        """Every item has DESIGN's keys, oldest effective date first."""
        history = json_of("history", store=example)
        assert [e["id"] for e in history] == [f"openai-microsoft#{n}" for n in range(1, 12)]
        for item in history:
            assert {"id", "type", "effective_on", "date_precision", "recorded_at", "source"} <= set(
                item
            )
            assert "citation" in item["source"]
            assert datetime.fromisoformat(item["recorded_at"]).tzinfo is not None
        assert len({e["recorded_at"] for e in history}) == 1
        dates = [e["effective_on"] for e in history]
        assert dates == sorted(dates)
        assert history[0]["type"] == "agreement_opened"
        assert history[0]["date_precision"] == "month"
        assert history[1]["amount"] == {"amount": "1000000000", "currency": "USD"}

    def test_corrections_and_retractions_follow_their_targets(
        self, corrected: tuple[Path, str]
    ) -> None:
        """Each withdrawal comes right after the event it withdraws, which says withdrawn_by."""
        store, _ = corrected
        history = json_of("history", store=store)
        ids = [e["id"] for e in history]
        target = ids.index("openai-microsoft#2")
        assert history[target]["withdrawn_by"] == "openai-microsoft#12"
        correction = history[target + 1]
        assert correction["id"] == "openai-microsoft#12"
        assert correction["type"] == "correction"
        assert correction["corrects"] == "openai-microsoft#2"
        assert correction["effective_on"] is None
        assert correction["replacement"]["amount"]["amount"] == "2000000000"
        retracted = ids.index("openai-microsoft#11")
        assert history[retracted]["withdrawn_by"] == "openai-microsoft#13"
        assert history[retracted + 1]["id"] == "openai-microsoft#13"
        assert history[retracted + 1]["type"] == "retraction"
        assert "withdrawn_by" not in history[ids.index("openai-microsoft#3")]
        assert correction["recorded_at"] == history[retracted + 1]["recorded_at"]

    def test_replay_honours_withdrawals_as_known(self, corrected: tuple[Path, str]) -> None:
        """After the correction the total is $2bn; as known before it, $1bn."""
        store, before = corrected
        now = replay(store, "2025-06-01")
        total = now["ownership"]["investments"][0]["total"]
        assert total == {"amount": "2000000000", "currency": "USD"}
        assert "openai-microsoft#11" not in [g["id"] for g in now["governance"]["events"]]
        assert now["events_applied"] == 10
        old = replay(store, "2025-06-01", "--known-at", before)
        assert old["ownership"]["investments"][0]["total"]["amount"] == "1000000000"
        assert old["events_applied"] == 11

    def test_history_known_at_hides_later_appends(self, corrected: tuple[Path, str]) -> None:
        """``--known-at`` a time before an append lists what was known then."""
        store, before = corrected
        old = json_of("history", "--known-at", before, store=store)
        assert len(old) == 11
        assert all("withdrawn_by" not in e for e in old)


class TestVerify:
    """``ledger verify`` checks the hash chain."""

    def test_verify_passes_on_an_intact_store(
        self, example: Path, amended: tuple[Path, str]
    ) -> None:
        """A store written only by the ledger verifies, before and after an append."""
        assert "11 events" in ok("verify", store=example)
        assert "12 events" in ok("verify", store=amended[0])

    def test_verify_names_a_tampered_event(self, store: Path) -> None:
        """An event edited behind the ledger's back fails with exit 1, naming it."""
        with sqlite3.connect(store) as connection:
            connection.execute(
                "UPDATE stored_events SET state = replace(state, '1000000000', '9000000000') "
                "WHERE originator_version = 2"
            )
        connection.close()
        done = run("verify", store=store)
        assert done.returncode == 1
        assert "openai-microsoft#2" in done.stderr
        assert len(done.stderr.splitlines()) == 1
