"""The GraphQL shape of the contracts, and the converters between it and the wire.

The wire (contracts, store, bus) stays snake_case msgspec builtins; the GraphQL API
follows AppSync's conventions. The rules, said once here and read by both the SDL
generator (``hotcore_dev.graphql``) and the AppSync adapter, so the two cannot disagree:

- field and argument names are camelCase: ``account_id`` -> ``accountId``;
- a ``Literal`` of strings is an enum whose values are upper-case: ``"open"`` -> ``OPEN``;
- an integer whose contract bounds fit GraphQL's 32-bit ``Int`` is an ``Int``; any other
  (amounts in minor units, balances, totals) is a decimal string, ``"150000"``, exact at
  any size: AppSync accepts no custom scalar, and ``Float`` rounds above 2**53;
- a ``dict`` is a list of ``{key, value}`` entries (GraphQL has no maps);
- a datetime is an ``AWSDateTime`` (msgspec's ISO 8601 string).

Converters are built once per type (at init, from ``msgspec.inspect``), never per
request. ``to_graphql`` takes builtins (``msgspec.to_builtins`` of a contract value);
``from_graphql`` renames and re-types what AppSync sent so that ``msgspec.convert`` with
the contract then validates it: a value it cannot map is left as it came, for the
contract to refuse with the field's name; a field under its wire name (``account_id``),
which the contract alone would accept, is ``UnknownField``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import msgspec
import msgspec.inspect as mi

from hotcore.contracts.common import Envelope

Convert = Callable[[Any], Any]

INT32 = (-(2**31), 2**31 - 1)
_INTEGER = re.compile(r"^-?[0-9]{1,40}$")
_NOT_NAME = re.compile(r"[^0-9A-Za-z]+")

#: The envelope's fields in a GraphQL event (the actor is not among them: who sent a
#: command is not the subscribers' or the readers' business).
ENVELOPE_FIELDS = (
    "stream_id",
    "version",
    "type",
    "schema_version",
    "command_id",
    "correlation_id",
    "causation_id",
    "timestamp",
)


class UnknownField(ValueError):
    """A GraphQL value names a field by its wire (snake_case) name, which GraphQL does not
    know: the contract would accept it, so the converter refuses it."""

    def __init__(self, name: str, graphql_name: str) -> None:
        self.name = name
        super().__init__(f"unknown field `{name}` (GraphQL names it `{graphql_name}`)")


def camel(name: str) -> str:
    """A snake_case contract name in GraphQL: ``unit_price`` -> ``unitPrice``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def enum_value(value: str) -> str:
    """A ``Literal`` value as a GraphQL enum value: ``"open"`` -> ``OPEN``."""
    return _NOT_NAME.sub("_", value).strip("_").upper() or "EMPTY"


def fits_int(info: mi.IntType) -> bool:
    """Whether the contract's bounds keep every value inside GraphQL's 32-bit ``Int``."""
    low = info.ge if info.ge is not None else (info.gt + 1 if info.gt is not None else None)
    high = info.le if info.le is not None else (info.lt - 1 if info.lt is not None else None)
    return low is not None and high is not None and INT32[0] <= low <= high <= INT32[1]


def unwrap(info: mi.Type) -> tuple[mi.Type, bool]:
    """The type under ``Metadata`` and ``| None``, and whether None was allowed."""
    while isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(info, mi.UnionType):
        members = [t for t in info.types if not isinstance(t, mi.NoneType)]
        if len(members) == 1:
            inner, _ = unwrap(members[0])
            return inner, len(members) < len(info.types)
    return info, False


def struct_fields(info: mi.StructType) -> list[mi.Field]:
    """A struct's fields as GraphQL sees them: every field but the tag."""
    return [f for f in info.fields if f.name != info.tag_field]


def _optional(convert: Convert) -> Convert:
    return lambda value: None if value is None else convert(value)


def to_graphql(info: mi.Type) -> Convert | None:
    """builtins of a contract value -> its GraphQL value (None: the value is the same)."""
    inner, nullable = unwrap(info)
    convert = _to(inner)
    return _optional(convert) if convert is not None and nullable else convert


def _to(info: mi.Type) -> Convert | None:
    match info:
        case mi.IntType():
            return None if fits_int(info) else str
        case mi.LiteralType(values=values):
            names = {v: enum_value(v) for v in values if isinstance(v, str)}
            return names.get if names else None
        case mi.ListType(item_type=item) | mi.SetType(item_type=item):
            item_to = to_graphql(item)
            if item_to is None:
                return None
            return lambda v: [item_to(x) for x in v]
        case mi.DictType(value_type=value_type):
            each = to_graphql(value_type) or _same
            return lambda v: [{"key": k, "value": each(x)} for k, x in v.items()]
        case mi.StructType():
            fields = [(f.name, camel(f.name), to_graphql(f.type)) for f in struct_fields(info)]

            def struct(value: dict[str, Any]) -> dict[str, Any]:
                out = {}
                for name, graphql_name, convert in fields:
                    if name in value:
                        item = value[name]
                        out[graphql_name] = item if convert is None else convert(item)
                return out

            return struct
    return None


def from_graphql(info: mi.Type) -> Convert | None:
    """A GraphQL argument value -> the builtins its contract decodes (None: the same)."""
    inner, nullable = unwrap(info)
    convert = _from(inner)
    return _optional(convert) if convert is not None and nullable else convert


def _from(info: mi.Type) -> Convert | None:
    match info:
        case mi.IntType():
            return None if fits_int(info) else _integer
        case mi.LiteralType(values=values):
            values_of = {enum_value(v): v for v in values if isinstance(v, str)}
            return (lambda v: values_of.get(v, v)) if values_of else None
        case mi.ListType(item_type=item) | mi.SetType(item_type=item):
            item_from = from_graphql(item)
            if item_from is None:
                return None
            return lambda v: [item_from(x) for x in v] if isinstance(v, list) else v
        case mi.DictType(value_type=value_type):
            each = from_graphql(value_type) or _same
            return lambda v: _entries(v, each)
        case mi.StructType():
            fields = {camel(f.name): (f.name, from_graphql(f.type)) for f in struct_fields(info)}
            wire_only = {name for name, _ in fields.values()} - set(fields)

            def struct(value: Any) -> Any:
                if not isinstance(value, dict):
                    return value
                out = {}
                for key, item in value.items():
                    if key in wire_only:
                        raise UnknownField(key, camel(key))
                    name, convert = fields.get(key, (key, None))
                    out[name] = item if convert is None else convert(item)
                return out

            return struct
    return None


def _same(value: Any) -> Any:
    return value


def _integer(value: Any) -> Any:
    """A decimal string as an int; anything else unchanged, for the contract to refuse."""
    if isinstance(value, str) and _INTEGER.match(value):
        return int(value)
    return value


def _entries(value: Any, each: Convert) -> Any:
    if isinstance(value, list) and all(isinstance(e, dict) and "key" in e for e in value):
        return {e["key"]: each(e.get("value")) for e in value}
    return value


def selection(info: mi.Type) -> str:
    """The GraphQL selection of every field of a contract type (empty for a scalar)."""
    inner, _ = unwrap(info)
    match inner:
        case mi.ListType(item_type=item) | mi.SetType(item_type=item):
            return selection(item)
        case mi.DictType(value_type=value):
            return "{ key value %s}" % (selection(value) + " " if selection(value) else "")
        case mi.StructType():
            parts = [f"{camel(f.name)} {selection(f.type)}".strip() for f in struct_fields(inner)]
            return "{ " + " ".join(parts) + " }"
    return ""


def events_selection(event_types: list[Any]) -> str:
    """The selection of a list of events: the envelope's fields, then each type's own."""
    fragments = []
    for event_type in event_types:
        info = mi.type_info(event_type)
        members = info.types if isinstance(info, mi.UnionType) else (info,)
        for member in members:
            if isinstance(member, mi.StructType) and struct_fields(member):
                fragments.append(f"... on {member.cls.__name__} {selection(member)}")
    envelope = " ".join(camel(name) for name in ENVELOPE_FIELDS)
    return "{ __typename " + envelope + (" " + " ".join(fragments) if fragments else "") + " }"


def struct_converters(cls: type[Any]) -> tuple[Convert, Convert]:
    """(to GraphQL, from GraphQL) for a struct type: both always functions."""
    info = mi.type_info(cls)
    return to_graphql(info) or _same, from_graphql(info) or _same


class EventShapes:
    """An aggregate's events as GraphQL objects: the envelope's fields + the event's own.

    ``__typename`` (the event's class name) tells AppSync which member of the
    aggregate's event interface an object is. Events of a type this code does not know
    keep their data fields camelCased, unconverted.
    """

    def __init__(self, event_type: Any) -> None:
        info = mi.type_info(event_type)
        members = info.types if isinstance(info, mi.UnionType) else (info,)
        self._data: dict[str, Convert] = {}
        for member in members:
            if isinstance(member, mi.StructType):
                tag = member.cls.__struct_config__.tag
                self._data[str(tag)] = to_graphql(member) or _same
        self._to_builtins = msgspec.to_builtins

    def event(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """One envelope (builtins, snake_case) as the GraphQL object of its event type."""
        tag = str(envelope.get("type"))
        data = envelope.get("data") or {}
        convert = self._data.get(tag)
        fields = (
            convert(data)
            if convert is not None
            else {camel(k): v for k, v in data.items() if k != "type"}
        )
        return {
            "__typename": tag,
            "streamId": envelope.get("stream_id"),
            "version": envelope.get("version"),
            "type": tag,
            "schemaVersion": envelope.get("schema_version", 1),
            "commandId": envelope.get("command_id"),
            "correlationId": envelope.get("correlation_id"),
            "causationId": envelope.get("causation_id"),
            "timestamp": envelope.get("timestamp"),
            **fields,
        }

    def envelope(self, envelope: Envelope[Any]) -> dict[str, Any]:
        """A typed envelope (a store read) as its GraphQL object."""
        builtins: dict[str, Any] = self._to_builtins(envelope)
        return self.event(builtins)
