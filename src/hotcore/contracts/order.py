"""Order contracts: a lifecycle from placed to confirmed and shipped, or cancelled."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from hotcore.contracts.common import Amount, Contract, Id, Quantity, Text


class OrderLine(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sku: Id
    quantity: Quantity
    unit_price: Amount


Lines = Annotated[list[OrderLine], Meta(min_length=1, max_length=50)]


# Commands
class PlaceOrder(Contract, frozen=True, kw_only=True):
    order_id: Id
    customer_id: Id
    account_id: Id
    lines: Lines


class ConfirmOrder(Contract, frozen=True, kw_only=True):
    order_id: Id


class CancelOrder(Contract, frozen=True, kw_only=True):
    order_id: Id
    reason: Text


class ShipOrder(Contract, frozen=True, kw_only=True):
    order_id: Id


class RecordPayment(Contract, frozen=True, kw_only=True):
    """Sent by Order's event handler when the account is charged for this order."""

    order_id: Id
    amount: Amount


class RecordRefund(Contract, frozen=True, kw_only=True):
    """Sent by Order's event handler when a charge for this order is refunded."""

    order_id: Id
    amount: Amount


OrderCommand = PlaceOrder | ConfirmOrder | CancelOrder | ShipOrder | RecordPayment | RecordRefund


# Events
class OrderPlaced(Contract, frozen=True, kw_only=True):
    customer_id: Id
    account_id: Id
    lines: Lines
    total: Amount


class OrderConfirmed(Contract, frozen=True, kw_only=True):
    pass


class OrderCancelled(Contract, frozen=True, kw_only=True):
    reason: Text
    lines: Lines


class OrderShipped(Contract, frozen=True, kw_only=True):
    lines: Lines


class PaymentRecorded(Contract, frozen=True, kw_only=True):
    amount: Amount


class RefundRecorded(Contract, frozen=True, kw_only=True):
    amount: Amount


OrderEvent = (
    OrderPlaced | OrderConfirmed | OrderCancelled | OrderShipped | PaymentRecorded | RefundRecorded
)


# Queries
class GetOrder(Contract, frozen=True, kw_only=True):
    order_id: Id


OrderQuery = GetOrder

OrderStatus = Literal["new", "placed", "confirmed", "cancelled", "shipped"]


class OrderState(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The folded state of one order; ``paid`` is what was charged minus what was refunded."""

    order_id: str
    status: OrderStatus = "new"
    customer_id: str = ""
    account_id: str = ""
    lines: list[OrderLine] = []
    total: int = 0
    paid: int = 0


#: How a charge and a refund for an order are referenced on the account's ledger. Order's
#: event handler reads these to record payments; the PlaceOrder saga writes them.
CHARGE_REFERENCE_PREFIX = "order:"
REFUND_REFERENCE_PREFIX = "refund:"
