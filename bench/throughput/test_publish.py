"""The Streams publisher's CPU cost per record: a batch of 100 INSERTs to PutEvents entries.

hotcore: ``StreamsPublisher`` (each ``NewImage``'s envelope checked against its item and
passed on as it was stored: no re-encoding); the naive baseline: ``TypeDeserializer``,
pydantic validation of the envelope and its JSON dumped again. The request to EventBridge
is left out of both.
"""

from __future__ import annotations

import json

from bench.throughput.implementations import hotcore_publish, naive_publish, stream_batch

BATCH = stream_batch(100)


def _check(entries: list[dict[str, str]]) -> None:
    assert len(entries) == len(BATCH["Records"])
    for entry, record in zip(entries, BATCH["Records"], strict=True):
        stored = json.loads(record["dynamodb"]["NewImage"]["e"]["S"])
        detail = json.loads(entry["Detail"])
        detail.pop("subscribers", None)  # hotcore: a command's last entry carries its events
        assert detail == stored
        assert entry["DetailType"] == stored["type"]


def test_hotcore_publish(benchmark) -> None:
    run = hotcore_publish()
    _check(run(BATCH))
    benchmark.group = "publish"
    benchmark.extra_info.update(implementation="hotcore", records=len(BATCH["Records"]))
    benchmark(run, BATCH)


def test_naive_publish(benchmark) -> None:
    run = naive_publish()
    _check(run(BATCH))
    benchmark.group = "publish"
    benchmark.extra_info.update(implementation="naive", records=len(BATCH["Records"]))
    benchmark(run, BATCH)
