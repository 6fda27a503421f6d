"""The Lambda functions of an aggregate: built once per execution environment, then reused.

A handler module binds an aggregate to one of these and exports it as ``handler``::

    from hotcore.runtime.functions import CommandFunction
    handler = CommandFunction("account")

Construction is the init phase (and what a SnapStart snapshot captures): settings,
decoders, the store and its client; no network. Each invocation then only decodes,
loads, folds, decides and appends.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from hotcore.domain.aggregate import Aggregate
from hotcore.domain.registry import load_aggregate
from hotcore.runtime import observability, snapstart
from hotcore.runtime.appsync import (
    AppSyncEvent,
    AppSyncResolver,
    BadRequest,
    actor_of,
    invalid,
    is_appsync,
)
from hotcore.runtime.command import CommandService
from hotcore.runtime.config import ConfigError, Settings
from hotcore.runtime.direct import DirectHandler, outcome_to_json
from hotcore.runtime.ids import new_command_id
from hotcore.runtime.query import QueryService
from hotcore.runtime.reactor import EventReactor
from hotcore.store.port import EventStore


def open_store(
    aggregate: Aggregate[Any, Any, Any, Any], settings: Settings
) -> EventStore[Any, Any]:
    """The aggregate's store: its DynamoDB table, or a SQLite file for local runs."""
    if settings.table is not None:
        from hotcore.store.dynamodb import DynamoEventStore

        return DynamoEventStore.from_settings(aggregate, settings)
    from hotcore.store.sqlite import SqliteDatabase

    assert settings.sqlite_path is not None  # Settings guarantees one of the two
    return SqliteDatabase(settings.sqlite_path).store(
        aggregate.name, aggregate.event_type, aggregate.state_type
    )


class _Function:
    kind = "function"

    def __init__(self, aggregate: str, settings: Settings | None = None) -> None:
        self.aggregate = load_aggregate(aggregate)
        self.settings = settings or Settings.from_env(aggregate)
        self.store = open_store(self.aggregate, self.settings)
        self.cold = True
        snapstart.register(before_snapshot=self.warm, after_restore=self.restored)

    def warm(self) -> None:
        """Before a SnapStart snapshot: nothing to open; connections must not be captured."""

    def restored(self) -> None:
        """After a restore: drop connections and cached credentials, count a cold start."""
        reset = getattr(self.store, "reset", None)
        if callable(reset):
            reset()
        self.cold = True

    def _invoked(self) -> None:
        if self.cold:
            self.cold = False
            observability.metric("ColdStart", aggregate=self.aggregate.name, function=self.kind)


class CommandFunction(_Function):
    """AppSync mutations and direct invocations (Step Functions tasks) of one aggregate."""

    kind = "command"

    def __init__(self, aggregate: str, settings: Settings | None = None) -> None:
        super().__init__(aggregate, settings)
        self.commands: CommandService[Any, Any, Any] = CommandService(
            self.aggregate, self.store, snapshot_every=self.settings.snapshot_every
        )
        self.direct = DirectHandler(self.commands)
        self.resolver = AppSyncResolver(self.aggregate)

    def __call__(self, event: Any, context: Any = None) -> Any:
        self._invoked()
        if is_appsync(event):
            if isinstance(event, list):  # BatchInvoke: one response per event, in order
                return [self._mutation(item) for item in event]
            return self._mutation(event)
        if isinstance(event, dict) and "command" in event:
            result = self.direct(event)
            self._record(result)
            return result
        raise BadRequest(f"{self.aggregate.name} command function: unrecognized event shape")

    def _mutation(self, raw: Any) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            event: AppSyncEvent = self.resolver.decode(raw)
            command, command_id = self.resolver.command(event)
        except BadRequest as exc:
            observability.log("WARN", "bad request", aggregate=self.aggregate.name, error=str(exc))
            return invalid(str(exc))
        command_id = command_id or new_command_id()
        outcome = self.commands.handle(
            command, command_id=command_id, actor=actor_of(event.identity)
        )
        result = outcome_to_json(outcome)
        self._record(result, command=type(command).__name__, started=started)
        return result

    def _record(self, result: dict[str, Any], command: str = "", started: float = 0.0) -> None:
        observability.log(
            "INFO",
            "command handled",
            aggregate=self.aggregate.name,
            command=command,
            outcome=result["outcome"],
            command_id=result.get("command_id"),
            rule=result.get("rule"),
            ms=round((time.perf_counter() - started) * 1000, 3) if started else None,
        )
        observability.metric("Commands", aggregate=self.aggregate.name, outcome=result["outcome"])


class QueryFunction(_Function):
    """AppSync queries of one aggregate: load + fold, read only."""

    kind = "query"

    def __init__(self, aggregate: str, settings: Settings | None = None) -> None:
        super().__init__(aggregate, settings)
        self.queries: QueryService[Any, Any] = QueryService(self.aggregate, self.store)
        self.resolver = AppSyncResolver(self.aggregate)

    def __call__(self, event: Any, context: Any = None) -> Any:
        self._invoked()
        if isinstance(event, list) and is_appsync(event):
            return [self._query(item) for item in event]
        return self._query(event)

    def _query(self, raw: Any) -> dict[str, Any]:
        try:
            query = self.resolver.query(self.resolver.decode(raw))
        except BadRequest as exc:
            return invalid(str(exc))
        loaded = self.queries.get(query)
        return {
            "stream_id": loaded.stream_id,
            "version": loaded.version,
            "state": msgspec.to_builtins(loaded.state),
        }


class EventFunction(_Function):
    """Other aggregates' events from EventBridge, turned into this aggregate's commands."""

    kind = "events"

    def __init__(self, aggregate: str, settings: Settings | None = None) -> None:
        super().__init__(aggregate, settings)
        commands: CommandService[Any, Any, Any] = CommandService(
            self.aggregate, self.store, snapshot_every=self.settings.snapshot_every
        )
        self.reactor = EventReactor(commands)

    def __call__(self, event: Any, context: Any = None) -> dict[str, Any]:
        self._invoked()
        if not isinstance(event, dict) or "detail" not in event or "source" not in event:
            raise BadRequest(f"{self.aggregate.name} event function: not an EventBridge event")
        outcomes = self.reactor.handle(event)
        results = [outcome_to_json(o) for o in outcomes]
        for result in results:
            observability.log(
                "INFO",
                "reaction",
                aggregate=self.aggregate.name,
                source=event["source"],
                detail_type=event.get("detail-type"),
                outcome=result["outcome"],
                command_id=result.get("command_id"),
                rule=result.get("rule"),
            )
        return {"reactions": results}


class PublisherFunction:
    """DynamoDB Streams of one aggregate's event table -> EventBridge (the outbox on AWS)."""

    def __init__(self, aggregate: str | None = None, env: dict[str, str] | None = None) -> None:
        import os

        from hotcore.aws.eventbridge import EventBridge
        from hotcore.runtime.publisher import StreamsPublisher

        environ = dict(os.environ) if env is None else env
        name = aggregate or environ.get("HOTCORE_AGGREGATE", "")
        if not name:
            raise ConfigError("HOTCORE_AGGREGATE is not set: which table's stream is this?")
        self.aggregate = load_aggregate(name)
        bus = environ.get("HOTCORE_BUS_NAME", "hotcore")
        self.client = EventBridge(region=environ.get("AWS_REGION"))
        self.publisher = StreamsPublisher(self.aggregate, self.client, bus)
        snapstart.register(after_restore=self.client.client.reset)

    def __call__(self, event: Any, context: Any = None) -> dict[str, Any]:
        result = self.publisher(event)
        failures = len(result["batchItemFailures"])
        observability.metric(
            "PublishFailures", failures, aggregate=self.aggregate.name, function="publisher"
        )
        return result
