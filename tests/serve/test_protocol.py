"""The wire of ``hotcore serve`` message by message: what AppSync's endpoints answer.

A plain WebSocket client (``websockets``) and HTTP client (aiohttp) here, signed with
hotcore's own SigV4 signer, so each frame and status is visible; the gql tests beside
these drive the same server as an application would.
"""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import websockets

from hotcore.aws.sigv4 import Credentials, sign
from hotcore.domain.names import subscription_name
from hotcore.entrypoints.identity import TOKEN_HEADER
from hotcore_dev.serve.auth import LocalCredential
from hotcore_dev.serve.server import DEFAULT_CREDENTIAL, LocalAppSync
from tests.serve.client import WAIT, mutation, served, subscription

ACCOUNT_EVENTS = subscription_name("account")
#: The headers AppSync's clients sign on the real-time endpoint.
REALTIME_HEADERS = {
    "accept": "application/json, text/javascript",
    "content-encoding": "amz-1.0",
    "content-type": "application/json; charset=UTF-8",
}


def signed(
    server: LocalAppSync,
    path: str,
    body: bytes,
    credential: LocalCredential = DEFAULT_CREDENTIAL,
    headers: dict[str, str] | None = None,
) -> dict[str, str]:
    host = f"127.0.0.1:{server.port}"
    base = {**(headers if headers is not None else REALTIME_HEADERS), "host": host}
    return base | sign(
        "POST",
        f"https://{host}{path}",
        base,
        body,
        Credentials(credential.access_key, credential.secret_key),
        server.config.region,
        "appsync",
        datetime.now(UTC),
    )


def start(server: LocalAppSync, operation: str, request: dict[str, Any]) -> str:
    data = json.dumps(request)
    message = {
        "id": operation,
        "type": "start",
        "payload": {
            "data": data,
            "extensions": {"authorization": signed(server, "/graphql", data.encode())},
        },
    }
    return json.dumps(message)


async def receive(ws: Any, *skip: str) -> dict[str, Any]:
    """The next message whose type is not in ``skip`` (keep-alives, usually)."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        if message["type"] not in skip:
            return dict(message)


async def post(server: LocalAppSync, body: bytes, headers: dict[str, str]) -> tuple[int, Any, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(server.url, data=body, headers=headers) as response,
    ):
        return (
            response.status,
            await response.json(content_type=None),
            response.headers.get("x-amzn-ErrorType", ""),
        )


def test_the_header_subprotocol_form_and_the_whole_message_flow(tmp_path: Path) -> None:
    async def scenario() -> list[dict[str, Any]]:
        async with served(tmp_path / "serve.db", keepalive=0.05) as server:
            header = signed(server, "/graphql/connect", b"{}")
            encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).decode().rstrip("=")
            url = f"ws://127.0.0.1:{server.port}/graphql"
            seen: list[dict[str, Any]] = []
            async with websockets.connect(
                url,
                subprotocols=[f"header-{encoded}", "graphql-ws"],  # type: ignore[list-item]
            ) as ws:
                seen.append({"subprotocol": ws.subprotocol})
                await ws.send(json.dumps({"type": "connection_init"}))
                seen.append(await receive(ws))
                seen.append(await receive(ws))  # a keep-alive, every 0.05 s here
                token = server.core.issuer.token("acc-p")
                request = subscription(ACCOUNT_EVENTS, stream_id="acc-p", id_token=token)
                await ws.send(
                    start(
                        server,
                        "s1",
                        request.payload,
                    )
                )
                seen.append(await receive(ws, "ka"))
                registration = {"customer_id": "acc-p", "email": "p@x.io", "name": "P"}
                opening = mutation("registerCustomer", input=registration)
                body = json.dumps(opening.payload).encode()
                headers = signed(
                    server, "/graphql", body, headers={"content-type": "application/json"}
                )
                # the end user's ID token rides unsigned beside the signature, as on AppSync
                headers[TOKEN_HEADER] = server.core.issuer.token("acc-p")
                status, _, _ = await post(server, body, headers)
                seen.append({"status": status})
                seen.append(await receive(ws, "ka"))
                await ws.send(json.dumps({"type": "stop", "id": "s1"}))
                seen.append(await receive(ws, "ka"))
            return seen

    protocol, ack, keepalive, started, posted, data, complete = asyncio.run(scenario())
    assert protocol == {"subprotocol": "graphql-ws"}
    assert ack == {"type": "connection_ack", "payload": {"connectionTimeoutMs": 300000}}
    assert keepalive == {"type": "ka"}
    assert started == {"type": "start_ack", "id": "s1"}
    assert posted == {"status": 200}
    assert (data["type"], data["id"]) == ("data", "s1")
    (published,) = data["payload"]["data"].values()
    assert json.loads(published["detail"])["type"] == "AccountOpened"
    assert complete == {"type": "complete", "id": "s1"}


def query_header(server: LocalAppSync) -> str:
    """The ``header`` query parameter, as AppSync clients send it: plain base64, not
    URL-encoded. An unsigned key pads it until it holds a "+" (form decoding would make
    it a space) and a "/"."""
    headers = signed(server, "/graphql/connect", b"{}")
    for pad in range(1000):
        encoded = base64.b64encode(
            json.dumps({**headers, "x-pad": "a" * pad + "???~~~"}).encode()
        ).decode()
        if "+" in encoded and "/" in encoded:
            return encoded
    raise AssertionError("no padding gave a '+' and a '/'")


def test_starts_that_appsync_refuses_get_an_error_with_their_id(tmp_path: Path) -> None:
    async def scenario() -> list[dict[str, Any]]:
        async with served(tmp_path / "serve.db") as server:
            header = query_header(server)
            url = f"ws://127.0.0.1:{server.port}/graphql?header={header}&payload=e30="
            errors = []
            async with websockets.connect(url, subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
                await ws.send(json.dumps({"type": "connection_init"}))
                await receive(ws)
                query = {"query": "query { __typename }"}
                await ws.send(start(server, "q1", query))
                errors.append(await receive(ws, "ka"))
                request = subscription(ACCOUNT_EVENTS, stream_id="a")
                forged = json.loads(start(server, "s2", request.payload))
                forged["payload"]["data"] = forged["payload"]["data"].replace('"a"', '"b"') + " "
                await ws.send(json.dumps(forged))
                errors.append(await receive(ws, "ka"))
                await ws.send(start(server, "s3", {"query": "subscription { nope }"}))
                errors.append(await receive(ws, "ka"))
            assert not server.hub.subscribers
            return errors

    query, forged, invalid = asyncio.run(scenario())
    assert (query["type"], query["id"]) == ("error", "q1")
    assert query["payload"]["errors"][0]["errorType"] == "UnsupportedOperation"
    assert forged["id"] == "s2"
    assert forged["payload"]["errors"][0]["errorType"] == "InvalidSignatureException"
    assert invalid["id"] == "s3"
    assert "nope" in invalid["payload"]["errors"][0]["message"]


def test_unsigned_and_malformed_requests_are_refused_as_appsync_refuses_them(
    tmp_path: Path,
) -> None:
    async def scenario() -> list[tuple[int, Any, str]]:
        async with served(tmp_path / "serve.db") as server:
            body = b'{"query": "query { __typename }"}'
            good = signed(server, "/graphql", body, headers={"content-type": "application/json"})
            no_date = {k: v for k, v in good.items() if k != "X-Amz-Date"}
            return [
                await post(server, body, {"content-type": "application/json"}),
                await post(server, body, no_date),
                await post(server, body + b" ", good),
            ]

    unsigned, incomplete, tampered = asyncio.run(scenario())
    assert unsigned == (
        401,
        {
            "errors": [
                {
                    "errorType": "UnauthorizedException",
                    "message": "Valid authorization header not provided.",
                }
            ]
        },
        "UnauthorizedException",
    )
    assert (incomplete[0], incomplete[2]) == (403, "IncompleteSignatureException")
    assert (tampered[0], tampered[2]) == (403, "InvalidSignatureException")


def test_only_the_publisher_may_call_publish(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, Any]:
        async with served(tmp_path / "serve.db") as server:
            attempt = mutation(
                "publish",
                aggregate="account",
                stream_id="a",
                version=1,
                type="AccountOpened",
                detail="{}",
                fromVersion=1,
                truncated=False,
                events="[]",
            )
            body = json.dumps(attempt.payload).encode()
            headers = signed(server, "/graphql", body, headers={"content-type": "application/json"})
            status, answer, _ = await post(server, body, headers)
            return status, answer

    status, answer = asyncio.run(scenario())
    assert status == 200
    assert answer["data"] is None
    assert answer["errors"][0]["errorType"] == "Unauthorized"
