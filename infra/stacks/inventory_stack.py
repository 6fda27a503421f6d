"""The Inventory aggregate's stack: a copy of ``account_stack.py`` for Inventory.

Same resources as Account (event table, command / query / event-handler / publisher
functions, the stream's event source mapping, AppSync resolvers, delivery rules from
``hotcore.domain.inventory.DELIVERY_RULES``). Inventory is the contended aggregate: its
event handler follows Order (cancelled orders release, shipped orders commit), and the
PlaceOrder saga invokes its command function by name.
"""

from __future__ import annotations

import json
import typing
from typing import Any

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_appsync as appsync
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from hotcore.contracts.inventory import InventoryCommand, InventoryQuery
from hotcore.domain.inventory import DELIVERY_RULES
from infra.stacks.common import (
    APPEND_ACTIONS,
    APPEND_ONLY_DENIED,
    ARCHITECTURE,
    DELIVERY_MAX_AGE,
    DELIVERY_RETRIES,
    FUNCTION_MEMORY_MB,
    LAMBDA_RESOLVER,
    LOG_RETENTION,
    METRICS_NAMESPACE,
    PUBLISH_OPERATION,
    READ_ACTIONS,
    RUNTIME,
    SNAPSHOT_EVERY,
    SUBSCRIPTION_RESOLVER,
    DeliveryRuleError,
    event_pattern,
    graphql_fields,
    handlers_code,
    layer_code,
    publish_variables,
    wildcard_finding,
)
from infra.stacks.shared_stack import SharedStack


class InventoryStack(Stack):
    """Inventory: stock per SKU with reservations, under high contention."""

    def __init__(
        self, scope: Construct, construct_id: str, *, shared: SharedStack, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)

        # ---- the event table ----------------------------------------------------------
        table = dynamodb.Table(
            self,
            "Events",
            partition_key=dynamodb.Attribute(name="stream_id", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="version", type=dynamodb.AttributeType.NUMBER),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            stream=dynamodb.StreamViewType.NEW_IMAGE,
            resource_policy=iam.PolicyDocument(
                statements=[
                    iam.PolicyStatement(
                        sid="EventsAreAppendOnly",
                        effect=iam.Effect.DENY,
                        principals=[iam.AnyPrincipal()],
                        actions=APPEND_ONLY_DENIED,
                        resources=["*"],  # in a table policy, "*" is this table
                    )
                ]
            ),
        )

        # ---- shared by the functions --------------------------------------------------
        code = handlers_code()
        layer = lambda_.LayerVersion(
            self,
            "HotcoreLayer",
            code=layer_code(self),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="hotcore and msgspec (python3.13, arm64)",
        )
        failed_batches = s3.Bucket.from_bucket_name(
            self, "FailedBatches", shared.failed_batches_name
        )
        environment = {
            "HOTCORE_AGGREGATE": "inventory",
            "HOTCORE_TABLE": table.table_name,
            "HOTCORE_BUS_NAME": shared.bus.event_bus_name,
            "HOTCORE_SNAPSHOT_EVERY": SNAPSHOT_EVERY,
            "POWERTOOLS_SERVICE_NAME": "hotcore-inventory",
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        }

        # ---- command function: AppSync mutations and the saga's direct invocations ----
        command_role = iam.Role(
            self,
            "CommandRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Inventory command function: appends to the Inventory event table only",
        )
        command_role.add_to_policy(
            iam.PolicyStatement(actions=APPEND_ACTIONS, resources=[table.table_arn])
        )
        command_role.add_to_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY, actions=APPEND_ONLY_DENIED, resources=[table.table_arn]
            )
        )
        command_logs = logs.LogGroup(
            self,
            "CommandLogs",
            retention=LOG_RETENTION,
            encryption_key=shared.logs_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        command_logs.grant_write(command_role)
        command_function = lambda_.Function(
            self,
            "CommandFunction",
            function_name="hotcore-inventory-command",  # the saga invokes it by this name
            description="Inventory commands (AppSync mutations, PlaceOrder saga tasks)",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=code,
            handler="inventory/command.handler",
            layers=[layer],
            memory_size=FUNCTION_MEMORY_MB,
            timeout=Duration.seconds(10),
            environment=environment,
            role=command_role,
            log_group=command_logs,
        )

        # ---- query function: AppSync queries, read only -------------------------------
        query_role = iam.Role(
            self,
            "QueryRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Inventory query function: reads the Inventory event table only",
        )
        query_role.add_to_policy(
            iam.PolicyStatement(actions=READ_ACTIONS, resources=[table.table_arn])
        )
        query_role.add_to_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY, actions=APPEND_ONLY_DENIED, resources=[table.table_arn]
            )
        )
        query_logs = logs.LogGroup(
            self,
            "QueryLogs",
            retention=LOG_RETENTION,
            encryption_key=shared.logs_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        query_logs.grant_write(query_role)
        query_function = lambda_.Function(
            self,
            "QueryFunction",
            function_name="hotcore-inventory-query",
            description="Inventory queries (AppSync): load and fold, read only",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=code,
            handler="inventory/query.handler",
            layers=[layer],
            memory_size=FUNCTION_MEMORY_MB,
            timeout=Duration.seconds(10),
            environment=environment,
            role=query_role,
            log_group=query_logs,
        )

        # ---- event-handler function: other aggregates' events -> Inventory commands -----
        events_role = iam.Role(
            self,
            "EventsRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Inventory event handler: appends to the Inventory event table only",
        )
        events_role.add_to_policy(
            iam.PolicyStatement(actions=APPEND_ACTIONS, resources=[table.table_arn])
        )
        events_role.add_to_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY, actions=APPEND_ONLY_DENIED, resources=[table.table_arn]
            )
        )
        # EventBridge invokes asynchronously: after Lambda's own retries, the event
        # goes to the failed-batches bucket instead of being dropped.
        events_role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[failed_batches.arn_for_objects("*")],
            )
        )
        events_role.add_to_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[failed_batches.bucket_arn])
        )
        events_logs = logs.LogGroup(
            self,
            "EventsLogs",
            retention=LOG_RETENTION,
            encryption_key=shared.logs_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        events_logs.grant_write(events_role)
        events_function = lambda_.Function(
            self,
            "EventsFunction",
            function_name="hotcore-inventory-events",
            description="Inventory event handler (EventBridge delivery rules)",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=code,
            handler="inventory/events.handler",
            layers=[layer],
            memory_size=FUNCTION_MEMORY_MB,
            timeout=Duration.seconds(30),
            environment=environment,
            role=events_role,
            log_group=events_logs,
        )
        lambda_.CfnEventInvokeConfig(
            self,
            "EventsFailures",
            function_name=events_function.function_name,
            qualifier="$LATEST",
            maximum_retry_attempts=2,
            maximum_event_age_in_seconds=6 * 3600,
            destination_config=lambda_.CfnEventInvokeConfig.DestinationConfigProperty(
                on_failure=lambda_.CfnEventInvokeConfig.OnFailureProperty(
                    destination=failed_batches.bucket_arn
                )
            ),
        ).node.add_dependency(events_role)

        # ---- publisher: the table's stream -> the bus (the outbox on AWS) -------------
        publisher_role = iam.Role(
            self,
            "PublisherRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Inventory publisher: reads the table's stream, puts events on the bus",
        )
        publisher_role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                ],
                resources=[typing.cast(str, table.table_stream_arn)],
            )
        )
        publisher_role.add_to_policy(
            iam.PolicyStatement(
                actions=["dynamodb:ListStreams"], resources=[f"{table.table_arn}/stream/*"]
            )
        )
        publisher_role.add_to_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY, actions=APPEND_ONLY_DENIED, resources=[table.table_arn]
            )
        )
        publisher_role.add_to_policy(
            iam.PolicyStatement(actions=["events:PutEvents"], resources=[shared.bus.event_bus_arn])
        )
        publisher_role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[failed_batches.arn_for_objects("*")],
            )
        )
        publisher_role.add_to_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[failed_batches.bucket_arn])
        )
        publisher_logs = logs.LogGroup(
            self,
            "PublisherLogs",
            retention=LOG_RETENTION,
            encryption_key=shared.logs_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        publisher_logs.grant_write(publisher_role)
        publisher_function = lambda_.Function(
            self,
            "PublisherFunction",
            function_name="hotcore-inventory-publisher",
            description="Inventory publisher (DynamoDB Streams INSERTs -> EventBridge)",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=code,
            handler="publisher.handler",
            layers=[layer],
            memory_size=FUNCTION_MEMORY_MB,
            timeout=Duration.seconds(60),
            environment={
                "HOTCORE_AGGREGATE": "inventory",
                "HOTCORE_BUS_NAME": shared.bus.event_bus_name,
                "POWERTOOLS_SERVICE_NAME": "hotcore-inventory-publisher",
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            },
            role=publisher_role,
            log_group=publisher_logs,
        )
        lambda_.CfnEventSourceMapping(
            self,
            "PublisherStream",
            function_name=publisher_function.function_name,
            event_source_arn=table.table_stream_arn,
            starting_position="TRIM_HORIZON",
            batch_size=100,
            maximum_batching_window_in_seconds=0,  # publish at once: latency over batching
            bisect_batch_on_function_error=True,
            function_response_types=["ReportBatchItemFailures"],
            maximum_retry_attempts=10,
            maximum_record_age_in_seconds=-1,  # keep trying while the stream holds it (24 h)
            parallelization_factor=1,
            # Only event items: INSERTs with a ``type`` string. Command records and
            # snapshots have none (nor ``data``, which the publisher checks again);
            # the filter tests ``type`` because "exists" matches leaf values only.
            filter_criteria=lambda_.CfnEventSourceMapping.FilterCriteriaProperty(
                filters=[
                    lambda_.CfnEventSourceMapping.FilterProperty(
                        pattern=json.dumps(
                            {
                                "eventName": ["INSERT"],
                                "dynamodb": {"NewImage": {"type": {"S": [{"exists": True}]}}},
                            }
                        )
                    )
                ]
            ),
            destination_config=lambda_.CfnEventSourceMapping.DestinationConfigProperty(
                on_failure=lambda_.CfnEventSourceMapping.OnFailureProperty(
                    destination=failed_batches.bucket_arn
                )
            ),
        ).node.add_dependency(publisher_role)

        # ---- AppSync: one resolver per command (Mutation) and per query (Query) -------
        command_source = appsync.LambdaDataSource(
            self,
            "CommandSource",
            api=shared.api,
            name="InventoryCommand",
            description="Inventory command function",
            lambda_function=command_function,
        )
        query_source = appsync.LambdaDataSource(
            self,
            "QuerySource",
            api=shared.api,
            name="InventoryQuery",
            description="Inventory query function",
            lambda_function=query_function,
        )
        resolver_code = appsync.Code.from_inline(LAMBDA_RESOLVER.read_text())
        for field in graphql_fields(InventoryCommand):
            appsync.Resolver(
                self,
                f"Mutation-{field}",
                api=shared.api,
                type_name="Mutation",
                field_name=field,
                data_source=command_source,
                runtime=appsync.FunctionRuntime.JS_1_0_0,
                code=resolver_code,
            )
        for field in graphql_fields(InventoryQuery):
            appsync.Resolver(
                self,
                f"Query-{field}",
                api=shared.api,
                type_name="Query",
                field_name=field,
                data_source=query_source,
                runtime=appsync.FunctionRuntime.JS_1_0_0,
                code=resolver_code,
            )
        appsync.Resolver(
            self,
            "Subscription-onInventoryEvent",
            api=shared.api,
            type_name="Subscription",
            field_name="onInventoryEvent",
            data_source=shared.local_source,
            runtime=appsync.FunctionRuntime.JS_1_0_0,
            code=appsync.Code.from_inline(SUBSCRIPTION_RESOLVER.read_text()),
        )

        # ---- delivery rules: the declarations the local bus uses too ------------------
        for rule in DELIVERY_RULES:
            target: events.IRuleTarget
            if rule.target_kind == "event-handler" and rule.target == "inventory":
                target = targets.LambdaFunction(
                    events_function,
                    retry_attempts=DELIVERY_RETRIES,
                    max_event_age=DELIVERY_MAX_AGE,
                )
            elif rule.target_kind == "subscription":
                target = targets.AppSync(
                    shared.api,
                    graph_ql_operation=PUBLISH_OPERATION,
                    variables=publish_variables("inventory"),
                    event_role=shared.publish_role,
                    retry_attempts=DELIVERY_RETRIES,
                    max_event_age=DELIVERY_MAX_AGE,
                )
            else:
                raise DeliveryRuleError(
                    f"delivery rule {rule.name!r}: the Inventory stack has no "
                    f"{rule.target_kind} target {rule.target!r}"
                )
            events.Rule(
                self,
                f"Rule-{rule.name}",
                rule_name=f"hotcore-{rule.name}",
                description=rule.description,
                event_bus=shared.bus,
                event_pattern=event_pattern(rule),
                targets=[target],
            )

        # ---- acknowledged findings, each with its reason ------------------------------
        for function in (command_function, query_function, events_function, publisher_function):
            Validations.of(function).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-L1",
                    reason="python3.13 on purpose: the layer's mypyc-compiled wheels are cp313.",
                )
            )
        failed_batch_objects = Acknowledgment(
            id=f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{shared.failed_batches_name}/*]",
            reason="Lambda names the objects of failed batches itself; the role may only put "
            "objects into the failed-batches bucket (no read, no delete).",
        )
        Validations.of(events_role).acknowledge(failed_batch_objects)
        Validations.of(publisher_role).acknowledge(
            failed_batch_objects,
            Acknowledgment(
                id=wildcard_finding(table, "/stream/*"),
                reason="ListStreams is authorized on the table's streams; this grants it for "
                "the Inventory table's streams only.",
            ),
        )
        Validations.of(command_source).acknowledge(
            Acknowledgment(
                id=wildcard_finding(command_function, ":*"),
                reason="The L2 data source grants invoke on the function and its versions "
                "(':*'); it is still this one function only.",
            )
        )
        Validations.of(query_source).acknowledge(
            Acknowledgment(
                id=wildcard_finding(query_function, ":*"),
                reason="The L2 data source grants invoke on the function and its versions "
                "(':*'); it is still this one function only.",
            )
        )
