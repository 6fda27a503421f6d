"""The query service's reads beyond the latest state: batches, past versions, history pages."""

from __future__ import annotations

from typing import Any

import pytest

from hotcore.codec.events import StoredEventUnreadable
from hotcore.contracts.account import Deposit, GetAccount, OpenAccount, Withdraw
from hotcore.domain.account import ACCOUNT
from hotcore.service.command import CommandService
from hotcore.service.limits import MAX_BATCH, MAX_HISTORY_PAGE
from hotcore.service.query import QueryRangeError, QueryService, concurrently
from hotcore.service.stream import Loaded
from hotcore.store.memory import MemoryDatabase
from hotcore.store.sqlite import SqliteDatabase


def ledger(store: Any, account_id: str, deposits: int) -> None:
    commands = CommandService(ACCOUNT, store)
    commands.handle(
        OpenAccount(account_id=account_id, owner_id="o"), command_id=f"{account_id}-o", actor="t"
    )
    for n in range(1, deposits + 1):
        commands.handle(
            Deposit(account_id=account_id, amount=n), command_id=f"{account_id}-{n}", actor="t"
        )


@pytest.fixture
def queries(tmp_path: Any) -> QueryService[Any, Any]:
    store = SqliteDatabase(tmp_path / "q.db").store(
        "account", ACCOUNT.event_type, ACCOUNT.state_type
    )
    ledger(store, "a", 30)
    ledger(store, "b", 2)
    return QueryService(ACCOUNT, store)


def test_a_batch_answers_each_instance_in_order_and_unknown_ones_at_version_0(
    queries: QueryService[Any, Any],
) -> None:
    asked = [GetAccount(account_id=i) for i in ("b", "nobody", "a", "b")]
    got = queries.get_many(asked)
    assert [(r.stream_id, r.version) for r in got if isinstance(r, Loaded)] == [
        ("b", 3),
        ("nobody", 0),
        ("a", 31),
        ("b", 3),
    ]
    assert got[2].state.balance == sum(range(1, 31))  # type: ignore[union-attr]


def test_a_batch_is_bounded(queries: QueryService[Any, Any]) -> None:
    with pytest.raises(QueryRangeError, match=f"at most {MAX_BATCH}"):
        queries.get_many([GetAccount(account_id=f"x{n}") for n in range(MAX_BATCH + 1)])


def test_the_state_at_a_past_version_folds_only_the_events_up_to_it(
    queries: QueryService[Any, Any],
) -> None:
    past = queries.at_version("a", 4)
    assert past is not None
    assert (past.version, past.state.balance, past.state.status) == (4, 1 + 2 + 3, "open")
    assert queries.at_version("a", 31) == queries.load("a")
    assert queries.at_version("a", 32) is None
    assert queries.at_version("nobody", 1) is None
    with pytest.raises(QueryRangeError):
        queries.at_version("a", 0)


def test_history_pages_cover_the_stream_exactly_once(queries: QueryService[Any, Any]) -> None:
    seen: list[int] = []
    start: int | None = 1
    pages = 0
    while start is not None:
        page = queries.history("a", start, limit=7)
        assert len(page.events) <= 7
        seen += [e.version for e in page.events]
        start = page.next_version
        pages += 1
    assert seen == list(range(1, 32))
    assert pages == 5  # 7 + 7 + 7 + 7 + 3: the last page says there is no next one
    exact = queries.history("b", 1, limit=3)
    assert ([e.version for e in exact.events], exact.next_version) == ([1, 2, 3], None)
    assert queries.history("a", 40).events == []
    assert queries.history("nobody").events == []


def test_history_refuses_pages_out_of_bounds(queries: QueryService[Any, Any]) -> None:
    for start, limit in ((0, 10), (1, 0), (1, MAX_HISTORY_PAGE + 1)):
        with pytest.raises(QueryRangeError):
            queries.history("a", start, limit)


def test_history_envelopes_carry_their_data_typed() -> None:
    store = MemoryDatabase().store("account", ACCOUNT.event_type, ACCOUNT.state_type)
    ledger(store, "a", 1)
    CommandService(ACCOUNT, store).handle(
        Withdraw(account_id="a", amount=1), command_id="w", actor="t"
    )
    page = QueryService(ACCOUNT, store).history("a")
    assert [type(e.data).__name__ for e in page.events] == [
        "AccountOpened",
        "Deposited",
        "Withdrawn",
    ]


def test_concurrently_keeps_store_errors_in_place_and_raises_others() -> None:
    def work(n: int) -> int:
        if n == 3:
            raise StoredEventUnreadable("s", 3, ValueError("bad"))
        if n == 5:
            raise RuntimeError("network")
        return n * 10

    got = concurrently(work, [1, 2, 3, 4], workers=3)
    assert got[:2] == [10, 20]
    assert got[3] == 40
    assert isinstance(got[2], StoredEventUnreadable)
    with pytest.raises(RuntimeError, match="network"):
        concurrently(work, [1, 5, 2, 3], workers=2)
