"""The query function: AppSync queries of one aggregate, load + fold, read only.

Every Query field of the aggregate: the latest state or the state at a version
(``getAccount``), up to 100 instances at once (``getAccounts``: one result per id, a
per-id error in its place), and the stream's history in pages (``accountHistory``); and,
for the subscription's resolver, whether a subscriber may follow a stream
(``onAccountEvent``: ``{"outcome": "allowed"}`` or a rejection).

Every read is the end user's: the token (verified as the command function verifies it)
names the principal, and the aggregate's read policy (``may_read`` beside its
``authorize``) decides with the instance's latest state; a refusal is a ``forbidden``
rejection, as a command's would be.

It imports the query path alone: no command service, no direct-invocation decoder.
"""

from __future__ import annotations

from typing import Any

from hotcore.contracts.common import Rejected
from hotcore.domain.principal import Principal, forbidden
from hotcore.entrypoints.appsync import (
    AppSyncResolver,
    BadRequest,
    BatchRead,
    HistoryRead,
    Read,
    StateRead,
    SubscribeRead,
    failure,
    invalid,
    refused,
)
from hotcore.entrypoints.failures import classify
from hotcore.entrypoints.function import AggregateFunction
from hotcore.entrypoints.identity import Identity, Unauthenticated, unauthenticated
from hotcore.entrypoints.observability import logger
from hotcore.entrypoints.settings import Settings
from hotcore.service.query import QueryRangeError, QueryService


class QueryFunction(AggregateFunction):
    """AppSync queries of one aggregate: load + fold, read only."""

    kind = "query"

    def __init__(self, aggregate: str, settings: Settings | None = None) -> None:
        super().__init__(aggregate, settings)
        self.queries: QueryService[Any, Any] = QueryService(
            self.aggregate, self.store, snapshot_every=self.settings.snapshot_every
        )
        self.resolver = AppSyncResolver(self.aggregate)
        self.identity = Identity(self.settings.tokens)

    def __call__(self, event: Any, context: Any = None) -> Any:
        with self.invocation(context):
            if isinstance(event, list):  # BatchInvoke: one answer per item, in order, isolated
                return [self._query(item) for item in event]
            return self._query(event)

    def _query(self, raw: Any) -> dict[str, Any] | list[dict[str, Any]] | None:
        """One AppSync query: every outcome is an answer, none raises."""
        resolver = self.resolver
        try:
            event = resolver.decode(raw)
            read = resolver.read(event)
            token = resolver.token(event)
        except BadRequest as exc:
            logger.warning("bad request", aggregate=self.aggregate.name, error=str(exc))
            return invalid(str(exc))
        try:
            principal = self.identity.principal_of(event.identity, event.request, token)
            return self._answer(read, principal)
        except Unauthenticated as exc:
            logger.warning("unauthenticated", aggregate=self.aggregate.name, reason=exc.reason)
            return unauthenticated(exc)
        except QueryRangeError as exc:
            return invalid(str(exc))
        except Exception as exc:  # answered as a typed error, logged whole
            kind, message = classify(exc)
            logger.exception("query failed", exc, aggregate=self.aggregate.name, answer=kind)
            return failure(kind, message)

    def _answer(
        self, read: Read, principal: Principal
    ) -> dict[str, Any] | list[dict[str, Any]] | None:
        resolver, queries, refuses = self.resolver, self.queries, self.aggregate.refuses_read
        match read:
            case StateRead(query=query, at_version=None):
                loaded = queries.get(query)
                refusal = refuses(principal, loaded.stream_id, loaded.state)
                if refusal is not None:
                    return refused(refusal)
                return resolver.view(loaded.stream_id, loaded.version, loaded.state)
            case StateRead(query=query, at_version=int(version)):
                stream_id = self.aggregate.stream_of_query(query)
                refusal = self._refused(principal, stream_id)
                if refusal is not None:
                    return refused(refusal)
                past = queries.at_version(stream_id, version)
                return None if past is None else resolver.view(stream_id, version, past.state)
            case HistoryRead(stream_id=stream_id, from_version=start, limit=limit):
                refusal = self._refused(principal, stream_id)
                if refusal is not None:
                    return refused(refusal)
                page = queries.history(stream_id, start, limit)
                return resolver.history(stream_id, page.events, page.next_version)
            case BatchRead(ids=ids, queries=asked):
                valid = [q for q in asked if not isinstance(q, BadRequest)]
                found = iter(queries.get_many(valid))
                results = []
                for stream_id, query in zip(ids, asked, strict=True):
                    got = query if isinstance(query, BadRequest) else next(found)
                    results.append(self._item(stream_id, got, principal))
                return results
            case SubscribeRead(stream_id=None):
                if principal.is_system or principal.is_back_office():
                    return {"outcome": "allowed"}
                return refused(
                    forbidden(
                        "follow-every-stream",
                        "only back-office staff follow every stream; name the stream",
                        subject=principal.subject,
                    )
                )
            case SubscribeRead(stream_id=str(stream_id)):
                refusal = self._refused(principal, stream_id)
                return {"outcome": "allowed"} if refusal is None else refused(refusal)
        raise TypeError(f"unknown read {read!r}")

    def _refused(self, principal: Principal, stream_id: str) -> Rejected | None:
        """The aggregate's read policy on the stream's latest state (system callers skip
        it in ``refuses_read``; who else reads what is the policy's to say)."""
        if principal.is_system:
            return None
        loaded = self.queries.load(stream_id)
        return self.aggregate.refuses_read(principal, stream_id, loaded.state)

    def _item(self, stream_id: str, got: Any, principal: Principal) -> dict[str, Any]:
        """One id of a batch: its view, or its error (``errorType`` as a query's would be)."""
        if isinstance(got, BadRequest):
            error = {"errorType": "BadRequest", "message": str(got), "errorInfo": None}
            return {"id": stream_id, "view": None, "error": error}
        if isinstance(got, Exception):
            kind, message = classify(got)
            logger.exception("batch item failed", got, aggregate=self.aggregate.name, answer=kind)
            error = {"errorType": kind, "message": message, "errorInfo": None}
            return {"id": stream_id, "view": None, "error": error}
        refusal = self.aggregate.refuses_read(principal, got.stream_id, got.state)
        if refusal is not None:
            info = {"rule": refusal.rule, "data": refusal.data}
            denied: dict[str, Any] = {
                "errorType": refusal.rule,
                "message": refusal.message,
                "errorInfo": info,
            }
            return {"id": stream_id, "view": None, "error": denied}
        view = self.resolver.view(got.stream_id, got.version, got.state)
        return {"id": stream_id, "view": view, "error": None}
