"""The web view over plain HTTP, without a browser: every route, its errors, the API
against the real CLI's ``--json``, read-only, escaping and the security headers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

pytest.importorskip("starlette", reason="the web view needs its extra: pip install -e '.[test]'")
pytest.importorskip("jinja2", reason="the web view needs its extra: pip install -e '.[test]'")

import httpx

with warnings.catch_warnings():
    # Starlette 1.x prefers `httpx2` for its TestClient; it runs on httpx as well.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient
from webstore import (
    AGREEMENT,
    EQUITY_SWAP,
    HOSTILE,
    Store,
    build_store,
)

from ledger import Ledger, StoreError
from ledger.entrypoints.web import create_app, routes
from ledger.entrypoints.web.app import CSP, open_read_only
from ledger.testing.served import served

Cli = Callable[..., subprocess.CompletedProcess[str]]
BASE = "http://127.0.0.1"
PAGES = (
    "/",
    f"/agreements/{AGREEMENT}",
    f"/agreements/{AGREEMENT}?as_of=2024-03-01",
    f"/agreements/{AGREEMENT}/history",
    f"/agreements/{AGREEMENT}/diff",
    f"/agreements/{AGREEMENT}/diff?from=2019-07-01&to=2025-12-31",
    f"/agreements/{AGREEMENT}/whatif",
    f"/agreements/{AGREEMENT}/timeline",
    f"/agreements/{HOSTILE}?as_of=2021-06-01",
)
API = (
    "/api/agreements",
    f"/api/agreements/{AGREEMENT}/replay?as_of=2024-01-01",
    f"/api/agreements/{AGREEMENT}/history",
    f"/api/agreements/{AGREEMENT}/diff?from=2019-07-01&to=2025-12-31",
)
UPLOADS = (f"/agreements/{AGREEMENT}/whatif", f"/api/agreements/{AGREEMENT}/whatif")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The test store (see ``webstore``), built once for the module."""
    return build_store(tmp_path_factory.mktemp("web") / "ledger.sqlite")


@pytest.fixture(scope="module")
def client(store: Store) -> Iterator[TestClient]:
    """The application over the store, addressed as the loopback server it is."""
    with TestClient(create_app(str(store.path)), base_url=BASE) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def known_at(store: Store) -> str:
    """A recording time after every append (so that page, API and CLI agree on it)."""
    with store.reader() as ledger:
        last = max(e.recorded_at for e in ledger.history(agreement=AGREEMENT))
    return last.isoformat()


def upload(
    client: TestClient, path: str, name: str, content: bytes, **fields: str
) -> httpx.Response:
    """POST an amendment file to a what-if route."""
    return client.post(path, files={"file": (name, content, "application/x-yaml")}, data=fields)


def clauses_on(html: str) -> list[str]:
    """The ids of the clauses an agreement page shows."""
    return re.findall(r'data-clause="([^"]+)"', html)


def clause_block(html: str, clause: str) -> str:
    """The HTML of one clause's card."""
    found = re.search(rf'<article class="clause" id="clause-{clause}".*?</article>', html, re.S)
    assert found, f"no card for {clause}"
    return found.group(0)


def reason(response: httpx.Response) -> str:
    """The one-line reason of an error response (page or JSON)."""
    if response.headers["content-type"].startswith("application/json"):
        text: str = response.json()["error"]
        return text
    found = re.search(r'<p class="reason" role="alert">(.*?)</p>', response.text, re.S)
    assert found, response.text
    return unescape(found.group(1))


class TestPages:
    """The server-rendered pages."""

    def test_index_lists_the_agreements(self, client: TestClient, store: Store) -> None:
        """The list shows each agreement's id, title, opening date, events and last time."""
        html = client.get("/").text
        with store.reader() as ledger:
            count = len(ledger.history(agreement=AGREEMENT))
            last = max(e.recorded_at for e in ledger.history(agreement=AGREEMENT))
        assert f'href="/agreements/{AGREEMENT}"' in html
        assert f'href="/agreements/{HOSTILE}"' in html
        assert "OpenAI–Microsoft partnership" in html
        assert ">2019-07</time>" in html  # the opening's month, marked approximate
        assert f'<td class="num">{count}</td>' in html
        assert last.strftime("%Y-%m-%d %H:%M:%S UTC") in html

    @pytest.mark.parametrize("on", ["2019-07-01", "2024-01-01", "2030-12-31", "2031-01-01"])
    def test_agreement_page_shows_exactly_the_clauses_in_force(
        self, client: TestClient, store: Store, on: str
    ) -> None:
        """The page's clauses are those ``state_at`` has in force on the date."""
        html = client.get(f"/agreements/{AGREEMENT}?as_of={on}").text
        with store.reader() as ledger:
            state = ledger.state_at(date.fromisoformat(on), agreement=AGREEMENT)
        assert clauses_on(html) == [c.id for c in state.clauses_in_force()]

    def test_the_ip_rights_end_with_2030(self, client: TestClient) -> None:
        """On 2031-01-01 the IP rights are no longer shown."""
        assert "microsoft-ip-rights" in clauses_on(client.get(f"/agreements/{AGREEMENT}").text)
        later = client.get(f"/agreements/{AGREEMENT}?as_of=2031-01-01").text
        assert "microsoft-ip-rights" not in clauses_on(later)

    def test_known_at_before_an_append_shows_the_old_view(
        self, client: TestClient, store: Store
    ) -> None:
        """As known before the backdated amendment, the exclusivity still holds."""
        page = f"/agreements/{AGREEMENT}?as_of=2021-01-01"
        now = clause_block(client.get(page).text, "azure-exclusivity")
        before = clause_block(
            client.get(page, params={"known_at": store.before_append.isoformat()}).text,
            "azure-exclusivity",
        )
        assert "<dt>exclusive</dt><dd>no</dd>" in now
        assert "<dt>exclusive</dt><dd>yes</dd>" in before

    def test_the_page_shows_sources_and_approximate_dates(self, client: TestClient) -> None:
        """A clause cites the latest event that shaped it and links the earlier ones;
        dates given as a period are shown as one."""
        html = client.get(f"/agreements/{AGREEMENT}?as_of=2024-01-01").text
        opened = clause_block(html, "agi-clause")
        assert "<cite>Foundational Alliance and Early Investments</cite>" in opened
        assert "<blockquote>Back in July 2019" in opened  # the quote
        assert '<span class="confidence reported">reported</span>' in opened
        amended = clause_block(html, "azure-exclusivity")
        assert "<cite>Test amendment</cite>" in amended  # the backdated amendment
        assert "history#event-openai-microsoft-1" in amended  # and a link to the opening
        assert ">2019-07</time>" in opened  # in force since the opening's month
        assert ">2023-Q4</time>" in html  # the governance crisis, dated by its quarter

    def test_as_of_defaults_to_today(self, client: TestClient) -> None:
        """Without ``as_of``, the page shows the agreement today."""
        html = client.get(f"/agreements/{AGREEMENT}").text
        assert f'value="{date.today().isoformat()}"' in html

    def test_history_lists_every_event_with_its_source(
        self, client: TestClient, store: Store
    ) -> None:
        """Every event id is on the page, withdrawn ones marked, with its citation."""
        html = client.get(f"/agreements/{AGREEMENT}/history").text
        with store.reader() as ledger:
            ids = [e.id for e in ledger.history(agreement=AGREEMENT)]
        rows = r'<tr id="event-[^"]+"[^>]*>\s*<th scope="row"[^>]*>([^<]+)</th>'
        assert re.findall(rows, html) == ids
        assert '<tr id="event-openai-microsoft-2" class="withdrawn">' in html
        assert "Test filing" in html

    def test_a_long_history_page_lists_the_first_events(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The page lists a bounded number of events and says so; the API lists all."""
        monkeypatch.setattr(routes, "MAX_ROWS", 3)
        html = client.get(f"/agreements/{AGREEMENT}/history").text
        assert len(re.findall(r'<tr id="event-', html)) == 3
        assert "<strong>The first 3 are listed here</strong>" in html
        assert len(client.get(f"/api/agreements/{AGREEMENT}/history").json()) > 3

    def test_history_filters(self, client: TestClient) -> None:
        """Kinds and dates narrow the list, and the form keeps them."""
        html = client.get(
            f"/agreements/{AGREEMENT}/history",
            params=[("kind", "governance"), ("kind", "investment"), ("from", "2024-01-01")],
        ).text
        types = re.findall(r"</time></td>\s*<td>([a-z_]+)</td>", html)
        assert types
        assert set(types) == {"governance"}
        assert 'value="governance" checked' in html
        assert 'value="2024-01-01"' in html

    def test_diff_page(self, client: TestClient) -> None:
        """Two dates give the difference; without them, the form alone."""
        html = client.get(
            f"/agreements/{AGREEMENT}/diff", params={"from": "2030-12-31", "to": "2031-01-01"}
        ).text
        assert re.search(r'<tr class="change-removed">\s*<th scope="row">microsoft-ip-rights', html)
        form = client.get(f"/agreements/{AGREEMENT}/diff")
        assert form.status_code == 200
        assert "Choose two dates" in form.text

    def test_whatif_upload_shows_the_difference(self, client: TestClient) -> None:
        """The equity-swap hypothesis removes one revenue share and cuts the other."""
        response = upload(
            client, UPLOADS[0], "equity-swap.yaml", EQUITY_SWAP.read_bytes(), as_of="2026-01-01"
        )
        assert response.status_code == 200
        html = response.text
        assert re.search(
            r'<tr class="change-removed">\s*<th scope="row">openai-revenue-share', html
        )
        assert "20 → 8" in html
        assert "Nothing was written." in html

    def test_timeline_slot_may_be_framed_by_this_server_only(self, client: TestClient) -> None:
        """The agreement page frames the timeline in a sandbox; the timeline's own policy
        lets its inline drawing run, sandboxed, framed by this origin only."""
        page = client.get(f"/agreements/{AGREEMENT}").text
        assert f'src="/agreements/{AGREEMENT}/timeline"' in page
        assert 'sandbox="allow-scripts"' in page
        slot = client.get(f"/agreements/{AGREEMENT}/timeline")
        assert slot.status_code == 200
        policy = slot.headers["content-security-policy"]
        assert "frame-ancestors 'self'" in policy
        assert "sandbox allow-scripts" in policy
        assert "'self'" not in policy.replace("frame-ancestors 'self'", "")

    def test_timeline_draws_the_agreement_as_asked(self, client: TestClient) -> None:
        """The interactive picture of the window asked for, as known at the time asked
        for: a clause added after the window's end is not drawn."""
        whole = client.get(f"/agreements/{AGREEMENT}/timeline").text
        assert "Plotly.newPlot" in whole
        assert "azure-exclusivity" in whole
        assert "2025-terms" in whole  # the renegotiation of 2025
        early = client.get(f"/agreements/{AGREEMENT}/timeline?to=2019-12-31").text
        assert "to 2019-12-31" in early
        assert "azure-exclusivity" in early
        assert "2025-terms" not in early

    def test_timeline_without_the_pictures_extra_is_the_text_timeline(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Where plotly is not installed, the frame shows the text timeline, no script."""
        from ledger.presentation import timeline as pictures

        monkeypatch.setattr(pictures, "can_draw", lambda _suffix: False)
        slot = client.get(f"/agreements/{AGREEMENT}/timeline")
        assert slot.status_code == 200
        assert "<script" not in slot.text
        assert "azure-exclusivity" in slot.text

    def test_timeline_refuses_a_window_that_ends_before_it_starts(self, client: TestClient) -> None:
        """One line saying what is wrong, as the CLI says it."""
        slot = client.get(f"/agreements/{AGREEMENT}/timeline?from=2024-01-01&to=2023-01-01")
        assert slot.status_code == 400
        assert "expected --to on or after --from" in slot.text


class TestApi:
    """``/api/...`` answers what the CLI prints with ``--json``."""

    def test_agreements(self, client: TestClient, store: Store) -> None:
        """Each agreement's id, title, opening, event count and last recording time."""
        listed = client.get("/api/agreements").json()
        with store.reader() as ledger:
            entries = ledger.history(agreement=AGREEMENT)
        assert [a["id"] for a in listed] == [AGREEMENT, HOSTILE]
        assert listed[0] == {
            "id": AGREEMENT,
            "title": "OpenAI–Microsoft partnership",
            "opened_on": "2019-07-01",
            "opened_on_precision": "month",
            "event_count": len(entries),
            "first_recorded": min(e.recorded_at for e in entries).isoformat(),
            "last_recorded": max(e.recorded_at for e in entries).isoformat(),
        }

    @pytest.mark.parametrize(
        ("path", "args"),
        [
            (
                "/replay?as_of=2024-01-01&known_at={known_at}",
                ["replay", "--as-of", "2024-01-01", "--known-at", "{known_at}"],
            ),
            (
                "/replay?as_of=2021-01-01&known_at={before}",
                ["replay", "--as-of", "2021-01-01", "--known-at", "{before}"],
            ),
            ("/history", ["history"]),
            (
                "/history?kind=governance&kind=correction&from=2023-01-01&known_at={known_at}",
                [
                    "history",
                    "--kind",
                    "governance",
                    "--kind",
                    "correction",
                    "--from",
                    "2023-01-01",
                    "--known-at",
                    "{known_at}",
                ],
            ),
            (
                "/diff?from=2019-07-01&to=2031-01-01&known_at={known_at}",
                ["diff", "2019-07-01", "2031-01-01", "--known-at", "{known_at}"],
            ),
        ],
    )
    def test_equals_the_cli_json(
        self,
        client: TestClient,
        store: Store,
        run_cli: Cli,
        known_at: str,
        path: str,
        args: list[str],
    ) -> None:
        """The same question gives the same JSON on the API and from the CLI."""
        values = {"known_at": known_at, "before": store.before_append.isoformat()}
        quoted = {k: quote(v, safe="") for k, v in values.items()}
        url = f"/api/agreements/{AGREEMENT}" + path.format(**quoted)
        cli = run_cli(
            "--store",
            str(store.path),
            *(a.format(**values) for a in args),
            "--agreement",
            AGREEMENT,
            "--json",
        )
        assert cli.returncode == 0, cli.stderr
        response = client.get(url)
        assert response.status_code == 200
        assert response.json() == json.loads(cli.stdout)

    def test_whatif_equals_the_cli_json(
        self, client: TestClient, store: Store, run_cli: Cli, known_at: str
    ) -> None:
        """An uploaded file gives what ``ledger whatif FILE --json`` gives."""
        cli = run_cli(
            "--store",
            str(store.path),
            "whatif",
            "--as-of",
            "2026-01-01",
            str(EQUITY_SWAP),
            "--known-at",
            known_at,
            "--json",
        )
        assert cli.returncode == 0, cli.stderr
        response = upload(
            client,
            UPLOADS[1],
            "equity-swap.yaml",
            EQUITY_SWAP.read_bytes(),
            as_of="2026-01-01",
            known_at=known_at,
        )
        assert response.status_code == 200
        assert response.json() == json.loads(cli.stdout)

    def test_replay_is_known_now_by_default(
        self, client: TestClient, store: Store, run_cli: Cli
    ) -> None:
        """Without ``known_at`` the state is the one known now, as on the CLI."""
        began = datetime.now(UTC)
        api = client.get(f"/api/agreements/{AGREEMENT}/replay?as_of=2024-01-01").json()
        cli = run_cli(
            "--store", str(store.path), "replay", "--as-of", "2024-01-01", "--json",
            "--agreement", AGREEMENT,
        )  # fmt: skip
        cli_json = json.loads(cli.stdout)
        assert began <= datetime.fromisoformat(api.pop("known_at")) <= datetime.now(UTC)
        cli_json.pop("known_at")
        assert api == cli_json


class TestErrors:
    """Bad input is a 400, an unknown agreement a 404, anything else a 500: one line each."""

    @pytest.mark.parametrize(
        ("path", "expected"),
        [
            ("?as_of=2024-13-01", "as_of: expected a date as YYYY-MM-DD, got '2024-13-01'"),
            ("?as_of=20240101", "as_of: expected a date as YYYY-MM-DD, got '20240101'"),
            ("?known_at=yesterday", "known_at: expected an ISO timestamp, a date or an event id"),
            ("?as_of=2010-01-01", "had not opened on 2010-01-01: it opened on 2019-07-01"),
            ("?known_at=2001-01-01", "was not known yet"),
            ("?asof=2024-01-01", "expected only the parameters as_of, known_at, got 'asof'"),
            ("?as_of=2024-01-01&as_of=2025-01-01", "as_of: expected one value, got 2"),
            ("/history?kind=merger", "kind: expected one of agreement_opened"),
            ("/history?from=2025-01-01&to=2024-01-01", "expected --to on or after --from"),
            ("/diff?from=2025-01-01", "expected both from and to"),
            ("/diff?from=2025-01-01&to=2024-01-01", "expected the second date on or after"),
        ],
    )
    def test_bad_input_is_a_400(self, client: TestClient, path: str, expected: str) -> None:
        """The page and the API both say, in one line, what was wrong."""
        page = f"/agreements/{AGREEMENT}{path}"
        api = f"/api/agreements/{AGREEMENT}" + ("/replay" if path.startswith("?") else "") + path
        for url in (page, api):
            response = client.get(url)
            assert response.status_code == 400, url
            assert expected in reason(response)
            assert "\n" not in reason(response)
            assert "Traceback" not in response.text

    @pytest.mark.parametrize(
        "path",
        [
            "/agreements/nope",
            "/agreements/nope/history",
            "/agreements/nope/diff",
            "/agreements/nope/diff?from=2020-01-01&to=2021-01-01",
            "/agreements/nope/whatif",
            "/agreements/nope/timeline",
            "/api/agreements/nope/replay?as_of=2024-01-01",
            "/api/agreements/nope/history",
            "/api/agreements/nope/diff?from=2020-01-01&to=2021-01-01",
        ],
    )
    def test_an_unknown_agreement_is_a_404(self, client: TestClient, path: str) -> None:
        """The reason names the agreement."""
        response = client.get(path)
        assert response.status_code == 404
        assert reason(response) == "the store holds no agreement 'nope'"

    def test_an_unknown_page_is_a_404(self, client: TestClient) -> None:
        """Pages and API alike."""
        for path in ("/nowhere", "/api/nowhere", "/agreements/x/y/z"):
            response = client.get(path)
            assert response.status_code == 404
            assert reason(response) == f"no page at {path}"

    def test_anything_else_is_a_500_in_one_line(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An unexpected failure shows its kind, never its traceback."""

        def broken(*_: Any, **__: Any) -> None:
            raise RuntimeError("boom\n  File 'secret.py', line 1")

        monkeypatch.setattr(Ledger, "state_at", broken)
        for path in (f"/agreements/{AGREEMENT}", f"/api/agreements/{AGREEMENT}/replay"):
            response = client.get(path)
            assert response.status_code == 500
            assert reason(response) == (
                "unexpected error (RuntimeError): the server's log has more"
            )
            assert "secret.py" not in response.text

    @pytest.mark.parametrize(
        ("name", "content", "expected"),
        [
            ("bad.yaml", b"events: [", "bad.yaml: "),
            (
                "typo.yaml",
                EQUITY_SWAP.read_bytes().replace(b"azure-revenue-share", b"azure-revenue-shar"),
                "typo.yaml: event 1 (amendment): changes[1].amend: expected a clause in force",
            ),
            ("latin1.yaml", "agreement: é".encode("latin-1"), "latin1.yaml: expected UTF-8"),
            (
                "other.yaml",
                EQUITY_SWAP.read_bytes().replace(b"agreement: openai-microsoft", b"agreement: x"),
                f"other.yaml: agreement: expected '{AGREEMENT}' (this page's agreement), got 'x'",
            ),
            (
                "hostile.yaml",
                EQUITY_SWAP.read_bytes().replace(
                    b"agreement: openai-microsoft", f"agreement: {HOSTILE}".encode()
                ),
                f"hostile.yaml: agreement: expected '{AGREEMENT}' (this page's agreement)",
            ),
            # The uploaded name is a label, never a path read on the server.
            (str(EQUITY_SWAP), b"not: [an amendment", "equity-swap.yaml: "),
        ],
    )
    def test_a_bad_upload_is_a_400(
        self, client: TestClient, name: str, content: bytes, expected: str
    ) -> None:
        """A file that cannot be tried is refused, naming the uploaded file."""
        for path in UPLOADS:
            response = upload(client, path, name, content, as_of="2026-01-01")
            assert response.status_code == 400, response.text
            assert reason(response).startswith(expected)

    def test_an_oversized_upload_is_refused_before_it_is_read(self, client: TestClient) -> None:
        """The declared length decides: a large body is not parsed at all."""
        response = client.post(
            UPLOADS[0],
            content=b"x" * 16,
            headers={"content-length": str(64 * 1024 * 1024), "content-type": "text/plain"},
        )
        assert response.status_code == 400
        assert reason(response).startswith("file: expected at most 4194304 bytes")

    def test_an_upload_without_a_file_is_a_400(self, client: TestClient) -> None:
        """The form needs its file."""
        response = client.post(UPLOADS[0], data={"as_of": "2026-01-01"})
        assert response.status_code == 400
        assert reason(response) == "file: expected an amendment file (YAML or JSON) to try"


class TestReadOnly:
    """Nothing the web view does writes to the store."""

    ROUTES = (*PAGES, *API, "/static/style.css", "/nowhere")

    @pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
    def test_writes_are_405_everywhere_but_the_upload(
        self, client: TestClient, method: str
    ) -> None:
        """Only the what-if upload takes a body, and only by POST."""
        for path in (*self.ROUTES, *UPLOADS):
            response = client.request(method, path)
            if method == "POST" and path in UPLOADS:
                assert response.status_code == 400  # no file: refused as bad input
                continue
            assert response.status_code == 405, (method, path)
            assert response.headers["allow"] in ("GET, HEAD", "GET, HEAD, POST")
            assert "read-only" in reason(response)

    def test_the_store_file_is_unchanged(self, client: TestClient, store: Store) -> None:
        """Every page, API answer, error and upload leaves the store's bytes as they were."""
        digest = store.sha256()
        for path in (*self.ROUTES, f"/agreements/{AGREEMENT}?as_of=1999-01-01"):
            client.get(path)
            client.head(path)
        for path in UPLOADS:
            upload(client, path, "swap.yaml", EQUITY_SWAP.read_bytes(), as_of="2026-01-01")
            upload(client, path, "bad.yaml", b"events: [", as_of="2026-01-01")
        assert store.sha256() == digest

    def test_the_store_is_opened_read_only(self, store: Store) -> None:
        """SQLite itself refuses a write through the web view's connection."""
        digest = store.sha256()
        with open_read_only(str(store.path)) as ledger, pytest.raises(StoreError) as refused:
            ledger.append_file(str(EQUITY_SWAP))
        assert "readonly" in str(refused.value)
        assert store.sha256() == digest

    def test_a_missing_store_is_refused_not_created(self, tmp_path: Path) -> None:
        """Serving a store that does not exist creates nothing."""
        missing = tmp_path / "none.sqlite"
        with pytest.raises(StoreError, match="no ledger store at"):
            create_app(str(missing))
        assert list(tmp_path.iterdir()) == []

    def test_a_store_from_before_the_index_is_refused_until_indexed(
        self, tmp_path: Path, run_cli: Cli
    ) -> None:
        """The view will not write the index an older store lacks: it says how to."""
        original = (Path(__file__).parent / "data" / "openai-microsoft-v1.sqlite").read_bytes()
        old = tmp_path / "v1.sqlite"
        old.write_bytes(original)
        with pytest.raises(StoreError, match="any command that reads it writes the index once"):
            create_app(str(old))
        assert old.read_bytes() == original
        assert run_cli("--store", str(old), "verify").returncode == 0
        with TestClient(create_app(str(old)), base_url=BASE) as client:
            assert client.get(f"/agreements/{AGREEMENT}").status_code == 200

    def test_requests_to_other_hosts_are_refused(self, client: TestClient) -> None:
        """A page elsewhere cannot read the ledger through DNS rebinding."""
        response = client.get("/", headers={"host": "attacker.example:8000"})
        assert response.status_code == 400
        assert "got host 'attacker.example'" in reason(response)
        assert client.get("/", headers={"host": "localhost:8000"}).status_code == 200
        assert client.get("/", headers={"host": "[::1]:8000"}).status_code == 200


class TestSafety:
    """Texts from events are escaped; every response forbids scripts."""

    HOSTILE_PAGES = (
        "/",
        f"/agreements/{AGREEMENT}?as_of=2024-03-01",
        f"/agreements/{AGREEMENT}/history",
        f"/agreements/{HOSTILE}?as_of=2021-06-01",
        f"/agreements/{HOSTILE}/history",
    )

    def test_hostile_texts_are_escaped(self, client: TestClient) -> None:
        """Descriptions, titles, names, citations and quotes come out as text."""
        for path in self.HOSTILE_PAGES:
            html = client.get(path).text
            assert "<script" not in html.lower(), path
            assert "<img" not in html.lower(), path
            assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html, path
        history = client.get(f"/agreements/{AGREEMENT}/history").text
        assert "&lt;img src=x onerror=&#34;window.__pwned=1&#34;&gt;" in history

    def test_every_response_carries_the_security_headers(self, client: TestClient) -> None:
        """Pages, API answers, errors and static files alike."""
        for path in (*PAGES, *API, "/static/style.css", "/nowhere", "/agreements/x"):
            headers = client.get(path).headers
            expected = CSP if not path.endswith("/timeline") else None
            if expected:
                assert headers["content-security-policy"] == expected, path
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "no-referrer"
        assert "script-src" not in CSP
        assert "default-src 'none'" in CSP


class TestCost:
    """The agreement page and the list never read a whole history."""

    @pytest.fixture
    def calls(self, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
        """Counts of the ``Ledger`` calls that read an agreement's state or whole log."""
        counted: dict[str, int] = {"state_at": 0, "history": 0, "log": 0}
        for name in counted:
            monkeypatch.setattr(Ledger, name, _counting(getattr(Ledger, name), name, counted))
        return counted

    def test_the_agreement_page_folds_once_from_checkpoints(
        self, client: TestClient, calls: dict[str, int]
    ) -> None:
        """One ``state_at``; no ``history``, no whole log."""
        assert client.get(f"/agreements/{AGREEMENT}?as_of=2024-01-01").status_code == 200
        assert calls == {"state_at": 1, "history": 0, "log": 0}

    def test_the_list_reads_no_history(self, client: TestClient, calls: dict[str, int]) -> None:
        """The list reads the read model's row per agreement, no state and no log."""
        assert client.get("/").status_code == 200
        assert client.get("/api/agreements").status_code == 200
        assert calls == {"state_at": 0, "history": 0, "log": 0}


def _counting(method: Any, name: str, counted: dict[str, int]) -> Any:
    def counting(self: Ledger, *args: Any, **kwargs: Any) -> Any:
        counted[name] += 1
        return method(self, *args, **kwargs)

    return counting


class TestServeCommand:
    """``ledger serve`` itself."""

    def test_it_serves_the_store_on_loopback(
        self, store: Store, ledger_cmd: list[str], cli_env: dict[str, str]
    ) -> None:
        """The real command answers pages and API on 127.0.0.1."""
        with served(store.path, command=ledger_cmd, env=cli_env) as base:
            assert AGREEMENT in httpx.get(base + "/").text
            api = httpx.get(base + f"/api/agreements/{AGREEMENT}/replay?as_of=2024-01-01")
            assert api.json()["agreement"] == AGREEMENT
            assert "content-security-policy" in api.headers

    def test_without_the_web_extra_it_says_how_to_install_it(self, cli_env: dict[str, str]) -> None:
        """One line, exit 1, no traceback."""
        code = (
            "import sys; sys.modules['starlette'] = None\n"
            "from ledger.entrypoints.cli import main; sys.exit(main(['serve']))"
        )
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=cli_env,
            timeout=60,
            check=False,
        )
        assert done.returncode == 1
        assert done.stderr.splitlines() == [
            "ledger: `ledger serve` needs starlette, which is not installed: "
            "pip install 'contract-ledger[web]'"
        ]

    def test_a_missing_store_is_refused(self, tmp_path: Path, run_cli: Cli) -> None:
        """One line, exit 1, and no store created."""
        missing = tmp_path / "none.sqlite"
        done = run_cli("--store", str(missing), "serve", "--port", "1")
        assert done.returncode == 1
        assert done.stderr.strip() == (
            f"ledger: no ledger store at {missing}: create it with `ledger init`"
        )
        assert not missing.exists()

    @staticmethod
    def serve(monkeypatch: pytest.MonkeyPatch, *args: str) -> list[tuple[Any, dict[str, Any]]]:
        """Run ``ledger ARGS… serve`` in this process, uvicorn replaced by a recorder."""
        import uvicorn

        from ledger.entrypoints.cli import main

        started: list[tuple[Any, dict[str, Any]]] = []
        monkeypatch.setenv("PGOPTIONS", "")  # serve adds to it; restored after the test
        monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.append((app, options)))
        assert main([*args]) == 0
        return started

    def test_it_binds_loopback_unless_told_otherwise(
        self, store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """127.0.0.1 by default, answering only requests addressed to it; another host
        is said to be reachable by anyone."""
        [(app, options)] = self.serve(monkeypatch, "--store", str(store.path), "serve")
        assert (options["host"], options["port"]) == ("127.0.0.1", 8000)
        with TestClient(app, base_url="http://elsewhere.example") as client:
            assert client.get("/").status_code == 400
        anywhere = "0.0.0.0"  # noqa: S104 - the point of the test
        [(app, options)] = self.serve(
            monkeypatch, "--store", str(store.path), "serve", "--host", anywhere, "--port", "9"
        )
        assert (options["host"], options["port"]) == (anywhere, 9)
        assert "anyone who can reach it can read the ledger" in capsys.readouterr().err
        with TestClient(app, base_url="http://elsewhere.example") as client:
            assert client.get("/").status_code == 200

    def test_it_reads_postgresql_in_read_only_sessions(
        self, postgres_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The serving process's PostgreSQL sessions refuse any write."""
        with Ledger(postgres_url) as ledger:
            ledger.load_example(AGREEMENT)
        [(app, _)] = self.serve(monkeypatch, "--store", postgres_url, "serve")
        with TestClient(app, base_url=BASE) as client:
            assert client.get(f"/agreements/{AGREEMENT}").status_code == 200
        with open_read_only(postgres_url) as ledger, pytest.raises(StoreError) as refused:
            ledger.append_file(str(EQUITY_SWAP))
        assert "read-only transaction" in str(refused.value)

    def test_help_shows_the_loopback_default(self, run_cli: Cli) -> None:
        """It binds 127.0.0.1 unless told otherwise."""
        done = run_cli("serve", "--help")
        assert "[default: 127.0.0.1]" in done.stdout
        assert "[default: 8000;" in done.stdout
