"""The fast read path: Query/GetItem bytes straight into Structs, checked against the slow path.

The oracle is the obvious decoder: parse the JSON, ``deserialize_item`` each item,
``msgspec.convert`` it to the type. The fast path must give the same values, and
the same refusals, for every page.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from msgspec import Meta, Struct

from hotcore.codec.dynamodb import deserialize_item
from hotcore.codec.query_page import ItemCodec, Page, decode_page, page_decoder
from hotcore.contracts.account import (
    AccountClosed,
    AccountEvent,
    AccountOpened,
    Deposited,
    Withdrawn,
)
from hotcore.contracts.common import Envelope
from hotcore_dev.emulator import MotoServer, create_table
from tests.support.examples import examples
from tests.support.fixtures import moto_server_fixture, unique_name_fixture  # noqa: F401

# DynamoDB numbers hold 38 significant digits: larger ints are refused, correctly
NUMBERS = st.integers(-(10**30), 10**30)
AccountEnvelope = Envelope[AccountEvent]
ids = st.from_regex(r"[A-Za-z0-9._:@-]{1,24}", fullmatch=True)
texts = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=30)
amounts = st.integers(min_value=1, max_value=10**15)
events = st.one_of(
    st.builds(AccountOpened, owner_id=ids),
    st.builds(Deposited, amount=amounts, memo=st.none() | texts),
    st.builds(Withdrawn, amount=amounts, reference=st.none() | texts),
    st.builds(AccountClosed),
)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


def _valid(envelope: AccountEnvelope) -> bool:
    """True when the contracts' own constraints accept ``envelope`` (they may tighten)."""
    try:
        msgspec.convert(msgspec.to_builtins(envelope), AccountEnvelope)
    except msgspec.ValidationError:
        return False
    return True


@st.composite
def envelopes(draw: st.DrawFn) -> AccountEnvelope:
    data = draw(events)
    envelope = Envelope(
        stream_id=draw(ids),
        version=draw(st.integers(min_value=1, max_value=2**31 - 1)),
        type=type(data).__name__,
        data=data,
        command_id=draw(ids),
        correlation_id=draw(ids),
        causation_id=draw(st.none() | ids),
        timestamp=draw(times),
        actor=draw(texts),
    )
    assume(_valid(envelope))
    return envelope


def page_bytes(items: list[dict[str, Any]], last_key: dict[str, Any] | None = None) -> bytes:
    body: dict[str, Any] = {"Items": items, "Count": len(items), "ScannedCount": len(items) + 1}
    if last_key is not None:
        body["LastEvaluatedKey"] = last_key
    return msgspec.json.encode(body)


def slow_path(raw: bytes, item_type: Any) -> list[Any]:
    parsed = msgspec.json.decode(raw)
    return [msgspec.convert(deserialize_item(item), item_type) for item in parsed["Items"]]


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(envelopes(), max_size=8))
def test_envelope_pages_decode_like_the_slow_path(values: list[AccountEnvelope]) -> None:
    codec = page_decoder(AccountEnvelope)
    raw = page_bytes([codec.to_attribute_values(value) for value in values])
    page = codec.decode_page(raw)
    assert page.items == values
    assert page.items == slow_path(raw, AccountEnvelope)
    assert (page.count, page.scanned_count, page.last_evaluated_key) == (
        len(values),
        len(values) + 1,
        None,
    )


def test_page_keeps_the_last_evaluated_key_for_the_next_request() -> None:
    key = {"stream_id": {"S": "acc-1"}, "version": {"N": "100"}}
    page = decode_page(page_bytes([], key), AccountEnvelope)
    assert page == Page(items=[], last_evaluated_key=key, count=0, scanned_count=1)


def test_an_envelope_item_in_dynamodb_shape() -> None:
    raw = page_bytes(
        [
            {
                "stream_id": {"S": "acc-1"},
                "version": {"N": "7"},
                "type": {"S": "Deposited"},
                "data": {"M": {"type": {"S": "Deposited"}, "amount": {"N": "250"}}},
                "command_id": {"S": "cmd-1"},
                "correlation_id": {"S": "corr-1"},
                "causation_id": {"NULL": True},
                "timestamp": {"S": "2024-05-01T12:00:00Z"},
                "actor": {"S": "user:alice"},
                "sk": {"S": "EVENT#0000000007"},  # a store's own attribute: ignored
            }
        ]
    )
    (item,) = decode_page(raw, AccountEnvelope).items
    assert item == Envelope(
        stream_id="acc-1",
        version=7,
        type="Deposited",
        data=Deposited(amount=250),
        command_id="cmd-1",
        correlation_id="corr-1",
        causation_id=None,
        timestamp=datetime(2024, 5, 1, 12, tzinfo=UTC),
        actor="user:alice",
    )


def envelope_item(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "stream_id": {"S": "acc-1"},
        "version": {"N": "1"},
        "type": {"S": "Deposited"},
        "data": {"M": {"type": {"S": "Deposited"}, "amount": {"N": "5"}}},
        "command_id": {"S": "c"},
        "correlation_id": {"S": "c"},
        "timestamp": {"S": "2024-05-01T12:00:00Z"},
        "actor": {"S": "a"},
    }
    item.update(overrides)
    return item


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"version": {"N": "0"}}, r"Expected `int` >= 1 - at `\$.Items\[1\].version.N`"),
        ({"version": {"S": "1"}}, r"unknown field `S` - at `\$.Items\[1\].version`"),
        (
            {"data": {"M": {"type": {"S": "Deposited"}, "amount": {"N": "-5"}}}},
            r"Expected `int` >.* - at `\$.Items\[1\].data.M.amount.N`",
        ),
        (
            {"data": {"M": {"type": {"S": "Robbed"}}}},
            r"expected type one of .*'Deposited'.* got 'Robbed' - at `\$.Items\[1\].data.M`",
        ),
        ({"timestamp": {"S": "yesterday"}}, r"Invalid RFC3339.* `\$.Items\[1\].timestamp.S`"),
        ({"causation_id": {}}, r"none of the expected types \['S', 'NULL'\]"),
    ],
)
def test_bad_items_are_refused_with_their_path(override: dict[str, Any], message: str) -> None:
    raw = page_bytes([envelope_item(), envelope_item(**override)])
    with pytest.raises(msgspec.ValidationError, match=message):
        decode_page(raw, AccountEnvelope)
    # The slow path refuses them too.
    with pytest.raises((msgspec.ValidationError, TypeError, ValueError)):
        slow_path(raw, AccountEnvelope)


def test_a_mismatched_envelope_type_is_refused() -> None:
    raw = page_bytes([envelope_item(type={"S": "Withdrawn"})])
    with pytest.raises(msgspec.ValidationError, match="does not match"):
        decode_page(raw, AccountEnvelope)


# ---------------------------------------------------------------- every supported field type


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Line(Struct, frozen=True, forbid_unknown_fields=True):
    sku: str
    quantity: Annotated[int, Meta(ge=0)]


class Everything(Struct, frozen=True, kw_only=True):
    text: str
    whole: int
    real: float
    money: Decimal
    flag: bool
    blob: bytes
    at: datetime
    day: date
    uid: uuid.UUID
    colour: Colour
    level: Level
    kind: Literal["a", "b"]
    maybe: int | None
    either: str | int
    numbers: list[int]
    words: tuple[str, ...]
    tags: set[str]
    counts: frozenset[int]
    blobs: set[bytes]
    scores: dict[str, int]
    optional_scores: dict[str, Decimal | None]
    line: Line
    lines: list[Line]
    nested: list[list[str]]
    anything: Any
    renamed: str = msgspec.field(default="x", name="Renamed")
    defaulted: int = 42
    factory: list[str] = msgspec.field(default_factory=list)


everything = st.builds(
    Everything,
    text=st.text(max_size=10),
    whole=NUMBERS,
    real=st.sampled_from([0.5, -2.25, 1e20, 3.0, 0.0]),
    money=st.decimals(
        allow_nan=False, allow_infinity=False, places=4, max_value=10**20, min_value=-(10**20)
    ),
    flag=st.booleans(),
    blob=st.binary(max_size=10),
    at=times,
    day=st.dates(),
    uid=st.uuids(),
    colour=st.sampled_from(Colour),
    level=st.sampled_from(Level),
    kind=st.sampled_from(["a", "b"]),
    maybe=st.none() | NUMBERS,
    either=st.text(max_size=5) | NUMBERS,
    numbers=st.lists(NUMBERS, max_size=4),
    words=st.lists(st.text(max_size=5), max_size=3).map(tuple),
    tags=st.sets(st.text(max_size=5), max_size=3),
    counts=st.frozensets(st.integers(-100, 100), max_size=3),
    blobs=st.sets(st.binary(min_size=1, max_size=4), max_size=3),
    scores=st.dictionaries(st.text(max_size=5), NUMBERS, max_size=3),
    optional_scores=st.dictionaries(
        st.text(max_size=5),
        st.none() | st.decimals(places=2, max_value=10**6, min_value=-(10**6)),
        max_size=3,
    ),
    line=st.builds(Line, sku=st.text(max_size=5), quantity=st.integers(0, 100)),
    lines=st.lists(
        st.builds(Line, sku=st.text(max_size=5), quantity=st.integers(0, 100)), max_size=3
    ),
    nested=st.lists(st.lists(st.text(max_size=3), max_size=2), max_size=2),
    anything=st.none() | NUMBERS | st.text(max_size=5) | st.lists(NUMBERS, max_size=2),
    renamed=st.text(max_size=5),
    defaulted=NUMBERS,
    factory=st.lists(st.text(max_size=3), max_size=2),
)


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(everything, max_size=4))
def test_every_supported_field_type_round_trips(values: list[Everything]) -> None:
    codec = ItemCodec(Everything)
    raw = page_bytes([codec.to_attribute_values(value) for value in values])
    assert codec.decode_page(raw).items == values


@settings(max_examples=examples(50), deadline=None)
@given(everything)
def test_absent_attributes_take_the_field_defaults(value: Everything) -> None:
    codec = ItemCodec(Everything)
    full = codec.to_attribute_values(value)
    for name in ("Renamed", "defaulted", "factory"):
        del full[name]
    item = codec.decode_item(msgspec.json.encode(full))
    assert (item.renamed, item.defaulted, item.factory) == ("x", 42, [])


def test_get_item_responses_and_parsed_images() -> None:
    codec = page_decoder(AccountEnvelope)
    item = envelope_item()
    decoded = codec.decode_item_response(msgspec.json.encode({"Item": item}))
    assert decoded is not None
    assert decoded.data == Deposited(amount=5)
    assert codec.decode_item_response(b"{}") is None
    assert codec.from_attribute_values(item) == decoded


def test_only_struct_types_are_accepted() -> None:
    with pytest.raises(TypeError, match="msgspec Struct type"):
        ItemCodec(dict)  # type: ignore[arg-type]


def test_the_codec_is_built_once_per_type() -> None:
    assert page_decoder(AccountEnvelope) is page_decoder(AccountEnvelope)


# ---------------------------------------------------------------- over HTTP, from moto


def test_query_pages_from_moto_decode_into_envelopes(
    moto_server: MotoServer, unique_name: str
) -> None:
    dynamodb = moto_server.dynamodb()
    create_table(dynamodb, unique_name, hash_key="stream_id", range_key="version")
    codec = page_decoder(AccountEnvelope)
    written = [
        Envelope(
            stream_id="acc-9",
            version=version,
            type="Deposited",
            data=Deposited(amount=version * 10, memo=f"r{version}"),
            command_id=f"cmd-{version}",
            correlation_id="corr",
            timestamp=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=version),
            actor="tester",
        )
        for version in range(1, 8)
    ]
    for envelope in written:
        dynamodb.put_item({"TableName": unique_name, "Item": codec.to_attribute_values(envelope)})
    request: dict[str, Any] = {
        "TableName": unique_name,
        "KeyConditionExpression": "stream_id = :s",
        "ExpressionAttributeValues": {":s": {"S": "acc-9"}},
        "ConsistentRead": True,
        "Limit": 3,
    }
    read: list[AccountEnvelope] = []
    while True:
        page = codec.decode_page(dynamodb.query_raw(request))
        read.extend(page.items)
        if page.last_evaluated_key is None:
            break
        request["ExclusiveStartKey"] = page.last_evaluated_key
    assert read == written
