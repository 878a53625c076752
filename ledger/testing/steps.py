"""The Gherkin step library: the public phrasings of DESIGN's step catalogue, and more.

Every step works on the ``ledger_context`` fixture (``ledger.testing.plugin``): a fresh
ledger per scenario. ``When I append …`` and ``When I replay …`` record a refusal
instead of raising, so that ``Then the append is refused …`` can look at it; any other
``Then`` step fails at once, with the refusal's message, if a refusal went unchecked.
Failure messages say what was expected and what the ledger holds.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pytest_bdd import given, parsers, then, when
from pytest_bdd.parser import Feature

from ledger import (
    AgreementState,
    Appended,
    ClauseKind,
    ClauseState,
    DatePrecision,
    GovernanceKind,
    HistoryEntry,
    LedgerError,
    parse_text,
)
from ledger.domain.clauses import term_names
from ledger.domain.codec import unstructure_terms
from ledger.domain.difference import ClauseDifference
from ledger.domain.events import DatedEvent
from ledger.domain.state import (
    GovernanceRecord,
    ProposalStatus,
    RenegotiationState,
    RenegotiationStatus,
)
from ledger.domain.values import format_decimal
from ledger.domain.whatif import WhatIf
from ledger.testing.plugin import FEATURE_FILE, Attempt, LedgerContext, fail

DAY = r"(?P<day>\d{4}-\d{2}-\d{2})"
PERIOD = r"(?P<period>\d{4}(?:-Q[1-4]|-\d{2}(?:-\d{2})?)?)"
AS_DATE: dict[str, Callable[[str], object]] = {"day": date.fromisoformat}
E = TypeVar("E", bound=enum.Enum)


def quoted(name: str) -> str:
    """A double-quoted step argument called ``name``."""
    return f'"(?P<{name}>[^"]*)"'


def step_re(text: str) -> parsers.re:
    """A step parser from a pattern where ``"{name}"`` stands for a quoted argument."""
    return parsers.re(re.sub(r'"\{(\w+)\}"', lambda match: quoted(match.group(1)), text))


def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Feature) -> None:
    """Remember the feature file, so that steps read paths relative to it."""
    request.node.stash[FEATURE_FILE] = Path(feature.filename)


# -- Given -----------------------------------------------------------------------


@given("an empty ledger")
def empty_ledger(ledger_context: LedgerContext) -> None:
    """A ledger that holds no agreement yet."""
    held = ledger_context.ledger.agreements()
    if held:
        fail(f"expected an empty ledger, but it holds {', '.join(held)}")


@given(step_re('the ledger holds the "{example}" example(?P<record> with the public record)?'))
def example_loaded(ledger_context: LedgerContext, example: str, record: str | None) -> None:
    """The bundled history ``example``, loaded; with its public record recorded after it."""
    _must_append(
        ledger_context,
        f"the {example!r} example",
        lambda: ledger_context.ledger.load_example(example, with_record=bool(record)),
    )


@given(step_re('the ledger holds the events in "{path}"'))
def file_appended(ledger_context: LedgerContext, path: str) -> None:
    """The events of a file next to the feature, appended (they must be accepted)."""
    _must_append(ledger_context, f"the events in {path!r}", _file(ledger_context, path))


@given("these events are appended:")
def docstring_appended(ledger_context: LedgerContext, docstring: str) -> None:
    """The events of the step's docstring (an amendment file), appended and accepted."""
    _must_append(ledger_context, "the events in the docstring", _text(ledger_context, docstring))


@given(step_re('I note the time as "{label}"'))
@when(step_re('I note the time as "{label}"'))
def time_noted(ledger_context: LedgerContext, label: str) -> None:
    """The current time, remembered under ``label`` for ``as known at``."""
    ledger_context.note_time(label)


# -- When ------------------------------------------------------------------------


@when(step_re('I append the events in "{path}"'))
def file_attempted(ledger_context: LedgerContext, path: str) -> None:
    """Try to append the events of a file next to the feature; a refusal is kept."""
    _attempt_append(ledger_context, f"append of {path!r}", _file(ledger_context, path))


@when("I append these events:")
def docstring_attempted(ledger_context: LedgerContext, docstring: str) -> None:
    """Try to append the events of the step's docstring; a refusal is kept."""
    _attempt_append(ledger_context, "append of the docstring", _text(ledger_context, docstring))


@when(
    step_re(f'I replay(?: "{{agreement}}")? to {DAY}(?: as known at "{{label}}")?'),
    converters=AS_DATE,
)
def replayed(
    ledger_context: LedgerContext, day: date, agreement: str | None, label: str | None
) -> None:
    """Replay the agreement to ``day`` (as known at a noted time); a refusal is kept."""
    known_at = ledger_context.noted(label) if label is not None else None
    action = "replay" + (f" of {agreement!r}" if agreement else "") + f" to {day}"
    attempt = Attempt(action + (f" as known at {label!r}" if label else ""))
    ledger_context.last_replay = attempt
    ledger_context.state = None
    try:
        ledger_context.state = ledger_context.ledger.state_at(
            day, known_at=known_at, agreement=agreement
        )
    except LedgerError as error:
        attempt.error = error


@when(
    step_re(
        f'I replay(?: "{{agreement}}")? to {DAY} with '
        '(?:proposal "{proposal}" accepted|the events in "{path}")'
    ),
    converters=AS_DATE,
)
def replayed_hypothetically(
    ledger_context: LedgerContext,
    day: date,
    agreement: str | None,
    proposal: str | None,
    path: str | None,
) -> None:
    """Replay to ``day`` as if a proposal were accepted, or a file's events appended.

    Nothing is written; a hypothesis that breaks a rule is kept as a refused replay.
    """
    what = f"proposal {proposal!r} accepted" if proposal else f"the events in {path!r}"
    attempt = Attempt(f"replay to {day} with {what}")
    ledger_context.last_replay = attempt
    ledger_context.state = ledger_context.hypothesis = None
    ledger_context.before_hypothesis = ledger_context.snapshot()
    ledger = ledger_context.ledger
    try:
        if proposal is not None:
            result = ledger.what_if(day, proposal=proposal, agreement=agreement)
        else:
            result = ledger.what_if_file(
                str(ledger_context.path(path or "")), day, agreement=agreement
            )
    except LedgerError as error:
        attempt.error = error
        return
    ledger_context.hypothesis = result
    ledger_context.state = result.hypothetical


# -- Then: clauses ---------------------------------------------------------------


@then(step_re('clause "{clause}" is in force'))
def clause_in_force(ledger_context: LedgerContext, clause: str) -> None:
    """The clause applies on the replayed date."""
    state = ledger_context.current()
    if state.clause_in_force(clause) is None:
        fail(
            f"expected clause {clause!r} in force on {state.as_of}, "
            f"but {_why_not(ledger_context, state, clause)}"
            f"; in force: {_clause_list(state.clauses_in_force())}"
        )


@then(step_re('clause "{clause}" is not in force'))
def clause_not_in_force(ledger_context: LedgerContext, clause: str) -> None:
    """The clause does not apply on the replayed date."""
    state = ledger_context.current()
    found = state.clause_in_force(clause)
    if found is not None:
        fail(
            f"expected clause {clause!r} not in force on {state.as_of}, but it is: "
            f"{_clause_detail(found)}"
        )


@then(step_re('an? "{kind}" clause is in force'))
def kind_in_force(ledger_context: LedgerContext, kind: str) -> None:
    """Some clause of that kind applies on the replayed date."""
    state = ledger_context.current()
    if not _of_kind(state, _clause_kind(kind)):
        fail(
            f"expected a {kind!r} clause in force on {state.as_of}, but none is; "
            f"in force: {_clause_list(state.clauses_in_force())}"
        )


@then(step_re('no "{kind}" clause is in force'))
def kind_not_in_force(ledger_context: LedgerContext, kind: str) -> None:
    """No clause of that kind applies on the replayed date."""
    state = ledger_context.current()
    found = _of_kind(state, _clause_kind(kind))
    if found:
        fail(
            f"expected no {kind!r} clause in force on {state.as_of}, but these are: "
            f"{_clause_list(found)}"
        )


@then(step_re('the clauses in force are "{ids}"'))
def clauses_exactly(ledger_context: LedgerContext, ids: str) -> None:
    """Exactly these clauses (comma-separated ids, any order) apply on the replayed date."""
    state = ledger_context.current()
    expected = _id_list(ids)
    held = sorted(c.id for c in state.clauses_in_force())
    if sorted(expected) != held:
        fail(
            f"expected exactly the clauses {', '.join(sorted(expected)) or 'none'} in force on "
            f"{state.as_of}, but in force: {_clause_list(state.clauses_in_force())}"
        )


@then("no clause is in force")
def no_clause(ledger_context: LedgerContext) -> None:
    """Nothing applies on the replayed date."""
    state = ledger_context.current()
    if state.clauses_in_force():
        fail(
            f"expected no clause in force on {state.as_of}, "
            f"but in force: {_clause_list(state.clauses_in_force())}"
        )


@then(parsers.re(f'term {quoted("term")} of clause {quoted("clause")} is "(?P<value>.*)"'))
def term_is(ledger_context: LedgerContext, term: str, clause: str, value: str) -> None:
    """A term of a clause in force, in plain form (``"20"``, ``"true"``, ``"a, b"``)."""
    found = _clause(ledger_context, clause)
    plain = _term(found, term)
    if plain is None or not _same_plain(_plain(plain), value):
        shown = "unknown" if plain is None else repr(_plain(plain))
        fail(
            f"expected term {term!r} of clause {clause!r} to be {value!r}, got {shown}; "
            f"the clause: {_clause_detail(found)}"
        )


@then(step_re('term "{term}" of clause "{clause}" is unknown'))
def term_unknown(ledger_context: LedgerContext, term: str, clause: str) -> None:
    """A term the source leaves unknown (absent or null)."""
    found = _clause(ledger_context, clause)
    plain = _term(found, term)
    if plain is not None:
        fail(
            f"expected term {term!r} of clause {clause!r} to be unknown, got {_plain(plain)!r}; "
            f"the clause: {_clause_detail(found)}"
        )


@then(step_re(f'clause "{{clause}}" has until {DAY}'), converters=AS_DATE)
def clause_until(ledger_context: LedgerContext, clause: str, day: date) -> None:
    """A clause in force that ends on ``day`` (in force through it)."""
    found = _clause(ledger_context, clause)
    if found.until != day:
        fail(f"expected clause {clause!r} until {day}, got {_clause_detail(found)}")


@then(step_re('clause "{clause}" has no until'))
def clause_open_ended(ledger_context: LedgerContext, clause: str) -> None:
    """A clause in force with no end date."""
    found = _clause(ledger_context, clause)
    if found.until is not None:
        fail(f"expected clause {clause!r} to have no until, got {_clause_detail(found)}")


# -- Then: ownership -------------------------------------------------------------


@then(
    step_re(
        r'"{holder}" has invested (?P<amount>\d+(?:\.\d+)?) (?P<currency>[A-Z]{3}) '
        r'in "{recipient}"'
    )
)
def invested(
    ledger_context: LedgerContext, holder: str, amount: str, currency: str, recipient: str
) -> None:
    """The total an investor put into a recipient, in one currency, by the replayed date."""
    state = ledger_context.current()
    total = state.investments.get((holder, recipient, currency))
    got = total.total.amount if total is not None else Decimal(0)
    if got != Decimal(amount):
        fail(
            f"expected {holder!r} to have invested {amount} {currency} in {recipient!r} by "
            f"{state.as_of}, got {format_decimal(got)} {currency}; "
            f"investments: {_investments(state)}"
        )


@then(step_re('"{holder}" has invested nothing in "{recipient}"'))
def invested_nothing(ledger_context: LedgerContext, holder: str, recipient: str) -> None:
    """No investment from ``holder`` into ``recipient`` by the replayed date."""
    state = ledger_context.current()
    if any(k[0] == holder and k[1] == recipient for k in state.investments):
        fail(
            f"expected no investment by {holder!r} in {recipient!r} by {state.as_of}; "
            f"investments: {_investments(state)}"
        )


@then(step_re(r'"{holder}" holds (?P<percent>\d+(?:\.\d+)?)% of "{entity}"'))
def holds(ledger_context: LedgerContext, holder: str, percent: str, entity: str) -> None:
    """A holder's stake in an entity on the replayed date."""
    state = ledger_context.current()
    stake = state.stakes.get((holder, entity))
    if stake is None or stake.percent.value != Decimal(percent):
        got = "no stake" if stake is None else str(stake.percent)
        fail(
            f"expected {holder!r} to hold {percent}% of {entity!r} on {state.as_of}, got "
            f"{got}; stakes: {_stakes(state)}"
        )


@then(step_re('"{holder}" holds no stake in "{entity}"'))
def holds_nothing(ledger_context: LedgerContext, holder: str, entity: str) -> None:
    """No stake of ``holder`` in ``entity`` on the replayed date."""
    state = ledger_context.current()
    stake = state.stakes.get((holder, entity))
    if stake is not None:
        fail(
            f"expected {holder!r} to hold no stake in {entity!r} on {state.as_of}, got "
            f"{stake.percent}; stakes: {_stakes(state)}"
        )


# -- Then: governance ------------------------------------------------------------


@then(step_re(f'the governance record shows an? "{{kind}}" event on {PERIOD}'))
def governance_on(ledger_context: LedgerContext, kind: str, period: str) -> None:
    """A governance event of that kind on a date, or within a period (``2023-Q4``)."""
    state = ledger_context.current()
    wanted = _governance_kind(kind)
    if not any(r.kind is wanted and _within(r.effective_on, period) for r in state.governance):
        fail(
            f"expected a {kind!r} governance event on {period} as of {state.as_of}; "
            f"the record: {_governance(state.governance)}"
        )


@then(step_re('the governance record shows an? "{kind}" event involving "{person}"'))
def governance_person(ledger_context: LedgerContext, kind: str, person: str) -> None:
    """A governance event of that kind naming ``person``."""
    state = ledger_context.current()
    wanted = _governance_kind(kind)
    if not any(r.kind is wanted and person in r.people for r in state.governance):
        fail(
            f"expected a {kind!r} governance event involving {person!r} as of {state.as_of}; "
            f"the record: {_governance(state.governance)}"
        )


@then(step_re('the governance record shows no "{kind}" event'))
def governance_none(ledger_context: LedgerContext, kind: str) -> None:
    """No governance event of that kind by the replayed date."""
    state = ledger_context.current()
    wanted = _governance_kind(kind)
    found = [r for r in state.governance if r.kind is wanted]
    if found:
        fail(f"expected no {kind!r} governance event as of {state.as_of}, got {_governance(found)}")


@then(step_re(r'the governance record shows (?P<count>\d+)(?: "{kind}")? events?'))
def governance_count(ledger_context: LedgerContext, count: str, kind: str | None) -> None:
    """How many governance events (of one kind, if named) the record shows."""
    state = ledger_context.current()
    wanted = _governance_kind(kind) if kind is not None else None
    found = [r for r in state.governance if wanted is None or r.kind is wanted]
    if len(found) != int(count):
        what = f"{kind!r} governance events" if kind else "governance events"
        fail(
            f"expected {count} {what} as of {state.as_of}, got {len(found)}; "
            f"the record: {_governance(state.governance)}"
        )


# -- Then: renegotiations ----------------------------------------------------------


@then(step_re('renegotiation "{renegotiation}" is "{status}"'))
def renegotiation_is(ledger_context: LedgerContext, renegotiation: str, status: str) -> None:
    """Where a renegotiation stands on the replayed date: open, concluded or abandoned."""
    state = ledger_context.current()
    wanted = _member(RenegotiationStatus, status, "a renegotiation status")
    talks = _talks(state, renegotiation)
    if talks.status is not wanted:
        fail(
            f"expected renegotiation {renegotiation!r} {status!r} on {state.as_of}, got "
            f"{_talks_detail(talks)}"
        )


@then(step_re('there is no renegotiation "{renegotiation}"'))
def no_renegotiation(ledger_context: LedgerContext, renegotiation: str) -> None:
    """The renegotiation had not been opened by the replayed date."""
    state = ledger_context.current()
    talks = state.renegotiations.get(renegotiation)
    if talks is not None:
        fail(
            f"expected no renegotiation {renegotiation!r} on {state.as_of}, got "
            f"{_talks_detail(talks)}"
        )


@then(step_re('proposal "{proposal}" of renegotiation "{renegotiation}" is "{status}"'))
def proposal_is(
    ledger_context: LedgerContext, proposal: str, renegotiation: str, status: str
) -> None:
    """Where a proposal stands: pending, accepted, rejected, withdrawn or superseded."""
    state = ledger_context.current()
    wanted = _member(ProposalStatus, status, "a proposal status")
    talks = _talks(state, renegotiation)
    found = talks.proposal(proposal)
    if found is None or found.status is not wanted:
        got = "not made" if found is None else repr(found.status.value)
        fail(
            f"expected proposal {proposal!r} of {renegotiation!r} {status!r} on "
            f"{state.as_of}, got {got}; {_talks_detail(talks)}"
        )


# -- Then: the end of the agreement ------------------------------------------------


@then(step_re(f"the agreement is terminated on {DAY}"), converters=AS_DATE)
def terminated_on(ledger_context: LedgerContext, day: date) -> None:
    """The agreement had ended by the replayed date, on ``day``."""
    state = ledger_context.current()
    ended = state.terminated
    if ended is None or ended.on != day:
        got = "still running" if ended is None else f"terminated on {ended.on} ({ended.event})"
        fail(f"expected the agreement terminated on {day} as of {state.as_of}, but it is {got}")


@then("the agreement is not terminated")
def not_terminated(ledger_context: LedgerContext) -> None:
    """The agreement was running on the replayed date."""
    state = ledger_context.current()
    ended = state.terminated
    if ended is not None:
        fail(
            f"expected the agreement running on {state.as_of}, but it was terminated on "
            f"{ended.on} by {ended.event}: {ended.reason or 'no reason given'}"
        )


@then(
    step_re(
        r"from (?P<first>\d{4}-\d{2}-\d{2}) to (?P<second>\d{4}-\d{2}-\d{2}), "
        'clause "{clause}" is (?P<change>added|removed|amended) by "{event}"'
    ),
    converters={"first": date.fromisoformat, "second": date.fromisoformat},
)
def clause_changed_between(
    ledger_context: LedgerContext, first: date, second: date, clause: str, change: str, event: str
) -> None:
    """What ``ledger diff`` says of one clause between two dates, and which event did it."""
    ledger_context.settled()
    replayed = ledger_context.state
    agreement = replayed.agreement if replayed is not None else None
    difference = ledger_context.ledger.diff(first, second, agreement=agreement)
    found = [c for c in difference.clauses if c.id == clause]
    if not any(c.change == change and event in c.caused_by for c in found):
        shown = ", ".join(f"{c.id} {c.change} by {list(c.caused_by)}" for c in difference.clauses)
        fail(
            f"expected clause {clause!r} {change} by {event!r} from {first} to {second}, "
            f"but the clauses that changed are: {shown or 'none'}"
        )


@then(
    step_re(
        f'on {DAY}, between known at "{{first}}" and known at "{{second}}", '
        'clause "{clause}" is (?P<change>added|removed|amended) by "{event}"'
    ),
    converters=AS_DATE,
)
def clause_revised(
    ledger_context: LedgerContext,
    day: date,
    first: str,
    second: str,
    clause: str,
    change: str,
    event: str,
) -> None:
    """What the recording axis changed about one clause on ``day``, and which event did
    it (``"now"`` for the second is now; a label is a noted time or an event id)."""
    ledger_context.settled()
    replayed = ledger_context.state
    agreement = replayed.agreement if replayed is not None else None
    revised = ledger_context.ledger.revision(
        day,
        known_at=ledger_context.noted(first),
        against_known_at=None if second == "now" else ledger_context.noted(second),
        agreement=agreement,
    )
    found = [c for c in revised.clauses if c.id == clause]
    if not any(c.change == change and event in c.caused_by for c in found):
        shown = ", ".join(f"{c.id} {c.change} by {list(c.caused_by)}" for c in revised.clauses)
        fail(
            f"expected clause {clause!r} {change} by {event!r} on {day} between known at "
            f"{first!r} and {second!r}, but what changed is: {shown or 'nothing'}"
        )


# -- Then: events, appends, replays, history ----------------------------------------


@then(parsers.re(r"(?P<count>\d+) events? appl(?:y|ies)"))
def events_apply(ledger_context: LedgerContext, count: str) -> None:
    """How many events the replayed state folds (withdrawn ones and withdrawals excluded)."""
    state = ledger_context.current()
    if state.events_applied != int(count):
        entries = ledger_context.ledger.history(
            agreement=state.agreement, known_at=state.known_at, end=state.as_of
        )
        fail(
            f"expected {count} events to apply on {state.as_of}, got {state.events_applied}; "
            f"the events: {_entries(entries)}"
        )


@then(parsers.re('the append is refused with a message containing "(?P<text>.*)"'))
def append_refused(ledger_context: LedgerContext, text: str) -> None:
    """The last append was refused, and its message says ``text``."""
    attempt = _last(ledger_context.last_append, "append")
    _refused(attempt, text)


@then(parsers.re('the replay is refused with a message containing "(?P<text>.*)"'))
def replay_refused(ledger_context: LedgerContext, text: str) -> None:
    """The last replay was refused, and its message says ``text``."""
    attempt = _last(ledger_context.last_replay, "replay")
    _refused(attempt, text)


@then("the append is accepted")
def append_accepted(ledger_context: LedgerContext) -> None:
    """The last append was recorded."""
    _last(ledger_context.last_append, "append")
    ledger_context.settled()


@then(step_re('the append records the events "{ids}"'))
def append_records(ledger_context: LedgerContext, ids: str) -> None:
    """The last append recorded exactly these event ids, in order."""
    attempt = _last(ledger_context.last_append, "append")
    ledger_context.settled()
    got = [a.id for a in attempt.appended]
    if got != _id_list(ids):
        fail(f"expected the {attempt.action} to record {ids}, got {', '.join(got)}")


@then("the ledger is unchanged")
def unchanged(ledger_context: LedgerContext) -> None:
    """The last append wrote nothing: every agreement's history is as it was before."""
    attempt = _last(ledger_context.last_append, "append")
    attempt.checked = True
    now = ledger_context.snapshot()
    if now != attempt.before:
        before = set(attempt.before)
        added = [
            ident for agreement, ident, digest in now if (agreement, ident, digest) not in before
        ]
        fail(
            f"expected the {attempt.action} to leave the ledger unchanged, but it now holds "
            f"{len(now)} events (was {len(attempt.before)}); new: {', '.join(added) or 'none'}"
        )


@then(parsers.re(rf"the history(?: of {quoted('agreement')})? shows (?P<count>\d+) events?"))
def history_count(ledger_context: LedgerContext, agreement: str | None, count: str) -> None:
    """How many events the agreement's log holds (corrections and withdrawn ones included)."""
    entries = _history(ledger_context, agreement)
    if len(entries) != int(count):
        fail(f"expected {count} events in the history, got {len(entries)}: {_entries(entries)}")


@then(step_re('the history shows event "{event}" withdrawn by "{by}"'))
def withdrawn_by(ledger_context: LedgerContext, event: str, by: str) -> None:
    """A correction or retraction withdrew an event (which stays in the log)."""
    entry = _history_entry(ledger_context, event)
    if entry.withdrawn_by != by:
        fail(f"expected {event} withdrawn by {by}, got {entry.withdrawn_by or 'not withdrawn'}")


@then(step_re('the history shows event "{event}" not withdrawn'))
def not_withdrawn(ledger_context: LedgerContext, event: str) -> None:
    """No correction or retraction withdrew an event."""
    entry = _history_entry(ledger_context, event)
    if entry.withdrawn_by is not None:
        fail(f"expected {event} not withdrawn, got withdrawn by {entry.withdrawn_by}")


@then(step_re('the ledger holds the agreements "{ids}"'))
def agreements_held(ledger_context: LedgerContext, ids: str) -> None:
    """The store holds exactly these agreements (in the order they were opened)."""
    ledger_context.settled()
    held = ledger_context.ledger.agreements()
    if held != _id_list(ids):
        fail(f"expected the agreements {ids}, got {', '.join(held) or 'none'}")


# -- helpers: appending ------------------------------------------------------------


# -- Then: what-if -----------------------------------------------------------------


@then(
    step_re(
        'compared with the actual agreement, term "{term}" of clause "{clause}" '
        'changes from "{before}" to "{after}"'
    )
)
def term_would_change(
    ledger_context: LedgerContext, term: str, clause: str, before: str, after: str
) -> None:
    """The hypothesis changes one term of a clause, from one value to another."""
    change = _clause_difference(ledger_context, clause)
    found = change.terms.get(term)
    got = (_plain(found.before), _plain(found.after)) if found else None
    if got is None or not (_same_plain(got[0], before) and _same_plain(got[1], after)):
        terms = {name: (_plain(v.before), _plain(v.after)) for name, v in change.terms.items()}
        fail(
            f"expected term {term!r} of clause {clause!r} to change from {before!r} to "
            f"{after!r}, but the changes are: {terms or 'none'}"
        )


@then(
    step_re(
        'compared with the actual agreement, clause "{clause}" is (?P<change>added|removed|amended)'
    )
)
def clause_would_change(ledger_context: LedgerContext, clause: str, change: str) -> None:
    """The hypothesis adds, removes or amends a clause."""
    found = _clause_difference(ledger_context, clause)
    if found.change != change:
        fail(f"expected clause {clause!r} to be {change}, but it is {found.change}")


@then("compared with the actual agreement, nothing changes")
def nothing_would_change(ledger_context: LedgerContext) -> None:
    """The hypothesis leaves the agreement on that date as it is."""
    difference = _hypothesis(ledger_context).difference
    if not difference.is_empty():
        fail(f"expected no change, but the hypothesis changes: {difference}")


@then("nothing was written")
def nothing_written(ledger_context: LedgerContext) -> None:
    """The what-if left every stored event as it was."""
    _hypothesis(ledger_context)
    if ledger_context.snapshot() != ledger_context.before_hypothesis:
        fail("expected the what-if to write nothing, but the store's events changed")


def _hypothesis(context: LedgerContext) -> WhatIf:
    context.current()
    if context.hypothesis is None:
        fail('expected a what-if: add `When I replay to 2026-01-01 with proposal "…" accepted`')
    return context.hypothesis


def _clause_difference(context: LedgerContext, clause: str) -> ClauseDifference:
    difference = _hypothesis(context).difference
    found = next((c for c in difference.clauses if c.id == clause), None)
    if found is None:
        changed = ", ".join(f"{c.id} ({c.change})" for c in difference.clauses) or "none"
        fail(f"expected clause {clause!r} to differ, but the clauses that differ are: {changed}")
    return found


def _file(context: LedgerContext, path: str) -> Callable[[], list[Appended]]:
    return lambda: context.ledger.append_file(str(context.path(path)))


def _text(context: LedgerContext, text: str) -> Callable[[], list[Appended]]:
    def append() -> list[Appended]:
        file = parse_text(text, "<docstring>")
        return context.ledger.append(file.events, agreement=file.agreement)

    return append


def _must_append(context: LedgerContext, what: str, append: Callable[[], list[Appended]]) -> None:
    context.settled()
    context.state = None
    try:
        append()
    except LedgerError as error:
        fail(f"expected {what} to be appended, but the ledger refused: {error}")


def _attempt_append(
    context: LedgerContext, action: str, append: Callable[[], list[Appended]]
) -> None:
    attempt = Attempt(action, before=context.snapshot())
    context.last_append = attempt
    context.state = None
    try:
        attempt.appended = tuple(append())
    except LedgerError as error:
        attempt.error = error


def _last(attempt: Attempt | None, what: str) -> Attempt:
    if attempt is None:
        fail(f"expected an earlier `When I {what} …` step, but there was none")
    return attempt


def _refused(attempt: Attempt, text: str) -> None:
    attempt.checked = True
    if attempt.error is None:
        recorded = ", ".join(a.id for a in attempt.appended)
        outcome = f"it recorded {recorded}" if recorded else "it succeeded"
        fail(
            f"expected the {attempt.action} to be refused with a message containing {text!r}, "
            f"but {outcome}"
        )
    if text not in str(attempt.error):
        fail(
            f"expected the {attempt.action} to be refused with a message containing {text!r}, "
            f"got: {attempt.error}"
        )


# -- helpers: reading the state --------------------------------------------------------


def _clause(context: LedgerContext, clause: str) -> ClauseState:
    state = context.current()
    found = state.clause_in_force(clause)
    if found is None:
        fail(
            f"expected clause {clause!r} in force on {state.as_of}, "
            f"but {_why_not(context, state, clause)}"
            f"; in force: {_clause_list(state.clauses_in_force())}"
        )
    return found


def _term(clause: ClauseState, term: str) -> Any:
    names = term_names(clause.kind)
    if term not in names:
        fail(f"expected a term of a {clause.kind.value} clause ({', '.join(names)}), got {term!r}")
    return unstructure_terms(clause.terms).get(term)


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(item) for item in value)
    if isinstance(value, dict) and set(value) == {"amount", "currency"}:
        return f"{value['amount']} {value['currency']}"
    return str(value)


def _same_plain(got: str, expected: str) -> bool:
    if got == expected:
        return True
    try:
        return Decimal(got) == Decimal(expected)
    except InvalidOperation:
        return False


def _of_kind(state: AgreementState, kind: ClauseKind) -> tuple[ClauseState, ...]:
    return tuple(c for c in state.clauses_in_force() if c.kind is kind)


def _why_not(context: LedgerContext, state: AgreementState, clause: str) -> str:
    life, _ = context.ledger.clause_life(
        clause, as_of=state.as_of, known_at=state.known_at, agreement=state.agreement
    )
    if not life.changes:
        return "no clause with that id had been added by then"
    last = life.changes[-1]
    if last.change == "expired":
        return f"it expired after {last.on - timedelta(days=1)}"
    if last.change == "ended":
        return f"the agreement was terminated on {last.on} ({', '.join(last.events)})"
    return f"it was removed on {last.on} ({', '.join(last.events)})"


def _clause_kind(kind: str) -> ClauseKind:
    return _member(ClauseKind, kind, "a clause kind")


def _governance_kind(kind: str) -> GovernanceKind:
    return _member(GovernanceKind, kind, "a governance kind")


def _member(enum_type: type[E], value: str, what: str) -> E:
    try:
        return enum_type(value)
    except ValueError:
        options = ", ".join(member.value for member in enum_type)
        fail(f"expected {what} ({options}), got {value!r}")


def _talks(state: AgreementState, renegotiation: str) -> RenegotiationState:
    talks = state.renegotiations.get(renegotiation)
    if talks is None:
        held = ", ".join(_talks_detail(t) for t in state.renegotiations.values()) or "none"
        fail(
            f"expected a renegotiation {renegotiation!r} by {state.as_of}, but it had not "
            f"been opened; renegotiations: {held}"
        )
    return talks


def _within(day: date, period: str) -> bool:
    if len(period) == 10:
        return day == date.fromisoformat(period)
    if "Q" in period:
        return DatePrecision.QUARTER.label(day) == period
    if len(period) == 7:
        return DatePrecision.MONTH.label(day) == period
    return DatePrecision.YEAR.label(day) == period


def _id_list(ids: str) -> list[str]:
    return [part.strip() for part in ids.split(",") if part.strip()]


# -- helpers: describing what the ledger holds -----------------------------------------


def _clause_list(clauses: Iterable[ClauseState]) -> str:
    shown = [
        f"{c.id} ({c.kind.value}" + (f", until {c.until}" if c.until else "") + ")" for c in clauses
    ]
    return ", ".join(shown) or "none"


def _clause_detail(clause: ClauseState) -> str:
    terms = ", ".join(f"{k}: {_plain(v)}" for k, v in unstructure_terms(clause.terms).items())
    dates = f"in force since {clause.in_force_since}"
    if clause.amended_on:
        dates += f", amended on {clause.amended_on}"
    dates += f", until {clause.until}" if clause.until else ", no until"
    return f"{clause.id} ({clause.kind.value}; {dates}; terms {{{terms}}})"


def _investments(state: AgreementState) -> str:
    shown = [f"{t.investor} in {t.recipient}: {t.total}" for t in state.investments.values()]
    return ", ".join(shown) or "none"


def _stakes(state: AgreementState) -> str:
    shown = [f"{s.holder} holds {s.percent} of {s.entity}" for s in state.stakes.values()]
    return ", ".join(shown) or "none"


def _governance(records: Sequence[GovernanceRecord]) -> str:
    shown = [
        f"{r.kind.value} on {r.date_precision.label(r.effective_on)} ({r.entity}"
        + (f": {', '.join(r.people)}" if r.people else "")
        + f") [{r.id}]"
        for r in records
    ]
    return "; ".join(shown) or "none"


def _talks_detail(talks: RenegotiationState) -> str:
    proposals = ", ".join(f"{p.id}: {p.status.value}" for p in talks.proposals) or "none"
    return f"{talks.id} {talks.status.value} (proposals: {proposals})"


def _entries(entries: Sequence[HistoryEntry]) -> str:
    shown = []
    for entry in entries:
        fact = entry.fact
        when = (
            f" on {fact.date_precision.label(fact.effective_on)}"
            if isinstance(fact, DatedEvent)
            else ""
        )
        withdrawn = f", withdrawn by {entry.withdrawn_by}" if entry.withdrawn_by else ""
        shown.append(f"{entry.id} {fact.TYPE}{when}{withdrawn}")
    return "; ".join(shown) or "none"


def _history(context: LedgerContext, agreement: str | None) -> tuple[HistoryEntry, ...]:
    context.settled()
    try:
        return context.ledger.history(agreement=agreement)
    except LedgerError as error:
        fail(f"expected a history to read, but the ledger refused: {error}")


def _history_entry(context: LedgerContext, event: str) -> HistoryEntry:
    entries = _history(context, event.partition("#")[0] or None)
    found = next((e for e in entries if e.id == event), None)
    if found is None:
        fail(f"expected an event {event} in the history, got {_entries(entries)}")
    return found


# -- Across agreements -----------------------------------------------------------


def _asked(
    context: LedgerContext, question: str, label: str | None, ask: Callable[..., Any]
) -> None:
    context.settled()
    known_at = context.noted(label) if label is not None else None
    context.asked = question + (f" as known at {label!r}" if label else "")
    try:
        context.answer = ask(known_at)
    except LedgerError as error:
        fail(f"expected an answer to {context.asked}, but the ledger refused: {error}")


def _answer(context: LedgerContext, kind: type[Any]) -> Any:
    if not isinstance(context.answer, kind):
        fail("expected a question asked first (a `When I find …` or `When I ask …` step)")
    return context.answer


@when(
    step_re(
        f'I find the agreements with an? "{{kind}}" clause in force on {DAY}'
        '(?: where "{conditions}")?(?: as known at "{label}")?'
    ),
    converters=AS_DATE,
)
def found_across(
    ledger_context: LedgerContext,
    kind: str,
    day: date,
    conditions: str | None,
    label: str | None,
) -> None:
    """Ask every agreement at once (``Ledger.find``); conditions are ``--term`` texts,
    separated by commas (``rate>10, exclusive=true``)."""
    terms = [c.strip() for c in conditions.split(",")] if conditions else []
    _asked(
        ledger_context,
        f"which agreements had a {kind!r} clause in force on {day} where {terms}",
        label,
        lambda known_at: ledger_context.ledger.find(kind, on=day, terms=terms, known_at=known_at),
    )


@then(step_re('the agreements found are "{ids}"'))
def agreements_found(ledger_context: LedgerContext, ids: str) -> None:
    """The agreements the last ``find`` named (each once, in any order)."""
    clauses = _answer(ledger_context, list)
    got = sorted({clause.agreement for clause in clauses})
    expected = sorted(i.strip() for i in ids.split(",") if i.strip())
    if got != expected:
        shown = "; ".join(f"{c.agreement}: {c.clause_id}" for c in clauses) or "none"
        fail(f"expected {expected} for {ledger_context.asked}, got {got} ({shown})")


@then("no agreement is found")
def nothing_found(ledger_context: LedgerContext) -> None:
    """The last ``find`` named no agreement."""
    agreements_found(ledger_context, "")


@when(
    step_re(
        rf"I ask which clauses leave force within (?P<days>\d+) days of {DAY}"
        '(?: as known at "{label}")?'
    ),
    converters={**AS_DATE, "days": int},
)
def ending_across(ledger_context: LedgerContext, days: int, day: date, label: str | None) -> None:
    """The renewal calendar across agreements (``Ledger.expiring``)."""
    _asked(
        ledger_context,
        f"which clauses leave force within {days} days of {day}",
        label,
        lambda known_at: ledger_context.ledger.expiring(within=days, on=day, known_at=known_at),
    )


@then(
    step_re(
        f'clause "{{clause}}" of "{{agreement}}" leaves force on {DAY} '
        r"\((?P<why>until|removed|terminated)\)"
    ),
    converters=AS_DATE,
)
def leaves_force(
    ledger_context: LedgerContext, clause: str, agreement: str, day: date, why: str
) -> None:
    """A clause's last day in force, and why, among the last calendar's."""
    endings = _answer(ledger_context, list)
    said = [(e.clause.agreement, e.clause.clause_id, e.last_day, e.why) for e in endings]
    if (agreement, clause, day, why) not in said:
        shown = "; ".join(f"{a}: {c} on {d} ({w})" for a, c, d, w in said) or "none"
        fail(f"expected {clause!r} of {agreement!r} to leave force on {day} ({why}), got {shown}")


@then("no clause leaves force")
def none_leaves_force(ledger_context: LedgerContext) -> None:
    """The last calendar is empty."""
    endings = _answer(ledger_context, list)
    if endings:
        shown = "; ".join(f"{e.clause.agreement}: {e.clause.clause_id}" for e in endings)
        fail(f"expected no clause to leave force for {ledger_context.asked}, got {shown}")


@when(
    step_re(f'I ask what "{{party}}" holds on {DAY}(?: as known at "{{label}}")?'),
    converters=AS_DATE,
)
def held_across(ledger_context: LedgerContext, party: str, day: date, label: str | None) -> None:
    """A party's stakes and investments across agreements (``Ledger.holdings``)."""
    _asked(
        ledger_context,
        f"what {party!r} holds on {day}",
        label,
        lambda known_at: ledger_context.ledger.holdings(party, on=day, known_at=known_at),
    )


@then(
    step_re(
        r'across agreements, "{party}" holds (?P<percent>\d+(?:\.\d+)?)% of "{entity}" '
        'under "{agreement}"'
    )
)
def holds_across(
    ledger_context: LedgerContext, party: str, percent: str, entity: str, agreement: str
) -> None:
    """A stake among the last holdings."""
    from ledger.domain.portfolio import Holdings

    held = _answer(ledger_context, Holdings)
    said = [(s.holder, s.entity, s.agreement, s.percent) for s in held.stakes]
    if (party, entity, agreement, Decimal(percent)) not in said:
        shown = "; ".join(f"{e} {format_decimal(p)}% under {a}" for _, e, a, p in said) or "none"
        fail(
            f"expected {party!r} to hold {percent}% of {entity!r} under {agreement!r}, got {shown}"
        )


@then(
    step_re(
        r'across agreements, "{party}" has invested (?P<amount>\d+(?:\.\d+)?) '
        r"(?P<currency>[A-Z]{3}) in all"
    )
)
def invested_across(ledger_context: LedgerContext, party: str, amount: str, currency: str) -> None:
    """A party's investments in one currency, summed over every agreement."""
    from ledger.domain.portfolio import Holdings

    held = _answer(ledger_context, Holdings)
    got = held.totals.get(currency, Decimal(0))
    if got != Decimal(amount):
        shown = ", ".join(f"{format_decimal(v)} {c}" for c, v in held.totals.items()) or "nothing"
        fail(f"expected {party!r} to have invested {amount} {currency} in all, got {shown}")
