"""S3 PutObject: signed as botocore's S3 signer signs it, retried like the other clients."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from unittest import mock

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials
from hypothesis import given
from hypothesis import strategies as st

from hotcore.aws.client import RetryPolicy
from hotcore.aws.connection import Response
from hotcore.aws.errors import AwsError
from hotcore.aws.s3 import S3
from hotcore.aws.sigv4 import Credentials

SEGMENT = st.text("abcXYZ019-_.", min_size=1, max_size=12).filter(lambda s: s not in (".", ".."))


class Recorder:
    """Stands in for the connection: answers from a script, keeps each request."""

    def __init__(self, *answers: Response) -> None:
        self.answers = list(answers) or [Response(200, {}, b"")]
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []

    def send(self, method: str, target: str, headers: Any, body: bytes = b"") -> Response:
        self.requests.append((method, target, dict(headers), body))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def client_with(recorder: Recorder, **options: Any) -> S3:
    s3 = S3(
        region="eu-west-1",
        credentials=Credentials("AKIDTEST", "secret/Key+With=Chars", options.pop("token", None)),
        sleep=lambda _: None,
        **options,
    )
    s3._connection = lambda base: _bound(recorder, base)  # type: ignore[method-assign]
    return s3


def _bound(recorder: Recorder, base: str) -> Any:
    recorder.base = base  # type: ignore[attr-defined]
    recorder.endpoint = base  # type: ignore[attr-defined]
    recorder.host_header = base.partition("://")[2]  # type: ignore[attr-defined]
    return recorder


@given(
    key=st.lists(SEGMENT, min_size=1, max_size=4).map("/".join),
    body=st.binary(max_size=300),
    token=st.none() | st.text("abcdefXYZ0123/+=", min_size=1, max_size=40),
)
def test_put_object_is_signed_as_botocore_signs_s3(
    key: str, body: bytes, token: str | None
) -> None:
    recorder = Recorder()
    client_with(recorder, token=token).put_object("my-bucket", key, body)
    ((method, target, headers, sent),) = recorder.requests
    assert (method, target, sent) == ("PUT", f"/{key}", body)
    url = f"https://my-bucket.s3.eu-west-1.amazonaws.com/{key}"
    unsigned = {
        name: value
        for name, value in headers.items()
        if name not in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")
    }
    request = AWSRequest(method="PUT", url=url, headers=unsigned, data=body)
    oracle = S3SigV4Auth(
        BotocoreCredentials("AKIDTEST", "secret/Key+With=Chars", token), "s3", "eu-west-1"
    )
    signed_at = datetime.strptime(headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at):
        oracle.add_auth(request)
    assert headers["Authorization"] == request.headers["Authorization"]


def test_an_emulator_endpoint_gets_path_style_requests() -> None:
    recorder = Recorder()
    client_with(recorder, endpoint_url="http://127.0.0.1:5000").put_object("b", "k/1.json", b"{}")
    assert recorder.base == "http://127.0.0.1:5000"  # type: ignore[attr-defined]
    assert recorder.requests[0][1] == "/b/k/1.json"


def test_slow_down_is_retried_and_access_denied_is_not() -> None:
    slow = Response(503, {}, b"<Error><Code>SlowDown</Code><Message>later</Message></Error>")
    recorder = Recorder(slow, Response(200, {}, b""))
    s3 = client_with(recorder, retry=RetryPolicy(max_attempts=3))
    s3.put_object("b", "k.json", b"{}")
    assert (len(recorder.requests), s3.retries) == (2, 1)

    denied = Response(403, {}, b"<Error><Code>AccessDenied</Code><Message>no</Message></Error>")
    refused = Recorder(denied)
    with pytest.raises(AwsError) as error:
        client_with(refused).put_object("b", "k.json", b"{}")
    assert (error.value.code, error.value.status, len(refused.requests)) == ("AccessDenied", 403, 1)
