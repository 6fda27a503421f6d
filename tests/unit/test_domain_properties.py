"""Properties of the deciders: no valid history breaks an invariant, and fold is a fold.

Each test drives an aggregate with random commands (decide, then fold what was decided),
the way the command handler does, and checks the aggregate's invariants after every step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hotcore.contracts.account import CloseAccount, Deposit, OpenAccount, Withdraw
from hotcore.contracts.common import Rejected
from hotcore.contracts.customer import (
    ChangeEmail,
    DeactivateCustomer,
    LinkAccount,
    RegisterCustomer,
)
from hotcore.contracts.inventory import (
    AddStock,
    CommitReservation,
    ReleaseReservation,
    ReserveStock,
)
from hotcore.contracts.order import (
    CancelOrder,
    ConfirmOrder,
    OrderLine,
    PlaceOrder,
    RecordPayment,
    ShipOrder,
)
from hotcore.domain.account import ACCOUNT
from hotcore.domain.aggregate import Aggregate
from hotcore.domain.customer import CUSTOMER
from hotcore.domain.inventory import INVENTORY
from hotcore.domain.order import ORDER

amounts = st.integers(1, 100)
orders = st.sampled_from(["o-1", "o-2", "o-3", "o-4"])
emails = st.sampled_from(["a@x.io", "B@x.io", "b@x.io", "c@y.io"])

ACCOUNT_COMMANDS = st.one_of(
    st.just(OpenAccount(account_id="s", owner_id="o")),
    st.builds(Deposit, account_id=st.just("s"), amount=amounts),
    st.builds(Withdraw, account_id=st.just("s"), amount=amounts),
    st.just(CloseAccount(account_id="s")),
)
INVENTORY_COMMANDS = st.one_of(
    st.builds(AddStock, sku=st.just("s"), quantity=st.integers(1, 10)),
    st.builds(ReserveStock, sku=st.just("s"), order_id=orders, quantity=st.integers(1, 10)),
    st.builds(ReleaseReservation, sku=st.just("s"), order_id=orders),
    st.builds(CommitReservation, sku=st.just("s"), order_id=orders),
)
LINE = [OrderLine(sku="k", quantity=2, unit_price=10)]
ORDER_COMMANDS = st.one_of(
    st.just(PlaceOrder(order_id="s", customer_id="c", account_id="a", lines=LINE)),
    st.just(ConfirmOrder(order_id="s")),
    st.just(CancelOrder(order_id="s", reason="r")),
    st.just(ShipOrder(order_id="s")),
    st.builds(RecordPayment, order_id=st.just("s"), amount=amounts),
)
CUSTOMER_COMMANDS = st.one_of(
    st.builds(RegisterCustomer, customer_id=st.just("s"), email=emails, name=st.just("N")),
    st.builds(ChangeEmail, customer_id=st.just("s"), email=emails),
    st.just(DeactivateCustomer(customer_id="s")),
    st.builds(LinkAccount, customer_id=st.just("s"), account_id=st.sampled_from(["a", "b"])),
)


def run(
    aggregate: Aggregate[Any, Any, Any, Any],
    commands: list[Any],
    invariant: Callable[[Any, Any], None],
) -> list[Any]:
    """Decide and fold each command in turn; check ``invariant(before, after)`` every step."""
    state = aggregate.initial("s")
    history: list[Any] = []
    for command in commands:
        decided = aggregate.decide(state, command)
        assert decided == aggregate.decide(state, command)  # deciding is pure
        if isinstance(decided, Rejected):
            continue
        after = aggregate.fold(state, decided)
        invariant(state, after)
        history += decided
        state = after
    check_fold_laws(aggregate, history, state)
    return history


def check_fold_laws(
    aggregate: Aggregate[Any, Any, Any, Any], history: list[Any], final: Any
) -> None:
    initial = aggregate.initial("s")
    assert aggregate.fold(initial, history) == final
    stepwise = initial
    for event in history:
        stepwise = aggregate.evolve(stepwise, event)
    assert stepwise == final
    for cut in range(0, len(history) + 1, max(1, len(history) // 4)):
        assert aggregate.fold(aggregate.fold(initial, history[:cut]), history[cut:]) == final


@settings(max_examples=200, deadline=None)
@given(st.lists(ACCOUNT_COMMANDS, max_size=40))
def test_accounts_never_overdraw_and_closed_is_final(commands: list[Any]) -> None:
    def invariant(before: Any, after: Any) -> None:
        assert after.balance >= 0
        assert before.status != "closed"
        if after.status == "closed":
            assert after.balance == 0

    run(ACCOUNT, commands, invariant)


@settings(max_examples=200, deadline=None)
@given(st.lists(INVENTORY_COMMANDS, max_size=40))
def test_inventory_never_reserves_more_than_it_holds(commands: list[Any]) -> None:
    def invariant(before: Any, after: Any) -> None:
        assert after.on_hand >= 0
        assert 0 <= after.reserved <= after.on_hand
        assert all(quantity > 0 for quantity in after.reservations.values())

    run(INVENTORY, commands, invariant)


ORDER_MOVES = {
    ("new", "placed"),
    ("placed", "confirmed"),
    ("placed", "cancelled"),
    ("confirmed", "cancelled"),
    ("confirmed", "shipped"),
}


@settings(max_examples=200, deadline=None)
@given(st.lists(ORDER_COMMANDS, max_size=30))
def test_orders_only_move_along_the_state_machine(commands: list[Any]) -> None:
    def invariant(before: Any, after: Any) -> None:
        if before.status != after.status:
            assert (before.status, after.status) in ORDER_MOVES
        assert after.total == (20 if after.status != "new" else 0)

    run(ORDER, commands, invariant)


@settings(max_examples=200, deadline=None)
@given(st.lists(CUSTOMER_COMMANDS, max_size=30))
def test_customers_keep_lower_case_emails_and_deactivation_is_final(commands: list[Any]) -> None:
    def invariant(before: Any, after: Any) -> None:
        assert after.email == after.email.lower()
        assert before.status != "deactivated"
        assert len(after.account_ids) == len(set(after.account_ids))

    run(CUSTOMER, commands, invariant)
