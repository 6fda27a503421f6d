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
