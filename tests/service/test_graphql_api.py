"""The generated SDL executed by graphql-core over the real command and query functions.

Each Mutation and Query field resolves by invoking the aggregate's function with the
event AppSync would send (arguments as GraphQL coerced them); outcomes become errors the
way the APPSYNC_JS response handler turns them (errorType, errorInfo). graphql-core then
checks every answer against the schema: names, enums, exact integers, nullability and
which member of an event interface an object is (``__typename``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLError, GraphQLSchema, build_schema, graphql_sync

from hotcore.domain.registry import aggregates
from hotcore.entrypoints import snapstart
from hotcore.entrypoints.appsync import AppSyncResolver
from hotcore.entrypoints.command import CommandFunction
from hotcore.entrypoints.query import QueryFunction
from hotcore.entrypoints.settings import Settings
from hotcore_dev.graphql import sdl
from tests.dev.test_graphql_schema import APPSYNC_PRELUDE
from tests.support.identity import issuer, signed


def _raise_outcome(result: Any) -> Any:
    """What infra/resolvers/lambda_invoke.js does with a function's answer."""
    if isinstance(result, dict) and result.get("outcome") == "rejected":
        raise GraphQLError(
            result["message"],
            extensions={
                "errorType": result["rule"],
                "errorInfo": {"rule": result["rule"], "data": result.get("data", {})},
            },
        )
    if isinstance(result, dict) and result.get("outcome") in ("invalid", "error"):
        raise GraphQLError(result["message"], extensions={"errorType": result["error"]})
    return result


class Api:
    """The schema over one SQLite file's functions: GraphQL documents sent for an end user
    (an ID token, as the front-end server forwards it) and direct system invocations."""

    def __init__(self, tmp_path: Path) -> None:
        self.schema: GraphQLSchema = build_schema(APPSYNC_PRELUDE + sdl())
        self.commands: dict[str, CommandFunction] = {}
        mutation_type, query_type = self.schema.mutation_type, self.schema.query_type
        assert mutation_type is not None
        assert query_type is not None
        for name in aggregates():
            env = Settings.from_env(
                name, {"HOTCORE_DB": str(tmp_path / "api.db"), **issuer().env()}
            )
            command, query = CommandFunction(name, env), QueryFunction(name, env)
            self.commands[name] = command
            resolver = AppSyncResolver(command.aggregate)
            for field in resolver.mutations:
                if field in mutation_type.fields:  # internal commands have no mutation
                    mutation_type.fields[field].resolve = self._resolver(command)
            for field in resolver.query_fields:
                query_type.fields[field].resolve = self._resolver(query)

    def _resolver(self, function: Any) -> Any:
        def resolve(_: Any, info: Any, **arguments: Any) -> Any:
            event = {
                "arguments": arguments,
                "identity": {"userArn": "arn:aws:sts::1:assumed-role/hotcore-storefront/s"},
                "info": {
                    "fieldName": info.field_name,
                    "parentTypeName": info.parent_type.name,
                    "variables": {},
                },
            }
            user, groups = info.context
            return _raise_outcome(function(signed(event, user, *groups)))

        return resolve

    def run(
        self, document: str, *, user: str = "c-1", groups: tuple[str, ...] = (), **variables: Any
    ) -> dict[str, Any]:
        result = graphql_sync(
            self.schema, document, variable_values=variables, context_value=(user, groups)
        )
        if result.errors:
            raise result.errors[0]
        assert result.data is not None
        return result.data

    def system(self, aggregate: str, command_type: str, **fields: Any) -> None:
        """A command only sagas and event handlers send (a direct invocation)."""
        payload = {"command": {"type": command_type, **fields}, "actor": "saga:place-order"}
        outcome = self.commands[aggregate](payload)
        assert outcome["outcome"] == "accepted", outcome


@pytest.fixture
def api(tmp_path: Path) -> Any:
    yield Api(tmp_path)
    snapstart.clear()


def test_commands_and_reads_through_the_schema(api: Any) -> None:
    api.system("account", "OpenAccount", account_id="a-1", owner_id="c-1")
    ack = api.run(
        'mutation { deposit(input: {accountId: "a-1", amount: "1"}, commandId: "k-1")'
        " { commandId streamId version events } }"
    )
    assert ack == {"deposit": {"commandId": "k-1", "streamId": "a-1", "version": 2, "events": 1}}
    api.run('mutation { withdraw(input: {accountId: "a-1", amount: "1"}) { version } }')
    # ten deposits of the most one may carry, and one more cent: 10**16 + 1, which a
    # Float (53 bits of mantissa) would round to 10**16
    for _ in range(10):
        api.run(
            'mutation($amount: String!) { deposit(input: {accountId: "a-1", amount: $amount})'
            " { version } }",
            amount=str(10**15),
        )
    api.run('mutation { deposit(input: {accountId: "a-1", amount: "1"}) { version } }')
    api.run('mutation { withdraw(input: {accountId: "a-1", amount: "2"}) { version } }')
    read = api.run(
        '{ getAccount(accountId: "a-1") { streamId version state { status balance ownerId } } }'
    )
    assert read["getAccount"] == {
        "streamId": "a-1",
        "version": 15,
        "state": {"status": "OPEN", "balance": str(10**16 - 1), "ownerId": "c-1"},
    }
    past = api.run('{ getAccount(accountId: "a-1", atVersion: 14) { version state { balance } } }')
    assert past["getAccount"] == {"version": 14, "state": {"balance": str(10**16 + 1)}}
    assert float(past["getAccount"]["state"]["balance"]) == 10**16  # what a Float would say
    staff = {"user": "eve", "groups": ("back-office",)}  # reads every account
    assert api.run('{ getAccount(accountId: "nobody") { version } }', **staff) == {
        "getAccount": None
    }
    assert api.run('{ getAccount(accountId: "a-1", atVersion: 99) { version } }') == {
        "getAccount": None
    }


def test_a_rejection_is_an_error_with_the_rule_and_its_data(api: Any) -> None:
    api.system("account", "OpenAccount", account_id="a-1", owner_id="c-1")
    with pytest.raises(GraphQLError) as refused:
        api.run('mutation { withdraw(input: {accountId: "a-1", amount: "5"}) { version } }')
    assert refused.value.extensions["errorType"] == "insufficient-funds"  # type: ignore[index]
    with pytest.raises(GraphQLError) as bad:
        api.run('mutation { deposit(input: {accountId: "a-1", amount: "1.5"}) { version } }')
    assert bad.value.extensions["errorType"] == "BadRequest"  # type: ignore[index]


def test_a_batch_answers_every_id_in_order_with_per_id_errors(api: Any) -> None:
    for account in ("a-1", "a-2"):
        api.system("account", "OpenAccount", account_id=account, owner_id="o")
    api.system("account", "OpenAccount", account_id="b-1", owner_id="b")
    got = api.run(
        '{ getAccounts(ids: ["a-2", "nobody", "has space", "a-1", "b-1"]) '
        "{ id view { streamId state { accountId status } } error { errorType message } } }",
        user="o",
    )["getAccounts"]
    assert [g["id"] for g in got] == ["a-2", "nobody", "has space", "a-1", "b-1"]
    assert got[0]["view"] == {"streamId": "a-2", "state": {"accountId": "a-2", "status": "OPEN"}}
    # an account nobody opened would be the customer "nobody"'s, b-1 is b's: not o's
    assert (got[1]["view"], got[1]["error"]["errorType"]) == (None, "forbidden")
    assert (got[4]["view"], got[4]["error"]["errorType"]) == (None, "forbidden")
    assert got[2]["view"] is None
    assert got[2]["error"]["errorType"] == "BadRequest"
    assert got[3]["view"]["streamId"] == "a-1"
    with pytest.raises(GraphQLError) as too_many:
        api.run(
            "query($ids: [ID!]!) { getAccounts(ids: $ids) { id } }",
            ids=[f"x{n}" for n in range(101)],
        )
    assert too_many.value.extensions["errorType"] == "BadRequest"  # type: ignore[index]


def test_history_pages_with_typed_events_and_no_actor(api: Any) -> None:
    api.system("account", "OpenAccount", account_id="a-1", owner_id="c-1")
    for n in range(1, 6):
        api.run(
            "mutation($n: String!, $r: String) {"
            ' deposit(input: {accountId: "a-1", amount: $n, reference: $r}) { version } }',
            n=str(n),
            r=f"r{n}",
        )
    document = (
        'query($token: String) { accountHistory(id: "a-1", limit: 4, nextToken: $token) {'
        " nextToken items { __typename version type timestamp commandId"
        " ... on AccountOpened { ownerId } ... on Deposited { amount memo currency } } } }"
    )
    first = api.run(document)["accountHistory"]
    assert [i["__typename"] for i in first["items"]] == ["AccountOpened", *["Deposited"] * 3]
    assert first["items"][0]["ownerId"] == "c-1"
    assert first["items"][1] | {"timestamp": None, "commandId": None} == {
        "__typename": "Deposited",
        "version": 2,
        "type": "Deposited",
        "timestamp": None,
        "commandId": None,
        "amount": "1",
        "memo": "r1",
        "currency": "EUR",
    }
    second = api.run(document, token=first["nextToken"])["accountHistory"]
    assert [i["version"] for i in second["items"]] == [5, 6]
    assert second["nextToken"] is None
    from_three = api.run('{ accountHistory(id: "a-1", fromVersion: 3) { items { version } } }')
    assert [i["version"] for i in from_three["accountHistory"]["items"]] == [3, 4, 5, 6]
    with pytest.raises(GraphQLError) as bad:
        api.run('{ accountHistory(id: "a-2", nextToken: "bm9wZQ==") { nextToken } }')
    assert bad.value.extensions["errorType"] == "BadRequest"  # type: ignore[index]
    with pytest.raises(GraphQLError):
        api.run(document.replace('"a-1"', '"a-2"'), token=first["nextToken"])  # another stream's


def test_states_with_maps_enums_and_lists_read_through_the_schema(api: Any) -> None:
    api.run(
        'mutation { addStock(input: {sku: "s-1", quantity: 10}) { version } }',
        user="eve",
        groups=("back-office",),
    )
    api.system("inventory", "ReserveStock", sku="s-1", order_id="o-1", quantity=3)
    stock = api.run('{ getInventory(sku: "s-1") { state { onHand reservations { key value } } } }')
    assert stock["getInventory"]["state"] == {
        "onHand": "10",
        "reservations": [{"key": "o-1", "value": "3"}],
    }
    api.run(
        'mutation { placeOrder(input: {orderId: "o-1", customerId: "c", accountId: "c",'
        ' lines: [{sku: "s-1", quantity: 2, unitPrice: "250"}]}) { version } }',
        user="c",
    )
    order = api.run(
        '{ getOrders(ids: ["o-1"]) { view { state { status total lines { unitPrice } } } } }',
        user="c",
    )
    assert order["getOrders"][0]["view"]["state"] == {
        "status": "PLACED",
        "total": "500",
        "lines": [{"unitPrice": "250"}],
    }
