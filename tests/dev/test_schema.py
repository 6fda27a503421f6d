"""The exported contract schemas are current and describe the contracts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import msgspec
import pytest

from hotcore.contracts.account import Currency, Deposited, DepositedV1
from hotcore.contracts.common import Amount, Event, Text
from hotcore.domain.account import ACCOUNT
from hotcore.domain.aggregate import Aggregate
from hotcore.domain.registry import aggregates
from hotcore_dev import schema
from hotcore_dev.cli import main
from hotcore_dev.schema import (
    IncompatibleSchemaChange,
    NameCollision,
    event_version_schema,
    event_versions,
    export,
    json_schema,
    published_problems,
    rendered,
)

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


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
    assert deposit["additionalProperties"] is False  # commands are strict
    assert "additionalProperties" not in schema["$defs"]["Deposited"]  # events tolerant
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


def with_a_copy_of_account() -> dict[str, Aggregate[Any, Any, Any, Any]]:
    registry = aggregates()
    # Account under another name: every one of its contract names clashes with Account's
    registry["wallet"] = msgspec.structs.replace(registry["account"], name="wallet")
    return registry


def test_a_contract_name_shared_by_two_aggregates_is_an_error_naming_both() -> None:
    with pytest.raises(NameCollision, match=r"Deposit \(account and wallet\)"):
        rendered(with_a_copy_of_account())


def test_hotcore_schema_refuses_colliding_names_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(schema, "aggregates", with_a_copy_of_account)
    assert main(["schema", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("hotcore: error: contract names must be unique across aggregates")
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


# -- published event versions ---------------------------------------------------------


class DepositedRetyped(Event, frozen=True, kw_only=True, tag="Deposited"):
    """Deposited v2 with ``memo`` made an integer: a change no stored v2 event survives."""

    schema_version: ClassVar[int] = 2
    amount: Amount
    memo: int | None = None
    currency: Currency = "EUR"


class DepositedWithChannel(Event, frozen=True, kw_only=True, tag="Deposited"):
    """Deposited v2 plus an optional field: old events get the default, old readers skip it."""

    schema_version: ClassVar[int] = 2
    amount: Amount
    memo: Text | None = None
    currency: Currency = "EUR"
    channel: str = "api"


class DepositedWithRequiredChannel(Event, frozen=True, kw_only=True, tag="Deposited"):
    schema_version: ClassVar[int] = 2
    amount: Amount
    memo: Text | None = None
    currency: Currency = "EUR"
    channel: str


def with_deposited(cls: Any, *, drop_v1: bool = False) -> dict[str, str]:
    files = rendered()
    name = "events/account/Deposited.v2.json"
    files[name] = json.dumps(event_version_schema("Deposited", 2, cls))
    if drop_v1:
        del files["events/account/Deposited.v1.json"]
    return files


def test_every_published_event_version_keeps_a_compatible_reader() -> None:
    assert published_problems(SCHEMAS) == []
    versions = event_versions(ACCOUNT)
    assert versions[("Deposited", 1)] is DepositedV1
    assert versions[("Deposited", 2)] is Deposited
    assert (SCHEMAS / "events/account/Deposited.v1.json").exists()


@pytest.mark.parametrize(
    ("cls", "problems"),
    [
        (DepositedRetyped, ["account Deposited v2: field `memo` changed its type or constraints"]),
        (
            DepositedWithRequiredChannel,
            ["account Deposited v2: new field `channel` is required (give it a default)"],
        ),
    ],
)
def test_a_breaking_change_without_a_new_version_is_refused(cls: Any, problems: list[str]) -> None:
    assert published_problems(SCHEMAS, with_deposited(cls)) == problems


def test_an_optional_new_field_is_compatible_within_a_version() -> None:
    assert published_problems(SCHEMAS, with_deposited(DepositedWithChannel)) == []


def test_dropping_an_old_version_that_was_published_is_refused() -> None:
    problems = published_problems(SCHEMAS, with_deposited(Deposited, drop_v1=True))
    assert problems == [
        "account Deposited v1: published, but no class reads it any more (keep it in `earlier`)"
    ]


def test_export_refuses_a_breaking_change_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export(tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.json")}
    monkeypatch.setattr(schema, "rendered", lambda: with_deposited(DepositedRetyped))
    with pytest.raises(IncompatibleSchemaChange, match="upcaster"):
        export(tmp_path)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.json")} == before
