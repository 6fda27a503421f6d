"""Order state from its events. Compiled by mypyc (see docs/reducers.md for the style)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

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

# C statics in the compiled build; `type(e) is` one of them narrows `e` (docs/reducers.md).
_PAYMENT: Final = PaymentRecorded
_REFUND: Final = RefundRecorded
_PLACED: Final = OrderPlaced
_CONFIRMED: Final = OrderConfirmed
_SHIPPED: Final = OrderShipped
_CANCELLED: Final = OrderCancelled


def initial(stream_id: str) -> OrderState:
    return OrderState(order_id=stream_id)


def fold(state: OrderState, events: Iterable[OrderEvent]) -> OrderState:
    status: OrderStatus = state.status
    customer_id: str = state.customer_id
    account_id: str = state.account_id
    lines: list[OrderLine] = state.lines
    total: int = state.total
    paid: int = state.paid
    for event in events:
        if type(event) is _PAYMENT:
            paid += event.amount
        elif type(event) is _REFUND:
            paid -= event.amount
        elif type(event) is _PLACED:
            status = "placed"
            customer_id = event.customer_id
            account_id = event.account_id
            lines = event.lines
            total = event.total
        elif type(event) is _CONFIRMED:
            status = "confirmed"
        elif type(event) is _SHIPPED:
            status = "shipped"
        elif type(event) is _CANCELLED:
            status = "cancelled"
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
