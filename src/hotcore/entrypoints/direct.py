"""Direct invocation of a command handler (Step Functions tasks, tests, the CLI).

The request is a plain command envelope; the response tells accepted from rejected in a
field a Choice state can branch on. Only infrastructure failures raise: those are the
errors a Step Functions Retry should retry.
"""

from typing import Any

import msgspec

from hotcore.contracts.common import CommandAck, Ref, Rejected, Text
from hotcore.domain.principal import system
from hotcore.entrypoints.inputs import NotJson, json_size
from hotcore.service.command import CommandService
from hotcore.service.ids import new_command_id


class DirectCommand[C](msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    command: C
    command_id: Ref | None = None
    correlation_id: Ref | None = None
    causation_id: Ref | None = None
    actor: Text = "direct"


class InvalidRequest(ValueError):
    """The request does not decode into a command of this aggregate; nothing was touched."""


class DirectHandler[C]:
    """Decodes direct requests for one aggregate and runs them through its command flow."""

    def __init__(self, commands: CommandService[C, Any, Any]) -> None:
        self.commands = commands
        self._request_type: Any = DirectCommand[commands.aggregate.command_type]  # type: ignore[name-defined]

    def __call__(self, payload: object) -> dict[str, Any]:
        request = self.decode(payload)
        return outcome_to_json(self.handle(request, request.command_id or new_command_id()))

    def decode(self, payload: object) -> DirectCommand[C]:
        try:
            json_size(payload)  # first: no value that would crash the store gets further
            request: DirectCommand[C] = msgspec.convert(payload, self._request_type)
        except (NotJson, msgspec.ValidationError) as exc:
            raise InvalidRequest(f"invalid {self.commands.aggregate.name} command: {exc}") from exc
        return request

    def handle(self, request: DirectCommand[C], command_id: str) -> CommandAck | Rejected:
        """Run a decoded request; ``command_id`` is the request's, or a fresh one if it had none."""
        return self.commands.handle(
            request.command,
            command_id=command_id,
            actor=request.actor,
            correlation_id=request.correlation_id,
            causation_id=request.causation_id,
            # only the deployment's own roles may invoke the function (the state machine's,
            # tools'): AppSync's requests never reach this path (they carry ``info``)
            principal=system(request.actor),
        )


def outcome_to_json(outcome: CommandAck | Rejected) -> dict[str, Any]:
    """``{"outcome": "accepted", ...ack}`` or ``{"outcome": "rejected", rule, message, data}``."""
    body: dict[str, Any] = msgspec.to_builtins(outcome)
    body["outcome"] = "rejected" if isinstance(outcome, Rejected) else "accepted"
    return body
