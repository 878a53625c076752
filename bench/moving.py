"""How fast a ledger moves: ``ledger export`` and ``ledger import`` on synthetic logs.

    python bench/moving.py                                # N = 10k, 100k; SQLite to SQLite
    python bench/moving.py --sizes 100k --postgres postgresql://postgres@127.0.0.1:5432/test

For each size, one agreement of N events (``synthetic.py``'s realistic mix) is recorded
in a SQLite store in one append (not timed). Then, each in a process of its own,
timed from outside with its CPU time and peak memory (``wait4``):

- ``ledger --store SOURCE export -o FILE``
- ``ledger --store NEW import FILE`` into a new SQLite file (and into a fresh PostgreSQL
  schema with ``--postgres``), every event verified, read strictly and checked against
  every rule before anything is written
- ``ledger --store NEW export``, which must give the same bytes.

Events per second are N ÷ wall time; the CPU column shows how much of the wall the
process had (on a shared machine the wall is noise, the CPU time less so). Peak memory is
the process's own (this script stays small, since a child's count starts from its
parent's at the fork).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import build, postgres_schema

HERE = Path(__file__).resolve().parent


def ledger_command() -> list[str]:
    script = Path(sys.executable).parent / "ledger"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ledger"]


def timed(*args: str) -> dict[str, Any]:
    """Run ``ledger ARGS``; its wall and CPU seconds and peak RSS (MiB)."""
    started = time.monotonic()
    process = subprocess.Popen(  # noqa: S603 - our own command, our own arguments
        [*ledger_command(), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    stderr = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"ledger {' '.join(args)} failed: {stderr.strip()}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 1024}


def measure(n: int, folder: Path, postgres: str | None) -> list[tuple[str, dict[str, Any]]]:
    source = folder / f"source-{n}.sqlite"
    print(f"  building a store of {n:,} events …", file=sys.stderr, flush=True)
    # In a process of its own: a child's peak memory counts its parent's at the fork,
    # so this one stays small.
    subprocess.run(  # noqa: S603 - this very script
        [sys.executable, __file__, "--build", str(source), str(n)], check=True
    )
    exported = folder / f"log-{n}.ndjson"
    rows = [("export (SQLite)", timed("--store", str(source), "export", "-o", str(exported)))]
    rows[-1][1]["bytes"] = exported.stat().st_size
    target = folder / f"imported-{n}.sqlite"
    rows.append(("import (SQLite)", timed("--store", str(target), "import", str(exported))))
    again = folder / f"again-{n}.ndjson"
    timed("--store", str(target), "export", "-o", str(again))
    rows[-1][1]["same"] = again.read_bytes() == exported.read_bytes()
    if postgres:
        with postgres_schema(postgres, "bench_moving") as url:
            rows.append(("import (PostgreSQL)", timed("--store", url, "import", str(exported))))
            rows.append(("export (PostgreSQL)", timed("--store", url, "export", "-o", str(again))))
            rows[-1][1]["same"] = again.read_bytes() == exported.read_bytes()
    return rows


def size(text: str) -> int:
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(text.rstrip("km")) * factor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k", help="comma-separated, e.g. 10k,100k")
    parser.add_argument("--postgres", help="also import into (and export from) this server")
    parser.add_argument("--build", nargs=2, metavar=("STORE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        build(Path(args.build[0]), int(args.build[1]))
        return
    sizes = [size(s) for s in args.sizes.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="bench-moving-"))
    try:
        print("| N | step | events/s | wall (s) | CPU (s) | peak RSS (MiB) | notes |")
        print("|---|---|---|---|---|---|---|")
        for n in sizes:
            for step, figures in measure(n, folder, args.postgres):
                notes = []
                if "bytes" in figures:
                    notes.append(f"{figures['bytes'] / 2**20:.1f} MiB file")
                if "same" in figures:
                    notes.append("exported again: same bytes" if figures["same"] else "DIFFERENT")
                print(
                    f"| {n:,} | {step} | {n / figures['wall']:,.0f} | {figures['wall']:.2f} "
                    f"| {figures['cpu']:.2f} | {figures['rss']:.0f} | {'; '.join(notes)} |",
                    flush=True,
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    load = os.getloadavg()[0]
    print(
        f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; 1-minute load at the end: {load:.1f}"
    )


if __name__ == "__main__":
    main()
