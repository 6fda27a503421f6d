"""Given events, when a command, then events or a rejection: the shape of every domain test."""

from __future__ import annotations

from typing import Any

from hotcore.contracts.common import Envelope, Rejected
from hotcore.domain.aggregate import Aggregate
from tests.store_contract import T0


def decide(aggregate: Aggregate[Any, Any, Any, Any], given: list[Any], when: Any) -> Any:
    state = aggregate.fold(aggregate.initial(aggregate.stream_of(when)), given)
    return aggregate.decide(state, when)


def then_rejected(outcome: Any, rule: str, **data: Any) -> None:
    assert isinstance(outcome, Rejected), f"expected a rejection, got {outcome!r}"
    assert outcome.rule == rule
    assert outcome.message  # a sentence for people
    for key, value in data.items():
        assert outcome.data[key] == value, (key, outcome.data)


def from_stream(stream_id: str, data: object, version: int = 1) -> Envelope[object]:
    """Another aggregate's committed event, as its event handler receives it."""
    return Envelope(
        stream_id=stream_id,
        version=version,
        type=type(data).__name__,
        data=data,
        command_id="c",
        correlation_id="c",
        timestamp=T0,
        actor="t",
    )
