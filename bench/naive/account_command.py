"""Naive-Python Account command handler: Powertools + pydantic + boto3, as teams write it.

AppSync mutations go through Powertools' ``AppSyncResolver``; direct invocations (Step
Functions tasks, and the benchmark's events) are parsed with Powertools' parser into
the pydantic ``DirectCommand``. Logger, Tracer and Metrics wrap the handler as their
documentation shows.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import AppSyncResolver
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from ledger import CloseAccount, Deposit, DirectCommand, OpenAccount, Withdraw, handle

logger = Logger(service="account")
tracer = Tracer(service="account")
metrics = Metrics(namespace="hotcore", service="account")
app = AppSyncResolver()


def _mutation(command: Any, command_id: str | None) -> dict[str, Any]:
    identity = app.current_event.identity
    actor = getattr(identity, "user_arn", None) or "anonymous"
    return _run(DirectCommand(command=command, command_id=command_id, actor=actor))


@app.resolver(type_name="Mutation", field_name="openAccount")
def open_account(input: dict[str, Any], command_id: str | None = None) -> dict[str, Any]:
    return _mutation(OpenAccount(**input), command_id)


@app.resolver(type_name="Mutation", field_name="deposit")
def deposit(input: dict[str, Any], command_id: str | None = None) -> dict[str, Any]:
    return _mutation(Deposit(**input), command_id)


@app.resolver(type_name="Mutation", field_name="withdraw")
def withdraw(input: dict[str, Any], command_id: str | None = None) -> dict[str, Any]:
    return _mutation(Withdraw(**input), command_id)


@app.resolver(type_name="Mutation", field_name="closeAccount")
def close_account(input: dict[str, Any], command_id: str | None = None) -> dict[str, Any]:
    return _mutation(CloseAccount(**input), command_id)


@tracer.capture_method
def _run(request: DirectCommand) -> dict[str, Any]:
    result = handle(request)
    metrics.add_dimension(name="outcome", value=result["outcome"])
    metrics.add_metric(name="Commands", unit=MetricUnit.Count, value=1)
    logger.info(
        "command handled",
        extra={
            "command": request.command.type,
            "outcome": result["outcome"],
            "command_id": result.get("command_id"),
            "rule": result.get("rule"),
        },
    )
    return result


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "command" in event:
        return _run(parse(event=event, model=DirectCommand))
    return app.resolve(event, context)
