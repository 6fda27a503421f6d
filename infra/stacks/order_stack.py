"""The Order aggregate's stack: a copy of ``account_stack.py`` plus the saga's trigger.

Besides what Account has, Order's delivery rules start the PlaceOrder saga (the state
machine lives in the shared stack) for every ``OrderPlaced``, through a role that may
start that one state machine. The saga invokes Order's command function by name.
"""

from __future__ import annotations

from aws_cdk import Environment, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from hotcore.domain.names import PLACE_ORDER_SAGA
from hotcore.domain.order import ORDER
from infra.constructs import (
    AggregateApi,
    DeliveryRules,
    EventTable,
    FailureBucket,
    HotcoreFunction,
    HotcoreLayer,
    StreamPublisher,
)
from infra.stacks.common import SNAPSHOT_EVERY
from infra.stacks.shared_stack import SharedStack


class OrderStack(Stack):
    """Order: a lifecycle state machine whose placement is the PlaceOrder saga."""

    def __init__(
        self, scope: Construct, construct_id: str, *, shared: SharedStack, env: Environment
    ) -> None:
        super().__init__(scope, construct_id, env=env, description="hotcore: the Order aggregate")
        name = ORDER.name

        # ---- storage: the append-only event table ---------------------------------------
        table = EventTable(self, "Events")

        # ---- functions ------------------------------------------------------------------
        layer = HotcoreLayer(self, "HotcoreLayer")
        failed_batches = FailureBucket(
            self, "FailedBatches", bucket_name=shared.failed_batches_name
        )
        environment = {
            "HOTCORE_TABLE": table.table_name,
            "HOTCORE_BUS_NAME": shared.bus.event_bus_name,
            "HOTCORE_SNAPSHOT_EVERY": SNAPSHOT_EVERY,
        }
        command = HotcoreFunction(
            self,
            "CommandFunction",
            aggregate=name,
            kind="command",
            description="Order commands (AppSync mutations, PlaceOrder saga tasks)",
            layer=layer,
            environment=environment,
            logs_key=shared.logs_key,
        )
        query = HotcoreFunction(
            self,
            "QueryFunction",
            aggregate=name,
            kind="query",
            description="Order queries (AppSync): load and fold, read only",
            layer=layer,
            environment=environment,
            logs_key=shared.logs_key,
        )
        handler = HotcoreFunction(
            self,
            "EventsFunction",
            aggregate=name,
            kind="events",
            description="Order event handler (EventBridge delivery rules)",
            layer=layer,
            environment=environment,
            logs_key=shared.logs_key,
            async_failures=failed_batches,
        )
        publisher = StreamPublisher(
            self,
            "PublisherFunction",
            aggregate=name,
            table=table,
            bus=shared.bus,
            failed_batches=failed_batches,
            layer=layer,
            logs_key=shared.logs_key,
        )

        # ---- who may do what ------------------------------------------------------------
        table.grant_append(command)
        table.grant_load(query)
        table.grant_append(handler)
        failed_batches.grant_write(handler)  # events that kept failing
        table.grant_read_stream_records(publisher)
        shared.bus.grant_put_events_to(publisher)
        failed_batches.grant_write(publisher)  # stream batches that kept failing

        # ---- GraphQL: a resolver per command and per query, the subscription ------------
        AggregateApi(self, "Api", aggregate=ORDER, api=shared.api, command=command, query=query)

        # ---- Order's own: a placed order starts the PlaceOrder saga ---------------------
        saga_start = iam.Role(
            self,
            "SagaStartRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description="EventBridge starts the PlaceOrder saga (that state machine only)",
        )
        shared.place_order.grant_start_execution(saga_start)

        # ---- the bus: ORDER.delivery_rules (the declarations the local bus uses) --------
        DeliveryRules(
            self,
            "Delivery",
            aggregate=ORDER,
            bus=shared.bus,
            event_handler=handler,
            api=shared.api,
            sagas={PLACE_ORDER_SAGA: shared.place_order},
            saga_role=saga_start,
        )
