"""An in-process EventBridge: PutEvents in, rules with event patterns, targets that are callables.

Delivery is at least once, as on AWS: a target that raises is retried a few times and
then the event lands in ``dead_letters`` (EventBridge's DLQ) instead of being lost.
Delivery happens when ``drain`` is called, so a local run decides when the bus turns.
"""

from __future__ import annotations

import json
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hotcore.bus.pattern import CompiledPattern, compile_pattern

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
    name: str = "hotcore"
    account: str = "000000000000"
    region: str = "local"
    max_attempts: int = 3
    rules: list[Rule] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    delivered: int = 0
    _queue: deque[dict[str, Any]] = field(default_factory=deque)

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
            self._queue.append(event)
            results.append({"EventId": event["id"]})
        failed = sum(1 for r in results if "ErrorCode" in r)
        return {"FailedEntryCount": failed, "Entries": results}

    @property
    def pending(self) -> int:
        return len(self._queue)

    def drain(self) -> int:
        """Deliver every queued event (and those its targets put) to every matching rule."""
        count = 0
        while self._queue:
            event = self._queue.popleft()
            for rule in self.rules:
                if rule.pattern.matches(event):
                    self._deliver(rule, event)
                    count += 1
        self.delivered += count
        return count

    def _deliver(self, rule: Rule, event: dict[str, Any]) -> None:
        error = ""
        for _ in range(self.max_attempts):
            try:
                rule.target(event)
                return
            except Exception as exc:  # a failing target must not stop the bus
                error = f"{type(exc).__name__}: {exc}"
        self.dead_letters.append(DeadLetter(rule.name, event, error))

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
