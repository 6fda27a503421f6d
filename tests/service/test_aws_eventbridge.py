"""EventBridge PutEvents: batching limits and per-entry retries (fault double), delivery (moto).

moto delivers events matching a rule to an SQS queue, which the test reads back
through the same signed client (SQS speaks the JSON protocol too).
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from hotcore.aws.client import RetryPolicy, ServiceClient
from hotcore.aws.eventbridge import MAX_BATCH_BYTES, EventBridge, entry_size
from hotcore_dev.emulator import TEST_CREDENTIALS, TEST_REGION, MotoServer
from tests.support.fault_proxy import Fault, FaultProxy
from tests.support.fixtures import (  # noqa: F401
    fault_proxy_fixture,
    moto_server_fixture,
    unique_name_fixture,
)


def entry(number: int, detail_size: int = 0) -> dict[str, Any]:
    detail = {"n": number, "pad": "x" * detail_size}
    return {"Source": "hotcore.account", "DetailType": "Deposited", "Detail": json.dumps(detail)}


def bridge(endpoint: str, **options: Any) -> EventBridge:
    return EventBridge(
        endpoint_url=endpoint,
        region=TEST_REGION,
        credentials=TEST_CREDENTIALS,
        sleep=lambda _: None,
        **options,
    )


def answers(*codes: str | None) -> Fault:
    """A PutEvents response: an id for None, that error code otherwise."""
    entries = [
        {"EventId": f"id-{i}"} if code is None else {"ErrorCode": code, "ErrorMessage": "no"}
        for i, code in enumerate(codes)
    ]
    body = {"FailedEntryCount": sum(code is not None for code in codes), "Entries": entries}
    return Fault.respond(200, body, operation="PutEvents")


def sent_entries(proxy: FaultProxy) -> list[list[int]]:
    """The ``n`` of each entry, per request the double received."""
    return [
        [json.loads(e["Detail"])["n"] for e in json.loads(r.body)["Entries"]]
        for r in proxy.requests
    ]


def test_entries_go_in_batches_of_ten(fault_proxy: FaultProxy) -> None:
    fault_proxy.script(answers(*[None] * 10), answers(*[None] * 10), answers(*[None] * 5))
    result = bridge(fault_proxy.endpoint).put_events([entry(i) for i in range(25)])
    assert result.failures == []
    assert [len(batch) for batch in sent_entries(fault_proxy)] == [10, 10, 5]
    assert all(event_id is not None for event_id in result.event_ids)


def test_batches_stay_under_256_kb(fault_proxy: FaultProxy) -> None:
    big = [entry(i, detail_size=100 * 1024) for i in range(5)]
    fault_proxy.script(answers(None, None), answers(None, None), answers(None))
    result = bridge(fault_proxy.endpoint).put_events(big)
    assert result.failures == []
    batches = sent_entries(fault_proxy)
    assert batches == [[0, 1], [2, 3], [4]]
    for batch in batches:
        assert sum(entry_size(big[n]) for n in batch) <= MAX_BATCH_BYTES


def test_failed_entries_are_retried_alone(fault_proxy: FaultProxy) -> None:
    fault_proxy.script(
        answers(None, "ThrottlingException", None, "InternalFailure"),
        answers(None, None),
    )
    result = bridge(fault_proxy.endpoint).put_events([entry(i) for i in range(4)])
    assert result.failures == []
    assert sent_entries(fault_proxy) == [[0, 1, 2, 3], [1, 3]]
    assert result.event_ids == ["id-0", "id-0", "id-2", "id-1"]


def test_entries_that_keep_failing_are_reported_in_order(fault_proxy: FaultProxy) -> None:
    fault_proxy.script(
        answers("MalformedDetail", None, "ThrottlingException"),
        answers("ThrottlingException"),
        answers("ThrottlingException"),
    )
    events = bridge(fault_proxy.endpoint, retry=RetryPolicy(max_attempts=3))
    result = events.put_events([entry(i) for i in range(3)])
    assert [(f.index, f.code) for f in result.failures] == [
        (0, "MalformedDetail"),
        (2, "ThrottlingException"),
    ]
    assert result.failures[1].entry == entry(2)
    # The permanent failure was not sent again; the transient one three times.
    assert sent_entries(fault_proxy) == [[0, 1, 2], [2], [2]]
    assert result.event_ids == [None, "id-1", None]


def test_an_oversized_entry_is_reported_without_being_sent(fault_proxy: FaultProxy) -> None:
    fault_proxy.script(answers(None))
    result = bridge(fault_proxy.endpoint).put_events(
        [entry(0, detail_size=MAX_BATCH_BYTES), entry(1)]
    )
    assert [(f.index, f.code) for f in result.failures] == [(0, "EntryTooLarge")]
    assert sent_entries(fault_proxy) == [[1]]


def test_a_whole_request_that_fails_reports_its_entries(fault_proxy: FaultProxy) -> None:
    fault_proxy.script(
        answers(*[None] * 10), *[Fault.throttle(operation="PutEvents") for _ in range(2)]
    )
    events = bridge(fault_proxy.endpoint, retry=RetryPolicy(max_attempts=2))
    result = events.put_events([entry(i) for i in range(12)])
    assert [f.index for f in result.failures] == [10, 11]
    assert {f.code for f in result.failures} == {"ProvisionedThroughputExceededException"}
    # The client already retried the request with backoff; put_events does not repeat it.
    assert len(fault_proxy.requests) == 3
    assert fault_proxy.pending == []


@pytest.fixture
def sqs(moto_server: MotoServer) -> ServiceClient:
    return ServiceClient(
        service="sqs",
        target_prefix="AmazonSQS",
        content_type="application/x-amz-json-1.0",
        endpoint_url=moto_server.endpoint,
        region=TEST_REGION,
        credentials=TEST_CREDENTIALS,
    )


def test_put_events_reach_a_rule_target_in_moto(
    moto_server: MotoServer, sqs: ServiceClient, unique_name: str
) -> None:
    events = bridge(moto_server.endpoint)
    queue_url = msgspec.json.decode(sqs.call("CreateQueue", {"QueueName": unique_name}))["QueueUrl"]
    queue_arn = f"arn:aws:sqs:{TEST_REGION}:123456789012:{unique_name}"
    bus = unique_name
    events.client.call("CreateEventBus", {"Name": bus})
    pattern = {"source": ["hotcore.account"], "detail-type": ["Deposited"]}
    events.client.call(
        "PutRule", {"Name": "to-queue", "EventBusName": bus, "EventPattern": json.dumps(pattern)}
    )
    events.client.call(
        "PutTargets",
        {"Rule": "to-queue", "EventBusName": bus, "Targets": [{"Id": "q", "Arn": queue_arn}]},
    )
    entries = [{**entry(i), "EventBusName": bus} for i in range(12)]
    entries.append({**entry(99), "EventBusName": bus, "DetailType": "Withdrawn"})
    result = events.put_events(entries)
    assert result.failures == []
    assert len(set(result.event_ids)) == 13

    received: list[int] = []
    for _ in range(10):
        messages = msgspec.json.decode(
            sqs.call(
                "ReceiveMessage",
                {"QueueUrl": queue_url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 0},
            )
        ).get("Messages", [])
        for message in messages:
            received.append(json.loads(message["Body"])["detail"]["n"])
            sqs.call(
                "DeleteMessage",
                {"QueueUrl": queue_url, "ReceiptHandle": message["ReceiptHandle"]},
            )
        if len(received) >= 12:
            break
    assert sorted(received) == list(range(12))
