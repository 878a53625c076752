"""The pages and the JSON API: each reads its parameters, asks the ``Ledger`` one
question, and shows the answer in the JSON shapes the CLI prints with ``--json``."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from datetime import date
from pathlib import PurePosixPath
from typing import Any

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ledger.adapters.files import parse_text
from ledger.application import Ledger
from ledger.domain.events import BY_TYPE
from ledger.domain.history import HistoryEntry
from ledger.domain.state import AgreementState
from ledger.domain.whatif import WhatIf
from ledger.entrypoints.web.query import Query
from ledger.errors import AgreementNotFound, InputError, LedgerError
from ledger.presentation.shapes import (
    agreements_json,
    difference_json,
    history_json,
    state_json,
    whatif_json,
)

LOG = logging.getLogger("ledger.entrypoints.web")
MAX_UPLOAD = 4 * 1024 * 1024  # bytes of an amendment file to try; real ones are a few KiB
MAX_ROWS = 2000  # events the history page lists (the API lists them all)
# The framed timeline runs plotly's inline script and styles, so it is sandboxed: its own
# opaque origin (no access to this server's pages or cookies), framed by them alone.
FRAMED_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; font-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'; sandbox allow-scripts"
)
Handler = Callable[["Views", Request], Response]


def answers(handler: Handler) -> Handler:
    """A route whose failures become one-line error pages (JSON under ``/api``)."""

    @functools.wraps(handler)
    def run(self: Views, request: Request) -> Response:
        try:
            return handler(self, request)
        except Exception as error:  # every failure is shown in one line, never a traceback
            return self.failure(request.url.path, error)

    return run


class Views:
    """The routes over one ledger, opened read-only; its calls are taken one at a time."""

    def __init__(
        self, ledger: Ledger, lock: threading.Lock, templates: jinja2.Environment, store: str
    ) -> None:
        self.ledger = ledger
        self.lock = lock
        self.templates = templates
        self.store = store

    # -- the questions, shared by pages and API ---------------------------------------

    def _state(self, request: Request) -> tuple[AgreementState, Query]:
        query = Query(request.query_params.multi_items(), ("as_of", "known_at"))
        as_of = query.date("as_of") or date.today()
        with self.lock:
            state = self.ledger.state_at(
                as_of, known_at=query.moment("known_at"), agreement=_name(request)
            )
        return state, query

    def _history(self, request: Request) -> tuple[tuple[HistoryEntry, ...], Query]:
        query = Query(
            request.query_params.multi_items(),
            ("from", "to", "kind", "known_at"),
            repeatable=("kind",),
        )
        unknown = [kind for kind in query.all("kind") if kind not in BY_TYPE]
        if unknown:
            raise InputError(f"kind: expected one of {', '.join(BY_TYPE)}, got {unknown[0]!r}")
        with self.lock:
            entries = self.ledger.history(
                agreement=_name(request),
                known_at=query.moment("known_at"),
                start=query.date("from"),
                end=query.date("to"),
                kinds=query.all("kind"),
            )
        return entries, query

    def _diff(self, request: Request, query: Query) -> dict[str, Any]:
        first, second = query.date("from"), query.date("to")
        if first is None or second is None:
            raise InputError("expected both from and to (dates as YYYY-MM-DD)")
        with self.lock:
            difference = self.ledger.diff(
                first, second, known_at=query.moment("known_at"), agreement=_name(request)
            )
        return {
            "from": first.isoformat(),
            "to": second.isoformat(),
            "difference": difference_json(difference),
        }

    def _exists(self, request: Request) -> str:
        name = _name(request)
        with self.lock:
            if name not in self.ledger.agreements():
                raise AgreementNotFound(f"the store holds no agreement {name!r}")
        return name

    async def _what_if(self, request: Request) -> tuple[WhatIf, Query, str]:
        """The uploaded file's events applied in memory on the ``as_of`` date."""
        query, label, text = await _upload(request)
        as_of = query.date("as_of") or date.today()
        known_at = query.moment("known_at")
        name = await run_in_threadpool(self._exists, request)

        def run() -> WhatIf:
            named = parse_text(text, label).agreement  # the page names the agreement
            if named is not None and named != name:
                raise InputError(
                    f"{label}: agreement: expected {name!r} (this page's agreement), got {named!r}"
                )
            try:
                with self.lock:
                    # "-" reads ``stdin_text``: the uploaded name is only a label, never a
                    # path on this machine.
                    return self.ledger.what_if_file(
                        "-", as_of, known_at=known_at, agreement=name, stdin_text=text
                    )
            except InputError as error:
                raise InputError(_relabelled(str(error), label)) from None

        return await run_in_threadpool(run), query, label

    # -- pages ----------------------------------------------------------------------

    @answers
    def index(self, request: Request) -> Response:
        """The agreements in the store."""
        Query(request.query_params.multi_items(), ())
        with self.lock:
            agreements = agreements_json(self.ledger.views())
        return self.page("agreements.html", agreements=agreements)

    @answers
    def agreement(self, request: Request) -> Response:
        """The agreement on a date, as known at a time: one ``state_at`` (checkpoints)."""
        state, query = self._state(request)
        data = state_json(state)
        # Each clause cites the latest event that shaped it (the others are links to the
        # history): one row per clause at most, whatever the history's length.
        cited = [clause["caused_by"][-1] for clause in data["clauses"] if clause["caused_by"]]
        with self.lock:
            sources = self.ledger.events(cited, agreement=state.agreement)
        return self.page(
            "agreement.html",
            state=data,
            sources=sources,
            opened_precision=state.opened_precision.value,
            query=query,
        )

    @answers
    def history(self, request: Request) -> Response:
        """The events with their sources, filtered."""
        entries, query = self._history(request)
        return self.page(
            "history.html",
            name=_name(request),
            entries=entries[:MAX_ROWS],
            total=len(entries),
            query=query,
            kinds=list(BY_TYPE),
        )

    @answers
    def diff(self, request: Request) -> Response:
        """What changed between two dates (the form alone until both are given)."""
        query = Query(request.query_params.multi_items(), ("from", "to", "known_at"))
        if not (query.text("from") or query.text("to")):
            self._exists(request)
            return self.page("diff.html", name=_name(request), query=query, result=None)
        result = self._diff(request, query)
        return self.page("diff.html", name=_name(request), query=query, result=result)

    @answers
    def whatif_form(self, request: Request) -> Response:
        """The form to try an amendment file; nothing is written."""
        query = Query(request.query_params.multi_items(), ("as_of", "known_at"))
        query.date("as_of")
        query.moment("known_at")
        return self.page(
            "whatif.html", name=self._exists(request), query=query, result=None, label=""
        )

    async def whatif_upload(self, request: Request) -> Response:
        """The difference the uploaded file would make; nothing is written."""
        try:
            hypothesis, query, label = await self._what_if(request)
        except Exception as error:  # every failure is shown in one line, never a traceback
            return self.failure(request.url.path, error)
        return self.page(
            "whatif.html",
            name=_name(request),
            query=query,
            result=whatif_json(hypothesis),
            label=label,
        )

    @answers
    def timeline(self, request: Request) -> Response:
        """The timeline the agreement page frames: plotly's interactive picture where the
        pictures extra is installed, else the text timeline."""
        from ledger.presentation import timeline as pictures

        query = Query(request.query_params.multi_items(), ("from", "to", "known_at"))
        with self.lock:
            picture = self.ledger.timeline(
                agreement=_name(request),
                start=query.date("from"),
                end=query.date("to"),
                known_at=query.moment("known_at"),
            )
        drawn = pictures.to_html if pictures.can_draw("html") else pictures.to_text_html
        response = HTMLResponse(drawn(picture))
        response.headers["content-security-policy"] = FRAMED_CSP
        response.headers["x-frame-options"] = "SAMEORIGIN"
        return response

    def icon(self, _request: Request) -> Response:
        """The icon, where browsers look for it first."""
        return RedirectResponse("/static/favicon.svg", status_code=301)

    # -- the JSON API: what the CLI prints with --json --------------------------------

    @answers
    def api_agreements(self, request: Request) -> Response:
        """The agreements in the store."""
        Query(request.query_params.multi_items(), ())
        with self.lock:
            agreements = agreements_json(self.ledger.views())
        return JSONResponse(agreements)

    @answers
    def api_replay(self, request: Request) -> Response:
        """``ledger replay --as-of D --known-at T --json``."""
        state, _ = self._state(request)
        return JSONResponse(state_json(state))

    @answers
    def api_history(self, request: Request) -> Response:
        """``ledger history --json`` with its filters."""
        entries, _ = self._history(request)
        return JSONResponse(history_json(entries))

    @answers
    def api_diff(self, request: Request) -> Response:
        """``ledger diff D1 D2 --json``."""
        query = Query(request.query_params.multi_items(), ("from", "to", "known_at"))
        return JSONResponse(self._diff(request, query))

    async def api_whatif(self, request: Request) -> Response:
        """``ledger whatif --as-of D FILE --json``, FILE uploaded; nothing is written."""
        try:
            hypothesis, _, _ = await self._what_if(request)
        except Exception as error:  # every failure is shown in one line, never a traceback
            return self.failure(request.url.path, error)
        return JSONResponse(whatif_json(hypothesis))

    # -- answers and failures -------------------------------------------------------

    def page(self, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        """A rendered page."""
        html = self.templates.get_template(template).render(
            store=self.store, today=date.today().isoformat(), **context
        )
        return HTMLResponse(html, status_code=status)

    def refusal(self, path: str, status: int, reason: str) -> Response:
        """A one-line error: JSON under ``/api``, else a page."""
        if path == "/api" or path.startswith("/api/"):
            return JSONResponse({"error": reason, "status": status}, status_code=status)
        return self.page("error.html", status=status, status_code=status, reason=reason)

    def failure(self, path: str, error: Exception) -> Response:
        """The response to an error a route raised: the ledger's own errors say what was
        wrong (400; 404 for an unknown agreement); anything else is a 500 in one line."""
        if isinstance(error, AgreementNotFound):
            return self.refusal(path, 404, _first_line(error))
        if isinstance(error, InputError):
            return self.refusal(path, 400, _first_line(error))
        if isinstance(error, LedgerError):
            return self.refusal(path, 500, explained(_first_line(error), self.store))
        if isinstance(error, HTTPException):
            return self.refusal(path, error.status_code, str(error.detail))
        LOG.error("unexpected error on %s", path, exc_info=error)
        return self.refusal(
            path, 500, f"unexpected error ({type(error).__name__}): the server's log has more"
        )

    async def http_error(self, request: Request, error: Exception) -> Response:
        """Starlette's own refusals (no such page, wrong method) as one-line errors."""
        if isinstance(error, HTTPException) and error.status_code == 404:
            return self.refusal(request.url.path, 404, f"no page at {request.url.path}")
        return self.failure(request.url.path, error)

    async def crash(self, request: Request, error: Exception) -> Response:
        """The last line of defence: one line, never a traceback."""
        return self.failure(request.url.path, error)


async def _upload(request: Request) -> tuple[Query, str, str]:
    """The what-if form: its fields, and the uploaded file's name (a label) and text."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_UPLOAD + 64 * 1024:
        raise InputError(f"file: expected at most {MAX_UPLOAD} bytes, got {length}")
    async with request.form(max_files=1, max_fields=4, max_part_size=64 * 1024) as form:
        items = [(k, v if isinstance(v, str) else "(file)") for k, v in form.multi_items()]
        query = Query(items, ("file", "as_of", "known_at"))
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InputError("file: expected an amendment file (YAML or JSON) to try")
        label = PurePosixPath(upload.filename.replace("\\", "/")).name or "upload"
        data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InputError(f"{label}: expected at most {MAX_UPLOAD} bytes, got more")
    try:
        return query, label, data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{label}: expected UTF-8 text, got an invalid byte at {error.start}"
        ) from None


def explained(message: str, store: str) -> str:
    """A store error, with what to do when it came from the view's refusal to write."""
    if "readonly database" not in message:
        return message
    return (
        f"the store {store} needs its timeline index written before it can be served "
        "read-only (a store from an older version); any command that reads it writes "
        "the index once, e.g. `ledger verify`"
    )


def _name(request: Request) -> str:
    name: str = request.path_params["agreement"]
    return name


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _relabelled(message: str, label: str) -> str:
    """An error about the uploaded text, naming the uploaded file instead of stdin."""
    if message.startswith("<stdin>:"):
        return label + message.removeprefix("<stdin>")
    return f"{label}: {message}"
