"""``ledger serve``: a local, read-only web view over the same ``Ledger`` the CLI uses.

Pages and a JSON API that mirrors the CLI's ``--json``; nothing is ever written. It needs
the ``web`` extra (Starlette, Jinja2, uvicorn, python-multipart):
``pip install 'contract-ledger[web]'``. This module imports none of them, so that the
command can say so in one line when they are missing.
"""

from __future__ import annotations

import importlib
from collections.abc import Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.applications import Starlette

# The modules the web view imports, and the distribution that provides each.
REQUIREMENTS = (
    ("starlette", "starlette"),
    ("jinja2", "jinja2"),
    ("uvicorn", "uvicorn"),
    ("python_multipart", "python-multipart"),
)
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def missing_requirement() -> str | None:
    """The first distribution of the ``web`` extra that cannot be imported, if any."""
    for module, distribution in REQUIREMENTS:
        try:
            importlib.import_module(module)
        except ImportError:
            return distribution
    return None


def create_app(store: str | None, *, hosts: Collection[str] | None = LOOPBACK) -> Starlette:
    """The web application over the store ``store`` (as ``--store`` names it), read-only.

    ``hosts`` are the host names a request may be addressed to (``None``: any), so that a
    page elsewhere cannot reach the loopback server through DNS rebinding.
    """
    from ledger.entrypoints.web.app import build

    return build(store, hosts=hosts)
