"""The Customer aggregate's stack: a copy of ``account_stack.py`` plus the guard table.

Besides what Account has, Customer owns the guard table that makes e-mail addresses
unique across customers: a claim is a conditional Put and a release a conditional
Delete, in the same transaction as the events. The append-only deny covers the event
table, not the guard table, whose items are released by deleting them.
"""

from __future__ import annotations

from aws_cdk import Environment, Stack
from constructs import Construct

from hotcore.domain.customer import CUSTOMER
from infra.constructs import (
    AggregateApi,
    DeliveryRules,
    EventTable,
    FailureBucket,
    GuardTable,
    HotcoreFunction,
    HotcoreLayer,
    StreamPublisher,
)
from infra.stacks.common import SNAPSHOT_EVERY
from infra.stacks.shared_stack import SharedStack


class CustomerStack(Stack):
    """Customer: an entity with a set-wide rule (unique e-mail) enforced by guard items."""

    def __init__(
        self, scope: Construct, construct_id: str, *, shared: SharedStack, env: Environment
    ) -> None:
        super().__init__(
            scope, construct_id, env=env, description="hotcore: the Customer aggregate"
        )
        name = CUSTOMER.name

        # ---- storage: the append-only event table and Customer's own guard table --------
        table = EventTable(self, "Events")
        guards = GuardTable(self, "Guards")  # one item per e-mail address in use

        # ---- functions ------------------------------------------------------------------
        layer = HotcoreLayer(self, "HotcoreLayer")
        failed_batches = FailureBucket(
            self, "FailedBatches", bucket_name=shared.failed_batches_name
        )
        environment = {
            "HOTCORE_TABLE": table.table_name,
            "HOTCORE_BUS_NAME": shared.bus.event_bus_name,
            "HOTCORE_SNAPSHOT_EVERY": SNAPSHOT_EVERY,
            "HOTCORE_GUARD_TABLE": guards.table_name,
        }
        command = HotcoreFunction(
            self,
            "CommandFunction",
            aggregate=name,
            kind="command",
            description="Customer commands (AppSync mutations)",
            layer=layer,
            environment=environment,
            logs_key=shared.logs_key,
        )
        query = HotcoreFunction(
            self,
            "QueryFunction",
            aggregate=name,
            kind="query",
            description="Customer queries (AppSync): load and fold, read only",
            layer=layer,
            environment=environment,
            logs_key=shared.logs_key,
        )
        handler = HotcoreFunction(
            self,
            "EventsFunction",
            aggregate=name,
            kind="events",
            description="Customer event handler (EventBridge delivery rules)",
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
        guards.grant_claims(command)  # registering and changing e-mail addresses
        table.grant_load(query)
        table.grant_append(handler)
        guards.grant_claims(handler)
        failed_batches.grant_write(handler)  # events that kept failing
        table.grant_read_stream_records(publisher)
        shared.bus.grant_put_events_to(publisher)
        failed_batches.grant_write(publisher)  # stream batches that kept failing

        # ---- GraphQL: a resolver per command and per query, the subscription ------------
        AggregateApi(self, "Api", aggregate=CUSTOMER, api=shared.api, command=command, query=query)

        # ---- the bus: CUSTOMER.delivery_rules (the declarations the local bus uses) ------
        DeliveryRules(
            self,
            "Delivery",
            aggregate=CUSTOMER,
            bus=shared.bus,
            event_handler=handler,
            api=shared.api,
        )
