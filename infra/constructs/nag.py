"""cdk-nag finding ids that depend on a logical id, computed instead of written down."""

from __future__ import annotations

from aws_cdk import CfnElement, Stack
from constructs import Construct


def wildcard_finding(construct: Construct, suffix: str) -> str:
    """cdk-nag's id for a wildcard after ``construct``'s ARN (``<Arn>/stream/*``, ``<Arn>:*``).

    The id embeds the CloudFormation logical id, taken from the stack, so an
    acknowledgment follows a renamed construct instead of silently going stale.
    """
    resource = construct.node.default_child
    if not isinstance(resource, CfnElement):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource")
    logical_id = Stack.of(construct).get_logical_id(resource)
    return f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>{suffix}]"
