"""Order contracts: a lifecycle from placed to confirmed and shipped, or cancelled."""

from typing import Annotated, Literal

from msgspec import Meta, Struct

# the ledger references of an order's charge and refund live with the shared types (Account's
# policy reads them without loading Order's contracts); re-exported for Order's code
from hotcore.contracts.common import CHARGE_REFERENCE_PREFIX as CHARGE_REFERENCE_PREFIX
from hotcore.contracts.common import REFUND_REFERENCE_PREFIX as REFUND_REFERENCE_PREFIX
from hotcore.contracts.common import Amount, Contract, Event, Id, Quantity, Text


class OrderLine(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One line of an order: a SKU, how many, and the price of one (minor units)."""

    sku: Id
    quantity: Quantity
    unit_price: Amount


Lines = Annotated[list[OrderLine], Meta(min_length=1, max_length=50)]


# Commands
class PlaceOrder(Contract, frozen=True, kw_only=True):
    """Place an order; the PlaceOrder saga then reserves stock and charges the account."""

    order_id: Id
    customer_id: Id
    account_id: Id
    lines: Lines


class ConfirmOrder(Contract, frozen=True, kw_only=True):
    """Confirm a placed order (the saga does, once stock is held and paid)."""

    order_id: Id


class CancelOrder(Contract, frozen=True, kw_only=True):
    """Cancel an order that has not shipped, with a reason."""

    order_id: Id
    reason: Text


class ShipOrder(Contract, frozen=True, kw_only=True):
    """Ship a confirmed order."""

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
class OrderPlaced(Event, frozen=True, kw_only=True):
    """The order was placed, with its lines and total."""

    customer_id: Id
    account_id: Id
    lines: Lines
    total: Amount


class OrderConfirmed(Event, frozen=True, kw_only=True):
    """The order was confirmed: stock held and paid."""


class OrderCancelled(Event, frozen=True, kw_only=True):
    """The order was cancelled; its lines say what stock to release."""

    reason: Text
    lines: Lines


class OrderShipped(Event, frozen=True, kw_only=True):
    """The order was shipped; its lines say what stock left."""

    lines: Lines


class PaymentRecorded(Event, frozen=True, kw_only=True):
    """The account was charged for the order."""

    amount: Amount


class RefundRecorded(Event, frozen=True, kw_only=True):
    """A charge for the order was refunded."""

    amount: Amount


OrderEvent = (
    OrderPlaced | OrderConfirmed | OrderCancelled | OrderShipped | PaymentRecorded | RefundRecorded
)


# Queries
class GetOrder(Contract, frozen=True, kw_only=True):
    """The state of one order."""

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
