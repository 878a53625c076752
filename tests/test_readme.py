"""The README does what it says: its Python example runs, and every shell block runs as
written, in order, in a copy of the repository with a fresh store, against the installed
``ledger``.

A shell block may be marked by an HTML comment on the line before it:

- ``<!-- readme-test: setup -->`` the set-up command: only its ``ledger`` commands run
  (the virtual environment and the install are this test run's own);
- ``<!-- readme-test: postgres -->`` runs only when ``LEDGER_TEST_POSTGRES_URL`` is set,
  with the README's URL replaced by a fresh schema on that server;
- ``<!-- readme-test: server -->`` starts a server that runs until stopped: it is started
  as written, asked for ``/api/agreements`` once it says where it listens, and stopped;
- ``<!-- readme-test: skip (why) -->`` never runs (it installs, or runs the test suite).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import attrs
import pytest
from conftest import fresh_schema

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
README_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
# An optional marker comment, then a fenced block of shell.
BLOCK = re.compile(
    r"(?:<!-- readme-test: (?P<mark>[a-z]+)[^>]*-->\n)?"
    r"```(?:bash|sh|shell)\n(?P<body>.*?)```",
    re.S,
)
SETUP_ONLY = ("python3 -m venv", "python -m venv", ". .venv/bin/activate", "pip install")
MARKS = {None, "setup", "postgres", "server", "skip"}


@attrs.frozen
class Block:
    """A shell block of the README: its place, its marker and its text."""

    number: int
    mark: str | None
    body: str

    def describe(self) -> str:
        first = next((line for line in self.body.splitlines() if line.strip()), "")
        return f"README shell block {self.number} ({first.strip()[:70]!r})"


def shell_blocks() -> list[Block]:
    """The README's shell blocks, in order."""
    found = BLOCK.finditer(README.read_text("utf-8"))
    return [Block(n, m["mark"], m["body"]) for n, m in enumerate(found, 1)]


def setup_commands(block: Block) -> str:
    """The set-up block's own commands: those that are not the environment or the install."""
    lines = [line for line in block.body.splitlines() if not line.lstrip().startswith("#")]
    commands = [part.strip() for line in lines for part in line.split("&&") if part.strip()]
    return " && ".join(c for c in commands if not c.startswith(SETUP_ONLY))


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository as a fresh clone has it: no store, no environment."""
    target = tmp_path_factory.mktemp("readme") / "contract-ledger"
    ignored = shutil.ignore_patterns(
        ".git",
        ".venv",
        "venv",
        "*.sqlite",
        "*.sqlite-*",
        "__pycache__",
        "*.egg-info",
        ".*_cache",
        ".hypothesis",
        "build",
        "dist",
    )
    shutil.copytree(ROOT, target, ignore=ignored)
    return target


def shell_environment(home: Path, **extra: str) -> dict[str, str]:
    """A user's shell: the installed ``ledger`` on the PATH, no store chosen, plain output."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LEDGER_STORE", "COLUMNS", "LINES", "PYTHONPATH")
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update({"HOME": str(home), "NO_COLOR": "1", "TERM": "dumb", **extra})
    return env


def run_block(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A block run by bash, stopping at the first command that fails (as a reader would)."""
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_python_example_runs(capsys):
    """The embedding example runs and prints the amended clause."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text("utf-8"), re.S)
    assert blocks, "the README has no Python example"
    exec(compile(blocks[0], "README.md", "exec"), {})  # noqa: S102 - our own README
    assert "azure-exclusivity amended" in capsys.readouterr().out


def test_every_shell_block_runs_as_written(clone: Path) -> None:
    """Set-up first, then every unmarked block in order, on the store set-up created;
    each exits 0 (a refusal the README shows is caught in the block itself)."""
    blocks = shell_blocks()
    assert [b.mark for b in blocks if b.mark not in MARKS] == []
    assert blocks[0].mark == "setup", "the first shell block is the set-up"
    env = shell_environment(clone.parent)
    ran = 0
    for block in blocks:
        if block.mark in ("skip", "postgres", "server"):
            continue
        script = setup_commands(block) if block.mark == "setup" else block.body
        done = run_block(script, clone, env)
        assert done.returncode == 0, f"{block.describe()} failed:\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, block.describe()
        ran += 1
    assert ran >= 6
    assert (clone / "ledger.sqlite").is_file()


def test_the_postgresql_blocks_run(clone: Path, postgres_server: str) -> None:
    """The PostgreSQL blocks, each against a fresh schema in place of the README's database
    (and of the schema it names), after the set-up's store is made."""
    blocks = [b for b in shell_blocks() if b.mark == "postgres"]
    assert blocks
    setup = next(b for b in shell_blocks() if b.mark == "setup")
    env = shell_environment(clone.parent)
    if not (clone / "ledger.sqlite").exists():
        assert run_block(setup_commands(setup), clone, env).returncode == 0
    named = re.compile(re.escape(README_POSTGRES_URL) + r"(?:\?schema=\w+)?")
    for block in blocks:
        assert named.search(block.body), block.describe()
        with fresh_schema(postgres_server) as url:
            done = run_block(named.sub(url, block.body), clone, env)
        assert done.returncode == 0, f"{block.describe()} failed:\n{done.stdout}\n{done.stderr}"


def test_the_server_blocks_serve(clone: Path) -> None:
    """A server block, started as written on the README's store, answers its own API."""
    blocks = [b for b in shell_blocks() if b.mark == "server"]
    if not blocks:
        pytest.skip("the README starts no server")
    pytest.importorskip("uvicorn")
    store = clone.parent / "served.sqlite"
    env = shell_environment(clone.parent, LEDGER_STORE=str(store))
    assert run_block("ledger init --example openai-microsoft", clone, env).returncode == 0
    for block in blocks:
        address = re.search(r"http://[\w.:\[\]]+/", block.body)
        assert address, f"{block.describe()} says where it listens"
        with socket.socket() as probe:
            if probe.connect_ex((urlsplit(address[0]).hostname, urlsplit(address[0]).port)) == 0:
                pytest.skip(f"something already listens at {address[0]}")
        server = subprocess.Popen(
            ["bash", "-c", block.body],
            cwd=clone,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            assert server.stdout is not None
            said = server.stdout.readline()
            assert address[0] in said, (said, server.stderr.read() if server.poll() else "")
            answer = json.loads(_get(address[0] + "api/agreements"))
            assert [a["id"] for a in answer] == ["openai-microsoft"]
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def _get(url: str) -> str:
    for _ in range(100):  # the server says where it listens just before it does
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - our own URL
                return str(answer.read().decode("utf-8"))
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"no answer from {url}")


def test_only_a_few_blocks_are_left_out() -> None:
    """Blocks that never run are marked, and few: the test command and its PostgreSQL form."""
    skipped = [b for b in shell_blocks() if b.mark == "skip"]
    assert len(skipped) <= 2
    assert all("pytest" in b.body for b in skipped)


def test_files_the_readme_shows_are_the_files_it_uses() -> None:
    """A YAML block headed by a path is that file of the repository, as it is."""
    shown = re.findall(r"```yaml\n# ([\w./-]+\.yaml)\n(.*?)```", README.read_text("utf-8"), re.S)
    assert shown
    for path, text in shown:
        assert (ROOT / path).read_text("utf-8") == text, path


def test_no_path_leaves_the_repository() -> None:
    """No path a stranger's clone does not have: every ``../`` path and every relative link
    of the README and the docs stays inside the repository and exists."""
    for page in [README, *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text("utf-8")
        links = re.findall(r"\]\(([^)#]+)\)", text)
        paths = [*re.findall(r"\.\./[\w./-]+", text), *links]
        for path in paths:
            if path.startswith(("http://", "https://")):
                continue
            where = (page.parent / path).resolve()
            assert where.is_relative_to(ROOT), f"{page.name}: {path} leaves the repository"
            assert where.exists(), f"{page.name}: {path} does not exist"


def test_the_two_setup_commands_stand_alone_and_ci_runs_the_second() -> None:
    """Each set-up command makes its own environment; CI runs the test command word for word."""
    commands = [b.body for b in shell_blocks()[:2]]
    for command in commands:
        assert "python3 -m venv .venv && . .venv/bin/activate && pip install " in command
    test_command = 'pip install -e ".[test,postgres]" && python -m pytest'
    assert commands[1].rstrip().endswith(test_command)
    assert test_command in (ROOT / ".ci" / "run").read_text("utf-8")
