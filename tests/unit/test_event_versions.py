"""Event versions: readers decode the current version directly and upcast the old ones."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import msgspec
import pytest

from hotcore.codec.events import EventReader, EventTooNew, UnknownEventVersion, schema_version_of
from hotcore.contracts.account import (
    AccountClosed,
    AccountEvent,
    AccountOpened,
    Deposited,
    DepositedV1,
    Withdrawn,
)
from hotcore.contracts.common import Envelope, Event

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
READER: EventReader[Any] = EventReader(AccountEvent)
#: Account's events as a reader deployed before Deposited version 2 knew them.
OldAccountEvent = AccountOpened | DepositedV1 | Withdrawn | AccountClosed


def envelope_json(data: dict[str, Any], schema_version: int | None = None, **extra: Any) -> bytes:
    envelope: dict[str, Any] = {
        "stream_id": "a",
        "version": 3,
        "type": data["type"],
        "data": data,
        "command_id": "c",
        "correlation_id": "c",
        "timestamp": "2026-01-02T03:04:05Z",
        "actor": "t",
        **extra,
    }
    if schema_version is not None:
        envelope["schema_version"] = schema_version
    return msgspec.json.encode(envelope)


def test_the_current_version_is_declared_beside_the_contract() -> None:
    assert READER.current == {
        "AccountOpened": 1,
        "Deposited": 2,
        "Withdrawn": 1,
        "AccountClosed": 1,
    }
    assert schema_version_of(Deposited(amount=1)) == 2
    assert schema_version_of(DepositedV1(amount=1)) == 1


def test_a_version_1_deposit_reads_as_version_2() -> None:
    old = envelope_json({"type": "Deposited", "amount": 5, "reference": "refund:o-1"})
    read = READER.decode(old)
    assert read.data == Deposited(amount=5, memo="refund:o-1", currency="EUR")
    assert read.schema_version == 2
    assert (read.stream_id, read.version, read.timestamp) == ("a", 3, T0)
    assert READER.convert(msgspec.json.decode(old)) == read  # an EventBridge detail


def test_the_current_version_decodes_as_it_is_and_omits_version_1() -> None:
    event = Envelope(
        stream_id="a",
        version=1,
        type="Deposited",
        schema_version=2,
        data=Deposited(amount=5, memo="m", currency="USD"),
        command_id="c",
        correlation_id="c",
        timestamp=T0,
        actor="t",
    )
    raw = msgspec.json.encode(event)
    assert READER.decode(raw) == event
    opened = msgspec.json.encode(
        Envelope(
            stream_id="a",
            version=1,
            type="AccountOpened",
            data=AccountOpened(owner_id="o"),
            command_id="c",
            correlation_id="c",
            timestamp=T0,
            actor="t",
        )
    )
    assert b"schema_version" not in opened
    assert b"causation_id" not in opened


def test_unknown_fields_are_ignored_in_events_and_the_envelope() -> None:
    # a writer that added an optional field (a compatible change, no new version)
    newer = envelope_json(
        {"type": "Deposited", "amount": 5, "memo": None, "currency": "EUR", "channel": "api"},
        2,
        tenant="t-1",
    )
    assert READER.decode(newer).data == Deposited(amount=5)


def test_a_version_newer_than_the_reader_is_a_typed_error() -> None:
    old_reader: EventReader[Any] = EventReader(OldAccountEvent)
    new = envelope_json({"type": "Deposited", "amount": 5, "memo": "x", "currency": "EUR"}, 2)
    with pytest.raises(EventTooNew) as too_new:
        old_reader.decode(new)
    assert (too_new.value.event_type, too_new.value.schema_version, too_new.value.known) == (
        "Deposited",
        2,
        1,
    )
    with pytest.raises(EventTooNew):
        READER.decode(envelope_json({"type": "Deposited", "amount": 5}, 3))
    # the types that did not change read as before
    withdrawn = envelope_json({"type": "Withdrawn", "amount": 5})
    assert old_reader.decode(withdrawn).data == Withdrawn(amount=5)


class NoteV2(Event, frozen=True, kw_only=True, tag="Note"):
    schema_version: ClassVar[int] = 2
    body: str

    def upcast(self) -> Note:
        return Note(body=self.body, pinned=False)


class Note(Event, frozen=True, kw_only=True):
    schema_version: ClassVar[int] = 3
    earlier: ClassVar[tuple[type[Event], ...]] = (NoteV2,)  # version 1 was dropped
    body: str
    pinned: bool


def test_a_version_nobody_reads_any_more_is_a_typed_error() -> None:
    reader: EventReader[Any] = EventReader(Note)
    assert reader.decode(envelope_json({"type": "Note", "body": "b"}, 2)).data == Note(
        body="b", pinned=False
    )
    with pytest.raises(UnknownEventVersion, match="keep the old version"):
        reader.decode(envelope_json({"type": "Note", "text": "b"}, 1))


def test_a_current_event_that_breaks_its_contract_still_fails_to_decode() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"\$\.data\.amount"):
        READER.decode(envelope_json({"type": "Deposited", "amount": -5}, 2))
    with pytest.raises(msgspec.ValidationError, match="Robbed"):
        READER.decode(envelope_json({"type": "Robbed", "amount": 5}))


def test_an_earlier_version_must_be_declared_properly() -> None:
    class Bad(Event, frozen=True, kw_only=True, tag="Note"):
        schema_version: ClassVar[int] = 3  # not below the current version
        body: str

        def upcast(self) -> Event:
            return self

    class Current(Event, frozen=True, kw_only=True, tag="Note"):
        schema_version: ClassVar[int] = 3
        earlier: ClassVar[tuple[type[Event], ...]] = (Bad,)

    with pytest.raises(TypeError, match="earlier version"):
        EventReader(Current)

    class NoUpcast(Event, frozen=True, kw_only=True, tag="Note"):
        schema_version: ClassVar[int] = 1

    class Later(Event, frozen=True, kw_only=True, tag="Note"):
        schema_version: ClassVar[int] = 2
        earlier: ClassVar[tuple[type[Event], ...]] = (NoUpcast,)

    with pytest.raises(TypeError, match="upcast"):
        EventReader(Later)
