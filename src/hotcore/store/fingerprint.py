"""Fingerprints of commands and hashes of command ids, for idempotency that compares.

A fingerprint is the first 16 bytes (32 hex digits) of SHA-256 over the command's
canonical encoding: msgspec JSON with sorted keys, which includes the type tag and the
stream id field. Two sends of one command id compare by fingerprint: the same one is a
re-send (first outcome), another one a reused id (``CommandIdReused``).

SHA-256 comes from ``hotcore.aws.digest`` (CPython's built-in ``_sha2``), not ``hashlib``,
whose import costs the cold start milliseconds.
"""

from __future__ import annotations

import msgspec

from hotcore.aws.digest import sha256 as _sha256

__all__ = ["digest", "fingerprint", "id_hash"]

_encode_sorted = msgspec.json.Encoder(order="sorted").encode


def digest(data: bytes) -> bytes:
    """SHA-256 of ``data``."""
    result: bytes = _sha256(data).digest()
    return result


def fingerprint(command: object) -> str:
    """The command's fingerprint: 32 hex digits, equal iff the canonical encodings are."""
    result: str = _sha256(_encode_sorted(command)).hexdigest()
    return result[:32]


def id_hash(command_id: str) -> bytes:
    """8 bytes naming a command id in a snapshot's compact list of recent commands."""
    return digest(command_id.encode())[:8]
