"""Questions across agreements: their answers as values, and the term conditions of
``ledger find`` (``rate>10``, ``exclusive=true``).

A condition compares a clause's term in its plain form: numbers (rates, multiples, a
money term's amount) as decimals, ``true``/``false`` as booleans, a list (a veto's
``over``) by membership, anything else as text. The same function judges a row of the
read model and a clause of a folded state, so the two answers can be held equal.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from ledger.domain.clauses import ClauseKind, term_names
from ledger.errors import InputError

OPERATORS = ("<=", ">=", "!=", "=", "<", ">")
_CONDITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|!=|=|<|>)\s*(.*?)\s*$", re.DOTALL)
_ORDERED = frozenset({"<", "<=", ">", ">="})


@attrs.frozen
class TermCondition:
    """``name op value``: a condition on one term of a clause."""

    name: str
    op: str
    value: str

    def __str__(self) -> str:
        return f"{self.name}{self.op}{self.value}"


def parse_kind(text: str) -> ClauseKind:
    """A clause kind by its name, or an ``InputError`` listing them."""
    try:
        return ClauseKind(text)
    except ValueError:
        names = [kind.value for kind in ClauseKind]
        close = difflib.get_close_matches(text, names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise InputError(
            f"--clause-kind: expected one of {', '.join(names)}, got {text!r} ({hint}"
            "see `ledger find --help`)"
        ) from None


def parse_condition(text: str, kind: ClauseKind) -> TermCondition:
    """``NAME=VALUE`` (or ``<``, ``<=``, ``>``, ``>=``, ``!=``) on a term of ``kind``."""
    found = _CONDITION.match(text)
    if found is None or not found[3]:
        raise InputError(f"--term: expected NAME=VALUE (or NAME>VALUE, NAME<=VALUE…), got {text!r}")
    name, op, value = found[1], found[2], found[3]
    names = term_names(kind)
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise InputError(
            f"--term: a {kind.value} clause has no term {name!r} ({hint}its terms: "
            f"{', '.join(names)})"
        )
    if op in _ORDERED and term_number(value) is None:
        raise InputError(f"--term {text}: expected a number after {op!r}, got {value!r}")
    return TermCondition(name, op, value)


def matches(terms: Mapping[str, Any], conditions: Sequence[TermCondition]) -> bool:
    """Whether a clause's plain terms meet every condition (an unknown term meets none)."""
    return all(_meets(terms.get(c.name), c) for c in conditions)


def _meets(term: Any, condition: TermCondition) -> bool:
    if term is None:
        return False
    if isinstance(term, list):
        inside = any(str(item) == condition.value for item in term)
        return inside if condition.op == "=" else (not inside if condition.op == "!=" else False)
    if isinstance(term, Mapping):  # money: its amount
        term = term.get("amount")
    if isinstance(term, bool):
        wanted = condition.value.lower()
        if wanted not in ("true", "false") or condition.op not in ("=", "!="):
            return False
        return (term == (wanted == "true")) == (condition.op == "=")
    number, wanted_number = term_number(term), term_number(condition.value)
    if number is not None and wanted_number is not None:
        return _compare(number, condition.op, wanted_number)
    if condition.op in _ORDERED:
        return False
    return (str(term) == condition.value) == (condition.op == "=")


def _compare(left: Decimal, op: str, right: Decimal) -> bool:
    if op == "=":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    return left >= right


def term_number(value: Any) -> Decimal | None:
    """A term's value as the number a condition compares it as, or None when it is none."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


@attrs.frozen
class ClauseOn:
    """A clause of an agreement as in force on a day (one version of it)."""

    agreement: str
    clause_id: str
    kind: str
    terms: Mapping[str, Any] = attrs.field(hash=False)  # the plain form
    in_force_since: date
    since_precision: str
    until: date | None
    amended_on: date | None
    amended_precision: str | None
    confidence: str
    caused_by: str  # the event behind this version


@attrs.frozen
class Ending:
    """A clause whose time in force ends within a window: its last day, and why (its
    ``until``, a removal, or the agreement's termination)."""

    clause: ClauseOn
    last_day: date
    why: str  # "until", "removed" or "terminated"


@attrs.frozen
class StakeHeld:
    """A holder's stake in an entity, under one agreement, on a day."""

    agreement: str
    holder: str
    entity: str
    percent: Decimal
    since: date
    since_precision: str
    caused_by: str


@attrs.frozen
class Invested:
    """What an investor had put into a recipient under one agreement, in one currency."""

    agreement: str
    investor: str
    recipient: str
    currency: str
    amount: Decimal
    caused_by: str


@attrs.frozen
class Holdings:
    """A party's stakes and investments across agreements on a day, with its investments
    totalled per currency."""

    party: str
    on: date
    stakes: tuple[StakeHeld, ...]
    investments: tuple[Invested, ...]

    @property
    def totals(self) -> dict[str, Decimal]:
        """What the party had invested, per currency, across every agreement."""
        found: dict[str, Decimal] = {}
        for invested in self.investments:
            found[invested.currency] = found.get(invested.currency, Decimal(0)) + invested.amount
        return dict(sorted(found.items()))
