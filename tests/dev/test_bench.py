"""The benchmark code at tiny sizes: every piece runs and is right, nothing is timed.

- histories from each aggregate's own decider, and their DynamoDB pages, checked
  against what the DynamoDB store writes and reads back through the emulator;
- every decode + fold implementation (boto3, pydantic, json, orjson, msgspec) folding
  the same pages to the same state; the append encoders writing the same items;
- import-time parsing, percentiles, the report's verdicts;
- real cold starts (one each) of the hello world, hotcore, the naive baseline and, when
  built, Rust, against the emulator; the pytest-benchmark suites in a single pass;
- ``hotcore bench fold`` for a built-in and a user's aggregate, with a profile.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from bench import coldstart, cost, report
from bench.builds import BenchPaths
from bench.throughput.implementations import (
    IMPLEMENTATIONS,
    decoded_events,
    hotcore_append,
    naive_append,
)
from hotcore.codec.events import EventItemPages, EventReader
from hotcore.contracts.account import AccountEvent, AccountState, Withdraw
from hotcore.domain.account import ACCOUNT
from hotcore.domain.registry import AGGREGATE_NAMES, aggregates
from hotcore.store.dynamodb import DynamoEventStore, item_size
from hotcore.store.fingerprint import fingerprint
from hotcore_dev.checkout import find_checkout
from hotcore_dev.emulator import TEST_CREDENTIALS, TEST_REGION, MotoServer
from hotcore_dev.fold import main as fold_main
from hotcore_dev.history import (
    CannotGenerate,
    dynamodb_pages,
    event_item,
    generate_history,
    page_loader,
    parse_mix,
    read_pages,
    write_account_cases,
)
from tests.support.cost_usage import QUERY_USAGE, usage_of
from tests.support.fixtures import moto_server_fixture  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
PATHS = BenchPaths(ROOT)
RUST = PATHS.rust_release


# -- histories and pages ----------------------------------------------------------------


@pytest.mark.parametrize("name", AGGREGATE_NAMES)
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
    pages = history.pages(limit_bytes=8 * 1024)
    assert pages == dynamodb_pages(history.envelopes, history.fingerprints, limit_bytes=8 * 1024)
    read = EventItemPages(EventReader(AccountEvent))
    decoded = [read.ascending(page, history.stream_id) for page in pages]
    assert [e for envelopes, _ in decoded for e in envelopes] == history.envelopes
    assert all(last_key is not None for _, last_key in decoded[:-1])
    assert decoded[-1][1] is None
    fingerprints = iter(history.fingerprints)
    for envelopes, _ in decoded[:-1]:
        sizes = [item_size(event_item(e, next(fingerprints))) for e in envelopes]
        assert sum(sizes) >= 8 * 1024 > sum(sizes[:-1])
    # what the store's load reads of each page: the same versions, commands and events
    load = page_loader(AccountEvent)
    loaded = [event for page in pages for event in load(page, history.stream_id)]
    assert [(e.version, e.command_id, e.data) for e in loaded] == [
        (e.version, e.command_id, e.data) for e in history.envelopes
    ]


def test_history_fingerprints_are_the_commands_decide_accepted() -> None:
    history = generate_history(ACCOUNT, length=30)
    assert len(history.fingerprints) == len(history.envelopes)
    assert all(len(f) == 32 and int(f, 16) >= 0 for f in history.fingerprints)
    # random commands: hardly two alike
    assert len(set(history.fingerprints)) > 20


def test_pages_hold_the_items_the_store_writes(moto_server: MotoServer) -> None:
    from hotcore_dev.emulator import create_table

    client = moto_server.dynamodb()
    create_table(client, "bench-items", hash_key="stream_id", range_key="version")
    store: DynamoEventStore[Any, Any] = DynamoEventStore(
        client, "bench-items", "account", AccountEvent, AccountState
    )
    history = generate_history(ACCOUNT, length=12, stream_id="acct-9")
    for envelope, command_fingerprint in zip(history.envelopes, history.fingerprints, strict=True):
        store.append(
            "acct-9",
            envelope.version - 1,
            [envelope],
            command_id=envelope.command_id,
            fingerprint=command_fingerprint,
        )
    stored = client.query(
        {
            "TableName": "bench-items",
            "KeyConditionExpression": "stream_id = :s",
            "ExpressionAttributeValues": {":s": {"S": "acct-9"}},
            "ConsistentRead": True,
        }
    )["Items"]
    assert stored == [
        event_item(e, f) for e, f in zip(history.envelopes, history.fingerprints, strict=True)
    ]
    ours = msgspec.json.decode(history.pages()[0])
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


@pytest.mark.parametrize(
    "name",
    list(IMPLEMENTATIONS),
)
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
    ours, theirs = json.loads(hotcore_append()()), json.loads(naive_append()())
    item, naive_item = ours.pop("Item"), theirs.pop("Item")
    assert theirs == ours  # table, condition, ALL_OLD
    envelope = json.loads(item.pop("e")["S"])
    naive_envelope = json.loads(naive_item.pop("e")["S"])
    envelope.pop("timestamp"), naive_envelope.pop("timestamp")  # naive stamps "now"
    assert naive_envelope == envelope
    assert list(naive_envelope) == list(envelope)  # the same field order, as published
    assert naive_item == item  # keys, type, the same fingerprint


def test_the_naive_baseline_fingerprints_and_names_snapshots_as_hotcore_does() -> None:
    from hotcore.store.codec import state_schema_hash

    ledger = _naive_ledger()
    assert state_schema_hash(AccountState) == ledger.STATE_SCHEMA_HASH
    command = ledger.Withdraw(account_id="a-1", amount=5)
    ours = Withdraw(account_id="a-1", amount=5)
    assert ledger.fingerprint(command) == fingerprint(ours)


def _naive_ledger() -> Any:
    from bench.throughput.implementations import _load_naive_ledger

    os.environ.setdefault("HOTCORE_TABLE", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return _load_naive_ledger()


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
        "throughput": {
            "rows": rows,
            "cases": {"first-page": {"events": 1000}},
            "reducers": {
                "order": {"events": 100_000, "speedup": 2.0},
                "customer": {"events": 100_000, "speedup": 3.1},
            },
            "publish": [
                {"implementation": "hotcore", "records": 100, "us_per_record": 2.0},
                {"implementation": "naive", "records": 100, "us_per_record": 8.0},
            ],
        },
    }
    prices = cost.load_prices(ROOT / "bench" / "prices.toml")
    measured = {"single-event": usage_of(), "query": usage_of(kind="query", **QUERY_USAGE)}
    results["cost"] = report.cost_table(results, prices, measured)
    return results


def test_the_report_says_plainly_which_targets_are_met_and_missed() -> None:
    published = report.lambda_perf(PATHS)
    met = {t["target"]: t["met"] for t in report.targets(_synthetic_results(50, 500), published)}
    assert met["cold start vs naive Python (command)"] is True  # 0.10x
    assert met["1 MB page decode+fold vs boto3"] is True  # 30x
    assert met["1 MB page decode+fold vs Rust (serde, typed)"] is False  # 1.25x > 1.0x
    assert met["compiled reducer vs interpreted (Account, fold only, first-page)"] is True  # 4x
    assert met["compiled reducer vs interpreted (order, fold only, 100000 events)"] is False
    assert met["compiled reducer vs interpreted (customer, fold only, 100000 events)"] is True
    publish = "Streams publisher per record (decode + PutEvents entry) vs naive"
    assert met[publish] is None  # reported, no goal
    texts = {t["target"]: t["text"] for t in report.targets(_synthetic_results(50, 500), published)}
    assert texts[publish] == "2.00 µs vs 8.00 µs (4.0x faster)"
    assert met["handler imports over the bare runtime (command, compiled)"] is True
    # projected: 80 + (50 - 40) = 90 ms against 14 + (30 - 5) = 39 ms
    assert met["Lambda projection vs Rust + aws-sdk (command)"] is False
    assert met["DynamoDB per single-event command (issue 19)"] is True  # 1.17 WRU + 1 read
    slow = report.targets(_synthetic_results(200, 500), published)
    assert {t["target"]: t["met"] for t in slow}["cold start vs naive Python (command)"] is False


def test_the_headline_table_puts_hotcore_at_one() -> None:
    table = report.headline_table(_synthetic_results(50, 500))
    lines = table.splitlines()
    assert lines[2].startswith("| hotcore (compiled) | 50.0 / 51.0 ms | 1.00x |")
    assert "| 10.00x |" in lines[4]  # naive: 500 ms against 50


# -- real runs, one of each --------------------------------------------------------------


def test_one_cold_start_of_each_implementation(
    moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    import shutil

    from bench import run
    from hotcore_dev import emulator as support
    from hotcore_dev.harness import ManagedRuntime, link_distributions

    seeder = run.Seeder(moto_server, support, events=10, table="bench-smoke")
    view = run.hotcore_view(seeder)
    # The checkout's own hotcore as the layer (/opt/python), with the exec wrapper beside it.
    opt = tmp_path_factory.mktemp("opt")
    (opt / "python").mkdir()
    (opt / "python" / "hotcore").symlink_to(ROOT / "src" / "hotcore")
    (opt / "python" / "msgspec").symlink_to(Path(msgspec.__file__).parent)
    shutil.copy2(ROOT / "src" / "hotcore" / "entrypoints" / "hotcore-bootstrap", opt)
    layers = {"compiled": opt / "python", "pure": opt / "python"}
    cache = tmp_path_factory.mktemp("cache")
    managed = ManagedRuntime.ensure(cache / "managed-runtime")
    naive_layer = link_distributions(run.NAIVE_REQUIREMENTS, cache / "naive-layer")
    # HTTPS functions are built but not run here (tests/service/test_aws_http.py runs TLS).
    endpoints = run.Endpoints(
        http=moto_server.endpoint, https="https://127.0.0.1:9", ca=cache / "unused-ca.pem"
    )
    functions = run.functions(PATHS, layers, endpoints, seeder, view, managed, naive_layer)
    wanted = [
        "hello-python",
        "hello-hotcore",
        "hotcore-pure/command",
        "hotcore-compiled-awslambdaric/query",
        "naive-python/command",
        "naive-python/query",
    ]
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
    assert "hotcore.entrypoints.command" in profile
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


def test_find_checkout_is_this_checkout() -> None:
    assert find_checkout() == ROOT


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
    from hotcore_dev.cli import main

    argv = ["bench", "fold", "customer", "--events", "120", "--rounds", "1", "--in-process"]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("customer: 120 events")


def test_bench_fold_checks_the_module_before_building_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert fold_main(["no_such_module_here", "--events", "10"]) == 2
    err = capsys.readouterr().err
    assert "cannot import 'no_such_module_here'" in err
    assert "fold: building" not in err  # nothing was built for a typo
    assert fold_main(["account", "--mix", "Nope=1"]) == 2
    assert "no event types ['Nope']" in capsys.readouterr().err


def test_bench_fold_in_process_finds_a_module_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cwd_ledger.py").write_text("from hotcore.domain.order import ORDER\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    assert fold_main(["cwd_ledger", "--events", "60", "--rounds", "1", "--in-process"]) == 0
    assert capsys.readouterr().out.startswith("order: 60 events")


def test_a_users_reducer_is_compiled_from_its_own_package_without_touching_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotcore_dev.fold import compile_user_reducer

    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    reducer = (ROOT / "src/hotcore/domain/account/reducer.py").read_text()
    (package / "ledger_reducer.py").write_text(reducer)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # the build cache lives under ~/.cache
    importlib.import_module("shop.ledger_reducer")
    notes: list[str] = []
    build = compile_user_reducer("shop.ledger_reducer", notes)
    assert notes == []
    assert build is not None
    assert list((build / "shop").glob("ledger_reducer.*.so"))
    assert not list(package.rglob("*.so"))  # the user's own tree is left as it was
    probe = "import shop.ledger_reducer as m; print(m.__file__)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(build), str(ROOT / "src")])}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert done.stdout.strip().endswith(".so"), done.stderr
    assert compile_user_reducer("shop.ledger_reducer", notes) == build  # cached by digest


# -- what makes a reducer compile well ----------------------------------------------------

_SLOW_STYLE = """
from hotcore.contracts.account import AccountState, Deposited

def fold(state, events):
    for event in events:
        if isinstance(event, Deposited):
            state = AccountState(account_id=state.account_id, balance=state.balance + 1)
        if type(event) is Deposited:
            pass
        match event:
            case Deposited(amount=amount):
                pass
    return state
"""


def test_the_advice_names_each_slow_construct_and_its_line() -> None:
    from hotcore_dev.reducer_advice import advise

    advice = advise(_SLOW_STYLE, "r.py", "AccountState")
    assert [line.split(": ", 1)[0] for line in advice] == [
        "r.py:4",
        "r.py:6",
        "r.py:7",
        "r.py:8",
        "r.py:11",
    ]
    assert "not fully annotated" in advice[0]
    assert "isinstance() on an event" in advice[1]
    assert "built inside the event loop" in advice[2]
    assert "_DEPOSITED: Final = Deposited" in advice[3]
    assert "match class pattern" in advice[4]


@pytest.mark.parametrize("name", ["account", "inventory", "order", "customer"])
def test_the_built_in_reducers_are_written_the_way_mypyc_compiles_best(name: str) -> None:
    from hotcore_dev.reducer_advice import advise_file

    aggregate = aggregates()[name]
    source = ROOT / "src" / "hotcore" / "domain" / name / "reducer.py"
    assert advise_file(source, aggregate.state_type.__name__) == []


def test_the_new_aggregate_template_reducer_is_written_that_way_too() -> None:
    from hotcore_dev.reducer_advice import advise_file

    template = ROOT / "src" / "hotcore_dev" / "templates" / "aggregate" / "reducer.py.tmpl"
    assert advise_file(template, "WidgetState") == []


def test_bench_fold_reports_the_advice_for_the_reducer(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["account", "--events", "100", "--rounds", "1", "--in-process", "--json"]
    assert fold_main(argv) == 0
    assert json.loads(capsys.readouterr().out)["advice"] == []
    assert fold_main(argv[:-1]) == 0
    assert "reducer style: exact-type dispatch" in capsys.readouterr().out
