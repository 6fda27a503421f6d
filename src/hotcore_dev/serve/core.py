"""What ``hotcore serve`` runs behind its endpoints: the functions, the bus, the sagas.

One SQLite file holds every aggregate's events (the embedded default). Each aggregate's
command and query functions are the Lambda functions themselves
(``hotcore.entrypoints.command``/``query``), built from the same settings a Lambda
would read, here ``HOTCORE_DB``. ``LocalApp`` relays their outbox to the local bus,
whose delivery rules run the event handlers, start the PlaceOrder saga (its task states
invoke the command functions, as Step Functions does) and call the ``publish`` mutation
for the subscribers, as the EventBridge AppSync target does on AWS.

Everything that touches the store runs on one worker thread, in order: GraphQL
operations received over HTTP, and the bus's turns after each mutation. Subscribers
live on the server's event loop; ``deliver`` hands them each published result.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from graphql import ExecutionResult, GraphQLError, execute, parse, validate

from hotcore.domain.names import field_name, subscription_name
from hotcore.domain.registry import aggregates as all_aggregates
from hotcore.entrypoints.command import CommandFunction
from hotcore.entrypoints.query import QueryFunction
from hotcore.entrypoints.settings import Settings
from hotcore.service.publisher import SUBSCRIBERS
from hotcore.store.sqlite import SqliteDatabase
from hotcore_dev.graphql import sdl
from hotcore_dev.issuer import LocalIssuer
from hotcore_dev.local import LocalApp
from hotcore_dev.saga.place_order import NAME as PLACE_ORDER
from hotcore_dev.saga.place_order import LocalPlaceOrderSaga
from hotcore_dev.serve.schema import (
    PUBLISH_FIELD,
    Caller,
    Published,
    Routes,
    ServeSchema,
    mutation_document,
)

log = logging.getLogger("hotcore.serve")
_SNAKE = re.compile(r"([A-Z])")

#: The identity the ``publish`` mutation runs as (EventBridge's role on AWS).
PUBLISHER = {
    "accountId": "000000000000",
    "userArn": "arn:aws:sts::000000000000:assumed-role/hotcore-publish/events",
    "username": "events",
    "sourceIp": [],
}


class PublishFailed(RuntimeError):
    """The ``publish`` mutation answered errors: the bus keeps the delivery and retries."""


def publish_arguments(
    aggregate: str, event: dict[str, Any], arguments: Iterable[str]
) -> dict[str, Any]:
    """The ``publish`` mutation's variables from a bus event, as the delivery rule's target
    input (``infra.constructs.delivery.publish_variables``) takes them: ``aggregate`` is the
    rule's, ``type`` the event's detail-type, ``detail`` the envelope, and every other
    argument the envelope's field of that name (``streamId`` reads ``stream_id``), or the
    field of the command's events it carries (``fromVersion``, ``events``: the
    ``subscribers`` of ``hotcore.service.publisher``)."""
    detail = event["detail"]
    carried = detail.get(SUBSCRIBERS) or {}
    fixed = {"aggregate": aggregate, "type": event["detail-type"], "detail": detail}
    return {
        name: fixed[name]
        if name in fixed
        else carried[name]
        if name in carried and name != "streamId"
        else detail[_SNAKE.sub(r"_\1", name).lower()]
        for name in arguments
    }


class LocalCore:
    """The functions, the local bus and the sagas over one SQLite file, on one thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hotcore-core")
        #: Called (on the worker thread) with every mutation result subscribers receive.
        self.deliver: Callable[[Published], None] = lambda published: None
        self._dead_letters_seen = 0
        #: Signs the end users' ID tokens (``POST /local/token``): a key per server run.
        self.issuer = LocalIssuer()
        self.schema = self.worker.submit(self._build).result()

    def _build(self) -> ServeSchema:
        # Built on the worker: the SQLite connections belong to the thread that opens them.
        registry = all_aggregates()
        # the functions trust this issuer's ID tokens, as deployed they trust Cognito's
        env = {"HOTCORE_DB": str(self.path), **self.issuer.env()}
        self.commands = {
            name: CommandFunction(name, Settings.from_env(name, env)) for name in registry
        }
        self.queries = {
            name: QueryFunction(name, Settings.from_env(name, env)) for name in registry
        }
        self.app = LocalApp(SqliteDatabase(self.path), publish=self._publish)
        saga = LocalPlaceOrderSaga(dict(self.commands), journal=self.app.journal)
        self.app.sagas[PLACE_ORDER] = saga
        routes = Routes()
        for name in registry:
            # public commands only: the internal ones are sent by the sagas and handlers
            public = {field_name(cls.__name__) for cls in registry[name].public_command_classes}
            for field in self.commands[name].resolver.mutations:
                if field in public:
                    routes.functions[("Mutation", field)] = self.commands[name]
            for field in self.queries[name].resolver.query_fields:  # single, batch, history
                routes.functions[("Query", field)] = self.queries[name]
            # the subscription's resolver asks the query function who may follow a stream
            routes.subscriptions[subscription_name(name)] = name
            routes.functions[("Subscription", subscription_name(name))] = self.queries[name]
        schema = ServeSchema(sdl(registry), routes)
        if schema.unserved:
            log.warning("no function serves %s: they answer NoResolver", schema.unserved)
        self._publish_document = parse(mutation_document(schema.schema, PUBLISH_FIELD))
        assert schema.schema.mutation_type is not None  # mutation_document checked it
        self._publish_arguments = tuple(schema.schema.mutation_type.fields[PUBLISH_FIELD].args)
        return schema

    # ---- on the worker thread ---------------------------------------------------------

    def execute(
        self, query: str, variables: dict[str, Any] | None, operation: str | None, caller: Caller
    ) -> ExecutionResult:
        """One GraphQL query or mutation; the bus turns afterwards (``settle_later``)."""
        try:
            document = parse(query)
        except GraphQLError as error:
            return ExecutionResult(data=None, errors=[error])
        errors = validate(self.schema.schema, document)
        if errors:
            return ExecutionResult(data=None, errors=errors)
        result = execute(
            self.schema.schema,
            document,
            variable_values=variables,
            operation_name=operation,
            context_value=caller,
        )
        assert isinstance(result, ExecutionResult)  # every resolver here is synchronous
        self._fan_out(result)
        return result

    def _fan_out(self, result: ExecutionResult) -> None:
        for field, value in (result.data or {}).items():
            subscriptions = self.schema.fan_out.get(field)
            if subscriptions and isinstance(value, dict):
                self.deliver(Published(field, subscriptions, value))

    def _publish(self, aggregate: str, event: dict[str, Any]) -> None:
        result = execute(
            self.schema.schema,
            self._publish_document,
            variable_values=publish_arguments(aggregate, event, self._publish_arguments),
            context_value=Caller(identity=PUBLISHER, may_publish=True),
        )
        assert isinstance(result, ExecutionResult)
        if result.errors:
            raise PublishFailed("; ".join(error.message for error in result.errors))
        self._fan_out(result)

    def settle(self) -> int:
        """Turn the bus until nothing moves; say so for each delivery that gave up."""
        moved = self.app.settle()
        letters = self.app.bus.dead_letters
        for letter in letters[self._dead_letters_seen :]:
            log.warning("dead letter on rule %s: %s", letter.rule, letter.error)
        self._dead_letters_seen = len(letters)
        return moved

    # ---- from any thread --------------------------------------------------------------

    def submit[T](self, call: Callable[..., T], *args: Any) -> Future[T]:
        return self.worker.submit(call, *args)

    def settle_later(self) -> Future[int]:
        return self.worker.submit(self.settle)

    def close(self) -> None:
        self.worker.shutdown(wait=True)
