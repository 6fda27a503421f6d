"""The Lambda Runtime API (version 2018-06-01) of one execution environment, on 127.0.0.1.

A runtime (``awslambdaric``, Rust's ``lambda_runtime``, any custom ``bootstrap``) talks
to Lambda only through this HTTP API, found at ``AWS_LAMBDA_RUNTIME_API``:

- ``GET  /runtime/invocation/next``: long-poll; the event in the body, the request id,
  deadline, function ARN, trace id (and client context / Cognito identity when given)
  in ``Lambda-Runtime-*`` headers.
- ``POST /runtime/invocation/{id}/response``: the result; 202, 413 past 6 MB.
- ``POST /runtime/invocation/{id}/error``: an error document
  (``errorType``/``errorMessage``/``stackTrace``) and ``Lambda-Runtime-Function-Error-Type``.
- ``POST /runtime/init/error``: init failed; the error is what the first invoke returns.
- ``GET  /runtime/restore/next`` and ``POST /runtime/restore/error``: the SnapStart
  handshake (the runtime calls them with ``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``);
  the emulator "restores" at once, in the same process.

Misuse gets Lambda's answers: 400 ``InvalidRequestID`` for an id that is not the one
in flight, 403 ``InvalidStateTransition`` for a second answer or a late init error;
each is also kept in ``protocol_errors`` so tests can insist there were none.

One ``RuntimeApi`` serves one execution environment (one runtime process), as on
Lambda: a restarted function gets a fresh one, so a poll left over from a killed
process can never take an event meant for its successor. The server is a threaded
stdlib ``http.server`` speaking HTTP/1.1, because runtime clients keep their
connection alive. Timestamps are ``time.perf_counter_ns()`` of this process.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from hotcore_dev.harness.errors import (
    RESPONSE_TOO_LARGE,
    FunctionError,
    HarnessClosed,
    InitError,
)

__all__ = [
    "REQUEST_LIMIT_BYTES",
    "RESPONSE_LIMIT_BYTES",
    "Invocation",
    "RuntimeApi",
]

#: Lambda's synchronous Invoke request limit ("must be smaller than 6291456 bytes").
REQUEST_LIMIT_BYTES = 6_291_456
#: Lambda's response limit, the figure its own error message quotes.
RESPONSE_LIMIT_BYTES = 6_291_556
#: Past this the emulator stops reading a body at all and drops the connection.
_READ_CAP_BYTES = 4 * RESPONSE_LIMIT_BYTES

_PREFIX = "/2018-06-01/runtime"
_INVOCATION_PATH = re.compile(rf"^{_PREFIX}/invocation/([^/]+)/(response|error)$")
_ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
_AFTER_RESTORE_ERROR = "Runtime.AfterRestoreError"

Hook = Callable[["Invocation"], None]


class Invocation:
    """One event on its way through the Runtime API: queued, delivered, then answered.

    Exactly one outcome wins: the runtime's response or error, or a platform error
    (timeout, process exit) set with ``RuntimeApi.fail``. ``done`` is set once it has.
    """

    def __init__(
        self,
        payload: bytes,
        *,
        request_id: str,
        timeout_s: float,
        function_arn: str,
        trace_id: str,
        client_context: str | None = None,
        cognito_identity: str | None = None,
    ) -> None:
        self.payload = payload
        self.request_id = request_id
        self.timeout_s = timeout_s
        self.function_arn = function_arn
        self.trace_id = trace_id
        self.client_context = client_context
        self.cognito_identity = cognito_identity
        self.queued_ns = time.perf_counter_ns()
        self.delivered_ns: int | None = None
        #: Unix epoch milliseconds sent as ``Lambda-Runtime-Deadline-Ms``.
        self.deadline_ms: int | None = None
        self.completed_ns: int | None = None
        self.response: bytes | None = None
        self.content_type: str | None = None
        self.error: FunctionError | None = None
        self.done = threading.Event()
        self._lock = threading.Lock()

    @property
    def delivered(self) -> bool:
        return self.delivered_ns is not None

    def _settle(
        self,
        *,
        response: bytes | None = None,
        content_type: str | None = None,
        error: FunctionError | None = None,
    ) -> bool:
        """Record the outcome unless one was recorded before; True if this one won."""
        with self._lock:
            if self.completed_ns is not None:
                return False
            self.completed_ns = time.perf_counter_ns()
            self.response = response
            self.content_type = content_type
            self.error = error
            return True

    def __repr__(self) -> str:
        state = "done" if self.done.is_set() else "delivered" if self.delivered else "queued"
        return f"Invocation({self.request_id!r}, {state})"


class RuntimeApi:
    """The Runtime API of one execution environment; ``address`` goes in AWS_LAMBDA_RUNTIME_API.

    ``on_deliver`` runs just before an event is handed to the runtime, ``on_result``
    just after the runtime's answer is recorded and before the runtime is told 202
    (the launcher samples the process's CPU time and memory there). Both run on the
    server's threads and must be quick.
    """

    def __init__(self, *, on_deliver: Hook | None = None, on_result: Hook | None = None) -> None:
        self._on_deliver = on_deliver
        self._on_result = on_result
        self._cond = threading.Condition()
        self._queue: deque[Invocation] = deque()
        self._current: Invocation | None = None
        self._known: dict[str, Invocation] = {}
        self._closed = False
        self.first_next_ns: int | None = None
        self.restore_next_ns: int | None = None
        self.init_error: InitError | None = None
        #: Set at the end of init: first /next, /restore/next (SnapStart) or an init error.
        self.init_done = threading.Event()
        #: What the runtime did against the protocol (bad ids, double answers), in order.
        self.protocol_errors: list[str] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.api = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"lambda-runtime-api-{self.port}",
            daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def address(self) -> str:
        """``host:port``, the form AWS_LAMBDA_RUNTIME_API takes."""
        return f"127.0.0.1:{self.port}"

    @property
    def invocations(self) -> list[Invocation]:
        with self._cond:
            return list(self._known.values())

    def submit(self, invocation: Invocation) -> None:
        """Queue an event for the runtime's next poll (after init, if init is under way)."""
        with self._cond:
            if self._closed:
                raise HarnessClosed("this execution environment's Runtime API is closed")
            if invocation.request_id in self._known:
                raise ValueError(f"request id {invocation.request_id} was already submitted")
            self._known[invocation.request_id] = invocation
            if self.init_error is not None:
                # The environment is dead; Lambda answers with the init error.
                self._fail_locked(invocation, self.init_error)
                return
            self._queue.append(invocation)
            self._cond.notify_all()

    def fail(self, invocation: Invocation, error: FunctionError) -> bool:
        """Settle ``invocation`` with a platform error (timeout, exit); False if it had settled."""
        with self._cond:
            return self._fail_locked(invocation, error)

    def fail_init(self, error: InitError) -> bool:
        """End an unfinished init with a platform error (crash, timeout); queued events get it.

        False if init had already ended (the runtime polled or reported its own error).
        """
        with self._cond:
            if self.init_done.is_set():
                return False
            self.init_error = error
            self.init_done.set()
            for invocation in list(self._queue):
                self._fail_locked(invocation, error)
            return True

    def fail_pending(self, error_for: Callable[[Invocation], FunctionError]) -> None:
        """Settle every queued and in-flight event with ``error_for(it)`` (the runtime is gone)."""
        with self._cond:
            pending = list(self._queue)
            if self._current is not None:
                pending.append(self._current)
            for invocation in pending:
                self._fail_locked(invocation, error_for(invocation))

    @property
    def init_done_ns(self) -> int | None:
        """When init ended: /restore/next under SnapStart, else the first /next."""
        return self.restore_next_ns or self.first_next_ns

    def close(self) -> None:
        """Stop serving; pending polls return without an event. Idempotent."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RuntimeApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- called by the request handler -------------------------------------------------

    def _fail_locked(self, invocation: Invocation, error: FunctionError) -> bool:
        if not invocation._settle(error=error):
            return False
        if invocation in self._queue:
            self._queue.remove(invocation)
        if self._current is invocation:
            self._current = None
        invocation.done.set()
        return True

    def _next(self) -> Invocation | None:
        """Block until an event is queued (None once closed); it becomes the one in flight."""
        with self._cond:
            if self.first_next_ns is None:
                self.first_next_ns = time.perf_counter_ns()
                self.init_done.set()
            if self._current is not None:
                self.protocol_errors.append(
                    f"/next while {self._current.request_id} had no answer yet"
                )
            while True:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return None
                invocation = self._queue.popleft()
                if invocation.done.is_set():
                    continue
                invocation.delivered_ns = time.perf_counter_ns()
                invocation.deadline_ms = int(time.time() * 1000 + invocation.timeout_s * 1000)
                self._current = invocation
                break
        if self._on_deliver is not None:
            self._on_deliver(invocation)
        return invocation

    def _answer(
        self,
        request_id: str,
        *,
        response: bytes | None = None,
        content_type: str | None = None,
        error: FunctionError | None = None,
    ) -> tuple[int, dict[str, str]]:
        """Record the runtime's answer for ``request_id``; the HTTP status and body to send."""
        with self._cond:
            invocation = self._known.get(request_id)
            if invocation is None or (
                invocation is not self._current and invocation.completed_ns is None
            ):
                message = f"request id {request_id} is not the invocation in flight"
                self.protocol_errors.append(message)
                return 400, _error_document("InvalidRequestID", message)
            if not invocation._settle(response=response, content_type=content_type, error=error):
                message = f"invocation {request_id} already has an outcome"
                self.protocol_errors.append(message)
                return 403, _error_document("InvalidStateTransition", message)
            self._current = None
        if self._on_result is not None:
            self._on_result(invocation)
        invocation.done.set()
        return 202, {"status": "OK"}

    def _init_failed(self, error: InitError, *, restore: bool) -> tuple[int, dict[str, str]]:
        with self._cond:
            if self.first_next_ns is not None or self.init_error is not None:
                where = "restore" if restore else "init"
                message = f"{where} error after init had ended"
                self.protocol_errors.append(message)
                return 403, _error_document("InvalidStateTransition", message)
            self.init_error = error
            self.init_done.set()
            for invocation in list(self._queue):
                self._fail_locked(invocation, error)
        return 202, {"status": "OK"}

    def _restore_next(self) -> None:
        with self._cond:
            if self.restore_next_ns is None:
                self.restore_next_ns = time.perf_counter_ns()
            self.init_done.set()


def _error_document(error_type: str, message: str) -> dict[str, str]:
    return {"errorType": error_type, "errorMessage": message}


def _parse_error(body: bytes, header_type: str | None, request_id: str | None) -> FunctionError:
    """The error a runtime posted; a body that is not a JSON object becomes the message."""
    try:
        document = json.loads(body) if body else {}
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return FunctionError(
            header_type or "Unknown",
            body.decode("utf-8", "replace"),
            request_id=request_id,
        )
    return FunctionError.from_document(document, header_type=header_type, request_id=request_id)


class _Server(ThreadingHTTPServer):
    # Daemon threads and no join on close: a poll can be parked in /next when we stop.
    daemon_threads = True
    block_on_close = False
    api: RuntimeApi

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A killed runtime resets its connection: expected, not worth a traceback.
        if isinstance(sys.exception(), ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Routes one keep-alive connection's requests to the RuntimeApi."""

    protocol_version = "HTTP/1.1"
    # Headers and body leave in one write, without Nagle: otherwise a keep-alive client's
    # delayed ACK holds the second segment back ~40 ms and pollutes every timing.
    disable_nagle_algorithm = True
    wbufsize = -1
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        # The function's own output is the log that matters; the access log is noise.
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == f"{_PREFIX}/invocation/next":
            self._serve_next()
        elif path == f"{_PREFIX}/restore/next":
            self.server.api._restore_next()
            self._send(200, b"", content_type=None)
        else:
            self._send_json(404, _error_document("NotFound", f"no route GET {path}"))

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        body = self._read_body()
        if body is None:
            return
        api = self.server.api
        header_type = self.headers.get(_ERROR_TYPE_HEADER)
        match = _INVOCATION_PATH.match(path)
        if match is not None:
            request_id, kind = unquote(match.group(1)), match.group(2)
            if kind == "response":
                self._post_response(request_id, body)
            else:
                error = _parse_error(body, header_type, request_id)
                self._send_json(*api._answer(request_id, error=error))
        elif path in (f"{_PREFIX}/init/error", f"{_PREFIX}/restore/error"):
            restore = path.endswith("/restore/error")
            parsed = _parse_error(
                body, header_type or (_AFTER_RESTORE_ERROR if restore else None), None
            )
            error = InitError(
                # The header names the phase's failure (e.g. Runtime.AfterRestoreError);
                # the document names the exception. Lambda reports the header's type.
                header_type or parsed.error_type,
                parsed.message,
                parsed.trace,
                body=parsed.body,
            )
            self._send_json(*api._init_failed(error, restore=restore))
        else:
            self._send_json(404, _error_document("NotFound", f"no route POST {path}"))

    def _post_response(self, request_id: str, body: bytes) -> None:
        api = self.server.api
        if len(body) > RESPONSE_LIMIT_BYTES:
            error = FunctionError(
                RESPONSE_TOO_LARGE,
                "Response payload size exceeded maximum allowed payload size "
                f"({RESPONSE_LIMIT_BYTES} bytes).",
                request_id=request_id,
            )
            status, document = api._answer(request_id, error=error)
            if status == 202:
                status, document = (
                    413,
                    _error_document(
                        "RequestEntityTooLarge",
                        f"response is {len(body)} bytes; the limit is {RESPONSE_LIMIT_BYTES}",
                    ),
                )
            self._send_json(status, document)
            return
        content_type = self.headers.get("Content-Type") or "application/json"
        self._send_json(*api._answer(request_id, response=body, content_type=content_type))

    def _serve_next(self) -> None:
        invocation = self.server.api._next()
        if invocation is None:
            self.close_connection = True
            return
        headers = {
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
            "Lambda-Runtime-Trace-Id": invocation.trace_id,
        }
        if invocation.client_context is not None:
            headers["Lambda-Runtime-Client-Context"] = invocation.client_context
        if invocation.cognito_identity is not None:
            headers["Lambda-Runtime-Cognito-Identity"] = invocation.cognito_identity
        self._send(200, invocation.payload, headers=headers)

    def _read_body(self) -> bytes | None:
        """The request body (Content-Length or chunked); None if refused and answered."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            size = 0
            while True:
                line = self.rfile.readline(1024)
                length = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if length == 0:
                    # Trailer section: header lines until the empty one.
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                size += length
                if size > _READ_CAP_BYTES:
                    self._refuse_body()
                    return None
                chunks.append(self.rfile.read(length))
                self.rfile.readline(8)
        length = int(self.headers.get("Content-Length") or 0)
        if length > _READ_CAP_BYTES:
            self._refuse_body()
            return None
        return self.rfile.read(length) if length else b""

    def _refuse_body(self) -> None:
        self.close_connection = True
        self._send_json(
            413, _error_document("RequestEntityTooLarge", "body is far over the 6 MB limit")
        )

    def _send_json(self, status: int, document: Mapping[str, str]) -> None:
        self._send(status, json.dumps(document).encode())

    def _send(
        self,
        status: int,
        body: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = "application/json",
    ) -> None:
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)
        self.wfile.flush()
