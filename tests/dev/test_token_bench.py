"""bench.token_verify runs the layer's token verification in fresh interpreters."""

from __future__ import annotations

from bench import token_verify


def test_the_token_benchmark_times_import_first_and_later_verifications() -> None:
    figures = token_verify.measure(2)
    assert figures["runs"] == 2
    for step in ("import", "first", "warm"):
        assert set(figures[step]) == {"median_ms", "min_ms", "max_ms"}
        assert figures[step]["min_ms"] <= figures[step]["median_ms"] <= figures[step]["max_ms"]
