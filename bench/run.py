"""Issue 6 benchmark: how fast the ledger imports, replays and answers as-of questions.

It measures the code as it is, on synthetic agreements generated with fixed seeds and
appended through the public API (``Ledger.append`` of facts built by ``structure_fact``)
into a SQLite store in a temporary directory, and prints one table:

    python bench/run.py                   # N = 1k, 10k, 100k, 1M
    python bench/run.py --quick           # N = 1k, 10k (under a minute)
    python bench/run.py --sizes 1k,100k   # chosen sizes
    python bench/run.py --profile asof --profile-size 100k   # where the time goes

Each size runs in a child process (its peak RSS is its own, and a size that overruns
its wall budget is stopped and reported, never waited for); within it, the batched
import is skipped when it is projected to exceed ``--budget`` seconds, and every
repeated measurement stops sampling after ``--sample-budget`` seconds (``n`` says how
many samples it took). Whatever was skipped is listed under the table.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import cProfile
import io
import json
import math
import os
import platform
import pstats
import queue
import random
import resource
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from ledger.domain.agreement import agreement_uuid, project_agreement

from ledger import Ledger, structure_fact
from ledger.adapters.mapper import LedgerMapper
from ledger.adapters.store import StoreLocation
from ledger.application import LedgerApplication
from ledger.domain.timeline import state_at as fold_state_at

AGREEMENT = "bench-agreement"
SEED = 6
DEFAULT_SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000)
ASOF_SAMPLES = 100
SELECT_ROWS = (
    "SELECT originator_version, topic, state FROM stored_events "
    "WHERE originator_id = ? ORDER BY originator_version"
)
INVESTMENT_TOPIC = "contract-ledger/investment"
BARE_IMPORTS = "import eventsourcing.application, eventsourcing.sqlite, attrs, click"
# The one event the append measurements record (its date is set for each).
APPENDED_INVESTMENT = {
    "type": "investment",
    "investor": "alpha",
    "recipient": "beta",
    "amount": {"amount": "1000000", "currency": "USD"},
    "instrument": "equity",
    "source": {"citation": "Benchmark append", "confidence": "confirmed"},
}


# --------------------------------------------------------------------------------------
# The synthetic history
# --------------------------------------------------------------------------------------

PARTIES = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta")
ENTITIES = ("alpha", "beta", "newco-1", "newco-2", "newco-3")
CURRENCIES = ("USD", "USD", "USD", "EUR")
INSTRUMENTS = ("equity", "profit_interest", "cloud_credits", "other")
GOVERNANCE_KINDS = (
    "ceo_removed",
    "ceo_appointed",
    "ceo_reinstated",
    "board_changed",
    "observer_seat_granted",
    "observer_seat_relinquished",
    "departure",
    "other",
)
VETOABLE = ("restructuring", "board_changed", "ceo_appointed")  # always approved by all
CLAUSE_KINDS = (
    "exclusivity",
    "revenue_share",
    "profit_share",
    "ip_rights",
    "veto",
    "agi_clause",
    "custom",
)
CLAUSE_POOL = 200  # clause ids c-000…c-199: a removed or expired id may be added again
OPENED = date(1990, 1, 1)
QUOTES = (
    "The parties agreed to extend the arrangement on revised terms after months of talks.",
    "According to people familiar with the matter, the investment closed this quarter.",
    "The board approved the change at a meeting that ran late into the evening.",
    "Both companies confirmed the amendment in a joint statement on their websites.",
    "Analysts said the new terms shift economics meaningfully toward the smaller partner.",
    "The filing shows the stake changed hands as part of a wider recapitalisation.",
)
PROBES = 30


@dataclass
class Instance:
    """One life of a clause id in the model: added on ``since``, maybe removed or expiring."""

    kind: str
    since: int
    until: int | None = None
    removed: int | None = None  # exclusive: events recorded after the removal see it gone

    def in_force(self, day: int) -> bool:
        if day < self.since or (self.removed is not None and day >= self.removed):
            return False
        return self.until is None or day <= self.until


class Synth:
    """Generates a valid history: every event passes the ledger's rules by construction.

    The model tracks what the fold will see at each event's place on the timeline
    (effective date, then recording order): which clause ids are in force on a day,
    and each holder's stake over time. Backdated events (~5%) are kinds that cannot
    break a later event: investments, governance events other than restructurings,
    term-only amendments of a clause in force on that day, and stake reductions.
    Vetoes cover only ``VETOABLE`` kinds, and every such governance event is approved by
    all parties, so no veto is ever broken.
    """

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - a fixed-seed benchmark, not security
        self.day = OPENED.toordinal()
        self.events: list[dict[str, Any]] = []
        self.clauses: dict[str, list[Instance]] = {}
        self.stakes: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
        self.investments: list[tuple[int, str]] = []  # (version, effective_on) correctable
        self.retractable: list[int] = []
        self.withdrawn: set[int] = set()
        self.talks = 0
        self.kinds: Counter[str] = Counter()

    # -- helpers --------------------------------------------------------------------

    def party(self) -> str:
        return self.rng.choice(PARTIES)

    def base(self, kind: str, day: int) -> dict[str, Any]:
        source: dict[str, Any] = {
            "citation": f"Synthetic source {self.rng.randrange(1000)}",
            "quote": self.rng.choice(QUOTES),
            "confidence": self.rng.choice(("confirmed", "reported", "reported", "estimated")),
        }
        event: dict[str, Any] = {
            "type": kind,
            "effective_on": date.fromordinal(day).isoformat(),
            "source": source,
        }
        if self.rng.random() < 0.2:
            event["note"] = "Figures as reported at the time; the terms may be revisited."
        return event

    def emit(self, event: dict[str, Any], label: str | None = None) -> int:
        self.events.append(event)
        self.kinds[label or event["type"]] += 1
        return len(self.events)  # the event's version in the log

    def in_force(self, clause: str, day: int) -> Instance | None:
        return next((i for i in self.clauses.get(clause, ()) if i.in_force(day)), None)

    def probe(self, day: int, *, want: bool, used: set[str]) -> str | None:
        """A random clause id that is (``want``) or is not in force on ``day``."""
        for _ in range(PROBES):
            clause = f"c-{self.rng.randrange(CLAUSE_POOL):03d}"
            if clause not in used and (self.in_force(clause, day) is not None) == want:
                return clause
        return None

    def terms(self, kind: str) -> dict[str, Any]:
        rng = self.rng
        if kind == "exclusivity":
            return {
                "holder": self.party(),
                "grantor": self.party(),
                "scope": "cloud services for model training and inference",
                "exclusive": rng.random() < 0.5,
                "right_of_first_refusal": rng.random() < 0.5,
            }
        if kind == "revenue_share":
            return {
                "payer": self.party(),
                "payee": self.party(),
                "rate": _percent(rng.randint(1, 5000)),
                "threshold": {"amount": str(rng.randint(1, 100) * 10**8), "currency": "USD"},
                "basis": "net revenue from jointly sold services",
            }
        if kind == "profit_share":
            return {
                "holder": self.party(),
                "entity": rng.choice(ENTITIES),
                "rate": _percent(rng.randint(1, 9000)),
                "cap_multiple": str(rng.randint(2, 100)),
            }
        if kind == "ip_rights":
            return {
                "holder": self.party(),
                "licensor": self.party(),
                "scope": "models, weights and research",
            }
        if kind == "veto":
            return {"holder": self.party(), "over": rng.sample(VETOABLE, k=rng.randint(1, 3))}
        if kind == "agi_clause":
            return {
                "trigger": "the board determines AGI is reached",
                "effect": "the licence ends",
                "determined_by": "board",
            }
        return {"text": f"Custom covenant {rng.randrange(10**6)} as drafted by counsel."}

    def amended_terms(self, kind: str) -> dict[str, Any]:
        rng = self.rng
        if kind == "exclusivity":
            return {"exclusive": rng.random() < 0.5}
        if kind == "revenue_share":
            return {"rate": _percent(rng.randint(1, 5000))}
        if kind == "profit_share":
            if rng.random() < 0.5:
                return {"cap_multiple": str(rng.randint(2, 100))}
            return {"rate": _percent(rng.randint(1, 9000))}
        if kind == "ip_rights":
            return {"scope": f"models released before version {rng.randint(2, 40)}"}
        if kind == "veto":
            return {"over": rng.sample(VETOABLE, k=rng.randint(1, 3))}
        if kind == "agi_clause":
            return {"effect": rng.choice(("the licence ends", "profit share stops"))}
        return {"text": f"Custom covenant {rng.randrange(10**6)}, amended."}

    def add(self, clause: str, day: int) -> dict[str, Any]:
        """An ``add`` change, applied to the model."""
        kind = self.rng.choice(CLAUSE_KINDS)
        until = day + self.rng.randint(30, 3650) if self.rng.random() < 0.2 else None
        self.clauses.setdefault(clause, []).append(Instance(kind, day, until))
        change: dict[str, Any] = {"id": clause, "kind": kind, "terms": self.terms(kind)}
        if until is not None:
            change["until"] = date.fromordinal(until).isoformat()
        return {"add": change}

    # -- the history -----------------------------------------------------------------

    def generate(self, n: int) -> list[dict[str, Any]]:
        self.opening()
        while len(self.events) < n:
            self.step(n - len(self.events))
        return self.events

    def opening(self) -> None:
        event = self.base("agreement_opened", self.day)
        clauses = []
        for index, kind in enumerate((*CLAUSE_KINDS, "revenue_share")):
            clause = f"c-{index:03d}"
            self.clauses[clause] = [Instance(kind, self.day)]
            clauses.append({"id": clause, "kind": kind, "terms": self.terms(kind)})
        event.update(
            agreement=AGREEMENT,
            title="Synthetic partnership for the benchmark",
            parties=[{"id": p, "name": p.title() + " Inc."} for p in PARTIES],
            clauses=clauses,
        )
        self.emit(event)

    def step(self, remaining: int) -> None:
        rng = self.rng
        if rng.random() < 0.05 and self.day > OPENED.toordinal() + 1:
            self.backdated(rng.randint(OPENED.toordinal() + 1, self.day - 1))
            return
        if rng.random() < 0.3:
            self.day += rng.randint(1, 3)
        r = rng.random()
        if r < 0.33:
            self.amendment()
        elif r < 0.73:
            self.investment(self.day)
        elif r < 0.9935:
            self.ownership()
        elif r < 0.9936:
            self.governance(self.day, allow_restructuring=True)
        elif r < 0.99365 and remaining >= 5:
            self.renegotiation()
        elif r < 0.99665:
            self.correction()
        elif r < 0.99815:
            self.retraction()
        else:
            self.investment(self.day)

    def amendment(self) -> None:
        day, used, changes = self.day, set[str](), []
        for _ in range(self.rng.choice((1, 1, 1, 2, 2, 3))):
            op = self.rng.random()
            if op < 0.35:
                clause = self.probe(day, want=False, used=used)
                if clause is not None:
                    used.add(clause)
                    changes.append(self.add(clause, day))
                    continue
            clause = self.probe(day, want=True, used=used)
            if clause is None:
                continue
            used.add(clause)
            instance = self.in_force(clause, day)
            assert instance is not None  # noqa: S101 - the probe found it in force
            if op < 0.8:
                change: dict[str, Any] = {"amend": clause}
                if self.rng.random() < 0.1:
                    instance.until = day + self.rng.randint(0, 3650)
                    change["until"] = date.fromordinal(instance.until).isoformat()
                else:
                    change["terms"] = self.amended_terms(instance.kind)
                changes.append(change)
            else:
                instance.removed = day
                changes.append({"remove": clause})
        if not changes:
            self.investment(day)
            return
        event = self.base("amendment", day)
        event["changes"] = changes
        self.emit(event)

    def investment(self, day: int, label: str | None = None) -> None:
        investor, recipient = self.rng.sample(PARTIES, k=2)
        event = self.base("investment", day)
        event.update(investor=investor, recipient=recipient, **self._amount())
        version = self.emit(event, label)
        self.investments.append((version, event["effective_on"]))
        self.retractable.append(version)

    def _amount(self) -> dict[str, Any]:
        amount = str(self.rng.randint(1, 10**7) * 1000)
        if self.rng.random() < 0.2:
            amount += f".{self.rng.randint(0, 99):02d}"
        return {
            "amount": {"amount": amount, "currency": self.rng.choice(CURRENCIES)},
            "instrument": self.rng.choice(INSTRUMENTS),
        }

    def ownership(self) -> None:
        holder, entity = self.party(), self.rng.choice(ENTITIES)
        others = sum(self._stake(other, entity, None) for other in PARTIES if other != holder)
        value = 0 if self.rng.random() < 0.1 else self.rng.randint(0, 10_000 - others)
        self._set_stake(holder, entity, self.day, value, None)

    def _stake(self, holder: str, entity: str, day: int | None) -> int:
        """The holder's stake in hundredths of a percent, latest or at the end of ``day``."""
        changes = self.stakes.get((holder, entity), [])
        if day is None:
            return changes[-1][2] if changes else 0
        at = bisect.bisect_right(changes, (day, math.inf, math.inf))
        return changes[at - 1][2] if at else 0

    def _set_stake(self, holder: str, entity: str, day: int, value: int, label: str | None) -> None:
        event = self.base("ownership_change", day)
        event.update(holder=holder, entity=entity, percent=_percent(value))
        version = self.emit(event, label)
        bisect.insort(self.stakes.setdefault((holder, entity), []), (day, version, value))

    def governance(self, day: int, *, allow_restructuring: bool, label: str | None = None) -> None:
        event = self.base("governance", day)
        restructuring = allow_restructuring and self.rng.random() < 0.05
        kind = "restructuring" if restructuring else self.rng.choice(GOVERNANCE_KINDS)
        event.update(
            kind=kind,
            entity=self.rng.choice(ENTITIES),
            people=[f"Person {self.rng.randrange(500)}"],
            description=f"{kind.replace('_', ' ').capitalize()} announced to staff.",
        )
        if kind in VETOABLE:
            event["approved_by"] = list(PARTIES)
        version = self.emit(event, label)
        if not restructuring:
            self.retractable.append(version)

    def renegotiation(self) -> None:
        day = self.day
        self.talks += 1
        talks = f"talks-{self.talks}"
        opened = self.base("renegotiation_opened", day)
        opened.update(
            renegotiation=talks,
            initiated_by=self.party(),
            topics=self.rng.sample(CLAUSE_KINDS, k=2),
        )
        self.emit(opened)
        amended = self.probe(day, want=True, used=set())
        fresh = self.probe(day, want=False, used=set())
        first = (
            {"amend": amended, "terms": self.amended_terms(self.clauses[amended][-1].kind)}
            if amended is not None
            else {"remove": "c-999"}  # shape-checked only: it is rejected, never applied
        )
        # The second proposal adds a clause: the model gains it only if it is accepted.
        kind = self.rng.choice(CLAUSE_KINDS)
        until = day + self.rng.randint(30, 3650) if self.rng.random() < 0.2 else None
        second: dict[str, Any] = {"id": fresh or "c-998", "kind": kind, "terms": self.terms(kind)}
        if until is not None:
            second["until"] = date.fromordinal(until).isoformat()
        for suffix, change in (("a", first), ("b", {"add": second})):
            proposal = self.base("proposal", day)
            proposal.update(renegotiation=talks, proposal=f"{talks}-{suffix}", by=self.party())
            proposal["changes"] = [change]
            self.emit(proposal)
        accepted = self.rng.random() < 0.8 and fresh is not None
        closing = self.base("proposal_rejected" if accepted else "proposal_withdrawn", day)
        closing.update(renegotiation=talks, proposal=f"{talks}-a" if accepted else f"{talks}-b")
        self.emit(closing)
        concluded = self.base("renegotiation_concluded", day)
        concluded["renegotiation"] = talks
        if accepted:
            concluded["accepted"] = f"{talks}-b"
            self.clauses.setdefault(fresh or "", []).append(Instance(kind, day, until))
        else:
            concluded["outcome"] = "abandoned"
        self.emit(concluded)

    def correction(self) -> None:
        while self.investments:
            version, effective_on = self.investments.pop(self.rng.randrange(len(self.investments)))
            if version in self.withdrawn:
                continue
            self.withdrawn.add(version)
            replacement = self.base("investment", date.fromisoformat(effective_on).toordinal())
            investor, recipient = self.rng.sample(PARTIES, k=2)
            replacement.update(investor=investor, recipient=recipient, **self._amount())
            self.emit(
                {
                    "type": "correction",
                    "corrects": f"{AGREEMENT}#{version}",
                    "reason": "the source's figure was wrong",
                    "source": {"citation": "Erratum", "confidence": "confirmed"},
                    "replacement": replacement,
                }
            )
            return
        self.investment(self.day)

    def retraction(self) -> None:
        for _ in range(PROBES):
            if not self.retractable:
                break
            version = self.retractable.pop(self.rng.randrange(len(self.retractable)))
            if version in self.withdrawn:
                continue
            self.withdrawn.add(version)
            self.emit(
                {
                    "type": "retraction",
                    "retracts": f"{AGREEMENT}#{version}",
                    "reason": "never happened",
                    "source": {"citation": "Erratum", "confidence": "confirmed"},
                }
            )
            return
        self.investment(self.day)

    def backdated(self, day: int) -> None:
        label = "backdated"
        r = self.rng.random()
        if r < 0.25:
            clause = self.probe(day, want=True, used=set())
            if clause is not None:
                instance = self.in_force(clause, day)
                assert instance is not None  # noqa: S101 - the probe found it in force
                event = self.base("amendment", day)
                event["changes"] = [{"amend": clause, "terms": self.amended_terms(instance.kind)}]
                self.emit(event, label)
                return
        elif r < 0.40:
            holder, entity = self.party(), self.rng.choice(ENTITIES)
            held = self._stake(holder, entity, day)
            if held > 0:  # a stake only ever shrinks back in time: no later sum can pass 100
                self._set_stake(holder, entity, day, self.rng.randint(0, held), label)
                return
        elif r < 0.401:
            self.governance(day, allow_restructuring=False, label=label)
            return
        self.investment(day, label)


def _percent(hundredths: int) -> str:
    whole, part = divmod(hundredths, 100)
    return f"{whole}.{part:02d}" if part else str(whole)


def synthetic(n: int, seed: int = SEED) -> tuple[list[dict[str, Any]], Counter[str]]:
    """``n`` plain events (amendment-file shape) of one agreement, and their mix."""
    synth = Synth(seed)
    events = synth.generate(n)
    return events, synth.kinds


# --------------------------------------------------------------------------------------
# Measuring one size (runs in a child process)
# --------------------------------------------------------------------------------------


def emit(key: str, value: Any) -> None:
    """A result line for the parent."""
    print(json.dumps({"key": key, "value": value}), flush=True)


def progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    """This process's peak RSS in MiB.

    ``VmHWM`` belongs to the process's own address space; ``ru_maxrss`` would also count
    the parent's peak, which Linux carries over a fork and exec into the child.
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


CPU_WALL = [0.0, 0.0]  # CPU and wall seconds of every timed action: a contention check


def timed(action: Callable[[], Any]) -> float:
    cpu, start = time.process_time(), time.perf_counter()
    action()
    wall = time.perf_counter() - start
    CPU_WALL[0] += time.process_time() - cpu
    CPU_WALL[1] += wall
    return wall


def sample(action: Callable[[Any], Any], inputs: Sequence[Any], budget: float) -> list[float]:
    """Latencies of ``action`` over ``inputs``, stopping once ``budget`` seconds are spent."""
    latencies: list[float] = []
    started = time.perf_counter()
    for item in inputs:
        latencies.append(timed(lambda item=item: action(item)))
        if time.perf_counter() - started > budget:
            break
    return latencies


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def latency(key: str, values: Sequence[float]) -> None:
    emit(key, {"median": statistics.median(values), "p95": p95(values), "n": len(values)})


def env_of(path: Path) -> dict[str, str]:
    return StoreLocation.resolve(str(path)).env()


def batched_import(
    path: Path, facts: Sequence[Any], batches: int, budget: float, cost: float | None
) -> tuple[list[datetime], bool]:
    """Append ``facts`` in ``batches``; whether it completed within the budget."""
    n = len(facts)
    size = math.ceil(n / batches)
    starts = list(range(0, n, size))
    if cost is not None:  # the smaller size's seconds per event read+checked per append
        projected = sum(cost * (start + min(size, n - start)) for start in starts)
        if projected > budget:
            emit("import_skipped", f"projected {projected:.0f} s > budget {budget:.0f} s")
            return [], False
    recorded: list[datetime] = []
    worst = 0.0
    spent = 0.0
    with Ledger(str(path)) as ledger:
        for index, start in enumerate(starts):
            batch = facts[start : start + size]
            appended: list[Any] = []
            took = timed(
                lambda batch=batch, out=appended: out.extend(
                    ledger.append(batch, agreement=AGREEMENT)
                )
            )
            spent += took
            recorded.append(appended[0].recorded_at)
            touched = start + len(batch)
            worst = max(worst, took / touched)
            progress(f"import batch {index + 1}/{len(starts)}: {took:.2f} s")
            rest = sum(took * (s + min(size, n - s)) / touched for s in starts[index + 1 :])
            if spent + rest > budget:
                emit(
                    "import_skipped",
                    f"stopped after {touched:,} events in {spent:.1f} s; "
                    f"projected {spent + rest:.0f} s > budget {budget:.0f} s",
                )
                emit("import_cost", worst)
                return recorded, False
    emit("import", {"seconds": spent, "batches": len(starts), "batch": size})
    emit("import_cost", worst)
    return recorded, True


def one_batch_load(path: Path, facts: Sequence[Any]) -> list[datetime]:
    """Load the whole history in one append (rules checked once): a store for the reads."""
    if path.exists():
        path.unlink()
    with Ledger(str(path)) as ledger:
        began = time.perf_counter()
        appended = ledger.append(facts, agreement=AGREEMENT)
        emit("load_one_batch", time.perf_counter() - began)
    return [appended[0].recorded_at]


def naive_as_of(path: Path, mapper: LedgerMapper, on: date, known_at: datetime) -> Any:
    """Read every stored event, map it, sort by effective date, fold: no library, no log."""
    from eventsourcing.persistence import StoredEvent

    ident = agreement_uuid(AGREEMENT)
    with contextlib.closing(sqlite3.connect(path)) as connection:
        rows = connection.execute(SELECT_ROWS, (ident.hex,)).fetchall()
    records = [
        mapper.to_domain_event(
            StoredEvent(originator_id=ident, originator_version=v, topic=t, state=s)
        )
        for v, t, s in rows
    ]
    return fold_state_at(AGREEMENT, records, on, known_at)


def floor(path: Path) -> tuple[int, Decimal]:
    """The raw floor: SELECT the rows, orjson.loads each, sum the investment amounts."""
    total = Decimal(0)
    with contextlib.closing(sqlite3.connect(path)) as connection:
        rows = connection.execute(SELECT_ROWS, (agreement_uuid(AGREEMENT).hex,)).fetchall()
    for _, topic, state in rows:
        fields = orjson.loads(state)
        if topic == INVESTMENT_TOPIC:
            total += Decimal(fields["amount"]["amount"])
    return len(rows), total


def library_get(path: Path) -> int:
    """eventsourcing's replay path: repository.get with our projector, a fresh application."""
    app = LedgerApplication(env=env_of(path))
    try:
        return app.repository.get(
            agreement_uuid(AGREEMENT), projector_func=project_agreement
        ).version
    finally:
        app.close()


def library_default_mapper(path: Path) -> str:
    """What eventsourcing's own Application (default mapper and transcoder) makes of our rows."""
    from eventsourcing.application import Application

    app: Application[Any] = Application(env=env_of(path))
    try:
        app.repository.get(agreement_uuid(AGREEMENT))
    except Exception as error:  # reporting whatever the library raises
        return f"fails: {type(error).__name__}: {str(error).splitlines()[0]}"
    finally:
        app.close()
    return "reads them"


def repeat(action: Callable[[], Any], budget: float, times: int = 3) -> list[float]:
    return sample(lambda _: action(), range(times), budget)


def measure_size(args: argparse.Namespace) -> None:
    n = args.size
    store = Path(args.store_dir) / f"ledger-{n}.sqlite"
    rng = random.Random(SEED + n)  # noqa: S311 - fixed-seed sampling

    began = time.perf_counter()
    plain, mix = synthetic(n)
    facts = [structure_fact(event) for event in plain]
    emit("generate", time.perf_counter() - began)
    emit("mix", dict(mix))
    progress(f"generated {n:,} events in {time.perf_counter() - began:.1f} s")
    last_day = max(date.fromisoformat(e["effective_on"]) for e in plain if "effective_on" in e)
    middle = OPENED + (last_day - OPENED) / 2
    document = Path(args.store_dir) / f"history-{n}.json"
    document.write_bytes(orjson.dumps({"agreement": AGREEMENT, "events": plain}))
    del plain

    recorded, complete = batched_import(store, facts, args.batches, args.budget, args.cost)
    if not complete:
        progress("import over budget: loading the store in one append for the reads")
        recorded = one_batch_load(store, facts)
    del facts
    first_known, last_known = recorded[0], datetime.now(recorded[0].tzinfo)

    # Full replay: a fresh Ledger reads every event and folds them all to the latest date
    # (the plain fold: no checkpoint is used).
    def replay() -> None:
        with Ledger(str(store)) as ledger:
            log = ledger.agreement(AGREEMENT)
            fold_state_at(AGREEMENT, log.records, last_day)

    times = repeat(replay, args.sample_budget)
    emit("replay", {"seconds": statistics.median(times), "n": len(times)})
    progress(f"full replay {statistics.median(times):.2f} s")

    # The same question as users ask it: a fresh Ledger, state_at(latest), from checkpoints.
    def latest() -> None:
        with Ledger(str(store)) as ledger:
            ledger.state_at(last_day, agreement=AGREEMENT)

    latency("latest", repeat(latest, args.sample_budget, times=7))
    emit("cli_replay_n", cli_replay(store, middle, runs=5))
    emit("store_bytes", store_bytes(store))

    times = repeat(lambda: floor(store), args.sample_budget)
    emit("floor", {"seconds": statistics.median(times), "n": len(times)})

    times = repeat(lambda: library_get(store), args.sample_budget)
    emit("library", {"seconds": statistics.median(times), "n": len(times)})
    emit("library_default", library_default_mapper(store))
    progress("floor and library done")

    span = (last_day - OPENED).days
    dates = [OPENED + timedelta(days=rng.randint(0, span)) for _ in range(ASOF_SAMPLES)]
    moments = [first_known + (last_known - first_known) * rng.random() for _ in range(ASOF_SAMPLES)]
    with Ledger(str(store)) as ledger:
        ours = ledger.state_at(dates[0], known_at=moments[0], agreement=AGREEMENT)
        theirs = naive_as_of(store, LedgerMapper(), dates[0], moments[0])
        emit("naive_agrees", ours == theirs)
        latency(
            "asof",
            sample(lambda d: ledger.state_at(d, agreement=AGREEMENT), dates, args.sample_budget),
        )
        progress("as-of done")
        latency(
            "asof_known",
            sample(
                lambda dk: ledger.state_at(dk[0], known_at=dk[1], agreement=AGREEMENT),
                list(zip(dates, moments, strict=True)),
                args.sample_budget,
            ),
        )
    mapper = LedgerMapper()
    latency(
        "naive",
        sample(lambda d: naive_as_of(store, mapper, d, last_known), dates, args.sample_budget),
    )
    progress("naive as-of done")

    rss = subprocess.run(  # noqa: S603 - our own script, our own interpreter
        [sys.executable, __file__, "--_asof", str(store), last_day.isoformat()],
        capture_output=True,
        text=True,
        check=True,
    )
    emit("rss_asof", float(rss.stdout.strip()))

    # Appends last, so every read above saw exactly N events.
    for key, day in (("append_end", last_day), ("append_middle", middle)):
        fact = structure_fact({**APPENDED_INVESTMENT, "effective_on": day.isoformat()})
        with Ledger(str(store)) as ledger:
            emit(key, timed(lambda fact=fact: ledger.append([fact], agreement=AGREEMENT)))
    # Import as users do it from a file: `ledger append` of the whole history as JSON,
    # into a new store, in a fresh process (reading and checking the file included).
    fresh = Path(args.store_dir) / f"cli-{n}.sqlite"
    command = [*ledger_command(), "--store", str(fresh), "append", str(document)]
    began = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603 - our own command
    emit("cli_append", time.perf_counter() - began)
    fresh.unlink()
    document.unlink()
    emit("rss_run", peak_rss_mb())
    emit("cpu_share", CPU_WALL[0] / CPU_WALL[1])
    emit("load", os.getloadavg()[0])


def ledger_command() -> list[str]:
    """The installed ``ledger`` command (or the module, when no script is installed)."""
    script = Path(sys.executable).with_name("ledger")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ledger"]


def walls(command: list[str], runs: int) -> float:
    """Median wall time of ``command`` over ``runs`` runs, after one uncounted warm-up."""
    taken = []
    for index in range(runs + 1):
        began = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)  # noqa: S603 - our own command
        if index:
            taken.append(time.perf_counter() - began)
    return statistics.median(taken)


def cli_replay(store: Path, on: date, runs: int) -> float:
    """``ledger replay --as-of`` on this store, a fresh process each time."""
    command = [*ledger_command(), "--store", str(store), "replay", "--as-of", on.isoformat()]
    return walls(command, runs)


def store_bytes(store: Path) -> dict[str, int]:
    """Bytes of stored events and of checkpoints (those in force and all) in the store."""
    with contextlib.closing(sqlite3.connect(store)) as connection:
        (events,) = connection.execute("SELECT SUM(LENGTH(state)) FROM stored_events").fetchone()
        current, every, count = connection.execute(
            "SELECT SUM(CASE WHEN valid_until > 1e18 THEN LENGTH(state) ELSE 0 END), "
            "SUM(LENGTH(state)), SUM(valid_until > 1e18) FROM ledger_checkpoints"
        ).fetchone()
    return {"events": events, "current": current or 0, "all": every or 0, "count": count or 0}


def asof_child(store: str, on: str) -> None:
    """One as-of in a fresh process; prints the process's peak RSS in MiB."""
    with Ledger(store) as ledger:
        ledger.state_at(date.fromisoformat(on), agreement=AGREEMENT)
    print(f"{peak_rss_mb():.1f}")


# --------------------------------------------------------------------------------------
# The parent: sizes in child processes, the CLI timing, the table
# --------------------------------------------------------------------------------------


def run_child(
    args: argparse.Namespace, n: int, store_dir: Path, cost: float | None
) -> tuple[dict[str, Any], str | None]:
    command = [
        sys.executable,
        __file__,
        "--_size",
        str(n),
        "--_store-dir",
        str(store_dir),
        "--batches",
        str(args.batches),
        "--budget",
        str(args.budget),
        "--sample-budget",
        str(args.sample_budget),
    ]
    if cost is not None:
        command += ["--_cost", repr(cost)]
    results: dict[str, Any] = {}
    lines: queue.Queue[str | None] = queue.Queue()
    child = subprocess.Popen(  # noqa: S603 - our own script, our own interpreter
        command, stdout=subprocess.PIPE, text=True, start_new_session=True
    )

    def pump() -> None:
        assert child.stdout is not None  # noqa: S101 - piped above
        for line in child.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + args.size_timeout
    problem = None
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)  # the child and its own as-of child
            problem = f"stopped at the {args.size_timeout:.0f} s wall budget"
            break
        if line is None:
            break
        record = json.loads(line)
        results[record["key"]] = record["value"]
    code = child.wait()
    if problem is None and code != 0:
        problem = f"the run failed (exit {code}); see the messages above"
    return results, problem


def cli_timing(runs: int) -> dict[str, float]:
    """Median wall time of ``ledger replay`` on the bundled example vs bare imports."""
    with tempfile.TemporaryDirectory(prefix="ledger-bench-cli-") as tmp:
        store = str(Path(tmp) / "example.sqlite")
        subprocess.run(  # noqa: S603 - the project's own command
            [*ledger_command(), "--store", store, "init", "--example", "openai-microsoft"],
            check=True,
            capture_output=True,
        )
        replay = [*ledger_command(), "--store", store, "replay", "--as-of", "2025-06-30"]
        return {
            "cli_replay": walls(replay, runs),
            "cli_replay_json": walls([*replay, "--json"], runs),
            "cli_imports": walls([sys.executable, "-c", BARE_IMPORTS], runs),
        }


def label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def eps(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f} ev/s ({seconds:.2f} s)"


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def cells(n: int, r: dict[str, Any]) -> dict[str, str]:
    """One size's column of the table."""
    out: dict[str, str] = {}
    if "generate" in r:
        out["generate"] = f"{r['generate']:.1f} s"
    if "import" in r:
        imp = r["import"]
        out["import"] = f"{eps(n, imp['seconds'])}, {imp['batches']}×{imp['batch']:,}"
    elif "import_skipped" in r:
        out["import"] = "skipped (budget)"
    if "load_one_batch" in r:
        out["load"] = eps(n, r["load_one_batch"])
    if "cli_append" in r:
        out["cli_append"] = eps(n, r["cli_append"])
    for key in ("append_end", "append_middle"):
        if key in r:
            out[key] = ms(r[key])
    for key in ("replay", "floor", "library"):
        if key in r:
            out[key] = eps(n, r[key]["seconds"]) + (f", n={r[key]['n']}" if r[key]["n"] < 3 else "")
    if "library_default" in r:
        out["library_default"] = r["library_default"].split(":")[0] + (
            f" ({r['library_default'].split(':')[1].strip()})"
            if r["library_default"].startswith("fails")
            else ""
        )
    if "latest" in r:
        out["latest"] = f"{ms(r['latest']['median'])} (n={r['latest']['n']})"
    if "cli_replay_n" in r:
        out["cli_replay_n"] = ms(r["cli_replay_n"])
    if "store_bytes" in r:
        b = r["store_bytes"]
        out["store_bytes"] = (
            f"{b['events'] / 2**20:,.1f} / {b['current'] / 2**20:,.1f} ({b['count']:,}) / "
            f"{b['all'] / 2**20:,.1f} MiB"
        )
    for key in ("asof", "asof_known", "naive"):
        if key in r:
            v = r[key]
            out[key] = f"{ms(v['median'])} / {ms(v['p95'])} (n={v['n']})"
    if "naive_agrees" in r:
        out["naive"] = out.get("naive", "") + ("" if r["naive_agrees"] else " ≠ ours!")
    if "replay" in r and "floor" in r:
        out["ours_floor"] = f"{r['replay']['seconds'] / r['floor']['seconds']:.1f}×"
    if "replay" in r and "library" in r:
        out["ours_library"] = f"{r['replay']['seconds'] / r['library']['seconds']:.2f}×"
    if "naive" in r and "asof" in r:
        out["naive_ours"] = f"{r['naive']['median'] / r['asof']['median']:.2f}×"
    if "rss_asof" in r:
        out["rss_asof"] = f"{r['rss_asof']:,.0f} MiB"
    if "rss_run" in r:
        out["rss_run"] = f"{r['rss_run']:,.0f} MiB"
    if "cpu_share" in r:
        out["cpu_share"] = f"{r['cpu_share']:.0%} (load {r['load']:.1f})"
    return out


def across_sizes(
    raw: dict[int, dict[str, Any]], columns: dict[int, dict[str, str]], cli: dict[str, float] | None
) -> None:
    """Ratios between sizes, measured in the same run: append cost and CLI wall vs small."""
    smallest = min(raw, default=None)
    for n, r in raw.items():
        base = raw[smallest] if smallest is not None else {}
        for key in ("append_end", "append_middle"):
            if key in r and key in base:
                columns[n][f"{key}_ratio"] = f"{r[key] / base[key]:.2f}×"
        if cli is not None and "cli_replay_n" in r:
            columns[n]["cli_ratio"] = f"{r['cli_replay_n'] / cli['cli_replay']:.2f}×"


ROWS = (
    ("generate", "synthetic history: generate + structure_fact (not a result)"),
    ("import", "import: Ledger.append in batches, every rule checked"),
    ("load", "  (store loaded in ONE append instead, for the reads)"),
    ("cli_append", "import: `ledger append history.json` (all N in one file), fresh store"),
    ("append_end", "append 1 event at the end (ms)"),
    ("append_middle", "append 1 event backdated to the middle (ms)"),
    ("append_end_ratio", "append at the end ÷ the same at the smallest N"),
    ("append_middle_ratio", "append backdated to the middle ÷ the same at the smallest N"),
    ("replay", "full replay: fresh Ledger reads all N events, plain fold to the latest date"),
    ("latest", "replay to the latest date as users ask: fresh Ledger, state_at (ms)"),
    ("asof", "as-of: state_at(random date), median / p95 (ms)"),
    ("asof_known", "as-of + random known_at, median / p95 (ms)"),
    ("library", "peer: eventsourcing repository.get + project_agreement"),
    ("library_default", "peer: eventsourcing default Application on our rows"),
    ("naive", "peer: naive SELECT+map+sort+fold as-of, median / p95 (ms)"),
    ("floor", "floor: sqlite3 SELECT + orjson.loads + sum investments"),
    ("ours_floor", "ours ÷ floor (full replay time)"),
    ("ours_library", "ours ÷ library repository.get (full replay time)"),
    ("naive_ours", "naive ÷ ours (as-of median)"),
    ("cli_replay_n", "`ledger replay --as-of` (middle date) on this store, median wall (ms)"),
    ("cli_ratio", "that ÷ `ledger replay --as-of` on the bundled example"),
    ("store_bytes", "stored events / checkpoints in force (count) / all checkpoints kept"),
    ("rss_asof", "peak RSS: one as-of in a fresh process"),
    ("rss_run", "peak RSS: the whole size run (generate, import, reads)"),
    ("cpu_share", "CPU ÷ wall of the timed parts (1-min load at the end)"),
)


def render(
    sizes: Sequence[int],
    columns: dict[int, dict[str, str]],
    cli: dict[str, float] | None,
    markdown: bool,
) -> str:
    headers = ["", *(f"N = {label(n)}" for n in sizes)]
    body: list[list[str]] = []
    for key, title in ROWS:
        row = [columns[n].get(key, "—") for n in sizes]
        if key == "load" and all(v == "—" for v in row):
            continue
        body.append([title, *row])
    extra: list[list[str]] = []
    if cli is not None:
        blank = [""] * (len(sizes) - 1)
        extra = [
            [
                "`ledger replay --as-of` on the bundled example, median wall",
                ms(cli["cli_replay"]) + " ms",
                *blank,
            ],
            [
                f"`python -c '{BARE_IMPORTS}'`",
                ms(cli["cli_imports"]) + " ms",
                *blank,
            ],
            ["CLI ÷ bare imports", f"{cli['cli_replay'] / cli['cli_imports']:.2f}×", *blank],
            [
                "`ledger replay --as-of --json` ÷ bare imports",
                f"{cli['cli_replay_json'] / cli['cli_imports']:.2f}×",
                *blank,
            ],
        ]
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(row) + " |" for row in body + extra]
        return "\n".join(lines)
    from rich.console import Console
    from rich.table import Table

    table = Table(title="contract-ledger benchmark (issue 6)", show_lines=False)
    for index, header in enumerate(headers):
        table.add_column(header, justify="left" if index == 0 else "right")
    for row in body:
        table.add_row(*row)
    if extra:
        table.add_section()
        for row in extra:
            table.add_row(*(cell.replace("`", "") for cell in row))
    buffer = io.StringIO()
    Console(file=buffer, width=250, force_terminal=False).print(table)
    return buffer.getvalue().rstrip()


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    revision = subprocess.run(  # which code was measured
        ["git", "describe", "--always", "--dirty"],  # noqa: S607
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent,
        check=False,
    ).stdout.strip()
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.release()}, "
        f"code {revision or 'unknown'}"
    )


def parse_sizes(text: str) -> tuple[int, ...]:
    sizes = []
    for part in text.split(","):
        part = part.strip().lower()
        factor = {"k": 1_000, "m": 1_000_000}.get(part[-1:], 1)
        sizes.append(int(float(part.rstrip("km")) * factor))
    return tuple(sizes)


def profile(args: argparse.Namespace) -> None:
    """cProfile one path on a store of ``--profile-size`` events; the top 10 lines."""
    n = args.profile_size
    with tempfile.TemporaryDirectory(prefix="ledger-bench-profile-") as tmp:
        store = Path(tmp) / "profile.sqlite"
        plain, _ = synthetic(n)
        last_day = max(date.fromisoformat(e["effective_on"]) for e in plain if "effective_on" in e)
        facts = [structure_fact(event) for event in plain]
        if args.profile == "import":
            target: Callable[[], Any] = lambda: batched_import(  # noqa: E731
                store, facts, args.batches, math.inf, None
            )
        else:
            with contextlib.redirect_stdout(io.StringIO()):
                one_batch_load(store, facts[:-1])
            if args.profile in ("append", "backdated"):
                last = facts[-1:]
                if args.profile == "backdated":  # an investment dated the middle date
                    middle = OPENED + (last_day - OPENED) / 2
                    last = [structure_fact({**APPENDED_INVESTMENT, "effective_on": str(middle)})]

                def target() -> Any:
                    with Ledger(str(store)) as ledger:
                        return ledger.append(last, agreement=AGREEMENT)

            else:

                def target() -> Any:
                    with Ledger(str(store)) as ledger:
                        return ledger.state_at(last_day, agreement=AGREEMENT)

        profiler = cProfile.Profile()
        with contextlib.redirect_stdout(io.StringIO()):
            profiler.runcall(target)
        for order in ("tottime", "cumulative"):
            print(f"\n# {args.profile} at N = {label(n)}: top 10 by {order}")
            stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs().sort_stats(order)
            stats.print_stats(10)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 1k, 10k; under a minute")
    parser.add_argument("--sizes", type=parse_sizes, help="e.g. 1k,10k,100k,1M")
    parser.add_argument("--batches", type=int, default=10, help="import batches per size")
    parser.add_argument("--budget", type=float, default=120.0, help="import budget (s)")
    parser.add_argument(
        "--sample-budget", type=float, default=None, help="seconds per repeated measurement"
    )
    parser.add_argument(
        "--size-timeout", type=float, default=None, help="wall budget of one size's run (s)"
    )
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI start-up timing")
    parser.add_argument("--cli-runs", type=int, default=5)
    parser.add_argument("--profile", choices=("import", "replay", "append", "backdated"))
    parser.add_argument("--profile-size", type=parse_sizes, default=(100_000,))
    parser.add_argument("--_size", dest="size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--_store-dir", dest="store_dir", help=argparse.SUPPRESS)
    parser.add_argument("--_cost", dest="cost", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--_asof", dest="asof", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sample_budget is None:
        args.sample_budget = 4.0 if args.quick else 30.0
    if args.size_timeout is None:
        args.size_timeout = 45.0 if args.quick else 900.0

    if args.asof:
        asof_child(*args.asof)
        return 0
    if args.size:
        measure_size(args)
        return 0
    if args.profile:
        args.profile_size = args.profile_size[0]
        profile(args)
        return 0

    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    started = time.perf_counter()
    print(f"# {machine()}", file=sys.stderr)
    cli = None
    if not args.no_cli:
        print("CLI start-up timing…", file=sys.stderr)
        cli = cli_timing(args.cli_runs)
    columns: dict[int, dict[str, str]] = {}
    raw: dict[int, dict[str, Any]] = {}
    notes: list[str] = []
    store_dir = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    try:
        cost = None
        for n in sorted(sizes):
            print(f"N = {label(n)}…", file=sys.stderr)
            results, problem = run_child(args, n, store_dir, cost)
            cost = results.get("import_cost", cost)
            columns[n] = cells(n, results)
            raw[n] = results
            if "import_skipped" in results:
                notes.append(
                    f"N = {label(n)}: batched import skipped (budget): {results['import_skipped']}"
                )
            if problem:
                notes.append(f"N = {label(n)}: {problem}; the missing cells (—) were not measured")
            if "mix" in results:
                mix = ", ".join(f"{k} {v:,}" for k, v in sorted(results["mix"].items()))
                notes.append(f"N = {label(n)} mix: {mix}")
            if "library_default" in results:
                notes.append(f"N = {label(n)}: default Application: {results['library_default']}")
            for path in store_dir.glob("*"):
                path.unlink()
    finally:
        shutil.rmtree(store_dir, ignore_errors=True)
    across_sizes(raw, columns, cli)
    print(render(sorted(sizes), columns, cli, args.markdown))
    print()
    print(f"Machine: {machine()}")
    print(
        f"Settings: seed {SEED}, {args.batches} import batches per size, import budget "
        f"{args.budget:.0f} s, sample budget {args.sample_budget:.0f} s per measurement, "
        f"size wall budget {args.size_timeout:.0f} s; total {time.perf_counter() - started:.0f} s"
    )
    for note in notes:
        print(f"- {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
