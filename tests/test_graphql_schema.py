"""The generated AppSync SDL parses, and says exactly what the contracts say."""

from __future__ import annotations

from pathlib import Path

import msgspec.inspect as mi
from graphql import GraphQLNonNull, build_schema, get_named_type

from hotcore.domain.registry import aggregates
from hotcore.graphql import field_name, sdl, subscription_name

# AppSync's own scalars and directives, which a plain GraphQL parser does not know.
APPSYNC_PRELUDE = """
scalar AWSJSON
scalar AWSDateTime
directive @aws_iam on OBJECT | FIELD_DEFINITION
directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION
"""

SCHEMA = build_schema(APPSYNC_PRELUDE + sdl())


def struct_fields(cls: type) -> dict[str, mi.Field]:
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    return {f.name: f for f in info.fields if f.name != info.tag_field}


def members(union: object) -> list[type]:
    info = mi.type_info(union)
    if isinstance(info, mi.UnionType):
        return [t.cls for t in info.types if isinstance(t, mi.StructType)]
    assert isinstance(info, mi.StructType)
    return [info.cls]


def test_every_command_is_a_mutation_taking_exactly_its_fields() -> None:
    mutation = SCHEMA.mutation_type
    assert mutation is not None
    for aggregate in aggregates().values():
        for command in members(aggregate.command_type):
            field = mutation.fields[field_name(command.__name__)]
            assert get_named_type(field.type).name == "CommandAck"
            input_type = get_named_type(field.args["input"].type)
            expected = struct_fields(command)
            assert set(input_type.fields) == set(expected), command.__name__
            for name, contract_field in expected.items():
                required = isinstance(input_type.fields[name].type, GraphQLNonNull)
                optional = not contract_field.required or isinstance(
                    contract_field.type, mi.UnionType
                )
                assert required != optional, (command.__name__, name)


def test_every_query_returns_a_view_of_the_state() -> None:
    query = SCHEMA.query_type
    assert query is not None
    for aggregate in aggregates().values():
        for query_contract in members(aggregate.query_type):
            field = query.fields[field_name(query_contract.__name__)]
            assert set(field.args) == set(struct_fields(query_contract))
            view = get_named_type(field.type)
            state = get_named_type(view.fields["state"].type)
            assert set(state.fields) == set(struct_fields(aggregate.state_type))


def test_one_subscription_per_aggregate_fed_by_publish() -> None:
    subscription = SCHEMA.subscription_type
    mutation = SCHEMA.mutation_type
    assert subscription is not None
    assert mutation is not None
    assert set(subscription.fields) == {subscription_name(name) for name in aggregates()}
    assert set(mutation.fields["publish"].args) == {
        "aggregate",
        "stream_id",
        "version",
        "type",
        "detail",
    }
    assert '@aws_subscribe(mutations: ["publish"])' in sdl()


def test_amounts_beyond_32_bits_are_floats_and_small_counts_are_ints() -> None:
    deposit = SCHEMA.get_type("DepositInput")
    add_stock = SCHEMA.get_type("AddStockInput")
    assert str(deposit.fields["amount"].type) == "Float!"  # type: ignore[union-attr]
    assert str(add_stock.fields["quantity"].type) == "Int!"  # type: ignore[union-attr]


def test_no_api_keys_only_iam() -> None:
    text = sdl()
    assert "@aws_api_key" not in text
    assert "@aws_cognito_user_pools" not in text


def test_the_checked_in_sdl_is_current() -> None:
    checked_in = Path(__file__).resolve().parents[1] / "schemas" / "schema.graphql"
    assert checked_in.read_text() == sdl(), "run `make schema`"
