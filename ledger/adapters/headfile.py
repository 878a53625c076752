"""Saved heads: the file ``ledger head --json`` writes and ``ledger verify --expect`` reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ledger.domain.heads import Head
from ledger.domain.values import parse_slug
from ledger.errors import FileError, InvalidField

_DIGEST = frozenset("0123456789abcdef")


def read_heads(path: str) -> list[Head]:
    """The heads saved in ``path`` (a JSON list of ``{agreement, version, digest,
    recorded_at, …}``; other keys, such as a signature, are ignored)."""
    try:
        document = json.loads(Path(path).read_text("utf-8"))
    except OSError as error:
        raise FileError(path, f"cannot read the file ({error.strerror})") from None
    except ValueError as error:
        raise FileError(
            path, f"expected the JSON that `ledger head --json` prints: {error}"
        ) from None
    if not isinstance(document, list):
        raise FileError(path, "expected a list of heads, as `ledger head --json` prints")
    heads = []
    for index, item in enumerate(document):
        try:
            heads.append(_head(item))
        except InvalidField as error:
            raise FileError(path, f"head {index + 1}: {error}") from None
    return heads


def _head(item: Any) -> Head:
    if not isinstance(item, dict):
        raise InvalidField("", f"expected an object, got {type(item).__name__}")
    for key in ("agreement", "version", "digest", "recorded_at"):
        if key not in item:
            raise InvalidField(key, "required field is missing")
    version, digest = item["version"], item["digest"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidField("version", f"expected a version of 1 or more, got {version!r}")
    if not isinstance(digest, str) or len(digest) != 64 or not set(digest) <= _DIGEST:
        raise InvalidField("digest", "expected 64 lower-case hex digits")
    if not isinstance(item["recorded_at"], str):
        raise InvalidField("recorded_at", "expected an ISO timestamp")
    return Head(parse_slug(item["agreement"], "agreement"), version, digest, item["recorded_at"])
