"""Account state from its events. Compiled by mypyc: plain typed code over contract attributes."""

from __future__ import annotations

from collections.abc import Iterable

from hotcore.contracts.account import (
    AccountClosed,
    AccountEvent,
    AccountOpened,
    AccountState,
    AccountStatus,
    Deposited,
    Withdrawn,
)


def initial(stream_id: str) -> AccountState:
    return AccountState(account_id=stream_id)


def fold(state: AccountState, events: Iterable[AccountEvent]) -> AccountState:
    # Accumulate in locals and build the frozen state once: long ledgers fold in one pass
    # without allocating a state per event.
    status: AccountStatus = state.status
    owner_id = state.owner_id
    balance: int = state.balance
    for event in events:
        if isinstance(event, Deposited):
            balance += event.amount
        elif isinstance(event, Withdrawn):
            balance -= event.amount
        elif isinstance(event, AccountOpened):
            status = "open"
            owner_id = event.owner_id
        elif isinstance(event, AccountClosed):
            status = "closed"
    return AccountState(
        account_id=state.account_id, status=status, owner_id=owner_id, balance=balance
    )


def evolve(state: AccountState, event: AccountEvent) -> AccountState:
    return fold(state, (event,))
