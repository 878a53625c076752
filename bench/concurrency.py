"""Benchmark of concurrent writers to one agreement (issue 11 §4), on SQLite and PostgreSQL.

    python bench/concurrency.py                          # 8 writers × 200 appends, both stores
    python bench/concurrency.py --quick                  # 4 writers × 25 appends
    python bench/concurrency.py --writers 4 --appends 50 --no-postgres
    python bench/concurrency.py --postgres postgresql://user@host:5432/db --profile

Each store starts with the bundled example (``Ledger.load_example("openai-microsoft")``),
and every append is one investment (Microsoft → OpenAI, an amount no other append uses)
into that agreement, through ``Ledger.append`` as users call it. The steps are "mixed":
even steps are dated at the example's last day (*end* appends), odd steps are backdated to
a random day strictly between its opening and its last day (*backdated* appends, which
fold every later event again).

Per backend (a SQLite file in a temporary directory; a PostgreSQL schema of its own,
``bench_conc_<random>``, dropped at the end):

1. **one writer** — one process appending ``writers × appends`` steps of the same
   pattern into a fresh store: the baseline throughput. It does the same total work, so
   the log grows to the same length (a backdated append costs more on a longer log).
2. **W writers** — ``writers`` processes (``spawn``), each with its own ``Ledger``,
   connected before a barrier releases them together, each appending ``appends`` steps
   into another fresh store.

Each append is reported as landed, refused (``InputError``: none is expected), given up
(``ConcurrencyError``) or failed (any other error). Throughput is landed appends over the
span from the first writer's start to the last writer's end. Each writer also times
``Ledger._turn`` (the per-agreement writer turn ``Ledger.append`` takes) by wrapping it in
this script only: the wait for the turn and the time it is held (head, checks, write).
Finally ``Ledger.verify()`` checks the concurrent run's store, and its event count is
compared with the example's plus the landed appends.

The targets (issue 11 §4): 0 give-ups; p99 latency of end appends ≤ 1 s; aggregate
throughput ≥ 80% of one writer's. ``--profile`` adds a cProfile of writer 0 under
contention (top lines by cumulative time). Absolute times are this machine's; the table
prints its CPU count and load average.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import multiprocessing
import os
import pstats
import random
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from common import postgres_schema, sqlite_store

EXAMPLE = "openai-microsoft"
INVESTOR, RECIPIENT = "microsoft", "openai"
SOURCE = {"citation": "Concurrency benchmark", "confidence": "confirmed"}
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES_URL_ENV = "LEDGER_TEST_POSTGRES_URL"
END_P99_TARGET = 1.0  # seconds
THROUGHPUT_TARGET = 0.80  # of one writer's
WAIT_SECONDS = 3600  # for any one writer's report


# -- the appends ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What every writer appends: the example's opening and last day, and a seed."""

    opened: date
    end: date
    seed: int

    def steps(self, writer: int, count: int) -> list[tuple[str, date, int]]:
        """``count`` mixed steps of ``writer``: (kind, effective day, distinct amount)."""
        rng = random.Random(self.seed * 1000 + writer)  # noqa: S311 - dates, not security
        span = (self.end - self.opened).days
        out = []
        for step in range(count):
            amount = (writer + 1) * 1_000_000 + step
            if step % 2 == 0:
                out.append(("end", self.end, amount))
            else:
                out.append(("back", self.opened + timedelta(days=rng.randrange(1, span)), amount))
        return out


def investment(on: date, amount: int) -> Any:
    """The typed fact of one investment on ``on``."""
    from ledger import structure_fact

    return structure_fact(
        {
            "type": "investment",
            "effective_on": on.isoformat(),
            "investor": INVESTOR,
            "recipient": RECIPIENT,
            "amount": {"amount": str(amount), "currency": "USD"},
            "instrument": "equity",
            "source": SOURCE,
        }
    )


# -- in each writer process ------------------------------------------------------------------


@dataclass
class Turns:
    """Time spent waiting for and holding ``Ledger._turn``, summed over one append."""

    wait: float = 0.0
    held: float = 0.0


def timed_turns(ledger_class: Any, into: list[Turns]) -> None:
    """Wrap ``ledger_class._turn`` (in this process only) to add its wait and hold times
    to ``into[-1]``."""
    original = ledger_class._turn

    @contextlib.contextmanager
    def turn(self: Any, aggregate_id: Any) -> Iterator[None]:
        asked = time.perf_counter()
        with original(self, aggregate_id):
            got = time.perf_counter()
            try:
                yield
            finally:
                if into:
                    into[-1].wait += got - asked
                    into[-1].held += time.perf_counter() - got

    ledger_class._turn = turn


def writer(
    store: str,
    index: int,
    count: int,
    plan: Plan,
    agreement: str,
    profile: bool,
    barrier: Any,
    results: Any,
) -> None:
    """One writer process: ``count`` appends after the barrier; reports each one as
    (kind, outcome, seconds, turn wait, turn held, message), with its start and end."""
    from ledger import ConcurrencyError, InputError, Ledger

    turns: list[Turns] = []
    timed_turns(Ledger, turns)
    records: list[tuple[str, str, float, float, float, str]] = []
    started = ended = 0.0
    profiled = ""
    try:
        with Ledger(store) as ledger:
            ledger.agreements()  # connected, read model warm, before the race starts
            facts = [
                (kind, investment(on, amount)) for kind, on, amount in plan.steps(index, count)
            ]
            profiler = cProfile.Profile() if profile else None
            barrier.wait(timeout=600)
            started = time.monotonic()
            if profiler is not None:
                profiler.enable()
            for kind, fact in facts:
                turns.append(Turns())
                began = time.perf_counter()
                outcome, message = "landed", ""
                try:
                    ledger.append([fact], agreement=agreement)
                except InputError as error:
                    outcome, message = "refused", str(error)
                except ConcurrencyError as error:
                    outcome, message = "gave_up", str(error)
                except Exception as error:  # every other error is reported
                    outcome, message = "failed", f"{type(error).__name__}: {error}"
                took = time.perf_counter() - began
                records.append((kind, outcome, took, turns[-1].wait, turns[-1].held, message))
            if profiler is not None:
                profiler.disable()
                text = io.StringIO()
                pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
                profiled = text.getvalue()
            ended = time.monotonic()
    except Exception:  # a writer that cannot start is reported, not lost
        records.append(("setup", "failed", 0.0, 0.0, 0.0, traceback.format_exc()[-800:]))
    results.put((index, started, ended, records, profiled))


# -- in the parent --------------------------------------------------------------------------


@dataclass
class Run:
    """What one run of W writers × N appends gave."""

    writers: int
    appends: int
    records: list[tuple[str, str, float, float, float, str]] = field(default_factory=list)
    seconds: float = float("nan")
    verified: str = ""
    profile: str = ""

    def count(self, outcome: str) -> int:
        """How many appends ended with ``outcome``."""
        return sum(1 for r in self.records if r[1] == outcome)

    @property
    def throughput(self) -> float:
        """Landed appends per second, over the whole span."""
        return self.count("landed") / self.seconds if self.seconds > 0 else float("nan")

    def values(self, kind: str, column: int) -> list[float]:
        """Column ``column`` of the landed appends of ``kind`` (``all``: every kind)."""
        return [r[column] for r in self.records if r[1] == "landed" and kind in ("all", r[0])]

    def first_failure(self) -> str:
        """The first failure's message, shortened."""
        for r in self.records:
            if r[1] == "failed":
                return " ".join(r[5].split())[:160]
        return ""


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (NaN when there is nothing)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_writers(
    store: str, writers: int, appends: int, plan: Plan, agreement: str, profile: bool
) -> Run:
    """Start ``writers`` spawned processes behind a barrier; gather their reports."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(writers)
    results = context.Queue()
    processes = [
        context.Process(
            target=writer,
            args=(store, w, appends, plan, agreement, profile and w == 0, barrier, results),
        )
        for w in range(writers)
    ]
    for process in processes:
        process.start()
    reports = [results.get(timeout=WAIT_SECONDS) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    run = Run(writers, appends)
    starts = [r[1] for r in reports if r[1]]
    ends = [r[2] for r in reports if r[2]]
    if starts and ends:
        run.seconds = max(ends) - min(starts)
    for _, _, _, records, profiled in sorted(reports, key=lambda r: r[0]):
        run.records.extend(records)
        run.profile = run.profile or profiled
    return run


def verify(store: str, expected: int) -> str:
    """``Ledger.verify()`` on the store: events checked, and OK or the error."""
    from ledger import Ledger

    try:
        with Ledger(store) as ledger:
            checked = ledger.verify()
    except Exception as error:  # reported in the table
        return f"{type(error).__name__}: {' '.join(str(error).split())[:120]}"
    if checked != expected:
        return f"{checked} events checked, expected {expected}: MISSING OR EXTRA EVENTS"
    return f"{checked} events, OK"


def load_example(store: str) -> tuple[str, Plan, int]:
    """Load the bundled example into a new store: its agreement, a plan from its opening
    to its last day, and its number of events."""
    from ledger import Ledger

    with Ledger(store) as ledger:
        appended = ledger.load_example(EXAMPLE)
        agreement = ledger.resolve(None)
    days = [a.fact.effective_on for a in appended if getattr(a.fact, "effective_on", None)]
    return agreement, Plan(min(days), max(days), seed=1), len(appended)


# -- stores ---------------------------------------------------------------------------------


class Backend:
    """Where the stores of one backend are made, and how they are cleaned up."""

    def __init__(self, name: str, server: str | None = None) -> None:
        self.name = name
        self.server = server
        self.stores = contextlib.ExitStack()

    def new_store(self) -> str:
        """A store that does not exist yet."""
        if self.server is None:
            return self.stores.enter_context(sqlite_store("ledger-bench-conc"))
        return self.stores.enter_context(postgres_schema(self.server, "bench_conc"))

    def close(self) -> None:
        """Remove every store made."""
        self.stores.close()


def measure(backend: Backend, writers: int, appends: int, profile: bool) -> dict[str, Any]:
    """One writer's baseline, then W writers, each on a fresh store with the example."""
    out: dict[str, Any] = {"load_start": os.getloadavg()}
    store = backend.new_store()
    agreement, plan, _ = load_example(store)
    out["one"] = run_writers(store, 1, writers * appends, plan, agreement, profile=False)
    print(f"  {backend.name}: one writer done ({out['one'].throughput:.1f}/s)", file=sys.stderr)
    store = backend.new_store()
    agreement, plan, example_events = load_example(store)
    out["plan"] = plan
    out["many"] = run_writers(store, writers, appends, plan, agreement, profile)
    out["verified"] = verify(store, example_events + out["many"].count("landed"))
    out["load_end"] = os.getloadavg()
    print(f"  {backend.name}: {writers} writers done", file=sys.stderr)
    return out


# -- the table ------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    """Seconds as whole milliseconds."""
    return "—" if seconds != seconds else f"{1000 * seconds:,.0f}"


def triple(values: list[float]) -> str:
    """p50 / p99 / max, in ms."""
    if not values:
        return "—"
    return " / ".join(
        ms(x) for x in (percentile(values, 0.5), percentile(values, 0.99), max(values))
    )


def rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The table's cells for one backend, as (row label, value)."""
    one: Run = result["one"]
    many: Run = result["many"]
    expected = many.writers * many.appends
    ratio = many.throughput / one.throughput if one.throughput > 0 else float("nan")
    first = one.records[: many.appends]
    first_rate = len(first) / sum(r[2] for r in first) if first else float("nan")
    end_p99 = percentile(many.values("end", 2), 0.99)
    failed = many.count("failed")
    failure = f" ({many.first_failure()})" if failed else ""
    load = "{:.1f} → {:.1f}".format(result["load_start"][0], result["load_end"][0])

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    return [
        ("writers × appends", f"{many.writers} × {many.appends}"),
        ("load average (1 min), start → end", load),
        ("one writer: appends, throughput /s", f"{one.count('landed')}, {one.throughput:.1f}"),
        (f"one writer: first {many.appends} appends /s", f"{first_rate:.1f}"),
        ("one writer: end p50 / p99 / max ms", triple(one.values("end", 2))),
        ("one writer: backdated p50 / p99 / max ms", triple(one.values("back", 2))),
        ("landed / expected", f"{many.count('landed')} / {expected}"),
        ("refused (InputError)", str(many.count("refused"))),
        ("gave up (ConcurrencyError)", str(many.count("gave_up"))),
        ("failed (other errors)", f"{failed}{failure}"),
        ("elapsed s", f"{many.seconds:.1f}"),
        ("throughput /s (÷ one writer's)", f"{many.throughput:.1f} ({ratio:.0%})"),
        ("end p50 / p99 / max ms", triple(many.values("end", 2))),
        ("backdated p50 / p99 / max ms", triple(many.values("back", 2))),
        ("turn wait p50 / p99 / max ms", triple(many.values("all", 3))),
        ("turn held, end: p50 / p99 / max ms", triple(many.values("end", 4))),
        ("turn held, backdated: p50 / p99 / max ms", triple(many.values("back", 4))),
        ("one writer: turn held p50 / p99 / max ms", triple(one.values("all", 4))),
        ("verify", result["verified"]),
        ("target: 0 give-ups", met(many.count("gave_up") == 0)),
        ("target: end p99 ≤ 1 s", met(end_p99 <= END_P99_TARGET)),
        ("target: throughput ≥ 80% of one writer's", met(ratio >= THROUGHPUT_TARGET)),
    ]


def table(results: dict[str, dict[str, Any]]) -> str:
    """One column per backend."""
    columns = {name: dict(rows(result)) for name, result in results.items()}
    labels = [label for label, _ in rows(next(iter(results.values())))]
    header = ["", *columns]
    body = [[label, *(columns[name][label] for name in columns)] for label in labels]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * width for width in widths))
    lines += [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in body
    ]
    return "\n".join(line.rstrip() for line in lines)


def display(url: str) -> str:
    """A URL without its password."""
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, f"{user}{parts.hostname}{port}", parts.path, "", ""))


def code_version() -> str:
    """The checkout's commit, and whether ``ledger/`` differs from it (others may edit it
    while this runs: every writer process imports the code as it is when it starts)."""
    git = shutil.which("git")
    if git is None:
        return "unknown"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        commit = subprocess.run(  # noqa: S603 - git, with fixed arguments
            [git, "-C", root, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(  # noqa: S603
            [git, "-C", root, "status", "--porcelain", "--", "ledger"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}{' + uncommitted changes in ledger/' if dirty else ''}"


def main() -> None:
    """Parse the options, measure each backend, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, help="concurrent writers (8; --quick: 4)")
    parser.add_argument("--appends", type=int, help="appends per writer (200; --quick: 25)")
    parser.add_argument("--quick", action="store_true", help="4 writers × 25 appends")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES,
        help=f"server and database (${POSTGRES_URL_ENV}, else {DEFAULT_POSTGRES})",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--profile", action="store_true", help="cProfile writer 0 under contention")
    args = parser.parse_args()
    writers = args.writers or (4 if args.quick else 8)
    appends = args.appends or (25 if args.quick else 200)

    backends = []
    if not args.no_sqlite:
        backends.append(("SQLite", None))
    if not args.no_postgres:
        backends.append(("PostgreSQL", args.postgres))
    cpus = os.cpu_count()
    started = os.getloadavg()
    code = code_version()
    print(
        f"{writers} writers × {appends} mixed appends (even steps at the end, odd steps "
        f"backdated); {cpus} CPUs; load average at start "
        + " / ".join(f"{x:.2f}" for x in started),
        file=sys.stderr,
    )
    results: dict[str, dict[str, Any]] = {}
    for name, server in backends:
        backend = Backend(name, server)
        try:
            results[name] = measure(backend, writers, appends, args.profile)
        finally:
            backend.close()
    ended = os.getloadavg()

    plan: Plan = next(iter(results.values()))["plan"]
    print(
        f"Concurrent appends to one agreement ({EXAMPLE}): {writers} writers × {appends} "
        f"mixed appends (end: {plan.end}; backdated: {plan.opened} < day < {plan.end})"
    )
    print(table(results))
    print()
    print(f"Code: {code} at start, {code_version()} at end")
    print(
        f"CPUs: {cpus}; load average (1/5/15 min) at start: "
        + " / ".join(f"{x:.2f}" for x in started)
        + "; at end: "
        + " / ".join(f"{x:.2f}" for x in ended)
    )
    if not args.no_postgres:
        print(f"PostgreSQL: {display(args.postgres)} (a fresh schema per store, dropped)")
    print(
        "Absolute times are this machine's, under its load at the time. One writer does "
        "the same total appends (writers × appends) on a fresh store; throughput is landed "
        "appends ÷ (last writer's end − first writer's start). Turn: Ledger._turn, the "
        "per-agreement writer turn, timed by this script (wait = until granted; held = "
        "head, checks and write)."
    )
    for name, result in results.items():
        if result["many"].profile:
            print(f"\n--- cProfile of writer 0 under contention, {name} ---")
            print(result["many"].profile)


if __name__ == "__main__":
    main()
