"""``hotcore bench`` (and ``make bench``): every measurement, then REPORT.md, charts and JSON.

The steps, each shown on the progress line while it runs:

1. builds: the compiled wheel and layer, the pure layer, the Rust release binaries;
2. throughput: Account streams written as Query pages, the pytest-benchmark suites in
   ``bench/throughput`` run against the compiled build, ``fold-bench`` on the same files;
3. emulator: moto on 127.0.0.1 with one table; every measured command gets its own
   stream holding the same seeded history;
4. cold starts: every function, interleaved, ``runs`` times, answers checked; Python
   functions start as the managed runtime starts them (no venv packages), under
   awslambdaric and under hotcore's bootstrap (the layer's exec wrapper), over plain
   HTTP and over HTTPS (a TLS terminator with a test CA in front of the emulator);
5. warm invocations (for the cost model) and ``-X importtime`` of every Python handler,
   of each Powertools piece on its own, and each Account handler's import over an
   interpreter that imported msgspec alone;
6. the cost model, then the report.

Only ratios within one run mean anything on a shared machine; the report says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bench import coldstart, cost, token_verify
from bench.builds import (
    BenchPaths,
    build_rust,
    compiled_layer,
    compiled_site,
    exec_wrapper,
    pure_layer,
)
from hotcore.domain.registry import AGGREGATE_NAMES
from hotcore.entrypoints.identity import TOKEN_HEADER
from hotcore_dev.checkout import find_checkout
from hotcore_dev.harness import ManagedRuntime, link_distributions
from hotcore_dev.history import Case, generate_history, write_account_cases
from hotcore_dev.issuer import LocalIssuer

__all__ = ["BenchSettings", "Progress", "run_bench"]

#: The Powertools pieces a typical handler imports, and hotcore's own replacement.
IMPORT_PIECES: dict[str, str] = {
    "Powertools Logger": "from aws_lambda_powertools import Logger",
    "Powertools Metrics": "from aws_lambda_powertools import Metrics",
    "Powertools Tracer": "from aws_lambda_powertools import Tracer",
    "Powertools parser": "from aws_lambda_powertools.utilities.parser import parse, BaseModel",
    "Powertools AppSyncResolver": "from aws_lambda_powertools.event_handler import AppSyncResolver",
    "boto3": "import boto3",
    "pydantic": "import pydantic",
    "hotcore logs + EMF (runtime.observability)": "import hotcore.entrypoints.observability",
    "hotcore DynamoDB store": "import hotcore.store.dynamodb",
}


@dataclass(frozen=True)
class BenchSettings:
    quick: bool = False
    runs: int = 30
    warm: int = 40
    importtime_runs: int = 5
    rounds: int = 5
    lengths: tuple[tuple[str, int], ...] = (("10k", 10_000), ("100k", 100_000))
    seed_events: int = 10

    @classmethod
    def for_mode(cls, quick: bool) -> BenchSettings:
        if quick:
            return cls(
                quick=True, runs=6, warm=10, importtime_runs=1, rounds=3, lengths=(("10k", 10_000),)
            )
        return cls()


class Progress:
    """One status line: elapsed time, step, detail. Redrawn in place on a terminal."""

    def __init__(self, steps: int, stream: TextIO = sys.stderr) -> None:
        self.steps = steps
        self.step = 0
        self.title = ""
        self.stream = stream
        self.started = time.monotonic()
        self.tty = stream.isatty()
        self._last_plain = 0.0

    def begin(self, title: str) -> None:
        self.step += 1
        self.title = title
        self._show("", force=True)

    def __call__(self, detail: str, *, keep: bool = False) -> None:
        """``keep``: a step that may take minutes; its line stays whole (with its log path)."""
        self._show(detail, force=keep, keep=keep)

    def _show(self, detail: str, force: bool = False, keep: bool = False) -> None:
        elapsed = time.monotonic() - self.started
        line = f"[{elapsed:6.1f}s] {self.step}/{self.steps} {self.title}"
        if detail:
            line += f": {detail}"
        if self.tty:
            self.stream.write("\r\033[K" + (line + "\n" if keep else line[:160]))
        elif force or elapsed - self._last_plain >= 5:
            # not a terminal (make, CI logs): a line at each step and every 5 s at most
            self._last_plain = elapsed
            self.stream.write(line + "\n")
        self.stream.flush()

    def done(self) -> None:
        if self.tty:
            self.stream.write("\n")
        self.stream.write(f"done in {time.monotonic() - self.started:.0f} s\n")
        self.stream.flush()


# -- step 2: throughput -------------------------------------------------------------------


def throughput(
    paths: BenchPaths, site: Path, settings: BenchSettings, progress: Progress
) -> dict[str, Any]:
    """The pytest-benchmark suites against the compiled build, and fold-bench on the same bytes."""
    folder = paths.cache / ("cases-quick" if settings.quick else "cases")
    progress("writing the Account streams as Query pages")
    cases = write_account_cases(folder, dict(settings.lengths))
    out = paths.results / "throughput-pytest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), str(paths.root)]))
    env["HOTCORE_BENCH_CASES"] = str(folder)
    env["HOTCORE_BENCH_ROUNDS"] = str(settings.rounds)
    # Rust is timed before and after the Python suites and keeps its faster run: on a
    # shared machine the load changes over minutes, and the ratio should not favour us.
    rust_before = {
        (case.name, decoder): _fold_bench(paths, folder, case, decoder, settings.rounds)
        for case in cases.values()
        for decoder in ("typed", "attribute-values")
    }
    progress("pytest-benchmark suites (bench/throughput)")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(paths.bench / "throughput"),
            "-q",
            "-p",
            "no:cacheprovider",
            f"--benchmark-json={out}",
            "--benchmark-disable-gc",
            "--benchmark-max-time=0.5",
        ],
        cwd=paths.root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    (paths.results / "throughput-pytest.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"the throughput suites failed:\n{done.stdout[-4000:]}{done.stderr}")
    raw = json.loads(out.read_text())
    rows: list[dict[str, Any]] = []
    append_rows: list[dict[str, Any]] = []
    publish_rows: list[dict[str, Any]] = []
    snapshot_rows: list[dict[str, Any]] = []
    for bench in raw["benchmarks"]:
        info = bench["extra_info"]
        # the fastest round: on a shared machine load only ever adds time (as timeit
        # advises); the same statistic for every implementation, Rust's included
        median_s = bench["stats"]["min"]
        if bench["group"] == "append encode":
            append_rows.append({"implementation": info["implementation"], "us": median_s * 1e6})
            continue
        if bench["group"] == "snapshot load":
            snapshot_rows.append(
                {
                    "implementation": info["implementation"],
                    "bytes": info["bytes"],
                    "us": median_s * 1e6,
                }
            )
            continue
        if bench["group"] == "publish":
            publish_rows.append(
                {
                    "implementation": info["implementation"],
                    "records": info["records"],
                    "us_per_record": median_s * 1e6 / info["records"],
                }
            )
            continue
        kind = "fold-only" if bench["group"].startswith("fold only") else "decode+fold"
        rows.append(_row(kind, info["implementation"], cases[info["case"]], median_s))
    for case in cases.values():
        for decoder in ("typed", "attribute-values"):
            progress(f"fold-bench --decoder {decoder} {case.name}")
            after = _fold_bench(paths, folder, case, decoder, settings.rounds)
            before = rust_before[(case.name, decoder)]
            rows.append(min(before, after, key=lambda row: row["seconds"]))
    progress("where the read's time goes (bench.throughput.stages, 1 MB page)")
    stages = _read_stages(paths, env, folder, rounds=max(settings.rounds * 4, 20))
    reducers = {}
    events = max(length for _, length in settings.lengths)
    for name in AGGREGATE_NAMES:
        progress(f"hotcore bench fold {name} --events {events} (compiled vs interpreted)")
        reducers[name] = _reducer_fold(paths, env, name, events, settings.rounds)
    return {
        "cases": {name: _case_json(case) for name, case in cases.items()},
        "rows": rows,
        "append": append_rows,
        "publish": publish_rows,
        "snapshot_load": snapshot_rows,
        "reducers": reducers,
        "stages": stages,
        "python": raw["machine_info"].get("python_version"),
    }


def _python_json(paths: BenchPaths, env: dict[str, str], what: str, *args: str) -> Any:
    """``python -m ARGS`` in the checkout with ``env``: the JSON it prints (``what`` names it
    in the error if it fails)."""
    done = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=paths.root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def _read_stages(
    paths: BenchPaths, env: dict[str, str], folder: Path, rounds: int
) -> list[dict[str, Any]]:
    """Each stage of the compiled build's 1 MB page read timed alone (bench/throughput/stages.py):
    the profile the report gives of the read path, without a profiler's per-call hooks."""
    rows: list[dict[str, Any]] = _python_json(
        paths,
        env,
        "bench.throughput.stages",
        *("bench.throughput.stages", "first-page", str(rounds), "--cases", str(folder), "--json"),
    )
    return rows


def _reducer_fold(
    paths: BenchPaths, env: dict[str, str], name: str, events: int, rounds: int
) -> dict[str, Any]:
    """``hotcore bench fold NAME`` on the compiled build: each reducer's fold alone, compiled
    and interpreted (its pure twin), on a generated stream of ``events`` events."""
    result = _python_json(
        paths,
        env,
        f"hotcore bench fold {name}",
        *("hotcore_dev.fold", "--in-process", "--json", name),
        *("--events", str(events), "--rounds", str(max(rounds, 3))),
    )
    builds = result["builds"]
    interpreted, compiled = builds.get("interpreted"), builds.get("compiled")
    speedup = None
    if interpreted and compiled:
        speedup = interpreted["fold_ns_per_event"] / compiled["fold_ns_per_event"]
    return {
        "events": result["events"],
        "interpreted": interpreted,
        "compiled": compiled,
        "speedup": speedup,
        "decode_ns_per_event": result["decode_ns_per_event"],
        "advice": result["advice"],
    }


def _case_json(case: Case) -> dict[str, Any]:
    return {"events": case.events, "pages": case.pages, "bytes": case.bytes}


def _row(kind: str, implementation: str, case: Case, seconds: float) -> dict[str, Any]:
    return {
        "kind": kind,
        "implementation": implementation,
        "case": case.name,
        "events": case.events,
        "seconds": seconds,
        "ns_per_event": seconds * 1e9 / case.events,
        "mb_per_s": case.bytes / seconds / 1e6 if kind == "decode+fold" else None,
    }


def _fold_bench(
    paths: BenchPaths, folder: Path, case: Case, decoder: str, rounds: int
) -> dict[str, Any]:
    binary = paths.rust_release / "fold-bench"
    iterations = max(rounds, 20)  # its fastest pass, like the Python suites' (~1 s at 100k)
    done = subprocess.run(
        [
            str(binary),
            "--decoder",
            decoder,
            "--iterations",
            str(iterations),
            str(folder / case.file),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"fold-bench failed on {case.file}: {done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    state = result["state"]
    got = (state["status"], state["owner_id"], state["balance"])
    if got != (case.status, case.owner_id, case.balance) or result["events"] != case.events:
        raise RuntimeError(f"fold-bench folded {case.name} to {got}, not the stream's state")
    return _row("decode+fold", f"rust-{decoder}", case, result["ns_min"] / 1e9)


# -- steps 3 to 5: the emulator, cold starts, warm invocations, import times --------------


@contextmanager
def emulator(paths: BenchPaths) -> Iterator[Any]:
    """moto on 127.0.0.1 (``hotcore_dev.emulator``, as the tests use it), stopped afterwards."""
    from hotcore_dev import emulator as support

    log_dir = paths.results / "emulator"
    log_dir.mkdir(parents=True, exist_ok=True)
    server = support.start_moto_server(log_dir)
    try:
        yield server, support
    finally:
        server.stop()


TABLE = "bench-accounts"


def _appsync(parent: str, field: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "arguments": arguments,
        "identity": {"userArn": "arn:aws:sts::123456789012:assumed-role/frontend/server-1"},
        "info": {
            "fieldName": field,
            "parentTypeName": parent,
            "variables": {},
            "selectionSetList": ["streamId", "version", "state"],
            "selectionSetGraphQL": "{ streamId version state }",
        },
        "request": {"headers": {"x-amzn-trace-id": "Root=1-abc"}, "domainName": None},
        "source": None,
        "prev": None,
        "stash": {},
    }


class Seeder:
    """Writes the same generated history into any number of streams, each on first use.

    Every measured command gets a stream of its own, so each one loads the same number
    of events (the emulator's Query time grows with the stream: a shared stream would
    make later runs slower than earlier ones).
    """

    def __init__(self, server: Any, support: Any, events: int, table: str = TABLE) -> None:
        from hotcore.contracts.account import AccountEvent, AccountState
        from hotcore.domain.account import ACCOUNT
        from hotcore.store.dynamodb import DynamoEventStore

        client = server.dynamodb()
        support.create_table(client, table, hash_key="stream_id", range_key="version")
        self.table = table
        self.store: DynamoEventStore[Any, Any] = DynamoEventStore(
            client, table, "account", AccountEvent, AccountState
        )
        self.history = generate_history(ACCOUNT, length=events, stream_id="template", seed=11)
        if self.history.state.balance < 1:
            raise RuntimeError("the seeded history leaves nothing to withdraw: change its seed")
        self.seeded: set[str] = set()

    def stream(self, stream_id: str) -> str:
        """``stream_id``, holding the history: its commands appended one by one, each with
        its own id and fingerprint, as the command flow appends them (layout 2 items)."""
        import msgspec

        from hotcore.store.port import DuplicateCommand

        if stream_id not in self.seeded:
            history = self.history
            for envelope, command_fingerprint in zip(
                history.envelopes, history.fingerprints, strict=True
            ):
                command_id = f"seed-{stream_id}-{envelope.version}"
                seeded = msgspec.structs.replace(
                    envelope, stream_id=stream_id, command_id=command_id, correlation_id=command_id
                )
                # a retried request whose first attempt landed: seeded all the same
                with contextlib.suppress(DuplicateCommand):
                    self.store.append(
                        stream_id,
                        envelope.version - 1,
                        [seeded],
                        command_id=command_id,
                        fingerprint=command_fingerprint,
                    )
            self.seeded.add(stream_id)
        return stream_id

    def release(self, stream_id: str) -> None:
        """Delete the stream's items: moto copies a whole table for every action of a
        transaction, so the table must stay small for the runs to stay alike."""
        client = self.store.client
        keys: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "stream_id = :s",
            "ExpressionAttributeValues": {":s": {"S": stream_id}},
            "ProjectionExpression": "stream_id, version",
        }
        while True:
            page = client.query(request)
            keys += page.get("Items", [])
            if not page.get("LastEvaluatedKey"):
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        for start in range(0, len(keys), 25):
            batch = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]
            client.call("BatchWriteItem", {"RequestItems": {self.table: batch}})
        self.store._forget(stream_id)  # its top: a stream seeded again starts from 0
        self.seeded.discard(stream_id)


def emulator_latency(seeder: Seeder, rounds: int = 15) -> dict[str, float]:
    """Median ms the emulator takes for the Query of one load (as the store sends it)."""
    from hotcore.store.port import DEFAULT_SNAPSHOT_EVERY

    client = seeder.store.client
    stream = seeder.stream("acct-latency")
    load = {
        "TableName": seeder.table,
        "KeyConditionExpression": "stream_id = :s",
        "ExpressionAttributeValues": {":s": {"S": stream}},
        "ScanIndexForward": False,
        "ConsistentRead": True,
        "Limit": DEFAULT_SNAPSHOT_EVERY,
    }
    times: list[float] = []
    for _ in range(rounds):
        started = time.perf_counter()
        client.query_raw(load)
        times.append((time.perf_counter() - started) * 1000)
    return {"load": statistics.median(times)}


@dataclass(frozen=True)
class Endpoints:
    """Where the functions reach DynamoDB: the emulator, plain and behind TLS."""

    http: str
    https: str
    ca: Path  # the test CA every implementation is told to trust


#: How each implementation is told to trust the test CA (the variable its SDK reads).
_TRUST = {"hotcore": "HOTCORE_CA_BUNDLE", "naive": "AWS_CA_BUNDLE", "rust": "SSL_CERT_FILE"}


def _transport_env(endpoints: Endpoints, transport: str, sdk: str) -> dict[str, str]:
    if transport == "http":
        return {"AWS_ENDPOINT_URL_DYNAMODB": endpoints.http}
    return {"AWS_ENDPOINT_URL_DYNAMODB": endpoints.https, _TRUST[sdk]: str(endpoints.ca)}


def functions(
    paths: BenchPaths,
    layers: dict[str, Path],
    endpoints: Endpoints,
    seeder: Seeder,
    expected_view: dict[str, Any],
    managed: ManagedRuntime,
    naive_layer: Path,
) -> list[coldstart.Function]:
    base_env = {
        "HOTCORE_TABLE": seeder.table,
        "ACCOUNT_TABLE": seeder.table,
        # no snapshot is taken during the runs, by any implementation: the same work each time
        "HOTCORE_SNAPSHOT_EVERY": "1000000",
    }
    rust = paths.rust_release

    def hello_check(answer: Any) -> None:
        if answer != {"message": "hello"}:
            raise RuntimeError(f"hello answered {answer!r}")

    def accepted(answer: Any) -> None:
        if not isinstance(answer, dict) or answer.get("outcome") != "accepted":
            raise RuntimeError(f"a withdrawal was not accepted: {answer!r}")

    def same_view(answer: Any) -> None:
        if answer != expected_view:
            raise RuntimeError(f"query answered {answer!r}, expected {expected_view!r}")

    # hotcore answers in the SDL's shape (camelCase, enums, exact integers as strings);
    # the baselines keep the contracts' snake_case view
    graphql_view = graphql_shaped(expected_view)

    def same_graphql_view(answer: Any) -> None:
        if answer != graphql_view:
            raise RuntimeError(f"query answered {answer!r}, expected {graphql_view!r}")

    def command(key: str) -> Callable[[int], Any]:
        def event(run: int) -> Any:
            stream = seeder.stream(f"acct-{key}-{run}")
            withdraw = {"type": "Withdraw", "account_id": stream, "amount": 1}
            return {"command": withdraw, "command_id": f"bench-{key}-{run}"}

        return event

    def release(key: str) -> Callable[[int], None]:
        def after(run: int) -> None:
            seeder.release(f"acct-{key}-{run}")

        return after

    def suffix(transport: str) -> str:
        return "" if transport == "http" else f"-{transport}"

    wrapper = {"AWS_LAMBDA_EXEC_WRAPPER": str(exec_wrapper(layers["compiled"]))}
    query_stream = seeder.stream("acct-query")
    query_event = _appsync("Query", "getAccount", {"account_id": query_stream})
    # hotcore's query function reads for the end user its ID token names (the account's
    # owner), verified against a pinned key set as deployed; the baselines check no token
    issuer = LocalIssuer()
    owner_token = issuer.token(seeder.history.state.owner_id)
    graphql_query_event = _appsync("Query", "getAccount", {"accountId": query_stream})
    graphql_query_event["request"]["headers"][TOKEN_HEADER] = owner_token
    found: list[coldstart.Function] = [
        coldstart.Function(
            name="hello-python",
            implementation="hello-python",
            kind="hello",
            handler="hello.handler",
            code_dir=paths.hello,
            event=lambda run: {},
            check=hello_check,
            managed=managed,
        ),
        coldstart.Function(
            name="hello-hotcore",
            implementation="hello-hotcore",
            kind="hello",
            handler="hello.handler",
            code_dir=paths.hello,
            layer_dir=layers["compiled"],
            env=wrapper,
            event=lambda run: {},
            check=hello_check,
            managed=managed,
            runtime_client="hotcore",
        ),
        coldstart.Function(
            name="hello-rust",
            implementation="hello-rust",
            kind="hello",
            handler="bootstrap",
            code_dir=rust,
            bootstrap=rust / "hello",
            event=lambda run: {},
            check=hello_check,
            runtime="rust",
            runtime_client="custom",
        ),
    ]
    variants = [
        ("hotcore-compiled", "compiled", "hotcore", ("http", "https")),
        ("hotcore-compiled-awslambdaric", "compiled", "awslambdaric", ("http", "https")),
        ("hotcore-pure", "pure", "hotcore", ("http",)),
    ]
    for name, build, client, transports in variants:
        client_env = (
            {"AWS_LAMBDA_EXEC_WRAPPER": str(exec_wrapper(layers[build]))}
            if client == "hotcore"
            else {}
        )
        for transport in transports:
            env = (
                base_env
                | issuer.env()
                | client_env
                | _transport_env(endpoints, transport, "hotcore")
            )
            key = f"{name}{suffix(transport)}"
            found += [
                coldstart.Function(
                    name=f"{name}/command{suffix(transport)}",
                    implementation=name,
                    kind="command",
                    handler="account/command.handler",
                    code_dir=paths.handlers,
                    layer_dir=layers[build],
                    env=env,
                    event=command(key),
                    check=accepted,
                    after=release(key),
                    managed=managed,
                    runtime_client=client,
                    transport=transport,
                ),
                coldstart.Function(
                    name=f"{name}/query{suffix(transport)}",
                    implementation=name,
                    kind="query",
                    handler="account/query.handler",
                    code_dir=paths.handlers,
                    layer_dir=layers[build],
                    env=env,
                    event=lambda run: graphql_query_event,
                    check=same_graphql_view,
                    managed=managed,
                    runtime_client=client,
                    transport=transport,
                ),
            ]
    for transport in ("http", "https"):
        naive_env = base_env | _transport_env(endpoints, transport, "naive")
        rust_env = base_env | _transport_env(endpoints, transport, "rust")
        naive_key, rust_key = f"naive-python{suffix(transport)}", f"rust{suffix(transport)}"
        found += [
            coldstart.Function(
                name=f"naive-python/command{suffix(transport)}",
                implementation="naive-python",
                kind="command",
                handler="account_command.handler",
                code_dir=paths.naive,
                layer_dir=naive_layer,
                env=naive_env,
                event=command(naive_key),
                check=accepted,
                after=release(naive_key),
                managed=managed,
                transport=transport,
            ),
            coldstart.Function(
                name=f"naive-python/query{suffix(transport)}",
                implementation="naive-python",
                kind="query",
                handler="account_query.handler",
                code_dir=paths.naive,
                layer_dir=naive_layer,
                env=naive_env,
                event=lambda run: query_event,
                check=same_view,
                managed=managed,
                transport=transport,
            ),
            coldstart.Function(
                name=f"rust/command{suffix(transport)}",
                implementation="rust",
                kind="command",
                handler="bootstrap",
                code_dir=rust,
                bootstrap=rust / "account-command",
                env=rust_env,
                event=command(rust_key),
                check=accepted,
                after=release(rust_key),
                runtime="rust",
                runtime_client="custom",
                transport=transport,
            ),
            coldstart.Function(
                name=f"rust/query{suffix(transport)}",
                implementation="rust",
                kind="query",
                handler="bootstrap",
                code_dir=rust,
                bootstrap=rust / "account-query",
                env=rust_env,
                event=lambda run: {"account_id": query_stream},
                check=same_view,
                runtime="rust",
                runtime_client="custom",
                transport=transport,
            ),
        ]
    return found


def summarize(samples: list[coldstart.ColdSample]) -> dict[str, float]:
    def stat(values: list[float]) -> dict[str, float]:
        return {"median": statistics.median(values), "p90": coldstart.percentile(values, 90)}

    return {
        **{f"total_{k}": v for k, v in stat([s.total_ms for s in samples]).items()},
        **{f"init_{k}": v for k, v in stat([s.init_ms for s in samples]).items()},
        **{f"invoke_{k}": v for k, v in stat([s.invoke_ms for s in samples]).items()},
        "cpu_median": statistics.median(s.cpu_ms for s in samples),
        "rss_median": statistics.median(s.max_rss_mib for s in samples),
    }


#: Implementations whose warm invocations feed the cost model (plain HTTP, own bootstrap).
WARM_IMPLEMENTATIONS = ("hotcore-compiled", "hotcore-pure", "naive-python", "rust")
#: The Account handlers whose import is measured over the msgspec floor.
FLOOR_HANDLERS = ("account.command", "account.query", "account.events")


def lambda_runs(
    paths: BenchPaths, layers: dict[str, Path], settings: BenchSettings, progress: Progress
) -> dict[str, Any]:
    from hotcore_dev.tls import TlsTerminator, issue_test_certificates

    progress("the managed runtime stand-in and the naive baseline's layer")
    managed = ManagedRuntime.ensure(paths.cache / "managed-runtime")
    naive_layer = link_distributions(NAIVE_REQUIREMENTS, paths.cache / "naive-layer")
    with emulator(paths) as (server, support):
        certificates = issue_test_certificates(paths.results / "tls")
        with TlsTerminator(f"127.0.0.1:{server.port}", certificates) as tls:
            endpoints = Endpoints(http=server.endpoint, https=tls.endpoint, ca=certificates.ca)
            progress("seeding the query stream, timing the emulator")
            seeder = Seeder(server, support, settings.seed_events)
            latency = emulator_latency(seeder)
            view = hotcore_view(seeder)
            fns = functions(paths, layers, endpoints, seeder, view, managed, naive_layer)
            credentials, region = support.TEST_CREDENTIALS, support.TEST_REGION
            progress.begin("cold starts")
            cold = coldstart.cold_starts(
                fns, settings.runs, credentials=credentials, region=region, progress=progress
            )
            progress.begin("warm invocations and import times")
            warm = _warm(fns, settings, credentials, region, progress)
            imports = _imports(fns, settings, credentials, region, progress)
    floor = _floor_imports(paths, layers["compiled"], managed, settings, progress)
    pieces: dict[str, float] = {}
    for label, statement in IMPORT_PIECES.items():
        progress(f"-X importtime: {label}")
        pieces[label] = coldstart.statement_import_cost(statement, max(3, settings.importtime_runs))
    progress("end-user ID token verification: import + first verification (bench.token_verify)")
    tokens = token_verify.measure(max(5, settings.importtime_runs))
    return {
        "cold": {name: [vars(s) for s in samples] for name, samples in cold.items()},
        "cold_summary": {name: summarize(samples) for name, samples in cold.items()},
        "functions": {
            fn.name: {
                "implementation": fn.implementation,
                "kind": fn.kind,
                "runtime_client": fn.runtime_client,
                "transport": fn.transport,
            }
            for fn in fns
        },
        "warm": warm,
        "imports": imports,
        "import_floor": floor,
        "import_pieces": pieces,
        "token_verify": tokens,
        "query_view": view,
        "seed_events": settings.seed_events,
        "emulator_ms": latency,
    }


#: The naive baseline's dependencies, as its deployment package would hold them.
NAIVE_REQUIREMENTS = ("aws-lambda-powertools[tracer,parser]", "pydantic")


def _warm(
    fns: Sequence[coldstart.Function],
    settings: BenchSettings,
    credentials: Any,
    region: str,
    progress: Progress,
) -> dict[str, Any]:
    warm: dict[str, Any] = {}
    for fn in fns:
        if fn.kind == "hello" or fn.transport != "http":
            continue
        if fn.implementation not in WARM_IMPLEMENTATIONS:
            continue
        progress(f"{settings.warm} warm invocations: {fn.name}")
        sample = coldstart.warm_invocations(
            fn, settings.warm, credentials=credentials, region=region
        )
        warm[fn.name] = {
            "duration_median_ms": statistics.median(sample.durations_ms),
            "cpu_ms": sample.cpu_ms_per_invocation,
        }
    return warm


def _imports(
    fns: Sequence[coldstart.Function],
    settings: BenchSettings,
    credentials: Any,
    region: str,
    progress: Progress,
) -> dict[str, Any]:
    """Each Python handler's imports beyond the hello world of the same bootstrap."""
    profiles: dict[str, dict[str, int]] = {}
    for fn in fns:
        if fn.runtime != "python" or fn.transport != "http":
            continue
        progress(f"-X importtime: {fn.name}")
        runs = coldstart.harness_importtime(
            fn, credentials=credentials, region=region, runs=settings.importtime_runs
        )
        profiles[fn.name] = coldstart.median_profile(runs)
    baselines = {"awslambdaric": profiles["hello-python"], "hotcore": profiles["hello-hotcore"]}
    imports: dict[str, Any] = {}
    for fn in fns:
        if fn.name not in profiles or fn.kind == "hello":
            continue
        found = coldstart.import_profile(profiles[fn.name], baselines[fn.runtime_client])
        imports[fn.name] = {"modules": found.modules, "ms": found.total_ms, "top": found.top}
    return imports


def _floor_imports(
    paths: BenchPaths,
    layer: Path,
    managed: ManagedRuntime,
    settings: BenchSettings,
    progress: Progress,
) -> dict[str, Any]:
    """The issue's measure: handler import over an interpreter that imported msgspec alone."""
    env = {
        "HOTCORE_TABLE": TABLE,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIDBENCH",
        "AWS_SECRET_ACCESS_KEY": "bench",
    }
    found: dict[str, Any] = {}
    for module in FLOOR_HANDLERS:
        progress(f"import over msgspec: {module}")
        floor = coldstart.import_over_msgspec(
            module,
            [layer, paths.handlers],
            env,
            max(5, settings.importtime_runs * 3),
            python=str(managed.python),
        )
        found[module] = {
            "median_ms": floor.median_ms,
            "min_ms": floor.min_ms,
            "modules": floor.modules,
        }
    return found


def hotcore_view(seeder: Seeder, stream: str = "acct-query") -> dict[str, Any]:
    """What every query implementation must answer for the query stream."""
    import msgspec

    from hotcore.domain.account import ACCOUNT
    from hotcore.service.stream import load_state

    loaded = load_state(ACCOUNT, seeder.store, seeder.stream(stream))
    return {
        "stream_id": loaded.stream_id,
        "version": loaded.version,
        "state": msgspec.to_builtins(loaded.state),
    }


def graphql_shaped(view: dict[str, Any]) -> dict[str, Any]:
    """A snake_case Account view as hotcore's query function answers it (the SDL's shape)."""
    from hotcore.codec.graphql import struct_converters
    from hotcore.contracts.account import AccountState

    to_graphql, _ = struct_converters(AccountState)
    return {
        "streamId": view["stream_id"],
        "version": view["version"],
        "state": to_graphql(view["state"]),
    }


# -- the whole run ------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True, check=False)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory, 1),
        "arch": platform.machine(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "rustc": rustc.stdout.strip() or "unknown",
        "load_average_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def run_bench(
    *,
    quick: bool = False,
    update_report: bool = False,
    root: Path | None = None,
    out: Path | None = None,
) -> dict[str, Any]:
    """Everything, then the report: returns the raw results written next to it.

    The report goes to ``bench/results/full`` (``quick`` for a short run), which git
    ignores; ``update_report`` writes the committed ``bench/REPORT.md`` and ``bench/report/``.
    """
    if update_report and quick:
        raise ValueError("the committed report comes from full runs only")
    from bench import report

    settings = BenchSettings.for_mode(quick)
    paths = BenchPaths(root or find_checkout())
    progress = Progress(steps=6)
    started = time.time()
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "settings": vars(settings) | {"lengths": dict(settings.lengths)},
        "machine": machine(),
    }
    progress.begin("builds")
    progress(
        "compiled wheel and layer (tools.layer; a first build takes about 4 minutes)", keep=True
    )
    site = compiled_site(paths)
    layers = {"compiled": compiled_layer(paths)}
    progress("pure-Python layer")
    layers["pure"] = pure_layer(paths, layers["compiled"])
    cargo_log = paths.results / "cargo-build.log"
    progress(
        "cargo build --release (bench/rust; a first build of its 231 crates takes about "
        f"25 minutes on 2 cores; log: {cargo_log})",
        keep=True,
    )
    build_rust(paths, log=cargo_log)
    progress.begin("decode + fold throughput")
    results["throughput"] = throughput(paths, site, settings, progress)
    progress.begin("emulator")
    results |= lambda_runs(paths, layers, settings, progress)
    progress.begin("cost model and report")
    results["cost"] = cost_model(paths, results, settings, progress)
    results["finished"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results["duration_s"] = round(time.time() - started)
    target = out or (
        paths.bench if update_report else paths.results / ("quick" if quick else "full")
    )
    written = report.write_report(results, paths, target)
    progress.done()
    print(f"bench: report written to {written}", flush=True)
    return results


# -- the cost model (issue 19) -------------------------------------------------------------


def cost_model(
    paths: BenchPaths, results: dict[str, Any], settings: BenchSettings, progress: Progress
) -> dict[str, Any]:
    """Every command kind against the emulator, counted (``bench.metered``), then priced
    with the warm invocations and cold starts of ``results`` where it has them."""
    import msgspec

    from bench import metered, report

    prices = cost.load_prices(paths.bench / "prices.toml")
    progress("every command kind against the emulator, counted (about a minute)")
    with emulator(paths) as (server, support):
        credentials = support.TEST_CREDENTIALS
        with metered.emulated_environment(
            server.endpoint, support.TEST_REGION, credentials.access_key, credentials.secret_key
        ):
            world = metered.World(server, "cost")
            measured = metered.measure_all(world, quick=settings.quick, progress=progress)
    as_builtins = {kind: msgspec.to_builtins(usage) for kind, usage in measured.items()}
    return report.cost_table(results, prices, as_builtins)


def run_cost(
    *, quick: bool = False, update_report: bool = False, root: Path | None = None
) -> dict[str, Any]:
    """The cost step alone: bench/results/cost/ (COST.md, cost.json), no other benchmark.

    Lambda CPU is then the in-process measurement for every function (``make bench``
    prices the command and query functions with their warm invocations instead).
    ``update_report`` also replaces the cost model section and issue 19's targets of the
    committed bench/REPORT.md (saying which run they come from) and writes
    bench/report/cost.json.
    """
    if update_report and quick:
        raise ValueError("the committed report takes full repetitions: drop --quick")
    from bench import report

    settings = BenchSettings.for_mode(quick)
    paths = BenchPaths(root or find_checkout())
    progress = Progress(steps=1)
    progress.begin("cost model")
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
    }
    results["cost"] = cost_model(paths, results, settings, progress)
    out = paths.results / "cost"
    out.mkdir(parents=True, exist_ok=True)
    (out / "cost.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    rows = [
        [t["target"], t["goal"], t["text"], "met" if t["met"] else "**missed**"]
        for t in report.cost_targets(results)
    ]
    text = (
        f"# hotcore cost model\n\nThe cost step alone (`python -m bench --cost-only`), "
        f"{results['started']}.\n\n"
        + report.cost_table_markdown(rows)
        + "\n\n"
        + report.cost_section(results)
    )
    (out / "COST.md").write_text(text)
    if update_report:
        committed = paths.bench / "REPORT.md"
        note = (
            f"This section and issue 19's targets come from the cost step alone "
            f"(`python -m bench --cost-only --update-report`, {results['started']}; Lambda CPU "
            "measured in-process), the rest of the report from the full run above."
        )
        committed.write_text(report.splice_cost(committed.read_text(), results, note))
        (paths.bench / "report" / "cost.json").write_text(
            json.dumps(results, indent=1, default=str) + "\n"
        )
    progress.done()
    for row in rows:
        print(f"{row[0]}: {row[2]} [{row[3]}]")
    print(f"bench: cost model written to {out / 'COST.md'}", flush=True)
    return results


def run_coldstart(*, runs: int, root: Path | None = None) -> dict[str, Any]:
    """The cold-start step alone (builds first), a few runs: bench/results/coldstart.json.

    For checking the cold-start setup quickly; ``make bench`` runs everything.
    """
    settings = BenchSettings(quick=True, runs=runs, warm=3, importtime_runs=1)
    paths = BenchPaths(root or find_checkout())
    progress = Progress(steps=3)
    progress.begin("builds")
    layers = {"compiled": compiled_layer(paths)}
    layers["pure"] = pure_layer(paths, layers["compiled"])
    build_rust(paths, log=paths.results / "cargo-build.log")
    progress.begin("emulator")
    results = lambda_runs(paths, layers, settings, progress)
    results["ratios"] = coldstart.ratios(results["cold_summary"])
    out = paths.results / "coldstart.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=str))
    progress.done()
    for row in results["ratios"]:
        goal = f" (target <= {row['goal']})" if row["goal"] else ""
        print(
            f"{row['ratio']}: {row['value']:.2f}x{goal}"
            f"  [{row['top_ms']:.1f} / {row['bottom_ms']:.1f} ms]"
        )
    for module, floor in results["import_floor"].items():
        print(f"import over msgspec, {module}: {floor['median_ms']:.1f} ms")
    from bench import report

    published = report.lambda_perf(paths)
    for name, row in report.projection(results, published).items():
        print(
            f"Lambda projection {name}: {row['projected_ms']:.0f} ms "
            f"(published hello {row['published_hello_ms']:.0f} + {row['increment_ms']:.1f})"
        )
    return results
