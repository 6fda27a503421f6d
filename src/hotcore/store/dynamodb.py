"""DynamoDB event store: one table per aggregate, one item per event, conditional writes.

Keys and items (``stream_id`` is the partition key, ``version`` the sort key):

* event: ``(stream_id, version)`` with ``type``, ``data`` (a map: the event's fields),
  ``command_id``, ``correlation_id``, ``causation_id`` (absent when none), ``timestamp``
  and ``actor``. Only event items have ``type`` and ``data``: the Streams filter passes
  items with ``type``.
* command record: ``("command#<command_id>", 0)`` with ``ref_stream``, ``ref_version``
  and ``events``: the first outcome of a command id, for idempotency.
* snapshot: ``("<stream_id>#snapshot", version)`` with ``state`` (JSON text).
* guard (in a separate guard table, key ``guard`` = ``"<scope>#<value>"``): ``owner``.

An append is one ``TransactWriteItems``: every event ``Put`` with
``attribute_not_exists(version)``, the command record with
``attribute_not_exists(stream_id)``, the guard claims/releases, and a ``ConditionCheck``
that the previous event exists (so an expected version ahead of the stream cannot leave
a gap). A lone ``PutItem``
would be cheaper for one event, but the command record must commit atomically with the
event, or a re-sent command could be applied twice. ``ReturnValuesOnConditionCheckFailure
= ALL_OLD`` tells a lost race from a duplicate without another read, and the
``ClientRequestToken`` (derived from the command, stream and expected version) makes a
retried transaction after a lost response a no-op on DynamoDB's side. Event tables are
append-only: nothing here updates or deletes an item in them (IAM denies it too).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from hotcore.aws.dynamodb import DynamoDB
from hotcore.aws.errors import ConditionalCheckFailed, TransactionCanceled, TransactionConflict
from hotcore.codec.dynamodb import serialize_item
from hotcore.codec.query_page import page_decoder
from hotcore.contracts.common import CommandAck, Envelope, Guard
from hotcore.store.codec import JsonCodec
from hotcore.store.port import (
    DEFAULT_PAGE_SIZE,
    ConcurrencyConflict,
    DuplicateCommand,
    GuardViolation,
    InvalidAppend,
    Snapshot,
    check_append,
)

if TYPE_CHECKING:
    from hotcore.domain.aggregate import Aggregate
    from hotcore.runtime.config import Settings

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

_decode_json = msgspec.json.Decoder(dict[str, Any]).decode


def command_key(command_id: str) -> Item:
    return {"stream_id": {"S": f"command#{command_id}"}, "version": {"N": "0"}}


def snapshot_stream(stream_id: str) -> str:
    return f"{stream_id}#snapshot"


def item_size(item: Item) -> int:
    """An item's size as DynamoDB counts it (names + values), for the 400 KB limit."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(av: AttributeValue) -> int:
    ((tag, value),) = av.items()
    if tag == "S":
        return len(value.encode())
    if tag == "N":
        digits = len(value.strip("-").replace(".", "").lstrip("0")) or 1
        return (digits + 1) // 2 + 1
    if tag == "B":
        return len(value)
    if tag in ("BOOL", "NULL"):
        return 1
    if tag == "M":
        return 3 + sum(len(k.encode()) + _value_size(v) + 1 for k, v in value.items())
    if tag == "L":
        return 3 + sum(_value_size(v) + 1 for v in value)
    if tag in ("SS", "BS"):
        return sum(len(v.encode()) if isinstance(v, str) else len(v) for v in value)
    if tag == "NS":
        return sum(_value_size({"N": v}) for v in value)
    raise TypeError(f"unknown attribute value type {tag!r}")


class DynamoEventStore[E, S]:
    def __init__(
        self,
        client: DynamoDB,
        table: str,
        aggregate: str,
        event_type: Any,
        state_type: type[S],
        *,
        guard_table: str | None = None,
        consistent_reads: bool = True,
    ) -> None:
        self.client = client
        self.table = table
        self.guard_table = guard_table
        self.consistent_reads = consistent_reads
        self._aggregate = aggregate
        self._codec: JsonCodec[E, S] = JsonCodec(event_type, state_type)
        self._envelope_type: Any = Envelope[event_type]
        # built once per environment (init, or the SnapStart snapshot), reused per page
        self._decode_page = page_decoder(self._envelope_type).decode_page

    @classmethod
    def from_settings(
        cls, aggregate: Aggregate[Any, Any, Any, Any], settings: Settings
    ) -> DynamoEventStore[Any, Any]:
        assert settings.table is not None
        return cls(
            DynamoDB(region=settings.region),
            settings.table,
            aggregate.name,
            aggregate.event_type,
            aggregate.state_type,
            guard_table=settings.guard_table,
        )

    @property
    def aggregate(self) -> str:
        return self._aggregate

    def reset(self) -> None:
        """Drop the connection and cached credentials (after a SnapStart restore)."""
        self.client.client.reset()

    # -- writes ----------------------------------------------------------------------

    def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[Envelope[E]],
        *,
        command_id: str,
        guards: Sequence[Guard] = (),
    ) -> CommandAck:
        items = [self._event_item(event) for event in events]
        check_append(
            stream_id, expected_version, events, command_id, guards, [item_size(i) for i in items]
        )
        if guards and self.guard_table is None:
            raise InvalidAppend(
                f"{self._aggregate}: guards need a guard table (HOTCORE_GUARD_TABLE)"
            )
        ack = CommandAck(
            command_id=command_id,
            stream_id=stream_id,
            version=expected_version + len(events),
            events=len(events),
        )
        actions = self._actions(items, ack, guards)
        if expected_version > 0:
            # the previous event must exist, or an expected version ahead of the stream
            # would leave a gap; it is the transaction's last action
            actions.append(
                {
                    "ConditionCheck": {
                        "TableName": self.table,
                        "Key": {
                            "stream_id": {"S": stream_id},
                            "version": {"N": str(expected_version)},
                        },
                        "ConditionExpression": "attribute_exists(version)",
                    }
                }
            )
        try:
            self.client.transact_write_items(
                {
                    "TransactItems": actions,
                    "ClientRequestToken": _token(command_id, stream_id, expected_version),
                }
            )
        except TransactionCanceled as cancelled:
            return self._explain(cancelled, events, ack, guards, expected_version)
        except TransactionConflict as conflict:
            # another transaction holds one of these items right now: a race, retry by reload
            raise ConcurrencyConflict(stream_id, expected_version, None) from conflict
        return ack

    def _event_item(self, event: Envelope[E]) -> Item:
        plain = msgspec.to_builtins(event)
        if plain.get("causation_id") is None:
            plain.pop("causation_id", None)
        item: Item = serialize_item(plain)
        return item

    def _actions(self, items: list[Item], ack: CommandAck, guards: Sequence[Guard]) -> list[Item]:
        actions: list[Item] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(version)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
            for item in items
        ]
        actions.append(
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {
                        **command_key(ack.command_id),
                        "ref_stream": {"S": ack.stream_id},
                        "ref_version": {"N": str(ack.version)},
                        "events": {"N": str(ack.events)},
                    },
                    "ConditionExpression": "attribute_not_exists(stream_id)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        )
        for guard in guards:
            key = {"guard": {"S": f"{guard.scope}#{guard.value}"}}
            owner = {":owner": {"S": ack.stream_id}}
            if guard.claim:
                actions.append(
                    {
                        "Put": {
                            "TableName": self.guard_table,
                            "Item": {**key, "owner": {"S": ack.stream_id}},
                            "ConditionExpression": "attribute_not_exists(guard) OR #o = :owner",
                            "ExpressionAttributeNames": {"#o": "owner"},
                            "ExpressionAttributeValues": owner,
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    }
                )
            else:
                actions.append(
                    {
                        "Delete": {
                            "TableName": self.guard_table,
                            "Key": key,
                            "ConditionExpression": "#o = :owner",
                            "ExpressionAttributeNames": {"#o": "owner"},
                            "ExpressionAttributeValues": owner,
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    }
                )
        return actions

    def _explain(
        self,
        cancelled: TransactionCanceled,
        events: Sequence[Envelope[E]],
        ack: CommandAck,
        guards: Sequence[Guard],
        expected_version: int,
    ) -> CommandAck:
        """Turn a cancelled transaction into the store's typed outcome, or retry it once."""
        reasons = cancelled.reasons
        n = len(events)
        failed = {i for i, r in enumerate(reasons) if r.code == "ConditionalCheckFailed"}
        head = n + 1 + len(guards)  # the ConditionCheck on the previous event, if any
        if head in failed:
            raise ConcurrencyConflict(ack.stream_id, expected_version, None)
        record = reasons[n].item if n in failed else None
        if record is not None:  # the command record exists: this command was applied
            raise DuplicateCommand(_ack_from_record(ack.command_id, record))
        for i in sorted(failed):
            if i < n:
                old = reasons[i].item or {}
                if old.get("command_id", {}).get("S") == ack.command_id:
                    # our own earlier attempt landed (its response was lost)
                    raise DuplicateCommand(ack)
                raise ConcurrencyConflict(ack.stream_id, expected_version, None)
        guard_failures = [i - n - 1 for i in failed if n < i < head]
        if guard_failures:
            claims = [i for i in guard_failures if guards[i].claim]
            if claims:
                guard = guards[claims[0]]
                old = reasons[n + 1 + claims[0]].item or {}
                raise GuardViolation(guard.scope, guard.value, old.get("owner", {}).get("S", "?"))
            # only releases of values this stream does not own: those change nothing, so
            # the append goes through without them, as in every other adapter
            kept = [g for i, g in enumerate(guards) if i not in set(guard_failures)]
            return self.append(
                ack.stream_id,
                expected_version,
                events,
                command_id=ack.command_id,
                guards=kept,
            )
        codes = ", ".join(r.code for r in reasons)
        if "TransactionConflict" in codes:
            raise ConcurrencyConflict(ack.stream_id, expected_version, None) from cancelled
        raise cancelled

    # -- reads -----------------------------------------------------------------------

    def load(
        self, stream_id: str, from_version: int = 1, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Iterator[list[Envelope[E]]]:
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "stream_id = :s AND version >= :v",
            "ExpressionAttributeValues": {":s": {"S": stream_id}, ":v": {"N": str(from_version)}},
            "ConsistentRead": self.consistent_reads,
            "Limit": page_size,
        }
        decode = self._decode_page
        while True:
            # straight from the response bytes into typed envelopes (hotcore.codec.query_page)
            page = decode(self.client.query_raw(request))
            if page.items:
                yield page.items
            if not page.last_evaluated_key:
                return
            request["ExclusiveStartKey"] = page.last_evaluated_key

    def find_command(self, command_id: str) -> CommandAck | None:
        found = self.client.get_item(
            {"TableName": self.table, "Key": command_key(command_id), "ConsistentRead": True}
        )
        item = found.get("Item")
        return None if item is None else _ack_from_record(command_id, item)

    def save_snapshot(self, snapshot: Snapshot[S]) -> None:
        # a snapshot of this version may exist already: snapshots are append-only too
        with contextlib.suppress(ConditionalCheckFailed):
            self.client.put_item(
                {
                    "TableName": self.table,
                    "Item": {
                        "stream_id": {"S": snapshot_stream(snapshot.stream_id)},
                        "version": {"N": str(snapshot.version)},
                        "state": {"S": self._codec.encode(snapshot.state).decode()},
                    },
                    "ConditionExpression": "attribute_not_exists(version)",
                }
            )

    def load_snapshot(self, stream_id: str) -> Snapshot[S] | None:
        page = self.client.query(
            {
                "TableName": self.table,
                "KeyConditionExpression": "stream_id = :s",
                "ExpressionAttributeValues": {":s": {"S": snapshot_stream(stream_id)}},
                "ScanIndexForward": False,
                "Limit": 1,
                "ConsistentRead": self.consistent_reads,
            }
        )
        items = page.get("Items") or []
        if not items:
            return None
        item = items[0]
        body = (
            b'{"stream_id":'
            + msgspec.json.encode(stream_id)
            + b',"version":'
            + item["version"]["N"].encode()
            + b',"state":'
            + item["state"]["S"].encode()
            + b"}"
        )
        return self._codec.decode_snapshot(body)


def _ack_from_record(command_id: str, item: dict[str, Any]) -> CommandAck:
    return CommandAck(
        command_id=command_id,
        stream_id=item["ref_stream"]["S"],
        version=int(item["ref_version"]["N"]),
        events=int(item["events"]["N"]),
    )


def _token(command_id: str, stream_id: str, expected_version: int) -> str:
    # 1-36 characters; a different stream or expected version is a different transaction
    digest = hashlib.sha256(f"{command_id}\n{stream_id}\n{expected_version}".encode())
    return digest.hexdigest()[:36]
