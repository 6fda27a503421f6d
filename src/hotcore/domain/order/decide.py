"""Order rules: a state machine placed -> confirmed -> shipped, cancellable until shipped."""

from __future__ import annotations

from hotcore.contracts.common import Rejected
from hotcore.contracts.order import (
    CancelOrder,
    ConfirmOrder,
    OrderCancelled,
    OrderCommand,
    OrderConfirmed,
    OrderEvent,
    OrderPlaced,
    OrderShipped,
    OrderState,
    OrderStatus,
    PaymentRecorded,
    PlaceOrder,
    RecordPayment,
    RecordRefund,
    RefundRecorded,
    ShipOrder,
)
from hotcore.domain.aggregate import rejected

# Which states each transition may start from.
_ALLOWED_FROM: dict[str, tuple[OrderStatus, ...]] = {
    "confirm": ("placed",),
    "cancel": ("placed", "confirmed"),
    "ship": ("confirmed",),
}


def decide(state: OrderState, command: OrderCommand) -> list[OrderEvent] | Rejected:
    if isinstance(command, PlaceOrder):
        return _place(state, command)
    if state.status == "new":
        return rejected(
            "order-not-found", f"order {state.order_id} was never placed", order_id=state.order_id
        )
    match command:
        case ConfirmOrder():
            return _transition(state, "confirm") or [OrderConfirmed()]
        case CancelOrder(reason=reason):
            return _transition(state, "cancel") or [
                OrderCancelled(reason=reason, lines=state.lines)
            ]
        case ShipOrder():
            return _transition(state, "ship") or [OrderShipped(lines=state.lines)]
        case RecordPayment(amount=amount):
            return [PaymentRecorded(amount=amount)]
        case RecordRefund(amount=amount):
            return [RefundRecorded(amount=amount)]
    raise TypeError(f"not an order command: {type(command).__name__}")


def _place(state: OrderState, command: PlaceOrder) -> list[OrderEvent] | Rejected:
    if state.status != "new":
        return rejected(
            "order-exists", f"order {state.order_id} was already placed", order_id=state.order_id
        )
    skus = [line.sku for line in command.lines]
    duplicates = sorted({sku for sku in skus if skus.count(sku) > 1})
    if duplicates:
        return rejected(
            "duplicate-sku",
            f"each SKU may appear on one line only: {', '.join(duplicates)}",
            skus=",".join(duplicates),
        )
    total = sum(line.quantity * line.unit_price for line in command.lines)
    return [
        OrderPlaced(
            customer_id=command.customer_id,
            account_id=command.account_id,
            lines=command.lines,
            total=total,
        )
    ]


def _transition(state: OrderState, action: str) -> Rejected | None:
    if state.status in _ALLOWED_FROM[action]:
        return None
    return rejected(
        "illegal-transition",
        f"cannot {action} an order that is {state.status}",
        order_id=state.order_id,
        status=state.status,
        action=action,
    )
