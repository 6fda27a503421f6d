"""JSON encoding of envelopes and snapshots for the memory and SQLite adapters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from hotcore.contracts.common import Envelope, Guard
from hotcore.store.port import Snapshot, check_append


class JsonCodec[E, S]:
    """Encoders and decoders for one aggregate, built once and reused."""

    def __init__(self, event_type: Any, state_type: type[S]) -> None:
        self.encoder = msgspec.json.Encoder()
        self.envelope_decoder: msgspec.json.Decoder[Envelope[E]] = msgspec.json.Decoder(
            Envelope[event_type]
        )
        self.snapshot_decoder: msgspec.json.Decoder[Snapshot[S]] = msgspec.json.Decoder(
            Snapshot[state_type]  # type: ignore[valid-type]
        )

    def encode(self, value: object) -> bytes:
        return self.encoder.encode(value)

    def encode_append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[Envelope[E]],
        command_id: str,
        guards: Sequence[Guard],
    ) -> list[bytes]:
        """The events as stored, once the append passed the port's checks (sizes included)."""
        encoded = [self.encoder.encode(event) for event in events]
        check_append(
            stream_id, expected_version, events, command_id, guards, [len(e) for e in encoded]
        )
        return encoded

    def decode_envelope(self, raw: bytes | str) -> Envelope[E]:
        return self.envelope_decoder.decode(raw)

    def decode_snapshot(self, raw: bytes | str) -> Snapshot[S]:
        return self.snapshot_decoder.decode(raw)
