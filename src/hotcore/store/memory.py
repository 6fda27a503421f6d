"""In-memory event store: the reference semantics, for tests and benchmarks.

Events are kept encoded, exactly as the SQLite adapter keeps them, so a round trip
through this store decodes (and validates, and upcasts) like any other adapter. It
remembers every command of a stream; snapshots are kept per state version and schema.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from hotcore.contracts.common import CommandAck, Envelope, Guard
from hotcore.store.codec import StreamCodec
from hotcore.store.port import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_SNAPSHOT_EVERY,
    CommandIdReused,
    CommandRecord,
    ConcurrencyConflict,
    DuplicateCommand,
    GuardViolation,
    Latest,
    OutboxEntry,
    Snapshot,
)


@dataclass
class _Table:
    """One aggregate's events, commands and snapshots (a DynamoDB table's worth)."""

    streams: dict[str, list[bytes]] = field(default_factory=dict)
    commands: dict[tuple[str, str], CommandRecord] = field(default_factory=dict)
    # (stream, state version, state schema hash) -> (version, encoded state)
    snapshots: dict[tuple[str, int, str], tuple[int, bytes]] = field(default_factory=dict)


@dataclass
class MemoryDatabase:
    """Shared state of every aggregate's memory store: guards and the outbox span them all.

    Stores of the same aggregate name share its table, as they would share a DynamoDB
    table or the rows of a SQLite file.
    """

    lock: threading.RLock = field(default_factory=threading.RLock)
    guards: dict[tuple[str, str], str] = field(default_factory=dict)
    outbox: list[OutboxEntry] = field(default_factory=list)
    published: set[int] = field(default_factory=set)
    tables: dict[str, _Table] = field(default_factory=dict)

    def table(self, aggregate: str) -> _Table:
        with self.lock:
            return self.tables.setdefault(aggregate, _Table())

    def store[E, S](
        self, aggregate: str, event_type: Any, state_type: type[S], *, state_version: int = 1
    ) -> MemoryEventStore[E, S]:
        return MemoryEventStore(
            self, aggregate, event_type, state_type, state_version=state_version
        )

    def pending(self, limit: int = 100) -> list[OutboxEntry]:
        with self.lock:
            waiting = [e for e in self.outbox if e.position not in self.published]
            return waiting[:limit]

    def mark_published(self, positions: Sequence[int]) -> None:
        with self.lock:
            self.published.update(positions)

    def all_events(self) -> list[OutboxEntry]:
        """Every committed event of every aggregate, in commit order."""
        with self.lock:
            return list(self.outbox)


class MemoryEventStore[E, S]:
    def __init__(
        self,
        database: MemoryDatabase,
        aggregate: str,
        event_type: Any,
        state_type: type[S],
        *,
        state_version: int = 1,
    ) -> None:
        self._db = database
        self._aggregate = aggregate
        self.codec: StreamCodec[E, S] = StreamCodec(event_type, state_type, state_version)
        table = database.table(aggregate)
        self._streams = table.streams
        self._commands = table.commands
        self._snapshots = table.snapshots

    @property
    def aggregate(self) -> str:
        return self._aggregate

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
        codec = self.codec
        encoded = codec.encode_append(
            stream_id, expected_version, events, command_id, fingerprint, guards
        )
        state = None if snapshot is None else codec.encode_state(snapshot)
        with self._db.lock:
            first = self._commands.get((stream_id, command_id))
            if first is not None:
                if first.same_command(fingerprint):
                    raise DuplicateCommand(first.outcome(stream_id))
                raise CommandIdReused(first.outcome(stream_id))
            stream = self._streams.get(stream_id, [])
            if len(stream) != expected_version:
                raise ConcurrencyConflict(stream_id, expected_version, len(stream))
            for guard in guards:
                owner = self._db.guards.get((guard.scope, guard.value))
                if guard.claim and owner is not None and owner != stream_id:
                    raise GuardViolation(guard.scope, guard.value, owner)
            # Every check passed: from here on nothing can fail, so the append is atomic.
            for guard in guards:
                key = (guard.scope, guard.value)
                if guard.claim:
                    self._db.guards[key] = stream_id
                elif self._db.guards.get(key) == stream_id:
                    del self._db.guards[key]
            self._streams[stream_id] = stream + encoded
            for event, raw in zip(events, encoded, strict=True):
                self._db.outbox.append(
                    OutboxEntry(
                        position=len(self._db.outbox) + 1,
                        aggregate=self._aggregate,
                        type=event.type,
                        detail=raw,
                    )
                )
            version = expected_version + len(events)
            self._commands[(stream_id, command_id)] = CommandRecord(
                command_id=command_id, fingerprint=fingerprint, version=version, events=len(events)
            )
            if state is not None:
                snapshot_key = (stream_id, codec.state_version, codec.state_hash)
                self._snapshots[snapshot_key] = (version, state)
            return CommandAck(
                command_id=command_id, stream_id=stream_id, version=version, events=len(events)
            )

    def load(
        self,
        stream_id: str,
        from_version: int = 1,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        until: int | None = None,
    ) -> Iterator[list[Envelope[E]]]:
        with self._db.lock:
            stream = list(self._streams.get(stream_id, ()))
        if until is not None:
            stream = stream[: max(until, 0)]
        start = max(from_version, 1) - 1
        decode_page = self.codec.reader.envelopes_page
        for offset in range(start, len(stream), page_size):
            page = stream[offset : offset + page_size]
            yield decode_page(page, stream_id, _counting_from(offset + 1))

    def load_latest(
        self,
        stream_id: str,
        *,
        command_id: str | None = None,
        page_size: int = DEFAULT_SNAPSHOT_EVERY,
    ) -> Latest[E, S]:
        codec = self.codec
        with self._db.lock:
            stream = list(self._streams.get(stream_id, ()))
            kept = self._snapshots.get((stream_id, codec.state_version, codec.state_hash))
            command = None if command_id is None else self._commands.get((stream_id, command_id))
        snapshot: Snapshot[S] | None = None
        if kept is not None:
            state = codec.decode_state(kept[1])
            if state is not None:
                snapshot = Snapshot(stream_id=stream_id, version=kept[0], state=state)
        after = 0 if snapshot is None else snapshot.version
        return Latest(
            stream_id=stream_id,
            version=len(stream),
            snapshot=snapshot,
            events=codec.reader.loaded_page(stream[after:], stream_id, _counting_from(after + 1)),
            command=command,
        )


def _counting_from(first: int) -> Callable[[int], int]:
    """The stored version of the i-th event of a slice starting at version ``first``."""
    return lambda index: first + index
