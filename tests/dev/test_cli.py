"""The command line: subcommands reach their modules with their arguments."""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hotcore_dev.cli import main
from hotcore_dev.demo import run_demo


def test_build_layer_hands_its_options_to_the_layer_tool_of_the_checkout(
    capfd: pytest.CaptureFixture[str],
) -> None:
    assert main(["build-layer", "--arch", "aarch64", "--help"]) == 0
    out = capfd.readouterr().out
    assert "--keep-sources" in out
    assert "--native" in out


def test_unknown_options_of_other_commands_are_errors() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["schema", "--bogus"])
    assert exited.value.code == 2


# --- errors: one line on stderr naming the file or value, exit 1 (2 for usage) -------------

ROOT = Path(__file__).resolve().parents[2]


def hotcore(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed entry point's code in a fresh interpreter, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "hotcore_dev.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOTCORE_DB": ""},
    )


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database the demo wrote, to damage in the cases below."""
    db = tmp_path_factory.mktemp("demo") / "good.db"
    assert run_demo(db, io.StringIO()) == 0
    return db


def hand_edited(source: Path, target: Path) -> Path:
    """A copy of ``source`` whose second Account event has a string amount, as a hand edit."""
    shutil.copyfile(source, target)
    with sqlite3.connect(target) as conn:
        conn.execute("DROP TRIGGER events_append_only_update")  # what a hand edit takes
        position, body = conn.execute(
            "SELECT position, body FROM events WHERE aggregate = 'account' AND version = 2"
            " ORDER BY position LIMIT 1"
        ).fetchone()
        edited = json.loads(body)
        edited["data"]["amount"] = "lots"
        conn.execute(
            "UPDATE events SET body = ? WHERE position = ?", (json.dumps(edited), position)
        )
    conn.close()
    return target


def error_cases(tmp: Path, demo_db: Path) -> list[tuple[list[str], int, list[str]]]:
    """(arguments, exit status, what the one line must name)."""
    (tmp / "folder").mkdir()
    (tmp / "a-file").write_text("not a folder")
    (tmp / "random.db").write_bytes(random.Random(7).randbytes(8192))
    (tmp / "truncated.db").write_bytes(demo_db.read_bytes()[: demo_db.stat().st_size // 3])
    hand_edited(demo_db, tmp / "edited.db")
    with sqlite3.connect(tmp / "foreign.db") as conn:  # another program's SQLite file
        conn.execute("CREATE TABLE notes (body TEXT)")
    conn.close()
    return [
        (["demo", "--db", "folder"], 1, ["folder", "is a folder", "folder/hotcore.db"]),
        (["demo", "--db", "a-file/x.db"], 1, ["a-file", "not a folder"]),
        (["demo", "--db", "/proc/hotcore-cli-test.db"], 1, ["/proc/hotcore-cli-test.db"]),
        (["demo", "--db", "random.db"], 1, ["random.db", "not a SQLite database"]),
        (["demo", "--db", "truncated.db"], 1, ["truncated.db", "damaged"]),
        (["demo", "--db", "edited.db"], 1, ["edited.db", "'ann-1'", "version 2", "$.data.amount"]),
        (["demo", "--db", "foreign.db"], 1, ["foreign.db", "not a hotcore event store"]),
        (["schema", "--out", "/proc/nope"], 1, ["/proc/nope", "--out"]),
        (["bench", "--quick", "--update-report"], 1, ["--update-report"]),
        (["demo", "--bogus"], 2, ["hotcore demo:", "--bogus", "hotcore demo --help"]),
        (["schema", "--out"], 2, ["hotcore schema:", "--out"]),
        (["nope"], 2, ["'nope'", "hotcore --help"]),
        ([], 2, ["COMMAND"]),
    ]


def test_every_cli_error_is_one_line_naming_the_file_or_value(
    tmp_path: Path, demo_db: Path
) -> None:
    for args, status, names in error_cases(tmp_path, demo_db):
        done = hotcore(*args, cwd=tmp_path)
        lines = done.stderr.splitlines()
        assert (done.returncode, len(lines)) == (status, 1), (args, done.stderr)
        assert lines[0].startswith("hotcore"), (args, lines)
        for name in names:
            assert name in lines[0], (args, name, lines[0])
        assert done.stdout == "", (args, done.stdout)


def test_a_failed_demo_leaves_the_file_it_refused_as_it_was(tmp_path: Path) -> None:
    damaged = tmp_path / "random.db"
    damaged.write_bytes(random.Random(3).randbytes(4096))
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('keep me')")
    conn.close()
    for path in (damaged, foreign):
        before = path.read_bytes()
        assert hotcore("demo", "--db", path.name, cwd=tmp_path).returncode == 1
        assert path.read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["foreign.db", "random.db"]


def test_version_and_each_commands_own_help(tmp_path: Path) -> None:
    from hotcore import __version__

    assert hotcore("--version", cwd=tmp_path).stdout == f"hotcore {__version__}\n"
    helps = {
        "": hotcore("--help", cwd=tmp_path).stdout,
        "demo": hotcore("demo", "--help", cwd=tmp_path).stdout,
        "schema": hotcore("schema", "--help", cwd=tmp_path).stdout,
        "bench": hotcore("bench", "--help", cwd=tmp_path).stdout,
        "bench fold": hotcore("bench", "fold", "--help", cwd=tmp_path).stdout,
        "build-layer": hotcore("build-layer", "--help", cwd=ROOT).stdout,
    }
    for command, text in helps.items():
        assert text.startswith(f"usage: hotcore {command}".rstrip()), (command, text[:80])
        assert "``" not in text, command
    assert "(default: schemas)" in helps["schema"]
    assert "(default: 10000)" in helps["bench fold"]
    assert "(default: account)" in helps["bench fold"]


def test_the_demo_refuses_an_older_event_store_naming_the_file_and_what_to_do(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    conn.executescript(
        "CREATE TABLE events (x); CREATE TABLE outbox (x); CREATE TABLE commands (x);"
    )
    conn.close()
    before = old.read_bytes()
    assert main(["demo", "--db", str(old)]) == 1
    err = capfd.readouterr().err
    assert err.startswith(f"hotcore: error: --db {old}: an event store of an older hotcore")
    assert "use another file (--db PATH or HOTCORE_DB)" in err
    assert "Traceback" not in err
    assert old.read_bytes() == before
