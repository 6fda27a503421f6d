"""Contracts: decoding is validation, and decode(encode(x)) == x for every contract."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotcore.contracts.account import AccountCommand, AccountEvent, Deposit
from hotcore.contracts.common import Envelope
from hotcore.contracts.customer import CustomerCommand, RegisterCustomer
from hotcore.contracts.order import OrderCommand, PlaceOrder
from hotcore.domain.registry import aggregates
from tests.support.contract_strategies import for_type

ALL_TYPES: list[Any] = []
for _aggregate in aggregates().values():
    ALL_TYPES += [
        _aggregate.command_type,
        _aggregate.event_type,
        _aggregate.query_type,
        _aggregate.state_type,
        Envelope[_aggregate.event_type],
    ]


@pytest.mark.parametrize("tp", ALL_TYPES, ids=repr)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_decode_of_encode_is_identity(tp: Any, data: st.DataObject) -> None:
    value = data.draw(for_type(tp))
    assert msgspec.json.decode(msgspec.json.encode(value), type=tp) == value
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(value), type=tp) == value


def decode(tp: Any, raw: str) -> Any:
    return msgspec.json.decode(raw, type=tp)


@pytest.mark.parametrize(
    ("tp", "raw", "error"),
    [
        (AccountCommand, '{"type":"Deposit","account_id":"a","amount":-5}', "`$.amount`"),
        (AccountCommand, '{"type":"Deposit","account_id":"a","amount":0}', "`$.amount`"),
        (AccountCommand, '{"type":"Deposit","account_id":"a","amount":1.5}', "`$.amount`"),
        (AccountCommand, '{"type":"Deposit","account_id":"a","amount":"5"}', "`$.amount`"),
        (AccountCommand, '{"type":"Deposit","account_id":"","amount":5}', "`$.account_id`"),
        (AccountCommand, '{"type":"Deposit","account_id":"a b","amount":5}', "`$.account_id`"),
        (AccountCommand, '{"type":"Deposit","account_id":"a#1","amount":5}', "`$.account_id`"),
        (
            AccountCommand,
            '{"type":"Deposit","account_id":"a","amount":5,"x":1}',
            "unknown field `x`",
        ),
        (AccountCommand, '{"type":"Deposit","amount":5}', "missing required field `account_id`"),
        (AccountCommand, '{"type":"Steal","account_id":"a"}', "`$.type`"),
        (
            CustomerCommand,
            '{"type":"RegisterCustomer","customer_id":"c","email":"nope","name":"N"}',
            "`$.email`",
        ),
        (
            OrderCommand,
            '{"type":"PlaceOrder","order_id":"o","customer_id":"c","account_id":"a","lines":[]}',
            "`$.lines`",
        ),
        (
            OrderCommand,
            '{"type":"PlaceOrder","order_id":"o","customer_id":"c","account_id":"a",'
            '"lines":[{"sku":"s","quantity":0,"unit_price":1}]}',
            "`$.lines[0].quantity`",
        ),
    ],
)
def test_bad_input_fails_with_an_error_naming_the_field(tp: Any, raw: str, error: str) -> None:
    with pytest.raises(
        msgspec.ValidationError, match=error.replace("[", r"\[").replace("$", r"\$")
    ):
        decode(tp, raw)


def test_good_input_decodes_to_the_tagged_struct() -> None:
    assert decode(AccountCommand, '{"type":"Deposit","account_id":"a","amount":5}') == Deposit(
        account_id="a", amount=5
    )
    assert isinstance(
        decode(
            CustomerCommand,
            '{"type":"RegisterCustomer","customer_id":"c","email":"a@b.io","name":"A"}',
        ),
        RegisterCustomer,
    )
    placed = decode(
        OrderCommand,
        '{"type":"PlaceOrder","order_id":"o","customer_id":"c","account_id":"a",'
        '"lines":[{"sku":"s","quantity":2,"unit_price":150}]}',
    )
    assert isinstance(placed, PlaceOrder)
    assert placed.lines[0].unit_price == 150


def test_an_envelope_must_agree_with_its_data_type() -> None:
    raw = (
        '{"stream_id":"a","version":1,"type":"Withdrawn","data":{"type":"Deposited","amount":1},'
        '"command_id":"c","correlation_id":"c","timestamp":"2026-01-01T00:00:00Z","actor":"x"}'
    )
    with pytest.raises(msgspec.ValidationError, match="does not match"):
        decode(Envelope[AccountEvent], raw)
    with pytest.raises(msgspec.ValidationError, match=r"`\$\.version`"):
        decode(Envelope[AccountEvent], raw.replace('"version":1', '"version":0'))
