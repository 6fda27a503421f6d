"""The CDK app, synthesized once for this module, checked the way CI checks it.

One synth (``infra.app.build_app``, pinned to a test account and region) runs cdk-nag's
AwsSolutions pack as a validation plugin, so it fails on any unacknowledged finding;
the templates it writes are then linted with cfn-lint and read by the assertions below:
key schemas, streams, runtimes, the append-only deny, least-privilege grants, one
resolver per GraphQL field and one bus rule per delivery declaration of the domain.
"""

from __future__ import annotations

import ast
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from cfnlint.api import lint_file  # type: ignore[import-untyped]
from cfnlint.data import AdditionalSpecs  # type: ignore[import-untyped]
from graphql import build_schema

from hotcore.contracts import account
from hotcore.contracts.common import Envelope
from hotcore.domain.account import ACCOUNT
from hotcore.domain.aggregate import DeliveryRule, no_guards
from hotcore.domain.names import field_name
from hotcore.domain.registry import aggregates, load_aggregate
from hotcore.entrypoints.appsync import AppSyncResolver
from hotcore.store.dynamodb import DynamoEventStore
from hotcore.store.port import DEFAULT_SNAPSHOT_EVERY
from hotcore_dev.bus.pattern import matches
from hotcore_dev.saga import place_order
from infra.app import build_app
from infra.constructs.api import graphql_fields
from infra.constructs.delivery import DeliveryRuleError, event_pattern
from infra.constructs.event_table import APPEND_ACTIONS, APPEND_ONLY_DENIED, READ_ACTIONS
from infra.constructs.function import pure_python_layer
from infra.stacks import account_stack
from infra.stacks.common import HANDLERS_DIR, PUBLISH_OPERATION, SAGA_DEFINITION, SCHEMA_FILE
from infra.stacks.shared_stack import SharedStack

# aws_cdk and cdk_nag are imported through ``infra`` (above) or inside the tests: the
# ``infra`` package sets the jsii runtime's environment before aws_cdk is first imported.

TEST_ACCOUNT = "123456789012"
TEST_REGION = "eu-west-1"
SHARED = "HotcoreShared"


@dataclass(frozen=True)
class Aggregate:
    name: str
    stack: str
    rules: tuple[DeliveryRule, ...]
    commands: tuple[type[Any], ...]  # the public commands: the mutations
    queries: Any
    has_guards: bool  # a set-wide rule (Customer's unique e-mail): a guard table


AGGREGATES = [
    Aggregate(
        agg.name,
        f"Hotcore{agg.name.capitalize()}",
        agg.delivery_rules,
        agg.public_command_classes,
        agg.query_type,
        agg.guards is not no_guards,
    )
    for agg in aggregates().values()
]
BY_NAME = {a.name: a for a in AGGREGATES}
each_aggregate = pytest.mark.parametrize("agg", AGGREGATES, ids=lambda a: a.name)


@dataclass(frozen=True)
class Synth:
    app: Any  # aws_cdk.App
    outdir: Path
    templates: dict[str, dict[str, Any]]

    def resources(self, stack: str, kind: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.templates[stack]["Resources"].items()
            if resource["Type"] == kind
        }

    def one(self, stack: str, kind: str) -> tuple[str, dict[str, Any]]:
        found = self.resources(stack, kind)
        assert len(found) == 1, f"{stack}: expected one {kind}, found {sorted(found)}"
        return next(iter(found.items()))

    def all_resources(self, kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for stack in self.templates:
            for logical_id, resource in self.resources(stack, kind).items():
                yield stack, logical_id, resource


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = build_app(outdir, account=TEST_ACCOUNT, region=TEST_REGION)
    app.synth()  # cdk-nag runs here: an unacknowledged finding raises
    templates = {
        path.name.removesuffix(".template.json"): json.loads(path.read_text())
        for path in outdir.glob("*.template.json")
    }
    return Synth(app=app, outdir=outdir, templates=templates)


def statements(synth: Synth, stack: str, role_logical_id: str) -> list[dict[str, Any]]:
    """Every statement of the policies attached to one role of ``stack``."""
    found: list[dict[str, Any]] = []
    for resource in synth.resources(stack, "AWS::IAM::Policy").values():
        if {"Ref": role_logical_id} in resource["Properties"]["Roles"]:
            found += resource["Properties"]["PolicyDocument"]["Statement"]
    return found


def all_policy_statements(synth: Synth) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for stack, logical_id, resource in synth.all_resources("AWS::IAM::Policy"):
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            yield stack, logical_id, statement
    for stack, logical_id, resource in synth.all_resources("AWS::IAM::Role"):
        for policy in resource["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield stack, logical_id, statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def function(synth: Synth, stack: str, name: str) -> tuple[str, dict[str, Any]]:
    for logical_id, resource in synth.resources(stack, "AWS::Lambda::Function").items():
        if resource["Properties"]["FunctionName"] == name:
            return logical_id, resource
    raise AssertionError(f"{stack} has no function named {name}")


def role_of(resource: dict[str, Any]) -> str:
    role: str = resource["Properties"]["Role"]["Fn::GetAtt"][0]
    return role


# ---- the whole app ---------------------------------------------------------------------


def test_synth_writes_one_template_per_stack(synth: Synth) -> None:
    assert set(synth.templates) == {SHARED, *(a.stack for a in AGGREGATES)}
    manifest = json.loads((synth.outdir / "manifest.json").read_text())
    for artifact in manifest["artifacts"].values():
        if artifact["type"] == "aws:cloudformation:stack":
            assert artifact["environment"] == f"aws://{TEST_ACCOUNT}/{TEST_REGION}"


def test_cdk_nag_aws_solutions_leaves_no_unacknowledged_finding(synth: Synth) -> None:
    from cdk_nag import AwsSolutionsChecks

    report = AwsSolutionsChecks().validate_scope(synth.app)
    findings = [
        f"{violation.rule_name} at {[r.resource_logical_id for r in violation.violating_resources]}"
        for violation in report.violations
    ]
    assert findings == []
    assert report.success


def test_every_acknowledgment_gives_its_reason(synth: Synth) -> None:
    acknowledged: dict[str, str] = {}
    for node in synth.app.node.find_all():
        for entry in node.node.metadata:
            if entry.type == "aws:cdk:acknowledged-rules":
                for rule, reason in entry.data.items():
                    acknowledged[f"{node.node.path} {rule}"] = reason
    assert any("AwsSolutions-IAM5" in key for key in acknowledged)
    for key, reason in acknowledged.items():
        assert "AwsSolutions-" in key
        assert len(reason) >= 60, f"{key}: say why, not just that ({reason!r})"


def test_cfn_lint_reports_no_error_in_any_template(synth: Synth) -> None:
    errors = []
    for path in sorted(synth.outdir.glob("*.template.json")):
        errors += [f"{path.name}: {m}" for m in lint_file(path) if m.rule.id.startswith("E")]
    assert errors == []


# ---- event tables ----------------------------------------------------------------------

#: Logical ids recorded from a synth before the stacks were built from constructs. A new
#: logical id for a retained table means a new, empty table beside the old one; for the
#: shared key, bus, bucket, API and state machine it means a replacement (a new API URL).
STABLE_LOGICAL_IDS = {
    "event table": "EventsD32975C2",
    "guard table": "GuardsAE6419AB",
    "logs key": "LogsKeyA6AB43B2",
    "bus": "BusEA82B648",
    "failed batches": "FailedBatches983C92EC",
    "api": "ApiF70053CD",
    "place order": "PlaceOrderC1FF4CFE",
}


@each_aggregate
def test_table_logical_ids_are_the_ones_deployed_before(synth: Synth, agg: Aggregate) -> None:
    tables = synth.resources(agg.stack, "AWS::DynamoDB::Table")
    expected = {STABLE_LOGICAL_IDS["event table"]}
    if agg.has_guards:
        expected.add(STABLE_LOGICAL_IDS["guard table"])
    assert set(tables) == expected


def test_shared_logical_ids_are_the_ones_deployed_before(synth: Synth) -> None:
    kinds = {
        "logs key": "AWS::KMS::Key",
        "bus": "AWS::Events::EventBus",
        "failed batches": "AWS::S3::Bucket",
        "api": "AWS::AppSync::GraphQLApi",
        "place order": "AWS::StepFunctions::StateMachine",
    }
    for what, kind in kinds.items():
        assert set(synth.resources(SHARED, kind)) == {STABLE_LOGICAL_IDS[what]}, what


@each_aggregate
def test_event_table_is_keyed_by_stream_and_version_with_a_new_image_stream(
    synth: Synth, agg: Aggregate
) -> None:
    tables = synth.resources(agg.stack, "AWS::DynamoDB::Table")
    events_table = next(t for t in tables.values() if "StreamSpecification" in t["Properties"])
    props = events_table["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": "stream_id", "KeyType": "HASH"},
        {"AttributeName": "version", "KeyType": "RANGE"},
    ]
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
        {"AttributeName": "stream_id", "AttributeType": "S"},
        {"AttributeName": "version", "AttributeType": "N"},
    ]
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["DeletionProtectionEnabled"] is True
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert events_table["DeletionPolicy"] == "Retain"


@each_aggregate
def test_an_aggregate_with_guards_has_a_guard_table_keyed_by_guard_only(
    synth: Synth, agg: Aggregate
) -> None:
    tables = synth.resources(agg.stack, "AWS::DynamoDB::Table")
    guards = [t for t in tables.values() if "StreamSpecification" not in t["Properties"]]
    assert len(guards) == agg.has_guards
    if not agg.has_guards:
        return
    props = guards[0]["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "guard", "KeyType": "HASH"}]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert "ResourcePolicy" not in props  # releases delete guard items


@each_aggregate
def test_event_table_is_append_only_for_everyone_and_every_role(
    synth: Synth, agg: Aggregate
) -> None:
    tables = synth.resources(agg.stack, "AWS::DynamoDB::Table")
    table_id, table = next(
        (k, t) for k, t in tables.items() if "StreamSpecification" in t["Properties"]
    )
    (policy,) = table["Properties"]["ResourcePolicy"]["PolicyDocument"]["Statement"]
    assert policy["Effect"] == "Deny"
    assert policy["Principal"] == {"AWS": "*"}
    assert {"dynamodb:UpdateItem", "dynamodb:DeleteItem"} <= set(policy["Action"])

    # every role that may touch the table carries the explicit deny as well
    table_arn = {"Fn::GetAtt": [table_id, "Arn"]}
    for role_id in synth.resources(agg.stack, "AWS::IAM::Role"):
        role_statements = statements(synth, agg.stack, role_id)
        touches = any(table_id in json.dumps(s["Resource"]) for s in role_statements)
        if not touches:
            continue
        denies = [s for s in role_statements if s["Effect"] == "Deny"]
        assert denies, f"{agg.stack}/{role_id} reaches the table without the deny"
        assert any(
            s["Resource"] == table_arn and set(s["Action"]) == set(APPEND_ONLY_DENIED)
            for s in denies
        )


# ---- functions -------------------------------------------------------------------------


def test_every_function_is_arm64_python313_with_the_layer_and_its_own_log_group(
    synth: Synth,
) -> None:
    functions = list(synth.all_resources("AWS::Lambda::Function"))
    assert len(functions) == 4 * len(AGGREGATES)
    for stack, logical_id, resource in functions:
        props = resource["Properties"]
        assert props["Architectures"] == ["arm64"], logical_id
        assert props["Runtime"] == "python3.13", logical_id
        assert props["MemorySize"] <= 256, logical_id
        (layer,) = props["Layers"]
        assert layer["Ref"] in synth.resources(stack, "AWS::Lambda::LayerVersion")
        log_group = props["LoggingConfig"]["LogGroup"]["Ref"]
        assert log_group in synth.resources(stack, "AWS::Logs::LogGroup")
        module, _, attribute = props["Handler"].rpartition(".")
        assert attribute == "handler"
        assert (HANDLERS_DIR / f"{module}.py").is_file(), props["Handler"]


@each_aggregate
def test_functions_get_their_environment_from_the_stack(synth: Synth, agg: Aggregate) -> None:
    tables = synth.resources(agg.stack, "AWS::DynamoDB::Table")
    events_table = next(k for k, t in tables.items() if "StreamSpecification" in t["Properties"])
    for role in ("command", "query", "events"):
        _, fn = function(synth, agg.stack, f"hotcore-{agg.name}-{role}")
        env = fn["Properties"]["Environment"]["Variables"]
        assert fn["Properties"]["Handler"] == f"{agg.name}/{role}.handler"
        assert env["HOTCORE_AGGREGATE"] == agg.name
        assert env["HOTCORE_TABLE"] == {"Ref": events_table}
        assert "Fn::ImportValue" in env["HOTCORE_BUS_NAME"]
        assert env["HOTCORE_SNAPSHOT_EVERY"] == str(DEFAULT_SNAPSHOT_EVERY)
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "hotcore"
        assert ("HOTCORE_GUARD_TABLE" in env) == agg.has_guards
        # Every function starts through the layer's wrapper, on hotcore's bootstrap.
        assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/hotcore-bootstrap"
    _, publisher = function(synth, agg.stack, f"hotcore-{agg.name}-publisher")
    assert publisher["Properties"]["Handler"] == "publisher.handler"
    publisher_env = publisher["Properties"]["Environment"]["Variables"]
    assert publisher_env["HOTCORE_AGGREGATE"] == agg.name
    assert publisher_env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/hotcore-bootstrap"


@each_aggregate
def test_grants_are_least_privilege_on_the_own_table(synth: Synth, agg: Aggregate) -> None:
    tables = synth.resources(agg.stack, "AWS::DynamoDB::Table")
    table_id = next(k for k, t in tables.items() if "StreamSpecification" in t["Properties"])
    table_arn = {"Fn::GetAtt": [table_id, "Arn"]}

    def allowed(role: str) -> dict[str, Any]:
        _, fn = function(synth, agg.stack, f"hotcore-{agg.name}-{role}")
        grants: dict[str, Any] = {}
        for s in statements(synth, agg.stack, role_of(fn)):
            if s["Effect"] == "Allow":
                for action in as_list(s["Action"]):
                    grants.setdefault(action, []).append(s["Resource"])
        return grants

    guard_arns = [
        {"Fn::GetAtt": [k, "Arn"]} for k in tables if k != table_id
    ]  # Customer's guard table
    command = allowed("command")
    for action in APPEND_ACTIONS:
        assert table_arn in command[action]
    for action, resources in command.items():
        if action.startswith("dynamodb:"):
            assert all(r in [table_arn, *guard_arns] for r in resources), action
    assert not set(command) & (set(APPEND_ONLY_DENIED) - {"dynamodb:DeleteItem"})

    query = allowed("query")
    dynamo = {a for a in query if a.startswith("dynamodb:")}
    assert dynamo == set(READ_ACTIONS)
    assert all(r == [table_arn] for a, r in query.items() if a.startswith("dynamodb:"))

    publisher = allowed("publisher")
    assert set(publisher) == {
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
        "events:PutEvents",
        "s3:PutObject",
        "s3:ListBucket",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    assert publisher["dynamodb:GetRecords"] == [{"Fn::GetAtt": [table_id, "StreamArn"]}]

    if agg.has_guards:
        (guard_arn,) = guard_arns
        assert command["dynamodb:DeleteItem"] == [guard_arn]  # releases: guard table only
    else:
        assert "dynamodb:DeleteItem" not in command


def test_no_allow_statement_has_a_wildcard_action_or_a_wildcard_data_resource(
    synth: Synth,
) -> None:
    data_plane = ("dynamodb:", "s3:", "events:PutEvents", "lambda:Invoke", "states:", "appsync:")
    for stack, policy, statement in all_policy_statements(synth):
        if statement["Effect"] != "Allow":
            continue
        actions = as_list(statement["Action"])
        assert not any("*" in action for action in actions), (stack, policy, actions)
        if any(action.startswith(data_plane) for action in actions):
            assert "*" not in as_list(statement["Resource"]), (stack, policy, actions)


def test_every_iam_action_exists(synth: Synth) -> None:
    # TransactWriteItems, for instance, is not an IAM action: its parts are authorized
    known = json.loads((Path(AdditionalSpecs.__file__).parent / "Policies.json").read_text())
    actions_by_prefix = {
        prefix: {a.lower() for a in spec["Actions"]} for prefix, spec in known.items()
    }
    for stack, policy, statement in all_policy_statements(synth):
        for action in as_list(statement["Action"]):
            prefix, _, name = action.partition(":")
            assert name.lower() in actions_by_prefix[prefix], (stack, policy, action)


def test_every_log_group_is_encrypted_and_expires(synth: Synth) -> None:
    groups = list(synth.all_resources("AWS::Logs::LogGroup"))
    assert len(groups) == 4 * len(AGGREGATES) + 2  # functions, the API, the saga
    for stack, logical_id, group in groups:
        assert "KmsKeyId" in group["Properties"], (stack, logical_id)
        assert group["Properties"]["RetentionInDays"] == 30, (stack, logical_id)


# ---- the publisher: table stream -> bus --------------------------------------------------


@each_aggregate
def test_publisher_event_source_mapping_keeps_failed_batches(synth: Synth, agg: Aggregate) -> None:
    _, mapping = synth.one(agg.stack, "AWS::Lambda::EventSourceMapping")
    props = mapping["Properties"]
    publisher_id, _ = function(synth, agg.stack, f"hotcore-{agg.name}-publisher")
    assert props["FunctionName"] == {"Ref": publisher_id}
    assert props["EventSourceArn"]["Fn::GetAtt"][1] == "StreamArn"
    assert props["BatchSize"] == 100
    assert props["BisectBatchOnFunctionError"] is True
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    destination = json.dumps(props["DestinationConfig"]["OnFailure"]["Destination"])
    assert f"hotcore-failed-batches-{TEST_ACCOUNT}-{TEST_REGION}" in destination
    inserts, changes = props["FilterCriteria"]["Filters"]
    assert json.loads(inserts["Pattern"])["eventName"] == ["INSERT"]
    assert json.loads(changes["Pattern"]) == {"eventName": ["MODIFY", "REMOVE"]}
    # the function parks a record it can never publish in the same bucket, alone
    _, publisher = function(synth, agg.stack, f"hotcore-{agg.name}-publisher")
    parking = publisher["Properties"]["Environment"]["Variables"]["HOTCORE_FAILED_BATCHES_BUCKET"]
    assert parking == f"hotcore-failed-batches-{TEST_ACCOUNT}-{TEST_REGION}"


class RecordingDynamoDB:
    """Stands in for the DynamoDB client: keeps the items the real store code writes."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def transact_write_items(self, request: dict[str, Any]) -> dict[str, Any]:
        self.items += [a["Put"]["Item"] for a in request["TransactItems"] if "Put" in a]
        return {}

    def put_item(self, request: dict[str, Any]) -> dict[str, Any]:
        self.items.append(request["Item"])
        return {}

    def query_raw(self, request: dict[str, Any]) -> bytes:
        return b'{"Items": [], "Count": 0, "ScannedCount": 0}'  # a new stream


def test_stream_filter_lets_through_new_event_items_and_every_change_to_one(
    synth: Synth,
) -> None:
    _, mapping = synth.one("HotcoreAccount", "AWS::Lambda::EventSourceMapping")
    criteria, changes = mapping["Properties"]["FilterCriteria"]["Filters"]
    pattern = json.loads(criteria["Pattern"])
    changed = json.loads(changes["Pattern"])

    client = RecordingDynamoDB()
    store: DynamoEventStore[Any, Any] = DynamoEventStore(
        client,  # type: ignore[arg-type]
        "hotcore-account",
        "account",
        account.AccountEvent,
        account.AccountState,
    )
    opened = Envelope[account.AccountEvent](
        stream_id="acc-1",
        version=1,
        type="AccountOpened",
        data=account.AccountOpened(owner_id="c-1"),
        command_id="cmd-1",
        correlation_id="cmd-1",
        timestamp="2026-01-01T00:00:00Z",  # type: ignore[arg-type]
        actor="test",
    )
    store.append("acc-1", 0, [opened], command_id="cmd-1", fingerprint="0" * 32)
    (event_item,) = client.items  # layout 2: the event item is the only kind of item
    assert "e" in event_item
    untyped = {name: value for name, value in event_item.items() if name != "type"}

    def record(name: str, image: dict[str, Any]) -> dict[str, Any]:
        return {"eventName": name, "dynamodb": {"NewImage": image, "SequenceNumber": "1"}}

    assert matches(pattern, record("INSERT", event_item))
    assert not matches(pattern, record("INSERT", untyped))
    assert not matches(pattern, record("MODIFY", event_item))
    # an overwrite (MODIFY) or a delete (REMOVE) reaches the function, which counts it
    assert matches(changed, record("MODIFY", untyped))
    assert matches(changed, {"eventName": "REMOVE", "dynamodb": {"Keys": {}}})
    assert not matches(changed, record("INSERT", event_item))


@each_aggregate
def test_an_overwritten_or_deleted_event_raises_an_alarm(synth: Synth, agg: Aggregate) -> None:
    alarms = [
        a["Properties"]
        for a in synth.resources(agg.stack, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "AppendOnlyViolations"
    ]
    (alarm,) = alarms
    assert alarm["Namespace"] == "hotcore"
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    assert dimensions == {"service": f"hotcore-{agg.name}-publisher", "aggregate": agg.name}
    assert (alarm["Statistic"], alarm["Threshold"]) == ("Sum", 1)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"


# ---- AppSync ---------------------------------------------------------------------------


def test_api_is_iam_only_and_logs_errors_without_bodies(synth: Synth) -> None:
    _, api = synth.one(SHARED, "AWS::AppSync::GraphQLApi")
    props = api["Properties"]
    assert props["AuthenticationType"] == "AWS_IAM"
    assert "AdditionalAuthenticationProviders" not in props
    assert props["LogConfig"]["FieldLogLevel"] == "ERROR"
    assert props["LogConfig"]["ExcludeVerboseContent"] is True
    _, schema = synth.one(SHARED, "AWS::AppSync::GraphQLSchema")
    assert schema["Properties"]["Definition"] == SCHEMA_FILE.read_text()


def test_every_graphql_field_has_exactly_one_resolver(synth: Synth) -> None:
    prelude = (
        "scalar AWSJSON\nscalar AWSDateTime\n"
        "directive @aws_iam on OBJECT | FIELD_DEFINITION\n"
        "directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION\n"
    )
    schema = build_schema(prelude + SCHEMA_FILE.read_text())
    fields = []
    for root in (schema.mutation_type, schema.query_type, schema.subscription_type):
        assert root is not None
        fields += [(root.name, name) for name in root.fields]
    resolved = [
        (r["Properties"]["TypeName"], r["Properties"]["FieldName"])
        for _, _, r in synth.all_resources("AWS::AppSync::Resolver")
    ]
    assert sorted(resolved) == sorted(fields)


@each_aggregate
def test_each_command_and_query_resolves_to_the_aggregates_own_function(
    synth: Synth, agg: Aggregate
) -> None:
    sources = synth.resources(agg.stack, "AWS::AppSync::DataSource")
    command_fn, _ = function(synth, agg.stack, f"hotcore-{agg.name}-command")
    query_fn, _ = function(synth, agg.stack, f"hotcore-{agg.name}-query")

    def source_of(fn_logical_id: str) -> str:
        for logical_id, source in sources.items():
            lambda_config = source["Properties"]["LambdaConfig"]
            if lambda_config["LambdaFunctionArn"] == {"Fn::GetAtt": [fn_logical_id, "Arn"]}:
                return logical_id
        raise AssertionError(f"no data source for {fn_logical_id}")

    by_field = {
        (r["Properties"]["TypeName"], r["Properties"]["FieldName"]): r["Properties"]
        for r in synth.resources(agg.stack, "AWS::AppSync::Resolver").values()
    }
    mutations = [field_name(cls.__name__) for cls in agg.commands]
    expected = [("Mutation", f, source_of(command_fn)) for f in mutations]
    reads = AppSyncResolver(load_aggregate(agg.name)).query_fields
    assert set(graphql_fields(agg.queries)) < set(reads)  # and the batch and history reads
    expected += [("Query", f, source_of(query_fn)) for f in reads]
    # the query function also decides who may follow which stream
    expected.append(("Subscription", f"on{agg.name.capitalize()}Event", source_of(query_fn)))
    for type_name, field, source in expected:
        props = by_field.pop((type_name, field))
        assert props["DataSourceName"] == sources[source]["Properties"]["Name"]
        assert props["Runtime"] == {"Name": "APPSYNC_JS", "RuntimeVersion": "1.0.0"}
        # one file per resolver: the outcome mapping it includes is inlined with it
        assert "function answered(ctx)" in props["Code"], (type_name, field)
    assert by_field == {}


# ---- delivery rules --------------------------------------------------------------------


@each_aggregate
def test_each_delivery_rule_of_the_domain_is_a_rule_on_the_bus(
    synth: Synth, agg: Aggregate
) -> None:
    rules = {
        r["Properties"]["Name"]: r["Properties"]
        for r in synth.resources(agg.stack, "AWS::Events::Rule").values()
    }
    assert set(rules) == {f"hotcore-{rule.name}" for rule in agg.rules}
    events_fn, _ = function(synth, agg.stack, f"hotcore-{agg.name}-events")
    for rule in agg.rules:
        props = rules[f"hotcore-{rule.name}"]
        assert props["EventPattern"] == rule.pattern  # the same declaration, not a copy
        assert props["Description"] == rule.description
        assert "Fn::ImportValue" in props["EventBusName"]
        (target,) = props["Targets"]
        if rule.target_kind == "event-handler":
            assert rule.target == agg.name
            assert target["Arn"] == {"Fn::GetAtt": [events_fn, "Arn"]}
        elif rule.target_kind == "saga":
            assert rule.target == place_order.NAME
            assert "PlaceOrder" in json.dumps(target["Arn"])
            role = target["RoleArn"]["Fn::GetAtt"][0]
            (grant,) = statements(synth, agg.stack, role)
            assert grant["Action"] == "states:StartExecution"
        else:
            assert rule.target_kind == "subscription"
            assert target["AppSyncParameters"] == {"GraphQLOperation": PUBLISH_OPERATION}
            transformer = target["InputTransformer"]
            assert transformer["InputPathsMap"]["detail"] == "$.detail"
            paths = transformer["InputPathsMap"]
            assert paths["detail-subscribers-events"] == "$.detail.subscribers.events"
            variables = json.loads(
                transformer["InputTemplate"]
                .replace("<detail-stream_id>", '"s"')
                .replace("<detail-version>", "1")
                .replace("<detail-type>", '"T"')
                .replace("<detail>", "{}")
                .replace("<detail-subscribers-fromVersion>", "1")
                .replace("<detail-subscribers-truncated>", "false")
                .replace("<detail-subscribers-events>", "[]")
            )
            assert variables == {
                "aggregate": agg.name,
                "streamId": "s",
                "version": 1,
                "type": "T",
                "detail": {},
                "fromVersion": 1,
                "truncated": False,
                "events": [],
            }
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0


def test_publish_role_may_call_the_publish_mutation_only(synth: Synth) -> None:
    roles = synth.resources(SHARED, "AWS::IAM::Role")
    publish_role = next(
        k
        for k, r in roles.items()
        if "events.amazonaws.com" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])
    )
    (grant,) = statements(synth, SHARED, publish_role)
    assert grant["Action"] == "appsync:GraphQL"
    assert json.dumps(grant["Resource"]).endswith('/types/Mutation/fields/publish"]]}')


def test_event_pattern_refuses_fields_it_cannot_carry() -> None:
    rule = DeliveryRule(
        name="x", description="x", pattern={"account": ["1"]}, target_kind="saga", target="y"
    )
    with pytest.raises(DeliveryRuleError, match="pattern fields \\['account'\\]"):
        event_pattern(rule)


def test_a_rule_without_a_target_in_the_stack_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    stray = DeliveryRule(
        name="account-starts-a-saga",
        description="Account has no saga target.",
        pattern={"source": ["hotcore.account"]},
        target_kind="saga",
        target="place-order",
    )
    from aws_cdk import App, Environment

    monkeypatch.setattr(account_stack, "ACCOUNT", msgspec.structs.replace(ACCOUNT, rules=(stray,)))
    app = App()
    env = Environment(account=TEST_ACCOUNT, region=TEST_REGION)
    shared = SharedStack(app, "Shared", env=env)
    with pytest.raises(DeliveryRuleError, match="account-starts-a-saga"):
        account_stack.AccountStack(app, "Account", shared=shared, env=env)


# ---- the PlaceOrder saga ---------------------------------------------------------------


def test_saga_runs_the_asl_file_with_the_command_functions_substituted(synth: Synth) -> None:
    _, machine = synth.one(SHARED, "AWS::StepFunctions::StateMachine")
    props = machine["Properties"]
    assert props["DefinitionString"] == SAGA_DEFINITION.read_text()
    substitutions = props["DefinitionSubstitutions"]
    assert set(substitutions) == set(place_order.FUNCTIONS)
    for key, aggregate in place_order.FUNCTIONS.items():
        arn = json.dumps(substitutions[key])
        _, fn = function(synth, BY_NAME[aggregate].stack, f"hotcore-{aggregate}-command")
        name = fn["Properties"]["FunctionName"]
        assert arn.endswith(f':function:{name}"]]}}'), arn
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is False
    assert props["TracingConfiguration"] == {"Enabled": True}
    role = props["RoleArn"]["Fn::GetAtt"][0]
    invoke = [s for s in statements(synth, SHARED, role) if s["Action"] == "lambda:InvokeFunction"]
    assert len(invoke) == 1
    assert len(invoke[0]["Resource"]) == len(place_order.FUNCTIONS)


# ---- the layer -------------------------------------------------------------------------


def test_pure_python_layer_fallback_holds_hotcore_sources_only() -> None:
    root = pure_python_layer() / "python" / "hotcore"
    assert (root / "__init__.py").is_file()
    assert (root / "domain" / "account" / "decide.py").is_file()
    assert not (root.parent / "hotcore_dev").exists()  # developer tooling stays out
    leftovers = [
        p for p in root.rglob("*") if p.suffix in {".pyc", ".so"} or p.name == "__pycache__"
    ]
    assert leftovers == []


STACKS_DIR = Path(account_stack.__file__).parent
CONSTRUCTS_DIR = STACKS_DIR.parent / "constructs"


def test_every_stack_file_is_under_150_lines() -> None:
    stack_files = sorted(STACKS_DIR.glob("*_stack.py"))
    assert {p.name for p in stack_files} >= {f"{a.name}_stack.py" for a in AGGREGATES}
    for path in [*stack_files, STACKS_DIR / "common.py"]:
        lines = len(path.read_text().splitlines())
        assert lines < 150, f"{path.name} has {lines} lines: move what is common to a construct"


def test_constructs_name_no_aggregate() -> None:
    # What differs per aggregate is written in its stack file; a construct that spelled an
    # aggregate's name would be an "if aggregate == ..." in disguise.
    names = {a.name for a in AGGREGATES}
    for path in sorted(CONSTRUCTS_DIR.glob("*.py")):
        strings = {
            node.value
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
        assert not strings & names, f"{path.name} names {sorted(strings & names)}"


def test_cdk_json_app_imports_the_cdk_constructs_library_not_infra_constructs() -> None:
    # The CDK CLI runs cdk.json's "app" in infra/, where ``constructs/`` (ours) would
    # shadow the ``constructs`` library for a plain ``python -m``; the command must not.
    infra_dir = STACKS_DIR.parent
    app = json.loads((infra_dir / "cdk.json").read_text())["app"]
    assert app.endswith(" -m infra.app")
    probe = (
        app.removesuffix(" -m infra.app") + " -c 'import constructs; print(constructs.__file__)'"
    )
    found = subprocess.run(
        probe, shell=True, cwd=infra_dir, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert "site-packages" in found, found


def test_stack_files_name_their_delivery_rules_explicitly() -> None:
    # one explicit stack file per aggregate, each importing its own rules and nothing
    # that loops over aggregates (the registry)
    for agg in AGGREGATES:
        source = (STACKS_DIR / f"{agg.name}_stack.py").read_text()
        assert f"from hotcore.domain.{agg.name} import {agg.name.upper()}" in source
        assert "registry" not in source
        assert "aggregates()" not in source


# ---- front-end servers: field-level IAM ------------------------------------------------


def graphql_grants(synth: Synth) -> list[tuple[str, str, list[str]]]:
    """(stack, policy, field ARN tails) of every statement allowing appsync:GraphQL."""
    found = []
    for stack, logical_id, statement in all_policy_statements(synth):
        actions = as_list(statement["Action"])
        if any(a in ("appsync:GraphQL", "appsync:*", "*") for a in actions):
            tails = [
                json.dumps(r).split("/types/")[-1].rstrip('"]}')
                for r in as_list(statement["Resource"])
            ]
            found.append((stack, logical_id, tails))
    return found


def role_fields(synth: Synth, description_start: str) -> set[str]:
    roles = synth.resources(SHARED, "AWS::IAM::Role")
    (role,) = [
        k
        for k, r in roles.items()
        if r["Properties"].get("Description", "").startswith(description_start)
    ]
    fields: set[str] = set()
    for statement in statements(synth, SHARED, role):
        assert statement["Action"] == "appsync:GraphQL"
        for resource in as_list(statement["Resource"]):
            tail = json.dumps(resource).split("/types/")[-1].rstrip('"]}')
            kind, _, field = tail.partition("/fields/")
            fields.add(f"{kind}.{field}")
    return fields


def test_no_role_but_eventbridges_may_call_publish_and_none_has_a_wildcard(synth: Synth) -> None:
    grants = graphql_grants(synth)
    assert grants  # the servers' and EventBridge's
    publishers = [g for g in grants if "Mutation/fields/publish" in g[2]]
    (publisher,) = publishers
    assert publisher[2] == ["Mutation/fields/publish"]
    roles = synth.resources(SHARED, "AWS::IAM::Role")
    policy = synth.resources(SHARED, "AWS::IAM::Policy")[publisher[1]]
    (role,) = policy["Properties"]["Roles"]
    trust = json.dumps(roles[role["Ref"]]["Properties"]["AssumeRolePolicyDocument"])
    assert "events.amazonaws.com" in trust
    for _, _, tails in grants:
        assert all("/fields/" in tail and "*" not in tail for tail in tails), tails


def test_the_storefront_may_call_what_customers_do_and_nothing_internal(synth: Synth) -> None:
    assert role_fields(synth, "The storefront server") == {
        "Mutation.registerCustomer",
        "Mutation.changeEmail",
        "Mutation.deactivateCustomer",
        "Mutation.deposit",
        "Mutation.withdraw",
        "Mutation.closeAccount",
        "Mutation.placeOrder",
        "Mutation.cancelOrder",
        "Query.getAccount",
        "Query.getCustomer",
        "Query.getInventory",
        "Query.getOrder",
        "Subscription.onAccountEvent",
        "Subscription.onCustomerEvent",
        "Subscription.onOrderEvent",
    }


def test_the_back_office_may_stock_ship_cancel_and_deactivate(synth: Synth) -> None:
    assert role_fields(synth, "The back-office server") == {
        "Mutation.addStock",
        "Mutation.shipOrder",
        "Mutation.cancelOrder",
        "Mutation.deactivateCustomer",
        "Query.getAccount",
        "Query.getCustomer",
        "Query.getInventory",
        "Query.getOrder",
        "Subscription.onInventoryEvent",
        "Subscription.onOrderEvent",
    }


def test_a_server_role_naming_a_field_the_schema_lacks_fails_the_synth() -> None:
    from aws_cdk import App, Environment

    from infra.constructs import FrontEndRole
    from infra.constructs.frontends import FieldsNotInSchema

    shared = SharedStack(App(), "Shared", env=Environment(account=TEST_ACCOUNT, region=TEST_REGION))
    with pytest.raises(FieldsNotInSchema, match=r"Mutation\.confirmOrder"):
        FrontEndRole(
            shared,
            "Rogue",
            api=shared.api,
            fields={"Mutation": ("deposit", "confirmOrder")},
            description="x",
            role_name="rogue",
        )


def test_the_command_and_query_functions_trust_the_issuer_the_context_names(tmp_path: Path) -> None:
    from aws_cdk import App, Environment

    from infra.stacks.account_stack import AccountStack

    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": [{"kty": "RSA", "kid": "k", "n": "AQAB", "e": "AQAB"}]}')
    context = {
        "token-issuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool",
        "token-audience": "client-1",
        "jwks-file": str(jwks),
    }
    app = App(context=context)
    env = Environment(account=TEST_ACCOUNT, region=TEST_REGION)
    stack = AccountStack(app, "Account", shared=SharedStack(app, "Shared", env=env), env=env)
    template = app.synth().get_stack_by_name(stack.stack_name).template
    variables = {
        r["Properties"]["FunctionName"]: r["Properties"]["Environment"]["Variables"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    }
    command = variables["hotcore-account-command"]
    assert command["HOTCORE_TOKEN_ISSUER"] == context["token-issuer"]
    assert command["HOTCORE_TOKEN_AUDIENCE"] == "client-1"
    assert json.loads(command["HOTCORE_JWKS"])["keys"][0]["kid"] == "k"
    assert variables["hotcore-account-query"]["HOTCORE_TOKEN_ISSUER"] == context["token-issuer"]
    assert "HOTCORE_TOKEN_ISSUER" not in variables["hotcore-account-events"]
    half = App(context={"token-issuer": "https://i"})
    half_shared = SharedStack(half, "Shared", env=env)
    with pytest.raises(ValueError, match="together"):
        AccountStack(half, "Account", shared=half_shared, env=env)
