"""Given events, when a command, then events or a rejection: the shape of every domain test."""

from __future__ import annotations

from typing import Any

from hotcore.contracts.common import Rejected
from hotcore.domain.aggregate import Aggregate


def decide(aggregate: Aggregate[Any, Any, Any, Any], given: list[Any], when: Any) -> Any:
    state = aggregate.fold(aggregate.initial(aggregate.stream_of(when)), given)
    return aggregate.decide(state, when)


def then_rejected(outcome: Any, rule: str, **data: Any) -> None:
    assert isinstance(outcome, Rejected), f"expected a rejection, got {outcome!r}"
    assert outcome.rule == rule
    assert outcome.message  # a sentence for people
    for key, value in data.items():
        assert outcome.data[key] == value, (key, outcome.data)
