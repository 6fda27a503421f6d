"""The AWS client over HTTP against a fault double: retries, backoff, typed errors, keep-alive.

The double is a real HTTP server on 127.0.0.1 (``tests/support/fault_proxy.py``);
nothing here is mocked below the socket. Sleeps are recorded instead of slept, so
the tests check the backoff schedule without depending on the clock.
"""

from __future__ import annotations

import threading
import zlib
from typing import Any

import pytest

from hotcore.aws.client import RetryPolicy
from hotcore.aws.dynamodb import DynamoDB
from hotcore.aws.errors import (
    AwsError,
    ConditionalCheckFailed,
    ConnectionFailed,
    ResourceNotFound,
    ServerError,
    Throttled,
    TransactionCanceled,
    ValidationFailed,
)
from hotcore.aws.sigv4 import Credentials
from tests.support.fault_proxy import Fault, FaultProxy, aws_error_body
from tests.support.fixtures import fault_proxy_fixture  # noqa: F401

CREDENTIALS = Credentials("AKIDTEST", "secret")


class Sleeps(list[float]):
    """Stands in for time.sleep: remembers each requested delay."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(proxy: FaultProxy, sleeps: Sleeps | None = None, **options: Any) -> DynamoDB:
    return DynamoDB(
        endpoint_url=proxy.endpoint,
        region="eu-west-1",
        credentials=CREDENTIALS,
        sleep=sleeps if sleeps is not None else Sleeps(),
        **options,
    )


@pytest.mark.parametrize(
    "code",
    ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"],
)
def test_throttling_is_retried_until_it_passes(fault_proxy: FaultProxy, code: str) -> None:
    sleeps = Sleeps()
    fault_proxy.script(Fault.throttle(code), Fault.throttle(code))
    client = client_for(fault_proxy, sleeps)
    assert client.get_item({"TableName": "t", "Key": {"pk": {"S": "a"}}}) == {}
    assert len(fault_proxy.requests) == 3
    assert client.client.retries == 2
    assert len(sleeps) == 2


def test_throttling_that_outlives_the_retries_raises_throttled(fault_proxy: FaultProxy) -> None:
    sleeps = Sleeps()
    fault_proxy.script(*[Fault.throttle() for _ in range(4)])
    client = client_for(fault_proxy, sleeps, retry=RetryPolicy(max_attempts=4))
    with pytest.raises(Throttled) as raised:
        client.get_item({"TableName": "t", "Key": {"pk": {"S": "a"}}})
    assert raised.value.code == "ProvisionedThroughputExceededException"
    assert raised.value.status == 400
    assert len(fault_proxy.requests) == 4
    assert len(sleeps) == 3


def test_backoff_is_full_jitter_under_an_exponential_cap(fault_proxy: FaultProxy) -> None:
    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.2)
    fault_proxy.script(*[Fault.server_error(503) for _ in range(8)])
    with pytest.raises(ServerError):
        client_for(fault_proxy, sleeps, retry=policy).get_item({"TableName": "t", "Key": {}})
    caps = [min(0.2, 0.01 * 2**retry) for retry in range(1, 8)]
    assert len(sleeps) == 7
    assert all(0 <= slept <= cap for slept, cap in zip(sleeps, caps, strict=True))
    # Full jitter draws anywhere under the cap, not always the cap.
    assert len(set(sleeps)) > 1


def test_server_errors_are_retried(fault_proxy: FaultProxy) -> None:
    fault_proxy.script(Fault.server_error(500), Fault.server_error(503))
    assert client_for(fault_proxy).put_item({"TableName": "t", "Item": {}}) == {}
    assert len(fault_proxy.requests) == 3


def test_a_dropped_connection_is_retried_on_a_new_connection(fault_proxy: FaultProxy) -> None:
    client = client_for(fault_proxy)
    client.get_item({"TableName": "t", "Key": {}})
    fault_proxy.script(Fault.drop_before(), Fault.drop_before())
    assert client.get_item({"TableName": "t", "Key": {}}) == {}
    assert len(fault_proxy.requests) == 4
    assert client.client.connection.connects == 3


def test_connection_failures_that_persist_raise_connection_failed() -> None:
    with FaultProxy() as proxy:
        endpoint = proxy.endpoint
    # The double is gone: the port refuses connections.
    sleeps = Sleeps()
    client = DynamoDB(
        endpoint_url=endpoint,
        region="eu-west-1",
        credentials=CREDENTIALS,
        sleep=sleeps,
        retry=RetryPolicy(max_attempts=3),
    )
    with pytest.raises(ConnectionFailed) as raised:
        client.get_item({"TableName": "t", "Key": {}})
    assert raised.value.status == 0
    assert isinstance(raised.value.cause, ConnectionRefusedError)
    assert len(sleeps) == 2


def test_a_read_timeout_is_retried(fault_proxy: FaultProxy) -> None:
    fault_proxy.script(Fault.delay(1.0))
    client = client_for(fault_proxy, read_timeout=0.2)
    assert client.get_item({"TableName": "t", "Key": {}}) == {}
    assert [request.fault for request in fault_proxy.requests] == ["delay", None]


def test_keep_alive_uses_one_connection_for_many_requests(fault_proxy: FaultProxy) -> None:
    client = client_for(fault_proxy)
    for _ in range(25):
        client.get_item({"TableName": "t", "Key": {}})
    assert fault_proxy.connections == 1
    assert client.client.connection.connects == 1


def test_threads_each_get_a_connection_and_return_it(fault_proxy: FaultProxy) -> None:
    client = client_for(fault_proxy)
    barrier = threading.Barrier(4)

    def work() -> None:
        barrier.wait()
        for _ in range(10):
            client.get_item({"TableName": "t", "Key": {}})

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fault_proxy.requests) == 40
    assert fault_proxy.connections == client.client.connection.connects <= 4


@pytest.mark.parametrize(
    ("code", "error_type"),
    [
        ("ResourceNotFoundException", ResourceNotFound),
        ("ValidationException", ValidationFailed),
        ("AccessDeniedException", AwsError),
    ],
)
def test_client_errors_are_typed_and_not_retried(
    fault_proxy: FaultProxy, code: str, error_type: type[AwsError]
) -> None:
    fault_proxy.script(
        Fault.respond(400, aws_error_body(code, "no good"), headers={"x-amzn-RequestId": "REQ1"})
    )
    with pytest.raises(error_type) as raised:
        client_for(fault_proxy).query({"TableName": "t"})
    assert type(raised.value) is error_type
    assert (raised.value.code, raised.value.message, raised.value.status) == (code, "no good", 400)
    assert raised.value.request_id == "REQ1"
    assert len(fault_proxy.requests) == 1


def test_conditional_check_failure_carries_the_old_item(fault_proxy: FaultProxy) -> None:
    old = {"pk": {"S": "a"}, "version": {"N": "3"}}
    fault_proxy.script(
        Fault.respond(
            400,
            aws_error_body(
                "ConditionalCheckFailedException", "The conditional request failed", Item=old
            ),
        )
    )
    with pytest.raises(ConditionalCheckFailed) as raised:
        client_for(fault_proxy).put_item({"TableName": "t", "Item": {}})
    assert raised.value.item == old


def test_transaction_cancellation_carries_one_reason_per_action(fault_proxy: FaultProxy) -> None:
    reasons = [
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Message": "failed", "Item": {"pk": {"S": "x"}}},
    ]
    fault_proxy.script(
        Fault.respond(
            400,
            aws_error_body(
                "TransactionCanceledException", "cancelled", CancellationReasons=reasons
            ),
        )
    )
    with pytest.raises(TransactionCanceled) as raised:
        client_for(fault_proxy).transact_write_items({"TransactItems": []})
    assert raised.value.codes == ["None", "ConditionalCheckFailed"]
    assert raised.value.reasons[1].item == {"pk": {"S": "x"}}
    assert raised.value.reasons[1].message == "failed"


def test_expired_token_refreshes_credentials_once(fault_proxy: FaultProxy) -> None:
    class Provider:
        def __init__(self) -> None:
            self.invalidations = 0

        def get(self) -> Credentials:
            return Credentials("AKID", "secret", f"token-{self.invalidations}")

        def invalidate(self) -> None:
            self.invalidations += 1

    provider = Provider()
    fault_proxy.script(
        Fault.respond(400, aws_error_body("ExpiredTokenException", "The security token expired"))
    )
    client = DynamoDB(
        endpoint_url=fault_proxy.endpoint,
        region="eu-west-1",
        credentials=provider,  # type: ignore[arg-type]
    )
    assert client.get_item({"TableName": "t", "Key": {}}) == {}
    tokens = [request.headers["X-Amz-Security-Token"] for request in fault_proxy.requests]
    assert tokens == ["token-0", "token-1"]


def test_a_corrupted_response_is_retried(fault_proxy: FaultProxy) -> None:
    body = b'{"Item": {"pk": {"S": "a"}}}'
    good = str(zlib.crc32(body))
    fault_proxy.script(
        Fault.respond(200, body, headers={"x-amz-crc32": str(int(good) ^ 1)}),
        Fault.respond(200, body, headers={"x-amz-crc32": good}),
    )
    assert client_for(fault_proxy).get_item({"TableName": "t", "Key": {}}) == {
        "Item": {"pk": {"S": "a"}}
    }
    assert len(fault_proxy.requests) == 2


def test_requests_are_signed_for_the_service_and_target(fault_proxy: FaultProxy) -> None:
    client_for(fault_proxy).query({"TableName": "t"})
    (request,) = fault_proxy.requests
    assert request.operation == "Query"
    assert request.headers["X-Amz-Target"] == "DynamoDB_20120810.Query"
    assert request.headers["Content-Type"] == "application/x-amz-json-1.0"
    assert "/eu-west-1/dynamodb/aws4_request" in request.headers["Authorization"]
    assert (
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target"
        in (request.headers["Authorization"])
    )
    assert request.body == b'{"TableName":"t"}'


def test_raw_bytes_are_sent_as_given(fault_proxy: FaultProxy) -> None:
    fault_proxy.script(Fault.respond(200, b'{"Count":0,"Items":[],"ScannedCount":0}'))
    raw = client_for(fault_proxy).query_raw(b'{"TableName":"pre-encoded"}')
    assert raw == b'{"Count":0,"Items":[],"ScannedCount":0}'
    assert fault_proxy.requests[0].body == b'{"TableName":"pre-encoded"}'


def test_reset_reopens_connections_and_reloads_credentials(fault_proxy: FaultProxy) -> None:
    class Provider:
        def __init__(self) -> None:
            self.invalidations = 0

        def get(self) -> Credentials:
            return Credentials("AKID", "secret", f"token-{self.invalidations}")

        def invalidate(self) -> None:
            self.invalidations += 1

    provider = Provider()
    client = DynamoDB(
        endpoint_url=fault_proxy.endpoint,
        region="eu-west-1",
        credentials=provider,  # type: ignore[arg-type]
    )
    client.get_item({"TableName": "t", "Key": {}})
    client.client.reset()  # what a SnapStart after-restore hook calls
    client.get_item({"TableName": "t", "Key": {}})
    assert fault_proxy.connections == client.client.connection.connects == 2
    tokens = [request.headers["X-Amz-Security-Token"] for request in fault_proxy.requests]
    assert tokens == ["token-0", "token-1"]
