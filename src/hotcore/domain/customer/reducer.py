"""Customer state from its events. Compiled by mypyc (see docs/reducers.md for the style)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from hotcore.contracts.customer import (
    AccountLinked,
    CustomerDeactivated,
    CustomerEvent,
    CustomerRegistered,
    CustomerState,
    CustomerStatus,
    EmailChanged,
)

# C statics in the compiled build; `type(e) is` one of them narrows `e` (docs/reducers.md).
_EMAIL_CHANGED: Final = EmailChanged
_LINKED: Final = AccountLinked
_REGISTERED: Final = CustomerRegistered
_DEACTIVATED: Final = CustomerDeactivated


def initial(stream_id: str) -> CustomerState:
    return CustomerState(customer_id=stream_id)


def fold(state: CustomerState, events: Iterable[CustomerEvent]) -> CustomerState:
    status: CustomerStatus = state.status
    email: str = state.email
    name: str = state.name
    account_ids: list[str] = list(state.account_ids)
    for event in events:
        if type(event) is _EMAIL_CHANGED:
            email = event.new_email
        elif type(event) is _LINKED:
            account_ids.append(event.account_id)
        elif type(event) is _REGISTERED:
            status = "active"
            email = event.email
            name = event.name
        elif type(event) is _DEACTIVATED:
            status = "deactivated"
    return CustomerState(
        customer_id=state.customer_id,
        status=status,
        email=email,
        name=name,
        account_ids=account_ids,
    )


def evolve(state: CustomerState, event: CustomerEvent) -> CustomerState:
    return fold(state, (event,))
