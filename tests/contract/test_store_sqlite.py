"""The store contract on the SQLite adapter, plus what only a database file can show."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotcore.contracts.account import AccountEvent, AccountOpened, AccountState, Deposited
from hotcore.store.port import IncompatibleDatabase
from hotcore.store.sqlite import SCHEMA_VERSION, SqliteDatabase
from tests.support.store_contract import *  # noqa: F403
from tests.support.store_contract import MakeStore, append, read_all


@pytest.fixture
def database(tmp_path: Path) -> Iterator[SqliteDatabase]:
    db = SqliteDatabase(tmp_path / "store.db")
    yield db
    db.close()


@pytest.fixture
def make_store(database: SqliteDatabase) -> MakeStore:
    def make(
        name: str,
        event_type: Any = AccountEvent,
        state_type: type[Any] = AccountState,
        state_version: int = 1,
    ) -> Any:
        return database.store(name, event_type, state_type, state_version=state_version)

    return make


def test_events_survive_reopening_the_file(tmp_path: Path) -> None:
    first = SqliteDatabase(tmp_path / "kept.db")
    append(
        first.store("account", AccountEvent, AccountState),
        "acc-1",
        0,
        [AccountOpened(owner_id="o")],
        "c-1",
    )
    first.close()
    again = SqliteDatabase(tmp_path / "kept.db")
    assert [
        e.version for e in read_all(again.store("account", AccountEvent, AccountState), "acc-1")
    ] == [1]
    again.close()


def test_the_events_table_is_append_only(database: SqliteDatabase) -> None:
    import sqlite3

    append(
        database.store("account", AccountEvent, AccountState),
        "acc-1",
        0,
        [AccountOpened(owner_id="o")],
        "c-1",
    )
    conn = database.connection()
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE events SET type = 'X'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM events")


def test_the_outbox_holds_committed_events_in_commit_order(database: SqliteDatabase) -> None:
    store = database.store("account", AccountEvent, AccountState)
    append(store, "acc-1", 0, [AccountOpened(owner_id="o"), Deposited(amount=1)], "c-1")
    append(store, "acc-2", 0, [AccountOpened(owner_id="o")], "c-2")
    pending = database.pending()
    assert [(e.aggregate, e.type) for e in pending] == [
        ("account", "AccountOpened"),
        ("account", "Deposited"),
        ("account", "AccountOpened"),
    ]
    database.mark_published([pending[0].position])
    assert [e.position for e in database.pending()] == [p.position for p in pending[1:]]
    assert len(database.all_events()) == 3  # publishing never removes events


def test_a_new_file_records_its_schema_version(tmp_path: Path) -> None:
    import sqlite3

    SqliteDatabase(tmp_path / "new.db").close()
    with sqlite3.connect(tmp_path / "new.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


_OLD_SCHEMA = """
CREATE TABLE events (position INTEGER PRIMARY KEY, aggregate TEXT, stream_id TEXT,
    version INTEGER, type TEXT, command_id TEXT, body BLOB);
CREATE TABLE outbox (position INTEGER PRIMARY KEY);
CREATE TABLE commands (aggregate TEXT, command_id TEXT, stream_id TEXT, version INTEGER,
    events INTEGER);
"""


@pytest.mark.parametrize(
    ("make_file", "problem"),
    [
        (lambda path: _sqlite(path, _OLD_SCHEMA), "older hotcore"),
        (lambda path: _sqlite(path, "PRAGMA user_version = 9;"), "newer hotcore (schema 9)"),
        (lambda path: _sqlite(path, "CREATE TABLE users (name TEXT);"), "not a hotcore"),
        (lambda path: path.write_text("name,email\nada,ada@example.com\n"), "not a SQLite"),
    ],
)
def test_a_file_of_another_version_or_owner_is_refused_and_left_as_it_was(
    tmp_path: Path, make_file: Any, problem: str
) -> None:
    path = tmp_path / "other.db"
    make_file(path)
    before = path.read_bytes()
    with pytest.raises(IncompatibleDatabase) as refused:
        SqliteDatabase(path)
    assert refused.value.path == str(path)
    assert problem in refused.value.problem
    assert "--db" in str(refused.value)  # what to do
    assert path.read_bytes() == before


def _sqlite(path: Path, script: str) -> None:
    import sqlite3

    conn = sqlite3.connect(path)
    conn.executescript(script)
    conn.close()
