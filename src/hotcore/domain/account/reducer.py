"""Account state from its events. Compiled by mypyc (see docs/reducers.md for the style)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from hotcore.contracts.account import (
    AccountClosed,
    AccountEvent,
    AccountOpened,
    AccountState,
    AccountStatus,
    Deposited,
    Withdrawn,
)

# Module-level Final names are C statics in the compiled build (a bare imported name is a
# dict lookup per use), and `type(e) is` one of them narrows `e` for mypy and mypyc.
# `isinstance` on a msgspec Struct goes through its metaclass's __instancecheck__.
_DEPOSITED: Final = Deposited
_WITHDRAWN: Final = Withdrawn
_OPENED: Final = AccountOpened
_CLOSED: Final = AccountClosed


def initial(stream_id: str) -> AccountState:
    return AccountState(account_id=stream_id)


def fold(state: AccountState, events: Iterable[AccountEvent]) -> AccountState:
    # Accumulate in locals and build the frozen state once: long ledgers fold in one pass
    # without allocating a state per event. The events long streams are made of come first.
    status: AccountStatus = state.status
    owner_id: str = state.owner_id
    balance: int = state.balance
    for event in events:
        if type(event) is _DEPOSITED:
            balance += event.amount
        elif type(event) is _WITHDRAWN:
            balance -= event.amount
        elif type(event) is _OPENED:
            status = "open"
            owner_id = event.owner_id
        elif type(event) is _CLOSED:
            status = "closed"
    return AccountState(
        account_id=state.account_id, status=status, owner_id=owner_id, balance=balance
    )


def evolve(state: AccountState, event: AccountEvent) -> AccountState:
    return fold(state, (event,))
