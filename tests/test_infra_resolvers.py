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
from hotcore.runtime.appsync import AppSyncResolver

RESOLVERS = Path(__file__).resolve().parent.parent / "infra" / "resolvers"
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
        (root / f"{source.stem}.mjs").write_text(source.read_text())
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
        "arguments": {"input": {"account_id": "acc-1", "owner_id": "c-1"}, "command_id": "k-1"},
        "identity": IAM_IDENTITY,
        "info": {
            "fieldName": "openAccount",
            "parentTypeName": "Mutation",
            "variables": {},
            "selectionSetList": ["command_id"],
        },
        "request": {"headers": {"authorization": "AWS4-HMAC-SHA256 secret"}},
    }
    (result,) = run(("lambda_invoke", "request", ctx))
    request = result["value"]
    assert request["operation"] == "Invoke"
    payload = request["payload"]
    assert "request" not in payload  # headers (signatures) are not sent to the function

    resolver = AppSyncResolver(ACCOUNT)
    command, command_id = resolver.command(resolver.decode(payload))
    assert command == OpenAccount(account_id="acc-1", owner_id="c-1")
    assert command_id == "k-1"


def test_lambda_response_turns_outcomes_into_graphql_results_and_errors(run: Any) -> None:
    accepted = {"outcome": "accepted", "command_id": "k", "stream_id": "a", "version": 2}
    rejected = {
        "outcome": "rejected",
        "rule": "insufficient-funds",
        "message": "balance 5 is less than 9",
        "data": {"balance": 5, "amount": 9},
    }
    invalid = {"outcome": "invalid", "error": "BadRequest", "message": "input: expected object"}
    view = {"stream_id": "a", "version": 2, "state": {"balance": 5}}
    failed = {"message": "Task timed out", "type": "Lambda:Unhandled"}
    ok, no, bad, read, broken = run(
        ("lambda_invoke", "response", {"result": accepted}),
        ("lambda_invoke", "response", {"result": rejected}),
        ("lambda_invoke", "response", {"result": invalid}),
        ("lambda_invoke", "response", {"result": view}),
        ("lambda_invoke", "response", {"result": None, "error": failed}),
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


def test_publish_returns_its_arguments_as_the_published_event(run: Any) -> None:
    arguments = {
        "aggregate": "order",
        "stream_id": "o-1",
        "version": 3,
        "type": "OrderPlaced",
        "detail": {"stream_id": "o-1", "version": 3},
    }
    (request,) = run(("publish", "request", {"arguments": arguments}))
    assert request["value"] == {"payload": arguments}
    (response,) = run(("publish", "response", {"result": arguments}))
    assert response["value"] == arguments


def test_subscription_filters_on_its_aggregate_and_the_given_stream(run: Any) -> None:
    one_stream, every_stream = run(
        (
            "subscription",
            "response",
            {"arguments": {"stream_id": "acc-1"}, "info": {"fieldName": "onAccountEvent"}},
        ),
        ("subscription", "response", {"arguments": {}, "info": {"fieldName": "onOrderEvent"}}),
    )
    assert one_stream["filters"] == [
        {
            "filterGroup": [
                {
                    "filters": [
                        {"fieldName": "aggregate", "operator": "eq", "value": "account"},
                        {"fieldName": "stream_id", "operator": "eq", "value": "acc-1"},
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
