"""Customer contracts: an entity whose e-mail is unique across all customers."""

from typing import Literal

from msgspec import Struct

from hotcore.contracts.common import Contract, Email, Event, Id, Text


# Commands
class RegisterCustomer(Contract, frozen=True, kw_only=True):
    """Register a customer; the e-mail address must not belong to another customer."""

    customer_id: Id
    email: Email
    name: Text


class ChangeEmail(Contract, frozen=True, kw_only=True):
    """Change a customer's e-mail address (unique across customers)."""

    customer_id: Id
    email: Email


class DeactivateCustomer(Contract, frozen=True, kw_only=True):
    """Deactivate a customer; its e-mail address becomes free again."""

    customer_id: Id


class LinkAccount(Contract, frozen=True, kw_only=True):
    """Sent by Customer's event handler when an account is opened for this customer."""

    customer_id: Id
    account_id: Id


CustomerCommand = RegisterCustomer | ChangeEmail | DeactivateCustomer | LinkAccount


# Events
class CustomerRegistered(Event, frozen=True, kw_only=True):
    """The customer was registered."""

    email: Email
    name: Text


class EmailChanged(Event, frozen=True, kw_only=True):
    """The customer's e-mail address changed."""

    old_email: Email
    new_email: Email


class CustomerDeactivated(Event, frozen=True, kw_only=True):
    """The customer was deactivated."""


class AccountLinked(Event, frozen=True, kw_only=True):
    """An account was opened for the customer."""

    account_id: Id


CustomerEvent = CustomerRegistered | EmailChanged | CustomerDeactivated | AccountLinked


# Queries
class GetCustomer(Contract, frozen=True, kw_only=True):
    """The state of one customer."""

    customer_id: Id


CustomerQuery = GetCustomer

CustomerStatus = Literal["new", "active", "deactivated"]


class CustomerState(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The folded state of one customer, with the accounts opened for it."""

    customer_id: str
    status: CustomerStatus = "new"
    email: str = ""
    name: str = ""
    account_ids: list[str] = []
