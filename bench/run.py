"""The benchmark: the ledger's per-event costs and its answers' speed, this version side by
side with another (by default the commit before the "one core" redesign), in one run.

    python bench/run.py                              # N = 1k, 100k, 1M; both mixes
    python bench/run.py --quick                      # N = 1k, 20k (a few minutes)
    python bench/run.py --sizes 1k,100k --mixes churn
    python bench/run.py --before ed28b46 --markdown  # compare with another commit
    python bench/run.py --before none                # this version alone

The other version is checked out as a git worktree in a temporary folder, and each
(version, mix, size) is measured in a child process of its own, with the other version's
package first on ``PYTHONPATH``. Both versions get the same histories (``synthetic.py``),
are asked only through the public API and the ``ledger`` command, and are timed on the
same machine in the same run: read the ratios, not the absolute times.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from common import APPENDED
from synthetic import AGREEMENT, MIXES, synthetic

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GIT = shutil.which("git") or "git"
BEFORE = "ed28b46"  # the last commit before "One core" (issue 12)
ASOF_SAMPLES = 100
YAML_LIMIT = 100_000  # YAML files beyond this take minutes to write, whatever reads them
BARE_IMPORTS = "import eventsourcing.application, eventsourcing.sqlite, attrs, click"
INVESTMENT_TOPIC = "contract-ledger/investment"


# -- measuring, in the child --------------------------------------------------------------


def emit(key: str, value: Any) -> None:
    """A result for the parent."""
    print(json.dumps({"key": key, "value": value}), flush=True)


def progress(message: str) -> None:
    print(f"    {message}", file=sys.stderr, flush=True)


def ledger_command(code: Path) -> list[str]:
    """The ``ledger`` command of the code measured."""
    return (
        [sys.executable, "-c", "from ledger.cli import run; run()"]
        if (code / "ledger" / "cli.py").exists()
        else [sys.executable, "-m", "ledger"]
    )


def timed_process(command: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """Wall seconds, exit code, and peak RSS (KiB) of a command run to its end, from a
    folder of its own (``python -c`` puts the working folder first on the path)."""
    began = time.perf_counter()
    child = subprocess.Popen(  # noqa: S603 - our own command
        command,
        env=env,
        cwd=tempfile.gettempdir(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(child.pid, 0)
    took = time.perf_counter() - began
    if child.stderr is not None:
        errors = child.stderr.read().decode()
        if status != 0:
            progress(f"{command[-2:]} failed: {errors.strip()[:300]}")
    return took, os.waitstatus_to_exitcode(status), usage.ru_maxrss


def floor(store: Path) -> float:
    """The raw floor: SELECT the rows, orjson.loads each, sum the investment amounts."""
    began = time.perf_counter()
    total = Decimal(0)
    with contextlib.closing(sqlite3.connect(store)) as connection:
        rows = connection.execute(
            "SELECT topic, state FROM stored_events ORDER BY originator_id, originator_version"
        ).fetchall()
    for topic, state in rows:
        fields = orjson.loads(state)
        if topic == INVESTMENT_TOPIC:
            total += Decimal(fields["amount"]["amount"])
    return time.perf_counter() - began


def without_checkpoints(store: Path, copy: Path) -> None:
    """A copy of the store whose questions must fold from the opening."""
    shutil.copyfile(store, copy)
    with contextlib.closing(sqlite3.connect(copy)) as connection:
        connection.execute("DELETE FROM ledger_checkpoints")
        connection.commit()


def measure(args: argparse.Namespace) -> None:
    """Every row for one version, mix and size (runs in a child process)."""
    from ledger import Ledger, structure_fact

    code, n, mix = Path(args.code), args.size, args.mix
    work = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    env = child_environment(code)
    command = ledger_command(code)
    try:
        plain, kinds = synthetic(n, mix=mix)
        emit("mix", dict(kinds))
        facts = [structure_fact(event) for event in plain]
        days = sorted({e["effective_on"] for e in plain if "effective_on" in e})
        first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
        middle = date.fromordinal((first.toordinal() + last.toordinal()) // 2)
        progress(f"{n:,} {mix} events generated")

        store = work / "api.sqlite"
        with Ledger(str(store)) as ledger:
            began = time.perf_counter()
            ledger.append(facts, agreement=AGREEMENT)
            emit("import_api", time.perf_counter() - began)
        progress("imported through the API")

        document = {"agreement": AGREEMENT, "events": plain}
        as_json = work / "history.json"
        as_json.write_bytes(orjson.dumps(document))
        took, code_, rss = timed_process(
            [*command, "--store", str(work / "json.sqlite"), "append", str(as_json)], env
        )
        emit("append_json", {"seconds": took, "exit": code_, "rss_kib": rss})
        progress("appended as JSON")
        if n <= YAML_LIMIT:
            import yaml

            as_yaml = work / "history.yaml"
            as_yaml.write_text(yaml.safe_dump(document, sort_keys=False), "utf-8")
            took, code_, rss = timed_process(
                [*command, "--store", str(work / "yaml.sqlite"), "append", str(as_yaml)], env
            )
            emit("append_yaml", {"seconds": took, "exit": code_, "rss_kib": rss})
            progress("appended as YAML")

        cold = work / "cold.sqlite"
        without_checkpoints(store, cold)
        floors = [floor(cold) for _ in range(3)]
        emit("floor", min(floors))
        with Ledger(str(cold)) as ledger:
            began = time.perf_counter()
            ledger.state_at(last)
            emit("full_replay", time.perf_counter() - began)
        progress("full replay and floor")

        rng = random.Random(n)  # noqa: S311 - a fixed-seed sample, not security
        asked = [
            date.fromordinal(rng.randint(first.toordinal(), last.toordinal()))
            for _ in range(ASOF_SAMPLES)
        ]
        with Ledger(str(store)) as ledger:
            times = []
            for day in asked:
                began = time.perf_counter()
                ledger.state_at(day)
                times.append(time.perf_counter() - began)
        emit("asof", times)
        progress("as-of")

        cli = []
        for _ in range(5):
            took, _, _ = timed_process(
                [*command, "--store", str(store), "replay", "--as-of", middle.isoformat()], env
            )
            cli.append(took)
        emit("cli_replay", statistics.median(cli))

        for key, day in (("append_end", last), ("append_backdated", middle)):
            copy = work / f"{key}.sqlite"
            shutil.copyfile(store, copy)
            with Ledger(str(copy)) as ledger:
                event = structure_fact({**APPENDED, "effective_on": day.isoformat()})
                began = time.perf_counter()
                ledger.append([event], agreement=AGREEMENT)
                emit(key, time.perf_counter() - began)
            copy.unlink()
        progress("appends")
        emit("store_bytes", store.stat().st_size)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def startup(args: argparse.Namespace) -> None:
    """The bundled example's replay in fresh processes, against bare imports of the stack."""
    from ledger import Ledger

    code = Path(args.code)
    env = child_environment(code)
    work = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    try:
        store = work / "example.sqlite"
        with Ledger(str(store)) as ledger:
            ledger.load_example("openai-microsoft")
        command = [*ledger_command(code), "--store", str(store), "replay", "--as-of", "2024-01-01"]
        for key, run in (
            ("example_replay", command),
            ("example_replay_json", [*command, "--json"]),
            ("bare_imports", [sys.executable, "-c", BARE_IMPORTS]),
        ):
            timed_process(run, env)  # warm the file cache
            emit(key, statistics.median(timed_process(run, env)[0] for _ in range(7)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- orchestrating, in the parent ---------------------------------------------------------


def child_environment(code: Path) -> dict[str, str]:
    """The environment of everything measured on ``code``: its package first on the path,
    and byte code cached as an installed package has it."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "LEDGER_STORE")
    }
    return {**env, "PYTHONPATH": f"{code}{os.pathsep}{HERE}", "NO_COLOR": "1"}


def run_child(code: Path, extra: list[str], timeout: float) -> dict[str, Any]:
    """Run this script as a child on ``code``; its results by key."""
    env = child_environment(code)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        "--code",
        str(code),
        *extra,
    ]
    try:
        done = subprocess.run(  # noqa: S603 - this very script
            command,
            env=env,
            capture_output=False,
            stdout=subprocess.PIPE,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"stopped after {timeout:.0f} s"}
    results: dict[str, Any] = {}
    for line in done.stdout.splitlines():
        with contextlib.suppress(ValueError):
            item = json.loads(line)
            results[item["key"]] = item["value"]
    if done.returncode != 0:
        results["error"] = f"exit {done.returncode}"
    return results


@contextlib.contextmanager
def checkout(revision: str) -> Iterator[Path]:
    """``revision`` checked out in a temporary git worktree (a path is used as it is)."""
    if Path(revision).is_dir():
        yield Path(revision).resolve()
        return
    folder = Path(tempfile.mkdtemp(prefix="ledger-before-")) / "code"
    subprocess.run(  # noqa: S603 - git, on this repository
        [GIT, "-C", str(ROOT), "worktree", "add", "--detach", str(folder), revision],
        check=True,
        capture_output=True,
    )
    try:
        yield folder
    finally:
        subprocess.run(  # noqa: S603 - git, on this repository
            [GIT, "-C", str(ROOT), "worktree", "remove", "--force", str(folder)],
            check=False,
            capture_output=True,
        )


def parse_sizes(text: str) -> list[int]:
    """``1k,100k,1M`` as numbers."""
    units = {"k": 1_000, "M": 1_000_000}
    return [
        int(float(part[:-1]) * units[part[-1]]) if part[-1] in units else int(part)
        for part in text.split(",")
    ]


def label(n: int) -> str:
    """A size as people say it."""
    return (
        f"{n // 1_000_000}M"
        if n % 1_000_000 == 0
        else f"{n // 1_000}k"
        if n % 1_000 == 0
        else str(n)
    )


def per_second(n: int, seconds: float | None) -> str:
    return "—" if not seconds else f"{n / seconds:,.0f}/s"


def ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:,.1f} ms"


def ratio(mine: float | None, theirs: float | None, *, higher_is_better: bool) -> str:
    """How many times better this version is (``×``), or ``—``."""
    if not mine or not theirs:
        return "—"
    return f"{(mine / theirs if higher_is_better else theirs / mine):.2f}×"


def rows_for(
    n: int, now: dict[str, Any], then: dict[str, Any], example: dict[str, float]
) -> list[tuple[str, str, str, str]]:
    """(what, this version, the other, this ÷ other) for one size and mix."""

    def rate(results: dict[str, Any], key: str) -> float | None:
        value = results.get(key)
        seconds = value["seconds"] if isinstance(value, dict) else value
        return n / seconds if seconds else None

    def quantile(results: dict[str, Any], q: float) -> float | None:
        times = results.get("asof")
        return statistics.quantiles(times, n=100)[int(q * 100) - 1] if times else None

    def rss(results: dict[str, Any], key: str) -> float | None:
        value = results.get(key)
        return value["rss_kib"] / 1024 if isinstance(value, dict) else None

    rows = []
    for title, key in (
        ("import: one Ledger.append of the whole history", "import_api"),
        ("`ledger append` of a JSON file (fresh process)", "append_json"),
        ("`ledger append` of a YAML file (fresh process)", "append_yaml"),
        ("full cold replay: fresh Ledger, state_at(last date), no checkpoints", "full_replay"),
        ("floor: sqlite3 SELECT + orjson.loads + sum investments", "floor"),
    ):
        mine, theirs = rate(now, key), rate(then, key)
        rows.append(
            (f"{title}, events/s", _n(mine), _n(theirs), ratio(mine, theirs, higher_is_better=True))
        )
    for who in (now, then):
        if who.get("full_replay") and who.get("floor"):
            who["vs_floor"] = who["floor"] / who["full_replay"]
    rows.append(
        (
            "full cold replay ÷ floor (events/s)",
            _pct(now.get("vs_floor")),
            _pct(then.get("vs_floor")),
            "",
        )
    )
    for title, q in (
        ("as-of: state_at(random date), p50", 0.5),
        ("as-of: state_at(random date), p95", 0.95),
    ):
        mine, theirs = quantile(now, q), quantile(then, q)
        rows.append((title, ms(mine), ms(theirs), ratio(mine, theirs, higher_is_better=False)))
    for title, key in (
        ("append 1 event at the end", "append_end"),
        ("append 1 event backdated to the middle date", "append_backdated"),
    ):
        rows.append(
            (
                title,
                ms(now.get(key)),
                ms(then.get(key)),
                ratio(now.get(key), then.get(key), higher_is_better=False),
            )
        )
    mine, theirs = rss(now, "append_json"), rss(then, "append_json")
    budget = 200 + n / 1024
    rows.append(
        (
            f"peak RSS of `ledger append` JSON (budget {budget:,.0f} MiB)",
            _mib(mine),
            _mib(theirs),
            ratio(mine, theirs, higher_is_better=False),
        )
    )
    for who, base in ((now, example.get("now")), (then, example.get("then"))):
        if who.get("cli_replay") and base:
            who["cli_vs_example"] = who["cli_replay"] / base
    rows.append(
        (
            "`ledger replay --as-of` (middle date), fresh process",
            ms(now.get("cli_replay")),
            ms(then.get("cli_replay")),
            ratio(now.get("cli_replay"), then.get("cli_replay"), higher_is_better=False),
        )
    )
    rows.append(
        (
            "  that ÷ the same on the bundled example",
            _x(now.get("cli_vs_example")),
            _x(then.get("cli_vs_example")),
            "",
        )
    )
    rows.append(
        (
            "store size (events and read model)",
            _mib((now.get("store_bytes") or 0) / 2**20),
            _mib((then.get("store_bytes") or 0) / 2**20),
            "",
        )
    )
    return rows


def _n(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _mib(value: float | None) -> str:
    return "—" if not value else f"{value:,.0f} MiB"


def table(
    title: str, rows: Sequence[tuple[str, ...]], header: tuple[str, ...], markdown: bool
) -> str:
    """Rows as a Markdown table, or aligned text."""
    if markdown:
        lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1k,100k,1M")
    parser.add_argument("--mixes", default=",".join(MIXES))
    parser.add_argument("--quick", action="store_true", help="N = 1k, 20k")
    parser.add_argument("--before", default=BEFORE, help="a commit or a folder; none: skip")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per child")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--startup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--code", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mix", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        (startup if args.startup else measure)(args)
        return 0
    sizes = [1_000, 20_000] if args.quick else parse_sizes(args.sizes)
    mixes = [m for m in args.mixes.split(",") if m]
    began = time.perf_counter()
    with contextlib.ExitStack() as stack:
        versions = {"now": ROOT}
        if args.before != "none":
            versions["then"] = stack.enter_context(checkout(args.before))
        example = {}
        for name, code in versions.items():
            print(f"start-up ({name})", file=sys.stderr, flush=True)
            example[name] = run_child(code, ["--startup"], args.timeout)
        out = []
        for mix in mixes:
            for n in sizes:
                results = {}
                for name, code in versions.items():
                    print(f"{label(n)} {mix} ({name})", file=sys.stderr, flush=True)
                    extra = ["--size", str(n), "--mix", mix]
                    results[name] = run_child(code, extra, args.timeout)
                header = ("", "this version", f"before ({args.before})", "this ÷ before")
                rows = rows_for(
                    n,
                    results["now"],
                    results.get("then", {}),
                    {k: v.get("example_replay") for k, v in example.items()},
                )
                out.append(table(f"N = {label(n)}, {mix} mix", rows, header, args.markdown))
                mixed = ", ".join(
                    f"{k} {v:,}" for k, v in sorted(results["now"].get("mix", {}).items())
                )
                out.append(f"mix: {mixed}\n")
                errors = {k: r["error"] for k, r in results.items() if "error" in r}
                if errors:
                    out.append(f"errors: {errors}\n")
        start = [
            (
                "`ledger replay --as-of` on the bundled example",
                ms(example["now"].get("example_replay")),
                ms(example.get("then", {}).get("example_replay")),
                "",
            ),
            (
                "  the same with --json",
                ms(example["now"].get("example_replay_json")),
                ms(example.get("then", {}).get("example_replay_json")),
                "",
            ),
            (
                f"`python -c '{BARE_IMPORTS}'`",
                ms(example["now"].get("bare_imports")),
                ms(example.get("then", {}).get("bare_imports")),
                "",
            ),
        ]
        for name in versions:
            found = example[name]
            if found.get("example_replay") and found.get("bare_imports"):
                found["ratio"] = found["example_replay"] / found["bare_imports"]
        start.append(
            (
                "CLI ÷ bare imports",
                _x(example["now"].get("ratio")),
                _x(example.get("then", {}).get("ratio")),
                "",
            )
        )
        out.append(table("Start-up", start, ("", "this version", "before", ""), args.markdown))
    load = os.getloadavg()[0]
    out.append(
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}; load at the end {load:.1f}; "
        f"total {time.perf_counter() - began:.0f} s\n"
    )
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
