"""The tamper suite (issue 11): what an attacker or an unlucky operator can do to a SQLite
store with ``sqlite3``, and how the ledger finds it.

Each case, what finds it, and how:

- a payload byte changed — verify: the event no longer matches its chain;
- two events' payloads swapped — verify: the first of them no longer matches its chain;
- a middle event deleted — verify: the versions have a gap ("#k is missing");
- the last event deleted — every read, and verify: the read model followed more events
  than the log holds;
- the last event deleted with every read-model trace — verify with a saved head
  (``--expect``) or a signing key: the head is no longer extended; undetectable without;
- the opening deleted — verify: the log's rows belong to no chain;
- the opening's topic changed — verify: the opening no longer matches its chain;
- a middle event rewritten, the chain recomputed — verify with a saved head or a signing
  key: the head's digest changed; undetectable without either;
- an event forged at the end, its digest right — a signing key: no signed head covers
  it; undetectable without a key;
- a timeline index row's date or visibility edited — every read that passes it, and
  verify: its seal no longer matches (reads answer from the events, with a warning);
- a timeline index row deleted outright — verify: reads cannot tell (no row, no seal);
  verify rebuilds the index and compares;
- an append's recording time edited — every read as known at a time near it, and
  verify: its seal no longer matches;
- a checkpoint in force edited — every read from it, and verify: its seal;
- a superseded checkpoint edited — every read as known at its time, and verify: its seal;
- a superseded checkpoint marked as in force — every read from it, and verify: a later
  append changed its day (the appends say so);
- a read-model row edited with its seal recomputed — verify: it rebuilds every row from
  the events and compares; reads cannot tell;
- a row of the bitemporal tables edited (they carry no seal: any SQL tool reads them) —
  verify, the same way; ``ledger sql`` and the portfolio's questions cannot tell.

Read-model damage never stops a question: it is answered from the events, with a warning,
and ``verify`` says the events are intact and ``--reindex`` mends the rest. Damage to the
events is never called a read-model problem.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import subprocess
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from ledger import IntegrityFailure, Ledger, structure_fact
from ledger.adapters.signing import new_key
from ledger.domain import chain
from ledger.domain.ids import agreement_uuid
from ledger.domain.timeline import Row
from ledger.errors import ReadModelWarning
from ledger.readmodel import bitemporal
from ledger.readmodel.bitemporal import moment_text
from ledger.readmodel.sql import row_seal, seal

AGREEMENT = "openai-microsoft"
AGG = agreement_uuid(AGREEMENT).hex
SOURCE = {"citation": "Trust test", "confidence": "confirmed"}
Run = Callable[..., subprocess.CompletedProcess[str]]


def amendment(day: str, rate: str) -> dict[str, Any]:
    return {
        "type": "amendment",
        "effective_on": day,
        "source": SOURCE,
        "changes": [{"amend": "openai-revenue-share", "terms": {"rate": rate}}],
    }


def build(path: Path, key: Path | None = None) -> None:
    """The example, then an amendment on the opening's day (so that the opening day's
    checkpoint is superseded), then an investment: three appends."""
    with Ledger(str(path), signing_key=str(key) if key else None) as ledger:
        ledger.load_example(AGREEMENT)
        ledger.append([structure_fact(amendment("2019-07-01", "15"))], agreement=AGREEMENT)
        ledger.append(
            [
                structure_fact(
                    {
                        "type": "investment",
                        "effective_on": "2024-03-01",
                        "investor": "microsoft",
                        "recipient": "openai",
                        "amount": {"amount": "5", "currency": "USD"},
                        "instrument": "equity",
                        "source": SOURCE,
                    }
                )
            ],
            agreement=AGREEMENT,
        )


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("trust") / "pristine.sqlite"
    build(path)
    return path


@pytest.fixture
def store(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "store.sqlite"
    shutil.copyfile(pristine, copy)
    return copy


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "ledger.key"
    new_key(path)
    return path


@pytest.fixture
def signed(key: Path, tmp_path: Path) -> Path:
    path = tmp_path / "signed.sqlite"
    build(path, key)
    return path


@contextlib.contextmanager
def database(path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(path)
    try:
        yield connection
        connection.commit()
    finally:
        connection.close()


def events(path: Path) -> list[tuple[int, str, bytes]]:
    with database(path) as connection:
        return list(
            connection.execute(
                "SELECT originator_version, topic, state FROM stored_events "
                "WHERE originator_id = ? ORDER BY originator_version",
                (AGG,),
            )
        )


def set_state(path: Path, version: int, state: bytes) -> None:
    with database(path) as connection:
        connection.execute(
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = ?",
            (state, AGG, version),
        )


def rewrite_from(path: Path, version: int, change: Callable[[dict[str, Any]], None]) -> None:
    """Change one event's content and recompute the chain from it on: what someone with
    write access and the (unkeyed) chain's recipe can do."""
    rows = events(path)
    previous = chain.GENESIS if version == 1 else orjson.loads(rows[version - 2][2])["digest"]
    for number, topic, state in rows[version - 1 :]:
        plain = orjson.loads(state)
        if number == version:
            change(plain)
        plain.pop("digest")
        recorded_at = plain["recorded_at"]
        kind = topic.rpartition("/")[2]
        content = {k: v for k, v in plain.items() if k != "recorded_at"}
        digest = chain.link_content(
            previous, {"fact": {"type": kind, **content}, "recorded_at": recorded_at}
        )
        plain["digest"] = digest
        set_state(path, number, orjson.dumps(plain))
        previous = digest


def verify_failure(path: Path, **options: Any) -> str:
    with Ledger(str(path)) as ledger, pytest.raises(IntegrityFailure) as failed:
        ledger.verify(**options)
    return str(failed.value)


def verifies(path: Path, **options: Any) -> int:
    with Ledger(str(path)) as ledger:
        return ledger.verify(**options)


def saved_heads(path: Path) -> list[Any]:
    with Ledger(str(path)) as ledger:
        return [each.head for each in ledger.heads()]


EVENTS_DAMAGED = "the events themselves are damaged"
READ_MODEL_ONLY = "the events themselves are intact"


class TestTheEvents:
    def test_a_payload_byte_is_found_by_its_chain(self, store: Path) -> None:
        """One flipped byte in event #5's JSON."""
        _, _, state = events(store)[4]
        set_state(store, 5, state.replace(b"Sam", b"Tam", 1))
        message = verify_failure(store)
        assert "openai-microsoft#5 does not match its chain" in message
        assert EVENTS_DAMAGED in message

    def test_two_events_swapped_are_found_by_the_chain(self, store: Path) -> None:
        """Events #3 and #4 change places."""
        rows = events(store)
        set_state(store, 3, rows[3][2])
        set_state(store, 4, rows[2][2])
        assert "openai-microsoft#3 does not match its chain" in verify_failure(store)

    def test_a_middle_event_deleted_is_a_gap(self, store: Path) -> None:
        with database(store) as connection:
            connection.execute(
                "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = 7",
                (AGG,),
            )
        message = verify_failure(store)
        assert "openai-microsoft#7 is missing from the log" in message
        assert "reindex" not in message

    def test_the_last_event_deleted_stops_every_read(self, store: Path) -> None:
        """The read model committed with it, so it says how many there were: reads refuse,
        and verify says events are missing, never that the index should be rebuilt."""
        with database(store) as connection:
            connection.execute(
                "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = 13",
                (AGG,),
            )
        with Ledger(str(store)) as ledger, pytest.raises(IntegrityFailure, match="missing"):
            ledger.state_at(date(2024, 1, 1))
        message = verify_failure(store)
        assert "events are missing" in message
        assert "reindex" not in message

    def test_the_last_event_deleted_with_every_trace_needs_a_saved_head(self, store: Path) -> None:
        """Deleted with its index rows, its append and a view recomputed, the cut is
        consistent: only a head saved before (or a signature) can tell."""
        heads = saved_heads(store)
        cut_the_last_append(store)
        assert verifies(store) == 12  # undetectable without a saved head or a key
        message = verify_failure(store, expect=heads)
        assert "openai-microsoft#13" in message
        assert "it was cut" in message

    def test_the_opening_deleted_leaves_events_of_no_agreement(self, store: Path) -> None:
        with database(store) as connection:
            connection.execute(
                "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = 1",
                (AGG,),
            )
        message = verify_failure(store)
        assert "12 stored events" in message
        assert "belong to no agreement" in message

    def test_the_opening_with_another_topic_no_longer_matches_its_chain(self, store: Path) -> None:
        with database(store) as connection:
            connection.execute(
                "UPDATE stored_events SET topic = 'contract-ledger/investment' "
                "WHERE originator_id = ? AND originator_version = 1",
                (AGG,),
            )
        message = verify_failure(store)
        assert f"{agreement_uuid(AGREEMENT)}#1" in message
        assert EVENTS_DAMAGED in message

    def test_a_rewrite_with_the_chain_recomputed_needs_a_saved_head_or_a_key(
        self, store: Path
    ) -> None:
        """The chain is unkeyed: a rewrite that recomputes it passes on its own."""
        heads = saved_heads(store)
        rewrite_from(store, 2, lambda plain: plain["amount"].update(amount="9000000000"))
        with database(store) as connection:  # and the read model, so reads agree
            connection.execute("DELETE FROM ledger_views")
        assert verifies(store, reindex=True) == 13  # undetectable without a head or a key
        message = verify_failure(store, expect=heads)
        assert "no longer extends its saved head" in message

    def test_a_rewrite_is_found_by_the_signed_heads(self, signed: Path, key: Path) -> None:
        rewrite_from(signed, 2, lambda plain: plain["amount"].update(amount="9000000000"))
        with (
            Ledger(str(signed), signing_key=str(key)) as ledger,
            pytest.raises(
                IntegrityFailure, match="signed head of openai-microsoft#11 does not match the log"
            ),
        ):
            ledger.verify()

    def test_a_forged_append_is_covered_by_no_signed_head(self, signed: Path, key: Path) -> None:
        """An event inserted at the end with the right digest: without the private key it
        has no signature, so verify says it was written without the key."""
        forge_an_append(signed)
        with (
            Ledger(str(signed), signing_key=str(key)) as ledger,
            pytest.raises(
                IntegrityFailure,
                match=r"openai-microsoft#14 … openai-microsoft#14 are covered by no",
            ),
        ):
            ledger.verify()

    def test_a_forged_append_passes_without_a_key(self, store: Path) -> None:
        """Documented: with no key, a forged append with a right digest is a valid log."""
        forge_an_append(store)
        with database(store) as connection:
            connection.execute("DELETE FROM ledger_views")
        assert verifies(store, reindex=True) == 14

    def test_a_signature_by_an_unknown_key_is_not_genuine(
        self, signed: Path, tmp_path: Path
    ) -> None:
        """Verifying with a keyring that lacks the signing key."""
        keyring = tmp_path / "keyring"
        other = new_key(tmp_path / "other.key")
        keyring.write_text(f"{other.public_hex}  another key\n")
        with (
            Ledger(str(signed), verify_keys=str(keyring)) as ledger,
            pytest.raises(IntegrityFailure, match="the keyring lacks"),
        ):
            ledger.verify()

    def test_an_intact_signed_store_verifies(self, signed: Path, key: Path) -> None:
        with Ledger(str(signed), signing_key=str(key)) as ledger:
            assert ledger.verify() == 13
            assert ledger.heads()[0].signature is not None


class TestTheReadModel:
    """Each table, in force and superseded: reads answer from the events (warning), and
    verify names the row, says the events are intact, and --reindex mends it."""

    @pytest.mark.parametrize(
        "damage",
        [
            "UPDATE ledger_timeline SET day = day - 400 WHERE version = 3",
            "UPDATE ledger_timeline SET visible_until = 12 WHERE version = 7",
            "UPDATE ledger_checkpoints SET state = ? WHERE valid_until = 9223372036854775807",
        ],
        ids=["index row's date", "index row's visibility", "checkpoint in force"],
    )
    def test_rows_read_at_the_latest_time(self, store: Path, damage: str) -> None:
        expected = answer(store, date(2026, 1, 1))
        spoil(store, damage)
        with pytest.warns(ReadModelWarning, match="answered from the events"):
            assert answer(store, date(2026, 1, 1)) == expected
        assert READ_MODEL_ONLY in verify_failure(store)
        assert verifies(store, reindex=True) == 13
        assert answer(store, date(2026, 1, 1)) == expected

    def test_an_append_time_edited(self, store: Path) -> None:
        """The example's append moved later: as known just after it, nothing would be
        known; the read checks the bounding appends against their events."""
        moment = recorded_at(store, 11)
        expected = answer(store, date(2024, 6, 1), known_at=moment)
        spoil(
            store, "UPDATE ledger_appends SET recorded_at = recorded_at + 1 WHERE last_version = 11"
        )
        with pytest.warns(ReadModelWarning):
            assert answer(store, date(2024, 6, 1), known_at=moment) == expected
        assert READ_MODEL_ONLY in verify_failure(store)

    def test_a_superseded_checkpoint_edited(self, store: Path) -> None:
        """Only questions as known before the amendment read it."""
        moment = recorded_at(store, 11)
        expected = answer(store, date(2019, 7, 1), known_at=moment)
        spoil(
            store,
            "UPDATE ledger_checkpoints SET state = ? WHERE valid_until <> 9223372036854775807",
        )
        with pytest.warns(ReadModelWarning):
            assert answer(store, date(2019, 7, 1), known_at=moment) == expected
        assert "the checkpoint of 2019-07-01" in verify_failure(store)

    def test_a_superseded_checkpoint_marked_in_force(self, store: Path) -> None:
        """Its seal is right, but the appends say a later one changed its day."""
        expected = answer(store, date(2019, 7, 1))
        spoil(
            store,
            "DELETE FROM ledger_checkpoints WHERE valid_until = 9223372036854775807",
            "UPDATE ledger_checkpoints SET valid_until = 9223372036854775807",
        )
        with pytest.warns(ReadModelWarning):
            assert answer(store, date(2019, 7, 1)) == expected
        assert READ_MODEL_ONLY in verify_failure(store)

    def test_a_row_edited_with_its_seal_recomputed_is_found_by_verify(self, store: Path) -> None:
        """Reads cannot tell a row resealed by someone who knows the recipe; verify
        rebuilds every row from the events and compares."""
        with database(store) as connection:
            version, visible_from, until, day, opening, seq = connection.execute(
                "SELECT version, visible_from, visible_until, day, opening, seq "
                "FROM ledger_timeline WHERE version = 3"
            ).fetchone()
            digest = orjson.loads(events(store)[2][2])["digest"]
            moved = Row(
                version, date.fromordinal(day - 400), opening == 0, seq, visible_from, until
            )
            connection.execute(
                "UPDATE ledger_timeline SET day = ?, seal = ? WHERE version = 3",
                (day - 400, row_seal(agreement_uuid(AGREEMENT), moved, digest)),
            )
        message = verify_failure(store)
        assert "the timeline index at openai-microsoft#3" in message
        assert READ_MODEL_ONLY in message

    @pytest.mark.parametrize(
        ("table", "edit"),
        [
            ("clause_versions", "SET terms = '{\"exclusive\": false}' WHERE clause_id = "
             "'azure-exclusivity'"),
            ("investment_totals", "SET amount = '1'"),
            ("investment_totals", "SET valid_to = '2020-01-01'"),
            ("clause_versions", "SET recorded_to = '2020-01-01T00:00:00.000000Z' WHERE rowid = 1"),
        ],
    )  # fmt: skip
    def test_a_bitemporal_row_edited_is_found_by_verify(
        self, store: Path, table: str, edit: str
    ) -> None:
        """The analysts' tables carry no seal (they are read by any SQL tool): verify
        rebuilds them from the events and compares, and --reindex mends them."""
        spoil(store, f"UPDATE {table} {edit}")
        message = verify_failure(store)
        assert f"its row in {table}" in message
        assert READ_MODEL_ONLY in message
        assert verifies(store, reindex=True) == 13
        assert verifies(store) == 13

    def test_the_cli_warns_and_answers_from_the_events(self, store: Path, run_cli: Run) -> None:
        spoil(store, "UPDATE ledger_timeline SET day = day - 400 WHERE version = 3")
        done = run_cli("--store", str(store), "replay", "--as-of", "2024-06-01", "--json")
        assert done.returncode == 0, done.stderr
        assert done.stderr.startswith("ledger: warning: ")
        assert "answered from the events themselves" in done.stderr
        with pytest.warns(ReadModelWarning):
            assert json.loads(done.stdout)["events_applied"] == answer(store, date(2024, 6, 1))


# -- helpers ------------------------------------------------------------------------------


def answer(store: Path, on: date, known_at: datetime | None = None) -> int:
    """A question whose answer the damage would change: the events applied."""
    with Ledger(str(store)) as ledger:
        return ledger.state_at(on, known_at=known_at).events_applied


def recorded_at(store: Path, version: int) -> datetime:
    state = orjson.loads(events(store)[version - 1][2])
    return datetime.fromisoformat(state["recorded_at"]).astimezone(UTC)


def spoil(store: Path, *statements: str) -> None:
    """Run ``statements`` on the store (a ``?`` is an edited checkpoint state)."""
    with database(store) as connection:
        state = connection.execute("SELECT state FROM ledger_checkpoints LIMIT 1").fetchone()[0]
        edited = zlib.compress(zlib.decompress(state).replace(b'"USD"', b'"EUR"'))
        for statement in statements:
            params = (edited,) if "?" in statement else ()
            changed = connection.execute(statement, params).rowcount
            assert changed > 0, statement


def cut_the_last_append(store: Path) -> None:
    """Remove event #13 and every trace of it: its index row, its append, and the view
    recomputed for #12, seal included (the recipe is public)."""
    recorded_13 = orjson.loads(events(store)[12][2])["recorded_at"]
    with database(store) as connection:
        connection.execute("DELETE FROM stored_events WHERE originator_version = 13")
        connection.execute("DELETE FROM ledger_timeline WHERE version = 13")
        connection.execute("DELETE FROM ledger_appends WHERE last_version = 13")
        connection.execute("DELETE FROM ledger_checkpoints WHERE valid_from = 13")
        connection.execute(
            "UPDATE ledger_checkpoints SET valid_until = 9223372036854775807 WHERE valid_until = 13"
        )
        cut_at = moment_text(datetime.fromisoformat(recorded_13))
        for table in bitemporal.TABLES:  # the rows #13 opened go, those it closed reopen
            connection.execute(f"DELETE FROM {table} WHERE recorded_from = ?", (cut_at,))  # noqa: S608
            connection.execute(
                f"UPDATE {table} SET recorded_to = ? WHERE recorded_to = ?",  # noqa: S608
                (bitemporal.OPEN_TEXT, cut_at),
            )
        twelve = orjson.loads(events(store)[11][2])
        row = connection.execute("SELECT * FROM ledger_views").fetchone()
        names = [d[0] for d in connection.execute("SELECT * FROM ledger_views").description]
        view = dict(zip(names, row, strict=True))
        micros_at = int(datetime.fromisoformat(twelve["recorded_at"]).timestamp() * 1_000_000)
        view.update(version=12, digest=twelve["digest"], last_recorded=micros_at)
        view["seal"] = seal(
            AGG,
            view["agreement"],
            view["title"],
            view["opened_on"],
            view["opened_precision"],
            view["first_recorded"],
            12,
            micros_at,
            twelve["digest"],
        )
        connection.execute(
            "UPDATE ledger_views SET version = ?, digest = ?, last_recorded = ?, seal = ?",
            (12, view["digest"], micros_at, view["seal"]),
        )


def forge_an_append(store: Path) -> None:
    """Insert an event #14 whose digest follows #13's: a valid chain, no signature."""
    last = orjson.loads(events(store)[-1][2])
    recorded_at = datetime.now(UTC).isoformat()
    fact = {
        "effective_on": "2024-04-01",
        "source": SOURCE,
        "investor": "microsoft",
        "recipient": "openai",
        "amount": {"amount": "1000000000000", "currency": "USD"},
        "instrument": "equity",
    }
    digest = chain.link_content(
        last["digest"], {"fact": {"type": "investment", **fact}, "recorded_at": recorded_at}
    )
    state = orjson.dumps({**fact, "recorded_at": recorded_at, "digest": digest})
    with database(store) as connection:
        connection.execute(
            "INSERT INTO stored_events VALUES (?, 14, 'contract-ledger/investment', ?)",
            (AGG, state),
        )
