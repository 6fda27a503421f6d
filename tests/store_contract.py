"""The event-store contract: every adapter's test module imports these tests.

A module that runs the suite defines a ``make_store`` fixture returning a function
``(aggregate_name) -> EventStore`` for the Account contracts, all on one database, so
guards can be seen across stores. Nothing here knows which adapter it runs against.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any, Protocol

import pytest

from hotcore.contracts.account import AccountEvent, AccountOpened, AccountState, Deposited
from hotcore.contracts.common import CommandAck, Contract, Envelope, Guard
from hotcore.store.port import (
    MAX_ITEM_BYTES,
    MAX_TRANSACTION_BYTES,
    ConcurrencyConflict,
    DuplicateCommand,
    EventStore,
    GuardViolation,
    InvalidAppend,
    LimitExceeded,
    Snapshot,
)


class MakeStore(Protocol):
    def __call__(
        self, name: str, event_type: Any = AccountEvent, state_type: type[Any] = AccountState
    ) -> EventStore[Any, Any]: ...


T0 = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def envelopes(
    stream_id: str, after: int, events: list[Any], command_id: str
) -> list[Envelope[Any]]:
    return [
        Envelope(
            stream_id=stream_id,
            version=after + offset,
            type=type(event).__name__,
            data=event,
            command_id=command_id,
            correlation_id="corr-1",
            causation_id=None,
            timestamp=T0,
            actor="tester",
        )
        for offset, event in enumerate(events, start=1)
    ]


def read_all(
    store: EventStore[AccountEvent, Any], stream_id: str, **kw: Any
) -> list[Envelope[AccountEvent]]:
    return [e for page in store.load(stream_id, **kw) for e in page]


def append(
    store: EventStore[AccountEvent, Any],
    stream_id: str,
    after: int,
    events: list[Any],
    command_id: str,
    guards: list[Guard] | None = None,
) -> CommandAck:
    return store.append(
        stream_id,
        after,
        envelopes(stream_id, after, events, command_id),
        command_id=command_id,
        guards=guards or [],
    )


def test_a_new_stream_is_empty(make_store: MakeStore) -> None:
    store = make_store("account")
    assert read_all(store, "nobody") == []
    assert store.load_snapshot("nobody") is None
    assert store.find_command("never-sent") is None


def test_append_then_load_round_trips_every_field(make_store: MakeStore) -> None:
    store = make_store("account")
    sent = envelopes(
        "acc-1", 0, [AccountOpened(owner_id="o-1"), Deposited(amount=5, reference="r")], "c-1"
    )
    ack = store.append("acc-1", 0, sent, command_id="c-1")
    assert ack == CommandAck(command_id="c-1", stream_id="acc-1", version=2, events=2)
    assert read_all(store, "acc-1") == sent
    assert store.find_command("c-1") == ack


def test_versions_are_gap_free_across_appends(make_store: MakeStore) -> None:
    store = make_store("account")
    append(store, "acc-1", 0, [AccountOpened(owner_id="o")], "c-1")
    append(store, "acc-1", 1, [Deposited(amount=1), Deposited(amount=2)], "c-2")
    append(store, "acc-1", 3, [Deposited(amount=3)], "c-3")
    assert [e.version for e in read_all(store, "acc-1")] == [1, 2, 3, 4]


def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(make_store: MakeStore) -> None:
    store = make_store("account")
    append(store, "acc-1", 0, [AccountOpened(owner_id="o")], "c-1")
    with pytest.raises(ConcurrencyConflict) as conflict:
        append(store, "acc-1", 0, [AccountOpened(owner_id="o")], "c-2")
    assert conflict.value.expected_version == 0
    assert conflict.value.actual_version in (1, None)  # DynamoDB may not know the actual
    assert len(read_all(store, "acc-1")) == 1
    assert store.find_command("c-2") is None
    # the version is the stream's, not a guess: appending ahead of it conflicts too
    with pytest.raises(ConcurrencyConflict):
        append(store, "acc-1", 5, [Deposited(amount=1)], "c-3")


def test_a_resent_command_id_returns_the_first_outcome(make_store: MakeStore) -> None:
    store = make_store("account")
    first = append(store, "acc-1", 0, [AccountOpened(owner_id="o")], "c-1")
    with pytest.raises(DuplicateCommand) as duplicate:
        append(store, "acc-1", 1, [Deposited(amount=9)], "c-1")
    assert duplicate.value.outcome == first
    assert [e.version for e in read_all(store, "acc-1")] == [1]


def test_a_command_id_is_unique_across_streams(make_store: MakeStore) -> None:
    store = make_store("account")
    first = append(store, "acc-1", 0, [AccountOpened(owner_id="o")], "c-1")
    with pytest.raises(DuplicateCommand) as duplicate:
        append(store, "acc-2", 0, [AccountOpened(owner_id="o")], "c-1")
    assert duplicate.value.outcome == first
    assert read_all(store, "acc-2") == []


def test_a_guard_claimed_by_another_stream_rejects_the_whole_append(make_store: MakeStore) -> None:
    store = make_store("account")
    claim = [Guard(scope="email", value="a@example.com")]
    append(store, "acc-1", 0, [AccountOpened(owner_id="o")], "c-1", claim)
    with pytest.raises(GuardViolation) as taken:
        append(store, "acc-2", 0, [AccountOpened(owner_id="o")], "c-2", claim)
    assert (taken.value.scope, taken.value.value, taken.value.owner) == (
        "email",
        "a@example.com",
        "acc-1",
    )
    assert read_all(store, "acc-2") == []
    assert store.find_command("c-2") is None


def test_guards_are_shared_by_every_store_of_the_database(make_store: MakeStore) -> None:
    one, other = make_store("account"), make_store("ledger")
    claim = [Guard(scope="email", value="a@example.com")]
    append(one, "acc-1", 0, [AccountOpened(owner_id="o")], "c-1", claim)
    with pytest.raises(GuardViolation):
        append(other, "acc-9", 0, [AccountOpened(owner_id="o")], "c-9", claim)


def test_the_owner_may_claim_again_and_a_released_value_is_free(make_store: MakeStore) -> None:
    store = make_store("account")
    claim = [Guard(scope="email", value="a@example.com")]
    release = [Guard(scope="email", value="a@example.com", claim=False)]
    append(store, "acc-1", 0, [AccountOpened(owner_id="o")], "c-1", claim)
    append(store, "acc-1", 1, [Deposited(amount=1)], "c-2", claim)
    with pytest.raises(GuardViolation):
        append(store, "acc-2", 0, [AccountOpened(owner_id="o")], "c-3", claim)
    append(store, "acc-1", 2, [Deposited(amount=1)], "c-4", release)
    append(store, "acc-2", 0, [AccountOpened(owner_id="o")], "c-5", claim)
    # a release by a stream that does not own the value changes nothing
    append(store, "acc-1", 3, [Deposited(amount=1)], "c-6", release)
    with pytest.raises(GuardViolation):
        append(store, "acc-3", 0, [AccountOpened(owner_id="o")], "c-7", claim)


@pytest.mark.parametrize(
    ("after", "shift_version", "stream", "command", "message"),
    [
        (0, 1, "acc-1", "c-1", "version"),
        (0, 0, "other", "c-1", "stream"),
        (0, 0, "acc-1", "c-other", "command id"),
    ],
)
def test_malformed_appends_are_refused_before_any_write(
    make_store: MakeStore, after: int, shift_version: int, stream: str, command: str, message: str
) -> None:
    store = make_store("account")
    sent = envelopes(stream, after + shift_version, [AccountOpened(owner_id="o")], command)
    with pytest.raises(InvalidAppend, match=message):
        store.append("acc-1", after, sent, command_id="c-1")
    with pytest.raises(InvalidAppend, match="at least one event"):
        store.append("acc-1", 0, [], command_id="c-1")
    assert read_all(store, "acc-1") == []
    assert store.find_command("c-1") is None


class Note(Contract, frozen=True, kw_only=True):
    """A test-only event with an unbounded field, to reach the item-size limit."""

    text: str


def test_an_event_over_the_item_limit_is_refused_with_its_size(make_store: MakeStore) -> None:
    store: EventStore[Any, Any] = make_store("notes", Note, AccountState)
    fits = Note(text="x" * (MAX_ITEM_BYTES - 10_000))
    too_big = Note(text="x" * MAX_ITEM_BYTES)
    append(store, "n-1", 0, [fits], "c-1")
    with pytest.raises(LimitExceeded) as limit:
        append(store, "n-1", 1, [Note(text="small"), too_big], "c-2")
    assert limit.value.unit == "bytes"
    assert limit.value.size > MAX_ITEM_BYTES
    assert str(MAX_ITEM_BYTES) in str(limit.value)
    assert len(read_all(store, "n-1")) == 1
    assert store.find_command("c-2") is None


def test_a_transaction_over_the_action_limit_is_refused(make_store: MakeStore) -> None:
    store = make_store("account")
    # a new stream: 99 events + the command record fit in one transaction
    append(store, "acc-1", 0, [AccountOpened(owner_id="o")] + [Deposited(amount=1)] * 98, "c-1")
    # later appends also check the previous event: 98 events fit, 99 do not
    append(store, "acc-1", 99, [Deposited(amount=1)] * 98, "c-2")
    with pytest.raises(LimitExceeded) as limit:
        append(store, "acc-1", 197, [Deposited(amount=1)] * 99, "c-3")
    assert (limit.value.unit, limit.value.size) == ("actions", 101)
    assert len(read_all(store, "acc-1")) == 197


def test_a_transaction_over_four_megabytes_is_refused(make_store: MakeStore) -> None:
    store: EventStore[Any, Any] = make_store("notes", Note, AccountState)
    chunk = Note(text="x" * (MAX_ITEM_BYTES - 10_000))
    with pytest.raises(LimitExceeded) as limit:
        append(store, "n-1", 0, [chunk] * 11, "c-1")
    assert limit.value.size > MAX_TRANSACTION_BYTES
    assert read_all(store, "n-1") == []


def test_reads_come_in_pages_and_can_start_at_a_version(make_store: MakeStore) -> None:
    store = make_store("account")
    append(store, "acc-1", 0, [AccountOpened(owner_id="o")], "c-0")
    for n in range(1, 250):
        append(store, "acc-1", n, [Deposited(amount=n)], f"c-{n}")
    pages = list(store.load("acc-1", page_size=100))
    assert [len(p) for p in pages] == [100, 100, 50]
    assert [e.version for p in pages for e in p] == list(range(1, 251))
    tail = read_all(store, "acc-1", from_version=201, page_size=100)
    assert [e.version for e in tail] == list(range(201, 251))
    assert read_all(store, "acc-1", from_version=251) == []


def test_the_newest_snapshot_wins(make_store: MakeStore) -> None:
    store = make_store("account")
    newer = Snapshot(
        stream_id="acc-1", version=20, state=AccountState(account_id="acc-1", balance=20)
    )
    older = Snapshot(
        stream_id="acc-1", version=10, state=AccountState(account_id="acc-1", balance=10)
    )
    store.save_snapshot(newer)
    store.save_snapshot(older)
    assert store.load_snapshot("acc-1") == newer
    assert store.load_snapshot("acc-2") is None


def test_concurrent_writers_never_share_a_version(make_store: MakeStore) -> None:
    store = make_store("account")
    append(store, "hot", 0, [AccountOpened(owner_id="o")], "open")
    threads, attempts = 8, 15
    wins: list[str] = []
    conflicts: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def writer(n: int) -> None:
        start.wait()
        for i in range(attempts):
            command_id = f"w{n}-{i}"
            current = read_all(store, "hot")[-1].version
            try:
                append(store, "hot", current, [Deposited(amount=1)], command_id)
            except ConcurrencyConflict:
                with lock:
                    conflicts.append(command_id)
            else:
                with lock:
                    wins.append(command_id)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stored = read_all(store, "hot")
    assert [e.version for e in stored] == list(range(1, len(wins) + 2))
    assert sorted(e.command_id for e in stored[1:]) == sorted(wins)
    assert len(wins) + len(conflicts) == threads * attempts
    for loser in conflicts:
        assert store.find_command(loser) is None
