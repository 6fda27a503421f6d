"""Typed errors of the local Lambda harness.

Two families, kept apart on purpose:

- ``FunctionError``: what Lambda itself would hand the caller of ``Invoke`` — the
  function raised (``errorType`` is the exception's class name), its init failed
  (``InitError``), it ran past its deadline (``Sandbox.Timedout``), its process died
  (``Runtime.ExitError``) or its response was too large. Tests branch on
  ``error_type``, as callers of Lambda do.
- ``HarnessError``: the harness was used wrongly or cannot do its job (a reserved
  environment variable, an oversize request, a closed harness). Lambda has no
  equivalent; these are bugs in the test or benchmark, never in the function.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "RESPONSE_TOO_LARGE",
    "RUNTIME_EXIT_ERROR",
    "TIMED_OUT",
    "FunctionError",
    "HarnessClosed",
    "HarnessError",
    "InitError",
    "RequestTooLarge",
    "ReservedVariable",
    "ResponseNotJson",
]

#: errorType Lambda reports when an invocation (or init) outlives its time limit.
TIMED_OUT = "Sandbox.Timedout"
#: errorType Lambda reports when the runtime process exits without answering.
RUNTIME_EXIT_ERROR = "Runtime.ExitError"
#: errorType Lambda reports when the function's response exceeds the 6 MB limit.
RESPONSE_TOO_LARGE = "Function.ResponseSizeTooLarge"


class FunctionError(Exception):
    """An invocation failed the way Lambda reports it: ``errorType``, ``errorMessage``, trace.

    ``body`` is the error document as the runtime posted it (empty for errors the
    platform itself raises: timeouts, exits, oversize responses).
    """

    def __init__(
        self,
        error_type: str,
        message: str,
        trace: Sequence[str] = (),
        *,
        request_id: str | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{error_type}: {message}" if message else error_type)
        self.error_type = error_type
        self.message = message
        self.trace = list(trace)
        self.request_id = request_id
        self.body: dict[str, Any] = dict(body or {})

    @classmethod
    def from_document(
        cls,
        document: Mapping[str, Any],
        *,
        header_type: str | None,
        request_id: str | None,
    ) -> FunctionError:
        """The error a runtime posted: its JSON ``document`` and the error-type header.

        The document's ``errorType`` wins (it is what Lambda returns to the caller);
        the header is the fallback for runtimes that send a bare message.
        """
        error_type = document.get("errorType") or header_type or "Unknown"
        trace = document.get("stackTrace") or []
        return cls(
            str(error_type),
            str(document.get("errorMessage") or ""),
            [str(line) for line in trace] if isinstance(trace, list) else [str(trace)],
            request_id=request_id,
            body=document,
        )


class InitError(FunctionError):
    """The function's init phase failed (``/runtime/init/error``, a crash or a timeout)."""


class HarnessError(Exception):
    """The harness was misused or could not run the function; never the function's fault."""


class ReservedVariable(HarnessError, ValueError):
    """An extra environment variable collides with one Lambda sets itself."""

    def __init__(self, name: str, use_instead: str) -> None:
        super().__init__(
            f"environment variable {name} is reserved by Lambda and set by the harness; "
            f"use {use_instead} instead"
        )
        self.name = name


class RequestTooLarge(HarnessError, ValueError):
    """The event is over Lambda's synchronous request limit; Lambda would refuse it too."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"request payload is {size} bytes; Lambda accepts at most {limit}")
        self.size = size
        self.limit = limit


class ResponseNotJson(HarnessError, ValueError):
    """``invoke`` parses JSON; the function answered with something else."""

    def __init__(self, request_id: str, payload: bytes) -> None:
        super().__init__(
            f"response to {request_id} is not JSON ({payload[:80]!r}); "
            "use send() to get the raw bytes"
        )
        self.request_id = request_id
        self.payload = payload


class HarnessClosed(HarnessError, RuntimeError):
    """The harness was closed; it starts no more processes."""
