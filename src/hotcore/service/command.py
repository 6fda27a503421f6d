"""The command flow: load -> fold -> decide -> conditional append, retried on conflicts.

The same driver serves the Lambda command handler, the event handler and local runs;
only the store behind it changes. Idempotency compares: a command id the stream
remembers answers the first outcome if the command is the same (same fingerprint) and
the rejection ``command-id-reused`` if it is not, before anything is decided or written.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import random

from hotcore.codec.events import schema_version_of
from hotcore.contracts.common import CommandAck, Envelope, Rejected
from hotcore.domain.aggregate import Aggregate
from hotcore.domain.principal import LOCAL_SYSTEM, Principal
from hotcore.service.stream import fold_latest, type_name
from hotcore.store.fingerprint import fingerprint as fingerprint_of
from hotcore.store.port import (
    DEFAULT_SNAPSHOT_EVERY,
    CommandIdReused,
    ConcurrencyConflict,
    DuplicateCommand,
    EventContractViolated,
    EventStore,
    GuardViolation,
)

#: The rule of the rejection a command id reused for a different command gets.
COMMAND_ID_REUSED = "command-id-reused"
#: The rule of the rejection a decision whose events break their contract gets.
EVENT_CONTRACT_VIOLATED = "event-contract-violated"


class RetriesExhausted(ConcurrencyConflict):
    """Every attempt lost the race for the stream; the caller may retry the command later."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _uniform(rng: random.Random | None, ceiling: float) -> float:
    """A draw in [0, ceiling): from ``rng`` when given, else from the OS (unique per clone
    after a SnapStart restore, and ``random`` stays unimported)."""
    if rng is not None:
        return rng.uniform(0, ceiling)
    return ceiling * int.from_bytes(os.urandom(4), "big") / 4294967296.0


def command_id_reused(first: CommandAck) -> Rejected:
    return Rejected(
        rule=COMMAND_ID_REUSED,
        message=f"command id {first.command_id!r} was already used on {first.stream_id!r} "
        "for a different command; send this command with a new id",
        data={
            "command_id": first.command_id,
            "stream_id": first.stream_id,
            "version": first.version,
        },
    )


def event_contract_violated(error: EventContractViolated) -> Rejected:
    return Rejected(
        rule=EVENT_CONTRACT_VIOLATED,
        message=f"the command would record a {error.event_type} its contract forbids: "
        f"{error.error}",
        data={"event_type": error.event_type, "path": error.path, "error": error.error},
    )


class CommandService[C, E, S]:
    def __init__(
        self,
        aggregate: Aggregate[C, E, S, Any],
        store: EventStore[E, S],
        *,
        snapshot_every: int = DEFAULT_SNAPSHOT_EVERY,
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
        #: Seeded generator for tests; None draws from os.urandom (no ``random`` at import).
        self.rng = rng
        self.conflicts = 0  # lost races so far, for metrics and tests

    def handle(
        self,
        command: C,
        *,
        command_id: str,
        actor: str,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        principal: Principal = LOCAL_SYSTEM,
    ) -> CommandAck | Rejected:
        """Decide ``command`` and append its events; ``principal`` is who the policies judge
        (entry points pass the one they verified; in-process callers act as the system)."""
        aggregate = self.aggregate
        stream_id = aggregate.stream_of(command)
        fingerprint = fingerprint_of(command)
        lost: ConcurrencyConflict | None = None
        for attempt in range(self.max_attempts):
            latest = self.store.load_latest(
                stream_id, command_id=command_id, page_size=self.snapshot_every
            )
            if latest.command is not None:
                # A re-sent command returns its first outcome, even though deciding it again
                # on today's state would say otherwise; another command under its id is refused.
                # Only to a sender the policies allow: another user replaying the id learns
                # nothing (a fold, on re-sends only).
                if not principal.is_system:
                    refused = aggregate.refuses(principal, fold_latest(aggregate, latest), command)
                    if refused is not None:
                        return refused
                first = latest.command.outcome(stream_id)
                if latest.command.same_command(fingerprint):
                    return first
                return command_id_reused(first)
            state = fold_latest(aggregate, latest)
            refused = aggregate.refuses(principal, state, command)
            if refused is not None:
                return refused
            decided = aggregate.decide(state, command)
            if isinstance(decided, Rejected):
                return decided
            if not decided:
                return CommandAck(
                    command_id=command_id, stream_id=stream_id, version=latest.version, events=0
                )
            now = self.clock()
            envelopes = [
                Envelope(
                    stream_id=stream_id,
                    version=latest.version + offset,
                    type=type_name(event),  # type: ignore[arg-type]
                    schema_version=schema_version_of(event),
                    data=event,
                    command_id=command_id,
                    correlation_id=correlation_id or command_id,
                    causation_id=causation_id,
                    timestamp=now,
                    actor=actor,
                )
                for offset, event in enumerate(decided, start=1)
            ]
            # A snapshot rides on the command's last event once the stream is
            # ``snapshot_every`` events past the one it loaded (or past 0 if none was valid).
            since = 0 if latest.snapshot is None else latest.snapshot.version
            due = latest.version + len(decided) - since >= self.snapshot_every
            try:
                ack = self.store.append(
                    stream_id,
                    latest.version,
                    envelopes,
                    command_id=command_id,
                    fingerprint=fingerprint,
                    guards=aggregate.guards(state, decided),
                    snapshot=aggregate.fold(state, decided) if due else None,
                )
            except DuplicateCommand as duplicate:
                return duplicate.outcome
            except CommandIdReused as reused:
                return command_id_reused(reused.first)
            except EventContractViolated as violated:
                return event_contract_violated(violated)
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
                self.sleep(_uniform(self.rng, self.backoff_seconds * 2**attempt))
                continue
            return ack
        assert lost is not None  # the loop only ends here after losing every race
        raise RetriesExhausted(stream_id, lost.expected_version, lost.actual_version)
