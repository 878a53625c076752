"""An event in its place on the timeline: what the fold folds."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from ledger.domain.draft import Plain

OPENING = "agreement_opened"


class Entry(NamedTuple):
    """A dated fact, with its event's id and place in the fold's total order.

    A tuple, so that entries sort in that order by themselves: effective date, the
    opening first on its day, recording order (a correction's replacement takes its
    original's place), then version. The first four fields never tie.
    """

    effective_on: date
    opening: int  # 0 for the agreement's opening, 1 for everything else
    seq: int
    version: int  # the event that carries the fact
    id: str
    type: str
    fact: Plain  # the dated fact's plain form (a correction's replacement)
    replacing: bool = False  # the fact is a correction's replacement

    @classmethod
    def of(
        cls, ident: str, version: int, seq: int, fact: Plain, *, replacing: bool = False
    ) -> Entry:
        """The entry of a dated fact in its plain form (with its ``type``)."""
        kind = fact["type"]
        return cls(
            date.fromisoformat(fact["effective_on"]),
            0 if kind == OPENING else 1,
            seq,
            version,
            ident,
            kind,
            fact,
            replacing,
        )

    @property
    def precision(self) -> str:
        """How much of its date the source gives (``day``, ``month``…)."""
        precision: str = self.fact.get("date_precision", "day")
        return precision

    @property
    def confidence(self) -> str:
        """How firmly its source states it."""
        confidence: str = self.fact["source"]["confidence"]
        return confidence
