"""The Account aggregate: a ledger with invariants, long streams and snapshots."""

from __future__ import annotations

from hotcore.contracts.account import (
    AccountCommand,
    AccountEvent,
    AccountQuery,
    AccountState,
)
from hotcore.contracts.customer import CustomerEvent
from hotcore.domain.account.decide import decide
from hotcore.domain.account.react import on_customer_event
from hotcore.domain.account.reducer import evolve, fold, initial
from hotcore.domain.aggregate import Aggregate, DeliveryRule, Reaction

DELIVERY_RULES = (
    DeliveryRule(
        name="account-opens-for-new-customers",
        description="A registered customer gets an account (Account's event handler).",
        pattern={"source": ["hotcore.customer"], "detail-type": ["CustomerRegistered"]},
        target_kind="event-handler",
        target="account",
    ),
    DeliveryRule(
        name="account-to-subscribers",
        description="Every committed Account event reaches the GraphQL subscribers.",
        pattern={"source": ["hotcore.account"]},
        target_kind="subscription",
        target="account",
    ),
)

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
    reactions=(Reaction(source="customer", event_type=CustomerEvent, react=on_customer_event),),
    delivery_rules=DELIVERY_RULES,
)

__all__ = ["ACCOUNT", "DELIVERY_RULES", "decide", "evolve", "fold", "initial"]
