"""Driving ``hotcore serve`` with gql, AppSync's Python client, and documents from the SDL.

The GraphQL documents are built from the served schema (field, argument and input names
as the SDL spells them, every field selected), so these tests follow the SDL's naming
instead of restating it. Values are given in the contracts' own (wire) names and mapped
to the SDL's names here.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.credentials import Credentials
from gql import Client, GraphQLRequest
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.appsync_auth import AppSyncIAMAuthentication
from gql.transport.appsync_websockets import AppSyncWebsocketsTransport
from graphql import (
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    build_schema,
    get_named_type,
)

from hotcore.entrypoints.identity import TOKEN_HEADER
from hotcore_dev.graphql import sdl
from hotcore_dev.serve.auth import LocalCredential
from hotcore_dev.serve.schema import APPSYNC_PRELUDE, selection_of
from hotcore_dev.serve.server import DEFAULT_CREDENTIAL, LocalAppSync, ServeConfig

SCHEMA: GraphQLSchema = build_schema(APPSYNC_PRELUDE + sdl())
#: Every wait for a message is bounded by this (seconds): a hang fails, it never blocks.
WAIT = 20.0


def camel(name: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)


def _spelled(fields: Any, wire: str) -> str:
    """The SDL's spelling of a wire (snake_case) name among ``fields``."""
    if wire in fields:
        return wire
    if camel(wire) in fields:
        return camel(wire)
    raise KeyError(f"the SDL has neither {wire!r} nor {camel(wire)!r} among {sorted(fields)}")


def _to_sdl(kind: Any, value: Any) -> Any:
    while isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    if isinstance(kind, GraphQLList):
        return [_to_sdl(kind.of_type, item) for item in value]
    if isinstance(kind, GraphQLInputObjectType):
        return {
            _spelled(kind.fields, key): _to_sdl(kind.fields[_spelled(kind.fields, key)].type, v)
            for key, v in value.items()
        }
    if isinstance(value, int) and getattr(kind, "name", None) in {"String", "ID"}:
        return str(value)  # an exact 64-bit amount carried as a string
    return value


def wire(value: Any) -> Any:
    """A result with the SDL's names turned back into wire names (camelCase -> snake)."""
    if isinstance(value, dict):
        return {re.sub(r"([A-Z])", r"_\1", k).lower(): wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [wire(v) for v in value]
    return value


def _operation(kind: str, parent: Any, field: str, arguments: dict[str, Any]) -> GraphQLRequest:
    target = parent.fields[field]
    names = {key: _spelled(target.args, key) for key in arguments}
    declared = ", ".join(f"${names[k]}: {target.args[names[k]].type}" for k in arguments)
    passed = ", ".join(f"{names[k]}: ${names[k]}" for k in arguments)
    head = f"{kind} Op({declared})" if declared else kind
    call = f"{field}({passed})" if passed else field
    document = f"{head} {{ {call} {selection_of(get_named_type(target.type))} }}"
    variables = {names[k]: _to_sdl(target.args[names[k]].type, v) for k, v in arguments.items()}
    return GraphQLRequest(document, variable_values=variables)


def mutation(field: str, **arguments: Any) -> GraphQLRequest:
    return _operation("mutation", SCHEMA.mutation_type, field, arguments)


def query(field: str, **arguments: Any) -> GraphQLRequest:
    return _operation("query", SCHEMA.query_type, field, arguments)


def subscription(field: str, **arguments: Any) -> GraphQLRequest:
    return _operation("subscription", SCHEMA.subscription_type, field, arguments)


@contextlib.asynccontextmanager
async def served(database: Path, **options: Any) -> AsyncIterator[LocalAppSync]:
    """``hotcore serve`` on a free port of 127.0.0.1, stopped when the block ends."""
    server = LocalAppSync(ServeConfig(database=database, port=0, **options))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def iam(
    server: LocalAppSync, credential: LocalCredential = DEFAULT_CREDENTIAL
) -> AppSyncIAMAuthentication:
    return AppSyncIAMAuthentication(
        host=f"127.0.0.1:{server.port}",
        region_name=server.config.region,
        credentials=Credentials(credential.access_key, credential.secret_key),
    )


def user_token(server: LocalAppSync, user: str, *groups: str) -> str:
    """An end user's ID token from the server's local issuer (a subscription's idToken)."""
    return server.core.issuer.token(user, groups=groups)


def http_client(
    server: LocalAppSync,
    auth: AppSyncIAMAuthentication | None = None,
    *,
    user: str | None = None,
    groups: tuple[str, ...] = (),
) -> Client:
    """A front end's client; with ``user``, its requests carry that user's ID token."""
    headers = {TOKEN_HEADER: server.core.issuer.token(user, groups=groups)} if user else None
    return Client(
        transport=AIOHTTPTransport(url=server.url, auth=auth or iam(server), headers=headers)
    )


def realtime_client(server: LocalAppSync, auth: AppSyncIAMAuthentication | None = None) -> Client:
    url = f"ws://127.0.0.1:{server.port}/graphql"
    return Client(
        transport=AppSyncWebsocketsTransport(url=url, auth=auth or iam(server), close_timeout=2)
    )


class Received:
    """What one subscription delivers, read with a bound on every wait.

    gql sends ``start`` when its generator is first awaited and does not surface
    ``start_ack``; ``started`` waits until the server holds the subscription, so that
    what a test sends next is published to it.
    """

    def __init__(self, server: LocalAppSync, session: Any, request: GraphQLRequest) -> None:
        self._server = server
        self._results = session.subscribe(request)
        self._pending: asyncio.Task[Any] | None = None

    async def started(self) -> Received:
        before = len(self._server.hub.subscribers)
        self._pending = asyncio.ensure_future(anext(self._results))
        async with asyncio.timeout(WAIT):
            while len(self._server.hub.subscribers) <= before:
                if self._pending.done():
                    self._pending.result()  # the start was refused: raise its error
                await asyncio.sleep(0.01)
        return self

    async def next(self) -> dict[str, Any]:
        pending, self._pending = self._pending, None
        result = await asyncio.wait_for(pending or anext(self._results), WAIT)
        (value,) = result.values()
        assert isinstance(value, dict)
        return value

    async def take(self, count: int) -> list[dict[str, Any]]:
        return [await self.next() for _ in range(count)]

    async def close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
        await self._results.aclose()


async def subscribed(server: LocalAppSync, session: Any, request: GraphQLRequest) -> Received:
    return await Received(server, session, request).started()


async def delivered(server: LocalAppSync) -> None:
    """Wait until the bus has delivered what the commands so far published.

    A mutation answers before its events reach the subscribers (as on AWS, where
    EventBridge delivers after the command returned); a test that opens a subscription
    only after an earlier publish waits here first, or that publish may reach it."""
    await asyncio.wrap_future(server.core.settle_later())


@dataclass
class Connected:
    """A server with one real-time and one HTTP gql session open on it."""

    server: LocalAppSync
    realtime: Any
    http: Any

    user: str | None = None

    async def subscribe(
        self,
        field: str,
        *,
        as_user: str | None = None,
        groups: tuple[str, ...] = (),
        **arguments: Any,
    ) -> Received:
        """Subscribe for end user ``as_user`` (default: the one ``http`` sends for)."""
        user = as_user or self.user
        if user is not None:
            arguments["id_token"] = user_token(self.server, user, *groups)
        return await subscribed(self.server, self.realtime, subscription(field, **arguments))

    async def send_as(self, user: str, request: GraphQLRequest, *groups: str) -> Any:
        """``request`` sent by this front end for another end user (their own token)."""
        async with http_client(self.server, user=user, groups=groups) as http:
            return await http.execute(request)


@contextlib.asynccontextmanager
async def connected(database: Path, user: str | None = None) -> AsyncIterator[Connected]:
    """A server and a front end's sessions; ``http`` sends for end user ``user``."""
    async with (
        served(database) as server,
        realtime_client(server) as realtime,
        http_client(server, user=user) as http,
    ):
        yield Connected(server, realtime, http, user)
