"""Payload templates: the ``Parameters``, ``ResultSelector`` and ``ItemSelector`` fields.

A template is any JSON value. Inside it, however deeply nested (also inside
arrays), an object field whose name ends in ``.$`` takes its value from a path
(``$.x`` in the data, ``$$.x`` in the context object) or from an intrinsic
function, and loses the ``.$`` suffix. Templates are compiled at load time so
that every path and intrinsic is checked before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hotcore_dev.saga.errors import InvalidDefinition, StatesError
from hotcore_dev.saga.intrinsics import Call, Evaluator, is_intrinsic, parse_intrinsic
from hotcore_dev.saga.jsonpath import PathNotFound, ReferencePath, parse_path
from hotcore_dev.saga.values import Json, NotJson, clone, encode, to_json


@dataclass(frozen=True, slots=True)
class _Const:
    value: Json


@dataclass(frozen=True, slots=True)
class _FromPath:
    field: str
    path: ReferencePath


@dataclass(frozen=True, slots=True)
class _FromIntrinsic:
    field: str
    call: Call


@dataclass(frozen=True, slots=True)
class _Object:
    fields: tuple[tuple[str, _Node], ...]


@dataclass(frozen=True, slots=True)
class _Array:
    items: tuple[_Node, ...]


type _Node = _Const | _FromPath | _FromIntrinsic | _Object | _Array


@dataclass(frozen=True, slots=True)
class Template:
    """A compiled payload template."""

    root: _Node

    def render(
        self, data: Json, context: Json, evaluate: Callable[[Call, Json, Json, str], Json]
    ) -> Json:
        """Build the payload from ``data`` (the state's data) and the context object."""
        return _render(self.root, data, context, evaluate)


def compile_template(value: object, where: str) -> Template:
    """Compile a template field of a definition; raises a load error for bad ``.$`` fields."""
    try:
        json_value = to_json(value)
    except NotJson as exc:
        raise InvalidDefinition(f"not JSON: {exc}", where) from None
    return Template(_compile(json_value, where))


def _compile(value: Json, where: str) -> _Node:
    if isinstance(value, dict):
        if not any(key.endswith(".$") for key in value) and not _has_dynamic(value):
            return _Const(value)
        fields: list[tuple[str, _Node]] = []
        names: set[str] = set()
        for key, item in value.items():
            field_where = f"{where}.{key}"
            if key.endswith(".$"):
                name = key[:-2]
                if not isinstance(item, str):
                    raise InvalidDefinition(
                        f"the value of a '.$' field must be a path or an intrinsic, got {item!r}",
                        field_where,
                    )
                node: _Node = (
                    _FromIntrinsic(key, parse_intrinsic(item, field_where))
                    if is_intrinsic(item)
                    else _FromPath(key, parse_path(item, field_where))
                )
            else:
                name = key
                node = _compile(item, field_where)
            if name in names:
                raise InvalidDefinition(f"the field {name!r} is given twice", where)
            names.add(name)
            fields.append((name, node))
        return _Object(tuple(fields))
    if isinstance(value, list):
        if not _has_dynamic(value):
            return _Const(value)
        return _Array(tuple(_compile(item, f"{where}[{i}]") for i, item in enumerate(value)))
    return _Const(value)


def _has_dynamic(value: Json) -> bool:
    if isinstance(value, dict):
        return any(key.endswith(".$") or _has_dynamic(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_dynamic(item) for item in value)
    return False


def _render(
    node: _Node, data: Json, context: Json, evaluate: Callable[[Call, Json, Json, str], Json]
) -> Json:
    if isinstance(node, _Const):
        return clone(node.value)
    if isinstance(node, _Object):
        return {name: _render(item, data, context, evaluate) for name, item in node.fields}
    if isinstance(node, _Array):
        return [_render(item, data, context, evaluate) for item in node.items]
    if isinstance(node, _FromIntrinsic):
        return evaluate(node.call, data, context, node.field)
    source = context if node.path.context else data
    try:
        return clone(node.path.get(source))
    except PathNotFound:
        shown = "the context object" if node.path.context else f"the input {_preview(data)}"
        raise StatesError(
            "States.Runtime",
            f"The JSONPath {node.path.text!r} specified for the field {node.field!r} "
            f"could not be found in {shown}",
        ) from None


def _preview(data: Json, limit: int = 200) -> str:
    text = encode(data).decode()
    return repr(text if len(text) <= limit else text[:limit] + "...")


def intrinsic_caller(evaluator: Evaluator) -> Callable[[Call, Json, Json, str], Json]:
    """Adapter from an Evaluator to the callback Template.render takes."""

    def call(node: Call, data: Json, context: Json, field: str) -> Json:
        return evaluator.evaluate(node, data, context, field)

    return call
