"""``hotcore bench`` (and ``make bench``): every measurement, then REPORT.md, charts and JSON.

The steps, each shown on the progress line while it runs:

1. builds: the compiled wheel and layer, the pure layer, the Rust release binaries;
2. throughput: Account streams written as Query pages, the pytest-benchmark suites in
   ``bench/throughput`` run against the compiled build, ``fold-bench`` on the same files;
3. emulator: moto on 127.0.0.1 with one table; every measured command gets its own
   stream holding the same seeded history;
4. cold starts: every function, interleaved, ``runs`` times, answers checked;
5. warm invocations (for the cost model) and ``-X importtime`` of every Python handler,
   and of each Powertools piece on its own;
6. the cost model, then the report.

Only ratios within one run mean anything on a shared machine; the report says so.
"""

from __future__ import annotations

import contextlib
import importlib
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

from hotcore.bench import coldstart, cost
from hotcore.bench.builds import (
    BenchPaths,
    build_rust,
    compiled_layer,
    compiled_site,
    find_root,
    pure_layer,
)
from hotcore.bench.history import Case, generate_history, write_account_cases

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
    "hotcore logs + EMF (runtime.observability)": "import hotcore.runtime.observability",
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

    def __call__(self, detail: str) -> None:
        self._show(detail)

    def _show(self, detail: str, force: bool = False) -> None:
        elapsed = time.monotonic() - self.started
        line = f"[{elapsed:6.1f}s] {self.step}/{self.steps} {self.title}"
        if detail:
            line += f": {detail}"
        if self.tty:
            self.stream.write("\r\033[K" + line[:160])
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
    for bench in raw["benchmarks"]:
        info = bench["extra_info"]
        median_s = bench["stats"]["median"]
        if bench["group"] == "append encode":
            append_rows.append({"implementation": info["implementation"], "us": median_s * 1e6})
            continue
        kind = "fold-only" if bench["group"].startswith("fold only") else "decode+fold"
        rows.append(_row(kind, info["implementation"], cases[info["case"]], median_s))
    for case in cases.values():
        for decoder in ("typed", "attribute-values"):
            progress(f"fold-bench --decoder {decoder} {case.name}")
            rows.append(_fold_bench(paths, folder, case, decoder, settings.rounds))
    return {
        "cases": {name: _case_json(case) for name, case in cases.items()},
        "rows": rows,
        "append": append_rows,
        "python": raw["machine_info"].get("python_version"),
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
    iterations = max(rounds, 5)
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
    return _row("decode+fold", f"rust-{decoder}", case, result["ns_total"] / 1e9)


# -- steps 3 to 5: the emulator, cold starts, warm invocations, import times --------------


@contextmanager
def emulator(paths: BenchPaths) -> Iterator[Any]:
    """The test suite's moto launcher (tests/support), on 127.0.0.1, stopped afterwards."""
    if str(paths.root) not in sys.path:
        sys.path.insert(0, str(paths.root))
    support = importlib.import_module("tests.support.moto_server")
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
            "selectionSetList": ["stream_id", "version", "state"],
            "selectionSetGraphQL": "{ stream_id version state }",
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
        """``stream_id``, holding the history (one transaction, as one command)."""
        import msgspec

        from hotcore.store.port import DuplicateCommand

        if stream_id not in self.seeded:
            command_id = f"seed-{stream_id}"
            envelopes = [
                msgspec.structs.replace(
                    e, stream_id=stream_id, command_id=command_id, correlation_id=command_id
                )
                for e in self.history.envelopes
            ]
            # a retried request whose first attempt landed: seeded all the same
            with contextlib.suppress(DuplicateCommand):
                self.store.append(stream_id, 0, envelopes, command_id=command_id)
            self.seeded.add(stream_id)
        return stream_id

    def release(self, stream_id: str, command_ids: Sequence[str]) -> None:
        """Delete the stream and its command records: moto copies a whole table for every
        action of a transaction, so the table must stay small for the runs to stay alike."""
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
        for command_id in [f"seed-{stream_id}", *command_ids]:
            keys.append({"stream_id": {"S": f"command#{command_id}"}, "version": {"N": "0"}})
        for start in range(0, len(keys), 25):
            batch = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]
            client.call("BatchWriteItem", {"RequestItems": {self.table: batch}})
        self.seeded.discard(stream_id)


def emulator_latency(seeder: Seeder, rounds: int = 15) -> dict[str, float]:
    """Median ms the emulator takes for the requests of one command and one query."""
    client = seeder.store.client
    stream = seeder.stream("acct-latency")
    snapshot = {
        "TableName": seeder.table,
        "KeyConditionExpression": "stream_id = :s",
        "ExpressionAttributeValues": {":s": {"S": f"{stream}#snapshot"}},
        "ScanIndexForward": False,
        "Limit": 1,
        "ConsistentRead": True,
    }
    events = {
        "TableName": seeder.table,
        "KeyConditionExpression": "stream_id = :s AND version >= :v",
        "ExpressionAttributeValues": {":s": {"S": stream}, ":v": {"N": "1"}},
        "ConsistentRead": True,
    }
    times: dict[str, list[float]] = {"snapshot": [], "events": []}
    for _ in range(rounds):
        for name, request in (("snapshot", snapshot), ("events", events)):
            started = time.perf_counter()
            client.query_raw(request)
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def functions(
    paths: BenchPaths,
    layers: dict[str, Path],
    server: Any,
    seeder: Seeder,
    expected_view: dict[str, Any],
) -> list[coldstart.Function]:
    env = {
        "HOTCORE_TABLE": seeder.table,
        "ACCOUNT_TABLE": seeder.table,
        "AWS_ENDPOINT_URL_DYNAMODB": server.endpoint,
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

    def command(implementation: str) -> Callable[[int], Any]:
        def event(run: int) -> Any:
            stream = seeder.stream(f"acct-{implementation}-{run}")
            withdraw = {"type": "Withdraw", "account_id": stream, "amount": 1}
            return {"command": withdraw, "command_id": f"bench-{implementation}-{run}"}

        return event

    def release(implementation: str) -> Callable[[int], None]:
        def after(run: int) -> None:
            seeder.release(f"acct-{implementation}-{run}", [f"bench-{implementation}-{run}"])

        return after

    query_stream = seeder.stream("acct-query")
    query_event = _appsync("Query", "getAccount", {"account_id": query_stream})
    found: list[coldstart.Function] = [
        coldstart.Function(
            name="hello-python",
            implementation="hello-python",
            kind="hello",
            handler="hello.handler",
            code_dir=paths.hello,
            event=lambda run: {},
            check=hello_check,
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
        ),
    ]
    for build in ("compiled", "pure"):
        name = f"hotcore-{build}"
        found += [
            coldstart.Function(
                name=f"{name}/command",
                implementation=name,
                kind="command",
                handler="account/command.handler",
                code_dir=paths.handlers,
                layer_dir=layers[build],
                env=env,
                event=command(name),
                check=accepted,
                after=release(name),
            ),
            coldstart.Function(
                name=f"{name}/query",
                implementation=name,
                kind="query",
                handler="account/query.handler",
                code_dir=paths.handlers,
                layer_dir=layers[build],
                env=env,
                event=lambda run: query_event,
                check=same_view,
            ),
        ]
    found += [
        coldstart.Function(
            name="naive-python/command",
            implementation="naive-python",
            kind="command",
            handler="account_command.handler",
            code_dir=paths.naive,
            env=env,
            event=command("naive-python"),
            check=accepted,
            after=release("naive-python"),
        ),
        coldstart.Function(
            name="naive-python/query",
            implementation="naive-python",
            kind="query",
            handler="account_query.handler",
            code_dir=paths.naive,
            env=env,
            event=lambda run: query_event,
            check=same_view,
        ),
        coldstart.Function(
            name="rust/command",
            implementation="rust",
            kind="command",
            handler="bootstrap",
            code_dir=rust,
            bootstrap=rust / "account-command",
            env=env,
            event=command("rust"),
            check=accepted,
            after=release("rust"),
            runtime="rust",
        ),
        coldstart.Function(
            name="rust/query",
            implementation="rust",
            kind="query",
            handler="bootstrap",
            code_dir=rust,
            bootstrap=rust / "account-query",
            env=env,
            event=lambda run: {"account_id": query_stream},
            check=same_view,
            runtime="rust",
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


def lambda_runs(
    paths: BenchPaths, layers: dict[str, Path], settings: BenchSettings, progress: Progress
) -> dict[str, Any]:
    with emulator(paths) as (server, support):
        progress("seeding the query stream, timing the emulator")
        seeder = Seeder(server, support, settings.seed_events)
        latency = emulator_latency(seeder)
        view = hotcore_view(seeder)
        fns = functions(paths, layers, server, seeder, view)
        credentials, region = support.TEST_CREDENTIALS, support.TEST_REGION
        progress.begin("cold starts")
        cold = coldstart.cold_starts(
            fns, settings.runs, credentials=credentials, region=region, progress=progress
        )
        progress.begin("warm invocations and import times")
        warm: dict[str, Any] = {}
        for fn in fns:
            if fn.kind == "hello":
                continue
            progress(f"{settings.warm} warm invocations: {fn.name}")
            sample = coldstart.warm_invocations(
                fn, settings.warm, credentials=credentials, region=region
            )
            warm[fn.name] = {
                "duration_median_ms": statistics.median(sample.durations_ms),
                "cpu_ms": sample.cpu_ms_per_invocation,
            }
        imports: dict[str, Any] = {}
        python_fns = [fn for fn in fns if fn.runtime == "python"]
        profiles: dict[str, dict[str, int]] = {}
        for fn in python_fns:
            progress(f"-X importtime: {fn.name}")
            runs = coldstart.harness_importtime(
                fn, credentials=credentials, region=region, runs=settings.importtime_runs
            )
            profiles[fn.name] = coldstart.median_profile(runs)
        baseline = profiles["hello-python"]
        for name, profile in profiles.items():
            if name == "hello-python":
                continue
            found = coldstart.import_profile(profile, baseline)
            imports[name] = {"modules": found.modules, "ms": found.total_ms, "top": found.top}
    pieces: dict[str, float] = {}
    for label, statement in IMPORT_PIECES.items():
        progress(f"-X importtime: {label}")
        pieces[label] = coldstart.statement_import_cost(statement, max(3, settings.importtime_runs))
    return {
        "cold": {name: [vars(s) for s in samples] for name, samples in cold.items()},
        "cold_summary": {name: summarize(samples) for name, samples in cold.items()},
        "warm": warm,
        "imports": imports,
        "import_pieces": pieces,
        "query_view": view,
        "seed_events": settings.seed_events,
        "emulator_ms": latency,
    }


def hotcore_view(seeder: Seeder, stream: str = "acct-query") -> dict[str, Any]:
    """What every query implementation must answer for the query stream."""
    import msgspec

    from hotcore.domain.account import ACCOUNT
    from hotcore.runtime.stream import load_state

    loaded = load_state(ACCOUNT, seeder.store, seeder.stream(stream))
    return {
        "stream_id": loaded.stream_id,
        "version": loaded.version,
        "state": msgspec.to_builtins(loaded.state),
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
    *, quick: bool = False, root: Path | None = None, out: Path | None = None
) -> dict[str, Any]:
    """Everything, then the report: returns the raw results written next to it."""
    from hotcore.bench import report

    settings = BenchSettings.for_mode(quick)
    paths = BenchPaths(root or find_root())
    progress = Progress(steps=6)
    started = time.time()
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "settings": vars(settings) | {"lengths": dict(settings.lengths)},
        "machine": machine(),
    }
    progress.begin("builds")
    progress("compiled wheel and layer (hotcore.layer)")
    site = compiled_site(paths)
    layers = {"compiled": compiled_layer(paths)}
    progress("pure-Python layer")
    layers["pure"] = pure_layer(paths, layers["compiled"])
    progress("cargo build --release (bench/rust)")
    build_rust(paths, log=paths.results / "cargo-build.log")
    progress.begin("decode + fold throughput")
    results["throughput"] = throughput(paths, site, settings, progress)
    progress.begin("emulator")
    results |= lambda_runs(paths, layers, settings, progress)
    progress.begin("cost model and report")
    prices = cost.load_prices(paths.bench / "prices.toml")
    results["cost"] = report.cost_table(results, prices, settings.seed_events)
    results["finished"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results["duration_s"] = round(time.time() - started)
    target = out or (paths.bench if not quick else paths.results / "quick")
    report.write_report(results, paths, target)
    progress.done()
    return results
