"""hotcore.aws.DynamoDB against moto over real HTTP: the operations the event store relies on.

Each test makes its own table (moto's state is shared by the session). Requests
and responses are in DynamoDB's wire shape; the codec turns items into values.
"""

from __future__ import annotations

import pytest

from hotcore.aws.dynamodb import DynamoDB
from hotcore.aws.errors import (
    ConditionalCheckFailed,
    ResourceNotFound,
    TransactionCanceled,
    ValidationFailed,
)
from hotcore.codec.dynamodb import deserialize_item, serialize_item
from hotcore_dev.emulator import TEST_CREDENTIALS, TEST_REGION, MotoServer, create_table
from tests.support.fault_proxy import Fault, FaultProxy
from tests.support.fixtures import (  # noqa: F401
    moto_fault_proxy_fixture,
    moto_server_fixture,
    unique_name_fixture,
)


@pytest.fixture
def table(moto_server: MotoServer, unique_name: str) -> str:
    create_table(moto_server.dynamodb(), unique_name, hash_key="stream_id", range_key="version")
    return unique_name


@pytest.fixture
def dynamodb(moto_server: MotoServer) -> DynamoDB:
    return moto_server.dynamodb()


def event(stream: str, version: int, **data: object) -> dict[str, object]:
    return {"stream_id": stream, "version": version, "type": "Deposited", "data": data}


def test_put_then_get_round_trips_an_item(dynamodb: DynamoDB, table: str) -> None:
    item = event("acc-1", 1, amount=250, note="salary", tags={"a", "b"})
    dynamodb.put_item({"TableName": table, "Item": serialize_item(item)})
    got = dynamodb.get_item(
        {
            "TableName": table,
            "Key": serialize_item({"stream_id": "acc-1", "version": 1}),
            "ConsistentRead": True,
        }
    )
    assert deserialize_item(got["Item"]) == item


def test_get_of_a_missing_item_is_empty(dynamodb: DynamoDB, table: str) -> None:
    key = serialize_item({"stream_id": "nobody", "version": 1})
    assert dynamodb.get_item({"TableName": table, "Key": key}) == {}


def test_query_returns_a_stream_in_version_order(dynamodb: DynamoDB, table: str) -> None:
    for version in (3, 1, 2):
        dynamodb.put_item({"TableName": table, "Item": serialize_item(event("s", version))})
    dynamodb.put_item({"TableName": table, "Item": serialize_item(event("other", 1))})
    page = dynamodb.query(
        {
            "TableName": table,
            "KeyConditionExpression": "stream_id = :s",
            "ExpressionAttributeValues": {":s": {"S": "s"}},
            "ConsistentRead": True,
        }
    )
    assert [deserialize_item(item)["version"] for item in page["Items"]] == [1, 2, 3]
    assert page["Count"] == 3
    assert "LastEvaluatedKey" not in page


def test_query_pages_with_last_evaluated_key(dynamodb: DynamoDB, table: str) -> None:
    for version in range(1, 6):
        dynamodb.put_item({"TableName": table, "Item": serialize_item(event("s", version))})
    request: dict[str, object] = {
        "TableName": table,
        "KeyConditionExpression": "stream_id = :s",
        "ExpressionAttributeValues": {":s": {"S": "s"}},
        "Limit": 2,
    }
    versions: list[object] = []
    pages = 0
    while True:
        page = dynamodb.query(request)
        pages += 1
        versions += [deserialize_item(item)["version"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert versions == [1, 2, 3, 4, 5]
    assert pages >= 3


def test_query_raw_returns_the_response_bytes(dynamodb: DynamoDB, table: str) -> None:
    dynamodb.put_item({"TableName": table, "Item": serialize_item(event("s", 1))})
    raw = dynamodb.query_raw(
        {
            "TableName": table,
            "KeyConditionExpression": "stream_id = :s",
            "ExpressionAttributeValues": {":s": {"S": "s"}},
        }
    )
    assert isinstance(raw, bytes)
    assert b'"stream_id":{"S":"s"}' in raw.replace(b" ", b"")


def test_failed_condition_returns_the_old_item(dynamodb: DynamoDB, table: str) -> None:
    first = event("s", 1, command_id="c-1")
    dynamodb.put_item({"TableName": table, "Item": serialize_item(first)})
    with pytest.raises(ConditionalCheckFailed) as raised:
        dynamodb.put_item(
            {
                "TableName": table,
                "Item": serialize_item(event("s", 1, command_id="c-2")),
                "ConditionExpression": "attribute_not_exists(stream_id)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        )
    assert raised.value.item is not None
    assert deserialize_item(raised.value.item) == first


def test_transaction_cancellation_names_the_failing_action(dynamodb: DynamoDB, table: str) -> None:
    dynamodb.put_item({"TableName": table, "Item": serialize_item(event("s", 2))})
    condition = {
        "ConditionExpression": "attribute_not_exists(stream_id)",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    with pytest.raises(TransactionCanceled) as raised:
        dynamodb.transact_write_items(
            {
                "TransactItems": [
                    {
                        "Put": {
                            "TableName": table,
                            "Item": serialize_item(event("s", v)),
                            **condition,
                        }
                    }
                    for v in (1, 2, 3)
                ],
                "ClientRequestToken": "cmd-42",
            }
        )
    assert raised.value.codes == ["None", "ConditionalCheckFailed", "None"]
    assert deserialize_item(raised.value.reasons[1].item or {}) == event("s", 2)
    # Nothing of the cancelled transaction was written.
    key = serialize_item({"stream_id": "s", "version": 1})
    assert dynamodb.get_item({"TableName": table, "Key": key}) == {}


def test_transaction_writes_all_items(dynamodb: DynamoDB, table: str) -> None:
    dynamodb.transact_write_items(
        {
            "TransactItems": [
                {"Put": {"TableName": table, "Item": serialize_item(event("s", v))}} for v in (1, 2)
            ]
        }
    )
    got = dynamodb.batch_get_item(
        {
            "RequestItems": {
                table: {"Keys": [serialize_item({"stream_id": "s", "version": v}) for v in (1, 2)]}
            }
        }
    )
    assert sorted(deserialize_item(item)["version"] for item in got["Responses"][table]) == [1, 2]


def test_missing_table_is_resource_not_found(dynamodb: DynamoDB, unique_name: str) -> None:
    with pytest.raises(ResourceNotFound):
        dynamodb.get_item({"TableName": unique_name, "Key": {"stream_id": {"S": "x"}}})


def test_a_bad_key_is_a_validation_error(dynamodb: DynamoDB, table: str) -> None:
    with pytest.raises(ValidationFailed):
        dynamodb.get_item({"TableName": table, "Key": {"nope": {"S": "x"}}})


def test_one_kept_alive_connection_serves_many_calls(moto_server: MotoServer, table: str) -> None:
    dynamodb = moto_server.dynamodb()
    for version in range(1, 21):
        dynamodb.put_item({"TableName": table, "Item": serialize_item(event("s", version))})
        dynamodb.get_item(
            {"TableName": table, "Key": serialize_item({"stream_id": "s", "version": version})}
        )
    assert dynamodb.client.connection.connects == 1
    assert dynamodb.client.retries == 0


def test_a_write_whose_answer_was_lost_is_retried_and_seen_as_done(
    moto_fault_proxy: FaultProxy, table: str
) -> None:
    """The connection drops after moto stored the item: the retry meets its own write."""
    dynamodb = DynamoDB(
        endpoint_url=moto_fault_proxy.endpoint,
        region=TEST_REGION,
        credentials=TEST_CREDENTIALS,
        sleep=lambda _: None,
    )
    moto_fault_proxy.script(Fault.drop_after(operation="PutItem"))
    item = event("s", 1, command_id="c-1")
    with pytest.raises(ConditionalCheckFailed) as raised:
        dynamodb.put_item(
            {
                "TableName": table,
                "Item": serialize_item(item),
                "ConditionExpression": "attribute_not_exists(stream_id)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        )
    # The old item is the one this very call wrote: a store tells "mine" by command id.
    assert deserialize_item(raised.value.item or {}) == item
    assert [r.fault for r in moto_fault_proxy.requests] == ["drop_after", None]
