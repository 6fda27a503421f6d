"""The API's SDL as graphql-core executes it, with AppSync's resolvers wired in.

The schema is the generated SDL (``hotcore_dev.graphql.sdl``, the text of
``schemas/schema.graphql``) after a prelude declaring what AppSync provides itself (its
scalars and directives). Each Mutation and Query field of an aggregate resolves as its
APPSYNC_JS resolver does on AWS (``infra/resolvers/lambda_invoke.js``): the request
becomes the direct Lambda resolver event, the aggregate's function handles it in
process, and the response handler turns ``rejected`` into an error whose ``errorType``
is the rule (``errorInfo`` ``{rule, data}``), ``invalid`` into ``BadRequest`` and
``error`` into an error of its type (``errorInfo`` ``{commandId}``); tests/serve checks
this mapping against the JS file run by Node.
``publish`` resolves to its arguments (``publish.js``), and every subscription field
named in a mutation's ``@aws_subscribe`` receives that mutation's result.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    ListValueNode,
    StringValueNode,
    build_schema,
    get_named_type,
    is_abstract_type,
    is_object_type,
    value_from_ast_untyped,
)

from hotcore.entrypoints.identity import TOKEN_HEADER

#: What AppSync defines for every API: a plain GraphQL parser knows none of it.
APPSYNC_PRELUDE = """
scalar AWSJSON
scalar AWSDateTime
scalar AWSDate
scalar AWSTime
scalar AWSTimestamp
scalar AWSEmail
scalar AWSURL
scalar AWSPhone
scalar AWSIPAddress
directive @aws_iam on OBJECT | FIELD_DEFINITION | INTERFACE | UNION | ENUM | INPUT_OBJECT
directive @aws_api_key on OBJECT | FIELD_DEFINITION | INTERFACE | UNION | ENUM | INPUT_OBJECT
directive @aws_lambda on OBJECT | FIELD_DEFINITION | INTERFACE | UNION | ENUM | INPUT_OBJECT
directive @aws_oidc on OBJECT | FIELD_DEFINITION | INTERFACE | UNION | ENUM | INPUT_OBJECT
directive @aws_cognito_user_pools(cognito_groups: [String]) on OBJECT | FIELD_DEFINITION
directive @aws_auth(cognito_groups: [String]) on FIELD_DEFINITION
directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION
"""

#: The mutation EventBridge calls for every committed event (``Mutation.publish``).
PUBLISH_FIELD = "publish"

Function = Callable[[Any], Any]


class ResolverError(Exception):
    """A field's error as AppSync reports it: ``errorType``, message, ``errorInfo``."""

    def __init__(self, error_type: str, message: str, error_info: Any = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.error_info = error_info


class SchemaMismatch(Exception):
    """The SDL lacks a field the server must build on (``publish``)."""


@dataclass
class Caller:
    """Who is executing an operation: the resolver event's ``identity``, and rights."""

    identity: dict[str, Any]
    may_publish: bool = False
    #: The HTTP request's headers (``ctx.request.headers``), signature headers left out.
    headers: dict[str, str] = field(default_factory=dict)
    #: The subscriptions a ``subscribe`` opened, for whoever must close them.
    opened: list[Any] = field(default_factory=list)
    #: The fields its IAM policy grants, by type (field-level IAM); None: every field.
    fields: Mapping[str, tuple[str, ...]] | None = None

    def check(self, type_name: str, field_name: str) -> None:
        """AppSync's field-level IAM: a field the caller's policy does not grant is refused."""
        if self.fields is not None and field_name not in self.fields.get(type_name, ()):
            raise ResolverError(
                "Unauthorized", f"Not Authorized to access {field_name} on type {type_name}"
            )


@dataclass
class Published:
    """A mutation's result, for the subscription fields that ``@aws_subscribe`` to it."""

    mutation: str
    subscriptions: tuple[str, ...]
    payload: dict[str, Any]


@dataclass
class Routes:
    """Which function resolves each field, and which aggregate each subscription is of."""

    functions: dict[tuple[str, str], Function] = field(default_factory=dict)
    subscriptions: dict[str, str] = field(default_factory=dict)


def _json_out(value: Any) -> str:
    if isinstance(value, str):
        json.loads(value)  # AppSync returns a string as the JSON text it must be
        return value
    return json.dumps(value, separators=(",", ":"))


def _json_in(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _json_literal(node: Any, variables: Any = None, *_: Any) -> Any:
    if isinstance(node, StringValueNode):
        return json.loads(node.value)
    return value_from_ast_untyped(node, variables if isinstance(variables, dict) else None)


def lambda_response(result: Any) -> Any:
    """What ``lambda_invoke.js``'s response handler makes of a function's result."""
    if isinstance(result, dict):
        outcome = result.get("outcome")
        if outcome == "rejected":
            rule = str(result.get("rule"))
            raise ResolverError(
                rule, str(result.get("message")), {"rule": rule, "data": result.get("data") or {}}
            )
        if outcome == "invalid":
            raise ResolverError("BadRequest", str(result.get("message")))
        if outcome == "error":  # the function could not serve it (Unavailable, ...)
            raise ResolverError(
                str(result.get("error")),
                str(result.get("message")),
                {"commandId": result.get("command_id")},
            )
    return result


def subscribed_mutations(schema: GraphQLSchema) -> dict[str, tuple[str, ...]]:
    """Mutation field -> the subscription fields whose ``@aws_subscribe`` names it."""
    out: dict[str, list[str]] = {}
    subscription = schema.subscription_type
    for name, sub_field in (subscription.fields if subscription else {}).items():
        node = sub_field.ast_node
        for directive in node.directives if node and node.directives else ():
            if directive.name.value != "aws_subscribe":
                continue
            for argument in directive.arguments or ():
                if argument.name.value == "mutations" and isinstance(argument.value, ListValueNode):
                    for value in argument.value.values:
                        if isinstance(value, StringValueNode):
                            out.setdefault(value.value, []).append(name)
    return {mutation: tuple(fields) for mutation, fields in out.items()}


def selection_of(
    named: GraphQLNamedType, depth: int = 6, schema: GraphQLSchema | None = None
) -> str:
    """A selection set of every field of an object or interface type, nested ``depth``
    levels (``__typename`` beside them); given ``schema``, an abstract type's as a fragment
    per possible type (a union without it gets ``__typename`` alone)."""
    if is_abstract_type(named) and schema is not None and depth > 0:
        fragments = [
            f"... on {possible.name} {selection_of(possible, depth - 1, schema)}"
            for possible in schema.get_possible_types(named)
        ]
        return "{ __typename " + " ".join(fragments) + " }"
    if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        return "{ __typename }" if is_abstract_type(named) else ""
    parts: list[str] = ["__typename"]
    for name, object_field in named.fields.items():
        inner = get_named_type(object_field.type)
        if is_object_type(inner) or is_abstract_type(inner):
            if depth > 0:
                parts.append(f"{name} {selection_of(inner, depth - 1, schema)}")
        else:
            parts.append(name)
    return "{ " + " ".join(parts) + " }"


def mutation_document(schema: GraphQLSchema, name: str) -> str:
    """A mutation of field ``name`` taking every argument as a variable, selecting all."""
    mutation = schema.mutation_type
    if mutation is None or name not in mutation.fields:
        raise SchemaMismatch(f"the SDL has no Mutation.{name}")
    target = mutation.fields[name]
    declared = ", ".join(f"${arg}: {spec.type}" for arg, spec in target.args.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg in target.args)
    selection = selection_of(get_named_type(target.type), schema=schema)
    return f"mutation Publish({declared}) {{ {name}({passed}) {selection} }}"


class ServeSchema:
    """The executable schema: the SDL, AppSync's scalars, and a resolver on every field."""

    def __init__(self, sdl: str, routes: Routes) -> None:
        self.sdl = sdl
        self.schema = build_schema(APPSYNC_PRELUDE + sdl)
        self.routes = routes
        self.fan_out = subscribed_mutations(self.schema)
        self.unserved: list[str] = []
        json_scalar = self.schema.type_map["AWSJSON"]
        assert isinstance(json_scalar, GraphQLScalarType)
        # graphql-core 3.3 reads the coerce_* names; serialize and parse_* are the old ones.
        for names, coerce in (
            (("serialize", "coerce_output_value"), _json_out),
            (("parse_value", "coerce_input_value"), _json_in),
            (("parse_literal", "coerce_input_literal"), _json_literal),
        ):
            for name in names:
                setattr(json_scalar, name, coerce)
        self._wire()

    def _wire(self) -> None:
        """A resolver on every field; ``unserved`` lists the SDL's fields no function serves.

        A function's field missing from the SDL is fine (an internal command, reached by
        direct invocation only); an SDL field without a function answers an error naming
        it, as a field without a resolver would fail on AWS (tests/serve holds the list
        empty).
        """
        for parent in (self.schema.mutation_type, self.schema.query_type):
            for name, object_field in (parent.fields if parent else {}).items():
                assert parent is not None
                if parent.name == "Mutation" and name == PUBLISH_FIELD:
                    object_field.resolve = _granted(_publish)
                    continue
                function = self.routes.functions.get((parent.name, name))
                if function is None:
                    self.unserved.append(f"{parent.name}.{name}")
                    object_field.resolve = _granted(_unserved)
                    continue
                object_field.resolve = _granted(_invoke(function))
        subscription = self.schema.subscription_type
        for name, object_field in (subscription.fields if subscription else {}).items():
            if name not in self.routes.subscriptions:
                self.unserved.append(f"Subscription.{name}")
            object_field.resolve = _payload

    def subscription_field(self, name: str) -> GraphQLField:
        assert self.schema.subscription_type is not None
        found: GraphQLField = self.schema.subscription_type.fields[name]
        return found


def resolver_context(info: GraphQLResolveInfo[Caller], arguments: dict[str, Any]) -> dict[str, Any]:
    """The parts of AppSync's ``ctx`` a resolver of this field would see."""
    caller = info.context
    return {
        "arguments": arguments,
        "identity": caller.identity,
        "info": {
            "fieldName": info.field_name,
            "parentTypeName": info.parent_type.name,
            "variables": dict(info.variable_values.coerced),
        },
        "request": {"headers": dict(caller.headers)},
    }


def lambda_request(ctx: dict[str, Any]) -> dict[str, Any]:
    """What ``lambda_invoke.js``'s request handler asks of the data source: of the
    request's headers only the end user's ID token goes to the function."""
    info = ctx["info"]
    payload: dict[str, Any] = {
        "arguments": ctx["arguments"],
        "identity": ctx.get("identity"),
        "info": {
            "fieldName": info["fieldName"],
            "parentTypeName": info["parentTypeName"],
            "variables": info.get("variables") or {},
        },
    }
    token = (ctx.get("request") or {}).get("headers", {}).get(TOKEN_HEADER)
    if token:
        payload["request"] = {"headers": {TOKEN_HEADER: token}}
    return {"operation": "Invoke", "payload": payload}


def subscription_request(ctx: dict[str, Any]) -> dict[str, Any]:
    """What ``subscription.js``'s request handler asks of the query function: may this
    subscriber follow the stream (its arguments carry the end user's ``idToken``)?"""
    return {
        "operation": "Invoke",
        "payload": {
            "arguments": ctx["arguments"],
            "identity": ctx.get("identity"),
            "info": {
                "fieldName": ctx["info"]["fieldName"],
                "parentTypeName": "Subscription",
                "variables": {},
            },
        },
    }


def _granted(resolve: Callable[..., Any]) -> Callable[..., Any]:
    """``resolve``, after the caller's field-level IAM check."""

    def granted(root: Any, info: GraphQLResolveInfo[Caller], **arguments: Any) -> Any:
        info.context.check(info.parent_type.name, info.field_name)
        return resolve(root, info, **arguments)

    return granted


def _invoke(function: Function) -> Callable[..., Any]:
    def resolve(_root: Any, info: GraphQLResolveInfo[Caller], **arguments: Any) -> Any:
        event = lambda_request(resolver_context(info, arguments))["payload"]
        try:
            result = function(event)
        except Exception as exc:  # a function error: AppSync reports Lambda:Unhandled
            raise ResolverError("Lambda:Unhandled", f"{type(exc).__name__}: {exc}") from exc
        return lambda_response(result)

    return resolve


def _publish(_root: Any, info: GraphQLResolveInfo[Caller], **arguments: Any) -> Any:
    caller: Caller = info.context
    if not caller.may_publish:
        raise ResolverError(
            "Unauthorized",
            f"Not Authorized to access {info.field_name} on type {info.parent_type.name}",
        )
    detail = arguments.get("detail")
    if isinstance(detail, dict):  # as publish.js: subscribers are not told who sent it
        arguments = {**arguments, "detail": {k: v for k, v in detail.items() if k != "actor"}}
    return arguments


def _unserved(_root: Any, info: GraphQLResolveInfo[Caller], **_arguments: Any) -> Any:
    raise ResolverError(
        "NoResolver",
        f"hotcore serve has no function for {info.parent_type.name}.{info.field_name}",
    )


def _payload(payload: Any, _info: GraphQLResolveInfo[Caller], **_arguments: Any) -> Any:
    return payload


def error_json(error: GraphQLError) -> dict[str, Any]:
    """An error as AppSync formats it: errorType and errorInfo beside message and path."""
    out: dict[str, Any] = {
        "path": error.path,
        "data": None,
        "errorType": None,
        "errorInfo": None,
        "locations": [{"line": loc.line, "column": loc.column} for loc in error.locations or ()],
        "message": error.message,
    }
    original = error.original_error
    if isinstance(original, ResolverError):
        out["errorType"] = original.error_type
        out["errorInfo"] = original.error_info
    elif original is None and not error.path:
        out["errorType"] = "ValidationError" if error.locations else "BadRequest"
    return out
