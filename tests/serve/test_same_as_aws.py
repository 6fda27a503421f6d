"""What ``hotcore serve`` does in AppSync's and EventBridge's place, checked against the
deployment's own definitions: the JS resolvers (run by Node, as tests/infra runs them),
the delivery rule's target input and the publish operation (from the CDK constructs).

``hotcore serve`` maps outcomes, filters subscribers and builds ``publish`` in Python;
if any of these files changes, these tests say where the two part.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_events as events
from graphql import FieldNode, OperationDefinitionNode, parse

from hotcore.domain.names import subscription_name
from hotcore.domain.registry import aggregates
from hotcore_dev.serve.core import LocalCore, publish_arguments
from hotcore_dev.serve.realtime import ALL_STREAMS_ROLES, Subscriber, subscription_filter
from hotcore_dev.serve.schema import (
    ResolverError,
    lambda_request,
    lambda_response,
    mutation_document,
    subscription_request,
)
from infra.constructs.delivery import publish_variables
from infra.constructs.frontends import BACK_OFFICE_ROLE
from infra.stacks.common import PUBLISH_OPERATION
from tests.infra.test_infra_resolvers import BACK_OFFICE, NODE, run  # noqa: F401 (Node fixture)
from tests.serve.client import SCHEMA

OUTCOMES: list[dict[str, Any]] = [
    {"outcome": "accepted", "command_id": "k", "stream_id": "a", "version": 2, "events": 1},
    {
        "outcome": "rejected",
        "rule": "insufficient-funds",
        "message": "balance 5 is less than 9",
        "data": {"balance": 5, "amount": 9},
    },
    {"outcome": "rejected", "rule": "account-closed", "message": "closed"},
    {"outcome": "invalid", "error": "BadRequest", "message": "input: expected object"},
    {"outcome": "error", "error": "Unavailable", "message": "try again", "command_id": "k"},
    {"outcome": "error", "error": "StreamUnreadable", "message": "v3 does not decode"},
    {"stream_id": "a", "version": 2, "state": {"balance": 5}},
]

BUS_EVENT = {
    "version": "0",
    "id": "e-1",
    "detail-type": "Deposited",
    "source": "hotcore.account",
    "account": "000000000000",
    "time": "2026-12-02T00:00:00Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {
        "stream_id": "acc-1",
        "version": 7,
        "type": "Deposited",
        "data": {"amount": 5},
        # the command's last entry carries its events (hotcore.service.publisher)
        "subscribers": {
            "aggregate": "account",
            "streamId": "acc-1",
            "fromVersion": 7,
            "toVersion": 7,
            "truncated": False,
            "events": [{"__typename": "Deposited", "streamId": "acc-1", "amount": "5"}],
        },
    },
}


def python_response(result: dict[str, Any]) -> dict[str, Any]:
    try:
        return {"value": lambda_response(result), "filters": []}
    except ResolverError as error:
        return {
            "error": {
                "message": str(error),
                "type": error.error_type,
                "data": None,
                "info": error.error_info,
            }
        }


needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")


@needs_node
def test_outcomes_map_to_the_errors_lambda_invoke_js_raises(run: Any) -> None:  # noqa: F811
    js = run(*[("lambda_invoke", "response", {"result": outcome}) for outcome in OUTCOMES])
    assert [python_response(outcome) for outcome in OUTCOMES] == js


ALLOWED = {"outcome": "allowed"}


@needs_node
@pytest.mark.parametrize("aggregate", sorted(aggregates()))
def test_subscribers_filter_as_subscription_js_does(run: Any, aggregate: str) -> None:  # noqa: F811
    field = subscription_name(aggregate)
    assert SCHEMA.subscription_type is not None
    stream, token = SCHEMA.subscription_type.fields[field].args  # as the SDL spells them
    payloads = [
        {"aggregate": aggregate, stream: "s-1"},
        {"aggregate": aggregate, stream: "s-2"},
        {"aggregate": "elsewhere", stream: "s-1"},
    ]
    for arguments in ({stream: "s-1", token: "t"}, {}):
        ctx = {
            "arguments": arguments,
            "info": {"fieldName": field},
            "identity": BACK_OFFICE,
            "result": ALLOWED,
        }
        (result,) = run(("subscription", "response", ctx))
        (group,) = result["filters"][0]["filterGroup"]
        local = Subscriber(field, subscription_filter(ctx, ALLOWED))
        for payload in payloads:
            # AppSync: every filter of the group holds ("eq" is the only operator used)
            assert {f["operator"] for f in group["filters"]} == {"eq"}
            aws = all(payload.get(f["fieldName"]) == f["value"] for f in group["filters"])
            assert local.matches(payload) == aws, (arguments, payload)


@needs_node
def test_a_subscription_starts_as_subscription_js_decides(run: Any) -> None:  # noqa: F811
    field = subscription_name("account")
    forbidden = {"outcome": "rejected", "rule": "forbidden", "message": "not yours", "data": {}}
    storefront = {"userArn": "arn:aws:sts::123456789012:assumed-role/hotcore-storefront/i-1"}
    for identity in (BACK_OFFICE, storefront, None):
        for result in (ALLOWED, forbidden, {"outcome": "invalid", "message": "m"}, {}, None):
            for arguments in ({"streamId": "s-1"}, {}):
                ctx = {"arguments": arguments, "info": {"fieldName": field}, "identity": identity}
                (js,) = run(("subscription", "response", {**ctx, "result": result}))
                try:
                    local: Any = {"filter": subscription_filter(ctx, result)}
                except ResolverError as error:
                    local = {"error": (error.error_type, error.error_info)}
                aws = (
                    {"error": (js["error"]["type"], js["error"]["info"])}
                    if "error" in js
                    else {"filter": {f["fieldName"]: f["value"] for f in _filters(js)}}
                )
                assert local == aws, (identity, result, arguments)


def _filters(js: dict[str, Any]) -> list[dict[str, Any]]:
    (group,) = js["filters"][0]["filterGroup"]
    filters: list[dict[str, Any]] = group["filters"]
    return filters


@needs_node
def test_the_subscription_request_is_what_subscription_js_sends(run: Any) -> None:  # noqa: F811
    ctx = {
        "arguments": {"streamId": "acc-1", "idToken": "t"},
        "identity": {"accountId": "1", "userArn": "arn:aws:iam::1:user/u", "sourceIp": []},
        "info": {"fieldName": "onAccountEvent", "parentTypeName": "Subscription"},
        "request": {"headers": {"x-hotcore-id-token": "not this one"}},
    }
    (js,) = run(("subscription", "request", ctx))
    assert subscription_request(ctx) == js["value"]


def _render(target_input: events.RuleTargetInput, event: dict[str, Any]) -> Any:
    """What EventBridge sends for ``event``: the input template with its paths filled."""
    stack = Stack(App(), "Check")
    rule = events.Rule(stack, "Rule", event_pattern=events.EventPattern(source=["x"]))
    bound = target_input.bind(rule)
    template = stack.resolve(bound.input_template)
    assert isinstance(template, str)
    for name, path in (bound.input_paths_map or {}).items():
        value: Any = event
        for key in path.removeprefix("$.").split("."):
            value = value[key]
        template = template.replace(f"<{name}>", json.dumps(value))
    return json.loads(template)


def test_publish_takes_the_variables_the_delivery_rule_target_sends() -> None:
    for aggregate in aggregates():
        sent = _render(publish_variables(aggregate), BUS_EVENT)
        assert SCHEMA.mutation_type is not None
        arguments = SCHEMA.mutation_type.fields["publish"].args
        assert publish_arguments(aggregate, BUS_EVENT, arguments) == sent


def _selection(document: str) -> tuple[str, set[str]]:
    (operation,) = parse(document).definitions
    assert isinstance(operation, OperationDefinitionNode)
    (field,) = operation.selection_set.selections
    assert isinstance(field, FieldNode)
    assert field.selection_set is not None
    names = {s.name.value for s in field.selection_set.selections if isinstance(s, FieldNode)}
    return field.name.value, names - {"__typename"}


def test_publish_selects_what_the_deployed_operation_selects() -> None:
    assert _selection(mutation_document(SCHEMA, "publish")) == _selection(PUBLISH_OPERATION)


def test_every_field_of_the_sdl_has_its_function(tmp_path: Path) -> None:
    core = LocalCore(tmp_path / "serve.db")
    try:
        assert core.schema.unserved == []
    finally:
        core.close()


@needs_node
def test_functions_get_the_event_lambda_invoke_js_sends(run: Any) -> None:  # noqa: F811
    ctx = {
        "arguments": {"input": {"account_id": "acc-1", "amount": 5}, "command_id": "k-1"},
        "identity": {"accountId": "1", "userArn": "arn:aws:iam::1:user/u", "sourceIp": []},
        "info": {"fieldName": "deposit", "parentTypeName": "Mutation", "variables": {"v": 1}},
        "request": {"headers": {"content-type": "application/json", "x-trace": "t"}},
    }
    (js,) = run(("lambda_invoke", "request", ctx))
    assert lambda_request(ctx) == js["value"]


def test_the_roles_that_follow_every_stream_are_the_back_offices() -> None:
    assert ALL_STREAMS_ROLES == (BACK_OFFICE_ROLE,)
