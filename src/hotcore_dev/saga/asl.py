"""Amazon States Language, locally: load the ASL file that CDK deploys, and run it here.

This is the one import for sagas::

    from hotcore_dev.saga.asl import LocalExecutor, StateMachine, TaskError, VirtualClock

    machine = StateMachine.from_file(
        "place_order.asl.json", substitutions={"ReserveStockFunctionArn": "reserve-stock"}
    )
    executor = LocalExecutor(machine, {"reserve-stock": reserve_stock}, clock=VirtualClock())
    execution = executor.run({"orderId": "o-1"}, name="o-1")
    execution.status  # "SUCCEEDED" | "FAILED" | "TIMED_OUT"
    print(format_timeline(execution))

What is supported (anything else is refused when the file is loaded):

* states: Task, Choice, Pass, Wait, Succeed, Fail, Parallel and inline Map,
  all with the JSONPath data flow (InputPath, Parameters/ItemSelector,
  ResultSelector, ResultPath, OutputPath; reference paths only);
* Task resources ``arn:aws:states:::lambda:invoke`` (Parameters FunctionName
  and Payload, with ``.$`` fields) and plain Lambda function ARNs;
  TimeoutSeconds, measured on the executor's clock;
* Retry (ErrorEquals, IntervalSeconds, MaxAttempts, BackoffRate,
  MaxDelaySeconds, JitterStrategy) and Catch (ErrorEquals, Next, ResultPath);
* every Choice operator of the JSONPath rules, And/Or/Not;
* the context object ($$.Execution.*, $$.State.*, $$.StateMachine.*,
  $$.Map.Item.*) and the intrinsics listed in ``hotcore_dev.saga.intrinsics``;
* ``${Name}`` definition substitutions, applied before parsing.
"""

from __future__ import annotations

from hotcore_dev.saga.definition import StateMachine, load_state_machine, substitute
from hotcore_dev.saga.errors import (
    AslLoadError,
    InvalidDefinition,
    InvalidPath,
    MissingTaskHandler,
    StatesError,
    TaskError,
    UnsupportedConstruct,
)
from hotcore_dev.saga.executor import (
    Clock,
    Execution,
    HistoryEvent,
    LocalExecutor,
    SystemClock,
    TaskHandler,
    VirtualClock,
    error_matches,
    format_timeline,
    function_name,
)

__all__ = [
    "AslLoadError",
    "Clock",
    "Execution",
    "HistoryEvent",
    "InvalidDefinition",
    "InvalidPath",
    "LocalExecutor",
    "MissingTaskHandler",
    "StateMachine",
    "StatesError",
    "SystemClock",
    "TaskError",
    "TaskHandler",
    "UnsupportedConstruct",
    "VirtualClock",
    "error_matches",
    "format_timeline",
    "function_name",
    "load_state_machine",
    "substitute",
]
