"""The aggregates this deployment runs, by name. Adding a fifth aggregate adds one line here."""

from __future__ import annotations

from typing import Any

from hotcore.domain.aggregate import Aggregate


def aggregates() -> dict[str, Aggregate[Any, Any, Any, Any]]:
    # Imported on call: a Lambda handler for one aggregate never loads the other three.
    from hotcore.domain.account import ACCOUNT
    from hotcore.domain.customer import CUSTOMER
    from hotcore.domain.inventory import INVENTORY
    from hotcore.domain.order import ORDER

    return {a.name: a for a in (ACCOUNT, INVENTORY, ORDER, CUSTOMER)}


def load_aggregate(name: str) -> Aggregate[Any, Any, Any, Any]:
    """One aggregate by name, importing only its own package (what a Lambda handler needs)."""
    import importlib

    if not name.isidentifier():
        raise LookupError(f"not an aggregate name: {name!r}")
    try:
        module = importlib.import_module(f"hotcore.domain.{name}")
    except ModuleNotFoundError as exc:
        raise LookupError(f"no aggregate named {name!r}") from exc
    aggregate = getattr(module, name.upper(), None)
    if not isinstance(aggregate, Aggregate):
        raise LookupError(f"hotcore.domain.{name} defines no {name.upper()} aggregate")
    return aggregate
