"""Where failures go: the bucket of stream batches and event deliveries that kept failing.

Lambda writes the whole invocation record (with the failed records) there, so nothing is
dropped silently; objects are never overwritten or deleted by hotcore. There is no SQS or
SNS in this architecture.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct


class FailedBatchesBucket(s3.Bucket):
    """The bucket itself (the shared stack owns it): encrypted, versioned, private, retained.

    A fixed name, so the aggregate stacks can name it (and cdk-nag findings about its
    objects can be acknowledged precisely) without a cross-stack export.
    """

    def __init__(self, scope: Construct, construct_id: str, *, bucket_name: str) -> None:
        super().__init__(
            scope,
            construct_id,
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        Validations.of(self).acknowledge(
            Acknowledgment(
                id="AwsSolutions-S1",
                reason="Only Lambda's failure destinations write here, rarely if ever; "
                "CloudTrail records who reads the objects, and server access logs would add "
                "a second bucket to audit for no added insight.",
            )
        )


class FailureBucket(Construct):
    """The failed-batches bucket as an aggregate stack sees it: by name, write-only."""

    def __init__(self, scope: Construct, construct_id: str, *, bucket_name: str) -> None:
        super().__init__(scope, construct_id)
        self.bucket_name = bucket_name
        self.bucket = s3.Bucket.from_bucket_name(self, "Bucket", bucket_name)
        self.bucket_arn = self.bucket.bucket_arn

    def grant_write(self, grantee: iam.IGrantable) -> None:
        """May put failure records (a failure destination's role); no read, no delete."""
        principal = grantee.grant_principal
        principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[self.bucket.arn_for_objects("*")]
            )
        )
        principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.bucket_arn])
        )
        if isinstance(principal, Construct):
            Validations.of(principal).acknowledge(
                Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{self.bucket_name}/*]",
                    reason="Lambda names the objects of failed batches itself; the role may only "
                    "put objects into the failed-batches bucket (no read, no delete).",
                )
            )
