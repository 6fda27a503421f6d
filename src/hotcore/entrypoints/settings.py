"""Settings a Lambda function reads from its environment, validated once at init.

A missing or malformed variable fails the init with a message naming it, instead of
failing the first request somewhere deep inside.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from msgspec import Struct

from hotcore.store.port import DEFAULT_SNAPSHOT_EVERY


class ConfigError(RuntimeError):
    """The function's environment is incomplete or malformed."""


class TokenSettings(Struct, frozen=True, kw_only=True):
    """Which tokens the deployment trusts: issuer, audience (app client id) and keys."""

    issuer: str | None = None
    audience: str | None = None
    jwks: str | None = None  # the JWKS document itself, pinned at deploy time
    jwks_url: str | None = None  # or where to fetch it, on the first token

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TokenSettings:
        env = os.environ if env is None else env
        settings = cls(
            issuer=env.get("HOTCORE_TOKEN_ISSUER") or None,
            audience=env.get("HOTCORE_TOKEN_AUDIENCE") or None,
            jwks=env.get("HOTCORE_JWKS") or None,
            jwks_url=env.get("HOTCORE_JWKS_URL") or None,
        )
        if settings.issuer and not (settings.audience and (settings.jwks or settings.jwks_url)):
            raise ConfigError(
                "HOTCORE_TOKEN_ISSUER is set: set HOTCORE_TOKEN_AUDIENCE and HOTCORE_JWKS "
                "(the key set) or HOTCORE_JWKS_URL too"
            )
        return settings


class Settings(Struct, frozen=True, kw_only=True):
    aggregate: str
    table: str | None  # the aggregate's DynamoDB event table
    guard_table: str | None  # the table of unique-value guards (Customer)
    sqlite_path: str | None  # for local runs without DynamoDB
    bus_name: str
    snapshot_every: int
    region: str
    #: The publisher's failed-batches bucket, where it parks records it can never publish.
    failed_batches_bucket: str | None = None
    #: Which end-user ID tokens the command function trusts (none: tokens are refused).
    tokens: TokenSettings = TokenSettings()

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
        raw_every = env.get("HOTCORE_SNAPSHOT_EVERY", str(DEFAULT_SNAPSHOT_EVERY))
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
            tokens=TokenSettings.from_env(env),
        )

    @classmethod
    def for_publisher(
        cls, aggregate: str | None = None, env: Mapping[str, str] | None = None
    ) -> Settings:
        """The publisher's settings: which table's stream (``HOTCORE_AGGREGATE``), the bus,
        and the bucket it parks records it can never publish in
        (``HOTCORE_FAILED_BATCHES_BUCKET``; without one they are reported to Lambda)."""
        env = os.environ if env is None else env
        name = aggregate or env.get("HOTCORE_AGGREGATE", "")
        if not name:
            raise ConfigError("HOTCORE_AGGREGATE is not set: which table's stream is this?")
        return cls(
            aggregate=name,
            table=None,
            guard_table=None,
            sqlite_path=None,
            bus_name=env.get("HOTCORE_BUS_NAME", "hotcore"),
            snapshot_every=1,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "",
            failed_batches_bucket=env.get("HOTCORE_FAILED_BATCHES_BUCKET") or None,
        )
