"""Reference paths: the part of JSONPath that Step Functions' data flow relies on.

A reference path selects exactly one node: ``$`` (the state's data) or ``$$``
(the context object), followed by ``.name``, ``['name']`` and ``[index]``
steps. Backslash escapes a character of a dot-notation name (``$.a\\.b`` is the
key ``a.b``). Everything else JSONPath offers (``..``, ``*``, unions, slices,
filters, functions, negative indexes) is reported at load time: as an
InvalidPath where Step Functions only takes reference paths (ResultPath, Choice
variables, ...), as an UnsupportedConstruct where Step Functions would take a
full JSONPath but this engine does not (InputPath, OutputPath, ``.$`` fields).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hotcore_dev.saga.errors import InvalidPath, UnsupportedConstruct
from hotcore_dev.saga.values import Json

type PathKind = Literal["path", "reference"]

# Characters that are JSONPath operators when they appear unescaped in a
# dot-notation name; a reference path may not use them.
_OPERATOR_CHARS = frozenset("*@,:?()")


class PathNotFound(Exception):
    """A path selects nothing in the given data."""

    def __init__(self, path: str, step: str) -> None:
        self.path = path
        self.step = step
        super().__init__(f"path {path!r} selects nothing (no {step})")


class PathCannotBeSet(Exception):
    """A value cannot be placed at a path (e.g. ``$.a.b`` where ``$.a`` is a string)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cannot set {path!r}: {reason}")


@dataclass(frozen=True, slots=True)
class ReferencePath:
    """A parsed reference path; ``steps`` are object keys (str) and array indexes (int)."""

    text: str
    context: bool
    steps: tuple[str | int, ...]

    def get(self, data: Json) -> Json:
        """The single node this path selects in ``data``; raises PathNotFound."""
        node = data
        for step in self.steps:
            if isinstance(step, str):
                if not isinstance(node, dict) or step not in node:
                    raise PathNotFound(self.text, f"field {step!r}")
                node = node[step]
            else:
                if not isinstance(node, list) or step >= len(node):
                    raise PathNotFound(self.text, f"index [{step}]")
                node = node[step]
        return node

    def exists(self, data: Json) -> bool:
        """True when the path selects a node (which may be JSON null)."""
        try:
            self.get(data)
        except PathNotFound:
            return False
        return True

    def set(self, data: Json, value: Json) -> Json:
        """Place ``value`` at this path inside ``data`` and return the new root.

        ``data`` is modified in place (callers pass a copy). Missing object
        fields on the way are created, as Step Functions' ResultPath does;
        anything else that is in the way raises PathCannotBeSet.
        """
        if not self.steps:
            return value
        node = data
        for depth, step in enumerate(self.steps):
            last = depth == len(self.steps) - 1
            if isinstance(step, str):
                if not isinstance(node, dict):
                    raise PathCannotBeSet(self.text, f"field {step!r} of a non-object")
                if last:
                    node[step] = value
                    break
                if step not in node:
                    node[step] = {}
                node = node[step]
            else:
                if not isinstance(node, list) or step >= len(node):
                    raise PathCannotBeSet(self.text, f"index [{step}] is not in an array")
                if last:
                    node[step] = value
                    break
                node = node[step]
        return data


def parse_path(
    text: object, where: str, *, kind: PathKind = "path", allow_context: bool = True
) -> ReferencePath:
    """Parse a path field of a definition; ``where`` names the field for errors."""
    if not isinstance(text, str):
        raise InvalidPath(f"a path must be a string, got {text!r}", where)
    if not text.startswith("$"):
        raise InvalidPath(f"path {text!r} must start with '$'", where)

    def unsupported(feature: str) -> Exception:
        message = (
            f"path {text!r} uses {feature}; only reference paths "
            "($, .name, ['name'], [index]) are supported"
        )
        if kind == "reference":
            return InvalidPath(message + " and Step Functions requires one here", where)
        return UnsupportedConstruct(message, where)

    context = text.startswith("$$")
    if context and not allow_context:
        raise InvalidPath(f"path {text!r}: the context object ($$) is not allowed here", where)
    i = 2 if context else 1
    steps: list[str | int] = []
    n = len(text)
    while i < n:
        char = text[i]
        if char == ".":
            if i + 1 < n and text[i + 1] == ".":
                raise unsupported("recursive descent '..'")
            i += 1
            name: list[str] = []
            while i < n and text[i] not in ".[":
                c = text[i]
                if c == "\\":
                    if i + 1 >= n:
                        raise InvalidPath(f"path {text!r} ends with a lone backslash", where)
                    name.append(text[i + 1])
                    i += 2
                    continue
                if c in _OPERATOR_CHARS:
                    feature = "a function call" if c in "()" else f"the operator {c!r}"
                    raise unsupported(feature)
                if c.isspace():
                    raise InvalidPath(
                        f"path {text!r} has whitespace in a name; use ['...'] notation", where
                    )
                name.append(c)
                i += 1
            if not name:
                raise InvalidPath(f"path {text!r} has an empty name after '.'", where)
            steps.append("".join(name))
        elif char == "[":
            i += 1
            if i < n and text[i] in "'\"":
                quote = text[i]
                i += 1
                key: list[str] = []
                while i < n and text[i] != quote:
                    if text[i] == "\\" and i + 1 < n:
                        key.append(text[i + 1])
                        i += 2
                        continue
                    key.append(text[i])
                    i += 1
                if i + 1 >= n or text[i + 1] != "]":
                    raise InvalidPath(f"path {text!r} has an unterminated [{quote}...]", where)
                steps.append("".join(key))
                i += 2
            else:
                end = text.find("]", i)
                if end < 0:
                    raise InvalidPath(f"path {text!r} has an unterminated '['", where)
                inner = text[i:end].strip()
                if inner.isascii() and inner.isdigit():
                    steps.append(int(inner))
                elif inner == "*":
                    raise unsupported("the wildcard [*]")
                elif inner.startswith("?"):
                    raise unsupported("a filter expression")
                elif ":" in inner:
                    raise unsupported("an array slice")
                elif "," in inner:
                    raise unsupported("a union")
                elif inner.startswith("-") and inner[1:].isdigit():
                    raise unsupported("a negative index")
                else:
                    raise InvalidPath(f"path {text!r} has an invalid subscript [{inner}]", where)
                i = end + 1
        else:
            raise InvalidPath(
                f"path {text!r}: expected '.' or '[' at position {i}, found {char!r}", where
            )
    return ReferencePath(text=text, context=context, steps=tuple(steps))
