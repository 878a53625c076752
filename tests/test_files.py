"""Amendment files: YAML and JSON to events, error lines, and the round trip back."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from strategies import amendment_files, histories

from ledger import FileError, InvalidField, parse_text, read_file, structure_fact
from ledger.adapters.files import AmendmentFile, dump_json, dump_yaml, parse_document
from ledger.domain.clauses import AmendClause, RemoveClause
from ledger.domain.events import AgreementOpened, Correction, Investment, unstructure_fact
from ledger.domain.values import DatePrecision

YAML_FILE = """\
agreement: acme-globex
events:
  - type: amendment
    effective_on: 2025-01-21
    source: {citation: "Board minutes", confidence: reported}
    changes:
      - amend: supply-exclusivity
        terms: {exclusive: false, right_of_first_refusal: true}
      - remove: globex-revenue-share
  - type: investment
    effective_on: 2023-01-23
    investor: acme
    recipient: globex
    amount: {amount: "10000000000", currency: USD}
    instrument: profit_interest
    source: {citation: "Annual report", quote: "ten billion", confidence: reported}
  - {type: ownership_change, effective_on: 2025-10-01, date_precision: quarter,
     holder: acme, entity: globex, percent: "27", source: {citation: c, confidence: confirmed}}
"""

INVESTMENT = {
    "type": "investment",
    "effective_on": "2023-01-23",
    "investor": "acme",
    "recipient": "globex",
    "amount": {"amount": "10", "currency": "USD"},
    "instrument": "equity",
    "source": {"citation": "c", "confidence": "reported"},
}


def as_json(events: list[dict[str, Any]], agreement: str = "acme-globex") -> str:
    """A JSON amendment file holding ``events``."""
    return json.dumps({"agreement": agreement, "events": events})


def with_fields(**fields: Any) -> dict[str, Any]:
    """The investment with some fields replaced (``None`` removes one)."""
    changed = {**INVESTMENT, **fields}
    return {k: v for k, v in changed.items() if v is not None}


def error_of(text: str, name: str = "file.yaml") -> str:
    """The one-line message with which ``text`` is refused."""
    with pytest.raises(FileError) as caught:
        parse_text(text, name)
    message = str(caught.value)
    assert "\n" not in message
    assert caught.value.filename == name
    return message


class TestParsing:
    """Files in YAML and JSON become the same events."""

    def test_a_yaml_file_gives_typed_events(self) -> None:
        """The example file parses into an amendment, an investment and a stake."""
        file = parse_text(YAML_FILE, "2025.yaml")
        assert file.agreement == "acme-globex"
        assert [fact.TYPE for fact in file.events] == [
            "amendment",
            "investment",
            "ownership_change",
        ]
        amend, removal = file.events[0].changes
        assert amend == AmendClause(
            id="supply-exclusivity", terms={"exclusive": False, "right_of_first_refusal": True}
        )
        assert removal == RemoveClause(id="globex-revenue-share")
        money = file.events[1].amount
        assert (money.amount, money.currency) == (Decimal("10000000000"), "USD")
        assert file.events[1].source.quote == "ten billion"
        assert file.events[2].date_precision is DatePrecision.QUARTER
        assert file.events[2].effective_on == date(2025, 10, 1)

    def test_json_gives_the_same_events_as_yaml(self) -> None:
        """The same document in JSON parses to equal events."""
        document = yaml.safe_load(YAML_FILE)
        text = json.dumps(document, default=str)
        assert parse_text(text, "2025.json").events == parse_text(YAML_FILE, "2025.yaml").events

    @pytest.mark.parametrize(
        ("name", "prefix"), [("x.json", ""), ("x.yaml", " \n"), ("x", "\ufeff"), ("x.txt", "")]
    )
    def test_json_is_recognised_by_extension_or_first_character(
        self, tmp_path: Path, name: str, prefix: str
    ) -> None:
        """A file is JSON when it ends in .json or starts with { or [."""
        path = tmp_path / name
        path.write_text(prefix + as_json([INVESTMENT]), encoding="utf-8")
        assert read_file(str(path)).events[0].TYPE == "investment"

    def test_a_bare_list_of_events_is_a_file_without_an_agreement(self) -> None:
        """A top-level list is the events; the file names no agreement."""
        file = parse_text(json.dumps([INVESTMENT]), "bare.json")
        assert file.agreement is None
        assert isinstance(file.events[0], Investment)

    def test_the_opening_takes_the_files_agreement(self) -> None:
        """An agreement_opened without its own agreement belongs to the file's."""
        opened = {
            "type": "agreement_opened",
            "effective_on": "2020-01-01",
            "title": "t",
            "parties": [{"id": "acme", "name": "Acme"}],
            "source": {"citation": "c", "confidence": "confirmed"},
        }
        file = parse_text(as_json([opened]), "open.json")
        assert isinstance(file.events[0], AgreementOpened)
        assert file.events[0].agreement == "acme-globex"

    def test_standard_input_is_read_with_dash(self) -> None:
        """``-`` reads the given standard input, named <stdin> in errors."""
        assert read_file("-", as_json([INVESTMENT])).events[0].TYPE == "investment"
        with pytest.raises(FileError, match=r"^<stdin>: "):
            read_file("-", "[}")

    def test_yaml_dates_stay_text_until_checked(self) -> None:
        """Unquoted YAML dates parse through the date field, not PyYAML's resolver."""
        text = YAML_FILE.replace("2023-01-23", "2023-1-23")
        assert "effective_on: expected a date as YYYY-MM-DD, got '2023-1-23'" in error_of(text)


class TestErrorLines:
    """``FILE: event N (type): field: expected …, got …`` on one line."""

    @pytest.mark.parametrize(
        ("event", "line"),
        [
            (
                with_fields(amount={"amount": "10", "currency": "usd"}),
                "amount.currency: expected a three-letter currency code such as USD, got 'usd'",
            ),
            (with_fields(investor=5), "investor: expected text, got 5"),
            (with_fields(investor=None), "investor: required field is missing"),
            (
                with_fields(instrument="stock"),
                "instrument: expected one of equity, profit_interest, cloud_credits, other, "
                "got 'stock'",
            ),
            (with_fields(colour="red"), "colour: unknown field (expected one of"),
            (
                with_fields(source={"citation": "c", "confidence": "sure"}),
                "source.confidence: expected one of confirmed, reported, estimated, got 'sure'",
            ),
            (
                with_fields(date_precision="quarter"),
                "effective_on: expected the first day of the quarter (date_precision quarter), "
                "got '2023-01-23'",
            ),
            (
                with_fields(amount={"amount": "1e9", "currency": "USD"}),
                "amount.amount: expected a plain decimal number (no exponent), got '1e9'",
            ),
        ],
        ids=["currency", "not-text", "missing", "enum", "unknown", "nested", "precision", "exp"],
    )
    def test_a_field_error_names_file_event_type_and_field(
        self, event: dict[str, Any], line: str
    ) -> None:
        """The second event of the file is at fault, and the line says so."""
        message = error_of(as_json([INVESTMENT, event]), "bad.json")
        assert message.startswith(f"bad.json: event 2 (investment): {line}")

    @pytest.mark.parametrize(
        ("field", "value", "path"),
        [
            ("effective_on", "2023-02-30", "effective_on"),
            ("effective_on", "2023-02-29", "effective_on"),
            ("until", "2023-13-01", "changes[0].until"),
            ("until", "2023-04-31", "changes[0].until"),
        ],
    )
    def test_an_impossible_date_is_reported_with_its_field(
        self, field: str, value: str, path: str
    ) -> None:
        """An unquoted impossible YAML date is an error of its field, not of YAML."""
        text = f"""\
agreement: acme-globex
events:
  - type: amendment
    effective_on: {value if field == "effective_on" else "2023-02-01"}
    changes: [{{amend: x, until: {value if field == "until" else "2030-01-01"}}}]
    source: {{citation: c, confidence: reported}}
"""
        message = error_of(text)
        assert message == (
            f"file.yaml: event 1 (amendment): {path}: expected a date that exists, got '{value}'"
        )

    def test_an_impossible_date_inside_a_replacement(self) -> None:
        """A correction's replacement is checked field by field, its path prefixed."""
        correction = {
            "type": "correction",
            "corrects": "acme-globex#2",
            "reason": "r",
            "source": {"citation": "c", "confidence": "reported"},
            "replacement": with_fields(effective_on="2023-02-30"),
        }
        assert error_of(as_json([correction]), "c.json") == (
            "c.json: event 1 (correction): replacement.effective_on: "
            "expected a date that exists, got '2023-02-30'"
        )

    def test_an_unknown_event_type(self) -> None:
        """An event type outside the vocabulary is refused, listing the vocabulary."""
        message = error_of(as_json([INVESTMENT, with_fields(type="merger")]), "t.json")
        assert message.startswith(
            "t.json: event 2 (merger): type: expected one of agreement_opened"
        )
        assert message.endswith("retraction, got 'merger'")

    def test_a_missing_event_type(self) -> None:
        """An event without a type is refused on its ``type`` field."""
        message = error_of(as_json([with_fields(type=None)]), "t.json")
        assert message == "t.json: event 1: type: required field is missing"

    def test_an_unknown_clause_kind(self) -> None:
        """A clause kind outside the vocabulary is refused with its path."""
        text = as_json(
            [
                {
                    "type": "amendment",
                    "effective_on": "2023-02-01",
                    "changes": [{"add": {"id": "x", "kind": "non_compete", "terms": {}}}],
                    "source": {"citation": "c", "confidence": "reported"},
                }
            ]
        )
        assert error_of(text, "k.json") == (
            "k.json: event 1 (amendment): changes[0].add.kind: expected one of exclusivity, "
            "revenue_share, profit_share, ip_rights, veto, agi_clause, custom, got 'non_compete'"
        )

    def test_an_unknown_term_of_a_clause_kind(self) -> None:
        """A term the kind does not have is refused, listing the kind's terms."""
        text = as_json(
            [
                {
                    "type": "amendment",
                    "effective_on": "2023-02-01",
                    "changes": [
                        {"add": {"id": "x", "kind": "veto", "terms": {"holder": "a", "rate": "1"}}}
                    ],
                    "source": {"citation": "c", "confidence": "reported"},
                }
            ]
        )
        assert error_of(text, "k.json") == (
            "k.json: event 1 (amendment): changes[0].add.terms.rate: "
            "not a term of a veto clause (expected holder, over)"
        )

    def test_an_unknown_veto_scope_may_be_null(self) -> None:
        """A term the source leaves unknown may be null, ``over`` included."""
        text = as_json(
            [
                {
                    "type": "amendment",
                    "effective_on": "2023-02-01",
                    "changes": [
                        {"add": {"id": "x", "kind": "veto", "terms": {"holder": "a", "over": None}}}
                    ],
                    "source": {"citation": "c", "confidence": "reported"},
                }
            ]
        )
        assert parse_text(text, "k.json").events[0].changes[0].terms.over == ()

    @pytest.mark.parametrize(
        ("text", "problem"),
        [
            ("agreement: a\nevents: [", "expected YAML: "),
            ('{"agreement": "a", "events": [', "expected JSON: "),
            ("agreement: a\nevents: []\n", "events: expected at least one event, got none"),
            ("agreement: a\n", "events: expected a list of events, got nothing"),
            ("agreement: a\nevents: {}\nextra: 1\n", "extra: unknown field"),
            ("agreement: Not A Slug\nevents: [1]\n", "agreement: expected an id"),
            ("- 1\n", "event 1: expected an event (a mapping with a type), got 1"),
        ],
    )
    def test_a_malformed_document(self, text: str, problem: str) -> None:
        """A document that is not a file of events says what it expected."""
        assert error_of(text).startswith(f"file.yaml: {problem}")

    def test_nan_in_json_names_its_event_and_field(self) -> None:
        """A JSON NaN amount is refused like any bad amount: with its event and field."""
        text = as_json([INVESTMENT]).replace('"amount": "10"', '"amount": NaN')
        message = error_of(text, "nan.json")
        assert message.startswith("nan.json: event 1 (investment): amount.amount: ")

    @pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
    def test_nan_and_infinities_in_json_are_refused(self, constant: str) -> None:
        """NaN and infinities never get into the ledger from JSON."""
        text = as_json([INVESTMENT]).replace('"amount": "10"', f'"amount": {constant}')
        assert constant.lstrip("-") in error_of(text, "nan.json")

    @pytest.mark.parametrize("constant", [".nan", ".inf", "-.inf"])
    def test_nan_and_infinities_in_yaml_are_refused(self, constant: str) -> None:
        """YAML's special floats are refused on their field."""
        text = YAML_FILE.replace('amount: "10000000000"', f"amount: {constant}")
        assert error_of(text).startswith("file.yaml: event 2 (investment): amount.amount: ")

    def test_an_unreadable_file(self, tmp_path: Path) -> None:
        """A missing file is refused with its name."""
        missing = tmp_path / "missing.yaml"
        with pytest.raises(FileError, match=r"missing\.yaml: cannot read the file"):
            read_file(str(missing))

    def test_a_file_that_is_not_utf8(self, tmp_path: Path) -> None:
        """Bytes that are not UTF-8 are refused with their position."""
        path = tmp_path / "latin1.yaml"
        path.write_bytes(b"agreement: caf\xe9\n")
        with pytest.raises(FileError, match="expected UTF-8 text, got an invalid byte at 14"):
            read_file(str(path))


class TestUnsafeYaml:
    """Only plain data is loaded from YAML: no Python objects, ever."""

    @pytest.mark.parametrize(
        "tag",
        [
            "!!python/object/apply:os.remove",
            "!!python/object/new:os.remove",
            "!!python/name:os.remove",
        ],
    )
    def test_python_tags_are_refused_and_never_run(self, tmp_path: Path, tag: str) -> None:
        """``!!python/…`` tags are refused before anything is constructed."""
        victim = tmp_path / "victim.txt"
        victim.write_text("still here", encoding="utf-8")
        text = f"agreement: acme-globex\nevents:\n  - {tag} [{json.dumps(str(victim))}]\n"
        message = error_of(text, "evil.yaml")
        assert message.startswith("evil.yaml: expected YAML: could not determine a constructor")
        assert victim.read_text(encoding="utf-8") == "still here"


def same_facts(first: AmendmentFile, second: AmendmentFile) -> None:
    """Two files hold the same agreement and equal events."""
    assert second.agreement == first.agreement
    assert second.events == first.events


class TestRoundTrip:
    """Structure → unstructure → structure gives the same events, in YAML and JSON."""

    @settings(max_examples=60, deadline=None)
    @given(amendment_files())
    def test_plain_form_round_trips(self, document: dict[str, Any]) -> None:
        """``to_plain`` of a parsed file parses back to equal events."""
        file = parse_document(document)
        same_facts(file, parse_document(file.to_plain()))

    @settings(max_examples=40, deadline=None)
    @given(amendment_files())
    def test_yaml_round_trips(self, document: dict[str, Any]) -> None:
        """``dump_yaml`` writes text that parses back to equal events."""
        file = parse_document(document)
        same_facts(file, parse_text(dump_yaml(file), "round.yaml"))

    @settings(max_examples=40, deadline=None)
    @given(amendment_files())
    def test_json_round_trips(self, document: dict[str, Any]) -> None:
        """``dump_json`` writes text that parses back to equal events."""
        file = parse_document(document)
        same_facts(file, parse_text(dump_json(file), "round.json"))

    @settings(max_examples=30, deadline=None)
    @given(histories())
    def test_valid_histories_round_trip(self, document: dict[str, Any]) -> None:
        """A valid history survives YAML and JSON alike."""
        file = parse_document(document)
        same_facts(file, parse_text(dump_yaml(file), "h.yaml"))
        same_facts(file, parse_text(dump_json(file), "h.json"))

    @settings(max_examples=60, deadline=None)
    @given(amendment_files())
    def test_each_event_round_trips_through_structure_fact(self, document: dict[str, Any]) -> None:
        """``unstructure_fact`` then ``structure_fact`` gives the same event."""
        for fact in parse_document(document).events:
            plain = unstructure_fact(fact)
            assert plain["type"] == fact.TYPE
            assert structure_fact(plain) == fact

    def test_yaml_keeps_a_next_line_character(self) -> None:
        """Every character of a note survives ``dump_yaml``."""
        file = parse_document({"agreement": "acme-globex", "events": [with_fields(note="a\x85b")]})
        assert parse_text(dump_yaml(file), "nel.yaml").events[0].note == "a\x85b"

    def test_dumped_yaml_quotes_dates(self) -> None:
        """Dates are written so that they read back as text."""
        text = dump_yaml(parse_text(YAML_FILE, "f.yaml"))
        assert re.search(r"effective_on: '2025-01-21'", text)

    def test_the_opening_omits_the_files_agreement(self) -> None:
        """In the plain form the opening leaves out the agreement the file names."""
        opened = {
            "type": "agreement_opened",
            "effective_on": "2020-01-01",
            "title": "t",
            "parties": [{"id": "acme", "name": "Acme"}],
            "source": {"citation": "c", "confidence": "confirmed"},
        }
        plain = parse_text(as_json([opened]), "o.json").to_plain()
        assert plain["agreement"] == "acme-globex"
        assert "agreement" not in plain["events"][0]

    def test_a_corrections_plain_form_keeps_its_replacement(self) -> None:
        """A correction unstructures with its replacement's type and date."""
        correction = {
            "type": "correction",
            "corrects": "acme-globex#2",
            "reason": "r",
            "source": {"citation": "c", "confidence": "reported"},
            "replacement": INVESTMENT,
        }
        fact = parse_text(as_json([correction]), "c.json").events[0]
        assert isinstance(fact, Correction)
        plain = unstructure_fact(fact)
        assert plain["replacement"]["type"] == "investment"
        assert plain["replacement"]["effective_on"] == "2023-01-23"
        assert "effective_on" not in plain


def test_structure_fact_reports_paths_without_a_file() -> None:
    """Outside a file, ``structure_fact`` raises a field error with its path."""
    with pytest.raises(InvalidField) as caught:
        structure_fact(with_fields(amount={"amount": "-3", "currency": "USD"}))
    assert caught.value.path == "amount.amount"
    assert str(caught.value) == "amount.amount: expected a non-negative amount, got '-3'"


class TestMisspeltFields:
    """A misspelt key is named, with the field it was probably meant to be."""

    @pytest.mark.parametrize(
        ("event", "line"),
        [
            (
                with_fields(amount=None, ammount={"amount": "10", "currency": "USD"}),
                "event 1 (investment): ammount: unknown field (did you mean 'amount'?)",
            ),
            (
                with_fields(instrumnt="equity"),
                "event 1 (investment): instrumnt: unknown field (did you mean 'instrument'?)",
            ),
            (
                with_fields(source={"citaton": "c", "confidence": "reported"}),
                "event 1 (investment): source.citaton: unknown field (did you mean 'citation'?)",
            ),
            (
                with_fields(amount={"amuont": "10", "currency": "USD"}),
                "event 1 (investment): amount.amuont: unknown field (did you mean 'amount'?)",
            ),
            (
                {
                    "type": "amendment",
                    "effective_on": "2023-02-01",
                    "changes": [
                        {"add": {"id": "x", "kind": "revenue_share", "terms": {"rte": "1"}}}
                    ],
                    "source": {"citation": "c", "confidence": "reported"},
                },
                "changes[0].add.terms.rte: not a term of a revenue_share clause "
                "(did you mean 'rate'? expected payer, payee, rate, threshold, basis)",
            ),
        ],
        ids=["required", "optional", "nested", "money", "term"],
    )
    def test_the_key_and_its_close_match_are_named(self, event: dict[str, Any], line: str) -> None:
        """The unknown key is the field named, not the required field it left missing."""
        assert line in error_of(as_json([event]), "typo.json")

    def test_a_key_close_to_nothing_lists_the_fields(self) -> None:
        """With no close match, the message lists what was expected."""
        message = error_of(as_json([with_fields(colour="red")]), "typo.json")
        assert "colour: unknown field (expected one of effective_on, source," in message
