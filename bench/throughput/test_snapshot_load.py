"""A command's state load at steady state: the newest 12 items of a stream in one Query
page, newest first, the oldest carrying the snapshot; the events after it folded onto it.

hotcore: ``DynamoEventStore.load_latest`` (the page, the snapshot's state and recent
commands, the 11 events) and ``fold_latest``; the naive baseline: its ``load`` (boto3's
parser, ``TypeDeserializer``, pydantic) on the same page bytes.
"""

from __future__ import annotations

from bench.throughput.implementations import (
    hotcore_snapshot_load,
    naive_snapshot_load,
    snapshot_page,
)

PAGE, EXPECTED = snapshot_page()


def test_hotcore_snapshot_load(benchmark) -> None:
    run = hotcore_snapshot_load(PAGE)
    assert run() == EXPECTED
    benchmark.group = "snapshot load"
    benchmark.extra_info.update(implementation="hotcore", bytes=len(PAGE))
    assert benchmark(run) == EXPECTED


def test_naive_snapshot_load(benchmark) -> None:
    run = naive_snapshot_load(PAGE)
    assert run() == EXPECTED
    benchmark.group = "snapshot load"
    benchmark.extra_info.update(implementation="naive", bytes=len(PAGE))
    assert benchmark(run) == EXPECTED
