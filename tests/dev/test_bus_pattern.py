"""The EventBridge pattern matcher, against the AWS user guide and EventBridge's rules.

The first test replays every example of the user guide's "Comparison operators
for use in event patterns" page (its summary table and each section) and of the
"Arrays" and "Matching null values and empty strings" pages, each with an event
that matches and one that does not (tests/data/eventbridge_patterns_userguide.json).
Then the finer points of the semantics, the patterns EventBridge rejects
(tests/data/eventbridge_patterns_invalid.json: what is wrong and where), and
hypothesis properties for the laws that hold between operators.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotcore_dev.bus.pattern import (
    MAX_WILDCARD_COMPLEXITY,
    CompiledPattern,
    InvalidPattern,
    compile_pattern,
    matches,
    wildcard_complexity,
)

type JSON = dict[str, Any]


DATA = Path(__file__).parents[1] / "data"


def load_cases(name: str) -> list[Any]:
    cases: list[Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return [pytest.param(case, id=case["name"]) for case in cases]


@pytest.mark.parametrize("example", load_cases("eventbridge_patterns_userguide.json"))
def test_user_guide_example(example: JSON) -> None:
    """Each example: the pattern matches its "matching" event and not its "not_matching" one."""
    compiled = compile_pattern(example["pattern"])
    assert compiled.matches(example["matching"])
    assert not compiled.matches(example["not_matching"])


EC2_EVENT: JSON = {
    "version": "0",
    "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "012345679012",
    "time": "2017-10-02T16:24:49Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
    "detail": {"c-count": 5, "d-count": 3, "x-limit": 301.8, "state": "running"},
}


# --- exact values -------------------------------------------------------------


@pytest.mark.parametrize("pattern_number", ["300", "300.0", "3e2", "3.0E+2"])
@pytest.mark.parametrize("event_number", ["300", "300.000", "30000e-2", "0.3e3"])
def test_numbers_match_by_value_whatever_their_json_spelling(
    pattern_number: str, event_number: str
) -> None:
    pattern = json.loads(f'{{"n": [{pattern_number}]}}')
    event = json.loads(f'{{"n": {event_number}}}')
    assert matches(pattern, event)
    assert matches(json.loads(f'{{"n": [{{"numeric": ["=", {pattern_number}]}}]}}'), event)


@pytest.mark.parametrize(
    ("pattern_value", "event_value"),
    [
        (300, "300"),
        ("300", 300),
        (1, True),
        (0, False),
        (True, 1),
        (True, "true"),
        ("true", True),
        (None, "null"),
        ("null", None),
        ("", None),
        (None, ""),
        (None, 0),
        ("Alice", "alice"),
    ],
)
def test_exact_values_never_cross_types_or_case(pattern_value: Any, event_value: Any) -> None:
    assert not matches({"f": [pattern_value]}, {"f": event_value})


def test_booleans_match_only_themselves() -> None:
    assert matches({"f": [True]}, {"f": True})
    assert matches({"f": [False]}, {"f": False})
    assert not matches({"f": [False]}, {"f": True})


def test_null_does_not_match_an_absent_field() -> None:
    assert not matches({"f": [None]}, {})
    assert not matches({"f": [None]}, {"g": None})


def test_strings_are_compared_without_normalisation() -> None:
    # "é" precomposed vs "e" + combining acute accent look alike but differ.
    assert not matches({"f": ["\u00e9"]}, {"f": "e\u0301"})
    assert not matches({"f": ["a"]}, {"f": " a"})


def test_fields_not_in_the_pattern_are_ignored() -> None:
    assert matches({"source": ["aws.ec2"]}, EC2_EVENT)


def test_nesting_must_follow_the_event_structure() -> None:
    assert matches({"detail": {"state": ["running"]}}, EC2_EVENT)
    assert not matches({"state": ["running"]}, EC2_EVENT)
    assert not matches({"detail": {"state": ["running"]}}, {"detail": "running"})
    assert not matches({"detail": {"state": ["running"]}}, {"state": "running"})


def test_every_field_must_match() -> None:
    pattern = {"source": ["aws.ec2"], "detail": {"state": ["stopped"]}}
    assert not matches(pattern, EC2_EVENT)


# --- arrays in events -----------------------------------------------------------


def test_event_array_matches_if_any_element_matches() -> None:
    assert matches({"tags": ["b"]}, {"tags": ["a", "b", "c"]})
    assert not matches({"tags": ["z"]}, {"tags": ["a", "b", "c"]})
    assert matches({"n": [{"numeric": [">", 10]}]}, {"n": [1, 2, 30]})


def test_nested_event_arrays_are_flattened() -> None:
    assert matches({"tags": ["c"]}, {"tags": [["a", "b"], ["c"]]})


def test_empty_event_array_has_no_value() -> None:
    assert not matches({"tags": [{"exists": True}]}, {"tags": []})
    assert matches({"tags": [{"exists": False}]}, {"tags": []})
    assert not matches({"tags": [{"anything-but": "x"}]}, {"tags": []})


def test_object_pattern_reaches_into_arrays_of_objects() -> None:
    event = {
        "employees": [
            {"firstName": "John", "lastName": "Doe"},
            {"firstName": "Anna", "lastName": "Smith"},
            {"firstName": "Peter", "lastName": "Jones"},
        ]
    }
    assert matches({"employees": {"firstName": ["Anna"]}}, event)
    assert matches({"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}, event)


def test_fields_from_different_array_elements_do_not_combine() -> None:
    event = {
        "employees": [
            [{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"}],
            [{"firstName": "Peter", "lastName": "Jones"}],
        ]
    }
    assert matches({"employees": {"firstName": ["Anna"]}}, event)
    assert not matches({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}, event)


def test_or_branches_stay_within_one_array_element() -> None:
    pattern = {"items": {"kind": ["book"], "$or": [{"price": [10]}, {"stock": [0]}]}}
    assert matches(pattern, {"items": [{"kind": "pen", "price": 10}, {"kind": "book", "stock": 0}]})
    assert not matches(pattern, {"items": [{"kind": "pen", "price": 10}, {"kind": "book"}]})


# --- exists ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "present"),
    [
        ({"f": "x"}, True),
        ({"f": ""}, True),
        ({"f": 0}, True),
        ({"f": False}, True),
        ({"f": None}, True),  # null is a value: the field exists
        ({"f": ["x"]}, True),
        ({}, False),
        ({"f": []}, False),
        ({"f": {}}, False),
        ({"f": {"g": 1}}, False),  # an object is not a leaf
        ({"f": [{"g": 1}]}, False),
        ({"g": {"f": 1}}, False),  # same name, other place
    ],
)
def test_exists_works_on_leaves_only(event: JSON, present: bool) -> None:
    assert matches({"f": [{"exists": True}]}, event) is present
    assert matches({"f": [{"exists": False}]}, event) is not present


def test_exists_false_means_nowhere_in_the_event() -> None:
    pattern = {"items": {"error": [{"exists": False}]}}
    assert matches(pattern, {"items": [{"id": 1}, {"id": 2}]})
    assert not matches(pattern, {"items": [{"id": 1}, {"id": 2, "error": "boom"}]})
    assert not matches(pattern, {"items": [[{"id": 1}], [{"error": None}]]})
    assert matches(pattern, {"items": [{"id": 1}, {"error": {"code": 5}}]})  # not a leaf


def test_exists_false_beside_values_in_an_array_of_objects() -> None:
    # "A paid order, and no refund in any order."
    pattern = {"orders": {"status": ["paid"], "refund": [{"exists": False}]}}
    assert matches(pattern, {"orders": [{"status": "paid"}, {"status": "open"}]})
    assert not matches(pattern, {"orders": [{"status": "paid"}, {"status": "open", "refund": 5}]})


def test_value_or_absent_in_an_array_of_objects() -> None:
    pattern = {"items": {"k": ["x", {"exists": False}]}}
    assert matches(pattern, {"items": [{"k": "y"}, {"k": "x"}]})
    assert matches(pattern, {"items": [{}, {}]})
    assert not matches(pattern, {"items": [{"k": "y"}, {}]})


def test_exists_false_under_a_missing_parent() -> None:
    assert matches({"detail": {"error": [{"exists": False}]}}, {"source": "x"})
    assert matches({"detail": {"error": [{"exists": False}]}}, {"detail": "a string"})
    assert not matches({"detail": {"error": [{"exists": True}]}}, {"source": "x"})


def test_exists_combines_with_values_as_or() -> None:
    pattern = {"f": ["x", {"exists": False}]}
    assert matches(pattern, {"f": "x"})
    assert matches(pattern, {})
    assert not matches(pattern, {"f": "y"})


# --- prefix, suffix, equals-ignore-case, wildcard ---------------------------------


@pytest.mark.parametrize(
    "operator",
    [
        {"prefix": "1"},
        {"suffix": "1"},
        {"equals-ignore-case": "1"},
        {"wildcard": "*"},
        {"prefix": {"equals-ignore-case": "t"}},
        {"suffix": {"equals-ignore-case": "e"}},
        {"cidr": "0.0.0.0/0"},
    ],
)
@pytest.mark.parametrize("event_value", [1, 1.0, True, None])
def test_string_operators_match_strings_only(operator: JSON, event_value: Any) -> None:
    assert not matches({"f": [operator]}, {"f": event_value})


def test_empty_prefix_and_suffix_match_any_string() -> None:
    assert matches({"f": [{"prefix": ""}]}, {"f": ""})
    assert matches({"f": [{"suffix": ""}]}, {"f": "anything"})
    assert not matches({"f": [{"prefix": ""}]}, {"f": 5})


def test_equals_ignore_case_folds_each_character() -> None:
    assert matches({"f": [{"equals-ignore-case": "Straße"}]}, {"f": "STRASSE"})
    assert matches({"f": [{"equals-ignore-case": "ÉCOLE"}]}, {"f": "école"})
    assert not matches({"f": [{"equals-ignore-case": "abc"}]}, {"f": "abcd"})
    assert not matches({"f": [{"prefix": {"equals-ignore-case": "abc"}}]}, {"f": "ab"})
    assert matches({"f": [{"suffix": {"equals-ignore-case": "a.b"}}]}, {"f": "xA.B"})
    assert not matches({"f": [{"suffix": {"equals-ignore-case": "a.b"}}]}, {"f": "xAzB"})


@pytest.mark.parametrize(
    ("wildcard", "value", "expected"),
    [
        ("*", "", True),
        ("*", "anything", True),
        ("", "", True),
        ("", "x", False),
        ("a*", "a", True),
        ("*a", "ba", True),
        ("*a*", "bab", True),
        ("a*b*c", "abc", True),
        ("a*b*c", "a-c-b", False),
        ("ab*ba", "aba", False),  # first and last parts may not overlap
        ("a*a*a", "aaa", True),
        ("a*a*a", "aa", False),
        ("x*y", "x\ny", True),
        (r"a\*b", "a*b", True),
        (r"a\*b", "axb", False),
        (r"a\\b", "a\\b", True),
        (r"\**", "*star", True),
        (r"\**", "star", False),
        ("Simple*Service", "Simple Notification Service", True),
    ],
)
def test_wildcard(wildcard: str, value: str, expected: bool) -> None:
    assert matches({"f": [{"wildcard": wildcard}]}, {"f": value}) is expected


# --- anything-but --------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "event_value"),
    [
        ("x", 5),
        ("x", None),
        ("x", True),
        (["x", "y"], 5),
        (5, "5"),
        (5, None),
        ([1, 2], "1"),
        ({"prefix": "x"}, 5),
        ({"suffix": "x"}, None),
        ({"equals-ignore-case": "true"}, True),
        ({"wildcard": "*"}, 0),
    ],
)
def test_anything_but_matches_values_of_another_type(operator: Any, event_value: Any) -> None:
    assert matches({"f": [{"anything-but": operator}]}, {"f": event_value})


@pytest.mark.parametrize(
    "operator", ["x", 5, ["x"], [5], {"prefix": "x"}, {"suffix": "x"}, {"wildcard": "*"}]
)
def test_anything_but_needs_the_field(operator: Any) -> None:
    assert not matches({"f": [{"anything-but": operator}]}, {})
    assert not matches({"f": [{"anything-but": operator}]}, {"f": {"g": "h"}})


def test_anything_but_numbers_compare_by_value() -> None:
    assert not matches({"f": [{"anything-but": [100, 200]}]}, {"f": 200.0})
    assert matches({"f": [{"anything-but": [100, 200]}]}, {"f": 200.5})


def test_anything_but_on_an_array_needs_one_other_element() -> None:
    pattern = {"state": [{"anything-but": "stopped"}]}
    assert matches(pattern, {"state": ["stopped", "running"]})
    assert not matches(pattern, {"state": ["stopped", "stopped"]})


# --- numeric ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "inside", "outside"),
    [
        ([">", 0], [0.000001, 1, 10**12], [0, -1]),
        ([">=", 0], [0, 0.0, 5], [-0.000001]),
        (["<", 10], [9.99, -(10**9)], [10, 11]),
        (["<=", 10], [10, 10.0], [10.0001]),
        (["=", 3.018e2], [301.8], [301.80001, 301]),
        ([">", 0, "<", 1], [0.5], [0, 1]),
        ([">=", 0, "<=", 1], [0, 1], [-0.1, 1.1]),
        ([">", -5e9, "<", 5e9], [0, -4.9e9], [-5e9, 5e9]),
    ],
)
def test_numeric_bounds(condition: list[Any], inside: list[float], outside: list[float]) -> None:
    compiled = compile_pattern({"n": [{"numeric": condition}]})
    for value in inside:
        assert compiled.matches({"n": value}), value
    for value in outside:
        assert not compiled.matches({"n": value}), value


@pytest.mark.parametrize("event_value", ["5", True, None, [], {}])
def test_numeric_matches_numbers_only(event_value: Any) -> None:
    assert not matches({"n": [{"numeric": [">", 0]}]}, {"n": event_value})


# --- cidr -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cidr", "address", "expected"),
    [
        ("10.0.0.0/24", "10.0.0.0", True),
        ("10.0.0.0/24", "10.0.0.255", True),
        ("10.0.0.0/24", "10.0.1.0", False),
        ("10.0.0.7/24", "10.0.0.200", True),  # host bits in the pattern are ignored
        ("10.0.0.0/8", "010.1.2.3", True),  # octets are decimal, even with leading zeros
        ("0.0.0.0/0", "255.255.255.255", True),
        ("10.0.0.0/24", "10.0.0.256", False),
        ("10.0.0.0/24", "10.0.0", False),
        ("10.0.0.0/24", "host.example.com", False),
        ("10.0.0.0/24", "::ffff:10.0.0.1", False),
        ("2001:db8::/32", "2001:DB8:0:0:0:0:0:1", True),
        ("2001:db8::/32", "2001:db9::1", False),
        ("::/0", "::1", True),
        ("::/0", "10.0.0.1", False),  # no mixing of IPv4 and IPv6
        ("0.0.0.0/0", "::1", False),
    ],
)
def test_cidr(cidr: str, address: str, expected: bool) -> None:
    assert matches({"ip": [{"cidr": cidr}]}, {"ip": address}) is expected


# --- $or ----------------------------------------------------------------------------


def test_or_inside_nested_objects_and_alongside_fields() -> None:
    pattern = {
        "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}],
        "detail": {"$or": [{"source": ["aws.cloudwatch"]}, {"detail-type": ["Alarm"]}]},
    }
    assert matches(pattern, {"namespace": "AWS/EC2", "detail": {"detail-type": "Alarm"}})
    assert not matches(pattern, {"namespace": "AWS/EC2", "detail": {"detail-type": "Other"}})
    assert not matches(pattern, {"namespace": "AWS/S3", "detail": {"source": "aws.cloudwatch"}})


def test_or_branch_with_exists_false() -> None:
    pattern = {"$or": [{"error": [{"exists": False}]}, {"retry": [True]}]}
    assert matches(pattern, {})
    assert matches(pattern, {"error": "boom", "retry": True})
    assert not matches(pattern, {"error": "boom"})


# --- invalid patterns -------------------------------------------------------------------


@pytest.mark.parametrize("case", load_cases("eventbridge_patterns_invalid.json"))
def test_invalid_pattern_is_rejected_with_what_and_where(case: JSON) -> None:
    with pytest.raises(InvalidPattern) as raised:
        compile_pattern(case["pattern"])
    assert case["error"] in str(raised.value)
    assert list(raised.value.path) == case["path"]
    with pytest.raises(InvalidPattern):
        matches(case["pattern"], {})


@pytest.mark.parametrize(
    ("pattern", "error"),
    [
        ({1: ["a"]}, "field names must be strings"),
        ({"n": [{"numeric": [">", float("inf")]}]}, "not a JSON number"),
        ({"n": [float("nan")]}, "not a JSON number"),
    ],
)
def test_python_values_that_json_cannot_hold_are_rejected(pattern: Any, error: str) -> None:
    with pytest.raises(InvalidPattern, match=error):
        compile_pattern(pattern)


def test_invalid_pattern_is_a_value_error_that_names_the_path() -> None:
    with pytest.raises(ValueError, match=r"at detail\.c-count\[1\]\.numeric"):
        compile_pattern({"detail": {"c-count": [5, {"numeric": [">"]}]}})


def test_reserved_words_are_fine_as_field_names_outside_or() -> None:
    assert matches({"prefix": ["a"], "numeric": [1]}, {"prefix": "a", "numeric": 1})


def test_or_may_not_be_used_as_a_field_name() -> None:
    # EventBridge always reads "$or" as the operator, so an event field named
    # "$or" cannot be matched with a plain array.
    with pytest.raises(InvalidPattern, match=r"\$or must be an array of objects"):
        compile_pattern({"$or": {"a": ["b"]}})


# --- the compiled form ---------------------------------------------------------------


def test_compile_once_match_many() -> None:
    pattern: JSON = {"source": ["aws.ec2"], "detail": {"state": ["running"]}}
    compiled = compile_pattern(pattern)
    assert isinstance(compiled, CompiledPattern)
    pattern["source"] = ["changed.after.compiling"]  # the compiled form does not read it again
    assert compiled.matches(EC2_EVENT)
    assert not compiled.matches({**EC2_EVENT, "detail": {"state": "stopped"}})


def test_matching_does_not_change_the_event() -> None:
    event = json.loads(json.dumps(EC2_EVENT))
    snapshot = repr(event)
    compile_pattern(
        {"detail": {"state": [{"anything-but": "x"}], "nope": [{"exists": False}]}}
    ).matches(event)
    assert repr(event) == snapshot


# --- properties ------------------------------------------------------------------------

scalars = st.one_of(
    st.text(max_size=8),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
field_values = st.one_of(scalars, st.lists(scalars, max_size=4))
events = st.dictionaries(st.sampled_from(["a", "b", "c"]), field_values, max_size=3)
pattern_values = st.one_of(
    st.text(max_size=3),
    st.integers(min_value=-5, max_value=5),
    st.booleans(),
    st.none(),
    st.builds(lambda p: {"prefix": p}, st.text(max_size=2)),
    st.builds(lambda s: {"suffix": s}, st.text(max_size=2)),
    st.builds(lambda s: {"equals-ignore-case": s}, st.text(max_size=3)),
    st.builds(lambda n: {"numeric": [">", n]}, st.integers(-5, 5)),
    st.builds(lambda n: {"anything-but": n}, st.integers(-5, 5)),
    st.builds(lambda s: {"anything-but": {"prefix": s}}, st.text(min_size=1, max_size=2)),
    st.builds(lambda b: {"exists": b}, st.booleans()),
)
patterns = st.dictionaries(
    st.sampled_from(["a", "b", "c"]), st.lists(pattern_values, min_size=1, max_size=3), min_size=1
)


@given(patterns, events)
def test_or_of_a_pattern_with_itself_is_the_pattern(pattern: JSON, event: JSON) -> None:
    assert matches({"$or": [pattern, pattern]}, event) == matches(pattern, event)


@given(patterns, patterns, events)
def test_or_matches_when_either_branch_does(first: JSON, second: JSON, event: JSON) -> None:
    either = matches(first, event) or matches(second, event)
    assert matches({"$or": [first, second]}, event) == either


@given(patterns, patterns, events)
def test_fields_at_one_level_are_anded(first: JSON, second: JSON, event: JSON) -> None:
    nested = {"x": first, "y": second}
    both = matches(first, event) and matches(second, event)
    assert matches(nested, {"x": event, "y": event}) == both


@given(st.one_of(st.text(max_size=4), st.integers(-3, 3), st.floats(-3, 3)), scalars)
def test_anything_but_negates_exact_on_present_scalars(excluded: Any, value: Any) -> None:
    exact = matches({"f": [excluded]}, {"f": value})
    assert matches({"f": [{"anything-but": [excluded]}]}, {"f": value}) is not exact


@given(st.lists(pattern_values, min_size=1, max_size=3), st.lists(scalars, min_size=1, max_size=4))
def test_an_event_array_matches_like_any_of_its_elements(
    values: list[Any], elements: list[Any]
) -> None:
    pattern = {"f": values}
    any_element = any(matches(pattern, {"f": element}) for element in elements)
    assert matches(pattern, {"f": elements}) == any_element


@given(field_values)
def test_exists_true_and_false_are_complements(value: Any) -> None:
    for event in ({"f": value}, {}):
        assert matches({"f": [{"exists": True}]}, event) != matches(
            {"f": [{"exists": False}]}, event
        )


@given(st.integers(-(2**53), 2**53))
def test_integer_and_float_of_the_same_value_are_equal(number: int) -> None:
    assert matches({"n": [number]}, {"n": float(number)})
    assert matches({"n": [float(number)]}, {"n": number})
    assert matches({"n": [{"numeric": ["=", number]}]}, {"n": float(number)})


def escape_wildcard(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", "\\*")


@given(st.text(max_size=6), st.text(max_size=10))
def test_prefix_and_suffix_are_wildcards_with_one_star(fixed: str, value: str) -> None:
    escaped = escape_wildcard(fixed)
    event = {"f": value}
    assert matches({"f": [{"prefix": fixed}]}, event) == matches(
        {"f": [{"wildcard": escaped + "*"}]}, event
    )
    assert matches({"f": [{"suffix": fixed}]}, event) == matches(
        {"f": [{"wildcard": "*" + escaped}]}, event
    )
    assert matches({"f": [fixed]}, event) == matches({"f": [{"wildcard": escaped}]}, event)


@given(
    st.lists(st.text(alphabet="ab*\\", min_size=1, max_size=3), min_size=1, max_size=4),
    st.text("ab*\\", max_size=8),
)
def test_wildcard_agrees_with_a_brute_force_reference(parts: list[str], value: str) -> None:
    # Each part is literal text (its stars and backslashes escaped); real
    # wildcards join the parts.
    wildcard = "*".join(escape_wildcard(part) for part in parts)
    assert matches({"f": [{"wildcard": wildcard}]}, {"f": value}) == reference_glob(parts, value)


def reference_glob(parts: list[str], value: str) -> bool:
    """Independent check by brute force over every split point (slow, obviously right)."""
    if len(parts) == 1:
        return value == parts[0]
    head, rest = parts[0], parts[1:]
    if not value.startswith(head):
        return False
    tail = value[len(head) :]
    return any(reference_glob(rest, tail[cut:]) for cut in range(len(tail) + 1))


@given(st.text(alphabet=st.characters(codec="ascii", categories=["L"]), max_size=8))
def test_equals_ignore_case_on_ascii_letters(text: str) -> None:
    pattern = {"f": [{"equals-ignore-case": text}]}
    assert matches(pattern, {"f": text.upper()})
    assert matches(pattern, {"f": text.lower()})
    assert matches(pattern, {"f": text.swapcase()})
    assert not matches(pattern, {"f": text + "x"})


@given(st.ip_addresses(v=4), st.integers(0, 31), st.ip_addresses(v=4))
def test_cidr_ipv4_agrees_with_ipaddress(base: Any, bits: int, address: Any) -> None:
    network = ipaddress.ip_network((base, bits), strict=False)
    assert matches({"ip": [{"cidr": f"{base}/{bits}"}]}, {"ip": str(address)}) == (
        address in network
    )
    assert matches({"ip": [{"cidr": f"{base}/{bits}"}]}, {"ip": str(base)})


@given(st.ip_addresses(v=6), st.integers(0, 127), st.ip_addresses(v=6))
def test_cidr_ipv6_agrees_with_ipaddress(base: Any, bits: int, address: Any) -> None:
    network = ipaddress.ip_network((base, bits), strict=False)
    cidr = f"{hex_groups(base)}/{bits}"
    assert matches({"ip": [{"cidr": cidr}]}, {"ip": hex_groups(address)}) == (address in network)


def hex_groups(address: ipaddress.IPv6Address) -> str:
    """Eight hex groups (Python writes IPv4-mapped ones with dots, which EventBridge refuses)."""
    packed = address.packed
    return ":".join(f"{int.from_bytes(packed[i : i + 2]):x}" for i in range(0, 16, 2))


# --- dotted field names ---------------------------------------------------------
# EventBridge flattens nested names into dotted paths before it matches (event-ruler's
# README, "Compiled rules and JSON keys with dots"): a dotted name and the nested objects
# name the same field, in the pattern and in the event alike.


@pytest.mark.parametrize(
    "pattern",
    [
        {"detail": {"state": {"status": ["running"]}}},
        {"detail": {"state.status": ["running"]}},
        {"detail.state.status": ["running"]},
    ],
)
@pytest.mark.parametrize(
    "event",
    [
        {"detail": {"state": {"status": "running"}}},
        {"detail": {"state.status": "running"}},
        {"detail.state": {"status": "running"}},
    ],
)
def test_a_dotted_name_is_the_path_of_nested_names(pattern: JSON, event: JSON) -> None:
    assert matches(pattern, event)
    stopped = json.loads(json.dumps(event).replace("running", "stopped"))
    assert not matches(pattern, stopped)


def test_dotted_names_keep_array_consistency() -> None:
    split_across_elements = {"a": [{"b": "1"}, {"c": "2"}]}
    assert not matches({"a": {"b": ["1"], "c": ["2"]}}, split_across_elements)
    assert not matches({"a.b": ["1"], "a.c": ["2"]}, split_across_elements)
    assert matches({"a.b": ["1"], "a.c": ["2"]}, {"a": [{"b": "1", "c": "2"}]})


def test_a_field_given_both_ways_in_an_event_offers_both_values() -> None:
    event = {"a": {"b": "x"}, "a.b": "y"}
    assert matches({"a": {"b": ["x"]}}, event)
    assert matches({"a.b": ["y"]}, event)
    assert not matches({"a.b": ["z"]}, event)


def test_a_pattern_may_spell_one_object_both_ways() -> None:
    pattern = {"detail": {"state": {"code": [16]}, "state.name": ["running"]}}
    assert matches(pattern, {"detail": {"state": {"code": 16, "name": "running"}}})
    assert not matches(pattern, {"detail": {"state": {"code": 16, "name": "stopped"}}})


def test_exists_false_sees_a_dotted_field() -> None:
    absent = {"detail": {"state": {"status": [{"exists": False}]}}}
    assert not matches(absent, {"detail": {"state.status": "pending"}})
    assert matches({"detail.state.status": [{"exists": False}]}, {"detail": {"state": {}}})


def test_an_invalid_dotted_field_names_its_path() -> None:
    with pytest.raises(InvalidPattern) as error:
        compile_pattern({"detail.state": {"status": "running"}})
    assert error.value.path == ("detail", "state", "status")


# --- wildcard complexity ----------------------------------------------------------
# The user guide ("Wildcard matching", "Wildcards and event pattern complexity"): a
# rule whose wildcards are too complex is refused (InvalidEventPatternException), and
# the guide shows how to simplify one. The measure is event-ruler's: the most wildcard
# prefixes one value can match at once; EventBridge publishes no limit, hotcore refuses
# a field above MAX_WILDCARD_COMPLEXITY (10).


def test_the_user_guides_complex_arn_wildcard_is_refused_its_simpler_form_accepted() -> None:
    with pytest.raises(InvalidPattern, match="too complex") as error:
        compile_pattern({"EventBusArn": [{"wildcard": "*:*:*:*:*:event-bus/*"}]})
    assert error.value.path == ("EventBusArn",)
    simpler = compile_pattern(
        {"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]}
    )
    assert simpler.matches({"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/b"})
    assert not simpler.matches({"EventBusArn": "arn:aws:events:eu-west-1:1:event-bus/b"})


def test_the_user_guides_repeated_path_costs_more_than_its_short_form() -> None:
    long, short = "/Users/*/dir/dir/dir/dir/dir/doc.txt", "/Users/*/doc.txt"
    assert wildcard_complexity(short) < wildcard_complexity(long) <= MAX_WILDCARD_COMPLEXITY
    for wildcard in (long, short):
        pattern = compile_pattern({"FileName": [{"wildcard": wildcard}]})
        assert pattern.matches({"FileName": "/Users/ann/dir/dir/dir/dir/dir/doc.txt"})


@pytest.mark.parametrize(
    ("expected", "wildcards"),
    [  # event-ruler's MachineComplexityEvaluatorTest figures (bare texts, no quotes)
        (1, ["*"]),
        (3, ["*", "ab*c"]),
        (1, ["abc"]),
        (2, ["*ab"]),
        (2, ["a*b"]),
        (4, ["a*bbb"]),
        (4, ["*ab*ad"]),
        (5, ["a*b*bb"]),
        (3, ["ab*b*"]),
        (7, ["*a*a*a*"]),
        (3, ["ab*c", "x*xx"]),
        (4, ["*abc", "*abcde"]),
        (4, ["a*bcd", "ab*cd"]),
        (7, ["a*aaa", "aa*aa"]),
    ],
)
def test_complexity_is_event_rulers_measure(expected: int, wildcards: list[str]) -> None:
    assert wildcard_complexity(*wildcards, quoted=False) == expected


def test_the_wildcards_of_one_field_add_up() -> None:
    compile_pattern({"f": [{"wildcard": f"*x{i}*"} for i in range(3)]})
    with pytest.raises(InvalidPattern, match="too complex"):
        compile_pattern({"f": [{"wildcard": f"*x{i}*"} for i in range(4)]})
    # on different fields they do not
    compile_pattern({f"f{i}": [{"wildcard": f"*x{i}*"}] for i in range(4)})


def test_anything_but_wildcards_count_too() -> None:
    compile_pattern({"f": [{"anything-but": {"wildcard": "*a*a*a*a*"}}]})
    with pytest.raises(InvalidPattern, match="too complex"):
        compile_pattern({"f": [{"anything-but": {"wildcard": ["*a*a*a*a*a*"]}}]})
