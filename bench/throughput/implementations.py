"""Decode + fold of raw DynamoDB Query pages of one Account stream, five ways.

Every implementation takes the same Query response bodies (bytes, oldest page first, item
layout 2: each event's envelope JSON in ``e``) and returns the folded state as
``(status, owner_id, balance)``, so that a run can check that they all agree before it
times them.

- ``boto3``: what the boto3 client does with a response (botocore's JSON parser on the
  Query output shape), then ``TypeDeserializer`` per item and ``json.loads`` of its
  envelope, then a fold over dicts.
- ``naive``: the naive-Python baseline's own load path (``bench/naive/ledger.py``):
  boto3 parsing, ``TypeDeserializer``, pydantic validating each envelope, the in-place fold.
- ``json`` / ``orjson``: the parser on the page and on each envelope, then hand-written
  mapping straight into the fold.
- ``msgspec-pure`` / ``msgspec-compiled``: hotcore's read path, as ``load_latest`` reads a
  page (``hotcore_dev.history.page_loader``: the items in one pass, each envelope's
  version, command id and data with the contract union checked), folded by the Account
  reducer, interpreted or compiled by mypyc.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec

from hotcore.contracts.account import AccountEvent, AccountState
from hotcore.contracts.common import Envelope

Summary = tuple[str, str, int]
Implementation = Callable[[Sequence[bytes]], Summary]

ROOT = Path(__file__).resolve().parents[2]


# -- boto3 --------------------------------------------------------------------------------


def _botocore_query_parser() -> Callable[[bytes], dict[str, Any]]:
    import botocore.parsers
    import botocore.session

    model = botocore.session.get_session().get_service_model("dynamodb")
    shape = model.operation_model("Query").output_shape
    parser = botocore.parsers.create_parser(model.metadata["protocol"])

    def parse(raw: bytes) -> dict[str, Any]:
        parsed: dict[str, Any] = parser.parse(
            {"body": raw, "headers": {}, "status_code": 200}, shape
        )
        return parsed

    return parse


def fold_dicts(state: dict[str, Any], events: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The Account fold over plain dicts (``type`` plus the event's fields)."""
    status, owner, balance = state["status"], state["owner_id"], state["balance"]
    for event in events:
        kind = event["type"]
        if kind == "Deposited":
            balance += event["amount"]
        elif kind == "Withdrawn":
            balance -= event["amount"]
        elif kind == "AccountOpened":
            status, owner = "open", event["owner_id"]
        elif kind == "AccountClosed":
            status = "closed"
    return {"status": status, "owner_id": owner, "balance": balance}


def boto3_typedeserializer() -> Implementation:
    from boto3.dynamodb.types import TypeDeserializer

    parse = _botocore_query_parser()
    deserialize = TypeDeserializer().deserialize

    def run(pages: Sequence[bytes]) -> Summary:
        state = {"status": "new", "owner_id": "", "balance": 0}
        for raw in pages:
            items = parse(raw)["Items"]
            events = (json.loads(deserialize(item["e"]))["data"] for item in items)
            state = fold_dicts(state, events)
        return state["status"], state["owner_id"], int(state["balance"])

    return run


def naive_pydantic() -> Implementation:
    """The naive handler's own code: its module is loaded as the Lambda would load it."""
    os.environ.setdefault("HOTCORE_TABLE", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    ledger = _load_naive_ledger()
    from boto3.dynamodb.types import TypeDeserializer

    parse = _botocore_query_parser()
    deserialize = TypeDeserializer().deserialize
    validate = ledger.stored_event.validate_json

    def run(pages: Sequence[bytes]) -> Summary:
        state = ledger.AccountState(account_id="bench")
        for raw in pages:
            for item in parse(raw)["Items"]:
                plain = {name: deserialize(value) for name, value in item.items()}
                state.apply(validate(plain["e"]).data)
        return state.status, state.owner_id, state.balance

    return run


def _load_naive_ledger() -> ModuleType:
    naive = str(ROOT / "bench" / "naive")
    if naive not in sys.path:
        sys.path.insert(0, naive)
    import ledger  # bench/naive/ledger.py, as its handlers import it

    return ledger


# -- json / orjson + hand mapping --------------------------------------------------------


def _hand_fold(loads: Callable[[bytes], Any]) -> Implementation:
    def run(pages: Sequence[bytes]) -> Summary:
        status, owner, balance = "new", "", 0
        for raw in pages:
            for item in loads(raw)["Items"]:
                data = loads(item["e"]["S"])["data"]
                kind = data["type"]
                if kind == "Deposited":
                    balance += data["amount"]
                elif kind == "Withdrawn":
                    balance -= data["amount"]
                elif kind == "AccountOpened":
                    status, owner = "open", data["owner_id"]
                elif kind == "AccountClosed":
                    status = "closed"
        return status, owner, balance

    return run


def json_hand() -> Implementation:
    return _hand_fold(json.loads)


def orjson_hand() -> Implementation:
    import orjson

    return _hand_fold(orjson.loads)


# -- hotcore: msgspec straight into Structs + the reducer ---------------------------------


def _msgspec(fold: Callable[[AccountState, Iterable[Any]], AccountState]) -> Implementation:
    from hotcore_dev.history import page_loader

    load = page_loader(AccountEvent)

    def run(pages: Sequence[bytes]) -> Summary:
        state = AccountState(account_id="bench")
        for raw in pages:
            state = fold(state, [event.data for event in load(raw, "bench")])
        return state.status, state.owner_id, state.balance

    return run


def reducers() -> tuple[ModuleType, ModuleType | None]:
    """(interpreted reducer, compiled reducer or None when this build is pure Python)."""
    from hotcore.domain.account import reducer
    from hotcore_dev.compiled import is_compiled, pure_twin

    if not is_compiled(reducer):
        return reducer, None
    twin = pure_twin(reducer)
    assert twin is not None
    return twin, reducer


def msgspec_pure() -> Implementation:
    return _msgspec(reducers()[0].fold)


def msgspec_compiled() -> Implementation | None:
    compiled = reducers()[1]
    return None if compiled is None else _msgspec(compiled.fold)


#: name -> factory; a factory returning None is not available in this build.
IMPLEMENTATIONS: dict[str, Callable[[], Implementation | None]] = {
    "boto3": boto3_typedeserializer,
    "naive": naive_pydantic,
    "json": json_hand,
    "orjson": orjson_hand,
    "msgspec-pure": msgspec_pure,
    "msgspec-compiled": msgspec_compiled,
}


# -- the append path: one single-event command's PutItem request ------------------------


def sample_envelope(version: int = 42) -> Envelope[Any]:
    from hotcore.contracts.account import Withdrawn

    return Envelope(
        stream_id="acct-1",
        version=version,
        type="Withdrawn",
        data=Withdrawn(amount=1250, reference="invoice-2026-11-0042"),
        command_id="cmd-7f3c",
        correlation_id="cmd-7f3c",
        timestamp=datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
        actor="arn:aws:sts::123456789012:assumed-role/frontend/server-1",
    )


def sample_command() -> Any:
    from hotcore.contracts.account import Withdraw

    return Withdraw(account_id="acct-1", amount=1250, reference="invoice-2026-11-0042")


class RecordingDynamoDB:
    """Stands where ``hotcore.aws.dynamodb.DynamoDB`` does and encodes each request body
    as its client does (msgspec JSON), but keeps it instead of sending it: what is left
    of an append is its CPU cost on the way out."""

    def __init__(self) -> None:
        self.client = self
        self.bodies: list[bytes] = []
        self._encode = msgspec.json.Encoder().encode

    def put_item(self, request: Any) -> dict[str, Any]:
        self.bodies.append(self._encode(request))
        return {}

    def transact_write_items(self, request: Any) -> dict[str, Any]:
        self.bodies.append(self._encode(request))
        return {}

    def reset(self) -> None:
        self.bodies.clear()


def hotcore_append() -> Callable[[], bytes]:
    """hotcore's ``DynamoEventStore.append`` of one event, up to the request bytes: the
    command flow has loaded the stream (the store knows its top, 41), decided one event."""
    from hotcore.store.dynamodb import DynamoEventStore
    from hotcore.store.fingerprint import fingerprint

    client = RecordingDynamoDB()
    store: DynamoEventStore[Any, Any] = DynamoEventStore(
        client,  # type: ignore[arg-type]
        "bench",  # the naive baseline's table name here (HOTCORE_TABLE), for comparisons
        "account",
        AccountEvent,
        AccountState,
    )
    envelope = sample_envelope()
    command_fingerprint = fingerprint(sample_command())

    def run() -> bytes:
        client.bodies.clear()
        store._remember("acct-1", 41, ())  # what the load before the decision left
        store.append(
            "acct-1", 41, [envelope], command_id="cmd-7f3c", fingerprint=command_fingerprint
        )
        return client.bodies[-1]

    return run


def naive_append() -> Callable[[], bytes]:
    """The naive baseline's append: pydantic dump, its envelope JSON, TypeSerializer,
    botocore's validation and serialization of the PutItem request (what
    ``client.put_item`` does before it signs and sends)."""
    os.environ.setdefault("HOTCORE_TABLE", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    ledger = _load_naive_ledger()
    import botocore.serialize
    import botocore.session

    model = botocore.session.get_session().get_service_model("dynamodb")
    operation = model.operation_model("PutItem")
    # with botocore's parameter validation, as a client call does
    serializer = botocore.serialize.create_serializer(model.metadata["protocol"])
    captured: list[dict[str, Any]] = []

    class Capture:
        exceptions = ledger.dynamodb.exceptions

        def put_item(self, **request: Any) -> dict[str, Any]:
            captured.append(request)
            return {}

    ledger.dynamodb = Capture()
    command = ledger.Withdraw(account_id="acct-1", amount=1250, reference="invoice-2026-11-0042")
    request = ledger.DirectCommand(
        command=command,
        command_id="cmd-7f3c",
        actor="arn:aws:sts::123456789012:assumed-role/frontend/server-1",
    )
    event = ledger.Withdrawn(amount=1250, reference="invoice-2026-11-0042")
    loaded = ledger.Loaded(
        state=ledger.AccountState(account_id="acct-1"), version=41, snapshot_version=0, recent=[]
    )

    def run() -> bytes:
        captured.clear()
        ledger.append(loaded, "acct-1", [event], request, "cmd-7f3c", ledger.fingerprint(command))
        body: bytes = serializer.serialize_to_request(captured[-1], operation)["body"]
        return body

    return run


def decoded_events(pages: Sequence[bytes]) -> list[Any]:
    """Every event of the pages, read as hotcore's store reads them (for fold-only timing)."""
    from hotcore_dev.history import page_loader

    load = page_loader(AccountEvent)
    return [event.data for raw in pages for event in load(raw, "bench")]


# -- the Streams publisher: one batch of records to PutEvents entries ----------------------


def stream_batch(size: int = 100) -> dict[str, Any]:
    """A DynamoDB Streams batch of ``size`` INSERTs of Account event items, as Lambda
    passes it (the items exactly as the store writes them, ``hotcore_dev.history``)."""
    from hotcore.domain.account import ACCOUNT
    from hotcore_dev.history import event_item, generate_history

    history = generate_history(ACCOUNT, length=size, stream_id="acct-1")
    records = []
    for envelope, command_fingerprint in zip(history.envelopes, history.fingerprints, strict=True):
        item = event_item(envelope, command_fingerprint)
        records.append(
            {
                "eventID": f"e{envelope.version}",
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "dynamodb": {
                    "Keys": {"stream_id": item["stream_id"], "version": item["version"]},
                    "NewImage": item,
                    "SequenceNumber": f"{envelope.version:021d}",
                    "StreamViewType": "NEW_IMAGE",
                },
            }
        )
    return {"Records": records}


class _CapturingBus:
    """Stands where ``hotcore.aws.eventbridge.EventBridge`` does: keeps the entries."""

    def __init__(self) -> None:
        self.entries: list[dict[str, str]] = []

    def put_events(self, entries: list[dict[str, str]]) -> Any:
        from hotcore.aws.eventbridge import PutEventsResult

        self.entries = entries
        return PutEventsResult(event_ids=[str(i) for i in range(len(entries))], failures=[])


def hotcore_publish() -> Callable[[dict[str, Any]], list[dict[str, str]]]:
    """hotcore's ``StreamsPublisher`` on a batch, up to the PutEvents entries (no request)."""
    from hotcore.domain.account import ACCOUNT
    from hotcore.entrypoints.publisher import StreamsPublisher

    bus = _CapturingBus()
    publisher = StreamsPublisher(ACCOUNT, bus, "bench-bus")

    def run(batch: dict[str, Any]) -> list[dict[str, str]]:
        answer = publisher(batch)
        assert not answer["batchItemFailures"]
        return bus.entries

    return run


def naive_publish() -> Callable[[dict[str, Any]], list[dict[str, str]]]:
    """The naive publisher's (``bench/naive/publisher.py``) entries of a batch."""
    os.environ.setdefault("HOTCORE_TABLE", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("HOTCORE_BUS_NAME", "bench-bus")
    _load_naive_ledger()
    import publisher  # bench/naive/publisher.py, beside the ledger

    def run(batch: dict[str, Any]) -> list[dict[str, str]]:
        entries, failed = publisher.entries_of(batch["Records"])
        assert not failed
        entries_list: list[dict[str, str]] = entries
        return entries_list

    return run


# -- a command's state load: one Query page newest first, ending at a snapshot ------------


def snapshot_page(events: int = 100, every: int = 12) -> tuple[bytes, Summary]:
    """The first page a command's load reads at steady state: the stream's newest ``every``
    items, newest first, the oldest of them carrying the snapshot (state and the recent
    commands, as the store embeds it); and the state the load folds to."""
    from hotcore.domain.account import ACCOUNT
    from hotcore.store.codec import state_schema_hash
    from hotcore.store.dynamodb import RECENT_COMMANDS, pack_recent
    from hotcore.store.fingerprint import id_hash
    from hotcore_dev.history import event_item, generate_history

    history = generate_history(ACCOUNT, length=events, stream_id="acct-1")
    at = events - every + 1  # the version whose item holds the snapshot
    state = ACCOUNT.fold(ACCOUNT.initial("acct-1"), [e.data for e in history.envelopes[:at]])
    window = [
        (id_hash(e.command_id), f, e.version, 1)
        for e, f in zip(history.envelopes[:at], history.fingerprints[:at], strict=True)
    ][-RECENT_COMMANDS:]
    items = [event_item(e, f) for e, f in zip(history.envelopes, history.fingerprints, strict=True)]
    state_json = msgspec.json.encode(state).decode()
    items[at - 1]["s"] = {
        "S": f'{{"v":1,"h":"{state_schema_hash(AccountState)}","state":{state_json},'
        f'"recent":"{pack_recent(window)}"}}'
    }
    newest = items[at - 1 :][::-1]
    body = {
        "Count": len(newest),
        "Items": newest,
        "ScannedCount": len(newest),
        "LastEvaluatedKey": {
            "stream_id": newest[-1]["stream_id"],
            "version": newest[-1]["version"],
        },
    }
    final = history.state
    return msgspec.json.encode(body), (final.status, final.owner_id, final.balance)


class _OnePage:
    """Stands where ``hotcore.aws.dynamodb.DynamoDB`` does: every Query answers ``page``."""

    def __init__(self, page: bytes) -> None:
        self.page = page
        self.client = self

    def query_raw(self, request: Any) -> bytes:
        return self.page


def hotcore_snapshot_load(page: bytes) -> Callable[[], Summary]:
    """``load_latest`` + the fold onto the snapshot, as the command flow loads a state."""
    from hotcore.domain.account import ACCOUNT
    from hotcore.service.stream import fold_latest
    from hotcore.store.dynamodb import DynamoEventStore

    store: DynamoEventStore[Any, Any] = DynamoEventStore(
        _OnePage(page),  # type: ignore[arg-type]
        "bench",
        "account",
        AccountEvent,
        AccountState,
    )

    def run() -> Summary:
        latest = store.load_latest("acct-1", command_id="cmd-new")
        state = fold_latest(ACCOUNT, latest)
        return state.status, state.owner_id, state.balance

    return run


def naive_snapshot_load(page: bytes) -> Callable[[], Summary]:
    """The naive baseline's ``load`` on the same page (boto3's parser on the response)."""
    os.environ.setdefault("HOTCORE_TABLE", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    ledger = _load_naive_ledger()
    parse = _botocore_query_parser()

    class OnePage:
        exceptions = ledger.dynamodb.exceptions

        def query(self, **request: Any) -> dict[str, Any]:
            return parse(page)

    ledger.dynamodb = OnePage()

    def run() -> Summary:
        loaded = ledger.load("acct-1")
        ledger.Loaded.find(loaded, "cmd-new")
        state = loaded.state
        return state.status, state.owner_id, state.balance

    return run
