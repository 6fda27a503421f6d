"""The event-handler function: other aggregates' events from EventBridge -> own commands.

EventBridge invokes it asynchronously, so an answer is seen by no one: an event it can
never handle (not an EventBridge event, no JSON form, a source it has no reaction to, a
detail its contract refuses, a version newer than this code) raises, and Lambda's
asynchronous retries end in the function's failure destination, where it can be redriven.
"""

from __future__ import annotations

import time
from typing import Any

from hotcore.entrypoints.direct import outcome_to_json
from hotcore.entrypoints.function import AggregateFunction
from hotcore.entrypoints.inputs import NotJson, json_size
from hotcore.entrypoints.observability import logger, metrics
from hotcore.entrypoints.settings import Settings
from hotcore.service.command import CommandService
from hotcore.service.reactions import EventReactor


class EventFunction(AggregateFunction):
    """Other aggregates' events from EventBridge, turned into this aggregate's commands."""

    kind = "events"

    def __init__(self, aggregate: str, settings: Settings | None = None) -> None:
        super().__init__(aggregate, settings)
        commands: CommandService[Any, Any, Any] = CommandService(
            self.aggregate, self.store, snapshot_every=self.settings.snapshot_every
        )
        self.reactor = EventReactor(commands)

    def __call__(self, event: Any, context: Any = None) -> dict[str, Any]:
        with self.invocation(context):
            if not isinstance(event, dict) or "detail" not in event or "source" not in event:
                raise _bad_request(
                    f"{self.aggregate.name} event function: not an EventBridge event"
                )
            try:
                json_size(event)
            except NotJson as exc:
                raise _bad_request(
                    f"{self.aggregate.name} event function: the event {exc}"
                ) from None
            detail = event.get("detail")
            if isinstance(detail, dict):
                logger.append_keys(correlation_id=_text_or_none(detail.get("correlation_id")))
            started = time.perf_counter()
            outcomes = self.reactor.handle(event)
            ms = round((time.perf_counter() - started) * 1000, 3)
            results = [outcome_to_json(o) for o in outcomes]
            for result in results:
                logger.info(
                    "reaction",
                    aggregate=self.aggregate.name,
                    source=_text_or_none(event["source"]),
                    detail_type=_text_or_none(event.get("detail-type")),
                    event_id=_text_or_none(event.get("id")),
                    outcome=result["outcome"],
                    command_id=result.get("command_id"),
                    rule=result.get("rule"),
                    ms=ms,
                )
                metrics.add("Reactions", aggregate=self.aggregate.name, outcome=result["outcome"])
            return {"reactions": results}


def _bad_request(message: str) -> Exception:
    """AppSync's ``BadRequest``, the error every way in raises for input it cannot take.

    Imported when an event is refused: the AppSync module (and the GraphQL converters and
    query driver it loads) is no part of an event function's normal path.
    """
    from hotcore.entrypoints.appsync import BadRequest

    return BadRequest(message)


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
