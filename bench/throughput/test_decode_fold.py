"""Decode + fold of whole Account streams from their raw Query pages, per implementation.

Each test first checks the implementation folds to the stream's known state, then times
passes over all of the stream's pages (after one warm-up pass): at least ``rounds``, and
more for fast implementations, up to 30, so that each gets about a second of rounds and
its fastest round is not left to the machine's load of a moment.
"""

from __future__ import annotations

import math
import time

import pytest

from bench.throughput.implementations import IMPLEMENTATIONS
from hotcore_dev.history import Case


@pytest.mark.parametrize("name", list(IMPLEMENTATIONS))
def test_decode_fold(benchmark, name: str, case: Case, pages: list[bytes], rounds: int) -> None:
    implementation = IMPLEMENTATIONS[name]()
    if implementation is None:
        pytest.skip(f"{name}: hotcore is not a compiled build here")
    expected = (case.status, case.owner_id, case.balance)
    started = time.perf_counter()
    assert implementation(pages) == expected
    rounds = _rounds(rounds, time.perf_counter() - started)
    benchmark.group = f"decode+fold {case.name}"
    benchmark.extra_info.update(
        implementation=name, case=case.name, events=case.events, bytes=case.bytes
    )
    result = benchmark.pedantic(
        implementation, args=(pages,), rounds=rounds, iterations=1, warmup_rounds=1
    )
    assert result == expected


@pytest.mark.parametrize("build", ["pure", "compiled"])
def test_fold_only(benchmark, build: str, case: Case, pages: list[bytes], rounds: int) -> None:
    """The reducer alone over the stream's already decoded events: interpreted vs compiled."""
    from bench.throughput.implementations import decoded_events, reducers

    interpreted, compiled = reducers()
    reducer = interpreted if build == "pure" else compiled
    if reducer is None:
        pytest.skip("hotcore is not a compiled build here")
    from hotcore.contracts.account import AccountState

    events = decoded_events(pages)
    initial = AccountState(account_id="bench")
    expected = (case.status, case.owner_id, case.balance)
    started = time.perf_counter()
    state = reducer.fold(initial, events)
    rounds = _rounds(rounds, time.perf_counter() - started)
    assert (state.status, state.owner_id, state.balance) == expected
    benchmark.group = f"fold only {case.name}"
    benchmark.extra_info.update(
        implementation=f"reducer-{build}", case=case.name, events=case.events, bytes=0
    )
    benchmark.pedantic(
        reducer.fold, args=(initial, events), rounds=rounds, iterations=1, warmup_rounds=1
    )


def _rounds(at_least: int, seconds: float) -> int:
    """``at_least`` rounds, or as many as fit in about a second, at most 30."""
    return max(at_least, min(30, math.ceil(1.0 / max(seconds, 1e-6))))
