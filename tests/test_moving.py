"""Moving a ledger between stores: ``ledger export`` and ``ledger import``.

An export is a self-describing NDJSON log (ledger.adapters.moving); an import verifies the
whole file — shape, strict fields, version sequence, hash chains, heads, end line, every
rule — before it writes anything, and then keeps ids, recording times and chains as they
were. The laws: a round trip gives a byte-identical export, and every question, as known
at every time, gets the same answer on both stores.
"""

from __future__ import annotations

import io
import json
import re
import sqlite3
import subprocess
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import fresh_schema
from hypothesis import HealthCheck, given, settings
from test_checkpoints import Clock, outcome, questions, record, recordings

from ledger import FileError, IntegrityFailure, Ledger, structure_fact
from ledger.adapters import moving
from ledger.domain import chain
from ledger.domain.events import Fact
from ledger.errors import MAX_LINE, AgreementExists, AgreementNotFound

Run = Callable[..., subprocess.CompletedProcess[str]]
SOURCE = {"citation": "Board minutes", "confidence": "confirmed"}


def opening(agreement: str) -> dict[str, Any]:
    return {
        "type": "agreement_opened",
        "effective_on": "2020-01-01",
        "agreement": agreement,
        "title": f"The {agreement} agreement",
        "parties": [{"id": "acme", "name": "Acme"}, {"id": "globex", "name": "Globex"}],
        "clauses": [{"id": "supply", "kind": "exclusivity", "terms": {"holder": "acme"}}],
        "source": SOURCE,
    }


def investment(day: str, amount: str = "5") -> dict[str, Any]:
    return {
        "type": "investment",
        "effective_on": day,
        "investor": "acme",
        "recipient": "globex",
        "amount": {"amount": amount, "currency": "USD"},
        "instrument": "equity",
        "source": SOURCE,
    }


def fill(ledger: Ledger, agreement: str = "acme-globex") -> None:
    """An agreement in three appends: opening, two investments, a backdated amendment."""
    ledger.append([structure_fact(opening(agreement))])
    ledger.append(
        [structure_fact(investment("2021-01-02")), structure_fact(investment("2021-03-04", "7"))],
        agreement=agreement,
    )
    amendment = {
        "type": "amendment",
        "effective_on": "2020-06-01",
        "changes": [{"amend": "supply", "terms": {"exclusive": False}}],
        "source": SOURCE,
    }
    ledger.append([structure_fact(amendment)], agreement=agreement)


def exported(ledger: Ledger, agreement: str | None = None) -> bytes:
    out = io.BytesIO()
    ledger.export(out, agreement=agreement)
    return out.getvalue()


def imported(ledger: Ledger, data: bytes, name: str = "log.ndjson") -> tuple[str, ...]:
    return ledger.import_log(io.BytesIO(data), name).agreements


def lines_of(data: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in data.splitlines()]


def unlines(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(line) + b"\n" for line in lines)


def rechained(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines with every digest and head recomputed: a forgery whose chains hold."""
    previous = chain.GENESIS
    for line in lines:
        if "id" in line:
            if line["id"].endswith("#1"):
                previous = chain.GENESIS
            content = {"fact": line["event"], "recorded_at": line["recorded_at"]}
            line["digest"] = previous = chain.link_content(previous, content)
        elif "head" in line:
            line["digest"] = previous
    return lines


def store_rows(path: Path) -> list[tuple[Any, ...]]:
    """Every row of every table of a SQLite store."""
    with closing(sqlite3.connect(path)) as connection:
        tables = [
            n for (n,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return sorted(
            (table, *row)
            for table in tables
            for row in connection.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - from sqlite_master
        )


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A SQLite store with two agreements."""
    path = tmp_path / "source.sqlite"
    with Ledger(str(path)) as ledger:
        fill(ledger, "acme-globex")
        fill(ledger, "initech-umbrella")
    return path


@pytest.fixture
def log(source: Path) -> bytes:
    with Ledger(str(source)) as ledger:
        return exported(ledger)


class TestTheFormat:
    """What an export holds, line by line."""

    def test_header_events_heads_and_end(self, log: bytes) -> None:
        lines = lines_of(log)
        assert lines[0] == {"format": "contract-ledger-log", "version": 1}
        assert lines[-1] == {"end": {"agreements": 2, "events": 8}}
        first = lines[1]
        assert list(first) == ["id", "recorded_at", "event", "digest"]
        assert first["id"] == "acme-globex#1"
        assert first["event"]["type"] == "agreement_opened"
        heads = [line for line in lines if "head" in line]
        assert [h["head"] for h in heads] == ["acme-globex", "initech-umbrella"]
        assert heads[0] == {
            "head": "acme-globex",
            "version": 4,
            "digest": lines[4]["digest"],
            "recorded_at": lines[4]["recorded_at"],
        }

    def test_each_event_is_its_stored_plain_form_and_digest(self, source: Path, log: bytes) -> None:
        """The event and digest are the stored row's, so the digest can be recomputed."""
        with closing(sqlite3.connect(source)) as connection:
            states = [
                orjson.loads(s) for (s,) in connection.execute("SELECT state FROM stored_events")
            ]
        digests = {state["digest"] for state in states}
        previous = chain.GENESIS
        for line in lines_of(log)[1:5]:
            assert line["digest"] in digests
            content = {"fact": line["event"], "recorded_at": line["recorded_at"]}
            assert chain.link_content(previous, content) == line["digest"]
            previous = line["digest"]

    def test_one_agreement(self, source: Path) -> None:
        with Ledger(str(source)) as ledger:
            lines = lines_of(exported(ledger, "initech-umbrella"))
        assert {line["id"].split("#")[0] for line in lines if "id" in line} == {"initech-umbrella"}
        assert lines[-1] == {"end": {"agreements": 1, "events": 4}}

    def test_an_unknown_agreement_is_refused(self, source: Path) -> None:
        with Ledger(str(source)) as ledger, pytest.raises(AgreementNotFound):
            exported(ledger, "nobody")

    def test_an_empty_store(self, tmp_path: Path) -> None:
        with Ledger(str(tmp_path / "empty.sqlite")) as ledger:
            data = exported(ledger)
        assert lines_of(data) == [
            {"format": "contract-ledger-log", "version": 1},
            {"end": {"agreements": 0, "events": 0}},
        ]
        with Ledger(str(tmp_path / "other.sqlite")) as ledger:
            assert imported(ledger, data) == ()

    def test_a_tampered_store_is_not_exported(self, source: Path) -> None:
        """Export checks each event against its chain: a broken one stops it."""
        with closing(sqlite3.connect(source)) as connection:
            state = connection.execute(
                "SELECT state FROM stored_events WHERE originator_version = 3 LIMIT 1"
            ).fetchone()[0]
            connection.execute(
                "UPDATE stored_events SET state = ? WHERE state = ?",
                (state.replace(b'"7"', b'"70"'), state),
            )
            connection.commit()
        with (
            Ledger(str(source)) as ledger,
            pytest.raises(IntegrityFailure, match="#3 does not match"),
        ):
            exported(ledger)

    def test_progress_is_reported(self, source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        from ledger import application

        monkeypatch.setattr(application, "PROGRESS_EVERY", 2)
        seen: list[tuple[str, int, int | None]] = []

        def note(stage: str, done: int, total: int | None) -> None:
            seen.append((stage, done, total))

        with Ledger(str(source)) as ledger:
            data = io.BytesIO()
            ledger.export(data, progress=note)
        assert seen[-1] == ("exporting", 8, None)
        assert ("exporting", 2, None) in seen
        with Ledger("memory:") as ledger:
            ledger.import_log(io.BytesIO(data.getvalue()), "f", progress=note)
        assert ("checking the file", 8, None) in seen
        assert seen[-1] == ("writing", 8, 8)


class TestRoundTrips:
    """Export, import, export again: the same bytes, the same answers."""

    def test_sqlite_to_sqlite(self, tmp_path: Path, log: bytes) -> None:
        with Ledger(str(tmp_path / "copy.sqlite")) as ledger:
            assert imported(ledger, log) == ("acme-globex", "initech-umbrella")
            assert exported(ledger) == log
            assert ledger.verify() == 8
            assert ledger.agreements() == ["acme-globex", "initech-umbrella"]

    def test_sqlite_to_postgresql_to_sqlite(
        self, tmp_path: Path, log: bytes, postgres_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """(On PostgreSQL the rows go a chunk at a time, in one transaction: small chunks
        here, so that an agreement takes several.)"""
        from ledger import application

        monkeypatch.setattr(application, "POSTGRES_CHUNK", 3)
        with Ledger(postgres_url) as ledger:
            imported(ledger, log)
            again = exported(ledger)
            assert ledger.verify() == 8
        assert again == log
        with Ledger(str(tmp_path / "back.sqlite")) as ledger:
            imported(ledger, again)
            assert exported(ledger) == log

    def test_the_store_may_hold_other_agreements(self, tmp_path: Path, source: Path) -> None:
        with Ledger(str(source)) as ledger:
            one = exported(ledger, "initech-umbrella")
        with Ledger(str(tmp_path / "other.sqlite")) as ledger:
            fill(ledger, "wayne-stark")
            imported(ledger, one)
            # in the order they were first recorded: the imported one, long before
            assert ledger.agreements() == ["initech-umbrella", "wayne-stark"]
            assert ledger.verify() == 8

    def test_appending_after_an_import_continues_the_chain(
        self, tmp_path: Path, log: bytes
    ) -> None:
        with Ledger(str(tmp_path / "copy.sqlite")) as ledger:
            imported(ledger, log)
            appended = ledger.append(
                [structure_fact(investment("2022-01-01"))], agreement="acme-globex"
            )
            assert appended[0].id == "acme-globex#5"
            assert ledger.verify() == 9


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=recordings())
def test_every_answer_is_the_same_after_a_move(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[Fact]]
) -> None:
    """Random histories appended at different times (backdated, corrected, retracted):
    after export and import, every question as known at every time gets the same answer,
    and the export is the same bytes."""
    folder = tmp_path_factory.mktemp("move")
    with Ledger(str(folder / "from.sqlite"), clock=Clock()) as first:
        times = record(first, batches)
        data = exported(first)
        with Ledger(str(folder / "to.sqlite")) as second:
            assert_same_answers(first, second, data, batches, times)


@pytest.mark.postgres
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=recordings())
def test_every_answer_is_the_same_after_a_move_to_postgresql(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory, batches: list[list[Fact]]
) -> None:
    """The same law from SQLite to PostgreSQL."""
    folder = tmp_path_factory.mktemp("move")
    with Ledger(str(folder / "from.sqlite"), clock=Clock()) as first:
        times = record(first, batches)
        data = exported(first)
        with fresh_schema(postgres_server) as url, Ledger(url) as second:
            assert_same_answers(first, second, data, batches, times)


def assert_same_answers(
    first: Ledger, second: Ledger, data: bytes, batches: list[list[Fact]], times: list[datetime]
) -> None:
    imported(second, data)
    assert exported(second) == data
    assert second.verify() == first.verify()
    facts = [fact for batch in batches for fact in batch]
    for day, moment in questions(facts, times):
        expected = outcome(lambda: first.state_at(day, known_at=moment))  # noqa: B023
        assert outcome(lambda: second.state_at(day, known_at=moment)) == expected  # noqa: B023
    for moment in (*times, times[-1] + timedelta(days=1)):
        assert second.history(known_at=moment) == first.history(known_at=moment)


# -- refusals --------------------------------------------------------------------------


def edit(log: bytes, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> bytes:
    return unlines(change(lines_of(log)))


def changed_event(
    index: int, **fields: Any
) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    def change(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        lines[index]["event"] = {**lines[index]["event"], **fields}
        return lines

    return change


def with_line(index: int, **fields: Any) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    def change(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        lines[index] = {**lines[index], **fields}
        return lines

    return change


def without_line(index: int) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    def change(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        del lines[index]
        return lines

    return change


def swapped(first: int, second: int) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    def change(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        lines[first], lines[second] = lines[second], lines[first]
        return lines

    return change


def forged(
    change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    return lambda lines: rechained(change(lines))


def earlier(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    moment = datetime.fromisoformat(lines[1]["recorded_at"]) - timedelta(days=1)
    lines[3]["recorded_at"] = moment.isoformat()
    return lines


# Line numbers are 1-based: line 1 is the header, lines 2-5 acme-globex#1-4, line 6 its
# head, lines 7-10 initech-umbrella#1-4, line 11 its head, line 12 the end.
TAMPERING: list[tuple[str, Callable[[list[dict[str, Any]]], list[dict[str, Any]]], str]] = [
    (
        "an amount changed",
        changed_event(3, amount={"amount": "70", "currency": "USD"}),
        "line 4: acme-globex#3: its digest does not match",
    ),
    (
        "a digest changed",
        with_line(2, digest="0" * 64),
        "line 3: acme-globex#2: its digest does not match",
    ),
    (
        "a time changed",
        with_line(1, recorded_at="2020-01-01T00:00:00+00:00"),
        "line 2: acme-globex#1: its digest does not match",
    ),
    ("an event removed", without_line(3), "line 4: acme-globex#4: expected acme-globex#3"),
    ("two events swapped", swapped(2, 3), "line 3: acme-globex#3: expected acme-globex#2"),
    (
        "a head's version",
        with_line(5, version=3),
        "line 6: head of 'acme-globex': version: expected 4",
    ),
    (
        "a head's digest",
        with_line(5, digest="0" * 64),
        "line 6: head of 'acme-globex': digest: expected",
    ),
    (
        "a head's time",
        with_line(5, recorded_at="2020-01-01T00:00:00+00:00"),
        "line 6: head of 'acme-globex': recorded_at",
    ),
    (
        "a head removed",
        without_line(5),
        "line 6: initech-umbrella#1: expected the head line of 'acme-globex'",
    ),
    ("the end removed", without_line(11), "line 11: expected more lines"),
    (
        "the end's count",
        with_line(11, end={"agreements": 2, "events": 9}),
        "line 12: end: expected",
    ),
    ("the header's version", with_line(0, version=2), "line 1: expected format version 1, got 2"),
    ("another format", with_line(0, format="something-else"), "line 1: expected the header"),
    ("an unknown key", with_line(2, signature="x"), "line 3: expected an event line's keys"),
    (
        "a time in another spelling",
        forged(with_line(1, recorded_at="2026-01-01T00:00:00Z")),
        "line 2: acme-globex#1: recorded_at: expected an ISO time",
    ),
    ("a time going back", forged(earlier), "line 4: acme-globex#3: recorded_at: expected"),
    (
        "an agreement twice",
        forged(lambda lines: [*lines[:6], *lines[1:6], *lines[6:]]),
        "line 7: acme-globex#1: expected each agreement once",
    ),
    (
        "an opening renamed",
        forged(changed_event(1, agreement="other")),
        "line 2: acme-globex#1: event.agreement: expected 'acme-globex'",
    ),
    (
        "a second opening",
        forged(changed_event(2, **opening("acme-globex"))),
        "line 3: acme-globex#2: event.type: expected any event but",
    ),
    (
        "an unknown type",
        forged(changed_event(2, type="merger")),
        "line 3: acme-globex#2: event.type: expected one of",
    ),
    (
        "a field of the wrong shape",
        forged(changed_event(2, amount={"amount": "1e3", "currency": "USD"})),
        "line 3: acme-globex#2 (investment): amount.amount: expected a plain decimal",
    ),
    (
        "a text too long",
        forged(changed_event(2, note="n" * 10_001)),
        "line 3: acme-globex#2 (investment): note: expected at most 10,000 characters",
    ),
    (
        "a rule broken",
        forged(changed_event(3, investor="initech")),
        "line 4: acme-globex#3 (investment): investor: expected a party",
    ),
    (
        "a rule broken in the second agreement",
        forged(changed_event(8, investor="initech")),
        "line 9: initech-umbrella#3 (investment): investor: expected a party",
    ),
    (
        "bookkeeping in the event",
        forged(changed_event(2, digest="x")),
        "line 3: acme-globex#2: event: expected its plain form",
    ),
]


class TestRefusals:
    """A file that does not verify is refused whole (exit 2, one line naming the line and
    the event), and nothing is written."""

    @pytest.mark.parametrize(
        ("what", "change", "message"), TAMPERING, ids=[t[0] for t in TAMPERING]
    )
    def test_refused_naming_the_line_and_event(
        self,
        tmp_path: Path,
        log: bytes,
        what: str,
        change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
        message: str,
    ) -> None:
        target = tmp_path / "target.sqlite"
        with Ledger(str(target)) as ledger:
            ledger.agreements()
        before = store_rows(target)
        with Ledger(str(target)) as ledger, pytest.raises(FileError) as refused:
            imported(ledger, edit(log, change), "bad.ndjson")
        line = str(refused.value)
        assert line.startswith("bad.ndjson: "), line
        assert message in line, line
        assert len(line.splitlines()) == 1
        assert len(line) <= MAX_LINE
        assert refused.value.exit_code == 2
        assert store_rows(target) == before, what

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (b"", "line 1: expected a contract-ledger log, got an empty file"),
            (b"not json\n", "line 1: expected a JSON object"),
            (b"[1, 2]\n", "line 1: expected a JSON object, got [1, 2]"),
            (b"agreement: acme\nevents: []\n", "line 1: expected a JSON object"),
        ],
    )
    def test_what_is_not_a_log(self, data: bytes, message: str) -> None:
        with Ledger("memory:") as ledger, pytest.raises(FileError, match=re.escape(message)):
            imported(ledger, data)

    def test_a_file_cut_anywhere_is_refused(self, log: bytes) -> None:
        """Cut after any byte but the last, the file is refused, and nothing is written."""
        with Ledger("memory:") as ledger:
            for cut in range(0, len(log) - 1, max(1, len(log) // 97)):
                with pytest.raises(FileError):
                    imported(ledger, log[:cut])
            assert ledger.agreements() == []

    def test_something_after_the_end_is_refused(self, log: bytes) -> None:
        with Ledger("memory:") as ledger, pytest.raises(FileError, match="nothing after the end"):
            imported(ledger, log + b"{}\n")

    def test_an_agreement_the_store_holds_is_refused_and_nothing_is_written(
        self, tmp_path: Path, source: Path, log: bytes
    ) -> None:
        """The second agreement is already there: the first is not imported either."""
        target = tmp_path / "target.sqlite"
        with Ledger(str(source)) as ledger:
            second = exported(ledger, "initech-umbrella")
        with Ledger(str(target)) as ledger:
            imported(ledger, second)
        before = store_rows(target)
        with Ledger(str(target)) as ledger, pytest.raises(FileError) as refused:
            imported(ledger, log)
        assert "line 7: initech-umbrella#1: the store already holds the agreement" in str(
            refused.value
        )
        assert store_rows(target) == before

    def test_a_rule_broken_late_writes_no_earlier_agreement(
        self, tmp_path: Path, log: bytes
    ) -> None:
        bad = edit(log, forged(changed_event(8, investor="initech")))
        with Ledger(str(tmp_path / "t.sqlite")) as ledger:
            with pytest.raises(FileError):
                imported(ledger, bad)
            assert ledger.agreements() == []

    def test_an_agreement_recorded_by_another_writer_meanwhile(
        self, tmp_path: Path, log: bytes, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Another writer opens the agreement after the file was verified: the import
        stops there, saying what it had imported, and the other writer's log stands."""
        target = tmp_path / "target.sqlite"
        with Ledger(str(target)) as ledger:
            fill(ledger, "initech-umbrella")
            theirs = exported(ledger)
            monkeypatch.setattr(ledger._read, "head", lambda _aggregate_id: None)
            with pytest.raises(AgreementExists) as refused:
                imported(ledger, log)
            monkeypatch.undo()
            assert "another writer recorded the agreement 'initech-umbrella'" in str(refused.value)
            assert "imported before it: acme-globex" in str(refused.value)
            assert exported(ledger, "initech-umbrella") == theirs
            assert ledger.verify() == 8

    def test_a_long_line_is_refused_unread(
        self, monkeypatch: pytest.MonkeyPatch, log: bytes
    ) -> None:
        monkeypatch.setattr(moving, "MAX_LINE_BYTES", 100)
        with (
            Ledger("memory:") as ledger,
            pytest.raises(FileError, match="line 2: expected a line of at most 100 bytes"),
        ):
            imported(ledger, log)


class TestTheCommands:
    """`ledger export` and `ledger import` on the command line."""

    def test_export_to_a_file_then_import(self, tmp_path: Path, source: Path, run_cli: Run) -> None:
        backup = tmp_path / "backup.ndjson"
        done = run_cli("--store", str(source), "export", "-o", str(backup))
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == (
            f"Exported 8 events of 2 agreements (acme-globex, initech-umbrella) to {backup}"
        )
        target = tmp_path / "new.sqlite"
        done = run_cli("--store", str(target), "import", str(backup))
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == (
            f"Imported 8 events of 2 agreements (acme-globex, initech-umbrella) from {backup}"
        )
        again = run_cli("--store", str(target), "export")
        assert again.stdout.encode() == backup.read_bytes()
        assert "Exported 8 events" in again.stderr

    def test_a_summary_names_a_few_agreements_and_counts_the_rest(self) -> None:
        """A portfolio's summary is one short line, not a thousand names."""
        from ledger.application import Moved
        from ledger.entrypoints.cli import _moved

        names = tuple(f"deal-{k:05d}" for k in range(1, 1001))
        line = _moved("Imported", Moved(names, 50_000), "from log.ndjson")
        assert line == (
            "Imported 50,000 events of 1,000 agreements (deal-00001, deal-00002, deal-00003, "
            "deal-00004, deal-00005, … and 995 more) from log.ndjson"
        )

    def test_export_to_standard_output_through_a_pipe(
        self, tmp_path: Path, source: Path, run_cli: Run
    ) -> None:
        done = run_cli("--store", str(source), "export", "--agreement", "acme-globex")
        assert done.returncode == 0
        assert lines_of(done.stdout.encode())[-1] == {"end": {"agreements": 1, "events": 4}}
        target = tmp_path / "piped.sqlite"
        loaded = run_cli("--store", str(target), "import", "-", stdin=done.stdout)
        assert loaded.returncode == 0, loaded.stderr
        assert "Imported 4 events of 1 agreement (acme-globex) from -" in loaded.stdout

    def test_a_refused_import_into_a_new_store_leaves_no_file(
        self, tmp_path: Path, log: bytes, run_cli: Run
    ) -> None:
        bad = tmp_path / "bad.ndjson"
        bad.write_bytes(edit(log, changed_event(3, amount={"amount": "70", "currency": "USD"})))
        target = tmp_path / "store" / "new.sqlite"
        target.parent.mkdir()
        done = run_cli("--store", str(target), "import", str(bad))
        assert done.returncode == 2
        assert done.stderr.startswith(f"ledger: {bad}: line 4: acme-globex#3: ")
        assert len(done.stderr.strip().splitlines()) == 1
        assert list(target.parent.iterdir()) == []

    def test_a_failed_export_leaves_no_file(
        self, tmp_path: Path, source: Path, run_cli: Run
    ) -> None:
        with closing(sqlite3.connect(source)) as connection:
            connection.execute(
                "UPDATE stored_events SET state = CAST('{}' AS BLOB) WHERE originator_version = 2"
            )
            connection.commit()
        backup = tmp_path / "backup.ndjson"
        done = run_cli("--store", str(source), "export", "-o", str(backup))
        assert done.returncode == 1
        assert "cannot be read" in done.stderr
        assert not backup.exists()
        assert [p.name for p in tmp_path.iterdir() if "backup" in p.name] == []

    def test_a_missing_file(self, tmp_path: Path, run_cli: Run) -> None:
        done = run_cli(
            "--store", str(tmp_path / "s.sqlite"), "import", str(tmp_path / "none.ndjson")
        )
        assert done.returncode == 2
        assert "cannot read the file" in done.stderr

    def test_json_in_the_file_is_exactly_what_is_stored(self, source: Path, run_cli: Run) -> None:
        """A line is plain JSON a person can read: the event as the amendment file wrote it."""
        done = run_cli("--store", str(source), "export", "--agreement", "acme-globex")
        event = json.loads(done.stdout.splitlines()[2])["event"]
        assert event == {
            "type": "investment",
            "effective_on": "2021-01-02",
            "source": SOURCE,
            "investor": "acme",
            "recipient": "globex",
            "amount": {"amount": "5", "currency": "USD"},
            "instrument": "equity",
        }

    def test_recording_times_survive_to_the_microsecond(self, tmp_path: Path, source: Path) -> None:
        with Ledger(str(source)) as ledger:
            times = [entry.recorded_at for entry in ledger.history(agreement="acme-globex")]
            data = exported(ledger)
        with Ledger(str(tmp_path / "t.sqlite")) as ledger:
            imported(ledger, data)
            assert [e.recorded_at for e in ledger.history(agreement="acme-globex")] == times
            assert all(t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in times)
            assert max(times) <= datetime.now(UTC)
