"""The append path's CPU cost: one Withdrawn event to the bytes of its TransactWriteItems.

hotcore: ``DynamoEventStore.append`` (size checks, items through the attribute-value
codec, the transaction's actions, JSON), with the codec compiled and interpreted; the
naive baseline: its ``append`` (pydantic, TypeSerializer) and botocore's validation and
serialization of the request. The network is left out of both.
"""

from __future__ import annotations

import json

import pytest

from bench.throughput.implementations import hotcore_append, naive_append


def _actions(body: bytes) -> list[str]:
    return [next(iter(action)) for action in json.loads(body)["TransactItems"]]


def test_hotcore_append_compiled_codec(benchmark) -> None:
    from hotcore.codec import dynamodb as codec
    from hotcore.layer import is_compiled

    if not is_compiled(codec):
        pytest.skip("hotcore is not a compiled build here")
    run = hotcore_append()
    assert _actions(run()) == ["Put", "Put", "ConditionCheck"]
    benchmark.group = "append encode"
    benchmark.extra_info.update(implementation="hotcore-compiled")
    benchmark(run)


def test_hotcore_append_pure_codec(benchmark, monkeypatch: pytest.MonkeyPatch) -> None:
    from hotcore.codec import dynamodb as codec
    from hotcore.layer import pure_twin
    from hotcore.store import dynamodb as store

    twin = pure_twin(codec) or codec
    monkeypatch.setattr(store, "serialize_item", twin.serialize_item)
    run = hotcore_append()
    assert _actions(run()) == ["Put", "Put", "ConditionCheck"]
    benchmark.group = "append encode"
    benchmark.extra_info.update(implementation="hotcore-pure")
    benchmark(run)


def test_naive_append(benchmark) -> None:
    run = naive_append()
    assert _actions(run()) == ["Put", "Put", "ConditionCheck"]
    benchmark.group = "append encode"
    benchmark.extra_info.update(implementation="naive")
    benchmark(run)
