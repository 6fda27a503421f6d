"""AWS Signature Version 4 for one request: the headers that authenticate it.

``sign`` takes the request as it will go on the wire (method, URL, headers, body)
and returns the headers to add: ``Authorization``, ``X-Amz-Date`` and, for
temporary credentials, ``X-Amz-Security-Token``. It signs every header it is given
except the hop-by-hop and tracing ones that proxies may change, plus ``host``
(taken from the headers, or from the URL as HTTP clients send it).

Canonicalisation follows the SigV4 rules for every service but S3: the path has
its dot segments and repeated slashes removed and is then URI-encoded (so a path
that was already percent-encoded is encoded a second time, as AWS expects); the
query's names and values are decoded and re-encoded with only ``A-Za-z0-9-_.~``
left as is, then sorted by name and value.
"""

from __future__ import annotations

import _thread
from collections.abc import Mapping
from datetime import UTC, datetime

from msgspec import Struct

from hotcore.aws.connection import split_url
from hotcore.aws.digest import hmac_sha256, sha256_hex

__all__ = ["Credentials", "sign"]

_ALGORITHM = "AWS4-HMAC-SHA256"
#: Headers never signed: proxies and load balancers add, drop or rewrite them.
_UNSIGNED_HEADERS = frozenset(
    {
        "authorization",
        "baggage",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "traceparent",
        "tracestate",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Credentials(Struct, frozen=True):
    """An access key pair, with the session token of temporary credentials."""

    access_key: str
    secret_key: str
    token: str | None = None

    def __repr__(self) -> str:
        # Secrets stay out of logs and tracebacks.
        return f"Credentials(access_key={self.access_key!r}, secret_key='***', token=***)"


# Deriving the signing key costs four HMACs; it changes once a day per region/service.
_key_cache: dict[tuple[str, str, str, str], bytes] = {}
_key_cache_lock = _thread.allocate_lock()


def _signing_key(secret_key: str, day: str, region: str, service: str) -> bytes:
    cache_key = (secret_key, day, region, service)
    key = _key_cache.get(cache_key)
    if key is None:
        key = hmac_sha256(("AWS4" + secret_key).encode(), day.encode())
        for part in (region, service, "aws4_request"):
            key = hmac_sha256(key, part.encode())
        with _key_cache_lock:
            if len(_key_cache) >= 16:
                _key_cache.clear()
            _key_cache[cache_key] = key
    return key


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 dot-segment removal, also dropping empty segments as AWS requires."""
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    if not kept:
        return "/"
    tail = "/" if path.endswith("/") else ""
    return "/" + "/".join(kept) + tail


#: Characters SigV4 never percent-encodes (RFC 3986 unreserved), as bytes.
_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
_PERCENT = [f"%{byte:02X}" for byte in range(256)]
for _byte in _UNRESERVED + b"/":
    _PERCENT[_byte] = chr(_byte)
#: byte -> itself if unreserved or "/", else %XX: for paths.
_PATH_TABLE = tuple(_PERCENT)
#: byte -> itself if unreserved, else %XX: for query names and values ("/" encoded).
_QUERY_TABLE = (*_PERCENT[:47], "%2F", *_PERCENT[48:])
_HEX = b"0123456789ABCDEFabcdef"


def _quote(text: str, table: tuple[str, ...], safe: bytes) -> str:
    data = text.encode()
    if not data.translate(None, safe):
        return text  # nothing to encode: the common case
    return "".join([table[byte] for byte in data])


def _unquote(text: str) -> str:
    """``%XX`` escapes decoded (UTF-8, undecodable bytes replaced); stray ``%`` kept."""
    if "%" not in text:
        return text
    pieces = text.encode().split(b"%")
    out = bytearray(pieces[0])
    for piece in pieces[1:]:
        if len(piece) >= 2 and piece[0] in _HEX and piece[1] in _HEX:
            out.append(int(piece[:2], 16))
            out += piece[2:]
        else:
            out += b"%" + piece
    return out.decode("utf-8", "replace")


def _canonical_path(path: str) -> str:
    if not path:
        return "/"
    return _quote(_remove_dot_segments(path), _PATH_TABLE, _UNRESERVED + b"/")


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs: list[tuple[str, str]] = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append(
            (
                _quote(_unquote(name), _QUERY_TABLE, _UNRESERVED),
                _quote(_unquote(value), _QUERY_TABLE, _UNRESERVED),
            )
        )
    pairs.sort()
    return "&".join(f"{name}={value}" for name, value in pairs)


def _host(url_scheme: str, hostname: str, port: int | None) -> str:
    host = f"[{hostname}]" if ":" in hostname else hostname
    if port is not None and port != _DEFAULT_PORTS.get(url_scheme):
        return f"{host}:{port}"
    return host


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Credentials,
    region: str,
    service: str,
    now: datetime,
) -> dict[str, str]:
    """The headers that sign this request with SigV4 at time ``now`` (naive means UTC).

    Returns ``Authorization`` and ``X-Amz-Date``, and ``X-Amz-Security-Token`` when
    the credentials carry a token; send them with ``headers``. A ``host`` header in
    ``headers`` is signed as given; without one, the host (and non-default port) of
    ``url`` is signed, which is what HTTP clients send.
    """
    if now.tzinfo is not None:
        now = now.astimezone(UTC)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    scheme, hostname, port, path, query = split_url(url)

    # Lower-cased names; a name given twice in different cases keeps both values.
    signed: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in _UNSIGNED_HEADERS:
            continue
        trimmed = " ".join(value.split())
        signed[lower] = f"{signed[lower]},{trimmed}" if lower in signed else trimmed
    if "host" not in signed:
        signed["host"] = _host(scheme, hostname, port)
    signed["x-amz-date"] = amz_date
    added = {"X-Amz-Date": amz_date}
    if credentials.token:
        # Canonical like every other value: a token with stray whitespace signs as botocore's.
        signed["x-amz-security-token"] = " ".join(credentials.token.split())
        added["X-Amz-Security-Token"] = credentials.token
    payload_hash = signed.get("x-amz-content-sha256") or sha256_hex(body)

    names = sorted(signed)
    signed_headers = ";".join(names)
    canonical_request = "\n".join(
        (
            method.upper(),
            _canonical_path(path),
            _canonical_query(query),
            "".join(f"{name}:{signed[name]}\n" for name in names),
            signed_headers,
            payload_hash,
        )
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        (
            _ALGORITHM,
            amz_date,
            scope,
            sha256_hex(canonical_request.encode()),
        )
    )
    signature = hmac_sha256(
        _signing_key(credentials.secret_key, day, region, service), string_to_sign.encode()
    ).hex()
    added["Authorization"] = (
        f"{_ALGORITHM} Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    return added
