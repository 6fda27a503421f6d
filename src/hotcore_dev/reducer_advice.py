"""What in a reducer's source keeps mypyc from speeding it up: the advice ``hotcore bench fold``
prints beside its figures (the reasons, measured, are in docs/reducers.md).

The checks read the module's syntax tree; they name a line and what to write instead:

- ``isinstance(event, X)`` or a ``match`` class pattern on an event: msgspec's metaclass
  answers every miss through ``__instancecheck__``, in both builds;
- ``type(event) is X`` with ``X`` an imported name rather than a module-level ``Final``:
  compiled code looks an imported name up in the module's dict on every use, a
  ``Final`` is a C static (and still narrows ``event`` for mypy and mypyc);
- a function without annotations: mypyc compiles it as generic Python objects;
- the state built inside the event loop: one allocation per event.
"""

from __future__ import annotations

import ast
from pathlib import Path

__all__ = ["advise", "advise_file"]


def _final_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            annotation = node.annotation
            base = annotation.value if isinstance(annotation, ast.Subscript) else annotation
            spelled = base.id if isinstance(base, ast.Name) else getattr(base, "attr", None)
            if spelled == "Final":
                names.add(node.target.id)
    return names


def _is_type_call(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "type"
        and len(node.args) == 1
    )


def _unannotated(function: ast.FunctionDef) -> bool:
    arguments = function.args.posonlyargs + function.args.args + function.args.kwonlyargs
    return function.returns is None or any(a.annotation is None for a in arguments)


def advise(source: str, path: str = "<reducer>", state_type: str | None = None) -> list[str]:
    """One line per kind of finding, ``path:line[,line...]: what, and what to write instead``."""
    tree = ast.parse(source)
    finals = _final_names(tree)
    found: list[tuple[int, str]] = []
    for function in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        if _unannotated(function):
            found.append(
                (
                    function.lineno,
                    f"{function.name}() is not fully annotated: mypyc compiles it on "
                    "generic objects; annotate every parameter and the return type",
                )
            )
        for loop in (n for n in ast.walk(function) if isinstance(n, ast.For)):
            for node in (n for stmt in loop.body for n in ast.walk(stmt)):
                if (
                    state_type is not None
                    and isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == state_type
                ):
                    found.append(
                        (
                            node.lineno,
                            f"{state_type} is built inside the event loop: keep the fields "
                            "in typed locals and build the state once after the loop",
                        )
                    )
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "isinstance"
            ):
                found.append(
                    (
                        node.lineno,
                        "isinstance() on an event: msgspec's metaclass answers each miss "
                        "through __instancecheck__; dispatch with `type(event) is _X` "
                        "(`_X: Final = X` at module level)",
                    )
                )
            elif isinstance(node, ast.match_case) and any(
                isinstance(p, ast.MatchClass) for p in ast.walk(node.pattern)
            ):
                found.append(
                    (
                        node.pattern.lineno,
                        "a match class pattern is an isinstance() check per case; "
                        "dispatch with `type(event) is _X` (`_X: Final = X` at module level)",
                    )
                )
            elif isinstance(node, ast.Compare) and _is_type_call(node.left):
                for op, right in zip(node.ops, node.comparators, strict=True):
                    if (
                        isinstance(op, ast.Is | ast.Eq)
                        and isinstance(right, ast.Name)
                        and right.id not in finals
                    ):
                        found.append(
                            (
                                node.lineno,
                                f"type(...) is {right.id}: compiled code looks "
                                f"{right.id} up in the module dict each time; bind it "
                                f"once: `_{_snake(right.id).upper()}: Final = {right.id}`",
                            )
                        )
    lines_of: dict[str, list[int]] = {}
    for line, text in sorted(set(found)):
        lines_of.setdefault(text, []).append(line)
    return [
        f"{path}:{','.join(map(str, lines))}: {text}"
        for text, lines in sorted(lines_of.items(), key=lambda item: item[1][0])
    ]


def _snake(name: str) -> str:
    out = []
    for index, char in enumerate(name):
        if char.isupper() and index:
            out.append("_")
        out.append(char.lower())
    return "".join(out)


def advise_file(path: Path, state_type: str | None = None) -> list[str]:
    """``advise`` on a source file."""
    return advise(path.read_text(), str(path), state_type)
