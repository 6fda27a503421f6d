"""The cost model: request units from item sizes as DynamoDB bills them, and cost per million.

DynamoDB on-demand billing, as modelled here:

- a strongly consistent Query reads 1 RRU per 4 KB of the items it returns, summed
  over the page and rounded up once, and at least 1 RRU even when nothing matches;
- a transactional write (every action of a ``TransactWriteItems``) costs 2 WRU per
  1 KB of its item, rounded up per item; a ``ConditionCheck`` is billed like one of
  the checked item's size;
- a plain ``PutItem`` (a snapshot) costs 1 WRU per 1 KB.

hotcore's append is one ``TransactWriteItems``: the event ``Put``, the command record
``Put`` and, past version 0, a ``ConditionCheck`` on the previous event (see
``hotcore.store.dynamodb``). The baselines write the same items the same way, so their
request units are the same; only Lambda's share differs between implementations.

Lambda: requests plus GB-seconds at the configured memory. The billed duration of a
warm invocation is its measured CPU time stretched by the CPU share that memory buys,
plus the DynamoDB round trips at an assumed latency, rounded up to the millisecond; a
cold start (a share of invocations) bills its init CPU the same way.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from pathlib import Path

import msgspec

__all__ = [
    "Assumptions",
    "CostBreakdown",
    "Prices",
    "Units",
    "command_units",
    "cost_per_million",
    "load_prices",
    "query_rru",
    "query_units",
    "transactional_wru",
]


class LambdaPrices(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    requests_per_million: float
    arm64_per_gb_second: float


class DynamoPrices(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    write_request_units_per_million: float
    read_request_units_per_million: float


class EventBridgePrices(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    custom_events_per_million: float


class AppSyncPrices(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    operations_per_million: float
    realtime_updates_per_million: float


class Assumptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    memory_mb: int
    full_vcpu_memory_mb: int
    dynamodb_request_ms: float
    cold_start_share: float
    subscribers_per_event: int


class Prices(msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename={"lambda_": "lambda"}):
    """bench/prices.toml."""

    date: str
    region: str
    lambda_: LambdaPrices
    dynamodb: DynamoPrices
    eventbridge: EventBridgePrices
    appsync: AppSyncPrices
    assumptions: Assumptions


def load_prices(path: Path) -> Prices:
    """The price table; a missing or misspelt entry is an error naming it."""
    with path.open("rb") as file:
        raw = tomllib.load(file)
    try:
        return msgspec.convert(raw, Prices)
    except msgspec.ValidationError as exc:
        raise ValueError(f"{path}: {exc}") from None


class Units(msgspec.Struct, frozen=True):
    """Request units of one request (a command or a query) and its DynamoDB calls."""

    rru: float
    wru: float
    calls: int


def query_rru(item_sizes: Sequence[int]) -> float:
    """RRU of one strongly consistent Query page returning items of these sizes."""
    return float(max(1, math.ceil(sum(item_sizes) / 4096)))


def transactional_wru(item_size: int) -> int:
    return 2 * max(1, math.ceil(item_size / 1024))


def query_units(stream_item_sizes: Sequence[int], page_limit: int = 1024 * 1024) -> Units:
    """Load without a snapshot: the snapshot Query (empty) and the events' Query pages."""
    rru = query_rru([])  # the newest-snapshot Query finds none
    calls = 1
    page: list[int] = []
    for size in stream_item_sizes:
        page.append(size)
        if sum(page) >= page_limit:
            rru += query_rru(page)
            calls += 1
            page = []
    if page or calls == 1:
        rru += query_rru(page)
        calls += 1
    return Units(rru=rru, wru=0.0, calls=calls)


def command_units(
    stream_item_sizes: Sequence[int], new_event_sizes: Sequence[int], record_size: int
) -> Units:
    """Load, then the append transaction: event Puts, the command record, the check."""
    load = query_units(stream_item_sizes)
    wru = sum(transactional_wru(s) for s in new_event_sizes) + transactional_wru(record_size)
    if stream_item_sizes:
        wru += transactional_wru(stream_item_sizes[-1])  # ConditionCheck on the previous event
    return Units(rru=load.rru, wru=float(wru), calls=load.calls + 1)


class CostBreakdown(msgspec.Struct, frozen=True):
    """USD per million requests, by service; ``billed_ms`` is the mean billed duration."""

    billed_ms: float
    lambda_usd: float
    dynamodb_usd: float
    eventbridge_usd: float
    appsync_usd: float

    @property
    def total_usd(self) -> float:
        return self.lambda_usd + self.dynamodb_usd + self.eventbridge_usd + self.appsync_usd


def _billed_ms(cpu_ms: float, calls: int, prices: Prices) -> int:
    a = prices.assumptions
    stretch = max(1.0, a.full_vcpu_memory_mb / a.memory_mb)
    return max(1, math.ceil(cpu_ms * stretch + calls * a.dynamodb_request_ms))


def cost_per_million(
    units: Units,
    *,
    warm_cpu_ms: float,
    cold_cpu_ms: float,
    events_per_request: int,
    prices: Prices,
) -> CostBreakdown:
    """USD per million requests of one kind (commands: ``events_per_request`` >= 1)."""
    a = prices.assumptions
    warm = _billed_ms(warm_cpu_ms, units.calls, prices)
    cold = _billed_ms(cold_cpu_ms, units.calls, prices)
    billed = (1 - a.cold_start_share) * warm + a.cold_start_share * cold
    gb_seconds = billed / 1000 * a.memory_mb / 1024
    lam = prices.lambda_
    lambda_usd = lam.requests_per_million + gb_seconds * lam.arm64_per_gb_second * 1e6
    dynamo = prices.dynamodb
    dynamodb_usd = (
        units.rru * dynamo.read_request_units_per_million
        + units.wru * dynamo.write_request_units_per_million
    )
    eventbridge_usd = events_per_request * prices.eventbridge.custom_events_per_million
    appsync = prices.appsync
    # the request's own operation; each event: a publish mutation and its deliveries
    operations = 1 + events_per_request
    appsync_usd = operations * appsync.operations_per_million + (
        events_per_request * a.subscribers_per_event * appsync.realtime_updates_per_million
    )
    return CostBreakdown(
        billed_ms=billed,
        lambda_usd=lambda_usd,
        dynamodb_usd=dynamodb_usd,
        eventbridge_usd=eventbridge_usd,
        appsync_usd=appsync_usd,
    )
