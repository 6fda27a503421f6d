"""Valid event histories made by an aggregate's own decider, and the DynamoDB pages holding them.

``generate_history(aggregate, length=...)`` sends random commands (values drawn from the
contracts' own types and constraints, ids from a small pool so that references meet)
to ``decide`` on the current state and keeps what it accepts, until the stream holds
``length`` events. ``mix`` weights the event types wanted (``{"Deposited": 3,
"Withdrawn": 2}``); a command that would leave the stream where no command is accepted
any more (a closed account, a shipped order) is skipped, so long streams stay alive.

``dynamodb_pages(envelopes, fingerprints)`` lays the history out as the Query response
bodies a stream read returns: the items as the DynamoDB store writes them (item layout 2:
keys, ``type``, the envelope JSON ``e``, the command's fingerprint ``f``), cut where a
page's items reach DynamoDB's 1 MB (sizes counted the way DynamoDB counts them).
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import msgspec.inspect as mi

from hotcore.codec.events import LoadedEvent, schema_version_of
from hotcore.contracts.common import Envelope, Rejected
from hotcore.domain.aggregate import Aggregate
from hotcore.store.dynamodb import item_size
from hotcore.store.fingerprint import fingerprint

__all__ = [
    "DEFAULT_MIXES",
    "PAGE_LIMIT_BYTES",
    "CannotGenerate",
    "Case",
    "History",
    "dynamodb_pages",
    "event_item",
    "event_type_names",
    "first_page_envelopes",
    "generate_history",
    "page_loader",
    "parse_mix",
    "read_pages",
    "write_account_cases",
]

#: DynamoDB stops a Query page when the items read reach 1 MB.
PAGE_LIMIT_BYTES = 1024 * 1024

#: Event mixes of long, living streams for the built-in aggregates.
DEFAULT_MIXES: dict[str, dict[str, float]] = {
    "account": {"Deposited": 3, "Withdrawn": 2},
    "inventory": {
        "StockAdded": 2,
        "StockReserved": 3,
        "ReservationReleased": 1,
        "ReservationCommitted": 1,
    },
    "customer": {"EmailChanged": 3, "AccountLinked": 1},
}

_BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
_ALPHABET = string.ascii_lowercase + string.digits


class CannotGenerate(ValueError):
    """No valid history of the asked shape can be made for this aggregate."""


@dataclass(frozen=True)
class History:
    """A generated stream: its envelopes, the final state and the commands it took.

    ``fingerprints[i]`` is the fingerprint of the command that produced ``envelopes[i]``
    (what the store keeps in the item's ``f``).
    """

    stream_id: str
    envelopes: list[Envelope[Any]]
    fingerprints: list[str]
    state: Any
    commands_sent: int
    commands_rejected: int

    def pages(self, *, limit_bytes: int = PAGE_LIMIT_BYTES) -> list[bytes]:
        """The whole stream as Query pages (``dynamodb_pages``)."""
        return dynamodb_pages(self.envelopes, self.fingerprints, limit_bytes=limit_bytes)

    def event_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for envelope in self.envelopes:
            counts[envelope.type] = counts.get(envelope.type, 0) + 1
        return counts


def parse_mix(text: str) -> dict[str, float]:
    """``"Deposited=3,Withdrawn=2"`` -> ``{"Deposited": 3.0, "Withdrawn": 2.0}``."""
    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, weight = part.partition("=")
        try:
            value = float(weight) if sep else 1.0
        except ValueError:
            raise CannotGenerate(f"mix entry {part!r}: the weight must be a number") from None
        if not name or value <= 0:
            raise CannotGenerate(f"mix entry {part!r}: expected EventType=positive weight")
        mix[name.strip()] = value
    if not mix:
        raise CannotGenerate("the event mix is empty")
    return mix


class _Values:
    """Random values for contract fields, from msgspec's view of their types."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.ids = ["p" + "".join(rng.choices(_ALPHABET, k=6)) for _ in range(4)]

    def value(self, info: mi.Type, name: str) -> Any:
        if isinstance(info, mi.Metadata):
            return self.value(info.type, name)
        if isinstance(info, mi.UnionType):
            options = [t for t in info.types if not isinstance(t, mi.NoneType)]
            if len(options) < len(info.types) and self.rng.random() < 0.5:
                return None
            return self.value(self.rng.choice(options), name)
        if isinstance(info, mi.StrType):
            return self.text(info, name)
        if isinstance(info, mi.BoolType):
            return self.rng.random() < 0.5
        if isinstance(info, mi.IntType):
            low = info.ge if info.ge is not None else (info.gt + 1 if info.gt is not None else 0)
            high = info.le if info.le is not None else (info.lt - 1 if info.lt is not None else 0)
            # small amounts keep balances and stock able to cover later withdrawals
            return self.rng.randint(low, max(low, min(high, low + 99)))
        if isinstance(info, mi.FloatType):
            return float(self.rng.randint(1, 100))
        if isinstance(info, mi.LiteralType):
            return self.rng.choice(info.values)
        if isinstance(info, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
            low = info.min_length or 0
            count = self.rng.randint(low, max(low, min(info.max_length or 3, 3)))
            return [self.value(info.item_type, name) for _ in range(count)]
        if isinstance(info, mi.DictType):
            return {self.text(mi.StrType(), "key"): self.value(info.value_type, name)}
        if isinstance(info, mi.StructType):
            return self.struct(info)
        if isinstance(info, mi.DateTimeType):
            return _BASE_TIME.isoformat()
        raise CannotGenerate(f"cannot make a random value for field {name!r} of type {info!r}")

    def text(self, info: mi.StrType, name: str) -> str:
        if "email" in name or (info.pattern is not None and "[^@" in info.pattern):
            return f"{self.rng.choice(self.ids)}.{self.rng.randint(0, 999)}@example.com"
        if name.endswith("_id") or info.pattern is not None:
            return self.rng.choice(self.ids)
        length = max(info.min_length or 1, min(info.max_length or 12, 12))
        return "".join(self.rng.choices(_ALPHABET, k=length))

    def struct(self, info: mi.StructType) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for field in info.fields:
            if not field.required and self.rng.random() < 0.3:
                continue
            fields[field.encode_name] = self.value(field.type, field.name)
        if info.tag_field is not None:
            fields[info.tag_field] = info.tag
        return fields


def _command_types(aggregate: Aggregate[Any, Any, Any, Any]) -> list[tuple[type[Any], mi.Type]]:
    info = mi.type_info(aggregate.command_type)
    members = info.types if isinstance(info, mi.UnionType) else (info,)
    found: list[tuple[type[Any], mi.Type]] = [
        (m.cls, m) for m in members if isinstance(m, mi.StructType)
    ]
    if not found:
        raise CannotGenerate(f"{aggregate.name}: its command type holds no Struct")
    return found


def event_type_names(aggregate: Aggregate[Any, Any, Any, Any]) -> list[str]:
    info = mi.type_info(aggregate.event_type)
    members = info.types if isinstance(info, mi.UnionType) else (info,)
    return [str(m.tag) for m in members if isinstance(m, mi.StructType) and m.tag is not None]


def _tag(event: Any) -> str:
    tag = type(event).__struct_config__.tag
    return str(tag) if tag is not None else type(event).__name__


class _Generator:
    def __init__(
        self, aggregate: Aggregate[Any, Any, Any, Any], stream_id: str, rng: random.Random
    ) -> None:
        self.aggregate = aggregate
        self.stream_id = stream_id
        self.rng = rng
        self.values = _Values(rng)
        self.types = _command_types(aggregate)
        #: command type -> the event types it has produced so far
        self.produces: dict[type[Any], set[str]] = {cls: set() for cls, _ in self.types}
        self.sent = 0
        self.rejected = 0

    def command(self, cls: type[Any], info: mi.Type) -> Any | None:
        assert isinstance(info, mi.StructType)
        try:
            command = msgspec.convert(self.values.struct(info), cls)
        except msgspec.ValidationError as exc:
            raise CannotGenerate(
                f"{self.aggregate.name}: a random {cls.__name__} is invalid ({exc}); "
                "its constraints need values this generator cannot make"
            ) from None
        # Aim the command at our stream: every field holding its stream id gets ours.
        current = self.aggregate.stream_of(command)
        changes = {
            name: self.stream_id
            for name in cls.__struct_fields__
            if getattr(command, name) == current
        }
        command = msgspec.structs.replace(command, **changes)
        return command if self.aggregate.stream_of(command) == self.stream_id else None

    def try_decide(self, state: Any, cls: type[Any], info: mi.Type) -> tuple[list[Any], str] | None:
        """The events ``decide`` accepted for a random command, and its fingerprint."""
        command = self.command(cls, info)
        if command is None:
            return None
        self.sent += 1
        decided = self.aggregate.decide(state, command)
        if isinstance(decided, Rejected) or not decided:
            self.rejected += 1
            return None
        self.produces[cls].update(_tag(e) for e in decided)
        return list(decided), fingerprint(command)

    def alive(self, state: Any, tries: int) -> bool:
        """Does some command still get accepted from ``state``? (A dead end ends the stream.)"""
        for _ in range(tries):
            cls, info = self.rng.choice(self.types)
            command = self.command(cls, info)
            if command is None:
                continue
            decided = self.aggregate.decide(state, command)
            if not isinstance(decided, Rejected) and decided:
                return True
        return False


def generate_history(
    aggregate: Aggregate[Any, Any, Any, Any],
    *,
    length: int,
    mix: Mapping[str, float] | None = None,
    stream_id: str = "bench-1",
    seed: int = 7,
    max_tries: int = 400,
) -> History:
    """A stream of exactly ``length`` events that ``decide`` accepted one command at a time."""
    if length < 1:
        raise CannotGenerate("a history needs at least one event")
    wanted = dict(mix if mix is not None else DEFAULT_MIXES.get(aggregate.name, {}))
    known = set(event_type_names(aggregate))
    unknown = sorted(set(wanted) - known)
    if unknown:
        raise CannotGenerate(
            f"{aggregate.name} has no event types {unknown}; its events are {sorted(known)}"
        )
    rng = random.Random(seed)
    gen = _Generator(aggregate, stream_id, rng)
    names, weights = list(wanted), list(wanted.values())
    state = aggregate.initial(stream_id)
    envelopes: list[Envelope[Any]] = []
    fingerprints: list[str] = []
    fold = aggregate.fold
    liveness_tries = 8 * len(gen.types)
    while len(envelopes) < length:
        target = rng.choices(names, weights)[0] if names else None
        fallback: tuple[list[Any], str] | None = None
        chosen: tuple[list[Any], str] | None = None
        for attempt in range(max_tries):
            # Prefer command types seen producing the target; explore the others too.
            likely = [t for t in gen.types if target in gen.produces[t[0]]]
            cls, info = rng.choice(likely if likely and attempt % 4 else gen.types)
            decided = gen.try_decide(state, cls, info)
            if decided is None:
                continue
            events = decided[0]
            last = len(envelopes) + len(events) >= length
            if not last and not gen.alive(fold(state, events), liveness_tries):
                continue  # a dead end (closed, shipped...) before the stream is long enough
            tags = {_tag(e) for e in events}
            if target is None or target in tags or (names and not tags - set(names)):
                chosen = decided
                break
            if fallback is None:
                fallback = decided
            if attempt >= 4 * len(gen.types):
                chosen = fallback
                break
        chosen = chosen or fallback
        if chosen is None:
            raise CannotGenerate(
                f"{aggregate.name}: after {len(envelopes)} events no command was accepted in "
                f"{max_tries} tries (a state no command leaves); ask for a shorter stream"
            )
        events, command_fingerprint = chosen
        events = events[: length - len(envelopes)]
        state = fold(state, events)
        for event in events:
            version = len(envelopes) + 1
            envelopes.append(
                Envelope(
                    stream_id=stream_id,
                    version=version,
                    type=_tag(event),
                    schema_version=schema_version_of(event),
                    data=event,
                    command_id=f"cmd-{version}",
                    correlation_id=f"cmd-{version}",
                    timestamp=_BASE_TIME + timedelta(seconds=version),
                    actor="bench",
                )
            )
            fingerprints.append(command_fingerprint)
    return History(
        stream_id=stream_id,
        envelopes=envelopes,
        fingerprints=fingerprints,
        state=state,
        commands_sent=gen.sent,
        commands_rejected=gen.rejected,
    )


_encode = msgspec.json.Encoder().encode


def event_item(envelope: Envelope[Any], fingerprint: str) -> dict[str, Any]:
    """The DynamoDB item of one event, as ``DynamoEventStore.append`` writes it (layout 2)."""
    return {
        "stream_id": {"S": envelope.stream_id},
        "version": {"N": str(envelope.version)},
        "type": {"S": envelope.type},
        "e": {"S": _encode(envelope).decode()},
        "f": {"S": fingerprint},
    }


def dynamodb_pages(
    envelopes: Sequence[Envelope[Any]],
    fingerprints: Sequence[str],
    *,
    limit_bytes: int = PAGE_LIMIT_BYTES,
) -> list[bytes]:
    """The Query response bodies of a whole-stream read: pages cut at ``limit_bytes``."""
    encode = msgspec.json.encode
    pages: list[bytes] = []
    items: list[dict[str, Any]] = []
    size = 0

    def flush(last: bool) -> None:
        body: dict[str, Any] = {"Count": len(items), "Items": items, "ScannedCount": len(items)}
        if not last:
            tail = items[-1]
            body["LastEvaluatedKey"] = {"stream_id": tail["stream_id"], "version": tail["version"]}
        pages.append(encode(body))

    for envelope, command_fingerprint in zip(envelopes, fingerprints, strict=True):
        item = event_item(envelope, command_fingerprint)
        items.append(item)
        size += item_size(item)
        if size >= limit_bytes:
            flush(last=False)
            items, size = [], 0
    if items or not pages:
        flush(last=True)
    return pages


def first_page_envelopes(history: History, limit_bytes: int = PAGE_LIMIT_BYTES) -> int:
    """How many events of the history fill the first 1 MB page."""
    size = 0
    pairs = zip(history.envelopes, history.fingerprints, strict=True)
    for count, (envelope, command_fingerprint) in enumerate(pairs, start=1):
        size += item_size(event_item(envelope, command_fingerprint))
        if size >= limit_bytes:
            return count
    return len(history.envelopes)


def page_loader(event_type: Any) -> Callable[[bytes, str], list[LoadedEvent[Any]]]:
    """A Query page of a stream -> its loaded events, the way ``DynamoEventStore.load_latest``
    reads each page: the items (``e``, ``f``, ``s`` as DynamoDB wraps them) in one pass,
    then each envelope's version, command id and data, the contract union checked in full."""
    from hotcore.codec.events import EventItemPages, EventReader

    reader: EventReader[Any] = EventReader(event_type)
    latest = EventItemPages(reader).latest
    loaded_page = reader.loaded_page

    def load(raw: bytes, stream_id: str) -> list[LoadedEvent[Any]]:
        items = latest(raw)[0]
        return loaded_page([item.e.S for item in items], stream_id, lambda i: items[i].version.N)

    return load


class Case(msgspec.Struct, frozen=True, kw_only=True):
    """One stream laid out as Query pages in a file (one response body per line)."""

    name: str
    file: str
    events: int
    pages: int
    bytes: int
    status: str
    owner_id: str
    balance: int


def write_account_cases(
    folder: Path, lengths: Mapping[str, int], *, page_limit: int = PAGE_LIMIT_BYTES, seed: int = 7
) -> dict[str, Case]:
    """Account streams of the given lengths (a prefix of one history), plus ``first-page``:
    the events of its first full page. Files and ``cases.json`` go to ``folder``; an
    existing set made from the same inputs is reused."""
    from hotcore.domain.account import ACCOUNT

    folder.mkdir(parents=True, exist_ok=True)
    key = msgspec.json.encode(
        {"lengths": lengths, "limit": page_limit, "seed": seed, "layout": 2}
    ).decode()
    manifest = folder / "cases.json"
    if manifest.is_file():
        saved = msgspec.json.decode(manifest.read_bytes())
        if saved.get("key") == key:
            return msgspec.convert(saved["cases"], dict[str, Case])
    longest = max(lengths.values())
    history = generate_history(ACCOUNT, length=longest, seed=seed, stream_id="acct-bench")
    first = first_page_envelopes(history, page_limit)
    wanted = {"first-page": first, **lengths}
    cases: dict[str, Case] = {}
    for name, length in wanted.items():
        envelopes = history.envelopes[:length]
        pages = dynamodb_pages(envelopes, history.fingerprints[:length], limit_bytes=page_limit)
        if name == "first-page":
            pages = pages[:1]
        path = folder / f"{name}.jsonl"
        path.write_bytes(b"\n".join(pages) + b"\n")
        state = ACCOUNT.fold(ACCOUNT.initial("bench"), [e.data for e in envelopes])
        cases[name] = Case(
            name=name,
            file=path.name,
            events=length,
            pages=len(pages),
            bytes=sum(len(p) for p in pages),
            status=state.status,
            owner_id=state.owner_id,
            balance=state.balance,
        )
    manifest.write_bytes(msgspec.json.encode({"key": key, "cases": cases}))
    return cases


def read_pages(path: Path) -> list[bytes]:
    """The Query response bodies of a case file."""
    return [line for line in path.read_bytes().splitlines() if line.strip()]
