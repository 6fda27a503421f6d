"""Telling a mypyc-compiled module from its pure twin: for differential tests and profilers."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType


def is_compiled(module: ModuleType) -> bool:
    """True when module was imported from a C extension (a mypyc build)."""
    return (module.__file__ or "").endswith(".so")


def pure_twin(module: ModuleType) -> ModuleType | None:
    """The pure-Python version of a compiled module, for differential tests.

    Loaded from the .py that the wheel keeps beside the extension, under a name of
    its own (not in sys.modules), so that it shares every other module, the contract
    Structs included, with the compiled one. None when module is not compiled.
    """
    file = module.__file__
    if file is None or not is_compiled(module):
        return None
    leaf = module.__name__.rpartition(".")[2]
    source = Path(file).with_name(f"{leaf}.py")
    if not source.is_file():
        raise FileNotFoundError(f"{module.__name__} is compiled but {source} is missing")
    spec = importlib.util.spec_from_file_location(f"{module.__name__}__pure", source)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {source}")
    twin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(twin)
    return twin
