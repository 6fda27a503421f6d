"""The store contract on the in-memory adapter."""

from __future__ import annotations

from typing import Any

import pytest

from hotcore.contracts.account import AccountEvent, AccountState
from hotcore.store.memory import MemoryDatabase
from tests.support.store_contract import *  # noqa: F403
from tests.support.store_contract import MakeStore


@pytest.fixture
def make_store() -> MakeStore:
    database = MemoryDatabase()

    def make(
        name: str,
        event_type: Any = AccountEvent,
        state_type: type[Any] = AccountState,
        state_version: int = 1,
    ) -> Any:
        return database.store(name, event_type, state_type, state_version=state_version)

    return make
