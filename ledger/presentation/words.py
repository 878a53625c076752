"""Counting words, kept apart from the tables so that a command's plain messages do not
import rich."""

from __future__ import annotations


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 event``, ``2 events``, ``1,000 events``."""
    return f"{count:,} {word if count == 1 else (words or word + 's')}"
