"""Identifiers the runtime makes: fresh command ids and deterministic ones for reactions."""

from __future__ import annotations

import os

from hotcore.aws.digest import sha256_hex

MAX_ID_LENGTH = 256  # the Ref contract's limit


def new_command_id() -> str:
    """A random (version 4) UUID in its usual text form, without importing ``uuid``."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def derived_id(*parts: str | int) -> str:
    """A deterministic id from its parts: the same inputs always give the same id.

    Readable (``a:b:c``) when short enough, else a hash, so it always fits the Id contract.
    """
    joined = ":".join(str(part) for part in parts)
    if len(joined) <= MAX_ID_LENGTH and "#" not in joined and " " not in joined:
        return joined
    return "h:" + sha256_hex(joined.encode())
