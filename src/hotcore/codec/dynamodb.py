"""The DynamoDB attribute-value codec: Python values to ``{"S": ...}``-style dicts and back.

``serialize`` / ``deserialize`` convert one value, ``serialize_item`` /
``deserialize_item`` a whole item (a mapping of attribute names to values).

The mapping, chosen so that nothing is lost on the way through DynamoDB:

=========================  ==========  ============================================
Python                     DynamoDB    back to Python
=========================  ==========  ============================================
``None``                   NULL        ``None``
``bool``                   BOOL        ``bool``
``int``, ``Decimal``       N           ``int`` when integral, ``Decimal`` otherwise
``float`` (see below)      N           ``int`` when integral, ``Decimal`` otherwise
``str``                    S           ``str``
``bytes``, ``bytearray``   B           ``bytes``
``set`` of str             SS          ``set[str]``
``set`` of int / Decimal   NS          ``set[int | Decimal]``
``set`` of bytes           BS          ``set[bytes]``
``list``, ``tuple``        L           ``list``
mapping with str keys      M           ``dict``
=========================  ==========  ============================================

Numbers never come back as ``float``. A ``float`` is accepted only when it is
finite and its exact binary value fits DynamoDB's number (38 significant digits),
so ``0.5`` is stored as ``0.5`` while ``0.1`` (really 0.1000000000000000055...) is
refused: pass ``Decimal("0.1")``. Empty sets are refused (DynamoDB rejects them).
Errors are ``TypeError`` (a type DynamoDB has no representation for, or a
malformed attribute value) or ``ValueError`` (a supported type whose value DynamoDB
cannot hold: NaN, 39 digits, an empty set) and name the value's type and its path
in the item, e.g. ``... at $.data.lines[2]``.

The output agrees with boto3's ``TypeSerializer`` on every value both accept (boto3
is the oracle of the property tests, never imported here). Binary values come out of
``serialize`` as ``bytes``; ``deserialize`` takes them as ``bytes`` or as the base64
text found in DynamoDB JSON and Streams records.

This module is written for mypyc: plain typed functions, no dynamic dispatch.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Set
from decimal import (
    Clamped,
    Context,
    Decimal,
    DecimalException,
    Inexact,
    Overflow,
    Rounded,
    Underflow,
)
from typing import Any

__all__ = [
    "deserialize",
    "deserialize_item",
    "serialize",
    "serialize_item",
]

#: DynamoDB's number: 38 significant digits, magnitude 1E-130 to 9.99...E+125.
#: Every inexact or out-of-range conversion traps, so nothing is silently rounded.
_NUMBER_CONTEXT = Context(
    prec=38,
    Emin=-128,
    Emax=126,
    traps=[Clamped, Overflow, Inexact, Rounded, Underflow],
)
#: ints strictly inside this bound have at most 38 digits: the fast path skips Decimal.
_INT_FAST_BOUND = 10**38

AttributeValue = dict[str, object]


class _Failure(Exception):
    """Raised deep in the recursion; each container on the way up adds its path segment.

    Building the path only when something fails keeps the success path free of string
    concatenation.
    """

    def __init__(self, is_type_error: bool, message: str, value_type: str) -> None:
        super().__init__(message)
        self.is_type_error = is_type_error
        self.message = message
        self.value_type = value_type
        self.segments: list[str] = []


def _key_segment(key: str) -> str:
    if key.isidentifier():
        return "." + key
    return "[" + repr(key) + "]"


def _raise_public(failure: _Failure, root: str) -> None:
    path = root + "".join(reversed(failure.segments))
    if failure.is_type_error:
        raise TypeError(f"{failure.message} at {path}") from None
    raise ValueError(f"{failure.message} at {path}") from None


def _type_name(value: object) -> str:
    return type(value).__qualname__


# --------------------------------------------------------------------------- serialize


def _number_text(value: object) -> str:
    """The N text of an int, Decimal or float, or a _Failure if DynamoDB cannot hold it."""
    if isinstance(value, int):
        if -_INT_FAST_BOUND < value < _INT_FAST_BOUND:
            return str(value)
        return _decimal_text(Decimal(value), value)
    if isinstance(value, Decimal):
        return _decimal_text(value, value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _Failure(False, f"float {value!r} is not a number DynamoDB can store", "float")
        # Decimal(float) is the exact binary value: refusing what does not fit 38 digits
        # is what keeps "no precision loss" true for floats.
        return _decimal_text(Decimal(value), value)
    raise _Failure(
        True, f"unsupported type {_type_name(value)!r} in a number set", _type_name(value)
    )


def _decimal_text(number: Decimal, original: object) -> str:
    if not number.is_finite():
        raise _Failure(
            False,
            f"{_type_name(original)} {number!s} is not a number DynamoDB can store",
            _type_name(original),
        )
    try:
        return str(_NUMBER_CONTEXT.create_decimal(number))
    except DecimalException:
        hint = " (pass a Decimal such as Decimal('0.1') for decimal fractions)"
        raise _Failure(
            False,
            f"{_type_name(original)} {original!r} does not fit a DynamoDB number without loss "
            "(38 significant digits, magnitude 1E-130 to 9.99E+125)"
            + (hint if isinstance(original, float) else ""),
            _type_name(original),
        ) from None


def _serialize_set(value: Set[object]) -> AttributeValue:
    if len(value) == 0:
        raise _Failure(False, "empty sets cannot be stored in DynamoDB", _type_name(value))
    first = next(iter(value))
    if isinstance(first, str):
        strings: list[str] = []
        for element in value:
            if not isinstance(element, str):
                raise _mixed_set(value, element)
            strings.append(element)
        return {"SS": strings}
    if isinstance(first, (bytes, bytearray)):
        blobs: list[bytes] = []
        for element in value:
            if not isinstance(element, (bytes, bytearray)):
                raise _mixed_set(value, element)
            blobs.append(bytes(element))
        return {"BS": blobs}
    if isinstance(first, (int, Decimal, float)) and not isinstance(first, bool):
        numbers: list[str] = []
        for element in value:
            if isinstance(element, bool) or not isinstance(element, (int, Decimal, float)):
                raise _mixed_set(value, element)
            numbers.append(_number_text(element))
        return {"NS": numbers}
    raise _Failure(
        True,
        f"unsupported set element type {_type_name(first)!r} "
        "(sets hold only str, numbers or bytes)",
        _type_name(first),
    )


def _mixed_set(value: Set[object], element: object) -> _Failure:
    return _Failure(
        True,
        f"a set mixes element types ({_type_name(element)!r} among others); "
        "sets hold only str, only numbers or only bytes",
        _type_name(value),
    )


def _serialize(value: object) -> AttributeValue:
    # Exact type checks first: they are the common case and the cheapest test.
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is int:
        return {"N": _number_text(value)}
    if kind is bool:
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, dict):
        return {"M": _serialize_map(value)}
    if isinstance(value, (list, tuple)):
        return {"L": _serialize_list(value)}
    if isinstance(value, bool):
        return {"BOOL": bool(value)}
    if isinstance(value, str):
        return {"S": str(value)}
    # Subclasses such as IntEnum land here after the exact checks.
    if isinstance(value, (int, Decimal, float)):
        return {"N": _number_text(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"B": bytes(value)}
    # The abstract checks last: they are the slowest.
    if isinstance(value, Mapping):
        return {"M": _serialize_map(value)}
    if isinstance(value, Set):
        return _serialize_set(value)
    raise _Failure(
        True, f"unsupported type {_type_name(value)!r} for a DynamoDB value", _type_name(value)
    )


def _serialize_list(value: list[object] | tuple[object, ...]) -> list[AttributeValue]:
    out: list[AttributeValue] = []
    for index, element in enumerate(value):
        try:
            out.append(_serialize(element))
        except _Failure as failure:
            failure.segments.append(f"[{index}]")
            raise
    return out


def _serialize_map(value: Mapping[Any, object]) -> dict[str, AttributeValue]:
    out: dict[str, AttributeValue] = {}
    for key, element in value.items():
        if not isinstance(key, str):
            raise _Failure(
                True,
                f"map key {key!r} of type {_type_name(key)!r} is not a str",
                _type_name(key),
            )
        try:
            out[key] = _serialize(element)
        except _Failure as failure:
            failure.segments.append(_key_segment(key))
            raise
    return out


def serialize(value: object) -> AttributeValue:
    """The DynamoDB attribute value of ``value``, e.g. ``{"N": "42"}``.

    Raises ``TypeError`` for an unsupported type and ``ValueError`` for a value
    DynamoDB cannot hold; both name the path (``$`` is ``value`` itself).
    """
    try:
        return _serialize(value)
    except _Failure as failure:
        _raise_public(failure, "$")
        raise  # unreachable: _raise_public always raises


def serialize_item(item: Mapping[str, object]) -> dict[str, AttributeValue]:
    """The attribute map of a whole item; paths in errors start at ``$.<attribute>``."""
    if not isinstance(item, Mapping):
        raise TypeError(f"an item must be a mapping, not {_type_name(item)!r} at $")
    try:
        return _serialize_map(item)
    except _Failure as failure:
        _raise_public(failure, "$")
        raise


# ------------------------------------------------------------------------- deserialize


def _parse_number(text: object) -> int | Decimal:
    if not isinstance(text, str):
        raise _Failure(
            True, f"an N value must be a string, not {_type_name(text)!r}", _type_name(text)
        )
    # Fast path: plain integers, the overwhelmingly common case (versions, amounts).
    digits = text[1:] if text.startswith("-") else text
    if 0 < len(digits) <= 38 and digits.isdigit() and digits.isascii():
        return int(text)
    try:
        number = _NUMBER_CONTEXT.create_decimal(text)
    except DecimalException:
        raise _Failure(False, f"{text!r} is not a valid DynamoDB number", "str") from None
    if not number.is_finite():
        raise _Failure(False, f"{text!r} is not a valid DynamoDB number", "str")
    if number == number.to_integral_value():
        return int(number)
    return number


def _parse_binary(data: object) -> bytes:
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, str):
        try:
            return base64.b64decode(data, validate=True)
        except binascii.Error:
            raise _Failure(False, "a B value is not valid base64", "str") from None
    raise _Failure(
        True,
        f"a B value must be bytes or base64 text, not {_type_name(data)!r}",
        _type_name(data),
    )


def _elements(data: object, tag: str) -> list[object]:
    if not isinstance(data, list):
        raise _Failure(
            True, f"an {tag} value must be a list, not {_type_name(data)!r}", _type_name(data)
        )
    return data


def _deserialize(av: object) -> object:
    if type(av) is not dict or len(av) != 1:
        if not isinstance(av, dict):
            raise _Failure(
                True,
                f"an attribute value must be a dict, not {_type_name(av)!r}",
                _type_name(av),
            )
        raise _Failure(
            False,
            f"an attribute value must have exactly one type key, got {sorted(av)!r}",
            "dict",
        )
    for tag, data in av.items():
        if tag == "S":
            if not isinstance(data, str):
                raise _Failure(
                    True, f"an S value must be a str, not {_type_name(data)!r}", _type_name(data)
                )
            return data
        if tag == "N":
            return _parse_number(data)
        if tag == "M":
            if not isinstance(data, dict):
                raise _Failure(
                    True, f"an M value must be a dict, not {_type_name(data)!r}", _type_name(data)
                )
            return _deserialize_map(data)
        if tag == "L":
            return _deserialize_list(_elements(data, "L"))
        if tag == "BOOL":
            if not isinstance(data, bool):
                raise _Failure(
                    True,
                    f"a BOOL value must be a bool, not {_type_name(data)!r}",
                    _type_name(data),
                )
            return data
        if tag == "NULL":
            return None
        if tag == "B":
            return _parse_binary(data)
        if tag == "SS":
            strings: set[str] = set()
            for element in _elements(data, "SS"):
                if not isinstance(element, str):
                    raise _Failure(True, "an SS element must be a str", _type_name(element))
                strings.add(element)
            return strings
        if tag == "NS":
            return {_parse_number(element) for element in _elements(data, "NS")}
        if tag == "BS":
            return {_parse_binary(element) for element in _elements(data, "BS")}
        raise _Failure(True, f"unknown attribute value type {tag!r}", "dict")
    raise AssertionError("unreachable: a one-key dict was iterated")


def _deserialize_list(data: list[object]) -> list[object]:
    out: list[object] = []
    for index, element in enumerate(data):
        try:
            out.append(_deserialize(element))
        except _Failure as failure:
            failure.segments.append(f"[{index}]")
            raise
    return out


def _deserialize_map(data: dict[object, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, element in data.items():
        if not isinstance(key, str):
            raise _Failure(True, f"map key {key!r} is not a str", _type_name(key))
        try:
            out[key] = _deserialize(element)
        except _Failure as failure:
            failure.segments.append(_key_segment(key))
            raise
    return out


def deserialize(av: Mapping[str, object]) -> object:
    """The Python value of one attribute value, e.g. ``{"N": "42"}`` -> ``42``."""
    try:
        return _deserialize(av if type(av) is dict else dict(av))
    except _Failure as failure:
        _raise_public(failure, "$")
        raise


def deserialize_item(item: Mapping[str, object]) -> dict[str, object]:
    """The Python dict of a whole item (an attribute map such as a Query's ``Items[i]``)."""
    if not isinstance(item, Mapping):
        raise TypeError(f"an item must be a mapping, not {_type_name(item)!r} at $")
    try:
        return _deserialize_map(item if type(item) is dict else dict(item))  # type: ignore[arg-type]
    except _Failure as failure:
        _raise_public(failure, "$")
        raise
