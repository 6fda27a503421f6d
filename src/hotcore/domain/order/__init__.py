"""The Order aggregate: a lifecycle state machine; PlaceOrder runs as a saga across aggregates."""

from __future__ import annotations

from hotcore.contracts.account import AccountEvent
from hotcore.contracts.order import OrderCommand, OrderEvent, OrderQuery, OrderState
from hotcore.domain.aggregate import Aggregate, DeliveryRule, Reaction
from hotcore.domain.order.decide import decide
from hotcore.domain.order.react import on_account_event
from hotcore.domain.order.reducer import evolve, fold, initial

DELIVERY_RULES = (
    DeliveryRule(
        name="order-records-payments",
        description="Charges and refunds referencing an order are recorded on it.",
        pattern={
            "source": ["hotcore.account"],
            "detail-type": ["Withdrawn", "Deposited"],
            "detail": {"data": {"reference": [{"prefix": "order:"}, {"prefix": "refund:"}]}},
        },
        target_kind="event-handler",
        target="order",
    ),
    DeliveryRule(
        name="order-starts-place-order-saga",
        description="A placed order starts the PlaceOrder saga (reserve, charge, confirm).",
        pattern={"source": ["hotcore.order"], "detail-type": ["OrderPlaced"]},
        target_kind="saga",
        target="place-order",
    ),
    DeliveryRule(
        name="order-to-subscribers",
        description="Every committed Order event reaches the GraphQL subscribers.",
        pattern={"source": ["hotcore.order"]},
        target_kind="subscription",
        target="order",
    ),
)

ORDER: Aggregate[OrderCommand, OrderEvent, OrderState, OrderQuery] = Aggregate(
    name="order",
    command_type=OrderCommand,
    event_type=OrderEvent,
    query_type=OrderQuery,
    state_type=OrderState,
    stream_of=lambda command: command.order_id,
    stream_of_query=lambda query: query.order_id,
    initial=initial,
    decide=decide,
    evolve=evolve,
    fold=fold,
    reactions=(Reaction(source="account", event_type=AccountEvent, react=on_account_event),),
    delivery_rules=DELIVERY_RULES,
)

__all__ = ["DELIVERY_RULES", "ORDER", "decide", "evolve", "fold", "initial"]
