"""The DynamoDB attribute-value codec, with boto3's TypeSerializer/TypeDeserializer as oracle.

boto3 is a test dependency only: it tells what the right answer is, hotcore never
imports it. Where hotcore is deliberately stricter than boto3 (empty sets, bools in
sets, floats), the tests say so by name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
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

import msgspec
import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotcore.codec.dynamodb import deserialize, deserialize_item, serialize, serialize_item
from tests.support.examples import examples

ORACLE_SERIALIZER = TypeSerializer()
ORACLE_DESERIALIZER = TypeDeserializer()
# The oracle tests run thousands of cases; the laws a few hundred each.
MANY = settings(
    max_examples=examples(1500), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
SOME = settings(
    max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

_FITS = Context(
    prec=38, Emin=-128, Emax=126, traps=[Clamped, Overflow, Inexact, Rounded, Underflow]
)


def _fits_dynamodb(number: Decimal) -> bool:
    """True when DynamoDB can hold ``number`` exactly (what boto3's context checks)."""
    if not number.is_finite():
        return False
    try:
        _FITS.create_decimal(number)
    except DecimalException:
        return False
    return True


# ---------------------------------------------------------------- value strategies

ints = st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1) | st.integers(-1000, 1000)
decimals = st.decimals(allow_nan=False, allow_infinity=False).filter(_fits_dynamodb) | st.builds(
    Decimal, st.from_regex(r"-?[0-9]{1,20}\.[0-9]{1,17}", fullmatch=True)
)
numbers = ints | decimals
texts = st.text(max_size=12)
blobs = st.binary(max_size=12)
leaves = st.none() | st.booleans() | numbers | texts | blobs
# Sets boto3 and DynamoDB both accept: non-empty, one element kind, no bools.
sets = (
    st.sets(texts, min_size=1, max_size=6)
    | st.sets(numbers, min_size=1, max_size=6)
    | st.sets(blobs, min_size=1, max_size=6)
    | st.frozensets(texts, min_size=1, max_size=4)
)
values = st.recursive(
    leaves | sets,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(texts, inner, max_size=5)
    ),
    max_leaves=12,
)
items = st.dictionaries(st.text(min_size=1, max_size=12), values, max_size=4)


def _expected(value: Any) -> Any:
    """What hotcore gives back for ``value`` (boto3's output or the input): the codec's laws.

    Integral numbers are ints, other numbers Decimals, binaries bytes, tuples lists.
    """
    if isinstance(value, Binary):
        return bytes(value.value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, Decimal, float)):
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else number
    if isinstance(value, (set, frozenset)):
        return {_expected(element) for element in value}
    if isinstance(value, (list, tuple)):
        return [_expected(element) for element in value]
    if isinstance(value, Mapping):
        return {key: _expected(element) for key, element in value.items()}
    raise AssertionError(f"no expectation for {type(value)}")


def _assert_same(actual: Any, expected: Any, path: str = "$") -> None:
    """Equal values of the same types (``1 == Decimal(1) == True`` is not enough here)."""
    assert type(actual) is type(expected), f"{path}: {type(actual)} != {type(expected)}"
    if isinstance(expected, list):
        assert len(actual) == len(expected), path
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _assert_same(a, e, f"{path}[{index}]")
    elif isinstance(expected, dict):
        assert actual.keys() == expected.keys(), path
        for key in expected:
            _assert_same(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, set):
        assert actual == expected, path
        assert {type(e) for e in actual} == {type(e) for e in expected}, path
    else:
        assert actual == expected, path


# ---------------------------------------------------------------- oracle agreement


@MANY
@given(values)
def test_serialize_agrees_with_boto3(value: Any) -> None:
    assert serialize(value) == ORACLE_SERIALIZER.serialize(value)


@MANY
@given(values)
def test_deserialize_agrees_with_boto3(value: Any) -> None:
    wire = ORACLE_SERIALIZER.serialize(value)
    _assert_same(deserialize(wire), _expected(ORACLE_DESERIALIZER.deserialize(wire)))


@SOME
@given(items)
def test_items_agree_with_boto3(item: dict[str, Any]) -> None:
    oracle = {key: ORACLE_SERIALIZER.serialize(value) for key, value in item.items()}
    assert serialize_item(item) == oracle
    expected = {key: _expected(ORACLE_DESERIALIZER.deserialize(av)) for key, av in oracle.items()}
    _assert_same(deserialize_item(oracle), expected)


unsupported = st.sampled_from([object(), complex(1, 2), range(3), print, type])


@settings(max_examples=examples(300), deadline=None)
@given(st.recursive(leaves | unsupported, lambda inner: st.lists(inner, max_size=3), max_leaves=8))
def test_refuses_what_boto3_refuses(value: Any) -> None:
    try:
        oracle = ORACLE_SERIALIZER.serialize(value)
    except TypeError:
        with pytest.raises(TypeError):
            serialize(value)
    else:
        assert serialize(value) == oracle


# ---------------------------------------------------------------- round-trip laws


@SOME
@given(values)
def test_deserialize_inverts_serialize(value: Any) -> None:
    _assert_same(deserialize(serialize(value)), _expected(value))


@SOME
@given(items)
def test_round_trip_through_dynamodb_json(item: dict[str, Any]) -> None:
    """The wire carries binaries as base64 text; deserialize reads that form too."""
    wire = msgspec.json.decode(msgspec.json.encode(serialize_item(item)))
    _assert_same(deserialize_item(wire), _expected(item))


@SOME
@given(values)
def test_serialize_is_a_fixed_point_after_one_round_trip(value: Any) -> None:
    once = serialize(value)
    assert serialize(deserialize(once)) == serialize(_expected(value))


@MANY
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_float_is_stored_exactly_or_refused(number: float) -> None:
    if _fits_dynamodb(Decimal(number)):
        av = serialize(number)
        assert Decimal(av["N"]) == Decimal(number)  # type: ignore[arg-type]
        assert deserialize(av) == number
    else:
        with pytest.raises(ValueError, match=r"float .* at \$"):
            serialize(number)


def test_integral_numbers_come_back_as_int_and_fractions_as_decimal() -> None:
    assert deserialize({"N": "42"}) == 42
    assert type(deserialize({"N": "42"})) is int
    assert type(deserialize({"N": "1E+2"})) is int
    assert deserialize({"N": "1E+2"}) == 100
    assert type(deserialize({"N": "3.0"})) is int
    assert deserialize({"N": "-0.25"}) == Decimal("-0.25")
    assert type(deserialize({"N": "-0.25"})) is Decimal
    assert serialize(Decimal("1.50")) == {"N": "1.50"}


def test_floats_exactly_representable_are_accepted() -> None:
    assert serialize(0.5) == {"N": "0.5"}
    assert serialize(3.0) == {"N": "3"}
    assert serialize(1e20) == {"N": "100000000000000000000"}


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_refused(number: float) -> None:
    with pytest.raises(ValueError, match=r"float .* at \$\.amount"):
        serialize_item({"amount": number})


@pytest.mark.parametrize("number", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_non_finite_decimals_are_refused(number: Decimal) -> None:
    with pytest.raises(ValueError, match=r"Decimal .* at \$\[1\]"):
        serialize([1, number])


def test_inexact_float_is_refused_with_a_hint() -> None:
    with pytest.raises(ValueError, match=r"Decimal\('0\.1'\).* at \$\.price"):
        serialize_item({"price": 0.1})


def test_numbers_beyond_38_digits_are_refused() -> None:
    with pytest.raises(ValueError, match="38 significant digits"):
        serialize(10**38 + 1)
    with pytest.raises(ValueError, match="38 significant digits"):
        serialize(Decimal("1." + "1" * 40))


def test_empty_sets_are_refused() -> None:
    with pytest.raises(ValueError, match=r"empty sets .* at \$\.tags"):
        serialize_item({"tags": set()})


def test_sets_of_bools_and_mixed_sets_are_refused() -> None:
    # boto3 stores {True} as the number set ["1"]; hotcore refuses (it would not come back).
    with pytest.raises(TypeError, match="'bool'"):
        serialize({True})
    with pytest.raises(TypeError, match="mixes element types"):
        serialize({"a", 1})


def test_errors_name_the_type_and_the_path() -> None:
    with pytest.raises(TypeError, match=r"'complex' .* at \$\.data\.lines\[2\]\.qty"):
        serialize_item({"data": {"lines": [{}, {}, {"qty": 1j}]}})
    with pytest.raises(TypeError, match=r"map key 7 of type 'int' .* at \$\.data"):
        serialize_item({"data": {7: "x"}})
    with pytest.raises(TypeError, match=r"at \$\['odd key'\]"):
        serialize_item({"odd key": object()})


def test_malformed_attribute_values_are_refused_with_a_path() -> None:
    with pytest.raises(ValueError, match=r"exactly one type key, got .* at \$\.a"):
        deserialize_item({"a": {"S": "x", "N": "1"}})
    with pytest.raises(TypeError, match=r"unknown attribute value type 'X' at \$\.a\[0\]"):
        deserialize_item({"a": {"L": [{"X": 1}]}})
    with pytest.raises(ValueError, match=r"'12abc' is not a valid DynamoDB number at \$\.n"):
        deserialize_item({"n": {"N": "12abc"}})
    with pytest.raises(TypeError, match=r"an S value must be a str, not 'int' at \$"):
        deserialize({"S": 5})
    with pytest.raises(ValueError, match="base64"):
        deserialize({"B": "not base64!"})


def test_binary_from_dynamodb_json_is_base64_text() -> None:
    assert deserialize({"B": "AAEC"}) == b"\x00\x01\x02"
    assert deserialize({"BS": ["AA==", "AQ=="]}) == {b"\x00", b"\x01"}
    assert msgspec.json.encode(serialize(b"\x00\x01\x02")) == b'{"B":"AAEC"}'


def test_item_must_be_a_mapping() -> None:
    with pytest.raises(TypeError, match="an item must be a mapping, not 'list'"):
        serialize_item([1, 2])  # type: ignore[arg-type]
