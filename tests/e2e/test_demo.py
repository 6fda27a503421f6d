"""The demo end to end: it tells the story, checks invariants, and continues on a kept file."""

from __future__ import annotations

import io
import re
from pathlib import Path

from hotcore.contracts.account import AccountEvent, AccountState, Withdrawn
from hotcore.contracts.common import Envelope
from hotcore.store.memory import MemoryDatabase
from hotcore_dev.cli import main
from hotcore_dev.demo import check_invariants, run_demo
from hotcore_dev.local import LocalApp
from tests.support.store_contract import T0


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
    # mutations through the command function with ID tokens, as on Lambda
    assert "bob-1 withdraws EUR 1.00 from ann-1's account  -> forbidden (account-owner)" in text
    assert "-> forbidden (internal-command)" in text
    assert "an expired token for ann-1  -> unauthenticated (expired)" in text
    assert "Invariants hold" in text


def test_money_is_shown_with_its_unit_and_only_successes_get_a_check_mark(
    tmp_path: Path,
) -> None:
    out = io.StringIO()
    assert run_demo(tmp_path / "demo.db", out) == 0
    text = out.getvalue()
    assert "deposit EUR 50.00 into ann-1" in text
    assert "amount=EUR 50.00" in text  # the timeline: 5000 minor units
    assert "amount=5000" not in text
    orders = [line for line in text.splitlines() if "place o-1-" in line]
    assert [line.split()[0] for line in orders] == ["✓", "✗", "✗", "✗"]
    assert sum("placed, then compensated" in line for line in orders) == 3


def test_a_second_run_on_the_same_file_continues_the_story(tmp_path: Path) -> None:
    db = tmp_path / "kept.db"
    first, second = io.StringIO(), io.StringIO()
    assert run_demo(db, first) == 0
    assert run_demo(db, second) == 0
    assert "run 1:" in first.getvalue()
    text = second.getvalue()
    assert "run 2:" in text
    # run 2 goes on with run 1's streams: loaded from a snapshot and the events after it
    assert re.search(r"account ann-1: v\d+: the snapshot at v\d+ \+ \d+ stored event", text)
    assert "deposit EUR 10.00 into ann-1" in text
    assert "add 5 widget-1" in text
    counts = [int(m) for m in re.findall(r"\((\d+) events in all\)", first.getvalue() + text)]
    assert counts[1] == 2 * counts[0] + 2  # run 2's own story and two events on run 1's


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
    store.append("a", 0, [overdraft], command_id="bad", fingerprint="0" * 32)  # no decide
    problems = check_invariants(app, [])
    assert "account/a: overdrawn (-5)" in problems
    assert any("never published" in p for p in problems)
