"""AppSync direct Lambda resolver events: GraphQL fields in, commands and queries out.

The resolver's response is a plain object: ``{"outcome": "accepted", ...ack}``,
``{"outcome": "rejected", rule, message, data}`` or ``{"outcome": "invalid", message}``
for a command; the view of a state for a query; ``{"outcome": "error", error, message}``
when the function cannot serve it (``Unavailable``: retry, with the same command id;
``StreamUnreadable``: a stored event no longer decodes; ``InternalFailure``). The API's
response handler (a small APPSYNC_JS function in infra/) turns "rejected" into a GraphQL
error whose ``errorType`` is the rule, "invalid" into ``BadRequest`` and "error" into its
``error``.

Every value is decoded by the contract that will later read it: arguments by the
command's or query's Struct, the command id as a ``Ref``, before anything is loaded. The
size check runs first and is safe on any input (nesting, lone surrogates).

GraphQL's shape is converted here and only here, both ways, by converters derived from
the contracts at init (``hotcore.codec.graphql``): camelCase names, upper-case enum
values, integers beyond 32 bits as decimal strings, maps as ``{key, value}`` lists. An
accepted command answers its ack in camelCase; a state read answers its view, or null
when the stream has no event; a batch read one ``{id, view, error}`` per id.
"""

from __future__ import annotations

import binascii
from typing import Any, get_args

import msgspec
import msgspec.inspect as mi

from hotcore.codec import graphql
from hotcore.contracts.common import Envelope, Id, Ref, Rejected, Version
from hotcore.domain.aggregate import Aggregate
from hotcore.domain.names import (
    batch_query_name,
    field_name,
    history_query_name,
    subscription_name,
)
from hotcore.entrypoints.identity import TOKEN_ARGUMENT
from hotcore.entrypoints.inputs import NotJson, json_size
from hotcore.service.limits import DEFAULT_HISTORY_PAGE, MAX_BATCH, MAX_HISTORY_PAGE

MAX_ARGUMENT_BYTES = 64 * 1024


class AppSyncInfo(msgspec.Struct, kw_only=True):
    fieldName: str  # noqa: N815 (AppSync's own field names)
    parentTypeName: str  # noqa: N815
    variables: dict[str, Any] = {}


class AppSyncEvent(msgspec.Struct, kw_only=True):
    """The direct Lambda resolver event (unknown fields are ignored: AppSync adds some)."""

    arguments: dict[str, Any]
    info: AppSyncInfo
    identity: dict[str, Any] | None = None
    request: dict[str, Any] | None = None
    source: Any = None
    prev: Any = None


class BadRequest(ValueError):
    """The request cannot be turned into a command or query; nothing was touched."""


def is_appsync(event: object) -> bool:
    if isinstance(event, list):
        return bool(event) and all(is_appsync(e) for e in event)
    return isinstance(event, dict) and isinstance(event.get("info"), dict)


def actor_of(identity: dict[str, Any] | None) -> str:
    """Who sent the request: the IAM principal, or what a Lambda authorizer said."""
    if not identity:
        return "anonymous"
    context = identity.get("resolverContext")
    if isinstance(context, dict) and context.get("actor"):
        return str(context["actor"])[:500]
    for key in ("userArn", "username", "sub", "user"):
        if identity.get(key):
            return str(identity[key])[:500]
    return "anonymous"


def _members(union: Any) -> dict[str, type[Any]]:
    classes = get_args(union) or (union,)
    return {field_name(cls.__name__): cls for cls in classes}


class StateRead(msgspec.Struct, frozen=True):
    """``getAccount(accountId, atVersion)``: the latest state, or the state at a version."""

    query: Any
    at_version: int | None = None


class BatchRead(msgspec.Struct, frozen=True):
    """``getAccounts(ids)``: one query per id, or why the id is not one (``BadRequest``)."""

    ids: list[str]
    queries: list[Any]


class HistoryRead(msgspec.Struct, frozen=True):
    """``accountHistory(id, fromVersion, limit, nextToken)``: a page of a stream's events."""

    stream_id: str
    from_version: int
    limit: int


class SubscribeRead(msgspec.Struct, frozen=True):
    """``onAccountEvent(streamId, idToken)``, asked by the subscription's resolver when a
    subscriber starts it: may the end user follow this stream (``None``: every stream)?"""

    stream_id: str | None


Read = StateRead | BatchRead | HistoryRead | SubscribeRead

_encode_token = msgspec.json.Encoder().encode
_decode_token = msgspec.json.Decoder(tuple[str, int]).decode


def next_token(stream_id: str, version: int) -> str:
    """The opaque ``nextToken`` of a history page: where the next page starts."""
    return binascii.b2a_base64(_encode_token((stream_id, version)), newline=False).decode()


def _token_version(token: object, stream_id: str, field: str) -> int:
    try:
        assert isinstance(token, str)
        stream, version = _decode_token(binascii.a2b_base64(token.encode(), strict_mode=True))
    except (AssertionError, ValueError, binascii.Error, msgspec.DecodeError):
        raise BadRequest(f"{field}: nextToken is not one this API gave") from None
    if stream != stream_id or version < 1:
        raise BadRequest(f"{field}: nextToken belongs to another stream")
    return version


class AppSyncResolver:
    """Maps one aggregate's GraphQL fields to its contracts, built once per environment.

    Arguments arrive in GraphQL's shape (camelCase, enums upper-case, exact integers as
    strings) and leave it through the converters of ``hotcore.codec.graphql``, which are
    derived from the contracts here, at init; results go the other way (``view``,
    ``ack``, ``history``).
    """

    def __init__(self, aggregate: Aggregate[Any, Any, Any, Any]) -> None:
        self.aggregate = aggregate
        self.mutations = _members(aggregate.command_type)
        self.queries = _members(aggregate.query_type)
        self._from = {
            cls: graphql.from_graphql(mi.type_info(cls)) or _same
            for cls in (*self.mutations.values(), *self.queries.values())
        }
        #: batch field -> (query contract, its one field): ``getAccounts`` -> GetAccount
        self.batches: dict[str, tuple[type[Any], str]] = {}
        for cls in self.queries.values():
            info = mi.type_info(cls)
            assert isinstance(info, mi.StructType)
            fields = graphql.struct_fields(info)
            if len(fields) == 1:
                self.batches[batch_query_name(cls.__name__)] = (cls, fields[0].name)
        self.history_field = history_query_name(aggregate.name)
        self.subscription_field = subscription_name(aggregate.name)
        self._state = graphql.to_graphql(mi.type_info(aggregate.state_type)) or _same
        self.events = graphql.EventShapes(aggregate.event_type)

    @property
    def query_fields(self) -> tuple[str, ...]:
        """Every Query field this aggregate's query function resolves."""
        return (*self.queries, *self.batches, self.history_field)

    def decode(self, raw: object) -> AppSyncEvent:
        try:
            return msgspec.convert(raw, AppSyncEvent)
        except msgspec.ValidationError as exc:
            raise BadRequest(f"not an AppSync resolver event: {exc}") from exc

    def command(self, event: AppSyncEvent) -> tuple[Any, str | None]:
        """The command a mutation asks for, and the caller's command id if given."""
        cls = self._field(event, "Mutation", self.mutations)
        arguments = event.arguments
        payload = arguments.get("input")
        if not isinstance(payload, dict):
            raise BadRequest(f"{event.info.fieldName}: argument 'input' must be an object")
        unknown = set(arguments) - {"input", "commandId"}
        if unknown:
            raise BadRequest(f"{event.info.fieldName}: unknown arguments {sorted(unknown)}")
        command_id = arguments.get("commandId")
        if command_id is not None:
            command_id = self._convert(event, command_id, Ref, "commandId")
        wire = self._wire(event, cls, payload)
        return self._convert(event, {**wire, "type": cls.__name__}, cls), command_id

    def query(self, event: AppSyncEvent) -> Any:
        """The query contract of a single-instance query field (``getAccount``)."""
        read = self.read(event)
        if not isinstance(read, StateRead):
            raise BadRequest(f"{event.info.fieldName} is not a single-instance query")
        return read.query

    def read(self, event: AppSyncEvent) -> Read:
        """What a Query field asks for: a state (at a version), a batch or a history page."""
        info = event.info
        arguments = dict(event.arguments)
        field = info.fieldName
        if info.parentTypeName == "Query" and field in self.batches:
            self._check_size(event)
            return self._batch(event, arguments)
        if info.parentTypeName == "Query" and field == self.history_field:
            self._check_size(event)
            return self._history(event, arguments)
        if info.parentTypeName == "Subscription" and field == self.subscription_field:
            self._check_size(event)
            return self._subscribe(event, arguments)
        cls = self._field(event, "Query", self.queries)
        at_version = self._int(event, arguments.pop("atVersion", None), "atVersion")
        if at_version is not None and at_version < 1:
            raise BadRequest(f"{field}: atVersion starts at 1, got {at_version}")
        wire = self._wire(event, cls, arguments)
        return StateRead(self._convert(event, {**wire, "type": cls.__name__}, cls), at_version)

    def _batch(self, event: AppSyncEvent, arguments: dict[str, Any]) -> BatchRead:
        field = event.info.fieldName
        cls, id_field = self.batches[field]
        ids = arguments.pop("ids", None)
        if arguments:
            raise BadRequest(f"{field}: unknown arguments {sorted(arguments)}")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise BadRequest(f"{field}: ids must be a list of strings")
        if len(ids) > MAX_BATCH:
            raise BadRequest(f"{field}: {len(ids)} ids, at most {MAX_BATCH}")
        queries: list[Any] = []
        for stream_id in ids:
            try:
                queries.append(
                    self._convert(event, {id_field: stream_id, "type": cls.__name__}, cls)
                )
            except BadRequest as exc:
                queries.append(exc)
        return BatchRead(ids, queries)

    def _history(self, event: AppSyncEvent, arguments: dict[str, Any]) -> HistoryRead:
        field = event.info.fieldName
        stream_id = self._convert(event, arguments.pop("id", None), Id, "id")
        from_version = self._int(event, arguments.pop("fromVersion", None), "fromVersion") or 1
        limit = self._int(event, arguments.pop("limit", None), "limit")
        token = arguments.pop("nextToken", None)
        if arguments:
            raise BadRequest(f"{field}: unknown arguments {sorted(arguments)}")
        if token is not None:
            from_version = _token_version(token, stream_id, field)
        limit = DEFAULT_HISTORY_PAGE if limit is None else limit
        if from_version < 1 or not 1 <= limit <= MAX_HISTORY_PAGE:
            raise BadRequest(
                f"{field}: fromVersion starts at 1 and limit is 1 to {MAX_HISTORY_PAGE}"
            )
        return HistoryRead(stream_id, from_version, limit)

    def _subscribe(self, event: AppSyncEvent, arguments: dict[str, Any]) -> SubscribeRead:
        field = event.info.fieldName
        stream_id = arguments.pop("streamId", None)
        arguments.pop(TOKEN_ARGUMENT, None)  # the principal's: see ``token``
        if arguments:
            raise BadRequest(f"{field}: unknown arguments {sorted(arguments)}")
        if stream_id is not None:
            stream_id = self._convert(event, stream_id, Id, "streamId")
        return SubscribeRead(stream_id)

    def token(self, event: AppSyncEvent) -> str | None:
        """The end user's ID token a subscription passes as its argument (queries and
        mutations carry theirs in the request header), or None."""
        if event.info.parentTypeName != "Subscription":
            return None
        token = event.arguments.get(TOKEN_ARGUMENT)
        if token is not None and not isinstance(token, str):
            raise BadRequest(f"{event.info.fieldName}: {TOKEN_ARGUMENT} must be a string")
        return token or None

    def _wire(self, event: AppSyncEvent, cls: type[Any], value: dict[str, Any]) -> Any:
        """GraphQL arguments in the contract's wire names and types (not yet validated)."""
        try:
            return self._from[cls](value)
        except graphql.UnknownField as exc:
            raise BadRequest(f"{event.info.fieldName}: {exc}") from None

    def _int(self, event: AppSyncEvent, value: object, name: str) -> int | None:
        if value is None:
            return None
        return int(self._convert(event, value, Version, name))

    def _check_size(self, event: AppSyncEvent) -> None:
        info = event.info
        size = encoded_size(event.arguments, info.fieldName)
        if size > MAX_ARGUMENT_BYTES:
            raise BadRequest(
                f"{info.fieldName}: arguments are {size} bytes, the limit is {MAX_ARGUMENT_BYTES}"
            )

    def _field(self, event: AppSyncEvent, parent: str, fields: dict[str, type[Any]]) -> type[Any]:
        info = event.info
        if info.parentTypeName != parent or info.fieldName not in fields:
            raise BadRequest(
                f"{self.aggregate.name} does not resolve {info.parentTypeName}.{info.fieldName}"
            )
        self._check_size(event)
        return fields[info.fieldName]

    def _convert(self, event: AppSyncEvent, value: object, cls: Any, name: str = "") -> Any:
        try:
            # strict: GraphQL sends exact integers as decimal strings, converted above
            return msgspec.convert(value, cls)
        except msgspec.ValidationError as exc:
            where = f"{event.info.fieldName}: {name}" if name else event.info.fieldName
            raise BadRequest(f"{where}: {exc}") from exc

    # -- results, in GraphQL's shape ----------------------------------------------------

    def view(self, stream_id: str, version: int, state: Any) -> dict[str, Any] | None:
        """A state as ``<Aggregate>View``; None (GraphQL null) for a stream with no event."""
        if version == 0:
            return None
        return {
            "streamId": stream_id,
            "version": version,
            "state": self._state(msgspec.to_builtins(state)),
        }

    def history(
        self, stream_id: str, events: list[Envelope[Any]], next_version: int | None
    ) -> dict[str, Any]:
        """A page of events as ``<Aggregate>EventPage``."""
        return {
            "items": [self.events.envelope(envelope) for envelope in events],
            "nextToken": None if next_version is None else next_token(stream_id, next_version),
        }


def ack(result: dict[str, Any]) -> dict[str, Any]:
    """A command outcome for AppSync: an accepted one's ack fields in camelCase."""
    if result.get("outcome") != "accepted":
        return result
    return {
        "outcome": "accepted",
        **{graphql.camel(k): v for k, v in result.items() if k != "outcome"},
    }


def _same(value: Any) -> Any:
    return value


def encoded_size(value: object, field: str) -> int:
    """The JSON size of a field's arguments, or BadRequest if they have no JSON form."""
    try:
        return json_size(value)
    except NotJson as exc:
        raise BadRequest(f"{field}: arguments: {exc}") from None


def refused(rejection: Rejected) -> dict[str, Any]:
    """A read a policy refused, answered as a command's rejection is (``forbidden``)."""
    return {
        "outcome": "rejected",
        "rule": rejection.rule,
        "message": rejection.message,
        "data": rejection.data,
    }


def invalid(message: str) -> dict[str, Any]:
    return {"outcome": "invalid", "error": "BadRequest", "message": message}


def failure(error: str, message: str, **info: str) -> dict[str, Any]:
    """The answer for a request the function could not serve (see the module docstring)."""
    return {"outcome": "error", "error": error, "message": message, **info}
