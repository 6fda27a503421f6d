"""Handlers for the local Lambda harness tests: each shows one thing a runtime must get right.

Run by the real awslambdaric in a subprocess (``tests/test_lambda_harness.py``); they
report what the process sees (environment, context, path) so the tests can check it.
"""

import logging
import os
import sys
import time

import layer_marker  # from the layer folder: proves PYTHONPATH is laid out like /opt/python

print("probe: init done")
_invocations = 0


class OverdraftRefused(Exception):
    """A domain-flavoured error: its class name becomes the errorType."""


def echo(event, context):
    """Everything the invocation and the process look like from the inside."""
    client_context = context.client_context
    return {
        "event": event,
        "request_id": context.aws_request_id,
        "function_arn": context.invoked_function_arn,
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
        "client_custom": None if client_context is None else client_context.custom,
        "cognito_identity_id": context.identity.cognito_identity_id,
        "environ": dict(os.environ),
        "cwd": os.getcwd(),
        "sys_path": sys.path,
        "layer": layer_marker.WHERE,
        "pid": os.getpid(),
    }


def count(event, context):
    """Module state survives between invocations of one warm environment."""
    global _invocations
    _invocations += 1
    return {"invocations": _invocations, "pid": os.getpid()}


def chatty(event, context):
    """Writes to stdout and through logging, as handlers do."""
    print(f"print from {context.aws_request_id}")
    logging.getLogger().warning("logging from %s", context.aws_request_id)
    return "ok"


def refuse(event, context):
    raise OverdraftRefused(f"balance {event['balance']} is below {event['amount']}")


def sleep(event, context):
    time.sleep(event["seconds"])
    return "woke up"


def oversize(event, context):
    return "x" * event["bytes"]


def exit_hard(event, context):
    sys.stdout.flush()
    os._exit(event["status"])
