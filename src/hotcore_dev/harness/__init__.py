"""A local Lambda: the Runtime API emulator and a launcher for real runtime processes.

For end-to-end tests and the cold-start benchmarks, never for handlers (nothing in a
handler's import graph may import this package). ``LocalLambda`` starts a handler the
way the managed python3.13 runtime does (``python -m awslambdaric``), or a custom
runtime's ``bootstrap``, against ``RuntimeApi`` on 127.0.0.1, sends events and
collects responses, errors, logs and timings::

    with LocalLambda("account/command.handler", code_dir="handlers", layer_dir=layer) as fn:
        ack = fn.invoke(event)
        fn.timings.init_ms, fn.timings.durations_ms

    cold = LocalLambda("hello", code_dir=d, bootstrap=d / "bootstrap").cold_start({})
    cold.total_ms, cold.usage.cpu_s, cold.usage.max_rss_kib

    # the managed runtime as Lambda starts it, through hotcore's wrapper
    runtime = ManagedRuntime.ensure(cache / "managed-runtime")
    LocalLambda("account/command.handler", code_dir="handlers", layer_dir=opt / "python",
                runtime=runtime, env={"AWS_LAMBDA_EXEC_WRAPPER": str(opt / "hotcore-bootstrap")})
"""

from hotcore_dev.harness.emulator import (
    REQUEST_LIMIT_BYTES,
    RESPONSE_LIMIT_BYTES,
    Invocation,
    RuntimeApi,
)
from hotcore_dev.harness.errors import (
    RESPONSE_TOO_LARGE,
    RUNTIME_EXIT_ERROR,
    TIMED_OUT,
    FunctionError,
    HarnessClosed,
    HarnessError,
    InitError,
    RequestTooLarge,
    ReservedVariable,
    ResponseNotJson,
)
from hotcore_dev.harness.launcher import (
    PYTHON_EXECUTION_ENV,
    ColdStart,
    Environment,
    InitializationType,
    InvocationTiming,
    InvokeResult,
    LocalLambda,
    Timings,
)
from hotcore_dev.harness.process import ProcessUsage
from hotcore_dev.harness.runtime import ManagedRuntime, link_distributions

__all__ = [
    "PYTHON_EXECUTION_ENV",
    "REQUEST_LIMIT_BYTES",
    "RESPONSE_LIMIT_BYTES",
    "RESPONSE_TOO_LARGE",
    "RUNTIME_EXIT_ERROR",
    "TIMED_OUT",
    "ColdStart",
    "Environment",
    "FunctionError",
    "HarnessClosed",
    "HarnessError",
    "InitError",
    "InitializationType",
    "Invocation",
    "InvocationTiming",
    "InvokeResult",
    "LocalLambda",
    "ManagedRuntime",
    "ProcessUsage",
    "RequestTooLarge",
    "ReservedVariable",
    "ResponseNotJson",
    "RuntimeApi",
    "Timings",
    "link_distributions",
]
