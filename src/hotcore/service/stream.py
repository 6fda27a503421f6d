"""Loading an aggregate instance: the newest valid snapshot and the events after it, folded."""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from hotcore.domain.aggregate import Aggregate
from hotcore.store.port import DEFAULT_SNAPSHOT_EVERY, EventStore, Latest


class Loaded[S](Struct, frozen=True):
    """A folded state and the version of the last event in it (0 for a new stream)."""

    stream_id: str
    state: S
    version: int


def fold_latest[S](aggregate: Aggregate[Any, Any, S, Any], latest: Latest[Any, S]) -> S:
    """The state a latest-state load describes: its snapshot (or ``initial``) + the events."""
    if latest.snapshot is None:
        state = aggregate.initial(latest.stream_id)
    else:
        state = latest.snapshot.state
    if latest.events:
        state = aggregate.fold(state, [event.data for event in latest.events])
    return state


def load_state[S](
    aggregate: Aggregate[Any, Any, S, Any],
    store: EventStore[Any, S],
    stream_id: str,
    *,
    page_size: int = DEFAULT_SNAPSHOT_EVERY,
) -> Loaded[S]:
    latest = store.load_latest(stream_id, page_size=page_size)
    return Loaded(stream_id=stream_id, state=fold_latest(aggregate, latest), version=latest.version)


def type_name(contract: Struct) -> str:
    """The tag of a command or event Struct (its class name)."""
    tag = contract.__struct_config__.tag
    if not isinstance(tag, str):
        raise TypeError(f"{type(contract).__name__} is not a tagged contract")
    return tag
