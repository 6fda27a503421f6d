"""In-memory event store: the reference semantics, for tests and benchmarks.

Events are kept encoded, exactly as the SQLite adapter keeps them, so a round trip
through this store decodes (and validates) like any other adapter.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from hotcore.contracts.common import CommandAck, Envelope, Guard
from hotcore.store.codec import JsonCodec
from hotcore.store.port import (
    DEFAULT_PAGE_SIZE,
    ConcurrencyConflict,
    DuplicateCommand,
    GuardViolation,
    OutboxEntry,
    Snapshot,
)


@dataclass
class MemoryDatabase:
    """Shared state of every aggregate's memory store: guards and the outbox span them all."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    guards: dict[tuple[str, str], str] = field(default_factory=dict)
    outbox: list[OutboxEntry] = field(default_factory=list)
    published: set[int] = field(default_factory=set)

    def store[E, S](
        self, aggregate: str, event_type: Any, state_type: type[S]
    ) -> MemoryEventStore[E, S]:
        return MemoryEventStore(self, aggregate, event_type, state_type)

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
        self, database: MemoryDatabase, aggregate: str, event_type: Any, state_type: type[S]
    ) -> None:
        self._db = database
        self._aggregate = aggregate
        self._codec: JsonCodec[E, S] = JsonCodec(event_type, state_type)
        self._streams: dict[str, list[bytes]] = {}
        self._commands: dict[str, CommandAck] = {}
        self._snapshots: dict[str, bytes] = {}

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
        guards: Sequence[Guard] = (),
    ) -> CommandAck:
        encoded = self._codec.encode_append(stream_id, expected_version, events, command_id, guards)
        with self._db.lock:
            first = self._commands.get(command_id)
            if first is not None:
                raise DuplicateCommand(first)
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
            ack = CommandAck(
                command_id=command_id,
                stream_id=stream_id,
                version=expected_version + len(events),
                events=len(events),
            )
            self._commands[command_id] = ack
            return ack

    def load(
        self, stream_id: str, from_version: int = 1, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Iterator[list[Envelope[E]]]:
        with self._db.lock:
            stream = list(self._streams.get(stream_id, ()))
        start = max(from_version, 1) - 1
        decode = self._codec.decode_envelope
        for offset in range(start, len(stream), page_size):
            yield [decode(raw) for raw in stream[offset : offset + page_size]]

    def find_command(self, command_id: str) -> CommandAck | None:
        with self._db.lock:
            return self._commands.get(command_id)

    def save_snapshot(self, snapshot: Snapshot[S]) -> None:
        raw = self._codec.encode(snapshot)
        with self._db.lock:
            newest = self.load_snapshot(snapshot.stream_id)
            if newest is None or newest.version < snapshot.version:
                self._snapshots[snapshot.stream_id] = raw

    def load_snapshot(self, stream_id: str) -> Snapshot[S] | None:
        with self._db.lock:
            raw = self._snapshots.get(stream_id)
        if raw is None:
            return None
        return self._codec.decode_snapshot(raw)
