"""Account policies: an account's owner moves its money and closes it; the ledger references
that record an order's charge and refund are the saga's alone. Its owner and back-office
staff read it (its state, history and events).

Opening an account is internal: Account's event handler opens one for every registered
customer (see react.py), so every account's owner is a customer who signed up.
"""

from __future__ import annotations

from hotcore.contracts.account import AccountCommand, AccountState, CloseAccount, Deposit, Withdraw
from hotcore.contracts.common import CHARGE_REFERENCE_PREFIX, REFUND_REFERENCE_PREFIX, Rejected
from hotcore.domain.principal import Principal, forbidden, only_self, self_or_back_office

#: Commands front-end servers may send; OpenAccount comes from the event handler only.
PUBLIC_COMMANDS = (Deposit, Withdraw, CloseAccount)

_RESERVED_REFERENCES = (CHARGE_REFERENCE_PREFIX, REFUND_REFERENCE_PREFIX)


def authorize(
    principal: Principal, state: AccountState, command: AccountCommand
) -> Rejected | None:
    match command:
        case Deposit(reference=reference) | Withdraw(reference=reference):
            if reference is not None and reference.startswith(_RESERVED_REFERENCES):
                # Order's event handler records these as the order's payment or refund
                return forbidden(
                    "reserved-reference",
                    "references starting with 'order:' or 'refund:' are the PlaceOrder saga's",
                    reference=reference[:64],
                )
            verb = "deposit into" if isinstance(command, Deposit) else "withdraw from"
            return only_self(
                principal, "account-owner", state.owner_id, f"only its owner may {verb} an account"
            )
        case CloseAccount():
            return only_self(
                principal, "account-owner", state.owner_id, "only its owner may close an account"
            )
    return None


def may_read(principal: Principal, stream_id: str, state: AccountState) -> Rejected | None:
    # an account not opened yet will be its customer's: the event handler opens each
    # customer's account under the customer's id
    owner = state.owner_id or stream_id
    return self_or_back_office(
        principal, "account-owner", owner, "only its owner may read an account"
    )
