"""CSV (``--csv``): the answers that are tables, one header row and plain values, for a
spreadsheet. Values are as in the JSON output (amounts plain, dates ISO, a list joined by
``; ``, a term's money as ``1000000000 USD``); an unknown value is an empty cell."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from ledger.domain.events import summary
from ledger.presentation.shapes import (
    agreements_json,
    answer_columns,
    answer_json,
    clause_json,
    clause_life_json,
    clause_on_json,
    difference_json,
    history_item,
    holdings_json,
)

if TYPE_CHECKING:
    from datetime import date, datetime

    from ledger.adapters.query import Answer
    from ledger.domain.difference import Difference
    from ledger.domain.events import Fact
    from ledger.domain.history import HistoryEntry
    from ledger.domain.lives import ClauseLife
    from ledger.domain.portfolio import ClauseOn, Ending, Holdings
    from ledger.domain.state import AgreementState
    from ledger.readmodel.sql import View

Rows = tuple[list[str], list[dict[str, Any]]]

# The tables of ``replay --csv --table NAME``.
STATE_TABLES = ("clauses", "investments", "stakes", "governance", "renegotiations")


def write_csv(sheet: Rows, out: IO[str]) -> None:
    """The rows as CSV under their header."""
    columns, rows = sheet
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(column)) for column in columns])


def cell(value: object) -> str:
    """One value as CSV text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping) and set(value) == {"amount", "currency"}:
        return f"{value['amount']} {value['currency']}"
    if isinstance(value, list | tuple):
        return "; ".join(cell(item) for item in value)
    return str(value)


def state_rows(state: AgreementState, table: str = "clauses") -> Rows:
    """One of the replay's tables (``STATE_TABLES``)."""
    if table == "clauses":
        return _with_terms(
            [
                "id",
                "kind",
                "in_force_since",
                "in_force_since_precision",
                "amended_on",
                "amended_on_precision",
                "until",
                "confidence",
            ],
            [clause_json(c) for c in state.clauses_in_force()],
            ["caused_by"],
        )
    if table == "investments":
        columns = ["investor", "recipient", "amount", "currency", "instruments", "caused_by"]
        return columns, [
            {
                "investor": i.investor,
                "recipient": i.recipient,
                "amount": i.total.amount,
                "currency": i.total.currency,
                "instruments": [x.value for x in i.instruments],
                "caused_by": i.caused_by,
            }
            for _, i in sorted(state.investments.items())
        ]
    if table == "stakes":
        columns = ["holder", "entity", "percent", "since", "since_precision", "caused_by"]
        return columns, [
            {
                "holder": s.holder,
                "entity": s.entity,
                "percent": s.percent.value,
                "since": s.since.isoformat(),
                "since_precision": s.since_precision.value,
                "caused_by": s.caused_by,
            }
            for _, s in sorted(state.stakes.items())
        ]
    if table == "governance":
        columns = [
            "id",
            "kind",
            "effective_on",
            "date_precision",
            "entity",
            "people",
            "description",
            "approved_by",
            "confidence",
        ]
        return columns, [
            {
                "id": g.id,
                "kind": g.kind.value,
                "effective_on": g.effective_on.isoformat(),
                "date_precision": g.date_precision.value,
                "entity": g.entity,
                "people": g.people,
                "description": g.description,
                "approved_by": g.approved_by,
                "confidence": g.confidence.value,
            }
            for g in state.governance
        ]
    columns = [
        "renegotiation",
        "status",
        "opened_on",
        "opened_on_precision",
        "closed_on",
        "closed_on_precision",
        "topics",
        "initiated_by",
        "proposal",
        "by",
        "proposed_on",
        "proposed_on_precision",
        "proposal_status",
    ]
    rows: list[dict[str, Any]] = []
    for _, talk in sorted(state.renegotiations.items()):
        base = {
            "renegotiation": talk.id,
            "status": talk.status.value,
            "opened_on": talk.opened_on.isoformat(),
            "opened_on_precision": talk.opened_precision.value,
            "closed_on": talk.closed_on.isoformat() if talk.closed_on else None,
            "closed_on_precision": talk.closed_precision.value if talk.closed_on else None,
            "topics": talk.topics,
            "initiated_by": talk.initiated_by,
        }
        rows.extend(
            {
                **base,
                "proposal": p.id,
                "by": p.by,
                "proposed_on": p.proposed_on.isoformat(),
                "proposed_on_precision": p.proposed_precision.value,
                "proposal_status": p.status.value,
            }
            for p in talk.proposals
        )
        if not talk.proposals:
            rows.append(base)
    return columns, rows


def history_rows(entries: Iterable[HistoryEntry]) -> Rows:
    """``history --csv``: one row per event."""
    columns = [
        "id",
        "type",
        "effective_on",
        "date_precision",
        "recorded_at",
        "summary",
        "citation",
        "quote",
        "confidence",
        "withdrawn_by",
    ]
    rows: list[dict[str, Any]] = []
    for entry in entries:
        item = history_item(entry)
        rows.append(
            {
                **{key: item.get(key) for key in columns[:5]},
                "summary": summary(entry.fact),
                "citation": item["source"].get("citation"),
                "quote": item["source"].get("quote"),
                "confidence": item["source"].get("confidence"),
                "withdrawn_by": item.get("withdrawn_by"),
            }
        )
    return columns, rows


DIFFERENCE_COLUMNS = ["what", "id", "change", "field", "from", "to", "caused_by"]


def difference_rows(diff: Difference, *, label: str | None = None) -> Rows:
    """``diff --csv`` and ``whatif --csv``: one row per changed value (a clause's term, its
    until; an investment total; a stake; a governance event's kind; a talk's status)."""
    shape = difference_json(diff)
    rows: list[dict[str, Any]] = []
    for clause in shape["clauses"]:
        base = {"what": "clause", "id": clause["id"], "change": clause["change"]}
        base["caused_by"] = clause["caused_by"]
        changed = [
            {**base, "field": f"terms.{name}", "from": pair["from"], "to": pair["to"]}
            for name, pair in clause["terms"].items()
        ]
        if clause["until"]:
            until = clause["until"]
            changed.append({**base, "field": "until", "from": until["from"], "to": until["to"]})
        rows.extend(changed or [base])
    for item in shape["investments"]:
        rows.append(
            {
                "what": "investment",
                "id": f"{item['investor']}/{item['recipient']}/{item['currency']}",
                "change": _change(item["from"], item["to"]),
                "field": "total",
                "from": item["from"],
                "to": item["to"],
                "caused_by": item["caused_by"],
            }
        )
    for item in shape["stakes"]:
        rows.append(
            {
                "what": "stake",
                "id": f"{item['holder']}/{item['entity']}",
                "change": _change(item["from"], item["to"]),
                "field": "percent",
                "from": item["from"],
                "to": item["to"],
                "caused_by": item["caused_by"],
            }
        )
    for item in shape["governance"]:
        added = item["change"] == "added"
        rows.append(
            {
                "what": "governance",
                "id": item["id"],
                "change": item["change"],
                "field": "kind",
                "from": None if added else item["kind"],
                "to": item["kind"] if added else None,
                "caused_by": [item["id"]],
            }
        )
    for item in shape["renegotiations"]:
        rows.append(
            {
                "what": "renegotiation",
                "id": item["id"],
                "change": _change(item["from"], item["to"]),
                "field": "status",
                "from": item["from"],
                "to": item["to"],
            }
        )
    if label is None:
        return DIFFERENCE_COLUMNS, rows
    return ["compared", *DIFFERENCE_COLUMNS], [{"compared": label, **row} for row in rows]


def _change(before: object, after: object) -> str:
    if before is None:
        return "added"
    return "removed" if after is None else "changed"


def joined(sheets: Sequence[Rows]) -> Rows:
    """Several sheets with the same columns as one."""
    columns = sheets[0][0]
    return columns, [row for _, rows in sheets for row in rows]


def agreements_rows(views: Sequence[View]) -> Rows:
    """``agreements --csv``."""
    items = agreements_json(views)
    columns = [
        "id",
        "title",
        "opened_on",
        "opened_on_precision",
        "event_count",
        "first_recorded",
        "last_recorded",
    ]
    return columns, items


def clause_life_rows(
    agreement: str,
    life: ClauseLife,
    facts: Mapping[str, Fact],
    *,
    as_of: date | None,
    known_at: datetime,
) -> Rows:
    """``show clause ID --csv``: one row per change, with the clause's terms after it."""
    shape = clause_life_json(agreement, life, facts, as_of=as_of, known_at=known_at)
    items = [
        {
            "on": change["on"],
            "on_precision": change["on_precision"],
            "change": change["change"],
            "events": change["events"],
            "until": (change["clause"] or {}).get("until"),
            "terms": (change["clause"] or {}).get("terms", {}),
            "citations": [source["citation"] for source in change["sources"]],
        }
        for change in shape["changes"]
    ]
    return _with_terms(["on", "on_precision", "change", "events", "until"], items, ["citations"])


def _with_terms(first: list[str], items: list[dict[str, Any]], last: list[str]) -> Rows:
    """Rows with a ``terms.NAME`` column for each term any of them has, in order met."""
    names = list(dict.fromkeys(name for item in items for name in item.get("terms", {})))
    rows = [
        {
            **{key: item.get(key) for key in (*first, *last)},
            **{f"terms.{name}": value for name, value in item.get("terms", {}).items()},
        }
        for item in items
    ]
    return [*first, *(f"terms.{name}" for name in names), *last], rows


# -- across agreements ---------------------------------------------------------------------

_CLAUSE_ON = ["agreement", "id", "kind", "in_force_since", "in_force_since_precision", "until"]


def found_rows(clauses: Sequence[ClauseOn]) -> Rows:
    """``find --csv``: one row per clause found, a ``terms.NAME`` column per term."""
    items = [clause_on_json(clause) for clause in clauses]
    return _with_terms([*_CLAUSE_ON, "confidence"], items, ["last_changed_by"])


def expiring_rows(endings: Sequence[Ending]) -> Rows:
    """``expiring --csv``: one row per clause, soonest first, with its last day and why."""
    items = [
        {**clause_on_json(end.clause), "last_day": end.last_day.isoformat(), "why": end.why}
        for end in endings
    ]
    first = ["agreement", "id", "kind", "last_day", "why", *_CLAUSE_ON[3:], "confidence"]
    return _with_terms(first, items, ["last_changed_by"])


HOLDINGS_COLUMNS = [
    "what",
    "agreement",
    "entity",
    "percent",
    "since",
    "since_precision",
    "recipient",
    "amount",
    "currency",
    "last_changed_by",
]


def holdings_rows(holdings: Holdings) -> Rows:
    """``holdings --csv``: a row per stake, per investment, and per currency's total
    (``what``: ``stake``, ``investment``, ``total``)."""
    shape = holdings_json(holdings, known_at=None)
    rows: list[dict[str, Any]] = [{"what": "stake", **stake} for stake in shape["stakes"]]
    rows += [{"what": "investment", **item, **item["total"]} for item in shape["investments"]]
    rows += [{"what": "total", **total} for total in shape["totals"]]
    return HOLDINGS_COLUMNS, rows


def answer_rows(answer: Answer) -> Rows:
    """``sql --csv``: the query's columns and rows (a NULL is an empty cell)."""
    return answer_columns(answer), answer_json(answer)
