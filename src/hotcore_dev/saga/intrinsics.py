"""Intrinsic functions (``States.Format(...)`` and friends) in ``.$`` fields.

An intrinsic is parsed once at load time into a small expression tree; syntax
errors, unknown or unsupported functions, wrong argument counts and literal
arguments of the wrong type are load errors. Evaluation errors that depend on
data raise StatesError: ``States.Runtime`` when a path argument selects nothing
(as for every other path), ``States.IntrinsicFailure`` when a value has the wrong
type or range.

Supported: States.Format, States.StringToJson, States.JsonToString,
States.Array, States.ArrayGetItem, States.ArrayLength, States.ArrayContains,
States.MathAdd, States.UUID, States.Base64Encode, States.Base64Decode,
States.Hash. The other Step Functions intrinsics are UnsupportedConstruct.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import msgspec

from hotcore_dev.saga.errors import InvalidDefinition, StatesError, UnsupportedConstruct
from hotcore_dev.saga.jsonpath import PathNotFound, ReferencePath, parse_path
from hotcore_dev.saga.values import Json, decode, encode, is_number, type_name

# Step Functions allows intrinsics nested up to 10 deep within one field.
MAX_NESTING = 10
# Base64 and Hash inputs are limited to 10,000 characters by Step Functions.
MAX_STRING_INPUT = 10_000
_INT32 = (-(2**31), 2**31 - 1)

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"States\.[A-Za-z0-9]+")
_HASHES = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}

_UNSUPPORTED = frozenset(
    {
        "States.ArrayPartition",
        "States.ArrayRange",
        "States.ArrayUnique",
        "States.JsonMerge",
        "States.MathRandom",
        "States.StringSplit",
    }
)


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal argument: number, null, true/false, or a quoted string."""

    value: Json
    # For a quoted string: the text split at its unescaped ``{}`` placeholders.
    template: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class PathArg:
    """A path argument, resolved against the state data or the context object."""

    path: ReferencePath


@dataclass(frozen=True, slots=True)
class Call:
    """An intrinsic function call."""

    name: str
    args: tuple[Literal | PathArg | Call, ...]
    text: str


type Node = Literal | PathArg | Call


class _Parser:
    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where
        self.i = 0

    def fail(self, message: str) -> InvalidDefinition:
        return InvalidDefinition(f"intrinsic {self.text!r}: {message}", self.where)

    def skip_space(self) -> None:
        while self.i < len(self.text) and self.text[self.i].isspace():
            self.i += 1

    def call(self, depth: int) -> Call:
        if depth > MAX_NESTING:
            raise self.fail(f"intrinsics nest deeper than {MAX_NESTING} levels")
        start = self.i
        match = _NAME.match(self.text, self.i)
        if match is None:
            raise self.fail(f"expected a States.* function name at position {self.i}")
        name = match.group()
        self.i = match.end()
        if self.i >= len(self.text) or self.text[self.i] != "(":
            raise self.fail(f"expected '(' after {name}")
        self.i += 1
        args: list[Node] = []
        self.skip_space()
        if self.i < len(self.text) and self.text[self.i] == ")":
            self.i += 1
        else:
            while True:
                self.skip_space()
                args.append(self.argument(depth))
                self.skip_space()
                if self.i >= len(self.text):
                    raise self.fail(f"missing ')' to close {name}(")
                if self.text[self.i] == ",":
                    self.i += 1
                    continue
                if self.text[self.i] == ")":
                    self.i += 1
                    break
                raise self.fail(f"expected ',' or ')' at position {self.i}")
        call = Call(name=name, args=tuple(args), text=self.text[start : self.i])
        _check_call(call, self.where)
        return call

    def argument(self, depth: int) -> Node:
        text = self.text
        if self.i >= len(text):
            raise self.fail("missing argument")
        char = text[self.i]
        if char == "'":
            return self.string()
        if char == "$":
            return self.path()
        if text.startswith("States.", self.i):
            return self.call(depth + 1)
        for word, value in (("null", None), ("true", True), ("false", False)):
            if text.startswith(word, self.i):
                self.i += len(word)
                return Literal(value)
        match = _NUMBER.match(text, self.i)
        if match is not None:
            self.i = match.end()
            number = match.group()
            return Literal(float(number) if any(c in number for c in ".eE") else int(number))
        raise self.fail(f"unexpected {char!r} at position {self.i}")

    def string(self) -> Literal:
        text = self.text
        self.i += 1
        parts: list[str] = []
        current: list[str] = []
        while True:
            if self.i >= len(text):
                raise self.fail("unterminated string literal")
            char = text[self.i]
            if char == "'":
                self.i += 1
                break
            if char == "\\":
                nxt = text[self.i + 1] if self.i + 1 < len(text) else ""
                if nxt not in ("'", "{", "}", "\\"):
                    raise self.fail(
                        "a backslash must escape one of ' { } \\ "
                        f"(found {'\\' + nxt!r} at position {self.i})"
                    )
                current.append(nxt)
                self.i += 2
                continue
            if char == "{":
                if text.startswith("{}", self.i):
                    parts.append("".join(current))
                    current = []
                    self.i += 2
                    continue
                raise self.fail("'{' must be escaped as \\{ unless it starts a {} placeholder")
            if char == "}":
                raise self.fail("'}' must be escaped as \\} outside a {} placeholder")
            current.append(char)
            self.i += 1
        parts.append("".join(current))
        return Literal("{}".join(parts), template=tuple(parts))

    def path(self) -> PathArg:
        text = self.text
        start = self.i
        quote = ""
        while self.i < len(text):
            char = text[self.i]
            if quote:
                if char == "\\":
                    self.i += 1
                elif char == quote:
                    quote = ""
            elif char in "'\"":
                quote = char
            elif char == "\\":
                self.i += 1
            elif char in ",)" or char.isspace():
                break
            self.i += 1
        return PathArg(parse_path(text[start : self.i], self.where))


def is_intrinsic(text: str) -> bool:
    """True when a ``.$`` value is an intrinsic call rather than a path."""
    return text.startswith("States.")


def parse_intrinsic(text: str, where: str) -> Call:
    """Parse the whole value of a ``.$`` field as one intrinsic call."""
    parser = _Parser(text, where)
    call = parser.call(1)
    parser.skip_space()
    if parser.i != len(text):
        raise parser.fail(f"unexpected text after the call at position {parser.i}")
    return call


_ARITY: dict[str, tuple[int, int | None]] = {
    "States.Format": (1, None),
    "States.StringToJson": (1, 1),
    "States.JsonToString": (1, 1),
    "States.Array": (0, None),
    "States.ArrayGetItem": (2, 2),
    "States.ArrayLength": (1, 1),
    "States.ArrayContains": (2, 2),
    "States.MathAdd": (2, 2),
    "States.UUID": (0, 0),
    "States.Base64Encode": (1, 1),
    "States.Base64Decode": (1, 1),
    "States.Hash": (2, 2),
}


def _check_call(call: Call, where: str) -> None:
    """Load-time checks: known function, argument count, literal argument types."""
    if call.name in _UNSUPPORTED:
        raise UnsupportedConstruct(f"intrinsic {call.name} is not supported locally", where)
    if call.name not in _ARITY:
        raise InvalidDefinition(f"unknown intrinsic function {call.name}", where)
    low, high = _ARITY[call.name]
    count = len(call.args)
    if count < low or (high is not None and count > high):
        expected = f"{low}" if low == high else f"{low}..{high if high is not None else 'n'}"
        raise InvalidDefinition(
            f"{call.name} takes {expected} argument(s), got {count} in {call.text!r}", where
        )
    first = call.args[0] if call.args else None
    if call.name == "States.Format" and isinstance(first, Literal):
        if first.template is None:
            raise InvalidDefinition(f"{call.text!r}: the template must be a string", where)
        if len(first.template) - 1 != count - 1:
            raise InvalidDefinition(
                f"{call.text!r}: the template has {len(first.template) - 1} {{}} placeholder(s) "
                f"but {count - 1} value(s) follow",
                where,
            )
    if call.name == "States.JsonToString" and not isinstance(first, PathArg):
        raise InvalidDefinition(f"{call.text!r}: the argument must be a path", where)
    if call.name == "States.Hash":
        algorithm = call.args[1]
        if isinstance(algorithm, Literal) and algorithm.value not in _HASHES:
            raise InvalidDefinition(
                f"{call.text!r}: algorithm must be one of {', '.join(_HASHES)}", where
            )


class Evaluator:
    """Evaluates parsed intrinsics; ``new_uuid`` makes States.UUID injectable in tests."""

    def __init__(self, new_uuid: Callable[[], str]) -> None:
        self.new_uuid = new_uuid

    def evaluate(self, node: Node, data: Json, context: Json, field: str) -> Json:
        """Value of ``node``; ``field`` names the ``.$`` field for error causes."""
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, PathArg):
            try:
                return node.path.get(context if node.path.context else data)
            except PathNotFound:
                raise StatesError(
                    "States.Runtime",
                    f"The JsonPath argument {node.path.text!r} for the field {field!r} "
                    "could not be found in the input",
                ) from None
        args = [self.evaluate(arg, data, context, field) for arg in node.args]
        try:
            return self._apply(node, args)
        except _Bad as exc:
            raise StatesError(
                "States.IntrinsicFailure",
                f"Invalid arguments in {node.name} for the field {field!r}: {exc}",
            ) from None

    def _apply(self, call: Call, args: Sequence[Json]) -> Json:
        name = call.name
        if name == "States.Format":
            return _format(call, args)
        if name == "States.StringToJson":
            text = _string(args[0], "the argument")
            try:
                return decode(text)
            except msgspec.DecodeError as exc:
                raise _Bad(f"not a JSON text: {exc}") from None
        if name == "States.JsonToString":
            return encode(args[0]).decode()
        if name == "States.Array":
            return list(args)
        if name == "States.ArrayGetItem":
            array = _array(args[0])
            index = _integer(args[1], "the index")
            if not 0 <= index < len(array):
                raise _Bad(f"index {index} is out of bounds for an array of {len(array)}")
            return array[index]
        if name == "States.ArrayLength":
            return len(_array(args[0]))
        if name == "States.ArrayContains":
            return any(json_equal(item, args[1]) for item in _array(args[0]))
        if name == "States.MathAdd":
            return _int32(args[0]) + _int32(args[1])
        if name == "States.UUID":
            return self.new_uuid()
        if name == "States.Base64Encode":
            text = _limited_string(args[0])
            return base64.b64encode(text.encode()).decode("ascii")
        if name == "States.Base64Decode":
            text = _limited_string(args[0])
            try:
                return base64.b64decode(text, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise _Bad(f"not base64 of a UTF-8 text: {exc}") from None
        if name == "States.Hash":
            data = _limited_string(args[0])
            algorithm = args[1]
            if not isinstance(algorithm, str) or algorithm not in _HASHES:
                raise _Bad(f"algorithm must be one of {', '.join(_HASHES)}, got {algorithm!r}")
            return hashlib.new(_HASHES[algorithm], data.encode()).hexdigest()
        raise AssertionError(f"intrinsic {name} passed the load checks but has no implementation")


class _Bad(Exception):
    """An argument value is not what the intrinsic needs."""


def _format(call: Call, args: Sequence[Json]) -> str:
    first = call.args[0]
    if isinstance(first, Literal) and first.template is not None:
        parts: Sequence[str] = first.template
    else:
        parts = _string(args[0], "the template").split("{}")
    values = args[1:]
    if len(parts) - 1 != len(values):
        raise _Bad(f"the template has {len(parts) - 1} placeholder(s) but {len(values)} value(s)")
    out = [parts[0]]
    for value, part in zip(values, parts[1:], strict=True):
        if isinstance(value, dict | list):
            # Step Functions would print a Java map or list here; refuse rather
            # than guess, JsonToString is the explicit way to embed JSON.
            raise _Bad(
                f"cannot format a JSON {type_name(value)}; use States.JsonToString to embed it"
            )
        out.append(value if isinstance(value, str) else encode(value).decode())
        out.append(part)
    return "".join(out)


def _string(value: Json, what: str) -> str:
    if not isinstance(value, str):
        raise _Bad(f"{what} must be a string, got {type_name(value)}")
    return value


def _limited_string(value: Json) -> str:
    text = _string(value, "the input")
    if len(text) > MAX_STRING_INPUT:
        raise _Bad(f"the input is longer than {MAX_STRING_INPUT} characters")
    return text


def _array(value: Json) -> list[Json]:
    if not isinstance(value, list):
        raise _Bad(f"expected an array, got {type_name(value)}")
    return value


def _integer(value: Json, what: str) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not is_number(value) or not isinstance(value, int):
        raise _Bad(f"{what} must be an integer, got {value!r}")
    return value


def _int32(value: Json) -> int:
    number = _integer(value, "each value")
    if not _INT32[0] <= number <= _INT32[1]:
        raise _Bad(f"{number} is outside the 32-bit integer range")
    return number


def json_equal(left: Json, right: Json) -> bool:
    """JSON equality: true and 1 differ (Python's == says they are equal)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(
            json_equal(a, b) for a, b in zip(left, right, strict=True)
        )
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if type_name(left) != type_name(right):
        return False
    return left == right
