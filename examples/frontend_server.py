"""A front-end server's side of the hotcore API: subscribe, send commands, print what arrives.

Run ``hotcore serve`` in one terminal, then this in another:

    .venv/bin/python examples/frontend_server.py

It subscribes to one customer's account over AppSync's real-time WebSocket protocol,
sends the commands of a purchase as IAM-signed GraphQL mutations (register the customer,
whose account Account's event handler opens; fund it; stock a product; place the order,
which the PlaceOrder saga reserves, charges and confirms), follows the order once it is
placed (an order is its customer's to follow only from then on) and reads what the saga
did before that subscription started; it prints every event as it arrives, until the
order is confirmed or cancelled. Every request carries the end user's ID token (the
``x-hotcore-id-token`` header; a subscription's ``idToken`` argument): locally ``hotcore
serve`` signs them (``POST /local/token``); against AppSync pass real ones
(``--id-tokens``). Against AppSync, pass the API's URL (``https://<id>.appsync-api.<region>.amazonaws.com/graphql``)
and your region; credentials come from botocore's usual chain (``AWS_ACCESS_KEY_ID`` ...),
else the pair ``hotcore serve`` accepts by default.

It uses gql, AppSync's Python client (``pip install 'gql[aiohttp,websockets,botocore]'``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import urllib.request
import uuid
from typing import Any
from urllib.parse import urlsplit

from botocore.credentials import Credentials
from gql import Client, gql
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.appsync_auth import AppSyncIAMAuthentication
from gql.transport.appsync_websockets import AppSyncWebsocketsTransport

#: What ``hotcore serve`` accepts unless given --credentials (docs/serve.md): local only.
LOCAL_ACCESS_KEY = "HOTCORELOCALACCESSKEY"
LOCAL_SECRET_KEY = "hotcore-local-secret-key"
#: The request header carrying the end user's ID token (hotcore.entrypoints.identity).
TOKEN_HEADER = "x-hotcore-id-token"

ON_ACCOUNT = gql("""
subscription OnAccount($stream: ID, $token: String) {
  onAccountEvent(streamId: $stream, idToken: $token) { streamId version type detail }
}""")
ON_ORDER = gql("""
subscription OnOrder($stream: ID, $token: String) {
  onOrderEvent(streamId: $stream, idToken: $token) { streamId version type detail }
}""")
REGISTER = gql("""
mutation Register($input: RegisterCustomerInput!) {
  registerCustomer(input: $input) { streamId version }
}""")
DEPOSIT = gql("""
mutation Deposit($input: DepositInput!) { deposit(input: $input) { streamId version } }
""")
ADD_STOCK = gql("""
mutation AddStock($input: AddStockInput!) { addStock(input: $input) { streamId version } }
""")
PLACE_ORDER = gql("""
mutation PlaceOrder($input: PlaceOrderInput!) {
  placeOrder(input: $input) { streamId version }
}""")
GET_ORDER = gql("""
query GetOrder($id: ID!) { getOrder(orderId: $id) { version state { status } } }
""")
#: Where an order's story ends: its events, and its status as a read shows it.
FINAL = {"OrderConfirmed", "OrderCancelled"}
FINAL_STATUS = {"CONFIRMED", "CANCELLED"}


def auth(url: str, region: str) -> AppSyncIAMAuthentication:
    credentials = Credentials(
        os.environ.get("AWS_ACCESS_KEY_ID", LOCAL_ACCESS_KEY),
        os.environ.get("AWS_SECRET_ACCESS_KEY", LOCAL_SECRET_KEY),
        os.environ.get("AWS_SESSION_TOKEN"),
    )
    return AppSyncIAMAuthentication(
        host=urlsplit(url).netloc, region_name=region, credentials=credentials
    )


def realtime_url(url: str) -> str:
    """AppSync's real-time endpoint of an API URL (``hotcore serve``: the same path)."""
    if url.startswith("http://"):
        return "ws://" + url.removeprefix("http://")
    return url.replace("https://", "wss://").replace("appsync-api", "appsync-realtime-api")


def show(event: dict[str, Any]) -> str:
    detail = event["detail"]
    data = (json.loads(detail) if isinstance(detail, str) else detail).get("data", {})
    fields = ", ".join(f"{k}={v}" for k, v in data.items() if k != "type")
    return f"{event['streamId']} v{event['version']} {event['type']}({fields})"


async def follow(session: Any, document: Any, stream: str, token: str, done: asyncio.Event) -> None:
    variables = {"stream": stream, "token": token}
    async for result in session.subscribe(document, variable_values=variables):
        (event,) = result.values()
        print(f"  <- {show(event)}", flush=True)
        if event["type"] in FINAL:
            done.set()
            return


def local_token(url: str, subject: str, groups: list[str]) -> str:
    """An ID token from ``hotcore serve``'s stand-in for the user's sign-in (local only)."""
    base = url.rsplit("/graphql", 1)[0]
    request = urllib.request.Request(
        f"{base}/local/token",
        data=json.dumps({"subject": subject, "groups": groups}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        token: str = json.load(answer)["token"]
    return token


async def main(
    url: str, region: str, run: str, timeout: float, tokens: tuple[str, str] | None
) -> int:
    customer, order, sku = f"cust-{run}", f"ord-{run}", f"widget-{run}"
    signer = auth(url, region)
    # Each request names the end user it is for with their ID token (Cognito's, deployed):
    # the customer for their own commands, a back-office user to stock the product.
    user, staff = tokens or (
        local_token(url, customer, []),
        local_token(url, f"staff-{run}", ["back-office"]),
    )
    realtime = Client(transport=AppSyncWebsocketsTransport(url=realtime_url(url), auth=signer))
    http = Client(transport=AIOHTTPTransport(url=url, auth=signer, headers={TOKEN_HEADER: user}))
    back_office = Client(
        transport=AIOHTTPTransport(url=url, auth=signer, headers={TOKEN_HEADER: staff})
    )
    async with realtime as subscriptions, http as api, back_office as stock:
        done = asyncio.Event()
        # the account is the customer's before it is opened: its id is the customer's
        followers = [
            asyncio.create_task(follow(subscriptions, ON_ACCOUNT, customer, user, asyncio.Event())),
        ]
        await asyncio.sleep(0.5)  # let the start message reach the server first
        commands = [
            (
                "register",
                REGISTER,
                {"customerId": customer, "email": f"{customer}@example.com", "name": "Ann"},
            ),
            ("deposit 50.00", DEPOSIT, {"accountId": customer, "amount": "5000"}),
            ("add 3 in stock", ADD_STOCK, {"sku": sku, "quantity": 3}),
            (
                "place an order",
                PLACE_ORDER,
                {
                    "orderId": order,
                    "customerId": customer,
                    "accountId": customer,
                    "lines": [{"sku": sku, "quantity": 2, "unitPrice": "1200"}],
                },
            ),
        ]
        for what, document, values in commands:
            sender = stock if document is ADD_STOCK else api
            ack = await sender.execute(document, variable_values={"input": values})
            (result,) = ack.values()
            print(f"-> {what}: {result['streamId']} now at v{result['version']}", flush=True)
        # The order is the customer's to follow now that it is placed; what the saga did
        # before the subscription started was published to nobody: read it.
        followers.append(asyncio.create_task(follow(subscriptions, ON_ORDER, order, user, done)))
        await asyncio.sleep(0.5)
        read = (await api.execute(GET_ORDER, variable_values={"id": order}))["getOrder"]
        print(f"  == {order} v{read['version']} {read['state']['status']} (read)", flush=True)
        if read["state"]["status"] in FINAL_STATUS:
            done.set()
        try:
            await asyncio.wait_for(done.wait(), timeout)
        except TimeoutError:
            print(f"no final order event within {timeout} s", file=sys.stderr)
            return 1
        finally:
            for task in followers:
                task.cancel()
            await asyncio.gather(*followers, return_exceptions=True)
        state = await api.execute(GET_ORDER, variable_values={"id": order})
        print(
            f"order {order}: {state['getOrder']['state']['status']}, "
            f"v{state['getOrder']['version']}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    parser.add_argument("--run", default=uuid.uuid4().hex[:8], help="suffix of every id")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait")
    parser.add_argument(
        "--id-tokens",
        nargs=2,
        metavar=("CUSTOMER", "STAFF"),
        help="ID tokens of the customer and of a back-office user (against AppSync); "
        "hotcore serve signs its own when omitted",
    )
    args = parser.parse_args()
    tokens = (args.id_tokens[0], args.id_tokens[1]) if args.id_tokens else None
    sys.exit(asyncio.run(main(args.url, args.region, args.run, args.timeout, tokens)))
