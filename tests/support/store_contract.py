"""The event-store contract: every adapter's test module imports these tests.

A module that runs the suite defines a ``make_store`` fixture returning a function
``(aggregate_name, event_type, state_type, state_version) -> EventStore`` (Account's
contracts by default), all on one database, so guards can be seen across stores and two
stores of one name share their streams. Nothing here knows which adapter it runs against.

What every adapter guarantees (and these tests state): versions gap-free from 1; appends
atomic and conditional (a lost race is ``ConcurrencyConflict``); a command id re-sent to
its stream with the same command answers the first outcome and appends nothing, with
another command ``CommandIdReused`` and nothing appended, at least within the stream's
last ``RECENT_COMMANDS`` commands; the same id on another stream is another command;
guards; contract and limit checks before any write; ascending pages, from and up to a
version; the latest-state
load from the newest valid snapshot; snapshots of another state version or schema
ignored; old event versions upcast on every read.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

import pytest
from msgspec import Struct

from hotcore.codec.events import LoadedEvent
from hotcore.contracts.account import (
    AccountEvent,
    AccountOpened,
    AccountState,
    Deposited,
    DepositedV1,
)
from hotcore.contracts.common import CommandAck, Contract, Envelope, Event, Guard
from hotcore.store.port import (
    MAX_ITEM_BYTES,
    MAX_TRANSACTION_BYTES,
    RECENT_COMMANDS,
    CommandIdReused,
    CommandRecord,
    ConcurrencyConflict,
    DuplicateCommand,
    EventContractViolated,
    EventStore,
    GuardViolation,
    InvalidAppend,
    LimitExceeded,
    Snapshot,
)


class MakeStore(Protocol):
    def __call__(
        self,
        name: str,
        event_type: Any = AccountEvent,
        state_type: type[Any] = AccountState,
        state_version: int = 1,
    ) -> EventStore[Any, Any]: ...


T0 = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def fp(label: str) -> str:
    """A well-formed fingerprint standing for one command (32 hex digits)."""
    return hashlib.sha256(label.encode()).hexdigest()[:32]


def envelopes(
    stream_id: str, after: int, events: list[Any], command_id: str
) -> list[Envelope[Any]]:
    return [
        Envelope(
            stream_id=stream_id,
            version=after + offset,
            type=type(event).__struct_config__.tag,
            schema_version=getattr(type(event), "schema_version", 1),
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
    *,
    fingerprint: str | None = None,
    snapshot: Any = None,
) -> CommandAck:
    return store.append(
        stream_id,
        after,
        envelopes(stream_id, after, events, command_id),
        command_id=command_id,
        fingerprint=fingerprint or fp(command_id),
        guards=guards or [],
        snapshot=snapshot,
    )


def opened(store: EventStore[AccountEvent, Any], stream_id: str = "acc-1") -> CommandAck:
    return append(store, stream_id, 0, [AccountOpened(owner_id="o")], f"open-{stream_id}")


def state(balance: int, account_id: str = "acc-1") -> AccountState:
    return AccountState(account_id=account_id, status="open", owner_id="o", balance=balance)


# -- streams ------------------------------------------------------------------------------


def test_a_new_stream_is_empty(make_store: MakeStore) -> None:
    store = make_store("account")
    assert read_all(store, "nobody") == []
    latest = store.load_latest("nobody", command_id="never-sent")
    assert (latest.version, latest.snapshot, latest.events, latest.command) == (0, None, [], None)


def test_append_then_load_round_trips_every_field(make_store: MakeStore) -> None:
    store = make_store("account")
    sent = envelopes(
        "acc-1", 0, [AccountOpened(owner_id="o-1"), Deposited(amount=5, memo="r")], "c-1"
    )
    ack = store.append("acc-1", 0, sent, command_id="c-1", fingerprint=fp("c-1"))
    assert ack == CommandAck(command_id="c-1", stream_id="acc-1", version=2, events=2)
    assert read_all(store, "acc-1") == sent
    latest = store.load_latest("acc-1", command_id="c-1")
    # a state load reads each event's version, command id and data, nothing else
    loaded = [
        LoadedEvent(
            version=e.version,
            schema_version=e.schema_version,
            command_id=e.command_id,
            data=e.data,
        )
        for e in sent
    ]
    assert (latest.version, latest.snapshot, latest.events) == (2, None, loaded)
    assert latest.command == CommandRecord(
        command_id="c-1", fingerprint=fp("c-1"), version=2, events=2
    )


def test_versions_are_gap_free_across_appends(make_store: MakeStore) -> None:
    store = make_store("account")
    opened(store)
    append(store, "acc-1", 1, [Deposited(amount=1), Deposited(amount=2)], "c-2")
    append(store, "acc-1", 3, [Deposited(amount=3)], "c-3")
    assert [e.version for e in read_all(store, "acc-1")] == [1, 2, 3, 4]


def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(make_store: MakeStore) -> None:
    store = make_store("account")
    opened(store)
    with pytest.raises(ConcurrencyConflict) as conflict:
        append(store, "acc-1", 0, [AccountOpened(owner_id="o")], "c-2")
    assert conflict.value.expected_version == 0
    assert conflict.value.actual_version in (1, None)  # DynamoDB may not know the actual
    assert len(read_all(store, "acc-1")) == 1
    assert store.load_latest("acc-1", command_id="c-2").command is None
    # the version is the stream's, not a guess: appending ahead of it conflicts too
    with pytest.raises(ConcurrencyConflict):
        append(store, "acc-1", 5, [Deposited(amount=1)], "c-3")
    assert [e.version for e in read_all(store, "acc-1")] == [1]


def test_a_store_that_never_read_the_stream_still_appends_gap_free(
    make_store: MakeStore,
) -> None:
    writer, other = make_store("account"), make_store("account")
    opened(writer)
    append(other, "acc-1", 1, [Deposited(amount=1)], "c-2")
    with pytest.raises(ConcurrencyConflict):
        append(writer, "acc-1", 1, [Deposited(amount=2)], "c-3")  # writer's top is stale
    append(writer, "acc-1", 2, [Deposited(amount=2)], "c-3")
    assert [e.command_id for e in read_all(other, "acc-1")] == ["open-acc-1", "c-2", "c-3"]


# -- idempotency --------------------------------------------------------------------------


def test_a_resent_command_returns_the_first_outcome_and_appends_nothing(
    make_store: MakeStore,
) -> None:
    store = make_store("account")
    opened(store)
    first = append(store, "acc-1", 1, [Deposited(amount=9), Deposited(amount=1)], "c-1")
    # re-sent at the position it was first sent for (its answer was lost) ...
    with pytest.raises(DuplicateCommand) as at_slot:
        append(store, "acc-1", 1, [Deposited(amount=9), Deposited(amount=1)], "c-1")
    # ... and later, against the stream's current top
    with pytest.raises(DuplicateCommand) as at_top:
        append(store, "acc-1", 3, [Deposited(amount=9)], "c-1", fingerprint=fp("c-1"))
    assert at_slot.value.outcome == at_top.value.outcome == first
    assert [e.version for e in read_all(store, "acc-1")] == [1, 2, 3]


def test_a_command_id_reused_for_another_command_is_refused_and_appends_nothing(
    make_store: MakeStore,
) -> None:
    store = make_store("account")
    opened(store)
    first = append(store, "acc-1", 1, [Deposited(amount=100)], "c-1", fingerprint=fp("deposit 100"))
    for after in (1, 2):  # at its first position, and at the top
        with pytest.raises(CommandIdReused) as reused:
            append(store, "acc-1", after, [Deposited(amount=999)], "c-1", fingerprint=fp("999"))
        assert reused.value.first == first
    assert [e.data for e in read_all(store, "acc-1")][1:] == [Deposited(amount=100)]
    record = store.load_latest("acc-1", command_id="c-1").command
    assert record is not None
    assert record.same_command(fp("deposit 100"))
    assert not record.same_command(fp("999"))


def test_the_same_command_id_on_another_stream_is_another_command(make_store: MakeStore) -> None:
    store = make_store("account")
    append(store, "acc-1", 0, [AccountOpened(owner_id="o")], "c-1", fingerprint=fp("a"))
    on_a2 = append(store, "acc-2", 0, [AccountOpened(owner_id="o")], "c-1", fingerprint=fp("b"))
    assert on_a2 == CommandAck(command_id="c-1", stream_id="acc-2", version=1, events=1)
    assert [e.command_id for e in read_all(store, "acc-2")] == ["c-1"]
    assert store.load_latest("acc-3", command_id="c-1").command is None


def test_the_stream_remembers_at_least_its_recent_commands(make_store: MakeStore) -> None:
    store = make_store("account")
    opened(store)
    balance = 0
    for n in range(1, RECENT_COMMANDS + 12):
        balance += n
        # a snapshot every 8 events, as the command flow writes them
        snapshot = state(balance) if (n + 1) % 8 == 0 else None
        append(store, "acc-1", n, [Deposited(amount=n)], f"d-{n}", snapshot=snapshot)
    top = RECENT_COMMANDS + 12
    oldest_kept = top - RECENT_COMMANDS + 1
    latest = store.load_latest("acc-1", command_id=f"d-{oldest_kept - 1}")
    assert latest.version == top
    record = latest.command
    assert record is not None
    assert (record.command_id, record.version, record.events) == (
        f"d-{oldest_kept - 1}",
        oldest_kept,
        1,
    )
    assert record.same_command(fp(f"d-{oldest_kept - 1}"))
    with pytest.raises(DuplicateCommand):
        append(store, "acc-1", top, [Deposited(amount=1)], f"d-{oldest_kept - 1}")
    with pytest.raises(CommandIdReused):
        append(store, "acc-1", top, [Deposited(amount=1)], "d-70", fingerprint=fp("other"))
    assert len(read_all(store, "acc-1")) == top


# -- guards -------------------------------------------------------------------------------


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
    assert store.load_latest("acc-2", command_id="c-2").command is None


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
    assert [e.version for e in read_all(store, "acc-1")] == [1, 2, 3, 4]


# -- checks before any write --------------------------------------------------------------


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
        store.append("acc-1", after, sent, command_id="c-1", fingerprint=fp("c-1"))
    with pytest.raises(InvalidAppend, match="at least one event"):
        store.append("acc-1", 0, [], command_id="c-1", fingerprint=fp("c-1"))
    good = envelopes("acc-1", 0, [AccountOpened(owner_id="o")], "c-1")
    with pytest.raises(InvalidAppend, match="fingerprint"):
        store.append("acc-1", 0, good, command_id="c-1", fingerprint="not-hex")
    # an envelope must say the version its data is: a version 3 Remark is no version 1
    remarks = make_store("remarks", Remark, AccountState)
    mislabelled = [
        Envelope(**{**_fields(e), "schema_version": 1})
        for e in envelopes("acc-1", 0, [Remark(body="b", lang="en")], "c-1")
    ]
    with pytest.raises(InvalidAppend, match="schema_version"):
        remarks.append("acc-1", 0, mislabelled, command_id="c-1", fingerprint=fp("c-1"))
    assert read_all(remarks, "acc-1") == []
    assert read_all(store, "acc-1") == []
    assert store.load_latest("acc-1", command_id="c-1").command is None


def _fields(envelope: Envelope[Any]) -> dict[str, Any]:
    return {name: getattr(envelope, name) for name in envelope.__struct_fields__}


def test_an_event_that_breaks_its_contract_is_refused_and_nothing_is_stored(
    make_store: MakeStore,
) -> None:
    store = make_store("account")
    opened(store)
    # Struct constructors do not check constraints: the domain could build these
    too_much = Deposited(amount=50 * 10**9 * 10**15)
    with pytest.raises(EventContractViolated) as violated:
        append(store, "acc-1", 1, [Deposited(amount=1), too_much], "c-2")
    assert (violated.value.offset, violated.value.event_type) == (2, "Deposited")
    assert violated.value.path == "$.data.amount"
    with pytest.raises(EventContractViolated, match="currency"):
        append(store, "acc-1", 1, [Deposited(amount=1, currency="euro")], "c-3")
    assert [e.version for e in read_all(store, "acc-1")] == [1]
    assert store.load_latest("acc-1", command_id="c-2").command is None


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
    assert store.load_latest("n-1", command_id="c-2").command is None


def test_a_transaction_over_the_action_limit_is_refused(make_store: MakeStore) -> None:
    store = make_store("account")
    append(store, "acc-1", 0, [AccountOpened(owner_id="o")] + [Deposited(amount=1)] * 99, "c-1")
    append(store, "acc-1", 100, [Deposited(amount=1)] * 98, "c-2", [Guard(scope="s", value="v")])
    # 99 events + 2 guards are 101 actions
    guards = [Guard(scope="s", value="v"), Guard(scope="s", value="w")]
    with pytest.raises(LimitExceeded) as limit:
        append(store, "acc-1", 198, [Deposited(amount=1)] * 99, "c-3", guards)
    assert (limit.value.unit, limit.value.size) == ("actions", 101)
    assert len(read_all(store, "acc-1")) == 198


def test_a_transaction_over_four_megabytes_is_refused(make_store: MakeStore) -> None:
    store: EventStore[Any, Any] = make_store("notes", Note, AccountState)
    chunk = Note(text="x" * (MAX_ITEM_BYTES - 10_000))
    with pytest.raises(LimitExceeded) as limit:
        append(store, "n-1", 0, [chunk] * 11, "c-1")
    assert limit.value.size > MAX_TRANSACTION_BYTES
    assert read_all(store, "n-1") == []


# -- reads --------------------------------------------------------------------------------


def test_reads_come_in_ascending_pages_and_can_start_at_a_version(make_store: MakeStore) -> None:
    store = make_store("account")
    opened(store)
    append(store, "acc-1", 1, [Deposited(amount=n) for n in range(1, 100)], "c-1")
    append(store, "acc-1", 100, [Deposited(amount=n) for n in range(100, 199)], "c-2")
    append(store, "acc-1", 199, [Deposited(amount=n) for n in range(199, 250)], "c-3")
    pages = list(store.load("acc-1", page_size=100))
    assert [len(p) for p in pages] == [100, 100, 50]
    assert [e.version for p in pages for e in p] == list(range(1, 251))
    tail = read_all(store, "acc-1", from_version=201, page_size=100)
    assert [e.version for e in tail] == list(range(201, 251))
    assert read_all(store, "acc-1", from_version=251) == []


def test_a_read_can_stop_at_a_version(make_store: MakeStore) -> None:
    store = make_store("account")
    opened(store)
    append(store, "acc-1", 1, [Deposited(amount=n) for n in range(1, 30)], "c-1")
    head = read_all(store, "acc-1", until=10, page_size=4)
    assert [e.version for e in head] == list(range(1, 11))
    window = read_all(store, "acc-1", from_version=12, until=20, page_size=100)
    assert [e.version for e in window] == list(range(12, 21))
    assert [e.version for e in read_all(store, "acc-1", from_version=25, until=99)] == [
        25, 26, 27, 28, 29, 30
    ]  # fmt: skip
    assert read_all(store, "acc-1", from_version=5, until=4) == []
    assert read_all(store, "nobody", until=3) == []


def test_the_latest_state_starts_at_the_newest_snapshot(make_store: MakeStore) -> None:
    store = make_store("account")
    opened(store)
    append(store, "acc-1", 1, [Deposited(amount=1)] * 3, "c-1", snapshot=state(3))
    append(store, "acc-1", 4, [Deposited(amount=1)], "c-2")
    append(store, "acc-1", 5, [Deposited(amount=1)], "c-3", snapshot=state(5))
    append(store, "acc-1", 6, [Deposited(amount=2)], "c-4")
    latest = store.load_latest("acc-1", command_id="c-1")
    assert latest.snapshot == Snapshot(stream_id="acc-1", version=6, state=state(5))
    assert [(e.version, e.data) for e in latest.events] == [(7, Deposited(amount=2))]
    assert latest.version == 7
    # commands before the snapshot are still remembered
    record = latest.command
    assert record is not None
    assert (record.command_id, record.version, record.events) == ("c-1", 4, 3)
    assert record.same_command(fp("c-1"))


class OtherAccountState(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Account's state with another shape (a reducer change that adds a field)."""

    account_id: str
    status: str = "new"
    owner_id: str = ""
    balance: int = 0
    deposits: int = 0


def test_snapshots_of_another_state_version_or_shape_are_ignored(make_store: MakeStore) -> None:
    v1 = make_store("account")
    v2 = make_store("account", state_version=2)
    reshaped = make_store("account", AccountEvent, OtherAccountState)
    opened(v1)
    append(v1, "acc-1", 1, [Deposited(amount=1)], "c-1", snapshot=state(1))
    for other in (v2, reshaped):
        latest = other.load_latest("acc-1")
        assert (latest.snapshot, latest.version) == (None, 2)
        assert [e.version for e in latest.events] == [1, 2]  # folded from the start again
    # each writes its own; each reader still finds the one it can use
    append(v2, "acc-1", 2, [Deposited(amount=1)], "c-2", snapshot=state(99))
    assert v2.load_latest("acc-1").snapshot == Snapshot(
        stream_id="acc-1", version=3, state=state(99)
    )
    from_v1 = v1.load_latest("acc-1")
    assert from_v1.snapshot == Snapshot(stream_id="acc-1", version=2, state=state(1))
    assert [e.version for e in from_v1.events] == [3]
    assert reshaped.load_latest("acc-1").snapshot is None


class RemarkV1(Event, frozen=True, kw_only=True, tag="Remark"):
    """A test-only event as version 1 wrote it."""

    schema_version: ClassVar[int] = 1
    text: str

    def upcast(self) -> RemarkV2:
        return RemarkV2(body=self.text)


class RemarkV2(Event, frozen=True, kw_only=True, tag="Remark"):
    """Version 2: ``text`` renamed ``body``; version 3 adds ``lang``."""

    schema_version: ClassVar[int] = 2
    body: str

    def upcast(self) -> Remark:
        return Remark(body=self.body, lang="en")


class Remark(Event, frozen=True, kw_only=True):
    schema_version: ClassVar[int] = 3
    earlier: ClassVar[tuple[type[Event], ...]] = (RemarkV1, RemarkV2)
    body: str
    lang: str


def test_every_stored_version_of_an_event_reads_as_the_current_one(make_store: MakeStore) -> None:
    store = make_store("remarks", Remark, AccountState)
    append(store, "r-1", 0, [RemarkV1(text="one")], "c-1")
    append(store, "r-1", 1, [RemarkV2(body="two"), Remark(body="drei", lang="de")], "c-2")
    expected = [
        Remark(body="one", lang="en"),
        Remark(body="two", lang="en"),
        Remark(body="drei", lang="de"),
    ]
    stored = read_all(store, "r-1")
    assert [e.data for e in stored] == expected
    assert {e.schema_version for e in stored} == {3}
    assert [e.data for e in store.load_latest("r-1").events] == expected


def test_old_event_versions_are_upcast_on_every_read(make_store: MakeStore) -> None:
    """Account's worked example: Deposited version 2 renamed ``reference`` to ``memo``."""
    store = make_store("account")
    opened(store)
    # what a writer deployed before Deposited version 2 stored
    append(store, "acc-1", 1, [DepositedV1(amount=5, reference="refund:o-1")], "old")
    append(store, "acc-1", 2, [Deposited(amount=7, memo="new", currency="USD")], "new")
    upcast = Deposited(amount=5, memo="refund:o-1", currency="EUR")
    stored = read_all(store, "acc-1")
    assert [(e.schema_version, e.data) for e in stored[1:]] == [
        (2, upcast),
        (2, Deposited(amount=7, memo="new", currency="USD")),
    ]
    assert [e.data for e in store.load_latest("acc-1").events][1:] == [
        upcast,
        Deposited(amount=7, memo="new", currency="USD"),
    ]


# -- concurrency --------------------------------------------------------------------------


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
            current = store.load_latest("hot").version
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
        assert store.load_latest("hot", command_id=loser).command is None
