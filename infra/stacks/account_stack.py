"""The Account aggregate's stack: every resource Account owns, and who may do what.

A new aggregate starts as a copy of this file with account/Account/ACCOUNT replaced by
its own name (README, "Adding a fifth aggregate"). What every aggregate has in common
is in ``infra/constructs``; what is special about one aggregate is written in its file.
"""

from __future__ import annotations

from aws_cdk import Environment, Stack
from constructs import Construct

from hotcore.domain.account import ACCOUNT
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


class AccountStack(Stack):
    """Account: a ledger with invariants, long streams and snapshots."""

    def __init__(
        self, scope: Construct, construct_id: str, *, shared: SharedStack, env: Environment
    ) -> None:
        super().__init__(scope, construct_id, env=env, description="hotcore: the Account aggregate")
        name = ACCOUNT.name

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
            description="Account commands (AppSync mutations, PlaceOrder saga tasks)",
            layer=layer,
            environment=environment,
            logs_key=shared.logs_key,
        )
        query = HotcoreFunction(
            self,
            "QueryFunction",
            aggregate=name,
            kind="query",
            description="Account queries (AppSync): load and fold, read only",
            layer=layer,
            environment=environment,
            logs_key=shared.logs_key,
        )
        handler = HotcoreFunction(
            self,
            "EventsFunction",
            aggregate=name,
            kind="events",
            description="Account event handler (EventBridge delivery rules)",
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
        AggregateApi(self, "Api", aggregate=ACCOUNT, api=shared.api, command=command, query=query)

        # ---- the bus: ACCOUNT.delivery_rules (the declarations the local bus uses) ------
        DeliveryRules(
            self,
            "Delivery",
            aggregate=ACCOUNT,
            bus=shared.bus,
            event_handler=handler,
            api=shared.api,
        )
