"""The README's examples do what it says."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    """The README's Python code blocks."""
    return re.findall(r"```python\n(.*?)```", README.read_text("utf-8"), re.S)


def test_the_python_example_runs(capsys):
    """The embedding example runs and prints the amended clause."""
    blocks = python_blocks()
    assert blocks, "the README has no Python example"
    exec(compile(blocks[0], "README.md", "exec"), {})  # noqa: S102 - our own README
    assert "azure-exclusivity amended" in capsys.readouterr().out


def test_the_two_setup_commands_are_the_ones_ci_runs():
    """CI runs the README's test command, word for word."""
    text = README.read_text("utf-8")
    test_command = 'pip install -e ".[test,postgres]" && python -m pytest'
    assert test_command in text
    assert test_command in (README.parent / ".ci" / "run").read_text("utf-8")
