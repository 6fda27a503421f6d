"""One AppSync publish per command: the last bus entry of each command carries its events.

Only carriers match the subscription delivery rule, so EventBridge calls ``publish`` once
per command and PutEvents gets no extra entry; a carrier that would break the 256 KB
entry limit falls back to one per event, and an event too big even alone says so.
"""

from __future__ import annotations

import json
from typing import Any

from hotcore.aws.eventbridge import EntryFailure, PutEventsResult
from hotcore.domain.account import ACCOUNT
from hotcore.entrypoints.publisher import StreamsPublisher
from hotcore.service.publisher import (
    MAX_ENTRY_BYTES,
    SUBSCRIBERS,
    bus_entry,
    for_subscribers,
)
from hotcore_dev.bus.pattern import compile_pattern

SUBSCRIPTION_RULE = next(r for r in ACCOUNT.delivery_rules if r.target_kind == "subscription")


def envelope(stream_id: str, version: int, command_id: str, memo: str = "m") -> dict[str, Any]:
    return {
        "stream_id": stream_id,
        "version": version,
        "type": "Deposited",
        "schema_version": 2,
        "data": {"type": "Deposited", "amount": version, "memo": memo, "currency": "EUR"},
        "command_id": command_id,
        "correlation_id": command_id,
        "timestamp": "2026-01-01T00:00:00Z",
        "actor": "user:ann via hotcore-storefront",
    }


def entries(*envelopes: dict[str, Any]) -> list[dict[str, str]]:
    return [bus_entry("account", e["type"], json.dumps(e), "bus") for e in envelopes]


def delivered(entry: dict[str, str]) -> bool:
    """Whether the subscription rule matches the entry, as the bus sees it."""
    event = {
        "source": entry["Source"],
        "detail-type": entry["DetailType"],
        "detail": json.loads(entry["Detail"]),
    }
    return compile_pattern(SUBSCRIPTION_RULE.pattern).matches(event)


def test_the_last_entry_of_each_command_carries_its_events_and_only_it_is_delivered() -> None:
    sent = entries(
        envelope("a", 1, "k-1"),
        envelope("a", 2, "k-1"),
        envelope("a", 3, "k-1"),
        envelope("b", 1, "k-2"),
        envelope("a", 4, "k-3"),
    )
    out = for_subscribers(sent)
    assert len(out) == len(sent)  # no extra PutEvents entry
    assert [delivered(e) for e in out] == [False, False, True, True, True]
    carried = [json.loads(e["Detail"]).get(SUBSCRIBERS) for e in out]
    first = carried[2]
    assert (first["streamId"], first["fromVersion"], first["toVersion"]) == ("a", 1, 3)
    assert [e["version"] for e in first["events"]] == [1, 2, 3]
    assert first["events"][0]["__typename"] == "Deposited"
    assert first["events"][0]["amount"] == "1"  # the API's shape: exact decimal strings
    assert (carried[3]["streamId"], carried[4]["fromVersion"]) == ("b", 4)
    assert "hotcore-storefront" not in json.dumps(carried)  # no actor reaches subscribers
    for before, after in zip(sent, out, strict=True):  # the envelope itself is unchanged
        unchanged = {k: v for k, v in json.loads(after["Detail"]).items() if k != SUBSCRIBERS}
        assert unchanged == json.loads(before["Detail"])


def test_a_command_too_big_to_carry_at_once_carries_each_event_itself() -> None:
    big = [envelope("a", v, "k-1", memo="x" * 500) for v in range(1, 401)]
    out = for_subscribers(entries(*big))
    assert all(len(e["Detail"]) < MAX_ENTRY_BYTES for e in out)
    assert all(delivered(e) for e in out)
    carried = [json.loads(e["Detail"])[SUBSCRIBERS] for e in out]
    assert [(c["fromVersion"], c["toVersion"], len(c["events"])) for c in carried[:2]] == [
        (1, 1, 1),
        (2, 2, 1),
    ]


def test_an_event_too_big_to_carry_even_alone_says_which_versions_to_read() -> None:
    (out,) = for_subscribers(entries(envelope("a", 7, "k-1", memo="y" * 150_000)))
    carried = json.loads(out["Detail"])[SUBSCRIBERS]
    assert carried["truncated"] is True
    assert carried["events"] == []
    assert (carried["fromVersion"], carried["toVersion"]) == (7, 7)
    assert delivered(out)


class PassingFailureBus:
    """PutEvents that refuses the entries of given versions with a passing error, once."""

    def __init__(self, refuse: set[int]) -> None:
        self.refuse = refuse
        self.received: list[dict[str, Any]] = []

    def put_events(self, sent: list[Any]) -> PutEventsResult:
        failures = []
        for index, entry in enumerate(sent):
            detail = json.loads(entry["Detail"])
            if detail["version"] in self.refuse:
                failures.append(
                    EntryFailure(index=index, entry=entry, code="ThrottlingException", message="")
                )
            else:
                self.received.append(detail)
        self.refuse = set()
        return PutEventsResult(event_ids=[None] * len(sent), failures=failures)


def record(sequence: str, event: dict[str, Any]) -> dict[str, Any]:
    return {
        "eventName": "INSERT",
        "dynamodb": {
            "Keys": {
                "stream_id": {"S": event["stream_id"]},
                "version": {"N": str(event["version"])},
            },
            "SequenceNumber": sequence,
            "NewImage": {
                "stream_id": {"S": event["stream_id"]},
                "version": {"N": str(event["version"])},
                "type": {"S": event["type"]},
                "e": {"S": json.dumps(event)},
            },
        },
    }


def test_a_refused_carrier_is_retried_from_its_commands_first_record() -> None:
    bus = PassingFailureBus(refuse={3})
    publisher = StreamsPublisher(ACCOUNT, bus, "bus")
    batch = [record(str(100 + v), envelope("a", v, "k-1")) for v in (1, 2, 3)]
    answer = publisher({"Records": batch})
    # Lambda retries from the first record of the command: its carrier then names all three
    assert answer == {"batchItemFailures": [{"itemIdentifier": "101"}]}
    publisher({"Records": batch})
    carriers = [d[SUBSCRIBERS] for d in bus.received if SUBSCRIBERS in d]
    assert [[e["version"] for e in c["events"]] for c in carriers] == [[1, 2, 3]]
