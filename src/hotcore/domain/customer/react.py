"""Customer's event handler policy: an account opened for a customer is linked to it."""

from __future__ import annotations

from typing import Any

from hotcore.contracts.account import AccountOpened
from hotcore.contracts.common import Envelope
from hotcore.contracts.customer import CustomerCommand, LinkAccount


def on_account_event(envelope: Envelope[Any]) -> list[CustomerCommand]:
    if isinstance(envelope.data, AccountOpened):
        return [LinkAccount(customer_id=envelope.data.owner_id, account_id=envelope.stream_id)]
    return []
