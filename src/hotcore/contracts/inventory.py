"""Inventory contracts: stock of one SKU, with reservations held per order."""

from __future__ import annotations

from msgspec import Struct

from hotcore.contracts.common import Contract, Id, Quantity


# Commands
class AddStock(Contract, frozen=True, kw_only=True):
    sku: Id
    quantity: Quantity


class ReserveStock(Contract, frozen=True, kw_only=True):
    sku: Id
    order_id: Id
    quantity: Quantity


class ReleaseReservation(Contract, frozen=True, kw_only=True):
    sku: Id
    order_id: Id


class CommitReservation(Contract, frozen=True, kw_only=True):
    sku: Id
    order_id: Id


InventoryCommand = AddStock | ReserveStock | ReleaseReservation | CommitReservation


# Events
class StockAdded(Contract, frozen=True, kw_only=True):
    quantity: Quantity


class StockReserved(Contract, frozen=True, kw_only=True):
    order_id: Id
    quantity: Quantity


class ReservationReleased(Contract, frozen=True, kw_only=True):
    order_id: Id
    quantity: Quantity


class ReservationCommitted(Contract, frozen=True, kw_only=True):
    order_id: Id
    quantity: Quantity


InventoryEvent = StockAdded | StockReserved | ReservationReleased | ReservationCommitted


# Queries
class GetInventory(Contract, frozen=True, kw_only=True):
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
