"""The public JSON shapes of states, differences and history (DESIGN's keys)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from ledger.domain.clauses import Change
from ledger.domain.codec import converter, unstructure_change, unstructure_terms
from ledger.domain.events import DatedEvent, Fact, unstructure_fact
from ledger.domain.state import AgreementState, ClauseState, Terminated
from ledger.domain.values import DatePrecision, format_decimal

if TYPE_CHECKING:  # only named in annotations: a replay need not load them
    from collections.abc import Mapping

    from ledger.adapters.query import Answer
    from ledger.application import SignedHeadOf
    from ledger.domain.difference import Difference, FromTo
    from ledger.domain.history import HistoryEntry
    from ledger.domain.lives import ClauseChange, ClauseLife
    from ledger.domain.portfolio import ClauseOn, Ending, Holdings
    from ledger.domain.whatif import WhatIf
    from ledger.readmodel.sql import View


def agreements_json(views: Sequence[View]) -> list[dict[str, Any]]:
    """``ledger agreements --json`` (and ``/api/agreements``): what the store holds."""
    return [
        {
            "id": view.agreement,
            "title": view.title,
            "opened_on": view.opened_on.isoformat(),
            "opened_on_precision": view.opened_precision,
            "event_count": view.version,
            "first_recorded": view.first_recorded.isoformat(),
            "last_recorded": view.last_recorded.isoformat(),
        }
        for view in views
    ]


def heads_json(heads: Sequence[SignedHeadOf]) -> list[dict[str, Any]]:
    """``ledger head --json``: each agreement's head, with its signature if it has one."""
    found = []
    for each in heads:
        head = {
            "agreement": each.head.agreement,
            "version": each.head.version,
            "digest": each.head.digest,
            "recorded_at": each.head.recorded_at,
        }
        if each.signature is not None:
            head |= {"key_id": each.signature.key_id, "signature": each.signature.signature}
        found.append(head)
    return found


def state_json(state: AgreementState) -> dict[str, Any]:
    """``replay --json``: the agreement on ``as_of`` as known at ``known_at``."""
    return {
        "agreement": state.agreement,
        "title": state.title,
        "opened_on": state.opened_on.isoformat(),
        "opened_on_precision": state.opened_precision.value,
        "as_of": state.as_of.isoformat(),
        "known_at": state.known_at.isoformat() if state.known_at else None,
        "events_applied": state.events_applied,
        "parties": [{"id": p.id, "name": p.name} for p in state.parties],
        "clauses": [clause_json(c) for c in state.clauses_in_force()],
        "ownership": {
            "investments": [
                {
                    "investor": i.investor,
                    "recipient": i.recipient,
                    "total": {
                        "amount": format_decimal(i.total.amount),
                        "currency": i.total.currency,
                    },
                    "instruments": [x.value for x in i.instruments],
                    "caused_by": list(i.caused_by),
                }
                for _, i in sorted(state.investments.items())
            ],
            "stakes": [
                {
                    "holder": s.holder,
                    "entity": s.entity,
                    "percent": format_decimal(s.percent.value),
                    "since": s.since.isoformat(),
                    "since_precision": s.since_precision.value,
                    "caused_by": [s.caused_by],
                }
                for _, s in sorted(state.stakes.items())
            ],
        },
        "governance": {
            "events": [
                {
                    "id": g.id,
                    "kind": g.kind.value,
                    "effective_on": g.effective_on.isoformat(),
                    "date_precision": g.date_precision.value,
                    "entity": g.entity,
                    "people": list(g.people),
                    "description": g.description,
                    "approved_by": list(g.approved_by),
                    "confidence": g.confidence.value,
                }
                for g in state.governance
            ]
        },
        "renegotiations": [
            {
                "id": r.id,
                "status": r.status.value,
                "topics": list(r.topics),
                "initiated_by": r.initiated_by,
                "opened_on": r.opened_on.isoformat(),
                "opened_on_precision": r.opened_precision.value,
                "closed_on": r.closed_on.isoformat() if r.closed_on else None,
                "closed_on_precision": r.closed_precision.value if r.closed_on else None,
                "proposals": [
                    {
                        "id": p.id,
                        "by": p.by,
                        "status": p.status.value,
                        "proposed_on": p.proposed_on.isoformat(),
                        "proposed_on_precision": p.proposed_precision.value,
                        "changes": _changes(p.changes),
                    }
                    for p in r.proposals
                ],
            }
            for _, r in sorted(state.renegotiations.items())
        ],
        "terminated": _terminated(state.terminated),
    }


def _terminated(ended: Terminated | None) -> dict[str, Any] | None:
    if ended is None:
        return None
    return {
        "on": ended.on.isoformat(),
        "on_precision": ended.precision.value,
        "event": ended.event,
        "reason": ended.reason,
    }


def clause_json(clause: ClauseState) -> dict[str, Any]:
    """One clause in force."""
    return {
        "id": clause.id,
        "kind": clause.kind.value,
        "in_force_since": clause.in_force_since.isoformat(),
        "in_force_since_precision": clause.since_precision.value,
        "amended_on": clause.amended_on.isoformat() if clause.amended_on else None,
        "amended_on_precision": clause.amended_precision.value if clause.amended_on else None,
        "until": clause.until.isoformat() if clause.until else None,
        "terms": unstructure_terms(clause.terms),
        "confidence": clause.confidence.value,
        "caused_by": list(clause.caused_by),
    }


def _changes(changes: tuple[Change, ...]) -> list[Any]:
    return [unstructure_change(change) for change in changes]


def difference_json(diff: Difference) -> dict[str, Any]:
    """The one shape of difference that ``diff`` and ``whatif`` share."""
    return {
        "clauses": [
            {
                "id": c.id,
                "change": c.change,
                "terms": {name: _from_to(v) for name, v in c.terms.items()},
                "until": _from_to(c.until) if c.until else None,
                "caused_by": list(c.caused_by),
            }
            for c in diff.clauses
        ],
        "investments": [
            {
                "investor": d.key[0],
                "recipient": d.key[1],
                "currency": d.key[2],
                "from": d.before,
                "to": d.after,
                "caused_by": list(d.caused_by),
            }
            for d in diff.investments
        ],
        "stakes": [
            {
                "holder": d.key[0],
                "entity": d.key[1],
                "from": d.before,
                "to": d.after,
                "caused_by": list(d.caused_by),
            }
            for d in diff.stakes
        ],
        "governance": [
            {
                "id": g.id,
                "kind": g.kind,
                "effective_on": g.effective_on,
                "date_precision": g.date_precision,
                "change": g.change,
            }
            for g in diff.governance
        ],
        "renegotiations": [
            {"id": d.key[0], "from": d.before, "to": d.after} for d in diff.renegotiations
        ],
    }


def diff_json(first: date, second: date, diff: Difference) -> dict[str, Any]:
    """``diff --json``: the two dates and the difference."""
    return {
        "from": first.isoformat(),
        "to": second.isoformat(),
        "difference": difference_json(diff),
    }


def revision_json(
    on: date, known_at: datetime | str, against: datetime | str | None, diff: Difference
) -> dict[str, Any]:
    """``diff --as-of D --known-at T1 --against-known-at T2 --json``."""

    def moment(value: datetime | str | None) -> str | None:
        return value.isoformat() if isinstance(value, datetime) else value

    return {
        "as_of": on.isoformat(),
        "known_at": moment(known_at),
        "against_known_at": moment(against),
        "difference": difference_json(diff),
    }


def comparison_json(
    names: tuple[str, str], first: WhatIf, second: WhatIf, between: Difference
) -> dict[str, Any]:
    """``whatif --compare P1 P2 --json``: each proposal against the baseline, and the two
    against each other."""
    return {
        "as_of": first.baseline.as_of.isoformat(),
        "baseline": state_json(first.baseline),
        "compare": [
            {"proposal": name, **{k: v for k, v in whatif_json(w).items() if k != "baseline"}}
            for name, w in zip(names, (first, second), strict=True)
        ],
        "difference": difference_json(between),
    }


def whatif_json(hypothesis: WhatIf) -> dict[str, Any]:
    """``whatif --json``: the actual and hypothetical states on one date, and the difference."""
    return {
        "as_of": hypothesis.baseline.as_of.isoformat(),
        "hypothetical_events": [
            {"id": ident, "type": fact.TYPE, "effective_on": _effective(fact)}
            for ident, fact in hypothesis.events
        ],
        "baseline": state_json(hypothesis.baseline),
        "hypothetical": state_json(hypothesis.hypothetical),
        "difference": difference_json(hypothesis.difference),
    }


def _effective(fact: Fact) -> str | None:
    # As in the history: a correction or retraction has no date of its own.
    return fact.effective_on.isoformat() if isinstance(fact, DatedEvent) else None


def _from_to(change: FromTo) -> dict[str, Any]:
    return {"from": change.before, "to": change.after}


def history_json(entries: tuple[HistoryEntry, ...]) -> list[dict[str, Any]]:
    """``history --json``: the events with their ids, dates, sources and fields."""
    return [history_item(entry) for entry in entries]


def history_item(entry: HistoryEntry) -> dict[str, Any]:
    """One event of the history."""
    plain = unstructure_fact(entry.fact)
    for field in attrs.fields(type(entry.fact)):
        # The stored form leaves defaults out; the history shows every field.
        if field.name not in plain:
            plain[field.name] = converter.unstructure(getattr(entry.fact, field.name))
    item: dict[str, Any] = {
        "id": entry.id,
        "type": plain.pop("type"),
        "effective_on": plain.pop("effective_on", None),
        "date_precision": plain.pop(
            "date_precision", "day" if isinstance(entry.fact, DatedEvent) else None
        ),
        "recorded_at": entry.recorded_at.isoformat(),
        "source": plain.pop("source"),
    }
    item.update(plain)
    if entry.withdrawn_by:
        item["withdrawn_by"] = entry.withdrawn_by
    return item


def clause_life_json(
    agreement: str,
    life: ClauseLife,
    facts: Mapping[str, Fact],
    *,
    as_of: date | None,
    known_at: datetime,
) -> dict[str, Any]:
    """``show clause ID --json``: each change of one clause, the clause after it (``null``
    once out of force) and the sources of the events that made it."""
    return {
        "agreement": agreement,
        "clause": life.clause,
        "as_of": as_of.isoformat() if as_of else None,
        "known_at": known_at.isoformat(),
        "in_force": life.in_force is not None,
        "changes": [
            {
                "on": change.on.isoformat(),
                "on_precision": change_precision(change, facts).value,
                "change": change.change,
                "events": list(change.events),
                "clause": clause_json(change.clause) if change.clause is not None else None,
                "sources": [
                    {"event": ident, "type": facts[ident].TYPE, **_source_json(facts[ident])}
                    for ident in change.events
                    if ident in facts
                ],
            }
            for change in life.changes
        ],
    }


def change_precision(change: ClauseChange, facts: Mapping[str, Fact]) -> DatePrecision:
    """How precisely the date of a clause's change is known: the clause's own precision
    for an addition or an amendment, the event's for a removal, a day for an expiry."""
    clause = change.clause
    if clause is not None:
        added = change.change == "added"
        return clause.since_precision if added else clause.amended_precision
    for ident in change.events:
        fact = facts.get(ident)
        dated_fact = getattr(fact, "replacement", None) or fact
        if isinstance(dated_fact, DatedEvent):
            return dated_fact.date_precision
    return DatePrecision.DAY


def _source_json(fact: Fact) -> dict[str, Any]:
    return {
        "citation": fact.source.citation,
        "quote": fact.source.quote,
        "confidence": fact.source.confidence.value,
    }


# -- across agreements ---------------------------------------------------------------------


def moment_json(moment: datetime | str | None) -> str | None:
    """A ``--known-at`` as given: an ISO time, an event id, or ``null`` (now)."""
    return moment.isoformat() if isinstance(moment, datetime) else moment


def clause_on_json(clause: ClauseOn) -> dict[str, Any]:
    """One clause of an agreement as in force on a day: the keys of a replay's clause,
    with its agreement, and the one event behind this version of it."""
    return {
        "agreement": clause.agreement,
        "id": clause.clause_id,
        "kind": clause.kind,
        "in_force_since": clause.in_force_since.isoformat(),
        "in_force_since_precision": clause.since_precision,
        "amended_on": clause.amended_on.isoformat() if clause.amended_on else None,
        "amended_on_precision": clause.amended_precision,
        "until": clause.until.isoformat() if clause.until else None,
        "terms": dict(clause.terms),
        "confidence": clause.confidence,
        "last_changed_by": clause.caused_by,
    }


def found_json(
    clauses: Sequence[ClauseOn],
    *,
    kind: str,
    terms: Sequence[str],
    on: date,
    known_at: datetime | str | None,
) -> dict[str, Any]:
    """``find --json``: the question, and the clauses that answer it (by agreement, then
    clause id)."""
    return {
        "clause_kind": kind,
        "terms": list(terms),
        "on": on.isoformat(),
        "known_at": moment_json(known_at),
        "clauses": [clause_on_json(clause) for clause in clauses],
    }


def expiring_json(
    endings: Sequence[Ending], *, within: int, on: date, known_at: datetime | str | None
) -> dict[str, Any]:
    """``expiring --json``: the clauses whose last day in force falls within the window,
    soonest first, each with that day and why it is the last."""
    return {
        "on": on.isoformat(),
        "within": within,
        "known_at": moment_json(known_at),
        "clauses": [
            {**clause_on_json(end.clause), "last_day": end.last_day.isoformat(), "why": end.why}
            for end in endings
        ],
    }


def holdings_json(holdings: Holdings, *, known_at: datetime | str | None) -> dict[str, Any]:
    """``holdings --json``: a party's stakes and investments by agreement, and what it had
    invested in all, per currency."""
    return {
        "party": holdings.party,
        "on": holdings.on.isoformat(),
        "known_at": moment_json(known_at),
        "stakes": [
            {
                "agreement": s.agreement,
                "holder": s.holder,
                "entity": s.entity,
                "percent": format_decimal(s.percent),
                "since": s.since.isoformat(),
                "since_precision": s.since_precision,
                "last_changed_by": s.caused_by,
            }
            for s in holdings.stakes
        ],
        "investments": [
            {
                "agreement": i.agreement,
                "investor": i.investor,
                "recipient": i.recipient,
                "total": {"amount": format_decimal(i.amount), "currency": i.currency},
                "last_changed_by": i.caused_by,
            }
            for i in holdings.investments
        ],
        "totals": [
            {"amount": format_decimal(amount), "currency": currency}
            for currency, amount in holdings.totals.items()
        ],
    }


def answer_json(answer: Answer) -> list[dict[str, Any]]:
    """``sql --json``: one object per row, keyed by column name (see ``answer_columns``)."""
    columns = answer_columns(answer)
    return [
        {column: sql_value(value) for column, value in zip(columns, row, strict=True)}
        for row in answer.rows
    ]


def answer_columns(answer: Answer) -> list[str]:
    """A query's column names, each once: a name met again gets ``_2``, ``_3``… (as a
    join of two tables would give ``agreement`` twice)."""
    names: list[str] = []
    for column in answer.columns:
        name, count = column, 1
        while name in names:
            count += 1
            name = f"{column}_{count}"
        names.append(name)
    return names


def sql_value(value: object) -> str | int | float | bool | None:
    """A value of a query's answer as JSON holds it: text, numbers and null as they are;
    a decimal as plain text, an infinity as text, a time ISO, bytes in hexadecimal."""
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return format_decimal(value) if value.is_finite() else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)
