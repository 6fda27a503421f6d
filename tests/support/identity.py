"""The local issuer the tests share, and AppSync events signed for an end user."""

from __future__ import annotations

import functools
from typing import Any

from hotcore.entrypoints.identity import TOKEN_HEADER
from hotcore_dev.issuer import LocalIssuer


@functools.cache
def issuer() -> LocalIssuer:
    """One issuer (one RSA key) per test session: generating a key takes a moment."""
    return LocalIssuer()


def signed(event: dict[str, Any], subject: str, *groups: str) -> dict[str, Any]:
    """``event`` with the ID token of ``subject`` in the header the resolver forwards."""
    request = dict(event.get("request") or {})
    headers = dict(request.get("headers") or {})
    headers[TOKEN_HEADER] = issuer().token(subject, groups=groups)
    request["headers"] = headers
    return {**event, "request": request}
