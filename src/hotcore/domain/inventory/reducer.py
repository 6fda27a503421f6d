"""Inventory state from its events. Compiled by mypyc (see docs/reducers.md for the style)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from hotcore.contracts.inventory import (
    InventoryEvent,
    InventoryState,
    ReservationCommitted,
    ReservationReleased,
    StockAdded,
    StockReserved,
)

# C statics in the compiled build; `type(e) is` one of them narrows `e` (docs/reducers.md).
_RESERVED: Final = StockReserved
_ADDED: Final = StockAdded
_COMMITTED: Final = ReservationCommitted
_RELEASED: Final = ReservationReleased


def initial(stream_id: str) -> InventoryState:
    return InventoryState(sku=stream_id)


def fold(state: InventoryState, events: Iterable[InventoryEvent]) -> InventoryState:
    # One mutable copy of the reservations for the whole fold, frozen again at the end.
    on_hand: int = state.on_hand
    reservations: dict[str, int] = dict(state.reservations)
    for event in events:
        if type(event) is _RESERVED:
            reservations[event.order_id] = event.quantity
        elif type(event) is _ADDED:
            on_hand += event.quantity
        elif type(event) is _COMMITTED:
            on_hand -= event.quantity
            # `del` is a dict primitive in compiled code, `.pop(key, None)` a method call and
            # `contextlib.suppress` a context manager per event.
            try:  # noqa: SIM105
                del reservations[event.order_id]
            except KeyError:
                pass
        elif type(event) is _RELEASED:
            try:  # noqa: SIM105
                del reservations[event.order_id]
            except KeyError:
                pass
    return InventoryState(sku=state.sku, on_hand=on_hand, reservations=reservations)


def evolve(state: InventoryState, event: InventoryEvent) -> InventoryState:
    return fold(state, (event,))
