"""The worked example of docs/evolution.md: Account's ``Deposited`` becomes version 2.

Version 2 renamed ``reference`` to ``memo`` and gained ``currency`` (default ``"EUR"``).
Deposits a version 1 writer stored still fold and still feed Order's event handler; a
reader deployed before the change meets version 2 on the bus as ``EventTooNew`` (its
delivery fails over to the dead letters, the bus carries on) and reads it once it is
redeployed; a writer still on version 1 during the deploy is read by the new readers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hotcore.contracts.account import (
    AccountClosed,
    AccountOpened,
    AccountState,
    Deposit,
    Deposited,
    DepositedV1,
    OpenAccount,
    Withdraw,
    Withdrawn,
)
from hotcore.contracts.common import CommandAck, Envelope, Rejected
from hotcore.contracts.order import OrderCommand, RecordRefund
from hotcore.domain.aggregate import Reaction
from hotcore.domain.order import ORDER
from hotcore.service.command import CommandService
from hotcore.service.publisher import bus_entry, for_subscribers
from hotcore.service.reactions import EventReactor
from hotcore.store.sqlite import SqliteDatabase
from hotcore_dev.local import LocalApp

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
#: Account's events as readers deployed before Deposited version 2 knew them.
OldAccountEvent = AccountOpened | DepositedV1 | Withdrawn | AccountClosed


def old_envelope(stream: str, version: int, event: Any, command_id: str) -> Envelope[Any]:
    return Envelope(
        stream_id=stream,
        version=version,
        type=type(event).__struct_config__.tag,
        data=event,  # version 1 of its type: schema_version stays 1 (omitted)
        command_id=command_id,
        correlation_id=command_id,
        timestamp=T0,
        actor="account-v1",
    )


@pytest.fixture
def app(tmp_path: Path) -> LocalApp:
    return LocalApp(SqliteDatabase(tmp_path / "evolving.db"))


def test_deposits_stored_as_version_1_still_fold(app: LocalApp) -> None:
    store = app.commands["account"].store
    # what the Account function stored before the change (and keeps: events are immutable)
    for version, event in enumerate(
        [AccountOpened(owner_id="o"), DepositedV1(amount=500, reference="salary")], start=1
    ):
        store.append(
            "a", version - 1, [old_envelope("a", version, event, f"old-{version}")],
            command_id=f"old-{version}", fingerprint=f"{version:032x}",
        )  # fmt: skip
    app.settle()
    assert app.state("account", "a").state == AccountState(
        account_id="a", status="open", owner_id="o", balance=500
    )
    withdrawn = app.execute("account", Withdraw(account_id="a", amount=300))
    deposited = app.execute("account", Deposit(account_id="a", amount=50, reference="gift"))
    assert isinstance(withdrawn, CommandAck)
    assert isinstance(deposited, CommandAck)
    events = [e.data for page in store.load("a") for e in page]
    assert events[1] == Deposited(amount=500, memo="salary", currency="EUR")  # upcast
    assert events[3] == Deposited(amount=50, memo="gift", currency="EUR")
    assert app.state("account", "a").state.balance == 250
    stored = [
        json for json in (e.detail for e in app.database.all_events()) if b"Deposited" in json
    ]
    first, second = (msgspec.json.decode(raw) for raw in stored)
    assert "schema_version" not in first
    assert first["data"]["reference"] == "salary"
    assert (second["schema_version"], second["data"]["memo"]) == (2, "gift")


def old_on_account_event(envelope: Envelope[Any]) -> list[OrderCommand]:
    """Order's event handler as it was before the change: it matched ``reference``."""
    match envelope.data:
        case DepositedV1(amount=amount, reference=str(reference)) if reference.startswith(
            "refund:"
        ):
            return [RecordRefund(order_id=reference.removeprefix("refund:"), amount=amount)]
    return []


def test_an_old_reader_and_a_new_writer_coexist_on_the_bus(app: LocalApp) -> None:
    # Order's event handler still deployed with the version 1 contracts, beside the new one
    old_order = msgspec.structs.replace(
        ORDER,
        reactions=(
            Reaction(
                name="order-records-payments-v1",
                description="Order's handler before Deposited version 2.",
                source="account",
                event_type=OldAccountEvent,
                events=(Withdrawn, DepositedV1),
                react=old_on_account_event,
            ),
        ),
    )
    old_handler = EventReactor(CommandService(old_order, app.commands["order"].store))
    handled: list[str] = []

    def old_target(event: dict[str, Any]) -> None:
        old_handler.handle(event)
        handled.append(event["detail-type"])

    app.bus.add_rule(
        "order-records-payments-v1",
        {"source": ["hotcore.account"], "detail-type": ["Deposited", "Withdrawn"]},
        old_target,
    )
    open_ack = app.execute("account", OpenAccount(account_id="a", owner_id="o"))
    refund = app.execute("account", Deposit(account_id="a", amount=40, reference="refund:o-9"))
    charge = app.execute("account", Withdraw(account_id="a", amount=40, reference="order:o-9"))
    assert all(isinstance(o, CommandAck) for o in (open_ack, refund, charge))
    # the new writer's Deposited is version 2: the old reader refuses it by name ...
    (dead,) = app.bus.dead_letters
    assert dead.rule == "order-records-payments-v1"
    assert dead.event["detail-type"] == "Deposited"
    assert dead.error.startswith("EventTooNew: Deposited version 2 is newer than this reader")
    # ... and still reads what did not change; the current handler read both
    assert handled == ["Withdrawn"]
    refunds = [o for target, o in app.reactions if target == "order"]
    assert len(refunds) == 2  # the refund and the charge reached Order's current handler
    # once redeployed with the new contracts, the dead-lettered event is read
    redriven = EventReactor(app.commands["order"]).handle(dead.event)
    assert len(redriven) == 1


def test_a_writer_still_on_version_1_is_read_by_the_new_readers(app: LocalApp) -> None:
    detail = msgspec.json.encode(
        old_envelope("a", 2, DepositedV1(amount=40, reference="refund:o-9"), "old-dep")
    ).decode()
    event = {
        "source": "hotcore.account",
        "detail-type": "Deposited",
        "detail": msgspec.json.decode(detail),
    }
    # Order's handler reads the old deposit as a refund for o-9 (no such order here)
    (outcome,) = EventReactor(app.commands["order"]).handle(event)
    assert outcome == Rejected(
        rule="order-not-found", message="order o-9 was never placed", data={"order_id": "o-9"}
    )
    # and the delivery rule still matches a version 1 deposit (``reference``, not ``memo``)
    # (as the publisher sends it: the command's only entry carries it, upcast, to subscribers)
    (entry,) = for_subscribers([bus_entry("account", "Deposited", detail, app.bus.name)])
    (carried,) = json.loads(entry["Detail"])["subscribers"]["events"]
    assert (carried["memo"], carried["currency"]) == ("refund:o-9", "EUR")
    app.bus.put_events([entry])
    assert app.bus.drain() >= 2  # Order's handler and the subscribers
    assert app.bus.dead_letters == []
