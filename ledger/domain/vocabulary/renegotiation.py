"""Renegotiations: talks opened on some topics, proposals made, rejected or withdrawn,
and the talks concluded (an accepted proposal's changes take effect on the conclusion's
date, and the other pending proposals are superseded) or abandoned.

A proposal is checked for shape when made and against the rules when accepted.
"""

from __future__ import annotations

from functools import partial

import attrs

from ledger.domain.clauses import Change
from ledger.domain.draft import Draft, ProposalDraft, TalksDraft
from ledger.domain.entries import Entry
from ledger.domain.rules import apply_changes, check_proposed, require_party
from ledger.domain.values import Outcome
from ledger.domain.vocabulary.amendment import describe_changes
from ledger.domain.vocabulary.base import DatedEvent, EventKind
from ledger.errors import RuleViolation, at_path

OPEN, CONCLUDED, ABANDONED = "open", "concluded", "abandoned"
PENDING = "pending"


@attrs.frozen(kw_only=True)
class RenegotiationOpened(DatedEvent):
    """A party opens talks on some topics of the agreement."""

    TYPE = "renegotiation_opened"
    TOPIC = "contract-ledger/renegotiation_opened"
    renegotiation: str
    initiated_by: str
    topics: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Proposal(DatedEvent):
    """A party proposes clause changes within an open renegotiation."""

    TYPE = "proposal"
    TOPIC = "contract-ledger/proposal"
    renegotiation: str
    proposal: str
    by: str
    changes: tuple[Change, ...]


@attrs.frozen(kw_only=True)
class ProposalRejected(DatedEvent):
    """A pending proposal is rejected."""

    TYPE = "proposal_rejected"
    TOPIC = "contract-ledger/proposal_rejected"
    renegotiation: str
    proposal: str


@attrs.frozen(kw_only=True)
class ProposalWithdrawn(DatedEvent):
    """A pending proposal is withdrawn by its author."""

    TYPE = "proposal_withdrawn"
    TOPIC = "contract-ledger/proposal_withdrawn"
    renegotiation: str
    proposal: str


@attrs.frozen(kw_only=True)
class RenegotiationConcluded(DatedEvent):
    """Talks end: one proposal accepted (its changes take effect now) or abandoned."""

    TYPE = "renegotiation_concluded"
    TOPIC = "contract-ledger/renegotiation_concluded"
    renegotiation: str
    accepted: str | None = None
    outcome: Outcome = Outcome.ACCEPTED


def fold_opened(draft: Draft, entry: Entry) -> None:
    """New talks, open."""
    fact = entry.fact
    require_party(draft, "initiated_by", fact["initiated_by"])
    talks_id = fact["renegotiation"]
    if talks_id in draft.talks:
        raise RuleViolation(
            "renegotiation", f"expected a new renegotiation id, got {talks_id!r} again"
        )
    draft.talks[talks_id] = TalksDraft(
        id=talks_id,
        status=OPEN,
        topics=list(fact.get("topics", ())),
        initiated_by=fact["initiated_by"],
        opened_on=entry.effective_on,
        opened_precision=entry.precision,
        proposals=[],
    )
    draft.touch("renegotiation", talks_id)


def fold_proposal(draft: Draft, entry: Entry) -> None:
    """A pending proposal, its changes checked for shape."""
    fact = entry.fact
    talks = _open_talks(draft, fact["renegotiation"])
    require_party(draft, "by", fact["by"])
    if talks.proposal(fact["proposal"]) is not None:
        raise RuleViolation(
            "proposal",
            f"expected a new proposal id in {talks.id!r}, got {fact['proposal']!r} again",
        )
    for index, change in enumerate(fact["changes"]):
        at_path(f"changes[{index}]", partial(check_proposed, draft, change, entry.effective_on))
    talks.proposals.append(
        ProposalDraft(
            id=fact["proposal"],
            by=fact["by"],
            proposed_on=entry.effective_on,
            precision=entry.precision,
            status=PENDING,
            changes=list(fact["changes"]),
            caused_by=entry.id,
        )
    )
    draft.touch("renegotiation", talks.id)


def fold_rejected(draft: Draft, entry: Entry) -> None:
    """The proposal is rejected."""
    _settle(draft, entry, "rejected")


def fold_withdrawn(draft: Draft, entry: Entry) -> None:
    """The proposal is withdrawn."""
    _settle(draft, entry, "withdrawn")


def fold_concluded(draft: Draft, entry: Entry) -> None:
    """Abandoned, or concluded with one proposal accepted: its changes apply now."""
    fact = entry.fact
    talks = _open_talks(draft, fact["renegotiation"])
    if fact.get("outcome", Outcome.ACCEPTED.value) == Outcome.ABANDONED.value:
        _supersede_pending(talks, keep=None)
        status = ABANDONED
    else:
        accepted = _pending(talks, fact.get("accepted") or "", "accepted")
        path = f"accepted ({accepted.id}).changes"
        apply_changes(draft, accepted.changes, entry, path)
        _supersede_pending(talks, keep=accepted.id)
        status = CONCLUDED
    talks.status = status
    talks.closed_on = entry.effective_on
    talks.closed_precision = entry.precision
    draft.touch("renegotiation", talks.id)


def _settle(draft: Draft, entry: Entry, status: str) -> None:
    fact = entry.fact
    talks = _open_talks(draft, fact["renegotiation"])
    _pending(talks, fact["proposal"], "proposal").status = status
    draft.touch("renegotiation", talks.id)


def _open_talks(draft: Draft, talks_id: str) -> TalksDraft:
    talks = draft.talks.get(talks_id)
    if talks is None:
        raise RuleViolation(
            "renegotiation", f"expected a renegotiation opened before, got {talks_id!r}"
        )
    if talks.status != OPEN:
        raise RuleViolation(
            "renegotiation",
            f"expected an open renegotiation, got {talks_id!r}, {talks.status} "
            f"on {talks.closed_on}",
        )
    return talks


def _pending(talks: TalksDraft, proposal_id: str, path: str) -> ProposalDraft:
    proposal = talks.proposal(proposal_id)
    if proposal is None:
        made = ", ".join(p.id for p in talks.proposals) or "none"
        raise RuleViolation(
            path, f"expected a proposal made in {talks.id!r} ({made}), got {proposal_id!r}"
        )
    if proposal.status != PENDING:
        raise RuleViolation(
            path, f"expected a pending proposal, got {proposal_id!r}, {proposal.status}"
        )
    return proposal


def _supersede_pending(talks: TalksDraft, keep: str | None) -> None:
    for proposal in talks.proposals:
        if proposal.id == keep:
            proposal.status = "accepted"
        elif proposal.status == PENDING:
            proposal.status = "superseded"


def summary_opened(fact: RenegotiationOpened) -> str:
    """Which talks, opened by whom, on what."""
    return f"{fact.renegotiation} opened by {fact.initiated_by}: {', '.join(fact.topics)}"


def summary_proposal(fact: Proposal) -> str:
    """Who proposed what, in which talks."""
    return f"{fact.proposal} by {fact.by} in {fact.renegotiation}: " + describe_changes(
        fact.changes
    )


def summary_settled(fact: ProposalRejected | ProposalWithdrawn) -> str:
    """Which proposal, in which talks."""
    return f"{fact.proposal} in {fact.renegotiation}"


def summary_concluded(fact: RenegotiationConcluded) -> str:
    """How the talks ended."""
    return f"{fact.renegotiation}: " + (
        f"accepted {fact.accepted}" if fact.accepted else fact.outcome.value
    )


KINDS = (
    EventKind(RenegotiationOpened, fold_opened, summary_opened),
    EventKind(Proposal, fold_proposal, summary_proposal),
    EventKind(ProposalRejected, fold_rejected, summary_settled),
    EventKind(ProposalWithdrawn, fold_withdrawn, summary_settled),
    EventKind(RenegotiationConcluded, fold_concluded, summary_concluded),
)
