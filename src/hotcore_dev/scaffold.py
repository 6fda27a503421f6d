"""``hotcore new aggregate NAME``: a fifth aggregate, written out in the checkout.

It copies the Widget template (``templates/aggregate``: contracts, decider, reducer,
handlers, a stack file and given/when/then tests) under the new name, adds the name to
``hotcore.domain.registry.AGGREGATE_NAMES`` (which compiles its reducer and puts it in
the schemas, the local wiring and the tests) and its stack to ``infra/app.py``. The
result is a small working aggregate to rewrite, never a stub: its tests pass as written.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates" / "aggregate"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]{1,30}$")

#: template file -> where it goes, relative to the checkout ("widget" is replaced).
FILES = {
    "contracts.py.tmpl": "src/hotcore/contracts/widget.py",
    "domain.py.tmpl": "src/hotcore/domain/widget/__init__.py",
    "decide.py.tmpl": "src/hotcore/domain/widget/decide.py",
    "reducer.py.tmpl": "src/hotcore/domain/widget/reducer.py",
    "handler_command.py.tmpl": "handlers/widget/command.py",
    "handler_query.py.tmpl": "handlers/widget/query.py",
    "stack.py.tmpl": "infra/stacks/widget_stack.py",
    "test_domain.py.tmpl": "tests/unit/test_domain_widget.py",
}
REGISTRY = Path("src/hotcore/domain/registry.py")
APP = Path("infra/app.py")
#: A stack's line in infra/app.py; the new one goes after the last.
STACK_LINE = re.compile(r'^    [A-Z]\w*Stack\(app, "Hotcore\w+", shared=shared, env=env\)$', re.M)
STACK_EXAMPLE = '    AccountStack(app, "HotcoreAccount", shared=shared, env=env)'
STACK_IMPORT = re.compile(r"^from infra\.stacks\.\w+_stack import \w+Stack$", re.M)


class ScaffoldError(ValueError):
    """The aggregate cannot be created as asked; nothing was written."""


@dataclass(frozen=True)
class Names:
    """The three spellings of an aggregate's name the template uses."""

    lower: str  # widget: module and stream names
    title: str  # Widget: classes
    upper: str  # WIDGET: the Aggregate constant

    @classmethod
    def of(cls, name: str) -> Names:
        return cls(lower=name, title=name.capitalize(), upper=name.upper())

    def apply(self, text: str) -> str:
        return (
            text.replace("Widget", self.title)
            .replace("WIDGET", self.upper)
            .replace("widget", self.lower)
        )


def registered_names(root: Path) -> tuple[str, ...]:
    """``AGGREGATE_NAMES`` as the checkout's registry spells it (read, not imported)."""
    for node in ast.parse((root / REGISTRY).read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "AGGREGATE_NAMES"
            for target in node.targets
        ):
            names = ast.literal_eval(node.value)
            if isinstance(names, tuple):
                return tuple(str(name) for name in names)
    raise ScaffoldError(f"{root / REGISTRY} has no AGGREGATE_NAMES tuple")


def plan(root: Path, name: str) -> dict[Path, str]:
    """Every file to write (path -> content), after checking nothing would be overwritten."""
    if not NAME_PATTERN.match(name):
        raise ScaffoldError(
            f"aggregate name {name!r} must be 2-31 lowercase letters or digits, starting "
            "with a letter (it names modules, stacks and GraphQL types)"
        )
    existing = registered_names(root)
    if name in existing:
        raise ScaffoldError(f"an aggregate named {name!r} is registered already")
    names = Names.of(name)
    files: dict[Path, str] = {}
    for template, target in FILES.items():
        path = root / names.apply(target)
        if path.exists():
            raise ScaffoldError(f"{path} exists already; nothing was written")
        files[path] = names.apply((TEMPLATES / template).read_text())
    files[root / REGISTRY] = _registered(root, existing, name)
    files[root / APP] = _with_stack(root, names)
    return files


def new_aggregate(root: Path, name: str) -> list[Path]:
    """Write the aggregate's files and register it; returns the paths written."""
    files = plan(root, name)
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return sorted(files)


def _registered(root: Path, existing: tuple[str, ...], name: str) -> str:
    source = (root / REGISTRY).read_text()
    old = f"AGGREGATE_NAMES = {_tuple(existing)}"
    if old not in source:
        raise ScaffoldError(f"{root / REGISTRY}: expected the line {old!r}")
    return source.replace(old, f"AGGREGATE_NAMES = {_tuple((*existing, name))}")


def _tuple(names: tuple[str, ...]) -> str:
    """A tuple of names as ruff formats it (double quotes)."""
    return "(" + ", ".join(f'"{name}"' for name in names) + ")"


def _with_stack(root: Path, names: Names) -> str:
    """infra/app.py with the new stack's import and its one line after the last stack's."""
    source = (root / APP).read_text()
    stacks = list(STACK_LINE.finditer(source))
    if not stacks:
        raise ScaffoldError(f"{root / APP}: found no line like {STACK_EXAMPLE!r}")
    last = stacks[-1].end()
    line = f'\n    {names.title}Stack(app, "Hotcore{names.title}", shared=shared, env=env)'
    source = source[:last] + line + source[last:]
    imports = list(STACK_IMPORT.finditer(source))
    if not imports:
        raise ScaffoldError(f"{root / APP}: found no 'from infra.stacks.<name>_stack import'")
    # in import order (isort's): before the first stack import that sorts after it
    new_import = f"from infra.stacks.{names.lower}_stack import {names.title}Stack\n"
    later = [m for m in imports if m.group(0) > new_import.rstrip()]
    at = later[0].start() if later else imports[-1].end() + 1
    return source[:at] + new_import + source[at:]
