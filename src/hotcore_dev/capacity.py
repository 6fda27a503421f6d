"""Request units as DynamoDB bills them, computed from a request and its response.

The emulator (``emulator_wsgi``) meters every DynamoDB request it serves with
``consumed`` and keeps the records; ``MotoServer.capacity()`` reads them back, so tests
and the benchmark can say "a single-event command is 1 PutItem, 1 Query, 1 WRU".

The rules (DynamoDB developer guide, "read and write operations" and "transactions"):

- sizes are item sizes as DynamoDB counts them (attribute names + values,
  ``hotcore.store.dynamodb.item_size``);
- writes: 1 WRU per 1 KB of the item, rounded up, at least 1; a conditional write whose
  condition fails is still billed, by the larger of the new and the existing item (the
  existing one is known when the request asked for ``ALL_OLD``, as hotcore's do);
- ``TransactWriteItems``: 2 WRU per 1 KB of each action's item. A ``Put`` is sized by
  its item; a ``Delete``, ``Update`` or ``ConditionCheck`` by its key (the existing item
  is not in the request: exact for hotcore's guard items and checks, which are well under
  1 KB). A cancelled transaction is metered as if it had run (an upper bound);
- reads, strongly consistent: 1 RRU per 4 KB, eventually consistent: half that.
  ``GetItem`` is sized by its item (a missing item still costs the minimum); ``Query``
  and ``Scan`` by the sum of the sizes of the items they read, rounded up to 4 KB once
  (not per item), at least one unit; ``BatchGetItem`` rounds each item up;
  ``TransactGetItems`` costs 2 RRU per 4 KB of each item.

Operations that read or write no item (CreateTable, DescribeTable...) are not recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from msgspec import Struct

from hotcore.store.dynamodb import item_size

__all__ = ["Consumed", "consumed", "total"]

KB = 1024
READ_UNIT = 4 * KB


class Consumed(Struct, frozen=True, kw_only=True):
    """What one request cost: its operation, the tables it touched, its read and write units."""

    operation: str
    tables: tuple[str, ...]
    read_units: float = 0.0
    write_units: float = 0.0
    items: int = 0  # items read or written
    status: int = 200
    #: reads only: whether they were strongly consistent (None for writes)
    consistent: bool | None = None


def _units(size: int, unit: int) -> int:
    return max(1, -(-size // unit))


def _read(size: int, consistent: bool) -> float:
    return _units(size, READ_UNIT) * (1.0 if consistent else 0.5)


def consumed(
    operation: str, request: Mapping[str, Any], status: int, response: Mapping[str, Any]
) -> Consumed | None:
    """The capacity one DynamoDB request consumed, or None if it reads and writes no item."""
    table = request.get("TableName")
    tables = (table,) if isinstance(table, str) else ()
    consistent = bool(request.get("ConsistentRead", False))
    if operation == "PutItem":
        size = item_size(request.get("Item", {}))
        old = response.get("Item") or response.get("Attributes")
        if isinstance(old, dict):
            size = max(size, item_size(old))
        return Consumed(
            operation=operation, tables=tables, write_units=_units(size, KB), items=1, status=status
        )
    if operation in ("DeleteItem", "UpdateItem"):
        old = response.get("Attributes") or response.get("Item")
        size = item_size(old) if isinstance(old, dict) else item_size(request.get("Key", {}))
        return Consumed(
            operation=operation, tables=tables, write_units=_units(size, KB), items=1, status=status
        )
    if operation == "GetItem":
        item = response.get("Item")
        size = item_size(item) if isinstance(item, dict) else 0
        return Consumed(
            operation=operation,
            tables=tables,
            read_units=_read(size, consistent),
            items=1 if item else 0,
            status=status,
            consistent=consistent,
        )
    if operation in ("Query", "Scan"):
        items: Sequence[dict[str, Any]] = response.get("Items") or []
        size = sum(item_size(item) for item in items)
        return Consumed(
            operation=operation,
            tables=tables,
            read_units=_read(size, consistent),
            items=len(items),
            status=status,
            consistent=consistent,
        )
    if operation == "TransactWriteItems":
        return _transact_write(request, status)
    if operation == "TransactGetItems":
        return _transact_get(request, response, status)
    if operation == "BatchGetItem":
        return _batch_get(request, response, status)
    if operation == "BatchWriteItem":
        return _batch_write(request, status)
    return None


def _transact_write(request: Mapping[str, Any], status: int) -> Consumed:
    units = 0
    tables: list[str] = []
    actions = request.get("TransactItems") or []
    for action in actions:
        ((kind, body),) = action.items()
        tables.append(body.get("TableName", ""))
        sized = body.get("Item") if kind == "Put" else body.get("Key")
        units += 2 * _units(item_size(sized or {}), KB)
    return Consumed(
        operation="TransactWriteItems",
        tables=tuple(dict.fromkeys(tables)),
        write_units=units,
        items=len(actions),
        status=status,
    )


def _transact_get(request: Mapping[str, Any], response: Mapping[str, Any], status: int) -> Consumed:
    tables = [a.get("Get", {}).get("TableName", "") for a in request.get("TransactItems") or []]
    responses = response.get("Responses") or []
    units = sum(
        2 * _units(item_size(r.get("Item") or {}), READ_UNIT) for r in responses
    ) or 2 * len(tables)
    return Consumed(
        operation="TransactGetItems",
        tables=tuple(dict.fromkeys(tables)),
        read_units=units,
        items=len(responses),
        status=status,
    )


def _batch_get(request: Mapping[str, Any], response: Mapping[str, Any], status: int) -> Consumed:
    asked = request.get("RequestItems") or {}
    units = 0.0
    count = 0
    for table, items in (response.get("Responses") or {}).items():
        consistent = bool(asked.get(table, {}).get("ConsistentRead", False))
        for item in items:
            units += _read(item_size(item), consistent)
            count += 1
    return Consumed(
        operation="BatchGetItem", tables=tuple(asked), read_units=units, items=count, status=status
    )


def _batch_write(request: Mapping[str, Any], status: int) -> Consumed:
    units = 0
    count = 0
    tables = request.get("RequestItems") or {}
    for writes in tables.values():
        for write in writes:
            body = write.get("PutRequest", {}).get("Item") or write.get("DeleteRequest", {}).get(
                "Key", {}
            )
            units += _units(item_size(body), KB)
            count += 1
    return Consumed(
        operation="BatchWriteItem",
        tables=tuple(tables),
        write_units=units,
        items=count,
        status=status,
    )


def total(records: Sequence[Consumed]) -> tuple[float, float]:
    """(read units, write units) of some records."""
    return sum(r.read_units for r in records), sum(r.write_units for r in records)
