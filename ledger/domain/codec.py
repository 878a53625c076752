"""Values, clause terms and changes to and from plain data (the amendment-file shape,
which is also the stored shape); ``ledger.domain.events`` does the same for whole events
with the same converter.

One cattrs converter serves files, storage and the hash chain, so a fact has exactly
one plain form. Structuring is strict: a string is never coerced from a number, an
unknown key is an error, and every error names the field it is about.
"""

from __future__ import annotations

import difflib
import enum
import typing
from collections.abc import Callable, Collection, Mapping
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)

from ledger.domain.clauses import (
    TERMS_OF,
    AddClause,
    AmendClause,
    Change,
    ClauseKind,
    RemoveClause,
    Terms,
    term_names,
)
from ledger.domain.values import (
    Money,
    NumberLiteral,
    Percent,
    format_decimal,
    parse_date,
    parse_decimal,
    parse_slug,
)
from ledger.errors import InvalidField, at_path, join_path, shown

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)

converter = cattrs.Converter(forbid_extra_keys=True, omit_if_default=True)

# How long a text may be, in characters (README, "Amendment files"): a free text (a
# citation, quote, note, description, reason, a clause's terms) and a name (a title, a
# party's or a person's name, a renegotiation's topic). Ids are slugs of at most 100.
MAX_TEXT = 10_000
MAX_NAME = 500
NAMES = frozenset({"title", "name", "people", "topics"})


def too_long(limit: int, length: int) -> str:
    """The refusal of a text of ``length`` characters where ``limit`` is the most."""
    return f"expected at most {limit:,} characters, got {length:,}"


def _strict_str(value: object, _: type) -> str:
    if not isinstance(value, str):
        raise InvalidField("", f"expected text, got {shown(value)}")
    if len(value) > MAX_TEXT:
        raise InvalidField("", too_long(MAX_TEXT, len(value)))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidField(
            "", f"expected text UTF-8 can store, got a lone surrogate at character {error.start}"
        ) from None
    return value


def _text_list(value: object, _: type) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise InvalidField("", f"expected a list of text, got {shown(value)}")
    return tuple(at_path(f"[{i}]", partial(_strict_str, item, str)) for i, item in enumerate(value))


def _strict_bool(value: object, _: type) -> bool:
    if not isinstance(value, bool):
        raise InvalidField("", f"expected true or false, got {shown(value)}")
    return value


def _enum_hook(value: object, cls: type[E]) -> E:
    try:
        return cls(value)
    except ValueError:
        options = ", ".join(member.value for member in cls)
        raise InvalidField("", f"expected one of {options}, got {shown(value)}") from None


def _money(value: object, _: type) -> Money:
    mapping = mapping_of(value, "an amount with a currency, {amount, currency}")
    unknown = set(mapping) - {"amount", "currency"}
    if unknown:
        raise InvalidField(
            sorted(unknown)[0],
            unknown_field(sorted(unknown)[0], ("amount", "currency"), "expected"),
        )
    for key in ("amount", "currency"):
        if key not in mapping:
            raise InvalidField(key, "required field is missing")
    return Money.parse(mapping["amount"], mapping["currency"])


def mapping_of(value: object, expected: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidField("", f"expected {expected}, got {shown(value)}")
    return value


def _add_clause(value: object, _: type) -> AddClause:
    raw = mapping_of(value, "a clause {id, kind, terms, until}")
    unknown = set(raw) - {"id", "kind", "terms", "until"}
    if unknown:
        key = sorted(unknown)[0]
        raise InvalidField(key, unknown_field(key, ("id", "kind", "terms", "until"), "expected"))
    for key in ("id", "kind"):
        if key not in raw:
            raise InvalidField(key, "required field is missing")
    kind = at_path("kind", lambda: _enum_hook(raw["kind"], ClauseKind))
    return AddClause(
        id=at_path("id", lambda: parse_slug(raw["id"], "")),
        kind=kind,
        terms=at_path("terms", lambda: structure_terms(kind, raw.get("terms") or {})),
        until=at_path("until", lambda: _optional_date(raw.get("until"))),
    )


def _amend_clause(raw: Mapping[str, Any]) -> AmendClause:
    unknown = set(raw) - {"amend", "terms", "until"}
    if unknown:
        key = sorted(unknown)[0]
        raise InvalidField(key, unknown_field(key, ("amend", "terms", "until"), "expected"))
    terms = at_path(
        "terms", lambda: _normalised_terms(_as_written(mapping_of(raw.get("terms") or {}, "terms")))
    )
    until = at_path("until", lambda: _optional_date(raw.get("until")))
    if not terms and until is None:
        raise InvalidField("amend", "expected the terms it changes and/or a new until, got neither")
    return AmendClause(
        id=at_path("amend", lambda: parse_slug(raw["amend"], "")), terms=terms, until=until
    )


def _as_written(value: Any) -> Any:
    """Plain data with every number written in a file checked and kept as decimal text
    (and no text longer than any term may be)."""
    if isinstance(value, NumberLiteral):
        return format_decimal(parse_decimal(value, ""))
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise InvalidField("", too_long(MAX_TEXT, len(value)))
    if isinstance(value, Mapping):
        return {key: at_path(str(key), partial(_as_written, item)) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [at_path(f"[{i}]", partial(_as_written, item)) for i, item in enumerate(value)]
    return value


def _normalised_terms(terms: dict[str, Any]) -> dict[str, Any]:
    """Amended terms whose names mean a number or an amount in every kind, in plain form.

    The other terms are checked against the clause's kind when the amendment applies.
    """
    plain = dict(terms)
    for name in ("rate", "cap_multiple"):
        if plain.get(name) is not None:
            plain[name] = at_path(name, partial(_plain_number, plain[name]))
    if plain.get("threshold") is not None:
        money = at_path("threshold", partial(_money, plain["threshold"], Money))
        plain["threshold"] = converter.unstructure(money)
    return plain


def _plain_number(value: object) -> str:
    return format_decimal(parse_decimal(value, ""))


def _change(value: object, _: type) -> Change:
    raw = mapping_of(value, "a change: add, amend or remove")
    if "add" in raw:
        if len(raw) > 1:
            raise InvalidField(sorted(set(raw) - {"add"})[0], "unknown field beside add")
        return at_path("add", lambda: _add_clause(raw["add"], AddClause))
    if "amend" in raw:
        return _amend_clause(raw)
    if "remove" in raw:
        if len(raw) > 1:
            raise InvalidField(sorted(set(raw) - {"remove"})[0], "unknown field beside remove")
        return RemoveClause(id=at_path("remove", lambda: parse_slug(raw["remove"], "")))
    raise InvalidField("", f"expected a change with add, amend or remove, got {shown(dict(raw))}")


def structure_change(raw: object) -> Change:
    """A clause change (add, amend or remove) from its plain form."""
    return _change(raw, Change)  # type: ignore[arg-type]  # Change is a union, not a class


def _optional_date(value: object) -> date | None:
    return None if value is None else parse_date(value, "")


def unknown_field(key: str, known: Collection[str], listing: str = "expected one of") -> str:
    """The problem with an unknown ``key``: the known name it is closest to, if one is
    close (a misspelling), else every known name."""
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.75)
    if close:
        return f"unknown field (did you mean {close[0]!r}?)"
    return f"unknown field ({listing} {', '.join(known)})"


def _flatten(error: BaseException) -> InvalidField:
    """The first leaf of a cattrs error tree, as one field error with its full path."""
    if isinstance(error, InvalidField):
        return error
    if isinstance(error, ForbiddenExtraKeysError):
        field = sorted(error.extra_fields)[0]
        return InvalidField(field, unknown_field(field, [a.name for a in attrs.fields(error.cl)]))
    if isinstance(error, ClassValidationError):
        with_notes, others = error.group_exceptions()
        # A misspelt key leaves a required field missing too: the key is the one to name.
        extra = next((e for e in others if isinstance(e, ForbiddenExtraKeysError)), None)
        if extra is not None and any(isinstance(inner, KeyError) for inner, _ in with_notes):
            return _flatten(extra)
        for inner, note in with_notes:
            if isinstance(inner, KeyError):
                return InvalidField(note.name, "required field is missing")
            leaf = _flatten(inner)
            return InvalidField(join_path(note.name, leaf.path), leaf.problem)
        if others:
            return _flatten(others[0])
    if isinstance(error, IterableValidationError):
        with_index, others = error.group_exceptions()
        for inner, index_note in with_index:
            leaf = _flatten(inner)
            return InvalidField(join_path(f"[{index_note.index}]", leaf.path), leaf.problem)
        if others:
            return _flatten(others[0])
    return InvalidField("", f"unexpected value ({error})")


def structure(value: object, cls: type[T]) -> T:
    try:
        structured = converter.structure(value, cls)
    except (cattrs.BaseValidationError, InvalidField, ForbiddenExtraKeysError) as error:
        raise _flatten(error) from None
    except (TypeError, ValueError, AttributeError) as error:
        raise InvalidField("", f"unexpected value ({error})") from None
    _check_names(structured)
    return structured


def _check_names(value: object) -> None:
    """Refuse a name (``NAMES``) longer than ``MAX_NAME`` characters, in ``value`` or in
    an opening's parties."""
    for name in _named_fields(type(value)):
        item = getattr(value, name)
        if name == "parties":
            for index, party in enumerate(item):
                at_path(f"parties[{index}].name", partial(_check_name, "", party.name))
        else:
            _check_name(name, item)


_NAMED: dict[type, tuple[str, ...]] = {}


def _named_fields(cls: type) -> tuple[str, ...]:
    """The fields of ``cls`` that hold names, or parties (whose names are checked)."""
    named = _NAMED.get(cls)
    if named is None:
        fields = attrs.fields(cls) if attrs.has(cls) else ()
        named = tuple(f.name for f in fields if f.name in NAMES or f.name == "parties")
        _NAMED[cls] = named
    return named


def _check_name(path: str, value: object) -> None:
    if isinstance(value, str) and len(value) > MAX_NAME:
        raise InvalidField(path, too_long(MAX_NAME, len(value)))
    if isinstance(value, tuple):
        for index, item in enumerate(value):
            at_path(f"{path}[{index}]", partial(_check_name, "", item))


def structure_terms(kind: ClauseKind, raw: object) -> Terms:
    """The typed terms of a clause of ``kind`` from their plain form."""
    mapping = mapping_of(raw, f"the terms of a {kind.value} clause")
    unknown = sorted(set(mapping) - set(term_names(kind)))
    if unknown:
        expected = ", ".join(term_names(kind))
        close = difflib.get_close_matches(unknown[0], list(term_names(kind)), n=1, cutoff=0.75)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise InvalidField(
            unknown[0], f"not a term of a {kind.value} clause ({hint}expected {expected})"
        )
    known = {name: value for name, value in mapping.items() if value is not None}
    return structure(known, TERMS_OF[kind])


def unstructure_terms(terms: Terms) -> dict[str, Any]:
    """The plain form of some terms: unknown ones are left out."""
    plain: dict[str, Any] = converter.unstructure(terms)
    return plain


def _register() -> None:
    converter.register_structure_hook(str, _strict_str)
    converter.register_structure_hook_func(lambda cls: cls == tuple[str, ...], _text_list)
    converter.register_structure_hook(bool, _strict_bool)
    converter.register_structure_hook(Decimal, lambda v, _: parse_decimal(v, ""))
    converter.register_unstructure_hook(Decimal, format_decimal)
    converter.register_structure_hook(date, lambda v, _: parse_date(v, ""))
    converter.register_unstructure_hook(date, date.isoformat)
    converter.register_structure_hook(Percent, lambda v, _: Percent.parse(v))
    converter.register_unstructure_hook(Percent, lambda p: format_decimal(p.value))
    converter.register_structure_hook(Money, _money)
    converter.register_unstructure_hook(
        Money, lambda m: {"amount": format_decimal(m.amount), "currency": m.currency}
    )
    converter.register_structure_hook_func(
        lambda cls: isinstance(cls, type) and issubclass(cls, enum.Enum), _enum_hook
    )
    converter.register_unstructure_hook_func(
        lambda cls: isinstance(cls, type) and issubclass(cls, enum.Enum), lambda e: e.value
    )
    converter.register_structure_hook(AddClause, _add_clause)
    converter.register_unstructure_hook(AddClause, _unstructure_add)
    converter.register_unstructure_hook(Change, unstructure_change)
    converter.register_structure_hook(Change, _change)
    converter.register_unstructure_hook(AmendClause, _unstructure_amend)
    converter.register_unstructure_hook(RemoveClause, lambda r: {"remove": r.id})


def unstructure_change(change: Change) -> dict[str, Any]:
    """The plain form of a clause change: ``{add: {...}}``, ``{amend: id}``, ``{remove: id}``."""
    if isinstance(change, AddClause):
        return {"add": _unstructure_add(change)}
    plain: dict[str, Any] = converter.unstructure(change)
    return plain


def _unstructure_add(add: AddClause) -> dict[str, Any]:
    plain: dict[str, Any] = {
        "id": add.id,
        "kind": add.kind.value,
        "terms": unstructure_terms(add.terms),
    }
    if add.until is not None:
        plain["until"] = add.until.isoformat()
    return plain


def _unstructure_amend(amend: AmendClause) -> dict[str, Any]:
    plain: dict[str, Any] = {"amend": amend.id}
    if amend.terms:
        plain["terms"] = dict(amend.terms)
    if amend.until is not None:
        plain["until"] = amend.until.isoformat()
    return plain


_register()


# -- reading back what the ledger wrote ---------------------------------------------

# Rows in the store and checkpoints hold only what this module wrote from checked facts,
# so reading them back re-checks nothing: plain cattrs, with hooks that only convert.
# (``verify`` still reads every row strictly.) The laws in tests/test_codec_trusted.py
# hold it to giving back exactly the facts the strict path gives.
trusted = cattrs.Converter()


def stored_terms(kind: ClauseKind, plain: Mapping[str, Any]) -> Terms:
    """Terms from the plain form ``unstructure_terms`` wrote."""
    cls = TERMS_OF[kind]
    readers = _term_readers(cls)
    return cls(**{name: readers[name](value) for name, value in plain.items()})


_READERS: dict[type[Any], dict[str, Callable[[Any], Any]]] = {}


def _term_readers(cls: type[Any]) -> dict[str, Callable[[Any], Any]]:
    readers = _READERS.get(cls)
    if readers is None:
        hints = typing.get_type_hints(cls)
        readers = _READERS[cls] = {
            field.name: _term_reader(hints[field.name]) for field in attrs.fields(cls)
        }
    return readers


def _term_reader(hint: Any) -> Callable[[Any], Any]:
    kinds = set(typing.get_args(hint)) or {hint}
    if Percent in kinds:
        return _stored_percent
    if Money in kinds:
        return _stored_money
    if Decimal in kinds:
        return Decimal
    if typing.get_origin(hint) is tuple:
        return tuple
    return _same


def _same(value: Any) -> Any:
    return value


def _stored_percent(text: str) -> Percent:
    return Percent(Decimal(text))


def _stored_money(money: Mapping[str, str]) -> Money:
    return Money(Decimal(money["amount"]), money["currency"])


def _stored_date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _stored_add(raw: Mapping[str, Any]) -> AddClause:
    kind = ClauseKind(raw["kind"])
    return AddClause(
        id=raw["id"],
        kind=kind,
        terms=stored_terms(kind, raw.get("terms") or {}),
        until=_stored_date(raw.get("until")),
    )


def _stored_change(raw: Mapping[str, Any]) -> Change:
    if "add" in raw:
        return _stored_add(raw["add"])
    if "amend" in raw:
        return AmendClause(
            id=raw["amend"], terms=raw.get("terms") or {}, until=_stored_date(raw.get("until"))
        )
    return RemoveClause(id=raw["remove"])


def _register_trusted() -> None:
    trusted.register_structure_hook(Decimal, lambda v, _: Decimal(v))
    trusted.register_structure_hook(date, lambda v, _: date.fromisoformat(v))
    trusted.register_structure_hook(Percent, lambda v, _: _stored_percent(v))
    trusted.register_structure_hook(Money, lambda v, _: _stored_money(v))
    trusted.register_structure_hook(AddClause, lambda v, _: _stored_add(v))
    trusted.register_structure_hook(Change, lambda v, _: _stored_change(v))


_register_trusted()
