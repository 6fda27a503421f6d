"""Exported schemas of the contracts: JSON Schema per aggregate, and every event version.

``hotcore schema`` writes them into the checked-in ``schemas/`` folder, so other
services (and front-end servers) can build against the contracts without Python; a test
fails when the folder is stale.

Events live forever, so each published version of an event type keeps its own schema,
``schemas/events/<aggregate>/<Type>.v<N>.json``, generated from the class of that
version (the current class, or one in its ``earlier``). Such a file may only change in
ways every reader absorbs: a new optional field (tolerant old readers ignore it, old
events get its default), other titles or descriptions. Anything else (a field removed,
renamed, retyped, re-constrained, made required) is refused: publish a new version with
an upcaster instead (docs/evolution.md). A published version whose class is gone is
refused too: its stored events would have no reader.
"""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import msgspec

from hotcore.codec.events import schema_version_of_class
from hotcore.contracts.common import CommandAck, Envelope, Rejected
from hotcore.domain.aggregate import Aggregate
from hotcore.domain.registry import aggregates

EVENTS_FOLDER = "events"


class IncompatibleSchemaChange(Exception):
    """Published event schemas would change in a way old events or old readers break on."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "published event schemas changed incompatibly (publish a new version with an "
            "upcaster instead, see docs/evolution.md):\n  " + "\n  ".join(problems)
        )


def json_schema(aggregate: Aggregate[Any, Any, Any, Any]) -> dict[str, Any]:
    """Commands, events, queries, state and the event envelope of one aggregate."""
    kinds = {
        "command": aggregate.command_type,
        "event": aggregate.event_type,
        "query": aggregate.query_type,
        "state": aggregate.state_type,
        "envelope": Envelope[aggregate.event_type],  # type: ignore[name-defined]
        "ack": CommandAck,
        "rejection": Rejected,
    }
    roots, components = msgspec.json.schema_components(
        list(kinds.values()), ref_template="#/$defs/{name}"
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"hotcore/{aggregate.name}.json",
        "title": f"hotcore {aggregate.name} contracts",
        "properties": dict(zip(kinds, roots, strict=True)),
        "$defs": components,
    }


class NameCollision(ValueError):
    """Two aggregates define a contract of the same name: their GraphQL fields and types
    would collide, and one would silently shadow the other."""


def contract_names(aggregate: Aggregate[Any, Any, Any, Any]) -> set[str]:
    """The class names of an aggregate's commands, events, queries and state."""
    names = {aggregate.state_type.__name__}
    for union in (aggregate.command_type, aggregate.event_type, aggregate.query_type):
        names.update(cls.__name__ for cls in typing.get_args(union) or (union,))
    return names


def check_names(registry: dict[str, Aggregate[Any, Any, Any, Any]]) -> None:
    """Raise ``NameCollision`` naming every contract two aggregates both define."""
    owners: dict[str, str] = {}
    clashes: list[str] = []
    for name, aggregate in registry.items():
        for contract in sorted(contract_names(aggregate)):
            if contract in owners:
                clashes.append(f"{contract} ({owners[contract]} and {name})")
            owners.setdefault(contract, name)
    if clashes:
        raise NameCollision(
            "contract names must be unique across aggregates (they name GraphQL fields and "
            "types): " + ", ".join(clashes) + "; rename one of each pair"
        )


def event_versions(aggregate: Aggregate[Any, Any, Any, Any]) -> dict[tuple[str, int], Any]:
    """(event type, schema version) -> the class describing it, for every version read."""
    found: dict[tuple[str, int], Any] = {}
    for cls in typing.get_args(aggregate.event_type) or (aggregate.event_type,):
        tag = cls.__struct_config__.tag
        for version_class in (cls, *getattr(cls, "earlier", ())):
            found[(tag, schema_version_of_class(version_class))] = version_class
    return found


def event_version_schema(event_type: str, version: int, cls: Any) -> dict[str, Any]:
    """The self-contained JSON Schema of one event version (references inlined)."""
    generated = msgspec.json.schema(cls)
    schema = _inline(generated, generated.get("$defs", {}))
    schema.pop("$defs", None)
    schema["title"] = f"{event_type} v{version}"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "x-hotcore-event": event_type,
        "x-hotcore-schema-version": version,
        **schema,
    }


def _inline(node: Any, defs: dict[str, Any], depth: int = 0) -> Any:
    if depth > 32:
        raise ValueError("event schemas may not be recursive")
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs, depth + 1)
        return {k: _inline(v, defs, depth + 1) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs, depth + 1) for v in node]
    return node


def _essence(node: Any) -> Any:
    """A schema without the parts that do not change what validates (titles, prose)."""
    if isinstance(node, dict):
        return {k: _essence(v) for k, v in node.items() if k not in ("title", "description")}
    if isinstance(node, list):
        return [_essence(v) for v in node]
    return node


def compatibility_problems(name: str, published: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Why ``new`` may not replace the ``published`` schema of the same event version."""
    old_fields, new_fields = published.get("properties", {}), new.get("properties", {})
    old_required, new_required = set(published.get("required", [])), set(new.get("required", []))
    problems = []
    for field, schema in old_fields.items():
        if field not in new_fields:
            problems.append(f"{name}: field `{field}` removed or renamed")
        elif _essence(schema) != _essence(new_fields[field]):
            problems.append(f"{name}: field `{field}` changed its type or constraints")
        elif (field in old_required) != (field in new_required):
            problems.append(f"{name}: field `{field}` changed from optional to required or back")
    for field in new_fields.keys() - old_fields.keys():
        if field in new_required:
            problems.append(f"{name}: new field `{field}` is required (give it a default)")
    return problems


def rendered(registry: dict[str, Aggregate[Any, Any, Any, Any]] | None = None) -> dict[str, str]:
    """File name -> content of every exported schema: per aggregate, per event version, SDL."""
    from hotcore_dev.graphql import sdl

    registry = registry if registry is not None else aggregates()
    check_names(registry)

    files: dict[str, str] = {}
    for name, aggregate in registry.items():
        files[f"{name}.json"] = _dump(json_schema(aggregate))
        for (event_type, version), cls in sorted(event_versions(aggregate).items()):
            path = f"{EVENTS_FOLDER}/{name}/{event_type}.v{version}.json"
            files[path] = _dump(event_version_schema(event_type, version, cls))
    files["schema.graphql"] = sdl(registry)
    return files


def _dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def published_problems(folder: Path, files: dict[str, str] | None = None) -> list[str]:
    """What the rendered event schemas would break among those published in ``folder``."""
    files = rendered() if files is None else files
    problems: list[str] = []
    events = folder / EVENTS_FOLDER
    for path in sorted(events.glob("*/*.v*.json")) if events.is_dir() else []:
        name = path.relative_to(folder).as_posix()
        label = f"{path.parent.name} {path.name.removesuffix('.json').replace('.v', ' v')}"
        if name not in files:
            problems.append(
                f"{label}: published, but no class reads it any more (keep it in `earlier`)"
            )
            continue
        problems += compatibility_problems(
            label, json.loads(path.read_text()), json.loads(files[name])
        )
    return problems


def export(folder: Path, *, check: bool = False) -> list[Path]:
    """Write the schemas into ``folder``; with ``check``, write nothing and return stale files.

    Raises ``IncompatibleSchemaChange`` (writing nothing) when a published event version
    would change in a way that breaks its stored events or its readers.
    """
    files = rendered()
    problems = published_problems(folder, files)
    if problems:
        raise IncompatibleSchemaChange(problems)
    stale: list[Path] = []
    for name, content in files.items():
        path = folder / name
        if path.exists() and path.read_text() == content:
            continue
        stale.append(path)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
    return stale
