"""Exported schemas of the contracts: JSON Schema per aggregate, the shared type schemas.

``hotcore schema`` writes them into the checked-in ``schemas/`` folder, so other
services (and front-end servers) can build against the contracts without Python; a test
fails when the folder is stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

from hotcore.contracts.common import CommandAck, Envelope, Rejected
from hotcore.domain.aggregate import Aggregate
from hotcore.domain.registry import aggregates


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


def rendered() -> dict[str, str]:
    """File name -> content of every exported schema: JSON Schema per aggregate, the SDL."""
    from hotcore.graphql import sdl

    files = {
        f"{name}.json": json.dumps(json_schema(aggregate), indent=2, sort_keys=True) + "\n"
        for name, aggregate in aggregates().items()
    }
    files["schema.graphql"] = sdl()
    return files


def export(folder: Path, *, check: bool = False) -> list[Path]:
    """Write the schemas into ``folder``; with ``check``, write nothing and return stale files."""
    stale: list[Path] = []
    for name, content in rendered().items():
        path = folder / name
        if path.exists() and path.read_text() == content:
            continue
        stale.append(path)
        if not check:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
    return stale
