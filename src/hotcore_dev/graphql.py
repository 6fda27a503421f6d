"""The AppSync GraphQL schema (SDL), generated from the contracts.

Mutations are the commands (each returns a ``CommandAck``; a rejection becomes a GraphQL
error whose ``errorType`` is the rule), queries read the states, ``publish`` is the
mutation EventBridge calls for every committed event, and each aggregate has a
subscription filtered by stream id. IAM authorization only: callers are front-end
servers, never browsers. Only public commands (``Aggregate.public_commands``) are
mutations: the ones only sagas and event handlers send are not in the schema.

Per aggregate (Account shown; every name follows from the contracts):

- ``getAccount(accountId: ID!, atVersion: Int): AccountView``: the latest state, or the
  state right after event ``atVersion``; null when the stream has no event (or has not
  reached ``atVersion``);
- ``getAccounts(ids: [ID!]!): [AccountResult!]!``: up to 100 instances in one request,
  one result per id in order, each with its view (null: no such stream) or its error;
- ``accountHistory(id: ID!, fromVersion: Int, limit: Int, nextToken: String):
  AccountEventPage!``: the stream's events in pages; each event is a member of the
  ``AccountEvent`` interface (the envelope's fields, then the event's own);
- a mutation per command: ``deposit(input: DepositInput!, commandId: String)``.

Names, enums, exact integers and maps follow ``hotcore.codec.graphql`` (the adapter
converts with the same rules); descriptions are the contracts' docstrings and field
descriptions.
"""

from __future__ import annotations

from typing import Any

import msgspec.inspect as mi

from hotcore.codec.graphql import (
    ENVELOPE_FIELDS,
    camel,
    enum_value,
    fits_int,
    struct_fields,
    unwrap,
)
from hotcore.contracts.common import CommandAck
from hotcore.domain.aggregate import Aggregate
from hotcore.domain.names import (
    batch_query_name,
    field_name,
    history_query_name,
    subscription_name,
)
from hotcore.domain.registry import aggregates
from hotcore.entrypoints.identity import TOKEN_ARGUMENT

#: How exact integers beyond 32 bits travel, said in every such field's description.
BIG_INTEGER = "a decimal integer string, exact at any size"
_ID_PATTERN = r"^[A-Za-z0-9._:@/+=-]+$"


def description(text: str | None, indent: str = "") -> str:
    """An SDL description block (empty when there is no text)."""
    if not text:
        return ""
    lines = [line.strip() for line in text.strip().replace("``", "`").splitlines()]
    if len(lines) == 1:
        escaped = lines[0].replace("\\", "\\\\").replace('"', '\\"')
        return f'{indent}"{escaped}"\n'
    body = "\n".join(f"{indent}{line}" if line else "" for line in lines).replace('"""', '\\"""')
    return f'{indent}"""\n{body}\n{indent}"""\n'


def _field_text(field: mi.Field) -> str | None:
    info = field.type
    while isinstance(info, mi.UnionType):
        members = [t for t in info.types if not isinstance(t, mi.NoneType)]
        info = members[0] if len(members) == 1 else info
        if len(members) != 1:
            break
    text = None
    if isinstance(info, mi.Metadata):
        text = (info.extra_json_schema or {}).get("description")
    inner, _ = unwrap(field.type)
    if isinstance(inner, mi.IntType) and not fits_int(inner):
        text = f"{text}: {BIG_INTEGER}" if text else BIG_INTEGER.capitalize()
    return text


class _Builder:
    def __init__(self) -> None:
        self.types: dict[str, str] = {}

    def add(self, name: str, text: str) -> None:
        if self.types.get(name, text) != text:
            raise ValueError(f"two different GraphQL types named {name}")
        self.types[name] = text

    def graphql_type(self, info: mi.Type, *, as_input: bool, owner: str, field: str) -> str:
        """The GraphQL type of a field, without the non-null marker."""
        inner, _ = unwrap(info)
        match inner:
            case mi.StrType(pattern=pattern, max_length=128) if pattern == _ID_PATTERN:
                return "ID"
            case mi.StrType():
                return "String"
            case mi.BoolType():
                return "Boolean"
            case mi.IntType():
                return "Int" if fits_int(inner) else "String"
            case mi.DateTimeType():
                return "AWSDateTime"
            case mi.LiteralType(values=values):
                return self.enum(owner, field, [str(v) for v in values])
            case mi.ListType(item_type=item) | mi.SetType(item_type=item):
                member = self.graphql_type(item, as_input=as_input, owner=owner, field=field)
                return f"[{member}!]"
            case mi.DictType(key_type=key, value_type=value):
                return f"[{self.entry(key, value, as_input=as_input, owner=owner, field=field)}!]"
            case mi.StructType(cls=cls):
                return self.struct(cls, as_input=as_input)
        raise TypeError(f"no GraphQL type for {owner}.{field}: {info!r}")

    def enum(self, owner: str, field: str, values: list[str]) -> str:
        name = f"{owner.removesuffix('State')}{camel(field)[:1].upper()}{camel(field)[1:]}"
        body = "\n".join(f"  {enum_value(v)}" for v in values)
        self.add(name, f"enum {name} {{\n{body}\n}}")
        return name

    def entry(self, key: mi.Type, value: mi.Type, *, as_input: bool, owner: str, field: str) -> str:
        base = f"{owner.removesuffix('State')}{camel(field)[:1].upper()}{camel(field)[1:]}Entry"
        name = f"{base}Input" if as_input else base
        key_type = self.graphql_type(key, as_input=as_input, owner=owner, field=field)
        value_type = self.graphql_type(value, as_input=as_input, owner=owner, field=field)
        kind = "input" if as_input else "type"
        iam = "" if as_input else " @aws_iam"
        text = (
            description(f"One entry of {owner}.{camel(field)} (a map in the contract).")
            + f"{kind} {name}{iam} {{\n  key: {key_type}!\n  value: {value_type}!\n}}"
        )
        self.add(name, text)
        return name

    def signature(self, field: mi.Field, *, as_input: bool, owner: str) -> str:
        """``name: Type`` of a field or argument (non-null unless optional)."""
        inner, nullable = unwrap(field.type)
        if isinstance(inner, mi.UnionType):
            raise TypeError(f"{owner}.{field.name}: unions are not GraphQL fields")
        optional = nullable or (as_input and not field.required)
        kind = self.graphql_type(field.type, as_input=as_input, owner=owner, field=field.name)
        return f"{camel(field.name)}: {kind}{'' if optional else '!'}"

    def field(self, field: mi.Field, *, as_input: bool, owner: str) -> str:
        signature = self.signature(field, as_input=as_input, owner=owner)
        return description(_field_text(field), "  ") + f"  {signature}"

    def fields(self, cls: type[Any], *, as_input: bool, owner: str) -> list[str]:
        info = mi.type_info(cls)
        assert isinstance(info, mi.StructType)
        return [self.field(f, as_input=as_input, owner=owner) for f in struct_fields(info)]

    def struct(self, cls: type[Any], *, as_input: bool) -> str:
        name = f"{cls.__name__}Input" if as_input else cls.__name__
        if name not in self.types:
            self.types[name] = ""  # reserve the name first: nested structs may refer to it
            body = "\n".join(self.fields(cls, as_input=as_input, owner=cls.__name__))
            head = f"input {name}" if as_input else f"type {name} @aws_iam"
            self.types[name] = description(cls.__doc__) + f"{head} {{\n{body}\n}}"
        return name


def _members(union: Any) -> list[type[Any]]:
    info = mi.type_info(union)
    if isinstance(info, mi.UnionType):
        return [t.cls for t in info.types if isinstance(t, mi.StructType)]
    assert isinstance(info, mi.StructType)
    return [info.cls]


ENVELOPE_SDL = {
    "stream_id": ("ID!", "The stream (aggregate instance) the event belongs to."),
    "version": ("Int!", "Position of the event in its stream, from 1, gap-free."),
    "type": ("String!", "The event type (its GraphQL type name)."),
    "schema_version": ("Int!", "The version of the event type's schema it was read as."),
    "command_id": ("String!", "The command that produced the event."),
    "correlation_id": ("String!", "The flow the command belongs to (a saga, a request)."),
    "causation_id": ("String", "The event or command that caused this one, if any."),
    "timestamp": ("AWSDateTime!", "When the event was committed."),
}
assert tuple(ENVELOPE_SDL) == ENVELOPE_FIELDS


def _envelope_fields() -> list[str]:
    return [
        description(text, "  ") + f"  {camel(name)}: {kind}"
        for name, (kind, text) in ENVELOPE_SDL.items()
    ]


def _aggregate_types(builder: _Builder, aggregate: Aggregate[Any, Any, Any, Any]) -> None:
    title = aggregate.name.capitalize()
    state = builder.struct(aggregate.state_type, as_input=False)
    builder.add(
        f"{title}View",
        description(f"A {title} as of a version.")
        + f"type {title}View @aws_iam {{\n"
        + description("The stream id (the instance's id).", "  ")
        + "  streamId: ID!\n"
        + description("The version of the last event folded into the state.", "  ")
        + f"  version: Int!\n  state: {state}!\n}}",
    )
    builder.add(
        f"{title}Result",
        description(f"One id of a batch query: its {title}, or why it could not be read.")
        + f"type {title}Result @aws_iam {{\n  id: ID!\n"
        + description("Null when the stream has no event (or on an error).", "  ")
        + f"  view: {title}View\n  error: QueryError\n}}",
    )
    interface = f"{title}Event"
    builder.add(
        interface,
        description(f"A committed {title} event: the envelope's fields, then the event's own.")
        + f"interface {interface} {{\n"
        + "\n".join(_envelope_fields())
        + "\n}",
    )
    envelope = set(ENVELOPE_FIELDS)
    for event in _members(aggregate.event_type):
        info = mi.type_info(event)
        assert isinstance(info, mi.StructType)
        clash = envelope & {f.name for f in struct_fields(info)}
        if clash:
            raise ValueError(f"{event.__name__}: fields {sorted(clash)} shadow the envelope's")
        own = builder.fields(event, as_input=False, owner=event.__name__)
        builder.add(
            event.__name__,
            description(event.__doc__)
            + f"type {event.__name__} implements Event & {interface} @aws_iam {{\n"
            + "\n".join([*_envelope_fields(), *own])
            + "\n}",
        )
    builder.add(
        f"{title}EventPage",
        description(f"A page of a {title} stream's events, oldest first.")
        + f"type {title}EventPage @aws_iam {{\n  items: [{interface}!]!\n"
        + description("Pass it back for the next page; null on the last page.", "  ")
        + "  nextToken: String\n}",
    )


def _queries(builder: _Builder, aggregate: Aggregate[Any, Any, Any, Any]) -> list[str]:
    title = aggregate.name.capitalize()
    view = f"{title}View"
    fields: list[str] = []
    for query in _members(aggregate.query_type):
        info = mi.type_info(query)
        assert isinstance(info, mi.StructType)
        arguments = ", ".join(
            builder.signature(f, as_input=True, owner=query.__name__) for f in struct_fields(info)
        )
        fields.append(
            description(query.__doc__, "  ")
            + f"  {field_name(query.__name__)}({arguments}, atVersion: Int): {view} @aws_iam"
        )
        if len(struct_fields(info)) == 1:
            fields.append(
                description(
                    f"Up to 100 {title} instances at once: one result per id, in order.", "  "
                )
                + f"  {batch_query_name(query.__name__)}(ids: [ID!]!): [{title}Result!]! @aws_iam"
            )
    fields.append(
        description(
            f"The events of one {title} stream in pages (limit: 1 to 500, default 50).", "  "
        )
        + f"  {history_query_name(aggregate.name)}(id: ID!, fromVersion: Int, limit: Int, "
        f"nextToken: String): {title}EventPage! @aws_iam"
    )
    return fields


def sdl(registry: dict[str, Aggregate[Any, Any, Any, Any]] | None = None) -> str:
    registry = registry if registry is not None else aggregates()
    builder = _Builder()
    mutations: list[str] = []
    queries: list[str] = []
    subscriptions: list[str] = []
    for aggregate in registry.values():
        _aggregate_types(builder, aggregate)
        # internal commands (sagas', event handlers') reach the function by direct invocation
        for command in aggregate.public_command_classes:
            input_type = builder.struct(command, as_input=True)
            mutations.append(
                description(command.__doc__, "  ")
                + f"  {field_name(command.__name__)}(input: {input_type}!, commandId: String): "
                "CommandAck! @aws_iam"
            )
        queries += _queries(builder, aggregate)
        subscriptions.append(
            f"  {subscription_name(aggregate.name)}(streamId: ID, {TOKEN_ARGUMENT}: String): "
            "Published"
            ' @aws_subscribe(mutations: ["publish"]) @aws_iam'
        )
    mutations.append(
        description(
            "Called by EventBridge (its role only) once per committed command, with its "
            "events (the command's last bus entry carries them).",
            "  ",
        )
        + "  publish(aggregate: String!, streamId: ID!, version: Int!, type: String!, "
        "detail: AWSJSON!, fromVersion: Int!, truncated: Boolean!, events: AWSJSON!): "
        "Published! @aws_iam"
    )
    fixed = [
        "schema {\n  query: Query\n  mutation: Mutation\n  subscription: Subscription\n}",
        description(CommandAck.__doc__)
        + "type CommandAck @aws_iam {\n  commandId: String!\n  streamId: ID!\n"
        "  version: Int!\n  events: Int!\n}",
        description("Why one id of a batch query has no result (errorType as in GraphQL errors).")
        + "type QueryError @aws_iam {\n  errorType: String!\n  message: String!\n"
        "  errorInfo: AWSJSON\n}",
        description("A committed event of any aggregate: the envelope's fields.")
        + "interface Event {\n"
        + "\n".join(_envelope_fields())
        + "\n}",
        description(
            "A command's committed events, as subscribers receive them (one publish per "
            "command). `version`, `type` and `detail` are its last event's; `detail` is that "
            "envelope without the actor."
        )
        + "type Published @aws_iam {\n  aggregate: String!\n  streamId: ID!\n"
        "  version: Int!\n  type: String!\n  detail: AWSJSON!\n"
        + description("The command's first event.", "  ")
        + "  fromVersion: Int!\n"
        + description(
            "True when the events were too big to carry (EventBridge's 256 KB): read "
            "versions fromVersion to version with the history query.",
            "  ",
        )
        + "  truncated: Boolean!\n"
        + description("The command's events, oldest first, typed (`... on Deposited`).", "  ")
        + "  events: [Event!]!\n}",
        "type Mutation {\n" + "\n".join(mutations) + "\n}",
        "type Query {\n" + "\n".join(queries) + "\n}",
        "type Subscription {\n" + "\n".join(subscriptions) + "\n}",
    ]
    header = (
        "# Generated by `hotcore schema` from the contracts; do not edit.\n"
        "# Names are camelCase; a Literal is an enum (values upper-case); integers beyond\n"
        f"# GraphQL's 32-bit Int (amounts in minor units) are String: {BIG_INTEGER}.\n"
        "# A rejected command is a GraphQL error: errorType = the rule (e.g. insufficient-funds),\n"
        "# errorInfo = {rule, data}; malformed input is errorType BadRequest.\n"
    )
    return header + "\n\n".join([*fixed, *(builder.types[k] for k in sorted(builder.types))]) + "\n"
