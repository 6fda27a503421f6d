"""The Customer aggregate: an entity with a set-wide rule (unique e-mail) enforced by the store."""

from __future__ import annotations

from hotcore.contracts.account import AccountEvent, AccountOpened
from hotcore.contracts.customer import (
    CustomerCommand,
    CustomerEvent,
    CustomerQuery,
    CustomerState,
)
from hotcore.domain.aggregate import Aggregate, Reaction
from hotcore.domain.customer.authorize import PUBLIC_COMMANDS, authorize, may_read
from hotcore.domain.customer.decide import EMAIL_SCOPE, decide, guards
from hotcore.domain.customer.react import on_account_event
from hotcore.domain.customer.reducer import evolve, fold, initial

CUSTOMER: Aggregate[CustomerCommand, CustomerEvent, CustomerState, CustomerQuery] = Aggregate(
    name="customer",
    command_type=CustomerCommand,
    event_type=CustomerEvent,
    query_type=CustomerQuery,
    state_type=CustomerState,
    stream_of=lambda command: command.customer_id,
    stream_of_query=lambda query: query.customer_id,
    initial=initial,
    decide=decide,
    evolve=evolve,
    fold=fold,
    public_commands=PUBLIC_COMMANDS,
    authorize=authorize,
    may_read=may_read,
    guards=guards,
    reactions=(
        Reaction(
            name="customer-links-accounts",
            description="An account opened for a customer is linked to that customer.",
            source="account",
            event_type=AccountEvent,
            events=(AccountOpened,),
            react=on_account_event,
        ),
    ),
)

__all__ = ["CUSTOMER", "EMAIL_SCOPE", "decide", "evolve", "fold", "guards"]
