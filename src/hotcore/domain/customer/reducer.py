"""Customer state from its events. Compiled by mypyc: plain typed code over contract attributes."""

from __future__ import annotations

from collections.abc import Iterable

from hotcore.contracts.customer import (
    AccountLinked,
    CustomerDeactivated,
    CustomerEvent,
    CustomerRegistered,
    CustomerState,
    CustomerStatus,
    EmailChanged,
)


def initial(stream_id: str) -> CustomerState:
    return CustomerState(customer_id=stream_id)


def fold(state: CustomerState, events: Iterable[CustomerEvent]) -> CustomerState:
    status: CustomerStatus = state.status
    email = state.email
    name = state.name
    account_ids: list[str] = list(state.account_ids)
    for event in events:
        if isinstance(event, CustomerRegistered):
            status = "active"
            email = event.email
            name = event.name
        elif isinstance(event, EmailChanged):
            email = event.new_email
        elif isinstance(event, AccountLinked):
            account_ids.append(event.account_id)
        elif isinstance(event, CustomerDeactivated):
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
