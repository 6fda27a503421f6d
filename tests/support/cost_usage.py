"""A measured usage with chosen numbers, in ``bench.metered.Usage``'s shape (as builtins)."""

from __future__ import annotations

from typing import Any


def usage_of(**changes: Any) -> dict[str, Any]:
    """A usage in ``bench.metered.Usage``'s shape with chosen numbers."""
    function = {
        "invocations": 1.0,
        "cpu_ms": 2.0,
        "dynamodb_requests": 2.0,
        "eventbridge_requests": 0.0,
        "appsync_requests": 0.0,
        "log_bytes": 1000.0,
        "info_log_bytes": 600.0,
        "triggers": {"appsync": 1.0},
    }
    publisher = {**function, "dynamodb_requests": 0.0, "eventbridge_requests": 1.0}
    base = {
        "kind": "single-event",
        "label": "single event",
        "repetitions": 12,
        "dynamodb_rru": 2.0,
        "dynamodb_wru": 14 / 12,
        "dynamodb_requests": {"PutItem": 1.0, "Query": 1.0},
        "strongly_consistent_reads": 1.0,
        "strongly_consistent_rru": 2.0,
        "lambda": {"command": function, "publisher": publisher},
        "eventbridge_entries": 1.0,
        "eventbridge_billed_events": 1.0,
        "appsync_client_operations": 1.0,
        "appsync_publishes": 1.0,
        "appsync_publish_increments": 1.0,
        "appsync_publish_via": "eventbridge-target",
        "sfn_executions": 0.0,
        "sfn_transitions": 0.0,
        "sfn_log_bytes": 0.0,
        "sfn_task_cpu_ms": [],
        "sfn_task_requests": [],
        "notes": "",
    }
    return base | changes


#: What distinguishes a query's usage: one strongly consistent Query, the query function.
QUERY_USAGE: dict[str, Any] = {
    "dynamodb_wru": 0.0,
    "dynamodb_requests": {"Query": 1.0},
    "lambda": {
        "query": {
            "invocations": 1.0,
            "cpu_ms": 1.0,
            "dynamodb_requests": 1.0,
            "eventbridge_requests": 0.0,
            "appsync_requests": 0.0,
            "log_bytes": 300.0,
            "info_log_bytes": 0.0,
            "triggers": {"appsync": 1.0},
        }
    },
    "eventbridge_entries": 0.0,
    "eventbridge_billed_events": 0.0,
    "appsync_publishes": 0.0,
    "appsync_publish_increments": 0.0,
    "appsync_publish_via": "none",
}
