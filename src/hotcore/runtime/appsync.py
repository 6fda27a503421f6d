"""AppSync direct Lambda resolver events: GraphQL fields in, commands and queries out.

The resolver's response is a plain object: ``{"outcome": "accepted", ...ack}``,
``{"outcome": "rejected", rule, message, data}`` or ``{"outcome": "invalid", message}``
for a command; the view of a state for a query. The API's response handler (a small
APPSYNC_JS function in infra/) turns "rejected" into a GraphQL error whose
``errorType`` is the rule and "invalid" into ``BadRequest``.
"""

from __future__ import annotations

from typing import Any, get_args

import msgspec

from hotcore.domain.aggregate import Aggregate

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


def field_name(contract_name: str) -> str:
    return contract_name[0].lower() + contract_name[1:]


def _members(union: Any) -> dict[str, type[Any]]:
    classes = get_args(union) or (union,)
    return {field_name(cls.__name__): cls for cls in classes}


class AppSyncResolver:
    """Maps one aggregate's GraphQL fields to its contracts, built once per environment."""

    def __init__(self, aggregate: Aggregate[Any, Any, Any, Any]) -> None:
        self.aggregate = aggregate
        self.mutations = _members(aggregate.command_type)
        self.queries = _members(aggregate.query_type)

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
        unknown = set(arguments) - {"input", "command_id"}
        if unknown:
            raise BadRequest(f"{event.info.fieldName}: unknown arguments {sorted(unknown)}")
        command_id = arguments.get("command_id")
        if command_id is not None and not isinstance(command_id, str):
            raise BadRequest(f"{event.info.fieldName}: command_id must be a string")
        return self._convert(event, {**payload, "type": cls.__name__}, cls), command_id

    def query(self, event: AppSyncEvent) -> Any:
        cls = self._field(event, "Query", self.queries)
        return self._convert(event, {**event.arguments, "type": cls.__name__}, cls)

    def _field(self, event: AppSyncEvent, parent: str, fields: dict[str, type[Any]]) -> type[Any]:
        info = event.info
        if info.parentTypeName != parent or info.fieldName not in fields:
            raise BadRequest(
                f"{self.aggregate.name} does not resolve {info.parentTypeName}.{info.fieldName}"
            )
        size = len(msgspec.json.encode(event.arguments))
        if size > MAX_ARGUMENT_BYTES:
            raise BadRequest(
                f"{info.fieldName}: arguments are {size} bytes, the limit is {MAX_ARGUMENT_BYTES}"
            )
        return fields[info.fieldName]

    def _convert(self, event: AppSyncEvent, payload: dict[str, Any], cls: type[Any]) -> Any:
        try:
            # lax: GraphQL sends amounts as Float (its Int is 32-bit); integral values only
            return msgspec.convert(payload, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise BadRequest(f"{event.info.fieldName}: {exc}") from exc


def invalid(message: str) -> dict[str, Any]:
    return {"outcome": "invalid", "error": "BadRequest", "message": message}
