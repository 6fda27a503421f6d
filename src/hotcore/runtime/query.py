"""The query flow: load + fold, read only."""

from __future__ import annotations

from typing import Any

from hotcore.domain.aggregate import Aggregate
from hotcore.runtime.stream import Loaded, load_state
from hotcore.store.port import EventStore


class QueryService[Q, S]:
    def __init__(self, aggregate: Aggregate[Any, Any, S, Q], store: EventStore[Any, S]) -> None:
        self.aggregate = aggregate
        self.store = store

    def get(self, query: Q) -> Loaded[S]:
        return self.load(self.aggregate.stream_of_query(query))

    def load(self, stream_id: str) -> Loaded[S]:
        return load_state(self.aggregate, self.store, stream_id)
