"""Synthetic agreements for the benchmark, generated from fixed seeds.

Two mixes:

- ``realistic``: the economic life of a long agreement. Investments (about 40%),
  amendments that add, amend or remove clauses among a pool of 200 ids (a removed or
  expired id can be added again; about 33%), ownership changes that keep the stakes in
  each entity at most 100 (about 26%), and, rarely, governance events (0.01%),
  renegotiations (0.005%), corrections and retractions (0.45%). About 5% of events are
  backdated (kinds that cannot break a later event).
- ``churn``: clauses that come and go. Every added clause has an id of its own, so the
  clauses ever added grow with the history while at most 200 are in force; 15% of events
  are investments backdated to a random earlier day.

Nothing here imports the ledger, so the same histories feed every version measured.
"""

from __future__ import annotations

import bisect
import math
import random
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

AGREEMENT = "bench-agreement"
SEED = 6
MIXES = ("realistic", "churn")
MAX_IN_FORCE = 200


PARTIES = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta")
ENTITIES = ("alpha", "beta", "newco-1", "newco-2", "newco-3")
CURRENCIES = ("USD", "USD", "USD", "EUR")
INSTRUMENTS = ("equity", "profit_interest", "cloud_credits", "other")
GOVERNANCE_KINDS = (
    "ceo_removed",
    "ceo_appointed",
    "ceo_reinstated",
    "board_changed",
    "observer_seat_granted",
    "observer_seat_relinquished",
    "departure",
    "other",
)
VETOABLE = ("restructuring", "board_changed", "ceo_appointed")  # always approved by all
CLAUSE_KINDS = (
    "exclusivity",
    "revenue_share",
    "profit_share",
    "ip_rights",
    "veto",
    "agi_clause",
    "custom",
)
CLAUSE_POOL = 200  # clause ids c-000…c-199: a removed or expired id may be added again
OPENED = date(1990, 1, 1)
QUOTES = (
    "The parties agreed to extend the arrangement on revised terms after months of talks.",
    "According to people familiar with the matter, the investment closed this quarter.",
    "The board approved the change at a meeting that ran late into the evening.",
    "Both companies confirmed the amendment in a joint statement on their websites.",
    "Analysts said the new terms shift economics meaningfully toward the smaller partner.",
    "The filing shows the stake changed hands as part of a wider recapitalisation.",
)
PROBES = 30


@dataclass
class Instance:
    """One life of a clause id in the model: added on ``since``, maybe removed or expiring."""

    kind: str
    since: int
    until: int | None = None
    removed: int | None = None  # exclusive: events recorded after the removal see it gone

    def in_force(self, day: int) -> bool:
        if day < self.since or (self.removed is not None and day >= self.removed):
            return False
        return self.until is None or day <= self.until


class Synth:
    """Generates a valid history: every event passes the ledger's rules by construction.

    The model tracks what the fold will see at each event's place on the timeline
    (effective date, then recording order): which clause ids are in force on a day,
    and each holder's stake over time. Backdated events (~5%) are kinds that cannot
    break a later event: investments, governance events other than restructurings,
    term-only amendments of a clause in force on that day, and stake reductions.
    Vetoes cover only ``VETOABLE`` kinds, and every such governance event is approved by
    all parties, so no veto is ever broken.
    """

    def __init__(self, seed: int, mix: str = "realistic") -> None:
        self.rng = random.Random(seed)  # noqa: S311 - a fixed-seed benchmark, not security
        self.mix = mix
        self.live: list[str] = []  # churn: the ids that may be in force, pruned as drawn
        self.fresh = 0
        self.day = OPENED.toordinal()
        self.events: list[dict[str, Any]] = []
        self.clauses: dict[str, list[Instance]] = {}
        self.stakes: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
        self.investments: list[tuple[int, str]] = []  # (version, effective_on) correctable
        self.retractable: list[int] = []
        self.withdrawn: set[int] = set()
        self.talks = 0
        self.kinds: Counter[str] = Counter()

    # -- helpers --------------------------------------------------------------------

    def party(self) -> str:
        return self.rng.choice(PARTIES)

    def base(self, kind: str, day: int) -> dict[str, Any]:
        source: dict[str, Any] = {
            "citation": f"Synthetic source {self.rng.randrange(1000)}",
            "quote": self.rng.choice(QUOTES),
            "confidence": self.rng.choice(("confirmed", "reported", "reported", "estimated")),
        }
        event: dict[str, Any] = {
            "type": kind,
            "effective_on": date.fromordinal(day).isoformat(),
            "source": source,
        }
        if self.rng.random() < 0.2:
            event["note"] = "Figures as reported at the time; the terms may be revisited."
        return event

    def emit(self, event: dict[str, Any], label: str | None = None) -> int:
        self.events.append(event)
        self.kinds[label or event["type"]] += 1
        return len(self.events)  # the event's version in the log

    def in_force(self, clause: str, day: int) -> Instance | None:
        return next((i for i in self.clauses.get(clause, ()) if i.in_force(day)), None)

    def probe(self, day: int, *, want: bool, used: set[str]) -> str | None:
        """A random clause id that is (``want``) or is not in force on ``day``."""
        if self.mix == "churn":
            return self._churn_probe(day, want=want, used=used)
        for _ in range(PROBES):
            clause = f"c-{self.rng.randrange(CLAUSE_POOL):03d}"
            if clause not in used and (self.in_force(clause, day) is not None) == want:
                return clause
        return None

    def _churn_probe(self, day: int, *, want: bool, used: set[str]) -> str | None:
        """A new id of its own (never reused), or one of the live ids in force on ``day``."""
        if not want:
            if len(self.live) >= MAX_IN_FORCE:
                return None
            self.fresh += 1
            return f"k-{self.fresh:07d}"
        for _ in range(PROBES):
            if not self.live:
                return None
            at = self.rng.randrange(len(self.live))
            clause = self.live[at]
            if self.in_force(clause, day) is None:
                self.live[at] = self.live[-1]  # it expired or was removed: forget it
                self.live.pop()
                continue
            if clause not in used:
                return clause
        return None

    def terms(self, kind: str) -> dict[str, Any]:
        rng = self.rng
        if kind == "exclusivity":
            return {
                "holder": self.party(),
                "grantor": self.party(),
                "scope": "cloud services for model training and inference",
                "exclusive": rng.random() < 0.5,
                "right_of_first_refusal": rng.random() < 0.5,
            }
        if kind == "revenue_share":
            return {
                "payer": self.party(),
                "payee": self.party(),
                "rate": _percent(rng.randint(1, 5000)),
                "threshold": {"amount": str(rng.randint(1, 100) * 10**8), "currency": "USD"},
                "basis": "net revenue from jointly sold services",
            }
        if kind == "profit_share":
            return {
                "holder": self.party(),
                "entity": rng.choice(ENTITIES),
                "rate": _percent(rng.randint(1, 9000)),
                "cap_multiple": str(rng.randint(2, 100)),
            }
        if kind == "ip_rights":
            return {
                "holder": self.party(),
                "licensor": self.party(),
                "scope": "models, weights and research",
            }
        if kind == "veto":
            return {"holder": self.party(), "over": rng.sample(VETOABLE, k=rng.randint(1, 3))}
        if kind == "agi_clause":
            return {
                "trigger": "the board determines AGI is reached",
                "effect": "the licence ends",
                "determined_by": "board",
            }
        return {"text": f"Custom covenant {rng.randrange(10**6)} as drafted by counsel."}

    def amended_terms(self, kind: str) -> dict[str, Any]:
        rng = self.rng
        if kind == "exclusivity":
            return {"exclusive": rng.random() < 0.5}
        if kind == "revenue_share":
            return {"rate": _percent(rng.randint(1, 5000))}
        if kind == "profit_share":
            if rng.random() < 0.5:
                return {"cap_multiple": str(rng.randint(2, 100))}
            return {"rate": _percent(rng.randint(1, 9000))}
        if kind == "ip_rights":
            return {"scope": f"models released before version {rng.randint(2, 40)}"}
        if kind == "veto":
            return {"over": rng.sample(VETOABLE, k=rng.randint(1, 3))}
        if kind == "agi_clause":
            return {"effect": rng.choice(("the licence ends", "profit share stops"))}
        return {"text": f"Custom covenant {rng.randrange(10**6)}, amended."}

    def add(self, clause: str, day: int) -> dict[str, Any]:
        """An ``add`` change, applied to the model."""
        kind = self.rng.choice(CLAUSE_KINDS)
        until = day + self.rng.randint(30, 3650) if self.rng.random() < 0.2 else None
        self.clauses.setdefault(clause, []).append(Instance(kind, day, until))
        if self.mix == "churn":
            self.live.append(clause)
        change: dict[str, Any] = {"id": clause, "kind": kind, "terms": self.terms(kind)}
        if until is not None:
            change["until"] = date.fromordinal(until).isoformat()
        return {"add": change}

    # -- the history -----------------------------------------------------------------

    def generate(self, n: int) -> list[dict[str, Any]]:
        self.opening()
        while len(self.events) < n:
            self.step(n - len(self.events))
        return self.events

    def opening(self) -> None:
        event = self.base("agreement_opened", self.day)
        clauses = []
        for index, kind in enumerate((*CLAUSE_KINDS, "revenue_share")):
            clause = f"c-{index:03d}"
            self.clauses[clause] = [Instance(kind, self.day)]
            clauses.append({"id": clause, "kind": kind, "terms": self.terms(kind)})
        event.update(
            agreement=AGREEMENT,
            title="Synthetic partnership for the benchmark",
            parties=[{"id": p, "name": p.title() + " Inc."} for p in PARTIES],
            clauses=clauses,
        )
        self.emit(event)

    def step(self, remaining: int) -> None:
        if self.mix == "churn":
            self._churn_step()
            return
        rng = self.rng
        if rng.random() < 0.05 and self.day > OPENED.toordinal() + 1:
            self.backdated(rng.randint(OPENED.toordinal() + 1, self.day - 1))
            return
        if rng.random() < 0.3:
            self.day += rng.randint(1, 3)
        r = rng.random()
        if r < 0.33:
            self.amendment()
        elif r < 0.73:
            self.investment(self.day)
        elif r < 0.9935:
            self.ownership()
        elif r < 0.9936:
            self.governance(self.day, allow_restructuring=True)
        elif r < 0.99365 and remaining >= 5:
            self.renegotiation()
        elif r < 0.99665:
            self.correction()
        elif r < 0.99815:
            self.retraction()
        else:
            self.investment(self.day)

    def _churn_step(self) -> None:
        rng = self.rng
        if rng.random() < 0.15 and self.day > OPENED.toordinal() + 1:
            self.investment(rng.randint(OPENED.toordinal() + 1, self.day - 1), "backdated")
            return
        if rng.random() < 0.3:
            self.day += rng.randint(1, 3)
        r = rng.random()
        if r < 0.5:
            self.amendment()
        elif r < 0.75:
            self.investment(self.day)
        else:
            self.ownership()

    def amendment(self) -> None:
        day, used, changes = self.day, set[str](), []
        for _ in range(self.rng.choice((1, 1, 1, 2, 2, 3))):
            op = self.rng.random()
            if op < 0.35:
                clause = self.probe(day, want=False, used=used)
                if clause is not None:
                    used.add(clause)
                    changes.append(self.add(clause, day))
                    continue
            clause = self.probe(day, want=True, used=used)
            if clause is None:
                continue
            used.add(clause)
            instance = self.in_force(clause, day)
            assert instance is not None  # noqa: S101 - the probe found it in force
            if op < 0.8:
                change: dict[str, Any] = {"amend": clause}
                if self.rng.random() < 0.1:
                    instance.until = day + self.rng.randint(0, 3650)
                    change["until"] = date.fromordinal(instance.until).isoformat()
                else:
                    change["terms"] = self.amended_terms(instance.kind)
                changes.append(change)
            else:
                instance.removed = day
                changes.append({"remove": clause})
        if not changes:
            self.investment(day)
            return
        event = self.base("amendment", day)
        event["changes"] = changes
        self.emit(event)

    def investment(self, day: int, label: str | None = None) -> None:
        investor, recipient = self.rng.sample(PARTIES, k=2)
        event = self.base("investment", day)
        event.update(investor=investor, recipient=recipient, **self._amount())
        version = self.emit(event, label)
        self.investments.append((version, event["effective_on"]))
        self.retractable.append(version)

    def _amount(self) -> dict[str, Any]:
        amount = str(self.rng.randint(1, 10**7) * 1000)
        if self.rng.random() < 0.2:
            amount += f".{self.rng.randint(0, 99):02d}"
        return {
            "amount": {"amount": amount, "currency": self.rng.choice(CURRENCIES)},
            "instrument": self.rng.choice(INSTRUMENTS),
        }

    def ownership(self) -> None:
        holder, entity = self.party(), self.rng.choice(ENTITIES)
        others = sum(self._stake(other, entity, None) for other in PARTIES if other != holder)
        value = 0 if self.rng.random() < 0.1 else self.rng.randint(0, 10_000 - others)
        self._set_stake(holder, entity, self.day, value, None)

    def _stake(self, holder: str, entity: str, day: int | None) -> int:
        """The holder's stake in hundredths of a percent, latest or at the end of ``day``."""
        changes = self.stakes.get((holder, entity), [])
        if day is None:
            return changes[-1][2] if changes else 0
        at = bisect.bisect_right(changes, (day, math.inf, math.inf))
        return changes[at - 1][2] if at else 0

    def _set_stake(self, holder: str, entity: str, day: int, value: int, label: str | None) -> None:
        event = self.base("ownership_change", day)
        event.update(holder=holder, entity=entity, percent=_percent(value))
        version = self.emit(event, label)
        bisect.insort(self.stakes.setdefault((holder, entity), []), (day, version, value))

    def governance(self, day: int, *, allow_restructuring: bool, label: str | None = None) -> None:
        event = self.base("governance", day)
        restructuring = allow_restructuring and self.rng.random() < 0.05
        kind = "restructuring" if restructuring else self.rng.choice(GOVERNANCE_KINDS)
        event.update(
            kind=kind,
            entity=self.rng.choice(ENTITIES),
            people=[f"Person {self.rng.randrange(500)}"],
            description=f"{kind.replace('_', ' ').capitalize()} announced to staff.",
        )
        if kind in VETOABLE:
            event["approved_by"] = list(PARTIES)
        version = self.emit(event, label)
        if not restructuring:
            self.retractable.append(version)

    def renegotiation(self) -> None:
        day = self.day
        self.talks += 1
        talks = f"talks-{self.talks}"
        opened = self.base("renegotiation_opened", day)
        opened.update(
            renegotiation=talks,
            initiated_by=self.party(),
            topics=self.rng.sample(CLAUSE_KINDS, k=2),
        )
        self.emit(opened)
        amended = self.probe(day, want=True, used=set())
        fresh = self.probe(day, want=False, used=set())
        first = (
            {"amend": amended, "terms": self.amended_terms(self.clauses[amended][-1].kind)}
            if amended is not None
            else {"remove": "c-999"}  # shape-checked only: it is rejected, never applied
        )
        # The second proposal adds a clause: the model gains it only if it is accepted.
        kind = self.rng.choice(CLAUSE_KINDS)
        until = day + self.rng.randint(30, 3650) if self.rng.random() < 0.2 else None
        second: dict[str, Any] = {"id": fresh or "c-998", "kind": kind, "terms": self.terms(kind)}
        if until is not None:
            second["until"] = date.fromordinal(until).isoformat()
        for suffix, change in (("a", first), ("b", {"add": second})):
            proposal = self.base("proposal", day)
            proposal.update(renegotiation=talks, proposal=f"{talks}-{suffix}", by=self.party())
            proposal["changes"] = [change]
            self.emit(proposal)
        accepted = self.rng.random() < 0.8 and fresh is not None
        closing = self.base("proposal_rejected" if accepted else "proposal_withdrawn", day)
        closing.update(renegotiation=talks, proposal=f"{talks}-a" if accepted else f"{talks}-b")
        self.emit(closing)
        concluded = self.base("renegotiation_concluded", day)
        concluded["renegotiation"] = talks
        if accepted:
            concluded["accepted"] = f"{talks}-b"
            self.clauses.setdefault(fresh or "", []).append(Instance(kind, day, until))
        else:
            concluded["outcome"] = "abandoned"
        self.emit(concluded)

    def correction(self) -> None:
        while self.investments:
            version, effective_on = self.investments.pop(self.rng.randrange(len(self.investments)))
            if version in self.withdrawn:
                continue
            self.withdrawn.add(version)
            replacement = self.base("investment", date.fromisoformat(effective_on).toordinal())
            investor, recipient = self.rng.sample(PARTIES, k=2)
            replacement.update(investor=investor, recipient=recipient, **self._amount())
            self.emit(
                {
                    "type": "correction",
                    "corrects": f"{AGREEMENT}#{version}",
                    "reason": "the source's figure was wrong",
                    "source": {"citation": "Erratum", "confidence": "confirmed"},
                    "replacement": replacement,
                }
            )
            return
        self.investment(self.day)

    def retraction(self) -> None:
        for _ in range(PROBES):
            if not self.retractable:
                break
            version = self.retractable.pop(self.rng.randrange(len(self.retractable)))
            if version in self.withdrawn:
                continue
            self.withdrawn.add(version)
            self.emit(
                {
                    "type": "retraction",
                    "retracts": f"{AGREEMENT}#{version}",
                    "reason": "never happened",
                    "source": {"citation": "Erratum", "confidence": "confirmed"},
                }
            )
            return
        self.investment(self.day)

    def backdated(self, day: int) -> None:
        label = "backdated"
        r = self.rng.random()
        if r < 0.25:
            clause = self.probe(day, want=True, used=set())
            if clause is not None:
                instance = self.in_force(clause, day)
                assert instance is not None  # noqa: S101 - the probe found it in force
                event = self.base("amendment", day)
                event["changes"] = [{"amend": clause, "terms": self.amended_terms(instance.kind)}]
                self.emit(event, label)
                return
        elif r < 0.40:
            holder, entity = self.party(), self.rng.choice(ENTITIES)
            held = self._stake(holder, entity, day)
            if held > 0:  # a stake only ever shrinks back in time: no later sum can pass 100
                self._set_stake(holder, entity, day, self.rng.randint(0, held), label)
                return
        elif r < 0.401:
            self.governance(day, allow_restructuring=False, label=label)
            return
        self.investment(day, label)


def _percent(hundredths: int) -> str:
    whole, part = divmod(hundredths, 100)
    return f"{whole}.{part:02d}" if part else str(whole)


def synthetic(
    n: int, seed: int = SEED, mix: str = "realistic"
) -> tuple[list[dict[str, Any]], Counter[str]]:
    """``n`` plain events (amendment-file shape) of one agreement, and their mix."""
    synth = Synth(seed, mix)
    events = synth.generate(n)
    return events, synth.kinds
