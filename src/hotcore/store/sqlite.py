"""SQLite event store: the embedded default, with the same semantics as DynamoDB.

One database file holds every aggregate (a column tells them apart), like one DynamoDB
table per aggregate would. Each append is one ``BEGIN IMMEDIATE`` transaction that checks
the command id, the expected version and the guards, then writes the events, the
command record, the guards and the outbox rows; unique keys on (aggregate, stream,
version) and (scope, value) back the checks up. WAL lets readers run beside the writer.
The ``events`` table is append-only: publishing deletes rows from ``outbox`` instead.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from hotcore.contracts.common import CommandAck, Envelope, Guard
from hotcore.store.codec import JsonCodec
from hotcore.store.port import (
    DEFAULT_PAGE_SIZE,
    ConcurrencyConflict,
    DuplicateCommand,
    GuardViolation,
    OutboxEntry,
    Snapshot,
)

DEFAULT_PATH = Path(".hotcore") / "hotcore.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position   INTEGER PRIMARY KEY AUTOINCREMENT,
    aggregate  TEXT NOT NULL,
    stream_id  TEXT NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 1),
    type       TEXT NOT NULL,
    command_id TEXT NOT NULL,
    body       BLOB NOT NULL,
    UNIQUE (aggregate, stream_id, version)
);
CREATE TABLE IF NOT EXISTS outbox (position INTEGER PRIMARY KEY REFERENCES events(position));
CREATE TABLE IF NOT EXISTS commands (
    aggregate  TEXT NOT NULL,
    command_id TEXT NOT NULL,
    stream_id  TEXT NOT NULL,
    version    INTEGER NOT NULL,
    events     INTEGER NOT NULL,
    PRIMARY KEY (aggregate, command_id)
);
CREATE TABLE IF NOT EXISTS guards (
    scope TEXT NOT NULL,
    value TEXT NOT NULL,
    owner TEXT NOT NULL,
    PRIMARY KEY (scope, value)
);
CREATE TABLE IF NOT EXISTS snapshots (
    aggregate TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    version   INTEGER NOT NULL,
    body      BLOB NOT NULL,
    PRIMARY KEY (aggregate, stream_id)
);
CREATE TRIGGER IF NOT EXISTS events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
"""


def default_path() -> Path:
    """``$HOTCORE_DB`` if set, else ``.hotcore/hotcore.db`` in the working directory."""
    configured = os.environ.get("HOTCORE_DB")
    return Path(configured) if configured else DEFAULT_PATH


class SqliteDatabase:
    """One SQLite file: every aggregate's events, the guards and the outbox.

    Connections are per thread (sqlite3 objects may not cross threads), opened lazily.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self.connection().executescript(_SCHEMA)

    def connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # Each connection stays in its thread; close() may run elsewhere, hence the flag.
            conn = sqlite3.connect(
                self.path, isolation_level=None, timeout=30.0, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        with self._connections_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    def store[E, S](
        self, aggregate: str, event_type: Any, state_type: type[S]
    ) -> SqliteEventStore[E, S]:
        return SqliteEventStore(self, aggregate, event_type, state_type)

    def pending(self, limit: int = 100) -> list[OutboxEntry]:
        rows = self.connection().execute(
            "SELECT e.position, e.aggregate, e.type, e.body FROM outbox o"
            " JOIN events e ON e.position = o.position ORDER BY o.position LIMIT ?",
            (limit,),
        )
        return [OutboxEntry(position=p, aggregate=a, type=t, detail=b) for p, a, t, b in rows]

    def mark_published(self, positions: Sequence[int]) -> None:
        self.connection().executemany(
            "DELETE FROM outbox WHERE position = ?", [(p,) for p in positions]
        )

    def all_events(self) -> list[OutboxEntry]:
        """Every committed event of every aggregate, in commit order."""
        rows = self.connection().execute(
            "SELECT position, aggregate, type, body FROM events ORDER BY position"
        )
        return [OutboxEntry(position=p, aggregate=a, type=t, detail=b) for p, a, t, b in rows]


class SqliteEventStore[E, S]:
    def __init__(
        self, database: SqliteDatabase, aggregate: str, event_type: Any, state_type: type[S]
    ) -> None:
        self._db = database
        self._aggregate = aggregate
        self._codec: JsonCodec[E, S] = JsonCodec(event_type, state_type)

    @property
    def aggregate(self) -> str:
        return self._aggregate

    def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[Envelope[E]],
        *,
        command_id: str,
        guards: Sequence[Guard] = (),
    ) -> CommandAck:
        encoded = self._codec.encode_append(stream_id, expected_version, events, command_id, guards)
        conn = self._db.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            ack = self._append_in_transaction(
                conn, stream_id, expected_version, events, encoded, command_id, guards
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return ack

    def _append_in_transaction(
        self,
        conn: sqlite3.Connection,
        stream_id: str,
        expected_version: int,
        events: Sequence[Envelope[E]],
        encoded: list[bytes],
        command_id: str,
        guards: Sequence[Guard],
    ) -> CommandAck:
        agg = self._aggregate
        first = self._find_command(conn, command_id)
        if first is not None:
            raise DuplicateCommand(first)
        (current,) = conn.execute(
            "SELECT COALESCE(MAX(version), 0) FROM events WHERE aggregate = ? AND stream_id = ?",
            (agg, stream_id),
        ).fetchone()
        if current != expected_version:
            raise ConcurrencyConflict(stream_id, expected_version, current)
        for guard in guards:
            row = conn.execute(
                "SELECT owner FROM guards WHERE scope = ? AND value = ?", (guard.scope, guard.value)
            ).fetchone()
            if guard.claim and row is not None and row[0] != stream_id:
                raise GuardViolation(guard.scope, guard.value, row[0])
            if guard.claim:
                conn.execute(
                    "INSERT OR IGNORE INTO guards (scope, value, owner) VALUES (?, ?, ?)",
                    (guard.scope, guard.value, stream_id),
                )
            else:
                conn.execute(
                    "DELETE FROM guards WHERE scope = ? AND value = ? AND owner = ?",
                    (guard.scope, guard.value, stream_id),
                )
        for event, raw in zip(events, encoded, strict=True):
            cursor = conn.execute(
                "INSERT INTO events (aggregate, stream_id, version, type, command_id, body)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (agg, stream_id, event.version, event.type, command_id, raw),
            )
            conn.execute("INSERT INTO outbox (position) VALUES (?)", (cursor.lastrowid,))
        version = expected_version + len(events)
        conn.execute(
            "INSERT INTO commands (aggregate, command_id, stream_id, version, events)"
            " VALUES (?, ?, ?, ?, ?)",
            (agg, command_id, stream_id, version, len(events)),
        )
        return CommandAck(
            command_id=command_id, stream_id=stream_id, version=version, events=len(events)
        )

    def load(
        self, stream_id: str, from_version: int = 1, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Iterator[list[Envelope[E]]]:
        decode = self._codec.decode_envelope
        after = max(from_version, 1) - 1
        while True:
            # A fresh query per page (keyset pagination), like DynamoDB's Query pages.
            rows = (
                self._db.connection()
                .execute(
                    "SELECT version, body FROM events WHERE aggregate = ? AND stream_id = ?"
                    " AND version > ? ORDER BY version LIMIT ?",
                    (self._aggregate, stream_id, after, page_size),
                )
                .fetchall()
            )
            if not rows:
                return
            yield [decode(body) for _, body in rows]
            if len(rows) < page_size:
                return
            after = rows[-1][0]

    def find_command(self, command_id: str) -> CommandAck | None:
        return self._find_command(self._db.connection(), command_id)

    def _find_command(self, conn: sqlite3.Connection, command_id: str) -> CommandAck | None:
        row = conn.execute(
            "SELECT stream_id, version, events FROM commands"
            " WHERE aggregate = ? AND command_id = ?",
            (self._aggregate, command_id),
        ).fetchone()
        if row is None:
            return None
        return CommandAck(command_id=command_id, stream_id=row[0], version=row[1], events=row[2])

    def save_snapshot(self, snapshot: Snapshot[S]) -> None:
        self._db.connection().execute(
            "INSERT INTO snapshots (aggregate, stream_id, version, body) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (aggregate, stream_id) DO UPDATE"
            " SET version = excluded.version, body = excluded.body"
            " WHERE excluded.version > snapshots.version",
            (self._aggregate, snapshot.stream_id, snapshot.version, self._codec.encode(snapshot)),
        )

    def load_snapshot(self, stream_id: str) -> Snapshot[S] | None:
        row = (
            self._db.connection()
            .execute(
                "SELECT body FROM snapshots WHERE aggregate = ? AND stream_id = ?",
                (self._aggregate, stream_id),
            )
            .fetchone()
        )
        return None if row is None else self._codec.decode_snapshot(row[0])
