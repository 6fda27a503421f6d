"""What the runtime needs to know about an aggregate, gathered in one plain value.

Each domain package builds one ``Aggregate`` from its own functions and contracts; the
runtime drivers, the local bus wiring and the CDK stacks read it. No base classes: the
domain stays three functions and a few data types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, get_args

from msgspec import Struct

from hotcore.contracts.common import Envelope, Guard, Rejected
from hotcore.domain.names import event_source, subscription_rule_name
from hotcore.domain.principal import Principal, internal_command

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
    """How an aggregate's event handler turns another aggregate's events into its own commands.

    It is also the delivery rule that brings those events: ``source`` and ``events`` give
    the pattern's ``source`` and ``detail-type``, ``detail`` (optional) narrows it further
    with an EventBridge pattern on the envelope (``{"data": {"reference": [...]}}``).
    """

    name: str  # the delivery rule's name, unique on the bus
    description: str
    source: str  # name of the aggregate whose events this reacts to
    event_type: Any  # that aggregate's event union, used to decode the envelope
    events: tuple[type[Any], ...]  # the event classes reacted to
    react: Callable[[Envelope[Any]], list[C]]
    detail: dict[str, Any] | None = None

    def rule(self, target: str) -> DeliveryRule:
        """The delivery rule of this reaction, for the event handler of aggregate ``target``."""
        pattern: dict[str, Any] = {
            "source": [event_source(self.source)],
            "detail-type": [cls.__name__ for cls in self.events],
        }
        if self.detail is not None:
            pattern["detail"] = self.detail
        return DeliveryRule(
            name=self.name,
            description=self.description,
            pattern=pattern,
            target_kind="event-handler",
            target=target,
        )


def no_guards[S, E](state: S, events: Sequence[E]) -> list[Guard]:
    """The default: the aggregate has no set-wide rule."""
    return []


def anyone[S, C](principal: Principal, state: S, command: C) -> Rejected | None:
    """The default policy: every public command is open to every caller."""
    return None


def anyone_reads[S](principal: Principal, stream_id: str, state: S) -> Rejected | None:
    """The default read policy: every caller reads every instance."""
    return None


class Aggregate[C, E, S, Q](Struct, frozen=True, kw_only=True):
    """An aggregate: its contracts, its decider, and how it meets the rest of the system.

    ``rules`` are the delivery rules it declares beyond its reactions (a saga it starts);
    ``delivery_rules`` adds the rules derived from ``reactions`` and the subscription rule
    every aggregate has, so nothing is written twice.
    """

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
    #: Bump when the reducer changes what a state means without changing its shape: the
    #: stored snapshots of other versions are then ignored and rebuilt (a change of the
    #: state's shape is noticed without it: snapshots also record its schema's hash).
    state_version: int = 1
    reactions: tuple[Reaction[C], ...] = ()
    rules: tuple[DeliveryRule, ...] = ()
    #: The commands front-end servers may send (GraphQL mutations); the others are
    #: internal: only sagas and event handlers send them, by direct invocation. ``None``
    #: (the default, until an aggregate declares its own): every command is public.
    public_commands: tuple[type[Any], ...] | None = None
    #: Who may send which public command, given the state (the owner withdraws...):
    #: ``None`` allows, a ``forbidden`` rejection refuses. System principals skip it.
    authorize: Callable[[Principal, S, C], Rejected | None] = anyone
    #: Who may read an instance (its state, its history, its published events), given its
    #: stream id and latest state: ``None`` allows, a ``forbidden`` rejection refuses.
    may_read: Callable[[Principal, str, S], Rejected | None] = anyone_reads

    def is_public(self, command_class: type[Any]) -> bool:
        return self.public_commands is None or command_class in self.public_commands

    @property
    def public_command_classes(self) -> tuple[type[Any], ...]:
        """The public commands, in the command union's order: the GraphQL mutations."""
        members: tuple[type[Any], ...] = get_args(self.command_type) or (self.command_type,)
        return tuple(cls for cls in members if self.is_public(cls))

    def refuses(self, principal: Principal, state: S, command: C) -> Rejected | None:
        """Why ``principal`` may not send ``command`` on ``state``, or None if it may.

        System callers may send every command; everyone else only public ones, and those
        only as the aggregate's policy allows.
        """
        if principal.is_system:
            return None
        if not self.is_public(type(command)):
            return internal_command(type(command).__name__)
        return self.authorize(principal, state, command)

    def refuses_read(self, principal: Principal, stream_id: str, state: S) -> Rejected | None:
        """Why ``principal`` may not read the instance ``stream_id`` (at ``state``), or None.
        System callers read everything."""
        if principal.is_system:
            return None
        return self.may_read(principal, stream_id, state)

    @property
    def source(self) -> str:
        """The EventBridge ``source`` of this aggregate's events."""
        return event_source(self.name)

    @property
    def delivery_rules(self) -> tuple[DeliveryRule, ...]:
        """Every rule on the bus this aggregate owns: reactions, declared rules, subscribers."""
        subscribers = DeliveryRule(
            name=subscription_rule_name(self.name),
            description=f"Every committed {self.name.capitalize()} command's events reach the "
            "GraphQL subscribers, in one publish.",
            # only a command's last entry, which carries its events (service.publisher)
            pattern={
                "source": [self.source],
                "detail": {"subscribers": {"toVersion": [{"exists": True}]}},
            },
            target_kind="subscription",
            target=self.name,
        )
        reactions = tuple(reaction.rule(self.name) for reaction in self.reactions)
        return (*reactions, *self.rules, subscribers)


def rejected(rule: str, message: str, **data: str | int | bool | None) -> Rejected:
    """Build a rejection: the rule's name, a sentence for people, and the data involved."""
    return Rejected(rule=rule, message=message, data=data)
