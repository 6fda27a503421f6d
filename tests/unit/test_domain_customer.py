"""Customer rules, and the guards that make e-mails unique across customers."""

from __future__ import annotations

from hotcore.contracts.account import AccountOpened, Deposited
from hotcore.contracts.common import Guard
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
from hotcore.domain.customer import CUSTOMER, EMAIL_SCOPE
from hotcore.domain.customer.react import on_account_event
from tests.support.given_when_then import decide, from_stream, then_rejected

REGISTERED = CustomerRegistered(email="ann@example.com", name="Ann")


def test_register_lower_cases_the_email() -> None:
    command = RegisterCustomer(customer_id="c", email="Ann@Example.COM", name="Ann")
    assert decide(CUSTOMER, [], command) == [REGISTERED]


def test_a_customer_registers_once() -> None:
    command = RegisterCustomer(customer_id="c", email="x@example.com", name="X")
    then_rejected(decide(CUSTOMER, [REGISTERED], command), "customer-exists")


def test_unknown_customers_cannot_be_changed() -> None:
    then_rejected(
        decide(CUSTOMER, [], ChangeEmail(customer_id="c", email="a@b.io")), "customer-not-found"
    )


def test_change_email_records_old_and_new_and_same_email_is_a_no_op() -> None:
    assert decide(CUSTOMER, [REGISTERED], ChangeEmail(customer_id="c", email="New@b.io")) == [
        EmailChanged(old_email="ann@example.com", new_email="new@b.io")
    ]
    assert (
        decide(CUSTOMER, [REGISTERED], ChangeEmail(customer_id="c", email="ANN@example.com")) == []
    )


def test_a_deactivated_customer_rejects_everything() -> None:
    gone = [REGISTERED, CustomerDeactivated()]
    for command in (
        RegisterCustomer(customer_id="c", email="a@b.io", name="A"),
        ChangeEmail(customer_id="c", email="a@b.io"),
        DeactivateCustomer(customer_id="c"),
        LinkAccount(customer_id="c", account_id="a"),
    ):
        then_rejected(decide(CUSTOMER, gone, command), "customer-deactivated")


def test_linking_an_account_twice_changes_nothing() -> None:
    linked = [REGISTERED, AccountLinked(account_id="a")]
    assert decide(CUSTOMER, [REGISTERED], LinkAccount(customer_id="c", account_id="a")) == [
        AccountLinked(account_id="a")
    ]
    assert decide(CUSTOMER, linked, LinkAccount(customer_id="c", account_id="a")) == []


def test_guards_claim_new_emails_and_release_old_ones() -> None:
    initial = CUSTOMER.initial("c")
    assert CUSTOMER.guards(initial, [REGISTERED]) == [
        Guard(scope=EMAIL_SCOPE, value="ann@example.com")
    ]
    registered = CUSTOMER.fold(initial, [REGISTERED])
    changed = EmailChanged(old_email="ann@example.com", new_email="new@b.io")
    assert CUSTOMER.guards(registered, [changed]) == [
        Guard(scope=EMAIL_SCOPE, value="new@b.io"),
        Guard(scope=EMAIL_SCOPE, value="ann@example.com", claim=False),
    ]
    assert CUSTOMER.guards(registered, [CustomerDeactivated()]) == [
        Guard(scope=EMAIL_SCOPE, value="ann@example.com", claim=False)
    ]
    assert CUSTOMER.guards(registered, [AccountLinked(account_id="a")]) == []


def test_an_account_opened_for_a_customer_is_linked() -> None:
    assert on_account_event(from_stream("acc-9", AccountOpened(owner_id="c"))) == [
        LinkAccount(customer_id="c", account_id="acc-9")
    ]
    assert on_account_event(from_stream("acc-9", Deposited(amount=1))) == []
