"""Fuzzing the way in: thousands of variants of valid files, and nasty files of 1 MB.

Every variant is a valid amendment file mutated one to three times — keys renamed,
deleted or written twice, values of other types and sizes, numbers in every YAML 1.1
spelling, tags, aliases and alias bombs, dates and timestamps, control characters,
byte flips, truncation — written as JSON or YAML (block or flow), and offered to a
store in process through ``Ledger.append_file`` (the parser, the codec, every rule).
For each, the answer is a success or a refusal with exit code 2 and one short line,
and a refusal leaves the store's files byte for byte as they were. Each variant must
also be answered within ``HANG`` seconds: a guard against a hang, not a measure of speed
(``bench/nasty.py`` measures).

The variants come from a seeded generator: ``VARIANTS`` of them, the same on every run;
a failure names the variant's number, which ``variant(n)`` rebuilds.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from nasty import NASTY, opening_events

from ledger import InputError, Ledger, structure_fact
from ledger.errors import MAX_LINE

VARIANTS = 2_000
HANG = 30.0  # seconds: far above any answer's time even on a busy machine: a hang guard
SEED = 20_261_201
AGREEMENT = "acme-globex"
SOURCE = {"citation": "Board minutes", "confidence": "confirmed"}
OUTCOMES: Counter[str] = Counter()


def base_events() -> dict[str, dict[str, Any]]:
    """Valid events against the store that ``opening_events`` builds (#1 opening, #2
    an investment), one of each kind."""
    dated = {"effective_on": "2021-01-02", "source": SOURCE}
    return {
        "investment": {
            **dated,
            "type": "investment",
            "investor": "acme",
            "recipient": "globex",
            "amount": {"amount": "5", "currency": "USD"},
            "instrument": "equity",
            "note": "second tranche",
        },
        "ownership_change": {
            **dated,
            "type": "ownership_change",
            "holder": "acme",
            "entity": "globex",
            "percent": "27.5",
        },
        "amendment": {
            **dated,
            "type": "amendment",
            "changes": [
                {"amend": "cloud-exclusivity", "terms": {"exclusive": False}},
                {
                    "add": {
                        "id": "rev-share",
                        "kind": "revenue_share",
                        "terms": {
                            "payer": "acme",
                            "payee": "globex",
                            "rate": "20",
                            "threshold": {"amount": "1000000", "currency": "USD"},
                        },
                        "until": "2030-12-31",
                    }
                },
            ],
        },
        "governance": {
            **dated,
            "type": "governance",
            "kind": "restructuring",
            "entity": "globex",
            "people": ["Jane Doe"],
            "description": "a new holding company",
            "approved_by": ["globex"],
            "date_precision": "month",
            "effective_on": "2021-02-01",
        },
        "renegotiation_opened": {
            **dated,
            "type": "renegotiation_opened",
            "renegotiation": "talks",
            "topics": ["revenue_share"],
            "initiated_by": "globex",
        },
        "retraction": {
            "type": "retraction",
            "retracts": f"{AGREEMENT}#2",
            "reason": "never happened",
            "source": {**SOURCE, "quote": "no such tranche"},
        },
        "correction": {
            "type": "correction",
            "corrects": f"{AGREEMENT}#2",
            "reason": "wrong figure",
            "source": SOURCE,
            "replacement": {
                "type": "investment",
                "effective_on": "2021-01-02",
                "investor": "acme",
                "recipient": "globex",
                "amount": {"amount": "7.25", "currency": "EUR"},
                "instrument": "other",
                "source": SOURCE,
            },
        },
    }


# -- mutations -----------------------------------------------------------------------

NUMBER_SPELLINGS = [
    "012", "00", "0o17", "0x1F", "0X1f", "0b101", "1_000", "1:30", "190:20:30", "1e3",
    "1E+3", "1.5e3", ".inf", "-.inf", ".NaN", "1.", ".5", "+5", "-5", "-0", "5", "12.50",
    "1,000", "0x_1", "99999999999999999999", "0.0000000000001", "NaN", "Infinity",
]  # fmt: skip
DATE_SPELLINGS = [
    "2021-02-30", "2021-13-01", "2021-1-2", "20210102", "2021-01-02T00:00:00",
    "2021-01-02 10:00:00", "2021-01-02t10:00:00.1-05:00", "!!timestamp 2021-01-02",
    "!!str 2021-01-02", "1900-01-01", "9999-12-31", "0001-01-01", "2019-12-31",
]  # fmt: skip
TAGS = [
    "!!str", "!!int", "!!float", "!!bool", "!!null", "!!binary", "!!timestamp", "!!set",
    "!!omap", "!!merge", "!custom", "!!python/name:os.system", "!!python/object:os.system",
]  # fmt: skip
ODD_TEXTS = [
    "", " ", "\x00", "\x1b[31mred", "\u202eevil", "a\u2028b", "\ufeffbom", "é" * 501,
    "x" * 10_001, "Ａｃｍｅ", "аcme", "acme\u200b", "\t", "yes", "no", "~", "null", "[x]",
    "{a: 1}", "*alias", "&anchor x", "'quoted'", '"double"', "#comment", "- dash",
]  # fmt: skip
OTHER_VALUES: list[Any] = [
    None, True, False, 0, -1, 2.5, [], {}, [1, [2]], {"a": {"b": 1}}, ["acme"],
    {"amount": "5"}, [None], list(range(50)),
]  # fmt: skip
RAW = "@@raw{}@@"  # a placeholder, replaced in the serialised text by raw text
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # fast writing: it is not tested


class Variant:
    """One mutated file: its plain document, how it is written, what was done to it."""

    def __init__(self, rng: random.Random, document: dict[str, Any], fmt: str) -> None:
        self.rng = rng
        self.document = document
        self.fmt = fmt  # json, yaml (block), flow (YAML flow style)
        self.raw: list[str] = []  # texts for the placeholders, in order
        self.text_edits: list[Callable[[bytes], bytes]] = []
        self.done: list[str] = []
        self.operations: list[str] = []

    # -- where ----------------------------------------------------------------------

    def places(self) -> list[tuple[Any, Any]]:
        """Every (container, key or index) in the document's events."""
        found: list[tuple[Any, Any]] = []

        def walk(container: Any) -> None:
            keys = list(container) if isinstance(container, dict) else range(len(container))
            for key in keys:
                found.append((container, key))
                if isinstance(container[key], (dict, list)):
                    walk(container[key])

        walk(self.document["events"])
        return found

    def place(self, want: Callable[[Any, Any], bool] = lambda _c, _k: True) -> tuple[Any, Any]:
        options = [(c, k) for c, k in self.places() if want(c, k)]
        return self.rng.choice(options) if options else (self.document, "agreement")

    def raw_text(self, text: str) -> str:
        self.raw.append(text)
        return RAW.format(len(self.raw) - 1)

    # -- what -----------------------------------------------------------------------

    def rename_key(self) -> None:
        container, key = self.place(lambda c, _k: isinstance(c, dict))
        how = self.rng.choice(["typo", "upper", "space", "homoglyph", "prefix", "swap"])
        new = {
            "typo": key[:-1],
            "upper": key.upper(),
            "space": key + " ",
            "homoglyph": key.replace("a", "а", 1).replace("e", "е", 1),
            "prefix": "_" + key,
            "swap": self.rng.choice(["amount", "source", "type", "terms", "id", "kind"]),
        }[how]
        value = container.pop(key)
        container[new] = value
        self.done.append(f"rename {key!r} to {new!r}")

    def delete_key(self) -> None:
        container, key = self.place()
        del container[key]
        self.done.append(f"delete {key!r}")

    def other_value(self) -> None:
        container, key = self.place()
        value = self.rng.choice([*OTHER_VALUES, *ODD_TEXTS])
        container[key] = json.loads(json.dumps(value))
        self.done.append(f"{key!r} = {value!r:.40}")

    def odd_text(self) -> None:
        container, key = self.place(lambda c, k: isinstance(c[k], str))
        value = container[key]
        odd = self.rng.choice(ODD_TEXTS)
        at = self.rng.randint(0, len(value))
        container[key] = value[:at] + odd + value[at:]
        self.done.append(f"{key!r} with {odd!r:.30}")

    def number(self) -> None:
        def numeric(c: Any, k: Any) -> bool:
            return k in ("amount", "percent", "rate") and isinstance(c[k], str)

        container, key = self.place(numeric)
        spelling = self.rng.choice(NUMBER_SPELLINGS)
        quoted = self.rng.random() < 0.2
        container[key] = spelling if quoted else self.raw_text(spelling)
        self.done.append(f"{key!r} = {spelling} ({'quoted' if quoted else 'raw'})")

    def date(self) -> None:
        container, key = self.place(lambda _c, k: k in ("effective_on", "until"))
        spelling = self.rng.choice(DATE_SPELLINGS)
        container[key] = self.raw_text(spelling) if self.fmt != "json" else spelling
        self.done.append(f"{key!r} = {spelling}")

    def event_type(self) -> None:
        container, key = self.place(lambda _c, k: k == "type")
        kinds = [*base_events(), "termination", "agreement_opened", "Investment", "merger"]
        container[key] = self.rng.choice(kinds)
        self.done.append(f"type = {container[key]}")

    def tag(self) -> None:
        container, key = self.place(lambda c, k: not isinstance(c[k], (dict, list)))
        tag = self.rng.choice(TAGS)
        value = json.dumps(container[key]) if not isinstance(container[key], str) else None
        written = value if value is not None else json.dumps(container[key], ensure_ascii=False)
        container[key] = self.raw_text(f"{tag} {written}")
        self.done.append(f"{key!r} tagged {tag}")

    def share(self) -> None:
        """The same source object in several events: YAML writes anchors and aliases."""
        shared = {"citation": "Shared minutes", "confidence": "reported"}
        for event in self.document["events"]:
            if isinstance(event, dict) and "source" in event:
                event["source"] = shared
        self.done.append("shared source (aliases)")

    def bomb(self) -> None:
        container, key = self.place()
        levels = self.rng.randint(3, 9)
        width = self.rng.randint(2, 9)
        parts = ["&l0 [" + ", ".join(["lol"] * width) + "]"]
        parts += [f"&l{n} [" + ", ".join([f"*l{n - 1}"] * width) + "]" for n in range(1, levels)]
        container[key] = self.raw_text("[" + ", ".join(parts) + "]")
        self.done.append(f"alias bomb {width}**{levels} at {key!r}")

    def bad_alias(self) -> None:
        container, key = self.place()
        written = self.rng.choice(["*nowhere", "&self [*self]", "&a x", "*", "&"])
        container[key] = self.raw_text(written)
        self.done.append(f"{key!r} = {written}")

    def deep(self) -> None:
        container, key = self.place()
        depth = self.rng.choice([50, 500, 990, 1_500, 20_000])
        container[key] = self.raw_text("[" * depth + "]" * depth)
        self.done.append(f"{key!r} nested {depth} deep")

    def big(self) -> None:
        container, key = self.place()
        size = self.rng.choice([10_000, 100_000, 300_000])
        container[key] = self.rng.choice(["x" * size, ["x"] * (size // 10), {"k": "x" * size}])
        self.done.append(f"{key!r} of {size:,}")

    def duplicate_key(self) -> None:
        """A key written twice in the text."""

        def twice(data: bytes) -> bytes:
            text = data.decode("utf-8", "surrogatepass")
            if self.fmt == "json":
                at = text.find('{"', self.rng.randint(0, max(0, len(text) - 2)))
                if at < 0:
                    at = text.find('{"')
                end = text.find(",", at)
                return (text[: end + 1] + text[at + 1 : end + 1] + text[end + 1 :]).encode(
                    "utf-8", "surrogatepass"
                )
            lines = text.splitlines(keepends=True)
            keyed = [n for n, line in enumerate(lines) if ": " in line and "{" not in line]
            if not keyed:
                return data
            n = self.rng.choice(keyed)
            return "".join([*lines[: n + 1], lines[n], *lines[n + 1 :]]).encode(
                "utf-8", "surrogatepass"
            )

        self.text_edits.append(twice)
        self.done.append("a key twice")

    def truncate(self) -> None:
        def cut(data: bytes) -> bytes:
            return data[: self.rng.randint(0, max(0, len(data) - 1))]

        self.text_edits.append(cut)
        self.done.append("truncated")

    def flip(self) -> None:
        def flipped(data: bytes) -> bytes:
            if not data:
                return data
            at = self.rng.randrange(len(data))
            return data[:at] + bytes([data[at] ^ (1 << self.rng.randrange(8))]) + data[at + 1 :]

        self.text_edits.append(flipped)
        self.done.append("a bit flipped")

    # -- the file -------------------------------------------------------------------

    def data(self) -> bytes:
        if self.fmt == "json":
            text = json.dumps(self.document, ensure_ascii=self.rng.random() < 0.5)
        else:
            text = yaml.dump(
                self.document,
                Dumper=DUMPER,
                allow_unicode=True,
                sort_keys=False,
                default_flow_style=self.fmt == "flow",
                width=1_000_000,
            )
            if self.fmt == "flow":  # a text starting with { is read as JSON
                text = "--- " + text
        for index, raw in enumerate(self.raw):
            mark = RAW.format(index)
            for quoted in (f'"{mark}"', f"'{mark}'", mark):
                text = text.replace(quoted, raw)
        data = text.encode("utf-8", "surrogatepass")
        for edit in self.text_edits:
            data = edit(data)
        return data

    @property
    def name(self) -> str:
        return "variant.json" if self.fmt == "json" else "variant.yaml"


MUTATIONS = [
    "rename_key", "delete_key", "other_value", "odd_text", "number", "number", "number",
    "date", "event_type", "tag", "share", "bomb", "bad_alias", "deep", "big",
    "duplicate_key", "truncate", "flip",
]  # fmt: skip
TEXT_ONLY = {"tag", "bomb", "bad_alias", "deep"}  # raw YAML: as JSON they are simply invalid


def variant(number: int) -> Variant:
    """The ``number``-th variant (the same on every run)."""
    rng = random.Random(SEED * 100_003 + number)  # noqa: S311 - reproducible, not secret
    events = base_events()
    chosen = rng.sample(sorted(events), rng.randint(1, 3))
    document = {"agreement": AGREEMENT, "events": [events[kind] for kind in chosen]}
    fmt = rng.choice(["json", "yaml", "yaml", "flow"])
    made = Variant(rng, json.loads(json.dumps(document)), fmt)
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        operation = rng.choice(MUTATIONS)
        made.operations.append(operation)
        getattr(made, operation)()
    return made


# -- the store -----------------------------------------------------------------------


def fingerprint(path: Path) -> tuple[tuple[int, int], ...]:
    """The store's files as the filesystem sees them: any write to the database (its
    write-ahead log included) changes a size or a modification time."""
    marks = []
    for suffix in ("", "-wal"):
        try:
            found = Path(f"{path}{suffix}").stat()
        except FileNotFoundError:
            marks.append((-1, -1))
        else:
            marks.append((found.st_size, found.st_mtime_ns))
    return tuple(marks)


class Store:
    """A store holding ``opening_events``, put back as it was after each accepted file."""

    def __init__(self, directory: Path) -> None:
        self.template = directory / "template.sqlite"
        self.path = directory / "ledger.sqlite"
        with Ledger(str(self.template)) as ledger:
            ledger.append([structure_fact(event) for event in opening_events()])
        self.ledger = self._fresh()

    def _fresh(self) -> Ledger:
        for suffix in ("-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.template, self.path)
        return Ledger(str(self.path))

    def reset(self) -> None:
        self.ledger.close()
        self.ledger = self._fresh()

    def close(self) -> None:
        self.ledger.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    opened = Store(tmp_path_factory.mktemp("fuzz"))
    yield opened
    opened.close()


@pytest.fixture(scope="module", autouse=True)
def figures() -> Iterator[None]:
    """What the fuzzing saw (shown with ``-s``)."""
    yield
    print(f"\nfuzz outcomes: {dict(sorted(OUTCOMES.items()))}")


def offer(store: Store, directory: Path, name: str, data: bytes) -> tuple[str, str]:
    """Offer a file to the store: ``("accepted", "")`` or ``("refused", its line)``;
    anything else fails the test. A refusal must leave the store as it was."""
    path = directory / name
    path.write_bytes(data)
    before = fingerprint(store.path)
    started = time.monotonic()
    try:
        store.ledger.append_file(str(path))
    except InputError as error:
        answer, code = ("refused", str(error)), error.exit_code
    else:
        answer, code = ("accepted", ""), 0
    assert code in (0, 2)
    took = time.monotonic() - started
    assert took < HANG, f"{name}: answered after {took:.1f} s"
    if answer[0] == "refused":
        line = answer[1]
        assert line.strip(), "an empty message"
        assert len(line.splitlines()) == 1, line
        assert len(line) <= MAX_LINE, line
        assert fingerprint(store.path) == before, f"{name}: refused, but the store changed"
    else:
        assert fingerprint(store.path) != before
        store.reset()
    return answer


def test_the_base_events_are_accepted(store: Store, tmp_path: Path) -> None:
    """Each mutation breaks (or keeps) a file that is accepted as it is."""
    for kind, event in base_events().items():
        for fmt in ("json", "yaml", "flow"):
            document = {"agreement": AGREEMENT, "events": [event]}
            made = Variant(random.Random(0), document, fmt)  # noqa: S311 - not secret
            outcome, line = offer(store, tmp_path, made.name, made.data())
            assert outcome == "accepted", f"{kind} as {fmt}: {line}"


def test_generated_variants(store: Store, tmp_path: Path) -> None:
    """Every variant is accepted, or refused in one line leaving the store untouched."""
    for number in range(VARIANTS):
        made = variant(number)
        data = made.data()
        try:
            outcome, _ = offer(store, tmp_path, made.name, data)
        except AssertionError as failure:
            raise AssertionError(
                f"variant {number} ({made.fmt}: {'; '.join(made.done)}): {failure}\n{data[:600]!r}"
            ) from None
        OUTCOMES[outcome] += 1
        for operation in made.operations:
            OUTCOMES[f"{operation}: {outcome}"] += 1
    assert OUTCOMES["accepted"] + OUTCOMES["refused"] == VARIANTS
    assert OUTCOMES["accepted"] > VARIANTS // 50, "the mutations should not all break files"


@pytest.mark.parametrize(("name", "expected"), [(n, e) for n, (_, e) in NASTY.items()])
def test_nasty_files(store: Store, tmp_path: Path, name: str, expected: str) -> None:
    """Each nasty file of at most 1 MB is answered as expected, in one line when refused."""
    build, _ = NASTY[name]
    data = build()
    assert len(data) <= 1024 * 1024
    outcome, line = offer(store, tmp_path, name, data)
    assert outcome == expected, line
