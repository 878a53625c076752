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
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from rich import box
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.style import StyleType
from rich.table import Table
from rich.text import Text

from ledger.domain.codec import unstructure_terms
from ledger.domain.events import DatedEvent, Fact, summary
from ledger.domain.state import AgreementState, ClauseState
from ledger.domain.values import DatePrecision, Money, describe, format_decimal
from ledger.errors import plural, printable

if TYPE_CHECKING:  # only named in annotations: a replay need not load them
    from ledger.adapters.query import Answer
    from ledger.domain.difference import Difference, FromTo
    from ledger.domain.history import HistoryEntry
    from ledger.domain.lives import ClauseLife
    from ledger.domain.portfolio import ClauseOn, Ending, Holdings
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
    out.print(f"[bold]{safe(state.title)}[/] ({state.agreement}) on [bold]{state.as_of}[/]")
    out.print(f"As known at {known}: {plural(state.events_applied, 'event')} applied")
    out.print("Parties: " + ", ".join(f"{safe(p.name)} ({p.id})" for p in state.parties))
    clauses = state.clauses_in_force()
    out.print(_clauses(clauses, narrow) if clauses else "[dim]No clause in force.[/]")
    _ownership(state, out, narrow)
    _governance(state, out, narrow, show_all)
    _renegotiations(state, out, narrow)
    if state.terminated is not None:
        ended = state.terminated
        reason = f": {safe(ended.reason)}" if ended.reason else ""
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
    out.print(f"[bold]{safe(title)}[/]")
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


# -- across agreements --------------------------------------------------------------------

BRIEF = 40  # characters of a term's value in a one-line summary of terms


def show_found(
    clauses: Sequence[ClauseOn],
    out: Console,
    *,
    kind: str,
    terms: Sequence[str],
    on: date,
    known_at: datetime | str | None,
    compact: bool = False,
) -> None:
    """``find``: one row per agreement, its clauses of the kind (each with its terms in
    brief), since when and until when they are in force."""
    where = f" where {' and '.join(terms)}" if terms else ""
    _known(out, known_at)
    by_agreement = _grouped_by(clauses, lambda clause: clause.agreement)
    if not clauses:
        out.print(Text(f"No {kind} clause{where} is in force on {on} in any agreement."))
        return
    narrow = is_compact(out, compact)
    title = (
        f"{plural(len(by_agreement), 'agreement')} with {plural(len(clauses), f'{kind} clause')}"
        f"{where} in force on {on}"
    )
    columns = ("In force",) if narrow else ("Since", "Until")
    table = _wide_as(title, _table(safe(title), "Agreement", "Clause", *columns, compact=narrow))
    _one_line_each(table, "Clause")
    for agreement, found in by_agreement.items():
        since = [dated(c.in_force_since, c.since_precision) for c in found]
        until = [str(c.until or "—") for c in found]
        if narrow:
            spans = zip(since, until, strict=True)
            when_cells = [
                "\n".join(f"since {s}\n" + (f"until {u}" if u != "—" else "") for s, u in spans)
            ]
        else:
            when_cells = ["\n\n".join(since), "\n\n".join(until)]
        clause_lines = Text()
        for n, clause in enumerate(found):
            clause_lines += Text(("\n" if n else "") + clause.clause_id)
            clause_lines += Text("\n" + brief_terms(clause.terms), style="dim")
        table.add_row(agreement, _cut(clause_lines), *(Text(cell) for cell in when_cells))
    out.print(table)


def show_expiring(
    endings: Sequence[Ending],
    out: Console,
    *,
    within: int,
    on: date,
    known_at: datetime | str | None,
    compact: bool = False,
) -> None:
    """``expiring``: one row per agreement, soonest first, its clauses that leave force
    in the window with their last day in force and why (their until, a removal, the
    agreement's termination)."""
    window = f"from {on} to {on + timedelta(days=within)}"
    _known(out, known_at)
    if not endings:
        out.print(f"No clause leaves force {window}.")
        return
    by_agreement = _grouped_by(endings, lambda end: end.clause.agreement)
    narrow = is_compact(out, compact)
    title = (
        f"{plural(len(endings), 'clause')} of {plural(len(by_agreement), 'agreement')} "
        f"leaving force {window}"
    )
    columns = ("Ends",) if narrow else ("Kind", "Last day", "Why")
    table = _wide_as(title, _table(title, "Agreement", "Clause", *columns, compact=narrow))
    _one_line_each(table, "Clause")
    for agreement, ends in by_agreement.items():
        ids = "\n".join(end.clause.clause_id for end in ends)
        if narrow:
            cells = ["\n".join(f"{end.last_day} ({end.why})" for end in ends)]
        else:
            cells = [
                "\n".join(end.clause.kind for end in ends),
                "\n".join(str(end.last_day) for end in ends),
                "\n".join(end.why for end in ends),
            ]
        table.add_row(agreement, _cut(Text(ids)), *(Text(cell) for cell in cells))
    out.print(table)


def show_holdings(
    holdings: Holdings,
    out: Console,
    *,
    known_at: datetime | str | None,
    compact: bool = False,
) -> None:
    """``holdings``: one row per agreement, the party's stakes (entity, percent, since)
    and what it had invested in each recipient; then its totals, per currency."""
    party, on = holdings.party, holdings.on
    _known(out, known_at)
    if not holdings.stakes and not holdings.investments:
        out.print(Text(f"{party} held no stake and had invested nothing on {on}."))
        return
    stakes = _grouped_by(holdings.stakes, lambda stake: stake.agreement)
    invested = _grouped_by(holdings.investments, lambda each: each.agreement)
    agreements = sorted(set(stakes) | set(invested))
    title = f"{party}'s holdings on {on}, in {plural(len(agreements), 'agreement')}"
    narrow = is_compact(out, compact)
    table = _wide_as(title, _table(safe(title), "Agreement", "Stakes", "Invested", compact=narrow))
    for agreement in agreements:
        held = "\n".join(
            f"{s.entity} {format_decimal(s.percent)}% since {dated(s.since, s.since_precision)}"
            for s in stakes.get(agreement, [])
        )
        put = "\n".join(
            f"{i.recipient} {grouped(i.amount)} {i.currency}" for i in invested.get(agreement, [])
        )
        table.add_row(agreement, Text(held or "—"), Text(put or "—"))
    out.print(table)
    for currency, amount in holdings.totals.items():
        out.print(Text(f"Invested in all: {grouped(amount)} {currency}"))


def show_answer(answer: Answer, out: Console, *, compact: bool = False) -> None:
    """``sql``: the query's rows under its columns, values as text, NULL dim."""
    from ledger.presentation.shapes import answer_columns, sql_value

    columns = answer_columns(answer)
    if not answer.rows:
        out.print(Text(f"No rows (columns: {', '.join(columns)})."))
        return
    narrow = is_compact(out, compact)
    title = plural(len(answer.rows), "row")
    table = _wide_as(title, _table(title, compact=narrow))
    for n, column in enumerate(columns):
        values = [row[n] for row in answer.rows if row[n] is not None]
        numeric = bool(values) and all(
            isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in values
        )
        table.add_column(Text(column), overflow="fold", justify="right" if numeric else "left")
    for row in answer.rows:
        table.add_row(
            *(
                Text("NULL", style="dim") if value is None else Text(str(sql_value(value)))
                for value in row
            )
        )
    out.print(table)


def brief_terms(terms: Mapping[str, Any]) -> str:
    """Terms on one line, each value cut to ``BRIEF`` characters: ``rate: 20%; …``."""
    parts = []
    for name, value in terms.items():
        text = term_text(name, value)
        parts.append(f"{name}: {text if len(text) <= BRIEF else text[: BRIEF - 1] + '…'}")
    return "; ".join(parts) or "—"


def _known(out: Console, known_at: datetime | str | None) -> None:
    """As known when: said only when asked (the default is now)."""
    if isinstance(known_at, str):
        out.print(f"As known just after {known_at} was recorded")
    elif known_at is not None:
        out.print(f"As known at {when(known_at)}")


def _wide_as(title: str, table: Table) -> Table:
    """The table at least as wide as its title, which would otherwise wrap to its width."""
    table.min_width = len(title)
    return table


def _grouped_by(items: Sequence[V], key: Callable[[V], str]) -> dict[str, list[V]]:
    """The items by key, keys in the order first met, items in their order."""
    found: dict[str, list[V]] = {}
    for item in items:
        found.setdefault(key(item), []).append(item)
    return found


def _one_line_each(table: Table, flexible: str) -> None:
    """Every line of every cell on one line, so that a row's lines stay side by side
    across its columns: the ``flexible`` column alone narrows to fit the console, its
    cells (``_cut``) cut with … rather than wrapped."""
    for column in table.columns:
        column.no_wrap = column.header != flexible


def _cut(text: Text) -> Text:
    """A cell of the flexible column: each line cut with … where it is too long."""
    text.no_wrap, text.overflow = True, "ellipsis"
    return text


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
    table = _TextTable(
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


# -- text as text: what the ledger holds is shown, never acted on ----------------------


def safe(text: str) -> str:
    """Text from the ledger for a line of rich markup: its control characters (terminal
    escape sequences…) escaped, and its brackets not read as markup."""
    return escape(printable(text))


class _TextTable(Table):
    """A table whose text cells are shown as they are: control characters escaped, and
    nothing in them read as markup (a citation with ``[/x]`` in it is text)."""

    def add_row(
        self,
        *renderables: RenderableType | None,
        style: StyleType | None = None,
        end_section: bool = False,
    ) -> None:
        cells = [Text(printable(c)) if isinstance(c, str) else c for c in renderables]
        super().add_row(*cells, style=style, end_section=end_section)
