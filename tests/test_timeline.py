"""``ledger timeline``: the projection from an agreement's log to a ``Picture``, the use
case ``Ledger.timeline`` and the command.

The projection is held to the states: every clause span starts on a day its clause is in
force (since that day) and ends on the first day it is not; on every day of the window, the
clauses in force are exactly those of the spans covering it, one span each; every step of
an investment or stake series is the total or stake of the state on its date. Those laws
are checked on the bundled example, on Hypothesis histories (also over random windows) and
on synthetic histories of the benchmark's two mixes. The command is run as users run it.
"""

from __future__ import annotations

import importlib.util
import io
import json
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import attrs
import pytest
from conftest import cli_environment, ledger_command
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from strategies import AGREEMENT, histories

from ledger import Ledger, structure_fact
from ledger.adapters.files import parse_document
from ledger.domain.pictures import picture
from ledger.domain.spans import Picture
from ledger.domain.state import AgreementState
from ledger.domain.timeline import Log, known, state_at
from ledger.domain.values import Confidence, DatePrecision
from ledger.entrypoints.cli import main
from ledger.errors import DateOutOfRange, InputError
from ledger.presentation.lanes import lanes
from ledger.presentation.timeline import to_html, to_text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from synthetic import AGREEMENT as SYNTHETIC
from synthetic import synthetic

ONE_DAY = timedelta(days=1)
LOADED = datetime(2026, 1, 1, 12, tzinfo=UTC)  # the example recorded
BETWEEN = datetime(2026, 1, 15, tzinfo=UTC)  # after the example, before the revision
REVISED = datetime(2026, 2, 1, 12, tzinfo=UTC)  # the backdated amendment recorded
TODAY = datetime(2026, 3, 1, tzinfo=UTC)
OPENED = date(2019, 7, 1)
NEW_TERMS = date(2025, 1, 21)
# Recorded a year after the example: Microsoft's exclusivity became a right of first refusal
# in January 2025, and OpenAI's revenue share fell — backdated to when it took effect.
REVISION = {
    "type": "amendment",
    "effective_on": NEW_TERMS.isoformat(),
    "changes": [
        {"remove": "azure-exclusivity"},
        {
            "add": {
                "id": "azure-first-refusal",
                "kind": "exclusivity",
                "terms": {
                    "holder": "microsoft",
                    "grantor": "openai",
                    "exclusive": False,
                    "right_of_first_refusal": True,
                },
            }
        },
        {"amend": "openai-revenue-share", "terms": {"rate": "8"}},
    ],
    "source": {
        "citation": "A later report",
        "quote": "Microsoft's exclusivity became a right of first refusal.",
        "confidence": "reported",
    },
}


class Clock:
    """A clock the test sets: recording times and "today" are known in advance."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock(LOADED)


@pytest.fixture(scope="module")
def example(clock: Clock) -> Iterable[Ledger]:
    """The bundled example recorded at ``LOADED``, then the revision at ``REVISED``."""
    with Ledger("memory:", clock=clock) as ledger:
        clock.now = LOADED
        ledger.load_example("openai-microsoft")
        clock.now = REVISED
        ledger.append([structure_fact(REVISION)], agreement="openai-microsoft")
        clock.now = TODAY
        yield ledger


# -- the laws ----------------------------------------------------------------------


def check_spans(
    drawn: Picture,
    state_on: Callable[[date], AgreementState],
    opened: date,
    more: Iterable[date] = (),
    every: int = 1,
) -> int:
    """The clause spans of ``drawn`` against the states, on the days around each span's
    ends and on ``more`` days (every ``every``th span and day: a sample of a long
    history); the number of days checked."""
    for span in drawn.clauses[::every]:
        clause = state_on(span.start).clauses.get(span.clause)
        assert clause is not None, f"{span.clause} not in force on its start {span.start}"
        assert clause.in_force_since == span.start
        assert clause.since_precision is span.start_precision
        if span.end is None:
            assert span.ended_by is None
            last = state_on(drawn.end).clauses.get(span.clause)
            assert last is not None, f"{span.clause} said in force at the end, {drawn.end}"
            assert last.in_force_since == span.start
            continue
        assert span.start < span.end <= drawn.end
        after = state_on(span.end).clauses.get(span.clause)
        # Not in force on its end, or removed and added again that day: the next span.
        assert after is None or after.in_force_since == span.end, span
        before = state_on(span.end - ONE_DAY).clauses[span.clause]
        if span.ended_by == "expired":
            assert before.until == span.end - ONE_DAY
            assert span.closed is None
        else:
            assert span.ended_by in ("removed", "terminated")
            assert span.closed is not None
            assert span.closed.on == span.end
        if span.ended_by == "terminated":
            ended = state_on(span.end).terminated
            assert ended is not None
            assert ended.on == span.end
    days = {drawn.start, drawn.end, *more}
    for span in drawn.clauses:
        days |= {span.start, span.start - ONE_DAY}
        if span.end is not None:
            days |= {span.end, span.end - ONE_DAY}
    checked = sorted(d for d in days if max(opened, drawn.start) <= d <= drawn.end)
    for day in checked[::every]:
        covering = Counter(
            s.clause for s in drawn.clauses if s.start <= day and (s.end is None or day < s.end)
        )
        assert all(count == 1 for count in covering.values()), (day, covering)
        assert set(covering) == set(state_on(day).clauses), day
    return len(checked[::every])


def check_steps(drawn: Picture, state_on: Callable[[date], AgreementState]) -> None:
    """Every step of a series is the state's total or stake on its date."""
    for series in drawn.investments:
        assert series.steps
        for step in series.steps:
            totals = {
                f"{t.investor} → {t.recipient} ({t.total.currency})": t.total.amount
                for t in state_on(step.on).investments.values()
            }
            assert totals[series.label] == step.value, (series.label, step)
            assert series.unit in series.label
    for series in drawn.stakes:
        for step in series.steps:
            stakes = {
                f"{s.holder} in {s.entity}": s.percent.value
                for s in state_on(step.on).stakes.values()
            }
            assert stakes.get(series.label, 0) == step.value, (series.label, step)


# -- the bundled example -------------------------------------------------------------


class TestTheExample:
    def test_the_clause_spans_match_the_states(self, example):
        drawn = example.timeline()
        firsts = [date(year, month, 1) for year in range(2019, 2027) for month in range(1, 13)]
        assert check_spans(drawn, example.state_at, OPENED, firsts) > 80
        spans = {span.clause: span for span in drawn.clauses}
        assert len(spans) == len(drawn.clauses) == 8
        assert spans["azure-exclusivity"].end == NEW_TERMS
        assert spans["azure-exclusivity"].ended_by == "removed"
        assert spans["azure-first-refusal"].start == NEW_TERMS

    def test_investment_steps_are_the_totals(self, example):
        drawn = example.timeline()
        check_steps(drawn, example.state_at)
        (money,) = drawn.investments
        assert money.label == "microsoft → openai (USD)"
        assert money.unit == "USD"
        assert [(s.on, s.value, s.event) for s in money.steps] == [
            (OPENED, 1_000_000_000, "openai-microsoft#2")
        ]

    def test_the_window_runs_from_the_opening_to_today_or_the_last_event(self, example, clock):
        drawn = example.timeline()
        assert (drawn.start, drawn.end) == (OPENED, TODAY.date())
        assert drawn.known_at == TODAY
        assert (drawn.agreement, drawn.title) == (
            "openai-microsoft",
            "OpenAI–Microsoft partnership",
        )
        clock.now = datetime(2024, 6, 1, tzinfo=UTC)  # a clock behind the last event's date
        try:
            assert example.timeline(known_at=TODAY).end == NEW_TERMS
        finally:
            clock.now = TODAY

    def test_marks_carry_their_events_precision_and_sources(self, example):
        drawn = example.timeline()
        spans = {span.clause: span for span in drawn.clauses}
        added = spans["microsoft-ip-rights"].added
        assert added.event == "openai-microsoft#1"
        assert added.precision is DatePrecision.MONTH
        assert added.when == "2019-07"
        assert spans["microsoft-ip-rights"].start_precision is DatePrecision.MONTH
        assert added.source.citation == "Foundational Alliance and Early Investments"
        assert added.source.confidence is Confidence.REPORTED
        assert "July 2019" in (added.source.quote or "")
        assert ("until", "2030-12-31") in added.details
        (rate,) = spans["openai-revenue-share"].amendments
        assert rate.details == (("rate", "20 → 8"),)
        assert rate.event == "openai-microsoft#12"
        assert rate.source.citation == "A later report"
        assert spans["azure-exclusivity"].closed.event == "openai-microsoft#12"
        kinds = Counter(mark.kind for mark in drawn.governance)
        assert kinds["governance:ceo_removed"] == 1
        assert all(mark.precision is not DatePrecision.DAY for mark in drawn.governance)
        assert drawn.governance[0].when == "2023-Q4"
        (talks,) = drawn.talks
        assert talks.end is None
        assert talks.status == "open"
        assert talks.opened.precision is DatePrecision.YEAR
        assert len(talks.proposals) == 2
        assert all(("status", "pending") in p.details for p in talks.proposals)
        assert drawn.termination is None

    def test_a_window_keeps_what_overlaps_it(self, example):
        drawn = example.timeline(start=date(2024, 1, 1), end=date(2024, 12, 31))
        assert (drawn.start, drawn.end) == (date(2024, 1, 1), date(2024, 12, 31))
        assert {s.clause for s in drawn.clauses} == {
            s.clause for s in example.timeline().clauses if s.clause != "azure-first-refusal"
        }
        assert all(s.end is None for s in drawn.clauses)  # all still in force on its last day
        assert not drawn.governance  # 2023-Q4 and 2025: outside
        (money,) = drawn.investments
        assert money.steps[0].on == OPENED  # carried in by the renderers
        check_spans(drawn, example.state_at, OPENED)

    def test_compare_known_at_draws_what_was_believed_before_the_revision(self, example):
        drawn = example.timeline(compare_known_at=BETWEEN)
        ghost = drawn.compare
        assert ghost is not None
        assert ghost.compare is None
        assert ghost.known_at == BETWEEN
        assert (ghost.start, ghost.end) == (drawn.start, drawn.end)
        assert ghost == example.timeline(known_at=BETWEEN, start=drawn.start, end=drawn.end)
        believed = {span.clause: span for span in ghost.clauses}
        assert "azure-first-refusal" not in believed
        assert believed["azure-exclusivity"].end is None
        assert not believed["openai-revenue-share"].amendments
        check_spans(ghost, lambda day: example.state_at(day, known_at=BETWEEN), OPENED)
        # Drawn: the ghost bars differ from the bars where the revision changed the past.
        rows = {row.label: row for row in lanes(drawn).clauses}
        exclusivity = rows["azure-exclusivity"]
        assert [(b.start, b.stop) for b in exclusivity.bars] == [(OPENED, NEW_TERMS)]
        assert [(b.start, b.stop) for b in exclusivity.ghosts] == [(OPENED, drawn.end + ONE_DAY)]
        assert rows["azure-first-refusal"].bars
        assert not rows["azure-first-refusal"].ghosts
        same = rows["agi-clause"]
        assert [(b.start, b.stop) for b in same.bars] == [(b.start, b.stop) for b in same.ghosts]

    def test_refusals(self, example):
        with pytest.raises(InputError, match="--to on or after --from"):
            example.timeline(start=date(2024, 1, 1), end=date(2023, 1, 1))
        with pytest.raises(DateOutOfRange, match="2019-07"):
            example.timeline(end=date(2019, 1, 1))
        with pytest.raises(DateOutOfRange, match="not known yet"):
            example.timeline(known_at=datetime(2020, 1, 1, tzinfo=UTC))
        with pytest.raises(DateOutOfRange, match="not known yet"):
            example.timeline(compare_known_at=datetime(2020, 1, 1, tzinfo=UTC))
        with pytest.raises(InputError, match="--from on or before"):
            example.timeline(start=date(2040, 1, 1))

    def test_the_text_timeline(self, example):
        console = Console(width=100, record=True, file=io.StringIO(), color_system=None)
        to_text(example.timeline(compare_known_at=BETWEEN), console)
        text = console.export_text()
        assert "azure-first-refusal" in text
        assert "2019-07" in text
        assert max(len(line) for line in text.splitlines()) <= 100


def test_every_kind_of_store_draws_the_same_picture(store_url):
    """In memory, in SQLite and in PostgreSQL, the entries are read the same way."""
    with Ledger(store_url, clock=Clock(LOADED)) as ledger:
        ledger.load_example("openai-microsoft")
        drawn = ledger.timeline()
        with Ledger("memory:", clock=Clock(LOADED)) as reference:
            reference.load_example("openai-microsoft")
            assert drawn == reference.timeline()
        check_spans(drawn, ledger.state_at, OPENED)
        check_steps(drawn, ledger.state_at)


# -- laws over drawn histories ----------------------------------------------------------


def opened_log(document: dict[str, Any]) -> Log:
    log, _ = Log.open(parse_document(document).events, LOADED)
    return log


@settings(max_examples=50, deadline=None)
@given(
    history=histories(max_events=14), window=st.tuples(st.integers(0, 4500), st.integers(0, 4500))
)
def test_spans_and_steps_follow_the_states(history, window):
    """The laws of the module's docstring, over the whole history and over a window."""
    log = opened_log(history)
    entries = known(AGREEMENT, log.records).entries
    opened = entries[0].effective_on
    end = entries[-1].effective_on + timedelta(days=30)

    def state_on(day: date) -> AgreementState:
        return state_at(AGREEMENT, log.records, day)

    whole = picture(entries, known_at=LOADED, end=end)
    assert (whole.start, whole.end) == (opened, end)
    check_spans(whole, state_on, opened)
    check_steps(whole, state_on)
    events = {entry.id for entry in entries}
    for span in whole.clauses:
        marks = [span.added, *span.amendments, *([span.closed] if span.closed else [])]
        assert {mark.event for mark in marks} <= events
        assert [m.on for m in span.amendments] == sorted(m.on for m in span.amendments)
    terminated = state_on(end).terminated
    assert (whole.termination and whole.termination.event) == (terminated and terminated.event)

    # Within the whole picture's window: past its end, its open spans say nothing.
    low, high = sorted(min(opened + timedelta(days=offset), end) for offset in window)
    part = picture(entries, known_at=LOADED, start=low, end=high)
    check_spans(part, state_on, opened)
    check_steps(part, state_on)
    overlapping = {
        (s.clause, s.start)
        for s in whole.clauses
        if s.start <= high and (s.end is None or s.end > low)
    }
    assert {(s.clause, s.start) for s in part.clauses} == overlapping


def test_the_default_end_is_today_when_the_history_ends_before():
    document = {
        "agreement": AGREEMENT,
        "events": [
            {
                "type": "agreement_opened",
                "effective_on": "2020-01-01",
                "title": "t",
                "parties": [{"id": "acme", "name": "Acme"}],
                "source": {"citation": "c", "confidence": "confirmed"},
            }
        ],
    }
    entries = known(AGREEMENT, opened_log(document).records).entries
    drawn = picture(entries, known_at=LOADED, today=date(2026, 1, 1))
    assert (drawn.start, drawn.end) == (date(2020, 1, 1), date(2026, 1, 1))
    assert picture(entries, known_at=LOADED).end == date(2020, 1, 1)
    with pytest.raises(ValueError, match="entries"):
        picture([], known_at=LOADED)


# -- synthetic histories ---------------------------------------------------------------


@pytest.mark.parametrize("mix", ["realistic", "churn"])
def test_synthetic_histories_follow_the_states_and_draw_small(mix):
    """2,000 events of each of the benchmark's mixes (bench/timeline.py measures 100k)."""
    plain, _ = synthetic(2_000, mix=mix)
    with Ledger("memory:") as ledger:
        ledger.append([structure_fact(event) for event in plain], agreement=SYNTHETIC)
        drawn = ledger.timeline()
        assert len(drawn.clauses) > 100
        assert sum(len(span.amendments) for span in drawn.clauses) > 100
        # A sample: each state costs a fold from a checkpoint.
        assert check_spans(drawn, ledger.state_at, drawn.start, every=30) >= 15
        sample = [attrs.evolve(s, steps=s.steps[::5]) for s in drawn.investments[:2]]
        check_steps(
            attrs.evolve(drawn, investments=sample, stakes=drawn.stakes[:1]), ledger.state_at
        )
    assert len(to_html(drawn).encode()) < 5_000_000


# -- the command -----------------------------------------------------------------------


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.sources.append(dict(attrs).get("src"))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A SQLite store with the example, then the revision; and a time in between."""
    folder = tmp_path_factory.mktemp("timeline")
    path = str(folder / "ledger.sqlite")
    revision = folder / "revision.yaml"
    revision.write_text(
        json.dumps({"agreement": "openai-microsoft", "events": [REVISION]}),
        "utf-8",
    )

    def run(*args: str) -> None:
        done = subprocess.run(
            [*ledger_command(), "--store", path, *args],
            capture_output=True,
            text=True,
            env=cli_environment(),
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr

    run("init", "--example", "openai-microsoft")
    time.sleep(0.01)
    between = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    run("append", str(revision))
    return path, between


class TestCommand:
    @pytest.mark.parametrize("suffix", ["html", "svg", "png"])
    def test_writes_a_picture(self, run_cli, store, tmp_path, suffix):
        path, _ = store
        target = tmp_path / f"partnership.{suffix}"
        done = run_cli("--store", path, "timeline", "-o", str(target))
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"Wrote {target}")
        data = target.read_bytes()
        if suffix == "html":
            page = data.decode("utf-8")
            scripts = _Scripts()
            scripts.feed(page)
            assert scripts.sources, "plotly's JavaScript is inlined"
            assert not any(scripts.sources), "offline: no script is loaded from anywhere"
            assert "azure-first-refusal" in page
            assert "rate: 20 → 8" in page
            assert len(data) < 5_000_000
        elif suffix == "svg":
            root = ET.fromstring(data)  # noqa: S314 - our own output
            assert root.tag.endswith("svg")
            assert b"azure-exclusivity" in data
        else:
            assert data.startswith(b"\x89PNG\r\n\x1a\n")
            width, height = struct.unpack(">II", data[16:24])
            assert width > 300
            assert height > 200

    def test_prints_a_text_timeline_without_o(self, run_cli, store):
        path, _ = store
        done = run_cli("--store", path, "timeline", "--from", "2019-01-01", "--to", "2026-12-31")
        assert done.returncode == 0, done.stderr
        assert "OpenAI–Microsoft partnership" in done.stdout
        assert "2019-01-01 to 2026-12-31" in done.stdout
        for clause in ("azure-exclusivity", "azure-first-refusal", "microsoft-ip-rights"):
            assert clause in done.stdout

    def test_compare_known_at_draws_the_ghost_layer(self, run_cli, store, tmp_path):
        path, between = store
        target = tmp_path / "compare.html"
        done = run_cli(
            "--store", path, "timeline", "--compare-known-at", between, "-o", str(target)
        )
        assert done.returncode == 0, done.stderr
        moment = datetime.fromisoformat(between).strftime("%Y-%m-%d %H:%M:%S UTC")
        assert f"as known at {moment}" in target.read_text("utf-8")

    def test_an_unknown_suffix_is_refused(self, run_cli, store, tmp_path):
        path, _ = store
        target = tmp_path / "partnership.pdf"
        done = run_cli("--store", path, "timeline", "-o", str(target))
        assert done.returncode == 2
        assert len(done.stderr.strip().splitlines()) == 1
        assert ".html, .svg, .png" in done.stderr
        assert not target.exists()

    def test_the_pictures_extra_missing_is_one_line(self, store, tmp_path, monkeypatch, capsys):
        path, _ = store
        real = importlib.util.find_spec
        monkeypatch.setattr(
            importlib.util,
            "find_spec",
            lambda name, *a: None if name == "plotly" else real(name, *a),
        )
        target = tmp_path / "partnership.html"
        assert main(["--store", path, "timeline", "-o", str(target)]) == 1
        error = capsys.readouterr().err
        assert len(error.strip().splitlines()) == 1
        assert "pip install 'contract-ledger[pictures]'" in error
        assert not target.exists()

    def test_a_bad_window_is_refused(self, store, capsys):
        path, _ = store
        assert (
            main(["--store", path, "timeline", "--from", "2024-01-01", "--to", "2023-01-01"]) == 2
        )
        assert "--to on or after --from" in capsys.readouterr().err
