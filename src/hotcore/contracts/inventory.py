"""Inventory contracts: stock of one SKU, with reservations held per order."""

from msgspec import Struct

from hotcore.contracts.common import Contract, Event, Id, Quantity


# Commands
class AddStock(Contract, frozen=True, kw_only=True):
    """Add items to a SKU's stock on hand."""

    sku: Id
    quantity: Quantity


class ReserveStock(Contract, frozen=True, kw_only=True):
    """Hold items of a SKU for an order; refused when not enough are available."""

    sku: Id
    order_id: Id
    quantity: Quantity


class ReleaseReservation(Contract, frozen=True, kw_only=True):
    """Give an order's held items back (the order was cancelled)."""

    sku: Id
    order_id: Id


class CommitReservation(Contract, frozen=True, kw_only=True):
    """Turn an order's held items into items gone (the order shipped)."""

    sku: Id
    order_id: Id


InventoryCommand = AddStock | ReserveStock | ReleaseReservation | CommitReservation


# Events
class StockAdded(Event, frozen=True, kw_only=True):
    """Items were added to the stock on hand."""

    quantity: Quantity


class StockReserved(Event, frozen=True, kw_only=True):
    """Items were held for an order."""

    order_id: Id
    quantity: Quantity


class ReservationReleased(Event, frozen=True, kw_only=True):
    """An order's held items are available again."""

    order_id: Id
    quantity: Quantity


class ReservationCommitted(Event, frozen=True, kw_only=True):
    """An order's held items left the stock."""

    order_id: Id
    quantity: Quantity


InventoryEvent = StockAdded | StockReserved | ReservationReleased | ReservationCommitted


# Queries
class GetInventory(Contract, frozen=True, kw_only=True):
    """The stock of one SKU."""

    sku: Id


InventoryQuery = GetInventory


class InventoryState(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Stock of one SKU: on hand, and the part of it held for orders (order id -> quantity)."""

    sku: str
    on_hand: int = 0
    reservations: dict[str, int] = {}

    @property
    def reserved(self) -> int:
        return sum(self.reservations.values())

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved
