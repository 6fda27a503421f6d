"""The publisher: an event table's stream -> the bus (the outbox on AWS)."""

from __future__ import annotations

import json

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.constructs.event_table import EventTable
from infra.constructs.failures import FailureBucket
from infra.constructs.function import HotcoreFunction
from infra.stacks.common import METRICS_NAMESPACE

#: Only event items: INSERTs with a ``type`` string. Command records and snapshots have
#: none (nor ``data``, which the publisher checks again); the filter tests ``type``
#: because "exists" matches leaf values only.
EVENT_ITEMS = {
    "eventName": ["INSERT"],
    "dynamodb": {"NewImage": {"type": {"S": [{"exists": True}]}}},
}
#: Stored events changed in place (an unconditional PutItem over one, a delete): let
#: through so the function counts them (``AppendOnlyViolations``), never publishes them.
CHANGED_ITEMS = {"eventName": ["MODIFY", "REMOVE"]}


class StreamPublisher(HotcoreFunction):
    """The publisher function and the event source mapping from ``table``'s stream.

    The mapping filters event items, bisects a failing batch, takes partial batch
    responses and sends a batch that keeps failing to ``failed_batches``; the function
    itself parks there, alone, a record it can never publish (docs/reliability.md). It
    needs to read the stream, put events on the bus and write to ``failed_batches``:
    the stack grants those, and the mapping waits for the role's policy.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        aggregate: str,
        table: EventTable,
        bus: events.IEventBus,
        failed_batches: FailureBucket,
        layer: lambda_.ILayerVersion,
        logs_key: kms.IKey,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            aggregate=aggregate,
            kind="publisher",
            description=f"{aggregate.capitalize()} publisher (DynamoDB Streams INSERTs -> "
            "EventBridge)",
            layer=layer,
            environment={
                "HOTCORE_BUS_NAME": bus.event_bus_name,
                # where the function parks a record it can never publish (write-only)
                "HOTCORE_FAILED_BATCHES_BUCKET": failed_batches.bucket_name,
            },
            logs_key=logs_key,
        )
        self.mapping = lambda_.CfnEventSourceMapping(
            self,
            "Stream",
            function_name=self.function.function_name,
            event_source_arn=table.table_stream_arn,
            starting_position="TRIM_HORIZON",
            batch_size=100,
            maximum_batching_window_in_seconds=0,  # publish at once: latency over batching
            bisect_batch_on_function_error=True,
            function_response_types=["ReportBatchItemFailures"],
            maximum_retry_attempts=10,
            maximum_record_age_in_seconds=-1,  # keep trying while the stream holds it (24 h)
            parallelization_factor=1,
            filter_criteria=lambda_.CfnEventSourceMapping.FilterCriteriaProperty(
                filters=[
                    lambda_.CfnEventSourceMapping.FilterProperty(pattern=json.dumps(EVENT_ITEMS)),
                    lambda_.CfnEventSourceMapping.FilterProperty(pattern=json.dumps(CHANGED_ITEMS)),
                ]
            ),
            destination_config=lambda_.CfnEventSourceMapping.DestinationConfigProperty(
                on_failure=lambda_.CfnEventSourceMapping.OnFailureProperty(
                    destination=failed_batches.bucket_arn
                )
            ),
        )
        # Lambda checks the role's permissions when the mapping is created.
        self.mapping.node.add_dependency(self.role)
        # Any stored event overwritten or deleted: the table is append-only (IAM cannot
        # make PutItem conditional, so this is how an overwrite is noticed).
        self.append_only_alarm = cloudwatch.Alarm(
            self,
            "AppendOnlyViolated",
            alarm_description=f"A stored {aggregate.capitalize()} event was overwritten or "
            "deleted (MODIFY/REMOVE on the event table's stream)",
            metric=cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name="AppendOnlyViolations",
                dimensions_map={"service": self.function_name, "aggregate": aggregate},
                statistic="Sum",
                period=Duration.minutes(1),
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
