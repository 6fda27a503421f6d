"""Given events, when a principal sends a command, then events or ``forbidden``: every policy.

Principals: Ann and Bob are customers (their ids are their token subjects), Eve works in
the back office, ``server`` is a front-end server that named no user, and ``saga`` is a
system caller (the PlaceOrder state machine, by direct invocation).
"""

from __future__ import annotations

from typing import Any

import pytest

from hotcore.contracts.account import (
    AccountOpened,
    CloseAccount,
    Deposit,
    Deposited,
    OpenAccount,
    Withdraw,
    Withdrawn,
)
from hotcore.contracts.customer import (
    AccountLinked,
    ChangeEmail,
    CustomerDeactivated,
    CustomerRegistered,
    DeactivateCustomer,
    EmailChanged,
    LinkAccount,
    RegisterCustomer,
)
from hotcore.contracts.inventory import (
    AddStock,
    CommitReservation,
    ReleaseReservation,
    ReservationCommitted,
    ReservationReleased,
    ReserveStock,
    StockAdded,
    StockReserved,
)
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
from hotcore.domain.account import ACCOUNT
from hotcore.domain.customer import CUSTOMER
from hotcore.domain.inventory import INVENTORY
from hotcore.domain.order import ORDER
from hotcore.domain.principal import Principal, system
from hotcore.domain.registry import aggregates
from tests.support.given_when_then import decide_as, read_as, then_forbidden

ANN = Principal(subject="ann", caller="storefront")
BOB = Principal(subject="bob", caller="storefront")
EVE = Principal(subject="eve", groups=frozenset({"back-office"}), caller="back-office")
SERVER = Principal(caller="storefront")
SAGA = system("saga:place-order")

ANNS_ACCOUNT = [AccountOpened(owner_id="ann"), Deposited(amount=1000)]
LINES = [OrderLine(sku="sku-1", quantity=2, unit_price=250)]
ANNS_ORDER = [OrderPlaced(customer_id="ann", account_id="ann", lines=LINES, total=500)]


# Account
def test_the_owner_withdraws_from_their_account() -> None:
    when = Withdraw(account_id="ann", amount=100)
    assert decide_as(ACCOUNT, ANN, ANNS_ACCOUNT, when) == [Withdrawn(amount=100)]


@pytest.mark.parametrize("who", [BOB, EVE, SERVER])
def test_no_one_else_withdraws_from_an_account(who: Principal) -> None:
    then_forbidden(
        decide_as(ACCOUNT, who, ANNS_ACCOUNT, Withdraw(account_id="ann", amount=100)),
        "account-owner",
    )


def test_the_saga_charges_an_account_for_an_order() -> None:
    when = Withdraw(account_id="ann", amount=500, reference="order:o-1")
    assert decide_as(ACCOUNT, SAGA, ANNS_ACCOUNT, when) == [
        Withdrawn(amount=500, reference="order:o-1")
    ]


@pytest.mark.parametrize(
    "when",
    [
        Withdraw(account_id="ann", amount=500, reference="order:o-1"),
        Deposit(account_id="ann", amount=500, reference="refund:o-1"),
    ],
)
def test_not_even_the_owner_uses_the_sagas_ledger_references(when: Any) -> None:
    """Order's event handler records these as an order's payment or refund."""
    then_forbidden(decide_as(ACCOUNT, ANN, ANNS_ACCOUNT, when), "reserved-reference")


def test_the_owner_deposits_and_others_do_not() -> None:
    when = Deposit(account_id="ann", amount=5)
    assert decide_as(ACCOUNT, ANN, ANNS_ACCOUNT, when) == [Deposited(amount=5)]
    then_forbidden(decide_as(ACCOUNT, BOB, ANNS_ACCOUNT, when), "account-owner")


def test_only_the_owner_closes_an_account() -> None:
    given = [AccountOpened(owner_id="ann")]
    then_forbidden(decide_as(ACCOUNT, BOB, given, CloseAccount(account_id="ann")), "account-owner")
    assert decide_as(ACCOUNT, ANN, given, CloseAccount(account_id="ann")) != []


def test_accounts_are_opened_by_accounts_event_handler_only() -> None:
    when = OpenAccount(account_id="ann-2", owner_id="ann")
    then_forbidden(decide_as(ACCOUNT, ANN, [], when), "internal-command")
    assert decide_as(ACCOUNT, system("hotcore.account.events"), [], when) == [
        AccountOpened(owner_id="ann")
    ]


# Customer
ANN_REGISTERED = [CustomerRegistered(email="ann@example.com", name="Ann")]


def test_a_customer_registers_only_themself() -> None:
    when = RegisterCustomer(customer_id="ann", email="ann@example.com", name="Ann")
    assert decide_as(CUSTOMER, ANN, [], when) == ANN_REGISTERED
    then_forbidden(decide_as(CUSTOMER, BOB, [], when), "self-registration")
    then_forbidden(decide_as(CUSTOMER, SERVER, [], when), "self-registration")


def test_a_customer_changes_only_their_own_email() -> None:
    when = ChangeEmail(customer_id="ann", email="ann@new.example")
    assert decide_as(CUSTOMER, ANN, ANN_REGISTERED, when) == [
        EmailChanged(old_email="ann@example.com", new_email="ann@new.example")
    ]
    then_forbidden(decide_as(CUSTOMER, BOB, ANN_REGISTERED, when), "own-email")
    then_forbidden(decide_as(CUSTOMER, EVE, ANN_REGISTERED, when), "own-email")


def test_a_customer_is_deactivated_by_themself_or_the_back_office() -> None:
    when = DeactivateCustomer(customer_id="ann")
    assert decide_as(CUSTOMER, ANN, ANN_REGISTERED, when) == [CustomerDeactivated()]
    assert decide_as(CUSTOMER, EVE, ANN_REGISTERED, when) == [CustomerDeactivated()]
    then_forbidden(decide_as(CUSTOMER, BOB, ANN_REGISTERED, when), "self-or-back-office")


def test_accounts_are_linked_by_customers_event_handler_only() -> None:
    when = LinkAccount(customer_id="ann", account_id="ann")
    then_forbidden(decide_as(CUSTOMER, ANN, ANN_REGISTERED, when), "internal-command")
    assert decide_as(CUSTOMER, system("hotcore.customer.events"), ANN_REGISTERED, when) == [
        AccountLinked(account_id="ann")
    ]


# Inventory
def test_only_the_back_office_adds_stock() -> None:
    when = AddStock(sku="sku-1", quantity=5)
    assert decide_as(INVENTORY, EVE, [], when) == [StockAdded(quantity=5)]
    then_forbidden(decide_as(INVENTORY, ANN, [], when), "back-office-only")
    then_forbidden(decide_as(INVENTORY, SERVER, [], when), "back-office-only")


@pytest.mark.parametrize(
    ("given", "when", "then"),
    [
        (
            [StockAdded(quantity=5)],
            ReserveStock(sku="sku-1", order_id="o-1", quantity=2),
            [StockReserved(order_id="o-1", quantity=2)],
        ),
        (
            [StockAdded(quantity=5), StockReserved(order_id="o-1", quantity=2)],
            ReleaseReservation(sku="sku-1", order_id="o-1"),
            [ReservationReleased(order_id="o-1", quantity=2)],
        ),
        (
            [StockAdded(quantity=5), StockReserved(order_id="o-1", quantity=2)],
            CommitReservation(sku="sku-1", order_id="o-1"),
            [ReservationCommitted(order_id="o-1", quantity=2)],
        ),
    ],
)
def test_reservations_are_the_systems_alone(given: list[Any], when: Any, then: Any) -> None:
    for who in (ANN, EVE, SERVER):
        then_forbidden(decide_as(INVENTORY, who, given, when), "internal-command")
    assert decide_as(INVENTORY, SAGA, given, when) == then


# Order
def place(customer: str = "ann", account: str = "ann") -> PlaceOrder:
    return PlaceOrder(order_id="o-1", customer_id=customer, account_id=account, lines=LINES)


def test_a_customer_places_orders_for_themself_on_their_own_account() -> None:
    assert decide_as(ORDER, ANN, [], place()) == ANNS_ORDER
    then_forbidden(decide_as(ORDER, BOB, [], place()), "order-for-oneself")
    then_forbidden(decide_as(ORDER, SERVER, [], place()), "order-for-oneself")
    then_forbidden(decide_as(ORDER, ANN, [], place(account="bob")), "own-account")


def test_only_the_back_office_ships() -> None:
    given = [*ANNS_ORDER, OrderConfirmed()]
    assert decide_as(ORDER, EVE, given, ShipOrder(order_id="o-1")) == [OrderShipped(lines=LINES)]
    then_forbidden(decide_as(ORDER, ANN, given, ShipOrder(order_id="o-1")), "back-office-only")


def test_an_order_is_cancelled_by_its_customer_the_back_office_or_the_saga() -> None:
    when = CancelOrder(order_id="o-1", reason="changed my mind")
    then = [OrderCancelled(reason="changed my mind", lines=LINES)]
    for who in (ANN, EVE, SAGA):
        assert decide_as(ORDER, who, ANNS_ORDER, when) == then
    then_forbidden(decide_as(ORDER, BOB, ANNS_ORDER, when), "own-order")


@pytest.mark.parametrize(
    ("when", "then"),
    [
        (ConfirmOrder(order_id="o-1"), [OrderConfirmed()]),
        (RecordPayment(order_id="o-1", amount=500), [PaymentRecorded(amount=500)]),
        (RecordRefund(order_id="o-1", amount=500), [RefundRecorded(amount=500)]),
    ],
)
def test_confirming_and_recording_payments_are_the_systems_alone(when: Any, then: Any) -> None:
    for who in (ANN, EVE, SERVER):
        then_forbidden(decide_as(ORDER, who, ANNS_ORDER, when), "internal-command")
    assert decide_as(ORDER, system("hotcore.order.events"), ANNS_ORDER, when) == then


def test_every_command_sagas_and_event_handlers_send_is_internal() -> None:
    """The saga's and reactions' commands that no end user may send, by name, per aggregate."""
    internal = {
        name: sorted(
            cls.__name__ for cls in aggregate.command_type.__args__ if not aggregate.is_public(cls)
        )
        for name, aggregate in aggregates().items()
    }
    assert internal == {
        "account": ["OpenAccount"],
        "customer": ["LinkAccount"],
        "inventory": ["CommitReservation", "ReleaseReservation", "ReserveStock"],
        "order": ["ConfirmOrder", "RecordPayment", "RecordRefund"],
    }


# Reads: the state, the history and the published events of an instance


def test_an_account_is_read_by_its_owner_and_the_back_office() -> None:
    assert read_as(ACCOUNT, ANN, "ann", ANNS_ACCOUNT) is None
    assert read_as(ACCOUNT, EVE, "ann", ANNS_ACCOUNT) is None
    assert read_as(ACCOUNT, SAGA, "ann", ANNS_ACCOUNT) is None
    then_forbidden(read_as(ACCOUNT, BOB, "ann", ANNS_ACCOUNT), "account-owner")
    then_forbidden(read_as(ACCOUNT, SERVER, "ann", ANNS_ACCOUNT), "account-owner")


def test_an_account_not_opened_yet_is_its_future_owners() -> None:
    # the event handler opens each customer's account under the customer's id
    assert read_as(ACCOUNT, ANN, "ann", []) is None
    then_forbidden(read_as(ACCOUNT, BOB, "ann", []), "account-owner")


def test_an_account_opened_for_another_owner_is_the_owners() -> None:
    given = [AccountOpened(owner_id="bob")]  # opened by the system under another id
    assert read_as(ACCOUNT, BOB, "joint-1", given) is None
    then_forbidden(read_as(ACCOUNT, ANN, "joint-1", given), "account-owner")


def test_a_customer_reads_only_their_own_record() -> None:
    given = [CustomerRegistered(email="ann@example.com", name="Ann")]
    assert read_as(CUSTOMER, ANN, "ann", given) is None
    assert read_as(CUSTOMER, EVE, "ann", given) is None
    then_forbidden(read_as(CUSTOMER, BOB, "ann", given), "own-record")
    then_forbidden(read_as(CUSTOMER, SERVER, "ann", []), "own-record")


def test_an_order_is_read_by_its_customer_and_the_back_office() -> None:
    assert read_as(ORDER, ANN, "o-1", ANNS_ORDER) is None
    assert read_as(ORDER, EVE, "o-1", ANNS_ORDER) is None
    then_forbidden(read_as(ORDER, BOB, "o-1", ANNS_ORDER), "own-order")
    then_forbidden(read_as(ORDER, SERVER, "o-1", ANNS_ORDER), "own-order")


def test_an_order_not_placed_yet_is_read_by_the_back_office_only() -> None:
    # it has no customer yet: whoever follows it now would see whoever places it
    then_forbidden(read_as(ORDER, ANN, "o-2", []), "own-order")
    assert read_as(ORDER, EVE, "o-2", []) is None
    assert read_as(ORDER, SAGA, "o-2", []) is None


def test_stock_levels_are_read_by_every_caller() -> None:
    given = [StockAdded(quantity=3)]
    for principal in (ANN, BOB, EVE, SERVER, SAGA):
        assert read_as(INVENTORY, principal, "sku-1", given) is None
