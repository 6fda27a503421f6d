"""Naive-Python Account query handler: Powertools' AppSyncResolver over the boto3 load + fold."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import AppSyncResolver
from aws_lambda_powertools.utilities.typing import LambdaContext
from ledger import view

logger = Logger(service="account")
tracer = Tracer(service="account")
app = AppSyncResolver()


@app.resolver(type_name="Query", field_name="getAccount")
@tracer.capture_method
def get_account(account_id: str) -> dict[str, Any]:
    return view(account_id)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
