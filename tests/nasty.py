"""Nasty files of at most 1 MB: every way a small file can ask for a lot of work.

Each is a name, the bytes of the file, and what the ledger must answer: ``"refused"``
(exit 2, one line, nothing written) or ``"accepted"`` (the file is valid, however odd).
``tests/test_input_fuzz.py`` offers each to a store in process; ``bench/nasty.py`` runs
each through the real command and prints its time and peak memory. The budget for any
of them: 2 s and 200 MB.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

AGREEMENT = "acme-globex"
MB = 1024 * 1024
SOURCE = {"citation": "Board minutes", "confidence": "confirmed"}
INVESTMENT = {
    "type": "investment",
    "effective_on": "2021-01-02",
    "investor": "acme",
    "recipient": "globex",
    "amount": {"amount": "5", "currency": "USD"},
    "instrument": "equity",
    "source": SOURCE,
}
OPENING = {
    "type": "agreement_opened",
    "effective_on": "2020-01-01",
    "agreement": AGREEMENT,
    "title": "Acme–Globex",
    "parties": [{"id": "acme", "name": "Acme"}, {"id": "globex", "name": "Globex"}],
    "clauses": [
        {"id": "cloud-exclusivity", "kind": "exclusivity", "terms": {"holder": "acme"}},
        {
            "id": "restructuring-veto",
            "kind": "veto",
            "terms": {"holder": "globex", "over": ["restructuring"]},
        },
    ],
    "source": SOURCE,
}


def opening_events() -> list[dict[str, Any]]:
    """What the store holds before a nasty file is offered: the opening, one investment."""
    return [OPENING, INVESTMENT]


def padded(text: str, size: int) -> bytes:
    """``text`` with a trailing YAML comment making it exactly ``size`` bytes."""
    data = text.encode("utf-8")
    room = size - len(data)
    if room < 3:
        raise ValueError(f"{len(data)} bytes do not fit in {size}")
    return data + b"#" + b"x" * (room - 2) + b"\n"


def billion_laughs_lists() -> bytes:
    """Nine levels of nine aliases to a list: 9**9 strings once expanded, in 650 bytes."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "abcdefghi"
    for before, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [" + ",".join(f"*{before}" for _ in range(9)) + "]")
    return padded("\n".join(lines) + "\nevents: *i\n", 650)


def billion_laughs_mappings() -> bytes:
    """The same with mappings (a bomb whose aliases are values under keys), in 752 bytes."""
    keys = ", ".join(f"k{n}: lol" for n in range(1, 10))
    lines = [f"a: &a {{{keys}}}"]
    names = "abcdefghi"
    for before, name in itertools.pairwise(names):
        values = ", ".join(f"k{n}: *{before}" for n in range(1, 10))
        lines.append(f"{name}: &{name} {{{values}}}")
    return padded("\n".join(lines) + "\nevents: [*i]\n", 752)


def document(events: list[Any], agreement: str | None = AGREEMENT) -> dict[str, Any]:
    return {"agreement": agreement, "events": events}


def as_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def investments(count: int) -> list[dict[str, Any]]:
    return [
        {**INVESTMENT, "amount": {"amount": str(n + 1), "currency": "USD"}} for n in range(count)
    ]


def _fill(unit: str, size: int = MB - 400) -> str:
    return unit * (size // len(unit))


def yaml_event_with(field: str, value: str) -> bytes:
    """A YAML file whose one investment has ``field: value`` written as is."""
    lines = [
        f"agreement: {AGREEMENT}",
        "events:",
        "  - type: investment",
        "    effective_on: '2021-01-02'",
        "    investor: acme",
        "    recipient: globex",
        "    instrument: equity",
        "    source: {citation: x, confidence: confirmed}",
    ]
    if field == "amount":
        lines.append(f"    amount: {{currency: USD, amount: {value}}}")
    else:
        lines.append("    amount: {amount: '5', currency: USD}")
        lines.append(f"    {field}: {value}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def json_event_with(field: str, number: str) -> bytes:
    """A JSON file whose one ownership change has ``field`` set to ``number`` as written."""
    event = {
        "type": "ownership_change",
        "effective_on": "2021-01-02",
        "holder": "acme",
        "entity": "globex",
        "source": SOURCE,
    }
    text = json.dumps(document([event]))
    return text.replace('"holder"', f'"{field}": {number}, "holder"').encode()


def many_keys_yaml(count: int) -> bytes:
    keys = "".join(f"    k{n}: 1\n" for n in range(count))
    return f"agreement: {AGREEMENT}\nevents:\n  - type: investment\n{keys}".encode()


def aliased_events(count: int) -> bytes:
    """One valid investment, anchored, then ``count`` aliases to it: small text, many
    events (within the expansion limit they are valid, and recorded)."""
    head = (
        f"agreement: {AGREEMENT}\nevents:\n  - &e {{type: investment, effective_on: '2021-01-02',"
        " investor: acme, recipient: globex, amount: {amount: '5', currency: USD},"
        " instrument: equity, source: {citation: x, confidence: confirmed}}\n"
    )
    return (head + "  - *e\n" * count).encode("utf-8")


def shared_source(count: int) -> bytes:
    """``count`` investments sharing one source through an alias: aliases as people use
    them, within the budget."""
    lines = [f"agreement: {AGREEMENT}", "events:"]
    for n in range(count):
        source = "&s {citation: Board minutes, confidence: confirmed}" if n == 0 else "*s"
        lines.append(
            f"  - {{type: investment, effective_on: '2021-01-02', investor: acme, recipient:"
            f" globex, amount: {{amount: '{n + 1}', currency: USD}}, instrument: equity,"
            f" source: {source}}}"
        )
    return ("\n".join(lines) + "\n").encode()


def _cut(data: bytes, at: float) -> bytes:
    return data[: int(len(data) * at)]


def _big_valid() -> bytes:
    return as_json(document(investments(4_000)))


NASTY: dict[str, tuple[Callable[[], bytes], str]] = {
    # expansion
    "billion-laughs-650.yaml": (billion_laughs_lists, "refused"),
    "billion-laughs-752.yaml": (billion_laughs_mappings, "refused"),
    "aliases-amplifying.yaml": (lambda: aliased_events(40_000), "refused"),
    "aliases-over-limit.yaml": (lambda: aliased_events(120_000), "refused"),
    "aliases-shared-source.yaml": (lambda: shared_source(3_000), "accepted"),
    # nesting
    "deep-flow.yaml": (lambda: b"events: " + b"[" * 500_000 + b"]" * 500_000, "refused"),
    "deep-block.yaml": (lambda: b"events:\n" + b"- " * 450_000 + b"x\n", "refused"),
    "deep-json.json": (lambda: b'{"a": ' * 140_000 + b"1" + b"}" * 140_000, "refused"),
    "deep-array.json": (lambda: b"[" * 500_000 + b"]" * 500_000, "refused"),
    # breadth
    "many-keys.json": (
        lambda: as_json({"events": [{f"k{n}": 1 for n in range(80_000)}]}),
        "refused",
    ),
    "many-keys.yaml": (lambda: many_keys_yaml(75_000), "refused"),
    "duplicate-key-last.json": (
        lambda: (
            b'{"events": [{' + b",".join(b'"k%d": 1' % n for n in range(80_000)) + b', "k0": 2}]}'
        ),
        "refused",
    ),
    "many-events.json": (_big_valid, "accepted"),
    "many-events-last-bad.json": (
        lambda: as_json(document([*investments(4_000), {**INVESTMENT, "investor": "initech"}])),
        "refused",
    ),
    "many-changes.json": (
        lambda: as_json(
            document(
                [
                    {
                        "type": "amendment",
                        "effective_on": "2021-01-02",
                        "changes": [
                            {"add": {"id": f"c{n}", "kind": "custom", "terms": {"text": "x"}}}
                            for n in range(12_000)
                        ],
                        "source": SOURCE,
                    }
                ]
            )
        ),
        "accepted",
    ),
    "many-parties.json": (
        lambda: as_json(
            document(
                [
                    {
                        **OPENING,
                        "agreement": "crowd",
                        "parties": [
                            {"id": "acme", "name": "Acme"},
                            {"id": "globex", "name": "Globex"},
                            *({"id": f"p{n}", "name": f"P{n}"} for n in range(25_000)),
                        ],
                    }
                ],
                "crowd",
            )
        ),
        "accepted",
    ),
    "many-people.json": (
        lambda: as_json(
            document(
                [
                    {
                        "type": "governance",
                        "effective_on": "2021-01-02",
                        "kind": "board_changed",
                        "entity": "globex",
                        "people": [f"Person {n}" for n in range(60_000)],
                        "source": SOURCE,
                    }
                ]
            )
        ),
        "accepted",
    ),
    # long values
    "long-citation.json": (
        lambda: as_json(document([{**INVESTMENT, "source": {**SOURCE, "citation": _fill("x")}}])),
        "refused",
    ),
    "long-type.json": (lambda: as_json(document([{"type": _fill("t")}])), "refused"),
    "long-key.yaml": (lambda: yaml_event_with(_fill("k"), "1"), "refused"),
    "long-note.yaml": (lambda: yaml_event_with("note", _fill("n")), "refused"),
    "long-number.yaml": (lambda: yaml_event_with("amount", _fill("1")), "refused"),
    "long-number.json": (lambda: json_event_with("percent", "7" * (MB - 400)), "refused"),
    "long-sexagesimal.yaml": (lambda: yaml_event_with("amount", _fill("1:2")), "refused"),
    "long-underscores.yaml": (lambda: yaml_event_with("amount", _fill("1_")), "refused"),
    "long-exponent.json": (lambda: json_event_with("percent", "1e" + "9" * (MB - 400)), "refused"),
    "many-fraction-digits.json": (
        lambda: json_event_with("percent", "0." + "0" * (MB - 400) + "1"),
        "refused",
    ),
    "long-alias-name.yaml": (
        lambda: b"a: &" + _fill("n").encode() + b" x\nevents: []\n",
        "refused",
    ),
    # many small things
    "many-numbers.yaml": (
        lambda: (
            "events: ["
            + ", ".join(["0x1F", "0o17", "012", "1_000", "1:30", ".inf", ".nan", "1e3"] * 12_000)
            + "]\n"
        ).encode(),
        "refused",
    ),
    "many-tags.yaml": (
        lambda: ("events:\n" + "  - !!python/object/apply:os.system ['true']\n" * 20_000).encode(),
        "refused",
    ),
    "many-documents.yaml": (lambda: b"---\n" * 250_000, "refused"),
    "many-anchors.yaml": (
        lambda: ("events:\n" + "".join(f"  - &a{n} x\n" for n in range(60_000))).encode(),
        "refused",
    ),
    "blank.yaml": (lambda: b" " * (MB - 1) + b"\n", "refused"),
    "comments.yaml": (lambda: b"# nothing here\n" * 60_000, "refused"),
    "newlines.json": (lambda: b"\n" * MB, "refused"),
    # bytes
    "invalid-utf8.yaml": (lambda: b"events: [\xff\xfe]\n" * 50_000, "refused"),
    "nul-bytes.yaml": (lambda: b"events:\n  - \x00\n" * 50_000, "refused"),
    "utf16.json": (lambda: json.dumps({"events": []}).encode("utf-16"), "refused"),
    "control-characters.json": (
        lambda: as_json(
            document(
                [
                    {
                        **INVESTMENT,
                        "source": {
                            **SOURCE,
                            "citation": "\x1b[2J\x1b[31mred\x1b]0;title\x07 [/x] \u202eevil",
                        },
                    }
                ]
            )
        ),
        "accepted",
    ),
    "zalgo.json": (
        lambda: as_json(document([{**INVESTMENT, "note": "z" + "\u0301" * 9_999}])),
        "accepted",
    ),
    # cut short
    "truncated.json": (lambda: _cut(_big_valid(), 0.5), "refused"),
    "truncated-in-escape.json": (
        lambda: as_json(document([INVESTMENT]))[:-3] + b"\\u12",
        "refused",
    ),
}
