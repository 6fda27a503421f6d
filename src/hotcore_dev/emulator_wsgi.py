"""The WSGI application gunicorn serves for the tests: moto's whole AWS emulator in one app.

Loaded by ``gunicorn hotcore_dev.emulator_wsgi:app`` (see ``emulator.py``), never imported
by tests.

moto's in-memory backends are not safe under concurrent requests: two conditional
writes handled at once can both pass their conditions, which real DynamoDB never
allows. One lock around each request gives the emulator DynamoDB's atomicity, while
gunicorn's threads still hold many keep-alive connections open at once.

Every DynamoDB request is metered as DynamoDB bills it (``hotcore_dev.capacity``):
``GET /_hotcore/capacity`` answers the records so far as a JSON list (in the order the
requests were served; ``?since=N``: those after the first N), ``POST
/_hotcore/capacity/reset`` forgets them.
``MotoServer.capacity()`` reads them.
"""

import io
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from hotcore_dev.capacity import consumed

_moto = DomainDispatcherApplication(create_backend_app)
_one_at_a_time = threading.Lock()
_DYNAMODB = "DynamoDB_20120810."
CAPACITY_PATH = "/_hotcore/capacity"
_records: list[dict[str, Any]] = []


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("PATH_INFO", "").startswith(CAPACITY_PATH):
        return _capacity(environ, start_response)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if not target.startswith(_DYNAMODB):
        with _one_at_a_time:
            # materialize the body inside the lock: moto builds it while handling the request
            return list(_moto(environ, start_response))
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    status: list[int] = []

    def keep_status(line: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
        status.append(int(line.split()[0]))
        return start_response(line, headers, *exc_info)

    with _one_at_a_time:
        chunks = list(_moto(environ, keep_status))
        _meter(target.removeprefix(_DYNAMODB), body, status[0] if status else 0, b"".join(chunks))
    return chunks


def _meter(operation: str, body: bytes, status: int, answer: bytes) -> None:
    try:
        request = json.loads(body or b"{}")
        response = json.loads(answer or b"{}")
    except ValueError:
        return
    if not isinstance(request, dict) or not isinstance(response, dict):
        return
    record = consumed(operation, request, status, response)
    if record is not None:
        _records.append(msgspec.to_builtins(record))


def _capacity(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    since = 0
    for pair in environ.get("QUERY_STRING", "").split("&"):
        name, _, value = pair.partition("=")
        if name == "since" and value.isdigit():
            since = int(value)
    with _one_at_a_time:
        if environ.get("REQUEST_METHOD") == "POST":
            _records.clear()
        answer = json.dumps(_records[since:]).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))]
    )
    return [answer]
