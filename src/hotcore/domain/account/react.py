"""Account's event handler policy: every registered customer gets an account of the same id."""

from __future__ import annotations

from typing import Any

from hotcore.contracts.account import AccountCommand, OpenAccount
from hotcore.contracts.common import Envelope
from hotcore.contracts.customer import CustomerRegistered


def on_customer_event(envelope: Envelope[Any]) -> list[AccountCommand]:
    if isinstance(envelope.data, CustomerRegistered):
        return [OpenAccount(account_id=envelope.stream_id, owner_id=envelope.stream_id)]
    return []
