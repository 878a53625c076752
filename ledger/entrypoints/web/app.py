"""The Starlette application: the routes, a guard in front of them, the store read-only.

Routes are thin: each reads its parameters, asks the ``Ledger`` one question, and shows
the answer through the same JSON shapes the CLI prints (``ledger.adapters.present``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.adapters.store import StoreLocation
from ledger.application import Ledger
from ledger.entrypoints.web.routes import Views, explained
from ledger.entrypoints.web.templating import environment
from ledger.errors import StoreError

# No script runs on these pages; styles and images come from this server only. The
# timeline frame sends its own, sandboxed policy (see routes.FRAMED_CSP).
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
}
SAFE_METHODS = ("GET", "HEAD")
# The what-if upload is the one place a request carries a body; it writes nothing either.
UPLOADS = re.compile(r"^(/api)?/agreements/[^/]+/whatif$")


def build(store: str | None, *, hosts: Collection[str] | None) -> Starlette:
    """The application over ``store`` (see ``ledger.entrypoints.web.create_app``)."""
    ledger = open_read_only(store)
    views = Views(ledger, threading.Lock(), environment(), StoreLocation.resolve(store).display())

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            ledger.close()

    routes = [
        Route("/", views.index),
        Route("/agreements/{agreement}", views.agreement),
        Route("/agreements/{agreement}/history", views.history),
        Route("/agreements/{agreement}/diff", views.diff),
        Route("/agreements/{agreement}/whatif", views.whatif_form),
        Route("/agreements/{agreement}/whatif", views.whatif_upload, methods=["POST"]),
        Route("/agreements/{agreement}/timeline", views.timeline),
        Route("/api/agreements", views.api_agreements),
        Route("/api/agreements/{agreement}/replay", views.api_replay),
        Route("/api/agreements/{agreement}/history", views.api_history),
        Route("/api/agreements/{agreement}/diff", views.api_diff),
        Route("/api/agreements/{agreement}/whatif", views.api_whatif, methods=["POST"]),
        Route("/favicon.ico", views.icon),
        Mount(
            "/static", StaticFiles(packages=[("ledger.entrypoints.web", "static")]), name="static"
        ),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(Guard, hosts=hosts, refuse=views.refusal)],
        exception_handlers={HTTPException: views.http_error, Exception: views.crash},
        lifespan=lifespan,
    )


def open_read_only(store: str | None) -> Ledger:
    """The ledger at ``store``, opened so that it cannot write.

    A SQLite file is opened read-only by SQLite itself (``mode=ro``): any write fails, and
    a missing file is refused rather than created. A PostgreSQL store is made read-only
    by its sessions (``ledger serve`` sets ``default_transaction_read_only``).
    """
    location = StoreLocation.resolve(store)
    if not location.is_file:
        return Ledger(location.url)
    if not location.exists():
        raise StoreError(f"no ledger store at {location.display()}: create it with `ledger init`")
    try:
        return Ledger(f"file:{quote(str(location.path.resolve()))}?mode=ro")
    except StoreError as error:
        raise StoreError(explained(str(error), location.display())) from None


class Guard:
    """In front of every route: only requests to this host, only reading methods (and the
    what-if upload), and the security headers on every response."""

    def __init__(
        self,
        app: ASGIApp,
        hosts: Collection[str] | None,
        refuse: Callable[[str, int, str], Response],
    ) -> None:
        self.app = app
        self.hosts = None if hosts is None else frozenset(h.lower() for h in hosts)
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        refusal = self.refusal(scope)
        if refusal is None:
            await self.app(scope, receive, secured)
        else:
            await refusal(scope, receive, secured)

    def refusal(self, scope: Scope) -> Response | None:
        """The response refusing this request, if it is refused."""
        path: str = scope["path"]
        host = host_name(Headers(scope=scope).get("host", ""))
        if self.hosts is not None and host not in self.hosts:
            return self.refuse(
                path,
                400,
                f"expected a request addressed to {' or '.join(sorted(self.hosts))} "
                f"(this server is local), got host {host!r}",
            )
        method: str = scope["method"]
        if method in SAFE_METHODS or (method == "POST" and UPLOADS.match(path)):
            return None
        allowed = "GET, HEAD, POST" if UPLOADS.match(path) else "GET, HEAD"
        response = self.refuse(
            path, 405, f"this view is read-only: expected {allowed}, got {method}"
        )
        response.headers["allow"] = allowed
        return response


def host_name(host: str) -> str:
    """The name in a ``Host`` header, without its port (``[::1]:8000`` is ``::1``)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
