"""The exported contract schemas are current and describe the contracts."""

from __future__ import annotations

import json
from pathlib import Path

from hotcore.domain.account import ACCOUNT
from hotcore.schema import export, json_schema, rendered

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


def test_the_checked_in_schemas_are_current() -> None:
    stale = export(SCHEMAS, check=True)
    assert stale == [], f"run `make schema`: {stale} are stale"


def test_check_mode_reports_a_stale_file_and_writes_nothing(tmp_path: Path) -> None:
    assert len(export(tmp_path, check=True)) == len(rendered())
    assert list(tmp_path.iterdir()) == []
    export(tmp_path)
    (tmp_path / "account.json").write_text("{}")
    assert export(tmp_path, check=True) == [tmp_path / "account.json"]


def test_the_schema_carries_the_contract_constraints() -> None:
    schema = json.loads(json.dumps(json_schema(ACCOUNT)))
    deposit = schema["$defs"]["Deposit"]
    assert deposit["additionalProperties"] is False
    assert deposit["properties"]["amount"]["exclusiveMinimum"] == 0
    assert set(schema["properties"]) == {
        "command",
        "event",
        "query",
        "state",
        "envelope",
        "ack",
        "rejection",
    }
