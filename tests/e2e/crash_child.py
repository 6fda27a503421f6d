"""One run of ``hotcore demo`` on a SQLite file that kills itself (SIGKILL) at a chosen point.

    python -m tests.e2e.crash_child DB POINT NTH   # die the NTH time POINT is reached
    python -m tests.e2e.crash_child DB             # run the demo to its end
    python -m tests.e2e.crash_child DB --count     # run to the end, print how often each
                                                   # point was reached (JSON, last line)

A point is the start or the return of one function of the local flow (``POINTS``),
watched with ``sys.monitoring``, so no product code carries a test hook. SIGKILL is not
catchable: no ``finally`` runs, no transaction is rolled back by Python, exactly as when
the machine loses the process. Exit status: the demo's (0, or 1 if an invariant broke).
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import CodeType
from typing import Any, Literal

from hotcore.entrypoints.direct import DirectHandler
from hotcore.service.reactions import EventReactor
from hotcore.store.sqlite import SqliteDatabase, SqliteEventStore
from hotcore_dev.bus.local import LocalBus
from hotcore_dev.bus.queue import DeliveryQueue
from hotcore_dev.demo import run_demo
from hotcore_dev.saga.journal import SagaJournal

type When = Literal["start", "return"]

#: Where a process can die, in the order an event travels.
POINTS: dict[str, tuple[Callable[..., Any], When]] = {
    # a command's events are committed; the relay has not run
    "command.committed": (SqliteEventStore.append, "return"),
    # the relay put events in the bus queue; its transaction is not committed
    "relay.put": (LocalBus.put_events, "return"),
    "relay.marked": (SqliteDatabase.mark_published, "return"),
    # an event handler is about to react, or has reacted but not been acknowledged
    "reaction.start": (EventReactor.handle, "start"),
    "reaction.done": (EventReactor.handle, "return"),
    "delivery.ack": (DeliveryQueue.done, "start"),
    # a saga step's command ran, its outcome not yet journaled; or it just was
    "saga.step-ran": (DirectHandler.__call__, "return"),
    "saga.step-journaled": (SagaJournal._write, "return"),
    "saga.end": (SagaJournal.end, "start"),
}

_TOOL = sys.monitoring.DEBUGGER_ID


def _code(function: Callable[..., Any]) -> CodeType:
    code: CodeType = function.__code__
    return code


def _watch(points: list[str], on_hit: Callable[[str], None]) -> None:
    monitoring = sys.monitoring
    monitoring.use_tool_id(_TOOL, "hotcore-crash-suite")
    names: dict[tuple[CodeType, When], str] = {}
    local: dict[CodeType, int] = {}
    for point in points:
        function, when = POINTS[point]
        code = _code(function)
        names[(code, when)] = point
        event = monitoring.events.PY_START if when == "start" else monitoring.events.PY_RETURN
        local[code] = local.get(code, 0) | event

    def started(code: CodeType, offset: int) -> None:
        name = names.get((code, "start"))
        if name is not None:
            on_hit(name)

    def returned(code: CodeType, offset: int, value: object) -> None:
        name = names.get((code, "return"))
        if name is not None:
            on_hit(name)

    monitoring.register_callback(_TOOL, monitoring.events.PY_START, started)
    monitoring.register_callback(_TOOL, monitoring.events.PY_RETURN, returned)
    for code, events in local.items():
        monitoring.set_local_events(_TOOL, code, events)


def main(argv: list[str]) -> int:
    db = Path(argv[0])
    counts: dict[str, int] = dict.fromkeys(POINTS, 0)
    if len(argv) == 3:
        point, nth = argv[1], int(argv[2])

        def die_at_nth(name: str) -> None:
            counts[name] += 1
            if counts[name] == nth:
                os.kill(os.getpid(), signal.SIGKILL)

        _watch([point], die_at_nth)
    elif argv[1:] == ["--count"]:

        def count(name: str) -> None:
            counts[name] += 1

        _watch(list(POINTS), count)
    out = io.StringIO()
    status = run_demo(db, out)
    if status != 0:
        print(out.getvalue())
    if argv[1:] == ["--count"]:
        print(json.dumps(counts))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
