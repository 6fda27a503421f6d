"""What a function answers when it cannot serve a request, and which failures are transient.

A transient failure may succeed if the same request is sent again: throttling and 5xx
answers that outlived the client's retries, no connection, no credentials yet, every
attempt lost the race for the stream. AppSync retries nothing, so its callers get a typed
``Unavailable`` answer (with the command id to send again under); a direct caller (a Step
Functions task) gets ``Transient`` raised, which its Retry names. Anything else a function
cannot serve is a typed answer too: ``StreamUnreadable`` (a stored event no longer
decodes: someone must look at the stream) or ``InternalFailure`` (a bug, logged whole).
"""

from __future__ import annotations

from hotcore.aws.errors import (
    ConnectionFailed,
    CredentialsUnavailable,
    ServerError,
    Throttled,
    TransactionConflict,
)
from hotcore.codec.events import StoredEventUnreadable
from hotcore.store.port import ConcurrencyConflict

TRANSIENT: tuple[type[Exception], ...] = (
    Throttled,
    ServerError,
    ConnectionFailed,
    CredentialsUnavailable,
    TransactionConflict,
    ConcurrencyConflict,
)


class Transient(Exception):
    """A transient failure, raised to callers that retry (the saga's Retry lists this name)."""


def classify(error: Exception) -> tuple[str, str]:
    """The answer's ``error`` and ``message`` for a failure (never the failure's own text
    for a bug: it may hold internals; the log has it)."""
    if isinstance(error, TRANSIENT):
        return "Unavailable", f"{type(error).__name__}: the request can be sent again"
    if isinstance(error, StoredEventUnreadable):
        return "StreamUnreadable", str(error)
    return "InternalFailure", "the function failed; its log has the details"
