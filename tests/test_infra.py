"""The CDK app, synthesized once for this module, checked the way CI checks it.

One synth (``infra.app.build_app``, pinned to a test account and region) runs cdk-nag's
AwsSolutions pack as a validation plugin, so it fails on any unacknowledged finding;
the templates it writes are then linted with cfn-lint and read by the assertions below:
key schemas, streams, runtimes, the append-only deny, least-privilege grants, one
resolver per GraphQL field and one bus rule per delivery declaration of the domain.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_file  # type: ignore[import-untyped]
from cfnlint.data import AdditionalSpecs  # type: ignore[import-untyped]
from graphql import build_schema

from hotcore.bus.pattern import matches
from hotcore.contracts import account, customer, inventory, order
from hotcore.contracts.common import Envelope
from hotcore.domain.account import DELIVERY_RULES as ACCOUNT_RULES
from hotcore.domain.aggregate import DeliveryRule
from hotcore.domain.customer import DELIVERY_RULES as CUSTOMER_RULES
from hotcore.domain.inventory import DELIVERY_RULES as INVENTORY_RULES
from hotcore.domain.order import DELIVERY_RULES as ORDER_RULES
from hotcore.saga import place_order
from hotcore.store.dynamodb import DynamoEventStore
from infra.app import build_app
from infra.stacks import account_stack
from infra.stacks.common import (
    APPEND_ACTIONS,
    APPEND_ONLY_DENIED,
    HANDLERS_DIR,
    PUBLISH_OPERATION,
    READ_ACTIONS,
    SAGA_DEFINITION,
    SCHEMA_FILE,
    DeliveryRuleError,
    _pure_python_layer,
    event_pattern,
    graphql_fields,
)
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
    commands: Any
    queries: Any


AGGREGATES = [
    Aggregate(
        "account", "HotcoreAccount", ACCOUNT_RULES, account.AccountCommand, account.GetAccount
    ),
    Aggregate(
        "inventory",
        "HotcoreInventory",
        INVENTORY_RULES,
        inventory.InventoryCommand,
        inventory.GetInventory,
    ),
    Aggregate("order", "HotcoreOrder", ORDER_RULES, order.OrderCommand, order.GetOrder),
    Aggregate(
        "customer",
        "HotcoreCustomer",
        CUSTOMER_RULES,
        customer.CustomerCommand,
        customer.GetCustomer,
    ),
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


def test_customer_guard_table_is_keyed_by_guard_only(synth: Synth) -> None:
    tables = synth.resources("HotcoreCustomer", "AWS::DynamoDB::Table")
    guard = next(t for t in tables.values() if "StreamSpecification" not in t["Properties"])
    props = guard["Properties"]
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
        assert env["HOTCORE_SNAPSHOT_EVERY"] == "100"
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "hotcore"
        assert ("HOTCORE_GUARD_TABLE" in env) == (agg.name == "customer")
    _, publisher = function(synth, agg.stack, f"hotcore-{agg.name}-publisher")
    assert publisher["Properties"]["Handler"] == "publisher.handler"
    assert publisher["Properties"]["Environment"]["Variables"]["HOTCORE_AGGREGATE"] == agg.name


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

    if agg.name == "customer":
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
    (criteria,) = props["FilterCriteria"]["Filters"]
    assert json.loads(criteria["Pattern"])["eventName"] == ["INSERT"]


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


def test_stream_filter_lets_through_event_items_only(synth: Synth) -> None:
    _, mapping = synth.one("HotcoreAccount", "AWS::Lambda::EventSourceMapping")
    (criteria,) = mapping["Properties"]["FilterCriteria"]["Filters"]
    pattern = json.loads(criteria["Pattern"])

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
    store.append("acc-1", 0, [opened], command_id="cmd-1")
    event_item, command_record = client.items
    assert "data" in event_item
    assert "data" not in command_record
    snapshot = {"stream_id": {"S": "acc-1#snapshot"}, "version": {"N": "1"}, "state": {"S": "{}"}}

    def record(name: str, image: dict[str, Any]) -> dict[str, Any]:
        return {"eventName": name, "dynamodb": {"NewImage": image, "SequenceNumber": "1"}}

    assert matches(pattern, record("INSERT", event_item))
    assert not matches(pattern, record("INSERT", command_record))
    assert not matches(pattern, record("INSERT", snapshot))
    assert not matches(pattern, record("MODIFY", event_item))


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
    expected = [("Mutation", f, source_of(command_fn)) for f in graphql_fields(agg.commands)]
    expected += [("Query", f, source_of(query_fn)) for f in graphql_fields(agg.queries)]
    for type_name, field, source in expected:
        props = by_field.pop((type_name, field))
        assert props["DataSourceName"] == sources[source]["Properties"]["Name"]
        assert props["Runtime"] == {"Name": "APPSYNC_JS", "RuntimeVersion": "1.0.0"}
    subscription = f"on{agg.name.capitalize()}Event"
    assert list(by_field) == [("Subscription", subscription)]


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
            variables = json.loads(
                transformer["InputTemplate"]
                .replace("<detail-stream_id>", '"s"')
                .replace("<detail-version>", "1")
                .replace("<detail-type>", '"T"')
                .replace("<detail>", "{}")
            )
            assert variables == {
                "aggregate": agg.name,
                "stream_id": "s",
                "version": 1,
                "type": "T",
                "detail": {},
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

    monkeypatch.setattr(account_stack, "DELIVERY_RULES", (stray,))
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
    root = _pure_python_layer() / "python" / "hotcore"
    assert (root / "__init__.py").is_file()
    assert (root / "domain" / "account" / "decide.py").is_file()
    assert not (root / "layer.py").exists()  # build tooling stays out
    assert not (root / "cli.py").exists()
    leftovers = [
        p for p in root.rglob("*") if p.suffix in {".pyc", ".so"} or p.name == "__pycache__"
    ]
    assert leftovers == []


def test_stack_files_name_their_delivery_rules_explicitly() -> None:
    # one explicit stack file per aggregate, each importing its own rules and nothing
    # that loops over aggregates (the registry)
    stacks_dir = Path(account_stack.__file__).parent
    for agg in AGGREGATES:
        source = (stacks_dir / f"{agg.name}_stack.py").read_text()
        assert f"from hotcore.domain.{agg.name} import DELIVERY_RULES" in source
        assert "registry" not in source
        assert "aggregates()" not in source
