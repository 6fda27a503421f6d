"""Cold starts, warm invocations and import times, through the local Lambda harness.

A cold start is a fresh runtime process answering its first event (``LocalLambda.
cold_start``): total (process start -> answer), init (-> first poll), invoke, CPU time
of the process (``wait4``) and its peak RSS (``VmHWM`` when it answered: ``wait4``'s
figure would include the harness process it was forked from). Runs of the different
implementations are interleaved, so a burst of load on this shared machine hits them
all alike.

``-X importtime`` lines are summed per module; a handler's import cost is what it
imports beyond the bare runtime's hello world, in the same runtime process.
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
from hotcore.runtime.lambda_harness import LocalLambda

__all__ = [
    "ColdSample",
    "Function",
    "ImportProfile",
    "WarmSample",
    "cold_starts",
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

    def local_lambda(
        self,
        credentials: Credentials | None,
        region: str,
        python_args: Sequence[str] = (),
    ) -> LocalLambda:
        return LocalLambda(
            self.handler,
            code_dir=self.code_dir,
            layer_dir=self.layer_dir,
            bootstrap=self.bootstrap,
            env=dict(self.env),
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
