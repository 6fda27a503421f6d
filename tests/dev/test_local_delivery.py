"""Crash-safe local delivery: a process that dies anywhere loses no reaction and no saga.

Each test kills the local app at one point (a ``Killed`` exception that, like SIGKILL,
no ``except Exception`` stops), drops it, and starts a new ``LocalApp`` on the same
SQLite file, which must finish what the first one left: deliveries still queued, events
still in the outbox, sagas interrupted between steps. ``tests/e2e/test_crash.py`` does
the same with real processes and SIGKILL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hotcore.contracts.account import Deposit
from hotcore.contracts.customer import RegisterCustomer
from hotcore.contracts.inventory import AddStock
from hotcore.contracts.order import OrderLine, PlaceOrder
from hotcore.store.sqlite import SqliteDatabase
from hotcore_dev.bus.local import LocalBus
from hotcore_dev.bus.queue import DeliveryQueue
from hotcore_dev.local import LocalApp
from hotcore_dev.saga.asl import TaskError
from hotcore_dev.saga.place_order import NAME, LocalPlaceOrderSaga

Handler = Callable[[Any], dict[str, Any]]


class Killed(BaseException):
    """The process died here: nothing after this line of the first app runs."""


class Process:
    """One run of the local app on ``path``; ``wrap`` lets a test kill it inside a handler."""

    def __init__(self, path: Path, wrap: dict[str, Callable[[Handler], Handler]] | None = None):
        self.database = SqliteDatabase(path)
        self.app = LocalApp(self.database)
        handlers: dict[str, Handler] = dict(self.app.direct)
        for aggregate, wrapper in (wrap or {}).items():
            handlers[aggregate] = wrapper(handlers[aggregate])
        self.saga = LocalPlaceOrderSaga(handlers, journal=self.app.journal)
        self.app.sagas[NAME] = self.saga

    def die(self) -> None:
        self.database.close()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "hotcore.db"


def register(app: LocalApp, customer: str) -> None:
    app.execute(
        "customer",
        RegisterCustomer(customer_id=customer, email=f"{customer}@x.io", name=customer),
    )


def linked_accounts(app: LocalApp, customer: str) -> list[str]:
    return list(app.state("customer", customer).state.account_ids)


def test_a_crash_in_a_reaction_is_redelivered_on_restart(path: Path) -> None:
    first = Process(path)
    calls: list[str] = []

    def killing(event: dict[str, Any]) -> None:
        calls.append(event["detail-type"])
        raise Killed

    first.app.bus.add_rule("a-target-that-dies", {"detail-type": ["CustomerRegistered"]}, killing)
    first.app.bus.rules.insert(0, first.app.bus.rules.pop())  # it is delivered to first
    with pytest.raises(Killed):
        register(first.app, "ann")
    first.die()
    # committed and off the outbox, but Account's event handler has not run yet
    assert calls == ["CustomerRegistered"]
    assert first.database.pending() == []

    second = Process(path)
    second.app.bus.add_rule(
        "a-target-that-dies", {"detail-type": ["CustomerRegistered"]}, calls.append
    )
    second.app.settle()
    assert second.app.state("account", "ann").version == 1  # Account reacted
    assert linked_accounts(second.app, "ann") == ["ann"]  # and Customer reacted to that
    assert second.database.pending() == []
    assert second.app.bus.pending == 0
    assert second.app.bus.dead_letters == []


def test_a_crash_after_the_relay_leaves_the_deliveries_queued(path: Path) -> None:
    first = Process(path)
    first.app.commands["customer"].handle(
        RegisterCustomer(customer_id="bob", email="bob@x.io", name="Bob"),
        command_id="c-bob",
        actor="t",
    )
    first.app._relay()  # the relay ran, then the process died before draining
    assert first.database.pending() == []
    assert first.app.bus.pending == 2  # Account's handler and the subscription rule
    first.die()

    second = Process(path)
    assert second.app.bus.pending == 2
    second.app.settle()
    assert linked_accounts(second.app, "bob") == ["bob"]


def test_a_crash_inside_the_relay_publishes_each_event_once(path: Path) -> None:
    first = Process(path)
    first.app.commands["customer"].handle(
        RegisterCustomer(customer_id="cy", email="cy@x.io", name="Cy"),
        command_id="c-cy",
        actor="t",
    )

    def mark_then_die(positions: Any) -> None:
        SqliteDatabase.mark_published(first.database, positions)
        raise Killed  # after the bus took the events and the outbox let them go

    first.database.mark_published = mark_then_die  # type: ignore[method-assign]
    with pytest.raises(Killed):
        first.app.settle()
    first.die()

    second = Process(path)
    seen: list[str] = []
    second.app.bus.add_rule(
        "count", {"detail-type": ["CustomerRegistered"]}, lambda e: seen.append(e["id"])
    )
    second.app.settle()
    # the relay's transaction rolled back: the event is relayed again, and only once
    assert len(seen) == 1
    assert linked_accounts(second.app, "cy") == ["cy"]


def stocked(app: LocalApp) -> None:
    register(app, "ann")
    app.execute("account", Deposit(account_id="ann", amount=10_000))
    app.execute("inventory", AddStock(sku="widget", quantity=10))


def place(app: LocalApp, order_id: str) -> None:
    app.execute(
        "order",
        PlaceOrder(
            order_id=order_id,
            customer_id="ann",
            account_id="ann",
            lines=[OrderLine(sku="widget", quantity=2, unit_price=1000)],
        ),
    )


def die_after(command_type: str) -> Callable[[Handler], Handler]:
    """The handler does its work, then the process dies before the saga sees the answer."""

    def wrap(handler: Handler) -> Handler:
        def dying(payload: Any) -> dict[str, Any]:
            result = handler(payload)
            if payload["command"]["type"] == command_type:
                raise Killed
            return result

        return dying

    return wrap


def test_a_saga_killed_after_a_step_resumes_and_charges_once(path: Path) -> None:
    setup = Process(path)
    stocked(setup.app)
    setup.die()
    first = Process(path, wrap={"account": die_after("Withdraw")})
    with pytest.raises(Killed):
        place(first.app, "o-1")
    first.die()

    second = Process(path)
    second.app.settle()
    order = second.app.state("order", "o-1").state
    assert (order.status, order.paid) == ("confirmed", 2000)
    assert second.app.state("account", "ann").state.balance == 8000  # charged once
    assert second.app.journal.unfinished() == []
    (execution,) = second.saga.executions  # the interrupted one, resumed under its name
    assert execution.status == "SUCCEEDED"


def confirmation_fails(handler: Handler) -> Handler:
    def failing(payload: Any) -> dict[str, Any]:
        if payload["command"]["type"] == "ConfirmOrder":
            raise TaskError("Lambda.ServiceException", "injected")
        return handler(payload)

    return failing


def test_a_saga_killed_while_compensating_keeps_compensating(path: Path) -> None:
    # The first run could not confirm, refunded, and died; the second run's Order function
    # works again. Replaying the journal keeps the path the first run took: the order is
    # cancelled and refunded, not confirmed on top of a refund.
    setup = Process(path)
    stocked(setup.app)
    setup.die()
    first = Process(path, wrap={"order": confirmation_fails, "account": die_after("Deposit")})
    with pytest.raises(Killed):
        place(first.app, "o-2")
    first.die()

    second = Process(path)
    second.app.settle()
    order = second.app.state("order", "o-2").state
    assert (order.status, order.paid) == ("cancelled", 0)
    assert second.app.state("account", "ann").state.balance == 10_000
    assert second.app.state("inventory", "widget").state.available == 10
    (execution,) = second.saga.executions
    assert (execution.status, execution.error) == ("FAILED", "PlaceOrder.Compensated")
    retries = [e for e in execution.history if e.type == "RetryScheduled"]
    assert len(retries) == 4  # replayed, not run again against a working function


def test_a_delivery_repeated_after_its_saga_ended_does_not_run_it_again(path: Path) -> None:
    setup = Process(path)
    stocked(setup.app)
    setup.die()
    first = Process(path)
    original = first.app.bus._queue.done

    def die_before_ack(delivery: Any) -> None:
        if delivery.rule == "order-starts-place-order-saga":
            raise Killed
        original(delivery)

    first.app.bus._queue.done = die_before_ack  # type: ignore[method-assign]
    with pytest.raises(Killed):
        place(first.app, "o-3")
    assert [e.status for e in first.saga.executions] == ["SUCCEEDED"]
    first.die()

    second = Process(path)
    second.app.settle()
    assert second.saga.executions == []  # the journal says it ended: acknowledged only
    assert second.app.bus.pending == 0
    assert second.app.state("order", "o-3").state.status == "confirmed"


def test_dead_letters_and_attempts_survive_a_restart(path: Path) -> None:
    def queue() -> DeliveryQueue:
        return DeliveryQueue("bus", SqliteDatabase(path).connection)

    def broken(event: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    bus = LocalBus(name="bus", queue=queue())
    bus.add_rule("r", {"source": ["s"]}, broken)
    bus.put_events([{"Source": "s", "DetailType": "t", "Detail": json.dumps({"k": 1})}])
    assert bus.drain() == 1
    again = LocalBus(name="bus", queue=queue())
    assert [(d.rule, d.event["detail"], d.error) for d in again.dead_letters] == [
        ("r", {"k": 1}, "RuntimeError: boom")
    ]
    assert again.pending == 0
