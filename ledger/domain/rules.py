"""The rules several kinds of event share: parties, and clause changes.

Every function here reads a fact's plain form and changes the draft in place, or raises
``RuleViolation`` naming the field, what was expected and what came; nothing is changed
before the check that could refuse it.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from ledger.domain.clauses import TERMS_OF, ClauseKind
from ledger.domain.codec import MAX_TEXT, structure_terms, unstructure_terms
from ledger.domain.draft import ClauseDraft, Draft, Plain, latest
from ledger.domain.entries import Entry
from ledger.domain.values import GovernanceKind, Money, Percent
from ledger.errors import RuleViolation, at_path, shown

PARTY_TERMS = {kind.value: cls.PARTY_TERMS for kind, cls in TERMS_OF.items()}
GOVERNANCE_KINDS = frozenset(kind.value for kind in GovernanceKind)
VETO = ClauseKind.VETO.value


def require_party(draft: Draft, path: str, party: str) -> None:
    """Refuse a party id that is not one of the agreement's parties."""
    if party not in draft.party_ids:
        parties = ", ".join(sorted(draft.party_ids))
        raise RuleViolation(
            path, f"expected a party of the agreement ({parties}), got {shown(party)}"
        )


def clause_in_force(draft: Draft, clause_id: str, day: date, path: str) -> ClauseDraft:
    """The clause with that id in force on ``day``, or the refusal naming those that are."""
    clause = draft.clause_in_force(clause_id, day)
    if clause is None:
        in_force = ", ".join(c.id for c in draft.clauses_in_force(day)) or "none"
        raise RuleViolation(
            path,
            f"expected a clause in force on {day}, got {shown(clause_id)}, which is not in force "
            f"(in force: {in_force})",
        )
    return clause


def apply_changes(draft: Draft, changes: Sequence[Plain], entry: Entry, path: str) -> None:
    """An atomic set of clause changes made by ``entry``, each checked before it applies."""
    for index, change in enumerate(changes):
        at_path(f"{path}[{index}]", partial(_change, draft, change, entry))


def _change(draft: Draft, change: Plain, entry: Entry) -> None:
    if "add" in change:
        at_path("add", partial(add_clause, draft, change["add"], entry))
    elif "amend" in change:
        _amend(draft, change, entry)
    else:
        _remove(draft, change["remove"], entry)


def add_clause(draft: Draft, add: Plain, entry: Entry) -> None:
    """Put a clause in force from ``entry``'s date."""
    day = entry.effective_on
    clause_id = add["id"]
    if draft.clause_in_force(clause_id, day) is not None:
        raise RuleViolation("id", f"expected a clause id not in force on {day}, got {clause_id!r}")
    until = _until(add)
    if until is not None and until < day:
        raise RuleViolation("until", f"expected a date on or after {day}, got '{until}'")
    terms = dict(add.get("terms") or {})
    _check_terms(draft, add["kind"], terms, PARTY_TERMS[add["kind"]], "terms")
    draft.clauses.pop(clause_id, None)  # an expired clause of that id is gone for good
    draft.clauses[clause_id] = ClauseDraft(
        id=clause_id,
        kind=add["kind"],
        terms=terms,
        since=day,
        since_precision=entry.precision,
        until=until,
        confidence=entry.confidence,
        caused_by=[entry.id],
    )
    draft.ends(until)
    draft.touch("clause", clause_id)


def _amend(draft: Draft, amend: Plain, entry: Entry) -> None:
    day = entry.effective_on
    clause = clause_in_force(draft, amend["amend"], day, "amend")
    changes: Mapping[str, Any] = amend.get("terms") or {}
    terms = at_path("terms", partial(amended_terms, clause.kind, clause.terms, changes))
    _check_terms(draft, clause.kind, terms, tuple(changes), "terms")
    until = _until(amend)
    if until is not None and until < day:
        raise RuleViolation("until", f"expected a date on or after {day}, got '{until}'")
    clause.terms = terms
    if until is not None:
        clause.until = until
        draft.ends(until)
    clause.amended_on = day
    clause.amended_precision = entry.precision
    clause.confidence = entry.confidence
    latest(clause.caused_by, entry.id)
    draft.touch("clause", clause.id)


def _remove(draft: Draft, clause_id: str, entry: Entry) -> None:
    clause = clause_in_force(draft, clause_id, entry.effective_on, "remove")
    del draft.clauses[clause.id]
    draft.touch("clause", clause.id)


def amended_terms(
    kind: str, current: Mapping[str, Any], changes: Mapping[str, Any]
) -> dict[str, Any]:
    """``current`` with the terms named in ``changes`` replaced, the others kept.

    Only the changed terms are read (strictly, against the clause's kind); a term
    changed to null, or to its default, is cleared. Terms already in their plain form
    (as every file and the store give them) are taken as they are; anything else goes
    through the strict reader, which also words the refusal.
    """
    terms = dict(current)
    if _plain_terms(kind, changes):
        for name, value in changes.items():
            if value is None or (isinstance(value, (list, tuple)) and not value):
                terms.pop(name, None)
            else:
                terms[name] = list(value) if isinstance(value, tuple) else value
        return terms
    given = unstructure_terms(structure_terms(ClauseKind(kind), changes))
    for name, value in changes.items():
        if value is None or name not in given:
            terms.pop(name, None)
        else:
            terms[name] = given[name]
    return terms


def _plain_terms(kind: str, changes: Mapping[str, Any]) -> bool:
    """Whether every changed term is a term of ``kind`` already in its plain form."""
    forms = _TERM_FORMS[kind]
    for name, value in changes.items():
        form = forms.get(name)
        if form is None or (value is not None and not form(value)):
            return False
    return True


def _is_text(value: object) -> bool:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")  # lone surrogates cannot be stored
    except UnicodeEncodeError:
        return False
    return True


def _is_texts(value: object) -> bool:
    return isinstance(value, (list, tuple)) and all(_is_text(item) for item in value)


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


def _is_number(value: object, *, at_most: Decimal | None = None) -> bool:
    if not isinstance(value, str) or not _PLAIN_NUMBER.fullmatch(value):
        return False
    return at_most is None or Decimal(value) <= at_most


def _is_percent(value: object) -> bool:
    return _is_number(value, at_most=Decimal(100))


def _is_money(value: object) -> bool:
    return (
        isinstance(value, Mapping)
        and set(value) == {"amount", "currency"}
        and _is_number(value["amount"])
        and isinstance(value["currency"], str)
        and _CURRENCY.fullmatch(value["currency"]) is not None
    )


# A number as the plain form writes it (``format_decimal``): no sign, no leading or
# trailing zeros, within the digit limits.
_PLAIN_NUMBER = re.compile(r"(0|[1-9][0-9]{0,17})(\.[0-9]{0,11}[1-9])?")
_CURRENCY = re.compile(r"[A-Z]{3}")


def _forms(cls: type[Any]) -> dict[str, Callable[[object], bool]]:
    """The check of each term's plain form, from the terms class's types."""
    forms: dict[str, Callable[[object], bool]] = {}
    for name, hint in typing.get_type_hints(cls).items():
        kinds = set(typing.get_args(hint)) or {hint}
        if Percent in kinds:
            forms[name] = _is_percent
        elif Money in kinds:
            forms[name] = _is_money
        elif Decimal in kinds:
            forms[name] = _is_number
        elif bool in kinds:
            forms[name] = _is_bool
        elif typing.get_origin(hint) is tuple:
            forms[name] = _is_texts
        elif str in kinds:
            forms[name] = _is_text
    return forms


_TERM_FORMS = {kind.value: _forms(cls) for kind, cls in TERMS_OF.items()}


def check_proposed(draft: Draft, change: Plain, day: date) -> None:
    """The shape a proposed change must have when made: governance kinds that exist and,
    for a clause in force that day, the names and types of the terms it amends. The
    rules (parties, clauses in force…) are checked when the proposal is accepted."""
    if "add" in change:
        add = change["add"]
        _check_veto_kinds(add["kind"], add.get("terms") or {}, "add.terms.over")
        return
    clause_id = change.get("amend", change.get("remove"))
    clause = draft.clause_in_force(clause_id, day)
    if "amend" in change and clause is not None:
        changes = change.get("terms") or {}
        terms = at_path("terms", partial(amended_terms, clause.kind, clause.terms, changes))
        _check_veto_kinds(clause.kind, terms, "terms.over")


def _check_terms(
    draft: Draft, kind: str, terms: Mapping[str, Any], names: Iterable[str], path: str
) -> None:
    """The party terms among ``names`` name parties; a veto's kinds are governance kinds."""
    parties = PARTY_TERMS[kind]
    for name in names:
        value = terms.get(name)
        if name in parties and value is not None:
            require_party(draft, f"{path}.{name}", value)
    _check_veto_kinds(kind, terms, f"{path}.over")


def _check_veto_kinds(kind: str, terms: Mapping[str, Any], path: str) -> None:
    if kind != VETO:
        return
    for index, over in enumerate(terms.get("over") or ()):
        if over not in GOVERNANCE_KINDS:
            raise RuleViolation(
                f"{path}[{index}]",
                f"expected a governance kind ({', '.join(sorted(GOVERNANCE_KINDS))}), got {over!r}",
            )


def _until(change: Plain) -> date | None:
    until = change.get("until")
    return None if until is None else date.fromisoformat(until)
