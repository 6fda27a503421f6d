"""What every adapter encodes and checks the same way: envelopes, states, the append checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from hotcore.codec.events import EventReader, UnreadableEvent
from hotcore.contracts.common import Envelope, Guard
from hotcore.store.fingerprint import digest
from hotcore.store.port import EventContractViolated, check_append

_encode_sorted = msgspec.json.Encoder(order="sorted").encode


def state_schema_hash(state_type: Any) -> str:
    """16 hex digits naming the JSON Schema of a state type: a snapshot of another is ignored."""
    schema = msgspec.json.schema(state_type)
    return digest(_encode_sorted(schema)).hex()[:16]


class StreamCodec[E, S]:
    """Encoders, decoders and checks for one aggregate's events and states, built once."""

    def __init__(self, event_type: Any, state_type: type[S], state_version: int = 1) -> None:
        self.reader: EventReader[E] = EventReader(event_type)
        self.encoder = msgspec.json.Encoder()
        self.state_type = state_type
        self.state_version = state_version
        self._state_decoder: msgspec.json.Decoder[S] = msgspec.json.Decoder(state_type)
        self._state_hash: str | None = None

    @property
    def state_hash(self) -> str:
        # computed on first use: a cold start that meets no snapshot never pays for it
        if self._state_hash is None:
            self._state_hash = state_schema_hash(self.state_type)
        return self._state_hash

    def encode(self, value: object) -> bytes:
        return self.encoder.encode(value)

    def encode_append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[Envelope[E]],
        command_id: str,
        fingerprint: str,
        guards: Sequence[Guard],
    ) -> list[bytes]:
        """The envelopes as stored, once the append passed every check before a write.

        Each event is decoded again with its own contract: a domain result that breaks it
        (an amount above its bound, an e-mail ``lower()`` made too long) is refused here.
        """
        encoded = [self.encoder.encode(event) for event in events]
        check_append(stream_id, expected_version, events, command_id, fingerprint, guards, encoded)
        decode = self.reader.decode
        for offset, (event, raw) in enumerate(zip(events, encoded, strict=True), start=1):
            try:
                decode(raw)
            except (msgspec.ValidationError, UnreadableEvent) as error:
                raise EventContractViolated(offset, event.type, str(error)) from None
        return encoded

    def decode_envelope(self, raw: bytes | str) -> Envelope[E]:
        return self.reader.decode(raw)

    def encode_state(self, state: S) -> bytes:
        return self.encoder.encode(state)

    def decode_state(self, raw: bytes | str) -> S | None:
        """The state, or None if it no longer decodes (a snapshot to ignore)."""
        try:
            return self._state_decoder.decode(raw)
        except msgspec.DecodeError:  # malformed, or valid JSON of another shape
            return None
