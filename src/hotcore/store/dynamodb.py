"""DynamoDB event store, item layout 2: one table per aggregate, one item per event.

Keys: ``stream_id`` (partition, S) and ``version`` (sort, N). The event item is the only
kind of item in the table (docs/store.md has the full reference):

* ``type``: the event type (the Streams filter passes items that have it);
* ``e``: the envelope JSON, the very bytes the publisher sends as EventBridge ``Detail``;
* ``f``: the fingerprint of the command that produced the event;
* ``s`` (on some items): a snapshot of the state after that event, embedded in the last
  event item of a command: ``{"v": state version, "h": state schema hash, "state": ...,
  "recent": the stream's last 64 commands, 21 bytes each, base64}``.

Guards live in a separate guard table (key ``guard`` = ``"<scope>#<value>"``, ``owner``).

Loading the latest state is one Query, newest first, ``Limit`` = the snapshot interval:
items are collected until the first one whose snapshot is valid (same state version and
schema hash); without one it pages on to the start of the stream. The commands of the
collected events and the snapshot's ``recent`` list are the stream's recent-commands
window (at least its last ``RECENT_COMMANDS``): a command id found there is a re-send.

An append checks the command id against that window at ``expected_version`` (the store
keeps, per stream, the top version and window it last read or wrote, in a small bounded
map; it reads them first when it has not). A single event without guards is then one
conditional ``PutItem`` (``attribute_not_exists(version)``): gap-free because the
expected version is a top the store read, and event items are never deleted. Several
events or guards make one ``TransactWriteItems`` whose ``ClientRequestToken`` is a hash
of its whole content, so a different transaction never reuses a token (a mismatch is
handled as a lost race). A failed condition returns the old item (``ALL_OLD``): if it
carries this command id, an earlier attempt landed and its record answers; otherwise it
is a lost race (``ConcurrencyConflict``). Nothing here updates or deletes an event item
(IAM denies it too).
"""

from __future__ import annotations

import binascii
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import msgspec

from hotcore.aws.dynamodb import DynamoDB
from hotcore.aws.errors import (
    ConditionalCheckFailed,
    IdempotentParameterMismatch,
    TransactionCanceled,
    TransactionConflict,
)
from hotcore.codec.events import EventItemPages, LoadedEvent, StoredEventUnreadable, StoredItem
from hotcore.contracts.common import CommandAck, Envelope, Guard
from hotcore.store.codec import StreamCodec
from hotcore.store.fingerprint import digest, id_hash
from hotcore.store.port import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_SNAPSHOT_EVERY,
    MAX_ITEM_BYTES,
    MAX_TRANSACTION_BYTES,
    RECENT_COMMANDS,
    CommandIdReused,
    CommandRecord,
    ConcurrencyConflict,
    DuplicateCommand,
    GuardViolation,
    InvalidAppend,
    Latest,
    Snapshot,
)

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

#: A command in the recent-commands window: (id hash, fingerprint, version after, events).
#: Entries from a snapshot's compact list keep the fingerprint's first 16 hex digits.
Recent = tuple[bytes, str, int, int]
_RECENT_BYTES = 8 + 8 + 4 + 1
#: Streams whose top version and window the store keeps (per process, oldest dropped).
KNOWN_STREAMS = 1024


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


def pack_recent(window: Sequence[Recent]) -> str:
    """The snapshot's ``recent``: 21 bytes per command, base64.

    SHA-256 of the command id (8 bytes), the fingerprint's first 8 bytes (two different
    commands under one id share them with a chance of 2^-64), the version after the
    command (4) and its event count (1).
    """
    packed = b"".join(
        key
        + bytes.fromhex(fingerprint[:16])
        + version.to_bytes(4, "big")
        + events.to_bytes(1, "big")
        for key, fingerprint, version, events in window
    )
    return binascii.b2a_base64(packed, newline=False).decode()


def unpack_recent(text: str) -> list[Recent]:
    packed = binascii.a2b_base64(text)
    if len(packed) % _RECENT_BYTES:
        raise ValueError("a snapshot's recent commands are not whole entries")
    return [
        (
            packed[at : at + 8],
            packed[at + 8 : at + 16].hex(),
            int.from_bytes(packed[at + 16 : at + 20], "big"),
            packed[at + 20],
        )
        for at in range(0, len(packed), _RECENT_BYTES)
    ]


class _SnapshotAttribute(msgspec.Struct, frozen=True):
    v: int
    h: str
    state: msgspec.Raw
    recent: str = ""


class _CommandOf(msgspec.Struct, frozen=True):
    command_id: str


_decode_snapshot = msgspec.json.Decoder(_SnapshotAttribute).decode
_decode_command_of = msgspec.json.Decoder(_CommandOf).decode
_encode = msgspec.json.Encoder().encode


class _Known(msgspec.Struct, frozen=True):
    """A stream's top version as this store last read or wrote it, and its command window."""

    top: int
    window: tuple[Recent, ...]

    def find(self, command_id: str) -> Recent | None:
        key = id_hash(command_id)
        for recent in reversed(self.window):
            if recent[0] == key:
                return recent
        return None


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
        state_version: int = 1,
    ) -> None:
        self.client = client
        self.table = table
        self.guard_table = guard_table
        self.consistent_reads = consistent_reads
        self._aggregate = aggregate
        self.codec: StreamCodec[E, S] = StreamCodec(event_type, state_type, state_version)
        # built once per environment (init, or the SnapStart snapshot), reused per page
        self._pages: EventItemPages[E] = EventItemPages(self.codec.reader)
        self._known: dict[str, _Known] = {}
        self._known_lock = threading.Lock()
        self._prefix: str | None = None  # how a valid snapshot attribute starts

    @property
    def aggregate(self) -> str:
        return self._aggregate

    def reset(self) -> None:
        """Drop the connection, cached credentials and known tops (after a SnapStart restore)."""
        self.client.client.reset()
        with self._known_lock:
            self._known.clear()

    # -- the streams this store has read -------------------------------------------------

    def _remember(self, stream_id: str, top: int, window: Sequence[Recent]) -> _Known:
        known = _Known(top, tuple(window[-(RECENT_COMMANDS * 4) :]))
        with self._known_lock:
            self._known.pop(stream_id, None)
            if len(self._known) >= KNOWN_STREAMS:
                del self._known[next(iter(self._known))]
            self._known[stream_id] = known
        return known

    def _forget(self, stream_id: str) -> None:
        with self._known_lock:
            self._known.pop(stream_id, None)

    # -- writes ----------------------------------------------------------------------

    def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[Envelope[E]],
        *,
        command_id: str,
        fingerprint: str,
        guards: Sequence[Guard] = (),
        snapshot: S | None = None,
    ) -> CommandAck:
        encoded = self.codec.encode_append(
            stream_id, expected_version, events, command_id, fingerprint, guards
        )
        if guards and self.guard_table is None:
            raise InvalidAppend(
                f"{self._aggregate}: guards need a guard table (HOTCORE_GUARD_TABLE)"
            )
        known = self._window_at(stream_id, expected_version, command_id, fingerprint)
        items = [
            self._event_item(stream_id, event, raw, fingerprint)
            for event, raw in zip(events, encoded, strict=True)
        ]
        ack = CommandAck(
            command_id=command_id,
            stream_id=stream_id,
            version=expected_version + len(events),
            events=len(events),
        )
        window = (*known.window, (id_hash(command_id), fingerprint, ack.version, ack.events))
        if snapshot is not None:
            self._embed_snapshot(items, snapshot, window)
        if len(items) == 1 and not guards:
            self._put(items[0], ack, expected_version, fingerprint)
        else:
            self._transact(items, ack, guards, expected_version, fingerprint)
        self._remember(stream_id, ack.version, window)
        return ack

    def _window_at(
        self, stream_id: str, expected_version: int, command_id: str, fingerprint: str
    ) -> _Known:
        """The window at ``expected_version``, read if unknown; refuses an applied command."""
        known = self._known.get(stream_id)
        if known is None or known.top < expected_version:
            self.load_latest(stream_id)
            known = self._known.get(stream_id) or _Known(0, ())
        applied = known.find(command_id)
        if applied is not None:
            first = CommandAck(
                command_id=command_id, stream_id=stream_id, version=applied[2], events=applied[3]
            )
            if fingerprint.startswith(applied[1]):
                raise DuplicateCommand(first)
            raise CommandIdReused(first)
        if known.top != expected_version:
            # a top this store read: ahead of it would leave a gap, behind it is taken
            raise ConcurrencyConflict(stream_id, expected_version, known.top)
        return known

    def _event_item(self, stream_id: str, event: Envelope[E], raw: bytes, fingerprint: str) -> Item:
        return {
            "stream_id": {"S": stream_id},
            "version": {"N": str(event.version)},
            "type": {"S": event.type},
            "e": {"S": raw.decode()},
            "f": {"S": fingerprint},
        }

    def _embed_snapshot(self, items: list[Item], snapshot: S, window: Sequence[Recent]) -> None:
        """Put the snapshot on the last item, unless it would break an item or size limit."""
        codec = self.codec
        body = (
            b'{"v":%d,"h":"%s","state":%s,"recent":"%s"}'
            % (
                codec.state_version,
                codec.state_hash.encode(),
                codec.encode_state(snapshot),
                pack_recent(window[-RECENT_COMMANDS:]).encode(),
            )
        ).decode()
        added = 1 + len(body.encode())
        last = item_size(items[-1]) + added
        total = sum(item_size(item) for item in items) + added
        if last <= MAX_ITEM_BYTES and total <= MAX_TRANSACTION_BYTES:
            items[-1]["s"] = {"S": body}
        # else: no snapshot this time; the next command's write is due to carry one

    def _put(self, item: Item, ack: CommandAck, expected_version: int, fingerprint: str) -> None:
        try:
            self.client.put_item(
                {
                    "TableName": self.table,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(version)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            )
        except ConditionalCheckFailed as failed:
            self._lost(failed.item, ack, expected_version, fingerprint)

    def _lost(
        self, old: Item | None, ack: CommandAck, expected_version: int, fingerprint: str
    ) -> None:
        """A failed condition on an event slot: our own earlier attempt, or a lost race."""
        self._forget(ack.stream_id)
        if old is not None and "e" in old:
            try:
                holder = _decode_command_of(old["e"]["S"]).command_id
            except (msgspec.DecodeError, KeyError, TypeError):
                holder = None
            if holder is not None and holder != ack.command_id:
                raise ConcurrencyConflict(ack.stream_id, expected_version, None)
        # our command id holds the slot (a response was lost), or we cannot tell: read
        latest = self.load_latest(ack.stream_id, command_id=ack.command_id)
        if latest.command is not None:
            first = latest.command.outcome(ack.stream_id)
            if latest.command.same_command(fingerprint):
                raise DuplicateCommand(first)
            raise CommandIdReused(first)
        raise ConcurrencyConflict(ack.stream_id, expected_version, latest.version)

    def _transact(
        self,
        items: list[Item],
        ack: CommandAck,
        guards: Sequence[Guard],
        expected_version: int,
        fingerprint: str,
    ) -> None:
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
        actions += [self._guard_action(guard, ack.stream_id) for guard in guards]
        # the token names this exact transaction: a retry of it is a no-op, anything
        # different (another attempt, other guards, other timestamps) gets another token
        token = digest(_encode(actions)).hex()[:36]
        try:
            self.client.transact_write_items(
                {"TransactItems": actions, "ClientRequestToken": token}
            )
        except TransactionCanceled as cancelled:
            self._explain(cancelled, items, ack, guards, expected_version, fingerprint)
        except (TransactionConflict, IdempotentParameterMismatch) as conflict:
            # another transaction holds one of these items right now, or (mismatch) a
            # token was seen with other content: a race either way, retry by reloading
            self._forget(ack.stream_id)
            raise ConcurrencyConflict(ack.stream_id, expected_version, None) from conflict

    def _guard_action(self, guard: Guard, owner_stream: str) -> Item:
        key = {"guard": {"S": f"{guard.scope}#{guard.value}"}}
        owner = {":owner": {"S": owner_stream}}
        if guard.claim:
            return {
                "Put": {
                    "TableName": self.guard_table,
                    "Item": {**key, "owner": {"S": owner_stream}},
                    "ConditionExpression": "attribute_not_exists(guard) OR #o = :owner",
                    "ExpressionAttributeNames": {"#o": "owner"},
                    "ExpressionAttributeValues": owner,
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        return {
            "Delete": {
                "TableName": self.guard_table,
                "Key": key,
                "ConditionExpression": "#o = :owner",
                "ExpressionAttributeNames": {"#o": "owner"},
                "ExpressionAttributeValues": owner,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _explain(
        self,
        cancelled: TransactionCanceled,
        items: list[Item],
        ack: CommandAck,
        guards: Sequence[Guard],
        expected_version: int,
        fingerprint: str,
    ) -> None:
        """Turn a cancelled transaction into the store's typed outcome, or retry it once."""
        reasons = cancelled.reasons
        n = len(items)
        failed = {i for i, r in enumerate(reasons) if r.code == "ConditionalCheckFailed"}
        for i in sorted(failed):
            if i < n:  # an event slot is taken
                self._lost(reasons[i].item, ack, expected_version, fingerprint)
        guard_failures = [i - n for i in failed if i >= n]
        if guard_failures:
            claims = [i for i in guard_failures if guards[i].claim]
            if claims:
                guard = guards[claims[0]]
                old = reasons[n + claims[0]].item or {}
                raise GuardViolation(guard.scope, guard.value, old.get("owner", {}).get("S", "?"))
            # only releases of values this stream does not own: those change nothing, so
            # the append goes through without them, as in every other adapter
            kept = [g for i, g in enumerate(guards) if i not in set(guard_failures)]
            if len(items) == 1 and not kept:
                self._put(items[0], ack, expected_version, fingerprint)
            else:
                self._transact(items, ack, kept, expected_version, fingerprint)
            return
        if "TransactionConflict" in cancelled.codes:
            self._forget(ack.stream_id)
            raise ConcurrencyConflict(ack.stream_id, expected_version, None) from cancelled
        raise cancelled

    # -- reads -----------------------------------------------------------------------

    def load(
        self,
        stream_id: str,
        from_version: int = 1,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        until: int | None = None,
    ) -> Iterator[list[Envelope[E]]]:
        values = {":s": {"S": stream_id}, ":v": {"N": str(from_version)}}
        condition = "stream_id = :s AND version >= :v"
        if until is not None:
            if until < from_version:
                return  # an empty range: DynamoDB refuses BETWEEN with a reversed range
            condition = "stream_id = :s AND version BETWEEN :v AND :u"
            values[":u"] = {"N": str(until)}
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ConsistentRead": self.consistent_reads,
            "Limit": page_size,
        }
        ascending = self._pages.ascending
        while True:
            raw = self.client.query_raw(request)
            try:
                envelopes, last_key = ascending(raw, stream_id)
            except msgspec.DecodeError as error:  # not a Query page of event items
                raise StoredEventUnreadable(stream_id, None, error) from None
            if envelopes:
                yield envelopes
            if not last_key:
                return
            request["ExclusiveStartKey"] = last_key

    def load_latest(
        self,
        stream_id: str,
        *,
        command_id: str | None = None,
        page_size: int = DEFAULT_SNAPSHOT_EVERY,
    ) -> Latest[E, S]:
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "stream_id = :s",
            "ExpressionAttributeValues": {":s": {"S": stream_id}},
            "ScanIndexForward": False,
            "ConsistentRead": self.consistent_reads,
            "Limit": max(page_size, 1),
        }
        newest_first: list[StoredItem] = []
        found: tuple[Snapshot[S], list[Recent]] | None = None
        latest_page = self._pages.latest
        while True:
            items, last_key = self._read_page(latest_page, request, stream_id)
            for index, item in enumerate(items):
                if item.s is not None:
                    found = self._snapshot(stream_id, item)
                    if found is not None:
                        newest_first += items[:index]
                        break
            else:
                newest_first += items
            if found is not None or not last_key:
                break
            # no valid snapshot near the top: read the rest in 1 MB pages
            request["ExclusiveStartKey"] = last_key
            request.pop("Limit", None)
        top = newest_first[0].version.N if newest_first else 0
        if found is not None:
            top = top or found[0].version
        ascending = newest_first[::-1]
        events = self.codec.reader.loaded_page(
            [item.e.S for item in ascending], stream_id, lambda i: ascending[i].version.N
        )
        snapshot, window = (None, []) if found is None else found
        window = window + _commands_of(events, ascending, RECENT_COMMANDS * 4)
        known = self._remember(stream_id, top, window)
        command = None
        if command_id is not None:
            recent = known.find(command_id)
            if recent is not None:
                command = CommandRecord(
                    command_id=command_id,
                    fingerprint=recent[1],
                    version=recent[2],
                    events=recent[3],
                )
        return Latest(
            stream_id=stream_id, version=top, snapshot=snapshot, events=events, command=command
        )

    def _read_page(
        self,
        decode: Callable[[bytes], tuple[list[StoredItem], dict[str, Any] | None]],
        request: dict[str, Any],
        stream_id: str,
    ) -> tuple[list[StoredItem], dict[str, Any] | None]:
        try:
            return decode(self.client.query_raw(request))
        except msgspec.DecodeError as error:  # not a Query page of event items
            raise StoredEventUnreadable(stream_id, None, error) from None

    def _snapshot(
        self, stream_id: str, item: StoredItem
    ) -> tuple[Snapshot[S], list[Recent]] | None:
        """The item's snapshot and recent commands, or None if invalid for this code."""
        codec = self.codec
        body = item.s.S if item.s is not None else ""
        # The writer puts the state version and schema hash first: a snapshot of another
        # state version or schema (all of them, after a state change) is refused without
        # decoding its state.
        if not body.startswith(self._snapshot_prefix()):
            return None
        try:
            attribute = _decode_snapshot(body)
            if attribute.v != codec.state_version or attribute.h != codec.state_hash:
                return None
            recent = unpack_recent(attribute.recent)
        except (msgspec.DecodeError, ValueError, binascii.Error):
            return None
        state = codec.decode_state(bytes(attribute.state))
        if state is None:
            return None
        return Snapshot(stream_id=stream_id, version=item.version.N, state=state), recent

    def _snapshot_prefix(self) -> str:
        prefix = self._prefix
        if prefix is None:
            codec = self.codec
            prefix = self._prefix = f'{{"v":{codec.state_version},"h":"{codec.state_hash}",'
        return prefix


def _commands_of(
    events: Sequence[LoadedEvent[Any]], items: Sequence[StoredItem], keep: int
) -> list[Recent]:
    """The last ``keep`` commands of consecutive events (ascending), as window entries.

    Only the stream's tail is walked: a 100k-event load without a snapshot hashes the ids
    of its last commands, not of every command since version 1.
    """
    start = len(events)
    commands = 0
    current: str | None = None
    while start and commands <= keep:
        start -= 1
        if events[start].command_id != current:
            current = events[start].command_id
            commands += 1
    window: list[Recent] = []
    current = None
    for event, item in zip(events[start:], items[start:], strict=True):
        if event.command_id == current:
            key, fingerprint, _, count = window[-1]
            window[-1] = (key, fingerprint, event.version, count + 1)
        else:
            current = event.command_id
            window.append((id_hash(current), item.f.S, event.version, 1))
    return window[-keep:] if keep else []
