"""The append path's CPU cost: one Withdrawn event to the bytes of its PutItem request.

hotcore: ``DynamoEventStore.append`` (the append's checks, the event decoded again with
its contract, the item of layout 2, JSON; the store is not a mypyc module, msgspec does
the work); the naive baseline: its ``append`` (pydantic, its envelope JSON,
TypeSerializer) and botocore's validation and serialization of the request. The network
is left out of both.
"""

from __future__ import annotations

import json

from bench.throughput.implementations import hotcore_append, naive_append


def _item_names(body: bytes) -> list[str]:
    return sorted(json.loads(body)["Item"])


def test_hotcore_append(benchmark) -> None:

    run = hotcore_append()
    assert _item_names(run()) == ["e", "f", "stream_id", "type", "version"]
    benchmark.group = "append encode"
    benchmark.extra_info.update(implementation="hotcore")
    benchmark(run)


def test_naive_append(benchmark) -> None:
    run = naive_append()
    assert _item_names(run()) == ["e", "f", "stream_id", "type", "version"]
    benchmark.group = "append encode"
    benchmark.extra_info.update(implementation="naive")
    benchmark(run)
