"""Where each event sits on effective time, and from which log version it is in effect.

The index is what lets a question about one date read only the events near that date:
one row per stretch of log versions during which an event is in effect. A plain event
is in effect from its own version on; a correction closes its target's row and opens
one for its replacement (in the target's place in recording order); a retraction
closes its target's row, and retracting a correction opens a new row for the event it
had corrected. The rows visible at log version P are exactly ``known(...)`` at P.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import attrs

from ledger.domain.events import AgreementOpened, Correction, Fact, Retraction, target_of
from ledger.domain.fold import Entry
from ledger.domain.timeline import Recorded, Withdrawals, dated_fact, event_id

OPEN = 2**63 - 1  # visible_until of a row still in effect: later than any log version
MIN_SPACING = 256  # entries between checkpoints, at least
BYTES_PER_ENTRY = 512  # reading this many bytes of checkpoint JSON costs about one entry


@attrs.frozen
class IndexRow:
    """An event in effect from log version ``visible_from`` until before ``visible_until``."""

    version: int  # the event that carries the fact (a correction carries its replacement)
    on: date
    opening: bool
    seq: int  # place in recording order (a replacement takes its original's)
    visible_from: int
    visible_until: int = OPEN

    def entry(self, agreement: str, fact: Fact) -> Entry:
        """The entry this row stands for, given the fact its event carries."""
        dated = dated_fact(fact)
        if dated is None:  # pragma: no cover - retractions have no rows
            raise ValueError(f"{event_id(agreement, self.version)} has no date of its own")
        return Entry(
            event_id(agreement, self.version),
            self.seq,
            dated,
            isinstance(fact, Correction),
            self.version,
        )


def index_rows(agreement: str, records: Sequence[Recorded]) -> list[IndexRow]:
    """Every row of the index of a whole log, closed ones included."""
    builder = IndexBuilder(agreement)
    for record in records:
        builder.add(record)
    return builder.rows


class IndexBuilder:
    """The index, built as the log is read in recording order.

    Seeded with the rows and facts of the earlier events a batch withdraws, it gives
    what the batch changes without reading the rest of the log.
    """

    def __init__(self, agreement: str) -> None:
        self.agreement = agreement
        self.rows: list[IndexRow] = []
        self.seeded = 0  # rows[:seeded] came from the store
        self.open_row: dict[str, int] = {}  # event id -> its row in effect
        self.place: dict[str, int] = {}
        self.version_of: dict[str, int] = {}
        self.withdrawals = Withdrawals()

    def seed(self, version: int, fact: Fact, last_row: IndexRow | None) -> None:
        """An earlier event: its fact and its latest row (``None`` for a retraction)."""
        ident = event_id(self.agreement, version)
        self.version_of[ident] = version
        self.withdrawals.facts[ident] = fact
        if last_row is None:
            return
        self.place[ident] = last_row.seq
        if last_row.visible_until == OPEN:
            self.open_row[ident] = len(self.rows)
            self.rows.append(last_row)
            self.seeded = len(self.rows)
        else:
            self.withdrawals.withdrawn_by[ident] = event_id(self.agreement, last_row.visible_until)

    def add(self, record: Recorded) -> None:
        """The next event of the log."""
        version = record.originator_version
        ident = event_id(self.agreement, version)
        fact = record.fact
        self.version_of[ident] = version
        restored = self.withdrawals.record(ident, fact)
        if isinstance(fact, (Correction, Retraction)):
            target = target_of(fact)
            if target in self.open_row:
                at = self.open_row.pop(target)
                self.rows[at] = attrs.evolve(self.rows[at], visible_until=version)
        if restored is not None:
            again = self.withdrawals.facts[restored]
            self.open_row[restored] = len(self.rows)
            self.rows.append(_row(self.version_of[restored], again, self.place[restored], version))
        place = self.place.get(fact.corrects, version) if isinstance(fact, Correction) else version
        self.place[ident] = place
        if dated_fact(fact) is not None:
            self.open_row[ident] = len(self.rows)
            self.rows.append(_row(version, fact, place, version))

    def opened(self) -> list[IndexRow]:
        """The rows added since seeding."""
        return self.rows[self.seeded :]

    def closed(self) -> list[IndexRow]:
        """The seeded rows closed since."""
        return [row for row in self.rows[: self.seeded] if row.visible_until != OPEN]


def _row(version: int, fact: Fact, seq: int, visible_from: int) -> IndexRow:
    dated = dated_fact(fact)
    if dated is None:  # pragma: no cover - callers pass dated events only
        raise ValueError("a retraction has no place on the timeline")
    return IndexRow(
        version, dated.effective_on, isinstance(dated, AgreementOpened), seq, visible_from
    )


def spacing(checkpoint_bytes: int) -> int:
    """How many entries to fold before the next checkpoint, after one of this size.

    Spacing grows with the state, so that reading a checkpoint and folding the entries
    after it cost about the same, and the checkpoints of a log take space in proportion
    to its length.
    """
    return max(MIN_SPACING, checkpoint_bytes // BYTES_PER_ENTRY)
