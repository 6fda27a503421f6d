"""An HTTP-level fault double: a tiny HTTP/1.1 server on 127.0.0.1 that misbehaves on cue.

It stands between a ``hotcore.aws`` client and its endpoint. Each request takes
the next scripted fault whose target matches (``X-Amz-Target`` ending in the
operation name, or any operation); with no fault queued it forwards the request
to ``upstream`` (a moto server) or, without one, answers ``200 {}``.

Faults: ``respond`` (any status and body, e.g. throttling or a 500),
``drop_before`` (close the connection without forwarding: nothing happened),
``drop_after`` (forward, so the write happens, then close without answering:
the client cannot know it succeeded), ``truncate`` (forward, then send only half of
the answer: with the full ``Content-Length`` the connection closes early, with the
short one the answer's CRC32 no longer matches) and ``delay`` (answer late, for
timeouts). ``chaos`` draws faults at random instead of from the script: seeded, at a
rate, from the kinds given, counted in ``injected``.

Forwarded answers carry ``x-amz-crc32`` (of the whole body) as DynamoDB's do, so a
client can tell a truncated answer from a short one.

It counts accepted connections (``connections``), so keep-alive is checked from
the server side, and records every request (``requests``).
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import zlib
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import urlsplit

__all__ = ["CHAOS_FAULTS", "Fault", "FaultProxy", "RecordedRequest", "aws_error_body", "fault_name"]

FaultKind = Literal["respond", "drop_before", "drop_after", "truncate", "delay"]


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour; build with the class methods."""

    kind: FaultKind
    operation: str | None = None  # None: the next request, whatever its operation
    status: int = 200
    body: bytes = b"{}"
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0

    @classmethod
    def respond(
        cls,
        status: int,
        body: bytes | dict[str, Any] = b"{}",
        *,
        operation: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Fault:
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        return cls("respond", operation, status, data, tuple((headers or {}).items()))

    @classmethod
    def throttle(
        cls, code: str = "ProvisionedThroughputExceededException", *, operation: str | None = None
    ) -> Fault:
        return cls.respond(
            400,
            aws_error_body(code, "Rate of requests exceeds the allowed throughput."),
            operation=operation,
        )

    @classmethod
    def server_error(cls, status: int = 500, *, operation: str | None = None) -> Fault:
        return cls.respond(
            status,
            aws_error_body("InternalServerError", "Internal server error"),
            operation=operation,
        )

    @classmethod
    def drop_before(cls, *, operation: str | None = None) -> Fault:
        return cls("drop_before", operation)

    @classmethod
    def drop_after(cls, *, operation: str | None = None) -> Fault:
        return cls("drop_after", operation)

    @classmethod
    def truncate(cls, *, honest_length: bool = False, operation: str | None = None) -> Fault:
        """Forward (the request takes effect), then answer only the first half of the body."""
        return cls("truncate", operation, status=1 if honest_length else 0)

    @classmethod
    def delay(cls, seconds: float, *, operation: str | None = None) -> Fault:
        return cls("delay", operation, seconds=seconds)


def aws_error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The JSON error body DynamoDB sends, e.g. for ``ThrottlingException``."""
    return {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message, **extra}


#: What ``FaultProxy.chaos`` draws from by default: every kind a network or DynamoDB
#: inflicts on a client, before and after the request took effect.
CHAOS_FAULTS: tuple[Fault, ...] = (
    Fault.throttle(),
    Fault.throttle("ThrottlingException"),
    Fault.server_error(500),
    Fault.server_error(503),
    Fault.drop_before(),
    Fault.drop_after(),
    Fault.truncate(),
    Fault.truncate(honest_length=True),
)


def fault_name(fault: Fault) -> str:
    """A short name for counting: ``throttle``, ``500``, ``drop_after``, ``truncate``..."""
    if fault.kind == "respond":
        return "throttle" if fault.status == 400 else str(fault.status)
    if fault.kind == "truncate":
        return "truncate(short)" if fault.status else "truncate(early close)"
    return fault.kind


@dataclass
class RecordedRequest:
    """What the double saw: the operation (from X-Amz-Target), headers and body."""

    operation: str
    headers: dict[str, str]
    body: bytes
    fault: FaultKind | None = None


@dataclass
class _Chaos:
    rng: random.Random
    rate: float
    faults: tuple[Fault, ...]
    operations: frozenset[str] | None


@dataclass
class _State:
    upstream: str | None
    faults: deque[Fault] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    chaos: _Chaos | None = None
    injected: Counter[str] = field(default_factory=Counter)

    def next_fault(self, operation: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.operation is None or fault.operation == operation:
                    self.faults.remove(fault)
                    return fault
            chaos = self.chaos
            if chaos is None or (
                chaos.operations is not None and operation not in chaos.operations
            ):
                return None
            if chaos.rng.random() >= chaos.rate:
                return None
            fault = chaos.rng.choice(chaos.faults)
            self.injected[fault_name(fault)] += 1
            return fault


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like AWS

        def setup(self) -> None:
            super().setup()
            with state.lock:
                state.connections += 1

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            return

        def do_POST(self) -> None:
            self._handle()

        def do_GET(self) -> None:
            self._handle()

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            target = self.headers.get("X-Amz-Target") or ""
            operation = target.rpartition(".")[2]
            fault = state.next_fault(operation)
            with state.lock:
                state.requests.append(
                    RecordedRequest(
                        operation, dict(self.headers.items()), body, fault.kind if fault else None
                    )
                )
            if fault is not None and fault.kind == "drop_before":
                self.close_connection = True
                self.connection.close()
                return
            if fault is not None and fault.kind == "respond":
                self._answer(fault.status, list(fault.headers), fault.body)
                return
            if fault is not None and fault.kind == "delay":
                time.sleep(fault.seconds)
            status, headers, answer = self._forward(body)
            if fault is not None and fault.kind == "drop_after":
                self.close_connection = True
                self.connection.close()
                return
            if not any(name.lower() == "x-amz-crc32" for name, _ in headers):
                headers.append(("x-amz-crc32", str(zlib.crc32(answer))))
            if fault is not None and fault.kind == "truncate":
                self._truncated(status, headers, answer, honest_length=bool(fault.status))
                return
            self._answer(status, headers, answer)

        def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
            if state.upstream is None:
                return 200, [("Content-Type", "application/x-amz-json-1.0")], b"{}"
            parts = urlsplit(state.upstream)
            upstream = http.client.HTTPConnection(
                parts.hostname or "127.0.0.1", parts.port, timeout=30
            )
            try:
                skip = {"host", "content-length", "connection", "accept-encoding"}
                headers = {
                    name: value for name, value in self.headers.items() if name.lower() not in skip
                }
                # The signature covers the client's Host; moto does not check it.
                headers["Host"] = self.headers.get("Host") or ""
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                keep = [
                    (name, value)
                    for name, value in response.getheaders()
                    if name.lower()
                    not in {"content-length", "connection", "transfer-encoding", "server", "date"}
                ]
                return response.status, keep, data
            finally:
                upstream.close()

        def _truncated(
            self, status: int, headers: list[tuple[str, str]], body: bytes, *, honest_length: bool
        ) -> None:
            half = body[: len(body) // 2]
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(half) if honest_length else len(body)))
            self.end_headers()
            self.wfile.write(half)
            self.wfile.flush()
            self.close_connection = True
            self.connection.close()

        def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            if not any(name.lower() == "content-type" for name, _ in headers):
                self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


class FaultProxy:
    """The running double; ``endpoint`` is ``http://127.0.0.1:<port>``. Use as a context manager."""

    def __init__(self, upstream: str | None = None) -> None:
        self._state = _State(upstream)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self._state))
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fault-proxy", daemon=True
        )
        self._thread.start()

    def script(self, *faults: Fault) -> None:
        """Queue faults; each is used once, by the first request that matches it."""
        with self._state.lock:
            self._state.faults.extend(faults)

    def chaos(
        self,
        rng: random.Random,
        rate: float,
        faults: tuple[Fault, ...] = CHAOS_FAULTS,
        operations: set[str] | None = None,
    ) -> None:
        """From now on, each request (of ``operations``, or any) gets a random fault with
        probability ``rate``; ``None`` rng stops it. Scripted faults still come first."""
        with self._state.lock:
            self._state.chaos = _Chaos(
                rng, rate, faults, None if operations is None else frozenset(operations)
            )

    def calm(self) -> None:
        """No more random faults."""
        with self._state.lock:
            self._state.chaos = None

    @property
    def injected(self) -> dict[str, int]:
        """Random faults injected so far, by kind."""
        with self._state.lock:
            return dict(self._state.injected)

    @property
    def pending(self) -> list[Fault]:
        """Faults not used yet."""
        with self._state.lock:
            return list(self._state.faults)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def connections(self) -> int:
        """TCP connections accepted so far."""
        with self._state.lock:
            return self._state.connections

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
