"""Order's event handler policy: charges and refunds on the account ledger become payments."""

from __future__ import annotations

from typing import Any

from hotcore.contracts.account import Deposited, Withdrawn
from hotcore.contracts.common import Envelope
from hotcore.contracts.order import (
    CHARGE_REFERENCE_PREFIX,
    REFUND_REFERENCE_PREFIX,
    OrderCommand,
    RecordPayment,
    RecordRefund,
)


def on_account_event(envelope: Envelope[Any]) -> list[OrderCommand]:
    match envelope.data:
        case Withdrawn(amount=amount, reference=str(reference)) if reference.startswith(
            CHARGE_REFERENCE_PREFIX
        ):
            order_id = reference.removeprefix(CHARGE_REFERENCE_PREFIX)
            return [RecordPayment(order_id=order_id, amount=amount)]
        case Deposited(amount=amount, memo=str(reference)) if reference.startswith(
            REFUND_REFERENCE_PREFIX
        ):
            order_id = reference.removeprefix(REFUND_REFERENCE_PREFIX)
            return [RecordRefund(order_id=order_id, amount=amount)]
    return []
