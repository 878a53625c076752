"""How fast the web view answers on a large agreement (issue 14: a page in ≤ 300 ms).

    python bench/web.py                          # one agreement of 1M events (builds it)
    python bench/web.py --events 100k
    python bench/web.py --store big.sqlite       # build it there once, reuse it after

A SQLite store holding one synthetic agreement (``synthetic.py``'s realistic mix,
recorded in one append; not timed) is served by the real ``ledger serve`` in a
process of its own. Each page and API answer is asked once to warm up, then ``--repeat``
times (10; fewer once they took ``--budget`` seconds, 30) over HTTP on loopback, one at a
time: the median, p95 and maximum wall time of
the whole request (the server's work, rendering and transfer), and the size of the body.
Dates: the history's middle day; "known at": the moment the first half was recorded.
Nothing is asserted; the table marks each page's median against the target.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from common import build
from synthetic import AGREEMENT

from ledger.testing.served import served

TARGET_MS = 300.0


def size(text: str) -> int:
    """``100k`` → 100,000; ``1M`` → 1,000,000."""
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(text.rstrip("km")) * factor


def moments(store: Path) -> tuple[str, str]:
    """The history's middle effective day, and when its first half was recorded."""
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as connection:
        first, last = connection.execute(
            "SELECT MIN(day), MAX(day) FROM ledger_timeline"
        ).fetchone()
        appends = connection.execute(
            "SELECT recorded_at FROM ledger_appends ORDER BY last_version"
        ).fetchall()
    # The index keeps days as ordinals and recording times as microseconds since the epoch.
    middle = date.fromordinal((first + last) // 2)
    micros = appends[max(0, len(appends) // 2 - 1)][0]
    known = datetime.fromtimestamp(0, UTC) + timedelta(microseconds=micros)
    return middle.isoformat(), known.isoformat()


def pages(middle: str, known: str) -> list[tuple[str, str]]:
    """What a reader asks, as (label, path)."""
    quoted = urllib.parse.quote(known)
    base = f"/agreements/{AGREEMENT}"
    return [
        ("agreements", "/"),
        ("agreement on D", f"{base}?as_of={middle}"),
        ("agreement on D, as known at T", f"{base}?as_of={middle}&known_at={quoted}"),
        ("history (first 2,000 listed)", f"{base}/history"),
        ("diff D1 → D2", f"{base}/diff?from={middle}&to={middle[:4]}-12-31"),
        ("timeline frame", f"{base}/timeline"),
        ("API replay on D", f"/api/agreements/{AGREEMENT}/replay?as_of={middle}"),
    ]


def timed(url: str, repeat: int, budget: float) -> tuple[list[float], int]:
    """Wall seconds of up to ``repeat`` requests after one to warm up (fewer once they
    have taken ``budget`` seconds, at least one); the body's bytes."""
    samples: list[float] = []
    length = 0
    for attempt in range(repeat + 1):
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=900) as answer:  # noqa: S310 - loopback
            length = len(answer.read())
        if attempt:
            samples.append(time.perf_counter() - started)
            if sum(samples) > budget:
                break
    return samples, length


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=size, default=1_000_000, help="e.g. 100k, 1M")
    parser.add_argument("--store", type=Path, help="build the store here (reused if there)")
    parser.add_argument("--repeat", type=int, default=10, help="timed requests per page")
    parser.add_argument(
        "--budget", type=float, default=30.0, help="seconds of timed requests per page"
    )
    args = parser.parse_args()

    folder = tempfile.TemporaryDirectory(prefix="ledger-bench-web-")
    store = args.store or Path(folder.name) / "store.sqlite"
    if not store.exists():
        print(f"building {store} ({args.events:,} events) …", file=sys.stderr, flush=True)
        started = time.perf_counter()
        build(store, args.events)
        print(f"built in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as connection:
        (events,) = connection.execute("SELECT COUNT(*) FROM stored_events").fetchone()
    middle, known = moments(store)
    env = {k: v for k, v in os.environ.items() if k != "LEDGER_STORE"}
    rows = []
    with served(store, env=env, within=120) as base:
        for label, path in pages(middle, known):
            print(f"  {label} …", file=sys.stderr, flush=True)
            samples, length = timed(base + path, args.repeat, args.budget)
            rows.append((label, samples, length))
    folder.cleanup()

    print(f"Web view on one agreement of {events:,} events (as of {middle}; known at {known})")
    print()
    print("| page | n | median ms | p95 ms | max ms | body KiB | median ≤ 300 ms |")
    print("|---|---|---|---|---|---|---|")
    for label, samples, length in rows:
        median = statistics.median(samples) * 1000
        print(
            f"| {label} | {len(samples)} | {median:,.0f} | {quantile(samples, 0.95) * 1000:,.0f} "
            f"| {max(samples) * 1000:,.0f} | {length / 1024:,.0f} "
            f"| {'met' if median <= TARGET_MS else 'NOT met'} |"
        )
    print()
    print(
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"up to {args.repeat} timed requests per page (n), after one to warm up, within "
        f"{args.budget:g} s; 1-minute load at the "
        f"end {os.getloadavg()[0]:.1f}. Absolute times are this machine's."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
