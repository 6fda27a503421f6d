"""Publishing committed events to the bus: envelope -> PutEvents entry, and the outbox relay.

An event reaches the bus only after it was committed (it comes from the outbox, or on
AWS from the table's stream), and it leaves the outbox only once the bus accepted it:
a crash in between publishes it again, never loses it (at-least-once).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

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
