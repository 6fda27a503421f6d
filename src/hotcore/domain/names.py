"""Every name the deployment derives from an aggregate or a contract, said once.

The bus, the Lambda functions, the GraphQL schema, the CDK stacks and the local wiring
all read these instead of spelling ``hotcore.<aggregate>`` or ``hotcore-<aggregate>-command``
themselves, so a rename happens here or nowhere.
"""

from __future__ import annotations

from typing import Literal

#: The prefix of every event source hotcore puts on the bus.
SOURCE_PREFIX = "hotcore."

FunctionKind = Literal["command", "query", "events", "publisher"]


def event_source(aggregate: str) -> str:
    """The EventBridge ``source`` of an aggregate's events: ``hotcore.account``."""
    return f"{SOURCE_PREFIX}{aggregate}"


def aggregate_of_source(source: str) -> str | None:
    """The aggregate behind an event source, or None when it is not a hotcore source."""
    return source.removeprefix(SOURCE_PREFIX) if source.startswith(SOURCE_PREFIX) else None


def function_name(aggregate: str, kind: FunctionKind) -> str:
    """The fixed name of one of an aggregate's Lambda functions: ``hotcore-account-command``.

    Fixed on purpose: the saga's state machine names the command functions by it, so the
    shared stack never has to import an aggregate stack.
    """
    return f"hotcore-{aggregate}-{kind}"


def field_name(contract_name: str) -> str:
    """The GraphQL field of a command or query: ``PlaceOrder`` -> ``placeOrder``."""
    return contract_name[0].lower() + contract_name[1:]


def batch_query_name(contract_name: str) -> str:
    """The GraphQL field reading many instances: ``GetAccount`` -> ``getAccounts``."""
    name = field_name(contract_name)
    if name.endswith("y") and name[-2:-1] not in ("a", "e", "i", "o", "u"):
        return name[:-1] + "ies"  # getInventory -> getInventories
    return name + "s"


def history_query_name(aggregate: str) -> str:
    """The GraphQL field reading a stream's events in pages: ``accountHistory``."""
    return f"{aggregate}History"


def subscription_name(aggregate: str) -> str:
    """The GraphQL subscription of an aggregate's events: ``onAccountEvent``."""
    return f"on{aggregate.capitalize()}Event"


def subscription_rule_name(aggregate: str) -> str:
    """The delivery rule that sends an aggregate's events to the GraphQL subscribers."""
    return f"{aggregate}-to-subscribers"


def table_name(aggregate: str) -> str:
    """The default DynamoDB event table of an aggregate (local runs and the benchmark)."""
    return f"hotcore-{aggregate}"


#: The PlaceOrder saga: the target of Order's delivery rule, the state machine on AWS and
#: the local saga runner's key.
PLACE_ORDER_SAGA = "place-order"
