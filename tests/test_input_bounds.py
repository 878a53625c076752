"""Careless and hostile input (issue "values read as written, bounded work"): values are
read as written, every echoed value and every error line is short, every text has a
size limit, output never lets a stored text act on the terminal, and `--store` and
`--known-at` refuse what they cannot use in one line (exit 2).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from nasty import INVESTMENT, SOURCE, billion_laughs_lists, billion_laughs_mappings
from rich.console import Console

from ledger import FileError, InputError, Ledger, parse_text, structure_fact
from ledger.adapters.files import node_budget
from ledger.adapters.store import StoreLocation
from ledger.domain.codec import MAX_NAME, MAX_TEXT
from ledger.entrypoints.cli import main
from ledger.errors import MAX_LINE, InvalidField, one_line, printable, shown
from ledger.presentation.tables import show_history

Run = Callable[..., subprocess.CompletedProcess[str]]

OPENING: dict[str, Any] = {
    "type": "agreement_opened",
    "effective_on": "2020-01-01",
    "agreement": "acme-globex",
    "title": "Acme–Globex",
    "parties": [{"id": "acme", "name": "Acme"}, {"id": "globex", "name": "Globex"}],
    "clauses": [{"id": "supply", "kind": "exclusivity", "terms": {"holder": "acme"}}],
    "source": SOURCE,
}
YAML_OPENING = """\
agreement: acme-globex
events:
  - type: agreement_opened
    effective_on: {effective_on}
    title: Acme and Globex
    parties: [{{id: acme, name: Acme}}, {{id: globex, name: Globex}}]
    clauses:
      - {{id: side-letter, kind: custom, terms: {{text: {text}}}}}
    source: {{citation: Board minutes, confidence: confirmed}}
"""


def yaml_opening(effective_on: str = "'2020-01-01'", text: str = "a side letter") -> str:
    return YAML_OPENING.format(effective_on=effective_on, text=text)


def refusal(text: str, name: str = "file.yaml") -> str:
    """The one line with which ``text`` is refused."""
    with pytest.raises(FileError) as caught:
        parse_text(text, name)
    message = str(caught.value)
    assert len(message.splitlines()) == 1, message
    assert len(message) <= MAX_LINE, message
    return message


def as_json(*events: dict[str, Any]) -> str:
    return json.dumps({"agreement": "acme-globex", "events": list(events)})


def check_one_short_line(stderr: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert len(lines[0]) <= MAX_LINE + 20, lines[0]  # the "ledger: " prefix and the like
    assert "Traceback" not in stderr


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    with Ledger(str(path)) as ledger:
        ledger.append([structure_fact(OPENING), structure_fact(INVESTMENT)])
    return path


# -- §1 values read as written ---------------------------------------------------------


class TestValuesReadAsWritten:
    """What a file says is what the ledger reads, or it is refused on its field."""

    def test_a_timestamp_tag_in_an_openings_date_is_refused(self) -> None:
        """``!!timestamp`` in ``effective_on`` of an opening: a YAML type, refused."""
        message = refusal(yaml_opening(effective_on="!!timestamp 2020-01-01"))
        assert "got a YAML timestamp" in message

    def test_a_plain_timestamp_in_an_events_date_is_refused_on_its_field(self) -> None:
        """An unquoted date and time stays text, and is not a date."""
        message = refusal(yaml_opening(effective_on="2020-01-01 10:00:00"))
        assert "effective_on: expected a date as YYYY-MM-DD, got '2020-01-01 10:00:00'" in message

    def test_a_timestamp_in_custom_terms_text_stays_the_text_written(self) -> None:
        """A custom clause's text that looks like a timestamp is kept as written."""
        written = "2001-12-14t21:59:43.10-05:00"
        file = parse_text(yaml_opening(text=written), "file.yaml")
        assert file.events[0].clauses[0].terms.text == written

    def test_a_timestamp_tag_in_custom_terms_text_is_refused(self) -> None:
        """``!!timestamp`` inside the terms is refused too."""
        assert "got a YAML timestamp" in refusal(yaml_opening(text="!!timestamp 2001-12-14"))

    @pytest.mark.parametrize(
        "key",
        ["? [a, b]\n    : c", "? {a: 1}\n    : c", "[a, b]: c", "{a: 1}: c", "? - a\n    : c"],
    )
    def test_a_complex_key_is_refused(self, key: str) -> None:
        """A key that is a list or a mapping is refused, wherever it is."""
        text = f"agreement: acme-globex\nevents:\n  - type: investment\n    {key}\n"
        assert "expected a plain key, got a list or mapping" in refusal(text)

    @pytest.mark.parametrize(
        "number",
        [
            "012", "00", "0o12", "0x1F", "0X1f", "0b101", "1_000", "1:30", "190:20:30",
            "1e3", "1E3", "1.5e3", "1.0e+3", ".inf", "-.inf", ".Inf", ".nan", ".NaN",
            "1.", ".5", "+.5", "0x_1F", "1__0", "-0x1",
        ],
    )  # fmt: skip
    @pytest.mark.parametrize("field", ["amount", "percent"])
    def test_numbers_in_other_yaml_spellings_are_refused(self, number: str, field: str) -> None:
        """YAML 1.1 integers and floats (octal, hex, binary, sexagesimal, separators,
        exponents, special floats) are not plain decimals: refused on their field."""
        if field == "amount":
            event = f"{{type: investment, effective_on: '2021-01-02', investor: acme, recipient: globex, amount: {{amount: {number}, currency: USD}}, instrument: equity, source: {{citation: c, confidence: confirmed}}}}"  # noqa: E501
            path = "amount.amount"
        else:
            event = f"{{type: ownership_change, effective_on: '2021-01-02', holder: acme, entity: globex, percent: {number}, source: {{citation: c, confidence: confirmed}}}}"  # noqa: E501
            path = "percent"
        message = refusal(f"agreement: acme-globex\nevents:\n  - {event}\n")
        assert (
            f"event 1 ({'investment' if field == 'amount' else 'ownership_change'}): {path}: "
            in message
        )
        assert number in message

    @pytest.mark.parametrize(("written", "read"), [("12", "12"), ("12.50", "12.5"), ("0", "0")])
    def test_plain_decimals_are_read_as_written(self, written: str, read: str) -> None:
        """A plain decimal, quoted or not, is that decimal."""
        for spelled in (written, f"'{written}'"):
            text = f"agreement: acme-globex\nevents:\n  - {{type: ownership_change, effective_on: '2021-01-02', holder: acme, entity: globex, percent: {spelled}, source: {{citation: c, confidence: confirmed}}}}\n"  # noqa: E501
            assert str(parse_text(text, "f.yaml").events[0].percent) == f"{read}%"

    def test_a_number_where_text_is_expected_is_refused_as_written(self) -> None:
        """``citation: 012`` is neither 12 nor 10: it is refused, showing ``012``."""
        text = yaml_opening().replace("citation: Board minutes", "citation: 012")
        assert "source.citation: expected text, got 012" in refusal(text)

    def test_a_leading_zero_is_not_json(self) -> None:
        """JSON has no leading zeros: the file is not JSON."""
        text = as_json(INVESTMENT).replace('"amount": "5"', '"amount": 012')
        assert "expected JSON: " in refusal(text, "f.json")

    @pytest.mark.parametrize("number", ["1e3", "1E+3", "5.0e0", "-1e-3", "NaN", "Infinity"])
    def test_json_exponents_and_constants_are_refused_on_their_field(self, number: str) -> None:
        """JSON numbers with exponents, NaN and infinities: refused on their field."""
        text = as_json(INVESTMENT).replace('"amount": "5"', f'"amount": {number}')
        message = refusal(text, "f.json")
        assert "event 1 (investment): amount.amount: expected " in message
        assert number.lstrip("-") in message

    def test_a_json_integer_beyond_pythons_digit_limit_is_refused_on_its_field(self) -> None:
        """A 5,000-digit JSON integer is refused by the ledger's digit limit, not by
        Python's conversion limit."""
        text = as_json(INVESTMENT).replace('"amount": "5"', f'"amount": {"7" * 5000}')
        message = refusal(text, "f.json")
        assert "amount.amount: expected at most 18 integer digits, got '777" in message
        assert "(5,000 characters)" in message

    def test_a_json_key_written_twice_is_refused(self) -> None:
        """A duplicate key would silently keep the last value: refused, naming it."""
        text = as_json(INVESTMENT).replace(
            '"investor": "acme"', '"investor": "acme", "investor": "x"'
        )
        assert "found the key 'investor' twice in one object" in refusal(text, "f.json")


class TestKnownAtOutOfRange:
    """A --known-at the calendar cannot hold in UTC is bad input, not a crash."""

    @pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
    def test_refused_with_exit_2_and_one_line(self, store: Path, run_cli: Run, moment: str) -> None:
        done = run_cli(
            "--store", str(store), "replay", "--as-of", "2021-01-02", "--known-at", moment
        )
        assert done.returncode == 2, done.stderr
        check_one_short_line(done.stderr)
        assert "expected a time from 0001-01-01 to 9999-12-31 in UTC" in done.stderr

    def test_the_last_moment_in_utc_is_fine(self, store: Path, run_cli: Run) -> None:
        done = run_cli(
            "--store",
            str(store),
            "replay",
            "--as-of",
            "2021-01-02",
            "--known-at",
            "9999-12-31T23:59:59+00:00",
        )
        assert done.returncode == 0, done.stderr


# -- §2 bounded work, bounded messages -----------------------------------------------


class TestBillionLaughs:
    """Aliases never make a small file a large document."""

    @pytest.mark.parametrize(
        ("build", "size"), [(billion_laughs_lists, 650), (billion_laughs_mappings, 752)]
    )
    def test_refused_in_process(self, build: Callable[[], bytes], size: int) -> None:
        data = build()
        assert len(data) == size
        message = refusal(data.decode(), "laughs.yaml")
        assert "once its aliases are expanded" in message

    def test_refused_by_the_command(self, store: Path, run_cli: Run, tmp_path: Path) -> None:
        """Exit 2, one short line, nothing written."""
        before = store.read_bytes()
        for build in (billion_laughs_lists, billion_laughs_mappings):
            path = tmp_path / "laughs.yaml"
            path.write_bytes(build())
            done = run_cli("--store", str(store), "append", str(path))
            assert done.returncode == 2, done.stderr
            check_one_short_line(done.stderr)
        assert store.read_bytes() == before

    def test_a_dense_yaml_text_is_refused_before_it_is_all_read(self) -> None:
        """More values than one per five characters: refused as the parser counts them."""
        text = "events:\n" + "- 1\n" * 30_000
        message = refusal(text)
        assert f"expected YAML of at most {node_budget(len(text)):,} values" in message

    def test_shared_aliases_within_the_budget_are_fine(self) -> None:
        """An anchor used as people use them (one source for many events) is read."""
        events = "".join(
            f"  - {{type: investment, effective_on: '2021-01-02', investor: acme, recipient: globex, amount: {{amount: '{n}', currency: USD}}, instrument: equity, source: {'&s ' if n == 1 else '*'}{'{citation: c, confidence: confirmed}' if n == 1 else 's'}}}\n"  # noqa: E501
            for n in range(1, 200)
        )
        file = parse_text(f"agreement: acme-globex\nevents:\n{events}", "f.yaml")
        assert len(file.events) == 199


class TestShownValues:
    """An echoed value is a short prefix with its length."""

    def test_long_text_is_cut_with_its_length(self) -> None:
        assert shown("abc" * 2_000_000) == "'" + "abc" * 20 + "…' (6,000,000 characters)"

    def test_short_values_are_their_repr(self) -> None:
        for value in ("initech", 12, None, True, ["x"], {"a": 1}, [], {}):
            assert shown(value) == repr(value)

    def test_long_lists_show_their_first_items_and_count(self) -> None:
        assert shown(["x"] * 70_000).endswith(", …] (70,000 items)")

    def test_deep_lists_stop_at_three_levels(self) -> None:
        assert shown([[[[["deep"]]]]]) == "[[[[…] (1 item)]]]"

    def test_an_error_line_is_capped_and_one_line(self) -> None:
        """The safety net: whatever a message quotes, its line is short."""
        error = InvalidField("source.citation", "expected x, got " + "y" * 7_000_000)
        assert len(str(error)) <= MAX_LINE
        assert "characters cut" in str(error)
        assert one_line("a\nb\u2028c") == "a b c"

    def test_control_characters_are_escaped_in_error_lines(self) -> None:
        assert one_line("bad \x1b[31m") == "bad \\x1b[31m"

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("type", "t" * 7_000_000),
            ("effective_on", "2" * 7_000_000),
            ("investor", "acme" * 1_750_000),
            ("amount", {"amount": "1" * 7_000_000, "currency": "USD"}),
            ("amount", {"amount": "5", "currency": "U" * 7_000_000}),
            ("instrument", "e" * 7_000_000),
            ("k" * 7_000_000, 1),
        ],
    )
    def test_a_seven_megabyte_value_gives_a_short_line(self, field: str, value: Any) -> None:
        """Wherever a 7 MB value lands, the refusal is a line of a few hundred characters."""
        message = refusal(as_json({**INVESTMENT, field: value}), "big.json")
        assert len(message) <= MAX_LINE
        assert "7,000,000" in message or "expected at most 10,000 characters" in message

    def test_a_seven_megabyte_value_by_the_command(
        self, store: Path, run_cli: Run, tmp_path: Path
    ) -> None:
        path = tmp_path / "big.json"
        path.write_text(as_json({**INVESTMENT, "effective_on": "2" * 7_000_000}))
        done = run_cli("--store", str(store), "append", str(path))
        assert done.returncode == 2
        check_one_short_line(done.stderr)
        assert "(7,000,000 characters)" in done.stderr


TEXTS = [
    ("investment", "source.citation", MAX_TEXT),
    ("investment", "source.quote", MAX_TEXT),
    ("investment", "note", MAX_TEXT),
    ("governance", "description", MAX_TEXT),
    ("governance", "people[0]", MAX_NAME),
    ("retraction", "reason", MAX_TEXT),
    ("termination", "reason", MAX_TEXT),
    ("amendment", "changes[0].add.terms.text", MAX_TEXT),
    ("amendment", "changes[0].add.terms.scope", MAX_TEXT),
    ("amend", "changes[0].terms.scope", MAX_TEXT),
    ("agreement_opened", "title", MAX_NAME),
    ("agreement_opened", "parties[0].name", MAX_NAME),
    ("renegotiation_opened", "topics[0]", MAX_NAME),
    ("correction", "replacement.title", MAX_NAME),
]


def event_with_text(kind: str, path: str, text: str) -> dict[str, Any]:
    """An event of ``kind`` (``amend``: an amendment amending terms) with ``text`` at ``path``."""
    dated = {"effective_on": "2021-01-02", "source": SOURCE}
    events: dict[str, dict[str, Any]] = {
        "investment": {**INVESTMENT, "source": {**SOURCE, "quote": "q"}, "note": "n"},
        "governance": {
            **dated, "type": "governance", "kind": "other", "entity": "globex",
            "people": ["p"], "description": "d",
        },
        "retraction": {
            "type": "retraction", "retracts": "acme-globex#2", "reason": "r", "source": SOURCE,
        },
        "termination": {**dated, "type": "termination", "reason": "r"},
        "amendment": {
            **dated, "type": "amendment",
            "changes": [{"add": {"id": "new", "kind": "custom", "terms": {"text": "t"}}}],
        },
        "amend": {
            **dated, "type": "amendment",
            "changes": [{"amend": "supply", "terms": {"scope": "s"}}],
        },
        "agreement_opened": {**OPENING, "agreement": "other"},
        "renegotiation_opened": {
            **dated, "type": "renegotiation_opened", "renegotiation": "talks",
            "initiated_by": "acme", "topics": ["t"],
        },
        "correction": {
            "type": "correction", "corrects": "acme-globex#1", "reason": "r", "source": SOURCE,
            "replacement": OPENING,
        },
    }  # fmt: skip
    event = json.loads(json.dumps(events[kind]))
    if path == "changes[0].add.terms.scope":
        event["changes"][0]["add"] = {"id": "new", "kind": "ip_rights", "terms": {"scope": "s"}}
    *parents, last = path.replace("[0]", ".0").split(".")
    target: Any = event
    for name in parents:
        target = target[int(name)] if name.isdigit() else target[name]
    if last.isdigit():
        target[int(last)] = text
    else:
        target[last] = text
    return event


class TestTextLimits:
    """Every text has a documented size limit, refused naming its field."""

    @pytest.mark.parametrize(("kind", "path", "limit"), TEXTS)
    def test_at_the_limit_is_accepted(self, store: Path, kind: str, path: str, limit: int) -> None:
        event = event_with_text(kind, path, "é" * limit)
        agreement = "other" if kind == "agreement_opened" else "acme-globex"
        text = json.dumps({"agreement": agreement, "events": [event]})
        with Ledger(str(store)) as ledger:
            assert len(ledger.append_file("-", stdin_text=text)) == 1

    @pytest.mark.parametrize(("kind", "path", "limit"), TEXTS)
    def test_over_the_limit_is_refused_naming_the_field(
        self, store: Path, kind: str, path: str, limit: int
    ) -> None:
        event = event_with_text(kind, path, "é" * (limit + 1))
        agreement = "other" if kind == "agreement_opened" else "acme-globex"
        text = json.dumps({"agreement": agreement, "events": [event]})
        before = store.read_bytes()
        with Ledger(str(store)) as ledger, pytest.raises(InputError) as caught:
            ledger.append_file("-", stdin_text=text)
        expected = f"{path}: expected at most {limit:,} characters, got {limit + 1:,}"
        assert expected in str(caught.value)
        assert store.read_bytes() == before

    def test_a_fifty_megabyte_quote(self) -> None:
        """The issue's example, word for word."""
        source = {**SOURCE, "quote": "q" * 50_000_000}
        message = refusal(as_json({**INVESTMENT, "source": source}), "quote.json")
        assert message.endswith("source.quote: expected at most 10,000 characters, got 50,000,000")


class TestTerminalSafety:
    """Texts the ledger holds are shown, never acted on by the terminal."""

    CITATION = "\x1b[2J\x1b[31mred\x1b]0;owned\x07 [/nope] [bold]x \u202eevil\rover"

    def test_history_shows_control_characters_escaped(self, store: Path) -> None:
        event = {**INVESTMENT, "source": {**SOURCE, "citation": self.CITATION}}
        with Ledger(str(store)) as ledger:
            ledger.append([structure_fact(event)])
            entries = ledger.history()
        out = io.StringIO()
        show_history(entries, Console(file=out, width=300, color_system=None))
        shown_text = out.getvalue()
        for raw in ("\x1b", "\u202e", "\r"):
            assert raw not in shown_text
        assert "\\x1b[2J" in shown_text
        assert "\\u202eevil" in shown_text
        assert "[/nope] [bold]x" in shown_text  # brackets are text, not markup

    def test_the_command_prints_them_escaped(self, store: Path, run_cli: Run) -> None:
        event = {**INVESTMENT, "source": {**SOURCE, "citation": self.CITATION}}
        with Ledger(str(store)) as ledger:
            ledger.append([structure_fact(event)])
        done = run_cli("--store", str(store), "history")
        assert done.returncode == 0, done.stderr
        assert "\x1b" not in done.stdout
        assert "\\x1b[31mred" in done.stdout

    def test_printable_keeps_line_breaks_tabs_and_letters(self) -> None:
        assert printable("a\nb\tc é 中 👩‍💻") == "a\nb\tc é 中 👩‍💻"
        assert printable("\x00\x7f\x9b\u2028") == "\\x00\\x7f\\x9b\\u2028"


class TestStoreLocations:
    """`--store` names something the ledger can use, or is refused before anything is made."""

    @pytest.mark.parametrize(
        "command",
        [
            ("init",),
            ("append", "-"),
            ("replay", "--as-of", "2024-01-01"),
            ("verify",),
            ("history",),
        ],
    )
    def test_dev_null_is_refused_and_leaves_no_journal(
        self, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
    ) -> None:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("sys.stdin", io.StringIO(as_json(INVESTMENT)))
            assert main(["--store", "/dev/null", *command]) == 2
        stderr = capsys.readouterr().err
        check_one_short_line(stderr)
        assert "not a regular file" in stderr
        assert not Path("/dev/null-journal").exists()
        assert not Path("/dev/null-wal").exists()

    def test_dev_null_by_the_command(self, run_cli: Run) -> None:
        done = run_cli("--store", "/dev/null", "init")
        assert done.returncode == 2, done.stderr
        assert "not a regular file" in done.stderr
        assert not Path("/dev/null-journal").exists()

    @pytest.mark.parametrize(
        "schema", ["a%3Fb", "a?b", "a%25b", "a%22b", 'a"b', "Upper", "1st", "x" * 64]
    )
    def test_a_schema_name_that_is_not_plain_is_refused(
        self, capsys: pytest.CaptureFixture[str], schema: str
    ) -> None:
        """Refused before connecting: no server needed to say so."""
        url = f"postgresql://postgres@127.0.0.1:5432/test?schema={schema}"
        assert main(["--store", url, "init"]) == 2
        stderr = capsys.readouterr().err
        check_one_short_line(stderr)
        assert "expected a schema name of lower-case letters, digits and '_'" in stderr

    def test_two_schemas_are_refused(self) -> None:
        location = StoreLocation("postgresql://u@h/db?schema=a&schema=b")
        with pytest.raises(InputError, match="expected one"):
            location.env()

    def test_a_plain_schema_name_works(self, postgres_server: str, run_cli: Run) -> None:
        import psycopg

        schema = f"ledger_test_{os.getpid()}_x9"
        with psycopg.connect(postgres_server, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        try:
            done = run_cli("--store", f"{postgres_server}?schema={schema}", "init")
            assert done.returncode == 0, done.stderr
        finally:
            with psycopg.connect(postgres_server, autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA "{schema}" CASCADE')

    def test_sqlite_url_with_three_slashes_is_an_absolute_path(
        self, tmp_path: Path, run_cli: Run
    ) -> None:
        path = tmp_path / "abs.sqlite"
        done = run_cli("--store", f"sqlite://{path}", "init")
        assert done.returncode == 0, done.stderr
        assert path.exists()
        assert StoreLocation(f"sqlite://{path}").path == path

    def test_sqlite_url_with_two_slashes_is_relative(self) -> None:
        assert StoreLocation("sqlite://rel/ledger.sqlite").path == Path("rel/ledger.sqlite")
