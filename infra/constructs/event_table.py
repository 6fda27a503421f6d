"""An aggregate's event table, append-only, and the three ways a role may use it."""

from __future__ import annotations

import typing

from aws_cdk import Acknowledgment, RemovalPolicy, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.constructs.nag import wildcard_finding

#: Writes that would change or remove a stored item: denied on the event table to
#: everyone (table policy) and to each role (explicit deny), whatever else allows.
#: BatchWriteItem and PartiQL can delete or overwrite too, so they are denied as well.
APPEND_ONLY_DENIED = [
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
]
#: What appending needs: Query (load), GetItem (a command record), PutItem and
#: ConditionCheckItem (TransactWriteItems is authorized per action it contains).
APPEND_ACTIONS = [
    "dynamodb:Query",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:ConditionCheckItem",
]
#: What loading a stream (and a snapshot) needs.
READ_ACTIONS = ["dynamodb:Query", "dynamodb:GetItem"]
#: What reading the table's DynamoDB stream needs (ListStreams is granted on its own).
STREAM_READ_ACTIONS = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
]


class EventTable(dynamodb.Table):
    """Stream id + version, on-demand, PITR, deletion protection, Streams NEW_IMAGE.

    Append-only twice over: a table policy denies changing or deleting items to every
    principal, and each ``grant_*`` below adds the same deny to the grantee's own policy.
    A subclass of ``Table`` (not a wrapper) so its logical id is the table's.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(
            scope,
            construct_id,
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

    def grant_append(self, grantee: iam.IGrantable) -> None:
        """Load streams and append events (a command function, an event handler)."""
        self._allow(grantee, APPEND_ACTIONS, self.table_arn)

    def grant_load(self, grantee: iam.IGrantable) -> None:
        """Load streams and snapshots, nothing else (a query function)."""
        self._allow(grantee, READ_ACTIONS, self.table_arn)

    def grant_read_stream_records(self, grantee: iam.IGrantable) -> None:
        """Read the table's DynamoDB stream (the publisher); no access to the items."""
        self._allow(grantee, STREAM_READ_ACTIONS, typing.cast(str, self.table_stream_arn))
        self._allow(grantee, ["dynamodb:ListStreams"], f"{self.table_arn}/stream/*")
        principal = grantee.grant_principal
        if isinstance(principal, Construct):
            Validations.of(principal).acknowledge(
                Acknowledgment(
                    id=wildcard_finding(self, "/stream/*"),
                    reason="ListStreams is authorized on a table's streams; this grants it "
                    "for this event table's streams only.",
                )
            )

    def _allow(self, grantee: iam.IGrantable, actions: list[str], resource: str) -> None:
        principal = grantee.grant_principal
        principal.add_to_principal_policy(
            iam.PolicyStatement(actions=actions, resources=[resource])
        )
        principal.add_to_principal_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY, actions=APPEND_ONLY_DENIED, resources=[self.table_arn]
            )
        )
