"""TLS for the AWS client: certificates checked against the AWS roots hotcore ships.

``ssl.create_default_context()`` loads the system store (about 140 roots here), which
costs a cold start tens of milliseconds of CPU; every AWS endpoint chains to one of
five roots (Amazon Root CA 1-4, Starfield Services Root G2), so the layer ships those
five in ``aws-roots.pem`` and loads only them. The trust store is chosen once per
process from ``HOTCORE_CA_BUNDLE``:

- unset or empty: ``aws-roots.pem`` beside this module;
- ``system``: the system store (``ssl.create_default_context()``), for endpoints
  behind a proxy that re-signs traffic with a corporate root in that store;
- anything else: the path of a PEM bundle (a test CA, an emulator behind TLS).

Certificates are always verified and the host name always checked (by OpenSSL, as
``ssl`` does it); TLS 1.2 is the minimum, as AWS requires. The connection is driven
through memory buffers over the plain socket ``hotcore.aws.connection`` opened, so plain
and TLS connections share one socket type and one parser.

This module uses ``_ssl``, the C half of ``ssl``, directly: ``import ssl`` adds
``socket``, ``enum`` classes and more, and ``ssl`` encodes every server name with the
``idna`` codec (which imports ``re``); together more than the handshake itself costs a
cold start (docs/coldstart.md). The objects are the very ones ``ssl`` wraps (a context
made for ``PROTOCOL_TLS_CLIENT``: the same options, verification and host-name check),
and the errors are ``ssl``'s classes (``ssl.SSLCertVerificationError`` & co. are
``_ssl``'s). ``HOTCORE_CA_BUNDLE=system`` goes through ``ssl.create_default_context()``.
The layer is built for one CPython minor version, and the TLS tests run this path.
"""

from __future__ import annotations

import _ssl
import _thread
import os

from hotcore.aws.connection import _RECEIVE_BYTES, _Socket

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["AWS_ROOTS", "TlsSocket", "context"]

#: The bundle of the five roots AWS endpoints chain to, shipped in the layer.
AWS_ROOTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "aws-roots.pem")

_context: Any = None
_lock = _thread.allocate_lock()


def context() -> Any:
    """The process's client context (built on first use from ``HOTCORE_CA_BUNDLE``)."""
    global _context
    if _context is None:
        with _lock:
            if _context is None:
                _context = _build_context(os.environ.get("HOTCORE_CA_BUNDLE", ""))
    return _context


def _build_context(choice: str) -> Any:
    if choice == "system":
        import ssl

        made: Any = ssl.create_default_context()
    else:
        made = _ssl._SSLContext(_ssl.PROTOCOL_TLS_CLIENT)  # verifies, checks host names
        bundle = choice or AWS_ROOTS
        try:
            made.load_verify_locations(bundle)
        except OSError as error:  # _ssl.SSLError is an OSError too
            raise _ssl.SSLError(
                f"cannot load the CA bundle {bundle!r} (HOTCORE_CA_BUNDLE): {error}"
            ) from error
    made.minimum_version = _ssl.PROTO_TLSv1_2
    return made


def reset() -> None:
    """Forget the context, so the next connection reads ``HOTCORE_CA_BUNDLE`` again (tests)."""
    global _context
    with _lock:
        _context = None


class TlsSocket(_Socket):
    """A TCP socket carrying TLS: the handshake happens here, in the constructor."""

    __slots__ = ("_incoming", "_outgoing", "_tls")

    def __init__(self, sock: Any, host: str) -> None:
        super().__init__(sock)
        self._incoming = _ssl.MemoryBIO()
        self._outgoing = _ssl.MemoryBIO()
        tls = context()
        wrap = getattr(tls, "_wrap_bio", None)
        if wrap is None or not isinstance(tls, _ssl._SSLContext):  # pragma: no cover
            raise _ssl.SSLError("this Python's _ssl has no _wrap_bio: hotcore.aws.tls needs it")
        # A str host name goes to OpenSSL as ASCII (AWS names are) for SNI and the check.
        self._tls = wrap(self._incoming, self._outgoing, False, host)
        while True:
            try:
                self._tls.do_handshake()
                break
            except _ssl.SSLWantReadError:
                self._flush()
                self._fill()
        self._flush()

    def _flush(self) -> None:
        data = self._outgoing.read()
        if data:
            self.sock.sendall(data)

    def _fill(self) -> bool:
        """Move received bytes into TLS; False once the peer has closed the TCP stream."""
        data = self.sock.recv(_RECEIVE_BYTES)
        if data:
            self._incoming.write(data)
            return True
        self._incoming.write_eof()
        return False

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = self._tls.write(view)
            view = view[written:]
            self._flush()

    def receive(self) -> bytes:
        while True:
            try:
                data: bytes = self._tls.read(_RECEIVE_BYTES)
                return data
            except _ssl.SSLWantReadError:
                self._flush()  # TLS 1.3 may have something to say first (key updates)
                if not self._fill():
                    return b""
            except (_ssl.SSLZeroReturnError, _ssl.SSLEOFError):
                return b""  # closed, with or without close_notify: the parser decides

    def close(self) -> None:
        try:
            self._tls.shutdown()
            self._flush()
        except (OSError, ValueError):
            pass  # the peer may be gone already; the socket closes either way
        self.sock.close()
