"""Benchmark of ``ledger timeline`` (issue 14): projection time, memory and page size.

    python bench/timeline.py                       # 10k and 100k, both mixes (a few minutes)
    python bench/timeline.py --sizes 10k --mixes churn --markdown

For each size and mix of ``synthetic.py``, the history is appended to a SQLite store in a
temporary directory in one ``Ledger.append`` (not timed here: ``run.py`` measures
imports), then, on a fresh ``Ledger``:

- **project**: ``Ledger.timeline()`` over the whole history (the entries read from the
  store and folded from the opening, the picture built), best of ``--repeat``;
- **peak MiB**: the most memory Python allocated during one more projection, traced
  (``tracemalloc``, which slows it: so a separate run), and what the picture holds;
- **HTML**: ``to_html`` of that picture, its time and size (it must stay under 5 MB);
- **text**: ``to_text`` on a 120-column console, its time.

Nothing is asserted on time; a page of 5 MB or more is reported as such and the exit code
is 1.
"""

from __future__ import annotations

import argparse
import gc
import io
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

from synthetic import AGREEMENT, MIXES, synthetic

LIMIT = 5_000_000


def size_of(text: str) -> int:
    """``10k`` is 10000."""
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * factor)


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1_000}k"


@dataclass
class Row:
    """What one size and mix measured."""

    events: int
    mix: str
    project: float
    peak: float
    held: float
    spans: int
    marks: int
    steps: int
    html: float
    bytes: int
    text: float


def measure(n: int, mix: str, repeat: int) -> Row:
    """One row: a store of ``n`` events of ``mix``, projected and drawn."""
    from rich.console import Console

    from ledger import Ledger, structure_fact
    from ledger.presentation.timeline import to_html, to_text

    plain, _ = synthetic(n, mix=mix)
    facts = [structure_fact(event) for event in plain]
    del plain
    with tempfile.TemporaryDirectory(prefix="ledger-timeline-") as work:
        store = str(Path(work) / "bench.sqlite")
        with Ledger(store) as ledger:
            ledger.append(facts, agreement=AGREEMENT)
        del facts
        gc.collect()
        with Ledger(store) as ledger:
            times = []
            for _ in range(repeat):
                began = time.perf_counter()
                picture = ledger.timeline()
                times.append(time.perf_counter() - began)
            del picture
            gc.collect()
            tracemalloc.start()
            picture = ledger.timeline()
            held, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    began = time.perf_counter()
    page = to_html(picture)
    html_seconds = time.perf_counter() - began
    console = Console(width=120, file=io.StringIO(), color_system=None)
    began = time.perf_counter()
    to_text(picture, console)
    text_seconds = time.perf_counter() - began
    return Row(
        events=n,
        mix=mix,
        project=min(times),
        peak=peak / 2**20,
        held=held / 2**20,
        spans=len(picture.clauses),
        marks=sum(1 + len(s.amendments) + (s.closed is not None) for s in picture.clauses)
        + len(picture.governance)
        + sum(1 + len(t.proposals) for t in picture.talks),
        steps=sum(len(s.steps) for s in (*picture.investments, *picture.stakes)),
        html=html_seconds,
        bytes=len(page.encode("utf-8")),
        text=text_seconds,
    )


HEADER = (
    "events",
    "mix",
    "project (s)",
    "ev/s",
    "peak MiB",
    "picture MiB",
    "spans",
    "marks",
    "steps",
    "HTML (s)",
    "HTML MB",
    "text (s)",
)


def cells(row: Row) -> list[str]:
    return [
        label(row.events),
        row.mix,
        f"{row.project:.2f}",
        f"{row.events / row.project:,.0f}",
        f"{row.peak:.0f}",
        f"{row.held:.0f}",
        f"{row.spans:,}",
        f"{row.marks:,}",
        f"{row.steps:,}",
        f"{row.html:.2f}",
        f"{row.bytes / 1e6:.2f}",
        f"{row.text:.2f}",
    ]


def table(rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADER)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(HEADER, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k", help="comma-separated: 10k,100k")
    parser.add_argument("--mixes", default=",".join(MIXES), help="realistic, churn")
    parser.add_argument("--repeat", type=int, default=2, help="projections timed per row")
    parser.add_argument("--markdown", action="store_true", help="a Markdown table")
    args = parser.parse_args()
    rows, over = [], []
    for n in (size_of(s) for s in args.sizes.split(",")):
        for mix in args.mixes.split(","):
            print(f"{label(n)} {mix}…", file=sys.stderr, flush=True)  # progress
            row = measure(n, mix, args.repeat)
            rows.append(cells(row))
            if row.bytes >= LIMIT:
                over.append(f"{label(n)} {mix}")
    print(table(rows, args.markdown))
    if over:
        print(f"HTML of 5 MB or more: {', '.join(over)}")
        return 1
    print("Every HTML page is under 5 MB.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
