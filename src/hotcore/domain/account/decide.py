"""Account rules: open once, no overdraft, closed accounts reject everything, close only at zero."""

from __future__ import annotations

from hotcore.contracts.account import (
    AccountClosed,
    AccountCommand,
    AccountEvent,
    AccountOpened,
    AccountState,
    CloseAccount,
    Deposit,
    Deposited,
    OpenAccount,
    Withdraw,
    Withdrawn,
)
from hotcore.contracts.common import Rejected
from hotcore.domain.aggregate import rejected


def decide(state: AccountState, command: AccountCommand) -> list[AccountEvent] | Rejected:
    if state.status == "closed":
        return rejected(
            "account-closed", f"account {state.account_id} is closed", account_id=state.account_id
        )
    if isinstance(command, OpenAccount):
        if state.status != "new":
            return rejected(
                "account-exists",
                f"account {state.account_id} is already open",
                account_id=state.account_id,
            )
        return [AccountOpened(owner_id=command.owner_id)]
    if state.status == "new":
        return rejected(
            "account-not-open",
            f"account {state.account_id} is not open",
            account_id=state.account_id,
        )
    match command:
        case Deposit(amount=amount, reference=reference):
            return [Deposited(amount=amount, memo=reference)]
        case Withdraw(amount=amount, reference=reference):
            if amount > state.balance:
                return rejected(
                    "insufficient-funds",
                    f"cannot withdraw {amount} from a balance of {state.balance}",
                    balance=state.balance,
                    amount=amount,
                )
            return [Withdrawn(amount=amount, reference=reference)]
        case CloseAccount():
            if state.balance != 0:
                return rejected(
                    "balance-not-zero",
                    f"cannot close an account holding {state.balance}",
                    balance=state.balance,
                )
            return [AccountClosed()]
    raise TypeError(f"not an account command: {type(command).__name__}")
