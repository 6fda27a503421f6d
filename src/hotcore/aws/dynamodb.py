"""DynamoDB over its JSON 1.0 protocol: the operations an event store needs, nothing else.

Requests are plain mappings in DynamoDB's own API shape (``TableName``,
``KeyConditionExpression``, attribute values as ``{"S": ...}``) or bytes already
encoded by the caller. Each read comes in two forms: ``query_raw`` (and
``get_item_raw``, ``batch_get_item_raw``) return the response bytes for a caller
that decodes them straight into its own types (``hotcore.codec.query_page``);
``query`` and the others return the decoded JSON (attribute values left as they
are on the wire; ``hotcore.codec.dynamodb`` turns them into Python values).

``call`` reaches any other operation (CreateTable, DescribeTable...) the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from hotcore.aws.client import RetryPolicy, ServiceClient
from hotcore.aws.credentials import CredentialsProvider
from hotcore.aws.sigv4 import Credentials

__all__ = ["DynamoDB"]

_decode = msgspec.json.Decoder(dict[str, Any]).decode

Request = Mapping[str, Any] | bytes


class DynamoDB:
    """A DynamoDB client for one region and endpoint; keep one per process and reuse it."""

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
            service="dynamodb",
            target_prefix="DynamoDB_20120810",
            content_type="application/x-amz-json-1.0",
            endpoint_url=endpoint_url,
            region=region,
            credentials=credentials,
            retry=retry,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            **extra,
        )

    def call_raw(self, operation: str, request: Request) -> bytes:
        """Any DynamoDB operation; the response body as bytes."""
        return self.client.call(operation, request)

    def call(self, operation: str, request: Request) -> dict[str, Any]:
        """Any DynamoDB operation; the decoded response."""
        return _decode(self.client.call(operation, request))

    def query_raw(self, request: Request) -> bytes:
        """One page of a Query, undecoded (at most 1 MB; see ``LastEvaluatedKey``)."""
        return self.client.call("Query", request)

    def query(self, request: Request) -> dict[str, Any]:
        """One page of a Query: ``Items``, ``Count``, ``ScannedCount``, ``LastEvaluatedKey``."""
        return _decode(self.client.call("Query", request))

    def get_item_raw(self, request: Request) -> bytes:
        """GetItem, undecoded."""
        return self.client.call("GetItem", request)

    def get_item(self, request: Request) -> dict[str, Any]:
        """GetItem: ``{"Item": {...}}``, or ``{}`` when there is no such item."""
        return _decode(self.client.call("GetItem", request))

    def batch_get_item_raw(self, request: Request) -> bytes:
        """BatchGetItem, undecoded."""
        return self.client.call("BatchGetItem", request)

    def batch_get_item(self, request: Request) -> dict[str, Any]:
        """BatchGetItem: ``Responses`` per table and ``UnprocessedKeys`` to ask for again."""
        return _decode(self.client.call("BatchGetItem", request))

    def put_item(self, request: Request) -> dict[str, Any]:
        """PutItem; a false condition raises ``ConditionalCheckFailed`` (with ``item`` if asked)."""
        return _decode(self.client.call("PutItem", request))

    def transact_write_items(self, request: Request) -> dict[str, Any]:
        """TransactWriteItems; a cancellation raises ``TransactionCanceled`` with its reasons."""
        return _decode(self.client.call("TransactWriteItems", request))
