"""Order policies: a customer places orders for themself, charged to their own account, and
cancels only their own orders; only back-office staff ship (or cancel any order).

Confirming and recording payments and refunds are internal (the PlaceOrder saga and
Order's event handler). The saga charges the account an order names as the system, so
the order must name the customer's own account: every account is opened by Account's
event handler for a registered customer, under the customer's id.

An order is read by its customer and by back-office staff. An order not placed yet has
no customer: only back-office staff may read (or follow) it, so a customer subscribes
to an order once ``placeOrder`` answered, and reads what it missed (``getOrder``).
"""

from __future__ import annotations

from hotcore.contracts.common import Rejected
from hotcore.contracts.order import CancelOrder, OrderCommand, OrderState, PlaceOrder, ShipOrder
from hotcore.domain.principal import (
    Principal,
    forbidden,
    only_back_office,
    only_self,
    self_or_back_office,
)

#: Commands front-end servers may send; ConfirmOrder, RecordPayment and RecordRefund are internal.
PUBLIC_COMMANDS = (PlaceOrder, CancelOrder, ShipOrder)


def authorize(principal: Principal, state: OrderState, command: OrderCommand) -> Rejected | None:
    match command:
        case PlaceOrder(customer_id=customer_id, account_id=account_id):
            refused = only_self(
                principal, "order-for-oneself", customer_id, "a customer orders only for themself"
            )
            if refused is None and account_id != customer_id:
                return forbidden(
                    "own-account",
                    "an order is charged to its customer's own account",
                    account_id=account_id,
                )
            return refused
        case CancelOrder():
            if principal.is_back_office():
                return None
            return only_self(
                principal,
                "own-order",
                state.customer_id,
                "a customer cancels only their own orders",
            )
        case ShipOrder():
            return only_back_office(principal, "ship orders")
    return None


def may_read(principal: Principal, stream_id: str, state: OrderState) -> Rejected | None:
    if not state.customer_id and not principal.is_back_office():
        return forbidden("own-order", "no order of yours has this id", subject=principal.subject)
    return self_or_back_office(
        principal, "own-order", state.customer_id, "a customer reads only their own orders"
    )
