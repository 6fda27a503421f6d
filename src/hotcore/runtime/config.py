"""Settings a Lambda function reads from its environment, validated once at init.

A missing or malformed variable fails the init with a message naming it, instead of
failing the first request somewhere deep inside.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from msgspec import Struct


class ConfigError(RuntimeError):
    """The function's environment is incomplete or malformed."""


class Settings(Struct, frozen=True, kw_only=True):
    aggregate: str
    table: str | None  # the aggregate's DynamoDB event table
    guard_table: str | None  # the table of unique-value guards (Customer)
    sqlite_path: str | None  # for local runs without DynamoDB
    bus_name: str
    snapshot_every: int
    region: str

    @classmethod
    def from_env(cls, aggregate: str, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        table = env.get("HOTCORE_TABLE") or None
        sqlite_path = env.get("HOTCORE_DB") or None
        if table is None and sqlite_path is None:
            raise ConfigError(
                f"{aggregate}: set HOTCORE_TABLE (the DynamoDB event table) or HOTCORE_DB "
                "(a SQLite file, for local runs)"
            )
        declared = env.get("HOTCORE_AGGREGATE", aggregate)
        if declared != aggregate:
            raise ConfigError(
                f"HOTCORE_AGGREGATE is {declared!r} but this handler serves {aggregate!r}"
            )
        raw_every = env.get("HOTCORE_SNAPSHOT_EVERY", "100")
        try:
            every = int(raw_every)
        except ValueError:
            every = 0
        if every < 1:
            raise ConfigError(
                f"HOTCORE_SNAPSHOT_EVERY must be a positive integer, got {raw_every!r}"
            )
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or ""
        if table is not None and not region:
            raise ConfigError("AWS_REGION is not set (Lambda sets it; set it for local runs)")
        return cls(
            aggregate=aggregate,
            table=table,
            guard_table=env.get("HOTCORE_GUARD_TABLE") or None,
            sqlite_path=sqlite_path,
            bus_name=env.get("HOTCORE_BUS_NAME", "hotcore"),
            snapshot_every=every,
            region=region,
        )
