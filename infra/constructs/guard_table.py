"""The guard table: set-wide uniqueness (an e-mail address per customer) as claimed items."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

#: A guard is claimed with a conditional Put, released with a conditional Delete, in the
#: same transaction as the events; GetItem reads who holds one.
GUARD_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
]


class GuardTable(dynamodb.Table):
    """One item per claimed unique value, keyed by ``guard``; on-demand, PITR, retained.

    Not append-only: releasing a claim deletes its item (the event table, where the
    claim and the release are recorded as events, is append-only).
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(
            scope,
            construct_id,
            partition_key=dynamodb.Attribute(name="guard", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
        )

    def grant_claims(self, grantee: iam.IGrantable) -> None:
        """Claim and release guards (the functions whose commands run the aggregate's rules)."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=GUARD_ACTIONS, resources=[self.table_arn])
        )
