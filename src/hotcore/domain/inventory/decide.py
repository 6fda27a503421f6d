"""Inventory rules: never reserve more than is available; one reservation per order.

Reserving again for an order that already holds the same quantity changes nothing, so a
retried saga step or a redelivered event cannot reserve twice.
"""

from __future__ import annotations

from hotcore.contracts.common import Rejected
from hotcore.contracts.inventory import (
    AddStock,
    CommitReservation,
    InventoryCommand,
    InventoryEvent,
    InventoryState,
    ReleaseReservation,
    ReservationCommitted,
    ReservationReleased,
    ReserveStock,
    StockAdded,
    StockReserved,
)
from hotcore.domain.aggregate import rejected


def decide(state: InventoryState, command: InventoryCommand) -> list[InventoryEvent] | Rejected:
    match command:
        case AddStock(quantity=quantity):
            return [StockAdded(quantity=quantity)]
        case ReserveStock(order_id=order_id, quantity=quantity):
            held = state.reservations.get(order_id)
            if held == quantity:
                return []
            if held is not None:
                return rejected(
                    "reservation-exists",
                    f"order {order_id} already holds {held} of {state.sku}",
                    order_id=order_id,
                    held=held,
                    requested=quantity,
                )
            if quantity > state.available:
                return rejected(
                    "insufficient-stock",
                    f"only {state.available} of {state.sku} available, {quantity} requested",
                    sku=state.sku,
                    available=state.available,
                    requested=quantity,
                )
            return [StockReserved(order_id=order_id, quantity=quantity)]
        case ReleaseReservation(order_id=order_id):
            if order_id not in state.reservations:
                return _unknown_reservation(state, order_id)
            return [ReservationReleased(order_id=order_id, quantity=state.reservations[order_id])]
        case CommitReservation(order_id=order_id):
            if order_id not in state.reservations:
                return _unknown_reservation(state, order_id)
            return [ReservationCommitted(order_id=order_id, quantity=state.reservations[order_id])]
    raise TypeError(f"not an inventory command: {type(command).__name__}")


def _unknown_reservation(state: InventoryState, order_id: str) -> Rejected:
    return rejected(
        "unknown-reservation",
        f"order {order_id} holds no reservation of {state.sku}",
        sku=state.sku,
        order_id=order_id,
    )
