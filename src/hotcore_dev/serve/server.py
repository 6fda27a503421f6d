"""``hotcore serve``: the GraphQL API over HTTP and AppSync's real-time WebSockets, locally.

``POST /graphql`` takes a GraphQL request signed with SigV4 (service ``appsync``) by one
of the configured credentials and answers as AppSync does (``data`` and ``errors`` with
``errorType``/``errorInfo``; a refused signature is a 401/403 with ``errors`` and the
``x-amzn-ErrorType`` header). ``GET /graphql`` with a WebSocket upgrade is the real-time
endpoint (``hotcore_dev.serve.realtime``). aiohttp serves both; graphql-core executes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import tomllib
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from graphql import ExecutionResult

from hotcore.entrypoints.identity import TOKEN_HEADER
from hotcore_dev.serve.auth import LocalCredential, Refused, Signed, verify
from hotcore_dev.serve.core import LocalCore
from hotcore_dev.serve.realtime import (
    SUBPROTOCOL,
    Connection,
    Hub,
    connection_auth,
    wire_subscriptions,
)
from hotcore_dev.serve.schema import Caller, Function, Published, error_json

log = logging.getLogger("hotcore.serve")

PATH = "/graphql"
#: Where a local front end gets an end user's ID token (the stand-in for their sign-in).
TOKEN_PATH = "/local/token"
#: The credentials a fresh ``hotcore serve`` accepts (local only; override with a file).
DEFAULT_CREDENTIAL = LocalCredential(
    access_key="HOTCORELOCALACCESSKEY", secret_key="hotcore-local-secret-key"
)
DEFAULT_REGION = "us-east-1"
MAX_BODY_BYTES = 1024 * 1024
#: Left out of the resolvers' ``ctx.request.headers``: they authenticate, nothing else.
SIGNATURE_HEADERS = frozenset({"authorization", "x-amz-security-token"})


class ServeConfigError(ValueError):
    """The server's configuration (credentials file, address) cannot be used."""


@dataclass(frozen=True)
class ServeConfig:
    database: Path
    host: str = "127.0.0.1"
    port: int = 8000
    region: str = DEFAULT_REGION
    credentials: tuple[LocalCredential, ...] = (DEFAULT_CREDENTIAL,)
    #: Seconds between two "ka" messages on each real-time connection.
    keepalive: float = 60.0
    extra: dict[str, Any] = field(default_factory=dict)


def load_credentials(path: Path) -> tuple[LocalCredential, ...]:
    """``[[credentials]]`` tables: access_key, secret_key, and optionally user_arn,
    account_id and ``fields`` (a table of type -> field names: field-level IAM)."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ServeConfigError(f"{path}: {exc}") from exc
    tables = data.get("credentials")
    if not isinstance(tables, list) or not tables:
        raise ServeConfigError(f"{path}: expected at least one [[credentials]] table")
    return tuple(
        _credential(table, f"{path}: credentials #{n}") for n, table in enumerate(tables, 1)
    )


def _credential(table: object, where: str) -> LocalCredential:
    known = {"access_key", "secret_key", "user_arn", "account_id", "fields"}
    if not isinstance(table, dict) or set(table) - known:
        raise ServeConfigError(f"{where}: keys are {sorted(known)}")
    if not isinstance(table.get("access_key"), str) or not isinstance(table.get("secret_key"), str):
        raise ServeConfigError(f"{where}: access_key and secret_key are required")
    fields = table.get("fields")
    if fields is not None and not (
        isinstance(fields, dict)
        and set(fields) <= {"Query", "Mutation", "Subscription"}
        and all(
            isinstance(names, list) and all(isinstance(n, str) for n in names)
            for names in fields.values()
        )
    ):
        raise ServeConfigError(
            f"{where}: fields is a table of Query, Mutation and Subscription field names, "
            'e.g. fields = {Mutation = ["deposit"], Query = ["getAccount"]}'
        )
    return LocalCredential(
        access_key=table["access_key"],
        secret_key=table["secret_key"],
        user_arn=str(table.get("user_arn", LocalCredential.user_arn)),
        account_id=str(table.get("account_id", LocalCredential.account_id)),
        fields=None if fields is None else {k: tuple(v) for k, v in fields.items()},
    )


def identity_of(credential: LocalCredential, peer: str | None) -> dict[str, Any]:
    """The resolver event's ``identity`` of an IAM-signed request, as AppSync fills it."""
    return {
        "accountId": credential.account_id,
        "userArn": credential.user_arn,
        "username": credential.access_key,
        "sourceIp": [peer] if peer else [],
        "cognitoIdentityAuthType": None,
        "cognitoIdentityAuthProvider": None,
        "cognitoIdentityId": None,
        "cognitoIdentityPoolId": None,
    }


class LocalAppSync:
    """The aiohttp application over a ``LocalCore``; ``start``/``stop`` or ``serve_forever``."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.credentials = {c.access_key: c for c in config.credentials}
        self.core = LocalCore(config.database)
        self.hub = Hub()
        wire_subscriptions(self.core.schema, self.hub, self._run)
        self.app = web.Application(client_max_size=MAX_BODY_BYTES)
        self.app.router.add_post(PATH, self.graphql)
        self.app.router.add_get(PATH, self.realtime)
        self.app.router.add_post(TOKEN_PATH, self.token)
        self.runner: web.AppRunner | None = None
        self.port: int | None = None
        self.connections: set[web.WebSocketResponse] = set()
        self.keepalive = config.keepalive

    def _run(self, function: Function, event: dict[str, Any]) -> Awaitable[Any]:
        return asyncio.wrap_future(self.core.submit(function, event))

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}{PATH}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()

        def deliver(published: Published) -> None:
            loop.call_soon_threadsafe(self.hub.deliver, published)

        self.core.deliver = deliver
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.config.host, self.config.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.config.port
        # What a killed run left on the bus is delivered now.
        await asyncio.wrap_future(self.core.settle_later())

    async def stop(self) -> None:
        for ws in list(self.connections):
            await ws.close()
        if self.runner is not None:
            await self.runner.cleanup()
        await asyncio.to_thread(self.core.close)

    def _check(
        self, host: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> Signed:
        return verify(
            method="POST",
            host_url=f"https://{host}",
            path=path,
            query=query,
            headers=headers,
            body=body,
            credentials=self.credentials,
            region=self.config.region,
        )

    async def graphql(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            signed = self._check(
                request.host, request.path, request.query_string, request.headers, body
            )
        except Refused as refusal:
            return web.json_response(
                refusal.body(),
                status=refusal.status,
                headers={"x-amzn-ErrorType": refusal.error_type},
            )
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
                raise ValueError("the body must be a JSON object with a 'query' string")
            variables = payload.get("variables") or {}
            if not isinstance(variables, dict):
                raise ValueError("'variables' must be an object")
        except ValueError as exc:
            malformed = Refused(400, "MalformedHttpRequestException", str(exc))
            return web.json_response(
                malformed.body(), status=400, headers={"x-amzn-ErrorType": malformed.error_type}
            )
        caller = Caller(
            identity=identity_of(signed.credential, request.remote),
            may_publish=signed.credential.publisher,
            fields=signed.credential.fields,
            headers={
                name.lower(): value
                for name, value in request.headers.items()
                if name.lower() not in SIGNATURE_HEADERS
            },
        )
        operation = payload.get("operationName")
        result: ExecutionResult = await asyncio.wrap_future(
            self.core.submit(self.core.execute, payload["query"], variables, operation, caller)
        )
        self.core.settle_later()
        out: dict[str, Any] = {"data": result.data}
        if result.errors:
            out["errors"] = [error_json(e) for e in result.errors]
        return web.json_response(out)

    async def token(self, request: web.Request) -> web.Response:
        """The local stand-in for the user's sign-in (Cognito's, deployed): an ID token for
        ``{"subject": ..., "groups": [...]}`` from the issuer the functions trust here.
        Served only by ``hotcore serve`` on its local address, never deployed."""
        try:
            asked = json.loads(await request.read())
            subject, groups = asked["subject"], asked.get("groups", [])
            if not isinstance(subject, str) or not subject or not isinstance(groups, list):
                raise ValueError("expected {'subject': str, 'groups': [str]}")
            token = self.core.issuer.token(subject, groups=[str(g) for g in groups])
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response({"message": str(exc)}, status=400)
        return web.json_response({"token": token, "header": TOKEN_HEADER})

    async def realtime(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(protocols=(SUBPROTOCOL,), autoping=True)
        await ws.prepare(request)
        self.connections.add(ws)
        connection = Connection(
            ws,
            self.core.schema,
            lambda path, headers, body: self._check(
                str(headers.get("host", "")), path, "", headers, body
            ),
            identity_of,
            request.remote,
            self.keepalive,
        )
        try:
            try:
                headers, payload = connection_auth(request)
                self._check(str(headers.get("host", "")), f"{PATH}/connect", "", headers, payload)
            except Refused as refusal:
                await connection.refuse(refusal)
                return ws
            await connection.run()
        finally:
            self.connections.discard(ws)
        return ws

    async def serve_forever(self) -> None:
        try:
            await self.start()
            print(
                f"hotcore serve: GraphQL on {self.url} (real-time: ws://{self.config.host}:"
                f"{self.port}{PATH}), store {self.config.database}",
                flush=True,
            )
            await asyncio.Event().wait()
        finally:
            await self.stop()


def config_from(
    *,
    database: Path | None,
    host: str,
    port: int,
    region: str,
    credentials: Path | None,
    keepalive: float,
) -> ServeConfig:
    """The server's configuration from the command line's values, checked."""
    from hotcore.store.sqlite import default_path

    if not 0 <= port <= 65535:
        raise ServeConfigError(f"--port must be 0 to 65535, got {port}")
    if keepalive <= 0:
        raise ServeConfigError(f"--keepalive must be a positive number of seconds, got {keepalive}")
    from hotcore_dev.demo import DemoError, open_database

    path = database or default_path()
    try:  # the demo's checks and messages: a folder, an older layout, damaged bytes...
        open_database(path)
    except DemoError as exc:
        raise ServeConfigError(str(exc)) from exc
    return ServeConfig(
        database=path,
        host=host,
        port=port,
        region=region,
        credentials=load_credentials(credentials) if credentials else (DEFAULT_CREDENTIAL,),
        keepalive=keepalive,
    )


def run(config: ServeConfig) -> int:
    """Serve until interrupted (Ctrl-C or SIGTERM)."""
    import signal

    async def main() -> None:
        server = LocalAppSync(config)
        task = asyncio.ensure_future(server.serve_forever())
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    try:
        asyncio.run(main())
    except OSError as exc:  # the address is taken, or not this machine's
        raise ServeConfigError(
            f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}; "
            "choose another --port (0 picks a free one) or --host"
        ) from exc
    return 0
