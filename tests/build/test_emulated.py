"""The compiled hot path gives the same results as its pure-Python source.

Every test here is marked ``emulated``: it runs in the host runs of ``make test``
(pure and compiled x86_64) and again under qemu-aarch64 with arm64 CPython against
the aarch64 wheel (``python -m tools.layer test-emulated``). Where a module is
compiled, its pure twin (the .py the wheel keeps beside the extension) is the oracle,
fed the same inputs in the same interpreter: results and errors must be identical.
In the pure build there is no twin and those tests skip; the end-to-end command test
also checks concrete outcomes, so it means something in every build.

Tests that join the emulated subset import only hotcore, msgspec, pytest and
hypothesis, and set ``deadline=None`` (emulation is slow).
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from decimal import Decimal
from types import ModuleType
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotcore.contracts.account import (
    AccountEvent,
    AccountState,
    CloseAccount,
    Deposit,
    OpenAccount,
    Withdraw,
)
from hotcore.contracts.common import CommandAck, Rejected
from hotcore.domain.account import ACCOUNT
from hotcore.domain.registry import aggregates
from hotcore.service.command import CommandService
from hotcore.service.query import QueryService
from hotcore.store.memory import MemoryDatabase, MemoryEventStore
from hotcore_dev.compiled import is_compiled, pure_twin
from tests.support.contract_strategies import for_type

pytestmark = pytest.mark.emulated

AGGREGATES = sorted(aggregates())
# The number of examples comes from the profile: hypothesis' default on the host, fewer
# under emulation (tools.layer loads a profile there).
EXAMPLES = settings(deadline=None)


def twin_or_skip(module: ModuleType) -> ModuleType:
    twin = pure_twin(module)
    if twin is None:
        pytest.skip(f"{module.__name__} is not compiled in this build")
    return twin


def exact(value: Any) -> Any:
    """value with every type made explicit, so 1 != True and Decimal('1.0') != Decimal('1')."""
    if isinstance(value, dict):
        return ("dict", sorted((repr(k), exact(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value).__name__, [exact(v) for v in value])
    if isinstance(value, set | frozenset):
        return (type(value).__name__, sorted(repr(exact(v)) for v in value))
    if isinstance(value, Decimal):
        return ("Decimal", str(value))
    return (type(value).__name__, value)


def outcome(function: Any, *args: Any) -> tuple[str, Any]:
    """What a call did: its exact result, or the type and message of what it raised."""
    try:
        return ("returned", exact(function(*args)))
    except Exception as exc:
        return ("raised", (type(exc).__name__, str(exc)))


# ---------------------------------------------------------------- the DynamoDB codec

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.decimals(allow_nan=True, places=None)
    | st.floats()
    | st.text(max_size=12)
    | st.binary(max_size=12)
)
unsupported = st.sampled_from([object(), 1j, range(2), datetime(2020, 1, 1, tzinfo=UTC)])
values = st.recursive(
    scalars
    | unsupported
    | st.sets(st.text(max_size=4), max_size=4)
    | st.sets(st.integers(-1000, 1000), max_size=4)
    | st.sets(st.binary(max_size=4), max_size=4),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)
# Attribute values as DynamoDB might send them, well-formed or not.
attribute_values = st.recursive(
    st.dictionaries(
        st.sampled_from(["S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "X"]),
        st.none() | st.booleans() | st.text(max_size=8) | st.lists(st.text(max_size=4), max_size=3),
        min_size=1,
        max_size=2,
    ),
    lambda inner: (
        st.builds(lambda xs: {"L": xs}, st.lists(inner, max_size=3))
        | st.builds(lambda m: {"M": m}, st.dictionaries(st.text(max_size=4), inner, max_size=3))
    ),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def codec() -> tuple[ModuleType, ModuleType]:
    module = importlib.import_module("hotcore.codec.dynamodb")
    return module, twin_or_skip(module)


@EXAMPLES
@given(value=values)
def test_codec_serialize_matches_pure(codec: tuple[ModuleType, ModuleType], value: Any) -> None:
    compiled, pure = codec
    assert outcome(compiled.serialize, value) == outcome(pure.serialize, value)


@EXAMPLES
@given(item=st.dictionaries(st.text(max_size=6), values, max_size=4))
def test_codec_round_trip_matches_pure(
    codec: tuple[ModuleType, ModuleType], item: dict[str, Any]
) -> None:
    compiled, pure = codec
    stored = outcome(compiled.serialize_item, item)
    assert stored == outcome(pure.serialize_item, item)
    if stored[0] == "returned":
        encoded = compiled.serialize_item(item)
        assert outcome(compiled.deserialize_item, encoded) == outcome(
            pure.deserialize_item, encoded
        )


@EXAMPLES
@given(av=attribute_values)
def test_codec_deserialize_matches_pure_on_any_input(
    codec: tuple[ModuleType, ModuleType], av: dict[str, Any]
) -> None:
    compiled, pure = codec
    assert outcome(compiled.deserialize, av) == outcome(pure.deserialize, av)


# ---------------------------------------------------------------- the reducers


def reducer_pair(name: str) -> tuple[ModuleType, ModuleType]:
    module = importlib.import_module(f"hotcore.domain.{name}.reducer")
    return module, twin_or_skip(module)


@pytest.mark.parametrize("name", AGGREGATES)
@EXAMPLES
@given(data=st.data())
def test_fold_matches_pure(name: str, data: st.DataObject) -> None:
    compiled, pure = reducer_pair(name)
    aggregate = aggregates()[name]
    events = data.draw(st.lists(for_type(aggregate.event_type), max_size=25), label="events")
    stream_id = data.draw(st.text(min_size=1, max_size=8), label="stream_id")
    assert outcome(compiled.initial, stream_id) == outcome(pure.initial, stream_id)
    start = compiled.initial(stream_id)
    assert outcome(compiled.fold, start, events) == outcome(pure.fold, start, events)


@pytest.mark.parametrize("name", AGGREGATES)
@EXAMPLES
@given(data=st.data())
def test_evolve_matches_pure(name: str, data: st.DataObject) -> None:
    compiled, pure = reducer_pair(name)
    aggregate = aggregates()[name]
    event = data.draw(for_type(aggregate.event_type), label="event")
    state = compiled.initial("s-1")
    assert outcome(compiled.evolve, state, event) == outcome(pure.evolve, state, event)


# ---------------------------------------------------------------- one command flow, end to end

T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
SCRIPT = [
    OpenAccount(account_id="acc-1", owner_id="cust-1"),
    Deposit(account_id="acc-1", amount=700),
    Deposit(account_id="acc-1", amount=300, reference="salary"),
    Withdraw(account_id="acc-1", amount=1_500),  # overdraft: rejected
    Withdraw(account_id="acc-1", amount=250),
    CloseAccount(account_id="acc-1"),  # 750 left: rejected
    Withdraw(account_id="acc-1", amount=750),
    CloseAccount(account_id="acc-1"),
    Deposit(account_id="acc-1", amount=5),  # closed: rejected
]


def run_script(aggregate: Any) -> tuple[list[CommandAck | Rejected], AccountState, list[Any]]:
    store: MemoryEventStore[AccountEvent, AccountState] = MemoryEventStore(
        MemoryDatabase(), "account", AccountEvent, AccountState
    )
    # snapshots every 2 events: loading goes through snapshot + fold, as in Lambda
    service = CommandService(aggregate, store, snapshot_every=2, clock=lambda: T0)
    outcomes = [
        service.handle(command, command_id=f"cmd-{i}", actor="test")
        for i, command in enumerate(SCRIPT)
    ]
    state = QueryService(aggregate, store).load("acc-1").state
    stream = [envelope for page in store.load("acc-1", 1) for envelope in page]
    return outcomes, state, stream


def test_account_commands_end_to_end_on_the_memory_store() -> None:
    outcomes, state, stream = run_script(ACCOUNT)
    kinds = [type(o).__name__ for o in outcomes]
    assert kinds == [
        "CommandAck",
        "CommandAck",
        "CommandAck",
        "Rejected",
        "CommandAck",
        "Rejected",
        "CommandAck",
        "CommandAck",
        "Rejected",
    ]
    assert state == AccountState(account_id="acc-1", status="closed", owner_id="cust-1", balance=0)
    assert [e.type for e in stream] == [
        "AccountOpened",
        "Deposited",
        "Deposited",
        "Withdrawn",
        "Withdrawn",
        "AccountClosed",
    ]
    assert [e.version for e in stream] == [1, 2, 3, 4, 5, 6]

    reducer = importlib.import_module("hotcore.domain.account.reducer")
    twin = pure_twin(reducer)
    if twin is not None:
        assert is_compiled(importlib.import_module(ACCOUNT.fold.__module__))
        pure_account = msgspec.structs.replace(
            ACCOUNT, initial=twin.initial, evolve=twin.evolve, fold=twin.fold
        )
        assert run_script(pure_account) == (outcomes, state, stream)
