"""``hotcore demo``: the four aggregates, the bus and the PlaceOrder saga on the embedded store.

It runs a short story (customers, accounts, stock, orders that succeed and orders that
are compensated, a rush of concurrent reservations on one SKU), prints what happened,
then re-reads every stored stream and checks the invariants; any broken invariant makes
the exit status non-zero. Run it again on the same file and it continues the story.
"""

from __future__ import annotations

import sys
import threading
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import msgspec

from hotcore.contracts.account import Deposit
from hotcore.contracts.common import CommandAck, Envelope, Rejected
from hotcore.contracts.customer import RegisterCustomer
from hotcore.contracts.inventory import AddStock, ReserveStock
from hotcore.contracts.order import OrderLine, PlaceOrder, ShipOrder
from hotcore.runtime.ids import new_command_id
from hotcore.runtime.local import LocalApp, LocalDatabase
from hotcore.saga.asl import Execution, TaskError
from hotcore.saga.place_order import NAME as PLACE_ORDER
from hotcore.saga.place_order import LocalPlaceOrderSaga
from hotcore.store.sqlite import SqliteDatabase

RUSH_THREADS = 8


class Demo:
    def __init__(self, database: LocalDatabase, out: TextIO) -> None:
        self.app = LocalApp(database)
        self.out = out
        self.run = self._next_run()
        # The demo's one injected fault: the Order function fails to confirm this order,
        # as a Lambda service error would, to show retries and then refund + release.
        self.unconfirmable = f"o-{self.run}-4"
        handlers: dict[str, Callable[[Any], dict[str, Any]]] = dict(self.app.direct)
        handlers["order"] = self._order_function
        self.saga = LocalPlaceOrderSaga(handlers)
        self.app.sagas[PLACE_ORDER] = self.saga

    def _order_function(self, payload: Any) -> dict[str, Any]:
        command = payload.get("command", {}) if isinstance(payload, dict) else {}
        if command.get("type") == "ConfirmOrder" and command.get("order_id") == self.unconfirmable:
            raise TaskError("Lambda.ServiceException", "injected by the demo: service unavailable")
        return self.app.direct["order"](payload)

    def say(self, text: str = "") -> None:
        print(text, file=self.out)

    def _next_run(self) -> int:
        run = 1
        while self.app.state("customer", f"ann-{run}").version > 0:
            run += 1
        return run

    def step(self, what: str, aggregate: str, command: object) -> CommandAck | Rejected:
        outcome = self.app.execute(aggregate, command)
        self.say(f"  {_mark(outcome)} {what}{_why(outcome)}")
        return outcome

    def story(self) -> None:
        r = self.run
        ann, bob, cy = f"ann-{r}", f"bob-{r}", f"cy-{r}"
        widget, gizmo, gadget = f"widget-{r}", f"gizmo-{r}", f"gadget-{r}"
        self.say(f"hotcore demo, run {r}: four aggregates, the local bus and the PlaceOrder saga")
        self.say(
            "\n1. Customers (each registration opens an account through Account's event handler)"
        )
        self.step(f"register {ann} <{ann}@example.com>", "customer", _register(ann, "Ann"))
        self.step(f"register {bob} <{bob}@example.com>", "customer", _register(bob, "Bob"))
        self.step(
            f"register {cy} with {ann}'s e-mail (unique across customers)",
            "customer",
            RegisterCustomer(customer_id=cy, email=f"{ann.upper()}@EXAMPLE.COM", name="Cy"),
        )
        self.say("\n2. Funding and stock")
        self.step(f"deposit 50.00 into {ann}", "account", Deposit(account_id=ann, amount=5000))
        self.step(f"deposit 5.00 into {bob}", "account", Deposit(account_id=bob, amount=500))
        self.step(f"add 10 {widget}", "inventory", AddStock(sku=widget, quantity=10))
        self.step(f"add 3 {gizmo}", "inventory", AddStock(sku=gizmo, quantity=3))
        self.say("\n3. Orders, each running the PlaceOrder saga (reserve -> charge -> confirm)")
        self.order(f"o-{r}-1", ann, [(widget, 2, 1200), (gizmo, 1, 800)], "completes")
        self.order(f"o-{r}-2", bob, [(widget, 1, 1200)], "payment fails: stock released")
        self.order(f"o-{r}-3", ann, [(gizmo, 5, 800)], "stock short: order cancelled")
        self.order(
            self.unconfirmable,
            ann,
            [(widget, 1, 1200)],
            "confirmation keeps failing: retried, then refunded and released",
        )
        self.step(
            f"ship o-{r}-1 (Inventory commits its reservations)",
            "order",
            ShipOrder(order_id=f"o-{r}-1"),
        )
        self.say(f"\n4. A rush: {RUSH_THREADS} threads reserve 2 {gadget} each, 10 in stock")
        self.step(f"add 10 {gadget}", "inventory", AddStock(sku=gadget, quantity=10))
        self.rush(gadget)

    def order(
        self, order_id: str, customer: str, lines: list[tuple[str, int, int]], expect: str
    ) -> None:
        command = PlaceOrder(
            order_id=order_id,
            customer_id=customer,
            account_id=customer,
            lines=[OrderLine(sku=s, quantity=q, unit_price=p) for s, q, p in lines],
        )
        before = len(self.saga.executions)
        self.step(f"place {order_id} for {customer} ({expect})", "order", command)
        for execution in self.saga.executions[before:]:
            self.say(f"      saga {execution.status}: {_saga_path(execution)}")

    def rush(self, sku: str) -> None:
        commands = self.app.commands["inventory"]
        outcomes: list[CommandAck | Rejected] = []
        lock = threading.Lock()
        start = threading.Barrier(RUSH_THREADS)

        def reserve(n: int) -> None:
            start.wait()
            command = ReserveStock(sku=sku, order_id=f"rush-{self.run}-{n}", quantity=2)
            outcome = commands.handle(command, command_id=new_command_id(), actor="demo-rush")
            with lock:
                outcomes.append(outcome)

        conflicts_before = commands.conflicts
        threads = [threading.Thread(target=reserve, args=(n,)) for n in range(RUSH_THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.app.settle()
        won = sum(isinstance(o, CommandAck) for o in outcomes)
        self.say(
            f"  {won} reservations accepted, {len(outcomes) - won} rejected (insufficient-stock), "
            f"races lost and retried: {commands.conflicts - conflicts_before}"
        )

    def report(self, first_position: int) -> list[str]:
        self.say("\nTimeline (every event this run committed, in commit order)")
        entries = [e for e in self.app.database.all_events() if e.position > first_position]
        for entry in entries:
            body = msgspec.json.decode(entry.detail)
            data = {k: v for k, v in body["data"].items() if k != "type" and v is not None}
            self.say(
                f"  #{entry.position:<4} {entry.aggregate:<9} {body['stream_id']:<14} "
                f"v{body['version']:<3} {entry.type:<20} {_brief(data):<44} by {body['actor']}"
            )
        self.say("\nFinal states of this run")
        r = self.run
        for aggregate, stream in [
            ("customer", f"ann-{r}"),
            ("customer", f"bob-{r}"),
            ("account", f"ann-{r}"),
            ("account", f"bob-{r}"),
            ("inventory", f"widget-{r}"),
            ("inventory", f"gizmo-{r}"),
            ("inventory", f"gadget-{r}"),
            ("order", f"o-{r}-1"),
            ("order", f"o-{r}-2"),
            ("order", f"o-{r}-3"),
            ("order", f"o-{r}-4"),
        ]:
            loaded = self.app.state(aggregate, stream)
            state = msgspec.to_builtins(loaded.state)
            self.say(f"  {aggregate:<9} {stream:<12} v{loaded.version:<3} {_brief(state)}")
        return check_invariants(self.app, self.saga.executions)


def check_invariants(app: LocalApp, executions: list[Execution]) -> list[str]:
    """Fold every stored stream again and check what must always hold."""
    problems: list[str] = []
    streams: dict[tuple[str, str], list[Any]] = defaultdict(list)
    decoders = {
        name: msgspec.json.Decoder(Envelope[agg.event_type])  # type: ignore[name-defined]
        for name, agg in app.aggregates.items()
    }
    for entry in app.database.all_events():
        envelope = decoders[entry.aggregate].decode(entry.detail)
        events = streams[(entry.aggregate, envelope.stream_id)]
        if envelope.version != len(events) + 1:
            problems.append(f"{entry.aggregate}/{envelope.stream_id}: version gap")
        events.append(envelope.data)
    states: dict[tuple[str, str], Any] = {}
    for (name, stream), events in streams.items():
        aggregate = app.aggregates[name]
        states[(name, stream)] = aggregate.fold(aggregate.initial(stream), events)
        if app.state(name, stream).state != states[(name, stream)]:
            problems.append(f"{name}/{stream}: snapshot + tail differs from a full fold")
    emails: dict[str, str] = {}
    for (name, stream), state in states.items():

        def check(message: str, where: str = f"{name}/{stream}") -> None:
            problems.append(f"{where}: {message}")

        if name == "account" and state.balance < 0:
            check(f"overdrawn ({state.balance})")
        if name == "inventory" and not 0 <= state.reserved <= state.on_hand:
            check(f"oversold: {state.reserved} reserved of {state.on_hand}")
        if name == "customer" and state.status == "active":
            if state.email in emails:
                check(f"e-mail {state.email} also belongs to {emails[state.email]}")
            emails[state.email] = stream
        if name == "order":
            reserved = {
                sku: states.get(("inventory", sku)) for sku in (line.sku for line in state.lines)
            }
            holds = [inv is not None and stream in inv.reservations for inv in reserved.values()]
            if state.status == "confirmed" and (state.paid != state.total or not all(holds)):
                check("confirmed without full payment and reservations")
            if state.status == "cancelled" and (state.paid != 0 or any(holds)):
                check("cancelled but still charged or holding stock")
            if state.status == "placed":
                check("left in 'placed': its saga did not finish")
    if app.database.pending():
        problems.append(f"{len(app.database.pending())} committed events were never published")
    problems += [f"dead letter on rule {d.rule}: {d.error}" for d in app.bus.dead_letters]
    problems += [
        f"saga {e.name} ended {e.status} {e.error}"
        for e in executions
        if (e.status, e.error) not in (("SUCCEEDED", None), ("FAILED", "PlaceOrder.Compensated"))
    ]
    return problems


def run_demo(db_path: Path | None = None, out: TextIO = sys.stdout) -> int:
    database = SqliteDatabase(db_path)
    try:
        demo = Demo(database, out)
        first_position = max((e.position for e in database.all_events()), default=0)
        demo.story()
        problems = demo.report(first_position)
        demo.say(f"\nStore: {database.path} ({len(database.all_events())} events in all)")
        if problems:
            demo.say("INVARIANTS BROKEN:")
            for problem in problems:
                demo.say(f"  - {problem}")
            return 1
        demo.say(
            "Invariants hold over every stored stream: no overdraft, no overselling, unique "
            "e-mails, confirmed orders paid and reserved, cancelled orders refunded and "
            "released, every event published, every saga finished."
        )
        return 0
    finally:
        database.close()


def _register(customer_id: str, name: str) -> RegisterCustomer:
    return RegisterCustomer(customer_id=customer_id, email=f"{customer_id}@example.com", name=name)


def _mark(outcome: CommandAck | Rejected) -> str:
    return "✗" if isinstance(outcome, Rejected) else "✓"


def _why(outcome: CommandAck | Rejected) -> str:
    if isinstance(outcome, Rejected):
        return f"  -> rejected: {outcome.rule} ({outcome.message})"
    return f"  -> {outcome.stream_id} v{outcome.version}"


def _saga_path(execution: Execution) -> str:
    steps: list[str] = []
    retries: dict[int, int] = {}
    for event in execution.history:
        if event.type.endswith("StateEntered") and event.state is not None:
            steps.append(event.state)
        elif event.type == "RetryScheduled" and steps:
            retries[len(steps) - 1] = retries.get(len(steps) - 1, 0) + 1
    for index, count in retries.items():
        steps[index] += f" ({count} retries)"
    end = "" if execution.error is None else f" ({execution.error})"
    return " -> ".join(steps) + end


def _brief(data: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_value(v)}" for k, v in data.items())


def _value(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], dict) and "sku" in value[0]:
        return "[" + " ".join(f"{v['quantity']}x{v['sku']}" for v in value) + "]"
    return str(value)
