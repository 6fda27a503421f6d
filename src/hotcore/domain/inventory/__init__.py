"""The Inventory aggregate: stock per SKU with reservations, under high contention."""

from __future__ import annotations

from hotcore.contracts.inventory import (
    InventoryCommand,
    InventoryEvent,
    InventoryQuery,
    InventoryState,
)
from hotcore.contracts.order import OrderCancelled, OrderEvent, OrderShipped
from hotcore.domain.aggregate import Aggregate, Reaction
from hotcore.domain.inventory.authorize import PUBLIC_COMMANDS, authorize
from hotcore.domain.inventory.decide import decide
from hotcore.domain.inventory.react import on_order_event
from hotcore.domain.inventory.reducer import evolve, fold, initial

INVENTORY: Aggregate[InventoryCommand, InventoryEvent, InventoryState, InventoryQuery] = Aggregate(
    name="inventory",
    command_type=InventoryCommand,
    event_type=InventoryEvent,
    query_type=InventoryQuery,
    state_type=InventoryState,
    stream_of=lambda command: command.sku,
    stream_of_query=lambda query: query.sku,
    initial=initial,
    decide=decide,
    evolve=evolve,
    fold=fold,
    public_commands=PUBLIC_COMMANDS,
    authorize=authorize,
    reactions=(
        Reaction(
            name="inventory-follows-orders",
            description="Cancelled orders release, shipped orders commit their reservations.",
            source="order",
            event_type=OrderEvent,
            events=(OrderCancelled, OrderShipped),
            react=on_order_event,
        ),
    ),
)

__all__ = ["INVENTORY", "decide", "evolve", "fold", "initial"]
