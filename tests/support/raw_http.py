"""A server on 127.0.0.1 that answers each HTTP request with scripted raw bytes.

For the wire-level tests of ``hotcore.aws.connection``: each scripted reply is sent
exactly as written (any framing, split into any pieces), after which the server keeps
the connection open, closes it, or goes silent. It records every request it read and
counts accepted connections.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass

__all__ = ["Reply", "ScriptedServer"]


@dataclass(frozen=True)
class Reply:
    """The bytes to send (in these pieces, a short pause between them), then what to do."""

    pieces: tuple[bytes, ...]
    then: str = "keep"  # keep | close | hang (send nothing more, never answer again)

    @classmethod
    def of(cls, *pieces: bytes, then: str = "keep") -> Reply:
        return cls(tuple(pieces), then)


class ScriptedServer:
    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.requests: list[bytes] = []
        self.connections = 0
        self._open: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._open.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                body, buffer = buffer[:length], buffer[length:]
                with self._lock:
                    self.requests.append(head + b"\r\n\r\n" + body)
                    reply = self._replies.popleft() if self._replies else None
                if reply is None:
                    reply = Reply.of(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
                for number, piece in enumerate(reply.pieces):
                    if number:
                        time.sleep(0.01)  # separate TCP segments
                    conn.sendall(piece)
                if reply.then == "close":
                    return
                if reply.then == "hang":
                    while conn.recv(65536):
                        pass
                    return
        except OSError:
            return
        finally:
            conn.close()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._listener.close()
        with self._lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
