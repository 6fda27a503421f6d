"""The event handler: other aggregates' events in, this aggregate's commands out.

The bus delivers at least once, so every command a reaction sends gets an id derived
from the event that caused it: a redelivered event re-sends the same command ids, and
the store returns the first outcome instead of applying them twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hotcore.codec.events import EventReader
from hotcore.contracts.common import CommandAck, Envelope, Rejected
from hotcore.domain.aggregate import Reaction
from hotcore.domain.names import event_source
from hotcore.domain.principal import system
from hotcore.service.command import CommandService
from hotcore.service.ids import derived_id


class UnknownEventSource(ValueError):
    """An event from a source this aggregate has no reaction for (a delivery-rule mistake)."""


class EventReactor[C]:
    def __init__(self, commands: CommandService[C, Any, Any]) -> None:
        self.commands = commands
        aggregate = commands.aggregate
        # each source's events are read with their own versions: old ones come upcast, one
        # newer than this code knows raises EventTooNew (to the failure destination)
        self._reactions: dict[str, tuple[Reaction[C], EventReader[Any]]] = {
            event_source(r.source): (r, EventReader(r.event_type)) for r in aggregate.reactions
        }
        self.actor = f"{event_source(aggregate.name)}.events"
        self.principal = system(self.actor)

    def handle(self, event: Mapping[str, Any]) -> list[CommandAck | Rejected]:
        """React to one EventBridge event (``source``, ``detail-type``, ``detail``)."""
        source = event.get("source")
        if not isinstance(source, str) or source not in self._reactions:
            raise UnknownEventSource(
                f"{self.commands.aggregate.name} has no reaction to events from {source!r}"
            )
        reaction, reader = self._reactions[source]
        envelope: Envelope[Any] = reader.convert(event.get("detail"))
        outcomes: list[CommandAck | Rejected] = []
        for index, command in enumerate(reaction.react(envelope)):
            outcomes.append(
                self.commands.handle(
                    command,
                    command_id=derived_id(
                        self.commands.aggregate.name,
                        reaction.source,
                        envelope.stream_id,
                        envelope.version,
                        index,
                    ),
                    actor=self.actor,
                    principal=self.principal,
                    correlation_id=envelope.correlation_id,
                    causation_id=derived_id(reaction.source, envelope.stream_id, envelope.version),
                )
            )
        return outcomes
