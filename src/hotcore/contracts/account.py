"""Account contracts: a ledger in minor units that never goes below zero."""

from typing import Annotated, ClassVar, Literal

from msgspec import Meta, Struct

from hotcore.contracts.common import Amount, Contract, Event, Id, Text

#: An ISO 4217 currency code.
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code")]
#: The ledger's currency until accounts hold others: what a version 1 deposit was in.
LEDGER_CURRENCY = "EUR"


# Commands
class OpenAccount(Contract, frozen=True, kw_only=True):
    """Open an account for an owner (a customer id); the account id is chosen by the caller."""

    account_id: Id
    owner_id: Id


class Deposit(Contract, frozen=True, kw_only=True):
    """Put money into an open account (amount in minor units)."""

    account_id: Id
    amount: Amount
    reference: Text | None = None


class Withdraw(Contract, frozen=True, kw_only=True):
    """Take money out of an open account; refused when the balance would go below zero."""

    account_id: Id
    amount: Amount
    reference: Text | None = None


class CloseAccount(Contract, frozen=True, kw_only=True):
    """Close an account whose balance is zero; a closed account refuses every command."""

    account_id: Id


AccountCommand = OpenAccount | Deposit | Withdraw | CloseAccount


# Events
class AccountOpened(Event, frozen=True, kw_only=True):
    """The account was opened for its owner."""

    owner_id: Id


class DepositedV1(Event, frozen=True, kw_only=True, tag="Deposited"):
    """``Deposited`` as version 1 published it: read from old events, never written."""

    schema_version: ClassVar[int] = 1

    amount: Amount
    reference: Text | None = None

    def upcast(self) -> "Deposited":
        # v2 renamed ``reference`` to ``memo`` and added ``currency``: v1 was the ledger's
        return Deposited(amount=self.amount, memo=self.reference, currency=LEDGER_CURRENCY)


class Deposited(Event, frozen=True, kw_only=True):
    """Money in. Version 2: ``memo`` (was ``reference``) and ``currency`` (new, defaulted)."""

    schema_version: ClassVar[int] = 2
    earlier: ClassVar[tuple[type[Event], ...]] = (DepositedV1,)

    amount: Amount
    memo: Text | None = None
    currency: Currency = LEDGER_CURRENCY


class Withdrawn(Event, frozen=True, kw_only=True):
    """Money out."""

    amount: Amount
    reference: Text | None = None


class AccountClosed(Event, frozen=True, kw_only=True):
    """The account was closed; it refuses everything from now on."""


AccountEvent = AccountOpened | Deposited | Withdrawn | AccountClosed


# Queries
class GetAccount(Contract, frozen=True, kw_only=True):
    """The state of one account."""

    account_id: Id


AccountQuery = GetAccount

AccountStatus = Literal["new", "open", "closed"]


class AccountState(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The folded state of one account. ``new`` means no event yet."""

    account_id: str
    status: AccountStatus = "new"
    owner_id: str = ""
    balance: int = 0
