"""The hash chain that makes an agreement's log tamper-evident."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson

from ledger.domain.draft import Plain

GENESIS = "0" * 64


def content(plain: Plain, recorded_at: datetime) -> dict[str, Any]:
    """What a digest covers: the event's plain form and its recording time."""
    return {"fact": plain, "recorded_at": recorded_at.isoformat()}


def canonical(plain: Plain) -> bytes:
    """The one byte form of some plain content: sorted keys, no spaces, UTF-8, the
    characters as they are (the same bytes as ``json.dumps(sort_keys=True,
    separators=(",", ":"), ensure_ascii=False)``, which wrote the first chains; a law in
    the tests holds the two together)."""
    return orjson.dumps(plain, option=orjson.OPT_SORT_KEYS)


def link(previous: str, plain: Plain, recorded_at: datetime) -> str:
    """The digest of an event chained to its predecessor's digest."""
    return link_content(previous, content(plain, recorded_at))


def link_content(previous: str, plain: Plain) -> str:
    """The digest of some plain content (as ``content`` gives it) chained to ``previous``."""
    return hashlib.sha256(previous.encode("ascii") + b"\n" + canonical(plain)).hexdigest()
