"""SigV4 checks of requests to the local AppSync server, by recomputing the signature.

AppSync with IAM authorization accepts a request only if its ``Authorization`` header is
a SigV4 signature, for service ``appsync``, by a known access key, over the request as
received. Here the known keys are the server's configured credentials, and the
signature is recomputed with hotcore's own signer (``hotcore.aws.sigv4.sign``) over the
headers the request names as signed: equal or refused.

Refusals carry what AppSync answers: the HTTP status, the ``errorType`` and a message
(``UnauthorizedException`` without a signature, ``IncompleteSignatureException`` for a
malformed one, ``UnrecognizedClientException`` for an unknown key,
``InvalidSignatureException`` when the signature does not match or is too old).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hotcore.aws.sigv4 import Credentials, sign

SERVICE = "appsync"
ALGORITHM = "AWS4-HMAC-SHA256"
#: How far a request's X-Amz-Date may be from the server's clock (AWS allows 5 minutes).
MAX_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class LocalCredential:
    """An access key the server accepts, and the IAM identity its requests resolve as."""

    access_key: str
    secret_key: str
    user_arn: str = "arn:aws:iam::000000000000:user/hotcore-local"
    account_id: str = "000000000000"
    #: May call the ``publish`` mutation (on AWS only EventBridge's role may).
    publisher: bool = False
    #: The fields its IAM policy grants, by type (``{"Mutation": ("deposit", ...)}``), as
    #: AppSync's field-level IAM; None grants every field.
    fields: Mapping[str, tuple[str, ...]] | None = None

    def __repr__(self) -> str:
        return f"LocalCredential(access_key={self.access_key!r}, user_arn={self.user_arn!r})"


class Refused(Exception):
    """A request AppSync would refuse before running it: status, errorType and message."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message

    def body(self) -> dict[str, object]:
        return {"errors": [{"errorType": self.error_type, "message": self.message}]}


@dataclass(frozen=True)
class Signed:
    """A request whose signature checked: who signed it."""

    credential: LocalCredential
    access_key: str


def _parse_authorization(value: str) -> tuple[str, str, list[str], str]:
    """Credential scope, access key, signed header names and signature of the header."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise Refused(
            403,
            "IncompleteSignatureException",
            f"Unsupported signing algorithm {algorithm!r}; use {ALGORITHM}.",
        )
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, equals, text = item.strip().partition("=")
        if not equals:
            raise Refused(
                403,
                "IncompleteSignatureException",
                f"'{item.strip()}' not a valid key=value pair (missing equal-sign) in "
                "Authorization header.",
            )
        parts[name] = text
    missing = [key for key in ("Credential", "SignedHeaders", "Signature") if key not in parts]
    if missing:
        raise Refused(
            403,
            "IncompleteSignatureException",
            f"Authorization header requires {', '.join(missing)} parameter(s).",
        )
    access_key, _, scope = parts["Credential"].partition("/")
    return scope, access_key, parts["SignedHeaders"].split(";"), parts["Signature"]


def verify(
    *,
    method: str,
    host_url: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Mapping[str, LocalCredential],
    region: str,
    now: datetime | None = None,
) -> Signed:
    """Check the SigV4 signature of one request, or raise ``Refused`` as AppSync would.

    ``headers`` are the request's (any case); ``host_url`` is ``https://host`` as signed
    (the path and query come separately, as received).
    """
    lower = {name.lower(): value for name, value in headers.items()}
    authorization = lower.get("authorization")
    if not authorization:
        raise Refused(401, "UnauthorizedException", "Valid authorization header not provided.")
    scope, access_key, names, signature = _parse_authorization(authorization)
    for name in names:
        if name not in lower:
            raise Refused(
                403,
                "IncompleteSignatureException",
                f"'{name}' is named as a SignedHeader, but it does not exist in the HTTP request.",
            )
    amz_date = lower.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise Refused(
            403,
            "IncompleteSignatureException",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        ) from None
    day, _, rest = scope.partition("/")
    scope_region, _, rest = rest.partition("/")
    service, _, terminator = rest.partition("/")
    if day != amz_date[:8] or terminator != "aws4_request":
        raise Refused(
            403,
            "InvalidSignatureException",
            f"Credential should be scoped to a valid date and 'aws4_request': {scope!r}.",
        )
    if service != SERVICE:
        raise Refused(
            403,
            "InvalidSignatureException",
            f"Credential should be scoped to correct service: '{SERVICE}'.",
        )
    if scope_region != region:
        raise Refused(
            403,
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region, not '{scope_region}'.",
        )
    credential = credentials.get(access_key)
    if credential is None:
        raise Refused(
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    clock = now or datetime.now(UTC)
    if abs(clock - signed_at) > MAX_SKEW:
        raise Refused(
            403,
            "InvalidSignatureException",
            f"Signature expired: {amz_date} is now earlier or later than "
            f"{clock.strftime('%Y%m%dT%H%M%SZ')} (+/- 5 min.)",
        )
    # Re-sign the request with the same signed headers: the signer adds X-Amz-Date and
    # the session token itself, so they are passed through the credentials and the clock.
    token = lower.get("x-amz-security-token") if "x-amz-security-token" in names else None
    given = {
        name: lower[name] for name in names if name not in {"x-amz-date", "x-amz-security-token"}
    }
    url = f"{host_url}{path}" + (f"?{query}" if query else "")
    expected = sign(
        method,
        url,
        given,
        body,
        Credentials(credential.access_key, credential.secret_key, token),
        region,
        SERVICE,
        signed_at.replace(tzinfo=None),
    )["Authorization"]
    expected_signature = expected.rpartition("Signature=")[2]
    expected_names = expected.partition("SignedHeaders=")[2].partition(",")[0]
    if expected_names != ";".join(names) or not hmac.compare_digest(expected_signature, signature):
        raise Refused(
            403,
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.",
        )
    return Signed(credential=credential, access_key=access_key)
