"""The PlaceOrder saga: the ASL file CDK deploys, run locally against the command handlers.

On AWS, Step Functions runs ``place_order.asl.json`` with the command functions' ARNs
substituted in; here the same file runs on the local executor with each function name
bound to the aggregate's direct-invocation handler.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hotcore.saga.asl import Clock, Execution, LocalExecutor, StateMachine

NAME = "place-order"
DEFINITION = Path(__file__).with_name("place_order.asl.json")
#: Definition substitution -> the aggregate whose command function it names.
FUNCTIONS = {
    "AccountCommandFunction": "account",
    "InventoryCommandFunction": "inventory",
    "OrderCommandFunction": "order",
}


def local_function_name(aggregate: str) -> str:
    return f"hotcore-{aggregate}-command"


def load_definition() -> StateMachine:
    return StateMachine.from_file(
        DEFINITION,
        substitutions={key: local_function_name(agg) for key, agg in FUNCTIONS.items()},
    )


class LocalPlaceOrderSaga:
    """Starts one execution per OrderPlaced event and keeps every execution for inspection."""

    def __init__(
        self,
        command_handlers: Mapping[str, Callable[[Any], dict[str, Any]]],
        *,
        clock: Clock | None = None,
    ) -> None:
        self.executor = LocalExecutor(
            load_definition(),
            {local_function_name(agg): command_handlers[agg] for agg in FUNCTIONS.values()},
            clock=clock,
        )
        self.executions: list[Execution] = []

    def __call__(self, event: dict[str, Any]) -> Execution:
        execution = self.executor.run(event)
        self.executions.append(execution)
        return execution
