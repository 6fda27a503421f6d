"""SQLite event store: the embedded default, with the same semantics as DynamoDB.

One database file holds every aggregate (a column tells them apart), like one DynamoDB
table per aggregate would. Each append is one ``BEGIN IMMEDIATE`` transaction that checks
the command id on its stream, the expected version and the guards, then writes the
events (with the command's fingerprint), the guards, the snapshot and the outbox rows;
unique keys on (aggregate, stream, version) and (scope, value) back the checks up, and
an index on (aggregate, stream, command id) finds a stream's commands: SQLite remembers
every command of a stream. WAL lets readers run beside the writer. The ``events`` table
is append-only: publishing deletes rows from ``outbox`` instead.

``PRAGMA user_version`` is the schema version (``SCHEMA_VERSION``); a file of another
version, or one that is not hotcore's, is refused with ``IncompatibleDatabase`` before
anything is read or written.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from hotcore.contracts.common import CommandAck, Envelope, Guard
from hotcore.store.codec import StreamCodec
from hotcore.store.port import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_SNAPSHOT_EVERY,
    CommandIdReused,
    CommandRecord,
    ConcurrencyConflict,
    DuplicateCommand,
    GuardViolation,
    IncompatibleDatabase,
    Latest,
    OutboxEntry,
    Snapshot,
)

DEFAULT_PATH = Path(".hotcore") / "hotcore.db"
#: ``PRAGMA user_version`` of the files this code reads and writes. 1 was the layout
#: before fingerprints (it never set user_version: such files read 0 and have tables).
SCHEMA_VERSION = 2
#: The largest version column value (SQLite's INTEGER): "no upper bound" in a range read.
_NO_END = 2**63 - 1

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS events (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    aggregate   TEXT NOT NULL,
    stream_id   TEXT NOT NULL,
    version     INTEGER NOT NULL CHECK (version >= 1),
    type        TEXT NOT NULL,
    command_id  TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    body        BLOB NOT NULL,
    UNIQUE (aggregate, stream_id, version)
);
CREATE INDEX IF NOT EXISTS events_by_command ON events (aggregate, stream_id, command_id);
CREATE TABLE IF NOT EXISTS outbox (position INTEGER PRIMARY KEY REFERENCES events(position));
CREATE TABLE IF NOT EXISTS guards (
    scope TEXT NOT NULL,
    value TEXT NOT NULL,
    owner TEXT NOT NULL,
    PRIMARY KEY (scope, value)
);
CREATE TABLE IF NOT EXISTS snapshots (
    aggregate     TEXT NOT NULL,
    stream_id     TEXT NOT NULL,
    state_version INTEGER NOT NULL,
    state_hash    TEXT NOT NULL,
    version       INTEGER NOT NULL,
    body          BLOB NOT NULL,
    PRIMARY KEY (aggregate, stream_id, state_version, state_hash)
);
CREATE TRIGGER IF NOT EXISTS events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
PRAGMA user_version = {SCHEMA_VERSION};
"""
_TABLES = {"events", "outbox", "guards", "snapshots"}
_REMEDY = (
    "use another file (--db PATH or HOTCORE_DB) or move this one away; hotcore creates a "
    "new database where none exists"
)


def _describe(conn: sqlite3.Connection) -> tuple[int, set[str]]:
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return int(version), {name for (name,) in rows}


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
        # checked on a plain connection first: a refused file is left exactly as it was
        # (the WAL pragma of the working connections would rewrite its header)
        check = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        try:
            self._prepare(check)
        except sqlite3.DatabaseError as error:
            if "not a database" not in str(error):
                raise  # damaged, read-only, unreachable...: SQLite's own error says it best
            raise IncompatibleDatabase(
                str(self.path), f"not a SQLite database ({error})", _REMEDY
            ) from None
        finally:
            check.close()

    def _prepare(self, conn: sqlite3.Connection) -> None:
        """Create the schema in a new file; refuse a file of another version or owner."""
        version, tables = _describe(conn)
        if version == 0 and not tables:
            # IF NOT EXISTS: another process may be creating the same new file right now
            conn.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}COMMIT;")
            version, tables = _describe(conn)
        if version == SCHEMA_VERSION and tables >= _TABLES:
            return
        if version == 0 and {"events", "outbox", "commands"} <= tables:
            problem = (
                "an event store of an older hotcore (schema 1: no command fingerprints, "
                f"command ids global); this one reads schema {SCHEMA_VERSION}"
            )
        elif version > SCHEMA_VERSION:
            problem = (
                f"an event store of a newer hotcore (schema {version}); this one reads "
                f"schema {SCHEMA_VERSION}"
            )
        elif version == SCHEMA_VERSION:
            problem = f"schema {version} but tables are missing: {sorted(_TABLES - tables)}"
        else:
            shown = ", ".join(sorted(tables)[:5]) or "none"
            problem = f"not a hotcore event store (user_version {version}, tables: {shown})"
        raise IncompatibleDatabase(str(self.path), problem, _REMEDY)

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
        self, aggregate: str, event_type: Any, state_type: type[S], *, state_version: int = 1
    ) -> SqliteEventStore[E, S]:
        return SqliteEventStore(
            self, aggregate, event_type, state_type, state_version=state_version
        )

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
        self,
        database: SqliteDatabase,
        aggregate: str,
        event_type: Any,
        state_type: type[S],
        *,
        state_version: int = 1,
    ) -> None:
        self._db = database
        self._aggregate = aggregate
        self.codec: StreamCodec[E, S] = StreamCodec(event_type, state_type, state_version)

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
        fingerprint: str,
        guards: Sequence[Guard] = (),
        snapshot: S | None = None,
    ) -> CommandAck:
        codec = self.codec
        encoded = codec.encode_append(
            stream_id, expected_version, events, command_id, fingerprint, guards
        )
        state = None if snapshot is None else codec.encode_state(snapshot)
        conn = self._db.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            ack = self._append_in_transaction(
                conn, stream_id, expected_version, events, encoded, command_id, fingerprint, guards
            )
            if state is not None:
                conn.execute(
                    "INSERT INTO snapshots"
                    " (aggregate, stream_id, state_version, state_hash, version, body)"
                    " VALUES (?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (aggregate, stream_id, state_version, state_hash) DO UPDATE"
                    " SET version = excluded.version, body = excluded.body"
                    " WHERE excluded.version > snapshots.version",
                    (
                        self._aggregate,
                        stream_id,
                        codec.state_version,
                        codec.state_hash,
                        ack.version,
                        state,
                    ),
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
        fingerprint: str,
        guards: Sequence[Guard],
    ) -> CommandAck:
        agg = self._aggregate
        first = self._find_command(conn, stream_id, command_id)
        if first is not None:
            if first.same_command(fingerprint):
                raise DuplicateCommand(first.outcome(stream_id))
            raise CommandIdReused(first.outcome(stream_id))
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
                "INSERT INTO events"
                " (aggregate, stream_id, version, type, command_id, fingerprint, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (agg, stream_id, event.version, event.type, command_id, fingerprint, raw),
            )
            conn.execute("INSERT INTO outbox (position) VALUES (?)", (cursor.lastrowid,))
        version = expected_version + len(events)
        return CommandAck(
            command_id=command_id, stream_id=stream_id, version=version, events=len(events)
        )

    def load(
        self,
        stream_id: str,
        from_version: int = 1,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        until: int | None = None,
    ) -> Iterator[list[Envelope[E]]]:
        decode_page = self.codec.reader.envelopes_page
        after = max(from_version, 1) - 1
        last = _NO_END if until is None else until
        while True:
            # A fresh query per page (keyset pagination), like DynamoDB's Query pages.
            rows = (
                self._db.connection()
                .execute(
                    "SELECT version, body FROM events WHERE aggregate = ? AND stream_id = ?"
                    " AND version > ? AND version <= ? ORDER BY version LIMIT ?",
                    (self._aggregate, stream_id, after, last, page_size),
                )
                .fetchall()
            )
            if not rows:
                return
            yield decode_page([body for _, body in rows], stream_id, _version_column(rows))
            if len(rows) < page_size:
                return
            after = rows[-1][0]

    def load_latest(
        self,
        stream_id: str,
        *,
        command_id: str | None = None,
        page_size: int = DEFAULT_SNAPSHOT_EVERY,
    ) -> Latest[E, S]:
        codec = self.codec
        conn = self._db.connection()
        row = conn.execute(
            "SELECT version, body FROM snapshots WHERE aggregate = ? AND stream_id = ?"
            " AND state_version = ? AND state_hash = ?",
            (self._aggregate, stream_id, codec.state_version, codec.state_hash),
        ).fetchone()
        snapshot: Snapshot[S] | None = None
        if row is not None:
            state = codec.decode_state(row[1])
            if state is not None:
                snapshot = Snapshot(stream_id=stream_id, version=row[0], state=state)
        after = 0 if snapshot is None else snapshot.version
        rows = conn.execute(
            "SELECT version, body FROM events WHERE aggregate = ? AND stream_id = ?"
            " AND version > ? ORDER BY version",
            (self._aggregate, stream_id, after),
        ).fetchall()
        return Latest(
            stream_id=stream_id,
            version=rows[-1][0] if rows else after,
            snapshot=snapshot,
            events=codec.reader.loaded_page(
                [body for _, body in rows], stream_id, _version_column(rows)
            ),
            command=None if command_id is None else self._find_command(conn, stream_id, command_id),
        )

    def _find_command(
        self, conn: sqlite3.Connection, stream_id: str, command_id: str
    ) -> CommandRecord | None:
        row = conn.execute(
            "SELECT fingerprint, MAX(version), COUNT(*) FROM events"
            " WHERE aggregate = ? AND stream_id = ? AND command_id = ?",
            (self._aggregate, stream_id, command_id),
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return CommandRecord(
            command_id=command_id, fingerprint=row[0], version=row[1], events=row[2]
        )


def _version_column(rows: Sequence[tuple[int, bytes]]) -> Callable[[int], int]:
    """The stored version of the event in ``rows[i]`` (rows of ``version, body``)."""
    return lambda index: rows[index][0]
