"""The Lambda functions in-process: AppSync, direct and EventBridge events, on a SQLite store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hotcore.runtime import snapstart
from hotcore.runtime.appsync import BadRequest
from hotcore.runtime.config import ConfigError, Settings
from hotcore.runtime.functions import CommandFunction, EventFunction, QueryFunction


def settings(tmp_path: Path, aggregate: str) -> Settings:
    return Settings.from_env(aggregate, {"HOTCORE_DB": str(tmp_path / "fn.db")})


def mutation(
    field: str, arguments: dict[str, Any], user: str = "arn:aws:iam::1:role/frontend"
) -> dict[str, Any]:
    return {
        "arguments": arguments,
        "identity": {"userArn": user, "accountId": "1"},
        "info": {"fieldName": field, "parentTypeName": "Mutation", "variables": {}},
        "request": {"headers": {}},
        "source": None,
        "prev": None,
        "stash": {},
    }


def query(field: str, arguments: dict[str, Any]) -> dict[str, Any]:
    event = mutation(field, arguments)
    event["info"]["parentTypeName"] = "Query"
    return event


@pytest.fixture(autouse=True)
def no_hooks() -> Any:
    yield
    snapstart.clear()


def test_mutations_become_commands_and_queries_read_the_state(tmp_path: Path) -> None:
    command = CommandFunction("account", settings(tmp_path, "account"))
    read = QueryFunction("account", settings(tmp_path, "account"))
    opened = command(
        mutation("openAccount", {"input": {"account_id": "a", "owner_id": "o"}, "command_id": "c1"})
    )
    assert opened == {
        "outcome": "accepted",
        "command_id": "c1",
        "stream_id": "a",
        "version": 1,
        "events": 1,
    }
    # GraphQL sends amounts as Float (its Int is 32-bit); integral values convert to int
    command(mutation("deposit", {"input": {"account_id": "a", "amount": 2500.0}}))
    view = read(query("getAccount", {"account_id": "a"}))
    assert view == {
        "stream_id": "a",
        "version": 2,
        "state": {"account_id": "a", "status": "open", "owner_id": "o", "balance": 2500},
    }


def test_a_rejection_is_a_typed_result_the_resolver_turns_into_a_graphql_error(
    tmp_path: Path,
) -> None:
    command = CommandFunction("account", settings(tmp_path, "account"))
    command(mutation("openAccount", {"input": {"account_id": "a", "owner_id": "o"}}))
    refused = command(mutation("withdraw", {"input": {"account_id": "a", "amount": 5}}))
    assert refused["outcome"] == "rejected"
    assert refused["rule"] == "insufficient-funds"
    assert refused["data"] == {"balance": 0, "amount": 5}


@pytest.mark.parametrize(
    ("field", "arguments", "message"),
    [
        ("teleport", {"input": {}}, "does not resolve Mutation.teleport"),
        ("deposit", {"input": {"account_id": "a", "amount": 1.5}}, "amount"),
        (
            "deposit",
            {"input": {"account_id": "a", "amount": 5, "bonus": 1}},
            "unknown field `bonus`",
        ),
        ("deposit", {"input": "five"}, "must be an object"),
        ("deposit", {"input": {"account_id": "a", "amount": 5}, "extra": 1}, "unknown arguments"),
        (
            "deposit",
            {"input": {"account_id": "a", "amount": 5, "reference": "x" * 70_000}},
            "limit",
        ),
    ],
)
def test_bad_input_is_a_bad_request_and_touches_no_store(
    tmp_path: Path, field: str, arguments: dict[str, Any], message: str
) -> None:
    command = CommandFunction("account", settings(tmp_path, "account"))
    result = command(mutation(field, arguments))
    assert result["outcome"] == "invalid"
    assert result["error"] == "BadRequest"
    assert message in result["message"]
    assert command.store.find_command("anything") is None
    assert list(command.store.load("a")) == []


def test_the_actor_is_the_callers_iam_identity(tmp_path: Path) -> None:
    command = CommandFunction("account", settings(tmp_path, "account"))
    command(
        mutation(
            "openAccount",
            {"input": {"account_id": "a", "owner_id": "o"}},
            user="arn:aws:sts::1:assumed-role/web/x",
        )
    )
    (event,) = next(command.store.load("a"))
    assert event.actor == "arn:aws:sts::1:assumed-role/web/x"


def test_batch_invoke_answers_each_event_in_order(tmp_path: Path) -> None:
    command = CommandFunction("inventory", settings(tmp_path, "inventory"))
    results = command(
        [
            mutation("addStock", {"input": {"sku": "s", "quantity": 2}}),
            mutation("reserveStock", {"input": {"sku": "s", "order_id": "o", "quantity": 3}}),
        ]
    )
    assert [r["outcome"] for r in results] == ["accepted", "rejected"]


def test_direct_invocation_from_step_functions(tmp_path: Path) -> None:
    command = CommandFunction("order", settings(tmp_path, "order"))
    result = command(
        {
            "command_id": "saga:1:confirm",
            "command": {"type": "ConfirmOrder", "order_id": "nope"},
            "actor": "saga:place-order",
        }
    )
    assert result["outcome"] == "rejected"
    assert result["rule"] == "order-not-found"
    with pytest.raises(BadRequest):
        command({"unexpected": True})


def test_the_event_function_reacts_once_per_event(tmp_path: Path) -> None:
    react = EventFunction("account", settings(tmp_path, "account"))
    detail = {
        "stream_id": "cust-1",
        "version": 1,
        "type": "CustomerRegistered",
        "data": {"type": "CustomerRegistered", "email": "a@b.io", "name": "A"},
        "command_id": "c",
        "correlation_id": "corr",
        "causation_id": None,
        "timestamp": "2026-01-01T00:00:00Z",
        "actor": "x",
    }
    event = {"source": "hotcore.customer", "detail-type": "CustomerRegistered", "detail": detail}
    first = react(event)
    again = react(json.loads(json.dumps(event)))  # EventBridge delivers at least once
    assert first == again
    assert [e.version for page in react.store.load("cust-1") for e in page] == [1]
    with pytest.raises(BadRequest):
        react({"not": "an EventBridge event"})


def test_settings_fail_the_init_with_the_variable_named() -> None:
    with pytest.raises(ConfigError, match="HOTCORE_TABLE"):
        Settings.from_env("account", {})
    with pytest.raises(ConfigError, match="HOTCORE_SNAPSHOT_EVERY"):
        Settings.from_env("account", {"HOTCORE_DB": "x", "HOTCORE_SNAPSHOT_EVERY": "0"})
    with pytest.raises(ConfigError, match="AWS_REGION"):
        Settings.from_env("account", {"HOTCORE_TABLE": "t"})
    with pytest.raises(ConfigError, match="serves 'account'"):
        Settings.from_env("account", {"HOTCORE_DB": "x", "HOTCORE_AGGREGATE": "order"})


def test_a_simulated_snapstart_restore_reseeds_and_counts_a_new_cold_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import random

    command = CommandFunction("account", settings(tmp_path, "account"))
    command(mutation("openAccount", {"input": {"account_id": "a", "owner_id": "o"}}))
    snapstart.before_snapshot_hooks()
    random.seed(1234)
    before = random.random()
    random.seed(1234)
    snapstart.after_restore_hooks()
    assert random.random() != before  # every restored copy draws its own randomness
    assert command.cold
    command(mutation("deposit", {"input": {"account_id": "a", "amount": 1}}))
    cold_starts = [line for line in capsys.readouterr().out.splitlines() if '"ColdStart"' in line]
    assert len(cold_starts) == 2
    emf = json.loads(cold_starts[0])
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "hotcore"
