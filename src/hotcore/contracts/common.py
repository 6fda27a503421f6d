"""Types every aggregate's contracts share: ids, amounts, the envelope, rejections, guards.

Decoding is validation: the constraints below are checked by msgspec while it decodes,
and the error names the offending field (``Expected `int` >= 1 - at `$.amount```).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

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


class Envelope[E](Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One stored event with its metadata: what the store keeps and the bus carries."""

    stream_id: Id
    version: Version
    type: str
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
    """Base of every command, event and query: frozen, keyword-only, tagged by class name."""
