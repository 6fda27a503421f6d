"""The command, query and event-handler drivers and the outbox relay, on the memory store."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any

import pytest

from hotcore.codec.events import schema_version_of
from hotcore.contracts.account import (
    AccountEvent,
    AccountState,
    Deposit,
    Deposited,
    OpenAccount,
    Withdraw,
)
from hotcore.contracts.common import CommandAck, Envelope, Guard, Rejected
from hotcore.contracts.customer import ChangeEmail, RegisterCustomer
from hotcore.contracts.order import OrderLine, PlaceOrder
from hotcore.domain.account import ACCOUNT
from hotcore.domain.customer import CUSTOMER
from hotcore.domain.order import ORDER
from hotcore.entrypoints.direct import DirectHandler, InvalidRequest
from hotcore.service.command import CommandService, RetriesExhausted
from hotcore.service.publisher import relay_outbox
from hotcore.service.query import QueryService
from hotcore.store.memory import MemoryDatabase, MemoryEventStore
from hotcore.store.port import ConcurrencyConflict
from hotcore_dev.local import LocalApp


class RacingStore(MemoryEventStore[AccountEvent, AccountState]):
    """A memory store where another writer wins the first ``losses`` appends."""

    def __init__(self, database: MemoryDatabase, losses: int) -> None:
        super().__init__(database, "account", AccountEvent, AccountState)
        self.losses = losses
        self.appends = 0

    def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[Envelope[AccountEvent]],
        *,
        command_id: str,
        fingerprint: str,
        guards: Sequence[Guard] = (),
        snapshot: AccountState | None = None,
    ) -> CommandAck:
        self.appends += 1
        if self.losses > 0:
            self.losses -= 1
            # the rival's deposit lands first, so this append's expected version is stale
            rival = [
                Envelope(
                    stream_id=e.stream_id,
                    version=e.version,
                    type="Deposited",
                    schema_version=schema_version_of(Deposited(amount=1)),
                    data=Deposited(amount=1),
                    command_id=f"rival-{self.appends}",
                    correlation_id="rival",
                    timestamp=e.timestamp,
                    actor="rival",
                )
                for e in events[:1]
            ]
            super().append(
                stream_id,
                expected_version,
                rival,
                command_id=f"rival-{self.appends}",
                fingerprint="0" * 32,
            )
        return super().append(
            stream_id,
            expected_version,
            events,
            command_id=command_id,
            fingerprint=fingerprint,
            guards=guards,
            snapshot=snapshot,
        )


def service(store: Any, **kw: Any) -> CommandService[Any, Any, Any]:
    return CommandService(ACCOUNT, store, sleep=lambda _: None, rng=random.Random(7), **kw)


def open_account(commands: CommandService[Any, Any, Any], account: str = "a") -> None:
    assert isinstance(
        commands.handle(
            OpenAccount(account_id=account, owner_id="o"), command_id=f"open-{account}", actor="t"
        ),
        CommandAck,
    )


def test_a_lost_race_is_retried_on_the_new_state() -> None:
    store = RacingStore(MemoryDatabase(), losses=0)
    commands = service(store)
    open_account(commands)
    store.losses = 2
    ack = commands.handle(Deposit(account_id="a", amount=10), command_id="d-1", actor="t")
    assert ack == CommandAck(command_id="d-1", stream_id="a", version=4, events=1)
    assert commands.conflicts == 2
    assert QueryService(ACCOUNT, store).load("a").state.balance == 12  # two rival deposits


def test_retries_are_bounded() -> None:
    store = RacingStore(MemoryDatabase(), losses=0)
    commands = service(store, max_attempts=3)
    open_account(commands)
    store.losses = 10
    with pytest.raises(RetriesExhausted) as exhausted:
        commands.handle(Deposit(account_id="a", amount=10), command_id="d-1", actor="t")
    assert isinstance(exhausted.value, ConcurrencyConflict)
    assert commands.conflicts == 3
    assert store.load_latest("a", command_id="d-1").command is None


def test_a_resent_command_returns_its_first_outcome_even_if_it_would_now_be_rejected() -> None:
    store = MemoryDatabase().store("account", AccountEvent, AccountState)
    commands = service(store)
    open_account(commands)
    commands.handle(Deposit(account_id="a", amount=10), command_id="d", actor="t")
    first = commands.handle(Withdraw(account_id="a", amount=10), command_id="w", actor="t")
    again = commands.handle(Withdraw(account_id="a", amount=10), command_id="w", actor="t")
    assert isinstance(first, CommandAck)
    assert again == first
    assert QueryService(ACCOUNT, store).load("a").state.balance == 0
    other = commands.handle(Withdraw(account_id="a", amount=10), command_id="w2", actor="t")
    assert isinstance(other, Rejected)
    assert other.rule == "insufficient-funds"


def test_envelopes_carry_the_metadata() -> None:
    store = MemoryDatabase().store("account", AccountEvent, AccountState)
    commands = service(store)
    commands.handle(
        OpenAccount(account_id="a", owner_id="o"),
        command_id="c-1",
        actor="user-7",
        correlation_id="corr-1",
        causation_id="cause-1",
    )
    (envelope,) = next(store.load("a"))
    assert (envelope.command_id, envelope.correlation_id, envelope.causation_id) == (
        "c-1",
        "corr-1",
        "cause-1",
    )
    assert envelope.actor == "user-7"
    assert envelope.type == "AccountOpened"
    assert envelope.timestamp.tzinfo is not None


def test_snapshots_are_taken_every_n_events_and_loading_uses_them() -> None:
    store = MemoryDatabase().store("account", AccountEvent, AccountState)
    commands = service(store, snapshot_every=10)
    open_account(commands)
    for n in range(24):
        commands.handle(Deposit(account_id="a", amount=1), command_id=f"d-{n}", actor="t")
    latest = store.load_latest("a")
    assert latest.snapshot is not None
    assert latest.snapshot.version == 20
    assert latest.snapshot.state.balance == 19
    assert [e.version for e in latest.events] == [21, 22, 23, 24, 25]
    loaded = QueryService(ACCOUNT, store).load("a")
    assert loaded.version == 25
    assert loaded.state == ACCOUNT.fold(
        ACCOUNT.initial("a"), [e.data for page in store.load("a") for e in page]
    )


def test_a_command_id_reused_for_another_command_is_refused_and_changes_nothing() -> None:
    store = MemoryDatabase().store("account", AccountEvent, AccountState)
    commands = service(store)
    open_account(commands)
    first = commands.handle(Deposit(account_id="a", amount=100), command_id="d", actor="t")
    reused = commands.handle(Deposit(account_id="a", amount=999), command_id="d", actor="t")
    assert isinstance(reused, Rejected)
    assert reused.rule == "command-id-reused"
    assert reused.data == {"command_id": "d", "stream_id": "a", "version": 2}
    # the same command again is a re-send: its first outcome
    again = commands.handle(Deposit(account_id="a", amount=100), command_id="d", actor="t")
    assert again == first
    assert QueryService(ACCOUNT, store).load("a").state.balance == 100
    # the id of a deposit on `a` opens `a2`: ids are scoped to the stream they address
    other = commands.handle(OpenAccount(account_id="a2", owner_id="o"), command_id="d", actor="t")
    assert other == CommandAck(command_id="d", stream_id="a2", version=1, events=1)


def test_events_that_break_their_contract_are_rejected_naming_the_rule_and_stored_nowhere() -> None:
    database = MemoryDatabase()
    orders = CommandService(ORDER, database.store("order", ORDER.event_type, ORDER.state_type))
    lines = [OrderLine(sku=f"sku-{n}", quantity=10**9, unit_price=10**15) for n in range(50)]
    placed = orders.handle(
        PlaceOrder(order_id="o", customer_id="c", account_id="a", lines=lines),
        command_id="p",
        actor="t",
    )
    assert isinstance(placed, Rejected)
    assert placed.rule == "event-contract-violated"
    assert placed.data["event_type"] == "OrderPlaced"
    assert placed.data["path"] == "$.data.total"
    customers = CommandService(
        CUSTOMER, database.store("customer", CUSTOMER.event_type, CUSTOMER.state_type)
    )
    # 130 characters, within Email's 254; lower() makes each "İ" two ("i" + a combining
    # dot): 255 characters in the event
    email = "İ" * 125 + "@x.io"
    assert len(email.lower()) == 255
    registered = customers.handle(
        RegisterCustomer(customer_id="c", email=email, name="C"), command_id="r", actor="t"
    )
    assert isinstance(registered, Rejected)
    assert registered.rule == "event-contract-violated"
    assert registered.data["path"] == "$.data.email"
    assert database.all_events() == []


def test_a_taken_email_is_a_rejection_naming_the_rule() -> None:
    database = MemoryDatabase()
    commands = CommandService(
        CUSTOMER, database.store("customer", CUSTOMER.event_type, CUSTOMER.state_type)
    )
    commands.handle(
        RegisterCustomer(customer_id="c1", email="a@x.io", name="A"), command_id="1", actor="t"
    )
    commands.handle(
        RegisterCustomer(customer_id="c2", email="b@x.io", name="B"), command_id="2", actor="t"
    )
    taken = commands.handle(
        ChangeEmail(customer_id="c2", email="A@X.io"), command_id="3", actor="t"
    )
    assert isinstance(taken, Rejected)
    assert taken.rule == "customer-email-taken"
    assert taken.data["value"] == "a@x.io"
    # after c1 moves away, c2 may take the address
    commands.handle(ChangeEmail(customer_id="c1", email="z@x.io"), command_id="4", actor="t")
    moved = commands.handle(
        ChangeEmail(customer_id="c2", email="a@x.io"), command_id="5", actor="t"
    )
    assert isinstance(moved, CommandAck)


def test_direct_requests_are_decoded_strictly_and_touch_nothing_when_bad() -> None:
    store = MemoryDatabase().store("account", AccountEvent, AccountState)
    handler = DirectHandler(service(store))
    ok = handler(
        {"command": {"type": "OpenAccount", "account_id": "a", "owner_id": "o"}, "command_id": "c"}
    )
    assert ok == {
        "outcome": "accepted",
        "command_id": "c",
        "stream_id": "a",
        "version": 1,
        "events": 1,
    }
    refused = handler({"command": {"type": "Withdraw", "account_id": "a", "amount": 5}})
    assert refused["outcome"] == "rejected"
    assert refused["rule"] == "insufficient-funds"
    for bad in (
        {"command": {"type": "Withdraw", "account_id": "a", "amount": -5}},
        {"command": {"type": "Teleport", "account_id": "a"}},
        {"command": {"type": "Deposit", "account_id": "a", "amount": 5}, "extra": 1},
        "not an object",
    ):
        with pytest.raises(InvalidRequest):
            handler(bad)
    assert [e.version for page in store.load("a") for e in page] == [1]


class RefusingBus:
    """A bus that accepts only the first ``accept`` entries it is given, then refuses."""

    def __init__(self, accept: int) -> None:
        self.accept = accept
        self.received: list[dict[str, Any]] = []

    def put_events(self, entries: Sequence[Any]) -> dict[str, Any]:
        results: list[dict[str, str]] = []
        for entry in entries:
            if self.accept > 0:
                self.accept -= 1
                self.received.append(dict(entry))
                results.append({"EventId": str(len(self.received))})
            else:
                results.append({"ErrorCode": "InternalFailure", "ErrorMessage": "try later"})
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}


def test_the_relay_publishes_oldest_first_and_keeps_what_the_bus_refused() -> None:
    database = MemoryDatabase()
    commands = service(database.store("account", AccountEvent, AccountState))
    open_account(commands, "a")
    open_account(commands, "b")
    open_account(commands, "c")
    bus = RefusingBus(accept=2)
    assert relay_outbox(database, bus, "hotcore") == 2
    received = [json.loads(e["Detail"]) for e in bus.received]
    # the envelope as stored; each single-event command's entry carries it to subscribers
    assert [{k: v for k, v in d.items() if k != "subscribers"} for d in received] == [
        json.loads(e.detail) for e in database.all_events()[:2]
    ]
    assert [d["subscribers"]["events"][0]["version"] for d in received] == [1, 1]
    assert [e.aggregate for e in database.pending()] == ["account"]
    bus.accept = 5
    assert relay_outbox(database, bus, "hotcore") == 1
    assert database.pending() == []
    assert [e["Source"] for e in bus.received] == ["hotcore.account"] * 3
    assert [e["DetailType"] for e in bus.received] == ["AccountOpened"] * 3


class RefusesOnce:
    """A bus that refuses the first entry of one stream once, and accepts everything else."""

    def __init__(self, stream_id: str) -> None:
        self.stream_id = stream_id
        self.refused = False
        self.received: list[str] = []

    def put_events(self, entries: Sequence[Any]) -> dict[str, Any]:
        results: list[dict[str, str]] = []
        for entry in entries:
            stream_id = json.loads(entry["Detail"])["stream_id"]
            if stream_id == self.stream_id and not self.refused:
                self.refused = True
                results.append({"ErrorCode": "InternalFailure", "ErrorMessage": "try later"})
            else:
                self.received.append(stream_id)
                results.append({"EventId": str(len(self.received))})
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}


def test_entries_accepted_after_a_refused_one_are_published_once() -> None:
    # PutEvents takes the entries after a refused one: they leave the outbox with it,
    # and only the refused entry is sent again (after them: the relay keeps no order).
    database = MemoryDatabase()
    commands = service(database.store("account", AccountEvent, AccountState))
    for account in "abcd":
        open_account(commands, account)
    bus = RefusesOnce("b")
    assert relay_outbox(database, bus, "hotcore") == 3
    assert [json.loads(e.detail)["stream_id"] for e in database.pending()] == ["b"]
    assert relay_outbox(database, bus, "hotcore") == 1
    assert database.pending() == []
    assert bus.received == ["a", "c", "d", "b"]


def test_a_crash_between_commit_and_publish_republishes_never_loses() -> None:
    database = MemoryDatabase()
    commands = service(database.store("account", AccountEvent, AccountState))
    open_account(commands)

    class CrashingBus(RefusingBus):
        def put_events(self, entries: Sequence[Any]) -> dict[str, Any]:
            super().put_events(entries)
            raise ConnectionResetError("crashed after the bus accepted, before the ack")

    crashing = CrashingBus(accept=10)
    with pytest.raises(ConnectionResetError):
        relay_outbox(database, crashing, "hotcore")
    assert len(database.pending()) == 1  # still there: it will be published again
    healthy = RefusingBus(accept=10)
    relay_outbox(database, healthy, "hotcore")
    assert [e["Detail"] for e in healthy.received] == [e["Detail"] for e in crashing.received]
    assert database.pending() == []


@pytest.fixture
def app() -> LocalApp:
    return LocalApp(MemoryDatabase())


def test_reactions_are_idempotent_when_the_bus_delivers_twice(app: LocalApp) -> None:
    app.execute("customer", RegisterCustomer(customer_id="c", email="c@x.io", name="C"))
    registered = app.database.all_events()[0]
    event = {
        "source": "hotcore.customer",
        "detail-type": registered.type,
        "detail": json.loads(registered.detail),
    }
    again = app.reactors["account"].handle(event)
    assert again == [
        CommandAck(command_id="account:customer:c:1:0", stream_id="c", version=1, events=1)
    ]
    assert app.state("account", "c").version == 1
    assert app.state("customer", "c").state.account_ids == ["c"]


def test_an_event_from_an_unknown_source_is_refused(app: LocalApp) -> None:
    from hotcore.service.reactions import UnknownEventSource

    with pytest.raises(UnknownEventSource, match="no reaction"):
        app.reactors["account"].handle({"source": "hotcore.order", "detail": {}})


def test_a_failing_target_ends_in_dead_letters_after_retries(app: LocalApp) -> None:
    calls: list[str] = []

    def broken(event: dict[str, Any]) -> None:
        calls.append(event["id"])
        raise RuntimeError("boom")

    app.bus.add_rule("broken", {"source": ["hotcore.account"]}, broken)
    app.execute("account", OpenAccount(account_id="a", owner_id="o"))
    assert len(calls) == app.bus.max_attempts
    assert [(d.rule, d.error) for d in app.bus.dead_letters] == [("broken", "RuntimeError: boom")]


def test_put_events_reports_bad_entries_and_enforces_batch_limits(app: LocalApp) -> None:
    result = app.bus.put_events(
        [
            {"Source": "s", "DetailType": "t", "Detail": "{}"},
            {"Source": "s", "DetailType": "t", "Detail": "[1]"},
            {"Source": "", "DetailType": "t", "Detail": "{}"},
        ]
    )
    assert result["FailedEntryCount"] == 2
    assert "EventId" in result["Entries"][0]
    with pytest.raises(ValueError, match="1 to 10 entries"):
        app.bus.put_events([{"Source": "s", "DetailType": "t", "Detail": "{}"}] * 11)
    with pytest.raises(ValueError, match="262144"):
        app.bus.put_events(
            [{"Source": "s", "DetailType": "t", "Detail": '{"x":"' + "y" * 300_000 + '"}'}]
        )
