"""The hash chain that makes an agreement's log tamper-evident."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from ledger.domain.codec import unstructure_fact
from ledger.domain.events import Fact

GENESIS = "0" * 64


def canonical(fact: Fact, recorded_at: datetime) -> bytes:
    """The one byte form of an event's content and recording time that digests cover."""
    content = {"fact": unstructure_fact(fact), "recorded_at": recorded_at.isoformat()}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def link(previous: str, fact: Fact, recorded_at: datetime) -> str:
    """The digest of an event chained to its predecessor's digest."""
    return hashlib.sha256(
        previous.encode("ascii") + b"\n" + canonical(fact, recorded_at)
    ).hexdigest()
