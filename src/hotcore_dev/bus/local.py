"""An in-process EventBridge: PutEvents in, rules with event patterns, targets that are callables.

Delivery is at least once, as on AWS: an accepted event is recorded in a durable queue
(``hotcore_dev.bus.queue``) once per matching rule, and each record is removed only after
that rule's target returned. A target that raises is retried a few times and then the
event lands in ``dead_letters`` (EventBridge's DLQ) instead of being lost; a process
killed in between delivers it again when the queue is next drained. Delivery happens
when ``drain`` is called, so a local run decides when the bus turns.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hotcore_dev.bus.pattern import CompiledPattern, compile_pattern
from hotcore_dev.bus.queue import Delivery, DeliveryQueue

MAX_ENTRIES_PER_CALL = 10
MAX_CALL_BYTES = 256 * 1024

Target = Callable[[dict[str, Any]], object]


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    pattern: CompiledPattern
    target: Target


@dataclass(frozen=True, slots=True)
class DeadLetter:
    rule: str
    event: dict[str, Any]
    error: str


@dataclass
class LocalBus:
    """``queue`` defaults to a private in-memory one; give it a file-backed queue to survive."""

    name: str = "hotcore"
    account: str = "000000000000"
    region: str = "local"
    max_attempts: int = 3
    rules: list[Rule] = field(default_factory=list)
    delivered: int = 0
    queue: DeliveryQueue | None = None

    def __post_init__(self) -> None:
        if self.queue is None:
            self.queue = DeliveryQueue(self.name)
        self._queue: DeliveryQueue = self.queue

    def add_rule(self, name: str, pattern: Mapping[str, Any], target: Target) -> None:
        if any(rule.name == name for rule in self.rules):
            raise ValueError(f"a rule named {name!r} already exists on bus {self.name!r}")
        self.rules.append(Rule(name, compile_pattern(dict(pattern)), target))

    def put_events(self, entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """EventBridge's PutEvents: per-entry results, failed entries are reported, not raised."""
        if not 1 <= len(entries) <= MAX_ENTRIES_PER_CALL:
            raise ValueError(
                f"PutEvents takes 1 to {MAX_ENTRIES_PER_CALL} entries, got {len(entries)}"
            )
        size = sum(_entry_size(entry) for entry in entries)
        if size > MAX_CALL_BYTES:
            raise ValueError(f"PutEvents entries total {size} bytes, the limit is {MAX_CALL_BYTES}")
        results: list[dict[str, str]] = []
        for entry in entries:
            event, error = self._to_event(entry)
            if error is not None:
                results.append({"ErrorCode": "InvalidArgument", "ErrorMessage": error})
                continue
            assert event is not None
            rules = [rule.name for rule in self.rules if rule.pattern.matches(event)]
            if rules:  # EventBridge keeps nothing for an event no rule matches
                self._queue.add(event["id"], json.dumps(event).encode(), rules)
            results.append({"EventId": event["id"]})
        failed = sum(1 for r in results if "ErrorCode" in r)
        return {"FailedEntryCount": failed, "Entries": results}

    @property
    def pending(self) -> int:
        """Deliveries not yet made (one per matching rule of each accepted event)."""
        return self._queue.pending()

    @property
    def dead_letters(self) -> list[DeadLetter]:
        return [
            DeadLetter(d.rule, json.loads(d.event), d.error) for d in self._queue.dead_letters()
        ]

    def drain(self) -> int:
        """Make every pending delivery (and those its targets cause), oldest first."""
        count = 0
        targets = {rule.name: rule.target for rule in self.rules}
        while (delivery := self._queue.next()) is not None:
            self._deliver(targets.get(delivery.rule), delivery)
            count += 1
        self.delivered += count
        return count

    def _deliver(self, target: Target | None, delivery: Delivery) -> None:
        if target is None:  # recorded by an earlier process whose bus had this rule
            error = f"no rule named {delivery.rule!r} on bus {self.name!r}"
            self._queue.dead(delivery, delivery.attempts, error)
            return
        event = json.loads(delivery.event)
        attempts = delivery.attempts
        while True:
            try:
                target(event)
            except Exception as exc:  # a failing target must not stop the bus
                self._queue.failed(delivery)
                attempts += 1
                if attempts >= self.max_attempts:
                    self._queue.dead(delivery, attempts, f"{type(exc).__name__}: {exc}")
                    return
                continue
            self._queue.done(delivery)
            return

    def _to_event(self, entry: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        source, detail_type, raw = entry.get("Source"), entry.get("DetailType"), entry.get("Detail")
        if not isinstance(source, str) or not source:
            return None, "Source is required"
        if not isinstance(detail_type, str) or not detail_type:
            return None, "DetailType is required"
        if not isinstance(raw, str):
            return None, "Detail must be a JSON object string"
        try:
            detail = json.loads(raw)
        except ValueError as exc:
            return None, f"Detail is not valid JSON: {exc}"
        if not isinstance(detail, dict):
            return None, "Detail must be a JSON object"
        bus = entry.get("EventBusName", self.name)
        if bus not in (
            self.name,
            f"arn:aws:events:{self.region}:{self.account}:event-bus/{self.name}",
        ):
            return None, f"unknown event bus {bus!r}"
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": source,
            "account": self.account,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": list(entry.get("Resources", [])),
            "detail": detail,
        }
        return event, None


def _entry_size(entry: Mapping[str, Any]) -> int:
    # EventBridge's entry size: Source, DetailType, Detail and Resources, UTF-8 encoded.
    parts = [entry.get("Source", ""), entry.get("DetailType", ""), entry.get("Detail", "")]
    parts.extend(entry.get("Resources", []))
    return sum(len(str(part).encode()) for part in parts) + (14 if entry.get("Time") else 0)
