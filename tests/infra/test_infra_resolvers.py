"""The AppSync JS resolvers in ``infra/resolvers``, run by Node against a stand-in runtime.

AppSync's ``@aws-appsync/utils`` exists only inside AppSync, so a small module with the
same ``util.error`` / ``util.transform`` / ``extensions`` surface is installed under a
temporary ``node_modules`` and the resolver files are imported unchanged. What the
Lambda resolver sends is then decoded by hotcore's own AppSync adapter, so the two
sides are checked against each other.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from hotcore.contracts.account import OpenAccount
from hotcore.domain.account import ACCOUNT
from hotcore.entrypoints.appsync import AppSyncResolver, SubscribeRead
from infra.constructs.frontends import BACK_OFFICE_ROLE, STOREFRONT_ROLE
from infra.stacks.common import resolver_code

RESOLVERS = Path(__file__).resolve().parents[2] / "infra" / "resolvers"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")

# The parts of AppSync's runtime the resolvers use: util.error throws (AppSync stops the
# resolver there), toSubscriptionFilter builds a filter group, extensions records filters.
STAND_IN_UTILS = """
export class AppSyncError extends Error {
  constructor(message, type, data, info) {
    super(message);
    this.type = type ?? null;
    this.data = data ?? null;
    this.info = info ?? null;
  }
}
export const util = {
  error(message, type, data, info) { throw new AppSyncError(message, type, data, info); },
  unauthorized() { throw new AppSyncError('Unauthorized', 'Unauthorized', null, null); },
  transform: {
    toSubscriptionFilter(filter) {
      const filters = Object.entries(filter).map(([fieldName, rule]) => {
        const [operator, value] = Object.entries(rule)[0];
        return { fieldName, operator, value };
      });
      return { filterGroup: [{ filters }] };
    },
  },
};
export const extensions = {
  recorded: [],
  setSubscriptionFilter(filter) { this.recorded.push(filter); },
};
"""

# Runs each case through one resolver module: {"file", "phase", "ctx"} ->
# {"value"} or {"error": {message, type, data, info}}, plus recorded filters.
DRIVER = """
import { extensions } from '@aws-appsync/utils';
const cases = JSON.parse(process.argv[2]);
const out = [];
for (const c of cases) {
  const module = await import(`./${c.file}`);
  extensions.recorded.length = 0;
  try {
    const value = module[c.phase](c.ctx);
    out.push({ value: value === undefined ? null : value, filters: [...extensions.recorded] });
  } catch (e) {
    if (e.constructor.name !== 'AppSyncError') throw e;
    out.push({ error: { message: e.message, type: e.type, data: e.data, info: e.info } });
  }
}
console.log(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("resolvers")
    utils = root / "node_modules" / "@aws-appsync" / "utils"
    utils.mkdir(parents=True)
    (utils / "package.json").write_text(
        json.dumps({"name": "@aws-appsync/utils", "type": "module", "main": "index.js"})
    )
    (utils / "index.js").write_text(STAND_IN_UTILS)
    for source in RESOLVERS.glob("*.js"):
        # as the templates inline it: its includes appended
        (root / f"{source.stem}.mjs").write_text(resolver_code(source))
    (root / "driver.mjs").write_text(DRIVER)

    def run_cases(*cases: tuple[str, str, dict[str, Any]]) -> list[dict[str, Any]]:
        spec = [{"file": f"{file}.mjs", "phase": phase, "ctx": ctx} for file, phase, ctx in cases]
        assert NODE is not None
        done = subprocess.run(
            [NODE, "driver.mjs", json.dumps(spec)],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        results: list[dict[str, Any]] = json.loads(done.stdout)
        return results

    return run_cases


IAM_IDENTITY = {
    "accountId": "123456789012",
    "userArn": "arn:aws:sts::123456789012:assumed-role/frontend/session",
    "sourceIp": ["10.0.0.1"],
}


def test_lambda_request_is_what_the_command_function_decodes(run: Any) -> None:
    ctx = {
        "arguments": {"input": {"accountId": "acc-1", "ownerId": "c-1"}, "commandId": "k-1"},
        "identity": IAM_IDENTITY,
        "info": {
            "fieldName": "openAccount",
            "parentTypeName": "Mutation",
            "variables": {},
            "selectionSetList": ["commandId"],
        },
        "request": {"headers": {"authorization": "AWS4-HMAC-SHA256 secret"}},
    }
    (result,) = run(("lambda_invoke", "request", ctx))
    request = result["value"]
    assert request["operation"] == "Invoke"
    payload = request["payload"]
    assert "request" not in payload  # headers (signatures) are not sent to the function

    resolver = AppSyncResolver(ACCOUNT)
    assert resolver.decode(payload).request is None
    command, command_id = resolver.command(resolver.decode(payload))
    assert command == OpenAccount(account_id="acc-1", owner_id="c-1")
    assert command_id == "k-1"


def test_only_the_end_users_token_header_reaches_the_function(run: Any) -> None:
    ctx = {
        "arguments": {"input": {"account_id": "acc-1", "amount": 5}},
        "identity": IAM_IDENTITY,
        "info": {"fieldName": "deposit", "parentTypeName": "Mutation", "variables": {}},
        "request": {
            "headers": {
                "authorization": "AWS4-HMAC-SHA256 Credential=AKID/..., Signature=abc",
                "x-amz-security-token": "secret",
                "x-hotcore-id-token": "header.claims.signature",
            }
        },
    }
    (result,) = run(("lambda_invoke", "request", ctx))
    payload = result["value"]["payload"]
    assert payload["request"] == {"headers": {"x-hotcore-id-token": "header.claims.signature"}}


def test_lambda_response_turns_outcomes_into_graphql_results_and_errors(run: Any) -> None:
    accepted = {"outcome": "accepted", "commandId": "k", "streamId": "a", "version": 2}
    rejected = {
        "outcome": "rejected",
        "rule": "insufficient-funds",
        "message": "balance 5 is less than 9",
        "data": {"balance": 5, "amount": 9},
    }
    invalid = {"outcome": "invalid", "error": "BadRequest", "message": "input: expected object"}
    view = {"streamId": "a", "version": 2, "state": {"balance": "5"}}
    failed = {"message": "Task timed out", "type": "Lambda:Unhandled"}
    unavailable = {
        "outcome": "error",
        "error": "Unavailable",
        "message": "Throttled: the request can be sent again",
        "command_id": "k",
    }
    ok, no, bad, read, broken, busy = run(
        ("lambda_invoke", "response", {"result": accepted}),
        ("lambda_invoke", "response", {"result": rejected}),
        ("lambda_invoke", "response", {"result": invalid}),
        ("lambda_invoke", "response", {"result": view}),
        ("lambda_invoke", "response", {"result": None, "error": failed}),
        ("lambda_invoke", "response", {"result": unavailable}),
    )
    assert ok == {"value": accepted, "filters": []}
    assert no["error"] == {
        "message": "balance 5 is less than 9",
        "type": "insufficient-funds",
        "data": None,
        "info": {"rule": "insufficient-funds", "data": {"balance": 5, "amount": 9}},
    }
    assert bad["error"]["type"] == "BadRequest"
    assert bad["error"]["message"] == "input: expected object"
    assert read == {"value": view, "filters": []}
    assert broken["error"]["type"] == "Lambda:Unhandled"
    assert (busy["error"]["type"], busy["error"]["info"]) == ("Unavailable", {"commandId": "k"})


def test_publish_returns_its_arguments_without_the_actor_as_the_published_event(
    run: Any,
) -> None:
    detail = {"stream_id": "o-1", "version": 3, "actor": "user:ann via hotcore-storefront"}
    arguments = {
        "aggregate": "order",
        "streamId": "o-1",
        "version": 3,
        "type": "OrderPlaced",
        "detail": detail,
    }
    as_object, as_text = run(
        ("publish", "request", {"arguments": arguments}),
        ("publish", "request", {"arguments": {**arguments, "detail": json.dumps(detail)}}),
    )
    published = {**arguments, "detail": {"stream_id": "o-1", "version": 3}}
    assert as_object["value"] == {"payload": published}
    assert json.loads(as_text["value"]["payload"]["detail"]) == published["detail"]
    (response,) = run(("publish", "response", {"result": published}))
    assert response["value"] == published
    # the command's events (typed, as the publisher carried them) pass through, parsed
    events = [{"__typename": "OrderPlaced", "streamId": "o-1", "version": 3}]
    carried = {**arguments, "fromVersion": 3, "truncated": False, "events": json.dumps(events)}
    (with_events,) = run(("publish", "request", {"arguments": carried}))
    payload = with_events["value"]["payload"]
    assert (payload["fromVersion"], payload["truncated"], payload["events"]) == (3, False, events)


BACK_OFFICE = {"userArn": f"arn:aws:sts::123456789012:assumed-role/{BACK_OFFICE_ROLE}/i-1"}


ALLOWED = {"outcome": "allowed"}


def test_only_the_back_office_follows_every_stream_of_an_aggregate(run: Any) -> None:
    storefront = {"userArn": f"arn:aws:sts::123456789012:assumed-role/{STOREFRONT_ROLE}/i-1"}
    everything = {"arguments": {}, "info": {"fieldName": "onOrderEvent"}, "result": ALLOWED}
    refused, nobody, allowed, named = run(
        ("subscription", "response", {**everything, "identity": storefront}),
        ("subscription", "response", everything),
        ("subscription", "response", {**everything, "identity": BACK_OFFICE}),
        (
            "subscription",
            "response",
            {**everything, "identity": storefront, "arguments": {"streamId": "o-1"}},
        ),
    )
    assert refused["error"]["type"] == "Unauthorized"
    assert nobody["error"]["type"] == "Unauthorized"
    assert "filters" in allowed
    assert "filters" in named
    # the role the resolver lets through is the one the CDK app names
    assert f"'{BACK_OFFICE_ROLE}'" in (RESOLVERS / "subscription.js").read_text()


def test_a_subscription_starts_only_if_the_query_function_allows_it(run: Any) -> None:
    named = {"arguments": {"streamId": "acc-1"}, "info": {"fieldName": "onAccountEvent"}}
    forbidden = {
        "outcome": "rejected",
        "rule": "forbidden",
        "message": "only its owner may read an account",
        "data": {"policy": "account-owner", "subject": "c-2"},
    }
    no_token, bad, failed, silent, allowed = run(
        ("subscription", "response", {**named, "result": forbidden}),
        ("subscription", "response", {**named, "result": {"outcome": "invalid", "message": "x"}}),
        (
            "subscription",
            "response",
            {
                **named,
                "result": None,
                "error": {"message": "timed out", "type": "Lambda:Unhandled"},
            },
        ),
        ("subscription", "response", {**named, "result": {"streamId": "acc-1"}}),
        ("subscription", "response", {**named, "result": ALLOWED}),
    )
    assert no_token["error"]["type"] == "forbidden"
    assert no_token["error"]["info"] == {"rule": "forbidden", "data": forbidden["data"]}
    assert no_token.get("filters") is None  # refused: no filter, no subscription
    assert bad["error"]["type"] == "BadRequest"
    assert failed["error"]["type"] == "Lambda:Unhandled"
    assert silent["error"]["type"] == "Unauthorized"  # anything but "allowed" refuses
    assert len(allowed["filters"]) == 1


def test_the_subscription_request_is_what_the_query_function_decodes(run: Any) -> None:
    ctx = {
        "arguments": {"streamId": "acc-1", "idToken": "header.claims.signature"},
        "identity": IAM_IDENTITY,
        "info": {"fieldName": "onAccountEvent", "parentTypeName": "Subscription"},
        "request": {"headers": {"authorization": "AWS4-HMAC-SHA256 secret"}},
    }
    (result,) = run(("subscription", "request", ctx))
    request = result["value"]
    assert request["operation"] == "Invoke"
    payload = request["payload"]
    assert "request" not in payload  # no header reaches the function: the token is an argument
    resolver = AppSyncResolver(ACCOUNT)
    event = resolver.decode(payload)
    assert resolver.read(event) == SubscribeRead("acc-1")
    assert resolver.token(event) == "header.claims.signature"
    assert event.identity == IAM_IDENTITY


def test_subscription_filters_on_its_aggregate_and_the_given_stream(run: Any) -> None:
    one_stream, every_stream = run(
        (
            "subscription",
            "response",
            {
                "arguments": {"streamId": "acc-1"},
                "info": {"fieldName": "onAccountEvent"},
                "result": ALLOWED,
            },
        ),
        (
            "subscription",
            "response",
            {
                "arguments": {},
                "info": {"fieldName": "onOrderEvent"},
                "identity": BACK_OFFICE,
                "result": ALLOWED,
            },
        ),
    )
    assert one_stream["filters"] == [
        {
            "filterGroup": [
                {
                    "filters": [
                        {"fieldName": "aggregate", "operator": "eq", "value": "account"},
                        {"fieldName": "streamId", "operator": "eq", "value": "acc-1"},
                    ]
                }
            ]
        }
    ]
    assert every_stream["filters"] == [
        {
            "filterGroup": [
                {"filters": [{"fieldName": "aggregate", "operator": "eq", "value": "order"}]}
            ]
        }
    ]
    assert one_stream["value"] is None
