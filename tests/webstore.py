"""A real SQLite store for the web view's tests, and the real ``ledger serve`` over it.

The store holds the bundled history, a backdated amendment recorded after it (so that
"as known before the append" differs), governance events and a second agreement whose
texts are hostile HTML, and a correction (so that the history shows a withdrawal).
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from pathlib import Path

import attrs

from ledger import Ledger, parse_text

AGREEMENT = "openai-microsoft"
HOSTILE = "hostile-co"
SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'
FEATURES = Path(__file__).resolve().parent.parent / "features"
EQUITY_SWAP = FEATURES / "whatif" / "equity-swap.yaml"

BACKDATED = """\
agreement: openai-microsoft
events:
  - type: amendment
    effective_on: "2020-06-01"
    source: {citation: "Test amendment", confidence: reported}
    changes:
      - amend: azure-exclusivity
        terms: {exclusive: false, right_of_first_refusal: true}
"""

HOSTILE_GOVERNANCE = f"""\
agreement: openai-microsoft
events:
  - type: governance
    effective_on: "2024-02-01"
    kind: other
    entity: openai
    people: ['{IMG}']
    description: "{SCRIPT}"
    note: "{SCRIPT}"
    source: {{citation: "{SCRIPT}", quote: '{IMG}', confidence: reported}}
  - type: governance
    effective_on: "2024-02-02"
    kind: other
    entity: openai
    description: '{IMG}'
    source: {{citation: "Test", confidence: reported}}
  - type: correction
    corrects: openai-microsoft#2
    reason: "the figure was wrong"
    source: {{citation: "Test filing", confidence: confirmed}}
    replacement:
      type: investment
      effective_on: "2019-07-01"
      date_precision: month
      investor: microsoft
      recipient: openai
      amount: {{amount: "2000000000", currency: USD}}
      instrument: profit_interest
      source: {{citation: "Test filing", confidence: confirmed}}
"""

HOSTILE_AGREEMENT = f"""\
agreement: {HOSTILE}
events:
  - type: agreement_opened
    effective_on: "2021-01-01"
    title: "{SCRIPT} Co"
    parties:
      - {{id: alpha, name: '{IMG}'}}
      - {{id: beta, name: "Beta"}}
    clauses:
      - id: odd-terms
        kind: custom
        terms: {{text: "{SCRIPT}"}}
    source: {{citation: '{IMG}', quote: "{SCRIPT}", confidence: confirmed}}
"""


@attrs.frozen
class Store:
    """A built store: its file, and the time noted just before the backdated append."""

    path: Path
    before_append: datetime

    def sha256(self) -> str:
        """The digest of the store file's bytes."""
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    def reader(self) -> Ledger:
        """The store opened read-only, as the web view opens it."""
        from ledger.entrypoints.web.app import open_read_only

        return open_read_only(str(self.path))


def build_store(path: Path) -> Store:
    """Build the store through the real API, and leave it closed."""
    with Ledger(str(path)) as ledger:
        ledger.load_example(AGREEMENT)
        before = datetime.now(UTC)
        time.sleep(0.002)  # the append is recorded strictly after the noted time
        for text in (BACKDATED, HOSTILE_GOVERNANCE, HOSTILE_AGREEMENT):
            ledger.append(parse_text(text, "test.yaml").events)
    return Store(path, before)
