"""Inventory policies: only back-office staff add stock; reservations are the saga's and
Inventory's event handler's (internal). Stock levels are the catalogue's: every caller
reads them (the default read policy, ``hotcore.domain.aggregate.anyone_reads``)."""

from __future__ import annotations

from hotcore.contracts.common import Rejected
from hotcore.contracts.inventory import AddStock, InventoryCommand, InventoryState
from hotcore.domain.principal import Principal, only_back_office

#: Commands front-end servers may send; reserving, releasing and committing are internal.
PUBLIC_COMMANDS = (AddStock,)


def authorize(
    principal: Principal, state: InventoryState, command: InventoryCommand
) -> Rejected | None:
    if isinstance(command, AddStock):
        return only_back_office(principal, "add stock")
    return None
