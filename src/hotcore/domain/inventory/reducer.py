"""Inventory state from its events. Compiled by mypyc: plain typed code over contract attributes."""

from __future__ import annotations

from collections.abc import Iterable

from hotcore.contracts.inventory import (
    InventoryEvent,
    InventoryState,
    ReservationCommitted,
    ReservationReleased,
    StockAdded,
    StockReserved,
)


def initial(stream_id: str) -> InventoryState:
    return InventoryState(sku=stream_id)


def fold(state: InventoryState, events: Iterable[InventoryEvent]) -> InventoryState:
    # One mutable copy of the reservations for the whole fold, frozen again at the end.
    on_hand: int = state.on_hand
    reservations: dict[str, int] = dict(state.reservations)
    for event in events:
        if isinstance(event, StockReserved):
            reservations[event.order_id] = event.quantity
        elif isinstance(event, ReservationReleased):
            reservations.pop(event.order_id, None)
        elif isinstance(event, ReservationCommitted):
            reservations.pop(event.order_id, None)
            on_hand -= event.quantity
        elif isinstance(event, StockAdded):
            on_hand += event.quantity
    return InventoryState(sku=state.sku, on_hand=on_hand, reservations=reservations)


def evolve(state: InventoryState, event: InventoryEvent) -> InventoryState:
    return fold(state, (event,))
