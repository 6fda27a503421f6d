"""HTTP/1.1 keep-alive connections to one endpoint, on raw sockets, reused across invocations.

Why not ``http.client``: importing it loads ``email`` (it parses every response's
headers with it), ``urllib``, ``ssl`` and more, which costs a Lambda cold start
tens of milliseconds (docs/coldstart.md has the figures). This module speaks the
part of HTTP/1.1 that AWS JSON APIs, the container credentials endpoint and the
Lambda Runtime API use: one request at a time per connection; response bodies
framed by ``Content-Length``, by the chunked transfer coding, or (for a server
that says so) by the end of the connection; interim 1xx responses skipped;
keep-alive unless the server asks to close. Plain ``http`` needs only ``_socket``;
``https`` loads ``hotcore.aws.tls`` (and with it ``ssl``) on the first connect.

A ``Connection`` owns a small pool of open sockets to one ``scheme://host[:port]``:
a single-threaded Lambda uses exactly one, threads each take their own. A socket is
reused until it fails or the server says it will close; a kept-alive socket found
dead when reused (the server timed it out between invocations) is replaced at once,
without counting as a failed attempt. Retries and backoff belong to the caller
(``hotcore.aws.client``). Every failure is an ``OSError``: the socket's own
(refused, reset, ``TimeoutError``), TLS's (``ssl.SSLError``) or ``ProtocolError``.
"""

from __future__ import annotations

import _socket
import _thread

TYPE_CHECKING = False  # typing's flag without importing typing: the bootstrap needs none
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

__all__ = ["Connection", "ProtocolError", "Response", "split_endpoint", "split_url"]

#: A response head larger than this is refused (AWS sends well under 2 KB).
_MAX_HEAD_BYTES = 64 * 1024
#: How much one receive asks the kernel for.
_RECEIVE_BYTES = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}


class ProtocolError(ConnectionError):
    """The peer sent something this client cannot read as HTTP/1.1, or stopped mid-message."""


class _ClosedBeforeAnswer(ProtocolError):
    """The peer closed the connection before sending any byte of a response."""


#: Errors that mean "this reused socket was already dead", not "the network is down".
_STALE_ERRORS = (_ClosedBeforeAnswer, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


def split_url(url: str) -> tuple[str, str, int | None, str, str]:
    """``(scheme, host, port, path, query)`` of an absolute URL; the fragment is dropped."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        raise ValueError(f"not an absolute URL: {url!r}")
    rest = rest.partition("#")[0]
    cut = len(rest)
    for mark in "/?":
        found = rest.find(mark)
        if 0 <= found < cut:
            cut = found
    authority, tail = rest[:cut], rest[cut:]
    path, _, query = tail.partition("?")
    authority = authority.rpartition("@")[2]
    if authority.startswith("["):
        host, _, after = authority[1:].partition("]")
        port_text = after[1:] if after.startswith(":") else ""
    else:
        host, _, port_text = authority.partition(":")
    port = None
    if port_text:
        if not port_text.isdigit() or int(port_text) > 65535:
            raise ValueError(f"bad port in URL {url!r}")
        port = int(port_text)
    return scheme.lower(), host.lower(), port, path, query


def split_endpoint(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of ``http(s)://host[:port]`` (IPv6 hosts in brackets).

    Raises ``ValueError`` for anything else (a path, a query, another scheme).
    """
    scheme, host, port, path, query = split_url(url)
    if scheme not in _DEFAULT_PORTS or not host or path.strip("/") or query or "?" in url:
        raise ValueError(f"endpoint {url!r} must be http(s)://host[:port] without a path")
    return scheme, host, _DEFAULT_PORTS[scheme] if port is None else port


class Response:
    """Status, headers (names lower-cased; repeated headers joined by ", ") and body."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        return f"Response({self.status}, {len(self.body)} bytes)"


class _Socket:
    """One open TCP connection, with the bytes received but not yet consumed."""

    __slots__ = ("pending", "sock")

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.pending = bytearray()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def receive(self) -> bytes:
        """Up to ``_RECEIVE_BYTES`` more bytes; ``b""`` once the peer has closed."""
        data: bytes = self.sock.recv(_RECEIVE_BYTES)
        return data

    def close(self) -> None:
        self.sock.close()


def _open_tcp(host: str, port: int, timeout: float | None) -> Any:
    """A connected TCP socket to the first address of ``host`` that answers."""
    failure: OSError | None = None
    # Bytes, not str: getaddrinfo encodes a str host with the "idna" codec, whose import
    # (re, stringprep, unicodedata...) would cost more than the whole bootstrap.
    name = host.encode("ascii") if host.isascii() else host.encode("idna")
    for family, kind, proto, _, address in _socket.getaddrinfo(name, port, 0, _socket.SOCK_STREAM):
        sock = _socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
            # Requests leave in one write; without Nagle nothing waits for an ACK.
            sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            return sock
        except OSError as error:
            failure = error
            sock.close()
    raise failure or OSError(f"no address found for {host!r}")


class Connection:
    """Pooled keep-alive connections to ``endpoint`` (``http(s)://host[:port]``).

    ``read_timeout`` bounds each wait for the server (None waits for ever: the
    Lambda Runtime API's long poll); ``connect_timeout`` bounds opening a socket
    and the TLS handshake.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        connect_timeout: float = 2.0,
        read_timeout: float | None = 10.0,
        max_idle: int = 8,
    ) -> None:
        self.endpoint = endpoint
        scheme, self._host, self._port = split_endpoint(endpoint)
        self._https = scheme == "https"
        bracketed = f"[{self._host}]" if ":" in self._host else self._host
        #: The Host header to send, and so the one to sign.
        self.host_header = (
            bracketed if self._port == _DEFAULT_PORTS[scheme] else f"{bracketed}:{self._port}"
        )
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._max_idle = max_idle
        self._idle: list[_Socket] = []
        self._lock = _thread.allocate_lock()
        #: Connections opened so far: 1 after many requests means keep-alive works.
        self.connects = 0

    def _open(self) -> _Socket:
        sock = _open_tcp(self._host, self._port, self._connect_timeout)
        try:
            if self._https:
                from hotcore.aws.tls import TlsSocket

                opened: _Socket = TlsSocket(sock, self._host)
            else:
                opened = _Socket(sock)
            # The connect timeout is short; reads may legitimately take longer.
            sock.settimeout(self._read_timeout)
        except BaseException:
            sock.close()
            raise
        with self._lock:
            self.connects += 1
        return opened

    def _take(self) -> tuple[_Socket, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return self._open(), False

    def _give_back(self, connection: _Socket) -> None:
        with self._lock:
            if len(self._idle) < self._max_idle:
                self._idle.append(connection)
                return
        connection.close()

    def send(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes = b"",
    ) -> Response:
        """One request and its whole response; raises ``OSError`` (see the module) on failure.

        ``Host`` is added unless ``headers`` has it (it must, when they are signed);
        ``Content-Length`` is always set from ``body``.
        """
        request = _request_bytes(method, target, headers, body, self.host_header)
        connection, reused = self._take()
        try:
            return self._exchange(connection, method, request)
        except _STALE_ERRORS:
            if not reused:
                raise
        # The pooled socket had been closed by the server while idle: one fresh try.
        return self._exchange(self._open(), method, request)

    def _exchange(self, connection: _Socket, method: str, request: bytes) -> Response:
        try:
            connection.send(request)
            response, keep = _read_response(connection, method)
        except BaseException:
            connection.close()
            raise
        if keep:
            self._give_back(connection)
        else:
            connection.close()
        return response

    def close(self) -> None:
        """Close every idle connection (before a SnapStart snapshot, or at shutdown)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


def _request_bytes(
    method: str, target: str, headers: Mapping[str, str], body: bytes, host: str
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1"]
    has_host = False
    for name, value in headers.items():
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
            raise ValueError(f"header {name!r} has a character HTTP does not allow")
        lower = name.lower()
        if lower == "content-length":
            continue
        has_host = has_host or lower == "host"
        lines.append(f"{name}: {value}")
    if not has_host:
        lines.insert(1, f"Host: {host}")
    if body or method not in ("GET", "HEAD"):
        lines.append(f"Content-Length: {len(body)}")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("latin-1") + body


def _read_response(connection: _Socket, method: str) -> tuple[Response, bool]:
    """The next response on ``connection``, and whether the connection stays usable."""
    while True:
        status, version, headers = _read_head(connection)
        if 100 <= status < 200 and status != 101:
            continue  # interim (100 Continue, 103 Early Hints): the answer follows
        break
    keep = _keeps_alive(version, headers.get("connection", ""))
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return Response(status, headers, b""), keep
    coding = headers.get("transfer-encoding")
    if coding is not None:
        if coding.rsplit(",", 1)[-1].strip().lower() != "chunked":
            raise ProtocolError(f"unsupported Transfer-Encoding {coding!r}")
        return Response(status, headers, _read_chunked(connection)), keep
    length_text = headers.get("content-length")
    if length_text is not None:
        length_text = length_text.split(",", 1)[0].strip()
        if not length_text.isdigit():
            raise ProtocolError(f"bad Content-Length {headers['content-length']!r}")
        return Response(status, headers, _read_exactly(connection, int(length_text))), keep
    # No framing: the body runs to the end of the connection, which then cannot be reused.
    return Response(status, headers, _read_to_end(connection)), False


def _keeps_alive(version: str, connection_header: str) -> bool:
    tokens = {token.strip().lower() for token in connection_header.split(",")}
    if version == "HTTP/1.0":
        return "keep-alive" in tokens
    return "close" not in tokens


def _read_head(connection: _Socket) -> tuple[int, str, dict[str, str]]:
    pending = connection.pending
    end = pending.find(b"\r\n\r\n")
    while end < 0:
        if len(pending) > _MAX_HEAD_BYTES:
            raise ProtocolError(f"response head is over {_MAX_HEAD_BYTES} bytes")
        data = connection.receive()
        if not data:
            if pending:
                raise ProtocolError("connection closed in the middle of a response head")
            raise _ClosedBeforeAnswer("connection closed before any response")
        # Only the new bytes (and the 3 before them) can complete the separator.
        start = max(0, len(pending) - 3)
        pending += data
        end = pending.find(b"\r\n\r\n", start)
    head = pending[:end].decode("latin-1")
    del pending[: end + 4]
    status_line, *lines = head.split("\r\n")
    version, _, rest = status_line.partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or not code.isdigit():
        raise ProtocolError(f"not an HTTP/1.x status line: {status_line[:80]!r}")
    headers: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise ProtocolError(f"malformed header line {line[:80]!r}")
        name = name.lower()
        value = value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return int(code), version, headers


def _read_exactly(connection: _Socket, length: int) -> bytes:
    pending = connection.pending
    if len(pending) >= length:
        body = bytes(pending[:length])
        del pending[:length]
        return body
    parts = [bytes(pending)]
    have = len(pending)
    pending.clear()
    while have < length:
        data = connection.receive()
        if not data:
            raise ProtocolError(f"connection closed after {have} of {length} body bytes")
        parts.append(data)
        have += len(data)
    body = b"".join(parts)
    if have > length:
        # Bytes past the body belong to whatever the server sends next.
        pending += body[length:]
        body = body[:length]
    return body


def _read_line(connection: _Socket) -> bytes:
    pending = connection.pending
    end = pending.find(b"\r\n")
    while end < 0:
        if len(pending) > _MAX_HEAD_BYTES:
            raise ProtocolError("chunk header line too long")
        data = connection.receive()
        if not data:
            raise ProtocolError("connection closed in the middle of a chunked body")
        pending += data
        end = pending.find(b"\r\n")
    line = bytes(pending[:end])
    del pending[: end + 2]
    return line


def _read_chunked(connection: _Socket) -> bytes:
    parts: list[bytes] = []
    while True:
        size_text = _read_line(connection).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ProtocolError(f"bad chunk size {size_text[:20]!r}") from None
        if size < 0:
            raise ProtocolError(f"bad chunk size {size_text[:20]!r}")
        if size == 0:
            while _read_line(connection):  # trailer fields, up to the empty line
                pass
            return b"".join(parts)
        parts.append(_read_exactly(connection, size))
        if _read_line(connection):
            raise ProtocolError("chunk data longer than its declared size")


def _read_to_end(connection: _Socket) -> bytes:
    parts = [bytes(connection.pending)]
    connection.pending.clear()
    while True:
        data = connection.receive()
        if not data:
            return b"".join(parts)
        parts.append(data)
