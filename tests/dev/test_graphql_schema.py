"""The generated AppSync SDL parses, follows AppSync's conventions and says what the contracts say.

Conventions checked here with graphql-core: camelCase fields and arguments, enums for
statuses, typed objects (no AWSJSON) wherever the contract is typed, no ``Float``
anywhere (integers beyond 32 bits are exact decimal strings), descriptions from the
contracts' docstrings, nullable reads (null for a stream that does not exist), the batch
and history queries, IAM only.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec.inspect as mi
from graphql import (
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    build_schema,
    get_named_type,
)

from hotcore.codec.graphql import camel, enum_value, struct_fields, unwrap
from hotcore.domain.names import (
    batch_query_name,
    field_name,
    history_query_name,
    subscription_name,
)
from hotcore.domain.registry import aggregates
from hotcore_dev.graphql import sdl

# AppSync's own scalars and directives, which a plain GraphQL parser does not know.
APPSYNC_PRELUDE = """
scalar AWSJSON
scalar AWSDateTime
directive @aws_iam on OBJECT | FIELD_DEFINITION
directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION
"""

SCHEMA = build_schema(APPSYNC_PRELUDE + sdl())
CAMEL = re.compile(r"^(__typename|[a-z][A-Za-z0-9]*)$")
#: Where AWSJSON stays on purpose: the errorInfo of a per-id error is free-form (the rule's
#: data), and publish's detail is the bus envelope as EventBridge passes it.
UNTYPED_ON_PURPOSE = {("QueryError", "errorInfo"), ("Published", "detail"), ("Mutation", "publish")}


def members(union: object) -> list[type]:
    info = mi.type_info(union)
    if isinstance(info, mi.UnionType):
        return [t.cls for t in info.types if isinstance(t, mi.StructType)]
    assert isinstance(info, mi.StructType)
    return [info.cls]


def contract_fields(cls: type) -> dict[str, mi.Field]:
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    return {camel(f.name): f for f in struct_fields(info)}


def own_types() -> list[Any]:
    return [t for name, t in SCHEMA.type_map.items() if not name.startswith("__")]


def test_every_field_and_argument_is_camel_case() -> None:
    for named in own_types():
        for name, field in getattr(named, "fields", {}).items():
            assert CAMEL.match(name), f"{named.name}.{name}"
            for argument in getattr(field, "args", {}):
                assert CAMEL.match(argument), f"{named.name}.{name}({argument})"


def test_no_float_and_no_untyped_json_where_the_contract_is_typed() -> None:
    for named in own_types():
        for name, field in getattr(named, "fields", {}).items():
            assert get_named_type(field.type).name != "Float", f"{named.name}.{name}"
            if (named.name, name) not in UNTYPED_ON_PURPOSE:
                assert get_named_type(field.type).name != "AWSJSON", f"{named.name}.{name}"
            for argument, arg in getattr(field, "args", {}).items():
                assert get_named_type(arg.type).name != "Float", f"{named.name}.{name}"
                if (named.name, name) not in UNTYPED_ON_PURPOSE:
                    assert get_named_type(arg.type).name != "AWSJSON", (name, argument)


def test_every_public_command_is_a_mutation_taking_exactly_its_fields() -> None:
    mutation = SCHEMA.mutation_type
    assert mutation is not None
    for aggregate in aggregates().values():
        for command in aggregate.public_command_classes:
            field = mutation.fields[field_name(command.__name__)]
            assert get_named_type(field.type).name == "CommandAck"
            assert set(field.args) == {"input", "commandId"}
            input_type = get_named_type(field.args["input"].type)
            expected = contract_fields(command)
            assert set(input_type.fields) == set(expected), command.__name__  # type: ignore[union-attr]
            for name, contract_field in expected.items():
                required = isinstance(input_type.fields[name].type, GraphQLNonNull)  # type: ignore[union-attr]
                _, nullable = unwrap(contract_field.type)
                assert required == (contract_field.required and not nullable), (command, name)


def test_amounts_are_exact_strings_and_small_counts_ints() -> None:
    deposit = SCHEMA.get_type("DepositInput")
    add_stock = SCHEMA.get_type("AddStockInput")
    state = SCHEMA.get_type("AccountState")
    assert str(deposit.fields["amount"].type) == "String!"  # type: ignore[union-attr]
    assert "exact" in (deposit.fields["amount"].description or "")  # type: ignore[union-attr]
    assert str(state.fields["balance"].type) == "String!"  # type: ignore[union-attr]
    assert str(add_stock.fields["quantity"].type) == "Int!"  # type: ignore[union-attr]
    assert str(deposit.fields["accountId"].type) == "ID!"  # type: ignore[union-attr]


def test_statuses_are_enums_with_every_contract_value() -> None:
    for aggregate in aggregates().values():
        fields = contract_fields(aggregate.state_type)
        if "status" not in fields:
            continue  # Inventory: stock has no lifecycle
        status = SCHEMA.get_type(aggregate.state_type.__name__).fields["status"]  # type: ignore[union-attr]
        enum = get_named_type(status.type)
        assert isinstance(enum, GraphQLEnumType)
        literal, _ = unwrap(fields["status"].type)
        assert isinstance(literal, mi.LiteralType)
        assert set(enum.values) == {enum_value(str(v)) for v in literal.values}


def test_maps_are_typed_entries() -> None:
    reservations = SCHEMA.get_type("InventoryState").fields["reservations"]  # type: ignore[union-attr]
    entry = get_named_type(reservations.type)
    assert isinstance(entry, GraphQLObjectType)
    assert {k: str(f.type) for k, f in entry.fields.items()} == {
        "key": "String!",
        "value": "String!",
    }


def test_every_query_reads_a_nullable_view_at_a_version_in_batches_and_as_history() -> None:
    query = SCHEMA.query_type
    assert query is not None
    for name, aggregate in aggregates().items():
        title = name.capitalize()
        for contract in members(aggregate.query_type):
            single = query.fields[field_name(contract.__name__)]
            assert set(single.args) == {*contract_fields(contract), "atVersion"}
            assert not isinstance(single.type, GraphQLNonNull)  # null: no such stream
            view = get_named_type(single.type)
            state = get_named_type(view.fields["state"].type)  # type: ignore[union-attr]
            assert set(state.fields) == set(contract_fields(aggregate.state_type))  # type: ignore[union-attr]
            batch = query.fields[batch_query_name(contract.__name__)]
            assert str(batch.args["ids"].type) == "[ID!]!"
            assert str(batch.type) == f"[{title}Result!]!"
        history = query.fields[history_query_name(name)]
        assert set(history.args) == {"id", "fromVersion", "limit", "nextToken"}
        page = get_named_type(history.type)
        assert str(page.fields["items"].type) == f"[{title}Event!]!"  # type: ignore[union-attr]
        interface = SCHEMA.get_type(f"{title}Event")
        assert isinstance(interface, GraphQLInterfaceType)
        implementations = {t.name for t in SCHEMA.get_implementations(interface).objects}
        assert implementations == {cls.__name__ for cls in members(aggregate.event_type)}
        assert "actor" not in interface.fields


def test_event_types_carry_the_envelope_and_their_own_fields() -> None:
    for aggregate in aggregates().values():
        for event in members(aggregate.event_type):
            graphql_type = SCHEMA.get_type(event.__name__)
            assert isinstance(graphql_type, GraphQLObjectType)
            own = set(contract_fields(event))
            assert own <= set(graphql_type.fields)
            assert {"streamId", "version", "timestamp", "commandId"} <= set(graphql_type.fields)


def test_descriptions_come_from_the_contracts() -> None:
    for aggregate in aggregates().values():
        for command in aggregate.public_command_classes:
            field = SCHEMA.mutation_type.fields[field_name(command.__name__)]  # type: ignore[union-attr]
            assert command.__doc__
            assert field.description
            assert field.description.split()[:3] == command.__doc__.split()[:3]
        for event in members(aggregate.event_type):
            assert event.__doc__, event
            assert SCHEMA.get_type(event.__name__).description  # type: ignore[union-attr]
        assert SCHEMA.get_type(aggregate.state_type.__name__).description  # type: ignore[union-attr]


def test_one_subscription_per_aggregate_fed_by_publish() -> None:
    subscription = SCHEMA.subscription_type
    mutation = SCHEMA.mutation_type
    assert subscription is not None
    assert mutation is not None
    assert set(subscription.fields) == {subscription_name(name) for name in aggregates()}
    for field in subscription.fields.values():
        assert set(field.args) == {"streamId", "idToken"}  # the end user's token
    assert '@aws_subscribe(mutations: ["publish"])' in sdl()


def test_no_api_keys_only_iam() -> None:
    text = sdl()
    assert "@aws_api_key" not in text
    assert "@aws_cognito_user_pools" not in text


def test_the_checked_in_sdl_is_current() -> None:
    checked_in = Path(__file__).resolve().parents[2] / "schemas" / "schema.graphql"
    assert checked_in.read_text() == sdl(), "run `make schema`"
