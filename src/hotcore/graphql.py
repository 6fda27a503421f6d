"""The AppSync GraphQL schema (SDL), generated from the contracts.

Mutations are the commands (each returns a ``CommandAck``; a rejection becomes a GraphQL
error whose ``errorType`` is the rule), queries are the read models, ``publish`` is the
mutation EventBridge calls for every committed event, and each aggregate has a
subscription filtered by stream id. IAM authorization only: callers are front-end
servers, never browsers.

Naming: field names are the contracts' own (snake_case), a mutation is the command's
class name in lowerCamelCase (``Deposit`` -> ``deposit``), a query likewise
(``GetAccount`` -> ``getAccount``). GraphQL's ``Int`` is 32-bit, so integers whose
contract bounds exceed it (amounts in minor units, balances) are ``Float`` in the SDL;
they carry integral values only, and the resolvers convert them back to ``int``.
"""

from __future__ import annotations

from typing import Any

import msgspec.inspect as mi

from hotcore.domain.aggregate import Aggregate
from hotcore.domain.registry import aggregates

INT32 = (-(2**31), 2**31 - 1)


def field_name(contract_name: str) -> str:
    """``PlaceOrder`` -> ``placeOrder``: the GraphQL field of a command or query."""
    return contract_name[0].lower() + contract_name[1:]


def subscription_name(aggregate: str) -> str:
    return f"on{aggregate.capitalize()}Event"


class _Builder:
    def __init__(self) -> None:
        self.types: dict[str, str] = {}

    def scalar(self, info: mi.Type, *, as_input: bool) -> str:
        """The GraphQL type of a field, without the non-null marker."""
        match info:
            case mi.Metadata(type=inner):
                return self.scalar(inner, as_input=as_input)
            case mi.StrType() | mi.LiteralType():
                return "String"
            case mi.BoolType():
                return "Boolean"
            case mi.IntType(ge=ge, gt=gt, le=le, lt=lt):
                low = ge if ge is not None else (gt + 1 if gt is not None else None)
                high = le if le is not None else (lt - 1 if lt is not None else None)
                fits = low is not None and high is not None and INT32[0] <= low <= high <= INT32[1]
                return "Int" if fits else "Float"
            case mi.DateTimeType():
                return "AWSDateTime"
            case mi.DictType():
                return "AWSJSON"
            case mi.ListType(item_type=item):
                return f"[{self.scalar(item, as_input=as_input)}!]"
            case mi.StructType(cls=cls):
                return self.struct(cls, as_input=as_input)
        raise TypeError(f"no GraphQL type for {info!r}")

    def field(self, field: mi.Field, *, as_input: bool) -> str:
        info = field.type
        nullable = False
        if isinstance(info, mi.UnionType):
            members = [t for t in info.types if not isinstance(t, mi.NoneType)]
            nullable = len(members) < len(info.types)
            if len(members) != 1:
                raise TypeError(f"field {field.name}: unions are not GraphQL fields")
            info = members[0]
        optional = nullable or (as_input and not field.required)
        return f"{field.name}: {self.scalar(info, as_input=as_input)}{'' if optional else '!'}"

    def struct(self, cls: type[Any], *, as_input: bool, name: str | None = None) -> str:
        name = name or (f"{cls.__name__}Input" if as_input else cls.__name__)
        if name not in self.types:
            self.types[name] = ""  # reserve the name first: nested structs may refer to it
            info = mi.type_info(cls)
            assert isinstance(info, mi.StructType)
            fields = [f for f in info.fields if f.name != info.tag_field]
            body = "\n".join(f"  {self.field(f, as_input=as_input)}" for f in fields)
            if as_input:
                self.types[name] = f"input {name} {{\n{body}\n}}"
            else:
                self.types[name] = f"type {name} @aws_iam {{\n{body}\n}}"
        return name


def _members(union: Any) -> list[type[Any]]:
    info = mi.type_info(union)
    if isinstance(info, mi.UnionType):
        return [t.cls for t in info.types if isinstance(t, mi.StructType)]
    assert isinstance(info, mi.StructType)
    return [info.cls]


def sdl(registry: dict[str, Aggregate[Any, Any, Any, Any]] | None = None) -> str:
    registry = registry if registry is not None else aggregates()
    builder = _Builder()
    mutations: list[str] = []
    queries: list[str] = []
    subscriptions: list[str] = []
    for aggregate in registry.values():
        state = builder.struct(aggregate.state_type, as_input=False)
        view = f"{aggregate.name.capitalize()}View"
        builder.types[view] = (
            f"type {view} @aws_iam {{\n  stream_id: String!\n  version: Int!\n  state: {state}!\n}}"
        )
        for command in _members(aggregate.command_type):
            input_type = builder.struct(command, as_input=True)
            mutations.append(
                f"  {field_name(command.__name__)}(input: {input_type}!, command_id: String): "
                "CommandAck! @aws_iam"
            )
        for query in _members(aggregate.query_type):
            info = mi.type_info(query)
            assert isinstance(info, mi.StructType)
            args = ", ".join(
                builder.field(f, as_input=True) for f in info.fields if f.name != info.tag_field
            )
            queries.append(f"  {field_name(query.__name__)}({args}): {view}! @aws_iam")
        subscriptions.append(
            f"  {subscription_name(aggregate.name)}(stream_id: String): Published"
            ' @aws_subscribe(mutations: ["publish"]) @aws_iam'
        )
    mutations.append(
        "  publish(aggregate: String!, stream_id: String!, version: Int!, type: String!, "
        "detail: AWSJSON!): Published! @aws_iam"
    )
    fixed = [
        "schema {\n  query: Query\n  mutation: Mutation\n  subscription: Subscription\n}",
        "type CommandAck @aws_iam {\n  command_id: String!\n  stream_id: String!\n"
        "  version: Int!\n  events: Int!\n}",
        "type Published @aws_iam {\n  aggregate: String!\n  stream_id: String!\n"
        "  version: Int!\n  type: String!\n  detail: AWSJSON!\n}",
        "type Mutation {\n" + "\n".join(mutations) + "\n}",
        "type Query {\n" + "\n".join(queries) + "\n}",
        "type Subscription {\n" + "\n".join(subscriptions) + "\n}",
    ]
    header = (
        "# Generated by `hotcore schema` from the contracts; do not edit.\n"
        "# A rejected command is a GraphQL error: errorType = the rule (e.g. insufficient-funds),\n"
        "# errorInfo = {rule, data}; malformed input is errorType BadRequest.\n"
    )
    return header + "\n\n".join([*fixed, *sorted(builder.types.values())]) + "\n"
