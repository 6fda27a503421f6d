"""The fast read path: DynamoDB JSON bytes straight into typed msgspec Structs, no dicts between.

A Query response is ``{"Items": [{"stream_id": {"S": "a-1"}, "version": {"N": "3"},
...}], "Count": ..., "LastEvaluatedKey": ...}``: every value wrapped in a one-key
object naming its DynamoDB type. ``ItemCodec(T)`` builds, once per item type ``T``,
a parallel *wire* Struct type that mirrors that shape (``stream_id: _S``, where
``_S`` is a Struct with the single field ``S: <T's own annotated type>``) and a
generated converter from wire objects to ``T``. msgspec decodes the bytes into
wire objects (validating ``T``'s constraints where they sit, numbers parsed from
their N strings), and the converter builds ``T`` by attribute access. Decode
errors name the wire path, e.g. ``Expected `int` >= 1 - at `$.Items[3].version.N```.

What maps to what (the forms ``hotcore.codec.dynamodb.serialize`` writes):

- ``str``, ``datetime``, ``date``, ``time``, ``uuid.UUID``, str enums and literals: S
- ``int``, ``float``, ``Decimal``, int enums and literals: N
- ``bool``: BOOL; ``bytes``: B; ``None``: NULL; ``X | None`` either
- ``list[X]``, ``tuple[X, ...]``: L; ``set[X]`` / ``frozenset[X]``: SS, NS or BS
- ``dict[str, X]`` and Structs: M; a tagged union of Structs: M, dispatched on its tag
- anything else (``Any``, unions of several maps...): decoded generically, then
  converted with ``msgspec.convert``; correct, but not fast.

Unknown attributes of a top-level item are ignored (tables carry key and
bookkeeping attributes); nested Structs keep ``T``'s own ``forbid_unknown_fields``.

Use ``page_decoder(T).decode_page(raw)`` for Query/Scan pages,
``decode_item_response`` for GetItem, ``from_attribute_values`` for an item already
parsed (a Streams record's ``NewImage``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import enum
import functools
import itertools
import types
import typing
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import msgspec
from msgspec import UNSET, Struct, UnsetType

from hotcore.codec.dynamodb import deserialize, serialize_item

__all__ = ["ItemCodec", "Page", "decode_page", "page_decoder"]

_S_TYPES: tuple[type, ...] = (str, _dt.datetime, _dt.date, _dt.time, uuid.UUID)
_N_TYPES: tuple[type, ...] = (int, float, Decimal)


class Page[T](Struct, frozen=True, kw_only=True):
    """One page of a Query or Scan: the items, and where the next page starts (None: last)."""

    items: list[T]
    last_evaluated_key: dict[str, Any] | None
    count: int
    scanned_count: int


class _Branch:
    """One DynamoDB type key a value may come under: the wire type under it and its conversion.

    ``expr(access)`` is Python source turning the wire value at ``access`` into the
    Python value (``access`` itself when nothing is needed).
    """

    __slots__ = ("expr", "inner")

    def __init__(self, inner: Any, expr: Callable[[str], str]) -> None:
        self.inner = inner
        self.expr = expr


def _same(access: str) -> str:
    return access


class _Builder:
    """Builds wire types and converter source for one item type; the namespace is shared."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"UNSET": UNSET, "_Invalid": msgspec.ValidationError}
        self.lines: list[str] = []
        self._names = itertools.count()
        self._wrappers: dict[tuple[tuple[str, Any], ...], type[Struct]] = {}
        self._structs: dict[Any, tuple[type[Struct], str]] = {}
        #: (namespace name of a tag -> converter table, tag -> converter name) per union.
        self._pending_unions: list[tuple[str, dict[Any, str]]] = []

    def name(self, prefix: str, *value: Any) -> str:
        """A fresh name for generated code, bound to ``value`` in the namespace if given."""
        name = f"_{prefix}{next(self._names)}"
        if value:
            self.namespace[name] = value[0]
        return name

    # ------------------------------------------------------------------ wrappers

    def wrapper(self, branches: dict[str, _Branch]) -> type[Struct]:
        """The wire Struct of one attribute value: ``{"S": ...}``, or optional keys if several."""
        signature = tuple((key, branch.inner) for key, branch in branches.items())
        try:
            cached = self._wrappers.get(signature)
        except TypeError:  # an unhashable annotation: build without caching
            cached = None
        if cached is not None:
            return cached
        if len(branches) == 1:
            fields: list[Any] = [(key, branch.inner) for key, branch in branches.items()]
        else:
            fields = [(key, branch.inner | UnsetType, UNSET) for key, branch in branches.items()]
        wrapper = msgspec.defstruct(
            "AV_" + "_".join(branches), fields, forbid_unknown_fields=True, gc=False
        )
        with contextlib.suppress(TypeError):  # unhashable annotations are not cached
            self._wrappers[signature] = wrapper
        return wrapper

    def value_expr(self, branches: dict[str, _Branch] | None, annotation: Any, var: str) -> str:
        """Source converting wrapper object ``var`` (or the raw AV for a fallback) to a value."""
        if branches is None:
            fallback = self.name("fallback", functools.partial(_convert_generic, annotation))
            return f"{fallback}({var})"
        if len(branches) == 1:
            ((key, branch),) = branches.items()
            return branch.expr(f"{var}.{key}")
        pick = self.name("pick")
        keys = list(branches)
        body = [f"def {pick}(v):"]
        for key, branch in branches.items():
            body.append(f"    if v.{key} is not UNSET:")
            body.append(f"        return {branch.expr(f'v.{key}')}")
        message = f"attribute value has none of the expected types {keys}"
        body.append(f"    raise _Invalid({message!r})")
        self.lines.extend(body)
        return f"{pick}({var})"

    def wire_value_type(self, branches: dict[str, _Branch] | None) -> Any:
        return dict[str, Any] if branches is None else self.wrapper(branches)

    # ------------------------------------------------------------------ type analysis

    def branches(self, annotation: Any, depth: int = 0) -> dict[str, _Branch] | None:
        """The DynamoDB type keys ``annotation`` may arrive under, or None: decode generically."""
        base, metadata = _strip_annotated(annotation)
        origin = typing.get_origin(base)

        if base is type(None) or base is None:
            return {"NULL": _Branch(bool, lambda _: "None")}
        if origin in (typing.Union, types.UnionType):
            return self._union(annotation, base, depth)
        if origin is typing.Literal:
            values = typing.get_args(base)
            if all(isinstance(v, str) for v in values):
                return {"S": _Branch(annotation, _same)}
            if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                return {"N": _Branch(annotation, _same)}
            return None
        if isinstance(base, type):
            if issubclass(base, bool):
                return {"BOOL": _Branch(annotation, _same)}
            if issubclass(base, enum.Enum):
                members = [member.value for member in base]
                if all(isinstance(v, str) for v in members):
                    return {"S": _Branch(annotation, _same)}
                if all(isinstance(v, int) and not isinstance(v, bool) for v in members):
                    return {"N": _Branch(annotation, _same)}
                return None
            if issubclass(base, _S_TYPES):
                return {"S": _Branch(annotation, _same)}
            if issubclass(base, _N_TYPES):
                return {"N": _Branch(annotation, _same)}
            if issubclass(base, (bytes, bytearray)):
                to_value = _same if base is bytes else (lambda a: f"bytearray({a})")
                return {"B": _Branch(_rewrap(bytes, metadata), to_value)}
        if _is_struct(base):
            wire, convert = self.struct(base)
            return {"M": _Branch(wire, lambda a: f"{convert}({a})")}
        if origin in (list, tuple) or base in (list, tuple):
            return self._sequence(base, metadata, depth)
        if origin in (set, frozenset) or base in (set, frozenset):
            return self._set(base, metadata, depth)
        if origin is dict or base is dict:
            return self._map(base, metadata, depth)
        return None

    def _union(self, annotation: Any, base: Any, depth: int) -> dict[str, _Branch] | None:
        members = [m for m in typing.get_args(base) if m is not type(None)]
        optional = len(members) != len(typing.get_args(base))
        structs = [m for m in members if _is_struct(_strip_annotated(m)[0])]
        merged: dict[str, _Branch] = {}
        if structs and len(structs) == len(members) and len(structs) > 1:
            tagged = self.tagged_union(structs)
            if tagged is None:
                return None
            merged["M"] = tagged
        else:
            for member in members:
                branches = self.branches(member, depth)
                if branches is None or merged.keys() & branches.keys():
                    return None  # two members under one type key: only msgspec.convert can tell
                merged.update(branches)
        if optional:
            merged["NULL"] = _Branch(bool, lambda _: "None")
        return merged

    def _sequence(
        self, base: Any, metadata: tuple[Any, ...], depth: int
    ) -> dict[str, _Branch] | None:
        args = typing.get_args(base)
        if typing.get_origin(base) is tuple or base is tuple:
            if len(args) != 2 or args[1] is not Ellipsis:
                return None
            element, make = args[0], "tuple"
        else:
            element, make = (args[0] if args else Any), "list"
        branches = self.branches(element, depth + 1)
        element_wire = self.wire_value_type(branches)
        var = f"x{depth}"
        element_expr = self.value_expr(branches, element, var)

        def expr(a: str) -> str:
            items = f"[{element_expr} for {var} in {a}]"
            return items if make == "list" else f"tuple({items})"

        return {"L": _Branch(_rewrap(list[element_wire], metadata), expr)}  # type: ignore[valid-type]

    def _set(self, base: Any, metadata: tuple[Any, ...], depth: int) -> dict[str, _Branch] | None:
        args = typing.get_args(base)
        element_type = args[0] if args else Any
        element = _strip_annotated(element_type)[0]
        if not isinstance(element, type):
            return None
        key = (
            "SS"
            if issubclass(element, str)
            else "BS"
            if issubclass(element, bytes)
            else "NS"
            if issubclass(element, _N_TYPES) and not issubclass(element, bool)
            else None
        )
        if key is None:
            return None
        # The set's own type (with its constraints) decodes the JSON array of strings.
        branches = {key: _Branch(_rewrap(base, metadata), _same)}
        # msgspec.to_builtins turns sets into lists, so a set may also have been stored as L
        # (an empty one can only be: DynamoDB has no empty sets).
        listed = self._sequence(list[element_type], (), depth)  # type: ignore[valid-type]
        if listed is not None:
            make = "frozenset" if (typing.get_origin(base) or base) is frozenset else "set"
            as_list = listed["L"]
            branches["L"] = _Branch(as_list.inner, lambda a: f"{make}({as_list.expr(a)})")
        return branches

    def _map(self, base: Any, metadata: tuple[Any, ...], depth: int) -> dict[str, _Branch] | None:
        args = typing.get_args(base)
        key_type, value_type = args if args else (str, Any)
        if _strip_annotated(key_type)[0] is not str:
            return None
        branches = self.branches(value_type, depth + 1)
        value_wire = self.wire_value_type(branches)
        key_var, var = f"k{depth}", f"x{depth}"
        value_expr = self.value_expr(branches, value_type, var)

        def expr(a: str) -> str:
            return f"{{{key_var}: {value_expr} for {key_var}, {var} in {a}.items()}}"

        return {"M": _Branch(_rewrap(dict[key_type, value_wire], metadata), expr)}  # type: ignore[valid-type]

    # ------------------------------------------------------------------ structs

    def struct(self, struct_type: Any, *, top_level: bool = False) -> tuple[type[Struct], str]:
        """The wire Struct of a Struct type and the name of its generated converter."""
        cache_key = (struct_type, top_level)
        if cache_key in self._structs:
            return self._structs[cache_key]
        cls = typing.get_origin(struct_type) or struct_type
        config = cls.__struct_config__
        convert = self.name("convert")
        wire_fields: list[Any] = []
        rename: dict[str, str] = {}
        arguments: list[str] = []
        for info in msgspec.structs.fields(struct_type):
            branches = self.branches(info.type)
            wire_type = self.wire_value_type(branches)
            if info.encode_name != info.name:
                rename[info.name] = info.encode_name
            value = self.value_expr(branches, info.type, f"w.{info.name}")
            if info.required:
                wire_fields.append((info.name, wire_type))
                arguments.append(f"{info.name}={value}")
                continue
            wire_fields.append((info.name, wire_type | UnsetType, UNSET))
            if info.default is not msgspec.NODEFAULT:
                default = self.name("default", info.default)
                missing = default
            else:
                factory = self.name("factory", info.default_factory)
                missing = f"{factory}()"
            arguments.append(f"{info.name}=({missing} if w.{info.name} is UNSET else {value})")
        if config.tag_field is not None and config.tag_field not in {
            info.encode_name for info in msgspec.structs.fields(struct_type)
        }:
            # The tag travels inside the map (e.g. "type": {"S": "Deposited"}); accept it.
            tag_wrapper = self.wrapper({"S": _Branch(typing.Literal[config.tag], _same)})
            wire_fields.append(("_tag", tag_wrapper | UnsetType, UNSET))
            rename["_tag"] = config.tag_field
        wire = msgspec.defstruct(
            "Wire" + cls.__name__,
            wire_fields,
            rename=rename or None,
            forbid_unknown_fields=bool(config.forbid_unknown_fields) and not top_level,
            kw_only=True,
            gc=False,
        )
        cls_name = self.name("cls", cls)
        self.lines.append(f"def {convert}(w):")
        self.lines.append(f"    return {cls_name}({', '.join(arguments)})")
        self._structs[cache_key] = (wire, convert)
        return wire, convert

    def tagged_union(self, members: list[Any]) -> _Branch | None:
        """A union of tagged Structs: keep the map raw, read its tag, decode with the variant."""
        classes = [typing.get_origin(m) or m for m in (_strip_annotated(m)[0] for m in members)]
        configs = [cls.__struct_config__ for cls in classes]
        tag_fields = {config.tag_field for config in configs}
        if len(tag_fields) != 1 or None in tag_fields:
            return None
        (tag_field,) = tag_fields
        peek_type = msgspec.defstruct(
            "TagPeek",
            [("tag", self.wrapper({"S": _Branch(str, _same)}))],
            rename={"tag": tag_field},
            gc=False,
        )
        variants: dict[Any, tuple[Callable[[bytes], Any], str]] = {}
        for member, config in zip(members, configs, strict=True):
            wire, convert = self.struct(_strip_annotated(member)[0])
            variants[config.tag] = (msgspec.json.Decoder(wire, strict=False).decode, convert)
        expected = f"expected {tag_field} one of {sorted(map(str, variants))}, got "
        dispatch = self.name("union")
        peek = self.name("peek", msgspec.json.Decoder(peek_type).decode)
        table = self.name("variants", {tag: decode for tag, (decode, _) in variants.items()})
        converters = self.name("converters", {})  # filled after exec, when converters exist
        self._pending_unions.append((converters, {t: c for t, (_, c) in variants.items()}))
        # The map is decoded on its own, so its errors get the path of the map prepended.
        self.lines.extend(
            [
                f"def {dispatch}(raw, path):",
                "    try:",
                f"        tag = {peek}(raw).tag.S",
                f"        decode = {table}.get(tag)",
                "        if decode is None:",
                f"            raise _Invalid({expected!r} + repr(tag) + ' - at `$`')",
                f"        return {converters}[tag](decode(raw))",
                "    except _Invalid as error:",
                "        raise _Invalid(str(error).replace('`$', '`$.' + path, 1)) from None",
            ]
        )

        def expr(access: str) -> str:
            path = access.removeprefix("w.") if access.startswith("w.") else "..."
            return f"{dispatch}({access}, {path!r})"

        return _Branch(msgspec.Raw, expr)

    def compile(self) -> None:
        exec("\n".join(self.lines), self.namespace)  # source built above from identifiers
        for table, converters in self._pending_unions:
            self.namespace[table].update(
                {tag: self.namespace[name] for tag, name in converters.items()}
            )


def _strip_annotated(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    if typing.get_origin(annotation) is typing.Annotated:
        base, *metadata = typing.get_args(annotation)
        return base, tuple(metadata)
    return annotation, ()


def _rewrap(annotation: Any, metadata: tuple[Any, ...]) -> Any:
    if not metadata:
        return annotation
    return typing.Annotated[(annotation, *metadata)]


def _is_struct(annotation: Any) -> bool:
    cls = typing.get_origin(annotation) or annotation
    return isinstance(cls, type) and issubclass(cls, Struct)


def _locate(
    error: Exception, items: list[Any], convert: Callable[[Any], Any]
) -> msgspec.ValidationError:
    """The error of converting ``items`` with the failing item's index in its path."""
    for index, item in enumerate(items):
        try:
            convert(item)
        except (msgspec.ValidationError, ValueError, TypeError) as failure:
            message = str(failure)
            if "`$" in message:
                return msgspec.ValidationError(message.replace("`$", f"`$.Items[{index}]", 1))
            return msgspec.ValidationError(f"{message} - at `$.Items[{index}]`")
    return msgspec.ValidationError(str(error))


def _convert_generic(annotation: Any, attribute_value: dict[str, Any]) -> Any:
    return msgspec.convert(deserialize(attribute_value), annotation, strict=False)


class ItemCodec[T]:
    """Decoders of DynamoDB responses into items of type ``T`` (a msgspec Struct type)."""

    def __init__(self, item_type: type[T]) -> None:
        if not _is_struct(item_type):
            raise TypeError(f"ItemCodec needs a msgspec Struct type, not {item_type!r}")
        self.item_type = item_type
        builder = _Builder()
        wire, convert_name = builder.struct(item_type, top_level=True)
        builder.compile()
        convert: Callable[[Any], T] = builder.namespace[convert_name]
        self._convert = convert
        self.wire_type = wire

        page_type = msgspec.defstruct(
            "WireQueryPage",
            [
                ("Items", list[wire], []),  # type: ignore[valid-type]
                ("Count", int, 0),
                ("ScannedCount", int, 0),
                ("LastEvaluatedKey", dict[str, dict[str, Any]] | None, None),
            ],
            gc=False,
        )
        item_response = msgspec.defstruct("WireGetItem", [("Item", wire | None, None)], gc=False)
        # strict=False lets msgspec read numbers from DynamoDB's N strings ("42" -> 42).
        self._decode_page: Callable[[bytes], Any] = msgspec.json.Decoder(
            page_type, strict=False
        ).decode
        self._decode_item_response: Callable[[bytes], Any] = msgspec.json.Decoder(
            item_response, strict=False
        ).decode
        self._decode_item: Callable[[bytes], Any] = msgspec.json.Decoder(wire, strict=False).decode

    def decode_page(self, raw: bytes) -> Page[T]:
        """A Query/Scan response body as a ``Page`` of ``T``."""
        page = self._decode_page(raw)
        convert = self._convert
        try:
            items = [convert(item) for item in page.Items]
        except (msgspec.ValidationError, ValueError, TypeError) as error:
            raise _locate(error, page.Items, convert) from None
        return Page(
            items=items,
            last_evaluated_key=page.LastEvaluatedKey,
            count=page.Count,
            scanned_count=page.ScannedCount,
        )

    def decode_item_response(self, raw: bytes) -> T | None:
        """A GetItem response body: the item, or None when there is none."""
        item = self._decode_item_response(raw).Item
        return None if item is None else self._convert(item)

    def decode_item(self, raw: bytes) -> T:
        """One item's attribute map as JSON bytes."""
        return self._convert(self._decode_item(raw))

    def to_attribute_values(self, value: T) -> dict[str, dict[str, Any]]:
        """The attribute map to write for ``value``, in the form the decoders read back.

        Datetimes, UUIDs and enums become their text or number, Decimals and bytes
        stay as they are (N and B), sets and tuples become lists (L).
        """
        return serialize_item(msgspec.to_builtins(value, builtin_types=(bytes, bytearray, Decimal)))

    def from_attribute_values(self, item: Mapping[str, Any]) -> T:
        """An item already parsed into attribute values (e.g. a Streams record's NewImage)."""
        return self.decode_item(msgspec.json.encode(item))


@functools.cache
def page_decoder(item_type: Any) -> ItemCodec[Any]:
    """The cached ``ItemCodec`` of ``item_type``: build cost is paid once per type."""
    return ItemCodec(item_type)


def decode_page[T](raw: bytes, item_type: type[T]) -> Page[T]:
    """Decode a Query/Scan response body into a ``Page`` of ``item_type``."""
    codec: ItemCodec[T] = page_decoder(item_type)  # type: ignore[arg-type]
    return codec.decode_page(raw)
