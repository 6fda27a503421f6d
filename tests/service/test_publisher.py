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
from hotcore.aws.errors import ConnectionFailed
from hotcore.aws.eventbridge import EntryFailure, EventBridge, PutEventsResult
from hotcore.aws.s3 import S3, check_key
from hotcore.contracts.account import AccountEvent, AccountOpened, AccountState, Deposited
from hotcore.domain.account import ACCOUNT
from hotcore.entrypoints.publisher import BucketParking, ParkedRecord, StreamsPublisher
from hotcore.store.dynamodb import DynamoEventStore
from hotcore_dev.emulator import TEST_CREDENTIALS, TEST_REGION, MotoServer, create_table
from tests.support.event_source_mapping import EventSourceMapping
from tests.support.fault_proxy import Fault, FaultProxy
from tests.support.fixtures import (  # noqa: F401
    fault_proxy_fixture,
    moto_server_fixture,
    unique_name_fixture,
)
from tests.support.store_contract import append

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
    assert len(records) == 3  # the events: layout 2 has no other items
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
    inserts = [r for r in records if "e" in r["dynamodb"]["NewImage"]]
    assert result == {
        "batchItemFailures": [{"itemIdentifier": inserts[1]["dynamodb"]["SequenceNumber"]}]
    }


def test_without_a_parking_place_a_record_that_does_not_decode_is_reported() -> None:
    class Sink:
        def put_events(self, entries: list[Any]) -> Any:
            raise AssertionError("nothing decodable to send")

    def insert(sequence: str, image: dict[str, Any]) -> dict[str, Any]:
        keys = {"stream_id": {"S": "a"}, "version": {"N": "1"}}
        return {
            "eventName": "INSERT",
            "dynamodb": {"SequenceNumber": sequence, "NewImage": keys | image},
        }

    bad = [
        insert("41", {"data": {"M": {}}}),  # layout 1
        insert("42", {"type": {"S": "Deposited"}, "e": {"S": "{not json"}}),
        insert(
            "43",
            {
                "type": {"S": "Withdrawn"},
                "e": {"S": '{"stream_id":"a","version":1,"type":"Deposited"}'},
            },
        ),
    ]
    assert StreamsPublisher(ACCOUNT, Sink(), "bus")({"Records": bad}) == {
        "batchItemFailures": [{"itemIdentifier": s} for s in ("41", "42", "43")]
    }


# ---- a record that can never be published is parked alone ------------------------------


def undecodable(sequence: str, stream_id: str = "a", version: int = 1) -> dict[str, Any]:
    """An event item whose ``type`` is not its envelope's: it can never be published."""
    envelope = {"stream_id": stream_id, "version": version, "type": "Deposited"}
    return {
        "eventName": "INSERT",
        "dynamodb": {
            "Keys": {"stream_id": {"S": stream_id}, "version": {"N": str(version)}},
            "SequenceNumber": sequence,
            "NewImage": {
                "stream_id": {"S": stream_id},
                "version": {"N": str(version)},
                "type": {"S": "Withdrawn"},
                "e": {"S": json.dumps(envelope)},
            },
        },
    }


def deposit(sequence: str, version: int) -> dict[str, Any]:
    """A well-formed Deposited event item of stream acc-1, as the stream carries it."""
    envelope = {
        "stream_id": "acc-1",
        "version": version,
        "type": "Deposited",
        "data": {"type": "Deposited", "amount": version},
        "command_id": f"c-{version}",
        "correlation_id": f"c-{version}",
        "timestamp": "2026-01-01T00:00:00Z",
        "actor": "t",
    }
    return {
        "eventName": "INSERT",
        "dynamodb": {
            "Keys": {"stream_id": {"S": "acc-1"}, "version": {"N": str(version)}},
            "SequenceNumber": sequence,
            "NewImage": {
                "stream_id": {"S": "acc-1"},
                "version": {"N": str(version)},
                "type": {"S": "Deposited"},
                "e": {"S": json.dumps(envelope)},
            },
        },
    }


class CountingBus:
    """PutEvents that accepts everything (or refuses chosen versions for good), and counts."""

    def __init__(self, refuse: frozenset[int] = frozenset()) -> None:
        self.refuse = refuse
        self.copies: dict[int, int] = {}

    def put_events(self, entries: list[Any]) -> PutEventsResult:
        failures: list[EntryFailure] = []
        for index, entry in enumerate(entries):
            version = json.loads(entry["Detail"])["version"]
            if version in self.refuse:
                failures.append(
                    EntryFailure(index=index, entry=entry, code="EntryTooLarge", message="big")
                )
                continue
            self.copies[version] = self.copies.get(version, 0) + 1
        return PutEventsResult(event_ids=[None] * len(entries), failures=failures)


class Shelf:
    """A parking place that keeps what it is given (or fails, when told to)."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.records: list[ParkedRecord] = []

    def park(self, record: ParkedRecord) -> None:
        if self.fail:
            raise ConnectionFailed("the bucket is unreachable")
        self.records.append(record)


BATCH = [deposit("100", 1), undecodable("200", "acc-1", 2), deposit("300", 3), deposit("400", 4)]


def test_an_undecodable_record_without_parking_is_retried_with_everything_after_it() -> None:
    # What Lambda does with the answer "this record failed": retry from it, publishing
    # the records after it again each time, then give the rest of the batch up.
    bus = CountingBus()
    mapping = EventSourceMapping(StreamsPublisher(ACCOUNT, bus, "bus"), maximum_retry_attempts=10)
    mapping.run(BATCH)
    assert bus.copies == {1: 1, 3: 11, 4: 11}  # 1 + MaximumRetryAttempts copies
    assert mapping.invocations == 11
    (discarded,) = mapping.discarded
    assert [r["dynamodb"]["SequenceNumber"] for r in discarded] == ["200", "300", "400"]


def test_an_undecodable_record_is_parked_alone_and_the_rest_published_once() -> None:
    bus, shelf = CountingBus(), Shelf()
    publisher = StreamsPublisher(ACCOUNT, bus, "bus", parking=shelf)
    mapping = EventSourceMapping(publisher, maximum_retry_attempts=10)
    mapping.run(BATCH)
    assert bus.copies == {1: 1, 3: 1, 4: 1}
    assert (mapping.invocations, mapping.discarded, publisher.parked) == (1, [], 1)
    (parked,) = shelf.records
    assert (parked.aggregate, parked.stream_id, parked.version) == ("account", "acc-1", 2)
    assert parked.sequence_number == "200"
    assert "is not its envelope's" in parked.error
    assert parked.record == BATCH[1]


def test_an_entry_eventbridge_refuses_for_good_is_parked_and_a_passing_failure_reported() -> None:
    shelf = Shelf()
    publisher = StreamsPublisher(ACCOUNT, CountingBus(refuse=frozenset({3})), "bus", shelf)
    assert publisher({"Records": [deposit("100", 1), deposit("300", 3)]}) == {
        "batchItemFailures": []
    }
    (parked,) = shelf.records
    assert parked.version == 3
    assert parked.error.startswith("EventBridge refused the entry: EntryTooLarge")

    class Throttled(CountingBus):
        def put_events(self, entries: list[Any]) -> PutEventsResult:
            failure = EntryFailure(
                index=0, entry=entries[0], code="ThrottlingException", message=""
            )
            return PutEventsResult(event_ids=[None] * len(entries), failures=[failure])

    passing = StreamsPublisher(ACCOUNT, Throttled(), "bus", Shelf())
    assert passing({"Records": [deposit("100", 1)]}) == {
        "batchItemFailures": [{"itemIdentifier": "100"}]
    }


def test_a_record_that_could_not_be_parked_stays_in_the_stream() -> None:
    publisher = StreamsPublisher(ACCOUNT, CountingBus(), "bus", parking=Shelf(fail=True))
    assert publisher({"Records": [undecodable("200")]}) == {
        "batchItemFailures": [{"itemIdentifier": "200"}]
    }
    assert publisher.parked == 0


def test_parked_records_land_in_the_bucket_one_object_each(
    moto_server: MotoServer, unique_name: str
) -> None:
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=moto_server.endpoint,
        region_name=TEST_REGION,
        aws_access_key_id=TEST_CREDENTIALS.access_key,
        aws_secret_access_key=TEST_CREDENTIALS.secret_key,
    )
    bucket = unique_name.lower()[-63:].strip("-")
    s3.create_bucket(Bucket=bucket)  # us-east-1: no location constraint
    client = S3(endpoint_url=moto_server.endpoint, region=TEST_REGION, credentials=TEST_CREDENTIALS)
    publisher = StreamsPublisher(ACCOUNT, CountingBus(), "bus", BucketParking(client, bucket))
    assert publisher({"Records": [undecodable("200", "acc-9", 7)]}) == {"batchItemFailures": []}
    body = s3.get_object(Bucket=bucket, Key="parked/account/200.json")["Body"].read()
    stored = json.loads(body)
    assert (stored["stream_id"], stored["version"], stored["sequence_number"]) == (
        "acc-9",
        7,
        "200",
    )
    assert stored["record"]["dynamodb"]["SequenceNumber"] == "200"


def test_s3_keys_are_limited_to_what_the_signer_canonicalises_like_s3() -> None:
    check_key("parked/account/200.json")
    for bad in ("", "a//b", "a/./b", "../a", "a b", "a%20b", "a=b", "é"):
        with pytest.raises(ValueError, match="S3 key"):
            check_key(bad)
