"""``python -m bench`` (``make bench``): every measurement, then the report, charts and JSON."""

from __future__ import annotations

import argparse
import sys

from bench.builds import BuildError
from bench.run import run_bench, run_coldstart, run_cost


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Every benchmark, then the report, charts and JSON (see bench/README.md).",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a short run (report in bench/results/quick)"
    )
    parser.add_argument(
        "--update-report",
        action="store_true",
        help="write the committed bench/REPORT.md and bench/report/ "
        "(default: bench/results/full, ignored by git); with --cost-only, the report's "
        "cost section and issue 19's targets only",
    )
    parser.add_argument(
        "--coldstart-only",
        type=int,
        metavar="RUNS",
        help="only the cold starts, RUNS of each (bench/results/coldstart.json), no report",
    )
    parser.add_argument(
        "--cost-only",
        action="store_true",
        help="only the cost model: every command kind against the emulator, counted and "
        "priced (bench/results/cost/COST.md), no other benchmark",
    )
    args = parser.parse_args(argv)
    if args.quick and args.update_report:
        parser.error("--update-report writes the committed report: use it without --quick")
    try:
        if args.coldstart_only:
            run_coldstart(runs=args.coldstart_only)
        elif args.cost_only:
            run_cost(quick=args.quick, update_report=args.update_report)
        else:
            run_bench(quick=args.quick, update_report=args.update_report)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
