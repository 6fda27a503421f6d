"""Every aggregate wired together in one process, as the deployment wires them on AWS.

Stores share one database (SQLite by default), the local bus carries every delivery rule
the aggregates declare, event handlers and sagas are its targets, and what the
subscription rules deliver is kept as the GraphQL subscribers would have received it.
``settle`` turns the crank: outbox -> bus -> targets -> outbox ... until nothing moves.

On SQLite, delivery survives a crash at any point: the relay moves events from the
outbox to the bus's delivery queue in one transaction of the same file, a delivery
leaves the queue only after its target ran, and sagas journal their steps there too
(``hotcore_dev.bus.queue``, ``hotcore_dev.saga.journal``). A new ``LocalApp`` on the
file finishes what a killed one left at its first ``settle``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from hotcore.contracts.common import CommandAck, Rejected
from hotcore.domain.aggregate import Aggregate, DeliveryRule
from hotcore.domain.registry import aggregates as all_aggregates
from hotcore.entrypoints.direct import DirectHandler
from hotcore.service.command import CommandService
from hotcore.service.ids import new_command_id
from hotcore.service.publisher import relay_outbox
from hotcore.service.query import QueryService
from hotcore.service.reactions import EventReactor
from hotcore.service.stream import Loaded
from hotcore.store.memory import MemoryDatabase
from hotcore.store.port import DEFAULT_SNAPSHOT_EVERY, EventStore
from hotcore.store.sqlite import SqliteDatabase
from hotcore_dev.bus.local import LocalBus, Target
from hotcore_dev.bus.queue import DeliveryQueue, transaction
from hotcore_dev.saga.journal import SagaJournal

LocalDatabase = SqliteDatabase | MemoryDatabase
SagaStarter = Callable[[dict[str, Any]], object]
#: A subscription rule's target: the rule's aggregate and the bus event (``hotcore serve``
#: calls the ``publish`` mutation with them, as EventBridge's AppSync target does).
Publisher = Callable[[str, dict[str, Any]], object]


class LocalApp:
    def __init__(
        self,
        database: LocalDatabase,
        *,
        aggregates: dict[str, Aggregate[Any, Any, Any, Any]] | None = None,
        snapshot_every: int = DEFAULT_SNAPSHOT_EVERY,
        publish: Publisher | None = None,
    ) -> None:
        self.database = database
        self.publish = publish
        self.aggregates = aggregates if aggregates is not None else all_aggregates()
        # On SQLite the queue and the journal share the store's file and connections.
        connect: Callable[[], sqlite3.Connection] | None = (
            database.connection if isinstance(database, SqliteDatabase) else None
        )
        self.bus = LocalBus(queue=DeliveryQueue("hotcore", connect))
        self.journal = SagaJournal(connect)
        self.commands: dict[str, CommandService[Any, Any, Any]] = {}
        self.queries: dict[str, QueryService[Any, Any]] = {}
        self.reactors: dict[str, EventReactor[Any]] = {}
        self.direct: dict[str, DirectHandler[Any]] = {}
        for name, aggregate in self.aggregates.items():
            store: EventStore[Any, Any] = database.store(
                name,
                aggregate.event_type,
                aggregate.state_type,
                state_version=aggregate.state_version,
            )
            self.commands[name] = CommandService(aggregate, store, snapshot_every=snapshot_every)
            self.queries[name] = QueryService(aggregate, store, snapshot_every=snapshot_every)
            self.reactors[name] = EventReactor(self.commands[name])
            self.direct[name] = DirectHandler(self.commands[name])
        self.sagas: dict[str, SagaStarter] = {}
        self.subscriptions: list[dict[str, Any]] = []
        self.reactions: list[tuple[str, CommandAck | Rejected]] = []
        for aggregate in self.aggregates.values():
            for rule in aggregate.delivery_rules:
                self.bus.add_rule(rule.name, rule.pattern, self._target(rule))

    def _target(self, rule: DeliveryRule) -> Target:
        if rule.target_kind == "event-handler":
            reactor = self.reactors[rule.target]

            def react(event: dict[str, Any]) -> None:
                for outcome in reactor.handle(event):
                    self.reactions.append((rule.target, outcome))

            return react
        if rule.target_kind == "subscription":
            publish = self.publish
            if publish is None:  # kept as the subscribers would have received it
                return self.subscriptions.append
            aggregate = rule.target
            return lambda event: publish(aggregate, event)

        def start_saga(event: dict[str, Any]) -> object:
            starter = self.sagas.get(rule.target)
            if starter is None:
                raise LookupError(f"no saga named {rule.target!r} is registered")
            return starter(event)

        return start_saga

    def execute(
        self,
        aggregate: str,
        command: object,
        *,
        command_id: str | None = None,
        actor: str = "local-user",
    ) -> CommandAck | Rejected:
        """Handle one command, then let every consequence on the bus play out."""
        outcome = self.commands[aggregate].handle(
            command, command_id=command_id or new_command_id(), actor=actor
        )
        self.settle()
        return outcome

    def settle(self, max_rounds: int = 10_000) -> int:
        """Relay and deliver until nothing moves; returns how many events and deliveries moved."""
        total = 0
        for _ in range(max_rounds):
            moved = self._relay()
            moved += self.bus.drain()
            if not moved:
                return total
            total += moved
        raise RuntimeError(f"the bus was still busy after {max_rounds} rounds")

    def _relay(self) -> int:
        if not isinstance(self.database, SqliteDatabase):
            return relay_outbox(self.database, self.bus, self.bus.name)
        # Outbox rows out and delivery rows in, atomically: a crash re-publishes nothing
        # twice and loses nothing (the store's pending/mark_published run on this
        # thread's connection, inside this transaction).
        with transaction(self.database.connection()):
            return relay_outbox(self.database, self.bus, self.bus.name)

    def state(self, aggregate: str, stream_id: str) -> Loaded[Any]:
        return self.queries[aggregate].load(stream_id)
