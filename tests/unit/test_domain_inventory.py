"""Inventory rules: given events, when a command, then events or a rejection."""

from __future__ import annotations

from hotcore.contracts.inventory import (
    AddStock,
    CommitReservation,
    InventoryState,
    ReleaseReservation,
    ReservationCommitted,
    ReservationReleased,
    ReserveStock,
    StockAdded,
    StockReserved,
)
from hotcore.contracts.order import OrderCancelled, OrderConfirmed, OrderLine, OrderShipped
from hotcore.domain.inventory import INVENTORY
from hotcore.domain.inventory.react import on_order_event
from tests.support.given_when_then import decide, from_stream, then_rejected

STOCKED = [StockAdded(quantity=10)]


def test_add_stock() -> None:
    assert decide(INVENTORY, [], AddStock(sku="s", quantity=3)) == [StockAdded(quantity=3)]


def test_reserve_what_is_available() -> None:
    given = [*STOCKED, StockReserved(order_id="o-1", quantity=4)]
    assert decide(INVENTORY, given, ReserveStock(sku="s", order_id="o-2", quantity=6)) == [
        StockReserved(order_id="o-2", quantity=6)
    ]


def test_never_reserve_more_than_available() -> None:
    given = [*STOCKED, StockReserved(order_id="o-1", quantity=4)]
    outcome = decide(INVENTORY, given, ReserveStock(sku="s", order_id="o-2", quantity=7))
    then_rejected(outcome, "insufficient-stock", available=6, requested=7)


def test_reserving_again_for_the_same_order_changes_nothing() -> None:
    given = [*STOCKED, StockReserved(order_id="o-1", quantity=4)]
    assert decide(INVENTORY, given, ReserveStock(sku="s", order_id="o-1", quantity=4)) == []
    then_rejected(
        decide(INVENTORY, given, ReserveStock(sku="s", order_id="o-1", quantity=5)),
        "reservation-exists",
        held=4,
        requested=5,
    )


def test_release_and_commit_need_a_reservation() -> None:
    for command in (
        ReleaseReservation(sku="s", order_id="o-9"),
        CommitReservation(sku="s", order_id="o-9"),
    ):
        then_rejected(decide(INVENTORY, STOCKED, command), "unknown-reservation", order_id="o-9")


def test_release_frees_and_commit_consumes() -> None:
    given = [*STOCKED, StockReserved(order_id="o-1", quantity=4)]
    assert decide(INVENTORY, given, ReleaseReservation(sku="s", order_id="o-1")) == [
        ReservationReleased(order_id="o-1", quantity=4)
    ]
    assert decide(INVENTORY, given, CommitReservation(sku="s", order_id="o-1")) == [
        ReservationCommitted(order_id="o-1", quantity=4)
    ]
    released = INVENTORY.fold(
        INVENTORY.initial("s"), [*given, ReservationReleased(order_id="o-1", quantity=4)]
    )
    committed = INVENTORY.fold(
        INVENTORY.initial("s"), [*given, ReservationCommitted(order_id="o-1", quantity=4)]
    )
    assert released == InventoryState(sku="s", on_hand=10, reservations={})
    assert committed == InventoryState(sku="s", on_hand=6, reservations={})
    assert committed.available == 6


LINES = [
    OrderLine(sku="s-1", quantity=1, unit_price=5),
    OrderLine(sku="s-2", quantity=2, unit_price=5),
]


def test_cancelled_orders_release_and_shipped_orders_commit_every_line() -> None:
    assert on_order_event(from_stream("o-1", OrderCancelled(reason="r", lines=LINES))) == [
        ReleaseReservation(sku="s-1", order_id="o-1"),
        ReleaseReservation(sku="s-2", order_id="o-1"),
    ]
    assert on_order_event(from_stream("o-1", OrderShipped(lines=LINES))) == [
        CommitReservation(sku="s-1", order_id="o-1"),
        CommitReservation(sku="s-2", order_id="o-1"),
    ]
    assert on_order_event(from_stream("o-1", OrderConfirmed())) == []
