"""JSON values as the local ASL engine passes them between states.

States exchange JSON texts, so every value that crosses a state or task
boundary is copied through an encode/decode round trip: a handler that mutates
its input cannot change the execution's data, and a handler result that is not
JSON is reported as Lambda reports it instead of leaking Python objects.
"""

from __future__ import annotations

import math

import msgspec

type Json = bool | int | float | str | list[Json] | dict[str, Json] | None

# Step Functions' payload quota: 256 KiB for an execution input, a state's
# input after Parameters, a task result and a state output.
MAX_PAYLOAD_BYTES = 262_144

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


class NotJson(Exception):
    """A Python value has no JSON representation."""


def encode(value: Json) -> bytes:
    """Compact JSON text of ``value`` (the form Step Functions measures and prints)."""
    return _encoder.encode(value)


def to_json(value: object) -> Json:
    """A fresh JSON copy of a handler's return value, with the Python Lambda runtime's rules.

    That runtime serialises with the standard ``json`` module, so dicts with
    string keys, lists, tuples, strings, numbers, booleans and None pass; sets,
    bytes, datetimes, dataclasses and non-finite floats do not (raise NotJson).
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotJson(f"Out of range float values are not JSON compliant: {value!r}")
        return float(value)
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        copied: dict[str, Json] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotJson(f"keys must be str, not {type(key).__name__}")
            copied[key] = to_json(item)
        return copied
    raise NotJson(f"Object of type {type(value).__name__} is not JSON serializable")


def decode(text: bytes | str) -> Json:
    """Parse a JSON text; raises msgspec.DecodeError when it is not one."""
    result: Json = _decoder.decode(text)
    return result


def clone(value: Json) -> Json:
    """Deep copy of a JSON value."""
    return decode(encode(value))


def is_number(value: Json) -> bool:
    """JSON number test: Python's bool is an int, but JSON's true is not a number."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def type_name(value: Json) -> str:
    """The JSON type of a value, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
