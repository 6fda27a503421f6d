"""AppSync's real-time WebSocket protocol (subprotocol ``graphql-ws``) for subscriptions.

A connection carries its authorization in the ``header`` query parameter (base64 JSON,
with ``payload`` beside it) or in a ``header-<base64url>`` subprotocol. Then:
``connection_init`` -> ``connection_ack`` (``connectionTimeoutMs``), ``ka`` every
``keepalive`` seconds, ``start`` (the subscription as a JSON string in ``payload.data``,
signed in ``payload.extensions.authorization``) -> ``start_ack`` then ``data`` for each
matching published result, or ``error``; ``stop`` -> ``complete``. A connection whose
header is not a valid signature gets ``connection_error`` and is closed.

A subscription starts as on AWS: its resolver (``subscription.js``) asks the aggregate's
query function whether the end user (the ``idToken`` argument) may follow the stream,
then sets the subscriber's filter: the aggregate the field is of and the stream given.
There is no replay: a client that reconnects receives what is published from then on
(it reads the state it missed by query).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import WSMsgType, web
from graphql import (
    ExecutionResult,
    GraphQLError,
    GraphQLResolveInfo,
    OperationDefinitionNode,
    OperationType,
    parse,
    subscribe,
    validate,
)

from hotcore_dev.serve.auth import LocalCredential, Refused, Signed
from hotcore_dev.serve.schema import (
    Caller,
    Function,
    Published,
    ResolverError,
    ServeSchema,
    error_json,
    lambda_response,
    resolver_context,
    subscription_request,
)

log = logging.getLogger("hotcore.serve")

SUBPROTOCOL = "graphql-ws"
HEADER_SUBPROTOCOL_PREFIX = "header-"
#: What connection_ack announces: the longest a client should wait between two "ka".
CONNECTION_TIMEOUT_MS = 300_000
#: How long a connection may stay without connection_init before it is closed.
INIT_TIMEOUT_SECONDS = 30.0
#: Published results waiting for one slow subscriber before it is stopped with an error.
MAX_QUEUED = 10_000
UNAUTHORIZED = "UnauthorizedException"
#: IAM roles that may subscribe without a stream id (``subscription.js``'s list, from
#: ``infra/constructs/frontends.py``; tests/serve checks the two agree).
ALL_STREAMS_ROLES = ("hotcore-back-office",)


@dataclass(eq=False)
class Subscriber:
    """One started subscription: its field, its filter (each published field named there
    equals its value, as ``subscription.js``'s ``eq`` filters), the results waiting."""

    field_name: str
    filter: dict[str, Any]
    queue: asyncio.Queue[dict[str, Any] | None] = field(default_factory=asyncio.Queue)
    overflowed: bool = False

    def matches(self, payload: Mapping[str, Any]) -> bool:
        return all(payload.get(name) == value for name, value in self.filter.items())


class Hub:
    """Every started subscription of the server; ``deliver`` runs on the event loop."""

    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()

    def deliver(self, published: Published) -> None:
        for subscriber in list(self.subscribers):
            if subscriber.field_name in published.subscriptions and subscriber.matches(
                published.payload
            ):
                if subscriber.queue.qsize() >= MAX_QUEUED:
                    subscriber.overflowed = True
                    subscriber.queue.put_nowait(None)
                    self.subscribers.discard(subscriber)
                    continue
                subscriber.queue.put_nowait(published.payload)


class _Stream:
    """The source stream of one subscription (registered as soon as it is created)."""

    def __init__(self, hub: Hub, subscriber: Subscriber) -> None:
        self.hub = hub
        self.subscriber = subscriber
        hub.subscribers.add(subscriber)

    def __aiter__(self) -> _Stream:
        return self

    async def __anext__(self) -> dict[str, Any]:
        payload = await self.subscriber.queue.get()
        if payload is None:
            raise GraphQLError(
                f"subscription stopped: more than {MAX_QUEUED} results waited for this client"
            )
        return payload

    async def aclose(self) -> None:
        self.hub.subscribers.discard(self.subscriber)


def follows_all(identity: Mapping[str, Any] | None) -> bool:
    """Whether the caller's IAM role may follow every stream of an aggregate."""
    arn = str((identity or {}).get("userArn") or "")
    return any(
        f":assumed-role/{role}/" in arn or arn.endswith(f":role/{role}")
        for role in ALL_STREAMS_ROLES
    )


def subscription_filter(ctx: Mapping[str, Any], result: Any) -> dict[str, Any]:
    """What ``subscription.js``'s response handler makes of the query function's answer:
    the subscriber's filter, or the error AppSync refuses the subscription with."""
    lambda_response(result)  # rejected, invalid and error raise as lambda_invoke.js's do
    field_name = ctx["info"]["fieldName"]
    unauthorized = ResolverError(
        "Unauthorized", f"Not Authorized to access {field_name} on type Subscription"
    )
    if not isinstance(result, dict) or result.get("outcome") != "allowed":
        raise unauthorized
    found: dict[str, Any] = {"aggregate": field_name[2 : -len("Event")].lower()}
    stream_id = ctx["arguments"].get("streamId")
    if stream_id:
        found["streamId"] = stream_id
    elif not follows_all(ctx.get("identity")):
        raise unauthorized
    return found


#: Runs a function with an event on the functions' thread.
Run = Callable[[Function, dict[str, Any]], Awaitable[Any]]


def wire_subscriptions(schema: ServeSchema, hub: Hub, run: Run) -> None:
    """Give every subscription field its source: the query function's consent, then a
    registration in ``hub`` with the filter ``subscription.js`` would set."""
    for name in schema.routes.subscriptions:
        function = schema.routes.functions[("Subscription", name)]

        async def source(
            _root: Any,
            info: GraphQLResolveInfo[Caller],
            _function: Function = function,
            **arguments: Any,
        ) -> _Stream:
            info.context.check("Subscription", info.field_name)
            ctx = resolver_context(info, arguments)
            try:
                result = await run(_function, subscription_request(ctx)["payload"])
            except Exception as exc:  # a function error: AppSync reports Lambda:Unhandled
                raise ResolverError("Lambda:Unhandled", f"{type(exc).__name__}: {exc}") from exc
            stream = _Stream(hub, Subscriber(info.field_name, subscription_filter(ctx, result)))
            info.context.opened.append(stream)
            return stream

        schema.subscription_field(name).subscribe = source


def _b64decode(text: str, *, url: bool) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded) if url else base64.b64decode(padded, validate=True)


def connection_auth(request: web.Request) -> tuple[dict[str, str], bytes]:
    """The connection's signed headers and payload, from the query or the subprotocols."""
    # From the raw query: base64's "+" must not turn into a space (form decoding would).
    query = {
        name: unquote(value)
        for name, _, value in (
            part.partition("=") for part in request.rel_url.raw_query_string.split("&")
        )
    }
    encoded = query.get("header")
    url = False
    if encoded is None:
        offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
        for protocol in offered:
            if protocol.startswith(HEADER_SUBPROTOCOL_PREFIX):
                encoded, url = protocol[len(HEADER_SUBPROTOCOL_PREFIX) :], True
                break
    if encoded is None:
        raise Refused(401, UNAUTHORIZED, "Valid authorization header not provided.")
    try:
        header = json.loads(_b64decode(encoded, url=url))
        payload = _b64decode(query.get("payload", "e30="), url=False)
    except (binascii.Error, ValueError) as exc:
        raise Refused(
            400, "MalformedHttpRequestException", f"header is not base64 JSON: {exc}"
        ) from exc
    if not isinstance(header, dict) or not all(isinstance(v, str) for v in header.values()):
        raise Refused(400, "MalformedHttpRequestException", "header must be a JSON object")
    return header, payload


class Connection:
    """One WebSocket connection of the real-time endpoint."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        schema: ServeSchema,
        check: Callable[[str, Mapping[str, str], bytes], Signed],
        identity: Callable[[LocalCredential, str | None], dict[str, Any]],
        peer: str | None,
        keepalive: float,
    ) -> None:
        self.ws = ws
        self.schema = schema
        self.check = check
        self.identity = identity
        self.peer = peer
        self.keepalive = keepalive
        self.operations: dict[str, asyncio.Task[None]] = {}
        self._send_lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            if not self.ws.closed:
                await self.ws.send_str(json.dumps(message, separators=(",", ":")))

    async def refuse(self, refusal: Refused) -> None:
        """connection_error, once the client said connection_init (or gave up waiting)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ws.receive(), INIT_TIMEOUT_SECONDS)
        await self.send(
            {
                "type": "connection_error",
                "payload": {
                    "errors": [
                        {
                            "errorType": refusal.error_type,
                            "message": refusal.message,
                            "errorCode": refusal.status,
                        }
                    ]
                },
            }
        )
        await self.ws.close()

    async def run(self) -> None:
        keepalive: asyncio.Task[None] | None = None
        try:
            async for message in self.ws:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    body = json.loads(message.data)
                    kind = body.get("type") if isinstance(body, dict) else None
                except ValueError:
                    kind, body = None, {}
                if kind == "connection_init":
                    await self.send(
                        {
                            "type": "connection_ack",
                            "payload": {"connectionTimeoutMs": CONNECTION_TIMEOUT_MS},
                        }
                    )
                    if keepalive is None:
                        keepalive = asyncio.create_task(self._keepalive())
                elif kind == "start":
                    await self._start(body)
                elif kind == "stop":
                    await self._stop(str(body.get("id")))
                else:
                    await self.send(
                        {
                            "type": "error",
                            "payload": {
                                "errors": [
                                    {
                                        "errorType": "UnsupportedOperation",
                                        "message": f"{kind} not supported through the "
                                        "realtime channel",
                                    }
                                ]
                            },
                        }
                    )
        finally:
            if keepalive is not None:
                keepalive.cancel()
            for task in self.operations.values():
                task.cancel()
            await asyncio.gather(*self.operations.values(), return_exceptions=True)

    async def _keepalive(self) -> None:
        while not self.ws.closed:
            await self.send({"type": "ka"})
            await asyncio.sleep(self.keepalive)

    async def _error(self, operation: str | None, errors: list[dict[str, Any]]) -> None:
        message: dict[str, Any] = {"type": "error", "payload": {"errors": errors}}
        if operation is not None:
            message["id"] = operation
        await self.send(message)

    async def _start(self, body: dict[str, Any]) -> None:
        operation = body.get("id")
        payload = body.get("payload")
        if not isinstance(operation, str) or not operation or not isinstance(payload, dict):
            await self._error(
                operation if isinstance(operation, str) else None,
                [{"errorType": "BadRequest", "message": "start needs an id and a payload"}],
            )
            return
        if operation in self.operations:
            await self._error(
                operation,
                [
                    {
                        "errorType": "DuplicatedOperationError",
                        "message": f"Duplicated operation with id {operation}",
                    }
                ],
            )
            return
        data = payload.get("data")
        authorization = (payload.get("extensions") or {}).get("authorization")
        if not isinstance(data, str):
            await self._error(
                operation, [{"errorType": "BadRequest", "message": "payload.data must be a string"}]
            )
            return
        try:
            if not isinstance(authorization, dict):
                raise Refused(401, UNAUTHORIZED, "Valid authorization header not provided.")
            signed = self.check("/graphql", authorization, data.encode())
        except Refused as refusal:
            await self._error(
                operation, [{"errorType": refusal.error_type, "message": refusal.message}]
            )
            return
        try:
            request = json.loads(data)
            document = parse(request["query"])
        except (ValueError, KeyError, TypeError, GraphQLError) as exc:
            await self._error(operation, [{"errorType": "BadRequest", "message": str(exc)}])
            return
        errors = validate(self.schema.schema, document)
        if errors:
            await self._error(operation, [error_json(e) for e in errors])
            return
        kinds = {
            d.operation for d in document.definitions if isinstance(d, OperationDefinitionNode)
        }
        if kinds != {OperationType.SUBSCRIPTION}:
            kind = next(iter(kinds - {OperationType.SUBSCRIPTION}), None)
            await self._error(
                operation,
                [
                    {
                        "errorType": "UnsupportedOperation",
                        "message": f"{kind.value if kind else 'unknown'} not supported "
                        "through the realtime channel",
                    }
                ],
            )
            return
        caller = Caller(
            identity=self.identity(signed.credential, self.peer), fields=signed.credential.fields
        )
        outcome = await _awaited(
            subscribe(
                self.schema.schema,
                document,
                variable_values=request.get("variables") or {},
                operation_name=request.get("operationName"),
                context_value=caller,
            )
        )
        if isinstance(outcome, ExecutionResult):
            await self._error(operation, [error_json(e) for e in outcome.errors or ()])
            return
        await self.send({"type": "start_ack", "id": operation})
        self.operations[operation] = asyncio.create_task(
            self._forward(operation, outcome, caller.opened)
        )

    async def _forward(
        self, operation: str, results: AsyncIterator[ExecutionResult], opened: list[_Stream]
    ) -> None:
        try:
            async for result in results:
                payload: dict[str, Any] = {"data": result.data}
                if result.errors:
                    payload["errors"] = [error_json(e) for e in result.errors]
                await self.send({"type": "data", "id": operation, "payload": payload})
        finally:
            for stream in opened:
                await stream.aclose()

    async def _stop(self, operation: str) -> None:
        task = self.operations.pop(operation, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self.send({"type": "complete", "id": operation})


async def _awaited(value: Any) -> Any:
    return await value if asyncio.iscoroutine(value) or asyncio.isfuture(value) else value
