"""The query flow: load + fold, read only.

Besides the latest state of one instance: several instances at once (``get_many``,
bounded, loaded on worker threads), the state at a past version (``at_version``: the
events up to it, folded from the initial state) and the event history in pages
(``history``: one bounded read per page).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from msgspec import Struct

from hotcore.codec.events import StoredEventUnreadable
from hotcore.contracts.common import Envelope
from hotcore.domain.aggregate import Aggregate
from hotcore.service.limits import DEFAULT_HISTORY_PAGE, MAX_BATCH, MAX_HISTORY_PAGE
from hotcore.service.stream import Loaded, load_state
from hotcore.store.port import DEFAULT_SNAPSHOT_EVERY, EventStore, StoreError

#: Worker threads of a batch load: each has its own connection to the store.
BATCH_WORKERS = 8


#: What a batch keeps in an instance's place instead of failing the batch: the store's
#: typed errors and a stored event this code cannot read (a poisoned stream).
ItemError = StoreError | StoredEventUnreadable
_ITEM_ERRORS = (StoreError, StoredEventUnreadable)


class History[E](Struct, frozen=True, kw_only=True):
    """One page of a stream's events; ``next_version`` is where the next page starts
    (None: this page holds the stream's newest event)."""

    stream_id: str
    events: list[Envelope[E]]
    next_version: int | None


class QueryRangeError(ValueError):
    """A version or page size outside what a query may ask for; nothing was read."""


class QueryService[Q, S]:
    def __init__(
        self,
        aggregate: Aggregate[Any, Any, S, Q],
        store: EventStore[Any, S],
        *,
        snapshot_every: int = DEFAULT_SNAPSHOT_EVERY,
    ) -> None:
        self.aggregate = aggregate
        self.store = store
        self.snapshot_every = snapshot_every  # the writers' interval: the load's first page

    def get(self, query: Q) -> Loaded[S]:
        return self.load(self.aggregate.stream_of_query(query))

    def load(self, stream_id: str) -> Loaded[S]:
        return load_state(self.aggregate, self.store, stream_id, page_size=self.snapshot_every)

    def get_many(self, queries: Sequence[Q]) -> list[Loaded[S] | ItemError]:
        """The latest state of each query's instance, in order; an ``ItemError`` stays per item.

        Loaded concurrently (``BATCH_WORKERS`` threads, each with its own connection);
        an instance asked for twice is read once. Errors that are not the store's own
        (a failing network after retries) raise, as for a single query.
        """
        if len(queries) > MAX_BATCH:
            raise QueryRangeError(f"a batch asks for {len(queries)} instances, at most {MAX_BATCH}")
        streams = [self.aggregate.stream_of_query(query) for query in queries]
        unique = list(dict.fromkeys(streams))
        loaded = dict(zip(unique, concurrently(self.load, unique, BATCH_WORKERS), strict=True))
        return [loaded[stream] for stream in streams]

    def at_version(self, stream_id: str, version: int) -> Loaded[S] | None:
        """The state right after event ``version``; None when the stream has not reached it.

        Folds the events 1..``version`` from the initial state: a read of ``version``
        events (snapshots hold only the newest state).
        """
        if version < 1:
            raise QueryRangeError(f"a version starts at 1, got {version}")
        events = [
            envelope.data
            for page in self.store.load(stream_id, 1, until=version)
            for envelope in page
        ]
        if len(events) < version:
            return None
        state = self.aggregate.fold(self.aggregate.initial(stream_id), events)
        return Loaded(stream_id=stream_id, state=state, version=version)

    def history(
        self, stream_id: str, from_version: int = 1, limit: int = DEFAULT_HISTORY_PAGE
    ) -> History[Any]:
        """Events ``from_version`` on, at most ``limit``: one read of ``limit + 1`` events
        (the extra one says whether a next page exists)."""
        if from_version < 1:
            raise QueryRangeError(f"a version starts at 1, got {from_version}")
        if not 1 <= limit <= MAX_HISTORY_PAGE:
            raise QueryRangeError(
                f"a history page holds 1 to {MAX_HISTORY_PAGE} events, not {limit}"
            )
        until = from_version + limit  # inclusive: one beyond the page
        events = [
            envelope
            for page in self.store.load(stream_id, from_version, page_size=limit + 1, until=until)
            for envelope in page
        ]
        more = len(events) > limit
        return History(
            stream_id=stream_id,
            events=events[:limit],
            next_version=until if more else None,
        )


def concurrently[T, R](
    work: Callable[[T], R], items: Sequence[T], workers: int
) -> list[R | ItemError]:
    """``work`` of each item on up to ``workers`` threads, results in order.

    An ``ItemError`` stays in its item's place; any other exception is raised once every
    thread has stopped (the first one, in item order).
    """
    results: list[Any] = [None] * len(items)
    failures: dict[int, BaseException] = {}
    if len(items) <= 1 or workers <= 1:
        for index, item in enumerate(items):
            try:
                results[index] = work(item)
            except _ITEM_ERRORS as error:
                results[index] = error
        return results
    lock = threading.Lock()
    pending = iter(range(len(items)))

    def worker() -> None:
        while True:
            with lock:
                index = next(pending, None)
            if index is None:
                return
            try:
                results[index] = work(items[index])
            except _ITEM_ERRORS as error:
                results[index] = error
            except BaseException as error:  # re-raised below, in the caller
                failures[index] = error

    threads = [threading.Thread(target=worker) for _ in range(min(workers, len(items)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[min(failures)]
    return results
