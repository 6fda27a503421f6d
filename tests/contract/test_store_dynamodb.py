"""The store contract on the DynamoDB adapter, over real HTTP against moto, plus faults.

Every test gets its own tables (moto's Query scans the whole table, and its state is
shared by the session). Faults that moto cannot produce (throttling, 500s, a connection
dropped after a successful write) come from the HTTP fault double in front of it.
"""

from __future__ import annotations

import random
from typing import Any

import msgspec
import pytest

from hotcore.aws.client import RetryPolicy
from hotcore.aws.dynamodb import DynamoDB
from hotcore.codec.events import StoredEventUnreadable
from hotcore.contracts.account import (
    AccountEvent,
    AccountOpened,
    AccountState,
    Deposit,
    Deposited,
    OpenAccount,
)
from hotcore.contracts.common import CommandAck
from hotcore.contracts.customer import RegisterCustomer
from hotcore.domain.account import ACCOUNT
from hotcore.domain.customer import CUSTOMER
from hotcore.service.command import CommandService
from hotcore.store.dynamodb import DynamoEventStore, item_size
from hotcore.store.fingerprint import fingerprint
from hotcore.store.port import MAX_ITEM_BYTES, DuplicateCommand
from hotcore_dev.emulator import TEST_CREDENTIALS, TEST_REGION, MotoServer, create_table
from tests.support.fault_proxy import Fault, FaultProxy, aws_error_body
from tests.support.fixtures import (  # noqa: F401
    moto_fault_proxy_fixture,
    moto_server_fixture,
    unique_name_fixture,
)
from tests.support.store_contract import *  # noqa: F403
from tests.support.store_contract import MakeStore, Note, append, read_all

FAST_RETRIES = RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.002)


def via(proxy: FaultProxy) -> DynamoDB:
    """A client that reaches moto through the fault double."""
    return DynamoDB(
        endpoint_url=proxy.endpoint,
        region=TEST_REGION,
        credentials=TEST_CREDENTIALS,
        retry=FAST_RETRIES,
    )


def make_tables(server: MotoServer, name: str) -> tuple[str, str]:
    client = server.dynamodb()
    create_table(client, name, hash_key="stream_id", range_key="version", stream=True)
    create_table(client, f"{name}-guards", hash_key="guard")
    return name, f"{name}-guards"


@pytest.fixture
def make_store(moto_server: MotoServer, unique_name: str) -> MakeStore:
    # all stores of one test share the guard table, like the database of the local adapters
    guard_table = make_tables(moto_server, unique_name)[1]
    client = moto_server.dynamodb(retry=FAST_RETRIES)
    tables: dict[str, str] = {}

    def make(
        name: str,
        event_type: Any = AccountEvent,
        state_type: type[Any] = AccountState,
        state_version: int = 1,
    ) -> Any:
        if name not in tables:
            tables[name] = f"{unique_name}-{name}"
            create_table(client, tables[name], hash_key="stream_id", range_key="version")
        return DynamoEventStore(
            client,
            tables[name],
            name,
            event_type,
            state_type,
            guard_table=guard_table,
            state_version=state_version,
        )

    return make


def test_reads_follow_last_evaluated_key_past_one_megabyte(make_store: MakeStore) -> None:
    store = make_store("notes", Note, AccountState)
    chunk = Note(text="x" * 60_000)
    for n in range(20):  # 20 x ~60 KB: about 1.2 MB, more than one Query page
        append(store, "n-1", n, [chunk], f"c-{n}")
    pages = list(store.load("n-1", page_size=1000))
    assert len(pages) >= 2  # DynamoDB (and moto) cut a page at 1 MB
    assert [e.version for p in pages for e in p] == list(range(1, 21))


def test_item_size_counts_names_and_values_like_dynamodb() -> None:
    assert item_size({"a": {"S": "xyz"}}) == 4
    assert item_size({"n": {"N": "12345"}}) == 1 + 4
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + (1 + 1 + 1)
    assert item_size({"b": {"BOOL": True}, "z": {"NULL": True}}) == 4
    assert MAX_ITEM_BYTES == 400 * 1024


def test_throttling_and_server_errors_are_retried_without_losing_or_duplicating(
    moto_fault_proxy: FaultProxy, moto_server: MotoServer, unique_name: str
) -> None:
    table, guards = make_tables(moto_server, unique_name)
    store = DynamoEventStore(
        via(moto_fault_proxy), table, "account", AccountEvent, AccountState, guard_table=guards
    )
    moto_fault_proxy.script(
        Fault.throttle(operation="PutItem"),
        Fault.server_error(503, operation="PutItem"),
        Fault.throttle(operation="TransactWriteItems"),
        Fault.server_error(503, operation="TransactWriteItems"),
    )
    append(store, "acc-1", 0, [AccountOpened(owner_id="o")], "c-1")
    append(store, "acc-1", 1, [Deposited(amount=1), Deposited(amount=2)], "c-2")
    assert moto_fault_proxy.pending == []
    moto_fault_proxy.script(Fault.throttle("ThrottlingException", operation="Query"))
    assert [e.version for e in read_all(store, "acc-1")] == [1, 2, 3]


@pytest.mark.parametrize(
    "fault",
    [
        Fault.drop_after(operation="PutItem"),
        Fault.truncate(operation="PutItem"),
        Fault.truncate(honest_length=True, operation="PutItem"),
    ],
    ids=["dropped", "truncated", "truncated-short"],
)
def test_an_answer_lost_after_a_successful_write_neither_loses_nor_duplicates(
    moto_fault_proxy: FaultProxy, moto_server: MotoServer, unique_name: str, fault: Fault
) -> None:
    table, guards = make_tables(moto_server, unique_name)
    store = DynamoEventStore(
        via(moto_fault_proxy), table, "account", AccountEvent, AccountState, guard_table=guards
    )
    commands = CommandService(ACCOUNT, store, sleep=lambda _: None, rng=random.Random(1))
    commands.handle(OpenAccount(account_id="a", owner_id="o"), command_id="open", actor="t")
    # the deposit lands in DynamoDB, then its answer is lost or cut short
    moto_fault_proxy.script(fault)
    dep = Deposit(account_id="a", amount=7)
    ack = commands.handle(dep, command_id="dep", actor="t")
    assert ack == CommandAck(command_id="dep", stream_id="a", version=2, events=1)
    stored = read_all(store, "a")
    assert [(e.version, e.command_id) for e in stored] == [(1, "open"), (2, "dep")]
    assert stored[1].data == Deposited(amount=7)
    assert moto_fault_proxy.pending == []
    with pytest.raises(DuplicateCommand):
        append(store, "a", 1, [Deposited(amount=7)], "dep", fingerprint=fingerprint(dep))


def test_a_transaction_conflict_is_a_lost_race_the_command_flow_retries(
    moto_fault_proxy: FaultProxy, moto_server: MotoServer, unique_name: str
) -> None:
    """moto never reports TransactionConflict; the fault double does, both ways AWS does."""
    table, guards = make_tables(moto_server, unique_name)
    store = DynamoEventStore(
        via(moto_fault_proxy),
        table,
        "customer",
        CUSTOMER.event_type,
        CUSTOMER.state_type,
        guard_table=guards,
    )
    commands = CommandService(CUSTOMER, store, sleep=lambda _: None, rng=random.Random(2))
    cancelled = aws_error_body(
        "TransactionCanceledException",
        "Transaction cancelled, please refer cancellation reasons for specific reasons",
        CancellationReasons=[{"Code": "TransactionConflict"}, {"Code": "None"}],
    )
    moto_fault_proxy.script(
        Fault.respond(400, cancelled, operation="TransactWriteItems"),
        Fault.respond(
            400,
            aws_error_body("TransactionConflictException", "conflict"),
            operation="TransactWriteItems",
        ),
        Fault.respond(
            400,
            aws_error_body("IdempotentParameterMismatchException", "token reused"),
            operation="TransactWriteItems",
        ),
    )
    register = RegisterCustomer(customer_id="c", email="c@x.io", name="C")
    ack = commands.handle(register, command_id="reg", actor="t")
    assert ack == CommandAck(command_id="reg", stream_id="c", version=1, events=1)
    assert commands.conflicts == 3
    assert [e.version for e in read_all(store, "c")] == [1]
    tokens = [
        msgspec.json.decode(r.body)["ClientRequestToken"]
        for r in moto_fault_proxy.requests
        if r.operation == "TransactWriteItems"
    ]
    # each attempt is another transaction (another timestamp): never the same token
    assert len(tokens) == 4
    assert len(set(tokens)) == 4


def test_a_single_event_without_guards_is_one_put_item_after_one_query(
    moto_fault_proxy: FaultProxy, moto_server: MotoServer, unique_name: str
) -> None:
    table, guards = make_tables(moto_server, unique_name)
    store = DynamoEventStore(
        via(moto_fault_proxy), table, "account", AccountEvent, AccountState, guard_table=guards
    )
    commands = CommandService(ACCOUNT, store, sleep=lambda _: None)
    commands.handle(OpenAccount(account_id="a", owner_id="o"), command_id="open", actor="t")
    before = len(moto_fault_proxy.requests)
    commands.handle(Deposit(account_id="a", amount=5), command_id="d", actor="t")
    operations = [r.operation for r in moto_fault_proxy.requests[before:]]
    assert operations == ["Query", "PutItem"]
    query = msgspec.json.decode(moto_fault_proxy.requests[before].body)
    assert (query["ScanIndexForward"], query["ConsistentRead"], query["Limit"]) == (
        False,
        True,
        commands.snapshot_every,
    )


def test_a_stored_event_that_does_not_decode_names_its_stream_version_and_field(
    make_store: MakeStore,
) -> None:
    store = make_store("account")
    append(store, "acc-1", 0, [AccountOpened(owner_id="o")], "c-1")
    append(store, "acc-1", 1, [Deposited(amount=5)], "c-2")
    key = {"stream_id": {"S": "acc-1"}, "version": {"N": "2"}}
    item = store.client.get_item({"TableName": store.table, "Key": key})["Item"]
    item["e"]["S"] = item["e"]["S"].replace('"amount":5', '"amount":0')
    store.client.put_item({"TableName": store.table, "Item": item})  # written behind its back
    with pytest.raises(StoredEventUnreadable) as caught:
        store.load_latest("acc-1")
    assert (caught.value.stream_id, caught.value.version) == ("acc-1", 2)
    assert "`$.data.amount`" in str(caught.value)
    with pytest.raises(StoredEventUnreadable, match=r"acc-1@2 does not decode"):
        read_all(store, "acc-1")


def test_snapshots_of_another_state_version_are_skipped_and_the_stream_folds_from_the_start(
    make_store: MakeStore,
) -> None:
    writer = make_store("account")
    for n in range(30):
        state = AccountState(account_id="acc-1", balance=n + 1) if n % 10 == 9 else None
        append(writer, "acc-1", n, [Deposited(amount=1)], f"c-{n}", snapshot=state)
    items = writer.client.query(
        {
            "TableName": writer.table,
            "KeyConditionExpression": "stream_id = :s",
            "ExpressionAttributeValues": {":s": {"S": "acc-1"}},
        }
    )["Items"]
    assert any("s" in item for item in items)  # the writer embedded snapshots on the way
    reader = make_store("account", state_version=2)  # a new state shape: every one invalid
    latest = reader.load_latest("acc-1")
    assert latest.snapshot is None
    assert [e.version for e in latest.events] == list(range(1, 31))
    assert writer.load_latest("acc-1").snapshot is not None
