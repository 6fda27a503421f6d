"""Account rules: given events, when a command, then events or a rejection."""

from __future__ import annotations

from hotcore.contracts.account import (
    AccountClosed,
    AccountOpened,
    AccountState,
    CloseAccount,
    Deposit,
    Deposited,
    OpenAccount,
    Withdraw,
    Withdrawn,
)
from hotcore.contracts.customer import CustomerRegistered, EmailChanged
from hotcore.domain.account import ACCOUNT
from hotcore.domain.account.react import on_customer_event
from tests.support.given_when_then import decide, from_stream, then_rejected

OPENED = AccountOpened(owner_id="cust-1")


def test_open_a_new_account() -> None:
    assert decide(ACCOUNT, [], OpenAccount(account_id="a", owner_id="cust-1")) == [OPENED]


def test_an_account_opens_once() -> None:
    then_rejected(
        decide(ACCOUNT, [OPENED], OpenAccount(account_id="a", owner_id="x")), "account-exists"
    )


def test_deposits_and_withdrawals_need_an_open_account() -> None:
    then_rejected(decide(ACCOUNT, [], Deposit(account_id="a", amount=5)), "account-not-open")
    then_rejected(decide(ACCOUNT, [], Withdraw(account_id="a", amount=5)), "account-not-open")
    then_rejected(decide(ACCOUNT, [], CloseAccount(account_id="a")), "account-not-open")


def test_deposit_keeps_its_reference() -> None:
    assert decide(ACCOUNT, [OPENED], Deposit(account_id="a", amount=5, reference="r-1")) == [
        Deposited(amount=5, memo="r-1")
    ]


def test_withdraw_up_to_the_balance() -> None:
    given = [OPENED, Deposited(amount=10)]
    assert decide(ACCOUNT, given, Withdraw(account_id="a", amount=10)) == [Withdrawn(amount=10)]


def test_no_overdraft() -> None:
    given = [OPENED, Deposited(amount=10), Withdrawn(amount=4)]
    outcome = decide(ACCOUNT, given, Withdraw(account_id="a", amount=7))
    then_rejected(outcome, "insufficient-funds", balance=6, amount=7)


def test_close_only_at_zero() -> None:
    then_rejected(
        decide(ACCOUNT, [OPENED, Deposited(amount=1)], CloseAccount(account_id="a")),
        "balance-not-zero",
        balance=1,
    )
    assert decide(ACCOUNT, [OPENED], CloseAccount(account_id="a")) == [AccountClosed()]


def test_a_closed_account_rejects_everything() -> None:
    closed = [OPENED, AccountClosed()]
    for command in (
        OpenAccount(account_id="a", owner_id="x"),
        Deposit(account_id="a", amount=1),
        Withdraw(account_id="a", amount=1),
        CloseAccount(account_id="a"),
    ):
        then_rejected(decide(ACCOUNT, closed, command), "account-closed")


def test_fold_sums_the_ledger() -> None:
    events = [OPENED, Deposited(amount=10), Withdrawn(amount=3), Deposited(amount=5)]
    assert ACCOUNT.fold(ACCOUNT.initial("a"), events) == AccountState(
        account_id="a", status="open", owner_id="cust-1", balance=12
    )


def test_a_registered_customer_gets_an_account() -> None:
    registered = from_stream("cust-1", CustomerRegistered(email="a@b.io", name="A"))
    assert on_customer_event(registered) == [OpenAccount(account_id="cust-1", owner_id="cust-1")]
    assert (
        on_customer_event(
            from_stream("cust-1", EmailChanged(old_email="a@b.io", new_email="c@d.io"))
        )
        == []
    )
