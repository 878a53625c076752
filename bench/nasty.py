"""Nasty files of at most 1 MB through the real command: answer, time and memory.

    python bench/nasty.py                  # every file of tests/nasty.py
    python bench/nasty.py deep-flow.yaml   # some of them

Each file goes to ``ledger --store S append FILE`` in a process of its own, on a fresh
copy of a small store; the table gives the answer (accepted, or refused with exit 2),
the wall and CPU time and the peak memory of that process (``wait4``), and flags any
past the budget of 2 s and 200 MB. The CLI's own start-up is in every row: the first
row times ``ledger --version`` for reference. A child's peak memory counts this script's
at the fork (Linux), so the column is an upper bound: this script holds one file at a time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from nasty import NASTY, opening_events  # noqa: E402 - tests/ is put on the path first

BUDGET_SECONDS = 2.0
BUDGET_MIB = 200


def ledger_command() -> list[str]:
    script = Path(sys.executable).parent / "ledger"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ledger"]


def measured(*args: str) -> tuple[int, str, float, float, float]:
    """As ``run``, with the child's own CPU time and peak memory."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        command = [*ledger_command(), *args]
        process = subprocess.Popen(command, stdout=out, stderr=err)  # noqa: S603 - our own
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        text = (err.read() or out.read()).decode("utf-8", "replace").strip().splitlines()
    cpu = usage.ru_utime + usage.ru_stime
    return (
        os.waitstatus_to_exitcode(status),
        text[0] if text else "",
        wall,
        cpu,
        usage.ru_maxrss / 1024,
    )


def main() -> None:
    from ledger import Ledger, structure_fact

    chosen = sys.argv[1:] or list(NASTY)
    folder = Path(tempfile.mkdtemp(prefix="bench-nasty-"))
    try:
        template = folder / "template.sqlite"
        with Ledger(str(template)) as ledger:
            ledger.append([structure_fact(event) for event in opening_events()])
        code, _, wall, cpu, rss = measured("--version")
        print("| file | bytes | answer | wall (s) | CPU (s) | peak RSS (MiB) | line |")
        print("|---|---|---|---|---|---|---|")
        print(f"| (`ledger --version`) | | exit {code} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | |")
        for name in chosen:
            build, expected = NASTY[name]
            data = build()
            path = folder / name
            path.write_bytes(data)
            store = folder / "store.sqlite"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{store}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(template, store)
            code, line, wall, cpu, rss = measured("--store", str(store), "append", str(path))
            answer = {0: "accepted", 2: "refused"}.get(code, f"exit {code}")
            flags = []
            if answer != expected:
                flags.append(f"EXPECTED {expected.upper()}")
            if wall > BUDGET_SECONDS or rss > BUDGET_MIB:
                flags.append("OVER BUDGET")
            shown = line.replace(str(folder) + "/", "").replace("|", "/")[:90]
            print(
                f"| {name} | {len(data):,} | {answer} {' '.join(flags)} | {wall:.2f} | "
                f"{cpu:.2f} | {rss:.0f} | {shown} |",
                flush=True,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\n1-minute load at the end: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
