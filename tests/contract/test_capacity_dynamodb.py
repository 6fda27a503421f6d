"""Request units per command kind, as DynamoDB bills them, metered by the emulator.

The moto wrapper (``hotcore_dev.emulator_wsgi``) meters every DynamoDB request with the
billing rules of ``hotcore_dev.capacity``; these tests hold the store to its budget:
a single-event command is one strongly consistent Query and one PutItem of 1 WRU, and
the default snapshot interval is the cheapest of the ones measured.
"""

from __future__ import annotations

from typing import Any

import pytest

from hotcore.contracts.account import Deposit, OpenAccount
from hotcore.contracts.common import CommandAck
from hotcore.contracts.customer import ChangeEmail, RegisterCustomer
from hotcore.domain.account import ACCOUNT
from hotcore.domain.customer import CUSTOMER
from hotcore.service.command import CommandService
from hotcore.service.ids import new_command_id
from hotcore.service.query import QueryService
from hotcore.store.dynamodb import DynamoEventStore
from hotcore.store.port import DEFAULT_SNAPSHOT_EVERY, RECENT_COMMANDS
from hotcore_dev.capacity import Consumed, consumed, total
from hotcore_dev.emulator import MotoServer, create_table
from tests.support.fixtures import moto_server_fixture, unique_name_fixture  # noqa: F401

#: What AppSync passes as the caller (an IAM role session) and a command id like Lambda's.
ACTOR = "arn:aws:sts::123456789012:assumed-role/hotcore-web-server/i-0123456789abcdef0"
#: On-demand list prices, us-east-1 (bench/prices.toml): $ per million units.
WRU_PRICE, RRU_PRICE = 0.625, 0.125


def account_store(server: MotoServer, table: str) -> DynamoEventStore[Any, Any]:
    client = server.dynamodb()
    create_table(client, table, hash_key="stream_id", range_key="version")
    return DynamoEventStore(client, table, "account", ACCOUNT.event_type, ACCOUNT.state_type)


def deposit(commands: CommandService[Any, Any, Any], n: int) -> None:
    reference = "salary" if n % 3 == 0 else None
    ack = commands.handle(
        Deposit(account_id="acc-000123", amount=100 + n, reference=reference),
        command_id=new_command_id(),
        actor=ACTOR,
    )
    assert isinstance(ack, CommandAck)


def test_a_single_event_command_is_one_query_and_one_put_item_of_at_most_2_wru(
    moto_server: MotoServer, unique_name: str
) -> None:
    store = account_store(moto_server, unique_name)
    commands = CommandService(ACCOUNT, store, snapshot_every=DEFAULT_SNAPSHOT_EVERY)
    commands.handle(
        OpenAccount(account_id="acc-000123", owner_id="cust-000123"), command_id="o", actor=ACTOR
    )
    for n in range(RECENT_COMMANDS + DEFAULT_SNAPSHOT_EVERY):
        deposit(commands, n)
    per_command: list[list[Consumed]] = []
    for n in range(DEFAULT_SNAPSHOT_EVERY):  # one whole snapshot cycle
        before = len(moto_server.capacity([unique_name]))
        deposit(commands, n)
        per_command.append(moto_server.capacity([unique_name])[before:])
    for requests in per_command:
        assert [r.operation for r in requests] == ["Query", "PutItem"]
        query, put = requests
        assert query.read_units <= 2  # strongly consistent, the items back to the snapshot
        assert put.write_units <= 3  # 1, or 3 for the one carrying the snapshot
    puts = [requests[1].write_units for requests in per_command]
    # one write of the cycle carries the snapshot (64 recent commands: about 3 KB)
    assert sorted(puts) == [1] * (DEFAULT_SNAPSHOT_EVERY - 1) + [3]
    reads, writes = total([r for requests in per_command for r in requests])
    assert writes / DEFAULT_SNAPSHOT_EVERY <= 2  # amortized, snapshot included
    assert reads / DEFAULT_SNAPSHOT_EVERY <= 2


def test_a_guarded_command_is_one_query_and_one_transaction(
    moto_server: MotoServer, unique_name: str
) -> None:
    client = moto_server.dynamodb()
    create_table(client, unique_name, hash_key="stream_id", range_key="version")
    create_table(client, f"{unique_name}-guards", hash_key="guard")
    store = DynamoEventStore(
        client,
        unique_name,
        "customer",
        CUSTOMER.event_type,
        CUSTOMER.state_type,
        guard_table=f"{unique_name}-guards",
    )
    commands = CommandService(CUSTOMER, store)
    register = RegisterCustomer(customer_id="cust-1", email="ada@example.com", name="Ada")
    commands.handle(register, command_id=new_command_id(), actor=ACTOR)
    requests = moto_server.capacity([unique_name])
    assert [r.operation for r in requests] == ["Query", "TransactWriteItems"]
    # the event and the guard claim: 2 WRU per 1 KB each
    assert requests[1].write_units == 4
    assert requests[0].read_units == 1
    change = ChangeEmail(customer_id="cust-1", email="ada@example.org")
    commands.handle(change, command_id=new_command_id(), actor=ACTOR)
    requests = moto_server.capacity([unique_name])[2:]
    assert [r.operation for r in requests] == ["Query", "TransactWriteItems"]
    assert requests[1].write_units == 6  # the event, the new claim, the old release


def test_a_resent_command_is_one_query_and_no_write(
    moto_server: MotoServer, unique_name: str
) -> None:
    store = account_store(moto_server, unique_name)
    commands = CommandService(ACCOUNT, store)
    commands.handle(OpenAccount(account_id="acc-000123", owner_id="o"), command_id="o", actor=ACTOR)
    before = len(moto_server.capacity([unique_name]))
    commands.handle(OpenAccount(account_id="acc-000123", owner_id="o"), command_id="o", actor=ACTOR)
    (query,) = moto_server.capacity([unique_name])[before:]
    assert (query.operation, query.write_units) == ("Query", 0)


def test_a_query_is_one_strongly_consistent_read(moto_server: MotoServer, unique_name: str) -> None:
    store = account_store(moto_server, unique_name)
    commands = CommandService(ACCOUNT, store)
    commands.handle(OpenAccount(account_id="acc-000123", owner_id="o"), command_id="o", actor=ACTOR)
    for n in range(20):
        deposit(commands, n)
    before = len(moto_server.capacity([unique_name]))
    QueryService(ACCOUNT, store).load("acc-000123")
    (query,) = moto_server.capacity([unique_name])[before:]
    assert (query.operation, query.items) == ("Query", DEFAULT_SNAPSHOT_EVERY)
    assert query.read_units <= 2


def test_the_default_snapshot_interval_is_the_cheapest_measured(
    moto_server: MotoServer, unique_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """RRU per load grows with the interval, the snapshot's extra WRU shrinks with it."""
    costs: dict[int, tuple[float, float, float]] = {}
    for every in (8, 12, 16):
        table = f"{unique_name}-{every}"
        store = account_store(moto_server, table)
        commands = CommandService(ACCOUNT, store, snapshot_every=every)
        commands.handle(
            OpenAccount(account_id="acc-000123", owner_id="cust-000123"),
            command_id="o",
            actor=ACTOR,
        )
        for n in range(RECENT_COMMANDS + every):  # steady state: a full recent-commands list
            deposit(commands, n)
        before = len(moto_server.capacity([table]))
        cycles = 48 // every
        for n in range(cycles * every):
            deposit(commands, n)
        reads, writes = total(moto_server.capacity([table])[before:])
        count = cycles * every
        rru, wru = reads / count, writes / count
        costs[every] = (rru, wru, rru * RRU_PRICE + wru * WRU_PRICE)
    with capsys.disabled():
        print("\nsnapshot_every: RRU/command, WRU/command, $ per million single-event commands")
        for every, (rru, wru, dollars) in costs.items():
            print(f"  {every:>2}: {rru:.2f} RRU, {wru:.3f} WRU, ${dollars:.3f}")
    cheapest = min(cost for _, _, cost in costs.values())
    assert costs[DEFAULT_SNAPSHOT_EVERY][2] <= cheapest * 1.05


@pytest.mark.parametrize(
    ("operation", "request_", "status", "response", "expected"),
    [
        # 1 KB per write unit, rounded up
        ("PutItem", {"TableName": "t", "Item": {"k": {"S": "x" * 1100}}}, 200, {}, (0, 2)),
        # a failed condition is billed by the larger of the new and the old item
        (
            "PutItem",
            {"TableName": "t", "Item": {"k": {"S": "x"}}},
            400,
            {"Item": {"k": {"S": "x" * 3000}}},
            (0, 3),
        ),
        # strongly consistent: 1 per 4 KB of the page, summed then rounded once
        (
            "Query",
            {"TableName": "t", "ConsistentRead": True},
            200,
            {"Items": [{"k": {"S": "x" * 1500}}] * 3},
            (2, 0),
        ),
        ("Query", {"TableName": "t"}, 200, {"Items": []}, (0.5, 0)),
        ("GetItem", {"TableName": "t", "ConsistentRead": True}, 200, {}, (1, 0)),
        (
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": "t", "Item": {"k": {"S": "x" * 1500}}}},
                    {"Delete": {"TableName": "g", "Key": {"guard": {"S": "s#v"}}}},
                ]
            },
            200,
            {},
            (0, 6),
        ),
    ],
)
def test_request_units_follow_dynamodbs_billing_rules(
    operation: str,
    request_: dict[str, Any],
    status: int,
    response: dict[str, Any],
    expected: tuple[float, float],
) -> None:
    record = consumed(operation, request_, status, response)
    assert record is not None
    assert (record.read_units, record.write_units) == expected
    assert consumed("DescribeTable", {"TableName": "t"}, 200, {}) is None
