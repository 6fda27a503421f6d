"""One signed JSON-protocol call to an AWS service, with retries and typed errors.

``ServiceClient.call(operation, request)`` POSTs the JSON request with the
``X-Amz-Target`` header of the operation, signed with SigV4, over a keep-alive
``Connection`` (sockets; TLS with the AWS roots for https); it returns the raw bytes
of a successful response so the caller can decode them straight into its own types.

Retried, with exponential backoff and full jitter (a random sleep between 0 and
``min(cap, base * 2**attempt)``): throttling codes, 5xx responses, connection
failures and timeouts, and a response whose CRC32 does not match. An expired
token refreshes the credentials and tries again. Everything else raises the typed
``AwsError`` at once.
"""

from __future__ import annotations

import binascii
import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec

from hotcore.aws.config import resolve_endpoint, resolve_region
from hotcore.aws.connection import Connection
from hotcore.aws.credentials import CredentialsProvider, default_provider
from hotcore.aws.errors import (
    THROTTLING_CODES,
    AwsError,
    ConnectionFailed,
    error_from_response,
)
from hotcore.aws.sigv4 import Credentials, sign

__all__ = ["RetryPolicy", "ServiceClient", "SignedClient"]

_encode = msgspec.json.Encoder().encode
#: Codes that mean the credentials went stale under us: refresh them and retry.
_EXPIRED_CODES = frozenset({"ExpiredTokenException", "ExpiredToken"})
_USER_AGENT = "hotcore/0.1"


def _jitter() -> float:
    # os.urandom, not random: after a SnapStart restore every clone must draw differently.
    return int.from_bytes(os.urandom(4), "big") / 4294967296.0


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """How often and how patiently to retry: attempts in all, and the backoff's base and cap."""

    max_attempts: int = 5
    base_delay: float = 0.025
    max_delay: float = 2.0

    def delay(self, retry: int) -> float:
        """The sleep before retry number ``retry`` (1 for the first): full jitter."""
        ceiling: float = min(self.max_delay, self.base_delay * 2.0**retry)
        return _jitter() * ceiling


class _StaticCredentials:
    """Adapts fixed ``Credentials`` to the provider interface."""

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials

    def get(self) -> Credentials:
        return self._credentials

    def invalidate(self) -> None:
        """Fixed credentials cannot be refreshed."""


class SignedClient:
    """What every hotcore AWS client shares: credentials, the retry loop, the retry count."""

    def __init__(
        self,
        credentials: CredentialsProvider | Credentials | None,
        retry: RetryPolicy | None,
        sleep: Callable[[float], None],
    ) -> None:
        if isinstance(credentials, Credentials):
            self._credentials: CredentialsProvider | _StaticCredentials = _StaticCredentials(
                credentials
            )
        else:
            self._credentials = credentials or default_provider()
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        #: Attempts that were retried (throttling, 5xx, connection failures), for metrics/tests.
        self.retries = 0

    def _with_retries[T](
        self, attempt: Callable[[], T | AwsError], retried_codes: frozenset[str]
    ) -> T:
        """``attempt()``'s first success; an expired token refreshes the credentials once,
        connection failures, 5xx and ``retried_codes`` are retried with backoff, anything
        else (or the last failure) raises."""
        refreshed = False
        attempts = 0
        while True:
            attempts += 1
            outcome = attempt()
            if not isinstance(outcome, AwsError):
                return outcome
            if outcome.code in _EXPIRED_CODES and not refreshed:
                refreshed = True
                self._credentials.invalidate()
                continue
            retryable = (
                isinstance(outcome, ConnectionFailed)
                or outcome.code in retried_codes
                or outcome.status >= 500
            )
            if not retryable or attempts >= self.retry.max_attempts:
                raise outcome
            self.retries += 1
            self._sleep(self.retry.delay(attempts))


class ServiceClient(SignedClient):
    """Signed calls to one JSON-protocol service (DynamoDB, EventBridge) at one endpoint."""

    def __init__(
        self,
        *,
        service: str,
        target_prefix: str,
        content_type: str,
        endpoint_url: str | None = None,
        region: str | None = None,
        credentials: CredentialsProvider | Credentials | None = None,
        retry: RetryPolicy | None = None,
        connect_timeout: float = 2.0,
        read_timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(credentials, retry, sleep)
        self.service = service
        self.region = resolve_region(region)
        self.endpoint = resolve_endpoint(service, self.region, endpoint_url)
        self.connection = Connection(
            self.endpoint, connect_timeout=connect_timeout, read_timeout=read_timeout
        )
        self._target_prefix = target_prefix
        self._content_type = content_type
        self._url = self.endpoint + "/"

    def reset(self) -> None:
        """Drop pooled connections and cached credentials: call it after a SnapStart restore.

        A restored snapshot holds sockets the network no longer knows and credentials
        that may have expired; the next call opens and fetches fresh ones.
        """
        self.connection.close()
        self._credentials.invalidate()

    def call(self, operation: str, request: Mapping[str, Any] | bytes) -> bytes:
        """The raw body of a successful ``operation``; raises ``AwsError`` subclasses otherwise."""
        body = request if isinstance(request, bytes) else _encode(request)
        headers = {
            "Host": self.connection.host_header,
            "Content-Type": self._content_type,
            "X-Amz-Target": f"{self._target_prefix}.{operation}",
            "User-Agent": _USER_AGENT,
        }
        return self._with_retries(lambda: self._attempt(headers, body), THROTTLING_CODES)

    def _attempt(self, headers: dict[str, str], body: bytes) -> bytes | AwsError:
        credentials = self._credentials.get()
        signed = sign(
            "POST",
            self._url,
            headers,
            body,
            credentials,
            self.region,
            self.service,
            datetime.now(UTC),
        )
        try:
            response = self.connection.send("POST", "/", headers | signed, body)
        except OSError as error:
            return ConnectionFailed(
                f"{type(error).__name__} talking to {self.endpoint}: {error}", cause=error
            )
        checksum = response.headers.get("x-amz-crc32")
        if (
            checksum is not None
            and checksum.isdigit()
            and int(checksum) != binascii.crc32(response.body)
        ):
            return ConnectionFailed(
                f"response from {self.endpoint} failed its CRC32 check (corrupted in transit)"
            )
        if response.status == 200:
            return response.body
        return error_from_response(
            response.status,
            response.body,
            response.headers.get("x-amzn-errortype"),
            response.headers.get("x-amzn-requestid"),
        )
