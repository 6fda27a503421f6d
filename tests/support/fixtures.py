"""Pytest fixtures for tests that talk to AWS over real HTTP.

Use them from a conftest with ``pytest_plugins = ["tests.support.fixtures"]``, or
import the ``*_fixture`` functions into a test module (the fixture names have no
suffix, so the import does not clash with the test's parameter names)::

    from tests.support.fixtures import moto_server_fixture  # noqa: F401

    def test_something(moto_server: MotoServer) -> None: ...

``moto_server`` (session): moto under gunicorn on 127.0.0.1, started once, stopped at
the end of the session. Its state is shared: give each test its own table
(``unique_name``) rather than resetting, which keeps the suite fast and allows
parallel tests. ``fault_proxy`` is an HTTP fault double with no upstream;
``moto_fault_proxy`` one in front of the moto server.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from hotcore_dev.emulator import MotoServer, shared_moto_server
from tests.support.fault_proxy import FaultProxy

__all__ = [
    "fault_proxy_fixture",
    "moto_fault_proxy_fixture",
    "moto_server_fixture",
    "unique_name_fixture",
]

_names = itertools.count(1)


@pytest.fixture(scope="session", name="moto_server")
def moto_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """The session's moto server (started on first use, stopped at the end of the session).

    One process-wide server even when several test modules import this fixture
    (each import registers its own session fixture).
    """
    server = shared_moto_server(tmp_path_factory.getbasetemp())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(name="unique_name")
def unique_name_fixture(request: pytest.FixtureRequest) -> str:
    """A table/bus/queue name no other test of the session uses (moto's state is shared)."""
    base = "".join(ch if ch.isalnum() else "-" for ch in request.node.name)[:80]
    return f"{base}-{next(_names)}"


@pytest.fixture(name="fault_proxy")
def fault_proxy_fixture() -> Iterator[FaultProxy]:
    """An HTTP fault double that answers ``200 {}`` unless scripted otherwise."""
    with FaultProxy() as proxy:
        yield proxy


@pytest.fixture(name="moto_fault_proxy")
def moto_fault_proxy_fixture(moto_server: MotoServer) -> Iterator[FaultProxy]:
    """An HTTP fault double forwarding to the moto server unless scripted otherwise."""
    with FaultProxy(upstream=moto_server.endpoint) as proxy:
        yield proxy
