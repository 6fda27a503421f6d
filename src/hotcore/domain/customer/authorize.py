"""Customer policies: a customer registers, changes the e-mail of and deactivates only
themself (back-office staff may deactivate anyone); linking an account is internal. A
customer reads only their own record; back-office staff read every customer's."""

from __future__ import annotations

from hotcore.contracts.common import Rejected
from hotcore.contracts.customer import (
    ChangeEmail,
    CustomerCommand,
    CustomerState,
    DeactivateCustomer,
    RegisterCustomer,
)
from hotcore.domain.principal import Principal, only_self, self_or_back_office

#: Commands front-end servers may send; LinkAccount comes from the event handler only.
PUBLIC_COMMANDS = (RegisterCustomer, ChangeEmail, DeactivateCustomer)


def authorize(
    principal: Principal, state: CustomerState, command: CustomerCommand
) -> Rejected | None:
    match command:
        case RegisterCustomer(customer_id=customer_id):
            return only_self(
                principal, "self-registration", customer_id, "a customer registers only themself"
            )
        case ChangeEmail(customer_id=customer_id):
            return only_self(
                principal, "own-email", customer_id, "a customer changes only their own e-mail"
            )
        case DeactivateCustomer(customer_id=customer_id):
            if principal.is_back_office():
                return None
            return only_self(
                principal,
                "self-or-back-office",
                customer_id,
                "a customer deactivates only themself",
            )
    return None


def may_read(principal: Principal, stream_id: str, state: CustomerState) -> Rejected | None:
    # a customer's stream id is the customer's id, registered or not
    return self_or_back_office(
        principal, "own-record", stream_id, "a customer reads only their own record"
    )
