"""Internal commands are not in the GraphQL schema: only direct invocations reach them."""

from __future__ import annotations

from typing import get_args

from graphql import build_schema

from hotcore.domain.names import field_name
from hotcore.domain.registry import aggregates
from hotcore_dev.graphql import sdl
from hotcore_dev.schema import rendered
from tests.dev.test_graphql_schema import APPSYNC_PRELUDE

INTERNAL = [
    "openAccount",
    "linkAccount",
    "reserveStock",
    "releaseReservation",
    "commitReservation",
    "confirmOrder",
    "recordPayment",
    "recordRefund",
]


def mutation_fields(schema: str) -> list[str]:
    mutation = build_schema(APPSYNC_PRELUDE + schema).mutation_type
    assert mutation is not None
    return list(mutation.fields)


def test_the_schema_has_a_mutation_for_every_public_command_and_none_for_internal_ones() -> None:
    fields = mutation_fields(sdl())
    public = [
        field_name(cls.__name__)
        for aggregate in aggregates().values()
        for cls in aggregate.public_command_classes
    ]
    assert sorted(fields) == sorted([*public, "publish"])
    assert set(fields) & set(INTERNAL) == set()
    every = {
        field_name(cls.__name__)
        for aggregate in aggregates().values()
        for cls in get_args(aggregate.command_type)
    }
    assert every - set(public) == set(INTERNAL)


def test_the_committed_schema_is_the_generated_one() -> None:
    from pathlib import Path

    committed = Path(__file__).resolve().parents[2] / "schemas" / "schema.graphql"
    assert committed.read_text() == rendered()["schema.graphql"]
    assert set(mutation_fields(committed.read_text())) & set(INTERNAL) == set()
