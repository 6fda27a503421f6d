"""Inventory's event handler policy: cancelled orders free stock, shipped orders consume it."""

from __future__ import annotations

from typing import Any

from hotcore.contracts.common import Envelope
from hotcore.contracts.inventory import CommitReservation, InventoryCommand, ReleaseReservation
from hotcore.contracts.order import OrderCancelled, OrderShipped


def on_order_event(envelope: Envelope[Any]) -> list[InventoryCommand]:
    order_id = envelope.stream_id
    match envelope.data:
        case OrderCancelled(lines=lines):
            return [ReleaseReservation(sku=line.sku, order_id=order_id) for line in lines]
        case OrderShipped(lines=lines):
            return [CommitReservation(sku=line.sku, order_id=order_id) for line in lines]
    return []
