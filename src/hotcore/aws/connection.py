"""Keep-alive HTTP(S) connections to one endpoint, reused across requests and Lambda invocations.

A ``Connection`` owns a small pool of ``http.client`` connections to one
``scheme://host[:port]``: a single-threaded Lambda uses exactly one, threads each
take their own. A connection is reused until it fails or the server says it will
close; a kept-alive connection found dead when reused (the server timed it out
between invocations) is replaced at once, without counting as a failed attempt.
Retries and backoff belong to the caller (``hotcore.aws.client``).
"""

from __future__ import annotations

import http.client
import threading
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Connection", "Response"]

#: Errors that mean "this socket is dead", as opposed to "the network is down".
_STALE_ERRORS = (
    http.client.RemoteDisconnected,
    ConnectionResetError,
    BrokenPipeError,
    ConnectionAbortedError,
)

_tls_context: Any = None
_tls_lock = threading.Lock()


def _default_tls_context() -> Any:
    # Loading the CA bundle costs milliseconds: once per process, on first HTTPS use.
    global _tls_context
    if _tls_context is None:
        with _tls_lock:
            if _tls_context is None:
                import ssl

                _tls_context = ssl.create_default_context()
    return _tls_context


class Response:
    """Status, headers (names lower-cased) and body of one HTTP response."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


class Connection:
    """Pooled keep-alive connections to ``endpoint`` (``http(s)://host[:port]``)."""

    def __init__(
        self,
        endpoint: str,
        *,
        connect_timeout: float = 2.0,
        read_timeout: float = 10.0,
        max_idle: int = 8,
    ) -> None:
        parts = urlsplit(endpoint)
        self.endpoint = endpoint
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        default_port = 443 if self._https else 80
        bracketed = f"[{self._host}]" if ":" in self._host else self._host
        #: The Host header to send, and so the one to sign.
        self.host_header = (
            bracketed if self._port in (None, default_port) else f"{bracketed}:{self._port}"
        )
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._max_idle = max_idle
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        #: TCP connections opened so far: 1 after many requests means keep-alive works.
        self.connects = 0

    def _open(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection
        if self._https:
            connection = http.client.HTTPSConnection(
                self._host,
                self._port,
                timeout=self._connect_timeout,
                context=_default_tls_context(),
            )
        else:
            connection = http.client.HTTPConnection(
                self._host, self._port, timeout=self._connect_timeout
            )
        connection.connect()
        # The connect timeout is short; reads may legitimately take longer.
        if connection.sock is not None:
            connection.sock.settimeout(self._read_timeout)
        with self._lock:
            self.connects += 1
        return connection

    def _take(self) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return self._open(), False

    def _give_back(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self._max_idle:
                self._idle.append(connection)
                return
        connection.close()

    def send(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        """One request and its whole response; raises ``OSError``/``HTTPException`` on failure.

        ``headers`` should include ``Host`` (``host_header``) when they are signed.
        """
        connection, reused = self._take()
        try:
            return self._exchange(connection, method, target, headers, body)
        except _STALE_ERRORS:
            if not reused:
                raise
        # The pooled socket had been closed by the server while idle: one fresh try.
        return self._exchange(self._open(), method, target, headers, body)

    def _exchange(
        self,
        connection: http.client.HTTPConnection,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
    ) -> Response:
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except BaseException:
            connection.close()
            raise
        result = Response(
            response.status, {name.lower(): value for name, value in response.getheaders()}, data
        )
        if response.will_close:
            connection.close()
        else:
            self._give_back(connection)
        return result

    def close(self) -> None:
        """Close every idle connection (before a SnapStart snapshot, or at shutdown)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
