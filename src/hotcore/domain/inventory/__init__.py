"""The Inventory aggregate: stock per SKU with reservations, under high contention."""

from __future__ import annotations

from hotcore.contracts.inventory import (
    InventoryCommand,
    InventoryEvent,
    InventoryQuery,
    InventoryState,
)
from hotcore.contracts.order import OrderEvent
from hotcore.domain.aggregate import Aggregate, DeliveryRule, Reaction
from hotcore.domain.inventory.decide import decide
from hotcore.domain.inventory.react import on_order_event
from hotcore.domain.inventory.reducer import evolve, fold, initial

DELIVERY_RULES = (
    DeliveryRule(
        name="inventory-follows-orders",
        description="Cancelled orders release, shipped orders commit their reservations.",
        pattern={"source": ["hotcore.order"], "detail-type": ["OrderCancelled", "OrderShipped"]},
        target_kind="event-handler",
        target="inventory",
    ),
    DeliveryRule(
        name="inventory-to-subscribers",
        description="Every committed Inventory event reaches the GraphQL subscribers.",
        pattern={"source": ["hotcore.inventory"]},
        target_kind="subscription",
        target="inventory",
    ),
)

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
    reactions=(Reaction(source="order", event_type=OrderEvent, react=on_order_event),),
    delivery_rules=DELIVERY_RULES,
)

__all__ = ["DELIVERY_RULES", "INVENTORY", "decide", "evolve", "fold", "initial"]
