"""Where to send requests: the region and each service's endpoint, resolved as the AWS SDKs do.

Endpoint order: the URL passed to the client, then ``AWS_ENDPOINT_URL_<SERVICE>``
(``AWS_ENDPOINT_URL_DYNAMODB``; for EventBridge ``AWS_ENDPOINT_URL_EVENTBRIDGE``,
the SDKs' name, or ``AWS_ENDPOINT_URL_EVENTS``), then ``AWS_ENDPOINT_URL``, then the
public endpoint of the region. ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`` turns the
environment variables off. Region: ``AWS_REGION``, then ``AWS_DEFAULT_REGION``.
"""

from __future__ import annotations

import os

from hotcore.aws.errors import AwsError

__all__ = ["resolve_endpoint", "resolve_region"]

#: Environment-variable suffixes per signing name, most specific first.
_ENDPOINT_VARIABLES: dict[str, tuple[str, ...]] = {
    "dynamodb": ("AWS_ENDPOINT_URL_DYNAMODB",),
    "events": ("AWS_ENDPOINT_URL_EVENTBRIDGE", "AWS_ENDPOINT_URL_EVENTS"),
}


class ConfigurationError(AwsError):
    """The client cannot be set up: no region, or an endpoint URL it cannot use."""

    def __init__(self, message: str) -> None:
        super().__init__("ConfigurationError", message, 0)


def resolve_region(explicit: str | None = None) -> str:
    """The region to sign for: the argument, ``AWS_REGION`` or ``AWS_DEFAULT_REGION``."""
    region = explicit or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigurationError(
            "no AWS region: pass region=... or set AWS_REGION (Lambda sets it for you)"
        )
    return region


def resolve_endpoint(service: str, region: str, explicit: str | None = None) -> str:
    """The base URL (scheme, host, optional port) of ``service`` (signing name) in ``region``."""
    url = explicit
    ignore_env = os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true"
    if not url and not ignore_env:
        names = _ENDPOINT_VARIABLES.get(service, (f"AWS_ENDPOINT_URL_{service.upper()}",))
        for name in (*names, "AWS_ENDPOINT_URL"):
            url = os.environ.get(name)
            if url:
                break
    if not url:
        suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
        url = f"https://{service}.{region}.{suffix}"
    url = url.rstrip("/")
    scheme, separator, rest = url.partition("://")
    if not separator or scheme not in ("http", "https") or not rest or "/" in rest:
        raise ConfigurationError(
            f"endpoint URL {url!r} must be http(s)://host[:port] without a path"
        )
    return url
