"""Shared fixtures: stores of every kind, a PostgreSQL schema per test, the real CLI.

PostgreSQL tests read ``LEDGER_TEST_POSTGRES_URL`` (a server and database; each test gets
its own schema, dropped afterwards). Without it they are skipped, saying how to enable
them; with ``LEDGER_REQUIRE_POSTGRES=1`` (as ``.ci/run`` sets) they fail instead, and a
URL that is set but unreachable always fails.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from hypothesis import HealthCheck, settings

POSTGRES_URL_ENV = "LEDGER_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "LEDGER_REQUIRE_POSTGRES"
SKIP_REASON = (
    "set LEDGER_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test "
    "to run the PostgreSQL tests"
)

# Example counts are set per test (they are part of each test's time budget); the
# profiles only say how Hypothesis behaves around them.
settings.register_profile(
    "ci",
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "dev",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Whatever needs a PostgreSQL server carries the ``postgres`` marker."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if ("postgres_url" in names or "postgres_server" in names) and not any(
            mark.name == "postgres" for mark in item.iter_markers()
        ):
            item.add_marker(pytest.mark.postgres)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, f"{user}{parts.hostname}{port}", parts.path, "", ""))


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The server and database of ``LEDGER_TEST_POSTGRES_URL``, proven reachable."""
    url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not url:
        if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
            pytest.fail(f"{REQUIRE_POSTGRES_ENV}=1 but {POSTGRES_URL_ENV} is not set")
        pytest.skip(SKIP_REASON)
    try:
        import psycopg
    except ImportError:
        pytest.fail(
            f"{POSTGRES_URL_ENV} is set but psycopg is missing: pip install -e '.[postgres]'"
        )
    base = urlunsplit((*urlsplit(url)[:3], "", ""))
    try:
        psycopg.connect(base, connect_timeout=5).close()
    except psycopg.Error as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        pytest.fail(f"cannot reach PostgreSQL at {_without_password(base)}: {first}")
    return base


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A store URL with a fresh schema of its own, dropped (CASCADE) after the test."""
    with fresh_schema(postgres_server) as url:
        yield url


@contextlib.contextmanager
def fresh_schema(server: str) -> Iterator[str]:
    """A store URL on ``server`` with a new schema of its own, dropped (CASCADE) after."""
    import psycopg

    schema = f"ledger_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{server}?schema={schema}"
    finally:
        with psycopg.connect(server, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def sqlite_store(tmp_path: Path) -> str:
    """The path of a SQLite store that does not exist yet."""
    return str(tmp_path / "ledger.sqlite")


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    """Each kind of store in turn: in memory, a SQLite file, a PostgreSQL schema."""
    if request.param == "memory":
        return "memory:"
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_store"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def durable_store_url(request: pytest.FixtureRequest) -> str:
    """The stores that outlive the process: a SQLite file, a PostgreSQL schema."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_store"))
    return str(request.getfixturevalue("postgres_url"))


def ledger_command() -> list[str]:
    """The installed ``ledger`` console script (the real CLI) next to this Python."""
    script = Path(sys.executable).parent / "ledger"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from ledger.entrypoints.cli import run; run()"]


def cli_environment() -> dict[str, str]:
    """The environment for CLI subprocesses: no inherited store, no colours."""
    env = {k: v for k, v in os.environ.items() if k != "LEDGER_STORE"}
    env.update({"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200", "PYTHONHASHSEED": "0"})
    return env


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``ledger ARGS…`` as a subprocess; returns the completed process (text)."""

    def run(
        *args: str, timeout: float = 60, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*ledger_command(), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            input=stdin,
            env=cli_environment(),
            check=False,
        )

    return run


@pytest.fixture
def ledger_cmd() -> list[str]:
    """The command that runs the real CLI (for ``subprocess.Popen``)."""
    return ledger_command()


@pytest.fixture
def cli_env() -> dict[str, str]:
    """The environment CLI subprocesses run with."""
    return cli_environment()
