"""The timeline's pictures: real HTML, SVG, PNG and terminal output of Picture models.

The pictures here are made by hand (a small partnership), by a synthetic generator (a
100k-event agreement, to hold the renderers to their size bounds) and by Hypothesis (any
small picture renders in every format).
"""

from __future__ import annotations

import importlib.util
import io
import random
import struct
import time
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from ledger.domain.spans import ClauseSpan, Mark, Picture, Series, Step, TalksSpan
from ledger.domain.values import Confidence, DatePrecision, Source
from ledger.errors import MissingExtra
from ledger.presentation import interactive
from ledger.presentation.lanes import Limits, Window, lanes, period_end, thin
from ledger.presentation.timeline import to_html, to_png, to_svg, to_text

QUOTE = "Microsoft invested $1 billion in OpenAI in July 2019 and became its cloud provider."
SOURCE = Source("The article, section 2", Confidence.REPORTED, QUOTE)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"


# -- pictures ------------------------------------------------------------------


def mark(on: date, number: int, kind: str, label: str, **fields: object) -> Mark:
    """A mark of the small partnership, citing the article unless told otherwise."""
    fields.setdefault("precision", DatePrecision.DAY)
    fields.setdefault("source", SOURCE)
    return Mark(on=on, event=f"openai-microsoft#{number}", kind=kind, label=label, **fields)


def partnership(compare: bool = False) -> Picture:
    """Four clauses (one started "July 2019", one "2023-Q4"), money, stakes, governance,
    talks and a termination; with ``compare``, what was believed at the start of 2024."""
    opened = mark(date(2019, 7, 1), 1, "agreement_opened", "opened", precision=DatePrecision.MONTH)
    exclusivity = ClauseSpan(
        clause="azure-exclusivity",
        kind="exclusivity",
        start=date(2019, 7, 1),
        start_precision=DatePrecision.MONTH,
        end=date(2025, 1, 21),
        ended_by="removed",
        added=opened,
        amendments=(
            mark(
                date(2023, 1, 23),
                5,
                "amendment",
                "scope widened",
                details=(("scope", "cloud → cloud and API"),),
            ),
        ),
        closed=mark(date(2025, 1, 21), 9, "amendment", "replaced by a right of first refusal"),
    )
    revenue = ClauseSpan(
        clause="openai-revenue-share",
        kind="revenue_share",
        start=date(2019, 7, 22),
        start_precision=DatePrecision.DAY,
        end=None,
        ended_by=None,
        added=mark(date(2019, 7, 22), 2, "amendment", "rate 20"),
        amendments=(
            mark(date(2025, 10, 28), 12, "amendment", "rate 20 → 8", details=(("rate", "20 → 8"),)),
        ),
    )
    ip = ClauseSpan(
        clause="ip-rights",
        kind="ip_rights",
        start=date(2023, 10, 1),
        start_precision=DatePrecision.QUARTER,
        end=date(2031, 1, 1),
        ended_by="expired",
        added=mark(
            date(2023, 10, 1), 7, "amendment", "IP through 2030", precision=DatePrecision.QUARTER
        ),
    )
    agi = attrs.evolve(revenue, clause="agi-clause", kind="agi_clause", amendments=())
    believed = None
    if compare:
        believed = Picture(
            agreement="openai-microsoft",
            title="OpenAI–Microsoft partnership",
            start=date(2019, 1, 1),
            end=date(2027, 12, 31),
            known_at=datetime(2024, 1, 1, tzinfo=UTC),
            clauses=(attrs.evolve(exclusivity, end=None, ended_by=None, closed=None), revenue),
        )
    return Picture(
        agreement="openai-microsoft",
        title="OpenAI–Microsoft partnership",
        start=date(2019, 1, 1),
        end=date(2027, 12, 31),
        known_at=datetime(2026, 11, 24, 19, tzinfo=UTC),
        clauses=(exclusivity, revenue, ip, agi),
        investments=(
            Series(
                label="microsoft → openai (USD)",
                unit="USD",
                steps=(
                    Step(
                        on=date(2019, 7, 22),
                        value=Decimal("1000000000"),
                        events=1,
                        event="openai-microsoft#2",
                    ),
                    Step(
                        on=date(2023, 1, 23),
                        value=Decimal("11000000000"),
                        events=1,
                        event="openai-microsoft#5",
                    ),
                ),
            ),
        ),
        stakes=(
            Series(
                label="microsoft in openai",
                unit="%",
                steps=(
                    Step(
                        on=date(2019, 7, 22),
                        value=Decimal("49"),
                        events=1,
                        event="openai-microsoft#2",
                    ),
                    Step(
                        on=date(2025, 10, 28),
                        value=Decimal("27"),
                        events=1,
                        event="openai-microsoft#13",
                    ),
                ),
            ),
        ),
        governance=(
            mark(date(2023, 11, 17), 8, "governance:ceo_removed", "Sam Altman removed"),
            mark(date(2023, 11, 22), 10, "governance:ceo_reinstated", "Sam Altman back"),
        ),
        talks=(
            TalksSpan(
                renegotiation="2025-terms",
                start=date(2025, 5, 1),
                end=date(2025, 10, 28),
                status="concluded",
                opened=mark(date(2025, 5, 1), 11, "renegotiation_opened", "opened"),
                proposals=(mark(date(2025, 5, 6), 11, "proposal", "equity for revenue"),),
            ),
        ),
        termination=mark(date(2027, 6, 30), 20, "termination", "wound up"),
        compare=believed,
    )


KINDS = (
    "exclusivity",
    "revenue_share",
    "profit_share",
    "ip_rights",
    "veto",
    "agi_clause",
    "custom",
)


def synthetic(clauses: int = 2_500, amendments: int = 60_000, seed: int = 7) -> Picture:
    """A picture of about 100k events over 31 years: thousands of clause spans, tens of
    thousands of amendment marks, long step series, governance and talks by the hundred."""
    draw = random.Random(seed)  # noqa: S311 - test data, not secrets
    start, end = date(2000, 1, 1), date(2030, 12, 31)
    days = (end - start).days
    counter = iter(range(1, 1_000_000))

    def event(on: date, kind: str, label: str, **fields: object) -> Mark:
        fields.setdefault("precision", DatePrecision.DAY)
        return Mark(
            on=on, event=f"big#{next(counter)}", kind=kind, label=label, source=SOURCE, **fields
        )

    def day() -> date:
        return start + timedelta(days=draw.randrange(days))

    spans = []
    for index in range(clauses):
        since = date(draw.randrange(2000, 2029), 1, 1)
        stop = since + timedelta(days=draw.randrange(300, days))
        until = stop if stop <= end else None
        lasting = ((until or end) - since).days
        changes = sorted(
            (
                event(
                    since + timedelta(days=draw.randrange(lasting)),
                    "amendment",
                    "rate 20 → 8",
                    details=(("rate", "20 → 8"),),
                )
                for _ in range(amendments // clauses)
            ),
            key=lambda mark: mark.on,
        )
        spans.append(
            ClauseSpan(
                clause=f"clause-{index:05d}",
                kind=KINDS[index % len(KINDS)],
                start=since,
                start_precision=DatePrecision.YEAR,
                end=until,
                ended_by="removed" if until else None,
                added=event(since, "amendment", "added", precision=DatePrecision.YEAR),
                amendments=tuple(changes),
                closed=event(until, "amendment", "removed") if until else None,
            )
        )

    def series(label: str, unit: str, count: int) -> Series:
        total, steps = Decimal(0), []
        for on in sorted(day() for _ in range(count)):
            total = (
                total + draw.randrange(10**9)
                if unit != "%"
                else Decimal(draw.randrange(10_000)) / 100
            )
            steps.append(Step(on=on, value=total, events=1, event=f"big#{next(counter)}"))
        return Series(label=label, unit=unit, steps=tuple(steps))

    talks = []
    for index in range(300):
        opened = day()
        talks.append(
            TalksSpan(
                renegotiation=f"talks-{index}",
                start=opened,
                end=opened + timedelta(days=draw.randrange(10, 300)),
                status=draw.choice(("concluded", "abandoned")),
                opened=event(opened, "renegotiation_opened", "opened"),
                proposals=tuple(
                    event(opened + timedelta(days=n + 1), "proposal", "p") for n in range(4)
                ),
            )
        )
    governance = tuple(
        event(
            day(),
            "governance:" + draw.choice(("ceo_removed", "board_changed", "departure", "other")),
            "x",
        )
        for _ in range(5_000)
    )
    picture = Picture(
        agreement="big",
        title="A long agreement",
        start=start,
        end=end,
        known_at=datetime(2031, 1, 1, tzinfo=UTC),
        clauses=tuple(spans),
        investments=tuple(
            series(f"investor-{n} → target", cur, 3_000)
            for n, cur in enumerate(("USD", "EUR", "USD", "GBP", "JPY", "USD"))
        ),
        stakes=tuple(series(f"holder-{n} in entity", "%", 1_500) for n in range(8)),
        governance=governance,
        talks=tuple(talks),
        termination=event(date(2030, 6, 30), "termination", "wound up"),
    )
    believed = attrs.evolve(
        picture, known_at=datetime(2020, 1, 1, tzinfo=UTC), clauses=tuple(spans[::2])
    )
    return attrs.evolve(picture, compare=believed)


@pytest.fixture(scope="module")
def big() -> Picture:
    """The synthetic 100k-event picture, made once for the module."""
    return synthetic()


def events_in(picture: Picture) -> int:
    """How many events a picture's marks and steps stand for."""
    spans = sum(1 + len(s.amendments) + (s.closed is not None) for s in picture.clauses)
    steps = sum(step.events for s in (*picture.investments, *picture.stakes) for step in s.steps)
    talks = sum(1 + len(t.proposals) for t in picture.talks)
    return spans + steps + talks + len(picture.governance) + 1


# -- helpers -------------------------------------------------------------------


class _Scripts(HTMLParser):
    """Every <script> tag's attributes, and whether the document had a body."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "script":
            self.scripts.append(dict(attrs))


def parsed(page: str) -> _Scripts:
    parser = _Scripts()
    parser.feed(page)
    parser.close()
    return parser


def svg_texts(svg: bytes) -> str:
    """All the text an SVG shows, joined."""
    root = ET.fromstring(svg)  # noqa: S314 - our own output, not untrusted input
    return "\n".join("".join(node.itertext()) for node in root.iter(f"{SVG}text"))


def text_of(picture: Picture, width: int = 80) -> str:
    """The terminal timeline as plain text, at ``width`` columns."""
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    to_text(picture, console)
    return console.export_text()


# -- HTML ----------------------------------------------------------------------


class TestHtml:
    def test_a_self_contained_page_that_needs_no_network(self):
        """The page parses, carries plotly inline, and loads no script from anywhere."""
        page = to_html(partnership())
        found = parsed(page)
        assert {"html", "head", "body", "title", "div"} <= found.tags
        assert found.scripts, "plotly's JavaScript is inlined in a <script>"
        assert not [s for s in found.scripts if s.get("src")]
        assert '<script src="http' not in page
        assert "<script src='http" not in page
        assert "Plotly.newPlot" in page

    def test_clauses_and_their_hover_texts(self):
        """Each clause id is a row; hovers carry terms before/after, event ids and sources."""
        page = to_html(partnership())
        for clause in ("azure-exclusivity", "openai-revenue-share", "ip-rights", "agi-clause"):
            assert clause in page
        assert "rate: 20 → 8" in page
        assert "openai-microsoft#12" in page
        assert "Microsoft invested $1 billion" in page
        assert "(reported)" in page

    def test_approximate_starts_are_labelled_as_such(self):
        """A month or quarter start is drawn hatched and labelled ~2019-07, ~2023-Q4."""
        page = to_html(partnership())
        assert "~2019-07" in page
        assert "~2023-Q4" in page
        assert "approximate start" in page

    def test_the_compare_picture_is_a_ghost_layer_with_its_known_at(self):
        """With compare set, outlined ghost bars say which known-at they show."""
        plain, compared = to_html(partnership()), to_html(partnership(compare=True))
        assert "as known at 2024-01-01 00:00:00 UTC" in compared
        assert "as known at 2024-01-01" not in plain
        assert "as known at 2026-11-24 19:00:00 UTC" in compared

    def test_a_100k_event_picture_stays_under_5_mb(self, big):
        """The synthetic agreement renders to one page under 5 MB, aggregated."""
        assert events_in(big) > 95_000
        began = time.perf_counter()
        page = to_html(big)
        spent = time.perf_counter() - began
        assert len(page.encode()) < 5_000_000
        assert not [s for s in parsed(page).scripts if s.get("src")]
        figure = interactive.figure_of(big, Limits())
        points = sum(len(trace["x"]) for trace in figure["data"])
        assert points < 5_000, "one point per event was shipped"
        assert spent < 15, f"rendering took {spent:.1f}s"

    def test_long_hover_texts_are_cut_to_fit(self):
        """60 clauses of long-winded marks (and a ghost of each) still fit in 5 MB."""
        wordy = Source("c" * 400, Confidence.ESTIMATED, "q" * 2_000)
        spans = tuple(
            ClauseSpan(
                clause=f"clause-{n:02d}",
                kind=KINDS[n % len(KINDS)],
                start=date(2000, 1, 1),
                start_precision=DatePrecision.DAY,
                end=None,
                ended_by=None,
                added=mark(date(2000, 1, 1), n, "amendment", "w" * 500, source=wordy),
                amendments=tuple(
                    mark(
                        date(2000, 1, 2) + timedelta(days=40 * k),
                        1_000 * n + k,
                        "amendment",
                        "w" * 500,
                        details=tuple((f"term-{t}", "v" * 300) for t in range(20)),
                        source=wordy,
                    )
                    for k in range(8)
                ),
            )
            for n in range(60)
        )
        picture = attrs.evolve(partnership(), start=date(2000, 1, 1), clauses=spans)
        page = to_html(attrs.evolve(picture, compare=picture))
        assert len(page.encode()) < 5_000_000
        assert "clause-59" in page


# -- SVG and PNG ---------------------------------------------------------------


class TestStatic:
    def test_svg_is_xml_with_the_clause_ids_as_text(self):
        """The SVG parses as XML and names every clause in text elements."""
        shown = svg_texts(to_svg(partnership()))
        for clause in ("azure-exclusivity", "openai-revenue-share", "ip-rights", "agi-clause"):
            assert clause in shown
        assert "~2019-07" in shown
        assert "~2023-Q4" in shown
        assert "terminated 2027-06-30" in shown

    def test_svg_compare_layer(self):
        """The ghost layer's known-at is in the legend."""
        assert "as known at 2024-01-01 00:00 UTC" in svg_texts(to_svg(partnership(compare=True)))

    def test_png_is_a_png_of_sane_size(self):
        """PNG bytes: the signature, and a width and height a screen can show."""
        png = to_png(partnership())
        assert png.startswith(PNG_SIGNATURE)
        width, height = struct.unpack(">II", png[16:24])
        assert 600 <= width <= 3_000
        assert 300 <= height <= 6_000
        assert 10_000 < len(png) < 2_000_000

    def test_the_big_picture_draws_too(self, big):
        """Aggregated lanes keep the static pictures small."""
        assert to_png(big).startswith(PNG_SIGNATURE)


# -- text ----------------------------------------------------------------------


class TestText:
    def test_fits_80_columns_and_marks_approximate_dates(self):
        """No line is wider than 80; month and quarter starts read 2019-07 and 2023-Q4."""
        shown = text_of(partnership())
        assert max(len(line) for line in shown.splitlines()) <= 80
        rows = {line.split()[0]: line for line in shown.splitlines() if line.strip()}
        assert rows["azure-exclusivity"].endswith(" 2019-07")
        assert rows["ip-rights"].endswith(" 2023-Q4")
        assert rows["openai-revenue-share"].endswith(" 2019-07-22")
        assert "░" in rows["azure-exclusivity"]
        assert "terminated 2027-06-30" in shown
        assert "11,000,000,000 USD" in shown

    def test_compare_rows(self):
        """With compare set, dotted rows show what was believed where it differs."""
        assert "as known then" in text_of(partnership(compare=True))
        assert "as known then" not in text_of(partnership())

    def test_the_big_picture_fits_too(self, big):
        """Kinds as rows, marks too many to place counted instead, still 80 wide."""
        shown = text_of(big)
        assert max(len(line) for line in shown.splitlines()) <= 80
        assert "a row per kind" in shown
        assert "too many to mark" in shown


# -- aggregation ---------------------------------------------------------------


class TestAggregation:
    window = Window(date(2000, 1, 1), date(2031, 1, 1))

    def test_steps_are_thinned_keeping_the_last_value_and_every_event(self):
        """5,000 steps become at most 300, the last value kept and the events added up."""
        steps = tuple(
            Step(
                on=date(2000, 1, 1) + timedelta(days=2 * n),
                value=Decimal(n),
                events=1,
                event=f"e#{n}",
            )
            for n in range(5_000)
        )
        line = thin(Series(label="s", unit="USD", steps=steps), self.window, 300)
        assert len(line.steps) <= 300
        assert line.steps[-1].value == Decimal(4_999)
        assert line.steps[-1].event == "e#4999"
        assert sum(step.events for step in line.steps) == 5_000

    def test_a_step_before_the_window_is_carried_in(self):
        """The value in force when the window opens is drawn from its first day."""
        steps = (Step(on=date(1999, 5, 1), value=Decimal(5), events=2, event="e#2"),)
        line = thin(Series(label="s", unit="%", steps=steps), self.window, 10)
        assert line.steps == (Step(on=date(2000, 1, 1), value=Decimal(5), events=2, event="e#2"),)

    def test_amendments_are_binned_into_a_few_markers(self):
        """A clause amended 1,000 times shows at most 8 markers that count them all."""
        picture = partnership()
        span = attrs.evolve(
            picture.clauses[1],
            amendments=tuple(
                mark(date(2020, 1, 1) + timedelta(days=n), 100 + n, "amendment", "x")
                for n in range(1_000)
            ),
        )
        (row,) = lanes(attrs.evolve(picture, clauses=(span,))).clauses
        assert len(row.marks) <= 8
        assert sum(found.count for found in row.marks) == 1_000

    def test_rows_are_grouped_by_kind_past_60_clause_ids(self):
        """60 clause ids are 60 rows; 61 are a row per kind."""
        template = partnership().clauses[1]
        spans = tuple(attrs.evolve(template, clause=f"c-{n}", kind=KINDS[n % 7]) for n in range(61))
        picture = attrs.evolve(partnership(), clauses=spans[:60])
        assert len(lanes(picture).clauses) == 60
        grouped = lanes(attrs.evolve(picture, clauses=spans))
        assert grouped.grouped
        assert len(grouped.clauses) == 7
        assert grouped.clauses[0].peak == 9

    def test_an_approximate_start_covers_its_period(self):
        """A quarter start is vague until the quarter's end; a day start is exact."""
        assert period_end(date(2023, 10, 1), DatePrecision.QUARTER) == date(2024, 1, 1)
        assert period_end(date(2019, 12, 1), DatePrecision.MONTH) == date(2020, 1, 1)
        rows = {row.label: row for row in lanes(partnership()).clauses}
        assert rows["ip-rights"].bars[0].vague_until == date(2024, 1, 1)
        assert rows["openai-revenue-share"].bars[0].vague_until is None


# -- the model and the extra ------------------------------------------------------


class TestModel:
    def test_a_step_stands_for_at_least_one_event(self):
        """Step(events=0) is refused."""
        with pytest.raises(ValueError, match="events"):
            Step(on=date(2020, 1, 1), value=Decimal(1), events=0, event="e#1")

    def test_a_picture_window_and_known_at(self):
        """The window may not end before it starts; known_at is a UTC timestamp."""
        picture = partnership()
        with pytest.raises(ValueError, match="end"):
            attrs.evolve(picture, end=date(2018, 1, 1))
        with pytest.raises(ValueError, match="known_at"):
            attrs.evolve(picture, known_at=datetime(2026, 1, 1))


class TestMissingExtra:
    @pytest.mark.parametrize(
        ("render", "module"), [(to_html, "plotly"), (to_svg, "matplotlib"), (to_png, "matplotlib")]
    )
    def test_says_how_to_install_the_pictures_extra(self, monkeypatch, render, module):
        """Without plotly or matplotlib, a project error names the pip command; exit 1."""
        real = importlib.util.find_spec
        monkeypatch.setattr(
            importlib.util, "find_spec", lambda name, *a: None if name == module else real(name, *a)
        )
        with pytest.raises(
            MissingExtra, match=r"pip install 'contract-ledger\[pictures\]'"
        ) as raised:
            render(partnership())
        assert raised.value.exit_code == 1


# -- any small picture -----------------------------------------------------------

DAYS = st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31))
WORDS = st.text(alphabet="abc-é→<>&$ \"'", min_size=1, max_size=12)
IDS = st.text(alphabet="abcdefgh-0123", min_size=1, max_size=16)


@st.composite
def marks(draw: st.DrawFn) -> Mark:
    precision = draw(st.sampled_from(DatePrecision))
    on = draw(DAYS)
    if precision is not DatePrecision.DAY:
        on = on.replace(day=1)
    return Mark(
        on=on,
        precision=precision,
        event=draw(IDS),
        kind=draw(st.sampled_from(("amendment", "governance:ceo_removed", "proposal", "x"))),
        label=draw(WORDS),
        details=tuple(draw(st.lists(st.tuples(WORDS, WORDS), max_size=3))),
        source=Source(
            draw(WORDS),
            draw(st.sampled_from(Confidence)),
            draw(st.none() | st.text(max_size=300)),
        ),
    )


@st.composite
def spans(draw: st.DrawFn) -> ClauseSpan:
    added = draw(marks())
    return ClauseSpan(
        clause=draw(IDS),
        kind=draw(st.sampled_from((*KINDS, "something_else"))),
        start=added.on,
        start_precision=added.precision,
        end=draw(st.none() | DAYS),
        ended_by=draw(st.sampled_from((None, "removed", "expired", "terminated"))),
        added=added,
        amendments=tuple(draw(st.lists(marks(), max_size=12))),
        closed=draw(st.none() | marks()),
    )


@st.composite
def series(draw: st.DrawFn) -> Series:
    days = sorted(draw(st.lists(DAYS, min_size=1, max_size=8)))
    values = st.decimals(min_value=0, max_value=10**15, places=2, allow_nan=False)
    return Series(
        label=draw(WORDS),
        unit=draw(st.sampled_from(("USD", "EUR", "%"))),
        steps=tuple(
            Step(on=on, value=draw(values), events=draw(st.integers(1, 5)), event=draw(IDS))
            for on in days
        ),
    )


@st.composite
def talks(draw: st.DrawFn) -> TalksSpan:
    opened = draw(marks())
    return TalksSpan(
        renegotiation=draw(IDS),
        start=opened.on,
        end=draw(st.none() | DAYS),
        status=draw(st.sampled_from(("open", "concluded", "abandoned"))),
        opened=opened,
        proposals=tuple(draw(st.lists(marks(), max_size=4))),
        closed=draw(st.none() | marks()),
    )


@st.composite
def pictures(draw: st.DrawFn, nested: bool = True) -> Picture:
    start = draw(DAYS)
    end = start + timedelta(days=draw(st.integers(0, 12_000)))
    return Picture(
        agreement=draw(IDS),
        title=draw(WORDS),
        start=start,
        end=end,
        known_at=datetime(2030, 1, 1, tzinfo=UTC) - timedelta(days=draw(st.integers(0, 9_000))),
        clauses=tuple(draw(st.lists(spans(), max_size=6))),
        investments=tuple(draw(st.lists(series(), max_size=2))),
        stakes=tuple(draw(st.lists(series(), max_size=2))),
        governance=tuple(draw(st.lists(marks(), max_size=5))),
        talks=tuple(draw(st.lists(talks(), max_size=3))),
        termination=draw(st.none() | marks()),
        compare=draw(st.none() | pictures(nested=False)) if nested else None,
    )


class TestAnyPicture:
    @settings(max_examples=8)
    @given(picture=pictures(), width=st.integers(30, 160))
    def test_renders_in_every_format(self, picture, width):
        """Any small picture gives a page, an SVG, a PNG and text no wider than the console."""
        page = to_html(picture)
        assert "Plotly.newPlot" in page
        assert len(page.encode()) < 5_000_000
        ET.fromstring(to_svg(picture))  # noqa: S314 - our own output
        assert to_png(picture).startswith(PNG_SIGNATURE)
        shown = text_of(picture, width)
        assert max(len(line) for line in shown.splitlines()) <= width
