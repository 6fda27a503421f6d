"""The cost model: what each command kind asks of AWS (measured), priced per million.

The counts come from ``bench.metered``: each kind run against the emulator, its DynamoDB
request units metered as DynamoDB bills them, its Lambda invocations, EventBridge entries,
AppSync operations and Step Functions transitions counted where the code asks for them.
This module only prices them (``bench/prices.toml``) and writes beside each line the
cheapest alternative a user could pick, with what it would cost and what it gives up.

- **Lambda**: per invocation, the request fee and its billed duration at the configured
  memory: the CPU time of a warm invocation (the benchmark's warm invocations where it
  measures that function, else this process's measurement) stretched by the CPU share
  that memory buys, plus the requests it made at an assumed round trip each, rounded up
  to the millisecond; a share of invocations are cold and bill their init CPU the same way.
- **DynamoDB**: the measured read and write units at on-demand prices (the streams read by
  the publishers' event source mappings are free).
- **EventBridge**: each entry put, per 64 KB chunk.
- **AppSync**: the front end's operation (a mutation or a query), each ``publish``
  mutation, and each publish reaching each subscriber of its stream (a real-time update
  per 5 KB).
- **Step Functions**: Standard state transitions, retries included.
- **CloudWatch Logs**: the bytes each invocation logs (hotcore's lines, its EMF metrics,
  Lambda's START/END/REPORT) and what the state machine logs (``LogLevel.ALL`` without
  execution data).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

__all__ = [
    "Assumptions",
    "KindCost",
    "Line",
    "Prices",
    "basis_prices",
    "billed_ms",
    "lambda_usd",
    "like_for_like",
    "line_usd",
    "load_prices",
    "price_kind",
    "snapstart_cache_usd_per_month",
]

GIB = 1024**3
SECONDS_PER_MONTH = 30 * 24 * 3600


class _Strict(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


class LambdaPrices(_Strict):
    requests_per_million: float
    arm64_per_gb_second: float
    snapstart_cache_per_gb_second: float
    snapstart_restore_per_gb: float


class DynamoPrices(_Strict):
    write_request_units_per_million: float
    read_request_units_per_million: float


class EventBridgePrices(_Strict):
    custom_events_per_million: float


class AppSyncPrices(_Strict):
    operations_per_million: float
    realtime_updates_per_million: float
    connection_minutes_per_million: float
    events_api_operations_per_million: float


class ApiGatewayPrices(_Strict):
    http_api_requests_per_million: float


class StepFunctionsPrices(_Strict):
    standard_transitions_per_thousand: float
    express_requests_per_million: float
    express_per_gb_second: float


class LogsPrices(_Strict):
    standard_ingestion_per_gb: float
    infrequent_access_ingestion_per_gb: float


class Assumptions(_Strict):
    memory_mb: int
    full_vcpu_memory_mb: int
    dynamodb_request_ms: float
    eventbridge_request_ms: float
    appsync_request_ms: float
    cold_start_share: float
    subscribers_per_stream: int
    express_memory_mb: int


class BasisPrices(_Strict):
    lambda_requests_per_million: float
    lambda_arm64_per_gb_second: float
    write_request_units_per_million: float
    read_request_units_per_million: float
    custom_events_per_million: float
    appsync_operations_per_million: float
    appsync_realtime_updates_per_million: float


class Basis(_Strict):
    """The figure issue 19's targets compare against, and the prices it was computed at."""

    date: str
    single_event_usd: float
    lambda_usd: float
    dynamodb_usd: float
    eventbridge_usd: float
    appsync_usd: float
    write_request_units: float
    strongly_consistent_reads: float
    target_ratio: float
    prices: BasisPrices


class Prices(_Strict, rename={"lambda_": "lambda"}):
    """bench/prices.toml."""

    date: str
    region: str
    sources: dict[str, str]
    lambda_: LambdaPrices
    dynamodb: DynamoPrices
    eventbridge: EventBridgePrices
    appsync: AppSyncPrices
    api_gateway: ApiGatewayPrices
    stepfunctions: StepFunctionsPrices
    cloudwatch_logs: LogsPrices
    assumptions: Assumptions
    basis: Basis


def load_prices(path: Path) -> Prices:
    """The price table; a missing or misspelt entry is an error naming it."""
    with path.open("rb") as file:
        raw = tomllib.load(file)
    try:
        return msgspec.convert(raw, Prices)
    except msgspec.ValidationError as exc:
        raise ValueError(f"{path}: {exc}") from None


def basis_prices(prices: Prices) -> Prices:
    """``prices`` with the basis's prices where the basis had one (for the targets)."""
    b = prices.basis.prices
    return msgspec.structs.replace(
        prices,
        lambda_=msgspec.structs.replace(
            prices.lambda_,
            requests_per_million=b.lambda_requests_per_million,
            arm64_per_gb_second=b.lambda_arm64_per_gb_second,
        ),
        dynamodb=DynamoPrices(
            write_request_units_per_million=b.write_request_units_per_million,
            read_request_units_per_million=b.read_request_units_per_million,
        ),
        eventbridge=EventBridgePrices(custom_events_per_million=b.custom_events_per_million),
        appsync=msgspec.structs.replace(
            prices.appsync,
            operations_per_million=b.appsync_operations_per_million,
            realtime_updates_per_million=b.appsync_realtime_updates_per_million,
        ),
    )


# -- pricing one kind -------------------------------------------------------------------


class Line(msgspec.Struct, kw_only=True):
    """One service's share of a kind, and the cheapest alternative to it."""

    service: str
    usd: float
    detail: str
    alternative: str = ""
    alternative_usd: float | None = None
    trade_off: str = ""


class KindCost(msgspec.Struct, kw_only=True):
    kind: str
    label: str
    lines: list[Line]
    total_usd: float
    cheapest_usd: float  # every line at its cheapest alternative (or as is)
    #: what an option would add: SnapStart's restores, one more subscriber per stream
    #: (GraphQL subscriptions, AppSync Events)
    snapstart_usd: float = 0.0
    subscriber_usd: float = 0.0
    subscriber_events_api_usd: float = 0.0


def billed_ms(
    cpu_ms: float, function: Mapping[str, Any], assumptions: Assumptions, memory_mb: int
) -> int:
    """A warm invocation's billed duration: stretched CPU plus its requests' round trips."""
    stretch = max(1.0, assumptions.full_vcpu_memory_mb / memory_mb)
    waiting = (
        function["dynamodb_requests"] * assumptions.dynamodb_request_ms
        + function["eventbridge_requests"] * assumptions.eventbridge_request_ms
        + function["appsync_requests"] * assumptions.appsync_request_ms
    )
    return max(1, math.ceil(cpu_ms * stretch + waiting))


def lambda_usd(
    functions: Mapping[str, Mapping[str, Any]],
    cpu: Mapping[str, float],
    init_cpu: Mapping[str, float],
    prices: Prices,
    memory_mb: int | None = None,
) -> float:
    """USD per million requests for these invocations (``FunctionUsage`` as builtins)."""
    a = prices.assumptions
    memory_mb = memory_mb or a.memory_mb
    gb = memory_mb / 1024
    usd = 0.0
    stretch = max(1.0, a.full_vcpu_memory_mb / memory_mb)
    for kind, function in functions.items():
        warm = billed_ms(cpu.get(kind, function["cpu_ms"]), function, a, memory_mb)
        cold = warm + math.ceil(init_cpu.get(kind, 0.0) * stretch)
        mean_ms = (1 - a.cold_start_share) * warm + a.cold_start_share * cold
        per_invocation = (
            prices.lambda_.requests_per_million / 1e6
            + mean_ms / 1000 * gb * prices.lambda_.arm64_per_gb_second
        )
        usd += function["invocations"] * per_invocation * 1e6
    return usd


def price_kind(
    usage: Mapping[str, Any],
    prices: Prices,
    *,
    cpu: Mapping[str, float],
    init_cpu: Mapping[str, float],
) -> KindCost:
    """USD per million requests of one kind (``usage``: ``bench.metered.Usage`` as builtins).

    ``cpu``/``init_cpu``: warm and init CPU ms per function kind where the benchmark
    measured them (the others use the CPU measured with the counts).
    """
    a = prices.assumptions
    lines: list[Line] = []
    functions: Mapping[str, Mapping[str, Any]] = usage["lambda"]

    # Lambda
    lam = lambda_usd(functions, cpu, init_cpu, prices)
    invocations = sum(f["invocations"] for f in functions.values())
    gb = a.memory_mb / 1024
    restores = invocations * a.cold_start_share * gb * prices.lambda_.snapstart_restore_per_gb * 1e6
    small = lambda_usd(functions, cpu, init_cpu, prices, 128)
    names = ", ".join(f"{f['invocations']:g} {k}" for k, f in functions.items())
    if small < lam:
        alt, alt_usd, trade = (
            "128 MB instead of 256 MB",
            small,
            "half the CPU share: every invocation and cold start takes longer",
        )
    else:
        alt, alt_usd, trade = "", None, ""
    lines.append(
        Line(
            service="Lambda",
            usd=lam,
            detail=f"{invocations:g} invocations ({names})",
            alternative=alt,
            alternative_usd=alt_usd,
            trade_off=trade,
        )
    )

    # DynamoDB
    d = prices.dynamodb
    ddb = (
        usage["dynamodb_rru"] * d.read_request_units_per_million
        + usage["dynamodb_wru"] * d.write_request_units_per_million
    )
    requests = ", ".join(f"{n:g} {op}" for op, n in usage["dynamodb_requests"].items())
    strong = usage["strongly_consistent_rru"]
    if strong > 0:
        eventual = ddb - strong / 2 * d.read_request_units_per_million
        is_query = not any(k in functions for k in ("command", "events"))
        ddb_alt = "eventually consistent reads"
        ddb_trade = (
            "a read may miss a write of the last second"
            if is_query
            else "a load may miss a write of the last second: the conditional write then "
            "fails (billed) and the command reloads; hotcore's command path reads strongly "
            "consistent (the store's consistent_reads)"
        )
    else:
        eventual, ddb_alt, ddb_trade = ddb, "", ""
    lines.append(
        Line(
            service="DynamoDB",
            usd=ddb,
            detail=f"{requests}: {usage['dynamodb_rru']:g} RRU "
            f"({strong:g} strongly consistent), {usage['dynamodb_wru']:.3g} WRU",
            alternative=ddb_alt,
            alternative_usd=eventual if ddb_alt else None,
            trade_off=ddb_trade,
        )
    )

    # EventBridge
    eb = usage["eventbridge_billed_events"] * prices.eventbridge.custom_events_per_million
    lines.append(
        Line(
            service="EventBridge",
            usd=eb,
            detail=f"{usage['eventbridge_entries']:g} entries",
            trade_off="none cheaper with the same fan-out (a table stream serves 2 readers)"
            if eb
            else "",
        )
    )

    # AppSync
    ap = prices.appsync
    client = usage["appsync_client_operations"]
    publishes = usage["appsync_publishes"]
    deliveries = usage["appsync_publish_increments"] * a.subscribers_per_stream
    appsync = (client + publishes) * ap.operations_per_million + (
        deliveries * ap.realtime_updates_per_million
    )
    events_api = publishes * ap.events_api_operations_per_million + (
        deliveries * ap.events_api_operations_per_million
    )
    http_api = client * prices.api_gateway.http_api_requests_per_million
    appsync_alt = bool(publishes or client)
    lines.append(
        Line(
            service="AppSync",
            usd=appsync,
            detail=f"{client:g} operation(s) from the front end, {publishes:g} publish "
            f"({usage['appsync_publish_via']}), {deliveries:g} real-time message(s) to "
            f"{a.subscribers_per_stream} subscriber(s) per stream",
            alternative="AppSync Events for real-time + API Gateway HTTP API for requests"
            if appsync_alt
            else "",
            alternative_usd=(events_api + http_api) if appsync_alt else None,
            trade_off="Events: channels instead of typed GraphQL subscriptions (a publish and "
            "each delivery are $1 per million operations); HTTP API: commands and queries "
            "without GraphQL"
            if appsync_alt
            else "",
        )
    )

    # Step Functions
    sf = prices.stepfunctions
    transitions = usage["sfn_transitions"]
    executions = usage["sfn_executions"]
    standard = transitions * sf.standard_transitions_per_thousand * 1000
    express = None
    if executions:
        durations = [
            billed_ms(
                task_cpu,
                {"dynamodb_requests": reqs, "eventbridge_requests": 0, "appsync_requests": 0},
                a,
                a.memory_mb,
            )
            for task_cpu, reqs in zip(
                usage["sfn_task_cpu_ms"], usage["sfn_task_requests"], strict=True
            )
        ] or [0]
        seconds = math.ceil(sum(durations) / len(durations) / 100) / 10
        express = executions * (
            sf.express_requests_per_million
            + seconds * a.express_memory_mb / 1024 * sf.express_per_gb_second * 1e6
        )
    lines.append(
        Line(
            service="Step Functions",
            usd=standard,
            detail=f"{transitions:g} state transitions (Standard)" if executions else "",
            alternative="Express workflow" if express is not None else "",
            alternative_usd=express,
            trade_off="at-least-once executions (the saga's derived command ids make a "
            "repeated step a no-op), at most 5 minutes, history in CloudWatch Logs only"
            if express is not None
            else "",
        )
    )

    # CloudWatch Logs
    lg = prices.cloudwatch_logs
    log_bytes = sum(f["invocations"] * f["log_bytes"] for f in functions.values())
    info_bytes = sum(f["invocations"] * f["info_log_bytes"] for f in functions.values())
    sfn_bytes = usage["sfn_log_bytes"]
    logs = (log_bytes + sfn_bytes) / GIB * lg.standard_ingestion_per_gb * 1e6
    warning = (log_bytes - info_bytes + sfn_bytes) / GIB * lg.standard_ingestion_per_gb * 1e6
    lines.append(
        Line(
            service="CloudWatch Logs",
            usd=logs,
            detail=f"{(log_bytes + sfn_bytes) / 1024:.1f} KB"
            + (f" ({sfn_bytes / 1024:.1f} KB from the state machine)" if sfn_bytes else ""),
            alternative="LOG_LEVEL=WARNING" if info_bytes else "",
            alternative_usd=warning if info_bytes else None,
            trade_off="no INFO line per command (the EMF metrics and Lambda's own lines "
            "stay); the Infrequent Access class halves the rest but extracts no EMF metrics"
            if info_bytes
            else "",
        )
    )

    total = sum(line.usd for line in lines)
    cheapest = sum(
        line.alternative_usd
        if line.alternative_usd is not None and line.alternative_usd < line.usd
        else line.usd
        for line in lines
    )
    per_subscriber = usage["appsync_publish_increments"]
    return KindCost(
        kind=usage["kind"],
        label=usage["label"],
        lines=lines,
        total_usd=total,
        cheapest_usd=cheapest,
        snapstart_usd=restores,
        subscriber_usd=per_subscriber * ap.realtime_updates_per_million,
        subscriber_events_api_usd=per_subscriber * ap.events_api_operations_per_million,
    )


def snapstart_cache_usd_per_month(prices: Prices) -> float:
    """SnapStart's cache of one function version for a month, at the configured memory."""
    gb = prices.assumptions.memory_mb / 1024
    return gb * SECONDS_PER_MONTH * prices.lambda_.snapstart_cache_per_gb_second


def line_usd(kind: KindCost, service: str) -> float:
    return next(line.usd for line in kind.lines if line.service == service)


def like_for_like(
    usage: Mapping[str, Any],
    prices: Prices,
    *,
    cpu: Mapping[str, float],
    init_cpu: Mapping[str, float],
) -> float:
    """The lines the basis counted: the command function, DynamoDB, EventBridge, AppSync."""
    command_only = {k: v for k, v in usage["lambda"].items() if k == "command"}
    priced = price_kind({**usage, "lambda": command_only}, prices, cpu=cpu, init_cpu=init_cpu)
    return sum(line_usd(priced, s) for s in ("Lambda", "DynamoDB", "EventBridge", "AppSync"))
