"""An agreement's head: its last event's version, digest and recording time.

A head is what people keep or publish to prove later that the log still extends it
(``ledger head``, ``ledger verify --expect``), and what an append signs when a key is
configured (``ledger.adapters.signing``): the chain makes the log tamper-evident only to
someone who knows a head it must still extend.
"""

from __future__ import annotations

import attrs

MESSAGE_VERSION = "contract-ledger head v1"


@attrs.frozen
class Head:
    """The head of an agreement's log."""

    agreement: str
    version: int
    digest: str
    recorded_at: str  # ISO, as the event stores it

    def message(self) -> bytes:
        """The bytes a signature covers."""
        lines = (MESSAGE_VERSION, self.agreement, str(self.version), self.digest, self.recorded_at)
        return "\n".join(lines).encode("utf-8")


@attrs.frozen
class SignedHead:
    """A head as an append signed it, with the id of the key that did."""

    version: int
    digest: str
    recorded_at: str
    key_id: str
    signature: str  # hex
