"""The local bus's durable delivery queue: one row per (event, rule) until its target ran.

EventBridge accepts an event only once it is stored, then delivers it to every matching
rule's target, retrying each on its own. The local emulation keeps that promise in SQLite:
``put_events`` writes one ``bus_deliveries`` row per matching rule, the row is deleted
only after the target returned, and a target that keeps raising moves to
``bus_dead_letters``. Killing the process at any point therefore loses nothing: the next
``drain`` on the same file delivers what was left (at least once: a target that had run
but not been acknowledged runs again, which is why handlers are idempotent).

The tables live in the embedded store's SQLite file when the local app runs on one (so
that the outbox relay can move an event from the outbox to the queue in one
transaction), or in a private in-memory database otherwise.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bus_deliveries (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    bus      TEXT NOT NULL,
    rule     TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event    BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    UNIQUE (bus, rule, event_id)
);
CREATE TABLE IF NOT EXISTS bus_dead_letters (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    bus      TEXT NOT NULL,
    rule     TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event    BLOB NOT NULL,
    attempts INTEGER NOT NULL,
    error    TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event waiting for one rule's target; ``event`` is the JSON the target receives."""

    id: int
    rule: str
    event: bytes
    attempts: int


@dataclass(frozen=True, slots=True)
class StoredDeadLetter:
    rule: str
    event: bytes
    attempts: int
    error: str


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` .. ``COMMIT`` on an autocommit connection; rolled back on error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class DeliveryQueue:
    """Pending deliveries and dead letters of one bus, in a SQLite database.

    ``connect`` returns the connection to use in the calling thread (the embedded
    store's per-thread connection, so a caller's open transaction covers the writes
    made here); without it the queue keeps a private in-memory database.
    """

    def __init__(self, bus: str, connect: Callable[[], sqlite3.Connection] | None = None) -> None:
        self.bus = bus
        self._lock = threading.RLock()
        if connect is None:
            private = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)

            def connect() -> sqlite3.Connection:  # one shared connection, guarded by the lock
                return private

        self._connect = connect
        with self._lock:
            self._connect().executescript(_SCHEMA)

    def add(self, event_id: str, event: bytes, rules: list[str]) -> None:
        """Record ``event`` for each rule; a repeated (rule, event id) is recorded once."""
        with self._lock:
            self._connect().executemany(
                "INSERT OR IGNORE INTO bus_deliveries (bus, rule, event_id, event)"
                " VALUES (?, ?, ?, ?)",
                [(self.bus, rule, event_id, event) for rule in rules],
            )

    def next(self) -> Delivery | None:
        """The oldest pending delivery."""
        with self._lock:
            row = (
                self._connect()
                .execute(
                    "SELECT id, rule, event, attempts FROM bus_deliveries"
                    " WHERE bus = ? ORDER BY id LIMIT 1",
                    (self.bus,),
                )
                .fetchone()
            )
        return (
            None if row is None else Delivery(id=row[0], rule=row[1], event=row[2], attempts=row[3])
        )

    def done(self, delivery: Delivery) -> None:
        """The target returned: the delivery leaves the queue."""
        with self._lock:
            self._connect().execute("DELETE FROM bus_deliveries WHERE id = ?", (delivery.id,))

    def failed(self, delivery: Delivery) -> None:
        """The target raised once more: count the attempt (it survives a restart)."""
        with self._lock:
            self._connect().execute(
                "UPDATE bus_deliveries SET attempts = attempts + 1 WHERE id = ?", (delivery.id,)
            )

    def dead(self, delivery: Delivery, attempts: int, error: str) -> None:
        """Give up: move the delivery to the dead letters, in one transaction."""
        with self._lock, transaction(self._connect()) as conn:
            conn.execute(
                "INSERT INTO bus_dead_letters (bus, rule, event_id, event, attempts, error)"
                " SELECT bus, rule, event_id, event, ?, ? FROM bus_deliveries WHERE id = ?",
                (attempts, error, delivery.id),
            )
            conn.execute("DELETE FROM bus_deliveries WHERE id = ?", (delivery.id,))

    def pending(self) -> int:
        with self._lock:
            (count,) = (
                self._connect()
                .execute("SELECT COUNT(*) FROM bus_deliveries WHERE bus = ?", (self.bus,))
                .fetchone()
            )
        return int(count)

    def dead_letters(self) -> list[StoredDeadLetter]:
        with self._lock:
            rows = (
                self._connect()
                .execute(
                    "SELECT rule, event, attempts, error FROM bus_dead_letters"
                    " WHERE bus = ? ORDER BY id",
                    (self.bus,),
                )
                .fetchall()
            )
        return [StoredDeadLetter(rule=r, event=e, attempts=a, error=x) for r, e, a, x in rows]
