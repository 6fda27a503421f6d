"""The delivery rules every aggregate declares: valid patterns, known targets, right routing."""

from __future__ import annotations

from typing import Any

import pytest

from hotcore.domain.names import event_source
from hotcore.domain.registry import aggregates
from hotcore_dev.bus.pattern import compile_pattern

AGGREGATES = aggregates()
RULES = [rule for agg in AGGREGATES.values() for rule in agg.delivery_rules]


def event(
    source: str, detail_type: str, detail: dict[str, Any] | None = None, *, last: bool = True
) -> dict[str, Any]:
    """A bus event; the last of its command carries the command's events to subscribers."""
    carried = {"subscribers": {"toVersion": 1, "events": []}} if last else {}
    return {"source": source, "detail-type": detail_type, "detail": {**(detail or {}), **carried}}


def test_rule_names_are_unique_and_patterns_compile() -> None:
    assert len({rule.name for rule in RULES}) == len(RULES)
    for rule in RULES:
        compile_pattern(rule.pattern)


def test_every_event_handler_target_has_a_reaction_for_what_it_receives() -> None:
    for rule in RULES:
        if rule.target_kind != "event-handler":
            continue
        sources = {event_source(r.source) for r in AGGREGATES[rule.target].reactions}
        assert set(rule.pattern["source"]) <= sources, rule.name


@pytest.mark.parametrize(
    ("delivered", "rule_names"),
    [
        (
            event("hotcore.customer", "CustomerRegistered"),
            {"account-opens-for-new-customers", "customer-to-subscribers"},
        ),
        (
            event("hotcore.account", "AccountOpened"),
            {"customer-links-accounts", "account-to-subscribers"},
        ),
        (
            event("hotcore.order", "OrderPlaced"),
            {"order-starts-place-order-saga", "order-to-subscribers"},
        ),
        # not its command's last event: the subscribers get it with the last one
        (event("hotcore.order", "OrderPlaced", last=False), {"order-starts-place-order-saga"}),
        (
            event("hotcore.order", "OrderShipped"),
            {"inventory-follows-orders", "order-to-subscribers"},
        ),
        (
            event("hotcore.account", "Withdrawn", {"data": {"reference": "order:o-1"}}),
            {"order-records-payments", "account-to-subscribers"},
        ),
        (
            event("hotcore.account", "Withdrawn", {"data": {"reference": "rent"}}),
            {"account-to-subscribers"},
        ),
        (
            event("hotcore.account", "Withdrawn", {"data": {"reference": None}}),
            {"account-to-subscribers"},
        ),
        # Deposited version 2 calls the reference `memo`, version 1 `reference`: both match
        (
            event("hotcore.account", "Deposited", {"data": {"memo": "refund:o-1"}}),
            {"order-records-payments", "account-to-subscribers"},
        ),
        (
            event("hotcore.account", "Deposited", {"data": {"reference": "refund:o-1"}}),
            {"order-records-payments", "account-to-subscribers"},
        ),
        (
            event("hotcore.account", "Deposited", {"data": {"memo": "salary"}}),
            {"account-to-subscribers"},
        ),
    ],
)
def test_events_reach_exactly_the_rules_meant_for_them(
    delivered: dict[str, Any], rule_names: set[str]
) -> None:
    matched = {rule.name for rule in RULES if compile_pattern(rule.pattern).matches(delivered)}
    assert matched == rule_names
