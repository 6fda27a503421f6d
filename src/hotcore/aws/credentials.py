"""Where the signing keys come from: the environment, or the container credentials endpoint.

``CredentialsProvider.get()`` returns current ``Credentials``, in this order:

1. ``AWS_ACCESS_KEY_ID`` + ``AWS_SECRET_ACCESS_KEY`` (+ ``AWS_SESSION_TOKEN``), what
   ordinary Lambda functions get;
2. the container credentials endpoint, ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` (or
   ``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI``) with ``AWS_CONTAINER_AUTHORIZATION_TOKEN``
   (or ``..._TOKEN_FILE``), what Lambda SnapStart functions and ECS tasks get.

Fetched credentials are cached and refreshed ahead of their expiry (15 minutes ahead,
or 5 if a refresh fails while the old ones are still good); one thread fetches while
the others wait. ``invalidate()`` drops the cache: call it after a SnapStart restore,
whose snapshot may hold credentials that have since expired.
"""

from __future__ import annotations

import _thread
import os
import time
from collections.abc import Callable, Mapping
from datetime import datetime

import msgspec

from hotcore.aws.connection import Connection, split_url
from hotcore.aws.errors import CredentialsUnavailable
from hotcore.aws.sigv4 import Credentials

__all__ = ["CredentialsProvider", "default_provider"]

#: Refresh this long before expiry...
_REFRESH_AHEAD = 15 * 60.0
#: ...and never use credentials closer than this to expiry if a refresh failed.
_MANDATORY_AHEAD = 5 * 60.0
#: Hosts that may receive the authorization token over plain http (loopback, ECS, EKS).
_ALLOWED_HTTP_HOSTS = frozenset(
    {"localhost", "127.0.0.1", "::1", "169.254.170.2", "169.254.170.23", "fd00:ec2::23"}
)
_ECS_HOST = "http://169.254.170.2"


class _ContainerCredentials(msgspec.Struct):
    AccessKeyId: str
    SecretAccessKey: str
    Token: str | None = None
    Expiration: datetime | None = None


#: Built on the first fetch: a function with credentials in its environment (every one but
#: SnapStart's) never reads the container endpoint, so its init does not build this.
_container_decoder: msgspec.json.Decoder[_ContainerCredentials] | None = None


def _decode_container(body: bytes) -> _ContainerCredentials:
    global _container_decoder
    if _container_decoder is None:
        _container_decoder = msgspec.json.Decoder(_ContainerCredentials)
    return _container_decoder.decode(body)


class CredentialsProvider:
    """Thread-safe, caching source of credentials (see the module docstring for the order)."""

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], float] = time.time,
        timeout: float = 2.0,
    ) -> None:
        self._environ = os.environ if environ is None else environ
        self._clock = clock
        self._timeout = timeout
        self._lock = _thread.allocate_lock()
        self._credentials: Credentials | None = None
        self._expires_at: float | None = None  # None: static credentials, never refreshed
        #: How many times the container endpoint was asked (for tests and metrics).
        self.fetches = 0

    def get(self) -> Credentials:
        """Current credentials, fetching or refreshing them if needed."""
        credentials, expires_at = self._credentials, self._expires_at
        if credentials is not None and (
            expires_at is None or self._clock() < expires_at - _REFRESH_AHEAD
        ):
            return credentials
        with self._lock:
            # Another thread may have refreshed while this one waited for the lock.
            credentials, expires_at = self._credentials, self._expires_at
            now = self._clock()
            if credentials is not None and (
                expires_at is None or now < expires_at - _REFRESH_AHEAD
            ):
                return credentials
            try:
                self._credentials, self._expires_at = self._load()
            except CredentialsUnavailable:
                # A failed refresh keeps credentials that are still safely valid.
                if (
                    credentials is not None
                    and expires_at is not None
                    and now < expires_at - _MANDATORY_AHEAD
                ):
                    return credentials
                raise
            return self._credentials

    def invalidate(self) -> None:
        """Forget cached credentials; the next ``get()`` loads them again (SnapStart restore)."""
        with self._lock:
            self._credentials = None
            self._expires_at = None

    def _load(self) -> tuple[Credentials, float | None]:
        env = self._environ
        access_key = env.get("AWS_ACCESS_KEY_ID")
        secret_key = env.get("AWS_SECRET_ACCESS_KEY")
        if access_key and secret_key:
            return Credentials(access_key, secret_key, env.get("AWS_SESSION_TOKEN") or None), None
        full_uri = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        relative_uri = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        if relative_uri:
            return self._fetch(_ECS_HOST + relative_uri)
        if full_uri:
            return self._fetch(full_uri)
        raise CredentialsUnavailable(
            "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run "
            "where AWS_CONTAINER_CREDENTIALS_FULL_URI is set (Lambda, ECS)"
        )

    def _authorization(self) -> str | None:
        token_file = self._environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
        if token_file:
            try:
                with open(token_file, encoding="utf-8") as handle:
                    return handle.read().strip()
            except OSError as error:
                raise CredentialsUnavailable(
                    f"cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {token_file!r}: {error}"
                ) from error
        return self._environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")

    def _fetch(self, uri: str) -> tuple[Credentials, float | None]:
        try:
            scheme, host, port, path, query = split_url(uri)
        except ValueError as bad:
            raise CredentialsUnavailable(f"bad container credentials URI {uri!r}") from bad
        if scheme == "http":
            if host not in _ALLOWED_HTTP_HOSTS:
                raise CredentialsUnavailable(
                    f"refusing to send the container authorization token to {host!r} over "
                    "http: only loopback and the ECS/EKS addresses are allowed"
                )
        elif scheme != "https":
            raise CredentialsUnavailable(f"unsupported container credentials URI {uri!r}")
        bracketed = f"[{host}]" if ":" in host else host
        base = f"{scheme}://{bracketed}" + ("" if port is None else f":{port}")
        connection = Connection(base, connect_timeout=self._timeout, read_timeout=self._timeout)
        headers = {"Accept": "application/json"}
        authorization = self._authorization()
        if authorization:
            headers["Authorization"] = authorization
        target = (path or "/") + (f"?{query}" if query else "")
        last: BaseException | None = None
        try:
            # A few quick attempts: the endpoint is local and normally answers at once.
            for attempt in range(3):
                if attempt:
                    time.sleep(0.05 * attempt)
                self.fetches += 1
                try:
                    response = connection.send("GET", target, headers)
                except OSError as failure:
                    last = failure
                    continue
                if response.status >= 500:
                    last = CredentialsUnavailable(
                        f"container credentials endpoint answered {response.status}"
                    )
                    continue
                return self._credentials_from(response.status, response.body)
        finally:
            connection.close()
        raise CredentialsUnavailable(
            f"container credentials endpoint {host!r} failed 3 times: {last}"
        )

    @staticmethod
    def _credentials_from(status: int, body: bytes) -> tuple[Credentials, float | None]:
        if status != 200:
            raise CredentialsUnavailable(
                f"container credentials endpoint answered {status}: "
                f"{body[:200].decode(errors='replace')}"
            )
        try:
            fetched = _decode_container(body)
        except msgspec.DecodeError as failure:
            raise CredentialsUnavailable(
                f"container credentials endpoint sent an unexpected body: {failure}"
            ) from failure
        expires_at = fetched.Expiration.timestamp() if fetched.Expiration else None
        return Credentials(fetched.AccessKeyId, fetched.SecretAccessKey, fetched.Token), expires_at


_default: CredentialsProvider | None = None
_default_lock = _thread.allocate_lock()


def default_provider() -> CredentialsProvider:
    """The process-wide provider over ``os.environ``, shared by all clients."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = CredentialsProvider()
    return _default
