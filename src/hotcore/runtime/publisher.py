"""Publishing committed events to the bus: envelope -> PutEvents entry, and the outbox relay.

An event reaches the bus only after it was committed (it comes from the outbox, or on
AWS from the table's stream), and it leaves the outbox only once the bus accepted it:
a crash in between publishes it again, never loses it (at-least-once).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import msgspec

from hotcore.codec.dynamodb import deserialize_item
from hotcore.contracts.common import Envelope
from hotcore.domain.aggregate import Aggregate
from hotcore.store.port import Outbox, OutboxEntry

MAX_ENTRIES_PER_PUT = 10


class EventSink(Protocol):
    """Anything with EventBridge's PutEvents shape (the local bus, the AWS client)."""

    def put_events(self, entries: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]: ...


def bus_entry(aggregate: str, event_type: str, detail_json: str, bus_name: str) -> dict[str, str]:
    """The PutEvents entry for one committed event: source = aggregate, detail = envelope."""
    return {
        "Source": f"hotcore.{aggregate}",
        "DetailType": event_type,
        "Detail": detail_json,
        "EventBusName": bus_name,
    }


def relay_outbox(outbox: Outbox, sink: EventSink, bus_name: str, batch: int = 100) -> int:
    """Publish pending outbox entries in commit order; returns how many were published.

    Stops at the first entry the bus refused, so order is kept and it is retried next time.
    """
    published = 0
    while entries := outbox.pending(batch):
        for start in range(0, len(entries), MAX_ENTRIES_PER_PUT):
            chunk = entries[start : start + MAX_ENTRIES_PER_PUT]
            accepted = _put(chunk, sink, bus_name)
            outbox.mark_published(accepted)
            published += len(accepted)
            if len(accepted) < len(chunk):
                return published
    return published


def _put(chunk: list[OutboxEntry], sink: EventSink, bus_name: str) -> list[int]:
    result = sink.put_events(
        [bus_entry(e.aggregate, e.type, e.detail.decode(), bus_name) for e in chunk]
    )
    accepted: list[int] = []
    for entry, outcome in zip(chunk, result["Entries"], strict=True):
        if "ErrorCode" in outcome:
            break
        accepted.append(entry.position)
    return accepted


class StreamsPublisher:
    """DynamoDB Streams records of one aggregate's table -> EventBridge, for the publisher Lambda.

    Only INSERTs of event items are published (command records and snapshots have no
    ``data``); each is decoded into the aggregate's envelope, so what goes on the bus is
    exactly what the local outbox relay sends. Records whose entry still failed after
    the client's retries, or that do not decode, are returned as ``batchItemFailures``:
    Lambda retries from the first of them (at-least-once; consumers are idempotent), and
    a record that can never be published ends in the event source mapping's on-failure
    destination instead of being dropped.
    """

    def __init__(self, aggregate: Aggregate[Any, Any, Any, Any], sink: Any, bus_name: str) -> None:
        self.aggregate = aggregate
        self.sink = sink  # hotcore.aws.eventbridge.EventBridge (put_events -> PutEventsResult)
        self.bus_name = bus_name
        self._envelope: Any = Envelope[aggregate.event_type]  # type: ignore[name-defined]
        self._encode = msgspec.json.Encoder().encode

    def __call__(self, event: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
        records = event.get("Records")
        if not isinstance(records, list):
            raise ValueError("not a DynamoDB Streams batch: no 'Records' list")
        entries: list[dict[str, str]] = []
        owners: list[str] = []  # the sequence number of the record behind each entry
        failed: list[str] = []
        for record in records:
            change = record.get("dynamodb") or {}
            sequence = str(change.get("SequenceNumber", ""))
            image = change.get("NewImage")
            if record.get("eventName") != "INSERT" or not image or "data" not in image:
                continue  # not an event item: nothing to publish
            try:
                envelope = msgspec.convert(deserialize_item(image), self._envelope)
            except (msgspec.ValidationError, TypeError, ValueError):
                failed.append(sequence)
                continue
            detail = self._encode(envelope).decode()
            entries.append(bus_entry(self.aggregate.name, envelope.type, detail, self.bus_name))
            owners.append(sequence)
        if entries:
            result = self.sink.put_events(entries)
            failed += [owners[failure.index] for failure in result.failures]
        return {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}
