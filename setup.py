"""Build script: the hot-path modules mypyc compiles, and the switch to a pure-Python wheel.

Everything else about the package (name, dependencies, entry points) is in
pyproject.toml; this file only adds the C extensions.

- Default: every module in ``COMPILED_MODULES`` is compiled with mypyc (one shared
  library, ``hotcore__mypyc``, plus a small extension per module). The ``.py`` files
  stay in the wheel; the extension wins at import time.
- ``HOTCORE_PURE=1``: no extensions, a ``py3-none-any`` wheel.
- Editable installs (``pip install -e .``) are always pure: a compiled extension
  next to its source in ``src/`` would shadow every later edit of that source.
  The compiled build is tested from its wheel instead (``tools.layer``).

msgspec Structs (``hotcore.contracts``) must never be listed: mypyc does not
support msgspec's metaclass. Compiled code uses them through typed attributes
and ``match`` class patterns.
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent


def registered_aggregates() -> list[str]:
    """``AGGREGATE_NAMES`` of hotcore.domain.registry, read from its source (the build
    must not import the package it builds)."""
    tree = ast.parse((HERE / "src" / "hotcore" / "domain" / "registry.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "AGGREGATE_NAMES" for t in node.targets
        ):
            names = ast.literal_eval(node.value)
            assert isinstance(names, tuple), "AGGREGATE_NAMES must be a tuple of names"
            return [str(name) for name in names]
    raise SystemExit("error: src/hotcore/domain/registry.py defines no AGGREGATE_NAMES")


#: The hot path, compiled by mypyc: every registered aggregate's reducer and the codec.
#: A new aggregate's reducer is compiled once its name is in the registry.
COMPILED_MODULES = [
    *(f"hotcore.domain.{name}.reducer" for name in registered_aggregates()),
    "hotcore.codec.dynamodb",
]

#: Listed modules that are still being written: a build may go without them.
#: Remove a name once its module is merged, so that a build missing it fails.
NOT_YET_WRITTEN: set[str] = set()  # e.g. {"hotcore.domain.shipment.reducer"}


def module_source(name: str) -> Path:
    """The source file of a dotted module name under src/."""
    return HERE / "src" / Path(*name.split(".")).with_suffix(".py")


def wants_pure_build() -> bool:
    """True for HOTCORE_PURE=1 and for editable installs; False for HOTCORE_PURE unset, '' or 0."""
    flag = os.environ.get("HOTCORE_PURE", "")
    if flag not in {"", "0", "1"}:
        raise SystemExit(f"error: HOTCORE_PURE must be 1 (pure Python) or 0/unset, not {flag!r}")
    return flag == "1" or "editable_wheel" in sys.argv


def compiled_sources() -> list[str]:
    """Paths (relative to this file, as mypyc wants them) of the modules to compile.

    A listed module that does not exist is an error unless it is in NOT_YET_WRITTEN.
    """
    missing = [name for name in COMPILED_MODULES if not module_source(name).is_file()]
    overdue = [name for name in missing if name not in NOT_YET_WRITTEN]
    if overdue:
        raise SystemExit(
            "error: modules listed in COMPILED_MODULES (setup.py) do not exist: "
            + ", ".join(overdue)
        )
    for name in missing:
        print(f"note: {name} is not written yet; building without it", file=sys.stderr)
    return [
        module_source(name).relative_to(HERE).as_posix()
        for name in COMPILED_MODULES
        if name not in missing
    ]


def ext_modules() -> list[object]:
    """The mypyc extensions, or none for a pure build."""
    if wants_pure_build():
        return []
    sources = compiled_sources()
    if not sources:
        return []
    # Imported here so that a pure build needs no mypy.
    from mypyc.build import mypycify

    # group_name gives the shared library a stable name (hotcore__mypyc) instead
    # of a hash, so the layer's contents read the same from build to build.
    return list(mypycify(sources, opt_level="3", group_name="hotcore"))


# setuptools runs this file as __main__; tests import it to read COMPILED_MODULES.
if __name__ == "__main__":
    setup(ext_modules=ext_modules())
