"""Human output: rich tables a person reads at a glance, from 80 columns up.

Identifiers never break across lines; terms stand one to a line; amounts are grouped by
thousands (``1,000,000,000 USD``); a stake or a rate reads ``30%``; a date known only
to its month, quarter or year reads ``2019-07``, ``2023-Q4``, ``2025``. Below
``COMPACT_BELOW`` columns (or with ``--compact``) tables drop their borders and their
secondary columns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ledger.domain.codec import unstructure_terms
from ledger.domain.events import DatedEvent, Fact, summary
from ledger.domain.state import AgreementState, ClauseState
from ledger.domain.values import DatePrecision, Money, describe, format_decimal
from ledger.presentation.words import plural

if TYPE_CHECKING:  # only named in annotations: a replay need not load them
    from ledger.domain.difference import Difference, FromTo
    from ledger.domain.history import HistoryEntry
    from ledger.domain.lives import ClauseLife
    from ledger.readmodel.sql import View

K = TypeVar("K")
V = TypeVar("V")

COMPACT_BELOW = 100  # a console narrower than this gets the compact layout
LATEST = 20  # governance events a replay shows unless asked for all
PERCENT_TERMS = frozenset({"rate"})  # terms that are percentages in every kind
# An amount followed by its currency in an event's one-line summary.
_AMOUNT = re.compile(r"(?<![\w.,#-])(\d{4,})(?=(?:\.\d+)? [A-Z]{3}\b)")


class _Console(Console):
    """rich's console, leaving a closed pipe to the command line (which ends quietly,
    with 0, where rich would exit with 1)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def console() -> Console:
    """Standard output at the terminal's own width; piped, ``$COLUMNS`` or 80 columns."""
    return _Console()


def is_compact(out: Console, compact: bool) -> bool:
    """Whether to use the compact layout: asked for, or a narrow console."""
    return compact or out.width < COMPACT_BELOW


# -- words and numbers -------------------------------------------------------------------


def grouped(number: str | Decimal) -> str:
    """A plain decimal with its integer digits grouped by thousands: ``1,000,000.5``."""
    text = format_decimal(number) if isinstance(number, Decimal) else number
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, dot, fraction = digits.partition(".")
    if not whole.isdigit():
        return text
    return f"{sign}{int(whole):,}{dot}{fraction}"


def money(value: Money) -> str:
    """``1,000,000,000 USD``."""
    return f"{grouped(value.amount)} {value.currency}"


def amount_text(amount: str | None, currency: str) -> str:
    """An amount of a difference (plain text) with its currency, or ``—``."""
    return "—" if amount is None else f"{grouped(amount)} {currency}"


def percent_text(percent: str | None) -> str:
    """A percentage of a difference (plain text): ``30%``, or ``—``."""
    return "—" if percent is None else f"{percent}%"


def term_text(name: str, value: object) -> str:
    """A term's value as a person reads it: ``20%``, ``1,000 USD``, ``yes``, ``—``."""
    if isinstance(value, dict) and set(value) == {"amount", "currency"}:
        return f"{grouped(str(value['amount']))} {value['currency']}"
    if name in PERCENT_TERMS and value is not None and not isinstance(value, bool):
        return f"{describe(value)}%"
    return describe(value)


def event_summary(fact: Fact) -> str:
    """An event's one-line summary, its amounts grouped by thousands."""
    return _AMOUNT.sub(lambda found: grouped(found.group(1)), summary(fact))


def when(moment: datetime) -> str:
    """A recording time: ``2025-01-02 10:00:00 UTC``."""
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def dated(day: date, precision: DatePrecision | str) -> str:
    """A date as precise as its source: ``2023-11-17``, ``2019-07``, ``2023-Q4``."""
    return DatePrecision(precision).label(day)


# -- replay --------------------------------------------------------------------------------


def show_state(
    state: AgreementState, out: Console, *, compact: bool = False, show_all: bool = False
) -> None:
    """The agreement on its date: clauses in force, ownership, governance, talks."""
    narrow = is_compact(out, compact)
    known = when(state.known_at) if state.known_at else "now"
    out.print(f"[bold]{_escape(state.title)}[/] ({state.agreement}) on [bold]{state.as_of}[/]")
    out.print(f"As known at {known}: {plural(state.events_applied, 'event')} applied")
    out.print("Parties: " + ", ".join(f"{_escape(p.name)} ({p.id})" for p in state.parties))
    clauses = state.clauses_in_force()
    out.print(_clauses(clauses, narrow) if clauses else "[dim]No clause in force.[/]")
    _ownership(state, out, narrow)
    _governance(state, out, narrow, show_all)
    _renegotiations(state, out, narrow)
    if state.terminated is not None:
        ended = state.terminated
        reason = f": {_escape(ended.reason)}" if ended.reason else ""
        out.print(
            f"[bold]Terminated[/] on {dated(ended.on, ended.precision)} ({ended.event}){reason}"
        )


def _clauses(clauses: Sequence[ClauseState], narrow: bool) -> Table:
    if narrow:
        table = _table("Clauses in force", "Clause", "Terms", "In force", compact=True)
        for clause in clauses:
            table.add_row(
                Text(clause.id) + Text(f"\n{clause.kind.value}", style="dim"),
                clause_terms(clause),
                _in_force(clause),
            )
        return table
    table = _table("Clauses in force", "Clause", "Kind", "Terms", "Since", "Until", "Confidence")
    for clause in clauses:
        since = dated(clause.in_force_since, clause.since_precision)
        if clause.amended_on:
            since += f"\namended {dated(clause.amended_on, clause.amended_precision)}"
        table.add_row(
            clause.id,
            clause.kind.value,
            clause_terms(clause),
            since,
            str(clause.until or "—"),
            clause.confidence.value,
        )
    return table


def _in_force(clause: ClauseState) -> str:
    lines = [f"since {dated(clause.in_force_since, clause.since_precision)}"]
    if clause.amended_on:
        lines.append(f"amended {dated(clause.amended_on, clause.amended_precision)}")
    if clause.until:
        lines.append(f"until {clause.until}")
    return "\n".join(lines)


def clause_terms(clause: ClauseState) -> str:
    """A clause's known terms, one ``name: value`` to a line."""
    return terms_text(unstructure_terms(clause.terms))


def terms_text(terms: Mapping[str, Any]) -> str:
    """Terms in plain form, one ``name: value`` to a line (``—`` when none is known)."""
    return "\n".join(f"{name}: {term_text(name, value)}" for name, value in terms.items()) or "—"


def _ownership(state: AgreementState, out: Console, narrow: bool) -> None:
    if state.investments:
        table = _table(
            "Investments", "Investor", "Recipient", "Total", "Instruments", compact=narrow
        )
        table.columns[2].justify = "right"
        for _, total in sorted(state.investments.items()):
            table.add_row(
                total.investor,
                total.recipient,
                money(total.total),
                ", ".join(i.value for i in total.instruments),
            )
        out.print(table)
    else:
        out.print("[dim]No investments.[/]")
    if state.stakes:
        table = _table("Stakes", "Holder", "Entity", "Percent", "Since", compact=narrow)
        table.columns[2].justify = "right"
        for _, stake in sorted(state.stakes.items()):
            table.add_row(
                stake.holder,
                stake.entity,
                str(stake.percent),
                dated(stake.since, stake.since_precision),
            )
        out.print(table)
    else:
        out.print("[dim]No stakes recorded.[/]")


def _governance(state: AgreementState, out: Console, narrow: bool, show_all: bool) -> None:
    events = state.governance
    if not events:
        out.print("[dim]No governance events.[/]")
        return
    shown = events if show_all else events[-LATEST:]
    title = "Governance"
    if narrow:
        table = _table(title, "Date", "Kind", "Who and what", compact=True)
        for event in shown:
            people = ", ".join(event.people)
            what = " — ".join(part for part in (people, event.description or "") if part)
            table.add_row(
                dated(event.effective_on, event.date_precision),
                f"{event.kind.value}\n{event.entity}",
                what,
            )
    else:
        table = _table(title, "Date", "Kind", "Entity", "People", "Description", "Confidence")
        for event in shown:
            table.add_row(
                dated(event.effective_on, event.date_precision),
                event.kind.value,
                event.entity,
                ", ".join(event.people),
                event.description or "",
                event.confidence.value,
            )
    out.print(table)
    if len(shown) < len(events):
        left = len(events) - len(shown)
        out.print(
            f"[dim]The latest {len(shown)} of {len(events):,} governance events; "
            f"{plural(left, 'earlier one')} not shown (--all shows every one).[/]"
        )


def _renegotiations(state: AgreementState, out: Console, narrow: bool) -> None:
    if not state.renegotiations:
        out.print("[dim]No renegotiations.[/]")
        return
    if narrow:
        table = _table("Renegotiations", "Renegotiation", "Proposals", compact=True)
    else:
        table = _table("Renegotiations", "Id", "Status", "Topics", "Initiated by", "Proposals")
    for _, talk in sorted(state.renegotiations.items()):
        status = f"{talk.status.value}\nopened {dated(talk.opened_on, talk.opened_precision)}"
        if talk.closed_on is not None:
            status += f"\nclosed {dated(talk.closed_on, talk.closed_precision)}"
        proposals = "\n".join(
            f"{p.id} by {p.by}, {dated(p.proposed_on, p.proposed_precision)}: {p.status.value}"
            for p in talk.proposals
        )
        topics = ", ".join(talk.topics)
        if narrow:
            about = f"{status}\non {topics}\ninitiated by {talk.initiated_by}"
            table.add_row(Text(talk.id) + Text(f"\n{about}", style="dim"), proposals or "—")
        else:
            table.add_row(talk.id, status, topics, talk.initiated_by, proposals or "—")
    out.print(table)


# -- history -------------------------------------------------------------------------------


def show_history(
    entries: Sequence[HistoryEntry],
    out: Console,
    *,
    compact: bool = False,
    nothing: str = "No events recorded.",
) -> None:
    """The events, oldest effective date first (``nothing``: what to say when none match)."""
    if not entries:
        out.print(nothing)
        return
    title = plural(len(entries), "event")
    narrow = is_compact(out, compact)
    if narrow:
        table = _table(title, "Id", "Effective", "Event", compact=True)
    else:
        table = _table(
            title,
            "Id",
            "Effective",
            "Type",
            "What",
            "Source",
            "Confidence",
            "Recorded",
            "Withdrawn by",
        )
    for entry in entries:
        fact = entry.fact
        effective = (
            dated(fact.effective_on, fact.date_precision) if isinstance(fact, DatedEvent) else "—"
        )
        style = "dim strike" if entry.withdrawn_by else None
        if narrow:
            event = Text(fact.TYPE, style="bold") + Text(f"\n{event_summary(fact)}")
            if entry.withdrawn_by:
                event += Text(f"\nwithdrawn by {entry.withdrawn_by}")
            source = f"\n{fact.source.citation} ({fact.source.confidence.value})"
            table.add_row(entry.id, effective, event + Text(source, style="dim"), style=style)
            continue
        table.add_row(
            entry.id,
            effective,
            fact.TYPE,
            event_summary(fact),
            _source(fact),
            fact.source.confidence.value,
            when(entry.recorded_at),
            entry.withdrawn_by or "",
            style=style,
        )
    out.print(table)


# -- differences ---------------------------------------------------------------------------


def show_difference(title: str, diff: Difference, out: Console, *, compact: bool = False) -> None:
    """What changed, section by section."""
    narrow = is_compact(out, compact)
    out.print(f"[bold]{_escape(title)}[/]")
    if diff.is_empty():
        out.print("[dim]Nothing changed.[/]")
        return
    if diff.clauses:
        if narrow:
            table = _table("Clauses", "Clause", "Terms", compact=True)
        else:
            table = _table("Clauses", "Clause", "Change", "Terms", "Until", "Caused by")
        for clause in diff.clauses:
            terms = _changed_terms(clause.change, clause.terms)
            until = (
                f"{clause.until.before or '—'} → {clause.until.after or '—'}"
                if clause.until
                else ""
            )
            if narrow:
                lines = [terms, *([f"until: {until}"] if until else [])]
                caused = f"\ncaused by {', '.join(clause.caused_by)}" if clause.caused_by else ""
                table.add_row(
                    Text(clause.id) + Text(f"\n{clause.change}", style="dim"),
                    Text("\n".join(lines)) + Text(caused, style="dim"),
                )
            else:
                table.add_row(clause.id, clause.change, terms, until, "\n".join(clause.caused_by))
        out.print(table)
    rows = [
        *(
            (
                "investment",
                " → ".join(d.key[:2]),
                amount_text(d.before, d.key[2]),
                amount_text(d.after, d.key[2]),
            )
            for d in diff.investments
        ),
        *(
            ("stake", f"{d.key[0]} in {d.key[1]}", percent_text(d.before), percent_text(d.after))
            for d in diff.stakes
        ),
        *(
            ("renegotiation", d.key[0], d.before or "—", d.after or "—")
            for d in diff.renegotiations
        ),
    ]
    if rows:
        table = _table("Ownership and talks", "What", "Who", "From", "To", compact=narrow)
        for row in rows:
            table.add_row(*row)
        out.print(table)
    if diff.governance:
        table = _table("Governance events", "Id", "Change", "Kind", "Effective", compact=narrow)
        for event in diff.governance:
            day = date.fromisoformat(event.effective_on)
            table.add_row(event.id, event.change, event.kind, dated(day, event.date_precision))
        out.print(table)


def show_unchanged(actual: AgreementState, hypothetical: AgreementState, out: Console) -> None:
    """How many clauses in force are the same in the actual and the hypothetical
    agreement (what differs is the difference's to show)."""
    theirs = {c.id: c for c in hypothetical.clauses_in_force()}
    ours = actual.clauses_in_force()
    same = sum(1 for c in ours if theirs.get(c.id) == c)
    out.print(f"[dim]Unchanged: {plural(same, 'clause')} in force of {len(ours):,}.[/]")


def _changed_terms(change: str, terms: Mapping[str, FromTo]) -> str:
    """An amendment's terms from → to; an added or removed clause's terms as they were."""
    if change == "removed":
        return terms_text({k: v.before for k, v in terms.items() if v.before is not None})
    if change == "added":
        return terms_text({k: v.after for k, v in terms.items() if v.after is not None})
    return "\n".join(
        f"{k}: {term_text(k, v.before)} → {term_text(k, v.after)}" for k, v in terms.items()
    )


def _paired(
    actual: Mapping[K, V],
    hypothetical: Mapping[K, V],
    label: Callable[[K], str],
    show: Callable[[V], str],
    missing: str = "—",
) -> list[tuple[str, str, str]]:
    """One row per key of either mapping: its label, and each side's value shown."""
    return [
        (
            label(key),
            show(actual[key]) if key in actual else missing,
            show(hypothetical[key]) if key in hypothetical else missing,
        )
        for key in sorted(set(actual) | set(hypothetical), key=str)
    ]


# -- agreements and a clause's life --------------------------------------------------------


def show_agreements(views: Sequence[View], out: Console, *, compact: bool = False) -> None:
    """The agreements in the store."""
    if not views:
        out.print("The store holds no agreement yet.")
        return
    narrow = is_compact(out, compact)
    table = _table(
        plural(len(views), "agreement"),
        "Agreement",
        "Title",
        "Opened",
        "Events",
        "Last recorded",
        compact=narrow,
    )
    table.columns[3].justify = "right"
    for view in views:
        table.add_row(
            view.agreement,
            view.title,
            dated(view.opened_on, view.opened_precision),
            f"{view.version:,}",
            view.last_recorded.strftime("%Y-%m-%d %H:%M") if narrow else when(view.last_recorded),
        )
    out.print(table)


def show_clause_life(
    agreement: str,
    life: ClauseLife,
    facts: Mapping[str, Fact],
    out: Console,
    *,
    compact: bool = False,
) -> None:
    """One clause's life: each change, the terms after it, and the events that made it."""
    from ledger.presentation.shapes import change_precision

    if not life.changes:
        out.print(f"Clause {life.clause} was never in force in {agreement}.")
        return
    now = life.in_force
    standing = "in force" if now is not None else "not in force"
    on = "" if life.as_of == date.max else f" on {life.as_of}"
    out.print(f"[bold]Clause {life.clause}[/] of {agreement}: {standing}{on}")
    narrow = is_compact(out, compact)
    columns = (
        ("On", "Change", "Terms after", "Until", "Events")
        if narrow
        else ("On", "Change", "Terms after", "Until", "Events", "Source")
    )
    table = _table(plural(len(life.changes), "change"), *columns, compact=narrow)
    for change in life.changes:
        clause = change.clause
        row = [
            dated(change.on, change_precision(change, facts)),
            change.change,
            clause_terms(clause) if clause is not None else "—",
            str(clause.until) if clause is not None and clause.until else "—",
            "\n".join(change.events) or "(its until passed)",
        ]
        if not narrow:
            row.append("\n".join(_source(facts[e]) for e in change.events if e in facts))
        table.add_row(*row)
    out.print(table)


# -- tables --------------------------------------------------------------------------------

# Columns whose values are identifiers or dates: never broken across lines.
_UNBROKEN = frozenset(
    {
        "Id",
        "Clause",
        "Agreement",
        "Effective",
        "Date",
        "Since",
        "Until",
        "On",
        "Opened",
        "Events",
        "Caused by",
        "Withdrawn by",
        "Investor",
        "Recipient",
        "Holder",
        "Entity",
        "Total",
        "Percent",
        "Recorded",
        "Last recorded",
    }
)


def _table(title: str, *columns: str, compact: bool = False) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        show_lines=False,
        box=box.SIMPLE_HEAD if compact else box.HEAVY_HEAD,
        pad_edge=not compact,
        show_edge=not compact,
    )
    for column in columns:
        if column in _UNBROKEN:
            table.add_column(column, no_wrap=True)
        else:
            table.add_column(column, overflow="fold")
    return table


def _source(fact: Fact) -> str:
    quote = f"\n“{fact.source.quote}”" if fact.source.quote else ""
    return fact.source.citation + quote


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
