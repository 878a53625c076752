"""The ``ledger`` command: the use cases of ``ledger.Ledger`` on the command line.

Exit codes: 0 success; 2 bad input or a refused rule (nothing written); 1 anything
else. Errors are one line on standard error; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

import click

from ledger.errors import LedgerError, shown

if TYPE_CHECKING:
    from ledger.application import Appended, Ledger, Moved
    from ledger.domain.difference import Difference
    from ledger.domain.whatif import WhatIf

_END_OF_DAY = time(23, 59, 59, 999999, tzinfo=UTC)


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
    """An ISO timestamp (no zone: UTC) or a date (the end of that day, UTC)."""

    name = "TIME"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_moment(value)
        except OverflowError:
            self.fail(
                f"expected a time from 0001-01-01 to 9999-12-31 in UTC, got {shown(value)}",
                param,
                ctx,
            )
        except ValueError:
            self.fail(f"expected an ISO timestamp or a date, got {shown(value)}", param, ctx)


def parse_moment(text: str) -> datetime:
    """``--known-at``: a timestamp (UTC when it has no zone), or a date's last instant.

    Raises ``ValueError`` for text that is neither, ``OverflowError`` for a time whose
    zone puts it outside the years 1 to 9999 in UTC (``9999-12-31T23:59:59-01:00``).
    """
    if not any(mark in text for mark in "T :"):  # a date, in any ISO spelling
        return datetime.combine(date.fromisoformat(text), _END_OF_DAY)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _raise() -> date:
    raise ValueError


DATE = _Date()
MOMENT = _Moment()
_agreement = click.option(
    "--agreement", help="The agreement's id (needed when the store holds several)."
)
_known_at = click.option(
    "--known-at", type=MOMENT, help="Replay what was known then (ISO timestamp or date)."
)
_json = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store", help="SQLite file or postgresql:// URL (default: $LEDGER_STORE or ./ledger.sqlite)."
)
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


@cli.command()
@click.option("--example", help="Load a bundled history: openai-microsoft.")
@click.pass_context
def init(ctx: click.Context, example: str | None) -> None:
    """Create the store, and load a bundled history into it."""
    from ledger.adapters.store import StoreLocation
    from ledger.application import write_to

    def load(ledger: Ledger) -> list[Appended]:
        ledger.agreements()  # creates the tables, or proves the server is there
        return ledger.load_example(example) if example else []

    appended = write_to(ctx.obj["store"], load)
    click.echo(f"Store ready: {StoreLocation.resolve(ctx.obj['store']).display()}")
    if appended:
        click.echo(
            f"Loaded {example}: {len(appended)} events ({appended[0].id} … {appended[-1].id})"
        )


@cli.command()
@click.option("--as-of", "as_of", type=DATE, required=True, help="The date to replay to.")
@_known_at
@_json
@_agreement
@click.pass_context
def replay(
    ctx: click.Context, as_of: date, known_at: datetime | None, as_json: bool, agreement: str | None
) -> None:
    """The effective agreement and ownership on a date."""
    state = _ledger(ctx).state_at(as_of, known_at=known_at, agreement=agreement)
    if as_json:
        from ledger.presentation.shapes import state_json

        _print_json(state_json(state))
    else:
        from ledger.presentation.tables import console, show_state

        show_state(state, console())


@cli.command()
@click.argument("file")
@_agreement
@click.pass_context
def append(ctx: click.Context, file: str, agreement: str | None) -> None:
    """Append the events of a YAML or JSON file (- for standard input), atomically."""
    from ledger.application import write_to

    appended = write_to(
        ctx.obj["store"], lambda ledger: ledger.append_file(file, agreement=agreement)
    )
    count = f"{len(appended)} event" + ("s" if len(appended) != 1 else "")
    click.echo(f"Appended {count} ({appended[0].id} … {appended[-1].id})")


@cli.command()
@click.option("--from", "start", type=DATE, help="First effective date.")
@click.option("--to", "end", type=DATE, help="Last effective date.")
@click.option("--kind", "kinds", multiple=True, help="Only events of this type (repeatable).")
@_known_at
@_json
@_agreement
@click.pass_context
def history(
    ctx: click.Context,
    start: date | None,
    end: date | None,
    kinds: Sequence[str],
    known_at: datetime | None,
    as_json: bool,
    agreement: str | None,
) -> None:
    """The recorded events with their sources, oldest effective date first."""
    from ledger.domain.events import BY_TYPE

    unknown = [k for k in kinds if k not in BY_TYPE]
    if unknown:
        raise click.BadParameter(
            f"expected one of {', '.join(BY_TYPE)}, got {unknown[0]!r}", param_hint="--kind"
        )
    entries = _ledger(ctx).history(
        agreement=agreement, known_at=known_at, start=start, end=end, kinds=kinds
    )
    if as_json:
        from ledger.presentation.shapes import history_json

        _print_json(history_json(entries))
    else:
        from ledger.presentation.tables import console, show_history

        show_history(entries, console())


@cli.command()
@click.argument("first", type=DATE)
@click.argument("second", type=DATE)
@_known_at
@_json
@_agreement
@click.pass_context
def diff(
    ctx: click.Context,
    first: date,
    second: date,
    known_at: datetime | None,
    as_json: bool,
    agreement: str | None,
) -> None:
    """What changed in the agreement between two dates."""
    difference = _ledger(ctx).diff(first, second, known_at=known_at, agreement=agreement)
    if as_json:
        from ledger.presentation.shapes import diff_json

        _print_json(diff_json(first, second, difference))
    else:
        from ledger.presentation.tables import console, show_difference

        show_difference(f"From {first} to {second}", difference, console())


@cli.command()
@click.option("--as-of", "as_of", type=DATE, required=True, help="The date to compare on.")
@click.argument("file", required=False)
@click.option("--proposal", help="Try accepting this recorded proposal on the --as-of date.")
@click.option("--compare", nargs=2, metavar="P1 P2", help="Two recorded proposals side by side.")
@_known_at
@_json
@_agreement
@click.pass_context
def whatif(
    ctx: click.Context,
    as_of: date,
    file: str | None,
    proposal: str | None,
    compare: tuple[str, str] | None,
    known_at: datetime | None,
    as_json: bool,
    agreement: str | None,
) -> None:
    """The agreement on a date if a file's events (or a proposal) were applied; writes nothing."""
    chosen = [bool(file), bool(proposal), bool(compare)]
    if sum(chosen) != 1:
        raise click.UsageError("expected exactly one of FILE, --proposal ID or --compare P1 P2")
    ledger = _ledger(ctx)
    if compare:
        first, second, between = ledger.compare_proposals(
            as_of, compare, known_at=known_at, agreement=agreement
        )
        _show_comparison(compare, first, second, between, as_json)
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
    else:
        from ledger.presentation.tables import console, show_difference, show_side_by_side

        out = console()
        show_side_by_side(hypothesis.baseline, hypothesis.hypothetical, out)
        ids = ", ".join(ident for ident, _ in hypothesis.events)
        show_difference(
            f"On {as_of}, the hypothesis ({ids}) would change the actual agreement:",
            hypothesis.difference,
            out,
        )


def _show_comparison(
    names: tuple[str, str], first: WhatIf, second: WhatIf, between: Difference, as_json: bool
) -> None:
    if as_json:
        from ledger.presentation.shapes import comparison_json

        _print_json(comparison_json(names, first, second, between))
        return
    from ledger.presentation.tables import console, show_difference

    out = console()
    show_difference(f"Accepting {names[0]} would change:", first.difference, out)
    show_difference(f"Accepting {names[1]} would change:", second.difference, out)
    show_difference(f"{names[1]} compared with {names[0]}:", between, out)


@cli.command()
@_agreement
@click.option(
    "--reindex",
    is_flag=True,
    help="Rebuild the timeline index and checkpoints from the verified events first.",
)
@click.pass_context
def verify(ctx: click.Context, agreement: str | None, reindex: bool) -> None:
    """Check every stored event against its agreement's hash chain, and the timeline
    index and checkpoints against the events."""
    checked = _ledger(ctx).verify(agreement, reindex=reindex)
    rebuilt = " (index and checkpoints rebuilt)" if reindex else ""
    click.echo(f"Verified {checked} events: every chain is intact, and so is the index{rebuilt}.")


@cli.command()
@click.option(
    "-o", "--output", help="The file to write (default: standard output); replaced only once whole."
)
@_agreement
@click.pass_context
def export(ctx: click.Context, output: str | None, agreement: str | None) -> None:
    """Write the log (every agreement, or one) as a self-describing NDJSON file: ids,
    recording times and hash chain as stored, each agreement's head, verified on the way."""
    ledger = _ledger(ctx)
    if output is None or output == "-":
        moved = ledger.export(sys.stdout.buffer, agreement=agreement)
        sys.stdout.buffer.flush()
        click.echo(_moved("Exported", moved, "to standard output"), err=True)
        return
    from ledger.adapters.moving import write_whole

    moved = write_whole(output, lambda out: ledger.export(out, agreement=agreement))
    click.echo(_moved("Exported", moved, f"to {output}"))


@cli.command("import")
@click.argument("file")
@click.pass_context
def import_(ctx: click.Context, file: str) -> None:
    """Load a file `ledger export` wrote (- for standard input) into a store that holds
    none of its agreements; verified whole first, then written, or nothing is."""
    from ledger.adapters.moving import opened_binary
    from ledger.application import write_to

    with opened_binary(file) as source:
        moved = write_to(ctx.obj["store"], lambda ledger: ledger.import_log(source, file))
    click.echo(_moved("Imported", moved, f"from {file}"))


def _moved(done: str, moved: Moved, where: str) -> str:
    count = f"{moved.events} event" + ("s" if moved.events != 1 else "")
    of = f"{len(moved.agreements)} agreement" + ("s" if len(moved.agreements) != 1 else "")
    names = f" ({', '.join(moved.agreements)})" if moved.agreements else ""
    return f"{done} {count} of {of}{names} {where}"


def _print_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        result = cli.main(args=args, prog_name="ledger", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.exceptions.Abort:
        click.echo("ledger: aborted", err=True)
        return 1
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
