"""The naive-Python baseline's Account domain and event store: pydantic models and boto3.

This is the code a typical Python team writes for the same Account command and query
handlers as hotcore: pydantic v2 models (a discriminated union on ``type``), a plain
interpreted fold, a boto3 DynamoDB client with ``TypeSerializer`` / ``TypeDeserializer``,
and the same table layout, rules and messages as hotcore's Account aggregate, so that
both do the same DynamoDB requests for the same command:

* load: one strongly consistent Query, newest first, ``Limit`` = the snapshot interval,
  paged on until the first item carrying a valid snapshot (or the stream's start), the
  events after it folded oldest first (item layout 2, docs/store.md);
* append: one conditional ``PutItem`` per single-event command
  (``attribute_not_exists(version)``), a ``TransactWriteItems`` of such puts for several
  events; a re-sent command id is answered from the loaded events' ids and fingerprints
  (and the snapshot's list of recent commands); a lost race reloads and decides again.

It is written idiomatically, not sabotaged: clients and models are built once at import
(the init phase), the state is folded in place, pagination uses boto3's paginator.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@/+=-]+$")]
Ref = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9._:@/+=-]+$")]
Amount = Annotated[int, Field(gt=0, le=10**15)]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The event version written in the envelope (1 unless an event type says otherwise).
    schema_version: ClassVar[int] = 1


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
    """Version 2 of the event (hotcore's): ``memo`` (was ``reference``) and ``currency``."""

    schema_version: ClassVar[int] = 2
    type: Literal["Deposited"] = "Deposited"
    amount: Amount
    memo: Text | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"


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
    """One stored envelope (the item's ``e``): the event and its metadata."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    stream_id: Id
    version: int
    type: str
    schema_version: int = 1
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
        return [Deposited(amount=command.amount, memo=command.reference)]
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
#
# hotcore's DynamoDB item layout 2 (docs/store.md), written and read with boto3: one item
# per event, ``stream_id``/``version`` keys, ``type``, ``e`` (the envelope JSON), ``f``
# (the command's fingerprint) and, on some items, ``s`` (a snapshot of the state after it,
# with the stream's recent commands). No command records: a re-sent command id is found
# among the loaded events or in the snapshot's list of recent commands.

TABLE = os.environ.get("ACCOUNT_TABLE") or os.environ["HOTCORE_TABLE"]
SNAPSHOT_EVERY = int(os.environ.get("HOTCORE_SNAPSHOT_EVERY", "12"))
MAX_ATTEMPTS = 8
#: Snapshots name the state's version and the hash hotcore gives its JSON Schema
#: (``hotcore.store.codec.state_schema_hash(AccountState)``): both sides read each other's.
STATE_VERSION = 1
STATE_SCHEMA_HASH = "e1f5f2225310a6ca"
#: The snapshot keeps the stream's last 64 commands, 21 bytes each.
RECENT_COMMANDS = 64

dynamodb = boto3.client("dynamodb")
serializer = TypeSerializer()
deserializer = TypeDeserializer()
stored_event = TypeAdapter(StoredEvent)

#: A command the stream remembers: (SHA-256 of its id, 8 bytes; fingerprint; version after;
#: events). Fingerprints from a snapshot's list keep their first 16 hex digits.
Recent = tuple[bytes, str, int, int]


class Conflict(Exception):
    """Another command appended to the stream first."""


def fingerprint(command: BaseModel) -> str:
    """SHA-256 of the command's JSON with sorted keys, 32 hex digits (as hotcore's)."""
    canonical = json.dumps(
        command.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _id_hash(command_id: str) -> bytes:
    return hashlib.sha256(command_id.encode()).digest()[:8]


@dataclass
class Loaded:
    state: AccountState
    version: int
    snapshot_version: int
    recent: list[Recent]

    def find(self, command_id: str) -> Recent | None:
        key = _id_hash(command_id)
        return next((r for r in reversed(self.recent) if r[0] == key), None)


def _snapshot(item: dict[str, Any]) -> tuple[AccountState, list[Recent]] | None:
    if "s" not in item:
        return None
    body = json.loads(item["s"])
    if body.get("v") != STATE_VERSION or body.get("h") != STATE_SCHEMA_HASH:
        return None
    packed = base64.b64decode(body.get("recent", ""))
    recent = [
        (
            packed[at : at + 8],
            packed[at + 8 : at + 16].hex(),
            int.from_bytes(packed[at + 16 : at + 20], "big"),
            packed[at + 20],
        )
        for at in range(0, len(packed), 21)
    ]
    return AccountState.model_validate(body["state"]), recent


def load(account_id: str) -> Loaded:
    """The account's state: newest first, until the first valid snapshot, then folded."""
    request: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": "stream_id = :s",
        "ExpressionAttributeValues": {":s": {"S": account_id}},
        "ScanIndexForward": False,
        "ConsistentRead": True,
        "Limit": SNAPSHOT_EVERY,
    }
    newest_first: list[dict[str, Any]] = []
    found = None
    snapshot_version = 0
    while found is None:
        page = dynamodb.query(**request)
        for raw in page["Items"]:
            item = {name: deserializer.deserialize(value) for name, value in raw.items()}
            found = _snapshot(item)
            if found is not None:
                snapshot_version = int(item["version"])
                break
            newest_first.append(item)
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        request.pop("Limit", None)
    state, recent = found if found is not None else (AccountState(account_id=account_id), [])
    version = snapshot_version
    for item in reversed(newest_first):
        event = stored_event.validate_json(item["e"])
        state.apply(event.data)
        version = event.version
        if recent and recent[-1][0] == _id_hash(event.command_id) and recent[-1][2] < version:
            key, fp, _, count = recent[-1]
            recent[-1] = (key, fp, version, count + 1)
        else:
            recent.append((_id_hash(event.command_id), item["f"], version, 1))
    return Loaded(state=state, version=version, snapshot_version=snapshot_version, recent=recent)


def _envelope(
    account_id: str, version: int, event: BaseModel, request: DirectCommand, command_id: str
) -> str:
    """The envelope JSON, in hotcore's field order (what the publisher sends as Detail)."""
    envelope: dict[str, Any] = {"stream_id": account_id, "version": version, "type": event.type}
    if event.schema_version != 1:
        envelope["schema_version"] = event.schema_version
    envelope["data"] = event.model_dump(mode="json")
    envelope["command_id"] = command_id
    envelope["correlation_id"] = request.correlation_id or command_id
    if request.causation_id is not None:
        envelope["causation_id"] = request.causation_id
    envelope["timestamp"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    envelope["actor"] = request.actor
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


def append(
    loaded: Loaded,
    account_id: str,
    events: list[AccountOpened | Deposited | Withdrawn | AccountClosed],
    request: DirectCommand,
    command_id: str,
    command_fingerprint: str,
    snapshot: AccountState | None = None,
) -> dict[str, Any]:
    """Append ``events`` after the loaded version, all or nothing; the ack, or Conflict."""
    version = loaded.version
    items = [
        {
            "stream_id": account_id,
            "version": version + offset,
            "type": event.type,
            "e": _envelope(account_id, version + offset, event, request, command_id),
            "f": command_fingerprint,
        }
        for offset, event in enumerate(events, start=1)
    ]
    ack = {
        "command_id": command_id,
        "stream_id": account_id,
        "version": version + len(events),
        "events": len(events),
    }
    if snapshot is not None:
        recent = [
            *loaded.recent,
            (_id_hash(command_id), command_fingerprint, ack["version"], len(events)),
        ]
        packed = b"".join(
            key + bytes.fromhex(fp[:16]) + after.to_bytes(4, "big") + count.to_bytes(1, "big")
            for key, fp, after, count in recent[-RECENT_COMMANDS:]
        )
        items[-1]["s"] = (
            f'{{"v":{STATE_VERSION},"h":"{STATE_SCHEMA_HASH}","state":'
            f"{snapshot.model_dump_json()},"
            f'"recent":"{base64.b64encode(packed).decode()}"}}'
        )
    puts = [
        {
            "TableName": TABLE,
            "Item": {k: serializer.serialize(v) for k, v in item.items()},
            "ConditionExpression": "attribute_not_exists(version)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        for item in items
    ]
    try:
        if len(puts) == 1:
            dynamodb.put_item(**puts[0])
        else:
            actions = [{"Put": put} for put in puts]
            token = hashlib.sha256(json.dumps(actions, sort_keys=True).encode()).hexdigest()[:36]
            dynamodb.transact_write_items(TransactItems=actions, ClientRequestToken=token)
    except (
        dynamodb.exceptions.ConditionalCheckFailedException,
        dynamodb.exceptions.TransactionCanceledException,
    ) as error:
        # another command took the version, or an earlier attempt of ours did: reload
        raise Conflict(account_id) from error
    return ack


def _first(
    loaded: Loaded, command_id: str, account_id: str, command_fingerprint: str
) -> dict[str, Any] | None:
    """The answer to a command id the stream has seen: its first outcome, or a refusal."""
    recent = loaded.find(command_id)
    if recent is None:
        return None
    first = {
        "command_id": command_id,
        "stream_id": account_id,
        "version": recent[2],
        "events": recent[3],
    }
    if command_fingerprint.startswith(recent[1]):
        return {"outcome": "accepted", **first}
    return {
        "outcome": "rejected",
        "rule": "command-id-reused",
        "message": f"command id {command_id!r} was already used on {account_id!r} "
        "for a different command; send this command with a new id",
        "data": {"command_id": command_id, "stream_id": account_id, "version": recent[2]},
    }


def handle(request: DirectCommand) -> dict[str, Any]:
    """Load, fold, decide, append; retried with jitter when another command won the race."""
    command = request.command
    command_id = request.command_id or str(uuid.uuid4())
    command_fingerprint = fingerprint(command)
    for attempt in range(MAX_ATTEMPTS):
        loaded = load(command.account_id)
        first = _first(loaded, command_id, command.account_id, command_fingerprint)
        if first is not None:
            return first
        try:
            events = decide(loaded.state, command)
        except Rejection as rejection:
            return {
                "outcome": "rejected",
                "rule": rejection.rule,
                "message": rejection.message,
                "data": rejection.data,
            }
        snapshot = None
        if loaded.version + len(events) - loaded.snapshot_version >= SNAPSHOT_EVERY:
            snapshot = loaded.state.model_copy()
            for event in events:
                snapshot.apply(event)
        try:
            ack = append(
                loaded,
                command.account_id,
                events,
                request,
                command_id,
                command_fingerprint,
                snapshot,
            )
        except Conflict:
            time.sleep(random.uniform(0, 0.005 * 2**attempt))
            continue
        return {"outcome": "accepted", **ack}
    raise Conflict(command.account_id)


def view(account_id: str) -> dict[str, Any]:
    loaded = load(account_id)
    return {"stream_id": account_id, "version": loaded.version, "state": loaded.state.model_dump()}
