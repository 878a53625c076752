"""The web view in a real browser: Debian's Chromium, driven by Playwright, against the
real ``ledger serve`` on a real SQLite store.

Skipped, saying how to enable them, when ``/usr/bin/chromium`` or Playwright is missing;
with ``LEDGER_REQUIRE_BROWSER=1`` (as ``.ci/run`` sets) they fail instead. Playwright's
own browser download is never used. Screenshots of the main pages go to ``screenshots/``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from conftest import cli_environment, ledger_command
from webstore import AGREEMENT, EQUITY_SWAP, HOSTILE, IMG, SCRIPT, Store, build_store

from ledger.testing.served import served

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

REQUIRE_BROWSER_ENV = "LEDGER_REQUIRE_BROWSER"
CHROMIUM = Path("/usr/bin/chromium")
HOW_TO_ENABLE = (
    "install Debian's Chromium and Playwright to run the browser tests: "
    "apt-get install -y chromium && pip install -e '.[test]'"
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"


def _missing() -> str | None:
    """What the browser tests lack on this machine, if anything."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing"
    for module in ("playwright.sync_api", "starlette", "jinja2", "uvicorn"):
        try:
            importlib.import_module(module)
        except ImportError:
            return f"{module.split('.')[0]} is not installed"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium from Debian, headless, launched once for the module."""
    missing = _missing()
    if missing is not None:
        if os.environ.get(REQUIRE_BROWSER_ENV) == "1":
            pytest.fail(f"{REQUIRE_BROWSER_ENV}=1 but {missing}: {HOW_TO_ENABLE}")
        pytest.skip(f"{missing}: {HOW_TO_ENABLE}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Store:
    """The test store (see ``webstore``), built once for the module."""
    return build_store(tmp_path_factory.mktemp("browser") / "ledger.sqlite")


@pytest.fixture(scope="module")
def site(store: Store) -> Iterator[str]:
    """The real ``ledger serve`` over the store; its base URL."""
    digest = store.sha256()
    with served(store.path, command=ledger_command(), env=cli_environment()) as base:
        yield base
    assert store.sha256() == digest, "the web view changed the store file"


@attrs.define
class Tab:
    """A page of a fresh browser context, and the console errors it has logged."""

    page: Page
    base: str
    errors: list[str] = attrs.Factory(list)

    def open(self, path: str) -> Page:
        """Load ``path`` (the pages have no scripts: loaded is ready)."""
        response = self.page.goto(self.base + path, wait_until="load")
        assert response is not None
        assert response.status == 200, f"{path}: {response.status}"
        return self.page

    def clauses(self) -> list[str]:
        """The ids of the clauses the page shows."""
        ids: list[str] = self.page.locator("article.clause").evaluate_all(
            "cards => cards.map(card => card.dataset.clause)"
        )
        return ids

    def term(self, clause: str, term: str) -> str:
        """The shown value of one term of one clause."""
        card = self.page.locator(f'article[data-clause="{clause}"]')
        return card.locator(f'dt:text-is("{term}") + dd').inner_text()


@pytest.fixture
def tab(browser: Browser, site: str) -> Iterator[Tab]:
    """A fresh context and page that records console errors and page errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    opened = Tab(page, site)

    def on_console(message: Any) -> None:
        if message.type == "error":
            opened.errors.append(f"console: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: opened.errors.append(f"page error: {error}"))
    yield opened
    context.close()


def in_force(store: Store, on: str, **options: Any) -> list[str]:
    """The ids of the clauses ``Ledger.state_at`` has in force on ``on``."""
    with store.reader() as ledger:
        state = ledger.state_at(date.fromisoformat(on), agreement=AGREEMENT, **options)
    return [clause.id for clause in state.clauses_in_force()]


def submit(tab: Tab) -> None:
    """Submit the page's form and wait for the next page."""
    with tab.page.expect_navigation(wait_until="load"):
        tab.page.locator("form.controls button[type=submit]").click()


def test_the_agreement_page_shows_exactly_the_clauses_in_force(tab: Tab, store: Store) -> None:
    """On a date, the page shows the clauses ``state_at`` has in force, with their terms."""
    tab.open(f"/agreements/{AGREEMENT}?as_of=2024-01-01")
    assert tab.clauses() == in_force(store, "2024-01-01")
    assert tab.term("openai-revenue-share", "rate") == "20"
    assert tab.errors == []


def test_moving_the_as_of_control_changes_the_clauses(tab: Tab, store: Store) -> None:
    """Filling in another date and submitting shows that date's clauses (and its URL)."""
    tab.open(f"/agreements/{AGREEMENT}?as_of=2030-12-31")
    assert "microsoft-ip-rights" in tab.clauses()
    tab.page.fill("#as_of", "2031-01-01")
    submit(tab)
    assert "as_of=2031-01-01" in tab.page.url
    assert "microsoft-ip-rights" not in tab.clauses()
    assert tab.clauses() == in_force(store, "2031-01-01")
    assert tab.errors == []


def test_a_known_at_before_an_append_shows_the_old_view(tab: Tab, store: Store) -> None:
    """As known before the backdated amendment was recorded, the exclusivity holds."""
    tab.open(f"/agreements/{AGREEMENT}?as_of=2021-01-01")
    assert tab.term("azure-exclusivity", "exclusive") == "no"
    tab.page.fill("#known_at", store.before_append.isoformat())
    submit(tab)
    assert tab.term("azure-exclusivity", "exclusive") == "yes"
    assert (
        "right_of_first_refusal"
        not in tab.page.locator('article[data-clause="azure-exclusivity"]').inner_text()
    )
    assert tab.errors == []


def test_the_console_has_no_errors_on_any_page(tab: Tab) -> None:
    """Every page loads without a console error, a page error or a CSP violation, its
    late requests (the icon, the framed timeline slot) included."""
    # The other tests check the console of the pages they load once loaded; these wait
    # for every late request as well.
    for path in (
        "/",
        f"/agreements/{AGREEMENT}",
        f"/agreements/{AGREEMENT}/history?kind=governance&from=2023-01-01",
        f"/agreements/{AGREEMENT}/diff",
        f"/agreements/{AGREEMENT}/whatif",
        f"/agreements/{AGREEMENT}/timeline",
    ):
        page = tab.open(path)
        frame = page.locator("iframe.timeline")
        if frame.count():  # load the lazy timeline slot too
            frame.scroll_into_view_if_needed()
        page.wait_for_load_state("networkidle")  # the icon, the frame: every request done
        assert tab.errors == [], path


def test_the_framed_timeline_is_drawn_and_answers_a_hover(tab: Tab) -> None:
    """The agreement page's timeline frame runs plotly inside its sandbox: the clause
    rows are drawn, and hovering a bar shows its clause, without a policy violation."""
    page = tab.open(f"/agreements/{AGREEMENT}")
    page.locator("iframe.timeline").scroll_into_view_if_needed()
    frame = page.frame_locator("iframe.timeline")
    frame.locator("#timeline .main-svg").first.wait_for()
    assert frame.get_by_text("azure-exclusivity").first.is_visible()
    frame.locator("#timeline .bars path").first.hover(force=True)
    frame.locator(".hoverlayer .hovertext").first.wait_for()
    assert tab.errors == []


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/", f"{SCRIPT} Co"),
        (f"/agreements/{AGREEMENT}?as_of=2024-03-01", SCRIPT),
        (f"/agreements/{AGREEMENT}?as_of=2024-03-01", IMG),
        (f"/agreements/{AGREEMENT}/history?kind=governance", SCRIPT),
        (f"/agreements/{HOSTILE}?as_of=2021-06-01", IMG),
        (f"/agreements/{HOSTILE}/history", SCRIPT),
    ],
)
def test_hostile_texts_stay_inert(tab: Tab, path: str, shown: str) -> None:
    """Descriptions, titles and names that are HTML show as text, and run nothing."""
    page = tab.open(path)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("script").count() == 0
    assert page.locator("main img").count() == 0
    assert page.get_by_text(shown).first.is_visible()
    assert tab.errors == []


def test_the_whatif_upload_shows_the_difference_and_writes_nothing(tab: Tab, store: Store) -> None:
    """The equity-swap file, uploaded, changes two clauses and a stake; the store's bytes
    stay as they were."""
    digest = store.sha256()
    page = tab.open(f"/agreements/{AGREEMENT}/whatif")
    page.set_input_files("#file", EQUITY_SWAP)
    page.fill("#as_of", "2026-01-01")
    submit(tab)
    removed = page.locator("tr.change-removed th").all_inner_texts()
    amended = page.locator("tr.change-amended").inner_text()
    assert removed == ["openai-revenue-share"]
    assert "azure-revenue-share" in amended
    assert "20 → 8" in amended
    assert page.get_by_text("Nothing was written.").is_visible()
    assert store.sha256() == digest
    assert tab.errors == []


def test_screenshots_of_the_main_pages(tab: Tab) -> None:
    """The main pages, as a reader sees them, saved under ``screenshots/``."""
    SCREENSHOTS.mkdir(exist_ok=True)
    for name, path in (
        ("agreements", "/"),
        ("agreement", f"/agreements/{AGREEMENT}?as_of=2024-01-01"),
        ("history", f"/agreements/{AGREEMENT}/history"),
        ("diff", f"/agreements/{AGREEMENT}/diff?from=2019-07-01&to=2031-01-01"),
        ("whatif", f"/agreements/{AGREEMENT}/whatif"),
    ):
        page = tab.open(path)
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=name == "agreement")
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000
    assert tab.errors == []
