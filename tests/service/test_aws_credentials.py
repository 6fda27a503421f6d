"""Credentials from the environment and from a container credentials endpoint served on 127.0.0.1.

The endpoint is a real local HTTP server speaking the container-credentials
protocol (what Lambda SnapStart and ECS provide); the clock is injected so expiry
is tested without waiting.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from hotcore.aws.config import ConfigurationError, resolve_endpoint, resolve_region
from hotcore.aws.credentials import CredentialsProvider
from hotcore.aws.errors import CredentialsUnavailable


class CredentialsEndpoint:
    """Serves credentials numbered by request, expiring at ``expires_at`` (epoch seconds)."""

    def __init__(self) -> None:
        self.expires_at = 10_000.0
        self.hits = 0
        self.fail_with: int | None = None
        self.authorizations: list[str | None] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                endpoint.hits += 1
                endpoint.authorizations.append(self.headers.get("Authorization"))
                if endpoint.fail_with is not None:
                    self.send_response(endpoint.fail_with)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps(
                    {
                        "AccessKeyId": f"ASIA{endpoint.hits}",
                        "SecretAccessKey": "secret",
                        "Token": f"token-{endpoint.hits}",
                        "Expiration": datetime.fromtimestamp(endpoint.expires_at, UTC).isoformat(),
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/2021-04-23/credentials"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[CredentialsEndpoint]:
    server = CredentialsEndpoint()
    yield server
    server.close()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def container_env(endpoint: CredentialsEndpoint) -> dict[str, str]:
    return {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.url,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "auth-token",
    }


def test_environment_credentials_come_first(endpoint: CredentialsEndpoint) -> None:
    env = {
        **container_env(endpoint),
        "AWS_ACCESS_KEY_ID": "AKID",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_SESSION_TOKEN": "session",
    }
    credentials = CredentialsProvider(env).get()
    assert (credentials.access_key, credentials.secret_key, credentials.token) == (
        "AKID",
        "secret",
        "session",
    )
    assert endpoint.hits == 0


def test_container_credentials_are_fetched_with_the_token_and_cached(
    endpoint: CredentialsEndpoint,
) -> None:
    provider = CredentialsProvider(container_env(endpoint), clock=Clock(1_000.0))
    first = provider.get()
    assert (first.access_key, first.token) == ("ASIA1", "token-1")
    assert provider.get() is first
    assert endpoint.hits == 1
    assert endpoint.authorizations == ["auth-token"]


def test_the_token_may_come_from_a_file(endpoint: CredentialsEndpoint, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    env = {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.url,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file),
    }
    CredentialsProvider(env).get()
    assert endpoint.authorizations == ["from-file"]


def test_credentials_are_refreshed_before_they_expire(endpoint: CredentialsEndpoint) -> None:
    clock = Clock(1_000.0)
    provider = CredentialsProvider(container_env(endpoint), clock=clock)
    assert provider.get().access_key == "ASIA1"
    clock.now = endpoint.expires_at - 20 * 60  # still well before the refresh window
    assert provider.get().access_key == "ASIA1"
    clock.now = endpoint.expires_at - 10 * 60  # inside it: refreshed before expiry
    endpoint.expires_at += 3600
    assert provider.get().access_key == "ASIA2"
    assert endpoint.hits == 2


def test_a_failed_refresh_keeps_credentials_that_are_still_valid(
    endpoint: CredentialsEndpoint,
) -> None:
    clock = Clock(1_000.0)
    provider = CredentialsProvider(container_env(endpoint), clock=clock)
    provider.get()
    endpoint.fail_with = 500
    clock.now = endpoint.expires_at - 10 * 60
    assert provider.get().access_key == "ASIA1"
    clock.now = endpoint.expires_at - 60  # too close to expiry to keep using
    with pytest.raises(CredentialsUnavailable, match="failed 3 times"):
        provider.get()


def test_invalidate_drops_the_cache(endpoint: CredentialsEndpoint) -> None:
    provider = CredentialsProvider(container_env(endpoint), clock=Clock(1_000.0))
    provider.get()
    provider.invalidate()  # e.g. after a SnapStart restore
    assert provider.get().access_key == "ASIA2"


def test_concurrent_callers_share_one_fetch(endpoint: CredentialsEndpoint) -> None:
    provider = CredentialsProvider(container_env(endpoint), clock=Clock(1_000.0))
    barrier = threading.Barrier(8)
    seen: list[str] = []

    def get() -> None:
        barrier.wait()
        seen.append(provider.get().access_key)

    threads = [threading.Thread(target=get) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == ["ASIA1"] * 8
    assert endpoint.hits == 1


def test_a_refused_token_is_a_clear_error(endpoint: CredentialsEndpoint) -> None:
    endpoint.fail_with = 401
    with pytest.raises(CredentialsUnavailable, match="answered 401"):
        CredentialsProvider(container_env(endpoint)).get()
    assert endpoint.hits == 1


def test_the_token_is_not_sent_to_a_remote_http_host() -> None:
    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://203.0.113.9/creds"}
    with pytest.raises(CredentialsUnavailable, match="refusing"):
        CredentialsProvider(env).get()


def test_no_credentials_at_all_is_a_clear_error() -> None:
    with pytest.raises(CredentialsUnavailable, match="AWS_ACCESS_KEY_ID"):
        CredentialsProvider({}).get()


# ---------------------------------------------------------------- region and endpoints


def test_endpoint_resolution_order(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_EVENTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_EVENTBRIDGE", raising=False)
    monkeypatch.delenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", raising=False)
    assert resolve_endpoint("dynamodb", "eu-west-1") == "https://dynamodb.eu-west-1.amazonaws.com"
    assert resolve_endpoint("events", "cn-north-1") == "https://events.cn-north-1.amazonaws.com.cn"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1000")
    assert resolve_endpoint("dynamodb", "eu-west-1") == "http://127.0.0.1:1000"
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2000/")
    monkeypatch.setenv("AWS_ENDPOINT_URL_EVENTS", "http://127.0.0.1:3000")
    assert resolve_endpoint("dynamodb", "eu-west-1") == "http://127.0.0.1:2000"
    assert resolve_endpoint("events", "eu-west-1") == "http://127.0.0.1:3000"
    monkeypatch.setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", "http://127.0.0.1:4000")
    assert resolve_endpoint("events", "eu-west-1") == "http://127.0.0.1:4000"
    assert resolve_endpoint("dynamodb", "eu-west-1", "http://localhost:9") == "http://localhost:9"
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    assert resolve_endpoint("dynamodb", "eu-west-1") == "https://dynamodb.eu-west-1.amazonaws.com"


def test_an_endpoint_with_a_path_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="without a path"):
        resolve_endpoint("dynamodb", "eu-west-1", "http://127.0.0.1:1/prefix")


def test_region_comes_from_the_argument_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(ConfigurationError, match="AWS_REGION"):
        resolve_region()
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    assert resolve_region() == "eu-central-1"
    monkeypatch.setenv("AWS_REGION", "eu-north-1")
    assert resolve_region() == "eu-north-1"
    assert resolve_region("ap-south-1") == "ap-south-1"
