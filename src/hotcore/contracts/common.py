"""Types every aggregate's contracts share: ids, amounts, the envelope, rejections, guards.

Decoding is validation: the constraints below are checked by msgspec while it decodes,
and the error names the offending field (``Expected `int` >= 1 - at `$.amount```).

Unknown fields: commands and queries are strict (``Contract``: an unknown field is an
input error), events and the envelope are tolerant (``Event``, ``Envelope``: unknown
fields are ignored), because events are read by code deployed at other times: other
aggregates' stacks, old functions during a deploy. A change a tolerant reader cannot
absorb gets a new ``schema_version`` and an upcaster (see ``Event``, docs/evolution.md).
"""

from datetime import datetime
from typing import Annotated, ClassVar

from msgspec import Meta, Struct

#: An identifier of a stream, command, order line... Printable, no spaces, no '#'
#: ('#' is reserved for the store's own keys in DynamoDB).
Id = Annotated[
    str,
    Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@/+=-]+$", description="identifier"),
]
#: Money in minor units (cents): an integer, never a float.
#: A command, correlation or causation id: like ``Id`` but longer, since sagas and event
#: handlers derive them from other ids.
Ref = Annotated[
    str,
    Meta(
        min_length=1, max_length=256, pattern=r"^[A-Za-z0-9._:@/+=-]+$", description="reference id"
    ),
]
Amount = Annotated[int, Meta(gt=0, le=10**15, description="amount in minor units")]
Quantity = Annotated[int, Meta(gt=0, le=10**9, description="quantity of items")]
Email = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="e-mail address",
    ),
]
Text = Annotated[str, Meta(min_length=1, max_length=500)]
Version = Annotated[
    int, Meta(ge=1, le=2**31 - 1, description="position of an event in its stream, from 1")
]


#: How a charge and a refund for an order are referenced on the account's ledger. Order's
#: event handler reads these to record payments, the PlaceOrder saga writes them, and
#: Account's policy keeps them for the saga alone.
CHARGE_REFERENCE_PREFIX = "order:"
REFUND_REFERENCE_PREFIX = "refund:"

#: The schema version of an event type, stored in its envelope (1 when omitted).
SchemaVersion = Annotated[int, Meta(ge=1, le=1000, description="event schema version")]


class Envelope[E](Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One stored event with its metadata: what the store keeps and the bus carries.

    Its JSON is the EventBridge ``Detail`` and the DynamoDB item's ``e`` attribute, in this
    field order; ``schema_version`` (when 1) and ``causation_id`` (when null) are omitted.
    Unknown fields are ignored (a newer writer may add some).
    """

    stream_id: Id
    version: Version
    type: str
    schema_version: SchemaVersion = 1
    data: E
    command_id: Ref
    correlation_id: Ref
    causation_id: Ref | None = None
    timestamp: datetime
    actor: Text

    def __post_init__(self) -> None:
        tag = getattr(type(self.data), "__struct_config__", None)
        if tag is not None and tag.tag is not None and tag.tag != self.type:
            raise ValueError(f"envelope type {self.type!r} does not match its data {tag.tag!r}")


class Rejected(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A command the domain refused: which rule, a sentence for people, and the data involved."""

    rule: str
    message: str
    data: dict[str, str | int | bool | None] = {}


class CommandAck(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What an accepted command returns: where its events went and the stream's new version.

    ``events`` is 0 when the command was accepted but changed nothing; ``version`` is then
    the stream's current version.
    """

    command_id: Ref
    stream_id: Id
    version: int
    events: int


class Guard(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A claim on (or release of) a value that must be unique across all streams of a kind.

    The store checks and records guards in the same transaction as the events, so a
    set-wide rule such as "one customer per e-mail" holds even under concurrency.
    """

    scope: str
    value: str
    claim: bool = True


class Contract(
    Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="type", tag=True
):
    """Base of every command and query: frozen, keyword-only, tagged by class name, strict."""


class Event(Struct, frozen=True, kw_only=True, tag_field="type", tag=True):
    """Base of every event: frozen, keyword-only, tagged by class name, tolerant.

    ``schema_version`` is the version of this event type the class describes (the
    writer stores it in the envelope). A change old readers or old stored events cannot
    absorb (a renamed or retyped field, a new required field) bumps it: the previous
    shape stays as its own class (same tag, e.g. ``DepositedV1`` with
    ``tag="Deposited"``) listed in the current class's ``earlier``, with a pure
    ``upcast()`` returning the next version. Readers decode the current version directly
    and only old versions through their class and the chain of upcasts.
    """

    schema_version: ClassVar[int] = 1
    #: the classes of this event type's earlier versions (any order), each with ``upcast``
    earlier: ClassVar[tuple[type["Event"], ...]] = ()

    def upcast(self) -> "Event":
        """This event as the next version of its type (defined by every earlier version)."""
        raise NotImplementedError(f"{type(self).__name__} is the current version")
