"""Verification of the end user's OIDC / Cognito ID token (a JWT signed with RSA).

A front-end server calls AppSync with its own IAM credentials and forwards the user's ID
token in a request header; the command function checks here, before any policy reads
the user: the signature (RS256, RS384 or RS512: RSASSA-PKCS1-v1_5, RFC 8017 section 8.2,
against a key of the deployment's JWKS), the issuer, the audience, expiry and not-before
(with a small leeway for clock skew), and, for Cognito, that it is an ID token. Anything
else (``alg: none``, an HMAC algorithm, a key the JWKS does not hold, a token of
another issuer or audience) is a ``TokenRefused`` naming the reason.

The RSA check is ``pow(signature, e, n)`` compared with the PKCS#1 v1.5 encoding of the
DigestInfo of the token's SHA-2 hash: no ``hashlib`` or ``hmac`` (CPython's own ``_sha2``,
as SigV4 uses), no crypto library in the layer. The module is imported when the first
request carrying a token arrives, not at init (docs/security.md has the cost).
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from hotcore.aws.digest import sha256

try:
    from _sha2 import sha384, sha512  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - CPython built without its own hash modules
    from _hashlib import openssl_sha384 as sha384
    from _hashlib import openssl_sha512 as sha512

__all__ = ["Jwk", "Jwks", "TokenRefused", "TokenVerifier", "b64url_decode", "digest_info_block"]

#: DER prefixes of DigestInfo for each hash (RFC 8017 section 9.2, note 1).
_DIGEST_INFO = {
    "RS256": (sha256, bytes.fromhex("3031300d060960864801650304020105000420")),
    "RS384": (sha384, bytes.fromhex("3041300d060960864801650304020205000430")),
    "RS512": (sha512, bytes.fromhex("3051300d060960864801650304020305000440")),
}
#: The shortest RSA modulus accepted, in bits (NIST SP 800-131A: 2048 and up).
MIN_KEY_BITS = 2048
#: A token longer than this is refused before it is parsed (Cognito's are ~1-2 KB).
MAX_TOKEN_CHARS = 16 * 1024
#: Seconds of clock skew tolerated on ``exp``, ``nbf`` and ``iat``.
LEEWAY_SECONDS = 60
_URLSAFE = bytes.maketrans(b"-_", b"+/")


class TokenRefused(ValueError):
    """The token cannot be trusted; ``reason`` is one word to branch and count on."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


class Jwk(msgspec.Struct, frozen=True, kw_only=True):
    """One key of a JSON Web Key Set (RFC 7517); only RSA signature keys are used."""

    kty: str
    kid: str | None = None
    use: str | None = None
    alg: str | None = None
    n: str | None = None
    e: str | None = None


class Jwks(msgspec.Struct, frozen=True, kw_only=True):
    keys: list[Jwk]


class _RsaKey:
    __slots__ = ("alg", "e", "n", "size")

    def __init__(self, jwk: Jwk) -> None:
        if jwk.kty != "RSA" or jwk.n is None or jwk.e is None:
            raise ValueError(f"key {jwk.kid!r} is not an RSA public key")
        self.n = int.from_bytes(b64url_decode(jwk.n), "big")
        self.e = int.from_bytes(b64url_decode(jwk.e), "big")
        if self.n.bit_length() < MIN_KEY_BITS:
            raise ValueError(f"key {jwk.kid!r} has {self.n.bit_length()} bits, fewer than 2048")
        self.size = (self.n.bit_length() + 7) // 8
        self.alg = jwk.alg


def b64url_decode(text: str) -> bytes:
    """Unpadded base64url (RFC 7515 section 2), strictly: any other character is an error."""
    raw = text.encode("ascii")
    if b"+" in raw or b"/" in raw or b"=" in raw:
        raise ValueError("not base64url")
    padded = raw.translate(_URLSAFE) + b"=" * (-len(raw) % 4)
    decoded: bytes = binascii.a2b_base64(padded, strict_mode=True)
    return decoded


def digest_info_block(alg: str, signing_input: bytes, size: int) -> bytes:
    """EMSA-PKCS1-v1_5 of ``signing_input`` for a modulus of ``size`` bytes (RFC 8017 9.2)."""
    hash_of, prefix = _DIGEST_INFO[alg]
    digest: bytes = hash_of(signing_input).digest()
    info = prefix + digest
    if size < len(info) + 11:
        raise ValueError("modulus too short for this hash")
    return b"\x00\x01" + b"\xff" * (size - len(info) - 3) + b"\x00" + info


def parse_jwks(raw: bytes | str) -> dict[str | None, _RsaKey]:
    """The RSA signature keys of a JWKS document, by ``kid``; other keys are skipped."""
    jwks = msgspec.json.decode(raw, type=Jwks)
    keys: dict[str | None, _RsaKey] = {}
    for jwk in jwks.keys:
        if jwk.kty != "RSA" or jwk.use not in (None, "sig"):
            continue
        keys[jwk.kid] = _RsaKey(jwk)
    if not keys:
        raise ValueError("the JWKS holds no RSA signature key")
    return keys


class TokenVerifier:
    """Checks ID tokens of one issuer for one audience (an app client id).

    ``keys`` loads the JWKS: the pinned document from configuration, or a fetch of the
    issuer's ``jwks_uri``. It runs once, on the first token; a token signed with a key
    it does not hold loads it again (the issuer rotated its keys), at most once per
    ``refresh_seconds``.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        keys: Callable[[], bytes | str],
        clock: Callable[[], float],
        refresh_seconds: float = 300.0,
    ) -> None:
        if not issuer or not audience:
            raise ValueError("a token verifier needs an issuer and an audience")
        self.issuer = issuer
        self.audience = audience
        self._load = keys
        self._clock = clock
        self._refresh_seconds = refresh_seconds
        self._keys: dict[str | None, _RsaKey] | None = None
        self._loaded_at = 0.0

    def _key(self, kid: str | None) -> _RsaKey:
        now = self._clock()
        if self._keys is None or (
            kid not in self._keys and now - self._loaded_at >= self._refresh_seconds
        ):
            self._keys = parse_jwks(self._load())
            self._loaded_at = now
        keys = self._keys
        if kid is None and len(keys) == 1:
            return next(iter(keys.values()))
        key = keys.get(kid)
        if key is None:
            # the kid is the caller's: cut, it goes back in the answer
            raise TokenRefused("unknown-key", f"no key {str(kid)[:64]!r} in the issuer's key set")
        return key

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims if it is a valid ID token of this issuer for this audience."""
        if len(token) > MAX_TOKEN_CHARS:
            raise TokenRefused("malformed", f"token longer than {MAX_TOKEN_CHARS} characters")
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenRefused("malformed", "a JWT has three dot-separated parts")
        header = _json_object(parts[0], "header")
        alg = header.get("alg")
        if alg in (None, "none", "None", "NONE") or not parts[2]:
            raise TokenRefused("unsigned", "the token carries no signature")
        if alg not in _DIGEST_INFO:
            raise TokenRefused(
                "algorithm-not-allowed", f"alg {str(alg)[:16]!r} is not RS256/384/512"
            )
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise TokenRefused("malformed", "kid must be a string")
        key = self._key(kid)
        if key.alg is not None and key.alg != alg:
            raise TokenRefused(
                "algorithm-not-allowed", f"key {str(kid)[:64]!r} is for {key.alg}, not {alg}"
            )
        try:
            signature = b64url_decode(parts[2])
        except (ValueError, binascii.Error) as exc:
            raise TokenRefused("malformed", "the signature is not base64url") from exc
        signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
        value = int.from_bytes(signature, "big")
        if len(signature) != key.size or value >= key.n:
            raise TokenRefused("bad-signature", "the signature does not fit the key")
        expected = digest_info_block(alg, signing_input, key.size)
        if pow(value, key.e, key.n).to_bytes(key.size, "big") != expected:
            raise TokenRefused("bad-signature", "the signature does not match the token")
        claims = _json_object(parts[1], "payload")
        self._check_claims(claims)
        return claims

    def _check_claims(self, claims: Mapping[str, Any]) -> None:
        if claims.get("iss") != self.issuer:
            raise TokenRefused("wrong-issuer", "the token was issued by another issuer")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.audience not in audiences:
            raise TokenRefused("wrong-audience", "the token was issued for another audience")
        if claims.get("token_use", "id") != "id":
            raise TokenRefused("not-an-id-token", "an ID token is expected, not an access token")
        now = self._clock()
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            raise TokenRefused("malformed", "the token has no expiry (exp)")
        if now > exp + LEEWAY_SECONDS:
            raise TokenRefused("expired", "the token has expired")
        nbf = claims.get("nbf")
        if nbf is not None and (not _is_number(nbf) or now + LEEWAY_SECONDS < nbf):
            raise TokenRefused("not-yet-valid", "the token is not valid yet (nbf)")
        iat = claims.get("iat")
        if iat is not None and (not _is_number(iat) or now + LEEWAY_SECONDS < iat):
            raise TokenRefused("not-yet-valid", "the token was issued in the future (iat)")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not 0 < len(subject) <= 128:
            raise TokenRefused("malformed", "the token has no subject (sub) of 1 to 128 characters")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_object(part: str, what: str) -> dict[str, Any]:
    try:
        decoded = msgspec.json.decode(b64url_decode(part))
    except (ValueError, binascii.Error, msgspec.DecodeError) as exc:
        raise TokenRefused("malformed", f"the token's {what} is not base64url JSON") from exc
    if not isinstance(decoded, dict):
        raise TokenRefused("malformed", f"the token's {what} is not a JSON object")
    return decoded
