"""The publisher function: an event table's DynamoDB Streams -> EventBridge (the AWS outbox).

A record that can never be published (it does not decode, or EventBridge refuses its
entry for good) is **parked**: written alone to the failed-batches bucket (stream,
version, the error and the whole record), logged and counted, then answered as a
success. Reporting it as a ``batchItemFailure`` instead would make Lambda retry from it,
up to ``MaximumRetryAttempts`` times, and publish every record after it in the batch
again on each retry, only to discard the lot at the end; docs/reliability.md has the
reasoning and the figures. Entries that failed for a reason that may pass (throttling,
an internal error after the client's retries), and a record whose parking failed, are
still reported: Lambda retries them, at least once, as the consumers expect.

A MODIFY or REMOVE record means a stored event was overwritten or deleted (event tables
are append-only): it is never published, only logged and counted (``AppendOnlyViolations``,
with an alarm in infra/); the event source mapping has a filter that lets these through.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import msgspec

from hotcore.aws.eventbridge import PERMANENT_ENTRY_CODES
from hotcore.codec.events import stream_image
from hotcore.domain.aggregate import Aggregate
from hotcore.domain.names import function_name
from hotcore.domain.registry import load_aggregate
from hotcore.entrypoints import lambda_root, snapstart
from hotcore.entrypoints.observability import Invocation, logger, metrics
from hotcore.entrypoints.settings import Settings
from hotcore.service.publisher import bus_entry, command_groups, for_subscribers


class ParkedRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A stream record that can never be published, as the failure destination keeps it.

    ``record`` is the DynamoDB Streams record exactly as Lambda passed it, so it can be
    fixed and published again; ``stream_id`` and ``version`` are read from its keys.
    """

    aggregate: str
    stream_id: str | None
    version: int | None
    sequence_number: str
    error: str
    record: dict[str, Any]


class RecordParking(Protocol):
    """Where parked records go; ``park`` raises if the record could not be kept."""

    def park(self, record: ParkedRecord) -> None: ...


class ObjectStore(Protocol):
    def put_object(self, bucket: str, key: str, body: bytes) -> None: ...


class BucketParking:
    """Parked records as objects ``parked/<aggregate>/<sequence number>.json`` of a bucket.

    A record parked twice (a retried batch) lands on the same key: the versioned bucket
    keeps both writes, the key names one record.
    """

    def __init__(self, client: ObjectStore, bucket: str) -> None:
        self.client = client  # hotcore.aws.s3.S3
        self.bucket = bucket
        self._encode = msgspec.json.Encoder().encode

    def key(self, record: ParkedRecord) -> str:
        sequence = "".join(c for c in record.sequence_number if c.isascii() and c.isalnum())
        return f"parked/{record.aggregate}/{sequence or 'no-sequence-number'}.json"

    def park(self, record: ParkedRecord) -> None:
        self.client.put_object(self.bucket, self.key(record), self._encode(record))


#: Stream record kinds that mean an event item changed after it was written: an
#: unconditional PutItem over it (MODIFY) or a delete (REMOVE). IAM denies UpdateItem and
#: DeleteItem on event tables, but cannot make PutItem conditional.
CHANGED_IN_PLACE = frozenset({"MODIFY", "REMOVE"})


class StreamsPublisher:
    """DynamoDB Streams records of one aggregate's table -> EventBridge, for the publisher Lambda.

    Only INSERTs of event items are published; each item's ``e`` (the envelope JSON, as
    the local outbox relay sends it too) is the entry's detail, after checking it is the
    item's envelope (item layout 2, docs/store.md). A record that can never be published is
    parked through ``parking`` (see the module docstring); without ``parking`` it is
    reported as a ``batchItemFailure`` so that the event source mapping's on-failure
    destination gets it with its batch. Entries that still failed for a passing reason
    are reported as ``batchItemFailures``: Lambda retries from the first of them
    (at-least-once; consumers are idempotent).
    """

    def __init__(
        self,
        aggregate: Aggregate[Any, Any, Any, Any],
        sink: Any,
        bus_name: str,
        parking: RecordParking | None = None,
    ) -> None:
        self.aggregate = aggregate
        self.sink = sink  # hotcore.aws.eventbridge.EventBridge (put_events -> PutEventsResult)
        self.bus_name = bus_name
        self.parking = parking
        #: Records parked so far (for the function's metric and for tests).
        self.parked = 0
        #: MODIFY and REMOVE records seen so far: stored events changed or deleted.
        self.tampered = 0

    def __call__(self, event: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
        records = event.get("Records")
        if not isinstance(records, list):
            raise ValueError("not a DynamoDB Streams batch: no 'Records' list")
        entries: list[dict[str, str]] = []
        owners: list[Mapping[str, Any]] = []  # the record behind each entry
        failed: list[str] = []
        for record in records:
            if record.get("eventName") in CHANGED_IN_PLACE:
                self._tampered(record)
                continue
            change = record.get("dynamodb") or {}
            image = change.get("NewImage")
            if record.get("eventName") != "INSERT" or not isinstance(image, Mapping):
                continue  # not a new item: nothing to publish
            try:
                event_type, detail = stream_image(image)
            except (msgspec.DecodeError, TypeError, ValueError) as error:
                self._park(record, f"the record does not decode: {error}", failed)
                continue
            entries.append(bus_entry(self.aggregate.name, event_type, detail, self.bus_name))
            owners.append(record)
        if entries:
            # a passing failure is retried from its command's first record: the command's
            # carrier (service.publisher) then names all of its events again
            groups = command_groups(entries)
            first_of = {i: group[0] for group in groups for i in group}
            result = self.sink.put_events(for_subscribers(entries, groups))
            for failure in result.failures:
                owner = owners[failure.index]
                if failure.code in PERMANENT_ENTRY_CODES:
                    reason = f"EventBridge refused the entry: {failure.code}: {failure.message}"
                    self._park(owner, reason, failed)
                else:
                    failed.append(_sequence(owners[first_of[failure.index]]))
        return {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}

    def _tampered(self, record: Mapping[str, Any]) -> None:
        """A stored event was overwritten or deleted: every item of an event table is an
        event, written once with a condition. Counted and logged, never published (the
        alarm on ``AppendOnlyViolations`` calls someone); the batch goes on."""
        self.tampered += 1
        logger.error(
            "stored event changed in place",
            aggregate=self.aggregate.name,
            event_name=str(record.get("eventName")),
            stream_id=_key(record, "stream_id", "S"),
            version=_version(record),
            sequence_number=_sequence(record),
        )

    def _park(self, record: Mapping[str, Any], error: str, failed: list[str]) -> None:
        sequence = _sequence(record)
        if self.parking is None:
            failed.append(sequence)
            return
        parked = ParkedRecord(
            aggregate=self.aggregate.name,
            stream_id=_key(record, "stream_id", "S"),
            version=_version(record),
            sequence_number=sequence,
            error=error,
            record=dict(record),
        )
        try:
            self.parking.park(parked)
        except Exception as park_error:  # keep it in the stream: Lambda retries it
            logger.error(
                "stream record could not be parked",
                aggregate=self.aggregate.name,
                sequence_number=sequence,
                error=f"{type(park_error).__name__}: {park_error}",
            )
            failed.append(sequence)
            return
        self.parked += 1
        logger.error(
            "stream record parked",
            aggregate=self.aggregate.name,
            stream_id=parked.stream_id,
            version=parked.version,
            sequence_number=sequence,
            error=error,
        )


def _sequence(record: Mapping[str, Any]) -> str:
    return str((record.get("dynamodb") or {}).get("SequenceNumber", ""))


def _key(record: Mapping[str, Any], name: str, kind: str) -> str | None:
    keys = (record.get("dynamodb") or {}).get("Keys") or (record.get("dynamodb") or {}).get(
        "NewImage"
    )
    value = (keys or {}).get(name)
    found = value.get(kind) if isinstance(value, dict) else None
    return found if isinstance(found, str) else None


def _version(record: Mapping[str, Any]) -> int | None:
    text = _key(record, "version", "N")
    return int(text) if text is not None and text.isdigit() else None


class PublisherFunction:
    """The Lambda function behind a table's event source mapping."""

    def __init__(self, aggregate: str | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.for_publisher(aggregate)
        self.aggregate = load_aggregate(self.settings.aggregate)
        self.client = lambda_root.event_bus(self.settings)
        self.bucket = lambda_root.failure_bucket(self.settings)
        parking = None
        if self.bucket is not None and self.settings.failed_batches_bucket is not None:
            parking = BucketParking(self.bucket, self.settings.failed_batches_bucket)
        self.publisher = StreamsPublisher(
            self.aggregate, self.client, self.settings.bus_name, parking
        )
        self.cold = True
        snapstart.register(after_restore=self.restored)

    def restored(self) -> None:
        self.client.client.reset()
        if self.bucket is not None:
            self.bucket.reset()
        self.cold = True

    def __call__(self, event: Any, context: Any = None) -> dict[str, Any]:
        cold, self.cold = self.cold, False
        name = function_name(self.aggregate.name, "publisher")
        with Invocation(context, cold_start=cold, function_name=name):
            parked_before = self.publisher.parked
            tampered_before = self.publisher.tampered
            result = self.publisher(event)
            failures = len(result["batchItemFailures"])
            parked = self.publisher.parked - parked_before
            tampered = self.publisher.tampered - tampered_before
            records = event.get("Records") if isinstance(event, dict) else None
            logger.info(
                "stream batch published",
                aggregate=self.aggregate.name,
                records=len(records) if isinstance(records, list) else None,
                failures=failures,
                parked=parked,
            )
            metrics.add("PublishFailures", failures, aggregate=self.aggregate.name)
            metrics.add("RecordsParked", parked, aggregate=self.aggregate.name)
            metrics.add("AppendOnlyViolations", tampered, aggregate=self.aggregate.name)
            return result
