"""Behaviours a review of the ledger found wanting, pinned once fixed."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from strategies import AGREEMENT, SOURCE, amendment, document, event, investment, opening, stake

from ledger import InputError, InvalidField, Ledger, RuleViolation
from ledger.adapters.files import parse_document, parse_text
from ledger.domain.difference import difference

LEDGER = str(Path(sys.executable).parent / "ledger")
CUSTOM = [{"id": "c1", "kind": "custom", "terms": {"text": "one"}}]


class Clock:
    """A clock that moves one second per reading."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def ledger() -> Any:
    """acme-globex in memory, opened on 2020-01-01 with one custom clause."""
    with Ledger("memory:", clock=Clock()) as opened:
        opened.append(parse_document(document([opening(clauses=CUSTOM)])).events)
        yield opened


def append(ledger: Ledger, *events: dict[str, Any]) -> None:
    """Append ``events`` as one file."""
    ledger.append(parse_document(document(list(events))).events, agreement=AGREEMENT)


def correction(target: str, replacement: dict[str, Any]) -> dict[str, Any]:
    """A correction of ``target``."""
    return {
        "type": "correction",
        "corrects": target,
        "reason": "typo",
        "source": SOURCE,
        "replacement": replacement,
    }


class TestCorrectionsKeepTheirPlace:
    def test_a_corrected_stake_stays_before_a_later_recorded_one_on_its_day(self, ledger):
        """Correcting the first of two same-day stakes leaves the second in force."""
        append(
            ledger,
            stake("2021-01-01", "acme", "globex-labs", "50"),
            stake("2021-01-01", "acme", "globex-labs", "60"),
        )
        append(
            ledger, correction(f"{AGREEMENT}#2", stake("2021-01-01", "acme", "globex-labs", "55"))
        )
        stakes = ledger.state_at(date(2021, 1, 1)).stakes
        assert stakes[("acme", "globex-labs")].percent.value == 60

    def test_correcting_an_added_clause_does_not_break_its_same_day_amendment(self, ledger):
        """An add and an amend on one day: correcting the add is accepted."""
        add = amendment(
            "2021-01-01", {"add": {"id": "c2", "kind": "custom", "terms": {"text": "a"}}}
        )
        amend = amendment("2021-01-01", {"amend": "c2", "terms": {"text": "b"}})
        append(ledger, add, amend)
        fixed = amendment(
            "2021-01-01", {"add": {"id": "c2", "kind": "custom", "terms": {"text": "A"}}}
        )
        append(ledger, correction(f"{AGREEMENT}#2", fixed))
        clause = ledger.state_at(date(2021, 1, 1)).clause_in_force("c2")
        assert clause is not None
        assert clause.terms.text == "b"


class TestBlame:
    def test_the_event_that_breaks_a_later_one_is_named_not_a_harmless_neighbour(self, ledger):
        """A remove before a recorded amend, then an unrelated investment: event 1 is blamed."""
        append(ledger, amendment("2021-01-01", {"amend": "c1", "terms": {"text": "two"}}))
        with pytest.raises(RuleViolation) as caught:
            append(ledger, amendment("2020-06-01", {"remove": "c1"}), investment("2020-12-01"))
        assert caught.value.event_index == 1
        assert caught.value.event_type == "amendment"
        assert "would break" in str(caught.value)

    def test_a_retraction_that_breaks_a_later_event_is_named(self, ledger):
        """A retraction has no date; when it breaks a later event it is still the one named."""
        append(
            ledger, amendment("2021-01-01", {"add": {"id": "c2", "kind": "custom", "terms": {}}})
        )
        append(ledger, amendment("2022-01-01", {"remove": "c2"}))
        retraction = {
            "type": "retraction",
            "retracts": f"{AGREEMENT}#2",
            "reason": "x",
            "source": SOURCE,
        }
        with pytest.raises(RuleViolation) as caught:
            append(ledger, investment("2020-12-01"), retraction)
        assert (caught.value.event_index, caught.value.event_type) == (2, "retraction")


class TestRetractingCorrections:
    def test_retracting_a_correction_of_the_opening_restores_it(self, ledger):
        """The opening cannot be retracted, but a correction of it can."""
        moved = {**opening(clauses=CUSTOM), "title": "Acme and Globex, corrected"}
        append(ledger, correction(f"{AGREEMENT}#1", moved))
        assert ledger.state_at(date(2021, 1, 1)).title == "Acme and Globex, corrected"
        append(
            ledger,
            {"type": "retraction", "retracts": f"{AGREEMENT}#2", "reason": "x", "source": SOURCE},
        )
        assert ledger.state_at(date(2021, 1, 1)).title != "Acme and Globex, corrected"


class TestWhatIf:
    def test_a_past_view_refuses_a_breaking_hypothesis_with_its_event(self, ledger):
        """A hypothesis on the history as known earlier is refused naming its event."""
        append(ledger, amendment("2021-01-01", {"amend": "c1", "terms": {"text": "two"}}))
        then = datetime.now(UTC) + timedelta(days=400)
        append(ledger, investment("2021-06-01"))
        remove = parse_document(document([amendment("2020-06-01", {"remove": "c1"})])).events
        with pytest.raises(RuleViolation, match="would break"):
            ledger.what_if(date(2023, 1, 1), facts=remove, known_at=then)


class TestProposalsAreShapedWhenMade:
    def test_a_veto_over_an_unknown_kind_is_refused_when_proposed(self, ledger):
        """A proposal adding a veto over something that is not a governance kind is refused."""
        opened = event(
            "renegotiation_opened", "2021-01-01", renegotiation="talks", initiated_by="acme"
        )
        veto = {"add": {"id": "v", "kind": "veto", "terms": {"holder": "acme", "over": ["bogus"]}}}
        proposal = event(
            "proposal", "2021-02-01", renegotiation="talks", proposal="p", by="acme", changes=[veto]
        )
        with pytest.raises(RuleViolation, match="bogus"):
            append(ledger, opened, proposal)

    def test_unknown_terms_of_a_clause_in_force_are_refused_when_proposed(self, ledger):
        """Amending a term the clause's kind does not have is refused when proposed."""
        opened = event(
            "renegotiation_opened", "2021-01-01", renegotiation="talks", initiated_by="acme"
        )
        proposal = event(
            "proposal",
            "2021-02-01",
            renegotiation="talks",
            proposal="p",
            by="acme",
            changes=[{"amend": "c1", "terms": {"rate": "5"}}],
        )
        with pytest.raises(InvalidField, match="not a term of a custom clause"):
            append(ledger, opened, proposal)


class TestInput:
    @pytest.mark.parametrize(
        ("text", "name"),
        [
            ("agreement: a\nevents:\n  - {type: investment, amount: 1, amount: 2}\n", "f.yaml"),
            ('{"events": [{"type": "investment", "amount": 1, "amount": 2}]}', "f.json"),
        ],
    )
    def test_a_key_written_twice_is_refused(self, text, name):
        """YAML or JSON that states one field twice is ambiguous, so refused."""
        with pytest.raises(InputError, match="twice"):
            parse_text(text, name)

    def test_amended_rates_are_kept_in_plain_form(self):
        """A rate written "8.0" is recorded as "8"."""
        file = parse_text(
            "events:\n  - type: amendment\n    effective_on: '2021-01-01'\n"
            "    source: {citation: x, confidence: reported}\n"
            "    changes: [{amend: c, terms: {rate: '8.0',\n"
            "               threshold: {amount: '1.50', currency: USD}}}]\n",
            "f.yaml",
        )
        assert file.events[0].changes[0].terms == {
            "rate": "8",
            "threshold": {"amount": "1.5", "currency": "USD"},
        }

    def test_a_naive_known_at_is_utc(self, ledger):
        """The Python API reads a time without a zone as UTC, like the CLI."""
        assert ledger.state_at(date(2021, 1, 1), known_at=datetime(2030, 1, 1)).events_applied == 1


class TestDifferences:
    def test_a_retracted_governance_event_shows_as_removed(self, ledger):
        """What a hypothesis takes away from the governance record is listed too."""
        append(ledger, event("governance", "2021-01-01", kind="other", entity="acme"))
        before = ledger.state_at(date(2022, 1, 1))
        append(
            ledger,
            {"type": "retraction", "retracts": f"{AGREEMENT}#2", "reason": "x", "source": SOURCE},
        )
        after = ledger.state_at(date(2022, 1, 1))
        assert [(g.id, g.change) for g in difference(before, after).governance] == [
            (f"{AGREEMENT}#2", "removed")
        ]


class TestCommandLine:
    def test_a_refused_append_to_a_new_store_leaves_no_file(self, tmp_path):
        """Nothing is written, not even an empty store."""
        bad = tmp_path / "bad.yaml"
        bad.write_text("events: []\n")
        store = tmp_path / "new.sqlite"
        done = subprocess.run(
            [LEDGER, "--store", str(store), "append", str(bad)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 2
        assert not store.exists()

    def test_a_basic_iso_date_for_known_at_is_the_end_of_that_day(self):
        """--known-at 20261124 means the end of 24 November, as 2026-11-24 does."""
        from ledger.entrypoints.moments import parse_moment

        assert parse_moment("20261124") == parse_moment("2026-11-24")
        assert parse_moment("2026-11-24").hour == 23
