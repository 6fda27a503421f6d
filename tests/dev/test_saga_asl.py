"""The local Amazon States Language engine, checked against Step Functions' documented behaviour.

Each definition under tests/data/asl/ exercises one group of constructs; the
expected values come from the States Language specification and the Step
Functions developer guide (data flow, ResultPath merge, retry counters and
back-off, catcher order, error names). Time is a VirtualClock: waits and
back-off are asserted as the seconds the executor asked to sleep.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotcore_dev.saga.asl import (
    Execution,
    InvalidDefinition,
    InvalidPath,
    LocalExecutor,
    MissingTaskHandler,
    StateMachine,
    TaskError,
    UnsupportedConstruct,
    VirtualClock,
    error_matches,
    format_timeline,
    function_name,
    load_state_machine,
)
from hotcore_dev.saga.choice import evaluate, parse_branch
from hotcore_dev.saga.intrinsics import Evaluator, parse_intrinsic
from hotcore_dev.saga.jsonpath import PathCannotBeSet, parse_path
from hotcore_dev.saga.values import Json

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parents[1] / "data" / "asl"
START = datetime(2024, 1, 1, tzinfo=UTC)
ECHO_ARN = "arn:aws:lambda:eu-west-1:111122223333:function:echo"


def run_file(
    name: str,
    input_value: object,
    handlers: Mapping[str, Callable[[Any], object]] | None = None,
    *,
    clock: VirtualClock | None = None,
    substitutions: dict[str, str] | None = None,
    **options: Any,
) -> Execution:
    machine = StateMachine.from_file(DATA / f"{name}.asl.json", substitutions=substitutions)
    executor = LocalExecutor(machine, handlers or {}, clock=clock or VirtualClock(START), **options)
    return executor.run(input_value, name="run-1")


def run_inline(
    definition: dict[str, Any],
    input_value: object,
    handlers: Mapping[str, Callable[[Any], object]] | None = None,
    **options: Any,
) -> Execution:
    machine = load_state_machine(json.dumps(definition), name="Inline")
    clock = options.pop("clock", None) or VirtualClock(START)
    return LocalExecutor(machine, handlers or {}, clock=clock, **options).run(
        input_value, name="run-1"
    )


def pass_machine(**state: Any) -> dict[str, Any]:
    return {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True, **state}}}


class Script:
    """A task handler that replays a list of outcomes (exceptions are raised) and logs calls."""

    def __init__(
        self, *outcomes: object, clock: VirtualClock | None = None, slow: float = 0
    ) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[Any] = []
        self.clock = clock
        self.slow = slow

    def __call__(self, payload: Any) -> object:
        self.calls.append(payload)
        if self.clock is not None and self.slow:
            self.clock.advance(self.slow)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


# -- data flow ------------------------------------------------------------------


def test_pass_states_apply_inputpath_parameters_context_intrinsics_resultpath_outputpath() -> None:
    execution = run_file(
        "pass_data_flow",
        {
            "order": {"id": "o-1", "lines": [{"sku": "A", "qty": 2}], "raw": '{"k": [1]}'},
            "other": "dropped by InputPath",
        },
    )

    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output == {
        "id": "o-1",
        "firstLine": {"sku": "A", "qty": 2},
        "sku": "A",
        "static": {"kept": True, "list": [1, {"nested": "o-1"}]},
        "execution": "arn:aws:states:us-east-1:123456789012:execution:pass_data_flow:run-1",
        "executionName": "run-1",
        "stateName": "Shape",
        "enteredTime": "2024-01-01T00:00:00.000Z",
        "commandId": "run-1:o-1",
        "pair": ["o-1", 42, None, True],
        "lineCount": 1,
        "asText": '[{"sku":"A","qty":2}]',
        "parsed": {"k": [1]},
        "extra": {"deep": {"step": "added"}},
    }


def test_null_inputpath_gives_an_empty_object_and_null_outputpath_an_empty_output() -> None:
    # A Pass without Result passes its effective input on: here {}, placed at ResultPath.
    assert run_inline(pass_machine(InputPath=None), {"a": 1}).output == {}
    assert run_inline(pass_machine(InputPath=None, ResultPath="$.r"), {"a": 1}).output == {
        "a": 1,
        "r": {},
    }
    assert run_inline(pass_machine(OutputPath=None), {"a": 1}).output == {}


@pytest.mark.parametrize(
    ("result_path", "expected"),
    [
        ("$", "R"),
        (None, {"a": 1, "list": [0, 1]}),
        ("$.new", {"a": 1, "list": [0, 1], "new": "R"}),
        ("$.a", {"a": "R", "list": [0, 1]}),
        ("$.b.c.d", {"a": 1, "list": [0, 1], "b": {"c": {"d": "R"}}}),
        ("$['quoted key']", {"a": 1, "list": [0, 1], "quoted key": "R"}),
        ("$.list[1]", {"a": 1, "list": [0, "R"]}),
    ],
)
def test_resultpath_merges_the_result_into_the_raw_input(
    result_path: str | None, expected: object
) -> None:
    execution = run_inline(
        pass_machine(Result="R", ResultPath=result_path), {"a": 1, "list": [0, 1]}
    )
    assert execution.output == expected


@pytest.mark.parametrize(
    ("input_value", "result_path"),
    [("foo", "$.x"), ({"a": 5}, "$.a.x"), ({"list": [0]}, "$.list[3]"), ([1, 2], "$.x")],
)
def test_resultpath_that_cannot_apply_fails_with_resultpathmatchfailure(
    input_value: object, result_path: str
) -> None:
    execution = run_inline(pass_machine(Result="R", ResultPath=result_path), input_value)
    assert execution.status == "FAILED"
    assert execution.error == "States.ResultPathMatchFailure"


def test_a_missing_parameters_path_is_states_runtime_and_not_caught_by_states_all() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
                "Parameters": {"id.$": "$.missing"},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    handler = Script("never")
    execution = run_inline(definition, {"present": 1}, {"f": handler})

    assert execution.status == "FAILED"
    assert execution.error == "States.Runtime"
    assert execution.cause is not None
    assert "'$.missing'" in execution.cause
    assert "'id.$'" in execution.cause
    assert handler.calls == []


def test_a_missing_inputpath_is_states_runtime() -> None:
    execution = run_inline(pass_machine(InputPath="$.nope"), {"a": 1})
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")


def test_the_data_limit_is_terminal_even_with_a_states_all_catcher() -> None:
    execution = run_file("catch_order", {"payload": {}}, {"work": Script("x" * 300_000)})
    assert (execution.status, execution.error) == ("FAILED", "States.DataLimitExceeded")


# -- choice ---------------------------------------------------------------------

CHOICE_BASE = {
    "s": "zzz",
    "other": "none",
    "n": -1,
    "limit": 100,
    "flag": False,
    "at": "2030-01-01T00:00:00Z",
    "maybe": "x",
    "kind": "private",
}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "NoRuleMatched"),
        ({"s": "exact"}, "StringEquals"),
        ({"s": "x", "other": "x"}, "StringEqualsPath"),
        ({"s": "log-2024.txt"}, "StringMatches"),
        ({"s": "a"}, "StringLessThan"),
        ({"n": 0}, "NumericEquals"),
        ({"n": 0.0}, "NumericEquals"),
        ({"n": 25}, "InTwenties"),
        ({"n": 30}, "NoRuleMatched"),
        ({"n": 150}, "OverLimit"),
        ({"flag": True}, "BooleanEquals"),
        ({"at": "2023-12-31T23:59:59.5Z"}, "Before2024"),
        # 00:30 at +01:00 is 23:30 UTC the day before: compared as instants.
        ({"at": "2024-01-01T00:30:00+01:00"}, "Before2024"),
        ({"maybe": None}, "IsNull"),
        ({"optional": "here"}, "PresentString"),
        ({"optional": 5}, "NoRuleMatched"),
        ({"kind": 7}, "NumberOrBoolean"),
        ({"kind": True}, "NumberOrBoolean"),
        ({"kind": "public"}, "NotPrivate"),
        # Type-sensitive: a string is not a number, false is not 0, 1 is not true.
        ({"n": "0"}, "NoRuleMatched"),
        ({"n": False}, "NoRuleMatched"),
        ({"flag": 1}, "NoRuleMatched"),
        ({"s": 5}, "NoRuleMatched"),
    ],
)
def test_choice_rules_pick_the_first_matching_rule(changes: dict[str, Any], expected: str) -> None:
    execution = run_file("choice_rules", {**CHOICE_BASE, **changes})
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output == expected


def test_a_choice_variable_that_selects_nothing_fails_with_states_runtime() -> None:
    execution = run_file("choice_rules", {k: v for k, v in CHOICE_BASE.items() if k != "s"})
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")


def test_a_choice_without_default_and_no_match_fails_with_nochoicematched() -> None:
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.x", "NumericEquals": 1, "Next": "Done"}],
            },
            "Done": {"Type": "Succeed"},
        },
    }
    execution = run_inline(definition, {"x": 2})
    assert (execution.status, execution.error) == ("FAILED", "States.NoChoiceMatched")


def rule(**fields: Any) -> bool:
    """Evaluate one comparison against the data in ``fields['data']``."""
    data = fields.pop("data")
    branch = parse_branch({**fields, "Next": "X"}, "test")
    return evaluate(branch.rule, data, {})


def test_stringmatches_wildcards_and_escapes() -> None:
    assert rule(Variable="$", StringMatches="log-*.txt", data="log-.txt")
    assert rule(Variable="$", StringMatches="*", data="")
    assert not rule(Variable="$", StringMatches="log-*.txt", data="log-1.txt.gz")
    assert rule(Variable="$", StringMatches=r"a\*b", data="a*b")
    assert not rule(Variable="$", StringMatches=r"a\*b", data="axb")
    assert rule(Variable="$", StringMatches=r"back\\slash", data="back\\slash")
    # Only * is special: regex characters match themselves.
    assert rule(Variable="$", StringMatches="a.c?", data="a.c?")
    assert not rule(Variable="$", StringMatches="a.c?", data="abcd")


def test_string_order_is_java_utf16_order() -> None:
    # U+1F600 is the surrogate pair D83D DE00 in UTF-16, which sorts below U+FFFF.
    assert rule(Variable="$", StringLessThan="\uffff", data="\U0001f600")
    assert rule(Variable="$", StringGreaterThanEquals="abc", data="abd")


def test_timestamps_compare_as_instants_but_strings_do_not() -> None:
    same_instant = "2024-01-01T01:00:00+01:00"
    assert rule(Variable="$", TimestampEquals="2024-01-01T00:00:00Z", data=same_instant)
    assert not rule(Variable="$", StringEquals="2024-01-01T00:00:00Z", data=same_instant)
    assert not rule(Variable="$", TimestampEquals="2024-01-01T00:00:00Z", data="2024-01-01")
    assert rule(Variable="$", IsTimestamp=True, data="2016-03-14T01:59:00Z")
    assert rule(Variable="$", IsTimestamp=False, data="2016-03-14 01:59:00Z")


def test_is_present_false_matches_a_missing_variable() -> None:
    assert rule(Variable="$.gone", IsPresent=False, data={})
    assert not rule(Variable="$.here", IsPresent=False, data={"here": None})
    assert rule(Variable="$.here", IsNull=True, data={"here": None})


# -- retry ----------------------------------------------------------------------


def test_the_documented_complex_retry_scenario() -> None:
    """Spec: ErrorA, ErrorB, ErrorC, ErrorB -> waits 1, 2 and 5 s, then the catcher to Z."""
    clock = VirtualClock(START)
    flaky = Script(
        TaskError("ErrorA"), TaskError("ErrorB"), TaskError("ErrorC"), TaskError("ErrorB")
    )
    execution = run_file("retry_scenario", {"n": 1}, {"flaky": flaky}, clock=clock)

    assert execution.status == "SUCCEEDED"
    assert execution.output == {"Error": "ErrorB"}  # no cause given: none in the error output
    assert len(flaky.calls) == 4
    assert clock.slept == [1.0, 2.0, 5.0]
    assert [e.details["retrier"] for e in execution.events("RetryScheduled")] == [0, 0, 1]
    assert execution.events("ErrorCaught")[0].details["next"] == "Z"


def test_retries_resend_the_same_payload_and_count_in_the_context() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": "f",
                    "Payload": {"id.$": "$.id", "retry.$": "$$.State.RetryCount"},
                },
                "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "MaxAttempts": 2}],
                "OutputPath": "$.Payload",
                "End": True,
            }
        },
    }
    handler = Script(
        TaskError("Lambda.ServiceException"), TaskError("Lambda.ServiceException"), "ok"
    )
    execution = run_inline(definition, {"id": "o-1"}, {"f": handler})

    assert execution.output == "ok"
    assert handler.calls == [{"id": "o-1", "retry": n} for n in range(3)]


def test_backoff_is_capped_by_maxdelayseconds() -> None:
    clock = VirtualClock(START)
    handlers = {
        "capped": Script(*[TaskError("Transient")] * 4, "capped"),
        "jittered": Script("jittered"),
        "slow": Script("slow"),
    }
    execution = run_file("retry_backoff", {}, handlers, clock=clock)

    assert execution.status == "SUCCEEDED", execution.cause
    # 3 * 3^n: 3, 9, 27 -> 20, 81 -> 20
    assert clock.slept == [3.0, 9.0, 20.0, 20.0]


def test_full_jitter_draws_between_zero_and_the_computed_delay() -> None:
    clock = VirtualClock(START)
    handlers = {
        "capped": Script("capped"),
        "jittered": Script(*[TaskError("Transient")] * 3, "jittered"),
        "slow": Script("slow"),
    }
    execution = run_file("retry_backoff", {}, handlers, clock=clock, rng=random.Random(7))

    assert execution.status == "SUCCEEDED", execution.cause
    replay = random.Random(7)
    assert clock.slept == [replay.uniform(0.0, 10.0 * 2**n) for n in range(3)]
    assert all(0.0 <= delay <= 10.0 * 2**n for n, delay in enumerate(clock.slept))


def test_timeout_is_not_covered_by_taskfailed_but_by_its_own_retrier() -> None:
    clock = VirtualClock(START)
    slow = Script("late", clock=clock, slow=6)
    handlers = {"capped": Script("c"), "jittered": Script("j"), "slow": slow}
    execution = run_file("retry_backoff", {}, handlers, clock=clock)

    # One retry (the States.Timeout retrier, 2 s), then the error ends the execution:
    # the TaskFailed retrier with 5 attempts never applies to a timeout.
    assert (execution.status, execution.error) == ("FAILED", "States.Timeout")
    assert len(slow.calls) == 2
    assert clock.slept == [2.0]
    assert len(execution.events("TaskTimedOut")) == 2


def test_retry_with_maxattempts_zero_never_retries() -> None:
    work = Script(TaskError("Business", "no stock"))
    execution = run_file("catch_order", {"payload": {}}, {"work": work})
    assert len(work.calls) == 1
    assert execution.events("RetryScheduled") == []


# -- catch ----------------------------------------------------------------------


def test_the_first_matching_catcher_wins_and_places_the_error_on_the_raw_input() -> None:
    raw = {"payload": {"x": 1}, "keep": True}
    execution = run_file("catch_order", raw, {"work": Script(TaskError("Business", "no stock"))})

    # "Business" also matches the States.TaskFailed and States.ALL catchers further down.
    assert [e.state for e in execution.history if e.type == "PassStateEntered"] == ["Compensate"]
    # The catcher's ResultPath applies to the raw input; InputPath and OutputPath do not.
    assert execution.output == {**raw, "error": {"Error": "Business", "Cause": "no stock"}}
    assert execution.events("ErrorCaught")[0].details["catcher"] == 0


def test_a_null_catcher_resultpath_keeps_the_raw_input() -> None:
    clock = VirtualClock(START)
    raw = {"payload": {"x": 1}}
    work = Script("too late", clock=clock, slow=31)
    execution = run_file("catch_order", raw, {"work": work}, clock=clock)

    assert execution.events("ErrorCaught")[0].details["next"] == "TimedOut"
    assert execution.output == raw


def test_an_unexpected_exception_is_reported_as_lambda_reports_it() -> None:
    def work(payload: Any) -> object:
        raise ValueError(f"bad payload {payload}")

    execution = run_file("catch_order", {"payload": {"x": 1}}, {"work": work})

    assert execution.events("ErrorCaught")[0].details["next"] == "Unexpected"
    assert isinstance(execution.output, dict)
    assert execution.output["Error"] == "ValueError"
    cause = json.loads(str(execution.output["Cause"]))
    assert cause["errorType"] == "ValueError"
    assert cause["errorMessage"] == "bad payload {'x': 1}"
    assert isinstance(cause["stackTrace"], list)
    assert cause["stackTrace"]


def test_success_applies_inputpath_resultpath_outputpath() -> None:
    work = Script({"done": True})
    execution = run_file("catch_order", {"payload": {"x": 1}, "keep": 1}, {"work": work})
    assert work.calls == [{"x": 1}]
    assert execution.output == {"done": True}


def test_an_uncaught_error_fails_the_execution_with_its_name_and_cause() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
                "Catch": [{"ErrorEquals": ["Other"], "Next": "C"}],
                "End": True,
            },
            "C": {"Type": "Pass", "End": True},
        },
    }
    execution = run_inline(definition, {}, {"f": Script(TaskError("Rejected", "why"))})
    assert (execution.status, execution.error, execution.cause) == ("FAILED", "Rejected", "why")
    assert execution.history[-1].type == "ExecutionFailed"


def test_error_matching_rules() -> None:
    assert error_matches("Anything", ("States.ALL",))
    assert error_matches("Anything", ("States.TaskFailed",))
    assert error_matches("States.Timeout", ("States.ALL",))
    assert not error_matches("States.Timeout", ("States.TaskFailed",))
    assert not error_matches("States.Runtime", ("States.ALL", "States.Runtime"))
    assert not error_matches("States.DataLimitExceeded", ("States.ALL",))
    assert not error_matches("ErrorA", ("errora",))  # error names are case-sensitive


# -- Lambda tasks ---------------------------------------------------------------


def test_lambda_invoke_wraps_the_payload_and_a_plain_arn_does_not() -> None:
    calls: list[Any] = []

    def echo_handler(payload: Any) -> object:
        calls.append(json.loads(json.dumps(payload)))
        payload["mutated"] = True  # must not leak into the execution's data
        return payload

    execution = run_file(
        "lambda_invoke",
        {"orderId": "o-1"},
        {"echo": echo_handler},
        substitutions={"EchoFunctionArn": ECHO_ARN},
    )

    assert execution.status == "SUCCEEDED", execution.cause
    assert calls[0] == {"input": {"orderId": "o-1"}, "commandId": "run-1-invoke-0"}
    assert calls[1] == {"only": 200}
    assert execution.output == {
        "orderId": "o-1",
        "invoked": {
            "echo": {"input": {"orderId": "o-1"}, "commandId": "run-1-invoke-0", "mutated": True},
            "status": 200,
        },
        "plain": {"only": 200, "mutated": True},
    }
    invoke_result = execution.events("TaskSucceeded")[0].details["output"]
    assert isinstance(invoke_result, dict)
    assert invoke_result["StatusCode"] == 200
    assert invoke_result["ExecutedVersion"] == "$LATEST"
    assert execution.events("TaskScheduled")[0].details["parameters"] == {
        "FunctionName": ECHO_ARN,
        "Payload": {"input": {"orderId": "o-1"}, "commandId": "run-1-invoke-0"},
    }


def test_handlers_may_be_registered_by_arn_or_name() -> None:
    machine = StateMachine.from_file(
        DATA / "lambda_invoke.asl.json", substitutions={"EchoFunctionArn": ECHO_ARN}
    )
    by_arn = LocalExecutor(machine, {ECHO_ARN: lambda p: p}, clock=VirtualClock(START))
    assert by_arn.run({"a": 1}).status == "SUCCEEDED"
    assert function_name("arn:aws:lambda:us-east-1:123456789012:function:f:live") == "f"
    assert function_name("123456789012:function:f") == "f"
    assert function_name("f:live") == "f"


def test_a_missing_substitution_or_handler_is_an_error_before_running() -> None:
    with pytest.raises(InvalidDefinition, match=r"\$\{EchoFunctionArn\}"):
        StateMachine.from_file(DATA / "lambda_invoke.asl.json")
    machine = StateMachine.from_file(
        DATA / "lambda_invoke.asl.json", substitutions={"EchoFunctionArn": ECHO_ARN}
    )
    with pytest.raises(MissingTaskHandler, match="echo"):
        LocalExecutor(machine, {"other": lambda p: p})


def test_a_result_that_is_not_json_is_a_marshal_error() -> None:
    execution = run_file(
        "lambda_invoke",
        {},
        {"echo": lambda p: {1, 2}},
        substitutions={"EchoFunctionArn": ECHO_ARN},
    )
    assert (execution.status, execution.error) == ("FAILED", "Runtime.MarshalError")


def test_a_dynamic_function_name_without_handler_is_resource_not_found() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName.$": "$.fn", "Payload": {}},
                "Catch": [{"ErrorEquals": ["Lambda.ResourceNotFoundException"], "Next": "C"}],
                "End": True,
            },
            "C": {"Type": "Pass", "End": True},
        },
    }
    execution = run_inline(definition, {"fn": "nobody"})
    assert execution.status == "SUCCEEDED"
    assert execution.events("ErrorCaught")[0].details["error"] == "Lambda.ResourceNotFoundException"


def test_task_error_names_cannot_impersonate_the_interpreter() -> None:
    with pytest.raises(ValueError, match="reserved"):
        TaskError("States.Timeout")


# -- wait, parallel, map, fail, timeouts ---------------------------------------


def test_wait_states_advance_the_clock_instead_of_sleeping() -> None:
    clock = VirtualClock(START)
    execution = run_file("wait", {"delay": 20, "until": "2023-12-31T00:00:00Z"}, clock=clock)

    assert execution.status == "SUCCEEDED", execution.cause
    # 10 s, 20 s, until 01:00 (3570 s left), a past timestamp (no wait).
    assert clock.slept == [10.0, 20.0, 3570.0, 0.0]
    assert execution.output == {"at": "2024-01-01T01:00:00.000Z"}


@pytest.mark.parametrize("delay", [-1, "10", 1.5, None])
def test_secondspath_must_select_a_non_negative_integer(delay: object) -> None:
    execution = run_file("wait", {"delay": delay, "until": "2024-01-01T00:00:00Z"})
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")


def test_parallel_and_map() -> None:
    def double(item: Any) -> object:
        return {**item, "value": item["value"] * 2}

    execution = run_file(
        "parallel_map", {"a": {"x": 1}, "items": [1, 2, 3], "tag": "t"}, {"double": double}
    )

    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output == {
        "a": {"x": 1},
        "items": [1, 2, 3],
        "tag": "t",
        "both": {"left": {"x": 1}, "right": "right"},
        "doubled": [{"index": i, "value": 2 * (i + 1), "tag": "t"} for i in range(3)],
    }


def test_map_itemspath_must_select_an_array() -> None:
    execution = run_file("parallel_map", {"a": 1, "items": {"not": "array"}}, {"double": Script(1)})
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")


def test_a_failing_branch_fails_the_parallel_state_with_its_error() -> None:
    definition = {
        "StartAt": "Par",
        "States": {
            "Par": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "Ok", "States": {"Ok": {"Type": "Pass", "End": True}}},
                    {
                        "StartAt": "Broke",
                        "States": {"Broke": {"Type": "Fail", "Error": "BranchBroke", "Cause": "x"}},
                    },
                ],
                "Catch": [
                    {"ErrorEquals": ["BranchBroke"], "ResultPath": "$.err", "Next": "Handled"}
                ],
                "End": True,
            },
            "Handled": {"Type": "Pass", "End": True},
        },
    }
    execution = run_inline(definition, {"in": 1})
    assert execution.output == {"in": 1, "err": {"Error": "BranchBroke", "Cause": "x"}}


@pytest.mark.parametrize(
    ("input_value", "status", "error", "cause", "output"),
    [
        ({"ok": False, "reason": "OutOfStock", "orderId": "o-9"}, "FAILED", "OutOfStock",
         "order o-9 rejected: OutOfStock", None),
        ({"ok": True, "orderId": "o-9"}, "SUCCEEDED", None, None, "o-9"),
    ],
)  # fmt: skip
def test_fail_with_errorpath_and_causepath_and_succeed_with_outputpath(
    input_value: object, status: str, error: str | None, cause: str | None, output: object
) -> None:
    execution = run_file("fail_paths", input_value)
    assert (execution.status, execution.error, execution.cause, execution.output) == (
        status,
        error,
        cause,
        output,
    )


def test_the_state_machine_timeout_ends_the_execution() -> None:
    clock = VirtualClock(START)
    execution = run_file("execution_timeout", {}, clock=clock)
    assert (execution.status, execution.error) == ("TIMED_OUT", "States.Timeout")
    assert clock.slept == [25.0, 25.0, 25.0]
    assert execution.history[-1].type == "ExecutionTimedOut"


def test_an_endless_loop_stops_at_the_history_limit() -> None:
    definition = {
        "StartAt": "A",
        "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}},
    }
    execution = run_inline(definition, {}, max_history_events=100)
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")
    assert "history limit" in (execution.cause or "")


def test_the_timeline_shows_retries_and_catches() -> None:
    flaky = Script(TaskError("ErrorA"), TaskError("ErrorC"), TaskError("Fatal"))
    timeline = format_timeline(run_file("retry_scenario", {}, {"flaky": flaky}))
    assert re.search(r"\+0\.000s\s+RetryScheduled\s+X\s+ErrorA -> retry #1 in 1\.0s", timeline)
    assert re.search(r"ErrorCaught\s+X\s+Fatal -> Z", timeline)
    assert timeline.splitlines()[-1].strip().endswith("ExecutionSucceeded")


# -- paths and intrinsics -------------------------------------------------------


def test_reference_path_notation() -> None:
    data: Json = {"a.b": {"c": [10, {"d e": "x"}]}, "q'uote": 1}
    assert parse_path(r"$.a\.b.c[1]['d e']", "t").get(data) == "x"
    assert parse_path("$['a.b']['c'][0]", "t").get(data) == 10
    assert parse_path(r"$['q\'uote']", "t").get(data) == 1
    assert parse_path("$", "t").get(data) == data
    assert parse_path("$$.Execution.Id", "t").context


@given(
    keys=st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=4),
    value=st.integers() | st.text() | st.none(),
    other=st.dictionaries(st.text(max_size=5), st.integers(), max_size=4),
)
def test_setting_then_getting_a_path_returns_the_value(
    keys: list[str], value: object, other: dict[str, int]
) -> None:
    path = parse_path("$" + "".join(f"['{_quote(k)}']" for k in keys), "t")
    original: dict[str, Json] = dict(other)
    try:
        result = path.set(dict(original), value)  # type: ignore[arg-type]
    except PathCannotBeSet:
        # Only possible when a first-level key already holds a non-object.
        assert keys[0] in other
        assert len(keys) > 1
        return
    assert path.get(result) == value
    assert isinstance(result, dict)
    assert all(result[k] == v for k, v in original.items() if k != keys[0])


def _quote(key: str) -> str:
    return key.replace("\\", "\\\\").replace("'", "\\'")


def test_intrinsic_literals_and_escapes() -> None:
    evaluator = Evaluator(lambda: "00000000-0000-4000-8000-000000000000")

    def call(text: str, data: object = None) -> object:
        return evaluator.evaluate(parse_intrinsic(text, "t"), data, {}, "f.$")  # type: ignore[arg-type]

    assert call(r"States.Format('it\'s {} \{literal\} \\ {}', $.a, 1.5)", {"a": "x"}) == (
        "it's x {literal} \\ 1.5"
    )
    assert call("States.Format($.t, $.v, true, null)", {"t": "{}/{}/{}", "v": 3}) == "3/true/null"
    assert call("States.ArrayGetItem(States.Array('a', 'b'), 1)") == "b"
    assert call("States.ArrayContains($.xs, 1)", {"xs": [True, 2]}) is False
    assert call("States.MathAdd(2, -5)") == -3
    assert call("States.UUID()") == "00000000-0000-4000-8000-000000000000"
    assert call("States.Base64Decode(States.Base64Encode('héllo'))") == "héllo"
    assert call("States.Hash('abc', 'SHA-256')") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_intrinsic_runtime_failures() -> None:
    evaluator = Evaluator(lambda: "u")
    from hotcore_dev.saga.errors import StatesError

    with pytest.raises(StatesError) as failure:
        evaluator.evaluate(parse_intrinsic("States.Format('{}', $.o)", "t"), {"o": {}}, {}, "f")
    assert failure.value.error == "States.IntrinsicFailure"
    with pytest.raises(StatesError) as failure:
        evaluator.evaluate(parse_intrinsic("States.ArrayLength($.nope)", "t"), {}, {}, "f")
    assert failure.value.error == "States.Runtime"


# -- load-time errors -----------------------------------------------------------


def task(**fields: Any) -> dict[str, Any]:
    body = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f"}
    return {"StartAt": "T", "States": {"T": {**body, "End": True, **fields}}}


def choice(*rules: dict[str, Any]) -> dict[str, Any]:
    return {
        "StartAt": "C",
        "States": {"C": {"Type": "Choice", "Choices": list(rules)}, "D": {"Type": "Succeed"}},
    }


BRANCH = {"StartAt": "In", "States": {"In": {"Type": "Pass", "Next": "Top"}}}

# (definition, the error class, a fragment of its message)
LOAD_ERRORS: dict[str, tuple[dict[str, Any], type[Exception], str]] = {
    "missing Next": (
        {"StartAt": "A", "States": {"A": {"Type": "Pass"}}},
        InvalidDefinition,
        "needs Next",
    ),
    "Next and End": (pass_machine(Next="P"), InvalidDefinition, "both Next and End"),
    "unknown target": (
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nope"}}},
        InvalidDefinition,
        "'Nope'",
    ),
    "unreachable state": (
        {"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "B": {"Type": "Succeed"}}},
        InvalidDefinition,
        "not reachable",
    ),
    "unknown field": (pass_machine(Reslt=1), InvalidDefinition, "unknown field 'Reslt'"),
    "States.ALL not alone": (
        task(Retry=[{"ErrorEquals": ["States.ALL", "X"]}]),
        InvalidDefinition,
        "alone",
    ),
    "States.ALL catcher not last": (
        {
            "StartAt": "T",
            "States": {
                "T": {
                    **task()["States"]["T"],
                    "Catch": [
                        {"ErrorEquals": ["States.ALL"], "Next": "E"},
                        {"ErrorEquals": ["X"], "Next": "E"},
                    ],
                },
                "E": {"Type": "Succeed"},
            },
        },
        InvalidDefinition,
        "last",
    ),
    "BackoffRate below 1": (
        task(Retry=[{"ErrorEquals": ["X"], "BackoffRate": 0.5}]),
        InvalidDefinition,
        "BackoffRate",
    ),
    "two operators in a rule": (
        choice({"Variable": "$.a", "StringEquals": "x", "NumericEquals": 1, "Next": "D"}),
        InvalidDefinition,
        "exactly one",
    ),
    "Next inside And": (
        choice({"And": [{"Variable": "$.a", "IsNull": True, "Next": "D"}], "Next": "D"}),
        InvalidDefinition,
        "top-level",
    ),
    "wrong operand type": (
        choice({"Variable": "$.a", "NumericEquals": "1", "Next": "D"}),
        InvalidDefinition,
        "number",
    ),
    "duplicate names across a branch": (
        {
            "StartAt": "Par",
            "States": {
                "Par": {
                    "Type": "Parallel",
                    "Branches": [{"StartAt": "Par", "States": {"Par": {"Type": "Succeed"}}}],
                    "End": True,
                }
            },
        },
        InvalidDefinition,
        "used twice",
    ),
    "transition out of a branch": (
        {
            "StartAt": "Par",
            "States": {
                "Par": {"Type": "Parallel", "Branches": [BRANCH], "Next": "Top"},
                "Top": {"Type": "Succeed"},
            },
        },
        InvalidDefinition,
        "'Top'",
    ),
    "Format placeholder count": (
        pass_machine(Parameters={"x.$": "States.Format('{} {}', $.a)"}),
        InvalidDefinition,
        "placeholder",
    ),
    "unknown intrinsic": (
        pass_machine(Parameters={"x.$": "States.Nope($.a)"}),
        InvalidDefinition,
        "unknown intrinsic",
    ),
    "resource not an ARN": (task(Resource="my-function"), InvalidDefinition, "not an ARN"),
    "JSONata": (pass_machine(QueryLanguage="JSONata"), UnsupportedConstruct, "JSONata"),
    "variables": (pass_machine(Assign={"x": 1}), UnsupportedConstruct, "variables"),
    "heartbeats": (task(HeartbeatSeconds=10), UnsupportedConstruct, "heartbeat"),
    "other service integration": (
        task(Resource="arn:aws:states:::sqs:sendMessage", Parameters={}),
        UnsupportedConstruct,
        "only Lambda tasks",
    ),
    "callback pattern": (
        task(
            Resource="arn:aws:states:::lambda:invoke.waitForTaskToken",
            Parameters={"FunctionName": "f", "Payload": {}},
        ),
        UnsupportedConstruct,
        "waitForTaskToken",
    ),
    "other invoke parameters": (
        task(
            Resource="arn:aws:states:::lambda:invoke",
            Parameters={"FunctionName": "f", "Payload": {}, "InvocationType": "Event"},
        ),
        UnsupportedConstruct,
        "InvocationType",
    ),
    "wildcard InputPath": (pass_machine(InputPath="$.items[*]"), UnsupportedConstruct, "[*]"),
    "recursive descent": (
        pass_machine(Parameters={"x.$": "$..id"}),
        UnsupportedConstruct,
        "recursive descent",
    ),
    "filter": (pass_machine(OutputPath="$.a[?(@.b > 1)]"), UnsupportedConstruct, "filter"),
    "unsupported intrinsic": (
        pass_machine(Parameters={"x.$": "States.MathRandom(1, 9)"}),
        UnsupportedConstruct,
        "MathRandom",
    ),
    "distributed map": (
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                        "StartAt": "I",
                        "States": {"I": {"Type": "Succeed"}},
                    },
                    "End": True,
                }
            },
        },
        UnsupportedConstruct,
        "INLINE",
    ),
    "wildcard ResultPath": (pass_machine(ResultPath="$.items[*]"), InvalidPath, "requires one"),
    "context ResultPath": (pass_machine(ResultPath="$$.Execution.Id"), InvalidPath, "context"),
    "path without $": (pass_machine(InputPath="items"), InvalidPath, "start with '$'"),
    "unterminated bracket": (
        choice({"Variable": "$.a[", "IsNull": True, "Next": "D"}),
        InvalidPath,
        "unterminated",
    ),
    "space in a dot name": (pass_machine(OutputPath="$.a b"), InvalidPath, "whitespace"),
}


@pytest.mark.parametrize("case", list(LOAD_ERRORS))
def test_load_errors(case: str) -> None:
    definition, error, fragment = LOAD_ERRORS[case]
    with pytest.raises(error, match=re.escape(fragment)):
        load_state_machine(json.dumps(definition))


# -- the real validator and the repository's own definitions --------------------

# Load errors for definitions that Step Functions itself rejects: asl-validator
# must reject them too, which checks that the loader is not stricter than AWS
# for reasons of its own.
REJECTED_BY_ASL_VALIDATOR = [
    "missing Next",
    "unknown target",
    "unreachable state",
    "unknown field",
    "wrong operand type",
    "duplicate names across a branch",
    "transition out of a branch",
    "path without $",
]


def _placeholders(text: str) -> dict[str, str]:
    names = set(re.findall(r"\$\{([^{}\s]+)\}", text))
    return {n: f"arn:aws:lambda:us-east-1:123456789012:function:{n}" for n in names}


def repository_definitions() -> list[Path]:
    """Every *.asl.json of the project, without descending into tool and build folders."""
    skip = {"node_modules", ".venv", ".git", "cdk.out", "build", "dist", ".hypothesis"}
    found: list[Path] = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if d not in skip and not d.endswith("_cache")]
        found.extend(Path(folder) / f for f in files if f.endswith(".asl.json"))
    return sorted(found)


def test_every_definition_in_the_repository_loads_strictly() -> None:
    definitions = repository_definitions()
    assert DATA / "retry_scenario.asl.json" in definitions
    for path in definitions:
        StateMachine.from_file(path, substitutions=_placeholders(path.read_text()))


needs_node = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="node/npm not installed: asl-validator cannot run",
)


def _validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "tools" / "validate-asl.sh"), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@needs_node
def test_asl_validator_accepts_every_definition_in_the_repository() -> None:
    result = _validate(*repository_definitions())
    assert result.returncode == 0, result.stdout + result.stderr


@needs_node
def test_asl_validator_rejects_what_the_loader_calls_invalid(tmp_path: Path) -> None:
    files = []
    for case in REJECTED_BY_ASL_VALIDATOR:
        file = tmp_path / (re.sub(r"\W+", "_", case) + ".json")
        file.write_text(json.dumps(LOAD_ERRORS[case][0]))
        files.append(file)
    result = _validate(*files)
    report = result.stdout + result.stderr
    assert result.returncode == 1, report
    for file in files:
        assert re.search(rf'"{re.escape(str(file))}" is invalid', report), report
