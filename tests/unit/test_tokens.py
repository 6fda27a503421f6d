"""End-user ID tokens: what the verifier accepts, and every kind of token it refuses."""

from __future__ import annotations

import base64
import json

import pytest

from hotcore.entrypoints.identity import Identity, Unauthenticated, caller_of
from hotcore.entrypoints.settings import ConfigError, TokenSettings
from hotcore.entrypoints.tokens import TokenRefused, TokenVerifier
from hotcore_dev.issuer import LocalIssuer, RsaKey

NOW = 1_800_000_000.0


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return LocalIssuer()


def verifier(issuer: LocalIssuer, now: float = NOW) -> TokenVerifier:
    return TokenVerifier(
        issuer=issuer.issuer, audience=issuer.audience, keys=issuer.jwks, clock=lambda: now
    )


def refused(issuer: LocalIssuer, token: str) -> str:
    with pytest.raises(TokenRefused) as caught:
        verifier(issuer).verify(token)
    return caught.value.reason


def test_a_token_of_the_issuer_for_the_audience_gives_its_claims(issuer: LocalIssuer) -> None:
    token = issuer.token("ann", groups=["back-office"], now=NOW)
    claims = verifier(issuer).verify(token)
    assert (claims["sub"], claims["cognito:groups"]) == ("ann", ["back-office"])


@pytest.mark.parametrize("alg", ["RS384", "RS512"])
def test_the_longer_sha2_variants_verify_with_a_key_not_bound_to_rs256(
    issuer: LocalIssuer, alg: str
) -> None:
    token = issuer.token("ann", now=NOW, alg=alg)
    assert refused(issuer, token) == "algorithm-not-allowed"  # the JWK says "alg": "RS256"
    unbound = {k: v for k, v in issuer.key.jwk().items() if k != "alg"}
    check = TokenVerifier(
        issuer=issuer.issuer,
        audience=issuer.audience,
        keys=lambda: json.dumps({"keys": [unbound]}),
        clock=lambda: NOW,
    )
    assert check.verify(token)["sub"] == "ann"


def test_expired_tokens_are_refused_after_the_leeway(issuer: LocalIssuer) -> None:
    token = issuer.token("ann", now=NOW - 3600, lifetime=3000)  # expired 600 s ago
    assert refused(issuer, token) == "expired"
    recent = issuer.token("ann", now=NOW - 3630, lifetime=3600)  # 30 s ago: clock skew
    assert verifier(issuer).verify(recent)["sub"] == "ann"


def test_tokens_for_another_audience_or_from_another_issuer_are_refused(
    issuer: LocalIssuer,
) -> None:
    assert refused(issuer, issuer.token("ann", now=NOW, audience="other-app")) == "wrong-audience"
    assert refused(issuer, issuer.token("ann", now=NOW, issuer="https://evil")) == "wrong-issuer"


def test_unsigned_tokens_are_refused(issuer: LocalIssuer) -> None:
    assert refused(issuer, issuer.token("ann", now=NOW, alg="none")) == "unsigned"
    signed = issuer.token("ann", now=NOW)
    assert refused(issuer, signed.rpartition(".")[0] + ".") == "unsigned"


def test_a_token_signed_with_another_key_of_the_same_id_is_refused(issuer: LocalIssuer) -> None:
    forger = RsaKey("local-1")
    assert refused(issuer, issuer.token("ann", now=NOW, key=forger)) == "bad-signature"
    assert refused(issuer, issuer.token("ann", now=NOW, key=RsaKey("k2"))) == "unknown-key"


def test_changing_a_claim_breaks_the_signature(issuer: LocalIssuer) -> None:
    header, payload, signature = issuer.token("ann", now=NOW).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "bob"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert refused(issuer, f"{header}.{forged}.{signature}") == "bad-signature"


def test_hmac_algorithms_are_refused_so_the_public_key_cannot_be_used_as_a_secret(
    issuer: LocalIssuer,
) -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","kid":"local-1"}').rstrip(b"=").decode()
    _, payload, signature = issuer.token("ann", now=NOW).split(".")
    assert refused(issuer, f"{header}.{payload}.{signature}") == "algorithm-not-allowed"


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "!!.e30.c2ln", "e30.e30.c2ln"])
def test_malformed_tokens_are_refused(issuer: LocalIssuer, token: str) -> None:
    assert refused(issuer, token) in {"malformed", "unsigned", "algorithm-not-allowed"}


def test_access_tokens_are_not_id_tokens(issuer: LocalIssuer) -> None:
    token = issuer.token("ann", now=NOW, extra={"token_use": "access"})
    assert refused(issuer, token) == "not-an-id-token"


def test_the_identity_turns_a_token_header_into_a_principal_and_refuses_bad_ones(
    issuer: LocalIssuer,
) -> None:
    identity = Identity(TokenSettings.from_env(issuer.env()), clock=lambda: NOW)
    server = {"userArn": "arn:aws:sts::1:assumed-role/storefront/i-1"}
    token = issuer.token("ann", groups=["vip"], now=NOW)
    principal = identity.principal_of(server, {"headers": {"x-hotcore-id-token": token}})
    assert (principal.subject, principal.groups, principal.caller) == (
        "ann",
        frozenset({"vip"}),
        "storefront",
    )
    assert principal.actor == "user:ann via storefront"
    assert identity.principal_of(server, {"headers": {}}).actor == "server:storefront"
    expired = issuer.token("ann", now=NOW - 7200, lifetime=60)
    with pytest.raises(Unauthenticated) as caught:
        identity.principal_of(server, {"headers": {"x-hotcore-id-token": expired}})
    assert caught.value.reason == "expired"


def test_without_an_issuer_a_token_is_refused_never_trusted(issuer: LocalIssuer) -> None:
    with pytest.raises(Unauthenticated) as caught:
        Identity().principal_of(None, {"headers": {"x-hotcore-id-token": issuer.token("ann")}})
    assert caught.value.reason == "not-configured"


def test_an_issuer_without_audience_or_keys_fails_the_init() -> None:
    with pytest.raises(ConfigError, match="HOTCORE_TOKEN_AUDIENCE"):
        TokenSettings.from_env({"HOTCORE_TOKEN_ISSUER": "https://i"})


@pytest.mark.parametrize(
    ("arn", "caller"),
    [
        ("arn:aws:sts::1:assumed-role/back-office/i-9", "back-office"),
        ("arn:aws:iam::1:role/frontend", "frontend"),
        ("arn:aws:iam::1:user/ops", "ops"),
    ],
)
def test_the_caller_is_the_iam_role_name(arn: str, caller: str) -> None:
    assert caller_of({"userArn": arn}) == caller


def test_tokens_signed_by_the_cryptography_package_verify(issuer: LocalIssuer) -> None:
    """An independent RSA implementation agrees with the layer's ``pow`` check."""
    rsa = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.rsa")
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = private.public_key().public_numbers()

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    jwks = json.dumps(
        {
            "keys": [
                {"kty": "RSA", "kid": "x", "n": b64(numbers.n.to_bytes(256, "big")), "e": "AQAB"}
            ]
        }
    )
    header = b64(b'{"alg":"RS256","kid":"x"}')
    claims = {"iss": "i", "aud": "a", "sub": "ann", "exp": NOW + 60}
    signing_input = f"{header}.{b64(json.dumps(claims).encode())}"
    signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    check = TokenVerifier(issuer="i", audience="a", keys=lambda: jwks, clock=lambda: NOW)
    assert check.verify(f"{signing_input}.{b64(signature)}")["sub"] == "ann"


def test_a_refusal_quotes_no_more_than_64_characters_of_the_callers_key_id(
    issuer: LocalIssuer,
) -> None:
    with pytest.raises(TokenRefused) as caught:
        verifier(issuer).verify(issuer.token("ann", now=NOW, key=RsaKey("k" * 5000)))
    assert caught.value.reason == "unknown-key"
    assert len(caught.value.message) < 120
