"""Typed errors of the AWS client: AWS's code, message and HTTP status, and the data to act on.

``AwsError`` is the base of everything the client raises about a call. Subclasses
name the outcomes callers branch on: a failed condition (with the item's old image
when ``ReturnValuesOnConditionCheckFailure=ALL_OLD``), a cancelled transaction with
one reason per action, throttling and server errors that outlived the retries, and
connections that could not be made.
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct

__all__ = [
    "AwsError",
    "CancellationReason",
    "ConditionalCheckFailed",
    "ConnectionFailed",
    "CredentialsUnavailable",
    "IdempotentParameterMismatch",
    "ResourceNotFound",
    "ServerError",
    "Throttled",
    "TransactionCanceled",
    "TransactionConflict",
    "ValidationFailed",
    "error_from_response",
    "redact",
]

#: Error codes that mean "slow down": retried with backoff, then raised as Throttled.
THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottledException",
    }
)


#: Most characters of an AWS error message kept (after redaction).
MAX_MESSAGE_CHARS = 1000
_REDACTED = "[redacted]"
_secrets: Any = None  # the compiled pattern, built on the first error (``re`` is not loaded before)


def redact(text: str) -> str:
    """``text`` without secrets an error message can echo: the values of signing headers
    and query parameters (Authorization, X-Amz-Security-Token, X-Amz-Signature,
    X-Amz-Credential, the ID token header), ``Signature=``/``Credential=`` parts of a
    SigV4 Authorization value, and anything shaped like a JWT or a session token."""
    global _secrets
    if _secrets is None:
        import re

        _secrets = re.compile(
            r"(?i)(?P<name>authorization|x-amz-security-token|x-amz-signature|x-amz-credential"
            r"|x-hotcore-id-token|signature|credential)(?P<sep>\s*[:=]\s*\"?)"
            r"(?P<value>[^\s\",;&]+(?: Credential=[^\s\",;&]+)?)"
            r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
            r"|[A-Za-z0-9+/=]{100,}"
        )

    def replace(match: Any) -> str:
        if match.group("name"):
            return f"{match.group('name')}{match.group('sep')}{_REDACTED}"
        return _REDACTED

    cleaned: str = _secrets.sub(replace, text)
    if len(cleaned) > MAX_MESSAGE_CHARS:
        return f"{cleaned[:MAX_MESSAGE_CHARS]}...[{len(cleaned)} chars]"
    return cleaned


class AwsError(Exception):
    """An AWS call failed: AWS's error ``code``, its ``message``, the HTTP ``status`` (0: none).

    The message is redacted (``redact``) before it is kept: AWS echoes the canonical
    request, with signed header values, in some signature errors, and whatever raises
    this may end up in a log line or a Lambda error.
    """

    def __init__(
        self, code: str, message: str, status: int, *, request_id: str | None = None
    ) -> None:
        code, message = redact(code)[:200], redact(message)
        super().__init__(f"{code} ({status}): {message}" if status else f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.request_id = request_id


class ConditionalCheckFailed(AwsError):
    """A condition was false; ``item`` is the old item (attribute values) when asked for."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int,
        *,
        request_id: str | None = None,
        item: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code, message, status, request_id=request_id)
        self.item = item


class CancellationReason(Struct, frozen=True, kw_only=True):
    """Why one action of a cancelled transaction failed (``code`` "None": it did not)."""

    code: str
    message: str | None = None
    item: dict[str, Any] | None = None


class TransactionCanceled(AwsError):
    """TransactWriteItems was cancelled; ``reasons[i]`` belongs to action ``i``."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int,
        *,
        request_id: str | None = None,
        reasons: list[CancellationReason] | None = None,
    ) -> None:
        super().__init__(code, message, status, request_id=request_id)
        self.reasons = reasons or []

    @property
    def codes(self) -> list[str]:
        """The reason codes in action order, e.g. ``["None", "ConditionalCheckFailed"]``."""
        return [reason.code for reason in self.reasons]


class TransactionConflict(AwsError):
    """Another transaction touched the same item at the same time."""


class IdempotentParameterMismatch(AwsError):
    """A ClientRequestToken was reused with different parameters."""


class ResourceNotFound(AwsError):
    """The table, bus or other resource does not exist (or is not active yet)."""


class ValidationFailed(AwsError):
    """AWS refused the request as malformed (bad expression, wrong key, item too large...)."""


class Throttled(AwsError):
    """Throttling outlived every retry."""


class ServerError(AwsError):
    """A 5xx response outlived every retry."""


class ConnectionFailed(AwsError):
    """No response: the connection failed, was reset or timed out on every attempt."""

    def __init__(self, message: str, *, cause: BaseException | None = None) -> None:
        super().__init__("ConnectionFailed", message, 0)
        self.cause = cause


class CredentialsUnavailable(AwsError):
    """No credentials could be found or fetched."""

    def __init__(self, message: str) -> None:
        super().__init__("CredentialsUnavailable", message, 0)


def _short_code(raw: str) -> str:
    # "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException" -> the part after '#';
    # "ValidationException:http://..." (x-amzn-ErrorType) -> the part before ':'.
    return raw.rpartition("#")[2].partition(":")[0]


def error_from_response(
    status: int, body: bytes, header_code: str | None, request_id: str | None
) -> AwsError:
    """The typed error for an error response of a JSON-protocol service."""
    import msgspec  # already loaded by the client; local to keep this module import-light

    parsed: dict[str, Any] = {}
    try:
        decoded = msgspec.json.decode(body) if body else {}
        if isinstance(decoded, dict):
            parsed = decoded
    except msgspec.DecodeError:
        pass
    code = _short_code(str(parsed.get("__type") or header_code or "")) or f"Http{status}"
    message = str(
        parsed.get("message") or parsed.get("Message") or body[:200].decode(errors="replace")
    )
    kind = code.removesuffix("Exception")
    if kind == "ConditionalCheckFailed":
        return ConditionalCheckFailed(
            code, message, status, request_id=request_id, item=parsed.get("Item")
        )
    if kind == "TransactionCanceled":
        reasons = [
            CancellationReason(
                code=str(reason.get("Code", "None")),
                message=reason.get("Message"),
                item=reason.get("Item"),
            )
            for reason in parsed.get("CancellationReasons") or []
        ]
        return TransactionCanceled(code, message, status, request_id=request_id, reasons=reasons)
    if kind == "TransactionConflict":
        return TransactionConflict(code, message, status, request_id=request_id)
    if kind == "IdempotentParameterMismatch":
        return IdempotentParameterMismatch(code, message, status, request_id=request_id)
    if kind == "ResourceNotFound":
        return ResourceNotFound(code, message, status, request_id=request_id)
    if kind == "Validation":
        return ValidationFailed(code, message, status, request_id=request_id)
    if code in THROTTLING_CODES:
        return Throttled(code, message, status, request_id=request_id)
    if status >= 500:
        return ServerError(code, message, status, request_id=request_id)
    return AwsError(code, message, status, request_id=request_id)
