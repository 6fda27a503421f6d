"""The Customer aggregate: an entity with a set-wide rule (unique e-mail) enforced by the store."""

from __future__ import annotations

from hotcore.contracts.account import AccountEvent
from hotcore.contracts.customer import (
    CustomerCommand,
    CustomerEvent,
    CustomerQuery,
    CustomerState,
)
from hotcore.domain.aggregate import Aggregate, DeliveryRule, Reaction
from hotcore.domain.customer.decide import EMAIL_SCOPE, decide, guards
from hotcore.domain.customer.react import on_account_event
from hotcore.domain.customer.reducer import evolve, fold, initial

DELIVERY_RULES = (
    DeliveryRule(
        name="customer-links-accounts",
        description="An account opened for a customer is linked to that customer.",
        pattern={"source": ["hotcore.account"], "detail-type": ["AccountOpened"]},
        target_kind="event-handler",
        target="customer",
    ),
    DeliveryRule(
        name="customer-to-subscribers",
        description="Every committed Customer event reaches the GraphQL subscribers.",
        pattern={"source": ["hotcore.customer"]},
        target_kind="subscription",
        target="customer",
    ),
)

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
    guards=guards,
    reactions=(Reaction(source="account", event_type=AccountEvent, react=on_account_event),),
    delivery_rules=DELIVERY_RULES,
)

__all__ = ["CUSTOMER", "DELIVERY_RULES", "EMAIL_SCOPE", "decide", "evolve", "fold", "guards"]
