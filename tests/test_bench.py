"""The benchmark code at tiny sizes: every piece runs and is right, nothing is timed.

- histories from each aggregate's own decider, and their DynamoDB pages, checked
  against what the DynamoDB store writes and reads back through the emulator;
- every decode + fold implementation (boto3, pydantic, json, orjson, msgspec) folding
  the same pages to the same state; the append encoders writing the same items;
- the cost model's request units and arithmetic, the price file;
- import-time parsing, percentiles, the report's verdicts;
- real cold starts (one each) of the hello world, hotcore, the naive baseline and, when
  built, Rust, against the emulator; the pytest-benchmark suites in a single pass;
- ``hotcore bench fold`` for a built-in and a user's aggregate, with a profile.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from bench.throughput.implementations import (
    IMPLEMENTATIONS,
    decoded_events,
    hotcore_append,
    naive_append,
)
from hotcore.bench import coldstart, cost, report
from hotcore.bench.builds import BenchPaths, find_root
from hotcore.bench.fold import main as fold_main
from hotcore.bench.history import (
    CannotGenerate,
    dynamodb_pages,
    event_item,
    generate_history,
    parse_mix,
    read_pages,
    write_account_cases,
)
from hotcore.codec.query_page import page_decoder
from hotcore.contracts.account import AccountEvent, AccountState
from hotcore.contracts.common import Envelope
from hotcore.domain.account import ACCOUNT
from hotcore.domain.registry import aggregates
from hotcore.store.dynamodb import DynamoEventStore, item_size
from tests.support.fixtures import moto_server_fixture  # noqa: F401
from tests.support.moto_server import TEST_CREDENTIALS, TEST_REGION, MotoServer

ROOT = Path(__file__).resolve().parents[1]
PATHS = BenchPaths(ROOT)
RUST = PATHS.rust_release


# -- histories and pages ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["account", "inventory", "order", "customer"])
def test_a_generated_history_is_what_the_decider_accepted(name: str) -> None:
    aggregate = aggregates()[name]
    history = generate_history(aggregate, length=40, stream_id="s-1")
    assert [e.version for e in history.envelopes] == list(range(1, 41))
    assert {e.stream_id for e in history.envelopes} == {"s-1"}
    # folding the events gives the state the generator ended with
    events = [e.data for e in history.envelopes]
    assert aggregate.fold(aggregate.initial("s-1"), events) == history.state
    # and the same seed gives the same history
    again = generate_history(aggregate, length=40, stream_id="s-1")
    assert [e.data for e in again.envelopes] == events


def test_the_event_mix_steers_the_history() -> None:
    history = generate_history(ACCOUNT, length=200, mix={"Deposited": 1})
    counts = history.event_counts()
    assert counts["AccountOpened"] == 1  # the only way to a state that takes deposits
    assert counts["Deposited"] == 199
    # a long Account history never closes the account: that would end the stream
    assert "AccountClosed" not in generate_history(ACCOUNT, length=300).event_counts()


def test_mix_errors_name_the_problem() -> None:
    assert parse_mix("Deposited=3, Withdrawn=2") == {"Deposited": 3.0, "Withdrawn": 2.0}
    with pytest.raises(CannotGenerate, match="number"):
        parse_mix("Deposited=lots")
    with pytest.raises(CannotGenerate, match="no event types"):
        generate_history(ACCOUNT, length=5, mix={"Refunded": 1})
    with pytest.raises(CannotGenerate, match="at least one"):
        generate_history(ACCOUNT, length=0)


def test_pages_are_cut_at_the_limit_and_decode_back() -> None:
    history = generate_history(ACCOUNT, length=300)
    pages = dynamodb_pages(history.envelopes, limit_bytes=8 * 1024)
    decode = page_decoder(Envelope[AccountEvent]).decode_page  # type: ignore[valid-type]
    decoded = [decode(page) for page in pages]
    assert [e for page in decoded for e in page.items] == history.envelopes
    assert all(page.last_evaluated_key is not None for page in decoded[:-1])
    assert decoded[-1].last_evaluated_key is None
    for page in decoded[:-1]:
        sizes = [item_size(event_item(e)) for e in page.items]
        assert sum(sizes) >= 8 * 1024 > sum(sizes[:-1])


def test_pages_hold_the_items_the_store_writes(moto_server: MotoServer) -> None:
    from tests.support.moto_server import create_table

    client = moto_server.dynamodb()
    create_table(client, "bench-items", hash_key="stream_id", range_key="version")
    store: DynamoEventStore[Any, Any] = DynamoEventStore(
        client, "bench-items", "account", AccountEvent, AccountState
    )
    history = generate_history(ACCOUNT, length=12, stream_id="acct-9")
    for envelope in history.envelopes:
        store.append("acct-9", envelope.version - 1, [envelope], command_id=envelope.command_id)
    stored = client.query(
        {
            "TableName": "bench-items",
            "KeyConditionExpression": "stream_id = :s",
            "ExpressionAttributeValues": {":s": {"S": "acct-9"}},
            "ConsistentRead": True,
        }
    )["Items"]
    assert stored == [event_item(e) for e in history.envelopes]
    ours = msgspec.json.decode(dynamodb_pages(history.envelopes)[0])
    assert ours["Items"] == stored


# -- the throughput implementations ------------------------------------------------------


@pytest.fixture(scope="module")
def small_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[bytes], tuple[Any, ...]]:
    folder = tmp_path_factory.mktemp("cases")
    cases = write_account_cases(folder, {"small": 500}, page_limit=16 * 1024)
    case = cases["small"]
    assert case.pages > 1
    assert cases["first-page"].pages == 1
    return read_pages(folder / case.file), (case.status, case.owner_id, case.balance)


@pytest.mark.parametrize("name", list(IMPLEMENTATIONS))
def test_every_implementation_folds_to_the_same_state(
    name: str, small_case: tuple[list[bytes], tuple[Any, ...]]
) -> None:
    pages, expected = small_case
    implementation = IMPLEMENTATIONS[name]()
    if implementation is None:
        pytest.skip("hotcore is not a compiled build in this run")
    assert implementation(pages) == expected


def test_decoded_events_fold_like_the_stream(
    small_case: tuple[list[bytes], tuple[Any, ...]],
) -> None:
    pages, expected = small_case
    state = ACCOUNT.fold(AccountState(account_id="x"), decoded_events(pages))
    assert (state.status, state.owner_id, state.balance) == expected


def test_the_append_encoders_write_the_same_items() -> None:
    ours = json.loads(hotcore_append()())["TransactItems"]
    theirs = json.loads(naive_append()())["TransactItems"]
    assert [next(iter(a)) for a in ours] == ["Put", "Put", "ConditionCheck"]
    assert [next(iter(a)) for a in theirs] == ["Put", "Put", "ConditionCheck"]
    event, naive_event = ours[0]["Put"]["Item"], theirs[0]["Put"]["Item"]
    event.pop("timestamp"), naive_event.pop("timestamp")  # naive stamps "now"
    assert naive_event == event
    assert theirs[1]["Put"]["Item"] == ours[1]["Put"]["Item"]  # the command record
    assert theirs[2] == ours[2]


# -- the cost model ---------------------------------------------------------------------


def test_request_units_as_dynamodb_bills_them() -> None:
    assert cost.query_rru([]) == 1  # an empty strongly consistent Query still costs 1
    assert cost.query_rru([4096]) == 1
    assert cost.query_rru([4000, 97]) == 2  # summed over the page, then rounded up
    assert cost.transactional_wru(100) == 2
    assert cost.transactional_wru(1025) == 4
    units = cost.command_units([300] * 10, [250], 90)
    # snapshot Query 1 + events Query 1; event Put 2 + record Put 2 + ConditionCheck 2
    assert units == cost.Units(rru=2.0, wru=6.0, calls=3)
    assert cost.command_units([], [250], 90).wru == 4.0  # no previous event to check
    big = cost.query_units([400_000] * 5)  # two pages of 1 MB and the rest
    assert big.calls == 1 + 2
    assert big.rru == 1 + math.ceil(1_200_000 / 4096) + math.ceil(800_000 / 4096)


def test_cost_per_million_adds_up() -> None:
    prices = cost.load_prices(ROOT / "bench" / "prices.toml")
    units = cost.Units(rru=2.0, wru=6.0, calls=3)
    found = cost.cost_per_million(
        units, warm_cpu_ms=1.0, cold_cpu_ms=100.0, events_per_request=1, prices=prices
    )
    a = prices.assumptions
    stretch = a.full_vcpu_memory_mb / a.memory_mb
    warm = math.ceil(1.0 * stretch + 3 * a.dynamodb_request_ms)
    cold = math.ceil(100.0 * stretch + 3 * a.dynamodb_request_ms)
    billed = (1 - a.cold_start_share) * warm + a.cold_start_share * cold
    assert found.billed_ms == pytest.approx(billed)
    gb_s = billed / 1000 * a.memory_mb / 1024
    assert found.lambda_usd == pytest.approx(
        prices.lambda_.requests_per_million + gb_s * prices.lambda_.arm64_per_gb_second * 1e6
    )
    assert found.dynamodb_usd == pytest.approx(2 * 0.125 + 6 * 0.625)
    assert found.total_usd == pytest.approx(
        found.lambda_usd + found.dynamodb_usd + found.eventbridge_usd + found.appsync_usd
    )


def test_a_misspelt_price_is_an_error_naming_it(tmp_path: Path) -> None:
    text = (ROOT / "bench" / "prices.toml").read_text().replace("memory_mb", "memory_mib", 1)
    (tmp_path / "prices.toml").write_text(text)
    with pytest.raises(ValueError, match="memory"):
        cost.load_prices(tmp_path / "prices.toml")


# -- import times, statistics, the report ------------------------------------------------

IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       120 |        120 |   _io
import time:       300 |        900 | json
import time:       600 |        600 |   json.decoder
import time:        50 |         50 | hotcore
something the handler printed
"""


def test_importtime_lines_are_summed_per_module() -> None:
    own = coldstart.parse_importtime(IMPORTTIME)
    assert own == {"_io": 120, "json": 300, "json.decoder": 600, "hotcore": 50}
    profile = coldstart.import_profile(own, {"_io": 100})
    assert profile.modules == 3
    assert profile.total_ms == pytest.approx(0.95)
    assert profile.top[0] == ("json", pytest.approx(0.9))


def test_percentiles() -> None:
    values = [float(v) for v in range(1, 11)]
    assert coldstart.percentile(values, 50) == pytest.approx(5.5)
    assert coldstart.percentile(values, 90) == pytest.approx(9.1)
    assert coldstart.percentile([3.0], 90) == 3.0


def _synthetic_results(hotcore_ms: float, naive_ms: float) -> dict[str, Any]:
    """Results in the runner's shape with chosen numbers (to check the verdicts)."""
    cold_ms = {
        "hello-python": 40.0,
        "hello-rust": 5.0,
        "hotcore-compiled": hotcore_ms,
        "hotcore-pure": hotcore_ms + 5,
        "naive-python": naive_ms,
        "rust": 30.0,
    }
    summary: dict[str, Any] = {}
    warm: dict[str, Any] = {}
    for implementation, ms in cold_ms.items():
        kinds = ["hello"] if implementation.startswith("hello") else ["command", "query"]
        for kind in kinds:
            name = implementation if kind == "hello" else f"{implementation}/{kind}"
            summary[name] = {
                "total_median": ms,
                "total_p90": ms + 1,
                "init_median": ms / 2,
                "invoke_median": ms / 2,
                "cpu_median": ms,
                "rss_median": 20.0,
            }
            warm[name] = {"cpu_ms": 1.0, "duration_median_ms": 10.0}
    rows = [
        {
            "kind": "decode+fold",
            "implementation": i,
            "case": "first-page",
            "events": 1000,
            "seconds": s,
            "ns_per_event": s * 1e6,
            "mb_per_s": 1.0,
        }
        for i, s in [
            ("msgspec-compiled", 0.01),
            ("boto3", 0.3),
            ("rust-typed", 0.008),
            ("msgspec-pure", 0.012),
            ("naive", 0.4),
            ("rust-attribute-values", 0.02),
        ]
    ] + [
        {
            "kind": "fold-only",
            "implementation": i,
            "case": "first-page",
            "events": 1000,
            "seconds": s,
            "ns_per_event": s * 1e6,
            "mb_per_s": None,
        }
        for i, s in [("reducer-pure", 0.004), ("reducer-compiled", 0.001)]
    ]
    results: dict[str, Any] = {
        "cold": {n: [{"total_ms": v["total_median"]}] for n, v in summary.items()},
        "cold_summary": summary,
        "warm": warm,
        "imports": {"hotcore-compiled/command": {"modules": 10, "ms": 12.0, "top": []}},
        "throughput": {"rows": rows, "cases": {"first-page": {"events": 1000}}},
    }
    prices = cost.load_prices(ROOT / "bench" / "prices.toml")
    results["cost"] = report.cost_table(results, prices, seed_events=10)
    return results


def test_the_report_says_plainly_which_targets_are_met_and_missed() -> None:
    published = report.lambda_perf(PATHS)
    met = {t["target"]: t["met"] for t in report.targets(_synthetic_results(50, 500), published)}
    assert met["cold start vs naive Python (command)"] is True  # 0.10x
    assert met["1 MB page decode+fold vs boto3"] is True  # 30x
    assert met["1 MB page decode+fold vs Rust (serde, typed)"] is True  # 1.25x
    assert met["compiled reducer vs interpreted (fold only, first-page)"] is True  # 4x
    assert met["handler imports over the bare runtime (command, compiled)"] is True
    # projected: 80 + (50 - 40) = 90 ms against 14 + (30 - 5) = 39 ms
    assert met["Lambda projection vs Rust + aws-sdk (command)"] is False
    slow = report.targets(_synthetic_results(200, 500), published)
    assert {t["target"]: t["met"] for t in slow}["cold start vs naive Python (command)"] is False


def test_the_headline_table_puts_hotcore_at_one() -> None:
    table = report.headline_table(_synthetic_results(50, 500))
    lines = table.splitlines()
    assert lines[2].startswith("| hotcore (compiled) | 50.0 / 51.0 ms | 1.00x |")
    assert "| 10.00x |" in lines[4]  # naive: 500 ms against 50


# -- real runs, one of each --------------------------------------------------------------


def test_one_cold_start_of_each_implementation(moto_server: MotoServer) -> None:
    from hotcore.bench import run
    from tests.support import moto_server as support

    seeder = run.Seeder(moto_server, support, events=10, table="bench-smoke")
    view = run.hotcore_view(seeder)
    layers: dict[str, Any] = {"compiled": None, "pure": None}  # the checkout's own hotcore
    functions = run.functions(PATHS, layers, moto_server, seeder, view)
    wanted = ["hello-python", "hotcore-pure/command", "naive-python/command", "naive-python/query"]
    if (RUST / "account-command").is_file() and (RUST / "hello").is_file():
        wanted += ["hello-rust", "rust/command", "rust/query"]
    chosen = [f for f in functions if f.name in wanted]
    samples = coldstart.cold_starts(chosen, 1, credentials=TEST_CREDENTIALS, region=TEST_REGION)
    for name in wanted:
        (sample,) = samples[name]
        assert sample.total_ms >= sample.init_ms > 0
        assert sample.max_rss_mib > 0
    naive_query = next(f for f in functions if f.name == "naive-python/query")
    warm = coldstart.warm_invocations(
        naive_query, 2, credentials=TEST_CREDENTIALS, region=TEST_REGION
    )
    assert len(warm.durations_ms) == 2
    hotcore_command = next(f for f in functions if f.name == "hotcore-pure/command")
    (profile,) = coldstart.harness_importtime(
        hotcore_command, credentials=TEST_CREDENTIALS, region=TEST_REGION, runs=1
    )
    assert "hotcore.runtime.functions" in profile
    assert "boto3" not in profile
    assert "pydantic" not in profile


def test_the_throughput_suites_run_once_each() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("HOTCORE_BENCH_CASES", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "bench/throughput",
            "-q",
            "-p",
            "no:cacheprovider",
            "--benchmark-disable",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout


def test_find_root_is_this_checkout() -> None:
    assert find_root() == ROOT


# -- hotcore bench fold ------------------------------------------------------------------


def test_bench_fold_reports_decode_and_fold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = tmp_path / "fold.html"
    argv = ["account", "--events", "400", "--rounds", "2", "--in-process", "--json"]
    assert fold_main([*argv, "--mix", "Deposited=1,Withdrawn=1", "--profile", str(profile)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["events"] == 400
    assert set(result["event_counts"]) == {"AccountOpened", "Deposited", "Withdrawn"}
    assert result["builds"]["interpreted"]["fold_ns_per_event"] > 0
    assert "pyinstrument" in profile.read_text().lower()


def test_bench_fold_takes_a_users_aggregate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "my_ledger.py").write_text(
        "from hotcore.domain.inventory import INVENTORY as STOCK\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert fold_main(["my_ledger", "--events", "150", "--rounds", "1", "--in-process"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("inventory: 150 events")
    assert fold_main(["no_such_module_here", "--in-process"]) == 2
    assert "cannot import" in capsys.readouterr().err


def test_the_cli_reaches_bench_fold(capsys: pytest.CaptureFixture[str]) -> None:
    from hotcore.cli import main

    argv = ["bench", "fold", "customer", "--events", "120", "--rounds", "1", "--in-process"]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("customer: 120 events")
