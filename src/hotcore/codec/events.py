"""Reading events: version-aware envelopes, and the items of event-table layout 2.

``EventReader(union)`` decodes envelope JSON (or its builtins, from EventBridge) into the
aggregate's current event Structs. The current version of each type is the plain
tagged-union decode; an older ``schema_version`` goes through its own Struct (listed in
the current class's ``earlier``) and the chain of ``upcast()`` calls; a version newer
than the reader knows is ``EventTooNew``, never a guess.

State loads read less than an envelope: ``EventReader.loaded`` (and ``loaded_page``)
decode a ``LoadedEvent`` (version, schema version, command id, data) from the same JSON.
The data is decoded with the aggregate's own tagged union, every constraint of its
contract checked; of the envelope's metadata only the version and the command id are
read, as plain values: the ids' patterns, the timestamp, the actor and the correlation
and causation ids are skipped by the parser (they were validated by the append path,
which decodes every event with its contract before it writes; docs/store.md has the
figures). A stored event that does not decode is ``StoredEventUnreadable``, naming the
stream, the version and the field.

A reader that has read ``_TWINS_AFTER`` events decodes pages with twins of its event
classes that have patterned string fields (``_Unpatterned``: msgspec calls ``re`` for every
value, a third of an Account envelope's decode): each patterned value is checked once
per distinct value, and each twin becomes the contract's class before ``loaded_page``
returns; a reader whose values do not repeat drops its twins (docs/store.md, "Patterns").

The DynamoDB event item (layout 2, docs/store.md) is ``stream_id``, ``version``,
``type``, ``e`` (the envelope JSON), ``f`` (the command's fingerprint) and, on some
items, ``s`` (an embedded snapshot). One small decoder per read path keeps the internals
swappable: ``EventItemPages.latest`` (newest-first pages of the latest-state load, ``e``
left undecoded until the snapshot is found), ``EventItemPages.loaded`` (ascending pages
of loaded events), ``EventItemPages.ascending`` (pages of envelopes) and
``stream_image`` (a Streams ``NewImage``, for the publisher).
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

import msgspec
from msgspec import Struct
from msgspec.structs import force_setattr

from hotcore.contracts.common import Envelope

__all__ = [
    "EventItemPages",
    "EventReader",
    "EventTooNew",
    "LoadedEvent",
    "StoredEventUnreadable",
    "StoredItem",
    "UnknownEventVersion",
    "UnreadableEvent",
    "schema_version_of",
    "schema_version_of_class",
    "stream_image",
]


class UnreadableEvent(ValueError):
    """An event this code cannot turn into its current contract (see the subclasses)."""

    def __init__(self, event_type: str, schema_version: int, known: int, message: str) -> None:
        self.event_type = event_type
        self.schema_version = schema_version
        self.known = known
        super().__init__(message)


class EventTooNew(UnreadableEvent):
    """The event was written by newer code (a higher ``schema_version`` than this reader's).

    Raised instead of guessing: the event goes to the failure destination (or dead
    letter) and is read again once the reader is deployed with that version.
    """

    def __init__(self, event_type: str, schema_version: int, known: int) -> None:
        super().__init__(
            event_type,
            schema_version,
            known,
            f"{event_type} version {schema_version} is newer than this reader's version "
            f"{known}: deploy the reader with the new contract, then redrive the event",
        )


class UnknownEventVersion(UnreadableEvent):
    """An older ``schema_version`` with no Struct in the current class's ``earlier``."""

    def __init__(self, event_type: str, schema_version: int, known: int) -> None:
        super().__init__(
            event_type,
            schema_version,
            known,
            f"{event_type} version {schema_version} has no reader (the current version is "
            f"{known}): keep the old version's Struct and its upcast in `earlier`",
        )


def schema_version_of(event: object) -> int:
    """The schema version an event Struct describes (1 for contracts without versions)."""
    return schema_version_of_class(type(event))


def schema_version_of_class(cls: type[Any]) -> int:
    version = getattr(cls, "schema_version", 1)
    return version if isinstance(version, int) else 1


def _members(event_type: Any) -> tuple[type[Any], ...]:
    args = typing.get_args(event_type)
    return tuple(args) if args else (event_type,)


def _tag(cls: type[Any]) -> str | None:
    config = getattr(cls, "__struct_config__", None)
    tag = getattr(config, "tag", None)
    return tag if isinstance(tag, str) else None


class StoredEventUnreadable(ValueError):
    """A stored event this code cannot read: the stream, its version and why (the field)."""

    def __init__(self, stream_id: str, version: int | None, cause: Exception) -> None:
        self.stream_id = stream_id
        self.version = version
        self.cause = cause
        where = f"{stream_id}@{version}" if version is not None else f"{stream_id} (no version)"
        super().__init__(f"stored event {where} does not decode: {cause}")


class LoadedEvent[E](Struct, frozen=True, kw_only=True, gc=False):
    """What a state load reads of a stored event: its version, command and (current) data.

    ``schema_version`` is the version ``data`` is in: always the current one of its type
    (an older stored event comes upcast).
    """

    version: int
    schema_version: int = 1
    command_id: str
    data: E


class _Old:
    """How one old version is read: its decoder and the class the chain must reach."""

    __slots__ = ("convert", "current", "decode")

    def __init__(self, cls: type[Any], current: type[Any]) -> None:
        self.decode: Callable[[bytes], Any] = msgspec.json.Decoder(cls).decode
        self.convert: Callable[[Any], Any] = lambda obj: msgspec.convert(obj, cls)
        self.current = current


#: What a ``msgspec.Meta`` may say besides its pattern (kept on the unpatterned twin).
_META_FIELDS = (
    "gt",
    "ge",
    "lt",
    "le",
    "multiple_of",
    "min_length",
    "max_length",
    "tz",
)


def _without_pattern(annotation: Any) -> tuple[Any, str | None]:
    """``Annotated[str, Meta(pattern=...)]`` (or it ``| None``) -> the same without the
    pattern, and the pattern; any other annotation -> itself and None."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        rest = [arg for arg in args if arg is not type(None)]
        if len(rest) == 1 and len(args) == 2:
            inner, pattern = _without_pattern(rest[0])
            return (inner | None, pattern) if pattern is not None else (annotation, None)
        return annotation, None
    if typing.get_origin(annotation) is not Annotated:
        return annotation, None
    base, *extras = typing.get_args(annotation)
    if base is not str:
        return annotation, None
    patterns = [m.pattern for m in extras if isinstance(m, msgspec.Meta) and m.pattern]
    if len(patterns) != 1:
        return annotation, None
    kept: list[Any] = []
    for meta in extras:
        if isinstance(meta, msgspec.Meta):
            limits = {name: getattr(meta, name) for name in _META_FIELDS}
            meta = msgspec.Meta(**{k: v for k, v in limits.items() if v is not None})
        kept.append(meta)
    return Annotated[(str, *kept)], patterns[0]


class _Unpatterned:
    """An event class whose string patterns are checked once per distinct value.

    The page decode reads it as its twin (the same fields, tag and constraints, minus the
    patterns of its top-level ``str`` fields); ``real(twin)`` checks those values against
    their patterns, remembering the values seen to match (a currency code repeats on every
    event), and returns the contract's own class, or None when a value does not match.
    ``re`` costs about 400 ns per value on the benchmark machine and msgspec calls it for
    every value: 1,849 of the 1 MB page's 3,324 events carry one of a few currency codes.
    """

    __slots__ = ("missed", "real", "twin")

    def __init__(self, twin: type[Any], real: Callable[[Any], Any], missed: list[int]) -> None:
        self.twin = twin
        self.real = real
        #: ``[n]``: the values ``real`` had not seen (each checked with ``re``)
        self.missed = missed


#: Remembered valid values per patterned field, at most (then forgotten and re-learnt).
_REMEMBERED = 4096
#: Events a reader reads before it builds the twins: building them costs 1.5 ms (msgspec
#: evaluates each class's annotations again), what a twin saves on about 10,000 events;
#: a command's load from a snapshot reads about 12.
_TWINS_AFTER = 20_000
#: Events a reader reads with its twins before it weighs whether they pay.
_WEIGHED_AFTER = 10_000


def _unpatterned(cls: type[Any]) -> _Unpatterned | None:
    """The twin of an event class with patterned top-level string fields, or None."""
    config = getattr(cls, "__struct_config__", None)
    if config is None or config.array_like or hasattr(cls, "__post_init__"):
        return None  # a __post_init__ would raise outside msgspec's errors: keep the class
    fields: list[Any] = []
    patterns: dict[str, str] = {}
    renames: dict[str, str] = {}
    for field in msgspec.structs.fields(cls):
        if not field.name.isidentifier():
            return None
        annotation, pattern = _without_pattern(field.type)
        if pattern is not None:
            patterns[field.name] = pattern
        if field.encode_name != field.name:
            renames[field.name] = field.encode_name
        if field.default is not msgspec.NODEFAULT:
            fields.append((field.name, annotation, field.default))
        elif field.default_factory is not msgspec.NODEFAULT:
            fields.append(
                (field.name, annotation, msgspec.field(default_factory=field.default_factory))
            )
        else:
            fields.append((field.name, annotation))
    if not patterns:
        return None
    twin = msgspec.defstruct(
        f"{cls.__name__}Unpatterned",
        fields,
        kw_only=True,
        frozen=True,
        gc=False,
        tag=config.tag,
        tag_field=config.tag_field,
        forbid_unknown_fields=config.forbid_unknown_fields,
        rename=renames or None,
    )
    # Generated like dataclasses' __init__: attribute reads and one keyword call, 136 ns
    # per event against 394 for cls(**msgspec.structs.asdict(twin)).
    missed = [0]
    namespace: dict[str, Any] = {"cls": cls, "missed": missed, "limit": _REMEMBERED}
    lines = ["def real(t):"]
    for number, (name, pattern) in enumerate(patterns.items()):
        namespace[f"search{number}"] = re.compile(pattern).search
        namespace[f"seen{number}"] = set()
        lines += [
            f"    v{number} = t.{name}",
            f"    if v{number} is not None and v{number} not in seen{number}:",
            "        missed[0] += 1",
            f"        if search{number}(v{number}) is None:",
            "            return None",
            f"        if len(seen{number}) >= limit:",
            f"            seen{number}.clear()",
            f"        seen{number}.add(v{number})",
        ]
    numbers = {name: number for number, name in enumerate(patterns)}
    arguments = ", ".join(
        f"{f[0]}=v{numbers[f[0]]}" if f[0] in numbers else f"{f[0]}=t.{f[0]}" for f in fields
    )
    lines.append(f"    return cls({arguments})")
    try:
        exec("\n".join(lines) + "\n", namespace)
    except SyntaxError:  # a field named like a keyword (defstruct allows it)
        return None
    return _Unpatterned(twin, namespace["real"], missed)


class EventReader[E]:
    """Envelope JSON -> ``Envelope[E]`` with current event Structs, upcasting old versions."""

    def __init__(self, event_type: Any) -> None:
        self.event_type = event_type
        #: the current schema version of every event type of the union
        self.current: dict[str, int] = {}
        self._old: dict[tuple[str, int], _Old] = {}
        for cls in _members(event_type):
            tag = _tag(cls)
            if tag is None:
                continue
            version = schema_version_of_class(cls)
            self.current[tag] = version
            seen = {version}
            for old in getattr(cls, "earlier", ()):
                old_version = schema_version_of_class(old)
                if _tag(old) != tag or old_version >= version or old_version in seen:
                    raise TypeError(
                        f"{old.__name__} must be an earlier version of {tag} (tag {tag!r}, "
                        f"a distinct schema_version below {version})"
                    )
                if "upcast" not in vars(old):
                    raise TypeError(f"{old.__name__} (an earlier {tag}) must define upcast()")
                seen.add(old_version)
                self._old[(tag, old_version)] = _Old(old, cls)
        #: the types whose current version is not 1 (the fast path checks only these)
        self._versioned = {tag: v for tag, v in self.current.items() if v != 1}
        envelope: Any = Envelope[event_type]
        self._decode: Callable[[bytes | str], Envelope[E]] = msgspec.json.Decoder(envelope).decode
        self._envelope_type = envelope
        self._header: Callable[[bytes | str], Envelope[msgspec.Raw]] = msgspec.json.Decoder(
            Envelope[msgspec.Raw]
        ).decode
        #: every event class of the union -> its current version
        self._class_versions: dict[type[Any], int] = {
            cls: schema_version_of_class(cls) for cls in _members(event_type)
        }
        loaded: Any = LoadedEvent[event_type]
        self._decode_loaded: Callable[[bytes | str], LoadedEvent[E]] = msgspec.json.Decoder(
            loaded
        ).decode
        # Pages of a reader that has read _TWINS_AFTER events decode the classes with
        # patterned strings as their twins (_Unpatterned): twin class -> its check
        self._twins: dict[type[Any], _Unpatterned] = {}
        self._decode_page_event: Callable[[bytes | str], LoadedEvent[Any]] = self._decode_loaded
        #: events to read before the twins are built (then None); how many were read with
        #: them and how many of those were twins, until they are weighed
        self._until_twins: int | None = _TWINS_AFTER
        self._read_with_twins = 0
        self._converted = 0
        self._weighed = False

    def _build_twins(self) -> None:
        self._until_twins = None
        members: list[Any] = []
        twins: dict[type[Any], _Unpatterned] = {}
        for cls in _members(self.event_type):
            unpatterned = _unpatterned(cls) if _tag(cls) is not None else None
            if unpatterned is None:
                members.append(cls)
                continue
            members.append(unpatterned.twin)
            twins[unpatterned.twin] = unpatterned
            self._class_versions[unpatterned.twin] = schema_version_of_class(cls)
        if twins:
            union: Any = typing.Union.__getitem__(tuple(members))
            page_type: Any = LoadedEvent[union]
            self._decode_page_event = msgspec.json.Decoder(page_type).decode
            self._twins = twins

    def decode(self, raw: bytes | str) -> Envelope[E]:
        """One envelope from its JSON; raises ``msgspec.ValidationError`` or ``UnreadableEvent``."""
        try:
            envelope = self._decode(raw)
        except msgspec.ValidationError as error:
            return self._from_header(self._header(raw), error)
        if envelope.schema_version == 1 and not self._versioned:
            return envelope
        if envelope.schema_version != self._versioned.get(envelope.type, 1):
            return self._from_header(self._header(raw), None)
        return envelope

    def loaded(self, raw: bytes | str) -> LoadedEvent[E]:
        """What a state load needs of one envelope; raises like ``decode``."""
        try:
            event = self._decode_loaded(raw)
        except msgspec.DecodeError:
            return self._loaded_by_envelope(raw)
        if event.schema_version != self._class_versions.get(type(event.data), 1):
            return self._loaded_by_envelope(raw)
        return event

    def loaded_page(
        self,
        raws: Sequence[bytes | str],
        stream_id: str,
        version_at: Callable[[int], int | None],
    ) -> list[LoadedEvent[E]]:
        """``loaded`` of each of a stream's envelopes, in order: one C decode each.

        ``version_at(i)`` is the stored version of ``raws[i]`` (its key), asked only to
        name a stored event that does not decode (``StoredEventUnreadable``).
        """
        if self._until_twins is not None:
            self._until_twins -= len(raws)
            if self._until_twins <= 0:
                self._build_twins()
        try:
            events = list(map(self._decode_page_event, raws))
        except msgspec.DecodeError:
            # a broken event, or an old version the current Struct cannot read: one by one
            return [self._loaded_at(raws, i, stream_id, version_at) for i in range(len(raws))]
        if self._twins:
            return self._from_twins(events, raws, stream_id, version_at)
        # An old version the current Struct happened to read is read again, upcast. The
        # check runs for every event of every load, as a plain loop: on Python 3.13 its
        # attribute reads, ``type()`` and dict lookup are specialized bytecodes, 34 ns per
        # event of the 1 MB page against 144 ns through map/attrgetter/operator.eq.
        versions = self._class_versions
        for event in events:
            if event.schema_version != versions.get(type(event.data), 1):
                break
        else:
            return events
        for index, event in enumerate(events):
            if event.schema_version != versions.get(type(event.data), 1):
                events[index] = self._loaded_at(raws, index, stream_id, version_at)
        return events

    def _from_twins(
        self,
        events: list[LoadedEvent[Any]],
        raws: Sequence[bytes | str],
        stream_id: str,
        version_at: Callable[[int], int | None],
    ) -> list[LoadedEvent[E]]:
        """``loaded_page``'s check of a page decoded with twins: each event in its type's
        current version (else read again, upcast), each twin's patterned values matched
        (else the event is read again with its contract, whose error names the field),
        each twin replaced by the contract's class."""
        versions = self._class_versions
        twins = self._twins
        converted = 0
        for event in events:
            data = event.data
            cls = type(data)
            if event.schema_version != versions.get(cls, 1):
                break
            twin = twins.get(cls)
            if twin is not None:
                real = twin.real(data)
                if real is None:
                    break
                force_setattr(event, "data", real)
                converted += 1
        else:
            self._weigh_twins(len(events), converted)
            return events
        # an old version or a value off its pattern: each event again, in order (those
        # already converted are in their contract's class)
        for index, event in enumerate(events):
            data = event.data
            cls = type(data)
            twin = twins.get(cls)
            real = None
            if event.schema_version == versions.get(cls, 1):
                if twin is None:
                    continue
                real = twin.real(data)
            if real is None:
                events[index] = self._loaded_at(raws, index, stream_id, version_at)
            else:
                force_setattr(event, "data", real)
        return events

    def _weigh_twins(self, events: int, converted: int) -> None:
        """After ``_WEIGHED_AFTER`` events read with twins, keep them only if they pay.

        A twin event whose values were seen before saves about 250 ns (the ``re`` calls
        less the conversion); one with a new value costs about 190 ns more than msgspec's
        own check (ids, e-mails: values that do not repeat); every event of the page costs
        the twin loop about 15 ns. Without the twins msgspec checks every pattern again.
        """
        if self._weighed:
            return
        self._read_with_twins += events
        self._converted += converted
        if self._read_with_twins < _WEIGHED_AFTER:
            return
        self._weighed = True
        missed = sum(twin.missed[0] for twin in self._twins.values())
        seen = self._converted - missed
        if seen * 16 <= self._read_with_twins + missed * 13:
            self._twins = {}
            self._decode_page_event = self._decode_loaded

    def envelopes_page(
        self,
        raws: Sequence[bytes | str],
        stream_id: str,
        version_at: Callable[[int], int | None],
    ) -> list[Envelope[E]]:
        """``decode`` of each of a stream's envelopes; ``StoredEventUnreadable`` names one
        that does not decode (``version_at(i)``: the stored version of ``raws[i]``)."""
        decode = self.decode
        envelopes: list[Envelope[E]] = []
        for index, raw in enumerate(raws):
            try:
                envelopes.append(decode(raw))
            except (msgspec.DecodeError, UnreadableEvent, ValueError) as error:
                raise StoredEventUnreadable(stream_id, version_at(index), error) from None
        return envelopes

    def _loaded_at(
        self,
        raws: Sequence[bytes | str],
        index: int,
        stream_id: str,
        version_at: Callable[[int], int | None],
    ) -> LoadedEvent[E]:
        try:
            return self.loaded(raws[index])
        except (msgspec.DecodeError, UnreadableEvent, ValueError) as error:
            raise StoredEventUnreadable(stream_id, version_at(index), error) from None

    def _loaded_by_envelope(self, raw: bytes | str) -> LoadedEvent[E]:
        # the slow path: the whole envelope (its precise error, or the upcast chain)
        envelope = self.decode(raw)
        return LoadedEvent(
            version=envelope.version,
            schema_version=envelope.schema_version,
            command_id=envelope.command_id,
            data=envelope.data,
        )

    def convert(self, obj: Any) -> Envelope[E]:
        """One envelope from builtins (an EventBridge ``detail``), like ``decode``."""
        try:
            envelope: Envelope[E] = msgspec.convert(obj, self._envelope_type)
        except msgspec.ValidationError:
            return self.decode(msgspec.json.encode(obj))
        if envelope.schema_version != self._versioned.get(envelope.type, 1):
            return self.decode(msgspec.json.encode(obj))
        return envelope

    def _from_header(
        self, header: Envelope[msgspec.Raw], error: msgspec.ValidationError | None
    ) -> Envelope[E]:
        known = self.current.get(header.type)
        if known is None or header.schema_version == known:
            if error is not None:
                raise error
            raise msgspec.ValidationError(f"unknown event type {header.type!r}")
        if header.schema_version > known:
            raise EventTooNew(header.type, header.schema_version, known)
        old = self._old.get((header.type, header.schema_version))
        if old is None:
            raise UnknownEventVersion(header.type, header.schema_version, known)
        data = old.decode(bytes(header.data))
        while type(data) is not old.current:
            data = data.upcast()
        return Envelope(
            stream_id=header.stream_id,
            version=header.version,
            type=header.type,
            schema_version=known,
            data=data,
            command_id=header.command_id,
            correlation_id=header.correlation_id,
            causation_id=header.causation_id,
            timestamp=header.timestamp,
            actor=header.actor,
        )


# -- layout 2 items ---------------------------------------------------------------------


class _S(Struct, frozen=True, gc=False):
    S: str


class _N(Struct, frozen=True, gc=False):
    N: int  # DynamoDB sends numbers as strings: read with strict=False


class StoredItem(Struct, frozen=True, gc=False):
    """One event item as a Query page holds it (attribute values wrapped as DynamoDB sends
    them: ``item.version.N``, ``item.e.S``...): its version, envelope JSON, fingerprint and
    snapshot. The keys and ``type`` are in ``e`` too; other attributes are skipped."""

    version: _N
    e: _S
    f: _S
    s: _S | None = None


class _WirePage(Struct, gc=False):
    Items: list[StoredItem] = []
    LastEvaluatedKey: dict[str, Any] | None = None


class _EventOnly(Struct, frozen=True, gc=False):
    version: _N
    e: _S


class _WireEvents(Struct, gc=False):
    """A page read for its events only (``f`` and ``s`` skipped by the parser)."""

    Items: list[_EventOnly] = []
    LastEvaluatedKey: dict[str, Any] | None = None


class EventItemPages[E]:
    """Query pages of an event table (layout 2) -> items, loaded events or envelopes."""

    def __init__(self, reader: EventReader[E]) -> None:
        self.reader = reader
        # one C pass per page into the wire Structs above (strict=False: N strings -> int)
        self._page = msgspec.json.Decoder(_WirePage, strict=False).decode
        self._events_page = msgspec.json.Decoder(_WireEvents, strict=False).decode

    def latest(self, raw: bytes) -> tuple[list[StoredItem], dict[str, Any] | None]:
        """A page as stored items (``e`` undecoded), in the Query's order."""
        page = self._page(raw)
        return page.Items, page.LastEvaluatedKey

    def loaded(
        self, raw: bytes, stream_id: str
    ) -> tuple[list[LoadedEvent[E]], dict[str, Any] | None]:
        """A page as loaded events, in the Query's order (what a state load folds)."""
        page = self._events_page(raw)
        items = page.Items
        events = self.reader.loaded_page(
            [item.e.S for item in items], stream_id, lambda i: items[i].version.N
        )
        return events, page.LastEvaluatedKey

    def ascending(
        self, raw: bytes, stream_id: str
    ) -> tuple[list[Envelope[E]], dict[str, Any] | None]:
        """A page as envelopes (current contracts, old versions upcast)."""
        page = self._events_page(raw)
        items = page.Items
        envelopes = self.reader.envelopes_page(
            [item.e.S for item in items], stream_id, lambda i: items[i].version.N
        )
        return envelopes, page.LastEvaluatedKey


class _TypeOf(Struct, frozen=True, gc=False):
    type: str


# The parser still reads the whole envelope (a Detail that is not JSON is refused here),
# but builds nothing but its type.
_decode_type = msgspec.json.Decoder(_TypeOf).decode


def stream_image(image: Mapping[str, Any]) -> tuple[str, str]:
    """A Streams ``NewImage`` of an event item -> (event type, envelope JSON).

    The envelope JSON is published as it was stored (the EventBridge ``Detail``), after
    checking it is an envelope of this item; its data is not decoded (it was checked
    against its contract before it was appended, and the publisher need not know it).
    Every item of an event table is an event item: one without ``e`` and ``type`` is
    broken. Raises ``msgspec.DecodeError``/``ValidationError`` or ``ValueError``.
    """
    e = image.get("e")
    kind = image.get("type")
    detail = e.get("S") if isinstance(e, Mapping) else None
    event_type = kind.get("S") if isinstance(kind, Mapping) else None
    if not isinstance(detail, str) or not isinstance(event_type, str):
        raise ValueError("not an event item of layout 2: no `e` and `type` strings")
    envelope_type = _decode_type(detail).type
    if envelope_type != event_type:
        raise ValueError(f"the item's type {event_type!r} is not its envelope's {envelope_type!r}")
    return event_type, detail
