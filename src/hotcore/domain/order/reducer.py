"""Order state from its events. Compiled by mypyc: plain typed code over contract attributes."""

from __future__ import annotations

from collections.abc import Iterable

from hotcore.contracts.order import (
    OrderCancelled,
    OrderConfirmed,
    OrderEvent,
    OrderLine,
    OrderPlaced,
    OrderShipped,
    OrderState,
    OrderStatus,
    PaymentRecorded,
    RefundRecorded,
)


def initial(stream_id: str) -> OrderState:
    return OrderState(order_id=stream_id)


def fold(state: OrderState, events: Iterable[OrderEvent]) -> OrderState:
    status: OrderStatus = state.status
    customer_id = state.customer_id
    account_id = state.account_id
    lines: list[OrderLine] = state.lines
    total: int = state.total
    paid: int = state.paid
    for event in events:
        if isinstance(event, OrderPlaced):
            status = "placed"
            customer_id = event.customer_id
            account_id = event.account_id
            lines = event.lines
            total = event.total
        elif isinstance(event, OrderConfirmed):
            status = "confirmed"
        elif isinstance(event, OrderCancelled):
            status = "cancelled"
        elif isinstance(event, OrderShipped):
            status = "shipped"
        elif isinstance(event, PaymentRecorded):
            paid += event.amount
        elif isinstance(event, RefundRecorded):
            paid -= event.amount
    return OrderState(
        order_id=state.order_id,
        status=status,
        customer_id=customer_id,
        account_id=account_id,
        lines=lines,
        total=total,
        paid=paid,
    )


def evolve(state: OrderState, event: OrderEvent) -> OrderState:
    return fold(state, (event,))
