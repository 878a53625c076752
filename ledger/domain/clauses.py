"""Clause kinds, their typed terms, and the changes an amendment makes to clauses."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, TypeAlias

import attrs

from ledger.domain.values import Money, Percent
from ledger.errors import InvalidField


class ClauseKind(enum.Enum):
    """The kinds of clause the ledger knows the terms of."""

    EXCLUSIVITY = "exclusivity"
    REVENUE_SHARE = "revenue_share"
    PROFIT_SHARE = "profit_share"
    IP_RIGHTS = "ip_rights"
    VETO = "veto"
    AGI_CLAUSE = "agi_clause"
    CUSTOM = "custom"


# A term the source leaves unknown is None: the ledger never guesses one.


def _non_negative_multiple(
    _instance: object, _attribute: attrs.Attribute[Decimal | None], value: Decimal | None
) -> None:
    if value is not None and value < 0:
        raise InvalidField("cap_multiple", f"expected a non-negative multiple, got '{value}'")


@attrs.frozen(kw_only=True)
class ExclusivityTerms:
    """One party grants another exclusivity (or a right of first refusal) over a scope."""

    PARTY_TERMS: ClassVar[tuple[str, ...]] = ("holder",)
    holder: str | None = None
    grantor: str | None = None
    scope: str | None = None
    exclusive: bool | None = None
    right_of_first_refusal: bool | None = None


@attrs.frozen(kw_only=True)
class RevenueShareTerms:
    """A payer shares a rate of some revenue with a payee, perhaps up to a threshold."""

    PARTY_TERMS: ClassVar[tuple[str, ...]] = ("payer", "payee")
    payer: str | None = None
    payee: str | None = None
    rate: Percent | None = None
    threshold: Money | None = None
    basis: str | None = None


@attrs.frozen(kw_only=True)
class ProfitShareTerms:
    """A holder's share of an entity's profits, capped at a multiple of what it invested."""

    PARTY_TERMS: ClassVar[tuple[str, ...]] = ("holder",)
    holder: str | None = None
    entity: str | None = None
    rate: Percent | None = None
    cap_multiple: Decimal | None = attrs.field(default=None, validator=_non_negative_multiple)


@attrs.frozen(kw_only=True)
class IpRightsTerms:
    """A holder's licence to a licensor's intellectual property."""

    PARTY_TERMS: ClassVar[tuple[str, ...]] = ("holder",)
    holder: str | None = None
    licensor: str | None = None
    scope: str | None = None


@attrs.frozen(kw_only=True)
class VetoTerms:
    """A holder's veto over governance events of the listed kinds."""

    PARTY_TERMS: ClassVar[tuple[str, ...]] = ("holder",)
    holder: str | None = None
    over: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class AgiClauseTerms:
    """What happens to the agreement if artificial general intelligence is reached."""

    PARTY_TERMS: ClassVar[tuple[str, ...]] = ()
    trigger: str | None = None
    effect: str | None = None
    determined_by: str | None = None


@attrs.frozen(kw_only=True)
class CustomTerms:
    """A clause the vocabulary has no kind for, in words."""

    PARTY_TERMS: ClassVar[tuple[str, ...]] = ()
    text: str | None = None


Terms: TypeAlias = (
    ExclusivityTerms
    | RevenueShareTerms
    | ProfitShareTerms
    | IpRightsTerms
    | VetoTerms
    | AgiClauseTerms
    | CustomTerms
)

TERMS_OF: Mapping[ClauseKind, type[Terms]] = {
    ClauseKind.EXCLUSIVITY: ExclusivityTerms,
    ClauseKind.REVENUE_SHARE: RevenueShareTerms,
    ClauseKind.PROFIT_SHARE: ProfitShareTerms,
    ClauseKind.IP_RIGHTS: IpRightsTerms,
    ClauseKind.VETO: VetoTerms,
    ClauseKind.AGI_CLAUSE: AgiClauseTerms,
    ClauseKind.CUSTOM: CustomTerms,
}


def term_names(kind: ClauseKind) -> tuple[str, ...]:
    """The names of the terms a clause of ``kind`` has."""
    return tuple(field.name for field in attrs.fields(TERMS_OF[kind]))


@attrs.frozen(kw_only=True)
class AddClause:
    """Put a new clause in force."""

    id: str
    kind: ClauseKind
    terms: Terms
    until: date | None = None


@attrs.frozen(kw_only=True)
class AmendClause:
    """Change some terms of a clause in force (the others stay), and/or its ``until``.

    The new terms are kept as written (``{"rate": "8"}``): their types depend on the
    clause's kind, which only the timeline knows, so they are checked when applied.
    """

    id: str
    terms: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    until: date | None = None


@attrs.frozen(kw_only=True)
class RemoveClause:
    """Take a clause out of force."""

    id: str


Change: TypeAlias = AddClause | AmendClause | RemoveClause
