"""The front-end servers' IAM roles: each may call exactly its GraphQL fields, nothing else.

AppSync authorizes a server by its IAM role before any resolver runs: a field the role
has no ``appsync:GraphQL`` grant on is refused by AppSync itself. The storefront sends
what customers do; the back office what staff do (stock, shipping); neither may call
``publish``, which only EventBridge's role may (``HotcoreApi.publish_role``). The end
user a server acts for is then checked by the command function (docs/security.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from aws_cdk import CfnOutput
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.constructs.api import HotcoreApi
from infra.stacks.common import SCHEMA_FILE

#: The fields each server may call, by GraphQL type.
Fields = Mapping[str, tuple[str, ...]]

#: The roles' names: infra/resolvers/subscription.js lets the back office follow every stream.
STOREFRONT_ROLE = "hotcore-storefront"
BACK_OFFICE_ROLE = "hotcore-back-office"

READ_MODELS = ("getAccount", "getCustomer", "getInventory", "getOrder")

STOREFRONT_FIELDS: Fields = {
    "Mutation": (
        "registerCustomer",
        "changeEmail",
        "deactivateCustomer",
        "deposit",
        "withdraw",
        "closeAccount",
        "placeOrder",
        "cancelOrder",
    ),
    "Query": READ_MODELS,
    "Subscription": ("onAccountEvent", "onCustomerEvent", "onOrderEvent"),
}
BACK_OFFICE_FIELDS: Fields = {
    "Mutation": ("addStock", "shipOrder", "cancelOrder", "deactivateCustomer"),
    "Query": READ_MODELS,
    "Subscription": ("onInventoryEvent", "onOrderEvent"),
}


class FieldsNotInSchema(ValueError):
    """A server role names a field the schema does not have (renamed, or internal)."""


def schema_fields(sdl: str) -> set[tuple[str, str]]:
    """``(type, field)`` of every field of Query, Mutation and Subscription in ``sdl``."""
    found: set[tuple[str, str]] = set()
    for kind, body in re.findall(r"type (Query|Mutation|Subscription) \{(.*?)\n\}", sdl, re.S):
        found |= {(kind, name) for name in re.findall(r"^\s+(\w+)\s*[(:]", body, re.M)}
    return found


class FrontEndRole(iam.Role):
    """A front-end server's role: ``appsync:GraphQL`` on ``fields`` of ``api`` only.

    Assumable by principals of this account whose own policy allows it (the servers'
    instance or task roles); every field must be in the schema file, so a renamed or
    internal field fails the synth instead of being granted silently.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: HotcoreApi,
        fields: Fields,
        description: str,
        role_name: str,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            role_name=role_name,
            assumed_by=iam.AccountRootPrincipal(),
            description=description,
        )
        declared = schema_fields(SCHEMA_FILE.read_text())
        missing = sorted(
            f"{kind}.{name}"
            for kind, names in fields.items()
            for name in names
            if (kind, name) not in declared
        )
        if missing:
            raise FieldsNotInSchema(f"{construct_id}: not in the schema: {missing}")
        self.fields = fields
        if fields.get("Mutation"):
            api.grant_mutation(self, *fields["Mutation"])
        if fields.get("Query"):
            api.grant_query(self, *fields["Query"])
        if fields.get("Subscription"):
            api.grant_subscription(self, *fields["Subscription"])


class FrontEndServers(Construct):
    """The storefront's and the back office's roles, with their ARNs as stack outputs."""

    def __init__(self, scope: Construct, construct_id: str, *, api: HotcoreApi) -> None:
        super().__init__(scope, construct_id)
        self.storefront = FrontEndRole(
            self,
            "StorefrontRole",
            api=api,
            fields=STOREFRONT_FIELDS,
            description="The storefront server: what customers do, for the customer signed in",
            role_name=STOREFRONT_ROLE,
        )
        self.back_office = FrontEndRole(
            self,
            "BackOfficeRole",
            api=api,
            fields=BACK_OFFICE_FIELDS,
            description="The back-office server: stock, shipping and support, for staff",
            role_name=BACK_OFFICE_ROLE,
        )
        CfnOutput(self, "StorefrontRoleArn", value=self.storefront.role_arn)
        CfnOutput(self, "BackOfficeRoleArn", value=self.back_office.role_arn)
