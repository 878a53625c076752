"""Shared Hypothesis strategies and builders: histories of an invented agreement.

Everything here is plain data in the amendment-file shape (DESIGN, "Amendment file"), so
it can be fed to ``parse_document``/``structure_fact`` exactly as a user's file would be.

``histories()`` draws *valid* histories of ``acme-globex``: an ``agreement_opened``
followed by investments, amendments that add, amend or remove clauses actually in force
on their date, ownership changes that keep every entity's stakes at or under 100%,
governance events approved by every veto holder concerned, and renegotiations whose
accepted proposals only add clauses that are free on the conclusion date. Events are
listed (and meant to be recorded) in order of effective date; a small model of the
agreement, kept alongside, decides which events are possible on each date.

``any_event()`` draws events of every type that are well formed but need not fit any
timeline (for round trips through the file format).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from ledger.domain.clauses import ClauseKind
from ledger.domain.events import GovernanceKind, Instrument
from ledger.domain.values import DatePrecision

AGREEMENT = "acme-globex"
PARTIES = ("acme", "globex")
PARTY_NAMES = {"acme": "Acme Corporation", "globex": "Globex Inc."}
OUTSIDER = "initech"
ENTITIES = ("acme", "globex", "globex-labs")
CURRENCIES = ("USD", "EUR")
OPENED_ON = date(2020, 1, 1)
SOURCE = {"citation": "Board minutes", "confidence": "confirmed"}
GOVERNANCE_KINDS = tuple(kind.value for kind in GovernanceKind)
CLAUSE_KINDS = tuple(kind.value for kind in ClauseKind)
INSTRUMENTS = tuple(instrument.value for instrument in Instrument)
PRECISIONS = tuple(DatePrecision)


# -- builders ---------------------------------------------------------------


def event(type_: str, effective_on: date | str, **fields: Any) -> dict[str, Any]:
    """A dated event in file form, with a default source."""
    on = effective_on.isoformat() if isinstance(effective_on, date) else effective_on
    return {"type": type_, "effective_on": on, "source": dict(SOURCE), **fields}


def opening(
    effective_on: date | str = OPENED_ON,
    clauses: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """``agreement_opened`` between acme and globex, with the given clauses."""
    return event(
        "agreement_opened",
        effective_on,
        title="Acme–Globex supply and research partnership",
        parties=[{"id": pid, "name": PARTY_NAMES[pid]} for pid in PARTIES],
        clauses=list(clauses or []),
        **fields,
    )


def investment(
    effective_on: date | str,
    amount: str = "100",
    *,
    currency: str = "USD",
    investor: str = "acme",
    recipient: str = "globex",
    instrument: str = "equity",
) -> dict[str, Any]:
    """An investment in file form."""
    return event(
        "investment",
        effective_on,
        investor=investor,
        recipient=recipient,
        amount={"amount": amount, "currency": currency},
        instrument=instrument,
    )


def amendment(effective_on: date | str, *changes: dict[str, Any]) -> dict[str, Any]:
    """An amendment making ``changes`` in file form."""
    return event("amendment", effective_on, changes=list(changes))


def stake(effective_on: date | str, holder: str, entity: str, percent: str) -> dict[str, Any]:
    """An ownership change in file form."""
    return event("ownership_change", effective_on, holder=holder, entity=entity, percent=percent)


def document(events: list[dict[str, Any]], agreement: str | None = AGREEMENT) -> dict[str, Any]:
    """An amendment file's document."""
    return {"agreement": agreement, "events": events}


# -- values -----------------------------------------------------------------

slugs = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,15}", fullmatch=True)
texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
    max_size=24,
)


@st.composite
def plain_decimals(
    draw: st.DrawFn, max_integer_digits: int = 18, max_fraction_digits: int = 12
) -> str:
    """A non-negative decimal in plain notation within the ledger's digit limits."""
    integer = draw(st.integers(0, 10**max_integer_digits - 1))
    digits = draw(st.integers(0, max_fraction_digits))
    if digits == 0:
        return str(integer)
    fraction = draw(st.integers(0, 10**digits - 1))
    return f"{integer}.{fraction:0{digits}d}"


@st.composite
def percents(draw: st.DrawFn, at_most: Decimal = Decimal(100)) -> str:
    """A percentage between 0 and ``at_most`` in plain notation."""
    whole = draw(st.integers(0, int(at_most)))
    digits = draw(st.integers(0, 3))
    fraction = draw(st.integers(0, 10**digits - 1)) if digits else 0
    text = f"{whole}.{fraction:0{digits}d}" if digits else str(whole)
    return text if Decimal(text) <= at_most else str(whole)


def money() -> st.SearchStrategy[dict[str, str]]:
    """An amount with a currency, in file form."""
    return st.fixed_dictionaries(
        {
            "amount": plain_decimals(max_integer_digits=12, max_fraction_digits=2),
            "currency": st.sampled_from(CURRENCIES),
        }
    )


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def terms(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    """Valid terms of a clause of ``kind``; unknown terms are absent or null."""
    party = _optional(st.sampled_from(PARTIES))
    fields: dict[str, st.SearchStrategy[Any]] = {
        "exclusivity": {
            "holder": party,
            "grantor": party,
            "scope": _optional(texts),
            "exclusive": _optional(st.booleans()),
            "right_of_first_refusal": _optional(st.booleans()),
        },
        "revenue_share": {
            "payer": party,
            "payee": party,
            "rate": _optional(percents()),
            "threshold": _optional(money()),
            "basis": _optional(texts),
        },
        "profit_share": {
            "holder": party,
            "entity": _optional(st.sampled_from(ENTITIES)),
            "rate": _optional(percents()),
            "cap_multiple": _optional(plain_decimals(3, 2)),
        },
        "ip_rights": {"holder": party, "licensor": party, "scope": _optional(texts)},
        "veto": {
            "holder": st.sampled_from(PARTIES),
            "over": st.lists(st.sampled_from(GOVERNANCE_KINDS), max_size=3, unique=True),
        },
        "agi_clause": {
            "trigger": _optional(texts),
            "effect": _optional(texts),
            "determined_by": _optional(texts),
        },
        "custom": {"text": _optional(texts)},
    }[kind]
    return st.fixed_dictionaries({}, optional=fields)


@st.composite
def clause(draw: st.DrawFn, clause_id: str, on: date) -> dict[str, Any]:
    """An ``add`` body: a clause with id ``clause_id``, perhaps ending on or after ``on``."""
    kind = draw(st.sampled_from(CLAUSE_KINDS))
    body: dict[str, Any] = {"id": clause_id, "kind": kind, "terms": draw(terms(kind))}
    if draw(st.booleans()):
        body["until"] = (on + timedelta(days=draw(st.integers(0, 2000)))).isoformat()
    return body


# -- the model of an agreement, to draw only events its rules allow -----------


class _Model:
    """What the rules need to know about the agreement on the date being drawn."""

    def __init__(self) -> None:
        self.clauses: dict[str, dict[str, Any]] = {}  # id -> {kind, terms, until, removed}
        self.stakes: dict[tuple[str, str], Decimal] = {}
        self.talks: dict[str, dict[str, Any]] = {}  # id -> {open, proposals: {id: status}}
        self.fresh = 0

    def new_id(self, prefix: str) -> str:
        self.fresh += 1
        return f"{prefix}-{self.fresh}"

    def in_force(self, on: date) -> list[str]:
        return sorted(
            cid
            for cid, c in self.clauses.items()
            if not c["removed"] and (c["until"] is None or on <= date.fromisoformat(c["until"]))
        )

    def add(self, body: dict[str, Any]) -> None:
        self.clauses[body["id"]] = {
            "kind": body["kind"],
            "terms": dict(body.get("terms") or {}),
            "until": body.get("until"),
            "removed": False,
        }

    def amend(self, change: dict[str, Any]) -> None:
        clause = self.clauses[change["amend"]]
        clause["terms"].update(change.get("terms") or {})
        if change.get("until") is not None:
            clause["until"] = change["until"]

    def apply(self, change: dict[str, Any]) -> None:
        if "add" in change:
            self.add(change["add"])
        elif "amend" in change:
            self.amend(change)
        else:
            self.clauses[change["remove"]]["removed"] = True

    def veto_holders(self, kind: str, on: date) -> set[str]:
        holders = set()
        for cid in self.in_force(on):
            clause = self.clauses[cid]
            over = clause["terms"].get("over") or []
            if clause["kind"] == "veto" and kind in over and clause["terms"].get("holder"):
                holders.add(clause["terms"]["holder"])
        return holders

    def room(self, holder: str, entity: str) -> Decimal:
        others = sum(
            (p for (h, e), p in self.stakes.items() if e == entity and h != holder), Decimal(0)
        )
        return Decimal(100) - others

    def open_talks(self) -> list[str]:
        return sorted(t for t, talks in self.talks.items() if talks["open"])

    def pending(self) -> list[tuple[str, str]]:
        return [
            (t, p)
            for t in self.open_talks()
            for p, status in sorted(self.talks[t]["proposals"].items())
            if status["status"] == "pending"
        ]


@st.composite
def _changes(draw: st.DrawFn, model: _Model, on: date) -> list[dict[str, Any]]:
    """An atomic set of clause changes that the rules allow on ``on``."""
    changes: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 3))):
        in_force = model.in_force(on)
        options = ["add"] + (["amend", "remove"] if in_force else [])
        what = draw(st.sampled_from(options))
        if what == "add":
            free = [cid for cid in model.clauses if cid not in in_force]
            reuse = draw(st.sampled_from(free)) if free and draw(st.booleans()) else None
            change: dict[str, Any] = {"add": draw(clause(reuse or model.new_id("clause"), on))}
        elif what == "remove":
            change = {"remove": draw(st.sampled_from(in_force))}
        else:
            target = draw(st.sampled_from(in_force))
            new_terms = draw(terms(model.clauses[target]["kind"]))
            change = {"amend": target}
            if new_terms:
                change["terms"] = new_terms
            if not new_terms or draw(st.booleans()):
                change["until"] = (on + timedelta(days=draw(st.integers(0, 2000)))).isoformat()
        model.apply(change)
        changes.append(change)
    return changes


@st.composite
def _governance(draw: st.DrawFn, model: _Model, on: date) -> dict[str, Any]:
    kind = draw(st.sampled_from(GOVERNANCE_KINDS))
    approvers = model.veto_holders(kind, on) | set(draw(st.sets(st.sampled_from(PARTIES))))
    fields: dict[str, Any] = {
        "kind": kind,
        "entity": draw(st.sampled_from(ENTITIES)),
        "people": draw(st.lists(texts.filter(bool), max_size=2)),
    }
    if draw(st.booleans()):
        fields["description"] = draw(texts)
    if approvers:
        fields["approved_by"] = sorted(approvers)
    return event("governance", on, **fields)


@st.composite
def _ownership(draw: st.DrawFn, model: _Model, on: date) -> dict[str, Any]:
    holder = draw(st.sampled_from(PARTIES))
    entity = draw(st.sampled_from(ENTITIES))
    percent = draw(percents(at_most=model.room(holder, entity)))
    if Decimal(percent) == 0:
        model.stakes.pop((holder, entity), None)
    else:
        model.stakes[(holder, entity)] = Decimal(percent)
    return stake(on, holder, entity, percent)


@st.composite
def _renegotiation_step(draw: st.DrawFn, model: _Model, on: date, step: str) -> dict[str, Any]:
    if step == "renegotiation_opened":
        talks = model.new_id("talks")
        model.talks[talks] = {"open": True, "proposals": {}}
        topics = draw(st.lists(st.sampled_from(CLAUSE_KINDS), max_size=2, unique=True))
        return event(
            step,
            on,
            renegotiation=talks,
            topics=topics,
            initiated_by=draw(st.sampled_from(PARTIES)),
        )
    if step == "proposal":
        talks = draw(st.sampled_from(model.open_talks()))
        proposal = model.new_id("proposal")
        # Only adds of ids no other event uses: valid whenever the talks conclude.
        body = draw(clause(model.new_id("proposed"), on))
        body.pop("until", None)
        model.talks[talks]["proposals"][proposal] = {"status": "pending", "add": body}
        return event(
            step,
            on,
            renegotiation=talks,
            proposal=proposal,
            by=draw(st.sampled_from(PARTIES)),
            changes=[{"add": body}],
        )
    if step in ("proposal_rejected", "proposal_withdrawn"):
        talks, proposal = draw(st.sampled_from(model.pending()))
        model.talks[talks]["proposals"][proposal]["status"] = step.removeprefix("proposal_")
        return event(step, on, renegotiation=talks, proposal=proposal)
    talks = draw(st.sampled_from(model.open_talks()))
    pending = [p for t, p in model.pending() if t == talks]
    model.talks[talks]["open"] = False
    if pending and draw(st.booleans()):
        accepted = draw(st.sampled_from(pending))
        model.add(model.talks[talks]["proposals"][accepted]["add"])
        return event(step, on, renegotiation=talks, accepted=accepted)
    return event(step, on, renegotiation=talks, outcome="abandoned")


INVESTMENTS = "investment"
AMENDMENTS = "amendment"
OWNERSHIP = "ownership_change"
GOVERNANCE = "governance"
RENEGOTIATIONS = "renegotiation"
ALL_KINDS = (INVESTMENTS, AMENDMENTS, OWNERSHIP, GOVERNANCE, RENEGOTIATIONS)


@st.composite
def _next_event(draw: st.DrawFn, model: _Model, on: date, kinds: tuple[str, ...]) -> dict[str, Any]:
    what = draw(st.sampled_from(kinds))
    if what == RENEGOTIATIONS:
        steps = ["renegotiation_opened"]
        if model.open_talks():
            steps += ["proposal", "proposal", "renegotiation_concluded"]
        if model.pending():
            steps += ["proposal_rejected", "proposal_withdrawn"]
        what = draw(st.sampled_from(steps))
    if what == INVESTMENTS:
        fact = event(
            "investment",
            on,
            investor=draw(st.sampled_from(PARTIES)),
            recipient=draw(st.sampled_from(PARTIES)),
            amount=draw(money()),
            instrument=draw(st.sampled_from(INSTRUMENTS)),
        )
    elif what == AMENDMENTS:
        fact = amendment(on, *draw(_changes(model, on)))
    elif what == OWNERSHIP:
        fact = draw(_ownership(model, on))
    elif what == GOVERNANCE:
        fact = draw(_governance(model, on))
    else:
        fact = draw(_renegotiation_step(model, on, what))
    precision = draw(st.sampled_from([p for p in PRECISIONS if p.admits(on)]))
    if precision is not DatePrecision.DAY:
        fact["date_precision"] = precision.value
    return fact


@st.composite
def histories(
    draw: st.DrawFn,
    *,
    min_events: int = 0,
    max_events: int = 10,
    distinct_dates: bool = False,
    kinds: tuple[str, ...] = ALL_KINDS,
    may_end: bool = True,
) -> dict[str, Any]:
    """A valid amendment file of ``acme-globex``: its opening, then events by date, and,
    if ``may_end``, sometimes a termination after them all.

    With ``distinct_dates`` no two events share an effective date (the opening's
    included), so the fold's order does not depend on the recording order.
    """
    opened_on = draw(st.dates(date(1990, 1, 1), date(2040, 12, 31)))
    count = draw(st.integers(min_events, max_events))
    offsets = draw(
        st.lists(
            st.integers(1 if distinct_dates else 0, 4000),
            min_size=count,
            max_size=count,
            unique=distinct_dates,
        )
    )
    model = _Model()
    initial = []
    for _ in range(draw(st.integers(0, 3))):
        body = draw(clause(model.new_id("clause"), opened_on))
        model.add(body)
        initial.append(body)
    events = [opening(opened_on, initial)]
    for offset in sorted(offsets):
        events.append(draw(_next_event(model, opened_on + timedelta(days=offset), kinds)))
    if may_end and draw(st.integers(0, 3)) == 0:
        # Strictly after every other event, so that no recording order strands one.
        ends = opened_on + timedelta(days=max(offsets, default=0) + draw(st.integers(1, 400)))
        events.append(event("termination", ends, reason=draw(texts)))
    return document(events)


# -- well-formed events of every type (no timeline) --------------------------

dates = st.dates(date(1900, 1, 1), date(2199, 12, 31))


@st.composite
def sources(draw: st.DrawFn) -> dict[str, Any]:
    """A source: a citation, perhaps a quote, a confidence."""
    found: dict[str, Any] = {
        "citation": draw(texts),
        "confidence": draw(st.sampled_from(["confirmed", "reported", "estimated"])),
    }
    if draw(st.booleans()):
        found["quote"] = draw(texts)
    return found


@st.composite
def _plain_change(draw: st.DrawFn) -> dict[str, Any]:
    what = draw(st.sampled_from(["add", "amend", "remove"]))
    if what == "add":
        return {"add": draw(clause(draw(slugs), date(2000, 1, 1)))}
    if what == "remove":
        return {"remove": draw(slugs)}
    kind = draw(st.sampled_from(CLAUSE_KINDS))
    change: dict[str, Any] = {"amend": draw(slugs)}
    new_terms = draw(terms(kind))
    if new_terms:
        change["terms"] = new_terms
    if not new_terms or draw(st.booleans()):
        change["until"] = draw(dates).isoformat()
    return change


@st.composite
def dated_events(draw: st.DrawFn) -> dict[str, Any]:
    """A well-formed event with a date of its own, of any type."""
    on = draw(dates)
    type_ = draw(
        st.sampled_from(
            [
                "agreement_opened",
                "investment",
                "amendment",
                "ownership_change",
                "governance",
                "renegotiation_opened",
                "proposal",
                "proposal_rejected",
                "proposal_withdrawn",
                "renegotiation_concluded",
                "termination",
            ]
        )
    )
    party = st.sampled_from((*PARTIES, OUTSIDER))
    fields: dict[str, Any]
    if type_ == "agreement_opened":
        fields = {
            "agreement": draw(slugs),
            "title": draw(texts),
            "parties": [
                {"id": pid, "name": draw(texts)}
                for pid in draw(st.lists(slugs, min_size=1, max_size=3, unique=True))
            ],
            "clauses": [
                draw(clause(cid, on)) for cid in draw(st.lists(slugs, max_size=3, unique=True))
            ],
        }
    elif type_ == "investment":
        fields = {
            "investor": draw(party),
            "recipient": draw(party),
            "amount": {
                "amount": draw(plain_decimals()),
                "currency": draw(st.sampled_from(CURRENCIES)),
            },
            "instrument": draw(st.sampled_from(INSTRUMENTS)),
        }
    elif type_ == "amendment":
        fields = {"changes": draw(st.lists(_plain_change(), min_size=1, max_size=3))}
    elif type_ == "ownership_change":
        fields = {"holder": draw(party), "entity": draw(slugs), "percent": draw(percents())}
    elif type_ == "governance":
        fields = {
            "kind": draw(st.sampled_from(GOVERNANCE_KINDS)),
            "entity": draw(slugs),
            "people": draw(st.lists(texts, max_size=2)),
            "description": draw(_optional(texts)),
            "approved_by": draw(st.lists(party, max_size=2, unique=True)),
        }
    elif type_ == "renegotiation_opened":
        fields = {
            "renegotiation": draw(slugs),
            "initiated_by": draw(party),
            "topics": draw(st.lists(texts, max_size=2)),
        }
    elif type_ == "proposal":
        fields = {
            "renegotiation": draw(slugs),
            "proposal": draw(slugs),
            "by": draw(party),
            "changes": draw(st.lists(_plain_change(), min_size=1, max_size=2)),
        }
    elif type_ in ("proposal_rejected", "proposal_withdrawn"):
        fields = {"renegotiation": draw(slugs), "proposal": draw(slugs)}
    elif type_ == "termination":
        fields = {"reason": draw(texts)} if draw(st.booleans()) else {}
    elif draw(st.booleans()):
        fields = {"renegotiation": draw(slugs), "accepted": draw(slugs)}
    else:
        fields = {"renegotiation": draw(slugs), "outcome": "abandoned"}
    precision = draw(st.sampled_from([p for p in PRECISIONS if p.admits(on)]))
    plain = {"type": type_, "effective_on": on.isoformat(), "source": draw(sources()), **fields}
    if precision is not DatePrecision.DAY or draw(st.booleans()):
        plain["date_precision"] = precision.value
    if draw(st.booleans()):
        plain["note"] = draw(texts)
    return plain


@st.composite
def any_event(draw: st.DrawFn) -> dict[str, Any]:
    """A well-formed event of any type: dated, a correction, or a retraction."""
    what = draw(st.sampled_from(["dated", "dated", "dated", "correction", "retraction"]))
    if what == "dated":
        return draw(dated_events())
    withdrawal: dict[str, Any] = {
        "type": what,
        "corrects"
        if what == "correction"
        else "retracts": f"{draw(slugs)}#{draw(st.integers(1, 999))}",
        "reason": draw(texts),
        "source": draw(sources()),
    }
    if what == "correction":
        withdrawal["replacement"] = draw(dated_events())
    if draw(st.booleans()):
        withdrawal["note"] = draw(texts)
    return withdrawal


@st.composite
def amendment_files(draw: st.DrawFn) -> dict[str, Any]:
    """A well-formed amendment file: events of every type, for any or no agreement."""
    agreement = draw(_optional(slugs))
    events = draw(st.lists(any_event(), min_size=1, max_size=5))
    for plain in events:
        if plain["type"] == "agreement_opened" and agreement is not None:
            plain["agreement"] = agreement
    return document(events, agreement)
