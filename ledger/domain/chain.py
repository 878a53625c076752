"""The hash chain that makes an agreement's log tamper-evident."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from ledger.domain.codec import unstructure_fact
from ledger.domain.events import Fact

GENESIS = "0" * 64


def content(fact: Fact, recorded_at: datetime) -> dict[str, Any]:
    """What a digest covers: the event's plain form and its recording time."""
    return {"fact": unstructure_fact(fact), "recorded_at": recorded_at.isoformat()}


def canonical(plain: dict[str, Any]) -> bytes:
    """The one byte form of some plain content: sorted keys, no spaces, UTF-8."""
    text = json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def link(previous: str, fact: Fact, recorded_at: datetime) -> str:
    """The digest of an event chained to its predecessor's digest."""
    return link_content(previous, content(fact, recorded_at))


def link_content(previous: str, plain: dict[str, Any]) -> str:
    """The digest of some plain content (as ``content`` gives it) chained to ``previous``."""
    return hashlib.sha256(previous.encode("ascii") + b"\n" + canonical(plain)).hexdigest()
