"""The Lambda functions in-process: AppSync, direct and EventBridge events, on a SQLite store."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from hotcore.aws.errors import Throttled
from hotcore.entrypoints import snapstart
from hotcore.entrypoints.appsync import BadRequest
from hotcore.entrypoints.command import CommandFunction
from hotcore.entrypoints.events import EventFunction
from hotcore.entrypoints.query import QueryFunction
from hotcore.entrypoints.settings import ConfigError, Settings
from tests.support.identity import issuer, signed


def settings(tmp_path: Path, aggregate: str) -> Settings:
    return Settings.from_env(aggregate, {"HOTCORE_DB": str(tmp_path / "fn.db"), **issuer().env()})


def mutation(
    field: str,
    arguments: dict[str, Any],
    user: str = "arn:aws:iam::1:role/frontend",
    *,
    as_user: str = "o",
    groups: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A mutation a front-end server sends for end user ``as_user`` (the owner ``o``)."""
    event = {
        "arguments": arguments,
        "identity": {"userArn": user, "accountId": "1"},
        "info": {"fieldName": field, "parentTypeName": "Mutation", "variables": {}},
        "request": {"headers": {}},
        "source": None,
        "prev": None,
        "stash": {},
    }
    return signed(event, as_user, *groups)


def open_account(command: CommandFunction, account_id: str, command_id: str = "") -> Any:
    """Accounts are opened by Account's event handler: a direct, system invocation."""
    return command(
        {
            "command": {"type": "OpenAccount", "account_id": account_id, "owner_id": "o"},
            "actor": "hotcore.account.events",
            **({"command_id": command_id} if command_id else {}),
        }
    )


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
    opened = open_account(command, "a", "c1")
    assert opened == {
        "outcome": "accepted",
        "command_id": "c1",
        "stream_id": "a",
        "version": 1,
        "events": 1,
    }
    # GraphQL's Int is 32-bit: amounts travel as exact decimal strings
    command(mutation("deposit", {"input": {"accountId": "a", "amount": "2500"}}))
    view = read(query("getAccount", {"accountId": "a"}))
    assert view == {
        "streamId": "a",
        "version": 2,
        "state": {"accountId": "a", "status": "OPEN", "ownerId": "o", "balance": "2500"},
    }
    # the read is the end user's: the owner reads, anyone else is refused, typed
    owner = signed(query("getAccount", {"accountId": "a"}), "o")
    assert read(owner)["state"]["ownerId"] == "o"
    refused = read(query("getAccount", {"accountId": "nobody"}))
    assert (refused["outcome"], refused["rule"]) == ("rejected", "forbidden")
    staff = signed(query("getAccount", {"accountId": "nobody"}), "eve", "back-office")
    assert read(staff) is None  # back office reads every account: this one has no event


def test_a_command_id_reused_for_another_command_is_refused_through_appsync_and_direct(
    tmp_path: Path,
) -> None:
    command = CommandFunction("account", settings(tmp_path, "account"))
    open_account(command, "a")
    deposit = {"input": {"accountId": "a", "amount": "100"}, "commandId": "d-1"}
    first = command(mutation("deposit", deposit))
    assert (first["outcome"], first["version"]) == ("accepted", 2)
    assert command(mutation("deposit", deposit)) == first  # a re-send: the first outcome
    other = {"input": {"accountId": "a", "amount": "999"}, "commandId": "d-1"}
    refused = command(mutation("deposit", other))
    assert refused == {
        "outcome": "rejected",
        "rule": "command-id-reused",
        "message": refused["message"],
        "data": {"command_id": "d-1", "stream_id": "a", "version": 2},
    }
    direct = command(
        {"command": {"type": "Deposit", "account_id": "a", "amount": 5}, "command_id": "d-1"}
    )
    assert (direct["outcome"], direct["rule"]) == ("rejected", "command-id-reused")
    # the id is the stream's: on another stream it is another command
    opened = open_account(command, "a2", "d-1")
    assert (opened["outcome"], opened["stream_id"], opened["version"]) == ("accepted", "a2", 1)
    balance = QueryFunction("account", settings(tmp_path, "account"))(
        query("getAccount", {"accountId": "a"})
    )["state"]["balance"]
    assert balance == "100"


def test_a_rejection_is_a_typed_result_the_resolver_turns_into_a_graphql_error(
    tmp_path: Path,
) -> None:
    command = CommandFunction("account", settings(tmp_path, "account"))
    open_account(command, "a")
    refused = command(mutation("withdraw", {"input": {"accountId": "a", "amount": "5"}}))
    assert refused["outcome"] == "rejected"
    assert refused["rule"] == "insufficient-funds"
    assert refused["data"] == {"balance": 0, "amount": 5}


@pytest.mark.parametrize(
    ("field", "arguments", "message"),
    [
        ("teleport", {"input": {}}, "does not resolve Mutation.teleport"),
        ("deposit", {"input": {"accountId": "a", "amount": "1.5"}}, "amount"),
        ("deposit", {"input": {"account_id": "a", "amount": "5"}}, "unknown field `account_id`"),
        (
            "deposit",
            {"input": {"accountId": "a", "amount": "5", "bonus": 1}},
            "unknown field `bonus`",
        ),
        ("deposit", {"input": "five"}, "must be an object"),
        ("deposit", {"input": {"accountId": "a", "amount": "5"}, "extra": 1}, "unknown arguments"),
        (
            "deposit",
            {"input": {"accountId": "a", "amount": "5", "reference": "x" * 70_000}},
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
    assert command.store.load_latest("a", command_id="anything").command is None
    assert list(command.store.load("a")) == []


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        # the command id is decoded as the Ref the stored envelope declares
        ({"commandId": "has space"}, "commandId: Expected `str` matching regex"),
        ({"commandId": "k" * 3000}, "commandId: Expected `str` of length <= 256"),
        ({"commandId": 7}, "commandId: Expected `str`"),
        # values with no JSON form are refused by the size check itself
        ({"input": {"accountId": "a", "amount": "5", "reference": nested(50_000)}}, "nested"),
        ({"input": {"accountId": "a", "amount": "5", "reference": "\ud800"}}, "not Unicode text"),
    ],
)
def test_ids_and_values_no_contract_accepts_are_bad_requests_and_leave_no_event(
    tmp_path: Path, arguments: dict[str, Any], message: str
) -> None:
    command = CommandFunction("account", settings(tmp_path, "account"))
    open_account(command, "a")
    result = command(mutation("deposit", {"input": {"accountId": "a", "amount": "5"}, **arguments}))
    assert (result["outcome"], result["error"]) == ("invalid", "BadRequest")
    assert message in result["message"]
    assert len(next(command.store.load("a"))) == 1  # the opening only
    # the stream is not poisoned: it takes deposits and reads normally afterwards
    deposit = mutation("deposit", {"input": {"accountId": "a", "amount": "5"}})
    assert command(deposit)["outcome"] == "accepted"
    view = QueryFunction("account", settings(tmp_path, "account"))(
        query("getAccount", {"accountId": "a"})
    )
    assert view["version"] == 2


@pytest.mark.parametrize("value", [nested(50_000), "\udfff", {"accountId": object()}])
def test_a_query_with_arguments_no_contract_accepts_is_a_bad_request(
    tmp_path: Path, value: Any
) -> None:
    read = QueryFunction("account", settings(tmp_path, "account"))
    result = read(query("getAccount", {"accountId": value}))
    assert (result["outcome"], result["error"]) == ("invalid", "BadRequest")


def test_batch_invoke_isolates_each_item_and_says_which_to_send_again(tmp_path: Path) -> None:
    command = CommandFunction("account", settings(tmp_path, "account"))
    for account in "abc":
        open_account(command, account)
    real_load = command.store.load_latest

    def throttled_on_b(stream_id: str, **kwargs: Any) -> Any:
        if stream_id == "b":
            raise Throttled("ThrottlingException", "slow down", 400)
        return real_load(stream_id, **kwargs)

    command.store.load_latest = throttled_on_b  # type: ignore[method-assign]
    results = command(
        [
            mutation("deposit", {"input": {"accountId": "a", "amount": "5"}}),
            mutation("deposit", {"input": {"accountId": "b", "amount": "5"}, "commandId": "k-b"}),
            "not an event",
            mutation("deposit", {"input": {"accountId": "c", "amount": "5"}}),
        ]
    )
    assert [r["outcome"] for r in results] == ["accepted", "error", "invalid", "accepted"]
    assert (results[1]["error"], results[1]["command_id"]) == ("Unavailable", "k-b")
    command.store.load_latest = real_load  # type: ignore[method-assign]
    # sent again under its id once the store answers: applied once, the others untouched
    again = command(
        mutation("deposit", {"input": {"accountId": "b", "amount": "5"}, "commandId": "k-b"})
    )
    assert (again["outcome"], again["version"]) == ("accepted", 2)
    assert [len(next(command.store.load(s))) for s in "abc"] == [2, 2, 2]


def test_a_query_on_a_stream_whose_stored_event_no_longer_decodes_is_a_typed_error(
    tmp_path: Path,
) -> None:
    command = CommandFunction("account", settings(tmp_path, "account"))
    open_account(command, "a")
    with sqlite3.connect(tmp_path / "fn.db") as db:  # as a hand edit or a bad deploy would
        db.execute("DROP TRIGGER events_append_only_update")
        db.execute("UPDATE events SET body = ? WHERE stream_id = 'a'", (b'{"version": "one"}',))
    read = QueryFunction("account", settings(tmp_path, "account"))
    (result,) = read([query("getAccount", {"accountId": "a"})])
    assert (result["outcome"], result["error"]) == ("error", "StreamUnreadable")
    assert result["message"].startswith("stored event a@1 does not decode")
    failed = command(mutation("deposit", {"input": {"accountId": "a", "amount": "1"}}))
    assert (failed["outcome"], failed["error"]) == ("error", "StreamUnreadable")


def test_the_actor_is_the_end_user_and_the_calling_servers_role(tmp_path: Path) -> None:
    command = CommandFunction("account", settings(tmp_path, "account"))
    open_account(command, "a")
    command(
        mutation(
            "deposit",
            {"input": {"accountId": "a", "amount": "5"}},
            user="arn:aws:sts::1:assumed-role/web/x",
        )
    )
    opened, deposited = next(command.store.load("a"))
    assert (opened.actor, deposited.actor) == ("hotcore.account.events", "user:o via web")


def test_batch_invoke_answers_each_event_in_order(tmp_path: Path) -> None:
    command = CommandFunction("inventory", settings(tmp_path, "inventory"))
    results = command(
        [
            mutation("addStock", {"input": {"sku": "s", "quantity": 2}}, groups=("back-office",)),
            mutation("addStock", {"input": {"sku": "s", "quantity": 3}}),
        ]
    )
    assert [r["outcome"] for r in results] == ["accepted", "rejected"]
    assert results[1]["rule"] == "forbidden"


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
    # neither a direct request nor an AppSync event: a typed answer, nothing raised
    assert command({"unexpected": True})["error"] == "BadRequest"
    invalid = command({"command": {"type": "ConfirmOrder", "order_id": "has space"}})
    assert (invalid["outcome"], invalid["error"]) == ("invalid", "InvalidRequest")


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
    open_account(command, "a")
    snapstart.before_snapshot_hooks()
    random.seed(1234)
    before = random.random()
    random.seed(1234)
    snapstart.after_restore_hooks()
    assert random.random() != before  # every restored copy draws its own randomness
    assert command.cold
    command(mutation("deposit", {"input": {"accountId": "a", "amount": "1"}}))
    cold_starts = [line for line in capsys.readouterr().out.splitlines() if '"ColdStart"' in line]
    assert len(cold_starts) == 2
    emf = json.loads(cold_starts[0])
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "hotcore"


def test_another_user_resending_a_command_id_is_refused_not_answered(tmp_path: Path) -> None:
    command = CommandFunction("account", settings(tmp_path, "account"))
    open_account(command, "a")
    deposit = {"input": {"accountId": "a", "amount": "5"}, "commandId": "d-1"}
    first = command(mutation("deposit", deposit))
    assert command(mutation("deposit", deposit)) == first  # the owner's re-send
    replayed = command(mutation("deposit", deposit, as_user="mallory"))
    assert (replayed["outcome"], replayed["rule"]) == ("rejected", "forbidden")
    assert "version" not in replayed["data"]
