"""X-Ray active tracing is a context switch of the CDK app: ``-c tracing=active``.

One function in a small stack is enough to check what the switch does (the full app's
synth is in test_infra.py, without the switch): the function's TracingConfig, the X-Ray
grant CDK adds to its role, and cdk-nag's AwsSolutions pack passing with it.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.constructs.function import HotcoreFunction, HotcoreLayer
from infra.constructs.logs_key import LogsKey


def synthesize(context: dict[str, Any]) -> dict[str, Any]:
    from aws_cdk import App, Environment, Stack, Validations
    from cdk_nag import AwsSolutionsChecks

    app = App(context=context)
    stack = Stack(app, "Traced", env=Environment(account="123456789012", region="eu-west-1"))
    HotcoreFunction(
        stack,
        "Command",
        aggregate="account",
        kind="command",
        description="account commands",
        layer=HotcoreLayer(stack, "Layer"),
        environment={"HOTCORE_TABLE": "hotcore-account"},
        logs_key=LogsKey(stack, "LogsKey"),
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    template: dict[str, Any] = app.synth().get_stack_by_name("Traced").template
    return template


def of_type(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def test_active_tracing_is_off_unless_the_app_asks_for_it() -> None:
    (fn,) = of_type(synthesize({}), "AWS::Lambda::Function")
    assert "TracingConfig" not in fn["Properties"]


def test_tracing_active_traces_every_function_and_grants_only_the_xray_writes() -> None:
    template = synthesize({"tracing": "active"})  # cdk-nag raises on an unacknowledged finding
    (fn,) = of_type(template, "AWS::Lambda::Function")
    assert fn["Properties"]["TracingConfig"] == {"Mode": "Active"}
    statements = [
        s
        for p in of_type(template, "AWS::IAM::Policy")
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    xray = [s for s in statements if any(str(a).startswith("xray:") for a in _list(s["Action"]))]
    assert xray
    for statement in xray:
        assert set(_list(statement["Action"])) == {
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
        }


def test_an_unknown_tracing_value_names_the_switch() -> None:
    with pytest.raises(ValueError, match="tracing='sometimes'"):
        synthesize({"tracing": "sometimes"})


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
