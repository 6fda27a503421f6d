"""An aggregate's delivery rules, from the domain's declarations, as EventBridge rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from hotcore.domain.aggregate import Aggregate, DeliveryRule
from infra.constructs.api import HotcoreApi
from infra.constructs.function import HotcoreFunction
from infra.stacks.common import DELIVERY_MAX_AGE, DELIVERY_RETRIES, PUBLISH_OPERATION

# Keys a delivery rule's pattern may use; all of them exist on every hotcore bus event.
_PATTERN_FIELDS = {"source", "detail-type", "detail"}


class DeliveryRuleError(ValueError):
    """A delivery rule cannot be turned into an EventBridge rule in this stack."""


def event_pattern(rule: DeliveryRule) -> events.EventPattern:
    """A domain delivery rule's pattern, as given, as an EventBridge rule pattern."""
    unknown = set(rule.pattern) - _PATTERN_FIELDS
    if unknown:
        raise DeliveryRuleError(
            f"delivery rule {rule.name!r}: pattern fields {sorted(unknown)} are not supported "
            f"here (use {sorted(_PATTERN_FIELDS)})"
        )
    return events.EventPattern(
        source=rule.pattern.get("source"),
        detail_type=rule.pattern.get("detail-type"),
        detail=rule.pattern.get("detail"),
    )


def publish_variables(aggregate: str) -> events.RuleTargetInput:
    """The ``publish`` mutation's variables, taken from a command's last bus event of
    ``aggregate`` (the only ones the subscription rule matches).

    ``detail`` is the whole envelope (the AWSJSON argument); ``fromVersion``,
    ``truncated`` and ``events`` the command's events it carries; the rest its keys.
    """
    variables: dict[str, Any] = {
        "aggregate": aggregate,
        "streamId": events.EventField.from_path("$.detail.stream_id"),
        "version": events.EventField.from_path("$.detail.version"),
        "type": events.EventField.from_path("$.detail-type"),
        "detail": events.EventField.from_path("$.detail"),
        # the command's events, carried by its last entry (hotcore.service.publisher)
        "fromVersion": events.EventField.from_path("$.detail.subscribers.fromVersion"),
        "truncated": events.EventField.from_path("$.detail.subscribers.truncated"),
        "events": events.EventField.from_path("$.detail.subscribers.events"),
    }
    return events.RuleTargetInput.from_object(variables)


class DeliveryRules(Construct):
    """One bus rule per ``aggregate.delivery_rules`` entry, each with its one target.

    The targets by kind: ``event-handler`` -> ``event_handler`` (this aggregate's; an
    aggregate without reactions has none),
    ``subscription`` -> the API's ``publish`` mutation (as ``api.publish_role``),
    ``saga`` -> the state machine of that name in ``sagas`` (as ``saga_role``). A rule
    whose target is not given here is a ``DeliveryRuleError``, not a silent gap.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        aggregate: Aggregate[Any, Any, Any, Any],
        bus: events.IEventBus,
        api: HotcoreApi,
        event_handler: HotcoreFunction | None = None,
        sagas: Mapping[str, sfn.IStateMachine] | None = None,
        saga_role: iam.IRole | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._aggregate = aggregate.name
        self._event_handler = event_handler
        self._api = api
        self._sagas = dict(sagas or {})
        self._saga_role = saga_role
        self.rules = {
            rule.name: events.Rule(
                self,
                rule.name,
                rule_name=f"hotcore-{rule.name}",
                description=rule.description,
                event_bus=bus,
                event_pattern=event_pattern(rule),
                targets=[self._target(rule)],
            )
            for rule in aggregate.delivery_rules
        }

    def _target(self, rule: DeliveryRule) -> events.IRuleTarget:
        if (
            rule.target_kind == "event-handler"
            and rule.target == self._aggregate
            and self._event_handler is not None
        ):
            return targets.LambdaFunction(
                self._event_handler.function,
                retry_attempts=DELIVERY_RETRIES,
                max_event_age=DELIVERY_MAX_AGE,
            )
        if rule.target_kind == "subscription" and rule.target == self._aggregate:
            return targets.AppSync(
                self._api,
                graph_ql_operation=PUBLISH_OPERATION,
                variables=publish_variables(self._aggregate),
                event_role=self._api.publish_role,
                retry_attempts=DELIVERY_RETRIES,
                max_event_age=DELIVERY_MAX_AGE,
            )
        if rule.target_kind == "saga" and rule.target in self._sagas:
            # The whole bus event is the execution's input ($.detail is the envelope).
            return targets.SfnStateMachine(
                self._sagas[rule.target],
                role=self._saga_role,
                retry_attempts=DELIVERY_RETRIES,
                max_event_age=DELIVERY_MAX_AGE,
            )
        raise DeliveryRuleError(
            f"delivery rule {rule.name!r}: the {Stack.of(self).stack_name} stack has no "
            f"{rule.target_kind} target {rule.target!r}"
        )
