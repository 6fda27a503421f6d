"""A local OIDC issuer: an RSA test key and the ID tokens it signs, for the demo and tests.

Deployed, the end user's ID token comes from Cognito (or any OIDC provider) and the
command function verifies it against the key set configured at deploy time. Locally
this issuer plays that part, so ``hotcore demo``, ``hotcore serve`` and the tests run the
same verification code (``hotcore.entrypoints.tokens``) as Lambda does: ``env()`` gives
the settings a function reads, ``token()`` a signed ID token.

The key is generated per process (2048-bit RSA, e = 65537, primes from ``secrets`` and
Miller-Rabin), so no private key is ever committed; it exists only in memory and only
for local runs. Signing is RSASSA-PKCS1-v1_5 (``pow`` with the private exponent over
the block ``hotcore.entrypoints.tokens`` checks). Options produce the tokens a
verifier must refuse: expired, another audience or issuer, unsigned, another key.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterable
from typing import Any

from hotcore.entrypoints.tokens import digest_info_block

ISSUER = "https://issuer.hotcore.local"
AUDIENCE = "hotcore-local-client"

_SMALL_PRIMES = [p for p in range(3, 2000) if all(p % d for d in range(2, int(p**0.5) + 1))]


def _probable_prime(candidate: int, rounds: int = 40) -> bool:
    if any(candidate % p == 0 for p in _SMALL_PRIMES):
        return candidate in _SMALL_PRIMES
    d, s = candidate - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(rounds):
        a = 2 + secrets.randbelow(candidate - 3)
        x = pow(a, d, candidate)
        if x in (1, candidate - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, candidate)
            if x == candidate - 1:
                break
        else:
            return False
    return True


def _prime(bits: int, e: int) -> int:
    while True:
        # top two bits set: the product of two such primes has exactly 2 * bits bits
        candidate = secrets.randbits(bits) | (3 << (bits - 2)) | 1
        if (candidate - 1) % e and _probable_prime(candidate):
            return candidate


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class RsaKey:
    """An RSA key pair (public ``n``, ``e``; private ``d``) with the id ``kid``."""

    def __init__(self, kid: str, bits: int = 2048, e: int = 65537) -> None:
        while True:
            p, q = _prime(bits // 2, e), _prime(bits // 2, e)
            if p != q:
                break
        self.kid = kid
        self.n = p * q
        self.e = e
        self.d = pow(e, -1, (p - 1) * (q - 1))
        self.size = (self.n.bit_length() + 7) // 8

    def jwk(self) -> dict[str, str]:
        return {
            "kty": "RSA",
            "kid": self.kid,
            "use": "sig",
            "alg": "RS256",
            "n": b64url(self.n.to_bytes(self.size, "big")),
            "e": b64url(self.e.to_bytes(3, "big")),
        }

    def sign(self, alg: str, signing_input: bytes) -> bytes:
        block = int.from_bytes(digest_info_block(alg, signing_input, self.size), "big")
        return pow(block, self.d, self.n).to_bytes(self.size, "big")


class LocalIssuer:
    """Signs ID tokens as ``issuer`` for ``audience``; ``jwks()`` is its public key set."""

    def __init__(self, *, issuer: str = ISSUER, audience: str = AUDIENCE) -> None:
        self.issuer = issuer
        self.audience = audience
        self.key = RsaKey("local-1")

    def jwks(self) -> str:
        return json.dumps({"keys": [self.key.jwk()]})

    def env(self) -> dict[str, str]:
        """The settings a command function reads to trust this issuer's tokens."""
        return {
            "HOTCORE_TOKEN_ISSUER": self.issuer,
            "HOTCORE_TOKEN_AUDIENCE": self.audience,
            "HOTCORE_JWKS": self.jwks(),
        }

    def token(
        self,
        subject: str,
        *,
        groups: Iterable[str] = (),
        lifetime: float = 3600.0,
        now: float | None = None,
        audience: str | None = None,
        issuer: str | None = None,
        alg: str = "RS256",
        key: RsaKey | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """An ID token for ``subject``; the keyword arguments make the ones to refuse
        (``alg="none"`` leaves it unsigned, ``key`` signs with another key)."""
        issued = time.time() if now is None else now
        claims: dict[str, Any] = {
            "iss": issuer or self.issuer,
            "aud": audience or self.audience,
            "sub": subject,
            "token_use": "id",
            "iat": int(issued),
            "exp": int(issued + lifetime),
        }
        group_list = list(groups)
        if group_list:
            claims["cognito:groups"] = group_list
        claims.update(extra or {})
        signer = key or self.key
        header = {"alg": alg, "kid": signer.kid, "typ": "JWT"}
        signing_input = (
            f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        )
        if alg == "none":
            return f"{signing_input}."
        signature = signer.sign(alg, signing_input.encode("ascii"))
        return f"{signing_input}.{b64url(signature)}"
