"""SHA-256 and HMAC-SHA256 without ``hashlib`` and ``hmac``, for SigV4 and fingerprints.

``import hashlib`` loads OpenSSL's libcrypto and builds its table of algorithms, and
``hmac`` imports ``hashlib``: together several milliseconds of every cold start (see
docs/coldstart.md). CPython's own SHA-256 (``_sha2``, the verified HACL* code) is a
small built-in module and is all SigV4 needs; HMAC is RFC 2104 over it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:
    from _sha2 import sha256 as _sha256  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - CPython built without its own hash modules
    from _hashlib import openssl_sha256 as _sha256

__all__ = ["hmac_sha256", "sha256", "sha256_hex"]

#: ``sha256(data)``: a hash object with ``update``, ``digest`` and ``hexdigest``.
sha256: Callable[..., Any] = _sha256

_BLOCK = 64  # SHA-256's block size in bytes
_INNER = bytes(x ^ 0x36 for x in range(256))
_OUTER = bytes(x ^ 0x5C for x in range(256))


def sha256_hex(data: bytes) -> str:
    """The lower-case hex SHA-256 of ``data``."""
    result: str = _sha256(data).hexdigest()
    return result


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 of ``message`` under ``key`` (RFC 2104), as raw bytes."""
    if len(key) > _BLOCK:
        key = _sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner = _sha256(key.translate(_INNER))
    inner.update(message)
    outer = _sha256(key.translate(_OUTER))
    outer.update(inner.digest())
    result: bytes = outer.digest()
    return result
