"""The Lambda composition root: where settings become adapters.

Every function's init calls these, and nothing else turns environment variables into
clients or stores: adapters take plain arguments (a client, a table name), never
settings. The local composition root is ``hotcore_dev.local``.
"""

from __future__ import annotations

from typing import Any

from hotcore.domain.aggregate import Aggregate
from hotcore.entrypoints.settings import Settings
from hotcore.store.port import EventStore


def event_store(
    aggregate: Aggregate[Any, Any, Any, Any], settings: Settings
) -> EventStore[Any, Any]:
    """The aggregate's store: its DynamoDB table, or a SQLite file for local runs."""
    if settings.table is not None:
        from hotcore.aws.dynamodb import DynamoDB
        from hotcore.store.dynamodb import DynamoEventStore

        return DynamoEventStore(
            DynamoDB(region=settings.region),
            settings.table,
            aggregate.name,
            aggregate.event_type,
            aggregate.state_type,
            guard_table=settings.guard_table,
            state_version=aggregate.state_version,
        )
    from hotcore.store.sqlite import SqliteDatabase

    assert settings.sqlite_path is not None  # Settings guarantees one of the two
    return SqliteDatabase(settings.sqlite_path).store(
        aggregate.name,
        aggregate.event_type,
        aggregate.state_type,
        state_version=aggregate.state_version,
    )


def event_bus(settings: Settings) -> Any:
    """The EventBridge client the publisher puts committed events on."""
    from hotcore.aws.eventbridge import EventBridge

    return EventBridge(region=settings.region or None)


def failure_bucket(settings: Settings) -> Any:
    """The S3 client the publisher parks unpublishable records with, if it has a bucket."""
    if settings.failed_batches_bucket is None:
        return None
    from hotcore.aws.s3 import S3

    return S3(region=settings.region or None)
