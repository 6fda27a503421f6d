"""The GraphQL shape of the contracts: names, enums, exact integers, maps, both ways."""

from __future__ import annotations

import typing
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotcore.codec.graphql import (
    EventShapes,
    camel,
    enum_value,
    struct_converters,
)
from hotcore.contracts.account import AccountState, Deposit, Deposited
from hotcore.contracts.common import Envelope
from hotcore.contracts.inventory import InventoryState
from hotcore.contracts.order import OrderLine, PlaceOrder
from hotcore.domain.registry import aggregates
from tests.support.contract_strategies import for_type


def test_names_and_enum_values() -> None:
    assert camel("account_id") == "accountId"
    assert camel("unit_price") == "unitPrice"
    assert camel("sku") == "sku"
    assert enum_value("open") == "OPEN"
    assert enum_value("in-progress") == "IN_PROGRESS"


def test_amounts_are_exact_decimal_strings_and_small_counts_stay_ints() -> None:
    to, back = struct_converters(PlaceOrder)
    order = PlaceOrder(
        order_id="o-1",
        customer_id="c-1",
        account_id="a-1",
        lines=[OrderLine(sku="s", quantity=3, unit_price=10**15)],
    )
    shaped = to(msgspec.to_builtins(order))
    assert shaped == {
        "orderId": "o-1",
        "customerId": "c-1",
        "accountId": "a-1",
        "lines": [{"sku": "s", "quantity": 3, "unitPrice": "1000000000000000"}],
    }
    assert msgspec.convert({**back(shaped), "type": "PlaceOrder"}, PlaceOrder) == order


def test_states_have_enums_and_maps_as_entries() -> None:
    to, _ = struct_converters(AccountState)
    state = AccountState(account_id="a", status="open", owner_id="o", balance=2**62)
    assert to(msgspec.to_builtins(state)) == {
        "accountId": "a",
        "status": "OPEN",
        "ownerId": "o",
        "balance": str(2**62),
    }
    to, back = struct_converters(InventoryState)
    stock = InventoryState(sku="s", on_hand=9, reservations={"o-1": 2, "o-2": 3})
    shaped = to(msgspec.to_builtins(stock))
    assert shaped["reservations"] == [
        {"key": "o-1", "value": "2"},
        {"key": "o-2", "value": "3"},
    ]
    assert msgspec.convert(back(shaped), InventoryState) == stock


def test_what_cannot_be_mapped_is_left_for_the_contract_to_refuse() -> None:
    _, back = struct_converters(Deposit)
    for amount in ("12.5", "1e3", 12.5, "twelve"):
        with pytest.raises(msgspec.ValidationError, match=r"\$\.amount"):
            msgspec.convert(
                {**back({"accountId": "a", "amount": amount}), "type": "Deposit"}, Deposit
            )
    with pytest.raises(msgspec.ValidationError, match="tip"):
        msgspec.convert(
            {**back({"accountId": "a", "amount": "1", "tip": 2}), "type": "Deposit"}, Deposit
        )


def test_an_event_carries_the_envelope_fields_and_its_typename_but_no_actor() -> None:
    shapes = EventShapes(aggregates()["account"].event_type)
    envelope = Envelope(
        stream_id="a",
        version=2,
        type="Deposited",
        schema_version=2,
        data=Deposited(amount=5, memo="m"),
        command_id="k",
        correlation_id="k",
        timestamp=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        actor="arn:aws:sts::1:assumed-role/x",
    )
    shaped = shapes.envelope(envelope)
    assert shaped == {
        "__typename": "Deposited",
        "streamId": "a",
        "version": 2,
        "type": "Deposited",
        "schemaVersion": 2,
        "commandId": "k",
        "correlationId": "k",
        "causationId": None,
        "timestamp": "2026-01-02T03:04:05Z",
        "amount": "5",
        "memo": "m",
        "currency": "EUR",
    }
    assert "arn:aws" not in msgspec.json.encode(shaped).decode()


def _contracts() -> list[type[Any]]:
    found: list[type[Any]] = []
    for aggregate in aggregates().values():
        for union in (aggregate.command_type, aggregate.query_type, aggregate.event_type):
            found += typing.get_args(union) or [union]
        found.append(aggregate.state_type)
    return found


@pytest.mark.parametrize("cls", _contracts(), ids=lambda c: c.__name__)
@settings(max_examples=25, deadline=None, derandomize=True)
@given(data=st.data())
def test_every_contract_round_trips_through_its_graphql_shape(cls: type[Any], data: Any) -> None:
    value = data.draw(for_type(cls))
    to, back = struct_converters(cls)
    builtins = msgspec.to_builtins(value)
    shaped = to(builtins)
    assert all("_" not in key for key in shaped)
    restored = back(shaped)
    tag = cls.__struct_config__.tag_field
    if tag is not None:
        restored[tag] = builtins[tag]
    assert msgspec.convert(restored, cls) == value
