"""The cost model: each command kind's measured requests, and how they are priced.

``bench.metered`` runs every kind against the emulator through the real Lambda entry
points, streams, publishers, delivery rules and the PlaceOrder state machine; these tests
hold each kind to the requests it makes (counts, never times), then check the pricing
arithmetic, the alternatives and issue 19's targets on known numbers.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import msgspec
import pytest

from bench import cost, metered, report
from hotcore.store.port import DEFAULT_SNAPSHOT_EVERY
from hotcore_dev.emulator import TEST_CREDENTIALS, TEST_REGION, MotoServer
from tests.support.cost_usage import usage_of
from tests.support.fixtures import moto_server_fixture  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
PRICES = cost.load_prices(ROOT / "bench" / "prices.toml")
_worlds = itertools.count(1)


@pytest.fixture(scope="module")
def measured(moto_server: MotoServer) -> tuple[metered.World, dict[str, Any]]:
    """Every kind measured once (quick repetitions) on tables of this module's own."""
    with metered.emulated_environment(
        moto_server.endpoint,
        TEST_REGION,
        TEST_CREDENTIALS.access_key,
        TEST_CREDENTIALS.secret_key,
    ):
        world = metered.World(moto_server, f"test-cost-{next(_worlds)}")
        found = metered.measure_all(world, quick=True)
    return world, {kind: msgspec.to_builtins(usage) for kind, usage in found.items()}


def publishes_for(world: metered.World, events: int) -> int:
    """One publish per command (issue 19.3): the command's last entry carries its events
    and only it matches the subscription rule, however many ``events`` it has."""
    return 1


def test_every_kind_is_measured(measured: tuple[metered.World, dict[str, Any]]) -> None:
    _, usage = measured
    assert list(usage) == [key for key, _ in metered.KINDS]
    for kind in usage.values():
        assert kind["repetitions"] >= 2


def test_a_single_event_command_is_one_strong_query_and_one_put_item(
    measured: tuple[metered.World, dict[str, Any]],
) -> None:
    world, usage = measured
    single = usage["single-event"]
    assert single["repetitions"] == DEFAULT_SNAPSHOT_EVERY  # a whole snapshot cycle
    assert single["dynamodb_requests"] == {"PutItem": 1.0, "Query": 1.0}
    assert single["strongly_consistent_reads"] == 1.0
    assert single["dynamodb_rru"] == 2.0  # the items back to the snapshot: 8 KB at most
    # 1 WRU per write, 3 for the one write of the cycle that carries the snapshot
    assert single["dynamodb_wru"] * DEFAULT_SNAPSHOT_EVERY == pytest.approx(
        DEFAULT_SNAPSHOT_EVERY - 1 + 3
    )
    lam = single["lambda"]
    assert set(lam) == {"command", "publisher"}
    assert lam["command"]["invocations"] == 1.0
    assert lam["command"]["triggers"] == {"appsync": 1.0}
    assert lam["command"]["dynamodb_requests"] == 2.0
    assert lam["publisher"]["invocations"] == 1.0
    assert lam["publisher"]["eventbridge_requests"] == 1.0
    assert single["eventbridge_entries"] == 1.0
    assert single["appsync_client_operations"] == 1.0
    assert single["appsync_publishes"] == publishes_for(world, 1)
    assert single["sfn_transitions"] == 0.0
    # issue 19's target: <= 2 WRU + 1 strongly consistent read (was 6 WRU + 2 reads)
    assert single["dynamodb_wru"] <= 2


def test_a_multi_event_command_is_one_transaction_of_its_events(
    measured: tuple[metered.World, dict[str, Any]],
) -> None:
    world, usage = measured
    multi = usage["multi-event"]
    assert multi["dynamodb_requests"] == {"Query": 1.0, "TransactWriteItems": 1.0}
    # 2 WRU per KB of each of the 3 event items; the snapshot's item is bigger once a cycle
    assert 6 <= multi["dynamodb_wru"] < 8
    assert multi["eventbridge_entries"] == 3.0
    assert multi["appsync_publishes"] == publishes_for(world, 3)
    assert multi["lambda"]["publisher"]["invocations"] == 1.0  # the 3 records in one batch


def test_a_guarded_command_is_one_transaction_with_its_guard_items(
    measured: tuple[metered.World, dict[str, Any]],
) -> None:
    _, usage = measured
    change = usage["guarded"]
    assert change["dynamodb_requests"] == {"Query": 1.0, "TransactWriteItems": 1.0}
    # the event, the new address's claim, the old one's release: 2 WRU each (+ a snapshot)
    assert 6 <= change["dynamodb_wru"] < 7
    assert change["strongly_consistent_reads"] == 1.0
    register = usage["guarded-register"]
    # registration (event + claim), Account opens the account, Customer links it
    assert register["dynamodb_requests"] == {
        "PutItem": 2.0,
        "Query": 3.0,
        "TransactWriteItems": 1.0,
    }
    assert register["dynamodb_wru"] == 4 + 1 + 1
    assert register["dynamodb_rru"] == 3.0  # three new or short streams: 1 RRU each
    assert register["lambda"]["events"]["invocations"] == 2.0
    assert register["lambda"]["publisher"]["invocations"] == 3.0
    assert register["eventbridge_entries"] == 3.0


def test_a_whole_place_order_and_its_charge_step(
    measured: tuple[metered.World, dict[str, Any]],
) -> None:
    world, usage = measured
    order = usage["place-order"]
    lam = order["lambda"]
    # the mutation, then the saga's tasks: reserve two lines, charge, confirm
    assert lam["command"]["invocations"] == 5.0
    assert lam["command"]["triggers"] == {"appsync": 1.0, "direct": 4.0}
    assert lam["events"]["invocations"] == 1.0  # the order records the payment
    # every command of the flow is a single event on a stream the function has read
    assert order["dynamodb_requests"] == {"PutItem": 6.0, "Query": 6.0}
    assert order["dynamodb_wru"] == 6.0
    assert order["eventbridge_entries"] == 6.0
    assert order["appsync_client_operations"] == 1.0
    assert order["appsync_publishes"] == 6.0  # one command per event here: either path
    assert order["sfn_executions"] == 1.0
    # the Map, per line Reserve + Reserved? + LineReserved, Charge + Charged?,
    # Confirm + Confirmed?, OrderPlaced
    assert order["sfn_transitions"] == 1 + 2 * 3 + 2 + 2 + 1
    step = usage["saga-step"]
    assert step["lambda"]["command"]["triggers"] == {"direct": 1.0}
    assert step["lambda"]["events"]["invocations"] == 1.0
    assert step["dynamodb_requests"] == {"PutItem": 2.0, "Query": 2.0}
    assert step["eventbridge_entries"] == 2.0  # Withdrawn, then PaymentRecorded
    assert step["appsync_client_operations"] == 0.0
    assert step["appsync_publishes"] == publishes_for(world, 1) * 2
    assert step["sfn_transitions"] == 2.0  # ChargeAccount and Charged?


def test_a_query_reads_once_strongly_consistent_or_at_half_the_units(
    measured: tuple[metered.World, dict[str, Any]],
) -> None:
    _, usage = measured
    strong, eventual = usage["query"], usage["query-eventual"]
    for query in (strong, eventual):
        assert query["dynamodb_requests"] == {"Query": 1.0}
        assert query["dynamodb_wru"] == 0.0
        assert set(query["lambda"]) == {"query"}
        assert query["appsync_client_operations"] == 1.0
        assert query["eventbridge_entries"] == 0.0
    assert strong["strongly_consistent_reads"] == 1.0
    assert strong["dynamodb_rru"] == 2.0
    assert eventual["strongly_consistent_reads"] == 0.0
    assert eventual["dynamodb_rru"] == 1.0


def test_a_batch_query_costs_per_instance_its_read_and_a_tenth_of_the_rest(
    measured: tuple[metered.World, dict[str, Any]],
) -> None:
    _, usage = measured
    batch, single = usage["batch-query"], usage["query"]
    share = 1 / metered.BATCH_IDS
    assert batch["dynamodb_requests"] == {"Query": pytest.approx(1.0)}  # one per instance
    assert batch["dynamodb_rru"] == pytest.approx(single["dynamodb_rru"])
    assert batch["strongly_consistent_reads"] == pytest.approx(1.0)
    assert batch["appsync_client_operations"] == pytest.approx(share)
    assert batch["lambda"]["query"]["invocations"] == pytest.approx(share)
    assert batch["lambda"]["query"]["dynamodb_requests"] == pytest.approx(metered.BATCH_IDS)
    prices = {
        k: cost.price_kind(u, PRICES, cpu={}, init_cpu={}).total_usd
        for k, u in usage.items()
        if "query" in k
    }
    assert prices["batch-query"] < prices["query"]


def test_every_invocation_logs_what_cloudwatch_would_ingest(
    measured: tuple[metered.World, dict[str, Any]],
) -> None:
    _, usage = measured
    command = usage["single-event"]["lambda"]["command"]
    # hotcore's INFO line and EMF record, then Lambda's START, END and REPORT
    assert command["info_log_bytes"] > 0
    assert command["log_bytes"] > command["info_log_bytes"] + sum(
        len(line) for line in metered.platform_log_lines(1.0)
    )
    assert usage["place-order"]["sfn_log_bytes"] > 0


# -- pricing ------------------------------------------------------------------------------


def lines_of(kind: cost.KindCost) -> dict[str, cost.Line]:
    return {line.service: line for line in kind.lines}


def test_each_line_is_priced_from_its_counts() -> None:
    priced = cost.price_kind(usage_of(), PRICES, cpu={}, init_cpu={})
    lines = lines_of(priced)
    a = PRICES.assumptions
    stretch = a.full_vcpu_memory_mb / a.memory_mb
    command_ms = math.ceil(2.0 * stretch + 2 * a.dynamodb_request_ms)
    publisher_ms = math.ceil(2.0 * stretch + 1 * a.eventbridge_request_ms)
    gb_s = (command_ms + publisher_ms) / 1000 * a.memory_mb / 1024
    assert lines["Lambda"].usd == pytest.approx(2 * 0.20 + gb_s * 0.0000133334 * 1e6)
    assert lines["DynamoDB"].usd == pytest.approx(2 * 0.125 + 14 / 12 * 0.625)
    assert lines["EventBridge"].usd == pytest.approx(1.00)
    # the mutation, the publish, the real-time message to one subscriber
    assert lines["AppSync"].usd == pytest.approx(4.00 + 4.00 + 2.00)
    assert lines["Step Functions"].usd == 0.0
    assert lines["CloudWatch Logs"].usd == pytest.approx(2000 / 1024**3 * 0.50 * 1e6)
    assert priced.total_usd == pytest.approx(sum(line.usd for line in priced.lines))


def test_the_benchmarks_warm_cpu_and_cold_starts_replace_the_in_process_cpu() -> None:
    usage = usage_of()
    plain = cost.price_kind(usage, PRICES, cpu={}, init_cpu={})
    slower = cost.price_kind(usage, PRICES, cpu={"command": 20.0}, init_cpu={"command": 100.0})
    a = PRICES.assumptions
    stretch = a.full_vcpu_memory_mb / a.memory_mb
    warm = math.ceil(20.0 * stretch + 2 * a.dynamodb_request_ms)
    cold = warm + math.ceil(100.0 * stretch)
    mean = (1 - a.cold_start_share) * warm + a.cold_start_share * cold
    before = math.ceil(2.0 * stretch + 2 * a.dynamodb_request_ms)
    delta = (mean - before) / 1000 * a.memory_mb / 1024 * 0.0000133334 * 1e6
    assert lines_of(slower)["Lambda"].usd - lines_of(plain)["Lambda"].usd == pytest.approx(delta)


def test_the_alternatives_are_cheaper_and_say_what_they_give_up() -> None:
    saga = usage_of(
        kind="place-order",
        sfn_executions=1.0,
        sfn_transitions=12.0,
        sfn_log_bytes=11_000.0,
        sfn_task_cpu_ms=[10.0],
        sfn_task_requests=[8.0],
    )
    priced = cost.price_kind(saga, PRICES, cpu={}, init_cpu={})
    lines = lines_of(priced)
    assert lines["Step Functions"].usd == pytest.approx(12 * 0.025 / 1000 * 1e6)
    # Express: a request and the tasks' billed time (ceil 100 ms) at 64 MB
    stretch = PRICES.assumptions.full_vcpu_memory_mb / PRICES.assumptions.memory_mb
    seconds = math.ceil(math.ceil(10 * stretch + 8 * 5.0) / 100) / 10
    express = 1.00 + seconds * 64 / 1024 * 0.00001667 * 1e6
    assert lines["Step Functions"].alternative_usd == pytest.approx(express)
    # AppSync Events for the publish and its delivery, an HTTP API for the mutation
    assert lines["AppSync"].alternative_usd == pytest.approx(1.00 + 1.00 + 1.00)
    # eventually consistent loads: half the strongly consistent read units
    assert lines["DynamoDB"].alternative_usd == pytest.approx(lines["DynamoDB"].usd - 1.0 * 0.125)
    # WARNING level: the INFO lines are not written
    logs = lines["CloudWatch Logs"]
    assert logs.alternative_usd == pytest.approx((800 + 11_000) / 1024**3 * 0.50 * 1e6)
    for line in priced.lines:
        if line.alternative_usd is not None:
            assert line.alternative_usd <= line.usd
            assert line.alternative
            assert line.trade_off
    assert priced.cheapest_usd < priced.total_usd
    # what options add: a SnapStart restore per cold start, one more subscriber's messages
    assert priced.snapstart_usd == pytest.approx(2 * 0.01 * 0.25 * 0.0001397998 * 1e6)
    assert priced.subscriber_usd == pytest.approx(2.00)
    assert priced.subscriber_events_api_usd == pytest.approx(1.00)


def test_the_targets_are_judged_at_the_basis_prices() -> None:
    results: dict[str, Any] = {}
    results["cost"] = report.cost_table(results, PRICES, {"single-event": usage_of()})
    t = results["cost"]["targets"]
    assert t["dynamodb_met"] is True
    assert t["limit_usd"] == pytest.approx(15.35 * 0.85)
    # the basis's lines: the command function, DynamoDB, EventBridge, AppSync
    like = t["like_for_like_usd"]
    full_lines = t["full_lines"]
    assert like < t["full_usd"]
    assert full_lines["CloudWatch Logs"] > 0
    rows = {row["target"]: row for row in report.cost_targets(results)}
    assert rows["DynamoDB per single-event command (issue 19)"]["met"] is True
    costly = usage_of(dynamodb_wru=6.0, strongly_consistent_reads=2.0, dynamodb_rru=2.0)
    results["cost"] = report.cost_table(results, PRICES, {"single-event": costly})
    assert results["cost"]["targets"]["dynamodb_met"] is False


def test_a_misspelt_price_is_an_error_naming_it(tmp_path: Path) -> None:
    text = (ROOT / "bench" / "prices.toml").read_text().replace("memory_mb", "memory_mib", 1)
    (tmp_path / "prices.toml").write_text(text)
    with pytest.raises(ValueError, match="memory"):
        cost.load_prices(tmp_path / "prices.toml")


def test_every_price_has_a_source_and_a_date() -> None:
    assert PRICES.date
    assert PRICES.basis.date
    for service in ("lambda", "dynamodb", "eventbridge", "appsync", "stepfunctions"):
        assert PRICES.sources[service].startswith("https://aws.amazon.com/")


def test_the_cost_section_shows_counts_dollars_and_alternatives() -> None:
    results: dict[str, Any] = {}
    results["cost"] = report.cost_table(results, PRICES, {"single-event": usage_of()})
    text = report.cost_section(results)
    assert "| single event | 1 PutItem, 1 Query | 2 (2) | 1.17 |" in text
    assert "AppSync Events for real-time" in text
    assert "SnapStart (adds)" in text
    assert "each further subscriber per stream" in text


def test_the_cost_step_alone_refreshes_the_committed_reports_cost_part() -> None:
    results: dict[str, Any] = {}
    results["cost"] = report.cost_table(results, PRICES, {"single-event": usage_of()})
    committed = (ROOT / "bench" / "REPORT.md").read_text()
    spliced = report.splice_cost(committed, results, "From the cost step alone.")
    assert spliced.count("## Cost model") == 1
    assert "From the cost step alone." in spliced
    assert spliced.count("| DynamoDB per single-event command (issue 19) |") == 1
    # the rest of the report is kept as it was
    assert spliced.split("## Targets")[0] == committed.split("## Targets")[0]
    assert (
        spliced.split("## What this does not show")[1]
        == committed.split("## What this does not show")[1]
    )
    # splicing again replaces, never duplicates
    again = report.splice_cost(spliced, results, "From the cost step alone.")
    assert again == spliced


def test_the_model_prices_the_deployments_memory_and_namespace() -> None:
    from infra.stacks import common

    assert metered.FUNCTION_MEMORY_MB == common.FUNCTION_MEMORY_MB
    assert PRICES.assumptions.memory_mb == common.FUNCTION_MEMORY_MB
    assert metered.METRICS_NAMESPACE == common.METRICS_NAMESPACE
