"""The event store port: what every adapter promises, and the typed errors it raises.

Every adapter (memory, SQLite, DynamoDB) passes the same contract test suite
(``tests/store_contract.py``): gap-free versions from 1, atomic conditional appends,
command-id idempotency, guards for set-wide rules, paginated reads and snapshots.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from msgspec import Struct

from hotcore.contracts.common import CommandAck, Envelope, Guard

# DynamoDB's limits, enforced by every adapter so that local runs fail where AWS would.
MAX_ITEM_BYTES = 400 * 1024
MAX_TRANSACTION_ACTIONS = 100
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
DEFAULT_PAGE_SIZE = 1000


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
    """The command id was appended before; ``outcome`` is what that first append returned."""

    def __init__(self, outcome: CommandAck) -> None:
        self.outcome = outcome
        super().__init__(
            f"command {outcome.command_id!r} was already applied to {outcome.stream_id!r} "
            f"(version {outcome.version})"
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


class Snapshot[S](Struct, frozen=True, kw_only=True):
    """A folded state as of ``version``: loading starts after it."""

    stream_id: str
    version: int
    state: S


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
        guards: Sequence[Guard] = (),
    ) -> CommandAck:
        """Append all ``events`` or none, iff the stream is at ``expected_version``.

        Raises ``ConcurrencyConflict``, ``DuplicateCommand`` (with the first outcome),
        ``GuardViolation``, ``LimitExceeded`` or ``InvalidAppend``; on any error nothing
        is written.
        """
        ...

    def load(
        self, stream_id: str, from_version: int = 1, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Iterator[list[Envelope[E]]]:
        """The stream's events from ``from_version`` on, in version order, one page at a time."""
        ...

    def find_command(self, command_id: str) -> CommandAck | None:
        """The outcome of an earlier append with this command id, if there was one."""
        ...

    def save_snapshot(self, snapshot: Snapshot[S]) -> None: ...

    def load_snapshot(self, stream_id: str) -> Snapshot[S] | None:
        """The newest snapshot of the stream, if any."""
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


def check_append(
    stream_id: str,
    expected_version: int,
    events: Sequence[Envelope[Any]],
    command_id: str,
    guards: Sequence[Guard],
    encoded_sizes: Sequence[int],
) -> None:
    """Refuse a malformed or oversized append before anything is written."""
    if not events:
        raise InvalidAppend("an append needs at least one event")
    if expected_version < 0:
        raise InvalidAppend(f"expected version must be >= 0, got {expected_version}")
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
    for size in encoded_sizes:
        if size > MAX_ITEM_BYTES:
            raise LimitExceeded("an event item", size, MAX_ITEM_BYTES)
    # + the command-id record, + the check that the previous event exists (DynamoDB)
    actions = len(events) + len(guards) + 1 + (1 if expected_version > 0 else 0)
    if actions > MAX_TRANSACTION_ACTIONS:
        raise LimitExceeded(
            "the append transaction", actions, MAX_TRANSACTION_ACTIONS, unit="actions"
        )
    total = sum(encoded_sizes)
    if total > MAX_TRANSACTION_BYTES:
        raise LimitExceeded("the append transaction", total, MAX_TRANSACTION_BYTES)
