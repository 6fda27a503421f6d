"""The Inventory aggregate's stack: a copy of ``account_stack.py`` for Inventory.

Same resources as Account. Inventory is the contended aggregate: its event handler
follows Order (cancelled orders release, shipped orders commit), and the PlaceOrder
saga invokes its command function by name.
"""

from __future__ import annotations

from aws_cdk import Environment, Stack
from constructs import Construct

from hotcore.domain.inventory import INVENTORY
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


class InventoryStack(Stack):
    """Inventory: stock per SKU with reservations, under high contention."""

    def __init__(
        self, scope: Construct, construct_id: str, *, shared: SharedStack, env: Environment
    ) -> None:
        super().__init__(
            scope, construct_id, env=env, description="hotcore: the Inventory aggregate"
        )
        name = INVENTORY.name

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
            description="Inventory commands (AppSync mutations, PlaceOrder saga tasks)",
            layer=layer,
            environment=environment,
            logs_key=shared.logs_key,
        )
        query = HotcoreFunction(
            self,
            "QueryFunction",
            aggregate=name,
            kind="query",
            description="Inventory queries (AppSync): load and fold, read only",
            layer=layer,
            environment=environment,
            logs_key=shared.logs_key,
        )
        handler = HotcoreFunction(
            self,
            "EventsFunction",
            aggregate=name,
            kind="events",
            description="Inventory event handler (EventBridge delivery rules)",
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
        AggregateApi(self, "Api", aggregate=INVENTORY, api=shared.api, command=command, query=query)

        # ---- the bus: INVENTORY.delivery_rules (the declarations the local bus uses) ------
        DeliveryRules(
            self,
            "Delivery",
            aggregate=INVENTORY,
            bus=shared.bus,
            event_handler=handler,
            api=shared.api,
        )
