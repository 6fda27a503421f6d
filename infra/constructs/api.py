"""The GraphQL API (shared) and what each aggregate adds to it (its resolvers)."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

from aws_cdk import Acknowledgment, ArnFormat, RemovalPolicy, Stack, Validations
from aws_cdk import aws_appsync as appsync
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from hotcore.domain.aggregate import Aggregate
from hotcore.domain.names import field_name, subscription_name
from hotcore.entrypoints.appsync import AppSyncResolver
from infra.constructs.function import HotcoreFunction
from infra.constructs.nag import wildcard_finding
from infra.stacks.common import (
    LAMBDA_RESOLVER,
    LOG_RETENTION,
    PUBLISH_RESOLVER,
    SUBSCRIPTION_RESOLVER,
    resolver_code,
)


def graphql_fields(contracts: Any) -> tuple[str, ...]:
    """The GraphQL field of each contract in a union (or of one contract): ``placeOrder``."""
    members = typing.get_args(contracts) or (contracts,)
    return tuple(field_name(contract.__name__) for contract in members)


class HotcoreApi(appsync.GraphqlApi):
    """The GraphQL API: the schema file, IAM authorization only, errors logged without bodies.

    It also holds what feeds the subscriptions: ``local_source`` (no backend) with the
    ``publish`` mutation's resolver, and ``publish_role``, which EventBridge assumes to
    call that mutation and nothing else.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, schema: Path, logs_key: kms.IKey
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            name="hotcore",
            definition=appsync.Definition.from_file(str(schema)),
            authorization_config=appsync.AuthorizationConfig(
                default_authorization=appsync.AuthorizationMode(
                    authorization_type=appsync.AuthorizationType.IAM
                )
            ),
            # Clients are our own servers with the schema file; no need to serve it.
            introspection_config=appsync.IntrospectionConfig.DISABLED,
        )
        log_role = iam.Role(
            self,
            "LogsRole",
            assumed_by=iam.ServicePrincipal("appsync.amazonaws.com"),
            description="AppSync writes the hotcore API's logs (its own log group only)",
        )
        # Logging is set on the CloudFormation resource: the L2's log_config adds a
        # Lambda-backed LogRetention custom resource that would race the log group below.
        # ERROR without verbose content: failures are logged, request and response bodies
        # (e-mail addresses, amounts) and headers are not.
        resource = typing.cast(appsync.CfnGraphQLApi, self.node.default_child)
        resource.log_config = appsync.CfnGraphQLApi.LogConfigProperty(
            cloud_watch_logs_role_arn=log_role.role_arn,
            field_log_level="ERROR",
            exclude_verbose_content=True,
        )
        Validations.of(resource).acknowledge(
            Acknowledgment(
                id="AwsSolutions-ASC3",
                reason="Request logging is on (field level ERROR, own role and log group); "
                "verbose content is excluded on purpose: it would log request and response "
                "bodies (e-mail addresses, amounts) and headers.",
            )
        )
        # AppSync logs to this fixed name; created here so it has retention and the key.
        log_group_name = f"/aws/appsync/apis/{self.api_id}"
        log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=log_group_name,
            retention=LOG_RETENTION,
            encryption_key=logs_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        log_group.grant_write(log_role)
        log_role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup"],
                resources=[
                    Stack.of(self).format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=log_group_name,
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )

        # ---- publish: EventBridge -> Mutation.publish -> subscriptions ----------------
        self.local_source = appsync.NoneDataSource(
            self,
            "LocalSource",
            api=self,
            name="Local",
            description="No backend: publish and subscriptions resolve in AppSync itself",
        )
        appsync.Resolver(
            self,
            "PublishResolver",
            api=self,
            type_name="Mutation",
            field_name="publish",
            data_source=self.local_source,
            runtime=appsync.FunctionRuntime.JS_1_0_0,
            code=appsync.Code.from_inline(resolver_code(PUBLISH_RESOLVER)),
        )
        self.publish_role = iam.Role(
            self,
            "PublishRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description="EventBridge calls Mutation.publish of the hotcore API",
        )
        self.grant_mutation(self.publish_role, "publish")


class AggregateApi(Construct):
    """An aggregate's part of the API: a resolver per command and query, its subscription.

    Mutations resolve to ``command``, queries to ``query`` (each through a Lambda data
    source and the APPSYNC_JS resolver that turns a rejection into a GraphQL error), the
    subscription to ``query`` as well: when a subscriber starts, the function checks the
    end user's token and the read policy, and ``subscription.js`` sets the stream filter.
    The fields follow from the aggregate's
    contracts: ``mutation_fields`` and ``query_fields`` list them for grants.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        aggregate: Aggregate[Any, Any, Any, Any],
        api: HotcoreApi,
        command: HotcoreFunction,
        query: HotcoreFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        title = aggregate.name.capitalize()
        # public commands only: the schema has no mutation for the internal ones
        self.mutation_fields = tuple(
            field_name(cls.__name__) for cls in aggregate.public_command_classes
        )
        # every read: the single-instance queries, their batch forms and the history
        self.query_fields = AppSyncResolver(aggregate).query_fields
        self.subscription_field = subscription_name(aggregate.name)
        self.command_source = self._lambda_source("CommandSource", f"{title}Command", api, command)
        self.query_source = self._lambda_source("QuerySource", f"{title}Query", api, query)

        lambda_code = appsync.Code.from_inline(resolver_code(LAMBDA_RESOLVER))
        for field in self.mutation_fields:
            self._resolver(api, "Mutation", field, self.command_source, lambda_code)
        for field in self.query_fields:
            self._resolver(api, "Query", field, self.query_source, lambda_code)
        # a subscriber starts: the query function checks the end user's token and the
        # aggregate's read policy (subscription.js), then AppSync filters by stream
        subscription_code = appsync.Code.from_inline(resolver_code(SUBSCRIPTION_RESOLVER))
        self._resolver(
            api, "Subscription", self.subscription_field, self.query_source, subscription_code
        )

    def _lambda_source(
        self, construct_id: str, name: str, api: HotcoreApi, target: HotcoreFunction
    ) -> appsync.LambdaDataSource:
        source = appsync.LambdaDataSource(
            self,
            construct_id,
            api=api,
            name=name,
            description=target.function_name,
            lambda_function=target.function,
        )
        Validations.of(source).acknowledge(
            Acknowledgment(
                id=wildcard_finding(target.function, ":*"),
                reason="The L2 data source grants invoke on the function and its versions "
                "(':*'); it is still this one function only.",
            )
        )
        return source

    def _resolver(
        self,
        api: HotcoreApi,
        type_name: str,
        field: str,
        source: appsync.BaseDataSource,
        code: appsync.Code,
    ) -> None:
        appsync.Resolver(
            self,
            f"{type_name}-{field}",
            api=api,
            type_name=type_name,
            field_name=field,
            data_source=source,
            runtime=appsync.FunctionRuntime.JS_1_0_0,
            code=code,
        )
