"""Run a handler as a real Lambda function process on this machine: ``LocalLambda``.

The managed python3.13 runtime starts ``python -m awslambdaric <module.function>`` in
``/var/task`` with the layers' ``/opt/python`` on the path and a fixed set of
environment variables; the runtime interface client then imports the handler (the
init phase) and polls the Runtime API for events. ``LocalLambda`` does the same with
the real ``awslambdaric`` and the emulator in ``emulator.py``: the code folder is the
task root and working directory, the layer folder goes on ``PYTHONPATH``, and the
process sees Lambda's variables and nothing of the caller's environment except
``PATH`` and what is passed in ``env``. A custom runtime (``provided.al2023``, e.g. a
Rust ``bootstrap``) runs the same way with ``bootstrap=`` instead of the Python client.

With ``runtime=`` (a ``ManagedRuntime``, see ``runtime.py``) the process starts the way
the managed runtime really starts it: its ``bootstrap`` script, the base interpreter
without this venv's packages, boto3 from the runtime's site-packages, awslambdaric
from ``LAMBDA_RUNTIME_DIR``, and ``AWS_LAMBDA_EXEC_WRAPPER`` (pass it in ``env``)
honoured: the wrapper is run with the runtime's command line, as on Lambda.

Lambda's semantics, as a caller of ``Invoke`` sees them:

- one event at a time per execution environment; the first invoke after a crash,
  timeout or failed init starts a fresh process (a new cold start);
- an init failure is the answer to the invoke that triggered the init (``InitError``);
- an invocation past its deadline gets ``Sandbox.Timedout`` and the process is killed;
- a process that exits mid-invocation gives ``Runtime.ExitError``;
- a response over 6 MB gives ``Function.ResponseSizeTooLarge``.

Timings are ``time.perf_counter_ns()`` readings of this process, taken where the event
happens (the fork, the runtime's requests to the emulator), never by the waiting
caller: ``Timings.init_ms`` (process start -> first poll for an event),
``first_response_ms`` (process start -> first answer: the cold start), and per
invocation ``duration_ms`` (event handed over -> answer, Lambda's "Duration").
``cold_start()`` adds the process's CPU time and peak RSS at its first answer.
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from hotcore.aws.sigv4 import Credentials
from hotcore_dev.harness.emulator import REQUEST_LIMIT_BYTES, Invocation, RuntimeApi
from hotcore_dev.harness.errors import (
    RESPONSE_TOO_LARGE,
    RUNTIME_EXIT_ERROR,
    TIMED_OUT,
    FunctionError,
    HarnessClosed,
    InitError,
    RequestTooLarge,
    ReservedVariable,
    ResponseNotJson,
)
from hotcore_dev.harness.process import ProcessUsage, RuntimeProcess, describe_exit
from hotcore_dev.harness.runtime import ManagedRuntime

__all__ = [
    "PYTHON_EXECUTION_ENV",
    "ColdStart",
    "Environment",
    "InitializationType",
    "InvocationTiming",
    "InvokeResult",
    "LocalLambda",
    "Timings",
]

#: AWS_EXECUTION_ENV of the managed runtime emulated (custom runtimes have none).
PYTHON_EXECUTION_ENV = "AWS_Lambda_python3.13"
InitializationType = Literal["on-demand", "provisioned-concurrency", "snap-start"]

# Variables Lambda sets and refuses to let a function configure, and where to set them here.
_RESERVED = {
    "_HANDLER": "handler=",
    "_X_AMZN_TRACE_ID": "trace_id= of send()",
    "AWS_REGION": "region=",
    "AWS_DEFAULT_REGION": "region=",
    "AWS_EXECUTION_ENV": "bootstrap= (custom runtimes have none)",
    "AWS_LAMBDA_FUNCTION_NAME": "function_name=",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "memory_mb=",
    "AWS_LAMBDA_FUNCTION_VERSION": "version=",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "initialization_type=",
    "AWS_LAMBDA_LOG_GROUP_NAME": "function_name=",
    "AWS_LAMBDA_LOG_STREAM_NAME": "nothing (one per environment)",
    "AWS_LAMBDA_RUNTIME_API": "nothing (the emulator's address)",
    "AWS_ACCESS_KEY": "credentials=",
    "AWS_ACCESS_KEY_ID": "credentials=",
    "AWS_SECRET_ACCESS_KEY": "credentials=",
    "AWS_SESSION_TOKEN": "credentials=",
    "LAMBDA_TASK_ROOT": "code_dir=",
    "LAMBDA_RUNTIME_DIR": "nothing",
}
# After a kill, how long to wait for the reaper before giving up on the logs' tail.
_REAP_TIMEOUT_S = 10.0
# After an init error or a 413, how long a runtime may take to exit before it is killed.
_EXIT_GRACE_S = 2.0


def _ms(start_ns: int | None, end_ns: int | None) -> float | None:
    if start_ns is None or end_ns is None:
        return None
    return (end_ns - start_ns) / 1e6


@dataclass(frozen=True)
class InvocationTiming:
    """When one event was queued, handed to the runtime and answered (perf_counter ns)."""

    queued_ns: int
    delivered_ns: int | None
    completed_ns: int

    @property
    def duration_ms(self) -> float | None:
        """Event handed over -> answer: Lambda's billed "Duration" (None if never delivered)."""
        return _ms(self.delivered_ns, self.completed_ns)

    @property
    def round_trip_ms(self) -> float:
        """``send()`` called -> answer, including any init the event waited for."""
        return (self.completed_ns - self.queued_ns) / 1e6


@dataclass(frozen=True)
class Timings:
    """One execution environment's lifecycle, as perf_counter ns readings and derived ms."""

    started_ns: int
    restore_next_ns: int | None
    first_next_ns: int | None
    first_response_ns: int | None
    exited_ns: int | None
    invocations: tuple[InvocationTiming, ...]

    @property
    def init_ms(self) -> float | None:
        """Process start -> runtime ready (first poll; /restore/next under SnapStart)."""
        return _ms(self.started_ns, self.restore_next_ns or self.first_next_ns)

    @property
    def restore_ms(self) -> float | None:
        """SnapStart only: /restore/next -> first poll (the after-restore hooks)."""
        return _ms(self.restore_next_ns, self.first_next_ns)

    @property
    def first_response_ms(self) -> float | None:
        """Process start -> first answer from the runtime: the cold start."""
        return _ms(self.started_ns, self.first_response_ns)

    @property
    def first_invoke_ms(self) -> float | None:
        """First ``send()`` -> its answer (includes init when the send started the process)."""
        return self.invocations[0].round_trip_ms if self.invocations else None

    @property
    def durations_ms(self) -> list[float]:
        """Each delivered invocation's Duration, in order."""
        return [t.duration_ms for t in self.invocations if t.duration_ms is not None]


@dataclass(frozen=True)
class InvokeResult:
    """One invocation's outcome: the response bytes or the error, timing, usage and logs."""

    request_id: str
    payload: bytes | None
    content_type: str | None
    error: FunctionError | None
    timing: InvocationTiming
    #: The runtime process's CPU time and peak RSS when it answered (None off Linux,
    #: and for platform errors).
    usage: ProcessUsage | None
    #: What the process wrote while this event was in flight (all of init for init errors).
    logs: str

    @property
    def ok(self) -> bool:
        return self.error is None

    def json(self) -> Any:
        """The response as JSON; raises the ``FunctionError`` if the invocation failed."""
        if self.error is not None:
            raise self.error
        payload = self.payload or b""
        try:
            return json.loads(payload)
        except ValueError:
            raise ResponseNotJson(self.request_id, payload) from None


@dataclass(frozen=True)
class ColdStart:
    """A fresh process's first invocation: the benchmark's unit of measure."""

    result: InvokeResult
    timings: Timings
    #: CPU time and peak RSS from the process start to its first answer, read from /proc
    #: as the answer arrives (CPU in clock ticks, 10 ms on most kernels; None off Linux).
    usage: ProcessUsage | None
    #: The same over the process's whole life, from ``wait4`` after the kill that follows
    #: the answer: finer CPU resolution, plus the little the runtime did after answering.
    exit_usage: ProcessUsage | None

    @property
    def total_ms(self) -> float:
        """Process start -> first answer."""
        total = self.timings.first_response_ms
        if total is None:  # pragma: no cover - a settled cold start always has an answer time
            return (self.result.timing.completed_ns - self.timings.started_ns) / 1e6
        return total

    @property
    def init_ms(self) -> float | None:
        return self.timings.init_ms

    @property
    def invoke_ms(self) -> float | None:
        return self.result.timing.duration_ms

    def json(self) -> Any:
        return self.result.json()


class Environment:
    """One execution environment: its runtime process, its Runtime API, logs and timings.

    Built before its process exists (the process may poll, answer or even exit before
    ``Popen`` returns to us: a Rust runtime is that fast); the emulator's callbacks
    wait for ``attach`` on the rare occasion they get there first.
    """

    def __init__(self, number: int, log_path: Path) -> None:
        self.number = number
        self.log_path = log_path
        self.api = RuntimeApi(on_deliver=self._delivered, on_result=self._answered)
        self.results: list[InvokeResult] = []
        self.submitted = 0
        self.retired = False
        self.first_response_ns: int | None = None
        self._process: RuntimeProcess | None = None
        self._attached = threading.Event()
        self._log_start: dict[str, int] = {}
        self._log_end: dict[str, int] = {}
        self._usage_at: dict[str, ProcessUsage | None] = {}
        self._final_logs: str | None = None

    def attach(self, process: RuntimeProcess) -> None:
        self._process = process
        self._attached.set()

    @property
    def process(self) -> RuntimeProcess:
        if self._process is None:
            raise RuntimeError("the environment's process has not been started")
        return self._process

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.alive

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    @property
    def exit_usage(self) -> ProcessUsage | None:
        """Whole-life CPU time and peak RSS, once the process has exited."""
        return self.process.exit_usage

    @property
    def init_error(self) -> InitError | None:
        return self.api.init_error

    @property
    def logs(self) -> str:
        """Everything the process wrote to stdout and stderr, in order."""
        if self._final_logs is not None:
            return self._final_logs
        return self.process.read_log()

    @property
    def timings(self) -> Timings:
        return Timings(
            started_ns=self.process.started_ns,
            restore_next_ns=self.api.restore_next_ns,
            first_next_ns=self.api.first_next_ns,
            first_response_ns=self.first_response_ns,
            exited_ns=self.process.exited_ns,
            invocations=tuple(result.timing for result in self.results),
        )

    def accepts(self) -> bool:
        """Can this environment take the next event? (A failed init answers one, then none.)"""
        if self.api.init_error is not None:
            return self.submitted == 0
        return self.alive and not self.retired

    def retire(self) -> None:
        """Take no more events: let the runtime exit on its own (it should), else kill it.

        After an init error the runtime exits by design; after a 413 awslambdaric
        exits too. Waiting for that keeps its last words in the log and keeps the next
        event from being queued to a process on its way out.
        """
        self.retired = True
        if not self.process.exited.wait(_EXIT_GRACE_S):
            self.process.stop(_REAP_TIMEOUT_S)

    def usage_at(self, request_id: str) -> ProcessUsage | None:
        return self._usage_at.get(request_id)

    def logs_of(self, request_id: str) -> str:
        """Output while ``request_id`` was in flight (from the process start if never delivered)."""
        return self.process.read_log(
            self._log_start.get(request_id, 0), self._log_end.get(request_id)
        )

    def _log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def _delivered(self, invocation: Invocation) -> None:
        self._log_start[invocation.request_id] = self._log_size()

    def _answered(self, invocation: Invocation) -> None:
        if self.first_response_ns is None:
            self.first_response_ns = invocation.completed_ns
        # Sampled before the runtime hears 202: the figures stop at its answer.
        if self._attached.wait(_REAP_TIMEOUT_S):
            self._usage_at[invocation.request_id] = self.process.sample_usage()
        self._log_end[invocation.request_id] = self._log_size()

    def settle_after_exit(self, process: RuntimeProcess) -> None:
        """Fail what the dead process left unanswered (idempotent: safe to call again)."""
        reason = describe_exit(process.returncode if process.returncode is not None else -1)
        self.api.fail_init(InitError(RUNTIME_EXIT_ERROR, f"Runtime exited with error: {reason}"))
        self.api.fail_pending(self.exit_error)

    def exit_error(self, invocation: Invocation) -> FunctionError:
        """What Lambda answers for an event whose runtime process exited."""
        returncode = self.process.returncode
        reason = describe_exit(-1 if returncode is None else returncode)
        sentence = (
            "Runtime exited without providing a reason"
            if returncode == 0
            else f"Runtime exited with error: {reason}"
        )
        return FunctionError(
            RUNTIME_EXIT_ERROR,
            f"RequestId: {invocation.request_id} Error: {sentence}",
            request_id=invocation.request_id,
        )

    def close(self, *, keep_logs: bool = True) -> None:
        if self._process is not None:
            self._process.stop(_REAP_TIMEOUT_S)
            if keep_logs and self._final_logs is None:
                self._final_logs = self._process.read_log()
        self.api.close()

    def __repr__(self) -> str:
        if self._process is None:
            return f"Environment(#{self.number}, not started)"
        state = "alive" if self.alive else f"exited {self.returncode}"
        return f"Environment(#{self.number}, pid={self.pid}, {state})"


class LocalLambda:
    """A Lambda function run locally as a real runtime process, one event at a time.

    ``handler`` is the function's handler setting (``account/command.handler``: file
    path under ``code_dir`` with ``/`` and the attribute after the last dot), or for a
    custom runtime whatever ``_HANDLER`` should say. ``bootstrap`` makes it a custom
    runtime: the executable (or argv) to start instead of ``python -m awslambdaric``.

    Use it as a context manager: entering starts the process and waits for its init
    (without raising: an init failure is the next invoke's answer, as on Lambda);
    leaving kills whatever is running. Not thread-safe: one caller invokes at a time.
    """

    def __init__(
        self,
        handler: str,
        *,
        code_dir: Path | str,
        layer_dir: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        python: str = sys.executable,
        python_args: Sequence[str] = (),
        bootstrap: Path | str | Sequence[str] | None = None,
        runtime: ManagedRuntime | None = None,
        function_name: str = "hotcore-local",
        memory_mb: int = 128,
        timeout: float = 30.0,
        init_timeout: float = 10.0,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        version: str = "$LATEST",
        credentials: Credentials | None = None,
        initialization_type: InitializationType = "on-demand",
        log_dir: Path | str | None = None,
    ) -> None:
        """Configure the function; nothing starts until ``start()``, ``send()`` or ``with``.

        ``timeout`` is the function timeout (Lambda's default is 3 s; the harness's is
        longer because tests run on shared, noisy machines); ``init_timeout`` bounds the
        init phase (Lambda's 10 s). ``credentials`` become AWS_ACCESS_KEY_ID & co.
        (leave them out and pass the container-credentials variables in ``env`` to
        emulate SnapStart). ``log_dir`` keeps each environment's log file there;
        without it they live in a temporary folder removed by ``close()`` (the text
        stays readable through ``logs``).
        """
        self.handler = handler
        self.code_dir = Path(code_dir).resolve()
        self.layer_dir = None if layer_dir is None else Path(layer_dir).resolve()
        self.runtime = runtime
        self.python = python if runtime is None else str(runtime.python)
        self.python_args = list(python_args)
        if runtime is not None and (bootstrap is not None or self.python_args):
            raise ValueError(
                "runtime= starts the managed runtime's own command: no bootstrap= and no "
                "python_args= (interpreter flags go in AWS_LAMBDA_EXEC_WRAPPER's script, or "
                "PYTHON* variables in env)"
            )
        if bootstrap is None:
            self.bootstrap: list[str] | None = None
        elif isinstance(bootstrap, (str, Path)):
            self.bootstrap = [str(Path(bootstrap).resolve())]
        else:
            self.bootstrap = [str(part) for part in bootstrap]
        self.function_name = function_name
        self.memory_mb = memory_mb
        self.timeout = timeout
        self.init_timeout = init_timeout
        self.region = region
        self.account_id = account_id
        self.version = version
        self.credentials = credentials
        self.initialization_type: InitializationType = initialization_type
        extra = dict(env or {})
        for name in extra:
            if name in _RESERVED:
                raise ReservedVariable(name, _RESERVED[name])
        self.extra_env = extra
        if not self.code_dir.is_dir():
            raise FileNotFoundError(f"code_dir {self.code_dir} is not a folder")
        if self.layer_dir is not None and not self.layer_dir.is_dir():
            raise FileNotFoundError(f"layer_dir {self.layer_dir} is not a folder")
        self._own_log_dir = log_dir is None
        if log_dir is None:
            self.log_dir = Path(tempfile.mkdtemp(prefix="local-lambda-"))
            # Removed by close(), or when the object goes away without one.
            self._remove_log_dir = weakref.finalize(self, shutil.rmtree, self.log_dir, True)
        else:
            self.log_dir = Path(log_dir)
            self.log_dir.mkdir(parents=True, exist_ok=True)
        self.environments: list[Environment] = []
        self._closed = False
        self._lock = threading.Lock()

    # -- what the process sees ---------------------------------------------------------

    @property
    def function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    @property
    def argv(self) -> list[str]:
        """The command that starts the runtime (run in ``code_dir``)."""
        if self.bootstrap is not None:
            return list(self.bootstrap)
        if self.runtime is not None:
            return [str(self.runtime.bootstrap)]
        return [self.python, *self.python_args, "-m", "awslambdaric", self.handler]

    def environment_variables(self, runtime_api: str, log_stream: str) -> dict[str, str]:
        """The runtime process's whole environment, built from scratch like Lambda's."""
        variables = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "_HANDLER": self.handler,
            "AWS_LAMBDA_RUNTIME_API": runtime_api,
            "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": self.version,
            "AWS_LAMBDA_INITIALIZATION_TYPE": self.initialization_type,
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "LAMBDA_TASK_ROOT": str(self.code_dir),
        }
        if self.bootstrap is None:
            variables["AWS_EXECUTION_ENV"] = PYTHON_EXECUTION_ENV
            variables["LAMBDA_RUNTIME_DIR"] = str(
                Path(self.python).parent if self.runtime is None else self.runtime.runtime_dir
            )
            if self.layer_dir is not None:
                # Lambda's order for a layer's /opt/python: the site-packages form first.
                site = self.layer_dir / "lib" / "python3.13" / "site-packages"
                variables["PYTHONPATH"] = os.pathsep.join([str(site), str(self.layer_dir)])
        else:
            variables["LAMBDA_RUNTIME_DIR"] = str(Path(self.bootstrap[0]).parent)
            if self.layer_dir is not None:
                variables["LD_LIBRARY_PATH"] = str(self.layer_dir / "lib")
        if self.credentials is not None:
            variables["AWS_ACCESS_KEY_ID"] = self.credentials.access_key
            variables["AWS_SECRET_ACCESS_KEY"] = self.credentials.secret_key
            if self.credentials.token:
                variables["AWS_SESSION_TOKEN"] = self.credentials.token
        variables.update(self.extra_env)
        return variables

    # -- lifecycle -------------------------------------------------------------------

    @property
    def environment(self) -> Environment | None:
        """The current (or last) execution environment."""
        return self.environments[-1] if self.environments else None

    @property
    def timings(self) -> Timings:
        """Timings of the current (or last) environment."""
        return self._require_environment().timings

    @property
    def logs(self) -> str:
        """Output of the current (or last) environment's process."""
        return self._require_environment().logs

    def start(self) -> Environment:
        """Start a process unless one is running, and wait for the end of its init.

        Returns the environment; an init failure is recorded (``environment.init_error``)
        and returned by the next ``send``, not raised here.
        """
        with self._lock:
            current = self.environment
            if current is not None and current.accepts():
                environment = current
            else:
                environment = self._spawn(None)
        self._await_init(environment)
        return environment

    def stop(self) -> None:
        """Kill the current process (the next ``send`` starts a fresh one)."""
        current = self.environment
        if current is not None:
            current.close()

    def close(self) -> None:
        """Kill every process and stop every emulator; remove the temporary log folder."""
        if self._closed:
            return
        self._closed = True
        for environment in self.environments:
            environment.close(keep_logs=True)
        if self._own_log_dir:
            self._remove_log_dir()

    def __enter__(self) -> LocalLambda:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- invoking ------------------------------------------------------------------------

    def invoke(
        self,
        event: Any,
        *,
        timeout: float | None = None,
        request_id: str | None = None,
        trace_id: str | None = None,
        client_context: Mapping[str, Any] | None = None,
        cognito_identity: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send ``event`` and return the JSON response; raises ``FunctionError`` on failure."""
        return self.send(
            event,
            timeout=timeout,
            request_id=request_id,
            trace_id=trace_id,
            client_context=client_context,
            cognito_identity=cognito_identity,
        ).json()

    def send(
        self,
        event: Any,
        *,
        timeout: float | None = None,
        request_id: str | None = None,
        trace_id: str | None = None,
        client_context: Mapping[str, Any] | None = None,
        cognito_identity: Mapping[str, Any] | None = None,
    ) -> InvokeResult:
        """Send ``event`` (JSON-encoded; ``bytes`` go as they are) and wait for the outcome.

        Never raises for the function's failures: they are in ``result.error``.
        ``timeout`` overrides the function timeout for this event.
        """
        invocation = self._invocation(
            event,
            timeout=self.timeout if timeout is None else timeout,
            request_id=request_id,
            trace_id=trace_id,
            client_context=client_context,
            cognito_identity=cognito_identity,
        )
        with self._lock:
            current = self.environment
            if current is not None and current.accepts():
                environment = current
                environment.submitted += 1
                environment.api.submit(invocation)
            else:
                environment = self._spawn(invocation)
        return self._await(environment, invocation)

    def cold_start(
        self, event: Any, *, check: bool = True, timeout: float | None = None
    ) -> ColdStart:
        """A fresh process, one event, then the process is killed.

        The event is queued before the process starts, as on-demand Lambda does, so the
        runtime's first poll gets it. ``check`` raises the invocation's ``FunctionError``
        (a benchmark of a failing handler measures nothing useful).
        """
        self.stop()
        invocation = self._invocation(
            event,
            timeout=self.timeout if timeout is None else timeout,
            request_id=None,
            trace_id=None,
            client_context=None,
            cognito_identity=None,
        )
        with self._lock:
            environment = self._spawn(invocation)
        result = self._await(environment, invocation)
        environment.close()
        cold = ColdStart(
            result=result,
            timings=environment.timings,
            usage=result.usage,
            exit_usage=environment.exit_usage,
        )
        if check and result.error is not None:
            raise result.error
        return cold

    # -- internals -----------------------------------------------------------------------

    def _require_environment(self) -> Environment:
        if self.environment is None:
            raise RuntimeError("no process has been started yet; call start() or send()")
        return self.environment

    def _invocation(
        self,
        event: Any,
        *,
        timeout: float,
        request_id: str | None,
        trace_id: str | None,
        client_context: Mapping[str, Any] | None,
        cognito_identity: Mapping[str, Any] | None,
    ) -> Invocation:
        payload = event if isinstance(event, bytes) else json.dumps(event).encode()
        if len(payload) > REQUEST_LIMIT_BYTES:
            raise RequestTooLarge(len(payload), REQUEST_LIMIT_BYTES)
        return Invocation(
            payload,
            request_id=request_id or str(uuid.uuid4()),
            timeout_s=timeout,
            function_arn=self.function_arn,
            trace_id=trace_id or _new_trace_id(),
            client_context=None if client_context is None else json.dumps(client_context),
            cognito_identity=None if cognito_identity is None else json.dumps(cognito_identity),
        )

    def _spawn(self, first: Invocation | None) -> Environment:
        """A new environment; ``first`` is queued before the process exists (on-demand)."""
        if self._closed:
            raise HarnessClosed("this LocalLambda is closed")
        previous = self.environment
        if previous is not None:
            previous.close()
        number = len(self.environments) + 1
        environment = Environment(number, self.log_dir / f"environment-{number}.log")
        if first is not None:
            environment.api.submit(first)
            environment.submitted = 1
        log_stream = (
            f"{datetime.datetime.now(datetime.UTC):%Y/%m/%d}/[{self.version}]{uuid.uuid4().hex}"
        )
        try:
            process = RuntimeProcess(
                self.argv,
                env=self.environment_variables(environment.api.address, log_stream),
                cwd=self.code_dir,
                log_path=environment.log_path,
                on_exit=environment.settle_after_exit,
            )
        except BaseException:
            environment.api.close()
            raise
        environment.attach(process)
        self.environments.append(environment)
        return environment

    def _await_init(self, environment: Environment) -> None:
        deadline = environment.process.started_ns + int(self.init_timeout * 1e9)
        while not environment.api.init_done.is_set() and environment.alive:
            remaining = (deadline - time.perf_counter_ns()) / 1e9
            if remaining <= 0:
                self._init_timed_out(environment)
                return
            environment.api.init_done.wait(min(remaining, 0.05))
        if environment.api.init_error is not None:
            environment.retire()

    def _init_timed_out(self, environment: Environment) -> None:
        environment.api.fail_init(
            InitError(TIMED_OUT, f"Init phase timed out after {self.init_timeout:.2f} seconds")
        )
        environment.process.stop(_REAP_TIMEOUT_S)

    def _await(self, environment: Environment, invocation: Invocation) -> InvokeResult:
        api = environment.api
        timeout_ns = int(invocation.timeout_s * 1e9)
        while not invocation.done.is_set():
            if environment.process.exited.is_set():
                # Submitted just as the process died: its exit handler may have run already.
                environment.settle_after_exit(environment.process)
                api.fail(invocation, environment.exit_error(invocation))
                break
            now = time.perf_counter_ns()
            if invocation.delivered_ns is not None:
                limit = invocation.delivered_ns + timeout_ns
            elif not api.init_done.is_set():
                limit = environment.process.started_ns + int(self.init_timeout * 1e9)
            else:
                limit = max(invocation.queued_ns, api.init_done_ns or 0) + timeout_ns
            if now >= limit:
                if invocation.delivered_ns is None and not api.init_done.is_set():
                    self._init_timed_out(environment)
                else:
                    api.fail(
                        invocation,
                        FunctionError(
                            TIMED_OUT,
                            f"RequestId: {invocation.request_id} Error: Task timed out after "
                            f"{invocation.timeout_s:.2f} seconds",
                            request_id=invocation.request_id,
                        ),
                    )
                    # Lambda does not reuse an environment whose invocation timed out.
                    environment.process.stop(_REAP_TIMEOUT_S)
                break
            invocation.done.wait(min((limit - now) / 1e9, 0.05))
        invocation.done.wait()
        error_type = invocation.error.error_type if invocation.error is not None else None
        if environment.api.init_error is not None or error_type == RESPONSE_TOO_LARGE:
            environment.retire()
        result = self._result(environment, invocation)
        environment.results.append(result)
        return result

    def _result(self, environment: Environment, invocation: Invocation) -> InvokeResult:
        assert invocation.completed_ns is not None  # done is set only after settling
        request_id = invocation.request_id
        if invocation.error is not None and not environment.alive:
            # The process is gone (or going): wait for the reaper so the log tail is in.
            environment.process.exited.wait(_REAP_TIMEOUT_S)
        return InvokeResult(
            request_id=request_id,
            payload=invocation.response,
            content_type=invocation.content_type,
            error=invocation.error,
            timing=InvocationTiming(
                queued_ns=invocation.queued_ns,
                delivered_ns=invocation.delivered_ns,
                completed_ns=invocation.completed_ns,
            ),
            usage=environment.usage_at(request_id),
            logs=environment.logs_of(request_id),
        )

    def __repr__(self) -> str:
        runtime = "custom" if self.bootstrap is not None else PYTHON_EXECUTION_ENV
        if self.runtime is not None:
            wrapper = self.extra_env.get("AWS_LAMBDA_EXEC_WRAPPER")
            runtime += " (managed" + (f", wrapper {wrapper})" if wrapper else ")")
        return f"LocalLambda({self.handler!r}, {runtime}, code_dir={str(self.code_dir)!r})"


def _new_trace_id() -> str:
    """An X-Ray trace header as Lambda passes it (sampling off: nothing is sent anywhere)."""
    return (
        f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};"
        f"Parent={secrets.token_hex(8)};Sampled=0"
    )
