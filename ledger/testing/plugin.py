"""pytest plugin entry point (``pytest11``): the step library for agreement scenarios.

Installed with the package, it makes every step of ``ledger.testing.steps`` visible to
every test module, registers the scenario tags the project's features use as markers,
and gives each scenario a fresh ledger on a temporary SQLite store.

Fixtures a user may override in a ``conftest.py``:

- ``ledger_store``: where the scenario's ledger lives (default: a SQLite file under
  ``tmp_path``); return ``"memory:"`` or a ``postgresql://`` URL to use another store.
- ``ledger_context``: the object the steps share (see ``LedgerContext``).
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import attrs
import pytest

from ledger import AgreementState, Appended, Ledger, LedgerError
from ledger.domain.ids import parse_event_id
from ledger.domain.whatif import WhatIf

# The steps need pytest-bdd (the package's ``test`` extra); without it the plugin stays quiet,
# so that installing contract-ledger never breaks an unrelated pytest run.
pytest_plugins = ["ledger.testing.steps"] if importlib.util.find_spec("pytest_bdd") else []

MARKERS = {
    "history": "scenarios that pin the bundled OpenAI–Microsoft history",
    "rules": "scenarios about the rules an append must obey",
    "corrections": "scenarios about corrections, retractions and replay as known at a time",
    "renegotiation": "scenarios about renegotiations and their proposals",
    "generic": "scenarios about agreements other than the bundled one",
    "whatif": "scenarios about hypotheses tried without writing them",
    "termination": "scenarios about the end of an agreement",
    "portfolio": "scenarios that ask across agreements (find, expiring, holdings)",
}

FEATURE_FILE = pytest.StashKey[Path]()
TICK_SECONDS = 0.005

# (agreement, event id, digest) for every recorded event: enough to tell that nothing changed.
Snapshot = tuple[tuple[str, str, str], ...]


def pytest_configure(config: pytest.Config) -> None:
    """Register the scenario tags as markers (the project runs with ``--strict-markers``)."""
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")


def fail(message: str) -> NoReturn:
    """Fail the step with ``message`` (what was expected, what the ledger holds)."""
    pytest.fail(message, pytrace=False)


@attrs.define
class Attempt:
    """What a ``When`` step asked of the ledger, and how the ledger answered."""

    action: str
    error: LedgerError | None = None
    checked: bool = False
    appended: tuple[Appended, ...] = ()
    before: Snapshot = ()


@attrs.define
class LedgerContext:
    """What the steps of one scenario share: the ledger, the last replay, noted times."""

    ledger: Ledger
    stash: pytest.Stash
    state: AgreementState | None = None
    last_append: Attempt | None = None
    last_replay: Attempt | None = None
    times: dict[str, datetime] = attrs.field(factory=dict)
    hypothesis: WhatIf | None = None
    before_hypothesis: Snapshot = ()
    # The last question asked across agreements, and its answer.
    asked: str = ""
    answer: Any = None

    def path(self, relative: str) -> Path:
        """``relative`` to the feature file's directory (the working directory if unknown)."""
        feature = self.stash.get(FEATURE_FILE, None)
        base = feature.parent if feature is not None else Path.cwd()
        return base / relative

    def note_time(self, label: str) -> datetime:
        """The current UTC time, strictly after every earlier append and before any later one."""
        time.sleep(TICK_SECONDS)
        moment = datetime.now(UTC)
        time.sleep(TICK_SECONDS)
        self.times[label] = moment
        return moment

    def noted(self, label: str) -> datetime | str:
        """The time noted under ``label``, or ``label`` itself if it is an event id (the
        ledger answers as known just after that event was recorded)."""
        if label in self.times:
            return self.times[label]
        if parse_event_id(label) is not None:
            return label
        known = ", ".join(repr(name) for name in self.times) or "none"
        fail(
            f"expected a time noted as {label!r} (with `Given I note the time as "
            f'"{label}"`) or an event id, but the noted times are: {known}'
        )

    def snapshot(self) -> Snapshot:
        """Every recorded event of every agreement in the store."""
        return tuple(
            (agreement, entry.id, entry.digest)
            for agreement in self.ledger.agreements()
            for entry in self.ledger.history(agreement=agreement)
        )

    def settled(self) -> None:
        """Fail if an append or a replay was refused and no step has looked at why."""
        for attempt in (self.last_append, self.last_replay):
            if attempt is not None and attempt.error is not None and not attempt.checked:
                attempt.checked = True
                fail(
                    f"the {attempt.action} was refused, which no step expected: {attempt.error}\n"
                    "If that is intended, say so with `Then the append is refused with a message "
                    'containing "…"` (or `Then the replay is refused …`).'
                )

    def current(self) -> AgreementState:
        """The state of the last replay, once every earlier attempt is settled."""
        self.settled()
        if self.state is None:
            fail("expected a replayed state: add a step such as `When I replay to 2023-11-20`")
        return self.state


@pytest.fixture
def ledger_store(tmp_path: Path) -> str:
    """The store of the scenario's ledger: a fresh SQLite file."""
    return str(tmp_path / "ledger.sqlite")


@pytest.fixture
def ledger_context(ledger_store: str, request: pytest.FixtureRequest) -> Iterator[LedgerContext]:
    """A fresh ledger for one scenario, closed afterwards."""
    with Ledger(ledger_store) as ledger:
        context = LedgerContext(ledger=ledger, stash=request.node.stash)
        yield context
    context.settled()
