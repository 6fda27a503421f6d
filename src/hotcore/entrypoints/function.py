"""What every Lambda function of an aggregate shares: init from settings, cold starts, SnapStart.

Construction is the init phase (and what a SnapStart snapshot captures): settings, the
aggregate, the store and its client, decoders; no network. Each function kind lives in
its own module (``command``, ``query``, ``events``, ``publisher``) so that a handler
imports only the path its first request needs.
"""

from __future__ import annotations

from typing import Any

from hotcore.domain.names import FunctionKind, function_name
from hotcore.domain.registry import load_aggregate
from hotcore.entrypoints import lambda_root, snapstart
from hotcore.entrypoints.observability import Invocation
from hotcore.entrypoints.settings import Settings
from hotcore.store.port import EventStore


class AggregateFunction:
    """The init every function of one aggregate does; subclasses add their service."""

    kind: FunctionKind = "command"

    def __init__(self, aggregate: str, settings: Settings | None = None) -> None:
        self.aggregate = load_aggregate(aggregate)
        self.settings = settings or Settings.from_env(aggregate)
        self.store: EventStore[Any, Any] = lambda_root.event_store(self.aggregate, self.settings)
        self.cold = True
        snapstart.register(before_snapshot=self.warm, after_restore=self.restored)

    def warm(self) -> None:
        """Before a SnapStart snapshot: nothing to open; connections must not be captured."""

    def restored(self) -> None:
        """After a restore: drop connections and cached credentials, count a cold start."""
        reset = getattr(self.store, "reset", None)
        if callable(reset):
            reset()
        self.cold = True

    def invocation(self, context: Any) -> Invocation:
        """``with self.invocation(context):`` around every call: log keys, cold start, metrics.

        The first invocation after init (or after a SnapStart restore) is the cold start.
        """
        cold, self.cold = self.cold, False
        return Invocation(
            context,
            cold_start=cold,
            function_name=function_name(self.aggregate.name, self.kind),
        )
