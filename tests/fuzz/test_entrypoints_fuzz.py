"""Fuzz suite: malformed input of every kind at the AppSync, direct and EventBridge entry points.

Every example is one request to a real function (all four aggregates) on one SQLite file:
contract-shaped commands, queries and events with one part broken (a wrong type, an
unknown or missing field, a command id no ``Ref`` accepts, text with lone surrogates,
values nested thousands deep, 70 KB strings, numbers past every bound, a whole event
replaced by noise), mixed with valid ones so that streams exist and change. Asserted:

- a typed answer every time: an outcome the resolver maps (accepted, rejected, invalid)
  for AppSync and direct calls, never ``InternalFailure``; for EventBridge (asynchronous:
  what it cannot handle raises, to the failure destination) only the listed typed errors;
- no store change unless the answer says a command was accepted with events
  (``PRAGMA data_version`` of a second connection moves on every commit by another);
- afterwards every stream loads and folds, gap-free from version 1.

``HOTCORE_FUZZ_EXAMPLES`` (default 10,000, spread over the four tests) sets the count;
``make check``'s ``HOTCORE_EXAMPLES_SCALE`` scales it. Runs are derandomized: CI tries the
same cases every time.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as tally
from hypothesis import strategies as st

from hotcore.codec.events import UnreadableEvent
from hotcore.codec.graphql import struct_converters
from hotcore.contracts.common import Envelope
from hotcore.domain.names import event_source, field_name
from hotcore.domain.registry import AGGREGATE_NAMES, aggregates
from hotcore.entrypoints import snapstart
from hotcore.entrypoints.appsync import BadRequest
from hotcore.entrypoints.command import CommandFunction
from hotcore.entrypoints.events import EventFunction
from hotcore.entrypoints.identity import TOKEN_HEADER
from hotcore.entrypoints.query import QueryFunction
from hotcore.entrypoints.settings import Settings
from hotcore.service.reactions import UnknownEventSource
from tests.support.contract_strategies import for_type
from tests.support.examples import examples
from tests.support.identity import issuer

TOTAL = int(os.environ.get("HOTCORE_FUZZ_EXAMPLES", "10000"))
SHARES = {"mutation": 0.4, "query": 0.15, "direct": 0.25, "event": 0.2}
ANSWERED = {"accepted", "rejected", "invalid"}
#: what the asynchronous event function may raise for an event it can never handle
EVENT_ERRORS = (BadRequest, UnknownEventSource, UnreadableEvent, msgspec.ValidationError)

AGGREGATES = aggregates()
#: few stream ids, so that fuzzed commands meet streams that exist and have state
IDS = ["a", "b", "c-1", "order-1", "sku-1"]


def count(kind: str) -> int:
    return examples(round(TOTAL * SHARES[kind]))


def fuzz_settings(kind: str) -> Any:
    return settings(
        max_examples=count(kind),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# -- values --------------------------------------------------------------------------------


def nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value] if depth % 2 else {"k": value}
    return value


SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
NASTY_TEXT = st.one_of(
    st.text(max_size=20),
    st.text(st.one_of(st.characters(), SURROGATES), min_size=1, max_size=8),
    st.integers(200, 70_000).map(lambda n: "x" * n),
    st.sampled_from(["", " ", "has space", "a#b", "İ" * 200, "\x00", "a\nb"]),
)
NASTY = st.one_of(
    NASTY_TEXT,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.integers(100, 50_000).map(nested),
    st.recursive(
        st.none() | st.booleans() | st.integers() | NASTY_TEXT,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=8,
    ),
)


def members(union: Any) -> list[type[Any]]:
    return list(typing.get_args(union) or (union,))


def builtins_of(cls: type[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A contract-valid value of ``cls`` as builtins, its ids drawn from the few ``IDS``."""

    def shape(value: Any) -> dict[str, Any]:
        raw: dict[str, Any] = msgspec.to_builtins(value)
        return raw

    return st.tuples(for_type(cls).map(shape), st.sampled_from(IDS)).map(
        lambda pair: {k: pair[1] if k.endswith("_id") else v for k, v in pair[0].items()}
    )


def graphql_of(cls: type[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A contract-valid value of ``cls`` as AppSync sends it (camelCase, enums, decimal
    strings; ``hotcore.codec.graphql``), without its ``type`` tag."""
    to_graphql, _ = struct_converters(cls)
    return builtins_of(cls).map(
        lambda raw: {k: v for k, v in to_graphql(raw).items() if k != "type"}
    )


@st.composite
def broken(draw: st.DrawFn, valid: dict[str, Any]) -> dict[str, Any]:
    """``valid`` as it is, or with one field retyped, dropped or added."""
    payload = dict(valid)
    how = draw(st.sampled_from(["keep", "keep", "keep", "retype", "drop", "add"]))
    keys = [k for k in payload if k != "type"]
    if how == "retype" and keys:
        payload[draw(st.sampled_from(keys))] = draw(NASTY)
    elif how == "drop" and keys:
        del payload[draw(st.sampled_from(keys))]
    elif how == "add":
        payload[draw(NASTY_TEXT)] = draw(NASTY)
    return payload


def mostly(draw: st.DrawFn, value: Any, instead: st.SearchStrategy[Any]) -> Any:
    """``value`` nine times in ten, else a draw from ``instead`` (st.one_of would weigh
    each of the alternatives ``instead`` is made of as much as ``value``)."""
    return draw(instead) if draw(st.sampled_from([False] * 9 + [True])) else value


#: ID tokens of the end users the fuzzed servers act for, signed once (staff: back office)
TOKENS = {
    user: issuer().token(user, groups=["back-office"] if user == "staff" else [], lifetime=86400)
    for user in [*IDS, "staff"]
}
COMMAND_ID = st.one_of(st.none(), st.sampled_from(["k-1", "k-2", "k-3"]), NASTY)


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, Any]:
    name = draw(st.sampled_from(AGGREGATE_NAMES))
    cls = draw(st.sampled_from(members(AGGREGATES[name].command_type)))
    payload = draw(broken(draw(graphql_of(cls))))
    arguments: dict[str, Any] = {"input": payload}
    command_id = draw(COMMAND_ID)
    if command_id is not None:
        arguments["commandId"] = command_id
    field = mostly(draw, field_name(cls.__name__), NASTY_TEXT)
    # the end user the server acts for: one of the ids (an owner, sometimes), staff, or none
    user = draw(st.one_of(st.sampled_from(IDS), st.just("staff"), st.none()))
    token = TOKENS[user] if user is not None else mostly(draw, None, NASTY_TEXT)
    event: Any = {
        "arguments": mostly(draw, arguments, NASTY),
        "identity": mostly(draw, {"userArn": "arn:aws:iam::1:role/web"}, NASTY),
        "info": {
            "fieldName": field,
            "parentTypeName": mostly(draw, "Mutation", st.sampled_from(["Query", "Nope"])),
            "variables": {},
        },
        "request": {"headers": {TOKEN_HEADER: token} if token else {}},
    }
    return name, mostly(draw, event, NASTY)


@st.composite
def queries(draw: st.DrawFn) -> tuple[str, Any]:
    name = draw(st.sampled_from(AGGREGATE_NAMES))
    cls = draw(st.sampled_from(members(AGGREGATES[name].query_type)))
    arguments = draw(broken(draw(graphql_of(cls))))
    # read for one of the ids (an owner, sometimes), staff, or no one; or a nasty token
    user = draw(st.one_of(st.sampled_from(IDS), st.just("staff"), st.none()))
    token = TOKENS[user] if user is not None else mostly(draw, None, NASTY_TEXT)
    event = {
        "arguments": mostly(draw, arguments, NASTY),
        "identity": None,
        "info": {
            "fieldName": mostly(draw, field_name(cls.__name__), NASTY_TEXT),
            "parentTypeName": mostly(draw, "Query", st.sampled_from(["Mutation", "Subscription"])),
            "variables": {},
        },
        "request": {"headers": {TOKEN_HEADER: token} if token else {}},
    }
    batch = draw(st.booleans())
    return name, [event] if batch else event


@st.composite
def directs(draw: st.DrawFn) -> tuple[str, Any]:
    name = draw(st.sampled_from(AGGREGATE_NAMES))
    cls = draw(st.sampled_from(members(AGGREGATES[name].command_type)))
    request: dict[str, Any] = {"command": draw(broken(draw(builtins_of(cls))))}
    for key in ("command_id", "correlation_id", "causation_id", "actor"):
        if draw(st.booleans()):
            request[key] = draw(st.one_of(st.sampled_from(["k-1", "saga:1:x"]), NASTY))
    return name, draw(st.one_of(st.just(broken_request(request, draw)), st.just(request)))


def broken_request(request: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    return {**request, draw(NASTY_TEXT): draw(NASTY)} if draw(st.booleans()) else request


@st.composite
def bus_events(draw: st.DrawFn) -> tuple[str, Any]:
    name = draw(st.sampled_from(AGGREGATE_NAMES))
    reaction = draw(st.sampled_from(list(AGGREGATES[name].reactions)))
    envelope = draw(for_type(Envelope[reaction.event_type]))  # type: ignore[name-defined]
    detail = draw(
        broken({**msgspec.to_builtins(envelope), "stream_id": draw(st.sampled_from(IDS))})
    )
    event = {
        "source": mostly(draw, event_source(reaction.source), NASTY_TEXT),
        "detail-type": envelope.type,
        "detail": mostly(draw, detail, NASTY),
        "id": "e-1",
    }
    return name, mostly(draw, event, NASTY)


# -- the functions, the store watch, the audit ---------------------------------------------


class World:
    """Every function of every aggregate on one SQLite file, and a watch on its commits."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "fuzz.db"

        def env(name: str) -> Settings:
            return Settings.from_env(name, {"HOTCORE_DB": str(self.path), **issuer().env()})

        self.commands = {n: CommandFunction(n, env(n)) for n in AGGREGATE_NAMES}
        self.queries = {n: QueryFunction(n, env(n)) for n in AGGREGATE_NAMES}
        self.events = {
            n: EventFunction(n, env(n)) for n in AGGREGATE_NAMES if AGGREGATES[n].reactions
        }
        self.watch = sqlite3.connect(self.path)
        # each function's first connection switches the file to WAL, a commit the watch
        # would see: opened here, before any example is tried
        for function in [*self.commands.values(), *self.queries.values(), *self.events.values()]:
            function.store.load_latest("fuzz-warm-up")
        self.tried = 0

    def commits(self) -> int:
        (version,) = self.watch.execute("PRAGMA data_version").fetchone()
        return int(version)

    def audit(self) -> int:
        """Every stream loads and folds, versions 1..n; the number of streams."""
        streams = self.watch.execute(
            "SELECT aggregate, stream_id, count(*), max(version) FROM events GROUP BY 1, 2"
        ).fetchall()
        for aggregate, stream_id, events, last in streams:
            assert events == last, f"{aggregate}/{stream_id} has gaps"
            loaded = self.queries[aggregate].queries.load(stream_id)
            assert loaded.version == last
        return len(streams)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with tempfile.TemporaryDirectory() as folder:
        world = World(Path(folder))
        yield world
        streams = world.audit()
        if world.tried:
            assert streams > 0, "no fuzzed command was ever accepted: the suite tries nothing valid"
        world.watch.close()
        snapstart.clear()


@pytest.fixture(autouse=True)
def quiet(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    yield
    capsys.readouterr()  # the functions' log lines: thousands, and only noise here


def applied(answer: dict[str, Any]) -> bool:
    return answer.get("outcome") == "accepted" and answer.get("events", 0) > 0


def check_answer(answer: Any) -> None:
    assert isinstance(answer, dict), answer
    assert answer.get("outcome") in ANSWERED, answer
    tally(f"{answer['outcome']} {answer.get('rule') or answer.get('message', '')[:50]}".strip())


@fuzz_settings("mutation")
@given(case=mutations())
def test_appsync_mutations(world: World, case: tuple[str, Any]) -> None:
    name, event = case
    world.tried += 1
    before = world.commits()
    answers = world.commands[name](event)
    for answer in answers if isinstance(answers, list) else [answers]:
        check_answer(answer)
    if world.commits() != before:  # a re-send is accepted with events too, but writes nothing
        assert any(applied(a) for a in (answers if isinstance(answers, list) else [answers]))


@fuzz_settings("query")
@given(case=queries())
def test_appsync_queries(world: World, case: tuple[str, Any]) -> None:
    name, event = case
    before = world.commits()
    answers = world.queries[name](event)
    for answer in answers if isinstance(answers, list) else [answers]:
        if answer is None:  # a stream that does not exist reads as null
            tally("null")
            continue
        assert isinstance(answer, dict), answer
        if answer.get("outcome") == "rejected":  # the read policy, or the token, refused
            assert answer["rule"] in ("forbidden", "unauthenticated"), answer
            tally(f"rejected {answer['rule']}")
            continue
        assert "state" in answer or answer.get("outcome") == "invalid", answer
        tally("state" if "state" in answer else "invalid")
    assert world.commits() == before


@fuzz_settings("direct")
@given(case=directs())
def test_direct_invocations(world: World, case: tuple[str, Any]) -> None:
    name, request = case
    before = world.commits()
    answer = world.commands[name](request)
    check_answer(answer)
    if world.commits() != before:
        assert applied(answer), answer


@fuzz_settings("event")
@given(case=bus_events())
def test_eventbridge_events(world: World, case: tuple[str, Any]) -> None:
    name, event = case
    before = world.commits()
    try:
        answer = world.events[name](event)
    except EVENT_ERRORS as error:
        tally(f"raised {type(error).__name__} {str(error)[:60]}")
        assert world.commits() == before
        return
    assert isinstance(answer, dict), answer
    assert isinstance(answer.get("reactions"), list), answer
    for outcome in answer["reactions"]:
        check_answer(outcome)
    if world.commits() != before:
        assert any(applied(o) for o in answer["reactions"]), answer
