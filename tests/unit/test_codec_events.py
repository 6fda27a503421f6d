"""The state-load read path: loaded events from stored envelopes and layout-2 Query pages.

- a loaded event is the envelope's version, command id and data, for every aggregate's
  events (a property over the contracts' own strategies);
- what is validated on that path: the event data against its contract, always; the
  envelope's ids and metadata not at all (skipped by the parser);
- old versions in a page come upcast, whatever their place in the page;
- a stored event that does not decode names its stream, its version and the field;
- pages: the wire items keep ``e``/``f``/``s`` as stored, loaded pages fold like envelopes;
- a reader that has read many events decodes pages with twins of its patterned classes:
  the same loaded events, in the contract's own classes, every pattern still checked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotcore.codec import events as events_module
from hotcore.codec.events import (
    EventItemPages,
    EventReader,
    LoadedEvent,
    StoredEventUnreadable,
    UnreadableEvent,
    schema_version_of,
)
from hotcore.contracts.account import (
    AccountEvent,
    AccountOpened,
    Deposited,
    DepositedV1,
    Withdrawn,
)
from hotcore.contracts.common import Envelope, Event
from hotcore.domain.registry import aggregates
from tests.support.contract_strategies import for_type

_encode = msgspec.json.encode
_WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def envelope(version: int, data: Any, command_id: str = "c-1", **extra: Any) -> Envelope[Any]:
    extra.setdefault("schema_version", schema_version_of(data))  # what a writer stores
    return Envelope(
        stream_id="acc-1",
        version=version,
        type=type(data).__struct_config__.tag,
        data=data,
        command_id=command_id,
        correlation_id=command_id,
        timestamp=_WHEN,
        actor="tester",
        **extra,
    )


def versions_of(raws: list[bytes]) -> Any:
    return lambda i: i + 1


ACCOUNT = EventReader(AccountEvent)


@pytest.mark.parametrize("name", sorted(aggregates()))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_loaded_event_is_the_envelopes_version_command_and_data(
    name: str, data: st.DataObject
) -> None:
    aggregate = aggregates()[name]
    reader: EventReader[Any] = EventReader(aggregate.event_type)
    events = data.draw(st.lists(for_type(aggregate.event_type), min_size=1, max_size=5))
    sent = [envelope(v, event, f"c-{v}") for v, event in enumerate(events, start=1)]
    raws = [_encode(e) for e in sent]
    loaded = reader.loaded_page(raws, "acc-1", versions_of(raws))
    assert loaded == [
        LoadedEvent(
            version=e.version,
            schema_version=e.schema_version,
            command_id=e.command_id,
            data=e.data,
        )
        for e in sent
    ]
    assert [reader.loaded(raw) for raw in raws] == loaded
    # the same data the full envelope decode gives
    assert [e.data for e in loaded] == [reader.decode(raw).data for raw in raws]


def test_the_data_is_checked_against_its_contract_the_metadata_is_not_read() -> None:
    good = envelope(1, Deposited(amount=5))
    # ids breaking their patterns, a timestamp that is no timestamp: not read by a load
    odd = _encode(good).replace(b'"actor":"tester"', b'"actor":""')
    odd = odd.replace(b'"correlation_id":"c-1"', b'"correlation_id":"has spaces #"')
    odd = odd.replace(b'"2026-01-02T03:04:05Z"', b'"yesterday"')
    assert ACCOUNT.loaded(odd).data == Deposited(amount=5)
    with pytest.raises(msgspec.ValidationError):
        ACCOUNT.decode(odd)  # the full envelope (the bus, load()) still checks all of it
    broken = _encode(good).replace(b'"amount":5', b'"amount":0')
    with pytest.raises(msgspec.ValidationError, match=r"\$\.data\.amount"):
        ACCOUNT.loaded(broken)


def test_a_stored_event_that_does_not_decode_names_stream_version_and_field() -> None:
    raws = [_encode(envelope(v, Deposited(amount=v), f"c-{v}")) for v in (1, 2, 3)]
    raws[1] = raws[1].replace(b'"amount":2', b'"amount":-2')
    with pytest.raises(StoredEventUnreadable) as caught:
        ACCOUNT.loaded_page(raws, "acc-1", lambda i: 40 + i)
    error = caught.value
    assert (error.stream_id, error.version) == ("acc-1", 41)
    assert "stored event acc-1@41 does not decode" in str(error)
    assert "`$.data.amount`" in str(error)
    garbage = [raws[0], b'{"version": 2, "data": ']
    with pytest.raises(StoredEventUnreadable, match="acc-1@2 does not decode"):
        ACCOUNT.loaded_page(garbage, "acc-1", versions_of(garbage))
    unknown = [_encode(envelope(1, Deposited(amount=1))).replace(b'"Deposited"', b'"Frozen"')]
    with pytest.raises(StoredEventUnreadable, match="acc-1@1"):
        ACCOUNT.loaded_page(unknown, "acc-1", versions_of(unknown))


class NoteV1(Event, frozen=True, kw_only=True, tag="Note"):
    schema_version: ClassVar[int] = 1
    text: str

    def upcast(self) -> Note:
        return Note(text=self.text, pinned=False)


class Note(Event, frozen=True, kw_only=True):
    """Version 2 adds ``pinned`` with a default: a version-1 payload also decodes as it."""

    schema_version: ClassVar[int] = 2
    earlier: ClassVar[tuple[type[Event], ...]] = (NoteV1,)
    text: str
    pinned: bool = True


def test_old_versions_anywhere_in_a_page_come_upcast() -> None:
    reader: EventReader[Note] = EventReader(Note)
    current = [_encode(envelope(v, Note(text=f"n{v}"), schema_version=2)) for v in (1, 2, 4)]
    # stored by version-1 code: decodes as the current Struct too, but must be upcast
    old = _encode(envelope(3, NoteV1(text="old")))
    page = [current[0], current[1], old, current[2]]
    loaded = reader.loaded_page(page, "n-1", versions_of(page))
    assert [e.data for e in loaded] == [
        Note(text="n1"),
        Note(text="n2"),
        Note(text="old", pinned=False),
        Note(text="n4"),
    ]
    assert {e.schema_version for e in loaded} == {2}
    newer = [_encode(envelope(1, Note(text="x"), schema_version=3))]
    with pytest.raises(StoredEventUnreadable) as caught:
        reader.loaded_page(newer, "n-1", versions_of(newer))
    assert isinstance(caught.value.cause, UnreadableEvent)  # EventTooNew, named


def test_an_unversioned_aggregates_old_event_goes_through_the_envelope() -> None:
    # version 1 is current for Account: a stored version 2 is newer than this reader
    raws = [_encode(envelope(1, Withdrawn(amount=3), schema_version=2))]
    with pytest.raises(StoredEventUnreadable, match="newer than this reader"):
        ACCOUNT.loaded_page(raws, "acc-1", versions_of(raws))


def _page(items: list[dict[str, Any]], last: dict[str, Any] | None = None) -> bytes:
    body: dict[str, Any] = {"Items": items, "Count": len(items), "ScannedCount": len(items)}
    if last is not None:
        body["LastEvaluatedKey"] = last
    return _encode(body)


def _item(event: Envelope[Any], snapshot: str | None = None) -> dict[str, Any]:
    item = {
        "stream_id": {"S": event.stream_id},
        "version": {"N": str(event.version)},
        "type": {"S": event.type},
        "e": {"S": _encode(event).decode()},
        "f": {"S": "ab" * 16},
    }
    if snapshot is not None:
        item["s"] = {"S": snapshot}
    return item


def test_layout_2_pages_decode_to_items_and_to_loaded_events() -> None:
    pages = EventItemPages(ACCOUNT)
    sent = [envelope(1, AccountOpened(owner_id="o")), envelope(2, Deposited(amount=7))]
    key = {"stream_id": {"S": "acc-1"}, "version": {"N": "2"}}
    raw = _page([_item(sent[0]), _item(sent[1], snapshot='{"v":1}')], last=key)
    items, last = pages.latest(raw)
    assert last == key
    assert [(i.version.N, i.f.S) for i in items] == [(1, "ab" * 16), (2, "ab" * 16)]
    assert [i.s.S if i.s else None for i in items] == [None, '{"v":1}']
    assert [ACCOUNT.decode(i.e.S) for i in items] == sent
    loaded, last = pages.loaded(raw, "acc-1")
    assert [(e.version, e.data) for e in loaded] == [(1, sent[0].data), (2, sent[1].data)]
    envelopes, _ = pages.ascending(raw, "acc-1")
    assert envelopes == sent
    broken = raw.replace(b'\\"amount\\":7', b'\\"amount\\":\\"seven\\"')
    with pytest.raises(StoredEventUnreadable, match=r"acc-1@2 does not decode.*\$\.data\.amount"):
        pages.loaded(broken, "acc-1")
    with pytest.raises(StoredEventUnreadable, match=r"acc-1@2"):
        pages.ascending(broken, "acc-1")


@pytest.fixture
def twins_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Readers made from here on build their twins on their first page."""
    monkeypatch.setattr(events_module, "_TWINS_AFTER", 0)


@pytest.mark.usefixtures("twins_at_once")
@pytest.mark.parametrize("name", sorted(aggregates()))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_pages_read_with_twins_are_the_same_loaded_events(name: str, data: st.DataObject) -> None:
    aggregate = aggregates()[name]
    plain: EventReader[Any] = EventReader(aggregate.event_type)
    twinned: EventReader[Any] = EventReader(aggregate.event_type)
    events = data.draw(st.lists(for_type(aggregate.event_type), min_size=1, max_size=8))
    raws = [_encode(envelope(v, e, f"c-{v}")) for v, e in enumerate(events, start=1)]
    loaded = twinned.loaded_page(raws, "acc-1", versions_of(raws))
    assert twinned._twins  # built on the first page
    assert loaded == plain.loaded_page(raws, "acc-1", versions_of(raws))
    assert [type(e.data) for e in loaded] == [type(e) for e in events]  # the contract's classes


@pytest.mark.usefixtures("twins_at_once")
def test_with_twins_a_value_off_its_pattern_is_named_like_msgspec_names_it() -> None:
    reader: EventReader[Any] = EventReader(AccountEvent)
    raws = [_encode(envelope(v, Deposited(amount=v, currency="USD"), f"c-{v}")) for v in (1, 2, 3)]
    assert [e.data.currency for e in reader.loaded_page(raws, "acc-1", versions_of(raws))] == [
        "USD"
    ] * 3
    raws[2] = raws[2].replace(b'"currency":"USD"', b'"currency":"usd"')
    with pytest.raises(StoredEventUnreadable) as caught:
        reader.loaded_page(raws, "acc-1", lambda i: 40 + i)
    assert (caught.value.stream_id, caught.value.version) == ("acc-1", 42)
    assert "`$.data.currency`" in str(caught.value)
    assert "^[A-Z]{3}$" in str(caught.value)
    # an old version among twins comes upcast, a too new one is named
    old = _encode(envelope(2, DepositedV1(amount=9, reference="r")))
    page = [raws[0], old, raws[1]]
    loaded = reader.loaded_page(page, "acc-1", versions_of(page))
    assert [e.data for e in loaded] == [
        Deposited(amount=1, currency="USD"),
        Deposited(amount=9, memo="r", currency="EUR"),
        Deposited(amount=2, currency="USD"),
    ]
    newer = [raws[0], raws[1].replace(b'"schema_version":2', b'"schema_version":3')]
    with pytest.raises(StoredEventUnreadable, match=r"acc-1@2 .*newer than this reader"):
        reader.loaded_page(newer, "acc-1", versions_of(newer))


@pytest.mark.usefixtures("twins_at_once")
def test_twins_are_dropped_when_their_values_do_not_repeat() -> None:
    reader: EventReader[Any] = EventReader(AccountEvent)
    count = events_module._WEIGHED_AFTER
    raws = [_encode(envelope(v, AccountOpened(owner_id=f"o-{v}"))) for v in range(1, count + 1)]
    loaded = reader.loaded_page(raws, "acc-1", versions_of(raws))
    assert [e.data.owner_id for e in loaded] == [f"o-{v}" for v in range(1, count + 1)]
    assert reader._twins == {}  # every owner id was new: msgspec checks patterns again
    raws[5] = raws[5].replace(b'"owner_id":"o-6"', b'"owner_id":"o 6"')
    with pytest.raises(StoredEventUnreadable, match=r"acc-1@6 .*\$\.data\.owner_id"):
        reader.loaded_page(raws, "acc-1", versions_of(raws))
