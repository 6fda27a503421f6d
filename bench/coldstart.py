"""Cold starts, warm invocations and import times, through the local Lambda harness.

A cold start is a fresh runtime process answering its first event (``LocalLambda.
cold_start``): total (process start -> answer), init (-> first poll), invoke, CPU time
of the process (``wait4``) and its peak RSS (``VmHWM`` when it answered: ``wait4``'s
figure would include the harness process it was forked from). Runs of the different
implementations are interleaved, so a burst of load on this shared machine hits them
all alike.

Python functions start the way the managed python3.13 runtime starts them
(``ManagedRuntime``: the base interpreter without this venv's packages, boto3 in the
runtime, awslambdaric in ``LAMBDA_RUNTIME_DIR``), under awslambdaric or, through the
layer's exec wrapper, under hotcore's own bootstrap.

``-X importtime`` lines (``PYTHONPROFILEIMPORTTIME``) are summed per module; a
handler's import cost is what it imports beyond the hello world of the same
bootstrap, in the same runtime process. ``import_over_msgspec`` is the issue's floor
measure: a handler's import (its init included) in an interpreter (``-S -I``) that has
imported msgspec alone, with only the layer and the handlers on the path.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotcore.aws.sigv4 import Credentials
from hotcore_dev.harness import LocalLambda, ManagedRuntime

__all__ = [
    "ColdSample",
    "FloorImport",
    "Function",
    "ImportProfile",
    "WarmSample",
    "cold_starts",
    "import_over_msgspec",
    "import_profile",
    "parse_importtime",
    "percentile",
    "statement_import_cost",
    "warm_invocations",
]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Function:
    """One implementation of one function, as the harness starts it."""

    name: str  # e.g. "hotcore-compiled/command"
    implementation: str  # hotcore-compiled, hotcore-pure, naive-python, rust, hello-python...
    kind: str  # command, query or hello
    handler: str
    code_dir: Path
    event: Callable[[int], Any]  # run number -> the event to send
    check: Callable[[Any], None]  # raises if the answer is wrong
    layer_dir: Path | None = None
    bootstrap: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    runtime: str = "python"  # python or rust
    #: run number -> cleanup after that run's answer (outside the measured time)
    after: Callable[[int], None] = field(default=lambda run: None)
    #: Python functions: the managed runtime stand-in they start in (None: this venv).
    managed: ManagedRuntime | None = None
    #: awslambdaric, hotcore (the layer's exec wrapper) or custom (a bootstrap binary)
    runtime_client: str = "awslambdaric"
    transport: str = "http"  # http or https (the TLS terminator in front of the emulator)

    def local_lambda(
        self,
        credentials: Credentials | None,
        region: str,
        python_args: Sequence[str] = (),
        extra_env: Mapping[str, str] | None = None,
    ) -> LocalLambda:
        return LocalLambda(
            self.handler,
            code_dir=self.code_dir,
            layer_dir=self.layer_dir,
            bootstrap=self.bootstrap,
            runtime=self.managed,
            env={**self.env, **(extra_env or {})},
            credentials=credentials,
            region=region,
            python_args=python_args,
            function_name=self.name.replace("/", "-"),
            memory_mb=256,
        )


@dataclass(frozen=True)
class ColdSample:
    total_ms: float
    init_ms: float
    invoke_ms: float
    cpu_ms: float
    max_rss_mib: float


@dataclass(frozen=True)
class WarmSample:
    """Warm invocations of one environment: durations and CPU per invocation."""

    durations_ms: list[float]
    cpu_ms_per_invocation: float


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def cold_starts(
    functions: Sequence[Function],
    runs: int,
    *,
    credentials: Credentials | None,
    region: str,
    progress: Progress | None = None,
) -> dict[str, list[ColdSample]]:
    """``runs`` cold starts of each function, interleaved; every answer is checked."""
    samples: dict[str, list[ColdSample]] = {f.name: [] for f in functions}
    with ExitStack() as stack:
        lambdas = {
            f.name: stack.enter_context(_closing(f.local_lambda(credentials, region)))
            for f in functions
        }
        for run in range(runs):
            for function in functions:
                if progress is not None:
                    progress(f"cold start {run + 1}/{runs}: {function.name}")
                cold = lambdas[function.name].cold_start(function.event(run))
                function.check(cold.json())
                function.after(run)
                usage, exit_usage = cold.usage, cold.exit_usage
                samples[function.name].append(
                    ColdSample(
                        total_ms=cold.total_ms,
                        init_ms=cold.init_ms or 0.0,
                        invoke_ms=cold.invoke_ms or 0.0,
                        cpu_ms=(exit_usage.cpu_s if exit_usage else 0.0) * 1000,
                        max_rss_mib=(usage.max_rss_kib if usage else 0) / 1024,
                    )
                )
    return samples


@contextmanager
def _closing(function: LocalLambda) -> Iterator[LocalLambda]:
    try:
        yield function
    finally:
        function.close()


def warm_invocations(
    function: Function,
    count: int,
    *,
    credentials: Credentials | None,
    region: str,
    first_run: int = 10_000,
) -> WarmSample:
    """``count`` invocations of one warm environment (after a first, unmeasured one)."""
    with function.local_lambda(credentials, region) as fn:
        function.check(fn.invoke(function.event(first_run)))
        function.after(first_run)
        first = fn.send(function.event(first_run + 1))
        function.check(first.json())
        function.after(first_run + 1)
        results = []
        for run in range(first_run + 2, first_run + 2 + count):
            result = fn.send(function.event(run))
            function.check(result.json())
            function.after(run)
            results.append(result)
    before = first.usage
    after = results[-1].usage
    cpu = 0.0
    if before is not None and after is not None:
        cpu = (after.cpu_s - before.cpu_s) * 1000 / count
    return WarmSample(
        durations_ms=[r.timing.duration_ms or 0.0 for r in results], cpu_ms_per_invocation=cpu
    )


# -- import times ------------------------------------------------------------------------

_IMPORT_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$")


def parse_importtime(text: str) -> dict[str, int]:
    """Module -> self import time in microseconds, from ``-X importtime`` output."""
    found: dict[str, int] = {}
    for line in text.splitlines():
        match = _IMPORT_LINE.match(line.strip("\r"))
        if match:
            found[match.group(4)] = found.get(match.group(4), 0) + int(match.group(1))
    return found


@dataclass(frozen=True)
class ImportProfile:
    """What a handler imports beyond the bare runtime: modules and self time."""

    modules: int
    total_ms: float
    top: list[tuple[str, float]]  # (top-level package, ms), largest first


def import_profile(own: Mapping[str, int], baseline: Mapping[str, int]) -> ImportProfile:
    extra = {name: us for name, us in own.items() if name not in baseline}
    packages: dict[str, int] = {}
    for name, us in extra.items():
        package = name.split(".")[0]
        packages[package] = packages.get(package, 0) + us
    largest = sorted(((n, us / 1000) for n, us in packages.items()), key=lambda t: -t[1])
    return ImportProfile(modules=len(extra), total_ms=sum(extra.values()) / 1000, top=largest[:8])


def harness_importtime(
    function: Function, *, credentials: Credentials | None, region: str, runs: int
) -> list[dict[str, int]]:
    """``-X importtime`` of ``runs`` cold starts of a Python function in the real runtime."""
    profiles = []
    if function.managed is not None:  # the runtime's own start command: the variable, not -X
        fn = function.local_lambda(credentials, region, extra_env={"PYTHONPROFILEIMPORTTIME": "1"})
    else:
        fn = function.local_lambda(credentials, region, python_args=("-X", "importtime"))
    try:
        for run in range(runs):
            cold = fn.cold_start(function.event(20_000 + run))
            function.check(cold.json())
            function.after(20_000 + run)
            profiles.append(parse_importtime(fn.logs))
    finally:
        fn.close()
    return profiles


def median_profile(profiles: Sequence[Mapping[str, int]]) -> dict[str, int]:
    """Per module, the median self time over runs (modules seen in every run)."""
    names = set.intersection(*(set(p) for p in profiles)) if profiles else set()
    return {n: int(statistics.median(p[n] for p in profiles)) for n in names}


#: The runtime interface client's own imports: what a handler finds already loaded.
RUNTIME_PRELUDE = "import awslambdaric.bootstrap"


def statement_import_cost(statement: str, runs: int, *, python: str = sys.executable) -> float:
    """Median ms of import self time that ``statement`` adds after the runtime's prelude."""
    costs = []
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    for _ in range(runs):
        base = _importtime(f"{RUNTIME_PRELUDE}", python, env)
        own = _importtime(f"{RUNTIME_PRELUDE}\n{statement}", python, env)
        costs.append(import_profile(own, base).total_ms)
    return statistics.median(costs)


def _importtime(code: str, python: str, env: Mapping[str, str]) -> dict[str, int]:
    done = subprocess.run(
        [python, "-X", "importtime", "-c", code],
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{code!r} failed:\n{done.stderr[-2000:]}")
    return parse_importtime(done.stderr)


@dataclass(frozen=True)
class FloorImport:
    """A handler's import (init included) over an interpreter that imported msgspec alone."""

    median_ms: float
    min_ms: float
    modules: list[str]  # loaded by the handler's import, beyond msgspec's


_FLOOR_PROBE = """\
import sys, time
sys.path[:0] = {path!r}
import msgspec
before = set(sys.modules)
started = time.perf_counter()
import {module}
elapsed = time.perf_counter() - started
print(repr(elapsed))
print(" ".join(sorted(set(sys.modules) - before)))
"""


def import_over_msgspec(
    module: str,
    path: Sequence[Path],
    env: Mapping[str, str],
    runs: int,
    *,
    python: str | None = None,
) -> FloorImport:
    """``import module`` timed in a fresh ``-S -I`` interpreter after ``import msgspec``.

    ``path`` holds only the layer and the handlers (as on Lambda); ``env`` is what the
    function's init reads (table names, region, credentials).
    """
    interpreter = python or getattr(sys, "_base_executable", sys.executable)
    code = _FLOOR_PROBE.format(path=[str(p) for p in path], module=module)
    times: list[float] = []
    modules: list[str] = []
    for _ in range(runs):
        done = subprocess.run(
            [interpreter, "-S", "-I", "-c", code],
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **env},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"importing {module} failed:\n{done.stderr[-2000:]}")
        elapsed, loaded = done.stdout.splitlines()[:2]
        times.append(float(elapsed) * 1000)
        modules = loaded.split()
    return FloorImport(median_ms=statistics.median(times), min_ms=min(times), modules=modules)


#: The issue's targets on cold starts, each a ratio of two functions' median totals.
RATIOS: tuple[tuple[str, str, str, float], ...] = (
    ("hello world: hotcore bootstrap / awslambdaric", "hello-hotcore", "hello-python", 0.5),
    ("command: hotcore / Rust, HTTP", "hotcore-compiled/command", "rust/command", 2.3),
    (
        "command: hotcore / Rust, HTTPS",
        "hotcore-compiled/command-https",
        "rust/command-https",
        2.5,
    ),
    (
        "command: hotcore / hello world (awslambdaric)",
        "hotcore-compiled/command",
        "hello-python",
        1.8,
    ),
    ("query: hotcore / Rust, HTTP", "hotcore-compiled/query", "rust/query", 0.0),
    ("query: hotcore / Rust, HTTPS", "hotcore-compiled/query-https", "rust/query-https", 0.0),
    (
        "command: hotcore bootstrap / awslambdaric",
        "hotcore-compiled/command",
        "hotcore-compiled-awslambdaric/command",
        0.0,
    ),
    (
        "command HTTPS: hotcore bootstrap / awslambdaric",
        "hotcore-compiled/command-https",
        "hotcore-compiled-awslambdaric/command-https",
        0.0,
    ),
    (
        "command: hotcore / naive Python, HTTPS",
        "hotcore-compiled/command-https",
        "naive-python/command-https",
        0.0,
    ),
    ("command: Rust HTTPS / HTTP", "rust/command-https", "rust/command", 0.0),
    (
        "command: hotcore HTTPS / HTTP",
        "hotcore-compiled/command-https",
        "hotcore-compiled/command",
        0.0,
    ),
)


def ratios(summary: Mapping[str, Mapping[str, float]]) -> list[dict[str, Any]]:
    """Each ratio of ``RATIOS`` from the cold-start medians (``goal`` 0: reported only)."""
    found = []
    for label, top, bottom, goal in RATIOS:
        if top not in summary or bottom not in summary:
            continue
        value = summary[top]["total_median"] / summary[bottom]["total_median"]
        found.append(
            {
                "ratio": label,
                "value": value,
                "goal": goal or None,
                "met": None if not goal else value <= goal,
                "top_ms": summary[top]["total_median"],
                "bottom_ms": summary[bottom]["total_median"],
            }
        )
    return found
