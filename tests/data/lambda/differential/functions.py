"""Handlers the differential suite runs under both bootstraps (hotcore's and awslambdaric).

Each shows one thing a Python runtime must do the same way: hand over the context,
report an exception, time out, refuse an oversize answer, marshal what it can and
refuse what it cannot, and log through ``logging`` the way Lambda's log format says.
"""

import decimal
import logging
import os
import sys
import time

logger = logging.getLogger("differential")


class OverdraftRefused(Exception):
    """A domain-flavoured error: its class name becomes the errorType."""


def context_view(event, context):
    client_context = context.client_context
    return {
        "event": event,
        "request_id": context.aws_request_id,
        "function_arn": context.invoked_function_arn,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_version": context.log_stream_name.split("]")[0] + "]",
        "remaining_positive": 0 < context.get_remaining_time_in_millis() <= 30_000,
        "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
        "client_custom": None if client_context is None else client_context.custom,
        "client_env": None if client_context is None else client_context.env,
        "client_app": None
        if client_context is None or client_context.client is None
        else client_context.client.app_title,
        "cognito": [
            context.identity.cognito_identity_id,
            context.identity.cognito_identity_pool_id,
        ],
        "w3c": context.w3c(),
        "cwd": os.getcwd(),
        "task_root_first": sys.path[0] == os.environ["LAMBDA_TASK_ROOT"],
        "sees_boto3": _importable("boto3"),
        "sees_pytest": _importable("pytest"),
    }


def _importable(name):
    import importlib.util

    return importlib.util.find_spec(name) is not None


def _check(balance, amount):
    if amount > balance:
        raise OverdraftRefused(f"balance {balance} is below {amount}")


def refuse(event, context):
    _check(event["balance"], event["amount"])
    return "never"


def sleep(event, context):
    time.sleep(event["seconds"])
    return "woke up"


def oversize(event, context):
    return "x" * event["bytes"]


def exact_limit(event, context):
    return "y" * (6_291_556 - 2)  # the JSON string's quotes make it exactly the limit


def shapes(event, context):
    return {"unicode": "h\u00e9llo \u2603", "list": [1, 2.5, None, True], "nested": {"a": []}}


def decimals(event, context):
    return {"amount": decimal.Decimal("12.50"), "big": decimal.Decimal("12345678901234567890")}


def raw_bytes(event, context):
    return b"not json at all"


def unserializable(event, context):
    return {"thing": object()}


def logs(event, context):
    print("print line")
    logger.warning("warned about %s", event["what"])
    try:
        raise KeyError("missing")
    except KeyError:
        logger.exception("it failed")
    return "logged"


def gc_settings(event, context):
    import gc

    return {"enabled": gc.isenabled(), "threshold": list(gc.get_threshold())}
