"""A real AWS emulator for tests and benchmarks: moto's WSGI app under gunicorn on 127.0.0.1.

moto's own ``moto_server`` closes the connection after every response, which
would hide keep-alive bugs; gunicorn with ONE gthread worker keeps connections
open and keeps all emulated state in one process (EventBridge rules delivering to
SQS, DynamoDB Streams). moto does not verify signatures but routes by the
Authorization header, so clients must sign (``hotcore.aws`` always does).

``start_moto_server()`` picks a free port, starts gunicorn, waits until moto
answers and returns a ``MotoServer``; ``stop()`` ends the process it started.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from hotcore.aws.dynamodb import DynamoDB
from hotcore.aws.sigv4 import Credentials
from hotcore_dev.capacity import Consumed

__all__ = [
    "TEST_CREDENTIALS",
    "TEST_REGION",
    "MotoServer",
    "create_table",
    "shared_moto_server",
    "start_moto_server",
]

TEST_REGION = "us-east-1"
#: moto accepts any key; these are obviously not real.
TEST_CREDENTIALS = Credentials("AKIDTESTING", "testing-secret")
_HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MotoServer:
    """A running moto server: ``endpoint`` is ``http://127.0.0.1:<port>``."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        self.log_path = log_path

    def _request(self, method: str, path: str) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request(method, path)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def reset(self) -> None:
        """Forget every emulated resource (tables, buses, queues)."""
        status, body = self._request("POST", "/moto-api/reset")
        if status != 200:
            raise RuntimeError(f"moto reset failed: {status} {body[:200]!r}")

    def capacity(self, tables: Sequence[str] | None = None, since: int = 0) -> list[Consumed]:
        """The request units of every DynamoDB request served so far, in order.

        With ``tables``, only the requests that touched one of them (each test has its own);
        with ``since``, only those served after the first ``since`` (before filtering).
        """
        status, body = self._request("GET", f"/_hotcore/capacity?since={since}")
        if status != 200:
            raise RuntimeError(f"moto capacity failed: {status} {body[:200]!r}")
        records = msgspec.json.decode(body, type=list[Consumed])
        if tables is None:
            return records
        wanted = set(tables)
        return [r for r in records if wanted.intersection(r.tables)]

    def dynamodb(self, **options: Any) -> DynamoDB:
        """A ``hotcore.aws`` DynamoDB client pointed at this server."""
        return DynamoDB(
            endpoint_url=self.endpoint, region=TEST_REGION, credentials=TEST_CREDENTIALS, **options
        )

    def stop(self) -> None:
        """Stop gunicorn (its master ends its worker), killing it if it does not stop in time."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def log(self) -> str:
        """gunicorn's output so far, for failure messages."""
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""


def start_moto_server(log_dir: Path, *, startup_timeout: float = 90.0) -> MotoServer:
    """Start moto under gunicorn on a free 127.0.0.1 port and wait until it answers."""
    last_error = ""
    for _ in range(3):  # another process may grab the free port between probe and bind
        port = _free_port()
        log_path = log_dir / f"moto-{port}.log"
        env = dict(os.environ)
        env.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
        env["MOTO_PORT"] = str(port)
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--chdir",
                    str(_HERE),
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "1",
                    "--worker-class",
                    "gthread",
                    "--threads",
                    "8",
                    # Longer than any pause in a test, so a reused connection is a kept one.
                    "--keep-alive",
                    "120",
                    "--timeout",
                    "120",
                    "--graceful-timeout",
                    "5",
                    "--log-level",
                    "warning",
                    "hotcore_dev.emulator_wsgi:app",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        server = MotoServer(process, port, log_path)
        deadline = time.monotonic() + startup_timeout
        while time.monotonic() < deadline and process.poll() is None:
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, _ = server._request("GET", "/moto-api/data.json")
                if status == 200:
                    return server
            time.sleep(0.2)
        last_error = server.log()
        server.stop()
    raise RuntimeError(f"moto server did not start:\n{last_error}")


_shared: MotoServer | None = None
_shared_lock = threading.Lock()


def shared_moto_server(log_dir: Path) -> MotoServer:
    """The one moto server of this process: started on first call, stopped at exit at the latest."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.process.poll() is not None:
            _shared = start_moto_server(log_dir)
            atexit.register(_shared.stop)
        return _shared


def create_table(
    client: DynamoDB,
    name: str,
    *,
    hash_key: str,
    range_key: str | None = None,
    range_type: str = "N",
    stream: bool = False,
) -> None:
    """Create an on-demand table (``hash_key`` of type S, optional ``range_key``)."""
    attributes = [{"AttributeName": hash_key, "AttributeType": "S"}]
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key is not None:
        attributes.append({"AttributeName": range_key, "AttributeType": range_type})
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": attributes,
        "KeySchema": schema,
        "BillingMode": "PAY_PER_REQUEST",
    }
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    client.call("CreateTable", request)
