"""The ``hotcore`` command line: demo, schema and the build and benchmark entry points.

Each subcommand imports what it needs when it runs, so ``hotcore --help`` stays instant.
Every error is one line on stderr that names the file or value and says what to do;
the exit status is 1 for errors and 2 for usage mistakes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from hotcore import __version__

DESCRIPTION = (
    "hotcore: an event-sourced CQRS core for AWS Lambda. Run the local demo or a local "
    "AppSync, export the contracts' schemas, build the Lambda layer, or run the benchmarks."
)


#: tools.layer names its ``layer`` command after this variable in its usage lines.
LAYER_PROG_VARIABLE = "HOTCORE_LAYER_PROG"


class CliError(Exception):
    """A mistake the user can fix: printed as one line, exit status 1."""


class _HelpFormatter(argparse.HelpFormatter):
    """Shows each option's default, except for flags and options without one."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        has_default = (
            default is not None and default is not False and default is not argparse.SUPPRESS
        )
        optional = bool(action.option_strings) or action.nargs in ("?", "*")
        if has_default and optional and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    """Usage mistakes are one line naming the command to ask for help, exit status 2."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="hotcore", description=DESCRIPTION)
    top.add_argument("--version", action="version", version=f"hotcore {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    top.set_defaults(parser=top)

    demo = commands.add_parser(
        "demo",
        help="run the four aggregates, the bus and the PlaceOrder saga on SQLite",
        description="Run the demo story on a SQLite file; run it again to continue on the "
        "stored events. Exit status 1 if an invariant is broken.",
    )
    demo.set_defaults(parser=demo)
    demo.add_argument(
        "--db",
        type=Path,
        help="SQLite file to use, created with its folder if missing "
        "(default: $HOTCORE_DB, else .hotcore/hotcore.db)",
    )

    schema = commands.add_parser(
        "schema",
        help="export JSON Schema for every contract and the GraphQL SDL",
        description="Write the JSON Schema of every aggregate's contracts and the AppSync "
        "SDL into a folder.",
    )
    schema.set_defaults(parser=schema)
    schema.add_argument("--out", type=Path, default=Path("schemas"), help="output folder")
    schema.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the folder is stale"
    )

    serve = commands.add_parser(
        "serve",
        help="a local AppSync: the GraphQL API over HTTP and real-time WebSockets",
        description="Serve the GraphQL API (the generated SDL) as AppSync does, on SQLite "
        "with the local bus and sagas: POST /graphql signed with SigV4 (service appsync) "
        "and AppSync's real-time WebSocket protocol on the same path. Needs the dev extra.",
    )
    serve.set_defaults(parser=serve)
    serve.add_argument(
        "--db",
        type=Path,
        help="SQLite file to use, created with its folder if missing "
        "(default: $HOTCORE_DB, else .hotcore/hotcore.db)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind")
    serve.add_argument("--port", type=int, default=8000, help="port to bind; 0 picks a free one")
    serve.add_argument(
        "--region", default="us-east-1", help="the region requests must be signed for"
    )
    serve.add_argument(
        "--credentials",
        type=Path,
        help="TOML file of [[credentials]] (access_key, secret_key, user_arn) to accept "
        "(default: the local pair in docs/serve.md)",
    )
    serve.add_argument(
        "--keepalive", type=float, default=60.0, help="seconds between two 'ka' messages"
    )

    bench = commands.add_parser(
        "bench",
        help="benchmarks against naive Python and Rust (from a checkout)",
        description="Run every benchmark, then write the report, charts and JSON into a "
        "results folder (bench/results/full, or bench/results/quick with --quick). "
        "--update-report writes bench/REPORT.md and bench/report/ instead, the committed "
        "report. A first run builds the Rust baseline (about 25 minutes on 2 cores).",
    )
    bench.set_defaults(parser=bench)
    bench.add_argument("--quick", action="store_true", help="a short run")
    bench.add_argument(
        "--update-report",
        action="store_true",
        help="write the committed bench/REPORT.md and bench/report/ (full runs only)",
    )
    bench_commands = bench.add_subparsers(dest="bench_command", metavar="SUBCOMMAND")
    from hotcore_dev.fold_args import add_fold_arguments  # argparse only: --help stays instant

    fold = bench_commands.add_parser(
        "fold",
        help="decode + fold throughput of an aggregate's generated streams",
        description="Generate streams of an aggregate's events, then time their decode "
        "and fold, pure Python and compiled.",
    )
    add_fold_arguments(fold)
    fold.set_defaults(parser=fold)

    new = commands.add_parser(
        "new",
        help="write a new aggregate into this checkout, from a working template",
        description="Write a new aggregate (contracts, decider, reducer, handlers, stack, "
        "tests) into this checkout, from a working template, and register it.",
    )
    new.add_argument("kind", choices=["aggregate"], help="what to create")
    new.add_argument("name", help="its name: lowercase letters and digits, e.g. shipment")
    new.set_defaults(parser=new)

    commands.add_parser(
        "build-layer",
        help="build the compiled wheels and the Lambda layer zips (what make layer runs)",
        add_help=False,  # every option goes to tools.layer (--arch, --native, ...)
    )
    return top


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv[:1] == ["build-layer"]:
            return _build_layer(argv[1:])
        args, rest = parser().parse_known_args(argv)
        if rest:  # named by the subcommand that got them, with its own usage
            args.parser.error(f"unrecognized arguments: {' '.join(rest)}")
        return _run(args)
    except CliError as exc:
        print(f"hotcore: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("hotcore: interrupted", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    if args.command == "bench":
        if args.bench_command == "fold":
            from hotcore_dev.fold import FoldError, run_fold

            try:
                return run_fold(args)
            except FoldError as exc:
                raise CliError(str(exc)) from exc
        if args.update_report and args.quick:
            raise CliError("--update-report writes the committed report: use it without --quick")
        flags = ["--quick"] * args.quick + ["--update-report"] * args.update_report
        return _in_checkout(["bench", *flags])
    if args.command == "new":
        return _new_aggregate(args.name)
    if args.command == "demo":
        from hotcore_dev.demo import DemoError, run_demo

        try:
            return run_demo(args.db)
        except DemoError as exc:
            raise CliError(str(exc)) from exc
    if args.command == "schema":
        return _schema(args.out, check=args.check)
    if args.command == "serve":
        return _serve(args)
    raise CliError(f"unknown command {args.command!r}")  # argparse lets none through


def _serve(args: argparse.Namespace) -> int:
    try:
        from hotcore_dev.serve.server import ServeConfigError, config_from, run
    except ImportError as exc:
        raise CliError(
            f"hotcore serve needs the dev extra ({exc.name} is missing): "
            "pip install 'hotcore[dev]', or make check in a checkout"
        ) from exc
    try:
        return run(
            config_from(
                database=args.db,
                host=args.host,
                port=args.port,
                region=args.region,
                credentials=args.credentials,
                keepalive=args.keepalive,
            )
        )
    except ServeConfigError as exc:
        raise CliError(str(exc)) from exc


def _schema(out: Path, *, check: bool) -> int:
    from hotcore_dev.schema import IncompatibleSchemaChange, NameCollision, export

    try:
        stale = export(out, check=check)
    except (NameCollision, IncompatibleSchemaChange) as exc:
        raise CliError(str(exc)) from exc
    except OSError as exc:
        where = exc.filename or out
        raise CliError(
            f"cannot write the schemas to {where} ({exc.strerror or exc}): "
            "pass --out a folder you can write to"
        ) from exc
    for path in stale:
        print(f"{'stale' if check else 'wrote'}: {path}")
    return 1 if check and stale else 0


def _new_aggregate(name: str) -> int:
    from hotcore_dev.scaffold import ScaffoldError, new_aggregate

    root = _checkout()
    try:
        written = new_aggregate(root, name)
    except ScaffoldError as exc:
        raise CliError(str(exc)) from exc
    for path in written:
        print(f"wrote {path.relative_to(root)}")
    print("next: make schema (its GraphQL fields and JSON Schema), then make check")
    return 0


def _build_layer(rest: list[str]) -> int:
    """``hotcore build-layer [options]``: tools.layer's ``layer`` command, from the checkout.

    tools/ is not installed (hotcore_dev may not import it): it runs as ``python -m
    tools.layer`` in the checkout, told to name itself ``hotcore build-layer`` in its usage.
    """
    root = _checkout()
    return _in_checkout(
        ["tools.layer", "--source", str(root), "layer", *rest],
        env={LAYER_PROG_VARIABLE: "hotcore build-layer"},
    )


def _checkout() -> Path:
    from hotcore_dev.checkout import NotACheckout, find_checkout

    try:
        return find_checkout()
    except NotACheckout as exc:
        raise CliError(str(exc)) from exc


def _in_checkout(module_args: list[str], env: dict[str, str] | None = None) -> int:
    """Run ``python -m <module_args>`` from the checkout: the build tools and the
    benchmark runner live there, beside the packages, and are not installed."""
    import os
    import subprocess

    root = _checkout()
    environment = {**os.environ, **(env or {})}
    argv = [sys.executable, "-m", *module_args]
    return subprocess.run(argv, cwd=root, env=environment, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
