"""The ``ledger`` command: the use cases of ``ledger.Ledger`` on the command line.

Exit codes: 0 success; 2 bad input or a refused rule (nothing written); 1 anything
else. Errors are one line on standard error; ``--debug`` adds the traceback. A reader
that stops reading (``ledger history | head``) ends the command quietly, with 0.
"""

from __future__ import annotations

import json
import os
import sys
import time as clock
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ledger.entrypoints.moments import BEYOND_THE_CALENDAR, parse_known_at
from ledger.errors import LedgerError, plural, shown

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

    from ledger.application import Appended, Ledger, Moved, Progress
    from ledger.domain.difference import Difference
    from ledger.domain.whatif import WhatIf

F = TypeVar("F", bound=Callable[..., Any])

# ``ledger`` (or ``ledger show``) alone: click 8.2 and later raise this to show the help.
_NO_ARGS: tuple[type[Exception], ...] = (
    (click.exceptions.NoArgsIsHelpError,) if hasattr(click.exceptions, "NoArgsIsHelpError") else ()
)
STATE_TABLES = ("clauses", "investments", "stakes", "governance", "renegotiations")


class _Date(click.ParamType):  # type: ignore[type-arg]  # generic only in click's stubs
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value) if len(value) == 10 else _raise()
        except ValueError:
            self.fail(f"expected a date as YYYY-MM-DD, got {value!r}", param, ctx)


class _Moment(click.ParamType):  # type: ignore[type-arg]  # generic only in click's stubs
    """An ISO timestamp (no zone: UTC), a date (the end of that day, UTC), or an event id
    (just after that event was recorded)."""

    name = "TIME"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime | str:
        if isinstance(value, datetime):
            return value
        try:
            return parse_known_at(value)
        except ValueError as error:
            if str(error) == BEYOND_THE_CALENDAR:
                self.fail(
                    f"expected a time from 0001-01-01 to 9999-12-31 in UTC, got {shown(value)}",
                    param,
                    ctx,
                )
            self.fail(
                f"expected an ISO timestamp, a date or an event id, got {shown(value)}", param, ctx
            )


def _raise() -> date:
    raise ValueError


DATE = _Date()
MOMENT = _Moment()


def _event_types() -> list[str]:
    from ledger.domain.events import BY_TYPE

    return list(BY_TYPE)


class _Listed(click.Option):
    """An option whose help lists its values and whose shell completion offers them, both
    read from the vocabulary only when asked (a command's start-up imports none of it)."""

    def __init__(
        self, *args: Any, lead: str, values: Callable[[], list[str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, shell_complete=self._offer, **kwargs)
        self._lead, self._values = lead, values

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        self.help = f"{self._lead}{', '.join(self._values())}."
        return super().get_help_record(ctx)

    def _offer(
        self, _ctx: click.Context, _param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(v) for v in self._values() if v.startswith(incomplete)]


# -- options shared by commands ------------------------------------------------------------

_STORE_HELP = "SQLite file or postgresql:// URL (default: $LEDGER_STORE or ./ledger.sqlite)."


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """``--store`` or ``--debug`` given after the command: as if given before it."""
    if value is not None and value is not False and param.name is not None:
        ctx.ensure_object(dict)[param.name] = value


def _global_options(command: F) -> F:
    """``--store`` and ``--debug``, accepted after the command as well as before it."""
    command = click.option(
        "--store", expose_value=False, callback=_remember, help=_STORE_HELP, metavar="STORE"
    )(command)
    return click.option(
        "--debug", is_flag=True, expose_value=False, callback=_remember, help="Show tracebacks."
    )(command)


_agreement = click.option(
    "--agreement", help="The agreement's id (needed when the store holds several)."
)
_known_at = click.option(
    "--known-at",
    type=MOMENT,
    help="Answer as known then: an ISO timestamp, a date (its end), or an event id "
    "(just after it was recorded).",
)
_json = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
_csv = click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of tables.")
_compact = click.option(
    "--compact",
    is_flag=True,
    help="Narrow tables: no borders, fewer columns (the default below 100 columns).",
)


def _examples(*lines: str) -> str:
    """A command's epilog: examples, kept as written by click's help formatter."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


class _LedgerGroup(click.Group):
    """The ``ledger`` group: a reader that closes the pipe ends the command quietly."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            _silence_stdout()
            raise click.exceptions.Exit(0) from None


@click.group(
    cls=_LedgerGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=_examples(
        "ledger init --example openai-microsoft",
        "ledger replay --as-of 2024-01-01",
        "ledger history --kind governance",
        "ledger show clause azure-exclusivity",
        "ledger COMMAND --help",
    )
    + "\n\n--store and --debug may also come after the command. Shell completion (bash): "
    'eval "$(_LEDGER_COMPLETE=bash_source ledger)"',
)
@click.option("--store", metavar="STORE", help=_STORE_HELP)
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="contract-ledger")
@click.pass_context
def cli(ctx: click.Context, store: str | None, debug: bool) -> None:
    """An event-sourced ledger of long-lived business agreements."""
    ctx.obj = {"store": store, "debug": debug}


def _ledger(ctx: click.Context) -> Ledger:
    """The ledger of ``--store`` (it must exist), closed when the command ends."""
    from ledger.application import Ledger

    ledger = Ledger(ctx.obj["store"], must_exist=True)
    ctx.call_on_close(ledger.close)
    return ledger


@contextmanager
def _progress() -> Iterator[Progress | None]:
    """A progress bar on standard error if it is a terminal, else no callback at all."""
    from ledger.presentation.progress import ProgressBar

    with ProgressBar() as bar:
        yield bar if bar.enabled else None


def _took(started: float) -> str:
    """`` in 12.3 s`` for work that took a second or more, else nothing."""
    seconds = clock.monotonic() - started
    return f" in {seconds:.1f} s" if seconds >= 1 else ""


def _ids(appended: Sequence[Appended]) -> str:
    """``openai-microsoft#12``, or a range for several."""
    if len(appended) == 1:
        return appended[0].id
    return f"{appended[0].id} … {appended[-1].id}"


def _one_format(as_json: bool, as_csv: bool) -> None:
    if as_json and as_csv:
        raise click.UsageError("expected at most one of --json and --csv, got both")


# -- commands ------------------------------------------------------------------------------


@cli.command(
    epilog=_examples(
        "ledger init                               # an empty store, ./ledger.sqlite",
        "ledger init --example openai-microsoft    # with the bundled history",
        "ledger init --example openai-microsoft --with-record   # and its public record",
        "ledger --store team.sqlite init",
    )
)
@click.option("--example", metavar="NAME", help="Load a bundled history: openai-microsoft.")
@click.option(
    "--with-record",
    is_flag=True,
    help="Then record the example's public record after it, as a later recording.",
)
@_global_options
@click.pass_context
def init(ctx: click.Context, example: str | None, with_record: bool) -> None:
    """Create the store, and load a bundled history into it."""
    from ledger.adapters.store import StoreLocation
    from ledger.application import write_to

    if with_record and not example:
        raise click.UsageError("--with-record needs --example")

    started = clock.monotonic()
    with _progress() as progress:

        def load(ledger: Ledger) -> list[Appended]:
            ledger.agreements()  # creates the tables, or proves the server is there
            if not example:
                return []
            return ledger.load_example(example, with_record=with_record, progress=progress)

        appended = write_to(ctx.obj["store"], load)
    click.echo(f"Store ready: {StoreLocation.resolve(ctx.obj['store']).display()}")
    if appended:
        click.echo(
            f"Loaded {example}: {plural(len(appended), 'event')} ({_ids(appended)}){_took(started)}"
        )


@cli.command(
    short_help="The agreements in the store.",
    epilog=_examples(
        "ledger agreements",
        "ledger agreements --csv > agreements.csv",
    ),
)
@_json
@_csv
@_compact
@_global_options
@click.pass_context
def agreements(ctx: click.Context, as_json: bool, as_csv: bool, compact: bool) -> None:
    """The agreements in the store: id, title, opened on, events, last recorded."""
    _one_format(as_json, as_csv)
    views = _ledger(ctx).views()
    _print_answer(
        as_json,
        as_csv,
        lambda shapes: shapes.agreements_json(views),
        lambda sheets: sheets.agreements_rows(views),
        lambda tables, out: tables.show_agreements(views, out, compact=compact),
    )


@cli.command(
    epilog=_examples(
        "ledger replay --as-of 2024-01-01",
        "ledger replay --as-of 2031-01-01 --json",
        "ledger replay --as-of 2024-01-01 --known-at 2025-01-01",
        "ledger replay --as-of 2025-06-01 --csv --table stakes",
        "ledger replay --as-of 2025-06-01 --all      # every governance event",
    )
)
@click.option("--as-of", "as_of", type=DATE, required=True, help="The date to replay to.")
@_known_at
@_json
@_csv
@click.option(
    "--table",
    type=click.Choice(STATE_TABLES),
    default="clauses",
    show_default=True,
    help="With --csv: which table to print.",
)
@click.option(
    "--all", "show_all", is_flag=True, help="Every governance event, not only the latest 20."
)
@_compact
@_agreement
@_global_options
@click.pass_context
def replay(
    ctx: click.Context,
    as_of: date,
    known_at: datetime | str | None,
    as_json: bool,
    as_csv: bool,
    table: str,
    show_all: bool,
    compact: bool,
    agreement: str | None,
) -> None:
    """The effective agreement and ownership on a date."""
    _one_format(as_json, as_csv)
    state = _ledger(ctx).state_at(as_of, known_at=known_at, agreement=agreement)
    _print_answer(
        as_json,
        as_csv,
        lambda shapes: shapes.state_json(state),
        lambda sheets: sheets.state_rows(state, table),
        lambda tables, out: tables.show_state(state, out, compact=compact, show_all=show_all),
    )


@cli.command(
    short_help="Append the events of a YAML or JSON file, atomically.",
    epilog=_examples(
        "ledger append docs/examples/amendments/2020.yaml",
        "ledger append events.json --agreement acme-globex",
        "ledger append events.yaml --idempotency-key payroll-2026-11   # safe to retry",
        "generate-events | ledger append -",
    ),
)
@click.argument("file")
@_agreement
@click.option(
    "--idempotency-key",
    metavar="KEY",
    help="Retry safely: a key already used for the same events writes nothing and says "
    "so; for other events, it is refused (or the file's own idempotency_key:).",
)
@_global_options
@click.pass_context
def append(
    ctx: click.Context, file: str, agreement: str | None, idempotency_key: str | None
) -> None:
    """Append the events of a YAML or JSON file (- for standard input), atomically."""
    from ledger.application import write_to

    started = clock.monotonic()
    with _progress() as progress:
        appended = write_to(
            ctx.obj["store"],
            lambda ledger: ledger.append_file(
                file, agreement=agreement, progress=progress, idempotency_key=idempotency_key
            ),
        )
    if appended and appended[0].already:
        click.echo(
            f"Already appended with this idempotency key: {plural(len(appended), 'event')} "
            f"({_ids(appended)}), recorded {appended[0].recorded_at.isoformat()}; "
            "nothing written"
        )
        return
    click.echo(f"Appended {plural(len(appended), 'event')} ({_ids(appended)}){_took(started)}")


@cli.command(
    short_help="The recorded events with their sources.",
    epilog=_examples(
        "ledger history",
        "ledger history --kind governance --from 2023-01-01",
        "ledger history --known-at 2025-01-01 --json",
        "ledger history --clause azure-exclusivity   # as: ledger show clause",
    ),
)
@click.option("--from", "start", type=DATE, help="First effective date.")
@click.option("--to", "end", type=DATE, help="Last effective date.")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    cls=_Listed,
    lead="Only events of this type (repeatable): ",
    values=_event_types,
    metavar="TYPE",
)
@click.option(
    "--clause",
    metavar="ID",
    help="One clause's life instead (as `ledger show clause ID`; --to is its as-of date).",
)
@_known_at
@_json
@_csv
@_compact
@_agreement
@_global_options
@click.pass_context
def history(
    ctx: click.Context,
    start: date | None,
    end: date | None,
    kinds: Sequence[str],
    clause: str | None,
    known_at: datetime | str | None,
    as_json: bool,
    as_csv: bool,
    compact: bool,
    agreement: str | None,
) -> None:
    """The recorded events with their sources, oldest effective date first."""
    _one_format(as_json, as_csv)
    if clause is not None:
        if kinds or start:
            raise click.UsageError("expected --clause without --kind and --from")
        _show_clause(ctx, clause, end, known_at, as_json, as_csv, compact, agreement)
        return
    unknown = [k for k in kinds if k not in _event_types()]
    if unknown:
        raise click.BadParameter(
            f"expected one of {', '.join(_event_types())}, got {unknown[0]!r}",
            param_hint="--kind",
        )
    entries = _ledger(ctx).history(
        agreement=agreement, known_at=known_at, start=start, end=end, kinds=kinds
    )
    nothing = _no_events(start, end, kinds, known_at)
    _print_answer(
        as_json,
        as_csv,
        lambda shapes: shapes.history_json(entries),
        lambda sheets: sheets.history_rows(entries),
        lambda tables, out: tables.show_history(entries, out, compact=compact, nothing=nothing),
    )


def _no_events(
    start: date | None, end: date | None, kinds: Sequence[str], known_at: datetime | str | None
) -> str:
    """What an empty history says, in words."""
    limits = []
    if kinds:
        limits.append("of type " + " or ".join(kinds))
    if start:
        limits.append(f"effective from {start}")
    if end:
        limits.append(f"effective {'through' if start else 'up to'} {end}")
    if known_at:
        moment = known_at if isinstance(known_at, str) else known_at.isoformat()
        limits.append(f"known at {moment}")
    return "No events" + (" " + ", ".join(limits) if limits else "") + "."


@cli.command(
    short_help="What changed between two dates, or two times' knowledge.",
    epilog=_examples(
        "ledger diff 2019-07-01 2025-06-30",
        "ledger diff 2020-01-01 2020-12-31 --json",
        "ledger diff 2019-07-01 2031-01-01 --csv > changes.csv",
        "ledger diff --as-of 2025-11-01 --known-at 2025-01-01 --against-known-at 2030-01-01",
    ),
)
@click.argument("first", type=DATE, required=False)
@click.argument("second", type=DATE, required=False)
@click.option("--as-of", "as_of", type=DATE, help="With --against-known-at: the date asked about.")
@_known_at
@click.option(
    "--against-known-at",
    type=MOMENT,
    help="Compare what was known about --as-of at --known-at with what was known then "
    "(a time, a date or an event id).",
)
@_json
@_csv
@_compact
@_agreement
@_global_options
@click.pass_context
def diff(
    ctx: click.Context,
    first: date | None,
    second: date | None,
    as_of: date | None,
    known_at: datetime | str | None,
    against_known_at: datetime | str | None,
    as_json: bool,
    as_csv: bool,
    compact: bool,
    agreement: str | None,
) -> None:
    """What changed in the agreement between two dates (``diff D1 D2``), or in what was
    known about one date between two times (``diff --as-of D --known-at T1
    --against-known-at T2``: the public record against the article, a correction's
    effect)."""
    from ledger.presentation.tables import console, show_difference

    _one_format(as_json, as_csv)
    if against_known_at is not None or as_of is not None:
        if as_of is None or known_at is None or first is not None:
            raise click.UsageError(
                "expected --as-of D --known-at T1 --against-known-at T2 (and no dates)"
            )
        revised = _ledger(ctx).revision(
            as_of, known_at=known_at, against_known_at=against_known_at, agreement=agreement
        )
        if as_json:
            from ledger.presentation.shapes import revision_json

            _print_json(revision_json(as_of, known_at, against_known_at, revised))
        elif as_csv:
            from ledger.presentation.sheets import difference_rows

            _print_csv(difference_rows(revised))
        else:
            later = against_known_at or "now"
            show_difference(
                f"On {as_of}, as known at {known_at} and at {later}",
                revised,
                console(),
                compact=compact,
            )
        return
    if first is None or second is None:
        raise click.UsageError("expected two dates, D1 D2 (or --as-of with --against-known-at)")
    difference = _ledger(ctx).diff(first, second, known_at=known_at, agreement=agreement)
    if as_json:
        from ledger.presentation.shapes import diff_json

        _print_json(diff_json(first, second, difference))
    elif as_csv:
        from ledger.presentation.sheets import difference_rows

        _print_csv(difference_rows(difference))
    else:
        show_difference(f"From {first} to {second}", difference, console(), compact=compact)


@cli.command(
    short_help="The agreement if a file's events or a proposal applied.",
    epilog=_examples(
        "ledger whatif --as-of 2026-01-01 features/whatif/equity-swap.yaml",
        "ledger whatif --as-of 2025-06-01 --proposal equity-for-revenue",
        "ledger whatif --as-of 2025-06-01 --compare equity-for-revenue agi-clause-removal",
    ),
)
@click.option("--as-of", "as_of", type=DATE, required=True, help="The date to compare on.")
@click.argument("file", required=False)
@click.option("--proposal", help="Try accepting this recorded proposal on the --as-of date.")
@click.option("--compare", nargs=2, metavar="P1 P2", help="Two recorded proposals side by side.")
@_known_at
@_json
@_csv
@_compact
@_agreement
@_global_options
@click.pass_context
def whatif(
    ctx: click.Context,
    as_of: date,
    file: str | None,
    proposal: str | None,
    compare: tuple[str, str] | None,
    known_at: datetime | str | None,
    as_json: bool,
    as_csv: bool,
    compact: bool,
    agreement: str | None,
) -> None:
    """The agreement on a date if a file's events (or a proposal) were applied; writes nothing."""
    _one_format(as_json, as_csv)
    chosen = [bool(file), bool(proposal), bool(compare)]
    if sum(chosen) != 1:
        raise click.UsageError("expected exactly one of FILE, --proposal ID or --compare P1 P2")
    ledger = _ledger(ctx)
    if compare:
        first, second, between = ledger.compare_proposals(
            as_of, compare, known_at=known_at, agreement=agreement
        )
        _show_comparison(compare, first, second, between, as_json, as_csv, compact)
        return
    if file:
        hypothesis = ledger.what_if_file(file, as_of, known_at=known_at, agreement=agreement)
    else:
        hypothesis = ledger.what_if(
            as_of, proposal=proposal, known_at=known_at, agreement=agreement
        )
    if as_json:
        from ledger.presentation.shapes import whatif_json

        _print_json(whatif_json(hypothesis))
    elif as_csv:
        from ledger.presentation.sheets import difference_rows

        _print_csv(difference_rows(hypothesis.difference))
    else:
        from ledger.presentation.tables import console, show_difference, show_unchanged

        out = console()
        ids = ", ".join(ident for ident, _ in hypothesis.events)
        show_difference(
            f"On {as_of}, the hypothesis ({ids}) would change the actual agreement:",
            hypothesis.difference,
            out,
            compact=compact,
        )
        show_unchanged(hypothesis.baseline, hypothesis.hypothetical, out)


def _show_comparison(
    names: tuple[str, str],
    first: WhatIf,
    second: WhatIf,
    between: Difference,
    as_json: bool,
    as_csv: bool,
    compact: bool,
) -> None:
    if as_json:
        from ledger.presentation.shapes import comparison_json

        _print_json(comparison_json(names, first, second, between))
        return
    if as_csv:
        from ledger.presentation.sheets import difference_rows, joined

        _print_csv(
            joined(
                [
                    difference_rows(first.difference, label=names[0]),
                    difference_rows(second.difference, label=names[1]),
                    difference_rows(between, label=f"{names[1]} vs {names[0]}"),
                ]
            )
        )
        return
    from ledger.presentation.tables import console, show_difference

    out = console()
    show_difference(f"Accepting {names[0]} would change:", first.difference, out, compact=compact)
    show_difference(f"Accepting {names[1]} would change:", second.difference, out, compact=compact)
    show_difference(f"{names[1]} compared with {names[0]}:", between, out, compact=compact)


@cli.group(
    cls=_LedgerGroup,
    short_help="One thing in detail: a clause's whole life.",
    epilog=_examples("ledger show clause azure-exclusivity"),
)
def show() -> None:
    """One thing in detail: a clause's whole life."""


@show.command(
    "clause",
    epilog=_examples(
        "ledger show clause azure-exclusivity",
        "ledger show clause microsoft-ip-rights --as-of 2031-01-01",
        "ledger show clause azure-exclusivity --known-at 2025-01-01 --json",
    ),
)
@click.argument("clause_id", metavar="ID")
@click.option("--as-of", "as_of", type=DATE, help="Up to this date (default: its whole life).")
@_known_at
@_json
@_csv
@_compact
@_agreement
@_global_options
@click.pass_context
def show_clause(
    ctx: click.Context,
    clause_id: str,
    as_of: date | None,
    known_at: datetime | str | None,
    as_json: bool,
    as_csv: bool,
    compact: bool,
    agreement: str | None,
) -> None:
    """One clause's whole life: added, each amendment, removal or expiry, with sources."""
    _one_format(as_json, as_csv)
    _show_clause(ctx, clause_id, as_of, known_at, as_json, as_csv, compact, agreement)


def _show_clause(
    ctx: click.Context,
    clause_id: str,
    as_of: date | None,
    known_at: datetime | str | None,
    as_json: bool,
    as_csv: bool,
    compact: bool,
    agreement: str | None,
) -> None:
    ledger = _ledger(ctx)
    if isinstance(known_at, str):  # an event's id: just after it was recorded
        known = ledger.recorded_at(known_at)
    else:
        known = known_at or datetime.now(UTC)
    name = ledger.resolve(agreement)
    life, facts = ledger.clause_life(clause_id, as_of=as_of, known_at=known, agreement=name)
    if not life.changes:
        _refuse_unknown_clause(ledger, name, clause_id, as_of, known)
    _print_answer(
        as_json,
        as_csv,
        lambda shapes: shapes.clause_life_json(name, life, facts, as_of=as_of, known_at=known),
        lambda sheets: sheets.clause_life_rows(name, life, facts, as_of=as_of, known_at=known),
        lambda tables, out: tables.show_clause_life(name, life, facts, out, compact=compact),
    )


def _refuse_unknown_clause(
    ledger: Ledger, name: str, clause_id: str, as_of: date | None, known: datetime
) -> None:
    """A clause that was never added (up to ``as_of``, as known then): exit 2, naming the
    clauses that were, and the one meant if it is close."""
    import difflib

    from ledger.domain.clauses import AddClause
    from ledger.errors import InputError

    added: dict[str, None] = {}
    for entry in ledger.history(agreement=name, known_at=known, end=as_of):
        fact = getattr(entry.fact, "replacement", None) or entry.fact
        for change in (*getattr(fact, "clauses", ()), *getattr(fact, "changes", ())):
            if isinstance(change, AddClause) and entry.fact.TYPE != "proposal":
                added[change.id] = None
    close = difflib.get_close_matches(clause_id, list(added), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    by = f" by {as_of}" if as_of else ""
    raise InputError(
        f"expected a clause of {name}, got {clause_id!r}, which was never added{by} "
        f"({hint}its clauses: {', '.join(added) or 'none'})"
    )


@cli.command(
    short_help="What was in force over time, as text or a picture.",
    epilog=_examples(
        "ledger timeline",
        "ledger timeline --from 2019-01-01 --to 2026-12-31",
        "ledger timeline -o timeline.html    # needs the pictures extra",
        "ledger timeline --known-at 2024-01-01 --compare-known-at 2026-01-01 -o then.svg",
    ),
)
@_agreement
@click.option("--from", "start", type=DATE, help="First day drawn (default: the opening).")
@click.option(
    "--to", "end", type=DATE, help="Last day drawn (default: the last event's date or today)."
)
@_known_at
@click.option(
    "--compare-known-at",
    type=MOMENT,
    help="Draw what was known then as a ghost layer: an ISO timestamp, a date (its end), "
    "or an event id (just after it was recorded).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write a picture: .html (interactive, offline), .svg or .png. Default: text.",
)
@_global_options
@click.pass_context
def timeline(
    ctx: click.Context,
    agreement: str | None,
    start: date | None,
    end: date | None,
    known_at: datetime | str | None,
    compare_known_at: datetime | str | None,
    output: str | None,
) -> None:
    """What was in force over time: clauses, money, stakes, governance and talks."""
    suffix = _picture_suffix(output)
    picture = _ledger(ctx).timeline(
        agreement=agreement,
        start=start,
        end=end,
        known_at=known_at,
        compare_known_at=compare_known_at,
    )
    if output is None:
        from ledger.presentation.tables import console
        from ledger.presentation.timeline import to_text

        to_text(picture, console())
        return
    from ledger.presentation import timeline as pictures

    drawn: str | bytes
    if suffix == ".html":
        drawn = pictures.to_html(picture).encode("utf-8")
    elif suffix == ".svg":
        drawn = pictures.to_svg(picture)
    else:
        drawn = pictures.to_png(picture)
    try:
        with open(output, "wb") as file:
            file.write(drawn)
    except OSError as error:
        raise click.FileError(output, hint=error.strerror or str(error)) from None
    click.echo(
        f"Wrote {output} ({_size(len(drawn))}): {picture.agreement} from {picture.start} "
        f"to {picture.end}, {plural(len(picture.clauses), 'clause span')}"
    )


PICTURE_SUFFIXES = (".html", ".svg", ".png")


def _picture_suffix(output: str | None) -> str | None:
    """The kind of picture ``-o`` asks for, refused before any work if unknown."""
    if output is None:
        return None
    suffix = os.path.splitext(output)[1].lower()
    if suffix not in PICTURE_SUFFIXES:
        raise click.BadParameter(
            f"expected a file name ending in {', '.join(PICTURE_SUFFIXES)}, got {output!r}",
            param_hint="-o",
        )
    return suffix


def _size(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB" if count >= 100_000 else f"{count / 1_000:.0f} kB"


# -- across agreements ---------------------------------------------------------------------


def _clause_kinds() -> list[str]:
    from ledger.domain.clauses import ClauseKind

    return [kind.value for kind in ClauseKind]


_on = click.option("--on", "on", type=DATE, required=True, help="The date asked about.")


@cli.command(
    short_help="The agreements with a kind of clause in force on a date.",
    epilog=_examples(
        "ledger find --clause-kind exclusivity --on 2025-06-01",
        "ledger find --clause-kind exclusivity --term exclusive=true --on 2025-06-01",
        "ledger find --clause-kind revenue_share --term 'rate>=20' --on 2026-01-01 --json",
        "ledger find --clause-kind veto --term over=restructuring --on 2025-06-01 --csv",
        "ledger find --clause-kind ip_rights --on 2025-06-01 --known-at openai-microsoft#11",
    ),
)
@click.option(
    "--clause-kind",
    "clause_kind",
    required=True,
    metavar="KIND",
    cls=_Listed,
    lead="The kind of clause: ",
    values=_clause_kinds,
)
@click.option(
    "--term",
    "terms",
    multiple=True,
    metavar="NAME=VALUE",
    help="Only clauses whose term meets this (repeatable; all must hold): NAME=VALUE, "
    "NAME!=VALUE, or for numbers NAME>VALUE, NAME>=VALUE, NAME<VALUE, NAME<=VALUE "
    "(quote it in the shell).",
)
@_on
@_known_at
@_json
@_csv
@_compact
@_global_options
@click.pass_context
def find(
    ctx: click.Context,
    clause_kind: str,
    terms: Sequence[str],
    on: date,
    known_at: datetime | str | None,
    as_json: bool,
    as_csv: bool,
    compact: bool,
) -> None:
    """The agreements with a clause of a kind in force on a date (and terms that meet
    every --term), across every agreement in the store."""
    _one_format(as_json, as_csv)
    clauses = _ledger(ctx).find(clause_kind, on=on, terms=terms, known_at=known_at)
    _print_answer(
        as_json,
        as_csv,
        lambda shapes: shapes.found_json(
            clauses, kind=clause_kind, terms=terms, on=on, known_at=known_at
        ),
        lambda sheets: sheets.found_rows(clauses),
        lambda tables, out: tables.show_found(
            clauses,
            out,
            kind=clause_kind,
            terms=terms,
            on=on,
            known_at=known_at,
            compact=compact,
        ),
    )


@cli.command(
    short_help="The clauses that leave force within some days of a date.",
    epilog=_examples(
        "ledger expiring --within 365 --on 2030-06-01",
        "ledger expiring --within 90 --on 2025-10-01 --json",
        "ledger expiring --within 3650 --on 2024-01-01 --csv",
        "ledger expiring --within 3650 --on 2024-01-01 --known-at openai-microsoft#11",
    ),
)
@click.option(
    "--within",
    type=int,
    required=True,
    metavar="DAYS",
    help="How many days after --on (0: that day alone).",
)
@_on
@_known_at
@_json
@_csv
@_compact
@_global_options
@click.pass_context
def expiring(
    ctx: click.Context,
    within: int,
    on: date,
    known_at: datetime | str | None,
    as_json: bool,
    as_csv: bool,
    compact: bool,
) -> None:
    """The clauses, across agreements, whose last day in force falls from --on to DAYS
    days after it: their until, a removal or the agreement's termination; soonest first."""
    _one_format(as_json, as_csv)
    endings = _ledger(ctx).expiring(within=within, on=on, known_at=known_at)
    _print_answer(
        as_json,
        as_csv,
        lambda shapes: shapes.expiring_json(endings, within=within, on=on, known_at=known_at),
        lambda sheets: sheets.expiring_rows(endings),
        lambda tables, out: tables.show_expiring(
            endings, out, within=within, on=on, known_at=known_at, compact=compact
        ),
    )


@cli.command(
    short_help="A party's stakes and investments across agreements.",
    epilog=_examples(
        "ledger holdings microsoft --on 2026-01-01",
        "ledger holdings microsoft --on 2026-01-01 --json",
        "ledger holdings openai --on 2026-01-01 --csv",
        "ledger holdings microsoft --on 2026-01-01 --known-at openai-microsoft#11",
    ),
)
@click.argument("party")
@_on
@_known_at
@_json
@_csv
@_compact
@_global_options
@click.pass_context
def holdings(
    ctx: click.Context,
    party: str,
    on: date,
    known_at: datetime | str | None,
    as_json: bool,
    as_csv: bool,
    compact: bool,
) -> None:
    """PARTY's stakes and what it had invested, in every agreement, on a date; and its
    investments totalled per currency."""
    _one_format(as_json, as_csv)
    held = _ledger(ctx).holdings(party, on=on, known_at=known_at)
    _print_answer(
        as_json,
        as_csv,
        lambda shapes: shapes.holdings_json(held, known_at=known_at),
        lambda sheets: sheets.holdings_rows(held),
        lambda tables, out: tables.show_holdings(held, out, known_at=known_at, compact=compact),
    )


@cli.command(
    short_help="A read-only SQL query over the bitemporal tables.",
    epilog=_examples(  # noqa: S608  (examples in the help, never run by us)
        'ledger sql "SELECT agreement, clause_id, kind, until FROM clause_versions_now"',
        'ledger sql "SELECT kind, count(*) AS n FROM clause_versions_now GROUP BY kind" --json',
        'ledger sql "SELECT holder, entity, percent, since FROM stake_versions_now" --csv',
    )
    + "\n\nThe tables (clause_versions, stake_versions, investment_totals, "
    "governance_events, renegotiation_versions, proposal_versions, terminations, each with "
    "a <table>_now view) are documented in the README. One query; nothing is ever written.",
)
@click.argument("query")
@_json
@_csv
@_compact
@_global_options
@click.pass_context
def sql(ctx: click.Context, query: str, as_json: bool, as_csv: bool, compact: bool) -> None:
    """The rows of one read-only SQL query (SELECT, WITH, VALUES, TABLE) over the store's tables:
    what was in force when, and when it was believed."""
    _one_format(as_json, as_csv)
    answer = _ledger(ctx).sql(query)
    _print_answer(
        as_json,
        as_csv,
        lambda shapes: shapes.answer_json(answer),
        lambda sheets: sheets.answer_rows(answer),
        lambda tables, out: tables.show_answer(answer, out, compact=compact),
    )


@cli.command(
    short_help="Check the hash chains, the index and the checkpoints.",
    epilog=_examples(
        "ledger verify",
        "ledger verify --agreement openai-microsoft",
        "ledger verify --reindex    # rebuild the index and checkpoints from the events",
    ),
)
@_agreement
@click.option(
    "--expect",
    type=click.Path(dir_okay=False),
    help="A file of heads saved by `ledger head --json`: the log must still extend each.",
)
@click.option(
    "--reindex",
    is_flag=True,
    help="Rebuild the read model (index, checkpoints, bitemporal tables) from the verified "
    "events first.",
)
@_global_options
@click.pass_context
def verify(ctx: click.Context, agreement: str | None, reindex: bool, expect: str | None) -> None:
    """Check everything stored: every event against its agreement's hash chain (and no
    event outside one), signed heads (with $LEDGER_VERIFY_KEYS or a signing key), the
    heads saved in --expect, and then the read model (index, appends, checkpoints, the
    bitemporal tables)."""
    from ledger.adapters.headfile import read_heads

    started = clock.monotonic()
    ledger = _ledger(ctx)
    heads = read_heads(expect) if expect else []
    with _progress() as progress:
        checked = ledger.verify(agreement, reindex=reindex, expect=heads, progress=progress)
    events = plural(checked, "event")
    signed = (
        "signed heads check out"
        if ledger.signs
        else "unsigned (configure a signing key to detect rewrites)"
    )
    saved = f", the log extends the {plural(len(heads), 'saved head')}" if heads else ""
    rebuilt = "was rebuilt from them and checked" if reindex else "matches them"
    click.echo(
        f"Verified {events}: every chain is intact, {signed}{saved}; "
        f"the read model {rebuilt}{_took(started)}."
    )


@cli.command(
    short_help="Each agreement's head, to save and verify against later.",
    epilog=_examples(
        "ledger head",
        "ledger head --json > heads.json    # later: ledger verify --expect heads.json",
        "ledger head --csv",
    ),
)
@_agreement
@_json
@_csv
@_global_options
@click.pass_context
def head(ctx: click.Context, agreement: str | None, as_json: bool, as_csv: bool) -> None:
    """Each agreement's head: its last event's version, digest and recording time (and
    signature). Keep or publish it: `ledger verify --expect FILE` proves later that the
    log still extends it."""
    _one_format(as_json, as_csv)
    heads = _ledger(ctx).heads(agreement)
    if as_json or as_csv:
        from ledger.presentation.shapes import heads_json

        if as_json:
            _print_json(heads_json(heads))
        else:
            columns = ["agreement", "version", "digest", "recorded_at", "key_id", "signature"]
            _print_csv((columns, heads_json(heads)))
        return
    for each in heads:
        signed = f" signed by key {each.signature.key_id}" if each.signature else " unsigned"
        click.echo(
            f"{each.head.agreement}#{each.head.version} {each.head.digest} "
            f"{each.head.recorded_at}{signed}"
        )


@cli.group(cls=_LedgerGroup, epilog=_examples("ledger key new ~/.ledger-signing.key"))
def key() -> None:
    """Signing keys for the heads of appends."""


@key.command(
    "new",
    epilog=_examples(
        "ledger key new ~/.ledger-signing.key",
        "export LEDGER_SIGNING_KEY=~/.ledger-signing.key",
    ),
)
@click.argument("file")
@_global_options
def key_new(file: str) -> None:
    """Write a new Ed25519 private key to FILE (never overwritten; readable by you only),
    and print its public key for a keyring."""
    from ledger.adapters.signing import new_key

    signer = new_key(file)
    click.echo(f"{signer.public_hex}  key {signer.id}")
    click.echo(
        f"Sign appends with: export LEDGER_SIGNING_KEY={file}\n"
        "Verify with the line above in a keyring file: export LEDGER_VERIFY_KEYS=FILE",
        err=True,
    )


@cli.command(
    short_help="A local, read-only web view of the store.",
    epilog=_examples(
        "ledger serve                     # http://127.0.0.1:8000/",
        "ledger serve --port 8080",
    ),
)
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="The port."
)
@_global_options
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """A local, read-only web view of the store (pages, and /api/… as with --json)."""
    import os

    from ledger.entrypoints.web import LOOPBACK, missing_requirement

    missing = missing_requirement()
    if missing is not None:
        raise LedgerError(
            f"`ledger serve` needs {missing}, which is not installed: "
            "pip install 'contract-ledger[web]'"
        )
    import uvicorn

    from ledger.entrypoints.web import create_app

    # A PostgreSQL store is read through read-only sessions (this process only serves).
    os.environ["PGOPTIONS"] = (
        os.environ.get("PGOPTIONS", "") + " -c default_transaction_read_only=on"
    ).strip()
    local = host.lower().strip("[]") in LOOPBACK
    app = create_app(ctx.obj["store"], hosts=LOOPBACK if local else None)
    if not local:
        click.echo(
            f"ledger serve: listening on {host}: anyone who can reach it can read the ledger",
            err=True,
        )
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Serving the ledger read-only at http://{shown}:{port}/ (Ctrl-C stops)")
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)


# -- output --------------------------------------------------------------------------------


@cli.command(
    short_help="Write the log to a self-describing file (a backup, or a move).",
    epilog=_examples(
        "ledger export -o backup.ndjson",
        "ledger export --agreement openai-microsoft > one.ndjson",
        'ledger --store "postgresql://postgres@127.0.0.1:5432/test" import backup.ndjson',
    ),
)
@click.option(
    "-o", "--output", help="The file to write (default: standard output); replaced only once whole."
)
@_agreement
@_global_options
@click.pass_context
def export(ctx: click.Context, output: str | None, agreement: str | None) -> None:
    """Write the log (every agreement, or one) as a self-describing NDJSON file: ids,
    recording times and hash chain as stored, each agreement's head, verified on the way."""
    ledger = _ledger(ctx)
    started = clock.monotonic()
    with _progress() as progress:
        if output is None or output == "-":
            moved = ledger.export(sys.stdout.buffer, agreement=agreement, progress=progress)
            sys.stdout.buffer.flush()
        else:
            from ledger.adapters.moving import write_whole

            moved = write_whole(
                output, lambda out: ledger.export(out, agreement=agreement, progress=progress)
            )
    where = "to standard output" if output in (None, "-") else f"to {output}"
    click.echo(_moved("Exported", moved, where) + _took(started), err=output in (None, "-"))


@cli.command(
    "import",
    short_help="Load a file `ledger export` wrote, verified whole first.",
    epilog=_examples(
        "ledger --store copy.sqlite import backup.ndjson",
        "ledger export | ledger --store copy.sqlite import -",
    ),
)
@click.argument("file")
@_global_options
@click.pass_context
def import_(ctx: click.Context, file: str) -> None:
    """Load a file `ledger export` wrote (- for standard input) into a store that holds
    none of its agreements; verified whole first, then written, or nothing is."""
    from ledger.adapters.moving import opened_binary
    from ledger.application import write_to

    started = clock.monotonic()
    with opened_binary(file) as source, _progress() as progress:
        moved = write_to(
            ctx.obj["store"], lambda ledger: ledger.import_log(source, file, progress=progress)
        )
    click.echo(_moved("Imported", moved, f"from {file}") + _took(started))


NAMED = 5  # agreements a summary names; a portfolio's thousands are counted, not listed


def _moved(done: str, moved: Moved, where: str) -> str:
    shown = list(moved.agreements[:NAMED])
    if len(moved.agreements) > NAMED:
        shown.append(f"… and {len(moved.agreements) - NAMED:,} more")
    names = f" ({', '.join(shown)})" if shown else ""
    agreements = plural(len(moved.agreements), "agreement")
    return f"{done} {plural(moved.events, 'event')} of {agreements}{names} {where}"


def _print_answer(
    as_json: bool,
    as_csv: bool,
    json_of: Callable[[ModuleType], object],
    rows_of: Callable[[ModuleType], Any],
    show: Callable[[ModuleType, Any], None],
) -> None:
    """Print an answer as JSON, CSV or a table: each callable is given its presentation
    module (shapes, sheets or tables), imported only when its format is asked for."""
    if as_json:
        from ledger.presentation import shapes

        _print_json(json_of(shapes))
    elif as_csv:
        from ledger.presentation import sheets

        _print_csv(rows_of(sheets))
    else:
        from ledger.presentation import tables

        show(tables, tables.console())


def _print_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _print_csv(sheet: Any) -> None:
    from ledger.presentation.sheets import write_csv

    write_csv(sheet, sys.stdout)


def _silence_stdout() -> None:
    """Point standard output at nothing, so that what is still buffered for a reader that
    has gone is never flushed into a broken pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (an in-process test runner)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    # A warning (a question answered from the events, say) is one line, like an error.
    warnings.formatwarning = lambda message, *_args, **_kw: f"ledger: warning: {message}\n"
    try:
        result = cli.main(args=args, prog_name="ledger", standalone_mode=False)
        sys.stdout.flush()
    except click.exceptions.Exit as done:
        return done.exit_code
    except BrokenPipeError:  # the reader went away: nothing more to say, and no one to say it to
        _silence_stdout()
        return 0
    except click.exceptions.Abort:
        click.echo("ledger: aborted", err=True)
        return 1
    except _NO_ARGS as asked:  # the help, as asked for by giving no command
        click.echo(str(getattr(asked, "message", asked)))
        return 0
    except click.ClickException as error:
        context = getattr(error, "ctx", None)  # usage errors know their command
        hint = f"{context.command_path}: " if context is not None else "ledger: "
        click.echo(f"{hint}{error.format_message()}", err=True)
        return 2
    except LedgerError as error:
        if debug:
            traceback.print_exc()
        click.echo(f"ledger: {error}", err=True)
        return error.exit_code
    except Exception as error:  # the last line of defence: one line, never a traceback
        if debug:
            traceback.print_exc()
        click.echo(f"ledger: unexpected error: {type(error).__name__}: {error}", err=True)
        return 1
    return result if isinstance(result, int) else 0


def run() -> None:
    """The console script's entry point."""
    sys.exit(main())
