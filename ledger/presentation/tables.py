"""Human output: rich tables a person reads at a glance."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.style import StyleType
from rich.table import Table
from rich.text import Text

from ledger.domain.codec import unstructure_terms
from ledger.domain.events import DatedEvent, Fact, summary
from ledger.domain.state import AgreementState
from ledger.domain.values import DatePrecision, describe
from ledger.errors import printable

if TYPE_CHECKING:  # only named in annotations: a replay need not load them
    from ledger.domain.difference import Difference
    from ledger.domain.history import HistoryEntry

K = TypeVar("K")
V = TypeVar("V")


def console() -> Console:
    """Standard output, wide enough for tables when it is not a terminal."""
    plain = Console()
    return plain if plain.is_terminal else Console(width=160)


def show_state(state: AgreementState, out: Console) -> None:
    """The agreement on its date: clauses in force, ownership, governance, talks."""
    known = _when(state.known_at) if state.known_at else "now"
    out.print(
        f"[bold]{safe(state.title)}[/] ({state.agreement}) on [bold]{state.as_of}[/], "
        f"as known at {known} — {state.events_applied} events applied"
    )
    out.print("Parties: " + ", ".join(f"{safe(p.name)} ({safe(p.id)})" for p in state.parties))
    clauses = _table("Clauses in force", "Clause", "Kind", "Terms", "Since", "Until", "Confidence")
    for clause in state.clauses_in_force():
        since = clause.since_precision.label(clause.in_force_since)
        if clause.amended_on:
            since += f"\namended {clause.amended_precision.label(clause.amended_on)}"
        clauses.add_row(
            clause.id,
            clause.kind.value,
            _terms(unstructure_terms(clause.terms)),
            since,
            str(clause.until or "—"),
            clause.confidence.value,
        )
    out.print(clauses)
    investments = _table("Investments", "Investor", "Recipient", "Total", "Instruments")
    for _, total in sorted(state.investments.items()):
        investments.add_row(
            total.investor,
            total.recipient,
            str(total.total),
            ", ".join(i.value for i in total.instruments),
        )
    stakes = _table("Stakes", "Holder", "Entity", "Percent", "Since")
    for _, stake in sorted(state.stakes.items()):
        since = stake.since_precision.label(stake.since)
        stakes.add_row(stake.holder, stake.entity, str(stake.percent), since)
    out.print(investments if state.investments else "[dim]No investments.[/]")
    out.print(stakes if state.stakes else "[dim]No stakes recorded.[/]")
    governance = _table(
        "Governance", "Date", "Kind", "Entity", "People", "Description", "Confidence"
    )
    for event in state.governance:
        governance.add_row(
            event.date_precision.label(event.effective_on),
            event.kind.value,
            event.entity,
            ", ".join(event.people),
            event.description or "",
            event.confidence.value,
        )
    out.print(governance if state.governance else "[dim]No governance events.[/]")
    talks = _table("Renegotiations", "Id", "Status", "Topics", "Initiated by", "Proposals")
    for _, talk in sorted(state.renegotiations.items()):
        talks.add_row(
            talk.id,
            talk.status.value,
            ", ".join(talk.topics),
            talk.initiated_by,
            "\n".join(f"{p.id} by {p.by}: {p.status.value}" for p in talk.proposals),
        )
    out.print(talks if state.renegotiations else "[dim]No renegotiations.[/]")
    if state.terminated is not None:
        ended = state.terminated
        reason = f": {safe(ended.reason)}" if ended.reason else ""
        out.print(
            f"[bold]Terminated[/] on {ended.precision.label(ended.on)} ({ended.event}){reason}"
        )


def show_history(entries: tuple[HistoryEntry, ...], out: Console) -> None:
    """The events, oldest effective date first."""
    table = _table(
        f"{len(entries)} events",
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
            fact.date_precision.label(fact.effective_on) if isinstance(fact, DatedEvent) else "—"
        )
        table.add_row(
            entry.id,
            effective,
            fact.TYPE,
            summary(fact),
            _source(fact),
            fact.source.confidence.value,
            _when(entry.recorded_at),
            entry.withdrawn_by or "",
            style="dim strike" if entry.withdrawn_by else None,
        )
    out.print(table)


def show_difference(title: str, diff: Difference, out: Console) -> None:
    """What changed, section by section."""
    out.print(f"[bold]{title}[/]")
    if diff.is_empty():
        out.print("[dim]Nothing changed.[/]")
        return
    if diff.clauses:
        table = _table("Clauses", "Clause", "Change", "Terms", "Until", "Caused by")
        for clause in diff.clauses:
            table.add_row(
                clause.id,
                clause.change,
                "\n".join(
                    f"{k}: {describe(v.before)} → {describe(v.after)}"
                    for k, v in clause.terms.items()
                ),
                f"{clause.until.before or '—'} → {clause.until.after or '—'}"
                if clause.until
                else "",
                ", ".join(clause.caused_by),
            )
        out.print(table)
    rows = [
        *(
            ("investment", " → ".join(d.key[:2]) + f" ({d.key[2]})", d.before, d.after)
            for d in diff.investments
        ),
        *(("stake", f"{d.key[0]} in {d.key[1]}", d.before, d.after) for d in diff.stakes),
        *(("renegotiation", d.key[0], d.before, d.after) for d in diff.renegotiations),
    ]
    if rows:
        table = _table("Ownership and talks", "What", "Who", "From", "To")
        for what, who, before, after in rows:
            table.add_row(what, who, before or "—", after or "—")
        out.print(table)
    if diff.governance:
        table = _table("Governance events", "Id", "Change", "Kind", "Effective")
        for event in diff.governance:
            day = date.fromisoformat(event.effective_on)
            label = DatePrecision(event.date_precision).label(day)
            table.add_row(event.id, event.change, event.kind, label)
        out.print(table)


def show_side_by_side(actual: AgreementState, hypothetical: AgreementState, out: Console) -> None:
    """The actual and the hypothetical agreement on one date, clause by clause."""
    table = _table(
        f"On {actual.as_of}: actual and hypothetical", "Clause", "Actual", "Hypothetical"
    )
    rows = [
        *_paired(
            {c.id: c for c in actual.clauses_in_force()},
            {c.id: c for c in hypothetical.clauses_in_force()},
            lambda clause_id: clause_id,
            lambda clause: _terms(unstructure_terms(clause.terms)),
            missing="not in force",
        ),
        *_paired(
            actual.stakes,
            hypothetical.stakes,
            lambda key: f"stake: {key[0]} in {key[1]}",
            lambda stake: str(stake.percent),
        ),
        *_paired(
            actual.investments,
            hypothetical.investments,
            lambda key: f"invested: {key[0]} → {key[1]} ({key[2]})",
            lambda total: str(total.total),
        ),
    ]
    for row in rows:
        table.add_row(*row)
    out.print(table)


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


def _source(fact: Fact) -> str:
    quote = f"\n“{fact.source.quote}”" if fact.source.quote else ""
    return fact.source.citation + quote


def _terms(terms: dict[str, Any]) -> str:
    return "\n".join(f"{name}: {describe(value)}" for name, value in terms.items()) or "—"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _table(title: str, *columns: str) -> Table:
    table = _TextTable(title=title, title_justify="left", show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


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
