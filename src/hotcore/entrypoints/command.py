"""The command function: AppSync mutations and direct invocations (Step Functions tasks)."""

from __future__ import annotations

import time
from typing import Any

from hotcore.contracts.common import CommandAck, Rejected
from hotcore.entrypoints.appsync import (
    AppSyncEvent,
    AppSyncResolver,
    BadRequest,
    ack,
    failure,
    invalid,
)
from hotcore.entrypoints.direct import DirectHandler, InvalidRequest, outcome_to_json
from hotcore.entrypoints.failures import TRANSIENT, Transient, classify
from hotcore.entrypoints.function import AggregateFunction
from hotcore.entrypoints.identity import Identity, Unauthenticated, unauthenticated
from hotcore.entrypoints.observability import logger, metrics
from hotcore.entrypoints.settings import Settings
from hotcore.service.command import CommandService
from hotcore.service.ids import new_command_id


class CommandFunction(AggregateFunction):
    """AppSync mutations and direct invocations (Step Functions tasks) of one aggregate."""

    kind = "command"

    def __init__(self, aggregate: str, settings: Settings | None = None) -> None:
        super().__init__(aggregate, settings)
        self.commands: CommandService[Any, Any, Any] = CommandService(
            self.aggregate, self.store, snapshot_every=self.settings.snapshot_every
        )
        self.direct = DirectHandler(self.commands)
        self.resolver = AppSyncResolver(self.aggregate)
        self.identity = Identity(self.settings.tokens)

    def __call__(self, event: Any, context: Any = None) -> Any:
        with self.invocation(context):
            if isinstance(event, list):  # BatchInvoke: one answer per item, in order, isolated
                return [self._mutation(item) for item in event]
            if isinstance(event, dict) and "command" in event and "info" not in event:
                return self._direct(event)
            return self._mutation(event)

    def _mutation(self, raw: Any) -> dict[str, Any]:
        """One AppSync mutation: every outcome is an answer, none raises (AppSync retries
        nothing, and in a batch one item's failure must not fail the others)."""
        started = time.perf_counter()
        try:
            event: AppSyncEvent = self.resolver.decode(raw)
            command, command_id = self.resolver.command(event)
        except BadRequest as exc:
            logger.warning("bad request", aggregate=self.aggregate.name, error=str(exc))
            return invalid(str(exc))
        command_id = command_id or new_command_id()
        logger.append_keys(correlation_id=command_id)
        try:
            principal = self.identity.principal_of(event.identity, event.request)
            outcome = self.commands.handle(
                command, command_id=command_id, actor=principal.actor, principal=principal
            )
        except Unauthenticated as exc:
            logger.warning("unauthenticated", aggregate=self.aggregate.name, reason=exc.reason)
            return unauthenticated(exc)
        except Exception as exc:  # answered as a typed error, logged whole
            return self._failed(exc, type(command).__name__, command_id)
        return ack(self._record(outcome, type(command).__name__, command_id, started))

    def _direct(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A Step Functions task (or any direct caller): invalid input is an ``invalid``
        answer (its Choice takes the failure branch); transient failures raise ``Transient``
        for its Retry; anything else is an ``error`` answer."""
        started = time.perf_counter()
        try:
            request = self.direct.decode(payload)
        except InvalidRequest as exc:
            logger.warning("bad request", aggregate=self.aggregate.name, error=str(exc))
            return {**invalid(str(exc)), "error": "InvalidRequest"}
        command_id = request.command_id or new_command_id()
        logger.append_keys(correlation_id=request.correlation_id or command_id)
        command = type(request.command).__name__
        try:
            outcome = self.direct.handle(request, command_id)
        except TRANSIENT as exc:
            self._failed(exc, command, command_id)
            raise Transient(f"{type(exc).__name__}: send command {command_id} again") from exc
        except Exception as exc:  # answered as a typed error, logged whole
            return self._failed(exc, command, command_id)
        return self._record(outcome, command, command_id, started)

    def _failed(self, error: Exception, command: str, command_id: str) -> dict[str, Any]:
        kind, message = classify(error)
        keys = {"aggregate": self.aggregate.name, "command": command, "command_id": command_id}
        if kind == "Unavailable":
            logger.warning("command failed", answer=kind, error=type(error).__name__, **keys)
        else:
            logger.exception("command failed", error, answer=kind, **keys)
        metrics.add("Commands", aggregate=self.aggregate.name, outcome="error")
        return failure(kind, message, command_id=command_id)

    def _record(
        self, outcome: CommandAck | Rejected, command: str, command_id: str, started: float
    ) -> dict[str, Any]:
        result = outcome_to_json(outcome)
        logger.info(
            "command handled",
            aggregate=self.aggregate.name,
            command=command,
            outcome=result["outcome"],
            command_id=command_id,
            rule=result.get("rule"),
            ms=round((time.perf_counter() - started) * 1000, 3),
        )
        metrics.add("Commands", aggregate=self.aggregate.name, outcome=result["outcome"])
        return result
