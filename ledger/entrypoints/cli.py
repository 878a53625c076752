"""The ``ledger`` command: the use cases of ``ledger.Ledger`` on the command line.

Exit codes: 0 success; 2 bad input or a refused rule (nothing written); 1 anything
else. Errors are one line on standard error; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import json
import sys
import traceback
import warnings
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import click

from ledger.entrypoints.moments import parse_known_at
from ledger.errors import LedgerError

if TYPE_CHECKING:
    from ledger.application import Appended, Ledger
    from ledger.domain.difference import Difference
    from ledger.domain.whatif import WhatIf


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
        except ValueError:
            self.fail(
                f"expected an ISO timestamp, a date or an event id, got {value!r}", param, ctx
            )


def _raise() -> date:
    raise ValueError


DATE = _Date()
MOMENT = _Moment()
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
@click.option(
    "--with-record",
    is_flag=True,
    help="Then record the example's public record after it, as a later recording.",
)
@click.pass_context
def init(ctx: click.Context, example: str | None, with_record: bool) -> None:
    """Create the store, and load a bundled history into it."""
    from ledger.adapters.store import StoreLocation
    from ledger.application import write_to

    if with_record and not example:
        raise click.UsageError("--with-record needs --example")

    def load(ledger: Ledger) -> list[Appended]:
        ledger.agreements()  # creates the tables, or proves the server is there
        return ledger.load_example(example, with_record=with_record) if example else []

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
    ctx: click.Context,
    as_of: date,
    known_at: datetime | str | None,
    as_json: bool,
    agreement: str | None,
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
    known_at: datetime | str | None,
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
@_agreement
@click.pass_context
def diff(
    ctx: click.Context,
    first: date | None,
    second: date | None,
    as_of: date | None,
    known_at: datetime | str | None,
    against_known_at: datetime | str | None,
    as_json: bool,
    agreement: str | None,
) -> None:
    """What changed in the agreement between two dates (``diff D1 D2``), or in what was
    known about one date between two times (``diff --as-of D --known-at T1
    --against-known-at T2``: the public record against the article, a correction's
    effect)."""
    from ledger.presentation.tables import console, show_difference

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
        else:
            later = against_known_at or "now"
            show_difference(
                f"On {as_of}, as known at {known_at} and at {later}", revised, console()
            )
        return
    if first is None or second is None:
        raise click.UsageError("expected two dates, D1 D2 (or --as-of with --against-known-at)")
    difference = _ledger(ctx).diff(first, second, known_at=known_at, agreement=agreement)
    if as_json:
        from ledger.presentation.shapes import diff_json

        _print_json(diff_json(first, second, difference))
    else:
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
    known_at: datetime | str | None,
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
    "--expect",
    type=click.Path(dir_okay=False),
    help="A file of heads saved by `ledger head --json`: the log must still extend each.",
)
@click.option(
    "--reindex",
    is_flag=True,
    help="Rebuild the timeline index and checkpoints from the verified events first.",
)
@click.pass_context
def verify(ctx: click.Context, agreement: str | None, reindex: bool, expect: str | None) -> None:
    """Check everything stored: every event against its agreement's hash chain (and no
    event outside one), signed heads (with $LEDGER_VERIFY_KEYS or a signing key), the
    heads saved in --expect, and then the read model (index, appends, checkpoints)."""
    from ledger.adapters.headfile import read_heads

    ledger = _ledger(ctx)
    heads = read_heads(expect) if expect else []
    checked = ledger.verify(agreement, reindex=reindex, expect=heads)
    events = f"{checked} event" + ("s" if checked != 1 else "")
    signed = (
        "signed heads check out"
        if ledger.signs
        else "unsigned (configure a signing key to detect rewrites)"
    )
    saved = f", the log extends the {len(heads)} saved heads" if heads else ""
    rebuilt = "rebuilt and checked" if reindex else "matches them"
    click.echo(
        f"Verified {events}: every chain is intact, {signed}{saved}; "
        f"and so is the index (the read model {rebuilt})."
    )


@cli.command()
@_agreement
@_json
@click.pass_context
def head(ctx: click.Context, agreement: str | None, as_json: bool) -> None:
    """Each agreement's head: its last event's version, digest and recording time (and
    signature). Keep or publish it: `ledger verify --expect FILE` proves later that the
    log still extends it."""
    heads = _ledger(ctx).heads(agreement)
    if as_json:
        from ledger.presentation.shapes import heads_json

        _print_json(heads_json(heads))
        return
    for each in heads:
        signed = f" signed by key {each.signature.key_id}" if each.signature else " unsigned"
        click.echo(
            f"{each.head.agreement}#{each.head.version} {each.head.digest} "
            f"{each.head.recorded_at}{signed}"
        )


@cli.group()
def key() -> None:
    """Signing keys for the heads of appends."""


@key.command("new")
@click.argument("file")
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


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="The port."
)
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


def _print_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    # A warning (a question answered from the events, say) is one line, like an error.
    warnings.formatwarning = lambda message, *_args, **_kw: f"ledger: warning: {message}\n"
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
