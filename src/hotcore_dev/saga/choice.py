"""Choice rules: parsing (strict, at load time) and evaluation.

Semantics follow the Amazon States Language and Step Functions' documentation:

* comparisons are type-sensitive: a String* operator never matches a number,
  a Numeric* operator never matches a string or a boolean (JSON ``true`` is not
  the number 1), and a value of the wrong type simply does not match;
* a ``Variable`` that selects nothing fails the execution with States.Runtime,
  except under ``IsPresent`` (which exists to guard such rules);
* the ``...Path`` forms compare with another node of the data (or context);
  a second path that selects nothing is also States.Runtime;
* strings compare like Java's ``String.compareTo`` (UTF-16 code units);
* timestamps are RFC 3339 with an uppercase ``T`` and ``Z`` (or a numeric
  offset) and compare as instants;
* ``StringMatches`` knows one wildcard, ``*``; ``\\*`` and ``\\\\`` escape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from hotcore_dev.saga.errors import InvalidDefinition, StatesError
from hotcore_dev.saga.jsonpath import PathNotFound, ReferencePath, parse_path
from hotcore_dev.saga.values import Json, is_number

_KINDS = ("String", "Numeric", "Boolean", "Timestamp")
_RELATIONS = ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
# Operator name -> (value kind, relation).
_BINARY: dict[str, tuple[str, str]] = {
    kind + relation: (kind, relation)
    for kind in _KINDS
    for relation in _RELATIONS
    if kind != "Boolean" or relation == "Equals"
}
_TYPE_TESTS = ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp")
_TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})\Z")


@dataclass(frozen=True, slots=True)
class Comparison:
    """``Variable`` compared by ``operator`` with a literal or, for ``...Path``, a path."""

    variable: ReferencePath
    operator: str
    operand: Json
    operand_path: ReferencePath | None
    pattern: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class And:
    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class Or:
    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class Not:
    rule: Rule


type Rule = Comparison | And | Or | Not


@dataclass(frozen=True, slots=True)
class Branch:
    """A top-level choice rule and the state it leads to."""

    rule: Rule
    next: str


def parse_branch(value: object, where: str) -> Branch:
    """Parse one element of ``Choices`` (a rule with ``Next``)."""
    if not isinstance(value, dict):
        raise InvalidDefinition("a choice rule must be an object", where)
    target = value.get("Next")
    if not isinstance(target, str) or not target:
        raise InvalidDefinition("a top-level choice rule needs 'Next' (a state name)", where)
    return Branch(rule=_parse_rule(value, where, top=True), next=target)


def _parse_rule(value: object, where: str, *, top: bool) -> Rule:
    if not isinstance(value, dict):
        raise InvalidDefinition("a choice rule must be an object", where)
    if not top and "Next" in value:
        raise InvalidDefinition("'Next' is only allowed in a top-level choice rule", where)
    keys = set(value) - {"Next", "Comment"}
    logical = keys & {"And", "Or", "Not"}
    if logical:
        if len(keys) != 1:
            raise InvalidDefinition(
                f"a rule with {sorted(logical)[0]} must have no other operator or Variable", where
            )
        (name,) = logical
        operand = value[name]
        if name == "Not":
            return Not(_parse_rule(operand, f"{where}.Not", top=False))
        if not isinstance(operand, list) or not operand:
            raise InvalidDefinition(f"{name} needs a non-empty array of rules", where)
        rules = tuple(
            _parse_rule(rule, f"{where}.{name}[{i}]", top=False) for i, rule in enumerate(operand)
        )
        return And(rules) if name == "And" else Or(rules)
    if "Variable" not in keys:
        raise InvalidDefinition("a comparison needs a 'Variable'", where)
    operators = keys - {"Variable"}
    if len(operators) != 1:
        found = ", ".join(sorted(operators)) or "none"
        raise InvalidDefinition(
            f"a comparison needs exactly one comparison operator, found: {found}", where
        )
    (operator,) = operators
    variable = parse_path(value["Variable"], f"{where}.Variable")
    operand = value[operator]
    op_where = f"{where}.{operator}"
    if operator in _TYPE_TESTS:
        if not isinstance(operand, bool):
            raise InvalidDefinition(f"{operator} takes true or false", op_where)
        return Comparison(variable, operator, operand, None)
    if operator == "StringMatches":
        if not isinstance(operand, str):
            raise InvalidDefinition("StringMatches takes a string pattern", op_where)
        return Comparison(variable, operator, operand, None, _wildcard(operand, op_where))
    if operator.endswith("Path") and operator[:-4] in _BINARY:
        return Comparison(variable, operator, None, parse_path(operand, op_where))
    if operator not in _BINARY:
        raise InvalidDefinition(f"unknown choice operator {operator!r}", where)
    kind = _BINARY[operator][0]
    valid = (
        (kind == "String" and isinstance(operand, str))
        or (kind == "Numeric" and is_number(operand))
        or (kind == "Boolean" and isinstance(operand, bool))
        or (
            kind == "Timestamp"
            and isinstance(operand, str)
            and parse_timestamp(operand) is not None
        )
    )
    if not valid:
        expected = {"String": "a string", "Numeric": "a number", "Boolean": "true or false"}
        raise InvalidDefinition(
            f"{operator} takes {expected.get(kind, 'an RFC 3339 timestamp')}, got {operand!r}",
            op_where,
        )
    return Comparison(variable, operator, operand, None)


def _wildcard(pattern: str, where: str) -> re.Pattern[str]:
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 >= len(pattern):
                raise InvalidDefinition("StringMatches pattern ends with a lone backslash", where)
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if char == "*" else re.escape(char))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def parse_timestamp(text: str) -> datetime | None:
    """The instant an RFC 3339 timestamp (as Step Functions accepts them) names, or None."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    date, time, fraction, zone = match.groups()
    # Python keeps microseconds; finer digits cannot change an order in practice.
    micro = f".{(fraction or '0')[:6]:0<6}"
    try:
        return datetime.fromisoformat(f"{date}T{time}{micro}{'+00:00' if zone == 'Z' else zone}")
    except ValueError:
        return None


def _utf16(text: str) -> bytes:
    # Big-endian UTF-16 bytes sort like Java compares UTF-16 code units.
    return text.encode("utf-16-be", "surrogatepass")


def evaluate(rule: Rule, data: Json, context: Json) -> bool:
    """Whether ``rule`` holds for the Choice state's effective input."""
    if isinstance(rule, And):
        return all(evaluate(r, data, context) for r in rule.rules)
    if isinstance(rule, Or):
        return any(evaluate(r, data, context) for r in rule.rules)
    if isinstance(rule, Not):
        return not evaluate(rule.rule, data, context)
    return _compare(rule, data, context)


def _resolve(path: ReferencePath, data: Json, context: Json) -> Json:
    try:
        return path.get(context if path.context else data)
    except PathNotFound:
        raise StatesError(
            "States.Runtime",
            f"Invalid path {path.text!r}: The choice state's condition path "
            "references an invalid value.",
        ) from None


def _compare(rule: Comparison, data: Json, context: Json) -> bool:
    operator = rule.operator
    if operator == "IsPresent":
        source = context if rule.variable.context else data
        return rule.variable.exists(source) == rule.operand
    value = _resolve(rule.variable, data, context)
    if operator in _TYPE_TESTS:
        tests = {
            "IsNull": value is None,
            "IsNumeric": is_number(value),
            "IsString": isinstance(value, str),
            "IsBoolean": isinstance(value, bool),
            "IsTimestamp": isinstance(value, str) and parse_timestamp(value) is not None,
        }
        return tests[operator] == rule.operand
    if operator == "StringMatches":
        assert rule.pattern is not None
        return isinstance(value, str) and rule.pattern.fullmatch(value) is not None
    if rule.operand_path is not None:
        operand = _resolve(rule.operand_path, data, context)
        operator = operator[:-4]
    else:
        operand = rule.operand
    kind, relation = _BINARY[operator]
    if kind == "Numeric":
        if (
            isinstance(value, bool)
            or isinstance(operand, bool)
            or not isinstance(value, int | float)
            or not isinstance(operand, int | float)
        ):
            return False
        return _relate(value, operand, relation)
    if kind == "Boolean":
        return isinstance(value, bool) and isinstance(operand, bool) and value == operand
    if not (isinstance(value, str) and isinstance(operand, str)):
        return False
    if kind == "String":
        return _relate(_utf16(value), _utf16(operand), relation)
    left, right = parse_timestamp(value), parse_timestamp(operand)
    if left is None or right is None:
        return False
    return _relate(left, right, relation)


def _relate[T: (int | float, bytes, datetime)](left: T, right: T, relation: str) -> bool:
    if relation == "Equals":
        return left == right
    if relation == "LessThan":
        return left < right
    if relation == "GreaterThan":
        return left > right
    if relation == "LessThanEquals":
        return left <= right
    return left >= right
