"""Customer rules: register once, deactivated customers reject everything, e-mails unique.

Uniqueness of e-mails spans all customers, so no single stream can decide it: ``guards``
turns the events into claims and releases that the store applies in the same transaction.
E-mails are compared case-insensitively (stored lower-cased).
"""

from __future__ import annotations

from collections.abc import Sequence

from hotcore.contracts.common import Guard, Rejected
from hotcore.contracts.customer import (
    AccountLinked,
    ChangeEmail,
    CustomerCommand,
    CustomerDeactivated,
    CustomerEvent,
    CustomerRegistered,
    CustomerState,
    DeactivateCustomer,
    EmailChanged,
    LinkAccount,
    RegisterCustomer,
)
from hotcore.domain.aggregate import rejected

EMAIL_SCOPE = "customer-email"


def decide(state: CustomerState, command: CustomerCommand) -> list[CustomerEvent] | Rejected:
    if state.status == "deactivated":
        return rejected(
            "customer-deactivated",
            f"customer {state.customer_id} is deactivated",
            customer_id=state.customer_id,
        )
    if isinstance(command, RegisterCustomer):
        if state.status != "new":
            return rejected(
                "customer-exists",
                f"customer {state.customer_id} is already registered",
                customer_id=state.customer_id,
            )
        return [CustomerRegistered(email=command.email.lower(), name=command.name)]
    if state.status == "new":
        return rejected(
            "customer-not-found",
            f"customer {state.customer_id} is not registered",
            customer_id=state.customer_id,
        )
    match command:
        case ChangeEmail(email=email):
            new_email = email.lower()
            if new_email == state.email:
                return []
            return [EmailChanged(old_email=state.email, new_email=new_email)]
        case DeactivateCustomer():
            return [CustomerDeactivated()]
        case LinkAccount(account_id=account_id):
            if account_id in state.account_ids:
                return []
            return [AccountLinked(account_id=account_id)]
    raise TypeError(f"not a customer command: {type(command).__name__}")


def guards(state: CustomerState, events: Sequence[CustomerEvent]) -> list[Guard]:
    """The e-mail claims and releases the store must apply together with ``events``."""
    result: list[Guard] = []
    email = state.email
    for event in events:
        match event:
            case CustomerRegistered(email=new):
                result.append(Guard(scope=EMAIL_SCOPE, value=new))
                email = new
            case EmailChanged(old_email=old, new_email=new):
                result.append(Guard(scope=EMAIL_SCOPE, value=new))
                result.append(Guard(scope=EMAIL_SCOPE, value=old, claim=False))
                email = new
            case CustomerDeactivated():
                result.append(Guard(scope=EMAIL_SCOPE, value=email, claim=False))
            case AccountLinked():
                pass
    return result
