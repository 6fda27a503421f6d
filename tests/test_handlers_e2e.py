"""Every handler as a real Lambda process (awslambdaric + the local Runtime API) against moto.

Each aggregate's command function takes every one of its mutations, including rejections
and malformed input; its query function reads the result; Account's event function
reacts to a Customer event; the publisher moves the table's stream onto a moto bus.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotcore.aws.eventbridge import EventBridge
from hotcore.runtime.lambda_harness import LocalLambda
from tests.support.fixtures import moto_server_fixture  # noqa: F401
from tests.support.moto_server import TEST_CREDENTIALS, TEST_REGION, MotoServer, create_table
from tests.test_publisher import stream_records

ROOT = Path(__file__).resolve().parents[1]
AGGREGATES = ["account", "inventory", "order", "customer"]
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


def mutation(field: str, **fields: Any) -> dict[str, Any]:
    return appsync("Mutation", field, {"input": fields})


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
    accepted(command.invoke(mutation("openAccount", account_id="acc-1", owner_id="c-1")))
    accepted(command.invoke(mutation("deposit", account_id="acc-1", amount=1500.0)))
    accepted(command.invoke(mutation("withdraw", account_id="acc-1", amount=500, reference="r")))
    rejected(
        command.invoke(mutation("withdraw", account_id="acc-1", amount=5000)), "insufficient-funds"
    )
    rejected(command.invoke(mutation("closeAccount", account_id="acc-1")), "balance-not-zero")
    invalid(command.invoke(mutation("deposit", account_id="acc-1", amount=-1)))
    invalid(command.invoke(mutation("deposit", account_id="acc-1", amount=1, tip=2)))
    invalid(command.invoke(appsync("Mutation", "openAccount", {"input": "nope"})))
    accepted(command.invoke(mutation("withdraw", account_id="acc-1", amount=1000)))
    accepted(command.invoke(mutation("closeAccount", account_id="acc-1")))
    rejected(command.invoke(mutation("deposit", account_id="acc-1", amount=1)), "account-closed")
    view = query.invoke(appsync("Query", "getAccount", {"account_id": "acc-1"}))
    assert view == {
        "stream_id": "acc-1",
        "version": 5,
        "state": {"account_id": "acc-1", "status": "closed", "owner_id": "c-1", "balance": 0},
    }
    invalid(query.invoke(appsync("Query", "getOrder", {"order_id": "o"})))


def test_inventory_commands_and_query(functions: dict[str, LocalLambda]) -> None:
    command, query = functions["inventory.command"], functions["inventory.query"]
    accepted(command.invoke(mutation("addStock", sku="sku-1", quantity=5)))
    accepted(command.invoke(mutation("reserveStock", sku="sku-1", order_id="o-1", quantity=2)))
    rejected(
        command.invoke(mutation("reserveStock", sku="sku-1", order_id="o-2", quantity=4)),
        "insufficient-stock",
    )
    accepted(command.invoke(mutation("reserveStock", sku="sku-1", order_id="o-3", quantity=1)))
    accepted(command.invoke(mutation("commitReservation", sku="sku-1", order_id="o-1")))
    accepted(command.invoke(mutation("releaseReservation", sku="sku-1", order_id="o-3")))
    rejected(
        command.invoke(mutation("releaseReservation", sku="sku-1", order_id="o-9")),
        "unknown-reservation",
    )
    invalid(command.invoke(mutation("addStock", sku="sku-1", quantity=0)))
    view = query.invoke(appsync("Query", "getInventory", {"sku": "sku-1"}))
    assert view["state"] == {"sku": "sku-1", "on_hand": 3, "reservations": {}}
    assert view["version"] == 5


def test_order_commands_and_query(functions: dict[str, LocalLambda]) -> None:
    command, query = functions["order.command"], functions["order.query"]
    line = {"sku": "sku-1", "quantity": 2, "unit_price": 250}
    accepted(
        command.invoke(
            mutation("placeOrder", order_id="o-1", customer_id="c", account_id="a", lines=[line])
        )
    )
    accepted(command.invoke(mutation("confirmOrder", order_id="o-1")))
    accepted(command.invoke(mutation("recordPayment", order_id="o-1", amount=500)))
    accepted(command.invoke(mutation("shipOrder", order_id="o-1")))
    accepted(command.invoke(mutation("recordRefund", order_id="o-1", amount=100)))
    rejected(
        command.invoke(mutation("cancelOrder", order_id="o-1", reason="late")), "illegal-transition"
    )
    accepted(
        command.invoke(
            mutation("placeOrder", order_id="o-2", customer_id="c", account_id="a", lines=[line])
        )
    )
    accepted(command.invoke(mutation("cancelOrder", order_id="o-2", reason="changed mind")))
    invalid(
        command.invoke(
            mutation("placeOrder", order_id="o-3", customer_id="c", account_id="a", lines=[])
        )
    )
    view = query.invoke(appsync("Query", "getOrder", {"order_id": "o-1"}))
    assert view["state"]["status"] == "shipped"
    assert view["state"]["paid"] == 400
    assert view["state"]["total"] == 500


def test_customer_commands_guarded_email_and_query(functions: dict[str, LocalLambda]) -> None:
    command, query = functions["customer.command"], functions["customer.query"]
    accepted(
        command.invoke(
            mutation("registerCustomer", customer_id="c-1", email="Ann@x.io", name="Ann")
        )
    )
    rejected(
        command.invoke(
            mutation("registerCustomer", customer_id="c-2", email="ann@X.io", name="Bob")
        ),
        "customer-email-taken",
    )
    accepted(command.invoke(mutation("changeEmail", customer_id="c-1", email="ann@y.io")))
    # the old address was released in the same transaction: c-2 may have it now
    accepted(
        command.invoke(
            mutation("registerCustomer", customer_id="c-2", email="ann@x.io", name="Bob")
        )
    )
    accepted(command.invoke(mutation("linkAccount", customer_id="c-1", account_id="acc-1")))
    accepted(command.invoke(mutation("deactivateCustomer", customer_id="c-1")))
    rejected(
        command.invoke(mutation("changeEmail", customer_id="c-1", email="z@y.io")),
        "customer-deactivated",
    )
    invalid(
        command.invoke(
            mutation("registerCustomer", customer_id="c-3", email="not-an-email", name="X")
        )
    )
    view = query.invoke(appsync("Query", "getCustomer", {"customer_id": "c-1"}))
    assert view["state"]["status"] == "deactivated"
    assert view["state"]["account_ids"] == ["acc-1"]


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
    view = functions["account.query"].invoke(appsync("Query", "getAccount", {"account_id": "c-77"}))
    assert view["state"]["status"] == "open"

    EventBridge(
        endpoint_url=moto_server.endpoint, region=TEST_REGION, credentials=TEST_CREDENTIALS
    ).client.call("CreateEventBus", {"Name": PREFIX})
    records = stream_records(moto_server, tables["account"])
    result = functions["publisher"].invoke({"Records": records})
    assert result == {"batchItemFailures": []}
    logs = functions["publisher"].logs
    assert '"PublishFailures"' in logs
