"""The Streams publisher end to end over HTTP: table stream -> publisher -> EventBridge -> rule.

moto records the table's stream (GetRecords gives the same record shape Lambda passes
the publisher); the publisher puts the events on a moto bus whose rule delivers to an
SQS queue, which the test reads back. Faults come from the HTTP fault double.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from hotcore.aws.client import RetryPolicy, ServiceClient
from hotcore.aws.eventbridge import EventBridge
from hotcore.contracts.account import AccountEvent, AccountOpened, AccountState, Deposited
from hotcore.domain.account import ACCOUNT
from hotcore.runtime.publisher import StreamsPublisher
from hotcore.store.dynamodb import DynamoEventStore
from tests.store_contract import append
from tests.support.fault_proxy import Fault, FaultProxy
from tests.support.fixtures import (  # noqa: F401
    fault_proxy_fixture,
    moto_server_fixture,
    unique_name_fixture,
)
from tests.support.moto_server import TEST_CREDENTIALS, TEST_REGION, MotoServer, create_table

ACCOUNT_ID = "123456789012"


def client(endpoint: str, service: str, prefix: str, content_type: str) -> ServiceClient:
    return ServiceClient(
        service=service,
        target_prefix=prefix,
        content_type=content_type,
        endpoint_url=endpoint,
        region=TEST_REGION,
        credentials=TEST_CREDENTIALS,
    )


def stream_records(server: MotoServer, table: str) -> list[dict[str, Any]]:
    """Every record of the table's stream, as the Lambda event source mapping passes them."""
    dynamodb = server.dynamodb()
    streams = client(
        server.endpoint, "dynamodb", "DynamoDBStreams_20120810", "application/x-amz-json-1.0"
    )
    arn = dynamodb.call("DescribeTable", {"TableName": table})["Table"]["LatestStreamArn"]
    decode = msgspec.json.decode
    shards = decode(streams.call("DescribeStream", {"StreamArn": arn}))["StreamDescription"][
        "Shards"
    ]
    records: list[dict[str, Any]] = []
    for shard in shards:
        iterator = decode(
            streams.call(
                "GetShardIterator",
                {
                    "StreamArn": arn,
                    "ShardId": shard["ShardId"],
                    "ShardIteratorType": "TRIM_HORIZON",
                },
            )
        )["ShardIterator"]
        page = decode(streams.call("GetRecords", {"ShardIterator": iterator}))
        records += [{**r, "eventSourceARN": arn} for r in page["Records"]]
    return records


@pytest.fixture
def table_with_events(moto_server: MotoServer, unique_name: str) -> str:
    dynamodb = moto_server.dynamodb()
    create_table(dynamodb, unique_name, hash_key="stream_id", range_key="version", stream=True)
    store = DynamoEventStore(dynamodb, unique_name, "account", AccountEvent, AccountState)
    append(store, "acc-1", 0, [AccountOpened(owner_id="o")], "c-1")
    append(store, "acc-1", 1, [Deposited(amount=5), Deposited(amount=6)], "c-2")
    return unique_name


def test_committed_events_reach_a_rule_target_and_nothing_else_is_published(
    moto_server: MotoServer, table_with_events: str, unique_name: str
) -> None:
    events = EventBridge(
        endpoint_url=moto_server.endpoint, region=TEST_REGION, credentials=TEST_CREDENTIALS
    )
    sqs = client(moto_server.endpoint, "sqs", "AmazonSQS", "application/x-amz-json-1.0")
    queue_url = msgspec.json.decode(sqs.call("CreateQueue", {"QueueName": unique_name}))["QueueUrl"]
    events.client.call("CreateEventBus", {"Name": unique_name})
    rule = {"source": ["hotcore.account"]}
    events.client.call(
        "PutRule", {"Name": "all", "EventBusName": unique_name, "EventPattern": json.dumps(rule)}
    )
    events.client.call(
        "PutTargets",
        {
            "Rule": "all",
            "EventBusName": unique_name,
            "Targets": [
                {"Id": "q", "Arn": f"arn:aws:sqs:{TEST_REGION}:{ACCOUNT_ID}:{unique_name}"}
            ],
        },
    )
    records = stream_records(moto_server, table_with_events)
    assert len(records) == 5  # 3 events + 2 command records
    result = StreamsPublisher(ACCOUNT, events, unique_name)({"Records": records})
    assert result == {"batchItemFailures": []}
    received: list[dict[str, Any]] = []
    for _ in range(10):
        page = msgspec.json.decode(
            sqs.call("ReceiveMessage", {"QueueUrl": queue_url, "MaxNumberOfMessages": 10})
        )
        for message in page.get("Messages", []):
            received.append(json.loads(message["Body"]))
        if len(received) >= 3:
            break
    assert sorted((m["detail"]["version"], m["detail-type"]) for m in received) == [
        (1, "AccountOpened"),
        (2, "Deposited"),
        (3, "Deposited"),
    ]
    first = next(m for m in received if m["detail"]["version"] == 1)
    assert first["source"] == "hotcore.account"
    assert first["detail"]["data"] == {"type": "AccountOpened", "owner_id": "o"}
    assert first["detail"]["command_id"] == "c-1"


def test_entries_that_keep_failing_become_batch_item_failures(
    moto_server: MotoServer, table_with_events: str, fault_proxy: FaultProxy
) -> None:
    records = stream_records(moto_server, table_with_events)
    events = EventBridge(
        endpoint_url=fault_proxy.endpoint,
        region=TEST_REGION,
        credentials=TEST_CREDENTIALS,
        retry=RetryPolicy(max_attempts=2, base_delay=0.001, max_delay=0.001),
        sleep=lambda _: None,
    )
    failing = {
        "FailedEntryCount": 1,
        "Entries": [
            {"EventId": "e1"},
            {"ErrorCode": "InternalFailure", "ErrorMessage": "x"},
            {"EventId": "e3"},
        ],
    }
    still = {
        "FailedEntryCount": 1,
        "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "x"}],
    }
    fault_proxy.script(*([Fault.respond(200, failing)] + [Fault.respond(200, still)] * 10))
    result = StreamsPublisher(ACCOUNT, events, "bus")({"Records": records})
    inserts = [r for r in records if "data" in r["dynamodb"]["NewImage"]]
    assert result == {
        "batchItemFailures": [{"itemIdentifier": inserts[1]["dynamodb"]["SequenceNumber"]}]
    }


def test_a_record_that_does_not_decode_is_reported_not_dropped() -> None:
    class Sink:
        def put_events(self, entries: list[Any]) -> Any:
            raise AssertionError("nothing decodable to send")

    bad = {
        "eventName": "INSERT",
        "dynamodb": {
            "SequenceNumber": "42",
            "NewImage": {"stream_id": {"S": "a"}, "version": {"N": "1"}, "data": {"M": {}}},
        },
    }
    assert StreamsPublisher(ACCOUNT, Sink(), "bus")({"Records": [bad]}) == {
        "batchItemFailures": [{"itemIdentifier": "42"}]
    }
