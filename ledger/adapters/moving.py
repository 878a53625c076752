"""A ledger's log as a self-describing file, to move it between stores or keep it as a
backup (``ledger export``, ``ledger import``), and the reading that verifies it.

The file is NDJSON: one JSON object per line, UTF-8. Version 1:

    {"format":"contract-ledger-log","version":1}
    {"id":"acme-globex#1","recorded_at":"2026-01-05T09:00:00.123456+00:00","event":{"type":"agreement_opened",…},"digest":"…"}
    …                                      every event of the agreement, in version order
    {"head":"acme-globex","version":12,"digest":"…","recorded_at":"…"}
    …                                      the next agreement's events, then its head
    {"end":{"agreements":2,"events":20}}

``event`` is the event's plain form as stored, which its digest covers with
``recorded_at`` and the digest before it (``ledger.domain.chain``); an event stored in an
earlier shape of its class also has ``class_version``. A head line repeats the last
event's version, digest and recording time, so that a file cut after any line is
refused, and so is a head that does not match its chain. Each line has exactly these
keys, and a reader refuses a format version it does not know: the format grows by new
versions (signed heads, for one). The writer's bytes depend only on the events, so
exporting the same log from any store gives the same file.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TypeVar

import attrs
import orjson
from eventsourcing.persistence import StoredEvent

from ledger.adapters.mapper import decode
from ledger.domain import chain
from ledger.domain.events import BY_TOPIC, BY_TYPE, structure_fact
from ledger.domain.ids import agreement_uuid, event_id
from ledger.domain.timeline import Recorded
from ledger.errors import FileError, IntegrityFailure, InvalidField, shown

T = TypeVar("T")

FORMAT = "contract-ledger-log"
VERSION = 1
MAX_LINE_BYTES = 64 * 1024 * 1024  # one event's line; a longer one is refused unread
_HEADER = {"format": FORMAT, "version": VERSION}
_EVENT_KEYS = frozenset({"id", "recorded_at", "event", "digest"})
_HEAD_KEYS = frozenset({"head", "version", "digest", "recorded_at"})
_DIGEST = re.compile(r"[0-9a-f]{64}")
_ID = re.compile(r"([a-z0-9][a-z0-9._-]{0,99})#([1-9][0-9]{0,17})")
_OPENING = "agreement_opened"
_aggregate = functools.lru_cache(maxsize=64)(agreement_uuid)


# -- writing -------------------------------------------------------------------------------


def header() -> bytes:
    """The first line: the format and its version."""
    return orjson.dumps(_HEADER) + b"\n"


@attrs.frozen
class Link:
    """The last event written or read of an agreement: what its head line repeats."""

    version: int
    digest: str
    recorded_at: str


def event_line(agreement: str, row: StoredEvent, previous: str) -> tuple[bytes, Link]:
    """The line of a stored row, and its link; ``IntegrityFailure`` if the row does not
    extend the chain whose last digest is ``previous`` (nothing broken is exported)."""
    ident = event_id(agreement, row.originator_version)
    try:
        state = orjson.loads(row.state)
        kind = BY_TOPIC[row.topic].TYPE
        recorded_at = state.pop("recorded_at")
        digest = state.pop("digest")
    except (orjson.JSONDecodeError, KeyError, AttributeError, TypeError) as error:
        raise IntegrityFailure(
            f"{ident} cannot be read ({type(error).__name__}): not exported"
        ) from None
    class_version = state.pop("class_version", None)
    plain = {"type": kind, **state}
    if chain.link_content(previous, {"fact": plain, "recorded_at": recorded_at}) != digest:
        raise IntegrityFailure(
            f"{ident} does not match its chain: not exported (see `ledger verify`)"
        )
    line: dict[str, Any] = {"id": ident, "recorded_at": recorded_at, "event": plain}
    if class_version is not None:
        line["class_version"] = class_version
    line["digest"] = digest
    return orjson.dumps(line) + b"\n", Link(row.originator_version, digest, recorded_at)


def head_line(agreement: str, last: Link) -> bytes:
    """The line that closes an agreement: its last event's version, digest and time."""
    head = {
        "head": agreement,
        "version": last.version,
        "digest": last.digest,
        "recorded_at": last.recorded_at,
    }
    return orjson.dumps(head) + b"\n"


def end_line(agreements: int, events: int) -> bytes:
    """The last line: how many agreements and events the file holds."""
    return orjson.dumps({"end": {"agreements": agreements, "events": events}}) + b"\n"


# -- reading -------------------------------------------------------------------------------


@attrs.frozen
class LoggedEvent:
    """An event line, checked: its agreement, version, recording time, plain form as
    stored (with its ``type``), class version as stored and digest."""

    line: int
    agreement: str
    version: int
    recorded_at: str
    moment: datetime  # recorded_at, read
    plain: dict[str, Any]
    class_version: int | None
    digest: str

    @property
    def id(self) -> str:
        """The event's id, ``agreement#version``."""
        return event_id(self.agreement, self.version)

    def stored(self) -> StoredEvent:
        """The row that stores the event, as the store it came from held it."""
        state = dict(self.plain)
        del state["type"]
        if self.class_version is not None:
            state["class_version"] = self.class_version
        state["recorded_at"] = self.recorded_at
        state["digest"] = self.digest
        return StoredEvent(
            originator_id=_aggregate(self.agreement),
            originator_version=self.version,
            topic=BY_TYPE[self.plain["type"]].TOPIC,
            # orjson's bytes keep a 4 KiB buffer each: a right-sized copy, since an
            # agreement's rows are held until they are written
            state=memoryview(orjson.dumps(state)).tobytes(),
        )

    def current(self, stored: StoredEvent | None = None) -> dict[str, Any]:
        """The plain form in its class's current shape (upcast, as the ledger reads its
        row back: ``stored``, if already made)."""
        if self.class_version is None and BY_TYPE[self.plain["type"]].class_version == 1:
            return self.plain
        row = stored if stored is not None else self.stored()
        return decode(row.topic, row.state)[0]

    def record(self, stored: StoredEvent) -> Recorded:
        """The event as the ledger reads it back from ``stored`` (its row)."""
        return Recorded(
            originator_id=_aggregate(self.agreement),
            originator_version=self.version,
            timestamp=self.moment,
            plain=self.current(stored),
            digest=self.digest,
        )


@attrs.frozen
class Head:
    """A head line, checked against the events before it."""

    line: int
    agreement: str
    last: Link


class LogReader:
    """Reads a log file line by line, checking each line as it comes: its shape, the
    agreement's version sequence and hash chain, each head against its chain, and the
    end line's counts. Memory does not grow with the file: only the running digest and
    counters of the agreement being read are kept.

    ``strict`` also reads each event as an amendment file's would be (every field
    checked); ``exists`` says whether the store already holds an agreement. Every
    refusal is a ``FileError`` naming the file, the line and the event.
    """

    def __init__(
        self,
        stream: IO[bytes],
        name: str,
        *,
        strict: bool = False,
        exists: Callable[[str], bool] | None = None,
    ) -> None:
        self._stream = stream
        self._name = name
        self._strict = strict
        self._exists = exists
        self._number = 0
        self._last_moment = datetime.min
        self.agreements: list[str] = []
        self.events = 0

    def __iter__(self) -> Iterator[LoggedEvent | Head]:
        self._header()
        current: str | None = None
        last: Link | None = None
        while True:
            line = self._next()
            if line is None:
                raise self._refusal(
                    "expected more lines: the file ends before its end line (cut short?)"
                )
            if "id" in line:
                event = self._event(line, current, last)
                if event.version == 1:
                    current = event.agreement
                    self.agreements.append(current)
                last = Link(event.version, event.digest, event.recorded_at)
                self.events += 1
                yield event
            elif "head" in line:
                yield self._head(line, current, last)
                current, last = None, None
            elif "end" in line:
                self._end(line, current)
                return
            else:
                raise self._refusal("expected an event, head or end line, got other keys")

    # -- lines ---------------------------------------------------------------------------

    def _next(self) -> dict[str, Any] | None:
        data = self._stream.readline(MAX_LINE_BYTES + 1)
        if not data:
            return None
        self._number += 1
        if len(data) > MAX_LINE_BYTES:
            raise self._refusal(f"expected a line of at most {MAX_LINE_BYTES:,} bytes")
        try:
            line = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            raise self._refusal(f"expected a JSON object: {error}") from None
        if not isinstance(line, dict):
            raise self._refusal(f"expected a JSON object, got {shown(line)}")
        return line

    def _header(self) -> None:
        line = self._next()
        if line is None:
            raise self._refusal("expected a contract-ledger log, got an empty file")
        if line.get("format") != FORMAT or set(line) != set(_HEADER):
            raise self._refusal(
                f'expected the header {{"format": "{FORMAT}", "version": {VERSION}}}, '
                f"got {shown(line)}"
            )
        if line["version"] != VERSION:
            raise self._refusal(
                f"expected format version {VERSION}, got {shown(line['version'])} "
                "(written by a newer contract-ledger?)"
            )

    def _event(self, line: dict[str, Any], current: str | None, last: Link | None) -> LoggedEvent:
        keys = set(line) - {"class_version"}
        if keys != _EVENT_KEYS:
            raise self._refusal(
                f"expected an event line's keys {_keys(_EVENT_KEYS)}, got {_keys(keys)}"
            )
        ident = line["id"]
        found = _ID.fullmatch(ident) if isinstance(ident, str) else None
        if found is None:
            raise self._refusal(f"id: expected an event id agreement#version, got {shown(ident)}")
        agreement, version = found[1], int(found[2])
        where = f"{agreement}#{version}"
        if version == 1:
            if current is not None:
                raise self._refusal(f"{where}: expected the head line of {current!r} first")
            if agreement in self.agreements:
                raise self._refusal(
                    f"{where}: expected each agreement once, got {agreement!r} again"
                )
            if self._exists is not None and self._exists(agreement):
                raise self._refusal(f"{where}: the store already holds the agreement {agreement!r}")
        elif agreement != current or last is None or version != last.version + 1:
            expected = (
                f"{current}#{last.version + 1}" if current and last else f"{agreement}#1 first"
            )
            raise self._refusal(f"{where}: expected {expected} (events in version order)")
        recorded_at, moment = line["recorded_at"], self._last_moment
        if last is None or recorded_at != last.recorded_at:  # the events of an append share it
            recorded_at, moment = self._moment(recorded_at, where)
            if last is not None and moment < self._last_moment:
                raise self._refusal(
                    f"{where}: recorded_at: expected {last.recorded_at} or later, got {recorded_at}"
                )
            self._last_moment = moment
        plain, class_version = self._plain(line, where, agreement, version)
        digest = line["digest"]
        if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
            raise self._refusal(
                f"{where}: digest: expected 64 hexadecimal digits, got {shown(digest)}"
            )
        previous = last.digest if last is not None else chain.GENESIS
        if chain.link_content(previous, {"fact": plain, "recorded_at": recorded_at}) != digest:
            raise self._refusal(
                f"{where}: its digest does not match its content and the events before it"
            )
        event = LoggedEvent(
            self._number, agreement, version, recorded_at, moment, plain, class_version, digest
        )
        if self._strict:
            self._read_strictly(event)
        return event

    def _plain(
        self, line: dict[str, Any], where: str, agreement: str, version: int
    ) -> tuple[dict[str, Any], int | None]:
        plain = line["event"]
        if not isinstance(plain, dict) or not isinstance(plain.get("type"), str):
            raise self._refusal(
                f"{where}: event: expected an event with its type, got {shown(plain)}"
            )
        cls = BY_TYPE.get(plain["type"])
        if cls is None:
            raise self._refusal(
                f"{where}: event.type: expected one of {', '.join(BY_TYPE)}, "
                f"got {shown(plain['type'])}"
            )
        if (version == 1) != (cls.TYPE == _OPENING):
            expected = "agreement_opened" if version == 1 else "any event but agreement_opened"
            raise self._refusal(f"{where}: event.type: expected {expected}, got {plain['type']!r}")
        if version == 1 and plain.get("agreement") != agreement:
            raise self._refusal(
                f"{where}: event.agreement: expected {agreement!r}, "
                f"got {shown(plain.get('agreement'))}"
            )
        class_version = line.get("class_version")
        if class_version is not None and (
            type(class_version) is not int or not 1 <= class_version <= cls.class_version
        ):
            raise self._refusal(
                f"{where}: class_version: expected 1 to {cls.class_version}, "
                f"got {shown(class_version)}"
            )
        if any(key in plain for key in ("recorded_at", "digest", "class_version")):
            raise self._refusal(
                f"{where}: event: expected its plain form, got bookkeeping keys in it"
            )
        return plain, class_version

    def _read_strictly(self, event: LoggedEvent) -> None:
        try:
            structure_fact(event.current())
        except InvalidField as error:
            raise self._refusal(f"{event.id} ({event.plain['type']}): {error}") from None

    def _moment(self, value: object, where: str) -> tuple[str, datetime]:
        """A recording time as the ledger writes it: ISO 8601 with its offset, in the
        one spelling ``datetime.isoformat`` gives (the digest covers the text)."""
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None or moment.isoformat() != value:
            raise self._refusal(
                f"{where}: recorded_at: expected an ISO time with its offset, as the ledger "
                f"writes it (2026-01-05T09:00:00.123456+00:00), got {shown(value)}"
            )
        return value, moment

    def _head(self, line: dict[str, Any], current: str | None, last: Link | None) -> Head:
        if set(line) != _HEAD_KEYS:
            raise self._refusal(
                f"expected a head line's keys {_keys(_HEAD_KEYS)}, got {_keys(set(line))}"
            )
        if current is None or last is None:
            raise self._refusal(f"head: expected events before the head of {shown(line['head'])}")
        if line["head"] != current:
            raise self._refusal(f"head: expected {current!r}, got {shown(line['head'])}")
        given = Link(line["version"], line["digest"], line["recorded_at"])
        for field in ("version", "digest", "recorded_at"):
            if getattr(given, field) != getattr(last, field) or type(given.version) is not int:
                raise self._refusal(
                    f"head of {current!r}: {field}: expected {getattr(last, field)!r} "
                    f"(its last event's), got {shown(getattr(given, field))}"
                )
        return Head(self._number, current, last)

    def _end(self, line: dict[str, Any], current: str | None) -> None:
        if current is not None:
            raise self._refusal(f"expected the head line of {current!r} before the end line")
        expected = {"agreements": len(self.agreements), "events": self.events}
        if set(line) != {"end"} or line["end"] != expected:
            raise self._refusal(
                f"end: expected {orjson.dumps(expected).decode()}, got {shown(line)}"
            )
        if self._stream.readline(1):
            self._number += 1
            raise self._refusal("expected nothing after the end line")

    def _refusal(self, problem: str) -> FileError:
        return FileError(self._name, f"line {max(self._number, 1)}: {problem}")


def per_agreement(
    items: Iterable[LoggedEvent | Head], stop_at: str | None = None
) -> Iterator[tuple[str, list[LoggedEvent]]]:
    """Each agreement of a log with its events, once its head line is read; stops at the
    first event of ``stop_at``, if given."""
    events: list[LoggedEvent] = []
    for item in items:
        if isinstance(item, Head):
            yield item.agreement, events
            events = []
        elif item.version == 1 and item.agreement == stop_at:
            return
        else:
            events.append(item)


def _keys(keys: frozenset[str] | set[str]) -> str:
    return ", ".join(sorted(shown(key, 30) for key in keys)) or "none"


# -- files -----------------------------------------------------------------------------------


@contextlib.contextmanager
def opened_binary(name: str) -> Iterator[IO[bytes]]:
    """The file ``name`` to read as bytes (``-``: standard input, kept in a temporary
    file, since an import reads its file more than once)."""
    if name == "-":
        with tempfile.TemporaryFile() as spool:
            shutil.copyfileobj(sys.stdin.buffer, spool)
            spool.seek(0)
            yield spool
        return
    try:
        handle = Path(name).open("rb")  # noqa: SIM115 - closed by the with below
    except OSError as error:
        raise FileError(name, f"cannot read the file ({error.strerror})") from None
    with handle:
        yield handle


def write_whole(name: str, write: Callable[[IO[bytes]], T]) -> T:
    """Run ``write`` on a new file beside ``name`` and give it that name once ``write``
    returns: a failed export leaves no partial file, and never half replaces one."""
    path = Path(name)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        with partial.open("wb") as out:
            result = write(out)
        partial.replace(path)
    except OSError as error:
        raise FileError(name, f"cannot write the file ({error.strerror})") from None
    finally:
        partial.unlink(missing_ok=True)
    return result
