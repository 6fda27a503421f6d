"""The example front-end server runs against ``hotcore serve`` as the README says."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from hotcore_dev.checkout import find_checkout

EXAMPLE = find_checkout() / "examples" / "frontend_server.py"
#: Bounds on the child processes (seconds): a hang fails the test, it never blocks it.
START_BOUND = 60.0
RUN_BOUND = 120.0


def start_serve(tmp_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``hotcore serve`` on a free port, and the URL it printed."""
    log = tmp_path / "serve.log"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hotcore_dev.cli",
            "serve",
            "--port",
            "0",
            "--db",
            str(tmp_path / "serve.db"),
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + START_BOUND
    while time.monotonic() < deadline and server.poll() is None:
        found = re.search(r"GraphQL on (http://127\.0\.0\.1:\d+/graphql)", log.read_text())
        if found:
            return server, found.group(1)
        time.sleep(0.1)
    server.kill()
    raise AssertionError(f"hotcore serve did not start:\n{log.read_text()}")


def test_the_example_sees_its_commands_events_arrive(tmp_path: Path) -> None:
    server, url = start_serve(tmp_path)
    try:
        run = subprocess.run(
            [sys.executable, str(EXAMPLE), "--url", url, "--run", "t"],
            capture_output=True,
            text=True,
            timeout=RUN_BOUND,
            # the local pair the example defaults to, not the developer's own keys
            env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        )
    finally:
        server.send_signal(signal.SIGTERM)
        stopped = server.wait(timeout=START_BOUND)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert "  <- cust-t v1 AccountOpened(owner_id=cust-t)" in lines
    # the order is followed once placed: its confirmation arrives, or the read shows it
    assert any(
        re.match(r"  <- ord-t v\d OrderConfirmed\(\)|  == ord-t v\d CONFIRMED \(read\)", line)
        for line in lines
    ), lines
    assert lines[-1].startswith("order ord-t: CONFIRMED")
    assert stopped == 0
