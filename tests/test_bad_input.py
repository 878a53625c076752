"""Bad amendment files are refused whole: exit 2, one line, no traceback, nothing written.

Hypothesis builds bad files from valid ones — malformed YAML/JSON, wrong types, missing
fields, unknown event types and clause kinds, impossible dates, negative or absurd
amounts, percentages over 100, unicode oddities, deep nesting, YAML tags, events that
break a rule — and each goes through ``Ledger.append_file`` in process (the bulk) and
through the real ``ledger append`` in a subprocess (a sample). The store's rows must be
byte-identical afterwards. Every base document is first shown to be accepted, so each
mutation is what makes its file bad.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from nasty import INVESTMENT, OPENING

from ledger import InputError, Ledger, structure_fact
from ledger.adapters import files

AGREEMENT = "acme-globex"
SOURCE = {"citation": "Board minutes", "confidence": "confirmed"}
OUTCOMES: Counter[str] = Counter()

# -- the store every bad file is offered to ---------------------------------------


def setup_events() -> list[Any]:
    """#1 opening, #2 investment, #3 stake, #4 investment, #5 retraction of #4."""
    invest = {**BASE["investment"], "effective_on": "2020-06-01"}
    stake = {**BASE["ownership_change"], "holder": "acme", "percent": "60"}
    retract = {**BASE["retraction"], "retracts": f"{AGREEMENT}#4"}
    return [structure_fact(e) for e in (OPENING, invest, stake, invest, retract)]


BASE: dict[str, dict[str, Any]] = {
    "investment": INVESTMENT,
    "ownership_change": {
        "type": "ownership_change",
        "effective_on": "2021-01-02",
        "holder": "globex",
        "entity": "globex-labs",
        "percent": "30",
        "source": SOURCE,
    },
    "amendment": {
        "type": "amendment",
        "effective_on": "2021-01-02",
        "changes": [
            {"amend": "cloud-exclusivity", "terms": {"exclusive": False}},
            {"add": {"id": "new-clause", "kind": "custom", "terms": {"text": "x"}}},
        ],
        "source": SOURCE,
    },
    "governance": {
        "type": "governance",
        "effective_on": "2021-01-02",
        "kind": "restructuring",
        "entity": "globex",
        "approved_by": ["globex"],
        "source": SOURCE,
    },
    "retraction": {
        "type": "retraction",
        "retracts": f"{AGREEMENT}#3",
        "reason": "never happened",
        "source": SOURCE,
    },
    "correction": {
        "type": "correction",
        "corrects": f"{AGREEMENT}#2",
        "reason": "wrong figure",
        "source": SOURCE,
        "replacement": {
            "type": "investment",
            "effective_on": "2020-06-01",
            "investor": "acme",
            "recipient": "globex",
            "amount": {"amount": "7", "currency": "USD"},
            "instrument": "equity",
            "source": SOURCE,
        },
    },
}

# -- what makes a field bad --------------------------------------------------------

WRONG_TYPES = [1, 2.5, True, None, [], {}, ["x"], {"a": 1}]
BAD_DATES = [
    "2021-02-30", "2021-13-01", "2021-00-10", "2021-04-31", "2021-1-1", "20210102",
    "21-01-02", "2021/01/02", "2021-01-02T00:00:00", "", " 2021-01-02", "yesterday",
    "２０２１-０１-０２", "2021-01-02\n", 20210102, 2021.0102, None, [], {},
    "2019-12-31",  # before the agreement opened: a rule
]  # fmt: skip
BAD_AMOUNTS = [
    "-1", "-0.01", "1e3", "1E3", "NaN", "nan", "Infinity", "-Infinity", "inf", "0x10",
    "1_000", "1,000", "", " ", "1.", ".5", "1" * 19, "0." + "1" * 13, "5 USD", "$5",
    "5\u200b", 1e300, -5, True, None, [], {"amount": "5"},
]  # fmt: skip
BAD_CURRENCIES = ["usd", "US", "USDX", "", " USD", 840, None, "ÜSD", "U$D", "ＵＳＤ"]
BAD_PERCENTS = [
    "100.0001", "101", "-1", "-0.5", "1e2", 150, "50%", "", None, "40.000000000001",
    "41",  # 60 + 41: stakes in one entity over 100 (a rule)
]  # fmt: skip
BAD_PARTIES = [
    "initech", "", "ACME", "acme ", " acme", "аcme", "acme\u200b", "\u202eacme", "acme\x00",
    "acme\n", "ａｃｍｅ", "a" * 101, "x" * 200_000, 1, None, ["acme"], {"id": "acme"},
]  # fmt: skip
BAD_ENUMS = ["EQUITY", "Equity", "stock", "", " equity", 1, None, ["equity"]]
BAD_SOURCES = [
    None, "Board minutes", [], {}, {"citation": "x"}, {"confidence": "confirmed"},
    {"citation": "x", "confidence": "sure"}, {"citation": 1, "confidence": "confirmed"},
    {"citation": "x", "confidence": "confirmed", "url": "https://example.com"},
]  # fmt: skip
BAD_TYPES = ["invest", "Investment", "INVESTMENT", "", "agreement_closed", "merger", 1, None]
BAD_CHANGES = [
    [{"remove": "no-such-clause"}],
    [{"amend": "no-such-clause", "terms": {"exclusive": True}}],
    [{"amend": "cloud-exclusivity", "terms": {"exclusive": "yes"}}],
    [{"amend": "cloud-exclusivity", "terms": {"rate": "5"}}],
    [{"amend": "cloud-exclusivity"}],
    [{"add": {"id": "cloud-exclusivity", "kind": "exclusivity", "terms": {}}}],
    [{"add": {"id": "x", "kind": "bogus", "terms": {}}}],
    [{"add": {"id": "x", "kind": "Custom", "terms": {}}}],
    [{"add": {"id": "Bad Id", "kind": "custom", "terms": {"text": "x"}}}],
    [{"add": {"kind": "custom", "terms": {"text": "x"}}}],
    [{"add": {"id": "x", "kind": "custom", "terms": {"text": "x"}, "until": "2020-12-31"}}],
    [{"add": {"id": "x", "kind": "custom", "terms": {"text": "x"}, "until": "2021-02-30"}}],
    [{"add": {"id": "x", "kind": "custom", "terms": {"words": "x"}}}],
    [{"add": {"id": "v", "kind": "veto", "terms": {"holder": "globex", "over": ["coup"]}}}],
    [{"add": {"id": "v", "kind": "veto", "terms": {"holder": "initech", "over": []}}}],
    [{"add": {"id": "r", "kind": "revenue_share", "terms": {"rate": "120"}}}],
    [{"add": {"id": "r", "kind": "revenue_share",
              "terms": {"threshold": {"amount": "-1", "currency": "USD"}}}}],
    [{"add": {"id": "p", "kind": "profit_share", "terms": {"cap_multiple": "1e3"}}}],
    [{"frobnicate": "cloud-exclusivity"}],
    [{"remove": "cloud-exclusivity", "until": "2022-01-01"}],
    [{"amend": "cloud-exclusivity", "terms": {"exclusive": False}}, {"remove": "no-such"}],
    [{"remove": "cloud-exclusivity"},
     {"amend": "cloud-exclusivity", "terms": {"exclusive": False}}],
    "remove cloud-exclusivity",
    [None],
    [["remove", "cloud-exclusivity"]],
    None,
]  # fmt: skip
BAD_TARGETS = [
    f"{AGREEMENT}#99", f"{AGREEMENT}#0", f"{AGREEMENT}#-1", f"{AGREEMENT}#1", f"{AGREEMENT}#4",
    f"{AGREEMENT}#5", "other#2", "", "#2", 2, None, [f"{AGREEMENT}#2"],
]  # fmt: skip

# Per event type: the fields that can be made bad, and how.
FIELDS: dict[str, dict[str, list[Any]]] = {
    "investment": {
        "type": BAD_TYPES,
        "effective_on": BAD_DATES,
        "investor": BAD_PARTIES,
        "recipient": BAD_PARTIES,
        "amount": [*WRONG_TYPES, "5", {"amount": "5", "currency": "USD", "fx": "1"}],
        "amount.amount": BAD_AMOUNTS,
        "amount.currency": BAD_CURRENCIES,
        "instrument": BAD_ENUMS,
        "source": BAD_SOURCES,
        "date_precision": ["week", "DAY", "month", "quarter", "year", "", 1, None],
        "note": [1, 2.5, True, [], {"a": 1}, ["note"]],
        "bogus_field": ["x", None, 1],
    },
    "ownership_change": {
        "effective_on": BAD_DATES,
        "holder": BAD_PARTIES,
        "entity": [1, None, [], {}, ["globex"]],
        "percent": BAD_PERCENTS,
        "source": BAD_SOURCES,
    },
    "amendment": {"effective_on": BAD_DATES, "changes": BAD_CHANGES},
    "governance": {
        "kind": ["coup", "RESTRUCTURING", "", 1, None],
        "approved_by": [[], ["acme"], ["initech"], "globex", [1], None],
        "people": [[1], [None], [["x"]], 1],
        "effective_on": BAD_DATES,
    },
    "retraction": {
        "retracts": BAD_TARGETS,
        "reason": [1, None, [], {}],
        "source": BAD_SOURCES,
        "effective_on": ["2021-01-02"],
    },
    "correction": {
        "corrects": BAD_TARGETS,
        "replacement": [
            None, {}, "investment", BASE["retraction"],
            {**BASE["investment"], "investor": "initech"},
            {**BASE["investment"], "effective_on": "2019-12-31"},
            {**BASE["investment"], "type": "agreement_opened"},
        ],
        "replacement.amount.amount": BAD_AMOUNTS,
        "source": BAD_SOURCES,
    },
}  # fmt: skip

# Fields the event cannot do without (no default): deleting one makes a bad event.
REQUIRED: dict[str, list[str]] = {
    "investment": ["type", "effective_on", "investor", "recipient", "amount", "instrument",
                   "source", "amount.amount", "amount.currency", "source.citation",
                   "source.confidence"],
    "ownership_change": ["effective_on", "holder", "entity", "percent", "source"],
    "amendment": ["effective_on", "changes", "source"],
    "governance": ["effective_on", "kind", "entity", "source"],
    "retraction": ["retracts", "reason", "source"],
    "correction": ["corrects", "reason", "source", "replacement", "replacement.effective_on"],
}  # fmt: skip


def with_value(event: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``event`` with the field at ``path`` (dotted) set to ``value``."""
    copy = json.loads(json.dumps(event))
    *parents, last = path.split(".")
    target = copy
    for name in parents:
        target = target[name]
    target[last] = value
    return copy


def without(event: dict[str, Any], path: str) -> dict[str, Any]:
    copy = json.loads(json.dumps(event))
    *parents, last = path.split(".")
    target = copy
    for name in parents:
        target = target[name]
    del target[last]
    return copy


# -- bad files ---------------------------------------------------------------------


def document(events: list[Any]) -> dict[str, Any]:
    return {"agreement": AGREEMENT, "events": events}


def as_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


def as_yaml(value: Any) -> bytes:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False).encode("utf-8")


@st.composite
def bad_event_files(draw: st.DrawFn) -> tuple[str, bytes, str]:
    """A valid file whose one event has one field made bad (or removed)."""
    kind = draw(st.sampled_from(sorted(FIELDS)), label="event type")
    if draw(st.booleans()):
        field = draw(st.sampled_from(sorted(FIELDS[kind])), label="field")
        value = draw(st.sampled_from(FIELDS[kind][field]), label="value")
        event = with_value(BASE[kind], field, value)
        what = f"{kind}.{field}={value!r:.40}"
    else:
        field = draw(st.sampled_from(REQUIRED[kind]), label="missing field")
        event = without(BASE[kind], field)
        what = f"{kind} without {field}"
    before = draw(st.lists(st.sampled_from(["investment", "ownership_change"]), max_size=2))
    events = [BASE[k] for k in before] + [event]
    fmt = draw(st.sampled_from(["json", "yaml"]), label="format")
    if fmt == "yaml" and "\x00" in json.dumps(event, ensure_ascii=False):
        fmt = "json"
    data = as_json(document(events)) if fmt == "json" else as_yaml(document(events))
    return f"event.{fmt}", data, f"event {len(events)}: {what}"


@st.composite
def malformed_json(draw: st.DrawFn) -> tuple[str, bytes, str]:
    valid = as_json(document([BASE["investment"], BASE["amendment"]]))
    how = draw(st.sampled_from(["truncated", "trailing", "syntax"]))
    if how == "truncated":
        cut = draw(st.integers(1, len(valid) - 1))
        return "cut.json", valid[:cut], f"JSON cut at {cut}"
    if how == "trailing":
        junk = draw(st.sampled_from([b"x", b"}", b",", b"]", b"{}", b"\x00", b"// c"]))
        return "trailing.json", valid + junk, f"JSON + {junk!r}"
    text = draw(
        st.sampled_from(
            [
                b'{"events": [1,],}',
                b"{'events': []}",
                b'{"events": [] /* comment */}',
                b'{"events": [{"type": "investment",}]}',
                b'{"events": [{"type": investment}]}',
                b'{"events": [NaN]}',
                b'{"events": [{"amount": Infinity}]}',
                b'{"events": [{"amount": 1e999}]}',
                b'{"events": [{"type": "investment" "x": 1}]}',
                b"[" * 100_000 + b"]" * 100_000,
                b'{"events": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
                b"{" + b'"a":{' * 30_000 + b"}" * 30_001,
                b"\xef\xbb\xbf\xef\xbb\xbf{}",
                "{}".encode("utf-16"),
            ]
        )
    )
    return "syntax.json", text, f"JSON syntax {text[:30]!r}"


MALFORMED_YAML = [
    "events:\n\t- type: investment\n",
    "events: [\n",
    "events:\n  - {type: investment\n",
    "events: 'unclosed\n",
    'events: "unclosed\n',
    "events:\n - a\n  - b\n  c: d\n",
    "events:\n  - type: investment\n   effective_on: 2021-01-02\n",
    ": :\n  - :\n",
    "%YAML 9.9\n---\nevents: []\n",
    "events: *nowhere\n",
    "events: &a [*a]\n",
    "events:\n  - !!python/object/apply:os.system ['touch {marker}']\n",
    "events: !!python/object/apply:os.system ['touch {marker}']\n",
    "!!python/object/new:os.system ['touch {marker}']\n",
    "events:\n  - !!python/name:os.system\n",
    "events:\n  - !!python/module:os\n",
    "events:\n  - type: investment\n    note: !!python/object/apply:os.system ['touch {marker}']\n",
    "events:\n  - !custom {type: investment}\n",
    "events:\n  - !!binary aGVsbG8=\n",
    "events:\n  - !!set {a, b}\n",
    "events:\n  - !!timestamp 2021-01-02\n",
    "--- a\n--- b\n",
    "events:\n  - type: investment\n  - &x\n",
    "[" * 20_000 + "]" * 20_000,
    "events:\n  - note: " + "[" * 20_000 + "]" * 20_000 + "\n",
    "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nevents: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
    "events: [1, 2, 3]\n",
    "events: {type: investment}\n",
    "events: investment\n",
    "events: []\n",
    "events:\n",
    "agreement: acme-globex\n",
    "agreement: Acme Globex\nevents: [{type: retraction}]\n",
    "agreement: other-deal\nevents: [{type: retraction, retracts: 'other-deal#2', reason: x, "
    "source: {citation: x, confidence: confirmed}}]\n",
    "agreement: [acme-globex]\nevents: []\n",
    "events: [{type: investment}]\nextra: 1\n",
    "",
    "# only a comment\n",
    "42\n",
    "just some text\n",
    "null\n",
    "~\n",
    "\ufeff\ufeffevents: []\n",
]


@st.composite
def malformed_yaml(draw: st.DrawFn) -> tuple[str, bytes, str]:
    text = draw(st.sampled_from(MALFORMED_YAML))
    return "bad.yaml", text.encode("utf-8"), f"YAML {text[:40]!r}"


@st.composite
def garbage(draw: st.DrawFn) -> tuple[str, bytes, str]:
    how = draw(st.sampled_from(["bytes", "text", "document"]))
    if how == "bytes":  # never valid UTF-8
        data = b"\xff" + draw(st.binary(max_size=200))
        return "garbage.yaml", data, "invalid UTF-8"
    if how == "text":  # random text: a scalar, a mapping of nonsense, or a syntax error
        text = draw(st.text(max_size=200))
        name = draw(st.sampled_from(["text.yaml", "text.json", "text.txt"]))
        return name, text.encode("utf-8"), f"text {text[:30]!r}"
    value = draw(st.sampled_from([None, 42, "text", [], {}, [1], [None], [[BASE["investment"]]]]))
    return "doc.json", as_json(value), f"document {value!r:.40}"


@st.composite
def atomicity_files(draw: st.DrawFn) -> tuple[str, bytes, str]:
    """Valid events followed by one refused by a rule: the valid ones must not land."""
    good = draw(
        st.lists(
            st.sampled_from(["investment", "ownership_change", "amendment"]), min_size=1, max_size=5
        )
    )
    bad = draw(
        st.sampled_from(
            [
                with_value(BASE["investment"], "investor", "initech"),
                with_value(BASE["ownership_change"], "percent", "41"),
                with_value(BASE["governance"], "approved_by", ["acme"]),
                with_value(BASE["retraction"], "retracts", f"{AGREEMENT}#1"),
                with_value(BASE["amendment"], "changes", [{"remove": "no-such-clause"}]),
                with_value(BASE["investment"], "effective_on", "2019-12-31"),
            ]
        )
    )
    events = [BASE[k] for k in good] + [bad]
    return "batch.json", as_json(document(events)), f"{len(good)} good then a refused {bad['type']}"


def bad_files() -> st.SearchStrategy[tuple[str, bytes, str]]:
    return st.one_of(
        bad_event_files(), malformed_json(), malformed_yaml(), garbage(), atomicity_files()
    )


# -- checks ------------------------------------------------------------------------


def store_rows(path: str) -> list[tuple[Any, ...]]:
    """Every row of every table (events, index, checkpoints), byte for byte, read with sqlite3."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        tables = sorted(
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        )
        rows: list[tuple[Any, ...]] = []
        for table in tables:
            query = f'SELECT * FROM "{table}"'  # noqa: S608 - from sqlite_master
            rows.extend(sorted((table, *row) for row in connection.execute(query)))
        return rows


def event_rows(path: str) -> list[tuple[Any, ...]]:
    """The rows of the events table alone."""
    return [row for row in store_rows(path) if row[0] == "stored_events"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("bad-input") / "ledger.sqlite")
    with Ledger(path) as ledger:
        ledger.append(setup_events())
    return path


@pytest.fixture(scope="module")
def ledger(store: str) -> Iterator[Ledger]:
    with Ledger(store) as opened:
        yield opened


@pytest.fixture(scope="module", autouse=True)
def figures() -> Iterator[None]:
    """Prints what the fuzzing saw (visible with ``-s``)."""
    yield
    print(f"\nbad-input outcomes: {dict(OUTCOMES)}")


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "pwned"


def write(directory: Path, name: str, data: bytes, marker: Path) -> Path:
    path = directory / name
    path.write_bytes(data.replace(b"{marker}", str(marker).encode()))
    return path


def check_message(message: str) -> None:
    assert message.strip(), "an empty message"
    assert len(message.strip().splitlines()) == 1, message
    assert "Traceback" not in message


@pytest.mark.parametrize("kind", sorted(BASE))
def test_base_documents_are_accepted(store: str, tmp_path: Path, kind: str) -> None:
    """Each mutation below breaks a file that is otherwise accepted."""
    copy = tmp_path / "copy.sqlite"
    shutil.copyfile(store, copy)
    for fmt, dump in (("json", as_json), ("yaml", as_yaml)):
        path = tmp_path / f"{kind}.{fmt}"
        path.write_bytes(dump(document([BASE["investment"], BASE["ownership_change"], BASE[kind]])))
        with Ledger(str(copy)) as ledger:
            before = len(event_rows(str(copy)))
            appended = ledger.append_file(str(path))
            assert len(event_rows(str(copy))) == before + 3 == before + len(appended)
        shutil.copyfile(store, copy)


@settings(
    max_examples=200,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)
@given(bad=bad_files())
def test_bad_file_refused_in_process(
    store: str, ledger: Ledger, marker: Path, bad: tuple[str, bytes, str]
) -> None:
    name, data, what = bad
    before = store_rows(store)
    with tempfile.TemporaryDirectory() as directory:
        path = write(Path(directory), name, data, marker)
        try:
            ledger.append_file(str(path))
        except InputError as error:
            OUTCOMES["in-process: refused (InputError)"] += 1
            check_message(str(error))
        except Exception as error:
            OUTCOMES[f"in-process: {type(error).__name__}"] += 1
            raise AssertionError(f"{what}: {type(error).__name__}: {error}") from error
        else:
            OUTCOMES["in-process: accepted"] += 1
            raise AssertionError(f"{what}: accepted")
    assert store_rows(store) == before, what
    assert not marker.exists()


@settings(
    max_examples=20,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking subprocesses is slow
)
@given(bad=bad_files())
def test_bad_file_refused_by_the_cli(
    store: str, run_cli: Callable[..., Any], marker: Path, bad: tuple[str, bytes, str]
) -> None:
    name, data, what = bad
    before = store_rows(store)
    with tempfile.TemporaryDirectory() as directory:
        path = write(Path(directory), name, data, marker)
        done = run_cli("--store", store, "append", str(path))
    OUTCOMES[f"cli: exit {done.returncode}"] += 1
    assert done.returncode == 2, f"{what}: exit {done.returncode}: {done.stderr}"
    check_message(done.stderr)
    assert done.stderr.startswith("ledger: "), done.stderr
    assert done.stdout == ""
    assert store_rows(store) == before, what
    assert not marker.exists()


@pytest.mark.parametrize("field", ["note", "source.citation", "source.quote"])
def test_lone_surrogate_is_bad_input(
    store: str, ledger: Ledger, tmp_path: Path, field: str
) -> None:
    """Text JSON can spell but UTF-8 cannot store is bad input, not a crash."""
    event = json.dumps(with_value(BASE["investment"], field, "\ud800"))
    path = tmp_path / "surrogate.json"
    path.write_text('{"events": [' + event + "]}")
    before = store_rows(store)
    with pytest.raises(InputError, match=field.split(".")[-1]):
        ledger.append_file(str(path))
    assert store_rows(store) == before


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({**BASE["governance"], "people": "Sam Altman"}, "people"),
        ({**BASE["governance"], "people": {"Sam Altman": "CEO"}}, "people"),
        (
            {
                "type": "renegotiation_opened",
                "effective_on": "2021-01-02",
                "renegotiation": "talks",
                "initiated_by": "acme",
                "topics": "revenue_share",
                "source": SOURCE,
            },
            "topics",
        ),
    ],
)
def test_string_is_not_a_list(
    store: str, ledger: Ledger, tmp_path: Path, event: dict[str, Any], field: str
) -> None:
    path = tmp_path / "string.yaml"
    path.write_bytes(as_yaml(document([event])))
    before = store_rows(store)
    with pytest.raises(InputError, match=field):
        ledger.append_file(str(path))
    assert store_rows(store) == before


def test_empty_entity_is_bad_input(store: str, ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "entity.yaml"
    path.write_bytes(as_yaml(document([with_value(BASE["ownership_change"], "entity", "")])))
    before = store_rows(store)
    with pytest.raises(InputError, match="entity"):
        ledger.append_file(str(path))
    assert store_rows(store) == before


@pytest.mark.parametrize(
    ("kind", "field", "digits"),
    [
        ("investment", "amount.amount", "١٢٣"),
        ("investment", "amount.amount", "１２３"),
        ("ownership_change", "percent", "٣٠"),
    ],
)
def test_non_ascii_digits_are_not_plain_decimals(
    store: str, ledger: Ledger, tmp_path: Path, kind: str, field: str, digits: str
) -> None:
    """DESIGN: amounts are written in plain decimal; '١٢٣' is not (Python's \\d says it is)."""
    path = tmp_path / "digits.json"
    path.write_bytes(as_json(document([with_value(BASE[kind], field, digits)])))
    before = store_rows(store)
    with pytest.raises(InputError, match=field.split(".")[-1]):
        ledger.append_file(str(path))
    assert store_rows(store) == before


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("amount.currency", "usd", "currency"),
        ("investor", "initech", "investor"),
        ("effective_on", "2021-02-30", "effective_on"),
        ("effective_on", "2019-12-31", "effective_on"),
        ("amount.amount", "-1", "amount"),
        ("instrument", "stock", "instrument"),
    ],
)
def test_message_names_file_event_and_field(
    store: str, run_cli: Callable[..., Any], tmp_path: Path, field: str, value: Any, expected: str
) -> None:
    path = tmp_path / "named.yaml"
    bad = with_value(BASE["investment"], field, value)
    path.write_bytes(as_yaml(document([BASE["ownership_change"], bad])))
    done = run_cli("--store", store, "append", str(path))
    assert done.returncode == 2
    line = done.stderr.strip()
    assert str(path) in line or path.name in line, line
    assert re.search(r"\bevent 2\b", line), line
    assert expected in line, line


def test_python_tags_never_run(store: str, run_cli: Callable[..., Any], tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "tag.yaml"
    path.write_text(f"events:\n  - !!python/object/apply:os.system ['touch {marker}']\n")
    done = run_cli("--store", store, "append", str(path))
    assert done.returncode == 2
    assert "tag" in done.stderr or "constructor" in done.stderr
    assert not marker.exists()


def test_file_over_the_size_limit_is_refused_before_reading(
    store: str, run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:  # sparse: no disk used, no time spent writing
        handle.truncate(files.MAX_FILE_BYTES + 1)
    before = store_rows(store)
    started = time.monotonic()
    done = run_cli("--store", store, "append", str(path))
    assert done.returncode == 2, done.stderr
    assert time.monotonic() - started < 5  # reading 512 MiB would take longer
    assert str(files.MAX_FILE_BYTES) in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert store_rows(store) == before


def test_yaml_over_its_limit_is_refused_before_parsing(
    store: str, ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_parsing(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the parser was called")

    monkeypatch.setattr(files.yaml, "load", no_parsing)
    monkeypatch.setattr(files.yaml, "safe_load", no_parsing)
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.write(b"events:\n  - note: ")
        handle.truncate(files.MAX_YAML_BYTES + 1)
    before = store_rows(store)
    with pytest.raises(InputError, match=str(files.MAX_YAML_BYTES)):
        ledger.append_file(str(path))
    assert store_rows(store) == before


def test_huge_batch_with_one_bad_event_writes_nothing(
    store: str, ledger: Ledger, tmp_path: Path
) -> None:
    events = [with_value(BASE["investment"], "amount.amount", str(n + 1)) for n in range(20_000)]
    events.append(with_value(BASE["investment"], "investor", "initech"))
    path = tmp_path / "huge-batch.json"
    path.write_bytes(as_json(document(events)))
    before = store_rows(store)
    with pytest.raises(InputError, match="event 20001"):
        ledger.append_file(str(path))
    assert store_rows(store) == before


def test_bad_stdin_is_refused(store: str, run_cli: Callable[..., Any]) -> None:
    before = store_rows(store)
    done = run_cli("--store", store, "append", "-", stdin="events: [\n")
    assert done.returncode == 2
    assert "<stdin>" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert store_rows(store) == before
