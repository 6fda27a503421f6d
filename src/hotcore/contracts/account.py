"""Account contracts: a ledger in minor units that never goes below zero."""

from __future__ import annotations

from typing import Literal

from msgspec import Struct

from hotcore.contracts.common import Amount, Contract, Id, Text


# Commands
class OpenAccount(Contract, frozen=True, kw_only=True):
    account_id: Id
    owner_id: Id


class Deposit(Contract, frozen=True, kw_only=True):
    account_id: Id
    amount: Amount
    reference: Text | None = None


class Withdraw(Contract, frozen=True, kw_only=True):
    account_id: Id
    amount: Amount
    reference: Text | None = None


class CloseAccount(Contract, frozen=True, kw_only=True):
    account_id: Id


AccountCommand = OpenAccount | Deposit | Withdraw | CloseAccount


# Events
class AccountOpened(Contract, frozen=True, kw_only=True):
    owner_id: Id


class Deposited(Contract, frozen=True, kw_only=True):
    amount: Amount
    reference: Text | None = None


class Withdrawn(Contract, frozen=True, kw_only=True):
    amount: Amount
    reference: Text | None = None


class AccountClosed(Contract, frozen=True, kw_only=True):
    pass


AccountEvent = AccountOpened | Deposited | Withdrawn | AccountClosed


# Queries
class GetAccount(Contract, frozen=True, kw_only=True):
    account_id: Id


AccountQuery = GetAccount

AccountStatus = Literal["new", "open", "closed"]


class AccountState(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The folded state of one account. ``new`` means no event yet."""

    account_id: str
    status: AccountStatus = "new"
    owner_id: str = ""
    balance: int = 0
