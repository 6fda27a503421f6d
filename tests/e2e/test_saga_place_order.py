"""The PlaceOrder saga end to end on the local store and bus: every branch, retries, repeats.

The same ASL file CDK deploys runs here on the local executor; the task functions are
the aggregates' direct-invocation handlers, sometimes wrapped to fail the way Lambda
can (service errors, a response lost after the work was done).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hotcore.contracts.account import Deposit
from hotcore.contracts.customer import RegisterCustomer
from hotcore.contracts.inventory import AddStock
from hotcore.contracts.order import OrderLine, PlaceOrder
from hotcore.store.memory import MemoryDatabase
from hotcore_dev.local import LocalApp
from hotcore_dev.saga.asl import Execution, TaskError
from hotcore_dev.saga.place_order import DEFINITION, NAME, LocalPlaceOrderSaga, load_definition

Handler = Callable[[Any], dict[str, Any]]


class World:
    """Ann with 100.00, 10 widgets and 2 gizmos in stock, and the saga wired to the bus."""

    def __init__(self, wrap: dict[str, Callable[[Handler], Handler]] | None = None) -> None:
        self.app = LocalApp(MemoryDatabase())
        handlers: dict[str, Handler] = dict(self.app.direct)
        for aggregate, wrapper in (wrap or {}).items():
            handlers[aggregate] = wrapper(handlers[aggregate])
        self.saga = LocalPlaceOrderSaga(handlers)
        self.app.sagas[NAME] = self.saga
        self.app.execute(
            "customer", RegisterCustomer(customer_id="ann", email="ann@x.io", name="Ann")
        )
        self.app.execute("account", Deposit(account_id="ann", amount=10_000))
        self.app.execute("inventory", AddStock(sku="widget", quantity=10))
        self.app.execute("inventory", AddStock(sku="gizmo", quantity=2))

    def place(self, order_id: str, *lines: tuple[str, int, int]) -> Execution:
        before = len(self.saga.executions)
        self.app.execute(
            "order",
            PlaceOrder(
                order_id=order_id,
                customer_id="ann",
                account_id="ann",
                lines=[OrderLine(sku=s, quantity=q, unit_price=p) for s, q, p in lines],
            ),
        )
        (execution,) = self.saga.executions[before:]
        return execution

    def balance(self) -> int:
        return int(self.app.state("account", "ann").state.balance)

    def available(self, sku: str) -> int:
        return int(self.app.state("inventory", sku).state.available)

    def order(self, order_id: str) -> Any:
        return self.app.state("order", order_id).state


def visited(execution: Execution) -> list[str]:
    return [e.state for e in execution.history if e.type.endswith("StateEntered") and e.state]


def test_the_happy_path_reserves_charges_and_confirms() -> None:
    world = World()
    execution = world.place("o-1", ("widget", 2, 1000), ("gizmo", 1, 500))
    assert execution.status == "SUCCEEDED"
    assert visited(execution)[-3:] == ["ConfirmOrder", "Confirmed?", "OrderPlaced"]
    assert world.order("o-1").status == "confirmed"
    assert world.order("o-1").paid == 2500
    assert world.balance() == 7500
    assert (world.available("widget"), world.available("gizmo")) == (8, 1)
    assert world.app.bus.dead_letters == []


def test_a_rejected_reservation_releases_what_was_reserved_and_cancels() -> None:
    world = World()
    execution = world.place("o-2", ("widget", 2, 1000), ("gizmo", 5, 500))
    assert (execution.status, execution.error) == ("FAILED", "PlaceOrder.Compensated")
    assert "StockUnavailable" in visited(execution)
    assert "ChargeAccount" not in visited(execution)
    assert world.order("o-2").status == "cancelled"
    assert (world.available("widget"), world.available("gizmo")) == (10, 2)
    assert world.balance() == 10_000


def test_a_rejected_charge_releases_the_stock_and_cancels() -> None:
    world = World()
    execution = world.place("o-3", ("widget", 3, 5000))  # 150.00 > 100.00
    assert (execution.status, execution.error) == ("FAILED", "PlaceOrder.Compensated")
    assert "PaymentFailed" in visited(execution)
    assert "Refund" not in visited(execution)
    assert world.order("o-3").status == "cancelled"
    assert world.available("widget") == 10
    assert world.balance() == 10_000


def failing(
    times: int, command_type: str, error: str = "Lambda.ServiceException"
) -> Callable[[Handler], Handler]:
    """Fail the first ``times`` calls carrying ``command_type`` with a Lambda service error."""

    def wrap(handler: Handler) -> Handler:
        left = {"n": times}

        def flaky(payload: Any) -> dict[str, Any]:
            if payload["command"]["type"] == command_type and left["n"] > 0:
                left["n"] -= 1
                raise TaskError(error, "injected")
            return handler(payload)

        return flaky

    return wrap


def test_a_confirmation_that_keeps_failing_is_retried_then_refunded_and_released() -> None:
    world = World(wrap={"order": failing(99, "ConfirmOrder")})
    execution = world.place("o-4", ("widget", 1, 2000))
    assert (execution.status, execution.error) == ("FAILED", "PlaceOrder.Compensated")
    retries = [
        e for e in execution.history if e.type == "RetryScheduled" and e.state == "ConfirmOrder"
    ]
    assert len(retries) == 4  # MaxAttempts of the transient-error retrier
    assert [
        s for s in visited(execution) if s in ("ConfirmationFailed", "Refund", "ReleaseStock")
    ] == ["ConfirmationFailed", "Refund", "ReleaseStock"]
    assert world.balance() == 10_000
    assert world.order("o-4").status == "cancelled"
    assert world.order("o-4").paid == 0  # charge and refund both recorded on the order
    assert world.available("widget") == 10


def test_a_transient_error_is_retried_and_the_order_completes_with_one_charge() -> None:
    world = World(wrap={"account": failing(2, "Withdraw", "Lambda.TooManyRequestsException")})
    execution = world.place("o-5", ("widget", 1, 2000))
    assert execution.status == "SUCCEEDED"
    assert world.balance() == 8000
    assert world.order("o-5").paid == 2000


def lost_response(command_type: str) -> Callable[[Handler], Handler]:
    """Do the work, then fail as if the response never came back (the step is retried)."""

    def wrap(handler: Handler) -> Handler:
        state = {"lost": False}

        def flaky(payload: Any) -> dict[str, Any]:
            result = handler(payload)
            if payload["command"]["type"] == command_type and not state["lost"]:
                state["lost"] = True
                raise TaskError(
                    "Lambda.SdkClientException", "response lost after the work was done"
                )
            return result

        return flaky

    return wrap


@pytest.mark.parametrize(
    ("aggregate", "command"), [("account", "Withdraw"), ("inventory", "ReserveStock")]
)
def test_a_step_run_twice_applies_once(aggregate: str, command: str) -> None:
    world = World(wrap={aggregate: lost_response(command)})
    execution = world.place("o-6", ("widget", 2, 1000))
    assert execution.status == "SUCCEEDED"
    assert world.balance() == 8000  # one charge
    assert world.available("widget") == 8  # one reservation
    withdrawals = [e for e in world.app.database.all_events() if e.type == "Withdrawn"]
    assert len(withdrawals) == 1


def test_a_second_execution_for_the_same_order_changes_nothing() -> None:
    world = World()
    first = world.place("o-7", ("widget", 2, 1000))
    events_before = len(world.app.database.all_events())
    # EventBridge may start the state machine twice for one event: replay the same input
    assert isinstance(first.input, dict)
    second = world.saga(first.input)
    world.app.settle()
    assert (first.status, second.status) == ("SUCCEEDED", "SUCCEEDED")
    assert len(world.app.database.all_events()) == events_before
    assert world.balance() == 8000


def test_the_definition_file_is_what_runs() -> None:
    machine = load_definition()
    assert DEFINITION.name == "place_order.asl.json"
    assert {t.name for t in machine.tasks()} == {
        "Reserve",
        "ChargeAccount",
        "ConfirmOrder",
        "Refund",
        "Release",
        "CancelOrder",
    }
