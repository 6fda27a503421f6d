"""``hotcore serve`` driven by gql: mutations and queries over HTTP, subscriptions over
AppSync's real-time WebSocket protocol, every request IAM-signed (SigV4)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from gql.transport.exceptions import TransportQueryError, TransportServerError

from hotcore.domain.names import field_name, subscription_name
from hotcore_dev.issuer import LocalIssuer
from hotcore_dev.serve.auth import LocalCredential
from hotcore_dev.serve.server import DEFAULT_CREDENTIAL
from infra.constructs.frontends import (
    BACK_OFFICE_FIELDS,
    BACK_OFFICE_ROLE,
    STOREFRONT_FIELDS,
    STOREFRONT_ROLE,
)
from tests.serve.client import (
    Received,
    connected,
    delivered,
    http_client,
    iam,
    mutation,
    query,
    realtime_client,
    served,
    subscribed,
    subscription,
    user_token,
    wire,
)

ACCOUNT_EVENTS = subscription_name("account")
ORDER_EVENTS = subscription_name("order")
CUSTOMER_EVENTS = subscription_name("customer")
INVENTORY_EVENTS = subscription_name("inventory")


def run(scenario: Any) -> Any:
    return asyncio.run(scenario)


def test_a_committed_event_reaches_the_subscribers_of_its_stream_only(tmp_path: Path) -> None:
    async def scenario() -> list[dict[str, Any]]:
        async with connected(tmp_path / "serve.db") as local:
            events = await local.subscribe(ACCOUNT_EVENTS, stream_id="acc-a", as_user="acc-a")
            # registering opens each customer's account (Account's event handler)
            for customer in ("acc-a", "acc-b"):
                registration = {"customer_id": customer, "email": f"{customer}@x.io", "name": "A"}
                await local.send_as(customer, mutation("registerCustomer", input=registration))
            deposit = mutation("deposit", input={"account_id": "acc-a", "amount": 2500})
            await local.send_as("acc-a", deposit)
            # acc-b's event was published between the two: FIFO delivery means the
            # second message would be it, had the filter let it through.
            received = await events.take(2)
            await events.close()
            return received

    received = [wire(r) for r in run(scenario())]
    assert [(r["stream_id"], r["version"], r["type"]) for r in received] == [
        ("acc-a", 1, "AccountOpened"),
        ("acc-a", 2, "Deposited"),
    ]
    details = [
        json.loads(r["detail"]) if isinstance(r["detail"], str) else r["detail"] for r in received
    ]
    assert [d["version"] for d in details] == [1, 2]
    assert all("actor" not in d for d in details)  # subscribers are not told who sent it


def test_a_sagas_events_arrive_in_order(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        async with connected(tmp_path / "serve.db", user="cy") as local:
            http = local.http
            # an order not placed yet is followed by back-office staff only
            orders = await local.subscribe(
                ORDER_EVENTS, stream_id="ord-1", as_user="staff", groups=("back-office",)
            )
            registration = {"customer_id": "cy", "email": "cy@example.com", "name": "Cy"}
            await http.execute(mutation("registerCustomer", input=registration))
            await http.execute(mutation("deposit", input={"account_id": "cy", "amount": 9000}))
            stock = mutation("addStock", input={"sku": "widget", "quantity": 5})
            await local.send_as("staff", stock, "back-office")
            line = {"sku": "widget", "quantity": 2, "unit_price": 1200}
            order = {"order_id": "ord-1", "customer_id": "cy", "account_id": "cy"}
            await http.execute(mutation("placeOrder", input={**order, "lines": [line]}))
            # placed, then confirmed by the saga and paid through Order's event
            # handler (reacting to the account's withdrawal): three versions
            received = [wire(event) for event in await orders.take(3)]
            await orders.close()
            state = await http.execute(query("getOrder", order_id="ord-1"))
            return received, state

    received, state = run(scenario())
    assert [r["version"] for r in received] == [1, 2, 3]
    assert received[0]["type"] == "OrderPlaced"
    assert {r["type"] for r in received[1:]} == {"PaymentRecorded", "OrderConfirmed"}
    assert wire(state)["get_order"]["version"] == 3


def test_a_client_that_reconnects_receives_what_is_published_from_then_on(
    tmp_path: Path,
) -> None:
    async def scenario() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        async with (
            served(tmp_path / "serve.db") as server,
            http_client(server, user="acc-r") as http,
        ):
            async with realtime_client(server) as realtime:
                events = await subscribed(
                    server,
                    realtime,
                    subscription(
                        ACCOUNT_EVENTS, stream_id="acc-r", id_token=user_token(server, "acc-r")
                    ),
                )
                registration = {"customer_id": "acc-r", "email": "r@x.io", "name": "R"}
                await http.execute(mutation("registerCustomer", input=registration))
                before = await events.next()
                await events.close()
            # disconnected: this one is published to nobody (AppSync keeps no backlog)
            await http.execute(mutation("deposit", input={"account_id": "acc-r", "amount": 1}))
            await delivered(server)
            async with realtime_client(server) as realtime:
                events = await subscribed(
                    server,
                    realtime,
                    subscription(
                        ACCOUNT_EVENTS, stream_id="acc-r", id_token=user_token(server, "acc-r")
                    ),
                )
                await http.execute(mutation("deposit", input={"account_id": "acc-r", "amount": 2}))
                after = await events.next()
                await events.close()
            # what the client missed, it reads: the state is at the last version
            caught_up = await http.execute(query("getAccount", account_id="acc-r"))
            return before, after, caught_up

    before, after, caught_up = run(scenario())
    assert wire(before)["version"] == 1
    assert wire(after)["version"] == 3
    assert wire(caught_up)["get_account"]["version"] == 3


def test_a_server_restarted_on_the_same_file_serves_subscriptions_again(
    tmp_path: Path,
) -> None:
    async def scenario() -> list[int]:
        versions: list[int] = []
        for amount in (10, 20):
            async with connected(tmp_path / "serve.db", user="acc-s") as local:
                http = local.http
                events = await local.subscribe(ACCOUNT_EVENTS, stream_id="acc-s")
                if amount == 10:
                    registration = {"customer_id": "acc-s", "email": "s@x.io", "name": "S"}
                    await http.execute(mutation("registerCustomer", input=registration))
                    versions.append(wire(await events.next())["version"])
                await http.execute(
                    mutation("deposit", input={"account_id": "acc-s", "amount": amount})
                )
                versions.append(wire(await events.next())["version"])
                await events.close()
        return versions

    assert run(scenario()) == [1, 2, 3]


def test_a_rejected_command_is_an_error_whose_type_is_the_rule(tmp_path: Path) -> None:
    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        async with (
            served(tmp_path / "serve.db") as server,
            http_client(server, user="acc-x") as http,
        ):
            registration = {"customer_id": "acc-x", "email": "x@x.io", "name": "X"}
            await http.execute(mutation("registerCustomer", input=registration))
            errors = []
            for command in (
                mutation("withdraw", input={"account_id": "acc-x", "amount": 5}),
                mutation("deposit", input={"account_id": "", "amount": 5}),
            ):
                with pytest.raises(TransportQueryError) as raised:
                    await http.execute(command)
                assert raised.value.errors is not None
                errors.append(raised.value.errors[0])
            return errors[0], errors[1]

    rejected, invalid = run(scenario())
    assert rejected["errorType"] == "insufficient-funds"
    assert rejected["errorInfo"]["rule"] == "insufficient-funds"
    assert rejected["path"] == [field_name("Withdraw")]
    assert invalid["errorType"] == "BadRequest"


def test_a_wrong_signature_is_refused_over_http_and_websockets(tmp_path: Path) -> None:
    forged = LocalCredential(access_key="HOTCORELOCALACCESSKEY", secret_key="not-the-secret")
    stranger = LocalCredential(access_key="AKIASTRANGER", secret_key="whatever")
    registration = {"customer_id": "cy", "email": "cy@example.com", "name": "Cy"}

    async def scenario() -> tuple[list[str], int]:
        refusals: list[str] = []
        async with served(tmp_path / "serve.db") as server:
            for credential in (forged, stranger):
                async with http_client(server, iam(server, credential)) as http:
                    with pytest.raises(TransportQueryError) as raised:
                        await http.execute(mutation("registerCustomer", input=registration))
                    assert raised.value.errors is not None
                    refusals.append(raised.value.errors[0]["errorType"])
            with pytest.raises(TransportServerError) as refused:
                async with realtime_client(server, iam(server, forged)):
                    pass
            refusals.append(str(refused.value))
            assert not server.hub.subscribers
            # nothing ran on their behalf: the customer's stream has no event
            stored = await asyncio.wrap_future(
                server.core.submit(lambda: server.core.app.state("customer", "cy").version)
            )
        return refusals, stored

    (http_forged, http_stranger, ws_forged), stored = run(scenario())
    assert http_forged == "InvalidSignatureException"
    assert http_stranger == "UnrecognizedClientException"
    assert "InvalidSignatureException" in ws_forged
    assert stored == 0


def test_only_the_back_office_follows_every_stream(tmp_path: Path) -> None:
    back_office = LocalCredential(
        access_key="AKIABACKOFFICE",
        secret_key="back-office-secret",
        user_arn="arn:aws:iam::000000000000:role/hotcore-back-office",
    )
    registration = {"customer_id": "cy", "email": "cy@example.com", "name": "Cy"}

    async def scenario() -> tuple[str, dict[str, Any]]:
        database = tmp_path / "serve.db"
        async with served(database, credentials=(DEFAULT_CREDENTIAL, back_office)) as server:
            async with realtime_client(server) as storefront:
                with pytest.raises(TransportQueryError) as refused:
                    await Received(server, storefront, subscription(CUSTOMER_EVENTS)).next()
            async with (
                realtime_client(server, iam(server, back_office)) as staff,
                http_client(server, user="cy") as http,
            ):
                token = user_token(server, "staff", "back-office")
                every = await subscribed(
                    server, staff, subscription(CUSTOMER_EVENTS, id_token=token)
                )
                await http.execute(mutation("registerCustomer", input=registration))
                first = await every.next()
                await every.close()
        # gql hands over the error message's payload: {"errors": [...]}
        assert refused.value.errors is not None
        (payload,) = refused.value.errors
        return payload["errors"][0]["errorType"], wire(first)

    refusal, first = run(scenario())
    assert refusal == "forbidden"  # the query function's read policy: no staff token
    assert (first["stream_id"], first["type"]) == ("cy", "CustomerRegistered")


def test_each_role_may_call_only_the_fields_its_policy_grants(tmp_path: Path) -> None:
    storefront = LocalCredential(
        access_key="AKIASTOREFRONT",
        secret_key="storefront-secret",
        user_arn=f"arn:aws:iam::000000000000:role/{STOREFRONT_ROLE}",
        fields=STOREFRONT_FIELDS,
    )
    back_office = LocalCredential(
        access_key="AKIABACKOFFICE",
        secret_key="back-office-secret",
        user_arn=f"arn:aws:iam::000000000000:role/{BACK_OFFICE_ROLE}",
        fields=BACK_OFFICE_FIELDS,
    )
    stock = mutation("addStock", input={"sku": "widget", "quantity": 5})

    async def scenario() -> tuple[list[Any], dict[str, Any]]:
        refusals: list[Any] = []
        async with served(tmp_path / "serve.db", credentials=(storefront, back_office)) as server:
            shop = iam(server, storefront)
            async with http_client(server, shop, user="staff", groups=("back-office",)) as http:
                with pytest.raises(TransportQueryError) as raised:
                    await http.execute(stock)
                assert raised.value.errors is not None
                refusals.append(raised.value.errors[0])
            async with realtime_client(server, shop) as realtime:
                request = subscription(INVENTORY_EVENTS, stream_id="widget")
                with pytest.raises(TransportQueryError) as refused:
                    await Received(server, realtime, request).next()
                assert refused.value.errors is not None
                refusals.append(refused.value.errors[0]["errors"][0])
            staff = iam(server, back_office)
            async with http_client(server, staff, user="staff", groups=("back-office",)) as http:
                ack = await http.execute(stock)
        return refusals, ack

    (mutation_refused, subscription_refused), ack = run(scenario())
    assert (mutation_refused["errorType"], mutation_refused["message"]) == (
        "Unauthorized",
        "Not Authorized to access addStock on type Mutation",
    )
    assert subscription_refused["errorType"] == "Unauthorized"
    assert wire(ack)["add_stock"]["version"] == 1


def test_the_reads_batch_history_and_past_versions_over_http(tmp_path: Path) -> None:
    async def scenario() -> tuple[Any, Any, Any, Any]:
        async with connected(tmp_path / "serve.db", user="dee") as local:
            http = local.http
            registration = {"customer_id": "dee", "email": "dee@example.com", "name": "Dee"}
            await http.execute(mutation("registerCustomer", input=registration))
            for amount in (100, 200, 300):
                await http.execute(
                    mutation("deposit", input={"account_id": "dee", "amount": amount})
                )
            batch = await http.execute(query("getAccounts", ids=["dee", "nobody"]))
            first = await http.execute(query("accountHistory", id="dee", limit=2))
            token = wire(first)["account_history"]["next_token"]
            rest = await http.execute(query("accountHistory", id="dee", limit=2, next_token=token))
            past = await http.execute(query("getAccount", account_id="dee", at_version=2))
            return wire(batch), wire(first), wire(rest), wire(past)

    batch, first, rest, past = run(scenario())
    found, missing = batch["get_accounts"]
    assert (found["id"], found["view"]["version"]) == ("dee", 4)
    # another customer's account (not opened yet): refused, as reading it would be
    assert (missing["id"], missing["view"]) == ("nobody", None)
    assert missing["error"]["error_type"] == "forbidden"
    pages = first["account_history"]["items"] + rest["account_history"]["items"]
    assert [(e["version"], e["type"]) for e in pages] == [
        (1, "AccountOpened"),
        (2, "Deposited"),
        (3, "Deposited"),
        (4, "Deposited"),
    ]
    assert rest["account_history"]["next_token"] is None
    assert past["get_account"]["version"] == 2
    assert past["get_account"]["state"]["balance"] == "100"


def stock(quantity: int) -> Any:
    return mutation("addStock", input={"sku": "widget", "quantity": quantity})


def test_an_end_user_follows_only_their_own_streams(tmp_path: Path) -> None:
    async def refusal(local: Any, field: str, **arguments: Any) -> str:
        request = subscription(field, **arguments)
        with pytest.raises(TransportQueryError) as refused:
            await Received(local.server, local.realtime, request).next()
        assert refused.value.errors is not None
        error_type: str = refused.value.errors[0]["errors"][0]["errorType"]
        return error_type

    async def scenario() -> tuple[list[str], dict[str, Any]]:
        async with connected(tmp_path / "serve.db", user="eve") as local:
            server = local.server
            for customer in ("eve", "fay"):
                registration = {"customer_id": customer, "email": f"{customer}@x.io", "name": "E"}
                await local.send_as(customer, mutation("registerCustomer", input=registration))
            line = {"sku": "widget", "quantity": 1, "unit_price": 100}
            order = {"order_id": "ord-f", "customer_id": "fay", "account_id": "fay"}
            await local.send_as("fay", mutation("placeOrder", input={**order, "lines": [line]}))
            refusals = [
                # another customer's account, customer record and order
                await refusal(
                    local, ACCOUNT_EVENTS, stream_id="fay", id_token=user_token(server, "eve")
                ),
                await refusal(
                    local, CUSTOMER_EVENTS, stream_id="fay", id_token=user_token(server, "eve")
                ),
                await refusal(
                    local, ORDER_EVENTS, stream_id="ord-f", id_token=user_token(server, "eve")
                ),
                # an order nobody placed yet, no token, a token from another issuer
                await refusal(
                    local, ORDER_EVENTS, stream_id="ord-e", id_token=user_token(server, "eve")
                ),
                await refusal(local, ACCOUNT_EVENTS, stream_id="eve"),
                await refusal(
                    local, ACCOUNT_EVENTS, stream_id="eve", id_token=LocalIssuer().token("eve")
                ),
            ]
            assert not server.hub.subscribers  # no refused subscription was registered
            # the owner follows their own order once placed: its events reach them
            await local.send_as("staff", stock(5), "back-office")
            await local.http.execute(
                mutation("deposit", input={"account_id": "eve", "amount": 500})
            )
            mine = {"order_id": "ord-e", "customer_id": "eve", "account_id": "eve"}
            await local.http.execute(mutation("placeOrder", input={**mine, "lines": [line]}))
            await delivered(server)  # the saga confirmed it
            own = await local.subscribe(ORDER_EVENTS, stream_id="ord-e")
            ship = mutation("shipOrder", input={"order_id": "ord-e"})
            await local.send_as("staff", ship, "back-office")
            cancelled = await own.next()
            await own.close()
            return refusals, wire(cancelled)

    refusals, cancelled = run(scenario())
    assert refusals == ["forbidden"] * 5 + ["unauthenticated"]
    assert (cancelled["stream_id"], cancelled["type"]) == ("ord-e", "OrderShipped")
