"""The PlaceOrder saga: the ASL file CDK deploys, run locally against the command handlers.

On AWS, Step Functions runs ``place_order.asl.json`` with the command functions' ARNs
substituted in; here the same file runs on the local executor with each function name
bound to the aggregate's direct-invocation handler.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hotcore.domain.names import PLACE_ORDER_SAGA, function_name
from hotcore_dev.saga.asl import Clock, Execution, LocalExecutor, StateMachine
from hotcore_dev.saga.journal import SagaJournal

NAME = PLACE_ORDER_SAGA
DEFINITION = Path(__file__).with_name("place_order.asl.json")
#: Definition substitution -> the aggregate whose command function it names.
FUNCTIONS = {
    "AccountCommandFunction": "account",
    "InventoryCommandFunction": "inventory",
    "OrderCommandFunction": "order",
}


def local_function_name(aggregate: str) -> str:
    return function_name(aggregate, "command")


def load_definition() -> StateMachine:
    return StateMachine.from_file(
        DEFINITION,
        substitutions={key: local_function_name(agg) for key, agg in FUNCTIONS.items()},
    )


class LocalPlaceOrderSaga:
    """Starts one execution per OrderPlaced event and keeps every execution for inspection.

    With a ``journal`` (``LocalApp.journal``), each execution is named after the bus
    event that started it and its steps are recorded, so a delivery repeated after a
    crash resumes the interrupted execution instead of starting a different one, and a
    delivery repeated after the execution ended does not run it again.
    """

    def __init__(
        self,
        command_handlers: Mapping[str, Callable[[Any], dict[str, Any]]],
        *,
        clock: Clock | None = None,
        journal: SagaJournal | None = None,
    ) -> None:
        self.journal = journal
        handlers: dict[str, Callable[[Any], object]] = {}
        for aggregate in FUNCTIONS.values():
            name = local_function_name(aggregate)
            handler = command_handlers[aggregate]
            handlers[name] = handler if journal is None else journal.journaled(name, handler)
        self.executor = LocalExecutor(load_definition(), handlers, clock=clock)
        self.executions: list[Execution] = []

    def __call__(self, event: dict[str, Any]) -> Execution | None:
        if self.journal is None:
            execution = self.executor.run(event)
        else:
            name = event.get("id")
            if not isinstance(name, str) or not name:
                name = self.executor.new_uuid()
            if self.journal.finished(name) is not None:
                return None  # a repeated delivery of an event whose execution ended
            with self.journal.running(name, NAME):
                execution = self.executor.run(event, name=name)
                self.journal.end(execution)
        self.executions.append(execution)
        return execution
