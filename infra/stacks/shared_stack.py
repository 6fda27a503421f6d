"""The shared stack: what every aggregate stack plugs into.

It owns the event bus (with an archive for replay), the AppSync GraphQL API (schema
from ``schemas/schema.graphql``, IAM authorization only) with its ``publish`` mutation
and the role EventBridge uses to call it, the PlaceOrder saga's state machine, the KMS
key of every log group and the bucket that keeps failed batches. It references no
aggregate stack: the saga names the command functions by their fixed names, so the
aggregate stacks depend on this one and never the other way round.
"""

from __future__ import annotations

import typing
from typing import Any

from aws_cdk import (
    Acknowledgment,
    ArnFormat,
    CfnOutput,
    Duration,
    RemovalPolicy,
    Stack,
    Validations,
)
from aws_cdk import aws_appsync as appsync
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.stacks.common import (
    BUS_NAME,
    LOG_RETENTION,
    PUBLISH_RESOLVER,
    SAGA_DEFINITION,
    SCHEMA_FILE,
)


class SharedStack(Stack):
    """Bus, API, saga, log key and failed-batch bucket, shared by the aggregate stacks."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)

        # ---- encryption at rest for every log group of the deployment ------------------
        self.logs_key = kms.Key(
            self,
            "LogsKey",
            description="hotcore: encrypts the log groups of functions, API and saga",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # CloudWatch Logs uses the key on behalf of log groups of this account and
        # region only (the encryption context names the log group).
        self.logs_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsEncryptsThisAccountsLogGroups",
                principals=[iam.ServicePrincipal(f"logs.{self.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:DescribeKey",
                ],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": self.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )

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
            event_pattern=events.EventPattern(source=events.Match.prefix("hotcore.")),
            retention=Duration.days(90),
        )

        # ---- failed batches: stream batches and event deliveries that kept failing ----
        # Lambda writes the whole invocation record (with the failed records) here, so
        # nothing is dropped silently; objects are never overwritten or deleted by hotcore.
        # A fixed name, so the aggregate stacks can name it (and cdk-nag findings about
        # its objects can be acknowledged precisely) without a cross-stack export.
        self.failed_batches_name = f"hotcore-failed-batches-{self.account}-{self.region}"
        self.failed_batches = s3.Bucket(
            self,
            "FailedBatches",
            bucket_name=self.failed_batches_name,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        Validations.of(self.failed_batches).acknowledge(
            Acknowledgment(
                id="AwsSolutions-S1",
                reason="Only Lambda's failure destinations write here, rarely if ever; "
                "CloudTrail records who reads the objects, and server access logs would add "
                "a second bucket to audit for no added insight.",
            )
        )

        # ---- the GraphQL API: IAM auth only (callers are front-end servers) -----------
        api_log_role = iam.Role(
            self,
            "ApiLogsRole",
            assumed_by=iam.ServicePrincipal("appsync.amazonaws.com"),
            description="AppSync writes the hotcore API's logs (its own log group only)",
        )
        self.api = appsync.GraphqlApi(
            self,
            "Api",
            name="hotcore",
            definition=appsync.Definition.from_file(str(SCHEMA_FILE)),
            authorization_config=appsync.AuthorizationConfig(
                default_authorization=appsync.AuthorizationMode(
                    authorization_type=appsync.AuthorizationType.IAM
                )
            ),
            # Clients are our own servers with the schema file; no need to serve it.
            introspection_config=appsync.IntrospectionConfig.DISABLED,
        )
        # Logging is set on the CloudFormation resource: the L2's log_config adds a
        # Lambda-backed LogRetention custom resource that would race the log group below.
        # ERROR without verbose content: failures are logged, request and response bodies
        # (e-mail addresses, amounts) and headers are not.
        api_resource = typing.cast(appsync.CfnGraphQLApi, self.api.node.default_child)
        api_resource.log_config = appsync.CfnGraphQLApi.LogConfigProperty(
            cloud_watch_logs_role_arn=api_log_role.role_arn,
            field_log_level="ERROR",
            exclude_verbose_content=True,
        )
        Validations.of(api_resource).acknowledge(
            Acknowledgment(
                id="AwsSolutions-ASC3",
                reason="Request logging is on (field level ERROR, own role and log group); "
                "verbose content is excluded on purpose: it would log request and response "
                "bodies (e-mail addresses, amounts) and headers.",
            )
        )
        # AppSync logs to this fixed name; created here so it has retention and the key.
        api_logs = logs.LogGroup(
            self,
            "ApiLogs",
            log_group_name=f"/aws/appsync/apis/{self.api.api_id}",
            retention=LOG_RETENTION,
            encryption_key=self.logs_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        api_logs.grant_write(api_log_role)
        api_log_role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup"],
                resources=[
                    self.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=f"/aws/appsync/apis/{self.api.api_id}",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )

        # ---- publish: EventBridge -> Mutation.publish -> subscriptions ----------------
        self.local_source = appsync.NoneDataSource(
            self,
            "LocalSource",
            api=self.api,
            name="Local",
            description="No backend: publish and subscriptions resolve in AppSync itself",
        )
        appsync.Resolver(
            self,
            "PublishResolver",
            api=self.api,
            type_name="Mutation",
            field_name="publish",
            data_source=self.local_source,
            runtime=appsync.FunctionRuntime.JS_1_0_0,
            code=appsync.Code.from_inline(PUBLISH_RESOLVER.read_text()),
        )
        # Each aggregate stack's subscription rule assumes this role: it may call the
        # publish mutation and nothing else.
        self.publish_role = iam.Role(
            self,
            "PublishRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description="EventBridge calls Mutation.publish of the hotcore API",
        )
        self.api.grant_mutation(self.publish_role, "publish")

        # ---- the PlaceOrder saga -------------------------------------------------------
        # The command functions' names are fixed in their stacks (hotcore-<aggregate>-command,
        # the names the local saga runner uses too); their ARNs are built here so this
        # stack does not depend on the aggregate stacks.
        account_command = self._function_arn("hotcore-account-command")
        inventory_command = self._function_arn("hotcore-inventory-command")
        order_command = self._function_arn("hotcore-order-command")
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
        saga_policy = saga_role.node.find_child("DefaultPolicy")
        Validations.of(saga_policy).acknowledge(
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
