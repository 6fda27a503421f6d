"""Where hotcore's decode + fold of an Account stream goes, stage by stage, without a profiler.

A sampling or tracing profiler hooks every Python-level call (pyinstrument sees each
``dict.get`` of a loop as a call), which inflates Python loops against C calls; here each
stage of ``load_latest``'s page read is timed alone on the bench's own case files, fastest
of ``ROUNDS`` rounds per stage, stages interleaved so that the load of a moment hits all::

    PYTHONPATH=.cache/build/site-compiled:. python -m bench.throughput.stages first-page 60

The stages reach into ``EventReader``'s internals (the page decode and the check that
follows it), so that each is timed on exactly what ``loaded_page`` does.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hotcore.codec.events import EventItemPages, EventReader
from hotcore.contracts.account import AccountEvent, AccountState
from hotcore.domain.account import reducer
from hotcore_dev.compiled import is_compiled
from hotcore_dev.history import read_pages

ROOT = Path(__file__).resolve().parents[2]
#: The bench's case files (``make bench`` passes its own folder with ``--cases``).
CASES = ROOT / ".cache" / "bench" / "cases"


def stages(case: str, rounds: int, folder: Path = CASES) -> list[tuple[str, float, float]]:
    """(stage, ns per event, share of the whole decode + fold) for one case file."""
    pages = read_pages(folder / f"{case}.jsonl")
    reader: EventReader[Any] = EventReader(AccountEvent)
    latest = EventItemPages(reader).latest
    fold = reducer.fold

    def whole() -> None:
        state = AccountState(account_id="bench")
        for raw in pages:
            page = latest(raw)[0]
            events = reader.loaded_page(
                [item.e.S for item in page], "bench", lambda i, page=page: page[i].version.N
            )
            state = fold(state, [event.data for event in events])

    for _ in range(8):  # as a long-lived reader reads: past the twins' threshold
        whole()
    items = [latest(raw)[0] for raw in pages]
    raws = [[item.e.S for item in page] for page in items]
    events = sum(map(len, raws))
    decode = reader._decode_page_event
    decoded: list[list[Any]] = []
    loaded = [reader.loaded_page(page, "bench", lambda i: i) for page in raws]
    datas = [[event.data for event in page] for page in loaded]

    def page_decode() -> None:
        for raw in pages:
            latest(raw)

    def envelope_strings() -> None:
        for page in items:
            [item.e.S for item in page]

    def envelope_decodes() -> None:
        for page in raws:
            list(map(decode, page))

    def decode_again() -> None:
        decoded[:] = [list(map(decode, page)) for page in raws]

    def check() -> None:
        for page in decoded:
            reader._from_twins(page, [], "bench", lambda i: i)

    def loaded_pages() -> None:
        for page in raws:
            reader.loaded_page(page, "bench", lambda i: i)

    def data_lists() -> None:
        for page in loaded:
            [event.data for event in page]

    def fold_only() -> None:
        state = AccountState(account_id="bench")
        for page_data in datas:
            state = fold(state, page_data)

    build = "compiled" if is_compiled(reducer) else "interpreted"
    timed: list[tuple[str, Callable[[], None], Callable[[], None] | None]] = [
        ("page decode (`EventItemPages.latest`, one msgspec pass)", page_decode, None),
        ("`[item.e.S for item in items]`", envelope_strings, None),
        ("envelope decodes (one msgspec call each)", envelope_decodes, None),
        ("current-version check, twins' patterns and conversion", check, decode_again),
        ("`[event.data for event in events]`", data_lists, None),
        (f"fold ({build} reducer)", fold_only, None),
        ("whole decode + fold", whole, None),
    ]
    if not reader._twins:  # (an interpreter whose reader dropped them)
        timed[3] = ("envelope decodes + current-version check (`loaded_page`)", loaded_pages, None)
    best = [float("inf")] * len(timed)
    gc.disable()
    try:
        for _ in range(rounds):
            for index, (_, run, prepare) in enumerate(timed):
                if prepare is not None:
                    prepare()
                started = time.perf_counter_ns()
                run()
                best[index] = min(best[index], time.perf_counter_ns() - started)
    finally:
        gc.enable()
    return [
        (label, ns / events, ns / best[-1]) for (label, _, _), ns in zip(timed, best, strict=True)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", nargs="?", default="first-page")
    parser.add_argument("rounds", nargs="?", type=int, default=40)
    parser.add_argument("--cases", type=Path, default=CASES, help="the case files' folder")
    parser.add_argument("--json", action="store_true", help="JSON rows, not a table")
    args = parser.parse_args()
    rows = stages(args.case, args.rounds, args.cases)
    if args.json:
        print(json.dumps([{"stage": s, "ns_per_event": ns, "share": f} for s, ns, f in rows]))
        return
    print(f"{args.case}, fastest of {args.rounds} rounds per stage\n")
    print("| stage | ns/event | share of the whole |\n| --- | --- | --- |")
    for label, ns, share in rows:
        print(f"| {label} | {ns:.0f} | {share * 100:.0f}% |")


if __name__ == "__main__":
    main()
