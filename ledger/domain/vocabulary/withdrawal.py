"""Corrections and retractions: events about other events, on the recording axis only.

A correction withdraws an earlier event and puts a replacement in its place; a
retraction withdraws one that should never have been recorded. Neither has a date of
its own (a correction's replacement has one); the originals stay in the log forever,
left out of folds as known after their withdrawal (``ledger.domain.timeline``).
"""

from __future__ import annotations

from typing import ClassVar, TypeAlias

import attrs

from ledger.domain.values import Source
from ledger.domain.vocabulary.base import DatedEvent, EventKind


@attrs.frozen(kw_only=True)
class Correction:
    """Withdraws an earlier event and puts a replacement in its place.

    It has no date of its own: the replacement carries one. The original stays in
    the log forever; it is only left out of folds as known after the correction.
    """

    TYPE: ClassVar[str] = "correction"
    TOPIC: ClassVar[str] = "contract-ledger/correction"
    class_version: ClassVar[int] = 1
    corrects: str
    reason: str
    source: Source
    replacement: DatedEvent  # any dated event (the registry lists them)
    note: str | None = None


@attrs.frozen(kw_only=True)
class Retraction:
    """Withdraws an earlier event that should never have been recorded."""

    TYPE: ClassVar[str] = "retraction"
    TOPIC: ClassVar[str] = "contract-ledger/retraction"
    class_version: ClassVar[int] = 1
    retracts: str
    reason: str
    source: Source
    note: str | None = None


Withdrawal: TypeAlias = Correction | Retraction


def target_of(withdrawal: Withdrawal) -> str:
    """The id of the event a correction or retraction withdraws."""
    return withdrawal.corrects if isinstance(withdrawal, Correction) else withdrawal.retracts


def summary_correction(fact: Correction, replacement: str) -> str:
    """What it corrects, why, and (given the replacement's own summary) into what."""
    return f"corrects {fact.corrects}: {fact.reason} → {replacement}"


def summary_retraction(fact: Retraction) -> str:
    """What it retracts, and why."""
    return f"retracts {fact.retracts}: {fact.reason}"


RETRACTION = EventKind(Retraction, None, summary_retraction)
