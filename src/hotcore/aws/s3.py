"""S3 PutObject, the one S3 call hotcore makes: writing a failure record to a bucket.

The Streams publisher parks a record it can never publish in the failed-batches bucket
(``hotcore.entrypoints.publisher``); that is one small PUT of a JSON object, signed with
SigV4 (service ``s3``, the payload's SHA-256 in ``x-amz-content-sha256``) over the same
keep-alive connections as the other clients. Virtual-hosted addressing
(``https://<bucket>.s3.<region>.amazonaws.com/<key>``) on AWS; path-style
(``<endpoint>/<bucket>/<key>``) for an endpoint from ``endpoint_url`` or
``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` (emulators).

Keys are restricted to ``A-Za-z0-9`` and ``-_./`` (no empty or dot segments): for those
characters S3's canonical URI and the one ``sigv4.sign`` builds for other services are
the same. Retried like the JSON clients: 5xx (``SlowDown`` included), throttling,
``RequestTimeout`` and connection failures, with backoff and full jitter; an expired
token refreshes the credentials once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime

from hotcore.aws.client import RetryPolicy, SignedClient
from hotcore.aws.config import resolve_endpoint, resolve_region
from hotcore.aws.connection import Connection
from hotcore.aws.credentials import CredentialsProvider
from hotcore.aws.digest import sha256_hex
from hotcore.aws.errors import THROTTLING_CODES, AwsError, ConnectionFailed, ServerError
from hotcore.aws.sigv4 import Credentials, sign

__all__ = ["S3"]

_KEY_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./")
_RETRIED_CODES = frozenset({"SlowDown", "RequestTimeout", "InternalError", *THROTTLING_CODES})
_USER_AGENT = "hotcore/0.1"


def check_key(key: str) -> None:
    """Raise ``ValueError`` unless ``key`` is one this client can sign (see the module)."""
    segments = key.split("/")
    if not key or not set(key) <= _KEY_CHARACTERS or any(s in ("", ".", "..") for s in segments):
        raise ValueError(
            f"S3 key {key!r}: use A-Za-z0-9 and -_./ only, without empty or dot segments"
        )


class S3(SignedClient):
    """PutObject for one region (and endpoint); keep one per process and reuse it."""

    def __init__(
        self,
        endpoint_url: str | None = None,
        region: str | None = None,
        credentials: CredentialsProvider | Credentials | None = None,
        *,
        retry: RetryPolicy | None = None,
        connect_timeout: float = 2.0,
        read_timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(credentials, retry, sleep)
        self.region = resolve_region(region)
        configured = endpoint_url or _configured_endpoint()
        #: None: virtual-hosted addressing on the region's public endpoint.
        self.endpoint = resolve_endpoint("s3", self.region, configured) if configured else None
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._connections: dict[str, Connection] = {}

    def reset(self) -> None:
        """Drop pooled connections and cached credentials (after a SnapStart restore)."""
        for connection in self._connections.values():
            connection.close()
        self._credentials.invalidate()

    def put_object(
        self, bucket: str, key: str, body: bytes, content_type: str = "application/json"
    ) -> None:
        """Store ``body`` at ``bucket``/``key``; raises ``AwsError`` if it finally failed."""
        check_key(key)
        if not bucket or "/" in bucket:
            raise ValueError(f"not a bucket name: {bucket!r}")
        if self.endpoint is None:
            base, target = f"https://{bucket}.s3.{self.region}.amazonaws.com", f"/{key}"
        else:
            base, target = self.endpoint, f"/{bucket}/{key}"
        connection = self._connection(base)
        headers = {
            "Host": connection.host_header,
            "Content-Type": content_type,
            "x-amz-content-sha256": sha256_hex(body),
            "User-Agent": _USER_AGENT,
        }
        self._with_retries(
            lambda: self._attempt(connection, base + target, target, headers, body),
            _RETRIED_CODES,
        )

    def _connection(self, base: str) -> Connection:
        connection = self._connections.get(base)
        if connection is None:
            connection = Connection(
                base, connect_timeout=self._connect_timeout, read_timeout=self._read_timeout
            )
            self._connections[base] = connection
        return connection

    def _attempt(
        self,
        connection: Connection,
        url: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
    ) -> bool | AwsError:
        signed = sign(
            "PUT",
            url,
            headers,
            body,
            self._credentials.get(),
            self.region,
            "s3",
            datetime.now(UTC),
        )
        try:
            response = connection.send("PUT", target, headers | signed, body)
        except OSError as error:
            return ConnectionFailed(
                f"{type(error).__name__} talking to {connection.endpoint}: {error}", cause=error
            )
        if response.status == 200:
            return True
        code = _xml_text(response.body, "Code") or f"Http{response.status}"
        message = _xml_text(response.body, "Message") or response.body[:200].decode(
            errors="replace"
        )
        request_id = response.headers.get("x-amz-request-id")
        if response.status >= 500:
            return ServerError(code, message, response.status, request_id=request_id)
        return AwsError(code, message, response.status, request_id=request_id)


def _configured_endpoint() -> str | None:
    if os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true":
        return None
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


def _xml_text(body: bytes, element: str) -> str | None:
    """The text of the first ``<element>`` of an S3 error document (no XML parser needed)."""
    start = body.find(f"<{element}>".encode())
    if start < 0:
        return None
    start += len(element) + 2
    end = body.find(f"</{element}>".encode(), start)
    return body[start:end].decode(errors="replace") if end >= 0 else None
