"""DuckDB over a SQLite store, for analysts (the ``analysts`` extra).

DuckDB reads a SQLite file through its ``sqlite`` extension, which it normally downloads
on first use. The extra installs that extension from PyPI (``duckdb-extension-sqlite``,
built for one DuckDB release, hence the exact pins), so attaching works offline; without
it, DuckDB fetches the extension itself.
"""

from __future__ import annotations

import importlib.util
import os
from importlib import resources
from typing import Any

from ledger.adapters.store import StoreLocation
from ledger.errors import InputError, MissingExtra, StoreError

ATTACHED_AS = "ledger"


def duckdb_connection(store: str | os.PathLike[str] | None = None) -> Any:
    """A DuckDB connection with the SQLite store attached read-only as ``ledger``
    (default store: ``$LEDGER_STORE`` or ``./ledger.sqlite``): query
    ``ledger.clause_versions_now`` and the other tables as in ``ledger sql``."""
    if importlib.util.find_spec("duckdb") is None:
        raise MissingExtra("DuckDB is the analysts extra: pip install 'contract-ledger[analysts]'")
    import duckdb

    location = StoreLocation.resolve(store)
    if not location.is_file:
        raise InputError(
            f"expected a SQLite store for DuckDB to attach, got {location.display()} "
            "(PostgreSQL: DuckDB's postgres extension, or `ledger sql`)"
        )
    if not location.exists():
        raise StoreError(f"no ledger store at {location.display()}: create it with `ledger init`")
    packaged = _packaged_extension(duckdb.__version__)
    connection = duckdb.connect(config={"autoinstall_known_extensions": packaged is None})
    if packaged is not None:
        connection.execute(f"INSTALL '{_quoted(packaged)}'")
    connection.execute("LOAD sqlite")
    connection.execute(
        f"ATTACH '{_quoted(str(location.path.resolve()))}' AS {ATTACHED_AS} "
        "(TYPE sqlite, READ_ONLY)"
    )
    return connection


def _packaged_extension(version: str) -> str | None:
    """The sqlite extension ``duckdb-extension-sqlite`` ships for this DuckDB, if any."""
    if importlib.util.find_spec("duckdb_extension_sqlite") is None:
        return None
    found = (
        resources.files("duckdb_extension_sqlite")
        / "extensions"
        / f"v{version}"
        / "sqlite.duckdb_extension"
    )
    return str(found) if found.is_file() else None


def _quoted(text: str) -> str:
    return text.replace("'", "''")
