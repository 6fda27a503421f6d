"""The options of ``hotcore bench fold``, apart so that ``hotcore --help`` imports nothing."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_fold_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``hotcore bench fold`` (here, so that ``hotcore --help`` imports nothing)."""
    parser.add_argument(
        "aggregate",
        nargs="?",
        default="account",
        help="a registered aggregate (account, order...) or module[:NAME] of your Aggregate",
    )
    parser.add_argument("--events", type=int, default=10_000, help="stream length")
    parser.add_argument("--mix", help="event mix, e.g. Deposited=3,Withdrawn=2")
    parser.add_argument("--rounds", type=int, default=5, help="timed passes (median)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated streams")
    parser.add_argument("--profile", type=Path, help="write a pyinstrument HTML profile here")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="measure with the hotcore already on the path (no compiled build is made)",
    )
