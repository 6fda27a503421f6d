"""The WSGI application gunicorn serves for the tests: moto's whole AWS emulator in one app.

Loaded by ``gunicorn moto_wsgi:app`` (see ``moto_server.py``), never imported by tests.

moto's in-memory backends are not safe under concurrent requests: two conditional
writes handled at once can both pass their conditions, which real DynamoDB never
allows. One lock around each request gives the emulator DynamoDB's atomicity, while
gunicorn's threads still hold many keep-alive connections open at once.
"""

import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

_moto = DomainDispatcherApplication(create_backend_app)
_one_at_a_time = threading.Lock()


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    with _one_at_a_time:
        # materialize the body inside the lock: moto builds it while handling the request
        return list(_moto(environ, start_response))
