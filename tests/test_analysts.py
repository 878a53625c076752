"""DuckDB attaching a SQLite store answers an analyst's query as `ledger sql` does."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger import Ledger
from ledger.adapters.analysts import duckdb_connection
from ledger.errors import InputError

pytest.importorskip("duckdb", reason="DuckDB is the analysts extra: pip install '.[analysts]'")

QUERY = (
    "SELECT agreement, clause_id, kind, terms, valid_from FROM {prefix}clause_versions_now "
    "WHERE kind = 'revenue_share' AND valid_from <= '2026-01-01' AND valid_to > '2026-01-01' "
    "ORDER BY agreement, clause_id"
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("analysts") / "ledger.sqlite"
    with Ledger(str(path)) as ledger:
        ledger.load_example("openai-microsoft", with_record=True)
    return path


def test_duckdb_answers_as_ledger_sql_does(store: Path) -> None:
    """The same rows, the same order, from the same tables."""
    with Ledger(str(store)) as ledger:
        expected = ledger.sql(QUERY.format(prefix="")).rows
    connection = duckdb_connection(store)
    try:
        got = connection.sql(QUERY.format(prefix="ledger.")).fetchall()
    finally:
        connection.close()
    assert [tuple(row) for row in got] == list(expected)
    assert [row[1] for row in got] == ["azure-revenue-share", "openai-revenue-share"]


def test_duckdb_cannot_write_the_store(store: Path) -> None:
    """Attached read-only: a write is refused by DuckDB, and the store is unchanged."""
    import duckdb

    before = store.read_bytes()
    connection = duckdb_connection(store)
    try:
        with pytest.raises(duckdb.Error):
            connection.execute("DELETE FROM ledger.clause_versions")
    finally:
        connection.close()
    assert store.read_bytes() == before


def test_a_postgresql_store_is_refused_with_a_reason() -> None:
    with pytest.raises(InputError, match="expected a SQLite store"):
        duckdb_connection("postgresql://nobody@127.0.0.1:5432/none")
