"""What changed between two states of an agreement: one engine for diff, what-if and the
recording axis.

The states say what differs; which events caused each difference comes from the fold
that led from one to the other (``Draft.observe``), given as ``causes``: the events that
changed each key (``("clause", id)``, ``("investment", investor, recipient, currency)``,
``("stake", holder, entity)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ledger.domain.codec import unstructure_terms
from ledger.domain.draft import Key
from ledger.domain.state import AgreementState, ClauseState
from ledger.domain.values import format_decimal

Causes = Mapping[Key, Sequence[str]]


@attrs.frozen
class FromTo:
    """A value before and after (``None``: absent)."""

    before: Any
    after: Any


@attrs.frozen(kw_only=True)
class ClauseDifference:
    """A clause added, removed or amended, term by term, and the events that did it."""

    id: str
    change: str
    terms: dict[str, FromTo]
    until: FromTo | None
    caused_by: tuple[str, ...]


@attrs.frozen(kw_only=True)
class AmountDifference:
    """An investment total or a stake that is not what it was."""

    key: tuple[str, ...]
    before: str | None
    after: str | None
    caused_by: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class GovernanceDifference:
    """A governance event in one of the two states only (``change``: added or removed)."""

    id: str
    kind: str
    effective_on: str
    date_precision: str
    change: str


@attrs.frozen(kw_only=True)
class Difference:
    """Everything that differs between two states."""

    clauses: tuple[ClauseDifference, ...]
    investments: tuple[AmountDifference, ...]
    stakes: tuple[AmountDifference, ...]
    governance: tuple[GovernanceDifference, ...]
    renegotiations: tuple[AmountDifference, ...]

    def is_empty(self) -> bool:
        """Whether the two states are the same in everything compared."""
        return not (
            self.clauses
            or self.investments
            or self.stakes
            or self.governance
            or self.renegotiations
        )


def difference(
    before: AgreementState, after: AgreementState, causes: Causes | None = None
) -> Difference:
    """What ``after`` changes relative to ``before``; ``causes`` names the events behind
    each change (none given: none named)."""
    found = causes or {}
    return Difference(
        clauses=_clauses(before, after, found),
        investments=_amounts(
            "investment",
            {k: format_decimal(v.total.amount) for k, v in before.investments.items()},
            {k: format_decimal(v.total.amount) for k, v in after.investments.items()},
            found,
        ),
        stakes=_amounts(
            "stake",
            {k: format_decimal(v.percent.value) for k, v in before.stakes.items()},
            {k: format_decimal(v.percent.value) for k, v in after.stakes.items()},
            found,
        ),
        governance=_governance(before, after),
        renegotiations=_amounts(
            "renegotiation",
            {(k,): v.status.value for k, v in before.renegotiations.items()},
            {(k,): v.status.value for k, v in after.renegotiations.items()},
            {},
        ),
    )


def _governance(before: AgreementState, after: AgreementState) -> tuple[GovernanceDifference, ...]:
    def only_in(
        these: AgreementState, those: AgreementState, change: str
    ) -> list[GovernanceDifference]:
        known = {record.id for record in those.governance}
        return [
            GovernanceDifference(
                id=g.id,
                kind=g.kind.value,
                effective_on=g.effective_on.isoformat(),
                date_precision=g.date_precision.value,
                change=change,
            )
            for g in these.governance
            if g.id not in known
        ]

    return (*only_in(before, after, "removed"), *only_in(after, before, "added"))


def _clauses(
    before: AgreementState, after: AgreementState, causes: Causes
) -> tuple[ClauseDifference, ...]:
    old = {c.id: c for c in before.clauses_in_force()}
    new = {c.id: c for c in after.clauses_in_force()}
    found: list[ClauseDifference] = []
    for clause_id in sorted(set(old) | set(new)):
        was, now = old.get(clause_id), new.get(clause_id)
        caused_by = tuple(causes.get(("clause", clause_id), ()))
        if was is not None and now is not None and _same_clause(was, now):
            found.extend(_clause_change("amended", was, now, caused_by))
        else:
            # A clause removed and added again under the same id is two changes, not one.
            found.extend(_clause_change("removed", was, None, caused_by))
            found.extend(_clause_change("added", None, now, caused_by))
    return tuple(found)


def _same_clause(was: ClauseState, now: ClauseState) -> bool:
    return was.kind is now.kind and was.in_force_since == now.in_force_since


def _clause_change(
    change: str, was: ClauseState | None, now: ClauseState | None, caused_by: tuple[str, ...]
) -> list[ClauseDifference]:
    clause = now if now is not None else was
    if clause is None:
        return []
    terms = _terms(was, now)
    until = None if _until(was) == _until(now) else FromTo(_until(was), _until(now))
    if change == "amended" and not terms and until is None:
        return []
    return [
        ClauseDifference(id=clause.id, change=change, terms=terms, until=until, caused_by=caused_by)
    ]


def _terms(was: ClauseState | None, now: ClauseState | None) -> dict[str, FromTo]:
    old = unstructure_terms(was.terms) if was else {}
    new = unstructure_terms(now.terms) if now else {}
    return {
        name: FromTo(old.get(name), new.get(name))
        for name in sorted(set(old) | set(new))
        if old.get(name) != new.get(name)
    }


def _until(clause: ClauseState | None) -> str | None:
    return clause.until.isoformat() if clause and clause.until else None


def _amounts(
    name: str, old: dict[Any, str], new: dict[Any, str], causes: Causes
) -> tuple[AmountDifference, ...]:
    """Values that differ, with the events that changed them."""
    return tuple(
        AmountDifference(
            key=tuple(key),
            before=old.get(key),
            after=new.get(key),
            caused_by=tuple(causes.get((name, *key), ())),
        )
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    )
