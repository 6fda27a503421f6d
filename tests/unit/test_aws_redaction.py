"""AWS error messages lose the secrets AWS may echo before anything raises or logs them."""

from __future__ import annotations

import json

import pytest

from hotcore.aws.errors import MAX_MESSAGE_CHARS, AwsError, error_from_response, redact

TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCWV1LXdlc3QtMSJHMEUCIQD" + "x" * 120 + "=="
CANONICAL = (
    "The request signature we calculated does not match the signature you provided. "
    "The Canonical String for this request should have been\n'POST\n/\n\n"
    "content-type:application/x-amz-json-1.0\nhost:dynamodb.eu-west-1.amazonaws.com\n"
    f"x-amz-date:20261202T030000Z\nx-amz-security-token:{TOKEN}\n"
    "x-amz-target:DynamoDB_20120810.Query\n'"
)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (CANONICAL, TOKEN),
        (
            "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261202/eu-west-1/"
            "dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123abcdef",
            "AKIDEXAMPLE",
        ),
        ("Signature=0123abcdef4567", "0123abcdef4567"),
        ("https://b.s3.amazonaws.com/k?X-Amz-Signature=feed&X-Amz-Credential=AKIA1", "AKIA1"),
        ("x-hotcore-id-token: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln", "eyJzdWIiOiJhIn0"),
        ("bad token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln here", "eyJzdWIiOiJhIn0"),
    ],
)
def test_secrets_are_redacted(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert "[redacted]" in cleaned


def test_what_is_not_secret_stays_readable() -> None:
    text = "Signature expired: 20261202T030000Z is now earlier than 20261202T031000Z"
    assert redact(text) == text
    assert "host:dynamodb.eu-west-1.amazonaws.com" in redact(CANONICAL)


def test_an_error_response_echoing_signed_headers_raises_redacted() -> None:
    body = json.dumps(
        {"__type": "com.amazon.coral.service#InvalidSignatureException", "message": CANONICAL}
    ).encode()
    error = error_from_response(400, body, None, "req-1")
    assert isinstance(error, AwsError)
    assert error.code == "InvalidSignatureException"
    assert TOKEN not in str(error)
    assert TOKEN not in error.message
    assert "x-amz-security-token:[redacted]" in error.message


def test_a_message_is_cut_to_its_limit() -> None:
    error = AwsError("ValidationException", "x " * 5000, 400)
    assert len(error.message) < MAX_MESSAGE_CHARS + 30
    assert error.message.endswith("chars]")
