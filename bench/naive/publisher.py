"""Naive-Python Streams publisher: DynamoDB Streams records -> EventBridge entries, with boto3.

What a team writes for the same job as hotcore's publisher: each INSERT's ``NewImage``
through ``TypeDeserializer``, the envelope (``e``) validated by the pydantic model and
sent as stored as the entry's ``Detail``, the entries sent with ``put_events`` in chunks
of 10. Records that fail are reported back as ``batchItemFailures``.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from ledger import stored_event

BUS = os.environ.get("HOTCORE_BUS_NAME", "default")
SOURCE = os.environ.get("HOTCORE_EVENT_SOURCE", "hotcore.account")

events = boto3.client("events")
deserializer = TypeDeserializer()


def entries_of(records: list[dict[str, Any]]) -> tuple[list[dict[str, str]], list[str]]:
    """The PutEvents entries of a batch's new event items, and the records that failed."""
    entries: list[dict[str, str]] = []
    failed: list[str] = []
    for record in records:
        if record.get("eventName") != "INSERT":
            continue
        change = record["dynamodb"]
        try:
            item = {k: deserializer.deserialize(v) for k, v in change["NewImage"].items()}
            envelope = stored_event.validate_json(item["e"])
        except (KeyError, TypeError, ValueError):
            failed.append(change.get("SequenceNumber", ""))
            continue
        entries.append(
            {
                "Source": SOURCE,
                "DetailType": envelope.type,
                "Detail": item["e"],
                "EventBusName": BUS,
            }
        )
    return entries, failed


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    entries, failed = entries_of(event["Records"])
    for start in range(0, len(entries), 10):
        answer = events.put_events(Entries=entries[start : start + 10])
        if answer.get("FailedEntryCount"):
            failed += [
                event["Records"][start + i]["dynamodb"]["SequenceNumber"]
                for i, result in enumerate(answer["Entries"])
                if "ErrorCode" in result
            ]
    return {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}
