"""What every hotcore stack has in common, as named L3 constructs.

The stacks in ``infra/stacks`` compose these and write their grants out; nothing here
knows which aggregate it serves beyond the names and contracts it is given.

* ``EventTable``: an aggregate's append-only event table, and what each role may do on it.
* ``GuardTable``: claimed unique values (Customer's e-mail addresses), and who may claim.
* ``HotcoreLayer`` and ``HotcoreFunction``: the layer, and one function with its role and logs.
* ``StreamPublisher``: the publisher function and the table-stream mapping that feeds it.
* ``AggregateApi``: an aggregate's AppSync data sources and resolvers.
* ``FrontEndServers``/``FrontEndRole``: the front-end servers' roles, each allowed exactly
  its GraphQL fields.
* ``DeliveryRules``: an aggregate's delivery rules as EventBridge rules with their targets.
* ``LogsKey``, ``FailedBatchesBucket``/``FailureBucket``, ``HotcoreApi``: the shared stack's parts.
"""

from infra.constructs.api import AggregateApi, HotcoreApi
from infra.constructs.delivery import DeliveryRules
from infra.constructs.event_table import EventTable
from infra.constructs.failures import FailedBatchesBucket, FailureBucket
from infra.constructs.frontends import FrontEndRole, FrontEndServers
from infra.constructs.function import HotcoreFunction, HotcoreLayer
from infra.constructs.guard_table import GuardTable
from infra.constructs.logs_key import LogsKey
from infra.constructs.publisher import StreamPublisher

__all__ = [
    "AggregateApi",
    "DeliveryRules",
    "EventTable",
    "FailedBatchesBucket",
    "FailureBucket",
    "FrontEndRole",
    "FrontEndServers",
    "GuardTable",
    "HotcoreApi",
    "HotcoreFunction",
    "HotcoreLayer",
    "LogsKey",
    "StreamPublisher",
]
