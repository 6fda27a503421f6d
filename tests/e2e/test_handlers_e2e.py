"""Every handler as a real Lambda process (awslambdaric + the local Runtime API) against moto.

Each aggregate's command function takes every one of its mutations, including rejections
and malformed input; its query function reads the result; Account's event function
reacts to a Customer event; the publisher moves the table's stream onto a moto bus.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotcore.aws.eventbridge import EventBridge
from hotcore.domain.registry import AGGREGATE_NAMES
from hotcore_dev.emulator import TEST_CREDENTIALS, TEST_REGION, MotoServer, create_table
from hotcore_dev.harness import LocalLambda
from hotcore_dev.issuer import LocalIssuer
from tests.service.test_publisher import stream_records
from tests.support.fixtures import moto_server_fixture  # noqa: F401
from tests.support.identity import issuer, signed

ROOT = Path(__file__).resolve().parents[2]
AGGREGATES = list(AGGREGATE_NAMES)
PREFIX = "e2e-handlers"


def appsync(parent: str, field: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "arguments": arguments,
        "identity": {"userArn": "arn:aws:sts::123456789012:assumed-role/frontend/server-1"},
        "info": {"fieldName": field, "parentTypeName": parent, "variables": {}},
        "request": {"headers": {"x-amzn-trace-id": "Root=1-abc"}},
        "source": None,
        "prev": None,
        "stash": {},
    }


def mutation(field: str, by: str, *groups: str, **fields: Any) -> dict[str, Any]:
    """A mutation the front-end server sends for end user ``by`` (with ``groups``)."""
    return signed(appsync("Mutation", field, {"input": fields}), by, *groups)


def read(field: str, by: str, *groups: str, **arguments: Any) -> dict[str, Any]:
    """A query the front-end server sends for end user ``by`` (with ``groups``)."""
    return signed(appsync("Query", field, arguments), by, *groups)


def system(command_type: str, **fields: Any) -> dict[str, Any]:
    """A direct invocation, as the saga's state machine or an event handler sends one."""
    return {"command": {"type": command_type, **fields}, "actor": "saga:place-order"}


STAFF = ("eve", "back-office")


@pytest.fixture(scope="module")
def tables(moto_server: MotoServer) -> dict[str, str]:
    client = moto_server.dynamodb()
    names = {agg: f"{PREFIX}-{agg}" for agg in AGGREGATES}
    existing = client.call("ListTables", {}).get("TableNames", [])
    for table in names.values():
        if table not in existing:
            create_table(client, table, hash_key="stream_id", range_key="version", stream=True)
    if f"{PREFIX}-guards" not in existing:
        create_table(client, f"{PREFIX}-guards", hash_key="guard")
    return names


@pytest.fixture(scope="module")
def functions(moto_server: MotoServer, tables: dict[str, str]) -> Iterator[dict[str, LocalLambda]]:
    started: dict[str, LocalLambda] = {}
    for aggregate in AGGREGATES:
        env = {
            "HOTCORE_AGGREGATE": aggregate,
            "HOTCORE_TABLE": tables[aggregate],
            "HOTCORE_GUARD_TABLE": f"{PREFIX}-guards",
            "HOTCORE_BUS_NAME": PREFIX,
            "AWS_ENDPOINT_URL_DYNAMODB": moto_server.endpoint,
            "AWS_ENDPOINT_URL_EVENTS": moto_server.endpoint,
            **issuer().env(),
        }
        kinds = ["command", "query"] + (["events"] if aggregate == "account" else [])
        for kind in kinds:
            started[f"{aggregate}.{kind}"] = LocalLambda(
                f"{aggregate}/{kind}.handler",
                code_dir=ROOT / "handlers",
                env=env,
                credentials=TEST_CREDENTIALS,
                region=TEST_REGION,
                function_name=f"hotcore-{aggregate}-{kind}",
            )
        if aggregate == "account":
            started["publisher"] = LocalLambda(
                "publisher.handler",
                code_dir=ROOT / "handlers",
                env=env,
                credentials=TEST_CREDENTIALS,
                region=TEST_REGION,
                function_name="hotcore-account-publisher",
            )
    try:
        for function in started.values():
            function.__enter__()
        yield started
    finally:
        for function in started.values():
            function.__exit__(None, None, None)


def accepted(result: dict[str, Any]) -> dict[str, Any]:
    assert result["outcome"] == "accepted", result
    return result


def rejected(result: dict[str, Any], rule: str) -> None:
    assert result["outcome"] == "rejected", result
    assert result["rule"] == rule


def invalid(result: dict[str, Any]) -> None:
    assert result["outcome"] == "invalid", result
    assert result["error"] == "BadRequest"


def test_account_commands_and_query(functions: dict[str, LocalLambda]) -> None:
    command, query = functions["account.command"], functions["account.query"]
    accepted(command.invoke(system("OpenAccount", account_id="acc-1", owner_id="c-1")))
    accepted(command.invoke(mutation("deposit", "c-1", accountId="acc-1", amount="1500")))
    accepted(
        command.invoke(mutation("withdraw", "c-1", accountId="acc-1", amount="500", reference="r"))
    )
    rejected(
        command.invoke(mutation("withdraw", "c-1", accountId="acc-1", amount="5000")),
        "insufficient-funds",
    )
    rejected(command.invoke(mutation("closeAccount", "c-1", accountId="acc-1")), "balance-not-zero")
    invalid(command.invoke(mutation("deposit", "c-1", accountId="acc-1", amount="-1")))
    invalid(command.invoke(mutation("deposit", "c-1", accountId="acc-1", amount="1", tip=2)))
    invalid(command.invoke(appsync("Mutation", "deposit", {"input": "nope"})))
    accepted(command.invoke(mutation("withdraw", "c-1", accountId="acc-1", amount="1000")))
    accepted(command.invoke(mutation("closeAccount", "c-1", accountId="acc-1")))
    rejected(
        command.invoke(mutation("deposit", "c-1", accountId="acc-1", amount="1")), "account-closed"
    )
    view = query.invoke(read("getAccount", "c-1", accountId="acc-1"))
    assert view == {
        "streamId": "acc-1",
        "version": 5,
        "state": {"accountId": "acc-1", "status": "CLOSED", "ownerId": "c-1", "balance": "0"},
    }
    assert query.invoke(read("getAccount", *STAFF, accountId="nobody")) is None
    invalid(query.invoke(appsync("Query", "getOrder", {"orderId": "o"})))


def test_inventory_commands_and_query(functions: dict[str, LocalLambda]) -> None:
    command, query = functions["inventory.command"], functions["inventory.query"]
    accepted(command.invoke(mutation("addStock", *STAFF, sku="sku-1", quantity=5)))
    accepted(command.invoke(system("ReserveStock", sku="sku-1", order_id="o-1", quantity=2)))
    rejected(
        command.invoke(system("ReserveStock", sku="sku-1", order_id="o-2", quantity=4)),
        "insufficient-stock",
    )
    accepted(command.invoke(system("ReserveStock", sku="sku-1", order_id="o-3", quantity=1)))
    accepted(command.invoke(system("CommitReservation", sku="sku-1", order_id="o-1")))
    accepted(command.invoke(system("ReleaseReservation", sku="sku-1", order_id="o-3")))
    rejected(
        command.invoke(system("ReleaseReservation", sku="sku-1", order_id="o-9")),
        "unknown-reservation",
    )
    invalid(command.invoke(mutation("addStock", *STAFF, sku="sku-1", quantity=0)))
    view = query.invoke(appsync("Query", "getInventory", {"sku": "sku-1"}))
    assert view["state"] == {"sku": "sku-1", "onHand": "3", "reservations": []}
    assert view["version"] == 5


def test_order_commands_and_query(functions: dict[str, LocalLambda]) -> None:
    command, query = functions["order.command"], functions["order.query"]
    line = {"sku": "sku-1", "quantity": 2, "unitPrice": "250"}
    accepted(
        command.invoke(
            mutation("placeOrder", "c", orderId="o-1", customerId="c", accountId="c", lines=[line])
        )
    )
    accepted(command.invoke(system("ConfirmOrder", order_id="o-1")))
    accepted(command.invoke(system("RecordPayment", order_id="o-1", amount=500)))
    accepted(command.invoke(mutation("shipOrder", *STAFF, orderId="o-1")))
    accepted(command.invoke(system("RecordRefund", order_id="o-1", amount=100)))
    rejected(
        command.invoke(mutation("cancelOrder", "c", orderId="o-1", reason="late")),
        "illegal-transition",
    )
    accepted(
        command.invoke(
            mutation("placeOrder", "c", orderId="o-2", customerId="c", accountId="c", lines=[line])
        )
    )
    accepted(command.invoke(mutation("cancelOrder", "c", orderId="o-2", reason="changed mind")))
    invalid(
        command.invoke(
            mutation("placeOrder", "c", orderId="o-3", customerId="c", accountId="c", lines=[])
        )
    )
    view = query.invoke(read("getOrder", "c", orderId="o-1"))
    assert view["state"]["status"] == "SHIPPED"
    assert view["state"]["paid"] == "400"
    assert view["state"]["total"] == "500"


def test_customer_commands_guarded_email_and_query(functions: dict[str, LocalLambda]) -> None:
    command, query = functions["customer.command"], functions["customer.query"]
    accepted(
        command.invoke(
            mutation("registerCustomer", "c-1", customerId="c-1", email="Ann@x.io", name="Ann")
        )
    )
    rejected(
        command.invoke(
            mutation("registerCustomer", "c-2", customerId="c-2", email="ann@X.io", name="Bob")
        ),
        "customer-email-taken",
    )
    accepted(command.invoke(mutation("changeEmail", "c-1", customerId="c-1", email="ann@y.io")))
    # the old address was released in the same transaction: c-2 may have it now
    accepted(
        command.invoke(
            mutation("registerCustomer", "c-2", customerId="c-2", email="ann@x.io", name="Bob")
        )
    )
    accepted(command.invoke(system("LinkAccount", customer_id="c-1", account_id="acc-1")))
    accepted(command.invoke(mutation("deactivateCustomer", "c-1", customerId="c-1")))
    rejected(
        command.invoke(mutation("changeEmail", "c-1", customerId="c-1", email="z@y.io")),
        "customer-deactivated",
    )
    invalid(
        command.invoke(
            mutation("registerCustomer", "c-3", customerId="c-3", email="not-an-email", name="X")
        )
    )
    view = query.invoke(read("getCustomer", "c-1", customerId="c-1"))
    assert view["state"]["status"] == "DEACTIVATED"
    assert view["state"]["accountIds"] == ["acc-1"]


def test_direct_invocation_as_step_functions_sends_it(functions: dict[str, LocalLambda]) -> None:
    command = functions["account.command"]
    first = command.invoke(
        {
            "command_id": "place-order:o-9:charge",
            "command": {"type": "OpenAccount", "account_id": "acc-9", "owner_id": "c-9"},
            "actor": "saga:place-order",
        }
    )
    again = command.invoke(
        {
            "command_id": "place-order:o-9:charge",
            "command": {"type": "OpenAccount", "account_id": "acc-9", "owner_id": "c-9"},
            "actor": "saga:place-order",
        }
    )
    assert accepted(first) == again  # a retried step returns the first outcome


def test_the_event_function_reacts_and_the_publisher_publishes(
    functions: dict[str, LocalLambda], moto_server: MotoServer, tables: dict[str, str]
) -> None:
    detail = {
        "stream_id": "c-77",
        "version": 1,
        "type": "CustomerRegistered",
        "data": {"type": "CustomerRegistered", "email": "c77@x.io", "name": "C"},
        "command_id": "reg-77",
        "correlation_id": "reg-77",
        "causation_id": None,
        "timestamp": "2026-01-01T00:00:00Z",
        "actor": "frontend",
    }
    event = {
        "version": "0",
        "source": "hotcore.customer",
        "detail-type": "CustomerRegistered",
        "detail": detail,
    }
    reacted = functions["account.events"].invoke(event)
    assert reacted["reactions"][0]["stream_id"] == "c-77"
    view = functions["account.query"].invoke(read("getAccount", "c-77", accountId="c-77"))
    assert view["state"]["status"] == "OPEN"

    EventBridge(
        endpoint_url=moto_server.endpoint, region=TEST_REGION, credentials=TEST_CREDENTIALS
    ).client.call("CreateEventBus", {"Name": PREFIX})
    records = stream_records(moto_server, tables["account"])
    result = functions["publisher"].invoke({"Records": records})
    assert result == {"batchItemFailures": []}
    logs = functions["publisher"].logs
    assert '"PublishFailures"' in logs


def from_server(role: str, event: dict[str, Any]) -> dict[str, Any]:
    """``event`` as the front-end server of IAM role ``role`` signs it."""
    return {**event, "identity": {"userArn": f"arn:aws:sts::123456789012:assumed-role/{role}/i-1"}}


def test_a_second_front_end_can_no_longer_act_for_others_or_as_the_system(
    functions: dict[str, LocalLambda],
) -> None:
    """Two servers (storefront, back office), two customers (ann, bob), and bad tokens."""
    account, order = functions["account.command"], functions["order.command"]
    accepted(account.invoke(system("OpenAccount", account_id="ann", owner_id="ann")))
    accepted(
        account.invoke(
            from_server("storefront", mutation("deposit", "ann", accountId="ann", amount="900"))
        )
    )
    # bob, through either server, cannot take ann's money or close her account
    for server in ("storefront", "back-office"):
        rejected(
            account.invoke(
                from_server(server, mutation("withdraw", "bob", accountId="ann", amount="1"))
            ),
            "forbidden",
        )
    rejected(account.invoke(mutation("closeAccount", "bob", accountId="ann")), "forbidden")
    # no end user may send what only sagas and event handlers send
    line = {"sku": "sku-9", "quantity": 1, "unitPrice": "100"}
    accepted(
        order.invoke(
            mutation(
                "placeOrder",
                "ann",
                orderId="o-ann",
                customerId="ann",
                accountId="ann",
                lines=[line],
            )
        )
    )
    for field, fields in [
        ("recordPayment", {"amount": "100"}),
        ("confirmOrder", {}),
        ("recordRefund", {"amount": "100"}),
    ]:
        rejected(order.invoke(mutation(field, "ann", orderId="o-ann", **fields)), "forbidden")
    rejected(order.invoke(mutation("shipOrder", "ann", orderId="o-ann")), "forbidden")
    rejected(
        order.invoke(
            mutation(
                "placeOrder",
                "bob",
                orderId="o-bob",
                customerId="ann",
                accountId="ann",
                lines=[line],
            )
        ),
        "forbidden",
    )
    # tokens that are forged, expired, for another app, or unsigned are refused, typed
    deposit = appsync("Mutation", "deposit", {"input": {"accountId": "ann", "amount": "1"}})
    forger = LocalIssuer()  # same issuer name and key id, another key
    bad = {
        "bad-signature": forger.token("ann"),
        "expired": issuer().token("ann", now=time.time() - 7200, lifetime=600),
        "wrong-audience": issuer().token("ann", audience="another-app"),
        "wrong-issuer": issuer().token("ann", issuer="https://accounts.example"),
        "unsigned": issuer().token("ann", alg="none"),
    }
    for reason, token in bad.items():
        event = {**deposit, "request": {"headers": {"x-hotcore-id-token": token}}}
        result = account.invoke(event)
        rejected(result, "unauthenticated")
        assert result["data"] == {"reason": reason}
    view = functions["account.query"].invoke(read("getAccount", "ann", accountId="ann"))
    assert view["state"]["balance"] == "900"  # nothing moved


def test_batch_history_and_past_state_queries_through_the_query_function(
    functions: dict[str, LocalLambda],
) -> None:
    command, query = functions["account.command"], functions["account.query"]
    for account in ("b-1", "b-2"):
        accepted(command.invoke(system("OpenAccount", account_id=account, owner_id="c-b")))
    for n in range(1, 8):
        accepted(command.invoke(mutation("deposit", "c-b", accountId="b-1", amount=str(n))))
    # several instances at once, loaded concurrently by the function: one result per id
    batch = query.invoke(read("getAccounts", "c-b", ids=["b-2", "none", "b-1", "a b"]))
    assert [item["id"] for item in batch] == ["b-2", "none", "b-1", "a b"]
    assert batch[0]["view"]["state"]["balance"] == "0"
    assert batch[1]["view"] is None  # not c-b's: refused in its place, the others served
    assert batch[1]["error"]["errorType"] == "forbidden"
    assert batch[2]["view"]["version"] == 8
    assert batch[3]["error"]["errorType"] == "BadRequest"
    # the state right after event 3 (opened, deposits of 1 and 2)
    past = query.invoke(read("getAccount", "c-b", accountId="b-1", atVersion=3))
    assert (past["version"], past["state"]["balance"]) == (3, "3")
    # the history in pages of 3, each page one bounded Query of the event table
    versions, token, pages = [], None, 0
    while True:
        arguments: dict[str, Any] = {"id": "b-1", "limit": 3, "nextToken": token}
        page = query.invoke(read("accountHistory", "c-b", **arguments))
        versions += [item["version"] for item in page["items"]]
        pages += 1
        token = page["nextToken"]
        if token is None:
            break
    assert versions == list(range(1, 9))
    assert pages == 3
    assert page["items"][-1]["__typename"] == "Deposited"
    assert "actor" not in page["items"][-1]


def test_reads_and_subscriptions_are_checked_against_the_end_user(
    functions: dict[str, LocalLambda],
) -> None:
    """Ann reads and follows her own account; Bob, a server naming no user, and bad tokens
    are refused, typed; the back office reads and follows everything."""
    command, query = functions["account.command"], functions["account.query"]
    accepted(command.invoke(system("OpenAccount", account_id="r-ann", owner_id="r-ann")))
    accepted(command.invoke(mutation("deposit", "r-ann", accountId="r-ann", amount="70")))
    assert query.invoke(read("getAccount", "r-ann", accountId="r-ann"))["version"] == 2
    assert query.invoke(read("getAccount", *STAFF, accountId="r-ann"))["version"] == 2
    for refused in (
        read("getAccount", "r-bob", accountId="r-ann"),
        appsync("Query", "getAccount", {"accountId": "r-ann"}),  # no token: no user known
        read("getAccount", "r-bob", accountId="r-ann", atVersion=1),
        read("accountHistory", "r-bob", id="r-ann"),
        subscribe("onAccountEvent", "r-bob", streamId="r-ann"),
        subscribe("onAccountEvent", "r-ann"),  # every stream: staff only
    ):
        rejected(query.invoke(refused), "forbidden")
    forged = LocalIssuer().token("r-ann")
    bad_header = {
        **appsync("Query", "getAccount", {"accountId": "r-ann"}),
        "request": {"headers": {"x-hotcore-id-token": forged}},
    }
    rejected(query.invoke(bad_header), "unauthenticated")
    bad_argument = appsync(
        "Subscription", "onAccountEvent", {"streamId": "r-ann", "idToken": forged}
    )
    rejected(query.invoke(bad_argument), "unauthenticated")
    allowed = {"outcome": "allowed"}
    assert query.invoke(subscribe("onAccountEvent", "r-ann", streamId="r-ann")) == allowed
    assert query.invoke(subscribe("onAccountEvent", *STAFF)) == allowed
    # inventory is the catalogue's: any caller reads stock
    assert (
        functions["inventory.query"].invoke(appsync("Query", "getInventory", {"sku": "x"})) is None
    )


def subscribe(field: str, by: str, *groups: str, **arguments: Any) -> dict[str, Any]:
    """What subscription.js asks the query function when ``by`` starts a subscription."""
    token = issuer().token(by, groups=groups)
    return appsync("Subscription", field, {**arguments, "idToken": token})
