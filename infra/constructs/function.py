"""The layer, and one hotcore Lambda function with its own role and log group."""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import jsii
from aws_cdk import Acknowledgment, Annotations, Duration, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from hotcore.domain.names import FunctionKind, function_name
from infra.constructs.failures import FailureBucket
from infra.stacks.common import (
    ARCHITECTURE,
    FUNCTION_MEMORY_MB,
    HANDLERS_DIR,
    LAYER_ZIP,
    LOG_RETENTION,
    METRICS_NAMESPACE,
    RUNTIME,
    SOURCE_DIR,
)

#: The layer's exec wrapper (its top-level ``hotcore-bootstrap``, mounted under /opt).
EXEC_WRAPPER = "/opt/hotcore-bootstrap"

#: How long each kind of function may run: a command or a query is one Query page, a
#: fold and at most one transaction; an event handler may issue a few commands; the
#: publisher puts a batch of up to 100 stream records on the bus.
TIMEOUT: Mapping[FunctionKind, Duration] = {
    "command": Duration.seconds(10),
    "query": Duration.seconds(10),
    "events": Duration.seconds(30),
    "publisher": Duration.seconds(60),
}


#: ``cdk deploy -c tracing=active`` (or ``make synth TRACING=active``) turns on X-Ray active
#: tracing for every function; without it Lambda's default applies (pass-through: a trace
#: is recorded only when the caller's header says it is sampled).
TRACING_CONTEXT = "tracing"
TRACING_MODES = ("active", "off")


def tracing_of(scope: Construct) -> lambda_.Tracing | None:
    """The functions' tracing from the app's context; None keeps Lambda's default."""
    raw = scope.node.try_get_context(TRACING_CONTEXT)
    mode = "off" if raw is None else str(raw).strip().lower()
    if mode not in TRACING_MODES:
        raise ValueError(
            f"context {TRACING_CONTEXT}={raw!r}: use -c {TRACING_CONTEXT}=active "
            f"(X-Ray active tracing) or -c {TRACING_CONTEXT}=off"
        )
    return lambda_.Tracing.ACTIVE if mode == "active" else None


#: Which end-user ID tokens the command and query functions trust (docs/security.md), from
#: the context:
#: ``-c token-issuer=https://cognito-idp.<region>.amazonaws.com/<pool id>
#: -c token-audience=<app client id>`` and the issuer's keys, ``-c jwks-file=<path>`` (pinned:
#: the file's JSON goes into the environment) or ``-c jwks-url=<url>`` (fetched on the first
#: token). Without an issuer, tokens are refused, and customer commands and reads forbidden.
TOKEN_CONTEXT = {
    "token-issuer": "HOTCORE_TOKEN_ISSUER",
    "token-audience": "HOTCORE_TOKEN_AUDIENCE",
    "jwks-url": "HOTCORE_JWKS_URL",
}
JWKS_FILE_CONTEXT = "jwks-file"


def token_environment(scope: Construct) -> dict[str, str]:
    """The token settings of the functions AppSync calls, from the app's context (empty:
    none given)."""
    found = {
        variable: str(value)
        for key, variable in TOKEN_CONTEXT.items()
        if (value := scope.node.try_get_context(key))
    }
    jwks_file = scope.node.try_get_context(JWKS_FILE_CONTEXT)
    if jwks_file:
        found["HOTCORE_JWKS"] = json.dumps(json.loads(Path(str(jwks_file)).read_text()))
    if found and not (
        "HOTCORE_TOKEN_ISSUER" in found
        and "HOTCORE_TOKEN_AUDIENCE" in found
        and ({"HOTCORE_JWKS", "HOTCORE_JWKS_URL"} & set(found))
    ):
        raise ValueError(
            "end-user tokens: give -c token-issuer=..., -c token-audience=... and the keys "
            "(-c jwks-file=PATH or -c jwks-url=URL) together"
        )
    return found


class HotcoreLayer(lambda_.LayerVersion):
    """The slim layer: the ``make layer`` zip, else hotcore's pure-Python sources.

    The fallback keeps ``make synth`` working on a fresh clone (no Docker, no cross
    build); it lacks msgspec for arm64, so a warning on the layer says to build the
    real one before ``cdk deploy``. Each aggregate stack declares its own: the ARN
    changes with every build, and a stack cannot change an export another one imports.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        if LAYER_ZIP.is_file():
            code = lambda_.Code.from_asset(str(LAYER_ZIP))
        else:
            code = lambda_.Code.from_asset(str(pure_python_layer()))
        super().__init__(
            scope,
            construct_id,
            code=code,
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="hotcore and msgspec (python3.13, arm64)",
        )
        if not LAYER_ZIP.is_file():
            Annotations.of(self).add_warning_v2(
                "hotcore:layer-fallback",
                f"{LAYER_ZIP} not found: this layer holds hotcore's pure-Python "
                "sources only, without msgspec. Run `make layer` before `cdk deploy`.",
            )


@functools.cache
def pure_python_layer() -> Path:
    """A staging folder with ``python/hotcore`` copied from ``src/hotcore``, minus caches."""
    # Lambda mounts a layer's python/ folder on sys.path; the asset is copied into the
    # cloud assembly while the stack is built, so the folder may go when the process ends.
    staging = Path(tempfile.mkdtemp(prefix="hotcore-layer-"))
    atexit.register(shutil.rmtree, staging, True)
    # src/hotcore is exactly what the layer ships: copied as it is, minus caches.
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.so")
    shutil.copytree(SOURCE_DIR, staging / "python" / "hotcore", ignore=ignore)
    # The exec wrapper at the layer's top, as tools.layer puts it: /opt/hotcore-bootstrap.
    shutil.copy2(SOURCE_DIR / "entrypoints" / "hotcore-bootstrap", staging / "hotcore-bootstrap")
    return staging


def handler_of(aggregate: str, kind: FunctionKind) -> str:
    """The Lambda handler in ``handlers/``: ``account/command.handler``, ``publisher.handler``."""
    module = "publisher" if kind == "publisher" else f"{aggregate}/{kind}"
    return f"{module}.handler"


@jsii.implements(iam.IGrantable)
class HotcoreFunction(Construct):
    """One of an aggregate's functions: arm64 python3.13, the layer, its own role and logs.

    The role starts with nothing but writing to its own log group; the stack grants the
    rest, visibly. The name (``hotcore-<aggregate>-<kind>``), the handler and the
    environment's ``HOTCORE_AGGREGATE`` follow from ``aggregate`` and ``kind``.
    ``async_failures`` is for functions invoked asynchronously (by EventBridge): after
    Lambda's own retries, the event goes to that bucket instead of being dropped.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        aggregate: str,
        kind: FunctionKind,
        description: str,
        layer: lambda_.ILayerVersion,
        environment: Mapping[str, str],
        logs_key: kms.IKey,
        async_failures: FailureBucket | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function_name = function_name(aggregate, kind)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{self.function_name}: its grants are listed in the {aggregate} stack",
        )
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=LOG_RETENTION,
            encryption_key=logs_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.log_group.grant_write(self.role)
        # "Default": the function keeps the logical id it would have at the stack's level.
        self.function = lambda_.Function(
            self,
            "Default",
            function_name=self.function_name,
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=lambda_.Code.from_asset(
                str(HANDLERS_DIR), exclude=["**/__pycache__", "**/*.pyc", "**/.*"]
            ),
            handler=handler_of(aggregate, kind),
            layers=[layer],
            memory_size=FUNCTION_MEMORY_MB,
            timeout=TIMEOUT[kind],
            environment={
                # hotcore's Runtime API loop instead of awslambdaric (docs/coldstart.md);
                # SnapStart functions and HOTCORE_BOOTSTRAP=awslambdaric keep awslambdaric.
                "AWS_LAMBDA_EXEC_WRAPPER": EXEC_WRAPPER,
                "HOTCORE_AGGREGATE": aggregate,
                "POWERTOOLS_SERVICE_NAME": self.function_name,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                # the functions AppSync calls verify the end user's ID token of each
                # mutation, query and subscription start
                **(token_environment(self) if kind in ("command", "query") else {}),
                **environment,
            },
            role=self.role,
            log_group=self.log_group,
            tracing=tracing_of(self),
        )
        if tracing_of(self) is not None:
            Validations.of(self.role).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-IAM5[Resource::*]",
                    reason="X-Ray active tracing: xray:PutTraceSegments and "
                    "xray:PutTelemetryRecords accept only resource '*'.",
                )
            )
        Validations.of(self.function).acknowledge(
            Acknowledgment(
                id="AwsSolutions-L1",
                reason="python3.13 on purpose: the layer's mypyc-compiled wheels are cp313.",
            )
        )
        if async_failures is not None:
            lambda_.CfnEventInvokeConfig(
                self,
                "AsyncFailures",
                function_name=self.function.function_name,
                qualifier="$LATEST",
                maximum_retry_attempts=2,
                maximum_event_age_in_seconds=6 * 3600,
                destination_config=lambda_.CfnEventInvokeConfig.DestinationConfigProperty(
                    on_failure=lambda_.CfnEventInvokeConfig.OnFailureProperty(
                        destination=async_failures.bucket_arn
                    )
                ),
            ).node.add_dependency(self.role)

    @property
    def grant_principal(self) -> iam.IPrincipal:
        """Grants to the function go to its role."""
        return self.role
