"""SigV4 signing: AWS's published test-suite signatures, and botocore's SigV4Auth as oracle.

The vectors below restate requests of the AWS Signature Version 4 test suite
(credentials AKIDEXAMPLE, 2015-08-30T12:36:00Z, us-east-1, service "service") in
this file's own form, with the signature the suite publishes for each.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from unittest import mock
from urllib.parse import quote

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotcore.aws.sigv4 import Credentials, sign
from tests.support.examples import examples

SUITE_CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
SUITE_TIME = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)
SUITE_HOST = "https://example.amazonaws.com"

# (case name in the suite, method, path and query, extra headers, token, signature)
SUITE_CASES: list[tuple[str, str, str, dict[str, str], str | None, str]] = [
    (
        "get-vanilla",
        "GET",
        "/",
        {},
        None,
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    ),
    (
        "get-relative-relative-normalized",
        "GET",
        "/example1/example2/../..",
        {},
        None,
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    ),
    (
        "get-slashes-normalized",
        "GET",
        "//example//",
        {},
        None,
        "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
    ),
    (
        "get-space-normalized",
        "GET",
        "/example space/",
        {},
        None,
        "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
    ),
    (
        "get-utf8",
        "GET",
        "/\u1234",
        {},
        None,
        "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
    ),
    (
        "get-vanilla-query-order-key-case",
        "GET",
        "/?Param2=value2&Param1=value1",
        {},
        None,
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    ),
    (
        "get-vanilla-query-unreserved",
        "GET",
        "/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        "=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        {},
        None,
        "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
    ),
    (
        "get-vanilla-utf8-query",
        "GET",
        "/?\u1234=bar",
        {},
        None,
        "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
    ),
    (
        "get-header-value-trim",
        "GET",
        "/",
        {"My-Header1": " value1", "My-Header2": ' "a   b   c"'},
        None,
        "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
    ),
    (
        "get-header-key-duplicate",
        "GET",
        "/",
        {"My-Header1": "value2,value2,value1"},
        None,
        "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
    ),
    (
        "get-vanilla-with-session-token",
        "GET",
        "/",
        {},
        "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
        "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
    ),
]


@pytest.mark.parametrize(
    ("method", "target", "headers", "token", "signature"),
    [case[1:] for case in SUITE_CASES],
    ids=[case[0] for case in SUITE_CASES],
)
def test_aws_test_suite_signatures(
    method: str, target: str, headers: dict[str, str], token: str | None, signature: str
) -> None:
    credentials = Credentials(SUITE_CREDENTIALS.access_key, SUITE_CREDENTIALS.secret_key, token)
    added = sign(
        method, SUITE_HOST + target, headers, b"", credentials, "us-east-1", "service", SUITE_TIME
    )
    assert added["X-Amz-Date"] == "20150830T123600Z"
    assert added["Authorization"].endswith(f"Signature={signature}")
    assert added["Authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
    )
    assert ("X-Amz-Security-Token" in added) == (token is not None)


def test_naive_and_aware_times_sign_alike() -> None:
    aware = datetime(2015, 8, 30, 14, 36, tzinfo=timezone(timedelta(hours=2)))
    naive = datetime(2015, 8, 30, 12, 36)
    args = ("GET", SUITE_HOST + "/", {}, b"", SUITE_CREDENTIALS, "us-east-1", "service")
    assert sign(*args, aware) == sign(*args, naive) == sign(*args, SUITE_TIME)  # type: ignore[arg-type]


def test_credentials_repr_hides_secrets() -> None:
    text = repr(Credentials("AKID", "very-secret", "session-token"))
    assert "AKID" in text
    assert "very-secret" not in text
    assert "session-token" not in text


def test_a_query_written_raw_or_encoded_signs_alike() -> None:
    args = ({}, b"", SUITE_CREDENTIALS, "eu-west-1", "dynamodb", SUITE_TIME)
    raw = sign("GET", "https://h.example/p?b=\u00e9 x&a=1", *args)  # type: ignore[arg-type]
    encoded = sign("GET", "https://h.example/p?a=1&b=%C3%A9%20x", *args)  # type: ignore[arg-type]
    assert raw == encoded


# ---------------------------------------------------------------- botocore as oracle

_TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
# Names the signer treats specially are covered by the examples above, not drawn here.
_RESERVED = {"host", "date", "x-amz-date", "x-amz-security-token", "authorization"}

header_names = st.text(_TOKEN_CHARS, min_size=1, max_size=12).filter(
    lambda name: name.lower() not in _RESERVED
) | st.sampled_from(["User-Agent", "X-Amz-Target", "Content-Type", "X-Amzn-Trace-Id", "Expect"])
header_values = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.sampled_from(["\t", " "]),
    max_size=30,
)


@st.composite
def header_maps(draw: st.DrawFn) -> dict[str, str]:
    names = draw(st.lists(header_names, max_size=6, unique_by=str.lower))
    headers = {name: draw(header_values) for name in names}
    if draw(st.booleans()):
        headers["X-Amz-Content-SHA256"] = draw(
            st.text("0123456789abcdef", min_size=64, max_size=64)
        )
    return headers


path_segments = st.one_of(
    st.sampled_from(["", ".", "..", "a", "%2F", "a%20b", "~user", "x.y"]),
    # Raw text, as a caller may write it (no characters that end a path).
    st.text(
        st.characters(blacklist_characters="/?#%", blacklist_categories=["Cs", "Cc"]), max_size=8
    ),
    # Text percent-encoded with different reserved characters left as is.
    st.builds(
        quote,
        st.text(st.characters(blacklist_categories=["Cs"]), max_size=8),
        st.sampled_from(["", "-_.~", "!$&'()*+,;=:@"]),
    ),
)
query_texts = st.text(st.characters(blacklist_categories=["Cs"]), max_size=8)


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["https", "http"]))
    host = draw(st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z0-9]{1,8}){0,3}", fullmatch=True))
    port = draw(st.sampled_from(["", ":443", ":80", ":8000", ":4566"]))
    path = "/" + "/".join(draw(st.lists(path_segments, max_size=5)))
    names = draw(st.lists(query_texts, max_size=4))
    # Repeated names: some names are drawn again with other values.
    pairs = [
        (name, draw(query_texts))
        for name in names + draw(st.lists(st.sampled_from(names or ["k"]), max_size=2))
    ]
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)
    return f"{scheme}://{host}{port}{path}" + (f"?{query}" if query else "")


@settings(max_examples=examples(3000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]),
    url=urls(),
    headers=header_maps(),
    body=st.binary(max_size=200),
    token=st.none() | st.text(_TOKEN_CHARS + "/+=", min_size=1, max_size=60),
    region=st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2", "local"]),
    service=st.sampled_from(["dynamodb", "events", "sqs", "execute-api"]),
    now=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
)
def test_signature_agrees_with_botocore(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    token: str | None,
    region: str,
    service: str,
    now: datetime,
) -> None:
    access_key, secret_key = "AKIDTEST", "secret/Key+With=Chars"
    ours = sign(
        method, url, headers, body, Credentials(access_key, secret_key, token), region, service, now
    )

    request = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    oracle = SigV4Auth(BotocoreCredentials(access_key, secret_key, token), service, region)
    with mock.patch("botocore.auth.get_current_datetime", return_value=now):
        oracle.add_auth(request)

    assert ours["Authorization"] == request.headers["Authorization"]
    assert ours["X-Amz-Date"] == request.headers["X-Amz-Date"]
    assert ours.get("X-Amz-Security-Token") == request.headers.get("X-Amz-Security-Token")


@pytest.mark.parametrize("token", [" token", "token ", "\ttoken\t", "tok  en", " a b  c "])
def test_a_session_token_with_stray_whitespace_signs_as_botocore(token: str) -> None:
    now = datetime(2024, 5, 1, 12, 0, 0)
    url = "https://dynamodb.eu-west-1.amazonaws.com/"
    headers = {"X-Amz-Target": "DynamoDB_20120810.GetItem"}
    ours = sign(
        "POST",
        url,
        headers,
        b"{}",
        Credentials("AKID", "secret", token),
        "eu-west-1",
        "dynamodb",
        now,
    )
    request = AWSRequest(method="POST", url=url, headers=dict(headers), data=b"{}")
    oracle = SigV4Auth(BotocoreCredentials("AKID", "secret", token), "dynamodb", "eu-west-1")
    with mock.patch("botocore.auth.get_current_datetime", return_value=now):
        oracle.add_auth(request)
    assert ours["Authorization"] == request.headers["Authorization"]
    # The header on the wire carries the token as given; only its canonical form is trimmed.
    assert ours["X-Amz-Security-Token"] == token
