"""Benchmarks: cold start, decode + fold throughput and cost, against a naive-Python and a Rust
baseline, with a report and charts (``hotcore bench``), and the fold profiler for a user's
own aggregate (``hotcore bench fold``).

Run from a hotcore checkout: the baselines (``bench/naive``, ``bench/rust``), the
handlers and the test emulator live there. Nothing in a Lambda handler imports this
package.

- ``history``: valid event histories generated with an aggregate's own decider, and
  the DynamoDB Query pages that hold them.
- ``builds``: the compiled and pure-Python layers and the Rust binaries under test.
- ``coldstart``: fresh process to first response through the local Lambda harness,
  ``-X importtime`` totals.
- ``cost``: request units from item sizes, and the cost per million requests.
- ``report``: REPORT.md, the charts and the raw JSON.
- ``run``: ``hotcore bench`` itself; ``fold``: ``hotcore bench fold``.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_fold_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``hotcore bench fold`` (here, so that ``hotcore --help`` imports nothing)."""
    parser.add_argument(
        "aggregate",
        nargs="?",
        default="account",
        help="built-in (account, inventory, order, customer) or module[:NAME] of your Aggregate",
    )
    parser.add_argument("--events", type=int, default=10_000, help="stream length (10000)")
    parser.add_argument("--mix", help="event mix, e.g. Deposited=3,Withdrawn=2")
    parser.add_argument("--rounds", type=int, default=5, help="timed passes (median)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", type=Path, help="write a pyinstrument HTML profile here")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="measure with the hotcore already on the path (no compiled build is made)",
    )
