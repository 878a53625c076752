"""Amendment files (YAML or JSON) to events, and back.

YAML is read with PyYAML's safe loader minus its implicit date resolver, so dates stay
text until each field is checked and an impossible date is reported with its field.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import yaml

from ledger.domain.events import AgreementOpened, Fact, structure_fact, unstructure_fact
from ledger.domain.values import NumberLiteral, parse_slug
from ledger.errors import FileError, InvalidField, shown

MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_YAML_BYTES = 32 * 1024 * 1024


# libyaml's parser where it is installed (several times faster); the constructors and
# resolvers below are PyYAML's Python ones either way.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_REFUSED_TAGS = ("timestamp", "binary", "set", "omap", "pairs", "merge", "value")
# How many values (keys included) a YAML document may hold, as written and once its
# aliases are expanded: one per CHARACTERS_PER_VALUE characters of its text, so that
# neither dense text nor aliases make a small file a lot of work (an ordinary amendment
# file has one value per seven characters or more), at least MIN_NODES, at most MAX_NODES.
MAX_NODES = 1_000_000
MIN_NODES = 10_000
CHARACTERS_PER_VALUE = 5


def node_budget(characters: int) -> int:
    """How many values a YAML text of that many characters may hold."""
    return min(MAX_NODES, max(MIN_NODES, characters // CHARACTERS_PER_VALUE))


class _TooManyValues(yaml.YAMLError):
    """A YAML text holds more values than its budget (``node_budget``)."""


class _Loader(_SafeLoader):  # type: ignore[misc, valid-type]  # either class, chosen above
    """The safe loader, reading numbers as written (``NumberLiteral``: the codec checks
    that they are plain decimals), no dates or other YAML types, and refusing a key
    written twice in one mapping (which would silently keep the last), a key that is
    not a plain value, or more values than the text's budget (counted as the parser
    meets them, so a dense file is refused before it is all read)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.budget = node_budget(len(stream))
        self.nodes = 0

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> str:
        # Called for every node written without a tag: the count of values as written.
        self.nodes += 1
        if self.nodes > self.budget:
            raise _TooManyValues(self.budget)
        tag: str = super().resolve(kind, value, implicit)
        return tag

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    None, None, "expected a plain key, got a list or mapping", key_node.start_mark
                )
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"found the key {shown(key)} twice in one mapping",
                    key_node.start_mark,
                )
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def _number_literal(loader: yaml.SafeLoader, node: yaml.Node) -> NumberLiteral:
    if not isinstance(node, yaml.ScalarNode):  # pragma: no cover - numbers are scalars
        raise yaml.constructor.ConstructorError(None, None, "expected a number", node.start_mark)
    return NumberLiteral(str(loader.construct_scalar(node)))


def _refused(_loader: yaml.SafeLoader, node: yaml.Node) -> None:
    kind = node.tag.rpartition(":")[2]
    raise yaml.constructor.ConstructorError(
        None,
        None,
        f"expected text, a number, true/false, a list or a mapping, got a YAML {kind} "
        "(quote it to keep it as text)",
        node.start_mark,
    )


def _bool(loader: yaml.SafeLoader, node: yaml.Node) -> bool:
    value = loader.construct_scalar(node)  # type: ignore[arg-type]  # a ConstructorError if not
    known: bool | None = loader.bool_values.get(str(value).lower())
    if known is None:  # ``!!bool confirmed``: PyYAML's own constructor raises KeyError
        raise yaml.constructor.ConstructorError(
            None, None, f"expected true or false, got {shown(value)}", node.start_mark
        )
    return known


_Loader.add_constructor("tag:yaml.org,2002:bool", _bool)
_Loader.add_constructor("tag:yaml.org,2002:float", _number_literal)
_Loader.add_constructor("tag:yaml.org,2002:int", _number_literal)
for _tag in _REFUSED_TAGS:
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refused)
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _expanded_size(value: object, limit: int) -> int:
    """How many values ``value`` holds once shared ones (YAML aliases) are counted each
    time they appear; stops past ``limit``. Aliases make a small file a huge document
    ("billion laughs"), which later reading would walk in full."""
    sizes: dict[int, int] = {}

    def size(item: object) -> int:
        if not isinstance(item, (dict, list)):
            return 1
        known = sizes.get(id(item))
        if known is not None:
            return known
        parts = (*item.keys(), *item.values()) if isinstance(item, dict) else item
        total = 1
        for part in parts:
            total += size(part)
            if total > limit:
                break
        sizes[id(item)] = total
        return total

    return size(value)


@attrs.frozen
class AmendmentFile:
    """The events of one file, for one agreement (``None``: the file does not say)."""

    agreement: str | None
    events: tuple[Fact, ...]
    idempotency_key: str | None = None

    def to_plain(self) -> dict[str, Any]:
        """The file's plain form, as written to YAML or JSON."""
        events = []
        for fact in self.events:
            plain = unstructure_fact(fact)
            if isinstance(fact, AgreementOpened) and fact.agreement == self.agreement:
                del plain["agreement"]
            events.append(plain)
        document: dict[str, Any] = {"agreement": self.agreement, "events": events}
        if self.idempotency_key is not None:
            document["idempotency_key"] = self.idempotency_key
        return document


def read_file(name: str, stdin_text: str | None = None) -> AmendmentFile:
    """The events of the file ``name`` (``-`` reads standard input)."""
    if name == "-":
        text = stdin_text if stdin_text is not None else sys.stdin.read()
        return parse_text(text, "<stdin>")
    path = Path(name)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise FileError(name, f"expected a file of at most {MAX_FILE_BYTES} bytes, got {size}")
        data = path.read_bytes()
    except OSError as error:
        raise FileError(name, f"cannot read the file ({error.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileError(
            name, f"expected UTF-8 text, got an invalid byte at {error.start}"
        ) from None
    return parse_text(text, name, is_json=path.suffix.lower() == ".json")


def parse_text(text: str, name: str, *, is_json: bool | None = None) -> AmendmentFile:
    """The events of an amendment file's text; errors name ``name``, the event and field."""
    document = _load(text, name, is_json)
    try:
        return parse_document(document)
    except InvalidField as error:
        raise FileError(name, str(error)) from None


def _load(text: str, name: str, is_json: bool | None) -> object:
    stripped = text.lstrip("\ufeff \t\r\n")
    as_json = is_json if is_json is not None else stripped.startswith(("{", "["))
    as_json = as_json or stripped.startswith(("{", "["))
    try:
        if as_json:
            return json.loads(
                stripped,
                parse_float=NumberLiteral,
                parse_int=NumberLiteral,  # kept as written, like YAML's (no digit limit)
                parse_constant=NumberLiteral,
                object_pairs_hook=_unique_keys,
            )
        if len(text.encode("utf-8")) > MAX_YAML_BYTES:
            raise FileError(
                name, f"expected YAML of at most {MAX_YAML_BYTES} bytes (use JSON for more)"
            )
        document = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
        budget = node_budget(len(text))
        if _expanded_size(document, budget) > budget:
            raise FileError(name, _too_many(budget, " once its aliases are expanded"))
        return document
    except FileError:
        raise
    except _TooManyValues:
        raise FileError(name, _too_many(node_budget(len(text)), "")) from None
    except RecursionError:
        raise FileError(name, "expected a document nested less deeply") from None
    except json.JSONDecodeError as error:
        raise FileError(
            name, f"expected JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except yaml.YAMLError as error:
        raise FileError(name, f"expected YAML: {_yaml_problem(error)}") from None
    except ValueError as error:
        raise FileError(name, f"expected {'JSON' if as_json else 'YAML'}: {error}") from None


def _too_many(budget: int, how: str) -> str:
    return (
        f"expected YAML of at most {budget:,} values{how} (one per {CHARACTERS_PER_VALUE} "
        f"characters of text, at least {MIN_NODES:,}, at most {MAX_NODES:,}; "
        "use JSON for more), got more"
    )


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) < len(pairs):  # a key came twice: find the first (linear, not n²)
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"found the key {shown(key)} twice in one object")
            seen.add(key)
    return mapping


def _yaml_problem(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"{error.problem} at line {mark.line + 1} column {mark.column + 1}"
    return str(error).splitlines()[0]


def parse_document(document: object) -> AmendmentFile:
    """The events of a loaded document: ``{agreement, events}`` or a bare list of events."""
    agreement: str | None = None
    key: str | None = None
    if isinstance(document, Mapping):
        unknown = sorted(str(k) for k in document if k not in _DOCUMENT_FIELDS)
        if unknown:
            raise InvalidField(
                unknown[0], f"unknown field (expected {', '.join(_DOCUMENT_FIELDS)})"
            )
        if "agreement" in document and document["agreement"] is not None:
            agreement = parse_slug(document["agreement"], "agreement")
        if document.get("idempotency_key") is not None:
            key = parse_idempotency_key(document["idempotency_key"], "idempotency_key")
        events = document.get("events")
    else:
        events = document
    if not isinstance(events, Sequence) or isinstance(events, (str, bytes)):
        raise InvalidField("events", f"expected a list of events, got {_kind(events)}")
    if not events:
        raise InvalidField("events", "expected at least one event, got none")
    return AmendmentFile(
        agreement, tuple(_event(raw, agreement, n) for n, raw in enumerate(events, 1)), key
    )


_DOCUMENT_FIELDS = ("agreement", "events", "idempotency_key")
MAX_KEY = 200  # characters of an idempotency key: a UUID, a job's name and date


def parse_idempotency_key(value: object, field: str) -> str:
    """An idempotency key: text of 1 to 200 printable characters."""
    if not isinstance(value, str):
        raise InvalidField(field, f"expected text, got {_kind(value)}")
    if not value.strip() or len(value) > MAX_KEY or not value.isprintable():
        raise InvalidField(
            field,
            f"expected 1 to {MAX_KEY} printable characters, got {shown(value)}",
        )
    return value


_OPENED = "agreement_opened"


def _event(raw: object, agreement: str | None, index: int) -> Fact:
    kind = raw.get("type") if isinstance(raw, Mapping) else None
    try:
        if isinstance(raw, Mapping):
            raw = _named(raw, agreement)
            replacement = raw.get("replacement")
            if (
                kind == "correction"
                and isinstance(replacement, Mapping)
                and replacement.get("type") == _OPENED
                and agreement is not None
            ):
                # A replacement opening may name its agreement or take the file's; whether
                # it may replace the original is the timeline's rule to check.
                raw = {**raw, "replacement": {"agreement": agreement, **replacement}}
        return structure_fact(raw)
    except InvalidField as error:
        raise error.located(index, kind if isinstance(kind, str) else None) from None


def _named(raw: Mapping[str, Any], agreement: str | None) -> Mapping[str, Any]:
    """An opening names its agreement: the file's, unless it says the same itself."""
    if raw.get("type") != _OPENED:
        return raw
    given = raw.get("agreement", agreement)
    if agreement is not None and given != agreement:
        raise InvalidField(
            "agreement", f"expected {agreement!r} as in the file, got {shown(given)}"
        )
    if given is None:
        raise InvalidField("agreement", "required: the file or the event must name the agreement")
    return {**raw, "agreement": given}


def _kind(value: object) -> str:
    if isinstance(value, NumberLiteral):
        return "a number"
    return "nothing" if value is None else type(value).__name__


def dump_yaml(file: AmendmentFile) -> str:
    """The file as YAML: readable Unicode, except where YAML would read a character back
    as a line break (NEL, LS, PS), which only escapes keep."""
    plain = file.to_plain()
    text = json.dumps(plain, ensure_ascii=False)
    readable = not any(char in text for char in "\x85\u2028\u2029")
    return yaml.safe_dump(plain, sort_keys=False, allow_unicode=readable)


def dump_json(file: AmendmentFile) -> str:
    """The file as JSON."""
    return json.dumps(file.to_plain(), ensure_ascii=False, indent=2)
