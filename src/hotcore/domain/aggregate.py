"""What the runtime needs to know about an aggregate, gathered in one plain value.

Each domain package builds one ``Aggregate`` from its own functions and contracts; the
runtime drivers, the local bus wiring and the CDK stacks read it. No base classes: the
domain stays three functions and a few data types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from msgspec import Struct

from hotcore.contracts.common import Envelope, Guard, Rejected

TargetKind = Literal["event-handler", "saga", "subscription"]


# Plain frozen Structs rather than dataclasses: msgspec is loaded anyway, and
# ``dataclasses`` would add ``inspect`` and ``ast`` to every handler's cold start.
class DeliveryRule(Struct, frozen=True, kw_only=True):
    """A rule on the bus: events matching ``pattern`` go to one target.

    ``target`` names the receiver within its kind: an aggregate name for ``event-handler``,
    a saga name for ``saga``; ``subscription`` publishes to the GraphQL subscribers.
    """

    name: str
    description: str
    pattern: dict[str, Any]
    target_kind: TargetKind
    target: str


class Reaction[C](Struct, frozen=True, kw_only=True):
    """How an aggregate's event handler turns another aggregate's events into its own commands."""

    source: str  # name of the aggregate whose events this reacts to
    event_type: Any  # that aggregate's event union, used to decode the envelope
    react: Callable[[Envelope[Any]], list[C]]


def no_guards[S, E](state: S, events: Sequence[E]) -> list[Guard]:
    """The default: the aggregate has no set-wide rule."""
    return []


class Aggregate[C, E, S, Q](Struct, frozen=True, kw_only=True):
    name: str
    command_type: Any  # tagged union of command Structs
    event_type: Any  # tagged union of event Structs
    query_type: Any  # tagged union of query Structs
    state_type: type[S]
    stream_of: Callable[[C], str]  # the stream (aggregate instance) a command addresses
    stream_of_query: Callable[[Q], str]
    initial: Callable[[str], S]
    decide: Callable[[S, C], list[E] | Rejected]
    evolve: Callable[[S, E], S]
    fold: Callable[[S, Iterable[E]], S]
    guards: Callable[[S, Sequence[E]], list[Guard]] = no_guards
    reactions: tuple[Reaction[C], ...] = ()
    delivery_rules: tuple[DeliveryRule, ...] = ()

    @property
    def source(self) -> str:
        """The EventBridge ``source`` of this aggregate's events."""
        return f"hotcore.{self.name}"


def rejected(rule: str, message: str, **data: str | int | bool | None) -> Rejected:
    """Build a rejection: the rule's name, a sentence for people, and the data involved."""
    return Rejected(rule=rule, message=message, data=data)
