"""Given events, when a command, then events or a rejection: the shape of every domain test."""

from __future__ import annotations

from typing import Any

from hotcore.contracts.common import Envelope, Rejected
from hotcore.domain.aggregate import Aggregate
from hotcore.domain.principal import Principal
from tests.support.store_contract import T0


def decide(aggregate: Aggregate[Any, Any, Any, Any], given: list[Any], when: Any) -> Any:
    state = aggregate.fold(aggregate.initial(aggregate.stream_of(when)), given)
    return aggregate.decide(state, when)


def decide_as(
    aggregate: Aggregate[Any, Any, Any, Any], principal: Principal, given: list[Any], when: Any
) -> Any:
    """As ``decide``, sent by ``principal``: the policies first, as the command flow runs them."""
    state = aggregate.fold(aggregate.initial(aggregate.stream_of(when)), given)
    refused = aggregate.refuses(principal, state, when)
    return refused if refused is not None else aggregate.decide(state, when)


def read_as(
    aggregate: Aggregate[Any, Any, Any, Any], principal: Principal, stream_id: str, given: list[Any]
) -> Any:
    """Given events, when ``principal`` reads ``stream_id``: None (allowed) or the refusal,
    as the query function asks the read policy."""
    state = aggregate.fold(aggregate.initial(stream_id), given)
    return aggregate.refuses_read(principal, stream_id, state)


def then_forbidden(outcome: Any, policy: str) -> None:
    then_rejected(outcome, "forbidden", policy=policy)


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
