"""Benchmark of the portfolio questions (the bitemporal tables), on SQLite and PostgreSQL.

    python bench/portfolio.py                          # 1k and 10k agreements × 100 events
    python bench/portfolio.py --quick                  # 200 and 1k agreements × 50 events
    python bench/portfolio.py --agreements 2000,5000 --no-postgres
    python bench/portfolio.py --postgres postgresql://user@host:5432/db --profile

A generated portfolio: agreement ``k`` is ``synthetic(events, seed=k, mix="realistic")``
with its id renamed ``deal-0000k``, so every run and every backend get the same data
(about 5% of each history is backdated). Each backend's store grows in stages (by default
to 1k agreements, then to 10k), and everything is measured at the end of each stage:

- **bulk load**: every ``Ledger.append`` call (generating and ``structure_fact`` are not
  timed). Each agreement goes in as two appends: its first 80% of events, then — after
  every agreement of the stage has had its first — the remaining 20%, so the second
  appends are recorded later and some of them are backdated against the first (they
  close versions on the transaction axis, as real late news does).
- **questions**: ``find`` (a kind; a kind and a term condition), ``expiring --within 90``
  and ``holdings PARTY``, each "now" and "as known at" an earlier moment of the load, and
  one ``sql`` query; each repeated with varied dates (and moments), p50 and p95. The kind,
  the term condition and the party are chosen from the data (the most common kind, a
  condition on its first numeric term that selects about a fifth, the party holding
  stakes in most agreements).
- **baseline**: the same ``find`` asked the old way — ``state_at`` on each agreement and
  a filter in Python — timed on a sample of agreements and extrapolated linearly to all
  of them (the table says when it is extrapolated); the answers are checked equal on
  the sample.
- **appends**: into the stage's last agreement (a history like every other's), at its
  end and backdated to its middle day, p50 — measured at each stage, so the ratio shows
  whether an append depends on the number of other agreements.
- **storage**: the bitemporal tables (with their indexes) ÷ the events table (with its
  own), from SQLite's ``dbstat`` and PostgreSQL's ``pg_total_relation_size``; the other
  read-model tables (timeline index, checkpoints, …) are shown beside.

PostgreSQL gets a schema of its own (``bench_portfolio_<random>``), dropped at the end.
Absolute times are this machine's; the table prints its CPU count and the date.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import platform
import pstats
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common import APPENDED, postgres_schema, sqlite_store
from synthetic import AGREEMENT, synthetic

from ledger.domain.portfolio import term_number

if TYPE_CHECKING:
    from ledger import Ledger

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
FIRST_PART = 0.8  # of each history in the first append; the rest comes after the stage's
TARGET_MS = 50.0
TARGET_RATIO = 100.0
APPEND_FLAT = 1.5  # an append "does not grow" when 10k ÷ 1k stays under this
WITHIN = 90
SELECTED = 0.8  # the term condition keeps values above this quantile: about a fifth
BASELINE_DATES = 5
MIN_REPEAT = 10
PROGRESS_EVERY = 250


@dataclass(frozen=True)
class Settings:
    """The run's sizes and repetitions."""

    sizes: tuple[int, ...]
    events: int
    repeat: int  # repetitions of each question
    budget: float  # seconds of repetitions per question, once MIN_REPEAT are done
    appends: int  # appends of each kind at each stage
    sample: int  # agreements asked one by one for the baseline


# -- the portfolio ------------------------------------------------------------------------


def deal(k: int) -> str:
    """Agreement ``k``'s id."""
    return f"deal-{k:05d}"


def history(k: int, events: int) -> list[dict[str, Any]]:
    """Agreement ``k``'s plain events: the synthetic history of seed ``k``, renamed."""
    plain, _ = synthetic(events, seed=k, mix="realistic")
    name, prefix = deal(k), f"{AGREEMENT}#"
    renamed = []
    for event in plain:
        event = dict(event)
        if event.get("agreement") == AGREEMENT:
            event["agreement"] = name
        for key in ("corrects", "retracts"):
            value = event.get(key)
            if isinstance(value, str) and value.startswith(prefix):
                event[key] = f"{name}#{value[len(prefix) :]}"
        renamed.append(event)
    return renamed


def days_of(plain: Sequence[dict[str, Any]]) -> tuple[date, date]:
    """The first and last effective days of a history."""
    days = sorted(e["effective_on"] for e in plain if "effective_on" in e)
    return date.fromisoformat(days[0]), date.fromisoformat(days[-1])


@dataclass
class Questions:
    """The questions' parameters, chosen from the data of the first stage."""

    kind: str
    condition: str
    party: str
    first: date
    last: date
    shares: dict[str, float] = field(default_factory=dict)  # for the table's notes


def choose(count: int, events: int) -> Questions:
    """The most common clause kind, a condition on its first numeric term that keeps
    about a fifth of its values, and the party holding stakes in most agreements, over
    the first ``count`` agreements."""
    kinds: Counter[str] = Counter()
    terms: dict[str, dict[str, list[Decimal]]] = {}
    holders: Counter[str] = Counter()
    holdings: Counter[str] = Counter()
    first, last = date.max, date.min
    for k in range(1, count + 1):
        plain = history(k, events)
        start, end = days_of(plain)
        first, last = min(first, start), max(last, end)
        held = set()
        for event in plain:
            added = list(event.get("clauses", ()))
            added += [c["add"] for c in event.get("changes", ()) if "add" in c]
            for clause in added:
                kinds[clause["kind"]] += 1
                for name, value in clause["terms"].items():
                    number = term_number(value)
                    if number is not None:
                        terms.setdefault(clause["kind"], {}).setdefault(name, []).append(number)
            if event["type"] == "ownership_change" and event["percent"] not in ("0", "0.00"):
                held.add(event["holder"])
                holdings[event["holder"]] += 1
        holders.update(held)
    kind = kinds.most_common(1)[0][0]
    numeric = terms.get(kind, {})
    if numeric:
        name = sorted(numeric, key=lambda n: (-len(numeric[n]), n))[0]
        values = sorted(numeric[name])
        threshold = values[int(len(values) * SELECTED)]
        condition = f"{name}>{threshold}"
    else:  # pragma: no cover - every realistic kind but agi_clause and custom has one
        condition = ""
    party = max(holders, key=lambda p: (holders[p], holdings[p], p))
    total = sum(kinds.values())
    shares = {k: n / total for k, n in kinds.most_common()}
    shares["party in agreements"] = holders[party] / count
    return Questions(kind, condition, party, first, last, shares)


# -- measuring ----------------------------------------------------------------------------


def progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def label(n: int) -> str:
    """A size as people say it: 1k, 10k, 2.5k, 200."""
    if n >= 1000 and n % 100 == 0:
        return f"{n / 1000:g}k"
    return str(n)


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@dataclass
class Timing:
    """Repeated timings of one question, in seconds, and the sizes of its answers."""

    times: list[float]
    rows: list[int]

    @property
    def p50(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        return quantile(self.times, 0.95)


def size_of(answer: Any) -> int:
    """How many rows an answer holds."""
    if hasattr(answer, "stakes"):
        return len(answer.stakes) + len(answer.investments)
    if hasattr(answer, "rows"):
        return sum(int(row[-1]) for row in answer.rows)
    return len(answer)


Asked = Callable[[date, datetime | None], Any]


@dataclass
class Stage:
    """What one backend measured at one size."""

    agreements: int
    events: int = 0  # in the store
    parts: list[list[float]] = field(default_factory=lambda: [[0, 0.0], [0, 0.0]])
    vacuum: float | None = None  # seconds of VACUUM ANALYZE after the load (PostgreSQL)
    questions: dict[str, Timing] = field(default_factory=dict)

    baseline: float = 0.0  # seconds for the find question over every agreement
    baseline_sample: int = 0
    baseline_agrees: bool = True
    append_end: list[float] = field(default_factory=list)
    append_backdated: list[float] = field(default_factory=list)
    storage: dict[str, int] = field(default_factory=dict)

    @property
    def load_events(self) -> int:
        return int(self.parts[0][0] + self.parts[1][0])

    @property
    def load_seconds(self) -> float:
        return self.parts[0][1] + self.parts[1][1]


@dataclass
class Backend:
    """One store being measured: its name, URL, and stages."""

    name: str
    url: str
    stages: list[Stage] = field(default_factory=list)
    error: str | None = None
    version: str = ""
    autovacuum: str = ""
    load_events: int = 0
    load_seconds: float = 0.0
    profile: str = ""


class Portfolio:
    """One backend's growing store, and the measurements on it."""

    def __init__(self, backend: Backend, settings: Settings, asked: Questions) -> None:
        self.backend = backend
        self.settings = settings
        self.asked = asked
        self.loaded = 0
        self.moments: list[datetime] = []  # after appends: the "as known at" candidates
        self.ledger: Ledger | None = None

    # -- loading --------------------------------------------------------------------

    def load(self, ledger: Ledger, upto: int, stage: Stage) -> None:
        """Grow the store from ``self.loaded`` to ``upto`` agreements."""
        from ledger import structure_fact

        events = self.settings.events
        cut = max(1, int(events * FIRST_PART))
        began = time.perf_counter()
        rest: dict[int, list[dict[str, Any]]] = {}
        first = self.loaded + 1
        for part in (1, 2):
            appended, timed, window = 0, 0.0, (0, 0.0)
            for k in range(first, upto + 1):
                if part == 1:
                    plain = history(k, events)
                    batch, rest[k] = plain[:cut], plain[cut:]
                else:
                    batch = rest.pop(k)
                if not batch:
                    continue
                facts = [structure_fact(event) for event in batch]
                start = time.perf_counter()
                ledger.append(facts, agreement=deal(k))
                took = time.perf_counter() - start
                self.moments.append(datetime.now(UTC))
                timed += took
                appended += len(facts)
                stage.parts[part - 1][0] += len(facts)
                stage.parts[part - 1][1] += took
                done = k - first + 1
                if done % PROGRESS_EVERY == 0 or k == upto:
                    recent = (appended - window[0]) / (timed - window[1])
                    window = (appended, timed)
                    progress(
                        f"{self.backend.name}: append {part}/2 of agreements "
                        f"{first}–{upto}: {done:,}/{upto - first + 1:,} "
                        f"({appended / timed:,.0f} events/s, lately {recent:,.0f}; "
                        f"{time.perf_counter() - began:,.0f} s)"
                    )
        self.loaded = upto
        stage.events = self.loaded * events

    # -- questions ------------------------------------------------------------------

    def questions(self, ledger: Ledger) -> dict[str, Asked]:
        asked = self.asked
        terms = [asked.condition] if asked.condition else []

        def find(day: date, known: datetime | None) -> Any:
            return ledger.find(asked.kind, on=day, known_at=known)

        def find_terms(day: date, known: datetime | None) -> Any:
            return ledger.find(asked.kind, on=day, terms=terms, known_at=known)

        def expiring(day: date, known: datetime | None) -> Any:
            return ledger.expiring(within=WITHIN, on=day, known_at=known)

        def holdings(day: date, known: datetime | None) -> Any:
            return ledger.holdings(asked.party, on=day, known_at=known)

        def in_force(day: date, _known: datetime | None) -> Any:
            text = day.isoformat()
            return ledger.sql(
                "SELECT kind, COUNT(*) AS clauses FROM clause_versions_now "  # noqa: S608
                f"WHERE valid_from <= '{text}' AND valid_to > '{text}' "
                "GROUP BY kind ORDER BY kind"
            )

        found: dict[str, Asked] = {}
        for title, ask in (
            (f"find {asked.kind}", find),
            (f"find {asked.kind} --term {asked.condition}", find_terms),
            (f"expiring --within {WITHIN}", expiring),
            (f"holdings {asked.party}", holdings),
        ):
            found[f"{title} (now)"] = ask
            found[f"{title} (as known at T)"] = ask
        found["sql: clauses in force by kind on D (now)"] = in_force
        return found

    def ask(self, ledger: Ledger, stage: Stage) -> None:
        rng = random.Random(stage.agreements)  # noqa: S311 - a fixed-seed sample
        span = (self.asked.last - self.asked.first).days
        for title, ask in self.questions(ledger).items():
            earlier = "known at" in title
            ask(self.asked.last, self.moments[len(self.moments) // 2] if earlier else None)
            timing = Timing([], [])
            stop = time.perf_counter() + self.settings.budget
            for index in range(self.settings.repeat):
                if index >= MIN_REPEAT and time.perf_counter() > stop:
                    break
                day = self.asked.first + timedelta(days=rng.randint(0, span))
                known = rng.choice(self.moments[:-1]) if earlier else None
                start = time.perf_counter()
                answer = ask(day, known)
                timing.times.append(time.perf_counter() - start)
                timing.rows.append(size_of(answer))
            stage.questions[title] = timing
            progress(
                f"{self.backend.name} @ {label(stage.agreements)}: {title}: "
                f"p50 {timing.p50 * 1000:,.1f} ms, {statistics.median(timing.rows):,.0f} rows"
            )

    def baseline(self, ledger: Ledger, stage: Stage) -> None:
        """The find question asked agreement by agreement (``state_at``, then a filter),
        on a sample spread over the store, scaled to every agreement."""
        from ledger.domain.clauses import ClauseKind

        n = stage.agreements
        count = min(self.settings.sample, n)
        sample = sorted({1 + (i * n) // count for i in range(count)})
        names = {deal(k) for k in sample}
        kind = ClauseKind(self.asked.kind)
        rng = random.Random(-n)  # noqa: S311 - a fixed-seed sample
        span = (self.asked.last - self.asked.first).days
        ledger.state_at(self.asked.last, agreement=deal(sample[0]))  # warm up
        scaled = []
        for _ in range(BASELINE_DATES):
            day = self.asked.first + timedelta(days=rng.randint(0, span))
            start = time.perf_counter()
            found = []
            for k in sample:
                state = ledger.state_at(day, agreement=deal(k))
                found += [
                    (state.agreement, clause.id)
                    for clause in state.clauses_in_force(day)
                    if clause.kind is kind
                ]
            took = time.perf_counter() - start
            scaled.append(took * n / len(sample))
            portfolio = {
                (c.agreement, c.clause_id)
                for c in ledger.find(self.asked.kind, on=day)
                if c.agreement in names
            }
            if portfolio != set(found):
                stage.baseline_agrees = False
                progress(
                    f"{self.backend.name} @ {label(n)}: on {day}, only find: "
                    f"{sorted(portfolio - set(found))[:5]}, only state_at: "
                    f"{sorted(set(found) - portfolio)[:5]}"
                )
        stage.baseline = statistics.median(scaled)
        stage.baseline_sample = len(sample)
        progress(
            f"{self.backend.name} @ {label(n)}: state_at baseline "
            f"{stage.baseline:,.2f} s over {n:,} agreements (sample {len(sample)})"
        )

    def appends(self, ledger: Ledger, stage: Stage) -> None:
        """Appends into the stage's last agreement: at its end, then backdated."""
        from ledger import structure_fact

        k = stage.agreements
        first, last = days_of(history(k, self.settings.events))
        middle = date.fromordinal((first.toordinal() + last.toordinal()) // 2)
        for day, times in ((last, stage.append_end), (middle, stage.append_backdated)):
            for index in range(self.settings.appends + 1):  # the first warms up, untimed
                fact = structure_fact({**APPENDED, "effective_on": day.isoformat()})
                start = time.perf_counter()
                ledger.append([fact], agreement=deal(k))
                if index:
                    times.append(time.perf_counter() - start)
        self.moments.append(datetime.now(UTC))
        progress(
            f"{self.backend.name} @ {label(k)}: append p50 at end "
            f"{statistics.median(stage.append_end) * 1000:,.1f} ms, backdated "
            f"{statistics.median(stage.append_backdated) * 1000:,.1f} ms"
        )

    # -- the whole run --------------------------------------------------------------

    def run(self, profile: bool, vacuum: bool) -> None:
        from ledger import Ledger

        with Ledger(self.backend.url) as ledger:
            self.backend.version = server_version(self.backend.url)
            self.backend.autovacuum = autovacuum(self.backend.url)
            for size in self.settings.sizes:
                stage = Stage(size)
                self.load(ledger, size, stage)
                if vacuum and self.backend.autovacuum == "off":
                    stage.vacuum = vacuum_analyze(self.backend.url)
                    progress(f"{self.backend.name}: VACUUM ANALYZE {stage.vacuum:,.1f} s")
                self.backend.load_events += stage.load_events
                self.backend.load_seconds += stage.load_seconds
                self.ask(ledger, stage)
                self.baseline(ledger, stage)
                self.appends(ledger, stage)
                stage.storage = storage(self.backend.url)
                self.backend.stages.append(stage)
            if profile:
                self.backend.profile = self.profiled(ledger, self.backend.stages[-1])

    def profiled(self, ledger: Ledger, stage: Stage) -> str:
        """cProfile of the slowest question (by p50) at the last stage, top 15 lines."""
        title = max(stage.questions, key=lambda t: stage.questions[t].p50)
        ask = self.questions(ledger)[title]
        rng = random.Random(0)  # noqa: S311 - a fixed-seed sample
        span = (self.asked.last - self.asked.first).days
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(10):
            day = self.asked.first + timedelta(days=rng.randint(0, span))
            ask(day, rng.choice(self.moments[:-1]) if "known at" in title else None)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(15)
        return f"{self.backend.name}: {title}, 10 calls at {label(stage.agreements)}\n" + (
            out.getvalue()
        )


# -- storage ------------------------------------------------------------------------------


def storage(url: str) -> dict[str, int]:
    """Bytes per table (its indexes included)."""
    if is_postgres(url):
        import psycopg

        server, _, options = url.partition("?")
        schema = options.partition("schema=")[2] or "public"
        with psycopg.connect(server) as connection:
            rows = connection.execute(
                "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'p')",
                (schema,),
            ).fetchall()
        return {str(name): int(size) for name, size in rows}
    with contextlib.closing(sqlite3.connect(f"file:{url}?mode=ro", uri=True)) as connection:
        try:
            rows = connection.execute(
                "SELECT m.tbl_name, SUM(d.pgsize) FROM dbstat d "
                "JOIN sqlite_master m ON m.name = d.name GROUP BY m.tbl_name"
            ).fetchall()
        except sqlite3.OperationalError:  # no dbstat: pages per table are not known
            return {"(file)": Path(url).stat().st_size}
    return {str(name): int(size) for name, size in rows}


def storage_groups(sizes: dict[str, int]) -> dict[str, int]:
    """Events, bitemporal tables, timeline index, checkpoints, and the rest."""
    from ledger.readmodel.bitemporal import TABLES

    groups = {"events": 0, "bitemporal": 0, "timeline": 0, "checkpoints": 0, "other": 0}
    for name, size in sizes.items():
        if name in TABLES:
            groups["bitemporal"] += size
        elif name == "ledger_timeline":
            groups["timeline"] += size
        elif name == "ledger_checkpoints":
            groups["checkpoints"] += size
        elif name.startswith("ledger_"):
            groups["other"] += size
        else:  # stored_events (SQLite), contractledger_events (PostgreSQL)
            groups["events"] += size
    return groups


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def autovacuum(url: str) -> str:
    """PostgreSQL's ``autovacuum`` setting (empty for SQLite)."""
    if not is_postgres(url):
        return ""
    import psycopg

    with psycopg.connect(url.partition("?")[0]) as connection:
        row = connection.execute("SHOW autovacuum").fetchone()
    return str(row[0]) if row else "?"


def vacuum_analyze(url: str) -> float:
    """``VACUUM ANALYZE`` of every table of the store's schema, as autovacuum would do
    in the background; its seconds."""
    import psycopg

    server, _, options = url.partition("?")
    schema = options.partition("schema=")[2] or "public"
    began = time.perf_counter()
    with psycopg.connect(server, autocommit=True) as connection:
        names = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
        ).fetchall()
        for (name,) in names:
            connection.execute(f'VACUUM ANALYZE "{schema}"."{name}"')
    return time.perf_counter() - began


def server_version(url: str) -> str:
    if is_postgres(url):
        import psycopg

        with psycopg.connect(url.partition("?")[0]) as connection:
            row = connection.execute("SHOW server_version").fetchone()
        return f"PostgreSQL {str(row[0]).split()[0] if row else '?'}"
    return f"SQLite {sqlite3.sqlite_version}"


# -- the table ----------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def megabytes(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def times(value: float) -> str:
    return f"{value:,.0f}×" if value >= 10 else f"{value:,.2f}×"


def table(backends: Sequence[Backend], settings: Settings, asked: Questions) -> str:
    """One table, a column per backend."""
    live = [b for b in backends if b.error is None and b.stages]
    rows: list[tuple[str, list[str]]] = []

    def row(title: str, cell: Callable[[Backend], str]) -> None:
        rows.append((title, [cell(b) for b in live]))

    def section(title: str) -> None:
        rows.append((f"-- {title}", ["" for _ in live]))

    def stage_of(backend: Backend, size: int) -> Stage:
        return next(s for s in backend.stages if s.agreements == size)

    events = settings.events
    total = settings.sizes[-1] * events
    section("bulk load (Ledger.append only; 2 appends per agreement: 80% then 20%)")
    cut = max(1, int(events * FIRST_PART))
    previous = 0
    for size in settings.sizes:
        row(
            f"load {label(previous + 1)}…{label(size)}, events/s",
            lambda b, s=size: f"{stage_of(b, s).load_events / stage_of(b, s).load_seconds:,.0f}",
        )
        for part, what in ((0, f"first {cut} events"), (1, f"last {events - cut}, later")):
            row(
                f"  of which appends of the {what}",
                lambda b, s=size, p=part: (
                    f"{stage_of(b, s).parts[p][0] / stage_of(b, s).parts[p][1]:,.0f}"
                ),
            )
        previous = size
    row(
        f"whole load ({label(settings.sizes[-1])} × {events} = {total:,} events), events/s",
        lambda b: f"{b.load_events / b.load_seconds:,.0f} ({b.load_seconds:,.0f} s)",
    )
    for size in settings.sizes:
        section(f"{label(size)} agreements — p50 / p95 ms (median rows in the answer)")
        titles = list(stage_of(live[0], size).questions) if live else []
        for title in titles:

            def cell(b: Backend, s: int = size, t: str = title) -> str:
                timing = stage_of(b, s).questions[t]
                rows_ = statistics.median(timing.rows)
                cut = f", n={len(timing.times)}" if len(timing.times) < settings.repeat else ""
                return f"{ms(timing.p50)} / {ms(timing.p95)} ({rows_:,.0f}{cut})"

            row(title, cell)

        def base(b: Backend, s: int = size) -> str:
            stage = stage_of(b, s)
            how = (
                "measured"
                if stage.baseline_sample >= stage.agreements
                else f"extrapolated from {stage.baseline_sample}"
            )
            agrees = "" if stage.baseline_agrees else ", ANSWERS DIFFER"
            return f"{stage.baseline * 1000:,.0f} ms ({how}{agrees})"

        row(f"baseline: state_at × {label(size)} + filter (find {asked.kind}, now)", base)
        row(
            f"speed-up: baseline ÷ find {asked.kind} (now) p50",
            lambda b, s=size: times(
                stage_of(b, s).baseline / stage_of(b, s).questions[f"find {asked.kind} (now)"].p50
            ),
        )
        row(
            "append 1 event at end, p50 ms",
            lambda b, s=size: ms(statistics.median(stage_of(b, s).append_end)),
        )
        row(
            "append 1 event backdated (middle day), p50 ms",
            lambda b, s=size: ms(statistics.median(stage_of(b, s).append_backdated)),
        )

        def ratio(b: Backend, s: int = size) -> str:
            groups = storage_groups(stage_of(b, s).storage)
            return (
                f"{groups['bitemporal'] / groups['events']:.2f} "
                f"({megabytes(groups['bitemporal'])} ÷ {megabytes(groups['events'])})"
            )

        row("storage: bitemporal tables ÷ events (with indexes)", ratio)
        row(
            "storage: timeline index / checkpoints / other read model",
            lambda b, s=size: " / ".join(
                megabytes(storage_groups(stage_of(b, s).storage)[g])
                for g in ("timeline", "checkpoints", "other")
            ),
        )
    if len(settings.sizes) > 1:
        small, large = settings.sizes[0], settings.sizes[-1]
        section(f"does an append grow with the other agreements? ({label(large)} ÷ {label(small)})")
        for key, title in (("append_end", "at end"), ("append_backdated", "backdated")):

            def grows(b: Backend, k: str = key) -> str:
                value = statistics.median(getattr(stage_of(b, large), k)) / statistics.median(
                    getattr(stage_of(b, small), k)
                )
                return f"{value:.2f} ({'met' if value <= APPEND_FLAT else 'NOT MET'})"

            row(f"append {title}, p50 ratio (target ≤ {APPEND_FLAT})", grows)
    large = settings.sizes[-1]
    section(f"targets (the issue's, for 10k agreements; here at {label(large)})")

    def fast(b: Backend) -> str:
        stage = stage_of(b, large)
        slowest = max(stage.questions, key=lambda t: stage.questions[t].p50)
        worst = stage.questions[slowest].p50 * 1000
        failing = sum(1 for t in stage.questions.values() if t.p50 * 1000 > TARGET_MS)
        verdict = "met" if failing == 0 else f"NOT MET ({failing} of {len(stage.questions)})"
        return f"{verdict}; slowest {worst:,.1f} ms"

    def faster(b: Backend) -> str:
        stage = stage_of(b, large)
        value = stage.baseline / stage.questions[f"find {asked.kind} (now)"].p50
        return f"{'met' if value >= TARGET_RATIO else 'NOT MET'} ({times(value)})"

    row(f"every question p50 ≤ {TARGET_MS:.0f} ms", fast)
    row(f"find ≥ {TARGET_RATIO:.0f}× faster than state_at per agreement", faster)

    header = ["measurement", *[b.version or b.name for b in live]]
    widths = [max(len(header[0]), *(len(t) for t, _ in rows))]
    for index in range(len(live)):
        widths.append(max(len(header[index + 1]), *(len(c[index]) for _, c in rows)))
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    for title, cells in rows:
        if title.startswith("-- "):
            lines.append(title)
            continue
        lines.append(
            "  ".join(
                [
                    title.ljust(widths[0]),
                    *(c.rjust(w) for c, w in zip(cells, widths[1:], strict=True)),
                ]
            )
        )
    return "\n".join(lines)


def notes(
    backends: Sequence[Backend], settings: Settings, asked: Questions, wall: float, code: str
) -> str:
    shares = ", ".join(
        f"{k} {v:.0%}" for k, v in asked.shares.items() if k != "party in agreements"
    )
    lines = [
        f"Machine: {platform.node()}, {os.cpu_count()} CPUs, {platform.machine()}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}; "
        f"run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; wall {wall / 60:,.1f} min; "
        f"code {code}. "
        "Absolute times are this machine's.",
        f"Portfolio: agreements 1…{settings.sizes[-1]:,} × {settings.events} events "
        "(synthetic realistic mix, seed = agreement number, about 5% backdated); "
        f"questions on days {asked.first} … {asked.last}, {settings.repeat} repetitions each "
        f"(fewer, n=…, when they take over {settings.budget:.0f} s; at least {MIN_REPEAT}), "
        "'as known at T' with T drawn from the moments after each append so far; "
        "the rows of the sql answer are the clauses it counts.",
        f"Clause kinds added (first stage): {shares}. The term condition {asked.condition!r} "
        f"keeps about {1 - SELECTED:.0%} of the {asked.kind} clauses added; "
        f"{asked.party!r} holds stakes in {asked.shares['party in agreements']:.0%} of the "
        "agreements.",
        f"Baseline: Ledger.state_at(D, agreement=…) for each agreement of an evenly spread "
        f"sample of {settings.sample}, clauses of the kind kept in Python; median over "
        f"{BASELINE_DATES} days of (sample time × N ÷ sample); answers compared on the "
        "sample.",
        f"Appends: {settings.appends} one-event appends (an investment) into the stage's "
        "last agreement, at its last day, then at its middle day.",
    ]
    for backend in backends:
        vacuums = [s.vacuum for s in backend.stages if s.vacuum is not None]
        if vacuums:
            lines.append(
                f"{backend.name}: autovacuum is off on this server, so VACUUM ANALYZE ran on "
                "the store's schema after each stage's load, as autovacuum would have "
                f"(untimed: {', '.join(f'{v:,.0f} s' for v in vacuums)}; --no-vacuum skips it)."
            )
        elif backend.autovacuum:
            lines.append(f"{backend.name}: autovacuum {backend.autovacuum}.")
    for backend in backends:
        if backend.error is not None:
            lines.append(f"{backend.name}: not measured — {backend.error}")
    return "\n".join(lines)


# -- the command --------------------------------------------------------------------------


def parse_sizes(text: str) -> tuple[int, ...]:
    units = {"k": 1_000, "m": 1_000_000}
    sizes = []
    for part in text.split(","):
        part = part.strip().lower()
        factor = units.get(part[-1:], 1)
        sizes.append(int(float(part.rstrip("km")) * factor))
    return tuple(sorted(set(sizes)))


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--agreements", type=parse_sizes, help="stages (default 1000,10000)")
    parser.add_argument("--events", type=int, help="events per agreement (default 100)")
    parser.add_argument("--repeat", type=int, help="repetitions of each question (default 50)")
    parser.add_argument(
        "--budget", type=float, default=30.0, help="seconds per question (default 30)"
    )
    parser.add_argument("--appends", type=int, help="appends of each kind (default 30)")
    parser.add_argument("--sample", type=int, help="agreements in the baseline (default 200)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("LEDGER_TEST_POSTGRES_URL") or DEFAULT_POSTGRES,
        help="PostgreSQL server URL (default: $LEDGER_TEST_POSTGRES_URL or %(default)s)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument(
        "--quick", action="store_true", help="200 and 1k agreements × 50 events (smoke run)"
    )
    parser.add_argument(
        "--no-vacuum",
        action="store_true",
        help="no VACUUM ANALYZE after each load when the server's autovacuum is off",
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the slowest question (top 15 lines)"
    )
    return parser.parse_args(argv)


def snapshot() -> str:
    """The code measured: its commit, and whether the work tree differs from it. Every
    module the questions use is imported now, so that the run measures one version of
    the code even if files change while it runs."""
    import ledger.adapters.query
    import ledger.domain.portfolio
    import ledger.readmodel.bitemporal
    import ledger.readmodel.portfolio  # noqa: F401

    git = shutil.which("git")
    if git is None:
        return "?"
    done = subprocess.run(  # noqa: S603 - git, on this repository
        [git, "-C", str(Path(__file__).resolve().parent), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "?"


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(argv)
    code = snapshot()
    quick = args.quick
    settings = Settings(
        sizes=args.agreements or ((200, 1000) if quick else (1000, 10_000)),
        events=args.events or (50 if quick else 100),
        repeat=args.repeat or (20 if quick else 50),
        budget=args.budget,
        appends=args.appends or (20 if quick else 30),
        sample=args.sample or (50 if quick else 200),
    )
    began = time.perf_counter()
    asked = choose(settings.sizes[0], settings.events)
    progress(
        f"questions: find {asked.kind} [--term {asked.condition}], holdings {asked.party}, "
        f"days {asked.first} … {asked.last}"
    )
    backends = []
    if not args.no_sqlite:
        backends.append(Backend("SQLite", ""))
    if not args.no_postgres:
        backends.append(Backend("PostgreSQL", args.postgres))
    for backend in backends:
        try:
            opened = (
                sqlite_store("ledger-portfolio")
                if backend.name == "SQLite"
                else postgres_schema(backend.url, "bench_portfolio")
            )
            with opened as url:
                backend.url = url
                Portfolio(backend, settings, asked).run(args.profile, not args.no_vacuum)
        except Exception as error:  # reported under the table; the other backend goes on
            backend.error = f"{type(error).__name__}: {error}"
            progress(f"{backend.name} failed: {backend.error}")
    wall = time.perf_counter() - began
    print(table(backends, settings, asked))
    print()
    print(notes(backends, settings, asked, wall, code))
    for backend in backends:
        if backend.profile:
            print()
            print(backend.profile.rstrip())
    return 0 if all(b.error is None for b in backends) else 1


if __name__ == "__main__":
    sys.exit(main())
