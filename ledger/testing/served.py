"""A real ``ledger serve`` on a free loopback port, for the web view's tests, its
benchmark and its screenshots: the command as a user starts it, in a process of its own."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def served(
    store: str | Path,
    *,
    command: Sequence[str] = (sys.executable, "-m", "ledger"),
    env: Mapping[str, str] | None = None,
    within: float = 20.0,
) -> Iterator[str]:
    """``ledger --store STORE serve`` on a free port, stopped after; yields its base URL
    once its first page answers (``RuntimeError`` with its output if it exits or stays
    silent for ``within`` seconds)."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - the ledger's own command
        [*command, "--store", str(store), "serve", "--port", str(port)],
        env=dict(env) if env is not None else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + within
        while not _answers(base + "/"):
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else ""
                raise RuntimeError(f"ledger serve exited with {process.returncode}: {output}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"ledger serve did not answer within {within:g} s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:  # noqa: S310 - loopback only
            return int(answer.status) == 200
    except (OSError, urllib.error.URLError):
        return False
