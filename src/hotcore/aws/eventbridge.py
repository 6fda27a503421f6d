"""EventBridge PutEvents: batches within AWS's limits, failed entries retried, the rest reported.

``EventBridge.put_events(entries)`` sends entries (``Source``, ``DetailType``,
``Detail`` as a JSON string, optional ``EventBusName``, ``Resources``, ``Time``)
in as few requests as AWS allows: at most 10 entries and 256 KB per request, with
sizes counted the way EventBridge counts them. Entries EventBridge rejects with a
transient code (throttling, internal failure) are sent again with backoff (a
request that failed as a whole was already retried by the client and is not sent
again); the result lists each entry's event id or why it finally failed, in input order, so
a Streams publisher can report exactly those records as ``batchItemFailures``.
"""

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import msgspec

from hotcore.aws.client import RetryPolicy, ServiceClient
from hotcore.aws.credentials import CredentialsProvider
from hotcore.aws.errors import AwsError
from hotcore.aws.sigv4 import Credentials

__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_BATCH_ENTRIES",
    "PERMANENT_ENTRY_CODES",
    "EntryFailure",
    "EventBridge",
    "PutEventsResult",
]

MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 256 * 1024
#: Entry error codes that will not go away by sending the entry again.
PERMANENT_ENTRY_CODES = frozenset(
    {
        "EntryTooLarge",
        "MalformedDetail",
        "InvalidArgument",
        "ValidationException",
        "AccessDeniedException",
        "NotAuthorizedForSourceException",
        "NotAuthorizedForDetailTypeException",
        "ResourceNotFoundException",
    }
)


class EntryFailure(msgspec.Struct, frozen=True, kw_only=True):
    """An entry that was not put: its position in the input, the entry, and why."""

    index: int
    entry: Mapping[str, Any]
    code: str
    message: str


class PutEventsResult(msgspec.Struct, frozen=True, kw_only=True):
    """``event_ids[i]`` is entry ``i``'s id, or None if it failed (see ``failures``)."""

    event_ids: list[str | None]
    failures: list[EntryFailure]


class _EntryResult(msgspec.Struct):
    EventId: str | None = None
    ErrorCode: str | None = None
    ErrorMessage: str | None = None


class _PutEventsResponse(msgspec.Struct):
    FailedEntryCount: int = 0
    Entries: list[_EntryResult] = []


_decode_response = msgspec.json.Decoder(_PutEventsResponse).decode


def entry_size(entry: Mapping[str, Any]) -> int:
    """The size EventBridge counts for one entry against the 256 KB request limit."""
    size = 14 if entry.get("Time") is not None else 0
    for name in ("Source", "DetailType", "Detail"):
        value = entry.get(name)
        if value:
            size += len(str(value).encode())
    for resource in entry.get("Resources") or ():
        size += len(str(resource).encode())
    return size


def _wire_entry(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    # The JSON 1.1 protocol carries timestamps as epoch seconds, not RFC 3339 text.
    when = entry.get("Time")
    if isinstance(when, datetime):
        return {**entry, "Time": when.timestamp()}
    return entry


class EventBridge:
    """An EventBridge client for one region and endpoint; keep one per process and reuse it."""

    def __init__(
        self,
        endpoint_url: str | None = None,
        region: str | None = None,
        credentials: CredentialsProvider | Credentials | None = None,
        *,
        retry: RetryPolicy | None = None,
        connect_timeout: float = 2.0,
        read_timeout: float = 10.0,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        extra: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
        self.client = ServiceClient(
            service="events",
            target_prefix="AWSEvents",
            content_type="application/x-amz-json-1.1",
            endpoint_url=endpoint_url,
            region=region,
            credentials=credentials,
            retry=retry,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            **extra,
        )
        self._sleep = sleep or time.sleep
        #: PutEvents requests sent (each at most 10 entries / 256 KB), for tests and metrics.
        self.requests = 0

    def put_events(self, entries: Sequence[Mapping[str, Any]]) -> PutEventsResult:
        """Put every entry; never raises for entries that fail, reports them instead."""
        event_ids: list[str | None] = [None] * len(entries)
        final: dict[int, EntryFailure] = {}
        pending: list[int] = []
        for index, entry in enumerate(entries):
            if entry_size(entry) > MAX_BATCH_BYTES:
                final[index] = EntryFailure(
                    index=index,
                    entry=entry,
                    code="EntryTooLarge",
                    message=f"entry is {entry_size(entry)} bytes; PutEvents allows "
                    f"{MAX_BATCH_BYTES} per request",
                )
            else:
                pending.append(index)
        policy = self.client.retry
        attempt = 0
        while pending:
            attempt += 1
            retry_next: list[int] = []
            for batch in self._batches(entries, pending):
                for index, code, message, again in self._send(entries, batch, event_ids):
                    failure = EntryFailure(
                        index=index, entry=entries[index], code=code, message=message
                    )
                    final[index] = failure
                    if again:
                        retry_next.append(index)
            if not retry_next or attempt >= policy.max_attempts:
                break
            for index in retry_next:
                del final[index]
            pending = retry_next
            self._sleep(policy.delay(attempt))
        return PutEventsResult(
            event_ids=event_ids, failures=[final[index] for index in sorted(final)]
        )

    @staticmethod
    def _batches(entries: Sequence[Mapping[str, Any]], indexes: list[int]) -> list[list[int]]:
        batches: list[list[int]] = []
        batch: list[int] = []
        batch_bytes = 0
        for index in indexes:
            size = entry_size(entries[index])
            if batch and (len(batch) == MAX_BATCH_ENTRIES or batch_bytes + size > MAX_BATCH_BYTES):
                batches.append(batch)
                batch, batch_bytes = [], 0
            batch.append(index)
            batch_bytes += size
        if batch:
            batches.append(batch)
        return batches

    def _send(
        self,
        entries: Sequence[Mapping[str, Any]],
        batch: list[int],
        event_ids: list[str | None],
    ) -> list[tuple[int, str, str, bool]]:
        """Send one batch and record event ids; return failed entries.

        Each failure is (index, code, message, worth sending again).
        """
        self.requests += 1
        try:
            raw = self.client.call(
                "PutEvents", {"Entries": [_wire_entry(entries[index]) for index in batch]}
            )
        except AwsError as error:
            # The whole request failed after the client's own retries and backoff: every
            # entry failed, and sending them again now would only repeat that.
            return [(index, error.code, error.message, False) for index in batch]
        response = _decode_response(raw)
        if len(response.Entries) != len(batch):
            message = "PutEvents answered for a different number of entries"
            return [(index, "MalformedResponse", message, True) for index in batch]
        failed: list[tuple[int, str, str, bool]] = []
        for index, result in zip(batch, response.Entries, strict=True):
            if result.ErrorCode or not result.EventId:
                code = result.ErrorCode or "Unknown"
                failed.append(
                    (index, code, result.ErrorMessage or "", code not in PERMANENT_ENTRY_CODES)
                )
            else:
                event_ids[index] = result.EventId
        return failed
