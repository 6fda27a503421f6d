"""Order rules: the lifecycle state machine, given events, when a command, then events."""

from __future__ import annotations

import pytest

from hotcore.contracts.account import Deposited, Withdrawn
from hotcore.contracts.order import (
    CancelOrder,
    ConfirmOrder,
    OrderCancelled,
    OrderConfirmed,
    OrderLine,
    OrderPlaced,
    OrderShipped,
    PaymentRecorded,
    PlaceOrder,
    RecordPayment,
    RecordRefund,
    RefundRecorded,
    ShipOrder,
)
from hotcore.domain.order import ORDER
from hotcore.domain.order.react import on_account_event
from tests.support.given_when_then import decide, from_stream, then_rejected

LINES = [
    OrderLine(sku="s-1", quantity=2, unit_price=150),
    OrderLine(sku="s-2", quantity=1, unit_price=99),
]
PLACED = OrderPlaced(customer_id="c", account_id="a", lines=LINES, total=399)
PLACE = PlaceOrder(order_id="o", customer_id="c", account_id="a", lines=LINES)


def test_place_computes_the_total() -> None:
    assert decide(ORDER, [], PLACE) == [PLACED]


def test_an_order_is_placed_once() -> None:
    then_rejected(decide(ORDER, [PLACED], PLACE), "order-exists")


def test_a_sku_appears_on_one_line_only() -> None:
    twice = PlaceOrder(order_id="o", customer_id="c", account_id="a", lines=[LINES[0], LINES[0]])
    then_rejected(decide(ORDER, [], twice), "duplicate-sku", skus="s-1")


def test_commands_on_an_unplaced_order_are_rejected() -> None:
    then_rejected(decide(ORDER, [], ConfirmOrder(order_id="o")), "order-not-found")


HISTORIES = {
    "placed": [PLACED],
    "confirmed": [PLACED, OrderConfirmed()],
    "cancelled": [PLACED, OrderCancelled(reason="r", lines=LINES)],
    "shipped": [PLACED, OrderConfirmed(), OrderShipped(lines=LINES)],
}
ACCEPTED = {
    ("placed", "confirm"): [OrderConfirmed()],
    ("placed", "cancel"): [OrderCancelled(reason="why", lines=LINES)],
    ("confirmed", "cancel"): [OrderCancelled(reason="why", lines=LINES)],
    ("confirmed", "ship"): [OrderShipped(lines=LINES)],
}
COMMANDS = {
    "confirm": ConfirmOrder(order_id="o"),
    "cancel": CancelOrder(order_id="o", reason="why"),
    "ship": ShipOrder(order_id="o"),
}


@pytest.mark.parametrize("status", HISTORIES)
@pytest.mark.parametrize("action", COMMANDS)
def test_every_transition_is_legal_or_rejected(status: str, action: str) -> None:
    outcome = decide(ORDER, HISTORIES[status], COMMANDS[action])
    if (status, action) in ACCEPTED:
        assert outcome == ACCEPTED[(status, action)]
    else:
        then_rejected(outcome, "illegal-transition", status=status, action=action)


def test_payments_and_refunds_are_recorded() -> None:
    assert decide(ORDER, [PLACED], RecordPayment(order_id="o", amount=399)) == [
        PaymentRecorded(amount=399)
    ]
    assert decide(ORDER, [PLACED], RecordRefund(order_id="o", amount=399)) == [
        RefundRecorded(amount=399)
    ]
    state = ORDER.fold(
        ORDER.initial("o"), [PLACED, PaymentRecorded(amount=399), RefundRecorded(amount=100)]
    )
    assert state.paid == 299
    assert state.total == 399


def test_charges_and_refunds_on_the_ledger_become_payments() -> None:
    assert on_account_event(from_stream("a", Withdrawn(amount=5, reference="order:o-7"))) == [
        RecordPayment(order_id="o-7", amount=5)
    ]
    assert on_account_event(from_stream("a", Deposited(amount=5, memo="refund:o-7"))) == [
        RecordRefund(order_id="o-7", amount=5)
    ]
    assert on_account_event(from_stream("a", Deposited(amount=5, memo="salary"))) == []
    assert on_account_event(from_stream("a", Withdrawn(amount=5))) == []
