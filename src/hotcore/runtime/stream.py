"""Loading an aggregate instance: newest snapshot, then the events after it, folded."""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from hotcore.domain.aggregate import Aggregate
from hotcore.store.port import EventStore


class Loaded[S](Struct, frozen=True):
    """A folded state and the version of the last event in it (0 for a new stream)."""

    stream_id: str
    state: S
    version: int


def load_state[S](
    aggregate: Aggregate[Any, Any, S, Any], store: EventStore[Any, S], stream_id: str
) -> Loaded[S]:
    snapshot = store.load_snapshot(stream_id)
    if snapshot is None:
        state, version = aggregate.initial(stream_id), 0
    else:
        state, version = snapshot.state, snapshot.version
    fold = aggregate.fold
    for page in store.load(stream_id, version + 1):
        state = fold(state, [envelope.data for envelope in page])
        version = page[-1].version
    return Loaded(stream_id=stream_id, state=state, version=version)


def type_name(contract: Struct) -> str:
    """The tag of a command or event Struct (its class name)."""
    tag = contract.__struct_config__.tag
    if not isinstance(tag, str):
        raise TypeError(f"{type(contract).__name__} is not a tagged contract")
    return tag
