"""The command flow: load -> fold -> decide -> conditional append, retried on conflicts.

The same driver serves the Lambda command handler, the event handler and local runs;
only the store behind it changes.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from hotcore.contracts.common import CommandAck, Envelope, Rejected
from hotcore.domain.aggregate import Aggregate
from hotcore.runtime.stream import Loaded, load_state, type_name
from hotcore.store.port import (
    ConcurrencyConflict,
    DuplicateCommand,
    EventStore,
    GuardViolation,
    Snapshot,
)


class RetriesExhausted(ConcurrencyConflict):
    """Every attempt lost the race for the stream; the caller may retry the command later."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CommandService[C, E, S]:
    def __init__(
        self,
        aggregate: Aggregate[C, E, S, Any],
        store: EventStore[E, S],
        *,
        snapshot_every: int = 100,
        max_attempts: int = 8,
        backoff_seconds: float = 0.005,
        clock: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if snapshot_every < 1 or max_attempts < 1:
            raise ValueError("snapshot_every and max_attempts must be at least 1")
        self.aggregate = aggregate
        self.store = store
        self.snapshot_every = snapshot_every
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.conflicts = 0  # lost races so far, for metrics and tests

    def handle(
        self,
        command: C,
        *,
        command_id: str,
        actor: str,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> CommandAck | Rejected:
        stream_id = self.aggregate.stream_of(command)
        lost: ConcurrencyConflict | None = None
        for attempt in range(self.max_attempts):
            loaded = load_state(self.aggregate, self.store, stream_id)
            decided = self.aggregate.decide(loaded.state, command)
            if isinstance(decided, Rejected) or not decided:
                # A re-sent command that was applied before must return its first outcome,
                # even though deciding it again on today's state would say otherwise.
                first = self.store.find_command(command_id)
                if first is not None:
                    return first
                if isinstance(decided, Rejected):
                    return decided
                return CommandAck(
                    command_id=command_id, stream_id=stream_id, version=loaded.version, events=0
                )
            now = self.clock()
            envelopes = [
                Envelope(
                    stream_id=stream_id,
                    version=loaded.version + offset,
                    type=type_name(event),  # type: ignore[arg-type]
                    data=event,
                    command_id=command_id,
                    correlation_id=correlation_id or command_id,
                    causation_id=causation_id,
                    timestamp=now,
                    actor=actor,
                )
                for offset, event in enumerate(decided, start=1)
            ]
            try:
                ack = self.store.append(
                    stream_id,
                    loaded.version,
                    envelopes,
                    command_id=command_id,
                    guards=self.aggregate.guards(loaded.state, decided),
                )
            except DuplicateCommand as duplicate:
                return duplicate.outcome
            except GuardViolation as taken:
                return Rejected(
                    rule=f"{taken.scope}-taken",
                    message=f"{taken.scope} {taken.value!r} is already taken",
                    data={"scope": taken.scope, "value": taken.value},
                )
            except ConcurrencyConflict as conflict:
                lost = conflict
                self.conflicts += 1
                # Full jitter: spreads the losers of a race so they do not collide again.
                self.sleep(self.rng.uniform(0, self.backoff_seconds * 2**attempt))
                continue
            self._snapshot_if_due(loaded, decided, ack.version)
            return ack
        assert lost is not None  # the loop only ends here after losing every race
        raise RetriesExhausted(stream_id, lost.expected_version, lost.actual_version)

    def _snapshot_if_due(self, loaded: Loaded[S], events: list[E], version: int) -> None:
        every = self.snapshot_every
        if version // every > loaded.version // every:
            state = self.aggregate.fold(loaded.state, events)
            self.store.save_snapshot(
                Snapshot(stream_id=loaded.stream_id, version=version, state=state)
            )
