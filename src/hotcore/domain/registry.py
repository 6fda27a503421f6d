"""The aggregates this deployment runs, by name: the one list every other list reads.

Adding a fifth aggregate adds its name here. setup.py reads this tuple (without
importing hotcore) to compile each aggregate's reducer; the GraphQL and JSON schemas,
the local wiring, the tests and the fold profiler iterate over ``aggregates()``. Only
the CDK app names its stacks one explicit line each.
"""

from __future__ import annotations

import importlib
from typing import Any

from hotcore.domain.aggregate import Aggregate

AGGREGATE_NAMES = ("account", "inventory", "order", "customer")


def aggregates() -> dict[str, Aggregate[Any, Any, Any, Any]]:
    """Every aggregate of the deployment, imported (what local runs and the tools need)."""
    return {name: load_aggregate(name) for name in AGGREGATE_NAMES}


def load_aggregate(name: str) -> Aggregate[Any, Any, Any, Any]:
    """One aggregate by name, importing only its own package (what a Lambda handler needs)."""
    if not name.isidentifier():
        raise LookupError(f"not an aggregate name: {name!r}")
    try:
        module = importlib.import_module(f"hotcore.domain.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"hotcore.domain.{name}":
            raise
        raise LookupError(f"no aggregate named {name!r}") from exc
    aggregate = getattr(module, name.upper(), None)
    if not isinstance(aggregate, Aggregate):
        raise LookupError(f"hotcore.domain.{name} defines no {name.upper()} aggregate")
    if aggregate.name != name:
        raise LookupError(f"hotcore.domain.{name}.{name.upper()} is named {aggregate.name!r}")
    return aggregate
