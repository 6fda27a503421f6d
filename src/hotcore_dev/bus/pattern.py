"""EventBridge event patterns: validate and compile once, then match events fast.

The local bus routes events with the same delivery-rule patterns that the CDK
stacks hand to EventBridge, so a rule that matches here must match there, and a
pattern EventBridge would refuse must be refused here too (``InvalidPattern``).

Semantics follow the AWS EventBridge user guide ("Comparison operators for use
in event patterns", "Arrays in event patterns", "Matching null values and
empty strings"). Where the guide is silent, they follow aws/event-ruler, the
open-source matcher behind EventBridge:

* Fields are ANDed, the values in a field's array are ORed; ``$or`` ORs whole
  sub-patterns (at least two).
* Only leaves hold values: a field whose event value is an object (or an empty
  array) has no value, so it matches nothing but ``{"exists": false}``, which
  means the field holds no value anywhere in the event.
* An array in the event matches if any of its elements does; an object pattern
  over an array of objects must find its values within one element (array
  consistency).
* Strings compare character by character (no normalisation); numbers compare
  by value (``300 == 300.0 == 3e2``); ``true``, ``false`` and ``null`` only
  match themselves. ``prefix``, ``suffix``, ``equals-ignore-case``,
  ``wildcard`` and ``cidr`` only match strings; ``numeric`` only numbers.
* ``anything-but`` matches any present value that the excluded thing does not
  match, including values of another type.
* A dotted field name is the path of nested names, in patterns and events alike:
  ``{"state.status": [...]}`` is ``{"state": {"status": [...]}}`` and matches an event's
  ``"state.status"`` too (EventBridge flattens names into dotted paths before matching).
* Wildcards cost matching time, so EventBridge refuses a rule whose wildcards are too
  complex. The measure (``wildcard_complexity``) is event-ruler's: the most wildcard
  prefixes one value can match at once, over the wildcards of one field. EventBridge
  does not publish its limit; hotcore refuses above ``MAX_WILDCARD_COMPLEXITY`` (10,
  event-ruler's example of a per-rule limit), which refuses the user guide's
  ``*:*:*:*:*:event-bus/*`` (11) and accepts its simpler rewrite (3).

A pattern compiles to a tree of small closures, so matching never looks at the
pattern's JSON again.

Known differences, all in corners where event-ruler's result depends on the
order of field names: ``{"exists": false}`` is always checked over the whole
event; a field constrained both beside and inside an ``$or`` branch may be
satisfied by different elements of an event array; integers beyond 2**53
compare exactly instead of as 64-bit floats; wildcard complexity is measured per field
of the pattern, where EventBridge may add up the same field's wildcards across ``$or``
branches.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Final, TypeIs

__all__ = [
    "MAX_WILDCARD_COMPLEXITY",
    "CompiledPattern",
    "InvalidPattern",
    "compile_pattern",
    "matches",
    "wildcard_complexity",
]

type PathStep = str | int
type Path = tuple[PathStep, ...]
# A test on one leaf value of the event (a string, number, bool or None).
type LeafTest = Callable[[object], bool]
# A test on one node of the event (a field's value, _MISSING, or the event itself),
# given the whole event too: {"exists": false} asks about the whole event.
type NodeTest = Callable[[object, object], bool]
type IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
type IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class InvalidPattern(ValueError):
    """A pattern EventBridge would reject; says what is wrong and where.

    ``path`` locates the offending part from the top of the pattern, for
    example ``("detail", "c-count", 0, "numeric")``.
    """

    def __init__(self, reason: str, path: Path = ()) -> None:
        self.reason = reason
        self.path = path
        super().__init__(f"{reason} (at {_format_path(path)})")


def _format_path(path: Path) -> str:
    if not path:
        return "the top level of the pattern"
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


class CompiledPattern:
    """A validated event pattern, ready to match any number of events."""

    __slots__ = ("_test", "pattern")

    def __init__(self, pattern: Mapping[str, object], test: NodeTest) -> None:
        self.pattern = pattern
        self._test = test

    def matches(self, event: Mapping[str, object]) -> bool:
        """True if ``event`` (a decoded JSON object) matches the pattern."""
        nested = _nested_event(event)
        return self._test(nested, nested)

    def __repr__(self) -> str:
        return f"CompiledPattern({self.pattern!r})"


def compile_pattern(pattern: Mapping[str, object]) -> CompiledPattern:
    """Validate ``pattern`` and compile it; raises ``InvalidPattern``."""
    if not isinstance(pattern, Mapping):
        raise InvalidPattern(f"an event pattern must be a JSON object, not {_kind(pattern)}")
    return CompiledPattern(pattern, _compile_object(pattern, (), inside_or=False))


def matches(pattern: Mapping[str, object], event: Mapping[str, object]) -> bool:
    """One-off match. Compiles every call: keep a ``CompiledPattern`` for hot paths."""
    return compile_pattern(pattern).matches(event)


# --- structure: objects, $or, fields -----------------------------------------

#: EventBridge refuses a field whose wildcards score more (see ``wildcard_complexity``).
MAX_WILDCARD_COMPLEXITY: Final = 10
_STAR_TOKEN: Final = -1
_QUOTE_BYTE: Final = ord('"')
_OTHER_BYTE: Final = 256

_MISSING: Final = object()
_NO_FIELDS: Final[Mapping[str, object]] = MappingProxyType({})
_OR: Final = "$or"
_OPERATOR_NAMES: Final = (
    "anything-but",
    "cidr",
    "equals-ignore-case",
    "exists",
    "numeric",
    "prefix",
    "suffix",
    "wildcard",
)
# Inside $or, EventBridge refuses these as field names: they would be ambiguous
# with operators. The list is event-ruler's, including words kept for future use.
_RESERVED_IN_OR: Final = frozenset(
    {
        *_OPERATOR_NAMES,
        "exact",
        "=",
        "<",
        "<=",
        ">",
        ">=",
        "regex",
        "not-wildcard",
        "not-equals-ignore-case",
        "date-after",
        "date-on-or-after",
        "date-before",
        "date-on-or-before",
        "in-date-range",
        "ip-address-in-range",
        "ip-address-not-in-range",
    }
)


def _compile_object(pattern: Mapping[str, object], path: Path, *, inside_or: bool) -> NodeTest:
    if not pattern:
        raise InvalidPattern("empty objects are not allowed", path)
    fields: list[tuple[str, NodeTest]] = []
    alternatives: list[tuple[NodeTest, ...]] = []
    for key, value in _nested_entries(pattern, path):
        where = (*path, key)
        if key == _OR:
            alternatives.append(_compile_or(value, where))
            continue
        if inside_or and key in _RESERVED_IN_OR:
            raise InvalidPattern(
                f"{key!r} is a reserved word and cannot name a field inside $or", where
            )
        if isinstance(value, Mapping):
            fields.append((key, _compile_object(value, where, inside_or=inside_or)))
        elif isinstance(value, list):
            fields.append((key, _compile_field(value, where)))
        else:
            raise InvalidPattern(
                f"the value of {key!r} must be an array of values to match or an object, "
                f"not {_kind(value)} (write [{_json_scalar(value)}])",
                where,
            )
    return _object_test(tuple(fields), tuple(alternatives))


def _nested_entries(pattern: Mapping[str, object], path: Path) -> list[tuple[str, object]]:
    """The pattern's fields, a dotted name as nested objects: ``"a.b": v`` is ``"a": {"b": v}``.

    EventBridge joins nested names with dots before it matches, so both spellings name
    the same field. Objects that land on one name are merged (a later field wins over an
    earlier one with the same path, as for a repeated key); a name holding both values
    and an object keeps both, each tested on its own.
    """
    objects: dict[str, Mapping[str, object]] = {}
    values: dict[str, object] = {}
    order: dict[str, None] = {}
    for key, value in pattern.items():
        if not isinstance(key, str):
            raise InvalidPattern(f"field names must be strings, not {_kind(key)}", path)
        name, nested = key, value
        if key != _OR and "." in key:
            name, rest = key.split(".", 1)
            nested = {rest: value}
        order[name] = None
        if isinstance(nested, Mapping):
            objects[name] = _merge(objects[name], nested) if name in objects else nested
        else:
            values[name] = nested
    entries: list[tuple[str, object]] = []
    for name in order:
        if name in objects:
            entries.append((name, objects[name]))
        if name in values:
            entries.append((name, values[name]))
    return entries


def _merge(first: Mapping[str, object], second: Mapping[str, object]) -> Mapping[str, object]:
    merged = dict(first)
    for key, value in second.items():
        earlier = merged.get(key)
        if isinstance(earlier, Mapping) and isinstance(value, Mapping):
            merged[key] = _merge(earlier, value)
        else:
            merged[key] = value
    return merged


def _nested_event(node: object) -> object:
    """The event with each dotted field name as nested objects, as EventBridge reads it.

    ``{"state.status": "x"}`` becomes ``{"state": {"status": "x"}}``. Where two fields
    land on one name (``{"a": {"b": 1}, "a.b": 2}``), the values become an array of
    both, so either can match. An event without dotted names is returned as it is.
    """
    if isinstance(node, list):
        items = [_nested_event(item) for item in node]
        return node if all(a is b for a, b in zip(items, node, strict=True)) else items
    if not isinstance(node, dict):
        return node
    changed = False
    result: dict[str, object] = {}
    for key, value in node.items():
        nested = _nested_event(value)
        changed |= nested is not value
        if isinstance(key, str) and "." in key:
            changed = True
            for step in reversed(key.split(".")[1:]):
                nested = {step: nested}
            key = key.split(".", 1)[0]
        result[key] = _combine(result[key], nested) if key in result else nested
    return result if changed else node


def _combine(first: object, second: object) -> object:
    if isinstance(first, dict) and isinstance(second, dict):
        combined = dict(first)
        for key, value in second.items():
            combined[key] = _combine(combined[key], value) if key in combined else value
        return combined
    return [*_as_items(first), *_as_items(second)]


def _as_items(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else [value]


def _object_test(
    fields: tuple[tuple[str, NodeTest], ...], alternatives: tuple[tuple[NodeTest, ...], ...]
) -> NodeTest:
    def on_object(node: Mapping[str, object], event: object) -> bool:
        for key, test in fields:
            if not test(node.get(key, _MISSING), event):
                return False
        return all(any(branch(node, event) for branch in branches) for branches in alternatives)

    def test(node: object, event: object) -> bool:
        if isinstance(node, dict):
            return on_object(node, event)
        if isinstance(node, list):
            # Each object (or nested array) in the array is a candidate on its
            # own, so values from different elements never combine.
            candidates = [element for element in node if isinstance(element, dict | list)]
            if candidates:
                return any(test(element, event) for element in candidates)
        # A scalar, an empty array or an absent object has no fields below it.
        return on_object(_NO_FIELDS, event)

    return test


def _compile_or(value: object, path: Path) -> tuple[NodeTest, ...]:
    if not isinstance(value, list):
        raise InvalidPattern(f"$or must be an array of objects, not {_kind(value)}", path)
    if len(value) < 2:
        raise InvalidPattern(f"$or needs at least 2 objects, found {len(value)}", path)
    branches: list[NodeTest] = []
    for index, branch in enumerate(value):
        if not isinstance(branch, Mapping):
            raise InvalidPattern(f"$or may only hold objects, not {_kind(branch)}", (*path, index))
        branches.append(_compile_object(branch, (*path, index), inside_or=True))
    return tuple(branches)


class _Exists:
    """The compiled form of ``{"exists": ...}``: a condition on presence, not on a value."""

    __slots__ = ("present",)

    def __init__(self, present: bool) -> None:
        self.present = present


def _compile_field(values: list[object], path: Path) -> NodeTest:
    if not values:
        raise InvalidPattern("empty arrays are not allowed", path)
    strings: set[str] = set()
    numbers: set[int | float] = set()
    tests: list[LeafTest] = []
    wildcards: list[tuple[object, tuple[str, ...]]] = []
    if_present = if_absent = False
    for index, value in enumerate(values):
        where = (*path, index)
        if isinstance(value, str):
            strings.add(value)
        elif value is None or isinstance(value, bool):
            tests.append(_exact_literal(value))
        elif isinstance(value, int | float):
            numbers.add(_finite_number(value, where))
        elif isinstance(value, Mapping):
            compiled = _compile_operator(value, where)
            if isinstance(compiled, _Exists):
                if_present |= compiled.present
                if_absent |= not compiled.present
            else:
                tests.append(compiled)
            wildcards.extend(_wildcards_of(value))
        else:
            raise InvalidPattern(
                "a value to match must be a string, number, true, false, null "
                f"or an operator object, not {_kind(value)}",
                where,
            )
    if wildcards:
        complexity = _complexity(wildcards, quoted=True, stop_above=MAX_WILDCARD_COMPLEXITY)
        if complexity > MAX_WILDCARD_COMPLEXITY:
            raise InvalidPattern(
                f"rule is too complex: {complexity} or more wildcard prefixes can match one "
                f"value at once, at most {MAX_WILDCARD_COMPLEXITY} are allowed; use fewer wildcard "
                "characters, fewer repeated character sequences after a wildcard, or values "
                "that differ before their first wildcard",
                path,
            )
    if numbers:
        tests.insert(0, _exact_numbers(frozenset(numbers)))
    if strings:
        tests.insert(0, _exact_strings(frozenset(strings)))
    # The field's place in the event: the pattern's keys, without $or and indexes.
    field_path = tuple(step for step in path if isinstance(step, str) and step != _OR)
    return _field_test(tuple(tests), if_present, field_path if if_absent else None)


def _field_test(
    tests: tuple[LeafTest, ...], if_present: bool, must_be_absent: tuple[str, ...] | None
) -> NodeTest:
    def test(node: object, event: object) -> bool:
        if isinstance(node, list):
            leaves = _leaves(node)
        elif node is _MISSING or isinstance(node, dict):
            leaves = []
        else:
            return if_present or any(leaf_test(node) for leaf_test in tests)
        if leaves:
            return if_present or any(leaf_test(leaf) for leaf in leaves for leaf_test in tests)
        # No value here, but {"exists": false} means "nowhere in the event": in
        # an array of objects, another element may still hold the field.
        return must_be_absent is not None and not _has_leaf(event, must_be_absent)

    return test


def _leaves(array: list[object]) -> list[object]:
    """The scalar values in an event array; nested arrays are flattened, objects are not leaves."""
    found: list[object] = []
    for element in array:
        if isinstance(element, list):
            found.extend(_leaves(element))
        elif not isinstance(element, dict):
            found.append(element)
    return found


def _has_leaf(node: object, path: tuple[str, ...]) -> bool:
    """True if the event holds a value (not an object) at ``path``, in any array element."""
    if isinstance(node, list):
        return any(_has_leaf(element, path) for element in node)
    if not path:
        return not isinstance(node, dict)
    if not isinstance(node, dict) or path[0] not in node:
        return False
    return _has_leaf(node[path[0]], path[1:])


def _compile_operator(operator: Mapping[str, object], path: Path) -> LeafTest | _Exists:
    name, argument = _single_entry(operator, path, what="an operator object")
    compile_argument = _OPERATORS.get(name)
    if compile_argument is None:
        raise InvalidPattern(
            f"unknown operator {name!r}; expected one of {', '.join(_OPERATOR_NAMES)}",
            (*path, name),
        )
    return compile_argument(argument, (*path, name))


# --- leaf tests: one small function per operator ------------------------------


def _is_number(value: object) -> TypeIs[int | float]:
    # bool is an int in Python but never a number in JSON.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _exact_strings(expected: frozenset[str]) -> LeafTest:
    return lambda value: isinstance(value, str) and value in expected


def _exact_numbers(expected: frozenset[int | float]) -> LeafTest:
    # int and float hash alike when equal, so 300 finds 300.0 in the set.
    return lambda value: _is_number(value) and value in expected


def _exact_literal(expected: bool | None) -> LeafTest:
    return lambda value: value is expected


def _prefix(prefix: str) -> LeafTest:
    return lambda value: isinstance(value, str) and value.startswith(prefix)


def _suffix(suffix: str) -> LeafTest:
    return lambda value: isinstance(value, str) and value.endswith(suffix)


def _equals_ignore_case(text: str) -> LeafTest:
    regex = _either_case(text)
    return lambda value: isinstance(value, str) and regex.fullmatch(value) is not None


def _prefix_ignore_case(prefix: str) -> LeafTest:
    regex = _either_case(prefix)
    return lambda value: isinstance(value, str) and regex.match(value) is not None


def _suffix_ignore_case(suffix: str) -> LeafTest:
    regex = _either_case(suffix, at_end=True)
    return lambda value: isinstance(value, str) and regex.search(value) is not None


def _either_case(text: str, *, at_end: bool = False) -> re.Pattern[str]:
    """A regex in which each character of ``text`` stands for its lower or upper case.

    EventBridge folds case per character this way rather than comparing
    lower-cased strings, so "ß" also matches "SS" (its upper case).
    """
    parts = []
    for char in text:
        lower, upper = char.lower(), char.upper()
        parts.append(
            re.escape(lower) if lower == upper else f"(?:{re.escape(lower)}|{re.escape(upper)})"
        )
    return re.compile("".join(parts) + (r"\Z" if at_end else ""), re.DOTALL)


def _wildcard(segments: tuple[str, ...]) -> LeafTest:
    """``segments`` are the literal texts between the ``*``s (so at least one)."""
    if len(segments) == 1:
        (only,) = segments
        return lambda value: isinstance(value, str) and value == only
    first, middle, last = segments[0], segments[1:-1], segments[-1]

    def test(value: object) -> bool:
        if not isinstance(value, str) or len(value) < len(first) + len(last):
            return False
        if not (value.startswith(first) and value.endswith(last)):
            return False
        # Taking each middle segment at its leftmost place leaves the most room
        # for the rest, so this greedy scan never misses a match (no backtracking).
        position, end = len(first), len(value) - len(last)
        for segment in middle:
            found = value.find(segment, position, end)
            if found < 0:
                return False
            position = found + len(segment)
        return True

    return test


def _numeric_range(
    lower: int | float | None,
    lower_inclusive: bool,
    upper: int | float | None,
    upper_inclusive: bool,
) -> LeafTest:
    def test(value: object) -> bool:
        if not _is_number(value):
            return False
        if lower is not None and (value < lower if lower_inclusive else value <= lower):
            return False
        return upper is None or (value <= upper if upper_inclusive else value < upper)

    return test


def _cidr(network: IPNetwork) -> LeafTest:
    def test(value: object) -> bool:
        if not isinstance(value, str):
            return False
        address = _ip_address(value)
        return address is not None and address.version == network.version and address in network

    return test


def _anything_but(excluded: LeafTest) -> LeafTest:
    # `excluded` is false for values of other types, so they pass: anything-but
    # "x" matches 5, true and null. An absent field never reaches a leaf test.
    return lambda value: not excluded(value)


# --- operator arguments: validation and compilation ---------------------------


def _compile_prefix(argument: object, path: Path) -> LeafTest:
    if isinstance(argument, str):
        return _prefix(argument)
    return _prefix_ignore_case(_ignore_case_argument(argument, path, "prefix"))


def _compile_suffix(argument: object, path: Path) -> LeafTest:
    if isinstance(argument, str):
        return _suffix(argument)
    return _suffix_ignore_case(_ignore_case_argument(argument, path, "suffix"))


def _ignore_case_argument(argument: object, path: Path, operator: str) -> str:
    """The string in ``{"equals-ignore-case": "..."}``, the only object prefix/suffix accept."""
    if not isinstance(argument, Mapping):
        raise InvalidPattern(
            f"{operator} takes a string or {{'equals-ignore-case': string}}, not {_kind(argument)}",
            path,
        )
    name, text = _single_entry(argument, path, what=f"the {operator} object")
    if name != "equals-ignore-case":
        raise InvalidPattern(
            f"unsupported {operator} operator {name!r}; only 'equals-ignore-case' is allowed", path
        )
    return _string(text, (*path, name), "equals-ignore-case")


def _compile_equals_ignore_case(argument: object, path: Path) -> LeafTest:
    return _equals_ignore_case(_string(argument, path, "equals-ignore-case"))


def _compile_wildcard(argument: object, path: Path) -> LeafTest:
    return _wildcard(_wildcard_segments(_string(argument, path, "wildcard"), path))


def _wildcard_segments(text: str, path: Path) -> tuple[str, ...]:
    """Split a wildcard on its unescaped ``*``; ``\\*`` is a literal star, ``\\\\`` a backslash."""
    segments: list[str] = []
    literal: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "*":
            if text.startswith("*", index + 1):
                raise InvalidPattern(f"consecutive wildcard characters at position {index}", path)
            segments.append("".join(literal))
            literal.clear()
        elif char == "\\":
            escaped = text[index + 1 : index + 2]
            if escaped not in ("*", "\\"):
                raise InvalidPattern(
                    f"invalid escape at position {index}: a backslash may only escape '*' or '\\'",
                    path,
                )
            literal.append(escaped)
            index += 1
        else:
            literal.append(char)
        index += 1
    segments.append("".join(literal))
    return tuple(segments)


def _wildcards_of(operator: Mapping[str, object]) -> list[tuple[object, tuple[str, ...]]]:
    """The (identity, segments) of the wildcards in an operator that compiled fine."""
    if len(operator) != 1:
        return []
    ((name, argument),) = operator.items()
    if name == "wildcard" and isinstance(argument, str):
        return [(argument, _wildcard_segments(argument, ()))]
    if name == "anything-but" and isinstance(argument, Mapping) and "wildcard" in argument:
        texts = argument["wildcard"]
        listed = tuple(texts) if isinstance(texts, list) else (texts,)
        # One operator, however many texts: EventBridge counts it as one pattern.
        identity = ("anything-but", tuple(sorted(str(t) for t in listed)))
        return [(identity, _wildcard_segments(str(t), ())) for t in listed]
    return []


def wildcard_complexity(*wildcards: str, quoted: bool = True) -> int:
    """The complexity EventBridge measures for one field's wildcard patterns.

    It is the largest number of pattern prefixes that one value can match at the same
    time (event-ruler's ``MachineComplexityEvaluator``): ``"*a*a*a*"`` scores 7 on
    ``"aaa"`` (``*``, ``*a``, ``*a*``, ...). Values are read as JSON text, quotes
    included (``quoted=False`` scores the bare texts, as event-ruler's own tests do).
    Prefixes up to the first ``*`` are shared, and count once per pattern that has them.
    A field scoring above ``MAX_WILDCARD_COMPLEXITY`` is rejected.
    """
    return _complexity([(w, _wildcard_segments(w, ())) for w in wildcards], quoted=quoted)


def _complexity(
    patterns: Sequence[tuple[object, tuple[str, ...]]],
    *,
    quoted: bool,
    stop_above: int | None = None,
) -> int:
    # An automaton over bytes: up to and including the first star the states are shared
    # (a trie); each pattern's states after it are its own. A star state reads any byte
    # and may also be skipped (it matches nothing too).
    weights: list[set[object]] = [set()]
    literal: list[dict[int, list[int]]] = [{}]
    is_star: list[bool] = [False]
    skip_to: list[list[int]] = [[]]
    shared_states: dict[tuple[int, int], int] = {}
    for identity, segments in patterns:
        state, shared = 0, True
        for token in _wildcard_tokens(segments, quoted=quoted):
            reached = shared_states.get((state, token)) if shared else None
            if reached is None:
                weights.append(set())
                literal.append({})
                is_star.append(token == _STAR_TOKEN)
                skip_to.append([])
                reached = len(weights) - 1
                if shared:
                    shared_states[(state, token)] = reached
                if token == _STAR_TOKEN:
                    skip_to[state].append(reached)
                else:
                    literal[state].setdefault(token, []).append(reached)
            shared = shared and token != _STAR_TOKEN
            weights[reached].add(identity)
            state = reached

    def closure(states: set[int]) -> frozenset[int]:
        return frozenset(states.union(*(skip_to[state] for state in states)))

    # Every set of states some value can put the automaton in: the bytes the patterns
    # name, plus one byte none of them names (only stars read it).
    alphabet = [*sorted({byte for table in literal for byte in table}), _OTHER_BYTE]
    start = closure({0})
    seen, pending, worst = {start}, [start], 0
    while pending:
        active = pending.pop()
        for byte in alphabet:
            following = {state for state in active if is_star[state]}
            for state in active:
                following.update(literal[state].get(byte, ()))
            if not following:
                continue
            reached_set = closure(following)
            worst = max(worst, sum(len(weights[state]) for state in reached_set))
            if stop_above is not None and worst > stop_above:
                return worst  # past the limit: the exact figure does not matter
            if reached_set not in seen:
                seen.add(reached_set)
                pending.append(reached_set)
    return worst


def _wildcard_tokens(segments: tuple[str, ...], *, quoted: bool) -> list[int]:
    tokens: list[int] = [_QUOTE_BYTE] if quoted else []
    for index, segment in enumerate(segments):
        if index:
            tokens.append(_STAR_TOKEN)
        tokens.extend(segment.encode())
    if quoted:
        tokens.append(_QUOTE_BYTE)
    return tokens


def _compile_exists(argument: object, path: Path) -> _Exists:
    if not isinstance(argument, bool):
        raise InvalidPattern(f"exists takes true or false, not {_kind(argument)}", path)
    return _Exists(argument)


_LOWER_BOUNDS: Final = {">": False, ">=": True}  # operator -> inclusive
_UPPER_BOUNDS: Final = {"<": False, "<=": True}


def _compile_numeric(argument: object, path: Path) -> LeafTest:
    if not isinstance(argument, list) or not argument:
        raise InvalidPattern(
            "numeric takes a non-empty array such as ['>', 0, '<=', 5] or ['=', 3]", path
        )
    if len(argument) not in (2, 4):
        raise InvalidPattern(
            "numeric takes one condition or a lower and an upper bound, "
            f"found {len(argument)} elements",
            path,
        )
    conditions = [
        (
            _numeric_operator(argument[i], (*path, i)),
            _comparable_number(argument[i + 1], (*path, i + 1)),
        )
        for i in range(0, len(argument), 2)
    ]
    if len(conditions) == 1:
        ((operator, bound),) = conditions
        if operator == "=":
            return _exact_numbers(frozenset({bound}))
        if operator in _LOWER_BOUNDS:
            return _numeric_range(bound, _LOWER_BOUNDS[operator], None, False)
        return _numeric_range(None, False, bound, _UPPER_BOUNDS[operator])
    (low_operator, low), (high_operator, high) = conditions
    if low_operator not in _LOWER_BOUNDS or high_operator not in _UPPER_BOUNDS:
        raise InvalidPattern(
            "a numeric range is a lower bound ('>' or '>=') "
            "followed by an upper bound ('<' or '<=')",
            path,
        )
    if not low < high:
        raise InvalidPattern(
            f"the lower bound {low} must be less than the upper bound {high}", path
        )
    return _numeric_range(low, _LOWER_BOUNDS[low_operator], high, _UPPER_BOUNDS[high_operator])


def _numeric_operator(value: object, path: Path) -> str:
    if value == "=" or value in _LOWER_BOUNDS or value in _UPPER_BOUNDS:
        return str(value)
    raise InvalidPattern(f"unknown numeric operator {value!r}; expected =, <, <=, > or >=", path)


def _compile_cidr(argument: object, path: Path) -> LeafTest:
    text = _string(argument, path, "cidr")
    address_text, slash, bits_text = text.partition("/")
    if not slash or "/" in bits_text:
        raise InvalidPattern(f"malformed CIDR {text!r}: exactly one '/' is required", path)
    if not (bits_text.isascii() and bits_text.isdigit()):
        raise InvalidPattern(f"malformed CIDR {text!r}: the mask bits must be a whole number", path)
    address = _ip_address(address_text)
    if address is None:
        raise InvalidPattern(
            f"malformed CIDR {text!r}: {address_text!r} is not an IP address", path
        )
    bits, width = int(bits_text), address.max_prefixlen
    # EventBridge refuses a full-length mask (/32, /128): one address is
    # matched with an exact string value instead.
    if bits >= width:
        raise InvalidPattern(
            f"IPv{address.version} mask bits must be < {width}, found {bits}", path
        )
    return _cidr(ipaddress.ip_network((address, bits), strict=False))


_IPV4_SHAPE: Final = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_IPV6_SHAPE: Final = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*")


def _ip_address(text: str) -> IPAddress | None:
    """Read an IP literal the way EventBridge does, or None if ``text`` is not one."""
    if _IPV4_SHAPE.fullmatch(text):
        # Octets are decimal even with leading zeros ("010" is 10, not octal 8);
        # Python's parser refuses leading zeros, so read them by hand.
        octets = [int(octet) for octet in text.split(".")]
        if max(octets) > 255:
            return None
        return ipaddress.IPv4Address(bytes(octets))
    if _IPV6_SHAPE.fullmatch(text):
        try:
            return ipaddress.IPv6Address(text)
        except ValueError:
            return None
    return None


_ANYTHING_BUT_OPERATORS: Final[dict[str, Callable[[str], LeafTest]]] = {
    "equals-ignore-case": _equals_ignore_case,
    "prefix": _prefix,
    "suffix": _suffix,
    "wildcard": lambda text: _wildcard(_wildcard_segments(text, ())),
}


def _compile_anything_but(argument: object, path: Path) -> LeafTest:
    if isinstance(argument, Mapping):
        return _anything_but(_anything_but_operator(argument, path))
    if isinstance(argument, list):
        if not argument:
            raise InvalidPattern("anything-but needs at least one value", path)
        if all(isinstance(value, str) for value in argument):
            return _anything_but(_exact_strings(frozenset(_strings(argument, path))))
        if all(_is_number(value) for value in argument):
            numbers = (_comparable_number(value, (*path, i)) for i, value in enumerate(argument))
            return _anything_but(_exact_numbers(frozenset(numbers)))
        raise InvalidPattern(
            "anything-but takes a list of only strings or only numbers, not a mix or other values",
            path,
        )
    if isinstance(argument, str):
        return _anything_but(_exact_strings(frozenset({argument})))
    if _is_number(argument):
        return _anything_but(_exact_numbers(frozenset({_comparable_number(argument, path)})))
    raise InvalidPattern(
        "anything-but takes a string, a number, a list of them or an operator object, "
        f"not {_kind(argument)}",
        path,
    )


def _anything_but_operator(argument: Mapping[str, object], path: Path) -> LeafTest:
    name, operand = _single_entry(argument, path, what="the anything-but object")
    make_test = _ANYTHING_BUT_OPERATORS.get(name)
    if make_test is None:
        raise InvalidPattern(
            f"unsupported anything-but operator {name!r}; expected one of "
            f"{', '.join(_ANYTHING_BUT_OPERATORS)}",
            path,
        )
    where = (*path, name)
    texts = _strings(operand if isinstance(operand, list) else [operand], where)
    if not texts:
        raise InvalidPattern(f"anything-but {name} needs at least one string", where)
    for text in texts:
        if name in ("prefix", "suffix") and not text:
            raise InvalidPattern(f"an empty {name} is not allowed inside anything-but", where)
        if name == "wildcard":
            _wildcard_segments(text, where)  # validate here, where the path is known
    tests = tuple(make_test(text) for text in texts)
    return lambda value: any(test(value) for test in tests)


# Indexed by operator name; each takes the operator's argument and its path.
_OPERATORS: Final[dict[str, Callable[[object, Path], LeafTest | _Exists]]] = {
    "anything-but": _compile_anything_but,
    "cidr": _compile_cidr,
    "equals-ignore-case": _compile_equals_ignore_case,
    "exists": _compile_exists,
    "numeric": _compile_numeric,
    "prefix": _compile_prefix,
    "suffix": _compile_suffix,
    "wildcard": _compile_wildcard,
}


# --- small validation helpers -------------------------------------------------


def _single_entry(obj: Mapping[str, object], path: Path, *, what: str) -> tuple[str, object]:
    if len(obj) != 1:
        found = ", ".join(repr(key) for key in obj) or "none"
        raise InvalidPattern(f"{what} must have exactly one key, found {found}", path)
    ((name, value),) = obj.items()
    return name, value


def _string(value: object, path: Path, operator: str) -> str:
    if not isinstance(value, str):
        raise InvalidPattern(f"{operator} takes a string, not {_kind(value)}", path)
    return value


def _strings(values: Sequence[object], path: Path) -> list[str]:
    texts = [value for value in values if isinstance(value, str)]
    if len(texts) != len(values):
        index = next(i for i, value in enumerate(values) if not isinstance(value, str))
        raise InvalidPattern(f"expected a string, not {_kind(values[index])}", (*path, index))
    return texts


def _finite_number(value: int | float, path: Path) -> int | float:
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidPattern(f"{value} is not a JSON number", path)
    return value


def _comparable_number(value: object, path: Path) -> int | float:
    """A number EventBridge can order: finite and exact as a 64-bit float."""
    if not _is_number(value):
        raise InvalidPattern(f"expected a number, not {_kind(value)}", path)
    number = _finite_number(value, path)
    if isinstance(number, int):
        try:
            exact = float(number) == number
        except OverflowError:
            exact = False
        if not exact:
            raise InvalidPattern(f"{number} cannot be compared exactly as a 64-bit float", path)
    return number


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def _json_scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)
