"""Who sent an AppSync request: the front-end server (IAM) and the end user it acts for.

AppSync authenticated the server (SigV4, IAM authorization, field-level permissions) and
hands its identity to the resolver; the end user's ID token rides in the request header
``x-hotcore-id-token``, which the resolver forwards (and only that header). Here both
become the ``Principal`` the domain policies judge:

- ``caller`` is the server's IAM role name (from ``userArn``);
- ``subject`` and ``groups`` come from the token, once ``TokenVerifier`` (imported on the
  first token, not at init) checked signature, issuer, audience and expiry;
- no token: a principal with the caller alone, which public commands about a customer
  refuse (``forbidden``), since no user is known.

The token settings are read at init (``HOTCORE_TOKEN_ISSUER``, ``HOTCORE_TOKEN_AUDIENCE``,
and ``HOTCORE_JWKS``, the key set pinned at deploy time, or ``HOTCORE_JWKS_URL`` fetched
on the first token); without an issuer, a request carrying a token is refused, never
trusted unverified.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from hotcore.domain.principal import MAX_NAME, Principal
from hotcore.entrypoints.settings import TokenSettings

if TYPE_CHECKING:
    from hotcore.entrypoints.tokens import TokenVerifier

#: The request header carrying the end user's ID token (AppSync lower-cases header names).
TOKEN_HEADER = "x-hotcore-id-token"
#: The subscription argument carrying it: a subscription starts over the real-time
#: WebSocket, whose handshake carries the server's signature only.
TOKEN_ARGUMENT = "idToken"
#: Where groups are found in the token: Cognito's claim, then the generic one.
GROUP_CLAIMS = ("cognito:groups", "groups")
#: Groups read from a token, at most (more are ignored, not an error).
MAX_GROUPS = 32
#: The rule of the rejection a request with an unusable token gets.
UNAUTHENTICATED = "unauthenticated"


class Unauthenticated(Exception):
    """The request's end-user token was refused; ``reason`` says why in one word."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


def caller_of(identity: Mapping[str, Any] | None) -> str:
    """The calling server's IAM role name (``assumed-role/<name>/...``), else its ARN."""
    if not identity:
        return ""
    arn = identity.get("userArn")
    if not isinstance(arn, str) or not arn:
        return ""
    resource = arn.rpartition(":")[2]  # assumed-role/Storefront/session, user/name, role/x
    kind, _, rest = resource.partition("/")
    name = rest.partition("/")[0] if kind == "assumed-role" else rest
    return (name or resource)[:MAX_NAME]


def header(request: Mapping[str, Any] | None, name: str) -> str | None:
    """A request header's value, or None (AppSync passes ``request.headers``)."""
    if not request:
        return None
    headers = request.get("headers")
    if not isinstance(headers, Mapping):
        return None
    value = headers.get(name)
    return value if isinstance(value, str) and value else None


class Identity:
    """Builds the principal of each AppSync request; built at init, no network, no crypto."""

    def __init__(
        self, settings: TokenSettings | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        # no settings: no issuer, so a request carrying a token is refused
        self.settings = settings if settings is not None else TokenSettings()
        self._clock = clock
        self._verifier: TokenVerifier | None = None

    def principal_of(
        self,
        identity: Mapping[str, Any] | None,
        request: Mapping[str, Any] | None,
        token: str | None = None,
    ) -> Principal:
        """The principal of a request; its token is ``token`` (a subscription's argument)
        or else the request's ``x-hotcore-id-token`` header."""
        caller = caller_of(identity)
        token = token or header(request, TOKEN_HEADER)
        if token is None:
            return Principal(caller=caller)
        claims = self.verify(token)
        return Principal(subject=claims["sub"], groups=_groups(claims), caller=caller)

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid token, or ``Unauthenticated``."""
        from hotcore.entrypoints.tokens import TokenRefused

        try:
            return self.verifier().verify(token)
        except TokenRefused as refused:
            raise Unauthenticated(refused.reason, refused.message) from None

    def verifier(self) -> TokenVerifier:
        if self._verifier is None:
            from hotcore.entrypoints.tokens import TokenRefused, TokenVerifier

            settings = self.settings
            if not settings.issuer or not settings.audience:
                raise TokenRefused("not-configured", "this deployment verifies no end-user tokens")
            self._verifier = TokenVerifier(
                issuer=settings.issuer,
                audience=settings.audience,
                keys=_key_source(settings),
                clock=self._clock,
            )
        return self._verifier


def _key_source(settings: TokenSettings) -> Callable[[], bytes | str]:
    pinned = settings.jwks
    if pinned is not None:
        return lambda: pinned
    url = settings.jwks_url
    assert url is not None  # TokenSettings.from_env requires one of them
    return lambda: fetch_jwks(url)


def fetch_jwks(url: str) -> bytes:
    """GET the issuer's JWKS with hotcore's own HTTP client (TLS: ``HOTCORE_CA_BUNDLE``)."""
    from hotcore.aws.connection import Connection, split_url

    scheme, host, port, path, query = split_url(url)
    endpoint = f"{scheme}://{host}" + (f":{port}" if port else "")
    connection = Connection(endpoint, read_timeout=5.0)
    try:
        response = connection.send(
            "GET", (path or "/") + (f"?{query}" if query else ""), {"Accept": "application/json"}
        )
    finally:
        connection.close()
    if response.status != 200:
        from hotcore.entrypoints.tokens import TokenRefused

        raise TokenRefused("keys-unavailable", f"the JWKS answered HTTP {response.status}")
    return response.body


def _groups(claims: Mapping[str, Any]) -> frozenset[str]:
    for claim in GROUP_CLAIMS:
        value = claims.get(claim)
        if isinstance(value, list):
            return frozenset(g[:MAX_NAME] for g in value[:MAX_GROUPS] if isinstance(g, str))
    return frozenset()


def unauthenticated(error: Unauthenticated) -> dict[str, Any]:
    """The resolver's answer to a refused token: a typed error, nothing was touched."""
    return {
        "outcome": "rejected",
        "rule": UNAUTHENTICATED,
        "message": f"the end-user token was refused: {error.message}",
        "data": {"reason": error.reason},
    }
