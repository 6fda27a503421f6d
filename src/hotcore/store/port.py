"""The event store port: what every adapter promises, and the typed errors it raises.

Every adapter (memory, SQLite, DynamoDB) passes the same contract test suite
(``tests/support/store_contract.py``):

- streams are gap-free from version 1; an append is atomic for all events of a command
  and conditional on the expected version (a lost race is ``ConcurrencyConflict``);
- command ids are scoped to the stream they address. An append whose command id was
  already applied to the stream appends nothing and raises ``DuplicateCommand`` (the
  first outcome) if its fingerprint is the same, ``CommandIdReused`` if not; the same id
  on another stream is another command. Reach: SQLite and memory remember every command
  of a stream, DynamoDB at least the stream's last ``RECENT_COMMANDS`` (docs/store.md);
- guards make set-wide rules hold (``GuardViolation``);
- every event is checked against its contract, and DynamoDB's limits are checked, before
  anything is written (``EventContractViolated``, ``LimitExceeded``, ``InvalidAppend``);
- ``load`` reads a stream in ascending pages, from a version and up to one (the event
  history and the state at a past version); ``load_latest`` returns the newest valid
  snapshot (same state version and state schema hash), the events after it and, when
  asked, what the stream remembers of a command id; old event versions come upcast.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from msgspec import Struct

from hotcore.codec.events import LoadedEvent, schema_version_of
from hotcore.contracts.common import CommandAck, Envelope, Guard

# DynamoDB's limits, enforced by every adapter so that local runs fail where AWS would.
MAX_ITEM_BYTES = 400 * 1024
MAX_TRANSACTION_ACTIONS = 100
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
DEFAULT_PAGE_SIZE = 1000
#: How many of a stream's latest commands DynamoDB remembers at least (for idempotency).
RECENT_COMMANDS = 64
#: Events between snapshots, and the newest-first page of the latest-state load. Measured
#: on Account (~470-byte event items, a ~2.4 KB snapshot item): one Query of 2 RRU per load
#: and 1 + 2/12 WRU per command, the cheapest of 8, 12 and 16 (docs/store.md).
DEFAULT_SNAPSHOT_EVERY = 12

_FINGERPRINT = re.compile(r"^[0-9a-f]{32}$")


class StoreError(Exception):
    """Base of every error the event store raises."""


class ConcurrencyConflict(StoreError):
    """The stream moved since it was loaded: reload, decide again, retry."""

    def __init__(self, stream_id: str, expected_version: int, actual_version: int | None) -> None:
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        actual = "unknown" if actual_version is None else str(actual_version)
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, expected {expected_version}"
        )


class DuplicateCommand(StoreError):
    """The command was applied to this stream before; ``outcome`` is that first outcome."""

    def __init__(self, outcome: CommandAck) -> None:
        self.outcome = outcome
        super().__init__(
            f"command {outcome.command_id!r} was already applied to {outcome.stream_id!r} "
            f"(version {outcome.version})"
        )


class CommandIdReused(StoreError):
    """The command id was applied to this stream before, with a different command.

    Nothing was written; ``first`` is the outcome of the command that holds the id.
    """

    def __init__(self, first: CommandAck) -> None:
        self.first = first
        super().__init__(
            f"command id {first.command_id!r} was already used on {first.stream_id!r} "
            f"(version {first.version}) for a different command; send a new id"
        )


class GuardViolation(StoreError):
    """A unique value is already claimed by another stream."""

    def __init__(self, scope: str, value: str, owner: str) -> None:
        self.scope = scope
        self.value = value
        self.owner = owner
        super().__init__(f"{scope} {value!r} is already taken by {owner!r}")


class InvalidAppend(StoreError, ValueError):
    """The append request itself is malformed (versions, stream ids, command ids, empty)."""


class EventContractViolated(StoreError, ValueError):
    """An event does not decode with its own contract; nothing was written.

    The domain built a value its contract forbids (an amount above its bound, a string
    made too long by ``lower()``...): storing it would poison the stream for every reader.
    """

    def __init__(self, offset: int, event_type: str, error: str) -> None:
        self.offset = offset
        self.event_type = event_type
        self.error = error
        _, _, path = error.rpartition(" - at `")
        self.path = path.rstrip("`") if path else "$"
        super().__init__(f"event {offset} ({event_type}) breaks its contract: {error}")


class LimitExceeded(StoreError, ValueError):
    """An append would exceed a DynamoDB limit; nothing was written."""

    def __init__(self, what: str, size: int, limit: int, unit: str = "bytes") -> None:
        self.what = what
        self.size = size
        self.limit = limit
        self.unit = unit
        super().__init__(
            f"{what} is {size} {unit}, the limit is {limit} {unit}; nothing was written"
        )


class IncompatibleDatabase(StoreError):
    """A database file this version of hotcore cannot use (older, newer or not hotcore's)."""

    def __init__(self, path: str, problem: str, remedy: str) -> None:
        self.path = path
        self.problem = problem
        self.remedy = remedy
        super().__init__(f"{path}: {problem}; {remedy}")


class Snapshot[S](Struct, frozen=True, kw_only=True):
    """A folded state as of ``version``: loading starts after it."""

    stream_id: str
    version: int
    state: S


class CommandRecord(Struct, frozen=True, kw_only=True):
    """What a stream remembers of a command applied to it: enough to answer a re-send.

    ``fingerprint`` is the command's, or its first 16 hex digits when the record comes
    from a DynamoDB snapshot's compact list: compare with ``same_command``.
    """

    command_id: str
    fingerprint: str
    version: int  # the stream's version after the command
    events: int

    def same_command(self, fingerprint: str) -> bool:
        """Whether a command with ``fingerprint`` is the one this record remembers."""
        return len(self.fingerprint) >= 16 and fingerprint.startswith(self.fingerprint)

    def outcome(self, stream_id: str) -> CommandAck:
        return CommandAck(
            command_id=self.command_id,
            stream_id=stream_id,
            version=self.version,
            events=self.events,
        )


class Latest[E, S](Struct, frozen=True, kw_only=True):
    """A stream as the latest-state load returns it.

    ``snapshot`` is the newest valid snapshot (None: none, or only snapshots of another
    state version or schema), ``events`` the events after it in version order (what a
    state load reads of them: version, command id and current data), and
    ``version`` the stream's top (0: no event). ``command`` is the record of the command
    id the load was asked about, if the stream remembers it.
    """

    stream_id: str
    version: int
    snapshot: Snapshot[S] | None
    events: list[LoadedEvent[E]]
    command: CommandRecord | None = None


class EventStore[E, S](Protocol):
    """One aggregate's events: streams of envelopes, appended atomically and read in pages."""

    @property
    def aggregate(self) -> str: ...

    def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[Envelope[E]],
        *,
        command_id: str,
        fingerprint: str,
        guards: Sequence[Guard] = (),
        snapshot: S | None = None,
    ) -> CommandAck:
        """Append all ``events`` or none, iff the stream is at ``expected_version``.

        ``fingerprint`` identifies the command (``hotcore.service.ids.fingerprint``);
        ``snapshot``, if given, is the state after these events, kept with them (a store
        may skip it, e.g. when it would not fit an item). Raises ``ConcurrencyConflict``,
        ``DuplicateCommand`` (with the first outcome), ``CommandIdReused``,
        ``GuardViolation``, ``EventContractViolated``, ``LimitExceeded`` or
        ``InvalidAppend``; on any error nothing is written.
        """
        ...

    def load(
        self,
        stream_id: str,
        from_version: int = 1,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        until: int | None = None,
    ) -> Iterator[list[Envelope[E]]]:
        """The stream's events from ``from_version`` on, in version order, one page at a time.

        ``until`` (inclusive) stops the read at that version: the state at a past version
        and a page of history read no item beyond it.
        """
        ...

    def load_latest(
        self,
        stream_id: str,
        *,
        command_id: str | None = None,
        page_size: int = DEFAULT_SNAPSHOT_EVERY,
    ) -> Latest[E, S]:
        """The newest valid snapshot, the events after it, and the record of ``command_id``.

        ``page_size`` is the snapshot interval the writer uses: DynamoDB reads that many
        items newest-first in its first request, which then holds the snapshot.
        """
        ...


class OutboxEntry(Struct, frozen=True, kw_only=True):
    """A committed event waiting to be published: ``detail`` is the envelope's JSON."""

    position: int
    aggregate: str
    type: str
    detail: bytes


class Outbox(Protocol):
    """Committed events not yet on the bus, in commit order (the transactional outbox)."""

    def pending(self, limit: int = 100) -> list[OutboxEntry]: ...

    def mark_published(self, positions: Sequence[int]) -> None: ...


def event_item_size(stream_id: str, event_type: str, envelope_bytes: int, version: int) -> int:
    """The size DynamoDB counts for an event item (layout 2, without a snapshot).

    Attribute names + values: ``stream_id``, ``version``, ``type``, ``e``, ``f`` (32).
    Every adapter checks this size, so local runs refuse what DynamoDB would.
    """
    digits = len(str(version))
    return (
        len("stream_id") + len(stream_id.encode())
        + len("version") + (digits + 1) // 2 + 1
        + len("type") + len(event_type.encode())
        + len("e") + envelope_bytes
        + len("f") + 32
    )  # fmt: skip


def check_append(
    stream_id: str,
    expected_version: int,
    events: Sequence[Envelope[Any]],
    command_id: str,
    fingerprint: str,
    guards: Sequence[Guard],
    encoded: Sequence[bytes],
) -> None:
    """Refuse a malformed or oversized append before anything is written."""
    if not events:
        raise InvalidAppend("an append needs at least one event")
    if expected_version < 0:
        raise InvalidAppend(f"expected version must be >= 0, got {expected_version}")
    if not _FINGERPRINT.match(fingerprint):
        raise InvalidAppend(f"a fingerprint is 32 lower-case hex digits, got {fingerprint!r}")
    for offset, event in enumerate(events, start=1):
        if event.stream_id != stream_id:
            raise InvalidAppend(
                f"event {offset} belongs to stream {event.stream_id!r}, not {stream_id!r}"
            )
        if event.version != expected_version + offset:
            raise InvalidAppend(
                f"event {offset} has version {event.version}, expected "
                f"{expected_version + offset} (versions are gap-free)"
            )
        if event.command_id != command_id:
            raise InvalidAppend(
                f"event {offset} carries command id {event.command_id!r}, not {command_id!r}"
            )
        if event.schema_version != schema_version_of(event.data):
            raise InvalidAppend(
                f"event {offset} says schema_version {event.schema_version}, but its data "
                f"is a version {schema_version_of(event.data)} {type(event.data).__name__}"
            )
    sizes = [
        event_item_size(stream_id, event.type, len(raw), event.version)
        for event, raw in zip(events, encoded, strict=True)
    ]
    for size in sizes:
        if size > MAX_ITEM_BYTES:
            raise LimitExceeded("an event item", size, MAX_ITEM_BYTES)
    actions = len(events) + len(guards)
    if actions > MAX_TRANSACTION_ACTIONS:
        raise LimitExceeded(
            "the append transaction", actions, MAX_TRANSACTION_ACTIONS, unit="actions"
        )
    total = sum(sizes)
    if total > MAX_TRANSACTION_BYTES:
        raise LimitExceeded("the append transaction", total, MAX_TRANSACTION_BYTES)
