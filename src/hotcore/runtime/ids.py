"""Identifiers the runtime makes: fresh command ids and deterministic ones for reactions."""

from __future__ import annotations

import hashlib
import uuid

MAX_ID_LENGTH = 256  # the Ref contract's limit


def new_command_id() -> str:
    return str(uuid.uuid4())


def derived_id(*parts: str | int) -> str:
    """A deterministic id from its parts: the same inputs always give the same id.

    Readable (``a:b:c``) when short enough, else a hash, so it always fits the Id contract.
    """
    joined = ":".join(str(part) for part in parts)
    if len(joined) <= MAX_ID_LENGTH and "#" not in joined and " " not in joined:
        return joined
    return "h:" + hashlib.sha256(joined.encode()).hexdigest()
