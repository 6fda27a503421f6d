"""The naive-Python baseline's Account domain and event store: pydantic models and boto3.

This is the code a typical Python team writes for the same Account command and query
handlers as hotcore: pydantic v2 models (a discriminated union on ``type``), a plain
interpreted fold, a boto3 DynamoDB client with ``TypeSerializer`` / ``TypeDeserializer``,
and the same table layout, rules and messages as hotcore's Account aggregate, so that
both do the same DynamoDB requests for the same command:

* load: the newest snapshot (Query, descending, limit 1), then the events after it
  (a paginated, strongly consistent Query), folded;
* append: one ``TransactWriteItems`` with the event ``Put`` (``attribute_not_exists``),
  the command record ``Put`` (idempotency) and, after version 0, a ``ConditionCheck``
  that the previous event exists; a lost race reloads and decides again.

It is written idiomatically, not sabotaged: clients and models are built once at import
(the init phase), the state is folded in place, pagination uses boto3's paginator.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@/+=-]+$")]
Ref = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9._:@/+=-]+$")]
Amount = Annotated[int, Field(gt=0, le=10**15)]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- commands ---------------------------------------------------------------------------


class OpenAccount(Model):
    type: Literal["OpenAccount"] = "OpenAccount"
    account_id: Id
    owner_id: Id


class Deposit(Model):
    type: Literal["Deposit"] = "Deposit"
    account_id: Id
    amount: Amount
    reference: Text | None = None


class Withdraw(Model):
    type: Literal["Withdraw"] = "Withdraw"
    account_id: Id
    amount: Amount
    reference: Text | None = None


class CloseAccount(Model):
    type: Literal["CloseAccount"] = "CloseAccount"
    account_id: Id


AccountCommand = Annotated[
    OpenAccount | Deposit | Withdraw | CloseAccount, Field(discriminator="type")
]


class DirectCommand(Model):
    """A direct invocation (Step Functions task): the command and its metadata."""

    command: AccountCommand
    command_id: Ref | None = None
    correlation_id: Ref | None = None
    causation_id: Ref | None = None
    actor: Text = "direct"


# -- events -----------------------------------------------------------------------------


class AccountOpened(Model):
    type: Literal["AccountOpened"] = "AccountOpened"
    owner_id: Id


class Deposited(Model):
    type: Literal["Deposited"] = "Deposited"
    amount: Amount
    reference: Text | None = None


class Withdrawn(Model):
    type: Literal["Withdrawn"] = "Withdrawn"
    amount: Amount
    reference: Text | None = None


class AccountClosed(Model):
    type: Literal["AccountClosed"] = "AccountClosed"


AccountEvent = Annotated[
    AccountOpened | Deposited | Withdrawn | AccountClosed, Field(discriminator="type")
]


class StoredEvent(BaseModel):
    """One event item as stored: the event and its metadata."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    stream_id: Id
    version: int
    type: str
    data: AccountEvent
    command_id: Ref
    correlation_id: Ref
    causation_id: Ref | None = None
    timestamp: datetime
    actor: Text


class AccountState(BaseModel):
    """The folded state of one account; mutable, folded in place."""

    account_id: str
    status: Literal["new", "open", "closed"] = "new"
    owner_id: str = ""
    balance: int = 0

    def apply(self, event: AccountOpened | Deposited | Withdrawn | AccountClosed) -> None:
        match event:
            case Deposited():
                self.balance += event.amount
            case Withdrawn():
                self.balance -= event.amount
            case AccountOpened():
                self.status = "open"
                self.owner_id = event.owner_id
            case AccountClosed():
                self.status = "closed"


class Rejection(Exception):
    """A command the rules refuse: the rule, a sentence and the data involved."""

    def __init__(self, rule: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.data = data


def decide(
    state: AccountState, command: OpenAccount | Deposit | Withdraw | CloseAccount
) -> list[AccountOpened | Deposited | Withdrawn | AccountClosed]:
    """The Account rules (hotcore's, message for message)."""
    if state.status == "closed":
        raise Rejection(
            "account-closed", f"account {state.account_id} is closed", account_id=state.account_id
        )
    if isinstance(command, OpenAccount):
        if state.status != "new":
            raise Rejection(
                "account-exists",
                f"account {state.account_id} is already open",
                account_id=state.account_id,
            )
        return [AccountOpened(owner_id=command.owner_id)]
    if state.status == "new":
        raise Rejection(
            "account-not-open",
            f"account {state.account_id} is not open",
            account_id=state.account_id,
        )
    if isinstance(command, Deposit):
        return [Deposited(amount=command.amount, reference=command.reference)]
    if isinstance(command, Withdraw):
        if command.amount > state.balance:
            raise Rejection(
                "insufficient-funds",
                f"cannot withdraw {command.amount} from a balance of {state.balance}",
                balance=state.balance,
                amount=command.amount,
            )
        return [Withdrawn(amount=command.amount, reference=command.reference)]
    if state.balance != 0:
        raise Rejection(
            "balance-not-zero",
            f"cannot close an account holding {state.balance}",
            balance=state.balance,
        )
    return [AccountClosed()]


# -- the event store ----------------------------------------------------------------------

TABLE = os.environ.get("ACCOUNT_TABLE") or os.environ["HOTCORE_TABLE"]
SNAPSHOT_EVERY = int(os.environ.get("HOTCORE_SNAPSHOT_EVERY", "100"))
MAX_ATTEMPTS = 8

dynamodb = boto3.client("dynamodb")
serializer = TypeSerializer()
deserializer = TypeDeserializer()
stored_event = TypeAdapter(StoredEvent)


class Conflict(Exception):
    """Another command appended to the stream first."""


def load(account_id: str) -> tuple[AccountState, int]:
    """The account's state and version: newest snapshot, then the events after it."""
    state, version = AccountState(account_id=account_id), 0
    snapshot = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="stream_id = :s",
        ExpressionAttributeValues={":s": {"S": f"{account_id}#snapshot"}},
        ScanIndexForward=False,
        Limit=1,
        ConsistentRead=True,
    )["Items"]
    if snapshot:
        state = AccountState.model_validate_json(snapshot[0]["state"]["S"])
        version = int(snapshot[0]["version"]["N"])
    pages = dynamodb.get_paginator("query").paginate(
        TableName=TABLE,
        KeyConditionExpression="stream_id = :s AND version >= :v",
        ExpressionAttributeValues={":s": {"S": account_id}, ":v": {"N": str(version + 1)}},
        ConsistentRead=True,
    )
    for page in pages:
        for item in page["Items"]:
            event = stored_event.validate_python(
                {name: deserializer.deserialize(value) for name, value in item.items()}
            )
            state.apply(event.data)
            version = event.version
    return state, version


def _plain(value: Any) -> Any:
    """Event fields as TypeSerializer takes them (no floats, no datetimes)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


def append(
    account_id: str,
    version: int,
    events: list[AccountOpened | Deposited | Withdrawn | AccountClosed],
    request: DirectCommand,
    command_id: str,
) -> dict[str, Any]:
    """Append ``events`` after ``version`` in one transaction; the ack, or Conflict."""
    now = datetime.now(UTC)
    actions: list[dict[str, Any]] = []
    for offset, event in enumerate(events, start=1):
        item = {
            "stream_id": account_id,
            "version": version + offset,
            "type": event.type,
            "data": _plain(event.model_dump()),
            "command_id": command_id,
            "correlation_id": request.correlation_id or command_id,
            "timestamp": _plain(now),
            "actor": request.actor,
        }
        if request.causation_id is not None:
            item["causation_id"] = request.causation_id
        actions.append(
            {
                "Put": {
                    "TableName": TABLE,
                    "Item": {k: serializer.serialize(v) for k, v in item.items()},
                    "ConditionExpression": "attribute_not_exists(version)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        )
    ack = {
        "command_id": command_id,
        "stream_id": account_id,
        "version": version + len(events),
        "events": len(events),
    }
    actions.append(
        {
            "Put": {
                "TableName": TABLE,
                "Item": {
                    "stream_id": {"S": f"command#{command_id}"},
                    "version": {"N": "0"},
                    "ref_stream": {"S": account_id},
                    "ref_version": {"N": str(ack["version"])},
                    "events": {"N": str(len(events))},
                },
                "ConditionExpression": "attribute_not_exists(stream_id)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
    )
    if version > 0:
        actions.append(
            {
                "ConditionCheck": {
                    "TableName": TABLE,
                    "Key": {"stream_id": {"S": account_id}, "version": {"N": str(version)}},
                    "ConditionExpression": "attribute_exists(version)",
                }
            }
        )
    try:
        dynamodb.transact_write_items(TransactItems=actions)
    except dynamodb.exceptions.TransactionCanceledException as error:
        reasons = error.response.get("CancellationReasons", [])
        record = reasons[len(events)] if len(reasons) > len(events) else {}
        if record.get("Code") == "ConditionalCheckFailed" and "Item" in record:
            return _ack_of(command_id, record["Item"])  # sent before: its first outcome
        raise Conflict(account_id) from error
    return ack


def _ack_of(command_id: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "command_id": command_id,
        "stream_id": item["ref_stream"]["S"],
        "version": int(item["ref_version"]["N"]),
        "events": int(item["events"]["N"]),
    }


def find_command(command_id: str) -> dict[str, Any] | None:
    found = dynamodb.get_item(
        TableName=TABLE,
        Key={"stream_id": {"S": f"command#{command_id}"}, "version": {"N": "0"}},
        ConsistentRead=True,
    ).get("Item")
    return None if found is None else _ack_of(command_id, found)


def save_snapshot(state: AccountState, version: int) -> None:
    # another command may have saved this snapshot already
    with contextlib.suppress(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.put_item(
            TableName=TABLE,
            Item={
                "stream_id": {"S": f"{state.account_id}#snapshot"},
                "version": {"N": str(version)},
                "state": {"S": state.model_dump_json()},
            },
            ConditionExpression="attribute_not_exists(version)",
        )


def handle(request: DirectCommand) -> dict[str, Any]:
    """Load, fold, decide, append; retried with jitter when another command won the race."""
    command = request.command
    command_id = request.command_id or str(uuid.uuid4())
    for attempt in range(MAX_ATTEMPTS):
        state, version = load(command.account_id)
        try:
            events = decide(state, command)
        except Rejection as rejection:
            first = find_command(command_id)
            if first is not None:
                return {"outcome": "accepted", **first}
            return {
                "outcome": "rejected",
                "rule": rejection.rule,
                "message": rejection.message,
                "data": rejection.data,
            }
        try:
            ack = append(command.account_id, version, events, request, command_id)
        except Conflict:
            time.sleep(random.uniform(0, 0.005 * 2**attempt))
            continue
        if ack["version"] // SNAPSHOT_EVERY > version // SNAPSHOT_EVERY:
            for event in events:
                state.apply(event)
            save_snapshot(state, ack["version"])
        return {"outcome": "accepted", **ack}
    raise Conflict(command.account_id)


def view(account_id: str) -> dict[str, Any]:
    state, version = load(account_id)
    return {"stream_id": account_id, "version": version, "state": state.model_dump()}
