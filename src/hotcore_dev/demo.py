"""``hotcore demo``: the four aggregates, the bus and the PlaceOrder saga on the embedded store.

It runs a short story (customers, accounts, stock, orders that succeed and orders that
are compensated, a rush of concurrent reservations on one SKU), prints what happened,
then re-reads every stored stream and checks the invariants; any broken invariant makes
the exit status non-zero. Run it again on the same file and it continues the story.
"""

from __future__ import annotations

import contextlib
import io
import sqlite3
import sys
import threading
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import msgspec

from hotcore.codec.events import EventReader, UnreadableEvent
from hotcore.contracts.account import Deposit
from hotcore.contracts.common import CommandAck, Rejected
from hotcore.contracts.customer import RegisterCustomer
from hotcore.contracts.inventory import AddStock, ReserveStock
from hotcore.contracts.order import OrderLine, PlaceOrder, ShipOrder
from hotcore.entrypoints.command import CommandFunction
from hotcore.entrypoints.identity import TOKEN_HEADER
from hotcore.entrypoints.settings import Settings
from hotcore.service.ids import new_command_id
from hotcore.store.port import IncompatibleDatabase, StoreError
from hotcore.store.sqlite import SqliteDatabase, default_path
from hotcore_dev.issuer import LocalIssuer
from hotcore_dev.local import LocalApp, LocalDatabase
from hotcore_dev.saga.asl import Execution, TaskError
from hotcore_dev.saga.place_order import NAME as PLACE_ORDER
from hotcore_dev.saga.place_order import LocalPlaceOrderSaga

RUSH_THREADS = 8
#: The front-end server the demo's mutations come from, as AppSync names its IAM caller.
STOREFRONT_ARN = "arn:aws:sts::000000000000:assumed-role/hotcore-storefront/demo"
#: Amounts are integers in minor units (cents); the demo's accounts are in this currency.
CURRENCY = "EUR"
#: The fields that hold money, printed as ``EUR 50.00`` instead of ``5000``.
MONEY_FIELDS = frozenset({"amount", "balance", "unit_price", "total", "paid"})
#: Small on purpose, so that a second run folds run 1's streams from a snapshot; deployed
#: functions take theirs from HOTCORE_SNAPSHOT_EVERY (docs/store.md has the trade-off).
DEMO_SNAPSHOT_EVERY = 4


class Demo:
    def __init__(self, database: LocalDatabase, out: TextIO) -> None:
        self.app = LocalApp(database, snapshot_every=DEMO_SNAPSHOT_EVERY)
        self.out = out
        self.run = self._next_run()
        # The demo's one injected fault: the Order function fails to confirm this order,
        # as a Lambda service error would, to show retries and then refund + release.
        self.unconfirmable = f"o-{self.run}-4"
        handlers: dict[str, Callable[[Any], dict[str, Any]]] = dict(self.app.direct)
        handlers["order"] = self._order_function
        self.saga = LocalPlaceOrderSaga(handlers, journal=self.app.journal)
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
        left = len(self.app.database.pending()) + self.app.bus.pending
        if left:  # a killed run's committed events and deliveries: finish them first
            self.say(f"  resuming what an interrupted run left: {left} events and deliveries")
            self.app.settle()
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
        self.step(
            f"deposit {money(5000)} into {ann}", "account", Deposit(account_id=ann, amount=5000)
        )
        self.step(
            f"deposit {money(500)} into {bob}", "account", Deposit(account_id=bob, amount=500)
        )
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
        self.who_may()
        self.say(f"\n4. A rush: {RUSH_THREADS} threads reserve 2 {gadget} each, 10 in stock")
        self.step(f"add 10 {gadget}", "inventory", AddStock(sku=gadget, quantity=10))
        self.rush(gadget)
        if r > 1:
            self.continue_run_one()

    def who_may(self) -> None:
        """Mutations as AppSync hands them to the command function: the storefront's IAM
        identity and the end user's ID token, verified and judged by the policies exactly as
        deployed (a local issuer signs the tokens)."""
        path = getattr(self.app.database, "path", None)
        if path is None:
            return
        r = self.run
        ann, bob = f"ann-{r}", f"bob-{r}"
        self.say("\n   Who may: mutations carry the user's ID token, checked as on Lambda")
        issuer = LocalIssuer()
        env = {"HOTCORE_DB": str(path), **issuer.env()}
        functions = {n: CommandFunction(n, Settings.from_env(n, env)) for n in ("account", "order")}
        for name, function in functions.items():  # on the demo's own store connections
            function.commands = self.app.commands[name]
        for what, aggregate, field, fields, token in [
            (
                f"{ann} deposits {money(100)} into {ann}",
                "account",
                "deposit",
                {"accountId": ann, "amount": "100"},
                issuer.token(ann),
            ),
            (
                f"{bob} withdraws {money(100)} from {ann}'s account",
                "account",
                "withdraw",
                {"accountId": ann, "amount": "100"},
                issuer.token(bob),
            ),
            (
                f"{bob} confirms his order o-{r}-2 (only the saga may)",
                "order",
                "confirmOrder",
                {"orderId": f"o-{r}-2"},
                issuer.token(bob),
            ),
            (
                f"{ann} ships her order o-{r}-1 (only the back office may)",
                "order",
                "shipOrder",
                {"orderId": f"o-{r}-1"},
                issuer.token(ann),
            ),
            (
                f"an expired token for {ann}",
                "account",
                "deposit",
                {"accountId": ann, "amount": "100"},
                issuer.token(ann, lifetime=-3600),
            ),
            (
                f"an unsigned token for {ann}",
                "account",
                "deposit",
                {"accountId": ann, "amount": "100"},
                issuer.token(ann, alg="none"),
            ),
        ]:
            event = {
                "arguments": {"input": fields},
                "identity": {"userArn": STOREFRONT_ARN},
                "info": {"fieldName": field, "parentTypeName": "Mutation", "variables": {}},
                "request": {"headers": {TOKEN_HEADER: token}},
            }
            with contextlib.redirect_stdout(io.StringIO()):  # the function's own log lines
                answer = functions[aggregate](event)
            if answer["outcome"] == "accepted":
                self.say(f"  ✓ {what}  -> {answer['streamId']} v{answer['version']}")
            else:
                data = answer.get("data") or {}
                why = data.get("policy") or data.get("reason") or answer.get("message")
                self.say(f"  ✗ {what}  -> {answer.get('rule')} ({why})")
        self.app.settle()

    def continue_run_one(self) -> None:
        """Commands on run 1's streams: their stored history is loaded and folded first."""
        self.say("\n5. Run 1's streams, continued (each load folds what is stored)")
        for aggregate, stream, what, command in [
            (
                "account",
                "ann-1",
                f"deposit {money(1000)} into ann-1",
                Deposit(account_id="ann-1", amount=1000),
            ),
            ("inventory", "widget-1", "add 5 widget-1", AddStock(sku="widget-1", quantity=5)),
        ]:
            self.say(f"  {aggregate} {stream}: {self.how_it_loads(aggregate, stream)}")
            self.step(what, aggregate, command)

    def how_it_loads(self, aggregate: str, stream: str) -> str:
        """What a load of ``stream`` reads: a snapshot and the events after it, or all events."""
        # the store's one-query load: the newest valid snapshot and the events after it
        loaded = self.app.commands[aggregate].store.load_latest(stream)
        base = 0 if loaded.snapshot is None else loaded.snapshot.version
        after = len(loaded.events)
        top = loaded.version
        if top == 0:
            return "a new stream"
        events = f"{after} stored event{'' if after == 1 else 's'}"
        if base == 0:
            return f"v{top}: no snapshot yet, {events} folded"
        if after == 0:
            return f"v{top}: its snapshot at v{base}, no event after it"
        return f"v{top}: the snapshot at v{base} + {events} folded on top"

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
        outcome = self.app.execute("order", command)
        executions = self.saga.executions[before:]
        placed = isinstance(outcome, CommandAck)
        succeeded = placed and all(e.status == "SUCCEEDED" for e in executions)
        result = _why(outcome) if not placed or succeeded else "  -> placed, then compensated"
        self.say(
            f"  {'✓' if succeeded else '✗'} place {order_id} for {customer} ({expect}){result}"
        )
        for execution in executions:
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
            *([("account", "ann-1"), ("inventory", "widget-1")] if r > 1 else []),
        ]:
            loaded = self.app.state(aggregate, stream)
            state = msgspec.to_builtins(loaded.state)
            self.say(f"  {aggregate:<9} {stream:<12} v{loaded.version:<3} {_brief(state)}")
        return check_invariants(self.app, self.saga.executions)


def check_invariants(app: LocalApp, executions: list[Execution]) -> list[str]:
    """Fold every stored stream again and check what must always hold."""
    problems: list[str] = []
    streams: dict[tuple[str, str], list[Any]] = defaultdict(list)
    decoders: dict[str, EventReader[Any]] = {
        name: EventReader(agg.event_type) for name, agg in app.aggregates.items()
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
    if app.bus.pending:
        problems.append(f"{app.bus.pending} deliveries were never made")
    problems += [f"saga {e.name} never finished" for e in app.journal.unfinished()]
    problems += [f"dead letter on rule {d.rule}: {d.error}" for d in app.bus.dead_letters]
    problems += [
        f"saga {e.name} ended {e.status} {e.error}"
        for e in executions
        if (e.status, e.error) not in (("SUCCEEDED", None), ("FAILED", "PlaceOrder.Compensated"))
    ]
    return problems


class DemoError(Exception):
    """The demo cannot use its database: one line naming the file and what to do."""


def run_demo(db_path: Path | None = None, out: TextIO = sys.stdout) -> int:
    path = db_path if db_path is not None else default_path()
    database = open_database(path)
    try:
        # Before writing anything: a stored event that no longer decodes stops the run here.
        undecodable = _first_undecodable(database, path)
        if undecodable is not None:
            raise undecodable
        demo = Demo(database, out)
        first_position = max((e.position for e in database.all_events()), default=0)
        demo.story()
        problems = demo.report(first_position)
        total = len(database.all_events())
    except (sqlite3.Error, StoreError) as exc:
        raise _database_error(path, exc) from exc
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise _undecodable(database, path, exc) from exc
    finally:
        database.close()
    demo.say(f"\nStore: {database.path} ({total} events in all)")
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


def open_database(path: Path) -> SqliteDatabase:
    """The demo's SQLite file, or a ``DemoError`` saying why it cannot be used."""
    if path.is_dir():
        raise DemoError(
            f"--db {path} is a folder: give a file path, e.g. --db {path / 'hotcore.db'}"
        )
    try:
        return SqliteDatabase(path)
    except (sqlite3.Error, StoreError) as exc:
        raise _database_error(path, exc) from exc
    except OSError as exc:  # its folder could not be created
        blocking = next((p for p in path.parents if p.exists()), None)
        if blocking is not None and not blocking.is_dir():
            raise DemoError(
                f"cannot use --db {path}: {blocking} is a file, not a folder; "
                "choose a path in a folder"
            ) from exc
        raise DemoError(
            f"cannot create the folder of --db {path} ({exc.strerror or exc}): "
            "choose a path in a folder you can write to"
        ) from exc


def _database_error(path: Path, exc: Exception) -> DemoError:
    if isinstance(exc, IncompatibleDatabase):
        return DemoError(f"--db {path}: {exc.problem}; {exc.remedy}")
    if isinstance(exc, StoreError):
        return DemoError(f"--db {path}: {exc}")
    reason = str(exc)
    if "unable to open" in reason:
        return DemoError(
            f"cannot open --db {path}: its folder is read-only or missing; "
            "choose a path in a folder you can write to"
        )
    if "not a database" in reason:
        return DemoError(
            f"--db {path} is not a SQLite database (random or overwritten bytes): "
            "move it away or choose another --db"
        )
    if "malformed" in reason:
        return DemoError(
            f"--db {path} is damaged ({reason}; a truncated copy?): "
            "restore it from a backup, or move it away to start over"
        )
    if "readonly" in reason or "read-only" in reason:
        return DemoError(f"--db {path} is read-only: make it writable or choose another --db")
    return DemoError(f"--db {path}: SQLite says {reason}: move it away or choose another --db")


def _undecodable(database: SqliteDatabase, path: Path, exc: Exception) -> DemoError:
    """Name the stored event that does not decode (a hand edit), or the error as it is."""
    return _first_undecodable(database, path) or DemoError(
        f"--db {path}: a stored event does not decode ({exc}): move the file away"
    )


def _first_undecodable(database: SqliteDatabase, path: Path) -> DemoError | None:
    """Every stored event decodes with its aggregate's contracts, or the first that does not."""
    from hotcore.domain.registry import aggregates

    # each aggregate's events as its store reads them: old versions upcast, never guessed
    decoders: dict[str, EventReader[Any]] = {
        name: EventReader(a.event_type) for name, a in aggregates().items()
    }
    for entry in database.all_events():
        decoder = decoders.get(entry.aggregate)
        if decoder is None:
            return DemoError(
                f"--db {path}: event #{entry.position} belongs to an unknown aggregate "
                f"{entry.aggregate!r}; this file is not the demo's: choose another --db"
            )
        try:
            decoder.decode(entry.detail)
        except (msgspec.ValidationError, msgspec.DecodeError, UnreadableEvent) as error:
            raw = msgspec.json.decode(entry.detail) if _is_json(entry.detail) else None
            stream = raw.get("stream_id", "?") if isinstance(raw, dict) else "?"
            version = raw.get("version", "?") if isinstance(raw, dict) else "?"
            return DemoError(
                f"--db {path}: event #{entry.position} ({entry.aggregate} stream {stream!r}, "
                f"version {version}) does not decode: {error}; was it edited by hand? "
                "Restore it, or move the file away to start over"
            )
    return None


def _is_json(data: bytes) -> bool:
    try:
        msgspec.json.decode(data)
    except msgspec.DecodeError:
        return False
    return True


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


def money(minor: int) -> str:
    """An amount in minor units as people read it: 5000 -> ``EUR 50.00``."""
    units, cents = divmod(abs(minor), 100)
    return f"{'-' if minor < 0 else ''}{CURRENCY} {units}.{cents:02d}"


def _brief(data: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_value(k, v)}" for k, v in data.items())


def _value(key: str, value: Any) -> str:
    if key in MONEY_FIELDS and isinstance(value, int) and not isinstance(value, bool):
        return money(value)
    if isinstance(value, list) and value and isinstance(value[0], dict) and "sku" in value[0]:
        return "[" + " ".join(f"{v['quantity']}x{v['sku']}" for v in value) + "]"
    return str(value)
