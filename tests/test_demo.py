"""The demo end to end: it tells the story, checks invariants, and continues on a kept file."""

from __future__ import annotations

import io
import re
from pathlib import Path

from hotcore.cli import main
from hotcore.contracts.account import AccountEvent, AccountState, Withdrawn
from hotcore.contracts.common import Envelope
from hotcore.demo import check_invariants, run_demo
from hotcore.runtime.local import LocalApp
from hotcore.store.memory import MemoryDatabase
from tests.store_contract import T0


def test_the_demo_runs_and_its_invariants_hold(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_demo(tmp_path / "demo.db", out) == 0
    text = out.getvalue()
    assert "customer-email-taken" in text
    assert "saga SUCCEEDED" in text
    assert text.count("(PlaceOrder.Compensated)") == 3
    assert "ConfirmOrder (4 retries)" in text
    assert "5 reservations accepted, 3 rejected" in text
    assert "ReservationCommitted" in text  # shipping reached Inventory's event handler
    assert "Invariants hold" in text


def test_a_second_run_on_the_same_file_continues_the_story(tmp_path: Path) -> None:
    db = tmp_path / "kept.db"
    first, second = io.StringIO(), io.StringIO()
    assert run_demo(db, first) == 0
    assert run_demo(db, second) == 0
    assert "run 1:" in first.getvalue()
    assert "run 2:" in second.getvalue()
    counts = [
        int(m) for m in re.findall(r"\((\d+) events in all\)", first.getvalue() + second.getvalue())
    ]
    assert counts[1] == 2 * counts[0]


def test_the_cli_runs_the_demo(tmp_path: Path, capsys: object) -> None:
    assert main(["demo", "--db", str(tmp_path / "cli.db")]) == 0


def test_the_invariant_check_catches_a_broken_stream() -> None:
    app = LocalApp(MemoryDatabase())
    store = app.database.store("account", AccountEvent, AccountState)
    overdraft = Envelope(
        stream_id="a",
        version=1,
        type="Withdrawn",
        data=Withdrawn(amount=5),
        command_id="bad",
        correlation_id="bad",
        timestamp=T0,
        actor="a-bug",
    )
    store.append("a", 0, [overdraft], command_id="bad")  # bypasses decide on purpose
    problems = check_invariants(app, [])
    assert "account/a: overdrawn (-5)" in problems
    assert any("never published" in p for p in problems)
