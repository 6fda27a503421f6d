"""``hotcore bench fold``: decode and fold throughput of an aggregate's own streams.

Give it one of the four built-in aggregates or a user's (``my_app.domain.ledger`` holding
one ``Aggregate``, or ``my_app.domain.ledger:LEDGER``), a stream length and an event mix.
It generates a valid history with the aggregate's own decider, lays it out as DynamoDB
Query pages, and times, per event:

- decode: the pages into typed envelopes (``hotcore.codec.query_page``);
- fold: the reducer over the decoded events, interpreted and compiled by mypyc (the
  compiled figure needs the reducer in hotcore's compiled build: the built-in
  aggregates are; a user's module is measured interpreted only, with a note);
- both together, as ``load_state`` does them page by page.

``--profile out.html`` records decode + fold of the interpreted build with pyinstrument
and writes its HTML view: where the fold spends its time, line by line of Python.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from hotcore.bench import add_fold_arguments
from hotcore.bench.history import (
    CannotGenerate,
    dynamodb_pages,
    event_type_names,
    generate_history,
    parse_mix,
)
from hotcore.domain.aggregate import Aggregate

__all__ = ["FoldError", "main", "measure", "resolve_aggregate"]

BUILTIN = ("account", "inventory", "order", "customer")


class FoldError(ValueError):
    """The aggregate cannot be found or measured; the message says what to change."""


def resolve_aggregate(spec: str) -> Aggregate[Any, Any, Any, Any]:
    """A built-in name, ``package.module`` holding one Aggregate, or ``package.module:NAME``."""
    if spec in BUILTIN:
        from hotcore.domain.registry import load_aggregate

        return load_aggregate(spec)
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise FoldError(
            f"cannot import {module_name!r} ({exc}); give a built-in aggregate "
            f"({', '.join(BUILTIN)}) or a module on the path"
        ) from None
    if attribute:
        found = getattr(module, attribute, None)
        if not isinstance(found, Aggregate):
            raise FoldError(f"{module_name}.{attribute} is not a hotcore Aggregate")
        return found
    candidates = [v for v in vars(module).values() if isinstance(v, Aggregate)]
    if len(candidates) != 1:
        raise FoldError(
            f"{module_name} defines {len(candidates)} Aggregate values; "
            f"name one: {module_name}:NAME"
        )
    return candidates[0]


def _median_ns(work: Callable[[], object], rounds: int) -> float:
    work()  # warm-up: decoders built, caches filled
    times = []
    for _ in range(rounds):
        started = time.perf_counter_ns()
        work()
        times.append(time.perf_counter_ns() - started)
    return statistics.median(times)


def _fold_modules(fold: Callable[..., Any]) -> tuple[Callable[..., Any], Callable[..., Any] | None]:
    """(interpreted fold, compiled fold or None)."""
    from hotcore.layer import is_compiled, pure_twin

    module = sys.modules.get(getattr(fold, "__module__", "") or "")
    if module is None or not is_compiled(module):
        return fold, None
    twin: ModuleType | None = pure_twin(module)
    name = getattr(fold, "__name__", "fold")
    if twin is None or not hasattr(twin, name):
        return fold, None
    interpreted: Callable[..., Any] = getattr(twin, name)
    return interpreted, fold


def measure(
    aggregate: Aggregate[Any, Any, Any, Any],
    *,
    events: int,
    mix: dict[str, float] | None,
    rounds: int,
    seed: int,
    profile: Path | None = None,
) -> dict[str, Any]:
    """Generate, lay out, decode and fold in this process; the figures as plain data."""
    from hotcore.codec.query_page import page_decoder
    from hotcore.contracts.common import Envelope

    history = generate_history(aggregate, length=events, mix=mix, seed=seed)
    pages = dynamodb_pages(history.envelopes)
    decode = page_decoder(Envelope[aggregate.event_type]).decode_page  # type: ignore[name-defined]
    decoded = [[e.data for e in decode(page).items] for page in pages]
    initial = aggregate.initial(history.stream_id)
    interpreted, compiled = _fold_modules(aggregate.fold)
    n = len(history.envelopes)
    size = sum(len(p) for p in pages)

    def fold_all(fold: Callable[..., Any]) -> Callable[[], object]:
        def run() -> object:
            state = initial
            for batch in decoded:
                state = fold(state, batch)
            return state

        return run

    def load_all(fold: Callable[..., Any]) -> Callable[[], object]:
        def run() -> object:
            state = initial
            for page in pages:
                state = fold(state, [e.data for e in decode(page).items])
            return state

        return run

    if fold_all(interpreted)() != history.state:
        raise FoldError("folding the decoded history did not give the decider's state back")
    decode_ns = _median_ns(lambda: [decode(p) for p in pages], rounds)
    builds: dict[str, Any] = {}
    for build, fold in (("interpreted", interpreted), ("compiled", compiled)):
        if fold is None:
            builds[build] = None
            continue
        fold_ns = _median_ns(fold_all(fold), rounds)
        both_ns = _median_ns(load_all(fold), rounds)
        builds[build] = {
            "fold_ns_per_event": fold_ns / n,
            "decode_fold_ns_per_event": both_ns / n,
            "decode_fold_mb_per_s": size / (both_ns / 1e9) / 1e6,
        }
    if profile is not None:
        _profile(load_all(interpreted), profile, rounds)
    return {
        "aggregate": aggregate.name,
        "events": n,
        "event_counts": history.event_counts(),
        "pages": len(pages),
        "bytes": size,
        "decode_ns_per_event": decode_ns / n,
        "builds": builds,
        "compiled_note": None
        if compiled is not None
        else (
            "the reducer is interpreted here: it is not in hotcore's compiled build "
            "(list its module in COMPILED_MODULES in setup.py to compile it)"
        ),
    }


def _profile(work: Callable[[], object], path: Path, rounds: int) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        raise FoldError("--profile needs pyinstrument: pip install 'hotcore[bench]'") from None
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(max(rounds, 3)):
        work()
    profiler.stop()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(profiler.output_html())


def render(result: dict[str, Any]) -> str:
    lines = [
        f"{result['aggregate']}: {result['events']} events in {result['pages']} page(s), "
        f"{result['bytes'] / 1e6:.2f} MB of Query JSON; mix "
        + ", ".join(f"{k} {v}" for k, v in sorted(result["event_counts"].items())),
        f"decode (msgspec, straight into envelopes): {result['decode_ns_per_event']:.0f} ns/event",
        f"{'reducer':<12} {'fold ns/event':>14} {'decode+fold ns/event':>21} {'MB/s':>8}",
    ]
    for build, figures in result["builds"].items():
        if figures is None:
            lines.append(f"{build:<12} {'n/a':>14} {'n/a':>21} {'n/a':>8}")
            continue
        lines.append(
            f"{build:<12} {figures['fold_ns_per_event']:>14.1f} "
            f"{figures['decode_fold_ns_per_event']:>21.1f} {figures['decode_fold_mb_per_s']:>8.1f}"
        )
    compiled, interpreted = result["builds"].get("compiled"), result["builds"].get("interpreted")
    if compiled and interpreted:
        speedup = interpreted["fold_ns_per_event"] / compiled["fold_ns_per_event"]
        lines.append(f"compiled reducer: {speedup:.1f}x the interpreted one (fold alone)")
    if result["compiled_note"]:
        lines.append(f"note: {result['compiled_note']}")
    return "\n".join(lines)


def run_fold(args: argparse.Namespace) -> int:
    """The subcommand: measure under the compiled build when one can be had, else here."""
    try:
        mix = parse_mix(args.mix) if args.mix else None
        if args.in_process:
            aggregate = resolve_aggregate(args.aggregate)
            if mix is not None:
                unknown = sorted(set(mix) - set(event_type_names(aggregate)))
                if unknown:
                    raise FoldError(f"{aggregate.name} has no event types {unknown}")
            result = measure(
                aggregate,
                events=args.events,
                mix=mix,
                rounds=args.rounds,
                seed=args.seed,
                profile=args.profile,
            )
        else:
            result = _under_compiled_build(args)
    except (FoldError, CannotGenerate) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=1) if args.json else render(result))
    if args.profile is not None and not args.json:
        print(f"profile: {args.profile}")
    return 0


def _under_compiled_build(args: argparse.Namespace) -> dict[str, Any]:
    from hotcore.bench.builds import BenchPaths, BuildError, compiled_site, find_root

    argv = [sys.executable, "-m", "hotcore.bench.fold", "--in-process", "--json"]
    argv += [args.aggregate, "--events", str(args.events), "--rounds", str(args.rounds)]
    argv += ["--seed", str(args.seed)]
    if args.mix:
        argv += ["--mix", args.mix]
    if args.profile is not None:
        argv += ["--profile", str(args.profile.resolve())]
    env = dict(os.environ)
    try:
        site: Path | None = compiled_site(BenchPaths(find_root()))
    except BuildError as exc:
        print(f"note: no compiled build ({exc}); measuring the interpreted one", file=sys.stderr)
        site = None
    path = [str(site)] if site is not None else []
    env["PYTHONPATH"] = os.pathsep.join([*path, os.getcwd(), env.get("PYTHONPATH", "")])
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        message = done.stderr.strip().removeprefix("error: ")
        raise FoldError(message or f"the measurement failed (exit {done.returncode})")
    result: dict[str, Any] = json.loads(done.stdout[: done.stdout.rindex("}") + 1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotcore bench fold", description=__doc__)
    add_fold_arguments(parser)
    return run_fold(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
