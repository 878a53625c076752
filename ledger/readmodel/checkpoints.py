"""Checkpoints: the state at the end of a day, kept so that a question reads one and
folds only the events after it.

A checkpoint is a draft's plain form (``Draft.to_plain``), as zlib-compressed JSON. An
append keeps one at the end of a day once enough entries have passed since the last
(``spacing``), and always one at the end of the opening's day, so that an event
backdated to any later day has one to start from.
"""

from __future__ import annotations

import zlib
from datetime import date

import orjson

from ledger.domain.draft import Draft

MIN_SPACING = 512  # entries between checkpoints, at least
BYTES_PER_ENTRY = 128  # writing and reading this many bytes of checkpoint costs about one entry


def spacing(checkpoint_bytes: int) -> int:
    """How many entries to fold before the next checkpoint, after one of this size.

    Spacing grows with the state, so that reading a checkpoint and folding the entries
    after it cost about the same, and the checkpoints of a log take space in proportion
    to its length.
    """
    return max(MIN_SPACING, checkpoint_bytes // BYTES_PER_ENTRY)


def dump(draft: Draft) -> tuple[bytes, int]:
    """A draft's stored form, and the size of its JSON."""
    data = orjson.dumps(draft.to_plain())
    return zlib.compress(data, 1), len(data)


def load(state: bytes) -> tuple[Draft, int]:
    """The draft a checkpoint holds, and the size of its JSON."""
    data = zlib.decompress(state)
    return Draft.from_plain(orjson.loads(data)), len(data)


class Keeper:
    """Chooses the day ends of a fold to keep as checkpoints (``each_day``)."""

    def __init__(self, *, from_day: date | None, after: int) -> None:
        """Keep none before ``from_day`` (their checkpoints still hold); the first after
        ``after`` entries (0: at the first day end, as after the opening)."""
        self.kept: list[tuple[date, bytes]] = []
        self._from_day = from_day
        self._every = after
        self._run = 0

    def each_day(self, draft: Draft, day: date, count: int, _upcoming: date | None) -> None:
        """The fold reached the end of ``day``, having folded ``count`` entries on it."""
        self._run += count
        if self._run < self._every or (self._from_day is not None and day < self._from_day):
            return
        state, size = dump(draft)
        self.kept.append((day, state))
        self._every, self._run = spacing(size), 0
