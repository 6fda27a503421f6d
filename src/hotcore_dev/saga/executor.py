"""Runs a loaded state machine in-process, with Python callables as its Lambda functions.

The executor follows Step Functions' JSONPath data flow (InputPath ->
Parameters -> task -> ResultSelector -> ResultPath -> OutputPath), its error
handling (retriers scanned in order with a counter each, then catchers in
order; ``States.ALL`` and ``States.TaskFailed`` wildcards; ``States.Runtime``
and ``States.DataLimitExceeded`` never caught) and the shape of a Lambda
invoke result. Time comes from an injectable clock: Wait states, retry
back-off and timeouts advance a virtual clock instead of sleeping, so tests
and ``hotcore demo`` run instantly and deterministically.

Every execution records a history of events, named like Step Functions'
history events, plus two local ones that make retries and catches visible in
a timeline: ``RetryScheduled`` and ``ErrorCaught``.
"""

from __future__ import annotations

import json
import random
import traceback
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

import msgspec

from hotcore_dev.saga.choice import evaluate as evaluate_rule
from hotcore_dev.saga.choice import parse_timestamp
from hotcore_dev.saga.definition import (
    LAMBDA_INVOKE,
    Catcher,
    ChoiceState,
    FailState,
    Graph,
    MapState,
    ParallelState,
    PassState,
    Retrier,
    State,
    StateMachine,
    SucceedState,
    TaskState,
    WaitState,
)
from hotcore_dev.saga.errors import MissingTaskHandler, StatesError, TaskError
from hotcore_dev.saga.intrinsics import Call, Evaluator
from hotcore_dev.saga.jsonpath import PathCannotBeSet, PathNotFound, ReferencePath
from hotcore_dev.saga.template import Template, intrinsic_caller
from hotcore_dev.saga.values import MAX_PAYLOAD_BYTES, Json, NotJson, clone, encode, to_json

type TaskHandler = Callable[[Any], object]
type ExecutionStatus = Literal["SUCCEEDED", "FAILED", "TIMED_OUT"]

# Step Functions stops a standard execution at 25,000 history events; the same
# cap here turns an accidental infinite loop into a failed execution.
MAX_HISTORY_EVENTS = 25_000


class Clock(Protocol):
    """Where the executor gets the time, and how it waits."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass."""
        ...


class VirtualClock:
    """A clock that moves only when asked: ``sleep`` advances it instantly."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        if self._now.tzinfo is None:
            raise ValueError("VirtualClock needs a timezone-aware start time")
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self._now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Move time forward, e.g. inside a handler to simulate a slow task."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self._now += timedelta(seconds=seconds)


class SystemClock:
    """Real time and real sleeping, for running a definition at its true pace."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        import time

        time.sleep(seconds)


class HistoryEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One step of an execution, like an entry of Step Functions' execution history."""

    id: int
    type: str
    timestamp: datetime
    state: str | None = None
    details: dict[str, Json] = msgspec.field(default_factory=dict)


class Execution(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of one run: status, output or error and cause, and the full history."""

    execution_arn: str
    name: str
    status: ExecutionStatus
    input: Json
    output: Json
    error: str | None
    cause: str | None
    start_date: datetime
    stop_date: datetime
    history: list[HistoryEvent]

    def events(self, event_type: str) -> list[HistoryEvent]:
        """The history events of one type, in order."""
        return [event for event in self.history if event.type == event_type]


class _TimedOut(Exception):
    """The state machine's own TimeoutSeconds elapsed."""


class _Run:
    """The mutable side of one execution: clock, history, context object."""

    def __init__(self, executor: LocalExecutor, name: str, arn: str, input_value: Json) -> None:
        self.executor = executor
        self.clock = executor.clock
        self.name = name
        self.arn = arn
        self.input = input_value
        self.started = self.clock.now()
        self.history: list[HistoryEvent] = []

    def record(self, event_type: str, state: str | None = None, **details: Json) -> None:
        if len(self.history) >= self.executor.max_history_events:
            raise StatesError(
                "States.Runtime",
                f"the execution reached the history limit of "
                f"{self.executor.max_history_events} events",
            )
        self.history.append(
            HistoryEvent(
                id=len(self.history) + 1,
                type=event_type,
                timestamp=self.clock.now(),
                state=state,
                details=details,
            )
        )

    def context(
        self, state: str, entered: datetime, retry_count: int = 0, item: Json = None
    ) -> Json:
        machine = self.executor.machine
        context: dict[str, Json] = {
            "Execution": {
                "Id": self.arn,
                "Input": clone(self.input),
                "Name": self.name,
                "RoleArn": self.executor.role_arn,
                "StartTime": iso(self.started),
                "RedriveCount": 0,
            },
            "State": {"EnteredTime": iso(entered), "Name": state, "RetryCount": retry_count},
            "StateMachine": {"Id": self.executor.state_machine_arn, "Name": machine.name},
        }
        if item is not None:
            context["Map"] = {"Item": item}
        return context

    def check_deadline(self) -> None:
        timeout = self.executor.machine.timeout_seconds
        if timeout is not None and (self.clock.now() - self.started).total_seconds() > timeout:
            raise _TimedOut


class LocalExecutor:
    """Executes one state machine with local task handlers.

    ``handlers`` maps a Lambda function (its name, or any ARN form of it) to a
    Python callable taking the invoke payload and returning the function's
    result. Every function named literally in the definition must have a
    handler, checked here, so a typo fails before any execution starts.
    """

    def __init__(
        self,
        machine: StateMachine,
        handlers: Mapping[str, TaskHandler],
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        new_uuid: Callable[[], str] | None = None,
        region: str = "us-east-1",
        account: str = "123456789012",
        max_history_events: int = MAX_HISTORY_EVENTS,
    ) -> None:
        self.machine = machine
        self.clock: Clock = clock or VirtualClock()
        self.rng = rng or random.Random()
        self.new_uuid = new_uuid or (lambda: str(uuid.uuid4()))
        self.region = region
        self.account = account
        self.max_history_events = max_history_events
        self.state_machine_arn = f"arn:aws:states:{region}:{account}:stateMachine:{machine.name}"
        self.role_arn = f"arn:aws:iam::{account}:role/{machine.name}-local"
        self._intrinsics = intrinsic_caller(Evaluator(self.new_uuid))
        self._handlers: dict[str, TaskHandler] = {}
        for key, handler in handlers.items():
            short = function_name(key)
            if short in self._handlers and self._handlers[short] is not handler:
                raise ValueError(f"two different handlers are registered for function {short!r}")
            self._handlers[short] = handler
        missing = sorted(
            {
                f"{task.function} (state {task.name!r})"
                for task in machine.tasks()
                if task.function is not None and function_name(task.function) not in self._handlers
            }
        )
        if missing:
            raise MissingTaskHandler("no local handler for " + ", ".join(missing))

    def run(self, input_value: object = None, *, name: str | None = None) -> Execution:
        """Run one execution to its end and return it; never raises for a failed execution.

        ``input_value`` defaults to ``{}`` as in Step Functions; ``name`` defaults
        to a fresh UUID.
        """
        execution_name = name or self.new_uuid()
        arn = (
            f"arn:aws:states:{self.region}:{self.account}:execution:"
            f"{self.machine.name}:{execution_name}"
        )
        data: Json = {} if input_value is None else to_json(input_value)
        run = _Run(self, execution_name, arn, data)
        run.record("ExecutionStarted", input=clone(data))
        status: ExecutionStatus
        output: Json = None
        error: str | None = None
        cause: str | None = None
        try:
            _check_size(data, "the execution input")
            output = self._graph(run, self.machine.graph, clone(data))
            status = "SUCCEEDED"
            run.record("ExecutionSucceeded", output=clone(output))
        except _TimedOut:
            status, error = "TIMED_OUT", "States.Timeout"
            cause = f"the execution ran longer than {self.machine.timeout_seconds} seconds"
            run.history.append(_final_event(run, "ExecutionTimedOut", error, cause))
        except StatesError as failure:
            status, error, cause = "FAILED", failure.error, failure.cause
            run.history.append(_final_event(run, "ExecutionFailed", error, cause))
        return Execution(
            execution_arn=arn,
            name=execution_name,
            status=status,
            input=data,
            output=output,
            error=error,
            cause=cause,
            start_date=run.started,
            stop_date=self.clock.now(),
            history=run.history,
        )

    # -- states -----------------------------------------------------------------

    def _graph(self, run: _Run, graph: Graph, data: Json) -> Json:
        name: str | None = graph.start_at
        while name is not None:
            run.check_deadline()
            state = graph.states[name]
            entered = self.clock.now()
            run.record(f"{state.type}StateEntered", state.name, input=clone(data))
            data, name = self._state(run, state, data, entered)
            _check_size(data, f"the output of state {state.name!r}")
            if not isinstance(state, FailState):
                run.record(f"{state.type}StateExited", state.name, output=clone(data))
            if isinstance(state, SucceedState):
                break
        return data

    def _state(
        self, run: _Run, state: State, raw: Json, entered: datetime
    ) -> tuple[Json, str | None]:
        context = run.context(state.name, entered)
        if isinstance(state, FailState):
            raise StatesError(
                _fail_text(state.error, state.error_path, raw, context, self, "ErrorPath"),
                _fail_text(state.cause, state.cause_path, raw, context, self, "CausePath"),
            )
        effective = _select(state.input_path, raw, state.name, "InputPath")
        if isinstance(state, PassState):
            if state.parameters is not None:
                effective = self._render(state.parameters, effective, context)
            result = clone(state.result) if state.has_result else effective
            output = _place(state.result_path, raw, result, state.name)
        elif isinstance(state, ChoiceState):
            return self._choice(state, effective, context)
        elif isinstance(state, WaitState):
            self._wait(run, state, effective)
            output = effective
        elif isinstance(state, SucceedState):
            output = effective
        elif isinstance(state, TaskState | ParallelState | MapState):
            return self._with_retries(run, state, raw, effective, entered)
        else:
            raise AssertionError(f"state type {state.type} has no executor")
        return _select(state.output_path, output, state.name, "OutputPath"), state.next

    def _choice(
        self, state: ChoiceState, effective: Json, context: Json
    ) -> tuple[Json, str | None]:
        output = _select(state.output_path, effective, state.name, "OutputPath")
        for branch in state.choices:
            if evaluate_rule(branch.rule, effective, context):
                return output, branch.next
        if state.default is not None:
            return output, state.default
        raise StatesError(
            "States.NoChoiceMatched",
            f"No Matches! (state {state.name!r} matched no choice rule and has no Default)",
        )

    def _wait(self, run: _Run, state: WaitState, effective: Json) -> None:
        if state.seconds is not None:
            seconds: float = state.seconds
        elif state.seconds_path is not None:
            value = _get(state.seconds_path, effective, state.name, "SecondsPath")
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise StatesError(
                    "States.Runtime",
                    f"SecondsPath {state.seconds_path.text!r} must select a non-negative "
                    f"integer, got {value!r} (state {state.name!r})",
                )
            seconds = value
        else:
            if state.timestamp is not None:
                text: Json = state.timestamp
            else:
                assert state.timestamp_path is not None
                text = _get(state.timestamp_path, effective, state.name, "TimestampPath")
            until = parse_timestamp(text) if isinstance(text, str) else None
            if until is None:
                raise StatesError(
                    "States.Runtime",
                    f"TimestampPath must select an RFC 3339 timestamp, got {text!r} "
                    f"(state {state.name!r})",
                )
            seconds = max(0.0, (until - self.clock.now()).total_seconds())
        self.clock.sleep(seconds)
        run.check_deadline()

    def _with_retries(
        self,
        run: _Run,
        state: TaskState | ParallelState | MapState,
        raw: Json,
        effective: Json,
        entered: datetime,
    ) -> tuple[Json, str | None]:
        counts = [0] * len(state.retry)
        retries = 0
        while True:
            try:
                result = self._attempt(run, state, effective, entered, retries)
                output = _place(state.result_path, raw, result, state.name)
                break
            except StatesError as failure:
                if failure.terminal:
                    raise
                index = _first_match(failure.error, [r.error_equals for r in state.retry])
                if index is not None and counts[index] < state.retry[index].max_attempts:
                    counts[index] += 1
                    retries += 1
                    delay = self._delay(state.retry[index], counts[index])
                    run.record(
                        "RetryScheduled",
                        state.name,
                        error=failure.error,
                        cause=failure.cause,
                        retrier=index,
                        attempt=counts[index],
                        delay_seconds=delay,
                    )
                    self.clock.sleep(delay)
                    run.check_deadline()
                    continue
                catch = _first_match(failure.error, [c.error_equals for c in state.catch])
                if catch is None:
                    raise
                catcher = state.catch[catch]
                return self._caught(run, state, catcher, catch, failure, raw), catcher.next
        return _select(state.output_path, output, state.name, "OutputPath"), state.next

    def _caught(
        self,
        run: _Run,
        state: State,
        catcher: Catcher,
        index: int,
        failure: StatesError,
        raw: Json,
    ) -> Json:
        error_output: dict[str, Json] = {"Error": failure.error}
        if failure.cause is not None:
            error_output["Cause"] = failure.cause
        run.record(
            "ErrorCaught",
            state.name,
            error=failure.error,
            cause=failure.cause,
            catcher=index,
            next=catcher.next,
        )
        # The error output goes to the catcher's Next through the catcher's own
        # ResultPath, applied to the state's raw input; OutputPath does not apply.
        return _place(catcher.result_path, raw, error_output, state.name)

    def _delay(self, retrier: Retrier, retry_number: int) -> float:
        delay = retrier.delay(retry_number)
        if retrier.jitter == "FULL":
            delay = self.rng.uniform(0.0, delay)
        return delay

    def _attempt(
        self,
        run: _Run,
        state: TaskState | ParallelState | MapState,
        effective: Json,
        entered: datetime,
        retries: int,
    ) -> Json:
        context = run.context(state.name, entered, retries)
        if isinstance(state, TaskState):
            result = self._task(run, state, effective, context)
        elif isinstance(state, ParallelState):
            branch_input = effective
            if state.parameters is not None:
                branch_input = self._render(state.parameters, effective, context)
            result = [self._graph(run, branch, clone(branch_input)) for branch in state.branches]
        else:
            result = self._map(run, state, effective, entered, retries)
        if state.result_selector is not None:
            result = self._render(state.result_selector, result, context)
        return result

    def _map(
        self, run: _Run, state: MapState, effective: Json, entered: datetime, retries: int
    ) -> list[Json]:
        items = _get(state.items_path, effective, state.name, "ItemsPath")
        if not isinstance(items, list):
            raise StatesError(
                "States.Runtime",
                f"ItemsPath {state.items_path.text!r} must select a JSON array "
                f"(state {state.name!r})",
            )
        results: list[Json] = []
        for index, item in enumerate(items):
            item_input = item
            if state.item_selector is not None:
                context = run.context(
                    state.name, entered, retries, item={"Index": index, "Value": clone(item)}
                )
                item_input = self._render(state.item_selector, effective, context)
            run.record("MapIterationStarted", state.name, index=index)
            results.append(self._graph(run, state.processor, clone(item_input)))
            run.record("MapIterationSucceeded", state.name, index=index)
        return results

    def _task(self, run: _Run, state: TaskState, effective: Json, context: Json) -> Json:
        payload: Json
        if state.integration == "lambda:invoke":
            assert state.parameters is not None
            parameters = self._render(state.parameters, effective, context)
            assert isinstance(parameters, dict)
            function = parameters.get("FunctionName")
            if not isinstance(function, str) or not function:
                raise StatesError(
                    "States.Runtime",
                    f"FunctionName must be a non-empty string, got {function!r} "
                    f"(state {state.name!r})",
                )
            payload = parameters.get("Payload")
            scheduled: Json = parameters
        else:
            assert state.function is not None
            function = state.function
            payload = effective
            if state.parameters is not None:
                payload = self._render(state.parameters, effective, context)
            scheduled = payload
        _check_size(payload, f"the input of task {state.name!r}")
        run.record(
            "TaskScheduled", state.name, resource=state.resource, parameters=clone(scheduled)
        )
        request_id = self.new_uuid()
        handler = self._handlers.get(function_name(function))
        if handler is None:
            error, cause = (
                "Lambda.ResourceNotFoundException",
                f"Function not found: {function} (no local handler is registered)",
            )
            run.record("TaskFailed", state.name, error=error, cause=cause)
            raise StatesError(error, cause)
        started = self.clock.now()
        failure: tuple[str, str | None] | None = None
        value: object = None
        try:
            value = handler(clone(payload))
        except TaskError as exc:
            failure = (exc.error, exc.cause)
        except Exception as exc:
            failure = (type(exc).__name__, lambda_error_cause(exc, request_id))
        elapsed = (self.clock.now() - started).total_seconds()
        if state.timeout_seconds is not None and elapsed > state.timeout_seconds:
            cause = f"the task ran {elapsed:g}s, longer than TimeoutSeconds {state.timeout_seconds}"
            run.record("TaskTimedOut", state.name, error="States.Timeout", cause=cause)
            raise StatesError("States.Timeout", cause)
        if failure is None:
            try:
                result = to_json(value)
            except NotJson as exc:
                message = f"Unable to marshal response: {exc}"
                failure = (
                    "Runtime.MarshalError",
                    _cause_json(message, "Runtime.MarshalError", request_id, []),
                )
        if failure is not None:
            run.record("TaskFailed", state.name, error=failure[0], cause=failure[1])
            raise StatesError(*failure)
        if state.resource == LAMBDA_INVOKE:
            result = lambda_invoke_result(result, request_id)
        _check_size(result, f"the result of task {state.name!r}")
        run.record("TaskSucceeded", state.name, output=clone(result))
        return result

    def _render(self, template: Template, data: Json, context: Json) -> Json:
        return template.render(data, context, self._intrinsics)

    def evaluate_intrinsic(self, call: Call, data: Json, context: Json, field: str) -> Json:
        """Evaluate one parsed intrinsic (used by Fail's ErrorPath/CausePath)."""
        return self._intrinsics(call, data, context, field)


# -- helpers --------------------------------------------------------------------


def function_name(reference: str) -> str:
    """The bare function name in a Lambda function reference.

    Accepts a name, a name with a qualifier (``name:alias``), a partial ARN
    (``123456789012:function:name``) and a full ARN with or without qualifier,
    as Lambda's FunctionName does.
    """
    parts = reference.split(":")
    if "function" in parts:
        position = parts.index("function")
        if position + 1 < len(parts):
            return parts[position + 1]
    return parts[0]


def lambda_invoke_result(payload: Json, request_id: str) -> Json:
    """The result object of ``arn:aws:states:::lambda:invoke`` around a function's payload."""
    return {
        "ExecutedVersion": "$LATEST",
        "Payload": payload,
        "SdkHttpMetadata": {
            "HttpHeaders": {
                "Content-Type": "application/json",
                "X-Amz-Executed-Version": "$LATEST",
                "x-amzn-RequestId": request_id,
            },
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
        "StatusCode": 200,
    }


def lambda_error_cause(exc: BaseException, request_id: str) -> str:
    """The Cause Step Functions shows for an exception raised by a Python Lambda function."""
    stack = traceback.format_tb(exc.__traceback__)
    return _cause_json(str(exc), type(exc).__name__, request_id, stack)


def _cause_json(message: str, error_type: str, request_id: str, stack: list[str]) -> str:
    return json.dumps(
        {
            "errorMessage": message,
            "errorType": error_type,
            "requestId": request_id,
            "stackTrace": stack,
        }
    )


def error_matches(error: str | None, error_equals: tuple[str, ...]) -> bool:
    """Whether a retrier's or catcher's ErrorEquals covers ``error``."""
    if error in ("States.Runtime", "States.DataLimitExceeded"):
        return False
    for name in error_equals:
        if name == error or name == "States.ALL":
            return True
        if name == "States.TaskFailed" and error != "States.Timeout":
            return True
    return False


def _first_match(error: str | None, candidates: list[tuple[str, ...]]) -> int | None:
    for index, error_equals in enumerate(candidates):
        if error_matches(error, error_equals):
            return index
    return None


def _get(path: ReferencePath, data: Json, state: str, field: str) -> Json:
    try:
        return path.get(data)
    except PathNotFound:
        raise StatesError(
            "States.Runtime",
            f"An error occurred while executing the state {state!r}. Invalid path "
            f"{path.text!r} in {field}: the path selects nothing in the input "
            f"{encode(data).decode()[:200]!r}",
        ) from None


def _select(path: ReferencePath | None, data: Json, state: str, field: str) -> Json:
    if path is None:
        return {}
    if not path.steps:
        return data
    return clone(_get(path, data, state, field))


def _place(path: ReferencePath | None, raw: Json, result: Json, state: str) -> Json:
    if path is None:
        return raw
    try:
        return path.set(clone(raw), result)
    except PathCannotBeSet as exc:
        raise StatesError(
            "States.ResultPathMatchFailure",
            f"Unable to apply ResultPath {path.text!r} to the input of state {state!r}: "
            f"{exc.reason}",
        ) from None


def _fail_text(
    literal: str | None,
    dynamic: ReferencePath | Call | None,
    raw: Json,
    context: Json,
    executor: LocalExecutor,
    field: str,
) -> str | None:
    if dynamic is None:
        return literal
    if isinstance(dynamic, Call):
        value = executor.evaluate_intrinsic(dynamic, raw, context, field)
    else:
        value = _get(dynamic, context if dynamic.context else raw, "Fail", field)
    if not isinstance(value, str):
        raise StatesError("States.Runtime", f"{field} must select a string, got {value!r}")
    return value


def _check_size(value: Json, what: str) -> None:
    size = len(encode(value))
    if size > MAX_PAYLOAD_BYTES:
        raise StatesError(
            "States.DataLimitExceeded",
            f"{what} has {size} bytes, more than the {MAX_PAYLOAD_BYTES}-byte payload quota",
        )


def _final_event(run: _Run, event_type: str, error: str | None, cause: str | None) -> HistoryEvent:
    # Appended without the history cap: the closing event is always recorded.
    return HistoryEvent(
        id=len(run.history) + 1,
        type=event_type,
        timestamp=run.clock.now(),
        details={"error": error, "cause": cause},
    )


def iso(moment: datetime) -> str:
    """A timestamp as Step Functions writes them in the context object."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def format_timeline(execution: Execution) -> str:
    """A readable timeline of an execution, one event per line, times relative to its start."""
    lines = []
    for event in execution.history:
        offset = (event.timestamp - execution.start_date).total_seconds()
        label = f"{event.type:<24} {event.state or ''}".rstrip()
        extra = ""
        details = event.details
        if event.type == "RetryScheduled":
            delay = details["delay_seconds"]
            extra = f"  {details['error']} -> retry #{details['attempt']} in {delay}s"
        elif event.type in ("ErrorCaught",):
            extra = f"  {details['error']} -> {details['next']}"
        elif event.type in ("TaskFailed", "TaskTimedOut", "ExecutionFailed", "ExecutionTimedOut"):
            extra = f"  {details.get('error')}"
        lines.append(f"{offset:>+9.3f}s  {label}{extra}")
    return "\n".join(lines)
