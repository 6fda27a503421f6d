"""Chaos: many writers on shared streams of the DynamoDB store, through a faulty network.

Eight writer threads, each with its own client and stores (as separate Lambda instances
would have), send a seeded mix of commands to a few shared Account and Customer streams
through the fault double in front of moto. One request in five draws a fault: throttling,
500 and 503 answers, connections dropped before the request reached DynamoDB or after it
took effect, answers cut in half. Writers behave like an at-least-once caller (Lambda
retrying an invocation, a saga retrying a task): a command that failed with a transient
error is sent again with the same id until it gets an answer. Some cases re-send an
answered command on purpose (it must answer the same outcome), some reuse an answered id
for another command (``command-id-reused``). Single events take the PutItem path (with
a snapshot every 4 events), e-mail changes the transaction path (guard claim + release).

At the end the streams are read without faults and counted: events lost (an answered
command whose events are not stored, or stored at another version), duplicated (a command
stored twice), gaps, wrong answers to re-sends, unhandled errors. All must be 0. The
figures are printed for the README's reliability section. Bounded by the number of cases
(``HOTCORE_CHAOS_CASES``, 240 by default) and seeded (``HOTCORE_CHAOS_SEED``).
"""

from __future__ import annotations

import os
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

from hotcore.aws.client import RetryPolicy
from hotcore.aws.dynamodb import DynamoDB
from hotcore.aws.errors import ConnectionFailed, ServerError, Throttled
from hotcore.contracts.account import Deposit, OpenAccount, Withdraw
from hotcore.contracts.common import CommandAck, Rejected
from hotcore.contracts.customer import ChangeEmail, RegisterCustomer
from hotcore.domain.account import ACCOUNT
from hotcore.domain.customer import CUSTOMER
from hotcore.service.command import CommandService, RetriesExhausted
from hotcore.store.dynamodb import DynamoEventStore
from hotcore_dev.emulator import TEST_CREDENTIALS, TEST_REGION, MotoServer, create_table
from tests.support.fault_proxy import Fault, FaultProxy
from tests.support.fixtures import moto_server_fixture, unique_name_fixture  # noqa: F401

pytestmark = pytest.mark.chaos

SEED = int(os.environ.get("HOTCORE_CHAOS_SEED", "20261202"))
CASES = int(os.environ.get("HOTCORE_CHAOS_CASES", "240"))
WRITERS = 8
FAULT_RATE = 0.2
ACCOUNTS = ("acc-a", "acc-b", "acc-c")
CUSTOMERS = ("cust-a", "cust-b")
EMAILS = ("ada@x.io", "bob@x.io", "cy@x.io", "di@x.io")
#: What a caller retries: AWS's transient failures that outlived the client's retries,
#: and a command flow that lost every race. Anything else is unhandled.
TRANSIENT = (Throttled, ServerError, ConnectionFailed, RetriesExhausted)
MAX_SENDS = 25


@dataclass
class Tally:
    cases: int = 0
    sends: int = 0
    transient: Counter[str] = field(default_factory=Counter)
    unhandled: list[str] = field(default_factory=list)
    wrong_answers: list[str] = field(default_factory=list)
    answered: dict[tuple[str, str], tuple[Any, CommandAck | Rejected]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Writer:
    """One writer: its own client and stores, like one Lambda instance."""

    def __init__(self, proxy: FaultProxy, tables: dict[str, str], n: int, tally: Tally) -> None:
        client = DynamoDB(
            endpoint_url=proxy.endpoint,
            region=TEST_REGION,
            credentials=TEST_CREDENTIALS,
            retry=RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.004),
            read_timeout=5.0,
        )
        accounts = DynamoEventStore(
            client, tables["account"], "account", ACCOUNT.event_type, ACCOUNT.state_type
        )
        customers = DynamoEventStore(
            client,
            tables["customer"],
            "customer",
            CUSTOMER.event_type,
            CUSTOMER.state_type,
            guard_table=tables["guards"],
        )
        rng = random.Random(SEED * 100 + n)
        self.rng = rng
        self.n = n
        self.tally = tally
        self.services: dict[str, CommandService[Any, Any, Any]] = {
            "account": CommandService(
                ACCOUNT, accounts, snapshot_every=4, sleep=lambda _: None, rng=rng
            ),
            "customer": CommandService(CUSTOMER, customers, sleep=lambda _: None, rng=rng),
        }
        self.mine: list[tuple[str, str, Any, CommandAck | Rejected]] = []

    def send(self, aggregate: str, command: Any, command_id: str) -> CommandAck | Rejected | None:
        """At least once: again with the same id after a transient failure."""
        for _ in range(MAX_SENDS):
            with self.tally.lock:
                self.tally.sends += 1
            try:
                return self.services[aggregate].handle(
                    command, command_id=command_id, actor=f"writer-{self.n}"
                )
            except TRANSIENT as error:
                with self.tally.lock:
                    self.tally.transient[type(error).__name__] += 1
            except Exception as error:
                with self.tally.lock:
                    self.tally.unhandled.append(f"{command_id}: {type(error).__name__}: {error}")
                return None
        with self.tally.lock:
            self.tally.unhandled.append(f"{command_id}: still failing after {MAX_SENDS} sends")
        return None

    def run(self, cases: int) -> None:
        rng = self.rng
        for i in range(cases):
            kind = rng.choices(
                ["deposit", "withdraw", "email", "resend", "reuse"], weights=[5, 2, 2, 1, 1]
            )[0]
            # only commands that stored events are remembered: re-send or reuse those
            stored = [m for m in self.mine if isinstance(m[3], CommandAck) and m[3].events]
            if kind == "reuse":
                stored = [m for m in stored if m[0] == "account"]
            if kind in ("resend", "reuse") and stored:
                aggregate, command_id, command, first = rng.choice(stored)
                if kind == "reuse":
                    other = Deposit(account_id=command.account_id, amount=10_000 + i)
                    outcome = self.send(aggregate, other, command_id)
                    if not (isinstance(outcome, Rejected) and outcome.rule == "command-id-reused"):
                        self._wrong(command_id, f"reused id answered {outcome}")
                else:
                    outcome = self.send(aggregate, command, command_id)
                    if outcome != first:
                        self._wrong(command_id, f"re-send answered {outcome}, first {first}")
                self._count()
                continue
            command_id = f"w{self.n}-{i}"
            account = rng.choice(ACCOUNTS)
            if kind == "withdraw":
                aggregate, command = (
                    "account",
                    Withdraw(account_id=account, amount=rng.randint(1, 30)),
                )
            elif kind == "email":
                aggregate = "customer"
                command = ChangeEmail(customer_id=rng.choice(CUSTOMERS), email=rng.choice(EMAILS))
            else:
                aggregate, command = (
                    "account",
                    Deposit(account_id=account, amount=rng.randint(1, 50)),
                )
            outcome = self.send(aggregate, command, command_id)
            if outcome is not None:
                self.mine.append((aggregate, command_id, command, outcome))
                with self.tally.lock:
                    self.tally.answered[(aggregate, command_id)] = (command, outcome)
            self._count()

    def _count(self) -> None:
        with self.tally.lock:
            self.tally.cases += 1

    def _wrong(self, command_id: str, what: str) -> None:
        with self.tally.lock:
            self.tally.wrong_answers.append(f"{command_id}: {what}")


def test_many_writers_under_faults_lose_duplicate_and_skip_nothing(
    moto_server: MotoServer, unique_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    direct = moto_server.dynamodb()
    tables = {
        "account": f"{unique_name}-account",
        "customer": f"{unique_name}-customer",
        "guards": f"{unique_name}-guards",
    }
    for name in ("account", "customer"):
        create_table(direct, tables[name], hash_key="stream_id", range_key="version")
    create_table(direct, tables["guards"], hash_key="guard")
    tally = Tally()
    with FaultProxy(upstream=moto_server.endpoint) as proxy:
        setup = Writer(proxy, tables, 99, tally)
        for account in ACCOUNTS:
            setup.send("account", OpenAccount(account_id=account, owner_id="o"), f"open-{account}")
            setup.send("account", Deposit(account_id=account, amount=1000), f"fund-{account}")
        for n, customer in enumerate(CUSTOMERS):
            setup.send(
                "customer",
                RegisterCustomer(customer_id=customer, email=f"first-{n}@x.io", name="C"),
                f"reg-{customer}",
            )
        # the first writes of each path surely lose their answer; then faults at random
        proxy.script(
            Fault.drop_after(operation="PutItem"),
            Fault.truncate(honest_length=True, operation="PutItem"),
            Fault.drop_after(operation="TransactWriteItems"),
            Fault.truncate(operation="TransactWriteItems"),
        )
        proxy.chaos(random.Random(SEED), FAULT_RATE)
        writers = [Writer(proxy, tables, n, tally) for n in range(WRITERS)]
        threads = [
            threading.Thread(target=w.run, args=(CASES // WRITERS,), name=f"writer-{w.n}")
            for w in writers
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        proxy.calm()
        injected = proxy.injected
        requests = len(proxy.requests)
        # faults after a write reached DynamoDB: the client cannot know whether it took effect
        after_commit = Counter(
            r.operation
            for r in proxy.requests
            if r.operation in ("PutItem", "TransactWriteItems")
            and r.fault in ("drop_after", "truncate")
        )

    # -- count, reading without faults ------------------------------------------------
    reader = {
        "account": DynamoEventStore(
            direct, tables["account"], "account", ACCOUNT.event_type, ACCOUNT.state_type
        ),
        "customer": DynamoEventStore(
            direct, tables["customer"], "customer", CUSTOMER.event_type, CUSTOMER.state_type
        ),
    }
    streams = {
        ("account", s): [e for page in reader["account"].load(s) for e in page] for s in ACCOUNTS
    } | {
        ("customer", s): [e for page in reader["customer"].load(s) for e in page] for s in CUSTOMERS
    }
    gaps = sum(
        1
        for events in streams.values()
        for expected, event in enumerate(events, start=1)
        if event.version != expected
    )
    duplicated = 0
    stored_at: dict[tuple[str, str], list[int]] = {}
    for (aggregate, _stream), events in streams.items():
        ids = [e.command_id for e in events]
        groups = [cid for k, cid in enumerate(ids) if k == 0 or ids[k - 1] != cid]
        duplicated += len(groups) - len(set(groups))  # one command, stored twice
        for event in events:
            stored_at.setdefault((aggregate, event.command_id), []).append(event.version)
    lost = 0
    for key, (_command, outcome) in tally.answered.items():
        if isinstance(outcome, CommandAck) and outcome.events:
            versions = stored_at.get(key, [])
            if not versions or max(versions) != outcome.version:
                lost += 1
        elif isinstance(outcome, Rejected) and key in stored_at:
            duplicated += 1  # refused, yet stored
    balances_agree = all(
        reader_state(reader["account"], account) == expected_balance(tally, account)
        for account in ACCOUNTS
    )
    emails = [
        CUSTOMER.fold(CUSTOMER.initial(c), [e.data for e in streams[("customer", c)]]).email
        for c in CUSTOMERS
    ]
    figures = {
        "cases": tally.cases,
        "sends": tally.sends,
        "requests": requests,
        "faults injected": sum(injected.values()),
        "by kind": dict(sorted(injected.items())),
        "after a write reached DynamoDB": dict(after_commit),
        "transient errors re-sent": dict(tally.transient),
        "events stored": sum(len(e) for e in streams.values()),
        "lost": lost,
        "duplicated": duplicated,
        "gaps": gaps,
        "wrong answers": len(tally.wrong_answers),
        "unhandled": len(tally.unhandled),
    }
    with capsys.disabled():
        print(f"\nchaos (seed {SEED}, {WRITERS} writers, fault rate {FAULT_RATE}): {figures}")
    assert tally.cases == WRITERS * (CASES // WRITERS)
    assert after_commit["PutItem"] > 0
    assert after_commit["TransactWriteItems"] > 0
    assert tally.unhandled == []
    assert tally.wrong_answers == []
    assert (lost, duplicated, gaps) == (0, 0, 0)
    assert balances_agree
    assert len(set(emails)) == len(emails)  # the guard held: no e-mail shared


def reader_state(store: DynamoEventStore[Any, Any], account: str) -> int:
    events = [e.data for page in store.load(account) for e in page]
    balance: int = ACCOUNT.fold(ACCOUNT.initial(account), events).balance
    return balance


def expected_balance(tally: Tally, account: str) -> int:
    """1000 funded + accepted deposits - accepted withdrawals, from the answers alone."""
    balance = 1000
    for (aggregate, _), (command, outcome) in tally.answered.items():
        if aggregate != "account" or not isinstance(outcome, CommandAck) or not outcome.events:
            continue
        if getattr(command, "account_id", None) != account:
            continue
        balance += command.amount if isinstance(command, Deposit) else -command.amount
    return balance
