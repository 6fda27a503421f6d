"""Decode + fold of raw DynamoDB Query pages of one Account stream, five ways.

Every implementation takes the same Query response bodies (bytes, oldest page first)
and returns the folded state as ``(status, owner_id, balance)``, so that a run can check
that they all agree before it times them.

- ``boto3``: what the boto3 client does with a response (botocore's JSON parser on the
  Query output shape), then ``TypeDeserializer`` per item, then a fold over dicts.
- ``naive``: the naive-Python baseline's own load path (``bench/naive/ledger.py``):
  boto3 parsing, ``TypeDeserializer``, a pydantic model per event, the in-place fold.
- ``json`` / ``orjson``: the parser, then hand-written mapping of the attribute values
  straight into the fold.
- ``msgspec-pure`` / ``msgspec-compiled``: hotcore's read path: the page decoded straight
  into typed envelopes (``hotcore.codec.query_page``), folded by the Account reducer,
  interpreted or compiled by mypyc.
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
            events = (deserialize(item["data"]) for item in items)
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
    validate = ledger.stored_event.validate_python

    def run(pages: Sequence[bytes]) -> Summary:
        state = ledger.AccountState(account_id="bench")
        for raw in pages:
            for item in parse(raw)["Items"]:
                event = validate({name: deserialize(value) for name, value in item.items()})
                state.apply(event.data)
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
                kind = item["type"]["S"]
                data = item["data"]["M"]
                if kind == "Deposited":
                    balance += int(data["amount"]["N"])
                elif kind == "Withdrawn":
                    balance -= int(data["amount"]["N"])
                elif kind == "AccountOpened":
                    status, owner = "open", data["owner_id"]["S"]
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
    from hotcore.codec.query_page import page_decoder

    decode = page_decoder(Envelope[AccountEvent]).decode_page  # type: ignore[valid-type]

    def run(pages: Sequence[bytes]) -> Summary:
        state = AccountState(account_id="bench")
        for raw in pages:
            state = fold(state, [envelope.data for envelope in decode(raw).items])
        return state.status, state.owner_id, state.balance

    return run


def reducers() -> tuple[ModuleType, ModuleType | None]:
    """(interpreted reducer, compiled reducer or None when this build is pure Python)."""
    from hotcore.domain.account import reducer
    from hotcore.layer import is_compiled, pure_twin

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


# -- the append path: one command's TransactWriteItems request ---------------------------


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


class RecordingDynamoDB:
    """Stands where ``hotcore.aws.dynamodb.DynamoDB`` does and encodes each request body
    as its client does (msgspec JSON), but keeps it instead of sending it: what is left
    of an append is its CPU cost on the way out."""

    def __init__(self) -> None:
        self.client = self
        self.bodies: list[bytes] = []
        self._encode = msgspec.json.Encoder().encode

    def transact_write_items(self, request: Any) -> dict[str, Any]:
        self.bodies.append(self._encode(request))
        return {}

    def reset(self) -> None:
        self.bodies.clear()


def hotcore_append() -> Callable[[], bytes]:
    """hotcore's ``DynamoEventStore.append`` of one event, up to the request bytes."""
    from hotcore.store.dynamodb import DynamoEventStore

    client = RecordingDynamoDB()
    store: DynamoEventStore[Any, Any] = DynamoEventStore(
        client,  # type: ignore[arg-type]
        "bench",  # the naive baseline's table name here (HOTCORE_TABLE), for comparisons
        "account",
        AccountEvent,
        AccountState,
    )
    envelope = sample_envelope()

    def run() -> bytes:
        client.bodies.clear()
        store.append("acct-1", 41, [envelope], command_id="cmd-7f3c")
        return client.bodies[-1]

    return run


def naive_append() -> Callable[[], bytes]:
    """The naive baseline's append: pydantic dump, TypeSerializer, botocore's validation
    and serialization of the TransactWriteItems request (what ``client.transact_write_items``
    does before it signs and sends)."""
    os.environ.setdefault("HOTCORE_TABLE", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    ledger = _load_naive_ledger()
    import botocore.serialize
    import botocore.session

    model = botocore.session.get_session().get_service_model("dynamodb")
    operation = model.operation_model("TransactWriteItems")
    # with botocore's parameter validation, as a client call does
    serializer = botocore.serialize.create_serializer(model.metadata["protocol"])
    captured: list[dict[str, Any]] = []

    class Capture:
        def transact_write_items(self, **request: Any) -> dict[str, Any]:
            captured.append(request)
            return {}

    ledger.dynamodb = Capture()
    request = ledger.DirectCommand(
        command=ledger.Withdraw(account_id="acct-1", amount=1250, reference="invoice-2026-11-0042"),
        command_id="cmd-7f3c",
        actor="arn:aws:sts::123456789012:assumed-role/frontend/server-1",
    )
    event = ledger.Withdrawn(amount=1250, reference="invoice-2026-11-0042")

    def run() -> bytes:
        captured.clear()
        ledger.append("acct-1", 41, [event], request, "cmd-7f3c")
        body: bytes = serializer.serialize_to_request(captured[-1], operation)["body"]
        return body

    return run


def decoded_events(pages: Sequence[bytes]) -> list[Any]:
    """Every event of the pages, decoded by hotcore's page decoder (for fold-only timing)."""
    from hotcore.codec.query_page import page_decoder

    decode = page_decoder(Envelope[AccountEvent]).decode_page  # type: ignore[valid-type]
    return [envelope.data for raw in pages for envelope in decode(raw).items]
