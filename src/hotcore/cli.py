"""The ``hotcore`` command line: demo, schema and the build and benchmark entry points.

Each subcommand imports what it needs when it runs, so ``hotcore --help`` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotcore", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run the four aggregates, bus and saga on SQLite")
    demo.add_argument("--db", type=Path, help="SQLite file to use (default .hotcore/hotcore.db)")

    schema = commands.add_parser("schema", help="export JSON Schema for every contract")
    schema.add_argument("--out", type=Path, default=Path("schemas"), help="output folder")
    schema.add_argument(
        "--check", action="store_true", help="exit 1 if the checked-in export is stale"
    )

    bench = commands.add_parser(
        "bench", help="benchmarks vs naive Python and Rust: bench/REPORT.md, charts, JSON"
    )
    bench.add_argument("--quick", action="store_true", help="a short run (report in bench/results)")
    bench_commands = bench.add_subparsers(dest="bench_command")
    from hotcore.bench import add_fold_arguments  # argparse only: --help stays instant

    add_fold_arguments(
        bench_commands.add_parser("fold", help="decode + fold throughput of an aggregate's streams")
    )

    commands.add_parser(
        "build-layer",
        help="build the compiled wheels and the Lambda layer zips (as make layer)",
        add_help=False,  # every option goes to hotcore.layer (--arch, --native, ...)
    )

    args, rest = parser.parse_known_args(argv)
    if args.command == "build-layer":
        from hotcore.layer import main as layer_main

        return layer_main(["layer", *rest])
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "bench":
        if args.bench_command == "fold":
            from hotcore.bench.fold import run_fold

            return run_fold(args)
        from hotcore.bench.builds import BuildError
        from hotcore.bench.run import run_bench

        try:
            run_bench(quick=args.quick)
        except BuildError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    if args.command == "demo":
        from hotcore.demo import run_demo

        return run_demo(args.db)
    if args.command == "schema":
        from hotcore.schema import export

        stale = export(args.out, check=args.check)
        for path in stale:
            print(f"{'stale' if args.check else 'wrote'}: {path}")
        return 1 if args.check and stale else 0
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
