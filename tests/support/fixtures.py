"""Pytest fixtures for tests that talk to AWS over real HTTP; import them in a conftest.

    from tests.support.fixtures import moto_server, fault_proxy, moto_fault_proxy  # noqa: F401

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

from tests.support.fault_proxy import FaultProxy
from tests.support.moto_server import MotoServer, start_moto_server

__all__ = ["fault_proxy", "moto_fault_proxy", "moto_server", "unique_name"]

_names = itertools.count(1)


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """The session's moto server (started on first use)."""
    server = start_moto_server(tmp_path_factory.mktemp("moto"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """A table/bus/queue name no other test of the session uses (moto's state is shared)."""
    base = "".join(ch if ch.isalnum() else "-" for ch in request.node.name)[:80]
    return f"{base}-{next(_names)}"


@pytest.fixture
def fault_proxy() -> Iterator[FaultProxy]:
    """An HTTP fault double that answers ``200 {}`` unless scripted otherwise."""
    with FaultProxy() as proxy:
        yield proxy


@pytest.fixture
def moto_fault_proxy(moto_server: MotoServer) -> Iterator[FaultProxy]:
    """An HTTP fault double forwarding to the moto server unless scripted otherwise."""
    with FaultProxy(upstream=moto_server.endpoint) as proxy:
        yield proxy
