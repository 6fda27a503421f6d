"""What each command kind asks of AWS, measured: every kind run against the emulator.

``World`` is the deployment in one process, wired as the CDK stacks wire it:

- each aggregate's Lambda functions are the real entry points (``CommandFunction``,
  ``QueryFunction``, ``EventFunction``, ``PublisherFunction``), their stores on the
  emulator's DynamoDB tables (moto, metered as DynamoDB bills: ``hotcore_dev.capacity``);
- each table's stream is read as Lambda's event source mapping reads it (moto's
  DynamoDB Streams) and handed to that table's publisher function, whose EventBridge
  client puts the events on a moto bus;
- what the publisher puts on the bus is also delivered by every delivery rule the
  aggregates declare (``hotcore_dev.bus``, EventBridge's pattern matching): to the
  event functions, to the PlaceOrder saga (the ASL file Step Functions runs, on the
  local executor, its tasks the command functions' direct invocations) and to the
  GraphQL subscribers (the ``publish`` mutation of EventBridge's AppSync target); when
  the publisher sends the publish mutation itself, its GraphQL client is counted instead.

Everything is counted where it is asked for: the DynamoDB requests and their request
units, each Lambda invocation (its trigger, CPU time in this process, log bytes, the
requests it made), the EventBridge entries and their sizes, the AppSync operations and
their payloads, the saga's state transitions. Nothing here is computed from assumptions;
``bench.cost`` prices it.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import msgspec

from hotcore_dev.capacity import Consumed
from hotcore_dev.issuer import LocalIssuer

__all__ = [
    "KINDS",
    "LambdaCall",
    "Tally",
    "Usage",
    "World",
    "emulated_environment",
    "measure_all",
]

#: What Lambda writes around every invocation (text log format), with its documented lines.
_REQUEST_ID = "8f507cfc-7a1d-4697-b07a-ac58fc914c95"
FUNCTION_MEMORY_MB = 256  # infra/stacks/common.py FUNCTION_MEMORY_MB
METRICS_NAMESPACE = "hotcore"  # infra/stacks/common.py METRICS_NAMESPACE
ACCOUNT_ID = "123456789012"


def platform_log_lines(duration_ms: float, memory_mb: int = FUNCTION_MEMORY_MB) -> list[str]:
    """Lambda's START, END and REPORT lines for one warm invocation (text format)."""
    billed = max(1, math.ceil(duration_ms))
    return [
        f"START RequestId: {_REQUEST_ID} Version: $LATEST",
        f"END RequestId: {_REQUEST_ID}",
        f"REPORT RequestId: {_REQUEST_ID}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {billed} ms\tMemory Size: {memory_mb} MB\tMax Memory Used: 52 MB\t",
    ]


# -- what is counted ----------------------------------------------------------------------


@dataclass
class LambdaCall:
    """One Lambda invocation and what it asked for."""

    function: str  # hotcore-account-command
    kind: str  # command | query | events | publisher
    trigger: str  # appsync | direct | eventbridge | streams
    cpu_ms: float
    wall_ms: float
    log_bytes: int  # incl. Lambda's own lines and the per-event overhead
    info_log_bytes: int  # the INFO lines among them (what LOG_LEVEL=WARNING leaves out)
    dynamodb: list[Consumed]
    eventbridge_requests: int
    appsync_requests: int
    handled: list[str]  # command ids of the commands it handled
    causes: list[str]  # command ids of the events that triggered it


@dataclass
class Entry:
    """One EventBridge PutEvents entry the code sent."""

    command_id: str
    size: int


@dataclass
class Publish:
    """One AppSync ``publish`` mutation: by EventBridge's AppSync target or by the code."""

    command_ids: list[str]
    size: int
    via: str  # eventbridge-target | publisher


@dataclass
class SagaRun:
    """One state machine execution, as Step Functions would bill and log it."""

    status: str
    transitions: int  # states entered + retries (Standard bills each)
    history_events: int
    log_bytes: int  # LogLevel.ALL without execution data, as Step Functions writes it
    step_transitions: dict[str, int]  # task state -> transitions of its step
    tasks: list[str]  # command ids of the task invocations, in order


@dataclass
class Tally:
    """Everything counted, in order; ``since`` gives the part after a mark."""

    calls: list[LambdaCall] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    publishes: list[Publish] = field(default_factory=list)
    client_operations: list[str] = field(default_factory=list)  # the front end's operations
    sagas: list[SagaRun] = field(default_factory=list)

    def mark(self) -> tuple[int, int, int, int, int]:
        return (
            len(self.calls),
            len(self.entries),
            len(self.publishes),
            len(self.client_operations),
            len(self.sagas),
        )

    def since(self, mark: tuple[int, int, int, int, int]) -> Tally:
        c, e, p, o, s = mark
        return Tally(
            self.calls[c:],
            self.entries[e:],
            self.publishes[p:],
            self.client_operations[o:],
            self.sagas[s:],
        )

    def closure(self, command_id: str) -> Tally:
        """What one command caused: its invocation, its events' publishing, the reactions
        to them and what those caused in turn (a saga step's share of a whole run)."""
        ids = {command_id}
        while True:
            grown = set(ids)
            for call in self.calls:
                if set(call.handled) & ids or set(call.causes) & ids:
                    grown.update(call.handled)
            if grown == ids:
                break
            ids = grown
        calls = [c for c in self.calls if set(c.handled) & ids or set(c.causes) & ids]
        shared: list[LambdaCall] = []
        for call in calls:
            if call.kind == "publisher" and call.causes:
                # a batch published with other commands' events: this command's share
                share = sum(1 for c in call.causes if c in ids) / len(call.causes)
                shared.append(_scaled(call, share))
            else:
                shared.append(call)
        return Tally(
            calls=shared,
            entries=[e for e in self.entries if e.command_id in ids],
            publishes=[p for p in self.publishes if set(p.command_ids) & ids],
        )


def _scaled(call: LambdaCall, share: float) -> LambdaCall:
    """A publisher batch counted as ``share`` of an invocation (kept exact as a fraction)."""
    scaled = LambdaCall(**vars(call))
    scaled.kind = f"publisher*{share:.6f}"
    return scaled


def _weight(call: LambdaCall) -> float:
    if "*" in call.kind:
        return float(call.kind.split("*", 1)[1])
    return 1.0


def _base_kind(call: LambdaCall) -> str:
    return call.kind.split("*", 1)[0]


# -- the averaged usage of one kind --------------------------------------------------------


class FunctionUsage(msgspec.Struct, kw_only=True):
    """One function kind's invocations per request, and the mean of each invocation."""

    invocations: float
    cpu_ms: float
    dynamodb_requests: float
    eventbridge_requests: float
    appsync_requests: float
    log_bytes: float
    info_log_bytes: float
    triggers: dict[str, float]


class Usage(msgspec.Struct, kw_only=True):
    """What one request of a kind asked for, averaged over its repetitions."""

    kind: str
    label: str
    repetitions: int
    dynamodb_rru: float
    dynamodb_wru: float
    dynamodb_requests: dict[str, float]
    strongly_consistent_reads: float  # read requests with ConsistentRead
    strongly_consistent_rru: float
    lambda_: dict[str, FunctionUsage] = msgspec.field(name="lambda")
    eventbridge_entries: float
    eventbridge_billed_events: float  # 64 KB chunks
    appsync_client_operations: float
    appsync_publishes: float
    appsync_publish_increments: float  # 5 KB chunks of the publish payloads
    appsync_publish_via: str
    sfn_executions: float
    sfn_transitions: float
    sfn_log_bytes: float
    sfn_task_cpu_ms: list[float]  # per execution: the CPU of the tasks it ran
    sfn_task_requests: list[float]  # per execution: the requests its tasks made
    notes: str = ""


def summarize(kind: str, label: str, tallies: Sequence[Tally], notes: str = "") -> Usage:
    """The per-request average of ``tallies`` (one per repetition)."""
    n = len(tallies)
    if n == 0:
        raise ValueError(f"{kind}: nothing measured")
    rru = wru = strong = 0.0
    requests: dict[str, float] = {}
    functions: dict[str, dict[str, Any]] = {}
    entries = billed = client = publishes = increments = 0.0
    vias: set[str] = set()
    executions = transitions = sfn_logs = 0.0
    task_cpu: list[float] = []
    task_requests: list[float] = []
    for tally in tallies:
        for call in tally.calls:
            w = _weight(call)
            for record in call.dynamodb:
                rru += w * record.read_units
                wru += w * record.write_units
                requests[record.operation] = requests.get(record.operation, 0.0) + w
            row = functions.setdefault(
                _base_kind(call),
                {"n": 0.0, "cpu": 0.0, "ddb": 0.0, "eb": 0.0, "as": 0.0, "log": 0.0, "info": 0.0},
            )
            row["n"] += w
            row["cpu"] += w * call.cpu_ms
            row["ddb"] += w * len(call.dynamodb)
            row["eb"] += w * call.eventbridge_requests
            row["as"] += w * call.appsync_requests
            row["log"] += w * call.log_bytes
            row["info"] += w * call.info_log_bytes
            triggers = row.setdefault("triggers", {})
            triggers[call.trigger] = triggers.get(call.trigger, 0.0) + w
        for entry in tally.entries:
            entries += 1
            billed += max(1, math.ceil(entry.size / (64 * 1024)))
        client += len(tally.client_operations)
        for publish in tally.publishes:
            publishes += 1
            increments += max(1, math.ceil(publish.size / (5 * 1024)))
            vias.add(publish.via)
        for run in tally.sagas:
            executions += 1
            transitions += run.transitions
            sfn_logs += run.log_bytes
        if tally.sagas:
            tasks = [c for c in tally.calls if c.trigger == "direct"]
            task_cpu.append(sum(c.cpu_ms for c in tasks))
            task_requests.append(float(sum(len(c.dynamodb) for c in tasks)))
    strong_reads = 0.0
    for tally in tallies:
        for call in tally.calls:
            for record in call.dynamodb:
                if record.consistent:
                    strong += _weight(call) * record.read_units
                    strong_reads += _weight(call)
    lam = {
        name: FunctionUsage(
            invocations=row["n"] / n,
            cpu_ms=row["cpu"] / row["n"],
            dynamodb_requests=row["ddb"] / row["n"],
            eventbridge_requests=row["eb"] / row["n"],
            appsync_requests=row["as"] / row["n"],
            log_bytes=row["log"] / row["n"],
            info_log_bytes=row["info"] / row["n"],
            triggers={k: v / n for k, v in row["triggers"].items()},
        )
        for name, row in sorted(functions.items())
    }
    return Usage(
        kind=kind,
        label=label,
        repetitions=n,
        dynamodb_rru=rru / n,
        dynamodb_wru=wru / n,
        dynamodb_requests={k: v / n for k, v in sorted(requests.items())},
        strongly_consistent_reads=strong_reads / n,
        strongly_consistent_rru=strong / n,
        lambda_=lam,
        eventbridge_entries=entries / n,
        eventbridge_billed_events=billed / n,
        appsync_client_operations=client / n,
        appsync_publishes=publishes / n,
        appsync_publish_increments=increments / n,
        appsync_publish_via="+".join(sorted(vias)) or "none",
        sfn_executions=executions / n,
        sfn_transitions=transitions / n,
        sfn_log_bytes=sfn_logs / n,
        sfn_task_cpu_ms=task_cpu,
        sfn_task_requests=task_requests,
        notes=notes,
    )


# -- the world ------------------------------------------------------------------------------


@contextlib.contextmanager
def emulated_environment(endpoint: str, region: str, key: str, secret: str) -> Iterator[None]:
    """The variables Lambda would give the functions, pointed at the emulator; restored after."""
    wanted = {
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_ENDPOINT_URL_EVENTS": endpoint,
        "AWS_ENDPOINT_URL_APPSYNC": endpoint,
        "AWS_REGION": region,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
    }
    saved = {name: os.environ.get(name) for name in [*wanted, "AWS_SESSION_TOKEN"]}
    os.environ.update(wanted)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def appsync_event(parent: str, field_name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A direct Lambda resolver event as AppSync sends it for an IAM-signed front end."""
    return {
        "arguments": arguments,
        "identity": {
            "userArn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/hotcore-web-server/i-0123456789ab"
        },
        "info": {"fieldName": field_name, "parentTypeName": parent, "variables": {}},
        "request": {"headers": {"x-amzn-trace-id": "Root=1-abc"}},
        "source": None,
        "prev": None,
        "stash": {},
    }


class _StreamReader:
    """One table's DynamoDB stream, read from where the last read stopped (as Lambda does)."""

    def __init__(self, server: Any, table: str) -> None:
        from hotcore.aws.client import ServiceClient

        self.client = ServiceClient(
            service="dynamodb",
            target_prefix="DynamoDBStreams_20120810",
            content_type="application/x-amz-json-1.0",
            endpoint_url=server.endpoint,
        )
        described = server.dynamodb().call("DescribeTable", {"TableName": table})
        self.arn = described["Table"]["LatestStreamArn"]
        stream = self._call("DescribeStream", {"StreamArn": self.arn})["StreamDescription"]
        self.iterators: list[str | None] = [
            self._call(
                "GetShardIterator",
                {
                    "StreamArn": self.arn,
                    "ShardId": s["ShardId"],
                    "ShardIteratorType": "TRIM_HORIZON",
                },
            )["ShardIterator"]
            for s in stream["Shards"]
        ]

    def _call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = msgspec.json.decode(self.client.call(operation, request))
        return answer

    def read(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for index, iterator in enumerate(self.iterators):
            if iterator is None:
                continue
            page = self._call("GetRecords", {"ShardIterator": iterator})
            records += [{**r, "eventSourceARN": self.arn} for r in page.get("Records", [])]
            self.iterators[index] = page.get("NextShardIterator")
        return records


class _CountingBus:
    """The publisher's EventBridge client (to the moto bus) teed into the local rules."""

    def __init__(self, client: Any, bus: Any, tally: Tally) -> None:
        self.client = client
        self.bus = bus
        self.tally = tally

    def put_events(self, entries: Sequence[Mapping[str, Any]]) -> Any:
        from hotcore.aws.eventbridge import entry_size

        result = self.client.put_events(entries)
        failed = {failure.index for failure in result.failures}
        delivered = []
        for index, entry in enumerate(entries):
            if index in failed:
                continue
            header = msgspec.json.decode(entry["Detail"])
            self.tally.entries.append(Entry(str(header.get("command_id")), entry_size(entry)))
            delivered.append(entry)
        for start in range(0, len(delivered), 10):
            self.bus.put_events(delivered[start : start + 10])
        return result


class _CountingGraphQL:
    """The publisher's GraphQL client: each publish mutation it sends is counted, then
    answered as AppSync's NONE data source answers a publish (the value, unchanged)."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.requests = 0

    def execute(self, document: str, variables: Mapping[str, Any]) -> Any:
        self.requests += 1
        body = json.dumps({"query": document, "variables": variables}).encode()
        ids = _command_ids_in(variables)
        self.tally.publishes.append(Publish(ids, len(body), "publisher"))
        return {"data": {}}


def _command_ids_in(value: Any) -> list[str]:
    found: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in ("command_id", "commandId") and isinstance(item, str):
                found.append(item)
            else:
                found += _command_ids_in(item)
    elif isinstance(value, list):
        for item in value:
            found += _command_ids_in(item)
    elif isinstance(value, str) and value.startswith(("[", "{")):
        with contextlib.suppress(ValueError):
            found += _command_ids_in(json.loads(value))
    return found


class World:
    """Every aggregate's functions, its table's stream, the bus and the saga, metered.

    Use inside ``emulated_environment`` (the functions read their endpoints from it).
    """

    def __init__(self, server: Any, prefix: str, *, snapshot_every: int | None = None) -> None:
        from hotcore.domain.registry import AGGREGATE_NAMES
        from hotcore.entrypoints.command import CommandFunction
        from hotcore.entrypoints.events import EventFunction
        from hotcore.entrypoints.publisher import PublisherFunction
        from hotcore.entrypoints.query import QueryFunction
        from hotcore.entrypoints.settings import Settings
        from hotcore.store.port import DEFAULT_SNAPSHOT_EVERY
        from hotcore_dev.bus.local import LocalBus
        from hotcore_dev.emulator import create_table

        self.server = server
        self.tally = Tally()
        self.aggregates = list(AGGREGATE_NAMES)
        self.snapshot_every = snapshot_every or DEFAULT_SNAPSHOT_EVERY
        self.tables = {name: f"{prefix}-{name}" for name in self.aggregates}
        self.guard_table = f"{prefix}-guards"
        self.bus_name = f"{prefix}-bus"
        client = server.dynamodb()
        existing = set(client.call("ListTables", {}).get("TableNames", []))
        for table in self.tables.values():
            if table not in existing:
                create_table(client, table, hash_key="stream_id", range_key="version", stream=True)
        if self.guard_table not in existing:
            create_table(client, self.guard_table, hash_key="guard")
        self.metered_tables = [*self.tables.values(), self.guard_table]
        self._served = len(server.capacity())
        self.bus = LocalBus(name=self.bus_name, account=ACCOUNT_ID, region=os.environ["AWS_REGION"])
        self.commands: dict[str, Any] = {}
        self.queries: dict[str, Any] = {}
        self.events: dict[str, Any] = {}
        self.publishers: dict[str, Any] = {}
        self.readers: dict[str, _StreamReader] = {}
        self.envs: dict[tuple[str, str], dict[str, str]] = {}
        graphql_created = False
        self.issuer = LocalIssuer()
        for name in self.aggregates:
            env = {
                "HOTCORE_AGGREGATE": name,
                "HOTCORE_TABLE": self.tables[name],
                "HOTCORE_GUARD_TABLE": self.guard_table,
                "HOTCORE_BUS_NAME": self.bus_name,
                "HOTCORE_SNAPSHOT_EVERY": str(self.snapshot_every),
                "AWS_REGION": os.environ["AWS_REGION"],
                "HOTCORE_GRAPHQL_URL": f"{server.endpoint}/graphql",
                # the front end's mutations carry an end user's ID token, verified as deployed
                **self.issuer.env(),
            }
            settings = Settings.from_env(name, env)
            self.commands[name] = CommandFunction(name, settings)
            self.queries[name] = QueryFunction(name, settings)
            from hotcore.domain.registry import load_aggregate

            if load_aggregate(name).reactions:
                self.events[name] = EventFunction(name, settings)
            publisher = PublisherFunction(name, Settings.for_publisher(name, env))
            publisher.publisher.sink = _CountingBus(publisher.client, self.bus, self.tally)
            subscribers = getattr(publisher.publisher, "subscribers", None)
            if subscribers is not None:
                subscribers.sink = _CountingGraphQL(self.tally)
                graphql_created = True
            self.publishers[name] = publisher
            for kind in ("command", "query", "events", "publisher"):
                self.envs[(name, kind)] = {
                    **env,
                    "POWERTOOLS_SERVICE_NAME": f"hotcore-{name}-{kind}",
                    "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                }
        self.publish_by_publisher = graphql_created
        with contextlib.suppress(Exception):  # the bus may exist from an earlier world
            self.publishers[self.aggregates[0]].client.client.call(
                "CreateEventBus", {"Name": self.bus_name}
            )
        for name in self.aggregates:
            self.readers[name] = _StreamReader(server, self.tables[name])
        self._wire_rules()

    # -- wiring -------------------------------------------------------------------------

    def _wire_rules(self) -> None:
        from hotcore.domain.registry import load_aggregate
        from hotcore_dev.saga.place_order import LocalPlaceOrderSaga

        def task(name: str) -> Callable[[Any], dict[str, Any]]:
            def invoke(payload: Any) -> dict[str, Any]:
                handled = (
                    [payload["command_id"]] if isinstance(payload.get("command_id"), str) else []
                )
                result: dict[str, Any] = self._invoke(
                    self.commands[name], payload, "command", name, "direct", handled=handled
                )
                return result

            return invoke

        saga = LocalPlaceOrderSaga({name: task(name) for name in self.aggregates})
        self.saga = saga
        for name in self.aggregates:
            for rule in load_aggregate(name).delivery_rules:
                self.bus.add_rule(rule.name, rule.pattern, self._target(rule, saga))

    def _target(self, rule: Any, saga: Any) -> Callable[[dict[str, Any]], object]:
        if rule.target_kind == "event-handler":
            function = self.events[rule.target]

            def react(event: dict[str, Any]) -> object:
                cause = str(event["detail"].get("command_id"))
                result = self._invoke(
                    function, event, "events", rule.target, "eventbridge", causes=[cause]
                )
                for outcome in result["reactions"]:
                    if isinstance(outcome.get("command_id"), str):
                        self.tally.calls[-1].handled.append(outcome["command_id"])
                return result

            return react
        if rule.target_kind == "subscription":

            def publish(event: dict[str, Any]) -> object:
                detail = event["detail"]
                size = len(json.dumps(detail).encode())
                self.tally.publishes.append(
                    Publish([str(detail.get("command_id"))], size, "eventbridge-target")
                )
                return None

            return publish

        def start(event: dict[str, Any]) -> object:
            execution = saga(event)
            self.tally.sagas.append(_saga_run(execution, saga.executor.machine))
            return execution

        return start

    # -- invoking a function as Lambda does -------------------------------------------------

    def _invoke(
        self,
        function: Any,
        event: Any,
        kind: str,
        aggregate: str,
        trigger: str,
        *,
        handled: list[str] | None = None,
        causes: list[str] | None = None,
    ) -> Any:
        from hotcore.entrypoints.observability import logger, metrics

        env = self.envs[(aggregate, kind)]
        logger.configure(env)
        metrics.configure(env)
        name = f"hotcore-{aggregate}-{kind}"
        context = SimpleNamespace(
            function_name=name,
            memory_limit_in_mb=str(FUNCTION_MEMORY_MB),
            invoked_function_arn=f"arn:aws:lambda:{env['AWS_REGION']}:{ACCOUNT_ID}:function:{name}",
            aws_request_id=str(uuid.uuid4()),
        )
        self._meter()  # what was served before this invocation is not its own
        eventbridge = getattr(getattr(function, "client", None), "requests", 0)
        graphql = self._graphql_requests(function)
        output = io.StringIO()
        started_wall = time.perf_counter()
        started = time.process_time()
        try:
            with contextlib.redirect_stdout(output):
                result = function(event, context)
        finally:
            cpu_ms = (time.process_time() - started) * 1000
            wall_ms = (time.perf_counter() - started_wall) * 1000
            logger.configure(os.environ)
            metrics.configure(os.environ)
        records = self._meter()
        # CloudWatch Logs bills the bytes of each line (an event), Lambda's own lines included
        lines = [line for line in output.getvalue().splitlines() if line]
        info = sum(len(line.encode()) for line in lines if line.startswith('{"level":"INFO"'))
        log_bytes = sum(len(line.encode()) for line in [*lines, *platform_log_lines(cpu_ms)])
        handled = list(handled or [])
        answered = result.get("command_id") if isinstance(result, dict) else None
        if kind == "command" and isinstance(answered, str) and answered not in handled:
            handled.append(answered)
        self.tally.calls.append(
            LambdaCall(
                function=name,
                kind=kind,
                trigger=trigger,
                cpu_ms=cpu_ms,
                wall_ms=wall_ms,
                log_bytes=log_bytes,
                info_log_bytes=info,
                dynamodb=records,
                eventbridge_requests=getattr(getattr(function, "client", None), "requests", 0)
                - eventbridge,
                appsync_requests=self._graphql_requests(function) - graphql,
                handled=handled,
                causes=list(causes or []),
            )
        )
        return result

    def _meter(self) -> list[Consumed]:
        """The emulator's records since the last call, on this world's tables."""
        records = self.server.capacity(since=self._served)
        self._served += len(records)
        mine = set(self.metered_tables)
        return [r for r in records if mine.intersection(r.tables)]

    @staticmethod
    def _graphql_requests(function: Any) -> int:
        sink = getattr(
            getattr(getattr(function, "publisher", None), "subscribers", None), "sink", None
        )
        return int(getattr(sink, "requests", 0))

    def settle(self, max_rounds: int = 200) -> None:
        """Streams -> publishers -> bus -> targets, until nothing moves."""
        for _ in range(max_rounds):
            moved = 0
            for name in self.aggregates:
                records = self.readers[name].read()
                if not records:
                    continue
                moved += len(records)
                causes = [_record_command_id(r) for r in records]
                answer = self._invoke(
                    self.publishers[name],
                    {"Records": records},
                    "publisher",
                    name,
                    "streams",
                    causes=causes,
                )
                if answer.get("batchItemFailures"):
                    raise RuntimeError(f"{name} publisher failed records: {answer}")
            moved += self.bus.drain()
            if not moved:
                if self.bus.dead_letters:
                    raise RuntimeError(f"bus deliveries failed: {self.bus.dead_letters[-1]}")
                return
        raise RuntimeError("the world was still busy after {max_rounds} rounds")

    # -- what a front end sends ------------------------------------------------------------

    def mutation(
        self, aggregate: str, command: msgspec.Struct, *, by: str, groups: Sequence[str] = ()
    ) -> dict[str, Any]:
        """The command as an AppSync mutation to its command function, sent for end user
        ``by`` (an ID token in the header the resolver forwards), then settle."""
        from hotcore.codec.graphql import struct_converters
        from hotcore.domain.names import field_name
        from hotcore.entrypoints.identity import TOKEN_HEADER

        to_graphql, _ = struct_converters(type(command))
        fields = to_graphql(msgspec.to_builtins(command))  # the SDL's shape, as AppSync sends it
        name = type(command).__name__
        event = appsync_event("Mutation", field_name(name), {"input": fields})
        event["request"]["headers"][TOKEN_HEADER] = self.issuer.token(by, groups=groups)
        self.tally.client_operations.append(f"Mutation.{field_name(name)}")
        result: dict[str, Any] = self._invoke(
            self.commands[aggregate], event, "command", aggregate, "appsync"
        )
        if result.get("outcome") != "accepted":
            raise RuntimeError(f"{name} was not accepted: {result}")
        self.settle()
        return result

    def system(self, aggregate: str, command: msgspec.Struct) -> dict[str, Any]:
        """An internal command (Account's event handler opens accounts), invoked directly."""
        payload = {"command": msgspec.to_builtins(command), "actor": "hotcore.bench"}
        result: dict[str, Any] = self._invoke(
            self.commands[aggregate], payload, "command", aggregate, "direct"
        )
        if result.get("outcome") != "accepted":
            raise RuntimeError(f"{type(command).__name__} was not accepted: {result}")
        self.settle()
        return result

    def query(
        self, aggregate: str, query: msgspec.Struct, *, by: str, function: Any = None
    ) -> dict[str, Any]:
        """The query as AppSync sends it to the query function, for end user ``by``."""
        from hotcore.codec.graphql import struct_converters
        from hotcore.domain.names import field_name

        to_graphql, _ = struct_converters(type(query))
        arguments = to_graphql(msgspec.to_builtins(query))
        name = field_name(type(query).__name__)
        self.tally.client_operations.append(f"Query.{name}")
        result: dict[str, Any] = self._invoke(
            function or self.queries[aggregate],
            self.signed(appsync_event("Query", name, arguments), by),
            "query",
            aggregate,
            "appsync",
        )
        if isinstance(result, dict) and result.get("outcome") is not None:
            raise RuntimeError(f"{name} was not answered with a view: {result}")
        return result

    def signed(self, event: dict[str, Any], by: str, groups: Sequence[str] = ()) -> dict[str, Any]:
        """``event`` with end user ``by``'s ID token in the header the resolver forwards."""
        from hotcore.entrypoints.identity import TOKEN_HEADER

        event["request"]["headers"][TOKEN_HEADER] = self.issuer.token(by, groups=groups)
        return event

    def measured(self, action: Callable[[], object]) -> Tally:
        mark = self.tally.mark()
        action()
        return self.tally.since(mark)


def _record_command_id(record: Mapping[str, Any]) -> str:
    image = record.get("dynamodb", {}).get("NewImage", {})
    detail = image.get("e", {}).get("S", "{}")
    return str(msgspec.json.decode(detail).get("command_id"))


def _saga_run(execution: Any, machine: Any) -> SagaRun:
    """Transitions and log bytes of one execution, from its history."""
    entered = [e for e in execution.history if e.type.endswith("StateEntered")]
    retries = [e for e in execution.history if e.type == "RetryScheduled"]
    log_bytes = 0
    for event in execution.history:
        record = {
            "id": str(event.id),
            "type": event.type,
            "details": {"resourceType": "lambda", "resource": "invoke"}
            if event.type.startswith("Task")
            else {},
            "previous_event_id": str(max(0, event.id - 1)),
            "event_timestamp": "1767225600000",
            "execution_arn": execution.execution_arn,
            "redrive_count": "0",
        }
        log_bytes += len(json.dumps(record, separators=(",", ":")).encode())
    steps: dict[str, int] = {}
    definition = machine.definition if hasattr(machine, "definition") else None
    for state in _task_steps(definition):
        names = set(state)
        steps[state[0]] = sum(1 for e in entered if e.state in names) + sum(
            1 for e in retries if e.state in names
        )
    tasks = [
        str(e.details.get("parameters", {}).get("Payload", {}).get("command_id"))
        for e in execution.history
        if e.type == "TaskScheduled"
    ]
    return SagaRun(
        status=execution.status,
        transitions=len(entered) + len(retries),
        history_events=len(execution.history),
        log_bytes=log_bytes,
        step_transitions=steps,
        tasks=tasks,
    )


def _task_steps(definition: Any) -> list[list[str]]:
    """Each Task state with the Choice it goes to (one saga step), from the ASL document."""
    from hotcore_dev.saga.place_order import DEFINITION

    document = definition or json.loads(DEFINITION.read_text())
    found: list[list[str]] = []

    def walk(states: Mapping[str, Any]) -> None:
        for name, state in states.items():
            if state.get("Type") == "Task":
                step = [name]
                following = states.get(state.get("Next", ""), {})
                if following.get("Type") == "Choice":
                    step.append(state["Next"])
                found.append(step)
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if processor:
                walk(processor["States"])

    walk(document["States"])
    return found


# -- the kinds ------------------------------------------------------------------------------

#: Instances one measured batch query asks for (each a stream shaped like the query's).
BATCH_IDS = 10
#: The kinds measured, in report order: (key, label).
KINDS: list[tuple[str, str]] = [
    ("single-event", "single event (Account deposit)"),
    ("multi-event", "multi event (3 events, one command)"),
    ("guarded", "guarded (Customer e-mail change)"),
    ("guarded-register", "guarded (Customer registration + its account)"),
    ("saga-step", "saga step (ChargeAccount task)"),
    ("place-order", "whole PlaceOrder (2 lines, saga)"),
    ("query", "query (getAccount)"),
    ("query-eventual", "query, eventually consistent"),
    ("batch-query", f"batch query (getAccounts, {BATCH_IDS} ids), per instance"),
]


def measure_all(
    world: World, *, quick: bool = False, progress: Callable[[str], None] | None = None
) -> dict[str, Usage]:
    """Every kind of ``KINDS`` in steady state, each repeated and averaged per request."""
    say = progress or (lambda _: None)
    found: dict[str, Usage] = {}
    say("a deposit, over a snapshot cycle")
    found |= _account_kinds(world)
    say(f"a batch query of {BATCH_IDS} accounts")
    found |= _batch_query(world, repeat=2 if quick else 4)
    say("a deposit decided into three events")
    found |= _multi_event(world)
    say("Customer registrations and e-mail changes")
    found |= _customer_kinds(world, repeat=2 if quick else 4)
    say("whole PlaceOrders through the saga")
    found |= _saga_kinds(world, repeat=2 if quick else 4)
    return {key: found[key] for key, _ in KINDS if key in found}


def _account_kinds(world: World) -> dict[str, Usage]:
    """A deposit on a stream whose recent-commands window is full, over a whole snapshot
    cycle (one write of the cycle carries the snapshot); the query on that stream."""
    from hotcore.contracts.account import Deposit, GetAccount, OpenAccount
    from hotcore.entrypoints.query import QueryFunction
    from hotcore.store.port import RECENT_COMMANDS

    every = world.snapshot_every
    labels = dict(KINDS)
    account = "acct-single"
    world.system("account", OpenAccount(account_id=account, owner_id="cust-single"))

    def deposit(n: int) -> Deposit:
        reference = "salary" if n % 3 == 0 else None
        return Deposit(account_id=account, amount=100 + n, reference=reference)

    for n in range(RECENT_COMMANDS + every):
        world.mutation("account", deposit(n), by="cust-single")
    single = [
        world.measured(lambda n=n: world.mutation("account", deposit(n), by="cust-single"))
        for n in range(every)
    ]
    get = GetAccount(account_id=account)
    queries = [
        world.measured(lambda: world.query("account", get, by="cust-single")) for _ in range(4)
    ]
    eventual = QueryFunction("account", world.commands["account"].settings)
    eventual.store.consistent_reads = False
    stale = [
        world.measured(lambda: world.query("account", get, by="cust-single", function=eventual))
        for _ in range(4)
    ]
    return {
        "single-event": summarize(
            "single-event",
            labels["single-event"],
            single,
            notes=f"averaged over one snapshot cycle ({every} commands): one write of the "
            "cycle carries the snapshot",
        ),
        "query": summarize(
            "query",
            labels["query"],
            queries,
            notes=f"the deposits' stream: {every} items back to the newest snapshot",
        ),
        "query-eventual": summarize(
            "query-eventual",
            labels["query-eventual"],
            stale,
            notes="the same query with ConsistentRead false (may miss the last second's writes)",
        ),
    }


def _batch_query(world: World, repeat: int) -> dict[str, Usage]:
    """``getAccounts`` of ``BATCH_IDS`` accounts, each two snapshot cycles long (its newest
    snapshot a cycle back, as the single query's), priced per instance."""
    from hotcore.contracts.account import Deposit, OpenAccount
    from hotcore.domain.names import batch_query_name

    every = world.snapshot_every
    ids = [f"acct-batch-{n}" for n in range(BATCH_IDS)]
    for account in ids:
        world.system("account", OpenAccount(account_id=account, owner_id="cust-batch"))
        for n in range(2 * every - 1):
            world.mutation("account", Deposit(account_id=account, amount=100 + n), by="cust-batch")
    field = batch_query_name("GetAccount")

    def batch() -> None:
        world.tally.client_operations.append(f"Query.{field}")
        answer = world._invoke(
            world.queries["account"],
            world.signed(appsync_event("Query", field, {"ids": ids}), "cust-batch"),
            "query",
            "account",
            "appsync",
        )
        if any(item["view"] is None for item in answer):
            raise RuntimeError(f"{field} missed an instance: {answer}")

    tallies = [world.measured(batch) for _ in range(repeat)]
    usage = summarize(
        "batch-query",
        dict(KINDS)["batch-query"],
        tallies,
        notes=f"one AppSync query and one invocation for {BATCH_IDS} instances, loaded on the "
        "function's threads; each instance's Query reads back to its newest snapshot, as the "
        "single query's does",
    )
    return {"batch-query": per_instance(usage, BATCH_IDS)}


def per_instance(usage: Usage, instances: int) -> Usage:
    """A request's usage as its share per instance (every count divided, means kept)."""
    share = 1.0 / instances
    lam = {
        name: msgspec.structs.replace(
            function,
            invocations=function.invocations * share,
            triggers={k: v * share for k, v in function.triggers.items()},
        )
        for name, function in usage.lambda_.items()
    }
    return msgspec.structs.replace(
        usage,
        dynamodb_rru=usage.dynamodb_rru * share,
        dynamodb_wru=usage.dynamodb_wru * share,
        dynamodb_requests={k: v * share for k, v in usage.dynamodb_requests.items()},
        strongly_consistent_reads=usage.strongly_consistent_reads * share,
        strongly_consistent_rru=usage.strongly_consistent_rru * share,
        lambda_=lam,
        appsync_client_operations=usage.appsync_client_operations * share,
    )


def _split_deposit(state: Any, command: Any) -> Any:
    """Account's decider, except that a deposit is answered with three Deposited events."""
    import msgspec.structs

    from hotcore.contracts.account import Deposit
    from hotcore.domain.account import ACCOUNT

    decided = ACCOUNT.decide(state, command)
    if not isinstance(command, Deposit) or not isinstance(decided, list):
        return decided
    third, rest = divmod(command.amount, 3)
    amounts = [third + rest, third, third]
    return [msgspec.structs.replace(decided[0], amount=amount) for amount in amounts]


def _multi_event(world: World) -> dict[str, Usage]:
    """No built-in command emits several events: Account's command function with a decider
    that answers a deposit with three, on a stream of its own, over a snapshot cycle."""
    import msgspec.structs

    from hotcore.contracts.account import Deposit, OpenAccount
    from hotcore.domain.account import ACCOUNT
    from hotcore.entrypoints.command import CommandFunction
    from hotcore.entrypoints.direct import DirectHandler
    from hotcore.service.command import CommandService
    from hotcore.store.port import RECENT_COMMANDS

    every = world.snapshot_every
    variant = msgspec.structs.replace(ACCOUNT, decide=_split_deposit)
    function = CommandFunction("account", world.commands["account"].settings)
    function.commands = CommandService(variant, function.store, snapshot_every=every)
    function.direct = DirectHandler(function.commands)
    saved, world.commands["account"] = world.commands["account"], function
    try:
        stream = "acct-multi"
        world.system("account", OpenAccount(account_id=stream, owner_id="cust-multi"))

        def deposit(n: int) -> Deposit:
            return Deposit(account_id=stream, amount=300 + n, reference=None)

        for n in range(RECENT_COMMANDS // 3 + every):
            world.mutation("account", deposit(n), by="cust-multi")
        cycle = max(1, every // 3)
        tallies = [
            world.measured(lambda n=n: world.mutation("account", deposit(n), by="cust-multi"))
            for n in range(cycle)
        ]
    finally:
        world.commands["account"] = saved
    return {
        "multi-event": summarize(
            "multi-event",
            dict(KINDS)["multi-event"],
            tallies,
            notes="Account's command function with a decider that answers a deposit with three "
            "Deposited events (no built-in command emits several), averaged over "
            f"{cycle} commands ({3 * cycle} events: a snapshot cycle)",
        )
    }


def _customer_kinds(world: World, repeat: int) -> dict[str, Usage]:
    """Registrations (the event and the e-mail's claim; Account's event function opens an
    account of the same id), then e-mail changes (the event, the new claim, the old
    address's release)."""
    from hotcore.contracts.customer import ChangeEmail, RegisterCustomer

    labels = dict(KINDS)

    def register(n: int) -> RegisterCustomer:
        return RegisterCustomer(customer_id=f"cust-{n}", email=f"c{n}@example.com", name="Ada")

    def change(n: int) -> ChangeEmail:
        return ChangeEmail(customer_id="cust-0", email=f"c0-{n}@example.org")

    registrations = [
        world.measured(lambda n=n: world.mutation("customer", register(n), by=f"cust-{n}"))
        for n in range(repeat)
    ]
    changes = [
        world.measured(lambda n=n: world.mutation("customer", change(n), by="cust-0"))
        for n in range(max(repeat, world.snapshot_every))
    ]
    return {
        "guarded": summarize(
            "guarded",
            labels["guarded"],
            changes,
            notes="one TransactWriteItems: the event, the new address's claim, the old one's "
            "release",
        ),
        "guarded-register": summarize(
            "guarded-register",
            labels["guarded-register"],
            registrations,
            notes="a new Customer stream; Account's event function opens an account of the "
            "same id, and Customer's links it (three events)",
        ),
    }


def _saga_kinds(world: World, repeat: int) -> dict[str, Usage]:
    """Whole PlaceOrders of two lines for a funded buyer, and the ChargeAccount step of each."""
    from hotcore.contracts.account import Deposit
    from hotcore.contracts.customer import RegisterCustomer
    from hotcore.contracts.inventory import AddStock
    from hotcore.contracts.order import OrderLine, PlaceOrder

    buyer = RegisterCustomer(customer_id="buyer", email="buyer@example.com", name="B")
    world.mutation("customer", buyer, by="buyer")
    world.mutation(
        "account", Deposit(account_id="buyer", amount=10**12, reference=None), by="buyer"
    )
    for sku in ("widget", "gizmo"):
        world.mutation(
            "inventory", AddStock(sku=sku, quantity=10**6), by="staff", groups=["back-office"]
        )
    lines = [
        OrderLine(sku="widget", quantity=2, unit_price=1000),
        OrderLine(sku="gizmo", quantity=1, unit_price=500),
    ]
    orders: list[Tally] = []
    for n in range(repeat):
        order = PlaceOrder(
            order_id=f"order-{n}", customer_id="buyer", account_id="buyer", lines=lines
        )
        orders.append(
            world.measured(lambda order=order: world.mutation("order", order, by="buyer"))
        )
        if [run.status for run in orders[-1].sagas] != ["SUCCEEDED"]:
            raise RuntimeError(f"PlaceOrder's saga did not succeed: {orders[-1].sagas}")
    steps = [_step(tally, "ChargeAccount", ":charge") for tally in orders]
    labels = dict(KINDS)
    return {
        "place-order": summarize(
            "place-order",
            labels["place-order"],
            orders,
            notes="the placeOrder mutation, the saga (reserve both lines, charge, confirm), "
            "the reaction (the order records the payment) and every event's publishing",
        ),
        "saga-step": summarize(
            "saga-step",
            labels["saga-step"],
            steps,
            notes="the ChargeAccount task of each PlaceOrder above: its direct invocation, its "
            "transitions (the Task and its Choice), its event's publishing and the reaction "
            "to it (the order records the payment)",
        ),
    }


def _step(tally: Tally, state: str, suffix: str) -> Tally:
    """One task of a measured execution: what its command caused, and its transitions."""
    run = tally.sagas[0]
    command_id = next(c for c in run.tasks if c.endswith(suffix))
    step = tally.closure(command_id)
    transitions = run.step_transitions[state]
    step.sagas = [
        SagaRun(
            status=run.status,
            transitions=transitions,
            history_events=0,
            log_bytes=round(run.log_bytes * transitions / run.transitions),
            step_transitions={},
            tasks=[command_id],
        )
    ]
    return step
