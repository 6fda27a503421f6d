"""Publishing committed events to the bus: envelope -> PutEvents entry, and the outbox relay.

An event reaches the bus only after it was committed (it comes from the outbox, or on
AWS from the table's stream), and it leaves the outbox only once the bus accepted it:
a crash in between publishes it again, never loses it (at-least-once).

The relay does not promise order across events. PutEvents judges each entry on its
own, so when one entry is refused the entries after it in the same call are already on
the bus, and EventBridge does not deliver to targets in order anyway. Consumers rely on
per-stream versions and idempotent command ids, never on arrival order.

**One publish per command.** GraphQL subscribers get a command's events together: the
last entry of each command (consecutive entries of one stream and command id) carries
``subscribers``, the command's events in the API's shape (``hotcore.codec.graphql``:
camelCase, ``__typename``, no actor), and only such entries match the subscription
delivery rule, so EventBridge calls ``publish`` once per command, with no extra entry.
When carrying them would break EventBridge's 256 KB entry limit, each event carries
itself; an event too big even for that carries none and says so (``truncated``:
subscribers read the versions it names with the history query). A command whose carrier
was refused is sent again from its first entry (at-least-once), so the carrier that
finally lands names all of its events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import msgspec

from hotcore.codec.events import EventReader
from hotcore.codec.graphql import EventShapes
from hotcore.domain.names import aggregate_of_source, event_source
from hotcore.domain.registry import load_aggregate
from hotcore.store.port import Outbox, OutboxEntry

MAX_ENTRIES_PER_PUT = 10
#: EventBridge's limit for one entry (and one PutEvents request).
MAX_ENTRY_BYTES = 256 * 1024
#: The key of a command's last entry that carries its events to the subscribers.
SUBSCRIBERS = "subscribers"

_decode = msgspec.json.decode
_encode = msgspec.json.Encoder().encode
_shapes: dict[str, tuple[EventShapes, EventReader[Any]]] = {}


def _shaped(aggregate: str, detail: str) -> dict[str, Any]:
    """One envelope as the API's event object, upcast to its current version (an event
    this code cannot read keeps its fields, camelCased)."""
    found = _shapes.get(aggregate)
    if found is None:
        event_type = load_aggregate(aggregate).event_type
        found = _shapes[aggregate] = (EventShapes(event_type), EventReader(event_type))
    shapes, reader = found
    try:
        return shapes.envelope(reader.decode(detail))
    except (msgspec.ValidationError, msgspec.DecodeError, ValueError):
        return shapes.event(_decode(detail))


def command_groups(entries: Sequence[Mapping[str, str]]) -> list[list[int]]:
    """Indexes of ``entries`` by command: consecutive entries of one source, stream and
    command id (the order the store and the table's stream keep)."""
    groups: list[list[int]] = []
    last: tuple[str, object, object] | None = None
    for index, entry in enumerate(entries):
        header = _decode(entry["Detail"])
        key = (entry["Source"], header.get("stream_id"), header.get("command_id"))
        if key != last:
            groups.append([])
            last = key
        groups[-1].append(index)
    return groups


def for_subscribers(
    entries: Sequence[Mapping[str, str]], groups: Sequence[Sequence[int]] | None = None
) -> list[dict[str, str]]:
    """``entries`` with the last of each command carrying its events (module docstring);
    ``groups``: their ``command_groups`` if the caller has them already."""
    out = [dict(entry) for entry in entries]
    for group in command_groups(entries) if groups is None else groups:
        aggregate = aggregate_of_source(entries[group[-1]]["Source"]) or ""
        events = [_shaped(aggregate, entries[i]["Detail"]) for i in group]
        carried = _carrier(out[group[-1]], aggregate, events)
        if carried is not None:
            out[group[-1]] = carried
            continue
        for index, event in zip(group, events, strict=True):  # too big together
            alone = _carrier(out[index], aggregate, [event])
            if alone is None:
                alone = _carrier(out[index], aggregate, [event], truncated=True)
                assert alone is not None  # a truncated carrier always goes
            out[index] = alone
    return out


def _carrier(
    entry: dict[str, str],
    aggregate: str,
    events: list[dict[str, Any]],
    *,
    truncated: bool = False,
) -> dict[str, str] | None:
    """``entry`` carrying ``events`` to the subscribers, or None if it would not fit."""
    payload = {
        "aggregate": aggregate,
        "streamId": events[-1].get("streamId"),
        "fromVersion": events[0].get("version"),
        "toVersion": events[-1].get("version"),
        "truncated": truncated,
        "events": [] if truncated else events,
    }
    detail = entry["Detail"]
    carried = b'%s,"%s":%s}' % (detail.encode()[:-1], SUBSCRIBERS.encode(), _encode(payload))
    size = len(carried) + len(entry["Source"].encode()) + len(entry["DetailType"].encode())
    if size > MAX_ENTRY_BYTES and not truncated:
        return None
    return {**entry, "Detail": carried.decode()}


class EventSink(Protocol):
    """Anything with EventBridge's PutEvents shape (the local bus, the AWS client)."""

    def put_events(self, entries: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]: ...


def bus_entry(aggregate: str, event_type: str, detail_json: str, bus_name: str) -> dict[str, str]:
    """The PutEvents entry for one committed event: source = aggregate, detail = envelope."""
    return {
        "Source": event_source(aggregate),
        "DetailType": event_type,
        "Detail": detail_json,
        "EventBusName": bus_name,
    }


def relay_outbox(outbox: Outbox, sink: EventSink, bus_name: str, batch: int = 100) -> int:
    """Publish pending outbox entries, oldest first; returns how many the bus accepted.

    Every accepted entry leaves the outbox, so it is published once; a refused entry
    stays for the next call without holding back the others. After a call with a
    refusal the relay stops, so a bus that keeps refusing is not asked again at once.
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
    """The positions of the entries the bus accepted (PutEvents answers entry by entry).

    A command counts as accepted only whole: if one of its entries (its carrier, say) is
    refused, all of them are sent again, so the carrier that lands names every event.
    """
    entries = [bus_entry(e.aggregate, e.type, e.detail.decode(), bus_name) for e in chunk]
    groups = command_groups(entries)
    result = sink.put_events(for_subscribers(entries, groups))
    refused = {i for i, outcome in enumerate(result["Entries"]) if "ErrorCode" in outcome}
    return [chunk[i].position for group in groups if not refused & set(group) for i in group]
