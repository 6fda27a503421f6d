"""The Account aggregate: a ledger with invariants, long streams and snapshots."""

from __future__ import annotations

from hotcore.contracts.account import (
    AccountCommand,
    AccountEvent,
    AccountQuery,
    AccountState,
)
from hotcore.contracts.customer import CustomerEvent, CustomerRegistered
from hotcore.domain.account.authorize import PUBLIC_COMMANDS, authorize, may_read
from hotcore.domain.account.decide import decide
from hotcore.domain.account.react import on_customer_event
from hotcore.domain.account.reducer import evolve, fold, initial
from hotcore.domain.aggregate import Aggregate, Reaction

ACCOUNT: Aggregate[AccountCommand, AccountEvent, AccountState, AccountQuery] = Aggregate(
    name="account",
    command_type=AccountCommand,
    event_type=AccountEvent,
    query_type=AccountQuery,
    state_type=AccountState,
    stream_of=lambda command: command.account_id,
    stream_of_query=lambda query: query.account_id,
    initial=initial,
    decide=decide,
    evolve=evolve,
    fold=fold,
    public_commands=PUBLIC_COMMANDS,
    authorize=authorize,
    may_read=may_read,
    reactions=(
        Reaction(
            name="account-opens-for-new-customers",
            description="A registered customer gets an account (Account's event handler).",
            source="customer",
            event_type=CustomerEvent,
            events=(CustomerRegistered,),
            react=on_customer_event,
        ),
    ),
)

__all__ = ["ACCOUNT", "decide", "evolve", "fold", "initial"]
