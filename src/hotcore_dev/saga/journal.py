"""A durable journal of local saga executions, so one interrupted by a crash resumes.

Step Functions keeps an execution's progress itself: if the machine running a step dies,
the execution carries on elsewhere. The local executor runs in the caller's process, so
this journal records, in the embedded store's SQLite file, every task invocation's
outcome (its result, or the error it raised) in order, keyed by the execution's name.
Running an execution again under the same name replays the recorded outcomes instead
of invoking the tasks, so it takes the same path as the first time (the same branch
after a step that failed, the same retries), and only the steps after the last
recorded one run for real. A step cut short by the crash runs again: its command id is
derived from the order and the step, so a command that had been committed returns its
first outcome and nothing is applied twice.

An execution whose end is recorded is not run again. A recorded step whose function or
payload differs from what the execution now asks for (the definition changed between
the runs) ends the replay there: that step and the rest run for real.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from hotcore_dev.saga.errors import TaskError
from hotcore_dev.saga.executor import Execution, lambda_error_cause

type Handler = Callable[[Any], object]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS saga_executions (
    name   TEXT PRIMARY KEY,
    saga   TEXT NOT NULL,
    status TEXT NOT NULL,
    error  TEXT,
    cause  TEXT
);
CREATE TABLE IF NOT EXISTS saga_steps (
    execution TEXT NOT NULL,
    step      INTEGER NOT NULL,
    function  TEXT NOT NULL,
    payload   TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    PRIMARY KEY (execution, step)
);
"""


@dataclass(frozen=True, slots=True)
class ExecutionRecord:
    name: str
    saga: str
    status: str
    error: str | None


class _Current(threading.local):
    name: str | None = None
    step: int = 0
    replaying: bool = True


class SagaJournal:
    """Execution records and step outcomes in a SQLite database.

    ``connect`` returns the connection for the calling thread (the embedded store's);
    without it the journal keeps a private in-memory database (nothing survives, but the
    code path is the same).
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection] | None = None) -> None:
        self._lock = threading.RLock()
        if connect is None:
            private = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)

            def connect() -> sqlite3.Connection:  # one shared connection, guarded by the lock
                return private

        self._connect = connect
        self._current = _Current()
        with self._lock:
            self._connect().executescript(_SCHEMA)

    # -- executions ---------------------------------------------------------------

    def finished(self, name: str) -> ExecutionRecord | None:
        """The record of execution ``name`` if its end was recorded."""
        record = self.record(name)
        return record if record is not None and record.status != "RUNNING" else None

    def record(self, name: str) -> ExecutionRecord | None:
        with self._lock:
            row = (
                self._connect()
                .execute("SELECT saga, status, error FROM saga_executions WHERE name = ?", (name,))
                .fetchone()
            )
        return None if row is None else ExecutionRecord(name, row[0], row[1], row[2])

    def unfinished(self) -> list[ExecutionRecord]:
        """Executions started and never ended (their delivery is then still pending too)."""
        with self._lock:
            rows = (
                self._connect()
                .execute(
                    "SELECT name, saga, status, error FROM saga_executions"
                    " WHERE status = 'RUNNING' ORDER BY rowid"
                )
                .fetchall()
            )
        return [ExecutionRecord(*row) for row in rows]

    @contextmanager
    def running(self, name: str, saga: str) -> Iterator[None]:
        """Start (or resume) execution ``name`` in this thread: its recorded steps replay."""
        with self._lock:
            self._connect().execute(
                "INSERT OR IGNORE INTO saga_executions (name, saga, status)"
                " VALUES (?, ?, 'RUNNING')",
                (name, saga),
            )
        self._current.name, self._current.step, self._current.replaying = name, 0, True
        try:
            yield
        finally:
            self._current.name = None

    def end(self, execution: Execution) -> None:
        """Record how execution ``name`` ended: a repeated delivery will not run it again."""
        with self._lock:
            self._connect().execute(
                "UPDATE saga_executions SET status = ?, error = ?, cause = ? WHERE name = ?",
                (execution.status, execution.error, execution.cause, execution.name),
            )

    # -- steps --------------------------------------------------------------------

    def journaled(self, function: str, handler: Handler) -> Handler:
        """``handler`` with its outcomes recorded and replayed within the current execution."""

        def invoke(payload: Any) -> object:
            current = self._current
            if current.name is None:  # not inside a journaled execution
                return handler(payload)
            step = current.step
            current.step += 1
            request = json.dumps(payload, sort_keys=True, separators=(",", ":"))
            if current.replaying:
                recorded = self._recorded(current.name, step)
                if recorded is not None and recorded[:2] == (function, request):
                    return _replay(json.loads(recorded[2]))
                current.replaying = False
                self._forget_from(current.name, step)
            try:
                result = handler(payload)
            except TaskError as exc:
                self._write(
                    current.name, step, function, request, {"error": exc.error, "cause": exc.cause}
                )
                raise
            except Exception as exc:
                error, cause = type(exc).__name__, lambda_error_cause(exc, f"{current.name}/{step}")
                self._write(current.name, step, function, request, {"error": error, "cause": cause})
                raise TaskError(error, cause) from exc
            # A result that is not JSON is not recorded: the executor fails the task
            # (Runtime.MarshalError) on its own, and a resumed run invokes it again.
            with suppress(TypeError, ValueError):
                self._write(current.name, step, function, request, {"result": result})
            return result

        return invoke

    def steps(self, name: str) -> int:
        with self._lock:
            (count,) = (
                self._connect()
                .execute("SELECT COUNT(*) FROM saga_steps WHERE execution = ?", (name,))
                .fetchone()
            )
        return int(count)

    def _recorded(self, name: str, step: int) -> tuple[str, str, str] | None:
        with self._lock:
            row = (
                self._connect()
                .execute(
                    "SELECT function, payload, outcome FROM saga_steps"
                    " WHERE execution = ? AND step = ?",
                    (name, step),
                )
                .fetchone()
            )
        return None if row is None else (row[0], row[1], row[2])

    def _forget_from(self, name: str, step: int) -> None:
        with self._lock:
            self._connect().execute(
                "DELETE FROM saga_steps WHERE execution = ? AND step >= ?", (name, step)
            )

    def _write(
        self, name: str, step: int, function: str, request: str, outcome: Mapping[str, Any]
    ) -> None:
        with self._lock:
            self._connect().execute(
                "INSERT OR REPLACE INTO saga_steps (execution, step, function, payload, outcome)"
                " VALUES (?, ?, ?, ?, ?)",
                (name, step, function, request, json.dumps(outcome)),
            )


def _replay(outcome: Mapping[str, Any]) -> object:
    if "error" in outcome:
        raise TaskError(outcome["error"], outcome["cause"])
    return outcome["result"]
