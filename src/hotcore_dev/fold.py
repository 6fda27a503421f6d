"""``hotcore bench fold``: decode and fold throughput of an aggregate's own streams.

Give it one of the four built-in aggregates or a user's (``my_app.domain.ledger`` holding
one ``Aggregate``, or ``my_app.domain.ledger:LEDGER``), a stream length and an event mix.
It generates a valid history with the aggregate's own decider, lays it out as DynamoDB
Query pages, and times, per event:

- decode: the pages into typed envelopes (``hotcore.codec.query_page``);
- fold: the reducer over the decoded events, interpreted and compiled by mypyc (the
  built-in reducers from hotcore's compiled build; a user's reducer module compiled by
  ``compile_user_reducer`` into a cache folder, without touching the user's tree or
  hotcore's setup.py);
- both together, as ``load_state`` does them page by page.

It also reads the reducer's source and says what keeps mypyc from speeding it up
(``hotcore_dev.reducer_advice``; the measured reasons are in docs/reducers.md).

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

from hotcore.domain.aggregate import Aggregate
from hotcore.domain.registry import AGGREGATE_NAMES
from hotcore_dev.checkout import NotACheckout, find_checkout
from hotcore_dev.fold_args import add_fold_arguments
from hotcore_dev.history import (
    CannotGenerate,
    event_type_names,
    generate_history,
    page_loader,
    parse_mix,
)

__all__ = ["FoldError", "main", "measure", "resolve_aggregate"]

BUILTIN = AGGREGATE_NAMES


class FoldError(ValueError):
    """The aggregate cannot be found or measured; the message says what to change."""


def resolve_aggregate(spec: str) -> Aggregate[Any, Any, Any, Any]:
    """A built-in name, ``package.module`` holding one Aggregate, or ``package.module:NAME``."""
    if spec in BUILTIN:
        from hotcore.domain.registry import load_aggregate

        return load_aggregate(spec)
    module_name, _, attribute = spec.partition(":")
    # As ``python -m`` does: a module in the working directory is found, also when this
    # runs from the ``hotcore`` console script (whose sys.path[0] is its bin folder).
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
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
    # CPU time of this process, not wall time: on a shared machine other processes'
    # slices would otherwise be counted as decode or fold time.
    work()  # warm-up: decoders built, caches filled
    times = []
    for _ in range(rounds):
        started = time.process_time_ns()
        work()
        times.append(time.process_time_ns() - started)
    return statistics.median(times)


def _reducer_source(fold: Callable[..., Any]) -> Path | None:
    """The .py file of the module defining ``fold`` (beside the extension when compiled)."""
    module = sys.modules.get(getattr(fold, "__module__", "") or "")
    file = Path(getattr(module, "__file__", "") or "")
    if file.suffix != ".py" and module is not None:
        file = file.with_name(module.__name__.rpartition(".")[2] + ".py")
    return file if file.is_file() else None


def reducer_advice(aggregate: Aggregate[Any, Any, Any, Any]) -> list[str]:
    """What in the reducer's source keeps mypyc from speeding it up (docs/reducers.md)."""
    from hotcore_dev.reducer_advice import advise_file

    source = _reducer_source(aggregate.fold)
    return [] if source is None else advise_file(source, aggregate.state_type.__name__)


def _fold_modules(fold: Callable[..., Any]) -> tuple[Callable[..., Any], Callable[..., Any] | None]:
    """(interpreted fold, compiled fold or None)."""
    from hotcore_dev.compiled import is_compiled, pure_twin

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
    history = generate_history(aggregate, length=events, mix=mix, seed=seed)
    pages = history.pages()
    load_page = page_loader(aggregate.event_type)
    stream_id = history.stream_id

    def decode(page: bytes) -> list[Any]:
        return load_page(page, stream_id)

    decoded = [[e.data for e in decode(page)] for page in pages]
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
                state = fold(state, [e.data for e in decode(page)])
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
            f"no compiled build of {getattr(aggregate.fold, '__module__', '?')} in this "
            "process (--in-process measures what is on the path); without --in-process "
            "hotcore bench fold compiles it"
        ),
        "advice": reducer_advice(aggregate),
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
        f"decode (the store's page read, layout 2): {result['decode_ns_per_event']:.0f} ns/event",
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
    advice = result.get("advice") or []
    if advice:
        lines.append("what keeps mypyc from speeding this reducer up (docs/reducers.md):")
        lines.extend(f"  {line}" for line in advice)
    else:
        lines.append(
            "reducer style: exact-type dispatch on Final names and typed locals, as mypyc "
            "compiles best; what is left is reading msgspec fields (generic attribute "
            "lookups in compiled code) and the work of each branch (docs/reducers.md)"
        )
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
        # a value the user gave (module, mix, length) cannot be used: a usage error
        print(f"hotcore bench fold: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=1) if args.json else render(result))
    if args.profile is not None and not args.json:
        print(f"profile: {args.profile}")
    return 0


def _under_compiled_build(args: argparse.Namespace) -> dict[str, Any]:
    # Resolve here first: a typo or a bad mix fails now, not after minutes of building.
    aggregate = resolve_aggregate(args.aggregate)
    if args.mix:
        unknown = sorted(set(parse_mix(args.mix)) - set(event_type_names(aggregate)))
        if unknown:
            raise FoldError(f"{aggregate.name} has no event types {unknown}")
    notes: list[str] = []
    site = _compiled_site(notes)
    user_build = None
    reducer = getattr(aggregate.fold, "__module__", "") or ""
    if not reducer.startswith("hotcore."):
        user_build = compile_user_reducer(reducer, notes)
    argv = [sys.executable, "-m", "hotcore_dev.fold", "--in-process", "--json"]
    argv += [args.aggregate, "--events", str(args.events), "--rounds", str(args.rounds)]
    argv += ["--seed", str(args.seed)]
    if args.mix:
        argv += ["--mix", args.mix]
    if args.profile is not None:
        argv += ["--profile", str(args.profile.resolve())]
    env = dict(os.environ)
    path = [str(p) for p in (user_build, site) if p is not None]
    env["PYTHONPATH"] = os.pathsep.join([*path, os.getcwd(), env.get("PYTHONPATH", "")])
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        message = done.stderr.strip().removeprefix("hotcore bench fold: error: ")
        raise FoldError(message or f"the measurement failed (exit {done.returncode})")
    result: dict[str, Any] = json.loads(done.stdout[: done.stdout.rindex("}") + 1])
    if result["builds"].get("compiled") is not None:
        result["compiled_note"] = None
    elif notes:
        result["compiled_note"] = "; ".join(notes)
    return result


def _compiled_site(notes: list[str]) -> Path | None:
    """hotcore's compiled build, made by the checkout's layer tool; None (noted) if it fails."""
    try:
        root = find_checkout()
    except NotACheckout as exc:
        notes.append(f"no compiled build of hotcore ({exc}): interpreted only")
        return None
    print(
        "fold: building hotcore's compiled wheel if needed (tools.layer compiled-site)",
        file=sys.stderr,
    )
    done = subprocess.run(
        [sys.executable, "-m", "tools.layer", "--source", str(root), "compiled-site"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        notes.append(f"hotcore's compiled build failed ({reason[0]}): interpreted only")
        return None
    return Path(done.stdout.strip().splitlines()[-1])


def compile_user_reducer(module_name: str, notes: list[str]) -> Path | None:
    """A folder holding a mypyc-compiled copy of the user's reducer module's package.

    The user's tree is not touched: its top-level package is copied into a cache folder
    named after the sources' digest and the reducer module is compiled there; that
    folder goes first on the measurement's path. None (noted) if mypyc fails.
    """
    import hashlib
    import shutil

    module = sys.modules.get(module_name)
    source = Path(getattr(module, "__file__", "") or "")
    if module is None or source.suffix != ".py":
        notes.append(f"{module_name} is not a .py module: measured interpreted only")
        return None
    depth = module_name.count(".")
    root = source.parents[depth]  # the folder holding the top-level package (or module)
    top = module_name.split(".")[0]
    package = root / top if depth else source
    digest = hashlib.sha256()
    files = sorted(package.rglob("*.py")) if package.is_dir() else [package]
    for file in files:
        digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes())
    build = Path.home() / ".cache" / "hotcore" / "fold" / digest.hexdigest()[:16]
    relative = source.relative_to(root)
    if any(build.joinpath(relative).parent.glob(f"{source.stem}.*.so")):
        return build
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    if package.is_dir():
        shutil.copytree(package, build / top, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        shutil.copy2(package, build / package.name)
    log = build / "mypyc.log"
    print(f"fold: compiling {module_name} with mypyc (about a minute; log: {log})", file=sys.stderr)
    with log.open("w") as out:
        done = subprocess.run(
            [sys.executable, "-m", "mypyc", str(relative)],
            cwd=build,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0:
        lines = [line for line in log.read_text().splitlines() if "error:" in line]
        reason = lines[0] if lines else f"exit {done.returncode}"
        shutil.rmtree(build / top if package.is_dir() else build / package.name, ignore_errors=True)
        notes.append(f"mypyc could not compile {module_name} ({reason}; log: {log})")
        return None
    return build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="hotcore bench fold",
        description="Decode + fold throughput of an aggregate's generated streams.",
    )
    add_fold_arguments(parser)
    return run_fold(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
