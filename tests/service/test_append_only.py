"""Event tables are append-only, and an overwrite or a delete is noticed, never published.

IAM denies UpdateItem and DeleteItem on event tables but cannot make PutItem conditional:
an unconditional PutItem over a stored event succeeds. Its stream record (MODIFY), like a
delete's (REMOVE), reaches the publisher, which counts and logs it and publishes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from hotcore.domain.account import ACCOUNT
from hotcore.entrypoints.publisher import PublisherFunction, StreamsPublisher
from hotcore.entrypoints.settings import Settings
from hotcore_dev.emulator import MotoServer
from tests.service.test_publisher import (
    CountingBus,
    stream_records,
    table_with_events,  # noqa: F401
)
from tests.support.fixtures import moto_server_fixture, unique_name_fixture  # noqa: F401


@pytest.fixture
def tampered_table(moto_server: MotoServer, table_with_events: str) -> str:  # noqa: F811
    """Three events appended by the store, then version 2 overwritten and version 3 deleted."""
    dynamodb = moto_server.dynamodb()
    forged = {"stream_id": {"S": "acc-1"}, "version": {"N": "2"}, "type": {"S": "Deposited"}}
    dynamodb.call("PutItem", {"TableName": table_with_events, "Item": forged})
    key = {"stream_id": {"S": "acc-1"}, "version": {"N": "3"}}
    dynamodb.call("DeleteItem", {"TableName": table_with_events, "Key": key})
    return table_with_events


def test_an_overwritten_and_a_deleted_event_are_counted_and_never_published(
    moto_server: MotoServer, tampered_table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    records = stream_records(moto_server, tampered_table)
    assert [r["eventName"] for r in records] == ["INSERT", "INSERT", "INSERT", "MODIFY", "REMOVE"]
    bus = CountingBus()
    publisher = StreamsPublisher(ACCOUNT, bus, "bus")
    assert publisher({"Records": records}) == {"batchItemFailures": []}
    assert bus.copies == {1: 1, 2: 1, 3: 1}  # the three INSERTs, once each; nothing else
    assert publisher.tampered == 2
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    changed = [line for line in logged if line["message"] == "stored event changed in place"]
    assert [(c["event_name"], c["stream_id"], c["version"]) for c in changed] == [
        ("MODIFY", "acc-1", 2),
        ("REMOVE", "acc-1", 3),
    ]
    assert all(c["level"] == "ERROR" for c in changed)


def test_the_publisher_function_writes_the_append_only_violations_metric(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings.for_publisher("account", {"AWS_REGION": "eu-west-1"})
    function = PublisherFunction("account", settings)
    function.publisher = StreamsPublisher(ACCOUNT, CountingBus(), "bus")
    removed: dict[str, Any] = {
        "eventName": "REMOVE",
        "dynamodb": {
            "Keys": {"stream_id": {"S": "acc-1"}, "version": {"N": "7"}},
            "SequenceNumber": "9",
        },
    }
    assert function({"Records": [removed]}) == {"batchItemFailures": []}
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (metric,) = [r for r in records if "AppendOnlyViolations" in r]
    assert metric["AppendOnlyViolations"] == [1.0]
    assert metric["aggregate"] == "account"
