"""Customer contracts: an entity whose e-mail is unique across all customers."""

from __future__ import annotations

from typing import Literal

from msgspec import Struct

from hotcore.contracts.common import Contract, Email, Id, Text


# Commands
class RegisterCustomer(Contract, frozen=True, kw_only=True):
    customer_id: Id
    email: Email
    name: Text


class ChangeEmail(Contract, frozen=True, kw_only=True):
    customer_id: Id
    email: Email


class DeactivateCustomer(Contract, frozen=True, kw_only=True):
    customer_id: Id


class LinkAccount(Contract, frozen=True, kw_only=True):
    """Sent by Customer's event handler when an account is opened for this customer."""

    customer_id: Id
    account_id: Id


CustomerCommand = RegisterCustomer | ChangeEmail | DeactivateCustomer | LinkAccount


# Events
class CustomerRegistered(Contract, frozen=True, kw_only=True):
    email: Email
    name: Text


class EmailChanged(Contract, frozen=True, kw_only=True):
    old_email: Email
    new_email: Email


class CustomerDeactivated(Contract, frozen=True, kw_only=True):
    pass


class AccountLinked(Contract, frozen=True, kw_only=True):
    account_id: Id


CustomerEvent = CustomerRegistered | EmailChanged | CustomerDeactivated | AccountLinked


# Queries
class GetCustomer(Contract, frozen=True, kw_only=True):
    customer_id: Id


CustomerQuery = GetCustomer

CustomerStatus = Literal["new", "active", "deactivated"]


class CustomerState(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    customer_id: str
    status: CustomerStatus = "new"
    email: str = ""
    name: str = ""
    account_ids: list[str] = []
