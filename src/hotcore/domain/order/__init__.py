"""The Order aggregate: a lifecycle state machine; PlaceOrder runs as a saga across aggregates."""

from __future__ import annotations

from hotcore.contracts.account import AccountEvent, Deposited, Withdrawn
from hotcore.contracts.order import (
    CHARGE_REFERENCE_PREFIX,
    REFUND_REFERENCE_PREFIX,
    OrderCommand,
    OrderEvent,
    OrderQuery,
    OrderState,
)
from hotcore.domain.aggregate import Aggregate, DeliveryRule, Reaction
from hotcore.domain.names import PLACE_ORDER_SAGA, event_source
from hotcore.domain.order.authorize import PUBLIC_COMMANDS, authorize, may_read
from hotcore.domain.order.decide import decide
from hotcore.domain.order.react import on_account_event
from hotcore.domain.order.reducer import evolve, fold, initial

#: Rules Order declares beyond its reaction and its subscribers: the saga it starts.
DELIVERY_RULES = (
    DeliveryRule(
        name="order-starts-place-order-saga",
        description="A placed order starts the PlaceOrder saga (reserve, charge, confirm).",
        pattern={"source": [event_source("order")], "detail-type": ["OrderPlaced"]},
        target_kind="saga",
        target=PLACE_ORDER_SAGA,
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
    public_commands=PUBLIC_COMMANDS,
    authorize=authorize,
    may_read=may_read,
    reactions=(
        Reaction(
            name="order-records-payments",
            description="Charges and refunds referencing an order are recorded on it.",
            source="account",
            event_type=AccountEvent,
            events=(Withdrawn, Deposited),
            # Deposited version 2 calls its reference ``memo``; version 1 events (and every
            # Withdrawn) call it ``reference``: the rule matches both while both exist.
            detail={
                "$or": [
                    {
                        "data": {
                            "reference": [
                                {"prefix": CHARGE_REFERENCE_PREFIX},
                                {"prefix": REFUND_REFERENCE_PREFIX},
                            ]
                        }
                    },
                    {"data": {"memo": [{"prefix": REFUND_REFERENCE_PREFIX}]}},
                ]
            },
            react=on_account_event,
        ),
    ),
    rules=DELIVERY_RULES,
)

__all__ = ["DELIVERY_RULES", "ORDER", "decide", "evolve", "fold", "initial"]
