"""The shared stack: what every aggregate stack plugs into.

It owns the event bus (with an archive for replay), the AppSync GraphQL API (schema
from ``schemas/schema.graphql``, IAM authorization only) with its ``publish`` mutation
and the role EventBridge uses to call it, the PlaceOrder saga's state machine, the KMS
key of every log group and the bucket that keeps failed batches. It references no
aggregate stack: the saga names the command functions by their fixed names, so the
aggregate stacks depend on this one and never the other way round.
"""

from __future__ import annotations

from aws_cdk import (
    Acknowledgment,
    ArnFormat,
    CfnOutput,
    Duration,
    Environment,
    RemovalPolicy,
    Stack,
    Validations,
)
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from hotcore.domain.names import SOURCE_PREFIX, function_name
from infra.constructs import FailedBatchesBucket, FrontEndServers, HotcoreApi, LogsKey
from infra.stacks.common import BUS_NAME, LOG_RETENTION, SAGA_DEFINITION, SCHEMA_FILE


class SharedStack(Stack):
    """Bus, API, saga, log key and failed-batch bucket, shared by the aggregate stacks."""

    def __init__(self, scope: Construct, construct_id: str, *, env: Environment) -> None:
        super().__init__(
            scope,
            construct_id,
            env=env,
            description="hotcore: event bus and archive, GraphQL API, PlaceOrder saga, log key",
        )

        # ---- encryption at rest for every log group of the deployment ------------------
        self.logs_key = LogsKey(self, "LogsKey")

        # ---- the bus: every committed event, source hotcore.<aggregate> ---------------
        self.bus = events.EventBus(
            self,
            "Bus",
            event_bus_name=BUS_NAME,
            description="hotcore: committed events of every aggregate (from the table streams)",
        )
        self.bus.archive(
            "Archive",
            archive_name="hotcore-events",
            description="Every hotcore event, for replays to a fixed or new rule",
            event_pattern=events.EventPattern(source=events.Match.prefix(SOURCE_PREFIX)),
            retention=Duration.days(90),
        )

        # ---- failed batches: stream batches and event deliveries that kept failing ----
        self.failed_batches_name = f"hotcore-failed-batches-{self.account}-{self.region}"
        self.failed_batches = FailedBatchesBucket(
            self, "FailedBatches", bucket_name=self.failed_batches_name
        )

        # ---- the GraphQL API: IAM auth only (callers are front-end servers) -----------
        self.api = HotcoreApi(self, "Api", schema=SCHEMA_FILE, logs_key=self.logs_key)
        # the front-end servers: each may call its own fields only (publish: EventBridge's)
        self.front_ends = FrontEndServers(self, "FrontEnds", api=self.api)

        # ---- the PlaceOrder saga -------------------------------------------------------
        # The command functions' names are fixed (hotcore.domain.names.function_name, the
        # names the local saga runner uses too); their ARNs are built here so this stack
        # does not depend on the aggregate stacks.
        account_command = self._function_arn(function_name("account", "command"))
        inventory_command = self._function_arn(function_name("inventory", "command"))
        order_command = self._function_arn(function_name("order", "command"))
        saga_role = iam.Role(
            self,
            "PlaceOrderRole",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description="PlaceOrder saga: invokes the Account, Inventory and Order commands",
        )
        saga_role.add_to_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[account_command, inventory_command, order_command],
            )
        )
        saga_logs = logs.LogGroup(
            self,
            "PlaceOrderLogs",
            retention=LOG_RETENTION,
            encryption_key=self.logs_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.place_order = sfn.StateMachine(
            self,
            "PlaceOrder",
            state_machine_name="hotcore-place-order",
            state_machine_type=sfn.StateMachineType.STANDARD,
            # Inlined from the file (not an S3 asset): the template shows the definition
            # and cfn-lint validates it.
            definition_body=sfn.DefinitionBody.from_string(SAGA_DEFINITION.read_text()),
            definition_substitutions={
                "AccountCommandFunction": account_command,
                "InventoryCommandFunction": inventory_command,
                "OrderCommandFunction": order_command,
            },
            role=saga_role,
            tracing_enabled=True,
            # Every state transition is logged; the payloads (orders, accounts) stay in
            # the execution history, which is access-controlled, not in the logs.
            logs=sfn.LogOptions(
                destination=saga_logs, level=sfn.LogLevel.ALL, include_execution_data=False
            ),
        )
        # The L2 adds these for logging and X-Ray; neither service has resource-level
        # permissions for them.
        Validations.of(saga_role.node.find_child("DefaultPolicy")).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="CloudWatch Logs delivery (logs:*LogDelivery, PutResourcePolicy, Describe*) "
                "and X-Ray (PutTraceSegments, PutTelemetryRecords, GetSampling*) accept only "
                "resource '*'; every action is listed, none is a wildcard.",
            )
        )

        CfnOutput(self, "GraphqlUrl", value=self.api.graphql_url)
        CfnOutput(self, "BusName", value=self.bus.event_bus_name)
        CfnOutput(self, "PlaceOrderStateMachine", value=self.place_order.state_machine_arn)
        CfnOutput(self, "FailedBatchesBucket", value=self.failed_batches.bucket_name)

    def _function_arn(self, function_name: str) -> str:
        return self.format_arn(
            service="lambda",
            resource="function",
            resource_name=function_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
