"""Every aggregate wired together in one process, as the deployment wires them on AWS.

Stores share one database (SQLite by default), the local bus carries every delivery rule
the aggregates declare, event handlers and sagas are its targets, and what the
subscription rules deliver is kept as the GraphQL subscribers would have received it.
``settle`` turns the crank: outbox -> bus -> targets -> outbox ... until nothing moves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hotcore.bus.local import LocalBus, Target
from hotcore.contracts.common import CommandAck, Rejected
from hotcore.domain.aggregate import Aggregate, DeliveryRule
from hotcore.domain.registry import aggregates as all_aggregates
from hotcore.runtime.command import CommandService
from hotcore.runtime.direct import DirectHandler
from hotcore.runtime.ids import new_command_id
from hotcore.runtime.publisher import relay_outbox
from hotcore.runtime.query import QueryService
from hotcore.runtime.reactor import EventReactor
from hotcore.runtime.stream import Loaded
from hotcore.store.memory import MemoryDatabase
from hotcore.store.port import EventStore
from hotcore.store.sqlite import SqliteDatabase

LocalDatabase = SqliteDatabase | MemoryDatabase
SagaStarter = Callable[[dict[str, Any]], object]


class LocalApp:
    def __init__(
        self,
        database: LocalDatabase,
        *,
        aggregates: dict[str, Aggregate[Any, Any, Any, Any]] | None = None,
        snapshot_every: int = 100,
    ) -> None:
        self.database = database
        self.aggregates = aggregates if aggregates is not None else all_aggregates()
        self.bus = LocalBus()
        self.commands: dict[str, CommandService[Any, Any, Any]] = {}
        self.queries: dict[str, QueryService[Any, Any]] = {}
        self.reactors: dict[str, EventReactor[Any]] = {}
        self.direct: dict[str, DirectHandler[Any]] = {}
        for name, aggregate in self.aggregates.items():
            store: EventStore[Any, Any] = database.store(
                name, aggregate.event_type, aggregate.state_type
            )
            self.commands[name] = CommandService(aggregate, store, snapshot_every=snapshot_every)
            self.queries[name] = QueryService(aggregate, store)
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
            return self.subscriptions.append

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

    def settle(self, max_rounds: int = 10_000) -> None:
        for _ in range(max_rounds):
            moved = relay_outbox(self.database, self.bus, self.bus.name)
            moved += self.bus.drain()
            if not moved:
                return
        raise RuntimeError(f"the bus was still busy after {max_rounds} rounds")

    def state(self, aggregate: str, stream_id: str) -> Loaded[Any]:
        return self.queries[aggregate].load(stream_id)
