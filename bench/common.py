"""What the benchmarks share: the investment they append, the stores they make and remove
(a SQLite file in a temporary folder; a PostgreSQL schema of its own), and a store of one
synthetic agreement."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from synthetic import AGREEMENT, synthetic

APPENDED = {
    "type": "investment",
    "investor": "alpha",
    "recipient": "beta",
    "amount": {"amount": "1000000", "currency": "USD"},
    "instrument": "equity",
    "source": {"citation": "Benchmark append", "confidence": "confirmed"},
}


@contextlib.contextmanager
def sqlite_store(prefix: str) -> Iterator[str]:
    """The path of a SQLite store (not made yet) in a temporary folder, removed after."""
    folder = tempfile.mkdtemp(prefix=f"{prefix}-")
    try:
        yield str(Path(folder) / "store.sqlite")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def postgres_schema(server: str, prefix: str) -> Iterator[str]:
    """A store URL on ``server`` with a new schema ``<prefix>_<random>``, dropped
    (CASCADE) after."""
    import psycopg

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{server}?schema={schema}"
    finally:
        with psycopg.connect(server, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def build(path: Path, n: int) -> None:
    """A SQLite store at ``path`` holding one synthetic agreement of ``n`` events
    (``synthetic.py``'s realistic mix), recorded in one append: appended in smaller
    batches, each backdated event would fold the rest of the history again."""
    from ledger import Ledger, structure_fact

    events, _ = synthetic(n)
    facts = [structure_fact(event) for event in events]
    with Ledger(str(path)) as ledger:
        ledger.append(facts, agreement=AGREEMENT)
